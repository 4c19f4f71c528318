//! HTTP calls to the edge (same origin as both apps): the visitor's conversation start, the
//! credential probe, and the admin calls the inbox makes.

use beckon_shared::proto::v1::{
    ApiError, ChannelInfo, ChannelKind, ChannelTestResult, Contact, ContactOutreach,
    ConversationList, ErrorCode, GoalEvent, Identify, MetricsReport, ReachOut, SiteSettings,
    StartConversation, StartedConversation, TeaserEvent, WsTicket,
};
use beckon_shared::rules::Rule;
use beckon_shared::{ConversationId, RuleId, SiteKey, VisitorId};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

/// Why a call failed: the network or a server error (retry later), or a refusal with its code.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    Network,
    Refused {
        status: u16,
        code: ErrorCode,
        message: String,
    },
}

impl Failure {
    /// A sentence for the user.
    pub fn describe(&self) -> String {
        match self {
            Failure::Network => "Cannot reach the server; retrying…".into(),
            Failure::Refused { message, .. } => message.clone(),
        }
    }
}

/// Sends a request; returns status and body text. 5xx and transport errors are `Network`.
pub async fn call(
    method: &str,
    url: &str,
    bearer: Option<&str>,
    body: Option<String>,
) -> Result<(u16, String), Failure> {
    let init = RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(|_| Failure::Network)?;
    if let Some(t) = bearer {
        let _ = headers.set("authorization", &format!("Bearer {t}"));
    }
    if let Some(b) = body {
        let _ = headers.set("content-type", "application/json");
        init.set_body(&JsValue::from_str(&b));
    }
    init.set_headers(&headers);
    let req = Request::new_with_str_and_init(url, &init).map_err(|_| Failure::Network)?;
    let window = web_sys::window().ok_or(Failure::Network)?;
    let resp: Response = JsFuture::from(window.fetch_with_request(&req))
        .await
        .map_err(|_| Failure::Network)?
        .dyn_into()
        .map_err(|_| Failure::Network)?;
    let text = JsFuture::from(resp.text().map_err(|_| Failure::Network)?)
        .await
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    match resp.status() {
        s if s >= 500 => Err(Failure::Network),
        s if s >= 400 => Err(refused(s, &text)),
        s => Ok((s, text)),
    }
}

fn refused(status: u16, text: &str) -> Failure {
    match serde_json::from_str::<ApiError>(text) {
        Ok(e) => Failure::Refused {
            status,
            code: e.error.code,
            message: e.error.message,
        },
        Err(_) => Failure::Refused {
            status,
            code: ErrorCode::Unknown,
            message: format!("HTTP {status}"),
        },
    }
}

async fn call_json<T: DeserializeOwned>(
    method: &str,
    url: &str,
    bearer: Option<&str>,
    body: Option<String>,
) -> Result<T, Failure> {
    let (_, text) = call(method, url, bearer, body).await?;
    serde_json::from_str(&text).map_err(|_| Failure::Network)
}

/// `POST /api/v1/sites/{site}/conversations`.
pub async fn start_conversation(
    site: &SiteKey,
    token: Option<&str>,
    start: &StartConversation,
) -> Result<StartedConversation, Failure> {
    let body = serde_json::to_string(start).map_err(|_| Failure::Network)?;
    call_json(
        "POST",
        &format!("/api/v1/sites/{site}/conversations"),
        token,
        Some(body),
    )
    .await
}

/// Whether stored visitor credentials still open the conversation (asked after a WebSocket
/// handshake failed, which browsers do not explain): `Ok(false)` means refused for good.
pub async fn credentials_valid(id: &ConversationId, token: &str) -> Result<bool, Failure> {
    match call(
        "GET",
        &format!("/api/v1/conversations/{id}/messages?after=0&limit=1"),
        Some(token),
        None,
    )
    .await
    {
        Ok(_) => Ok(true),
        Err(Failure::Refused {
            status: 401 | 403 | 404,
            ..
        }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// `POST /api/v1/sites/{site}/events`: a teaser was shown, opened or dismissed.
pub async fn teaser_event(site: &SiteKey, event: &TeaserEvent) -> Result<(), Failure> {
    let body = serde_json::to_string(event).map_err(|_| Failure::Network)?;
    call(
        "POST",
        &format!("/api/v1/sites/{site}/events"),
        None,
        Some(body),
    )
    .await
    .map(|_| ())
}

/// `POST /api/v1/conversations/{id}/events`: `Beckon.track` after a conversation.
pub async fn goal_event(id: &ConversationId, token: &str, goal: &GoalEvent) -> Result<(), Failure> {
    let body = serde_json::to_string(goal).map_err(|_| Failure::Network)?;
    call(
        "POST",
        &format!("/api/v1/conversations/{id}/events"),
        Some(token),
        Some(body),
    )
    .await
    .map(|_| ())
}

/// `POST /api/v1/sites/{site}/identify`: `Beckon.identify` for a visitor with a token.
pub async fn identify(site: &SiteKey, token: &str, who: &Identify) -> Result<(), Failure> {
    let body = serde_json::to_string(who).map_err(|_| Failure::Network)?;
    call(
        "POST",
        &format!("/api/v1/sites/{site}/identify"),
        Some(token),
        Some(body),
    )
    .await
    .map(|_| ())
}

/// `POST /api/v1/admin/ws-ticket`.
pub async fn ws_ticket(admin_key: &str) -> Result<WsTicket, Failure> {
    call_json("POST", "/api/v1/admin/ws-ticket", Some(admin_key), None).await
}

/// `GET /api/v1/admin/sites`.
pub async fn list_sites(admin_key: &str) -> Result<Vec<SiteSettings>, Failure> {
    #[derive(Deserialize)]
    struct Sites {
        sites: Vec<SiteSettings>,
    }
    Ok(
        call_json::<Sites>("GET", "/api/v1/admin/sites", Some(admin_key), None)
            .await?
            .sites,
    )
}

/// `GET /api/v1/admin/conversations?site=…`.
pub async fn list_conversations(
    admin_key: &str,
    site: &SiteKey,
) -> Result<ConversationList, Failure> {
    call_json(
        "GET",
        &format!("/api/v1/admin/conversations?site={site}&limit=100"),
        Some(admin_key),
        None,
    )
    .await
}

/// `GET /api/v1/admin/sites/{site}/channels`.
pub async fn list_channels(admin_key: &str, site: &SiteKey) -> Result<Vec<ChannelInfo>, Failure> {
    #[derive(Deserialize)]
    struct Channels {
        channels: Vec<ChannelInfo>,
    }
    let url = format!("/api/v1/admin/sites/{site}/channels");
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
) -> Result<ChannelInfo, Failure> {
    let url = format!("/api/v1/admin/sites/{site}/channels/{}", kind.as_str());
    call_json("PUT", &url, Some(admin_key), Some(body.to_string())).await
}

/// `DELETE /api/v1/admin/sites/{site}/channels/{kind}`.
pub async fn delete_channel(
    admin_key: &str,
    site: &SiteKey,
    kind: ChannelKind,
) -> Result<(), Failure> {
    call(
        "DELETE",
        &format!("/api/v1/admin/sites/{site}/channels/{}", kind.as_str()),
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
) -> Result<ChannelTestResult, Failure> {
    call_json(
        "POST",
        &format!("/api/v1/admin/sites/{site}/channels/{}/test", kind.as_str()),
        Some(admin_key),
        None,
    )
    .await
}

/// `GET /api/v1/admin/sites/{site}/rules`.
pub async fn list_rules(admin_key: &str, site: &SiteKey) -> Result<Vec<Rule>, Failure> {
    #[derive(Deserialize)]
    struct Rules {
        rules: Vec<Rule>,
    }
    Ok(call_json::<Rules>(
        "GET",
        &format!("/api/v1/admin/sites/{site}/rules"),
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
) -> Result<Rule, Failure> {
    let body = serde_json::to_string(rule).map_err(|_| Failure::Network)?;
    if existing {
        call_json(
            "PUT",
            &format!("/api/v1/admin/sites/{site}/rules/{}", rule.id),
            Some(admin_key),
            Some(body),
        )
        .await
    } else {
        call_json(
            "POST",
            &format!("/api/v1/admin/sites/{site}/rules"),
            Some(admin_key),
            Some(body),
        )
        .await
    }
}

pub async fn delete_rule(admin_key: &str, site: &SiteKey, id: &RuleId) -> Result<(), Failure> {
    call(
        "DELETE",
        &format!("/api/v1/admin/sites/{site}/rules/{id}"),
        Some(admin_key),
        None,
    )
    .await
    .map(|_| ())
}

/// `GET /api/v1/admin/metrics?site=…&from=…&to=…`.
pub async fn metrics(
    admin_key: &str,
    site: &SiteKey,
    from: &str,
    to: &str,
) -> Result<MetricsReport, Failure> {
    call_json(
        "GET",
        &format!("/api/v1/admin/metrics?site={site}&from={from}&to={to}"),
        Some(admin_key),
        None,
    )
    .await
}

/// `POST /api/v1/admin/sites/{site}/presence/{id}/conversations`.
pub async fn reach_out(
    admin_key: &str,
    site: &SiteKey,
    presence_id: &str,
    body: &ReachOut,
) -> Result<ConversationId, Failure> {
    let url = format!(
        "/api/v1/admin/sites/{site}/presence/{}/conversations",
        js_sys::encode_uri_component(presence_id)
    );
    start_as_agent(admin_key, &url, body).await
}

/// `GET /api/v1/admin/sites/{site}/contacts`: visitors the site identified.
pub async fn contacts(admin_key: &str, site: &SiteKey) -> Result<Vec<Contact>, Failure> {
    #[derive(Deserialize)]
    struct Contacts {
        contacts: Vec<Contact>,
    }
    let url = format!("/api/v1/admin/sites/{site}/contacts");
    Ok(call_json::<Contacts>("GET", &url, Some(admin_key), None)
        .await?
        .contacts)
}

/// `POST /api/v1/admin/sites/{site}/contacts/{visitor}/conversations`: write first to a known
/// contact on their own channel.
pub async fn write_to_contact(
    admin_key: &str,
    site: &SiteKey,
    contact: &VisitorId,
    body: &ContactOutreach,
) -> Result<ConversationId, Failure> {
    let url = format!("/api/v1/admin/sites/{site}/contacts/{contact}/conversations");
    start_as_agent(admin_key, &url, body).await
}

/// POSTs `body` to an endpoint where the business starts a conversation; its id.
async fn start_as_agent<T: serde::Serialize>(
    admin_key: &str,
    url: &str,
    body: &T,
) -> Result<ConversationId, Failure> {
    #[derive(Deserialize)]
    struct Started {
        conversation_id: ConversationId,
    }
    let body = serde_json::to_string(body).map_err(|_| Failure::Network)?;
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
