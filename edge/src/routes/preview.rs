//! Previews of unsaved settings, for the inbox's settings page. An owner's draft — a settings
//! patch of the widget's look, words and attention, checked as saving it would be — becomes a
//! signed link, valid ten minutes, to a page that runs the real loader and widget with it
//! (nothing is stored). The page gives the loader the link's token (`data-preview`), which
//! passes it on as `p` to the boot script and the widget's frame; each applies the draft over
//! the saved settings when the token verifies for the site and is still valid, and the answer
//! is not cached.

use crate::auth;
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::pages;
use crate::rate_limit::{self, Limit};
use crate::site_cache::{self, SiteBundle};
use crate::storage::sites;
use beckon_shared::proto::v1::{
    paths, ErrorCode, SitePreview, SiteSettingsPatch, MAX_PREVIEW_BYTES,
};
use beckon_shared::SiteKey;
use std::rc::Rc;
use worker::{Request, Response};

/// Settings a preview refuses: they change who may use the widget, not how it looks.
const NOT_PREVIEWED: [&str; 4] = [
    "allowed_origins",
    "allow_loopback_origins",
    "remember_visitors",
    "rate_tier",
];

/// `POST /api/v1/admin/sites/{site}/preview`: a link to the site with `patch` applied.
pub async fn create(mut req: Request, edge: &Edge, key: &SiteKey) -> Result<Response> {
    let draft: serde_json::Value = http::read_json(&mut req).await?;
    let compact = draft.to_string();
    if compact.len() > MAX_PREVIEW_BYTES {
        return Err(Error::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "a preview carries at most {MAX_PREVIEW_BYTES} bytes of settings (as compact JSON); \
                 this one has {}",
                compact.len()
            ),
        ));
    }
    // Who may embed the widget, and what the operator charges, are not a look to preview.
    if let Some(field) = NOT_PREVIEWED.iter().find(|f| draft.get(**f).is_some()) {
        return Err(Error::new(
            ErrorCode::BadRequest,
            format!("{field} is not previewed (save it with PATCH); a preview shows the widget's look, words and attention"),
        ));
    }
    let patch: SiteSettingsPatch = serde_json::from_value(draft)
        .map_err(|e| Error::new(ErrorCode::BadRequest, e.to_string()))?;
    // The same checks as saving, for the rest (the draft is applied again, to the settings
    // of the moment, each time the preview loads).
    patch.apply(sites::require(&edge.db()?, key).await?)?;
    let expires_at = edge.now + auth::PREVIEW_TTL_MS;
    let token = auth::preview_token(&edge.token_secret()?, key, &compact, expires_at);
    let url = format!("{}?p={token}", paths::fill(paths::PREVIEW, &[key.as_str()]));
    http::json(200, &SitePreview { url, expires_at })
}

/// `GET /preview/{site}?p=<token>[&open=1]`: a stand-in for the site's page with the widget
/// of the draft.
pub async fn page(req: &Request, edge: &Edge, key: &SiteKey) -> Result<Response> {
    rate_limit::check(&edge.env, req, Limit::Tickets).await?;
    let q = http::query(req)?;
    let token = q.get("p").map(String::as_str).unwrap_or_default();
    site_cache::require(&edge.db()?, key, edge.now).await?;
    if auth::preview_settings(&edge.token_secret()?, token, key, edge.now).is_none() {
        return Err(Error::new(
            ErrorCode::Forbidden,
            "this preview link is not valid or has expired (links work for 10 minutes): open the preview again",
        ));
    }
    let open = q.get("open").is_some_and(|v| v == "1");
    let resp = http::text(
        200,
        "text/html; charset=utf-8",
        pages::preview_html(key, token, open),
    )?;
    let h = resp.headers();
    h.set("content-security-policy", &pages::preview_csp(open))?;
    h.set("cache-control", "no-store")?;
    h.set("referrer-policy", "no-referrer")?;
    Ok(resp)
}

/// The site as a request shows it, and whether that is a draft (an answer that must not be
/// cached): saved, or with the draft of the preview token in its `p` when that verifies for
/// the site and has not expired.
pub fn draft_or_saved(req: &Request, edge: &Edge, site: Rc<SiteBundle>) -> (Rc<SiteBundle>, bool) {
    let draft = || -> Option<SiteBundle> {
        let token = http::query(req).ok()?.remove("p")?;
        let secret = edge.token_secret().ok()?;
        let json = auth::preview_settings(&secret, &token, &site.settings.key, edge.now)?;
        let patch: SiteSettingsPatch = serde_json::from_str(&json).ok()?;
        Some(site.with_settings(patch.apply(site.settings.clone()).ok()?))
    };
    match draft() {
        Some(d) => (Rc::new(d), true),
        None => (site, false),
    }
}
