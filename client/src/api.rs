//! HTTP calls to the edge (same origin as both apps): the visitor's conversation start, the
//! credential probe, and the admin calls the inbox makes.

use beckon_shared::proto::v1::{
    paths, ApiError, ChannelInfo, ChannelKind, ChannelTestResult, Contact, ContactOutreach,
    ConversationList, ErrorCode, GoalEvent, IdentifyResult, ReachOut, StartConversation,
    StartedConversation, TeaserEvent, TicketRequest, WsTicket,
};
use beckon_shared::rules::Rule;
use beckon_shared::{ConversationId, RuleId, SiteKey, VisitorId};
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

/// Why an HTTP call to the edge failed: the network or a server error (retry later), or a
/// refusal with its code.
#[derive(Clone, Debug, PartialEq)]
pub enum CallError {
    Network,
    Refused {
        status: u16,
        code: ErrorCode,
        message: String,
    },
}

impl CallError {
    /// A sentence for the user.
    pub fn describe(&self) -> String {
        match self {
            CallError::Network => crate::i18n::current()
                .t(beckon_shared::i18n::Text::Unreachable)
                .to_owned(),
            CallError::Refused { code, message, .. } => crate::i18n::refusal(*code, message),
        }
    }
}

/// Sends a request; returns status and body text. 5xx and transport errors are `Network`.
pub async fn call(
    method: &str,
    url: &str,
    bearer: Option<&str>,
    body: Option<String>,
) -> Result<(u16, String), CallError> {
    let body = body.map(|b| JsValue::from_str(&b));
    call_with(
        method,
        url,
        bearer,
        body.as_ref().map(|b| (b, "application/json")),
    )
    .await
}

/// The credential of a signed-in person's session: the cookie goes by itself, and requests
/// repeat the session's CSRF token (`csrf:<token>` wherever a bearer credential is passed).
pub const SESSION_CREDENTIAL: &str = "csrf:";

/// Sets the headers `credential` stands for: `Authorization: Bearer …`, or a session's
/// `X-CSRF-Token`.
pub fn credential_header(credential: &str) -> (&'static str, String) {
    match credential.strip_prefix(SESSION_CREDENTIAL) {
        Some(csrf) => ("x-csrf-token", csrf.to_owned()),
        None => ("authorization", format!("Bearer {credential}")),
    }
}

/// Sends a request with a body of any type (a file, a CSV text) and its content type.
pub async fn call_with(
    method: &str,
    url: &str,
    bearer: Option<&str>,
    body: Option<(&JsValue, &str)>,
) -> Result<(u16, String), CallError> {
    let init = RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(|_| CallError::Network)?;
    if let Some(t) = bearer {
        let (name, value) = credential_header(t);
        let _ = headers.set(name, &value);
    }
    if let Some((b, content_type)) = body {
        let _ = headers.set("content-type", content_type);
        init.set_body(b);
    }
    init.set_headers(&headers);
    let req = Request::new_with_str_and_init(url, &init).map_err(|_| CallError::Network)?;
    let window = web_sys::window().ok_or(CallError::Network)?;
    let resp: Response = JsFuture::from(window.fetch_with_request(&req))
        .await
        .map_err(|_| CallError::Network)?
        .dyn_into()
        .map_err(|_| CallError::Network)?;
    let text = JsFuture::from(resp.text().map_err(|_| CallError::Network)?)
        .await
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    match resp.status() {
        s if s >= 500 => Err(CallError::Network),
        s if s >= 400 => Err(refused(s, &text)),
        s => Ok((s, text)),
    }
}

pub(crate) fn refused(status: u16, text: &str) -> CallError {
    match beckon_shared::json::decode::<ApiError>(text) {
        Ok(e) => CallError::Refused {
            status,
            code: e.error.code,
            message: e.error.message,
        },
        Err(_) => CallError::Refused {
            status,
            code: ErrorCode::Unknown,
            message: format!("HTTP {status}"),
        },
    }
}

pub(crate) async fn call_json<T: beckon_shared::json::FromJson>(
    method: &str,
    url: &str,
    bearer: Option<&str>,
    body: Option<String>,
) -> Result<T, CallError> {
    let (_, text) = call(method, url, bearer, body).await?;
    beckon_shared::json::decode(&text).map_err(|_| CallError::Network)
}

/// `POST /api/v1/sites/{site}/conversations`.
pub async fn start_conversation(
    site: &SiteKey,
    token: Option<&str>,
    start: &StartConversation,
) -> Result<StartedConversation, CallError> {
    let body = serde_json::to_string(start).map_err(|_| CallError::Network)?;
    call_json(
        "POST",
        &paths::fill(paths::START_CONVERSATION, &[site.as_str()]),
        token,
        Some(body),
    )
    .await
}

/// `POST /api/v1/conversations/{id}/ws-ticket`: a single-use ticket for the visitor's
/// socket (and a renewed token when it is due).
pub async fn visitor_ws_ticket(id: &ConversationId, token: &str) -> Result<WsTicket, CallError> {
    call_json(
        "POST",
        &paths::fill(paths::CONVERSATION_TICKET, &[id.as_str()]),
        Some(token),
        None,
    )
    .await
}

/// `POST /api/v1/sites/{site}/events`: a teaser was shown, opened or dismissed.
pub async fn teaser_event(site: &SiteKey, event: &TeaserEvent) -> Result<(), CallError> {
    let body = serde_json::to_string(event).map_err(|_| CallError::Network)?;
    call(
        "POST",
        &paths::fill(paths::TEASER_EVENTS, &[site.as_str()]),
        None,
        Some(body),
    )
    .await
    .map(|_| ())
}

/// `POST /api/v1/conversations/{id}/events`: `Beckon.track` after a conversation.
pub async fn goal_event(
    id: &ConversationId,
    token: &str,
    goal: &GoalEvent,
) -> Result<(), CallError> {
    let body = serde_json::to_string(goal).map_err(|_| CallError::Network)?;
    call(
        "POST",
        &paths::fill(paths::GOAL_EVENTS, &[id.as_str()]),
        Some(token),
        Some(body),
    )
    .await
    .map(|_| ())
}

/// `POST /api/v1/sites/{site}/identify`: `Beckon.identify` — a claim with the visitor's
/// token, or a proof of identity (token optional).
pub async fn identify(
    site: &SiteKey,
    token: Option<&str>,
    who: &Traits,
) -> Result<IdentifyResult, CallError> {
    let body = serde_json::to_string(who).map_err(|_| CallError::Network)?;
    call_json(
        "POST",
        &paths::fill(paths::IDENTIFY, &[site.as_str()]),
        token,
        Some(body),
    )
    .await
}

/// What a page says about its visitor (`Beckon.identify`, the pre-chat form's answers): an
/// `Identify` object passed to the edge as given — the edge validates it. The widget only
/// looks for a proof ([`proven`]) and adds the form's answers; reading it into `Identify`
/// would carry that type's deserializer in the app for nothing.
pub type Traits = serde_json::Map<String, serde_json::Value>;

/// What the widget takes from the page's `Beckon.identify`: the fields `identify` knows, no
/// other data of the page's (the pre-chat form adds `attributes`).
pub fn page_traits(mut who: Traits) -> Traits {
    who.retain(|k, _| {
        ["name", "email", "phone", "user_id", "user_hash", "jwt"].contains(&k.as_str())
    });
    who
}

/// Whether the traits carry a proof from the site's backend (`user_hash` or `jwt`).
pub fn proven(who: &Traits) -> bool {
    ["user_hash", "jwt"]
        .iter()
        .any(|k| who.get(*k).is_some_and(|v| !v.is_null()))
}

/// `GET` / `PUT /api/v1/sites/{site}/announcements`: whether the visitor muted broadcasts
/// (`set` changes it first).
pub async fn announcements(
    site: &SiteKey,
    token: &str,
    set: Option<bool>,
) -> Result<bool, CallError> {
    #[derive(Deserialize, beckon_shared::json::FromJson)]
    struct Muted {
        muted: bool,
    }
    let path = paths::fill(paths::ANNOUNCEMENTS, &[site.as_str()]);
    let (method, body) = match set {
        Some(m) => ("PUT", Some(format!("{{\"muted\":{m}}}"))),
        None => ("GET", None),
    };
    Ok(call_json::<Muted>(method, &path, Some(token), body)
        .await?
        .muted)
}

/// `POST /api/v1/admin/ws-ticket`: a single-use ticket for one site's feed or one
/// conversation.
pub async fn ws_ticket(admin_key: &str, wanted: &TicketRequest) -> Result<WsTicket, CallError> {
    let body = serde_json::to_string(wanted).map_err(|_| CallError::Network)?;
    call_json("POST", paths::ADMIN_WS_TICKET, Some(admin_key), Some(body)).await
}

/// A site as the inbox lists it (what `GET /api/v1/admin/sites` says of it, less its
/// settings: reading those would put every setting's reader in the inbox's wasm).
#[derive(Clone, Debug, PartialEq, Deserialize, beckon_shared::json::FromJson)]
pub struct SiteListing {
    pub key: SiteKey,
    pub name: String,
}

/// `GET /api/v1/admin/sites`.
pub async fn list_sites(admin_key: &str) -> Result<Vec<SiteListing>, CallError> {
    #[derive(Deserialize, beckon_shared::json::FromJson)]
    struct Sites {
        sites: Vec<SiteListing>,
    }
    Ok(
        call_json::<Sites>("GET", paths::ADMIN_SITES, Some(admin_key), None)
            .await?
            .sites,
    )
}

/// `GET /api/v1/admin/conversations?site=…&…`: `filter` is more of the query (`status=open`).
pub async fn list_conversations(
    admin_key: &str,
    site: &SiteKey,
    filter: &str,
) -> Result<ConversationList, CallError> {
    call_json(
        "GET",
        &format!(
            "{}?site={site}&limit=100&{filter}",
            paths::ADMIN_CONVERSATIONS
        ),
        Some(admin_key),
        None,
    )
    .await
}

/// A channel as the inbox reads it: its settings as JSON (the form reads them by name).
pub type ChannelView = ChannelInfo<serde_json::Value>;

/// `GET /api/v1/admin/sites/{site}/channels`.
pub async fn list_channels(admin_key: &str, site: &SiteKey) -> Result<Vec<ChannelView>, CallError> {
    #[derive(Deserialize, beckon_shared::json::FromJson)]
    struct Channels {
        channels: Vec<ChannelView>,
    }
    let url = paths::fill(paths::ADMIN_CHANNELS, &[site.as_str()]);
    Ok(call_json::<Channels>("GET", &url, Some(admin_key), None)
        .await?
        .channels)
}

/// `PUT /api/v1/admin/sites/{site}/channels/{kind}` with a `ChannelInput` JSON body.
pub async fn put_channel(
    admin_key: &str,
    site: &SiteKey,
    kind: ChannelKind,
    body: &serde_json::Value,
) -> Result<ChannelView, CallError> {
    let url = paths::fill(paths::ADMIN_CHANNEL, &[site.as_str(), kind.as_str()]);
    call_json(
        "PUT",
        &url,
        Some(admin_key),
        Some(beckon_shared::json::text(body)),
    )
    .await
}

/// `DELETE /api/v1/admin/sites/{site}/channels/{kind}`.
pub async fn delete_channel(
    admin_key: &str,
    site: &SiteKey,
    kind: ChannelKind,
) -> Result<(), CallError> {
    call(
        "DELETE",
        &paths::fill(paths::ADMIN_CHANNEL, &[site.as_str(), kind.as_str()]),
        Some(admin_key),
        None,
    )
    .await
    .map(|_| ())
}

/// `POST /api/v1/admin/sites/{site}/channels/{kind}/test`.
pub async fn test_channel(
    admin_key: &str,
    site: &SiteKey,
    kind: ChannelKind,
) -> Result<ChannelTestResult, CallError> {
    call_json(
        "POST",
        &paths::fill(paths::ADMIN_CHANNEL_TEST, &[site.as_str(), kind.as_str()]),
        Some(admin_key),
        None,
    )
    .await
}

/// `GET /api/v1/admin/sites/{site}/webhook/deliveries?limit=20{filter}`: the most recent (as
/// JSON: the inbox only shows them).
pub async fn webhook_deliveries(
    admin_key: &str,
    site: &SiteKey,
    filter: &str,
) -> Result<serde_json::Value, CallError> {
    let url = paths::fill(paths::ADMIN_WEBHOOK_DELIVERIES, &[site.as_str()]);
    call_json(
        "GET",
        &format!("{url}?limit=20{filter}"),
        Some(admin_key),
        None,
    )
    .await
}

/// `POST /api/v1/admin/sites/{site}/webhook/deliveries/{event_id}/replay`.
pub async fn replay_webhook(
    admin_key: &str,
    site: &SiteKey,
    event: &str,
) -> Result<serde_json::Value, CallError> {
    let url = paths::fill(paths::ADMIN_WEBHOOK_REPLAY, &[site.as_str(), event]);
    call_json("POST", &url, Some(admin_key), None).await
}

/// `GET /api/v1/admin/sites/{site}/rules`.
pub async fn list_rules(admin_key: &str, site: &SiteKey) -> Result<Vec<Rule>, CallError> {
    #[derive(Deserialize, beckon_shared::json::FromJson)]
    struct Rules {
        rules: Vec<Rule>,
    }
    Ok(call_json::<Rules>(
        "GET",
        &paths::fill(paths::ADMIN_RULES, &[site.as_str()]),
        Some(admin_key),
        None,
    )
    .await?
    .rules)
}

/// Creates (`existing = false`) or replaces a rule.
pub async fn save_rule(
    admin_key: &str,
    site: &SiteKey,
    rule: &Rule,
    existing: bool,
) -> Result<Rule, CallError> {
    let body = serde_json::to_string(rule).map_err(|_| CallError::Network)?;
    if existing {
        call_json(
            "PUT",
            &paths::fill(paths::ADMIN_RULE, &[site.as_str(), rule.id.as_str()]),
            Some(admin_key),
            Some(body),
        )
        .await
    } else {
        call_json(
            "POST",
            &paths::fill(paths::ADMIN_RULES, &[site.as_str()]),
            Some(admin_key),
            Some(body),
        )
        .await
    }
}

pub async fn delete_rule(admin_key: &str, site: &SiteKey, id: &RuleId) -> Result<(), CallError> {
    call(
        "DELETE",
        &paths::fill(paths::ADMIN_RULE, &[site.as_str(), id.as_str()]),
        Some(admin_key),
        None,
    )
    .await
    .map(|_| ())
}

/// `POST /api/v1/admin/sites/{site}/presence/{id}/conversations`.
pub async fn reach_out(
    admin_key: &str,
    site: &SiteKey,
    presence_id: &str,
    body: &ReachOut,
) -> Result<ConversationId, CallError> {
    let presence_id = String::from(js_sys::encode_uri_component(presence_id));
    let url = paths::fill(paths::ADMIN_REACH_OUT, &[site.as_str(), &presence_id]);
    start_as_agent(admin_key, &url, body).await
}

/// `GET /api/v1/admin/sites/{site}/contacts?{query}`: a page of contacts (search `q`, `tag`, `before`), and where the next begins.
pub async fn contacts(
    admin_key: &str,
    site: &SiteKey,
    query: &str,
) -> Result<(Vec<Contact>, Option<String>), CallError> {
    #[derive(Deserialize, beckon_shared::json::FromJson)]
    struct Contacts {
        contacts: Vec<Contact>,
        #[serde(default)]
        next_before: Option<String>,
    }
    let url = format!(
        "{}?{query}",
        paths::fill(paths::ADMIN_CONTACTS, &[site.as_str()])
    );
    let page = call_json::<Contacts>("GET", &url, Some(admin_key), None).await?;
    Ok((page.contacts, page.next_before))
}

/// `POST /api/v1/admin/sites/{site}/contacts/{visitor}/conversations`: write first to a known
/// contact on their own channel.
pub async fn write_to_contact(
    admin_key: &str,
    site: &SiteKey,
    contact: &VisitorId,
    body: &ContactOutreach,
) -> Result<ConversationId, CallError> {
    let url = paths::fill(
        paths::ADMIN_CONTACT_OUTREACH,
        &[site.as_str(), contact.as_str()],
    );
    start_as_agent(admin_key, &url, body).await
}

/// POSTs `body` to an endpoint where the business starts a conversation; its id.
async fn start_as_agent<T: serde::Serialize>(
    admin_key: &str,
    url: &str,
    body: &T,
) -> Result<ConversationId, CallError> {
    #[derive(Deserialize, beckon_shared::json::FromJson)]
    struct Started {
        conversation_id: ConversationId,
    }
    let body = serde_json::to_string(body).map_err(|_| CallError::Network)?;
    Ok(
        call_json::<Started>("POST", url, Some(admin_key), Some(body))
            .await?
            .conversation_id,
    )
}

/// `ws(s)://<this host><path>`.
pub fn ws_url(path: &str) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}{path}", location.host().ok()?))
}
