//! Bodies of the HTTP API (`/api/v1/…`) and of the inbox's live feed. The edge serializes
//! these; the widget, the console and the integration tests deserialize them.

use super::{ChannelKind, ConversationOrigin, ErrorCode, Message, Role};
use crate::ids::{ClientMsgId, ConversationId, RuleId, Seq, SiteKey, VisitorId};
use crate::limits::{MAX_ALLOWED_ORIGINS, MAX_GREETING_CHARS, MAX_SITE_NAME_CHARS, MAX_URL_LEN};
use crate::rules::wakeup::WakeupSpec;
use crate::rules::Rule;
use serde::{Deserialize, Serialize};

/// Which corner the launcher sits in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LauncherPosition {
    #[default]
    Right,
    Left,
}

/// A site's public configuration: what the loader and the widget need to draw themselves.
/// Served to anyone (it is on every page of the site); holds nothing secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteConfig {
    pub site: SiteKey,
    /// The business's name, shown in the chat header.
    pub name: String,
    /// First line a visitor sees in an empty chat.
    pub greeting: String,
    /// Accent colour, `#rrggbb`.
    pub accent: String,
    #[serde(default)]
    pub position: LauncherPosition,
    /// The site remembers visitors before they interact (visit count, time on site across
    /// pages), in the host page's storage.
    #[serde(default)]
    pub remember_visitors: bool,
    /// What the loader watches before loading the app (compiled from the site's rules).
    #[serde(default)]
    pub wakeup: WakeupSpec,
}

/// What the edge embeds in the widget's iframe page: the site's configuration and the origin
/// of the host page the iframe was created for (the only origin it will talk to).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetBoot {
    pub config: SiteConfig,
    pub host_origin: String,
    /// The site's enabled proactive rules, evaluated by the app.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Whether an agent had the inbox open when the page was served.
    #[serde(default)]
    pub agents_online: bool,
}

/// Everything an administrator can set on a site. Used to create a site (`POST
/// /api/v1/admin/sites`) and returned by the admin API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSettings {
    pub key: SiteKey,
    pub name: String,
    pub greeting: String,
    pub accent: String,
    #[serde(default)]
    pub position: LauncherPosition,
    /// Origins (`scheme://host[:port]`) whose pages may embed the widget. Production sites list
    /// them exactly.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Also accept any `http://127.0.0.1:<port>` and `http://localhost:<port>` (local demos).
    #[serde(default)]
    pub allow_loopback_origins: bool,
    /// Count visits and time on site for visitors who have not interacted yet (stored in the
    /// visitor's browser, on the host page). Off by default: see README, "Privacy".
    #[serde(default)]
    pub remember_visitors: bool,
}

impl SiteSettings {
    /// Checks and normalises every field; the edge stores only what passes.
    pub fn validated(mut self) -> Result<SiteSettings, (ErrorCode, String)> {
        self.name = require_label(&self.name, MAX_SITE_NAME_CHARS, "name")?;
        self.greeting = require_label(&self.greeting, MAX_GREETING_CHARS, "greeting")?;
        self.accent = normalize_color(&self.accent).ok_or((
            ErrorCode::BadRequest,
            "accent must be a colour like #0f766e".into(),
        ))?;
        if self.allowed_origins.len() > MAX_ALLOWED_ORIGINS {
            return Err((
                ErrorCode::BadRequest,
                format!("at most {MAX_ALLOWED_ORIGINS} allowed_origins"),
            ));
        }
        let mut origins = Vec::with_capacity(self.allowed_origins.len());
        for o in &self.allowed_origins {
            let n = normalize_origin(o).ok_or_else(|| {
                (
                    ErrorCode::BadRequest,
                    format!("{o:?} is not an origin like https://shop.example"),
                )
            })?;
            if !origins.contains(&n) {
                origins.push(n);
            }
        }
        self.allowed_origins = origins;
        Ok(self)
    }

    /// The public part of the settings.
    /// The public part of the settings; `wakeup` is filled in from the rules.
    pub fn public_config(&self) -> SiteConfig {
        SiteConfig {
            site: self.key.clone(),
            name: self.name.clone(),
            greeting: self.greeting.clone(),
            accent: self.accent.clone(),
            position: self.position,
            remember_visitors: self.remember_visitors,
            wakeup: WakeupSpec::default(),
        }
    }

    /// Whether a page on `origin` may embed this site's widget and call its visitor API.
    pub fn allows_origin(&self, origin: &str) -> bool {
        if self.allowed_origins.iter().any(|o| o == origin) {
            return true;
        }
        self.allow_loopback_origins && is_loopback_http_origin(origin)
    }
}

/// A partial update of [`SiteSettings`] (`PATCH /api/v1/admin/sites/{key}`); absent fields
/// stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSettingsPatch {
    pub name: Option<String>,
    pub greeting: Option<String>,
    pub accent: Option<String>,
    pub position: Option<LauncherPosition>,
    pub allowed_origins: Option<Vec<String>>,
    pub allow_loopback_origins: Option<bool>,
    pub remember_visitors: Option<bool>,
}

impl SiteSettingsPatch {
    pub fn apply(self, mut s: SiteSettings) -> Result<SiteSettings, (ErrorCode, String)> {
        if let Some(v) = self.name {
            s.name = v;
        }
        if let Some(v) = self.greeting {
            s.greeting = v;
        }
        if let Some(v) = self.accent {
            s.accent = v;
        }
        if let Some(v) = self.position {
            s.position = v;
        }
        if let Some(v) = self.allowed_origins {
            s.allowed_origins = v;
        }
        if let Some(v) = self.allow_loopback_origins {
            s.allow_loopback_origins = v;
        }
        if let Some(v) = self.remember_visitors {
            s.remember_visitors = v;
        }
        s.validated()
    }
}

fn require_label(raw: &str, max: usize, field: &str) -> Result<String, (ErrorCode, String)> {
    match crate::text::normalize_label(raw, max) {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err((ErrorCode::BadRequest, format!("{field} must not be empty"))),
        Err(code) => Err((
            code,
            format!("{field} must be one line of at most {max} characters"),
        )),
    }
}

/// `#RGB` or `#RRGGBB` (any case) → `#rrggbb`.
pub fn normalize_color(raw: &str) -> Option<String> {
    let hex = raw.trim().strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let full = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect::<String>(),
        6 => hex.to_owned(),
        _ => return None,
    };
    Some(format!("#{}", full.to_ascii_lowercase()))
}

/// Validates a web origin (`http(s)://host[:port]`, nothing after) and lower-cases it.
pub fn normalize_origin(raw: &str) -> Option<String> {
    let s = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || rest.starts_with('[') => (h, Some(p)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'[' | b']' | b':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok());
    (host_ok && port_ok).then_some(s)
}

/// `http://127.0.0.1:<port>` or `http://localhost:<port>` (port optional).
pub fn is_loopback_http_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("http://") else {
        return false;
    };
    let (host, port) = rest.split_once(':').unwrap_or((rest, "80"));
    matches!(host, "127.0.0.1" | "localhost")
        && !port.is_empty()
        && port.len() <= 5
        && port.parse::<u16>().is_ok()
}

/// `POST /api/v1/sites/{site}/conversations`: a visitor starts a conversation. The visitor's
/// token, if it has one, goes in `Authorization: Bearer`; without one the edge creates the
/// visitor and returns a fresh token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartConversation {
    /// The host page the visitor was on.
    #[serde(default)]
    pub page_url: Option<String>,
    #[serde(default)]
    pub referrer: Option<String>,
    /// Set when the visitor is answering a proactive rule's teaser.
    #[serde(default)]
    pub origin: Option<ConversationOrigin>,
}

impl StartConversation {
    pub fn validated(mut self) -> Result<Self, (ErrorCode, String)> {
        for (name, v) in [
            ("page_url", &mut self.page_url),
            ("referrer", &mut self.referrer),
        ] {
            if v.as_deref() == Some("") {
                *v = None;
            }
            if let Some(url) = v {
                if !crate::text::is_web_url(url) {
                    return Err((
                        ErrorCode::BadRequest,
                        format!("{name} must be an http(s) URL of at most {MAX_URL_LEN} bytes"),
                    ));
                }
            }
        }
        match &self.origin {
            None | Some(ConversationOrigin::Visitor) | Some(ConversationOrigin::Rule { .. }) => {
                Ok(self)
            }
            Some(_) => Err((
                ErrorCode::BadRequest,
                "a visitor may only start a conversation of origin visitor or rule".into(),
            )),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedConversation {
    pub conversation_id: ConversationId,
    pub visitor_id: VisitorId,
    /// Bearer token that grants this visitor access to its conversations. Keep it; it is
    /// shown once.
    pub visitor_token: String,
}

/// The newest message of a conversation, for lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePreview {
    pub role: Role,
    pub body: String,
    pub created_at: i64,
}

/// A conversation as shown in the inbox list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: ConversationId,
    pub site: SiteKey,
    pub visitor_id: VisitorId,
    pub origin: ConversationOrigin,
    #[serde(default)]
    pub page_url: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_seq: Seq,
    #[serde(default)]
    pub last_message: Option<MessagePreview>,
    /// Highest `seq` an agent has read.
    pub agent_read_seq: Seq,
    /// Visitor messages after `agent_read_seq`.
    #[serde(default)]
    pub unread: u64,
    /// For a conversation held on a contact's own channel: which (the business's answers go
    /// there, not to a widget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactChannel>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationList {
    pub conversations: Vec<ConversationSummary>,
    /// Pass as `before` to get the next (older) page; absent on the last page.
    #[serde(default)]
    pub next_before: Option<i64>,
}

/// `GET …/messages?after=N&limit=M`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    pub last_seq: Seq,
}

/// `POST /api/v1/admin/conversations/{id}/messages`: an agent reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    pub body: String,
    /// Idempotency key; retrying with the same id stores the reply once.
    #[serde(default)]
    pub client_msg_id: Option<ClientMsgId>,
    /// Agent display name shown to the visitor.
    #[serde(default)]
    pub author: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostedMessage {
    pub message: Message,
    pub duplicate: bool,
}

/// `POST /api/v1/admin/ws-ticket`: a short-lived ticket that lets the inbox open WebSockets
/// (browsers cannot put an `Authorization` header on a WebSocket).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WsTicket {
    pub ticket: String,
    pub expires_at: i64,
}

/// What happened to a teaser (`POST /api/v1/sites/{site}/events`). Only aggregate counters
/// are kept: no visitor is identified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeaserEvent {
    pub rule_id: RuleId,
    pub kind: TeaserEventKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeaserEventKind {
    /// The teaser appeared.
    Impression,
    /// The visitor opened the chat from it.
    Open,
    Dismiss,
}

/// `Beckon.track(name, {value})` after a conversation (`POST /api/v1/conversations/{id}/events`,
/// visitor token): a goal, credited to the rule that started the conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalEvent {
    pub name: String,
    #[serde(default)]
    pub value: Option<f64>,
}

impl GoalEvent {
    pub fn validated(self) -> Result<GoalEvent, (ErrorCode, String)> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && !self.name.chars().any(char::is_control);
        if !name_ok {
            return Err((ErrorCode::BadRequest, "name must be 1-64 characters".into()));
        }
        if self
            .value
            .is_some_and(|v| !v.is_finite() || !(0.0..=1e12).contains(&v))
        {
            return Err((
                ErrorCode::BadRequest,
                "value must be a number from 0 to 10^12".into(),
            ));
        }
        Ok(self)
    }
}

/// One rule's funnel on one day (UTC), or over a period.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleDay {
    pub day: String,
    pub impressions: u64,
    pub opens: u64,
    pub dismissals: u64,
    pub replies: u64,
    pub goals: u64,
    pub goal_value: f64,
    /// Average time from the visitor's reply to the first agent answer.
    #[serde(default)]
    pub avg_first_response_ms: Option<u64>,
}

/// One rule's funnel over the period, with its days.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleFunnel {
    pub rule_id: String,
    /// The rule's current name (empty if it was deleted).
    pub name: String,
    pub totals: RuleDay,
    pub days: Vec<RuleDay>,
}

/// `GET /api/v1/admin/metrics?site=&from=&to=`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsReport {
    pub site: String,
    pub from: String,
    pub to: String,
    pub rules: Vec<RuleFunnel>,
}

/// A visitor whose chat app is running on the site right now (kept in memory only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineVisitor {
    /// Identifies this page session until it goes away.
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub title: String,
    /// When the visit started (ms since the epoch).
    pub since: i64,
    /// Set when the visitor has chatted before.
    #[serde(default)]
    pub visitor_id: Option<VisitorId>,
}

/// `POST /api/v1/admin/sites/{site}/presence/{id}/conversations`: an agent starts a
/// conversation with a visitor who is on the site now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReachOut {
    pub body: String,
    #[serde(default)]
    pub author: Option<String>,
}

/// `POST /api/v1/sites/{site}/identify` (visitor token): what the site's page knows about
/// the visitor (`Beckon.identify`), making them a known contact.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identify {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// With country code; anything but digits is dropped.
    #[serde(default)]
    pub phone: Option<String>,
}

impl Identify {
    pub fn validated(self) -> Result<Identify, (ErrorCode, String)> {
        let bad = |m: &str| Err((ErrorCode::BadRequest, m.to_owned()));
        let name = match self
            .name
            .as_deref()
            .map(|n| crate::text::normalize_label(n, 80))
        {
            Some(Err(_)) => return bad("name must be one line of at most 80 characters"),
            Some(Ok(n)) => n,
            None => None,
        };
        let email = self
            .email
            .map(|e| e.trim().to_ascii_lowercase())
            .filter(|e| !e.is_empty());
        if let Some(e) = &email {
            let ok = e.len() <= 254
                && e.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
                })
                && !e
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
            if !ok {
                return bad("email must be an address like ana@example.com");
            }
        }
        let phone = self
            .phone
            .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>())
            .filter(|p| !p.is_empty());
        if phone.as_ref().is_some_and(|p| !(7..=15).contains(&p.len())) {
            return bad("phone must be a number with country code, e.g. +49 151 12345678");
        }
        Ok(Identify { name, email, phone })
    }
}

/// A visitor the site identified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub visitor_id: VisitorId,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// Who they are on Telegram ("@username" or their name), present once they started the
    /// site's bot — the only way a bot may write to someone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telegram: Option<String>,
    pub last_seen_at: i64,
}

/// A channel a business may use to write to a contact first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    /// The approved template from the business number (the only way to write first).
    Whatsapp,
    /// A private chat with the site's bot, for people who started it.
    Telegram,
}

impl ContactChannel {
    pub const ALL: [ContactChannel; 2] = [ContactChannel::Whatsapp, ContactChannel::Telegram];

    pub fn parse(s: &str) -> Option<ContactChannel> {
        ContactChannel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ContactChannel::Whatsapp => "whatsapp",
            ContactChannel::Telegram => "telegram",
        }
    }

    /// The site channel whose settings and credentials reach the contact.
    pub fn channel(self) -> ChannelKind {
        match self {
            ContactChannel::Whatsapp => ChannelKind::Whatsapp,
            ContactChannel::Telegram => ChannelKind::Telegram,
        }
    }
}

/// `POST /api/v1/admin/sites/{site}/contacts/{visitor_id}/conversations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactOutreach {
    pub channel: ContactChannel,
    pub body: String,
    #[serde(default)]
    pub author: Option<String>,
}

/// Frames of the inbox's live feed (`/api/v1/admin/sites/{site}/live`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboxEvent {
    /// A conversation was created or changed (new message, read cursor).
    Conversation { summary: Box<ConversationSummary> },
    /// Who is on the site now (sent whenever it changes).
    Presence { visitors: Vec<OnlineVisitor> },
    /// A frame this client version does not know.
    #[serde(other)]
    Unknown,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> SiteSettings {
        SiteSettings {
            key: SiteKey::parse("shop").unwrap(),
            name: " Shop ".into(),
            greeting: "Hi!".into(),
            accent: "#ABC".into(),
            position: LauncherPosition::Right,
            allowed_origins: vec![
                "https://Shop.example/".into(),
                "https://shop.example".into(),
            ],
            allow_loopback_origins: false,
            remember_visitors: false,
        }
    }

    #[test]
    fn site_settings_validate_and_normalise() {
        let s = settings().validated().unwrap();
        assert_eq!(s.name, "Shop");
        assert_eq!(s.accent, "#aabbcc");
        assert_eq!(s.allowed_origins, vec!["https://shop.example"]);
        assert!(s.allows_origin("https://shop.example"));
        assert!(!s.allows_origin("https://evil.example"));
        assert!(!s.allows_origin("http://127.0.0.1:9000"));
        let mut bad = settings();
        bad.allowed_origins = vec!["https://shop.example/path".into()];
        assert!(bad.validated().is_err());
        let mut bad = settings();
        bad.accent = "red".into();
        assert!(bad.validated().is_err());
        let mut bad = settings();
        bad.name = "  ".into();
        assert!(bad.validated().is_err());
    }

    #[test]
    fn loopback_rule() {
        let mut s = settings().validated().unwrap();
        s.allow_loopback_origins = true;
        for ok in [
            "http://127.0.0.1:9000",
            "http://localhost:3000",
            "http://localhost",
        ] {
            assert!(s.allows_origin(ok), "{ok}");
        }
        for bad in [
            "https://127.0.0.1:9000",
            "http://127.0.0.2:9000",
            "http://localhost.evil.com",
            "http://127.0.0.1:99999",
            "http://127.0.0.1:",
        ] {
            assert!(!s.allows_origin(bad), "{bad}");
        }
    }

    #[test]
    fn origins() {
        assert_eq!(
            normalize_origin("https://A.example:8443/").as_deref(),
            Some("https://a.example:8443")
        );
        for bad in [
            "ftp://x",
            "https://",
            "https://a b",
            "https://a.example/x",
            "https://a:port",
            "javascript:alert(1)",
        ] {
            assert!(normalize_origin(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn patch_applies_only_given_fields() {
        let s = settings().validated().unwrap();
        let p: SiteSettingsPatch =
            serde_json::from_value(json!({"greeting": "Hello there"})).unwrap();
        let s2 = p.apply(s.clone()).unwrap();
        assert_eq!(s2.greeting, "Hello there");
        assert_eq!(s2.name, s.name);
        assert!(serde_json::from_value::<SiteSettingsPatch>(json!({"key": "other"})).is_err());
    }

    #[test]
    fn start_conversation_validation() {
        let ok = StartConversation {
            page_url: Some("https://shop.example/p".into()),
            ..Default::default()
        };
        assert!(ok.validated().is_ok());
        let long = StartConversation {
            page_url: Some("x".repeat(MAX_URL_LEN + 1)),
            ..Default::default()
        };
        assert!(long.validated().is_err());
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "https://a b",
            "//x.example",
        ] {
            let s = StartConversation {
                referrer: Some(bad.into()),
                ..Default::default()
            };
            assert!(s.validated().is_err(), "{bad}");
        }
        let empty = StartConversation {
            referrer: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(empty.validated().unwrap().referrer, None);
        let forged = StartConversation {
            origin: Some(ConversationOrigin::Agent { author: None }),
            ..Default::default()
        };
        assert!(forged.validated().is_err());
    }
}
