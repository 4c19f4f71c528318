//! Public endpoints: health, the OpenAPI document, CORS preflight, a site's public
//! configuration, the loader's boot script (alone or after the loader) and the widget's iframe
//! page.

use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::media::{self, avatar};
use crate::pages;
use crate::rate_limit::{self, Limit};
use crate::storage::sites;
use crate::{site_cache, site_hub};
use beckon_shared::i18n;
use beckon_shared::proto::v1::{ErrorCode, SiteSettings, WidgetBoot};
use beckon_shared::SiteKey;
use worker::{Request, Response};

/// The OpenAPI 3.1 description of the HTTP API.
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

pub fn openapi() -> Result<Response> {
    let resp = http::text(200, "application/json; charset=utf-8", OPENAPI_JSON)?;
    resp.headers().set("access-control-allow-origin", "*")?;
    Ok(resp)
}

/// The caller's origin if it is allowed for `site` (so CORS headers may name it).
fn allowed_origin(req: &Request, edge: &Edge, site: &SiteSettings) -> Result<Option<String>> {
    Ok(http::origin(req)?.filter(|o| *o == edge.self_origin || site.allows_origin(o)))
}

/// `OPTIONS /api/v1/sites/{site}/…`: answers preflights from the site's allowed origins.
pub async fn preflight(req: &Request, edge: &Edge) -> Result<Response> {
    let path = req.path();
    let site = path
        .strip_prefix("/api/v1/sites/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|s| SiteKey::parse(s).ok());
    match &site {
        Some(key) => rate_limit::check_site(edge, req, Limit::Pages, key).await?,
        None => rate_limit::check(&edge.env, req, Limit::Pages).await?,
    }
    let allowed = match site {
        Some(key) => match sites::get(&edge.db()?, &key).await? {
            Some(s) => allowed_origin(req, edge, &s)?,
            None => None,
        },
        None => None,
    };
    if allowed.is_none() {
        return Err(Error::code(ErrorCode::OriginNotAllowed));
    }
    http::with_cors(Response::empty()?.with_status(204), allowed.as_deref())
}

/// The site as the widget sees it, or `site_not_found`.
async fn bundle(edge: &Edge, key: &SiteKey) -> Result<std::rc::Rc<site_cache::SiteBundle>> {
    site_cache::require(&edge.db()?, key, edge.now).await
}

fn accept_language(req: &Request) -> Option<String> {
    req.headers().get("accept-language").ok().flatten()
}

/// `GET /api/v1/sites/{site}/config`.
pub async fn site_config(req: &Request, edge: &Edge, key: &SiteKey) -> Result<Response> {
    rate_limit::check_site(edge, req, Limit::Pages, key).await?;
    let site = bundle(edge, key).await?;
    let resp = http::json(200, &site.config)?;
    http::with_cors(resp, allowed_origin(req, edge, &site.settings)?.as_deref())
}

/// `GET /api/v1/sites/{site}/boot.js[?p=<preview>]`: the site's configuration (with the rules'
/// wake-up spec; a preview's draft, [`super::preview`]) as a script, so the loader works on
/// pages whose CSP allows our scripts but no `connect-src` to us. With `with_loader`,
/// `GET /api/v1/sites/{site}/beckon.js`: the loader and that script in one, so the host page
/// makes one request before intent rather than two, one after the other.
pub async fn loader_boot(
    req: &Request,
    edge: &Edge,
    key: &SiteKey,
    with_loader: bool,
) -> Result<Response> {
    rate_limit::check_site(edge, req, Limit::Pages, key).await?;
    let Some(site) = site_cache::get(&edge.db()?, key, edge.now).await? else {
        let body = format!(
            "console.warn({});",
            pages::script_json(&format!("Beckon: unknown site \"{key}\""))
        );
        // A browser runs no script answered with an error: the warning comes as a script
        // that runs, for both snippets (not cached, as every `text`).
        return http::text(200, "text/javascript; charset=utf-8", body);
    };
    let (site, draft) = match with_loader {
        false => super::preview::draft_or_saved(req, edge, site),
        true => (site, false),
    };
    let wakeup = match pages::needs_wakeup(&site.config) {
        true => asset_text(edge, "wakeup.js").await,
        false => None,
    };
    let boot = pages::boot_script(
        &site.config,
        &pages::LauncherLabels::new(
            i18n::pick(
                None,
                site.settings.language,
                accept_language(req).as_deref(),
            ),
            &site.settings,
        ),
        site.settings.attention,
        wakeup.as_deref(),
    );
    let body = match with_loader {
        false => boot,
        true => match asset_text(edge, "beckon.js").await {
            Some(loader) => format!("{}\n{boot}", loader.trim_end()),
            None => return Err(Error::internal("the loader is not in the static assets")),
        },
    };
    let resp = http::text(200, "text/javascript; charset=utf-8", body)?;
    let cache = if draft {
        "no-store"
    } else {
        "public, max-age=60"
    };
    resp.headers().set("cache-control", cache)?;
    resp.headers().set("vary", "accept-language")?;
    Ok(resp)
}

thread_local! {
    /// The minified loader scripts read from the static assets, once per isolate each.
    static ASSET_TEXT: std::cell::RefCell<Vec<(&'static str, std::rc::Rc<str>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The code of the static asset `/{name}` (`beckon.js`, `wakeup.js`), for a script that
/// carries it inline; `None` if the assets could not give it (the caller then does without,
/// or loads it by a tag).
async fn asset_text(edge: &Edge, name: &'static str) -> Option<std::rc::Rc<str>> {
    let cached = ASSET_TEXT.with(|a| {
        a.borrow()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, code)| code.clone())
    });
    if cached.is_some() {
        return cached;
    }
    let read = async {
        let mut resp = edge
            .env
            .assets("ASSETS")?
            .fetch(format!("https://assets.local/{name}"), None)
            .await?;
        match resp.status_code() {
            200 => resp.text().await,
            other => Err(worker::Error::RustError(format!("{name}: {other}"))),
        }
    };
    match read.await {
        Ok(text) => {
            let code: std::rc::Rc<str> = text.into();
            ASSET_TEXT.with(|a| a.borrow_mut().push((name, code.clone())));
            Some(code)
        }
        Err(e) => {
            worker::console_error!("reading {name} from the assets: {e}");
            None
        }
    }
}

/// `GET /api/v1/avatars/{person_id}`: a person's photo, to anyone (a widget on any site shows
/// it); 404 when they have none.
pub async fn avatar(req: &Request, edge: &Edge, person: &str) -> Result<Response> {
    rate_limit::check(&edge.env, req, Limit::Tickets).await?;
    let gone = || Error::new(ErrorCode::NotFound, "no such photo");
    let object = edge
        .env
        .bucket(media::BUCKET)?
        .get(avatar::object_key(person))
        .execute()
        .await?
        .ok_or_else(gone)?;
    let file_type = avatar::stored_type(object.http_metadata().content_type.as_deref())
        .ok_or_else(|| Error::internal("a photo stored without its type"))?;
    let size = object.size();
    let body = object
        .body()
        .ok_or_else(|| Error::internal("R2 object without a body"))?
        .response_body()?;
    let headers = worker::Headers::new();
    for (k, v) in avatar::headers(file_type) {
        headers.set(k, v)?;
    }
    headers.set("content-length", &size.to_string())?;
    Ok(Response::from_body(body)?.with_headers(headers))
}

/// `GET /frame/{site}?host=<origin>[&lang=<tag>][&p=<preview>]`: the widget app's document
/// (with the site's rules and the catalog of its language), framable only by the site's pages;
/// a preview's token shows its draft ([`super::preview`]).
pub async fn frame(req: &Request, edge: &Edge, key: &SiteKey) -> Result<Response> {
    rate_limit::check_site(edge, req, Limit::Pages, key).await?;
    let (site, draft) = super::preview::draft_or_saved(req, edge, bundle(edge, key).await?);
    let q = http::query(req)?;
    let host = q.get("host").cloned().unwrap_or_default();
    let host_ok = host == edge.self_origin || site.settings.allows_origin(&host);
    let challenge_origin = site
        .turnstile
        .as_ref()
        .map(|_| crate::turnstile::origin(&edge.env));
    let (status, body) = if host_ok {
        // Three independent reads side by side (a call to the site's hub, its channels —
        // cached —, and the clock, a D1 read only where tests set it): a tap on the launcher
        // waits for this document.
        let (online, channels, clock) = futures_util::join!(
            site_hub::agents_online(&edge.env, key),
            crate::channels::set::get(&edge.env, key),
            crate::clock::Clock::read(&edge.env),
        );
        let agents_online = online.unwrap_or(0) > 0;
        let channels = channels.ok();
        let away_email = channels
            .as_ref()
            .is_some_and(|c| c.is_enabled(beckon_shared::proto::v1::ChannelKind::Email));
        let relayed = channels.is_some_and(|c| c.relays_to_agents());
        let locale = i18n::pick(
            q.get("lang").map(String::as_str),
            site.settings.language,
            accept_language(req).as_deref(),
        );
        let (config, catalog) = site.settings.in_language(&site.config, locale);
        // Opening hours are read by the clock of scheduled work (settable in tests).
        let now = clock?.now();
        let open = site.settings.hours.as_ref().map(|h| h.windows(now));
        let boot = WidgetBoot {
            config,
            host_origin: host,
            rules: site.rules.clone(),
            agents_online,
            relayed,
            away_email,
            challenge: site
                .turnstile
                .as_ref()
                .zip(challenge_origin.as_deref())
                .map(|(t, origin)| crate::turnstile::challenge(origin, t)),
            locale,
            catalog,
            open,
            now,
            prechat: site
                .settings
                .prechat
                .as_ref()
                .map(|f| pages::prechat_html(f, locale)),
            launcher_label: site.settings.launcher_label(locale).map(str::to_owned),
        };
        (200, pages::frame_html(&boot))
    } else {
        (403, pages::FRAME_REFUSED_HTML.to_owned())
    };
    let resp = http::text(status, "text/html; charset=utf-8", body)?;
    let h = resp.headers();
    h.set(
        "content-security-policy",
        &pages::frame_csp(
            &edge.self_origin,
            &site.settings,
            challenge_origin.as_deref(),
        ),
    )?;
    h.set("cross-origin-resource-policy", "cross-origin")?;
    if draft {
        h.set("cache-control", "no-store")?;
    }
    h.set(
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    )?;
    Ok(resp)
}
