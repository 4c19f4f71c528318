//! WhatsApp Cloud API (CHANNELS.md §1): relays go to the business's agent number(s) as
//! free-form text inside the 24-hour customer-service window, or as the approved template
//! outside it (and when a free-form send fails with 131047). Agents answer by swipe-replying;
//! the reply's `context.id` is the wamid of one of our messages, which maps to the
//! conversation. Thread key: the wamid. Webhooks are signed with `X-Hub-Signature-256`.

use crate::broadcast::TemplateSend;
use crate::channels::api::{clip, ApiRequest, ApiResponse, Failure, Relay, MAX_QUOTED_URL};
use crate::channels::InboundFile;
use beckon_shared::rules::{CtaAction, CtaButton};
use serde::Deserialize;
use serde_json::json;

/// The customer-service window (Meta: 24 hours after the user's last message).
pub const WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// Graph error code for "outside the 24-hour window".
pub const RE_ENGAGEMENT: i64 = 131047;

pub(super) fn messages_url(api_base: &str, version: &str, phone_number_id: &str) -> String {
    format!("{api_base}/{version}/{phone_number_id}/messages")
}

/// Whether `last_inbound_at` (ms) keeps the window open at `now`.
pub fn window_open(last_inbound_at: Option<i64>, now: i64) -> bool {
    last_inbound_at.is_some_and(|t| now - t < WINDOW_MS)
}

/// WhatsApp's limit on a text message's body.
pub const MAX_TEXT_CHARS: usize = 4096;
/// What we allow a template's message parameter (Meta caps a template body at 1024).
pub const MAX_PARAMETER_CHARS: usize = 900;

/// The relay as plain text (WhatsApp renders no markup we need to escape; `*` is bold), its
/// body clipped to fit [`MAX_TEXT_CHARS`].
pub fn message_text(relay: &Relay, first: bool) -> String {
    const HINT: &str = "\n\n(Swipe-reply to this message to answer.)";
    let speaker = relay.speaker();
    let mut head = String::new();
    let mut tail = "";
    if first {
        head = format!("New chat on {}", relay.site_name);
        if let Some(url) = relay.page_url {
            head.push_str(&format!("\nPage: {}", clip(url, MAX_QUOTED_URL)));
        }
        head.push_str("\n\n");
        tail = HINT;
    }
    let used = head.chars().count() + speaker.chars().count() + 2 + tail.chars().count();
    let body = relay.text_within(MAX_TEXT_CHARS.saturating_sub(used));
    format!("{head}{speaker}: {body}{tail}")
}

/// The template's message parameter: one line (WhatsApp refuses parameters with newlines,
/// tabs or runs of spaces), with the page on a conversation's first relay, clipped to
/// [`MAX_PARAMETER_CHARS`].
pub fn template_text(relay: &Relay, first: bool) -> String {
    let mut text = format!(
        "{}: {}",
        relay.speaker(),
        relay.text_within(MAX_PARAMETER_CHARS)
    );
    if first {
        if let Some(url) = relay.page_url {
            text.push_str(&format!(" · page {}", clip(url, MAX_QUOTED_URL)));
        }
    }
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    clip(&one_line, MAX_PARAMETER_CHARS).into_owned()
}

/// Who a message goes to, from which business number, with which credentials.
pub struct Addressee<'a> {
    pub api_base: &'a str,
    pub version: &'a str,
    pub phone_number_id: &'a str,
    pub access_token: &'a str,
    pub to: &'a str,
}

/// Free-form text (inside the window).
pub fn send_text(t: &Addressee, text: &str) -> ApiRequest {
    ApiRequest::json(
        messages_url(t.api_base, t.version, t.phone_number_id),
        Some(t.access_token),
        &json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": t.to, "type": "text",
                "text": {"preview_url": false, "body": text}}),
    )
}

/// The approved template: `{{1}}` = site name, `{{2}}` = the message (clipped: template
/// parameters are limited), with the conversation id as the quick-reply payload.
pub fn send_template(
    t: &Addressee,
    template: &str,
    language: &str,
    site_name: &str,
    text: &str,
    conversation_id: &str,
) -> ApiRequest {
    // One line, no runs of spaces (WhatsApp refuses both in parameters), within the limit.
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = beckon_shared::text::preview(&one_line, MAX_PARAMETER_CHARS);
    ApiRequest::json(
        messages_url(t.api_base, t.version, t.phone_number_id),
        Some(t.access_token),
        &json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": t.to, "type": "template",
        "template": {"name": template, "language": {"code": language}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": site_name}, {"type": "text", "text": text}]},
            {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": conversation_id}]}
        ]}}),
    )
}

/// A broadcast's approved template: its header media (by the id it was uploaded under) and
/// its body parameters (one line each, clipped to WhatsApp's limit).
pub fn send_broadcast_template(
    t: &Addressee,
    template: &TemplateSend,
    buttons: &[CtaButton],
) -> ApiRequest {
    let mut components = Vec::new();
    if let Some((kind, id)) = &template.header {
        components.push(
            json!({"type": "header", "parameters": [{"type": kind, kind.as_str(): {"id": id}}]}),
        );
    }
    if !template.parameters.is_empty() {
        let parameters: Vec<_> = template
            .parameters
            .iter()
            .map(|p| {
                let one_line = p.split_whitespace().collect::<Vec<_>>().join(" ");
                json!({"type": "text", "text": clip(&one_line, MAX_PARAMETER_CHARS)})
            })
            .collect();
        components.push(json!({"type": "body", "parameters": parameters}));
    }
    // Quick replies carry their label back as the payload (the template's buttons were
    // checked to be these, in this order).
    for (i, b) in buttons.iter().enumerate() {
        if b.action == CtaAction::Reply {
            components.push(
                json!({"type": "button", "sub_type": "quick_reply", "index": i.to_string(),
                                   "parameters": [{"type": "payload", "payload": b.label}]}),
            );
        }
    }
    ApiRequest::json(
        messages_url(t.api_base, t.version, t.phone_number_id),
        Some(t.access_token),
        &json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": t.to, "type": "template",
        "template": {"name": template.name, "language": {"code": template.language}, "components": components}}),
    )
}

/// An approved message template as the business account lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateInfo {
    pub name: String,
    pub language: String,
    pub status: String,
    /// The header's format (`IMAGE`, `VIDEO`, `DOCUMENT`, `TEXT`), if it has one.
    pub header: Option<String>,
    /// How many `{{n}}` parameters its body takes.
    pub body_parameters: usize,
    /// Its buttons, as approved.
    pub buttons: Vec<TemplateButton>,
}

/// A template's button: `QUICK_REPLY` (its text comes back when tapped) or `URL`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TemplateButton {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub url: Option<String>,
}

/// `GET /{version}/{waba-id}/message_templates?name=…`: the account's templates of that name.
pub fn list_templates(
    api_base: &str,
    version: &str,
    business_account_id: &str,
    token: &str,
    name: &str,
) -> ApiRequest {
    ApiRequest::get(
        format!(
            "{api_base}/{version}/{business_account_id}/message_templates?name={}&fields=name,language,status,components",
            percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
        ),
        Some(token),
    )
}

/// The templates in a `message_templates` answer.
pub fn parse_templates(resp: &ApiResponse) -> Result<Vec<TemplateInfo>, Failure> {
    #[derive(Deserialize)]
    struct List {
        #[serde(default)]
        data: Vec<Item>,
    }
    #[derive(Deserialize)]
    struct Item {
        name: String,
        #[serde(default)]
        language: String,
        #[serde(default)]
        status: String,
        #[serde(default)]
        components: Vec<Component>,
    }
    #[derive(Deserialize)]
    struct Component {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        format: Option<String>,
        #[serde(default)]
        text: Option<String>,
        #[serde(default)]
        buttons: Vec<TemplateButton>,
    }
    if resp.status >= 300 {
        // The same classification as a send's errors.
        return Err(parse_sent(resp).err().unwrap_or(Failure::Permanent {
            reason: format!("message_templates answered {}", resp.status),
        }));
    }
    let list: List = serde_json::from_str(&resp.body).map_err(|_| Failure::Permanent {
        reason: "message_templates answered something else than a list".into(),
    })?;
    Ok(list
        .data
        .into_iter()
        .map(|i| TemplateInfo {
            header: i
                .components
                .iter()
                .find(|c| c.kind.eq_ignore_ascii_case("header"))
                .and_then(|c| c.format.clone()),
            body_parameters: i
                .components
                .iter()
                .find(|c| c.kind.eq_ignore_ascii_case("body"))
                .and_then(|c| c.text.as_deref())
                .map_or(0, |t| t.matches("{{").count()),
            buttons: i
                .components
                .iter()
                .find(|c| c.kind.eq_ignore_ascii_case("buttons"))
                .map(|c| c.buttons.clone())
                .unwrap_or_default(),
            name: i.name,
            language: i.language,
            status: i.status,
        })
        .collect())
}

#[derive(Deserialize)]
struct Sent {
    #[serde(default)]
    messages: Vec<SentMessage>,
    #[serde(default)]
    error: Option<GraphError>,
}

#[derive(Deserialize)]
struct SentMessage {
    id: String,
}

#[derive(Deserialize)]
struct GraphError {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
}

/// `/messages`' answer → the wamid. Branches on `error.code`, never on titles (Meta's advice);
/// treats both 400 and 429 as possibly throttled.
pub fn parse_sent(resp: &ApiResponse) -> Result<String, Failure> {
    let Ok(sent) = serde_json::from_str::<Sent>(&resp.body) else {
        return Err(Failure::from_status(
            resp.status,
            resp.retry_after.as_deref(),
            "whatsapp",
        ));
    };
    if let Some(e) = sent.error {
        let reason = format!("whatsapp {}: {}", e.code, e.message);
        let after_ms = resp
            .retry_after
            .as_deref()
            .and_then(crate::channels::api::parse_retry_after);
        return Err(match e.code {
            RE_ENGAGEMENT => Failure::NeedsTemplate,
            4 | 80007 | 130429 | 131056 | 2 | 1 => Failure::Retry { after_ms, reason },
            // Message-specific: bad parameter / parameter format (this message only).
            131008 | 131009 | 132000 | 132018 => Failure::Rejected { reason },
            _ if resp.status >= 500 => Failure::Retry { after_ms, reason },
            _ => Failure::Permanent { reason },
        });
    }
    if resp.status >= 400 {
        return Err(Failure::from_status(
            resp.status,
            resp.retry_after.as_deref(),
            "whatsapp",
        ));
    }
    sent.messages
        .into_iter()
        .next()
        .map(|m| m.id)
        .ok_or(Failure::Permanent {
            reason: "whatsapp: no message id".into(),
        })
}

/// Something a webhook tells us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A message from `from` (an agent, if it is one of the configured numbers).
    Message {
        from: String,
        id: String,
        /// The wamid of our message it replies to (swipe-reply), if any.
        context_id: Option<String>,
        /// Text, caption or button label; `None` for kinds we do not relay.
        text: Option<String>,
        /// A quick-reply button tap (opens the window, is not a reply to relay).
        is_button: bool,
        /// An image, video or document (by media id).
        files: Vec<InboundFile>,
        /// When they sent it (the message's own `timestamp`, ms), if it says.
        sent_at: Option<i64>,
    },
    /// A delivery status of one of our messages, sent to `recipient` (their number); `at`:
    /// when it happened (its `timestamp`, ms), if it says.
    Status {
        id: String,
        status: String,
        error_code: Option<i64>,
        recipient: Option<String>,
        at: Option<i64>,
    },
}

#[derive(Deserialize)]
struct Payload {
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    #[serde(default)]
    value: Value,
}

#[derive(Deserialize, Default)]
struct Value {
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    messages: Vec<WaMessage>,
    #[serde(default)]
    statuses: Vec<WaStatus>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    phone_number_id: String,
}

#[derive(Deserialize)]
struct WaMessage {
    #[serde(default)]
    from: String,
    /// Unix seconds, as a string.
    #[serde(default)]
    timestamp: Option<String>,
    id: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    context: Option<Context>,
    #[serde(default)]
    text: Option<Body>,
    #[serde(default)]
    button: Option<Button>,
    #[serde(default)]
    image: Option<Media>,
    #[serde(default)]
    video: Option<Media>,
    #[serde(default)]
    document: Option<Media>,
}

#[derive(Deserialize)]
struct Context {
    #[serde(default)]
    id: Option<String>,
}

#[derive(Deserialize)]
struct Body {
    body: String,
}

#[derive(Deserialize)]
struct Button {
    #[serde(default)]
    text: String,
}

/// An inbound image, video or document.
#[derive(Deserialize)]
struct Media {
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    filename: Option<String>,
}

#[derive(Deserialize)]
struct WaStatus {
    id: String,
    status: String,
    #[serde(default)]
    recipient_id: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    errors: Vec<GraphError>,
}

/// A webhook's `timestamp` (seconds since the epoch, as text) in ms.
fn epoch_ms(t: &str) -> Option<i64> {
    t.parse::<i64>().ok().map(|secs| secs * 1000)
}

/// A webhook payload: the business numbers it is for, and every message and status in every
/// entry and change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    pub numbers: Vec<String>,
    pub events: Vec<Event>,
}

impl Webhook {
    /// A business number of the payload that is not `phone_number_id`, if any (a number
    /// without `metadata` counts as another).
    pub fn foreign_number(&self, phone_number_id: &str) -> Option<&str> {
        self.numbers
            .iter()
            .map(String::as_str)
            .find(|n| *n != phone_number_id)
    }
}

pub fn parse_webhook(raw: &[u8]) -> Option<Webhook> {
    let payload: Payload = serde_json::from_slice(raw).ok()?;
    let (mut out, mut numbers) = (Vec::new(), Vec::new());
    for change in payload.entry.into_iter().flat_map(|e| e.changes) {
        numbers.push(
            change
                .value
                .metadata
                .as_ref()
                .map(|m| m.phone_number_id.clone())
                .unwrap_or_default(),
        );
        for m in change.value.messages {
            let media = match m.kind.as_str() {
                "image" => m.image,
                "video" => m.video,
                "document" => m.document,
                _ => None,
            };
            let text = match m.kind.as_str() {
                "text" => m.text.map(|t| t.body),
                "button" => m.button.as_ref().map(|b| b.text.clone()),
                _ => media.as_ref().and_then(|c| c.caption.clone()),
            };
            let files = media
                .and_then(|c| {
                    Some(InboundFile {
                        handle: c.id?,
                        name: c.filename,
                        size: None,
                    })
                })
                .into_iter()
                .collect();
            out.push(Event::Message {
                from: m.from,
                id: m.id,
                context_id: m.context.and_then(|c| c.id),
                text,
                is_button: m.kind == "button",
                files,
                sent_at: m.timestamp.as_deref().and_then(epoch_ms),
            });
        }
        for s in change.value.statuses {
            out.push(Event::Status {
                at: s.timestamp.as_deref().and_then(epoch_ms),
                id: s.id,
                status: s.status,
                error_code: s.errors.first().map(|e| e.code),
                recipient: s.recipient_id,
            });
        }
    }
    Some(Webhook {
        numbers,
        events: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const META_BODY: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],"messages":[{"from":"16505551234","id":"wamid.TEST1","timestamp":"1749416383","type":"text","text":{"body":"Hi"}}]},"field":"messages"}]}]}"#;

    fn target() -> Addressee<'static> {
        Addressee {
            api_base: "https://graph.facebook.com",
            version: "v23.0",
            phone_number_id: "106540352242922",
            access_token: "EAAB",
            to: "16505551234",
        }
    }

    #[test]
    fn builds_text_and_template_sends() {
        let t = send_text(&target(), "Visitor: hi");
        assert_eq!(
            t.url,
            "https://graph.facebook.com/v23.0/106540352242922/messages"
        );
        let body: serde_json::Value = serde_json::from_str(&t.body).unwrap();
        assert_eq!(
            (
                body["type"].as_str(),
                body["text"]["body"].as_str(),
                body["to"].as_str()
            ),
            (Some("text"), Some("Visitor: hi"), Some("16505551234"))
        );
        let tpl = send_template(
            &target(),
            "new_website_chat",
            "en_US",
            "example.com",
            "Do you ship to Canada?",
            "c_1",
        );
        let body: serde_json::Value = serde_json::from_str(&tpl.body).unwrap();
        assert_eq!(body["template"]["name"], "new_website_chat");
        assert_eq!(
            body["template"]["components"][0]["parameters"][1]["text"],
            "Do you ship to Canada?"
        );
        assert_eq!(
            body["template"]["components"][1]["parameters"][0]["payload"],
            "c_1"
        );
        let relay = Relay {
            site_name: "Acme",
            conversation_id: "c_1",
            page_url: Some("https://example.com/p"),
            role: beckon_shared::proto::v1::Role::Visitor,
            author: None,
            via: None,
            body: "two\nlines\t and    spaces",
            files: vec![],
        };
        assert_eq!(
            template_text(&relay, true),
            "Visitor: two lines and spaces · page https://example.com/p"
        );
        assert_eq!(
            template_text(&relay, false),
            "Visitor: two lines and spaces"
        );
        let long_body = "é".repeat(4000);
        let long_url = format!("https://example.com/{}", "p".repeat(2000));
        let long = Relay {
            body: &long_body,
            files: vec![],
            page_url: Some(&long_url),
            ..relay
        };
        for first in [true, false] {
            assert!(message_text(&long, first).chars().count() <= MAX_TEXT_CHARS);
            assert!(template_text(&long, first).chars().count() <= MAX_PARAMETER_CHARS);
        }
        assert!(message_text(&long, true).ends_with("(Swipe-reply to this message to answer.)"));
        assert!(window_open(Some(1_000), 1_000 + WINDOW_MS - 1));
        assert!(!window_open(Some(1_000), 1_000 + WINDOW_MS));
        assert!(!window_open(None, 0));
    }

    #[test]
    fn classifies_answers() {
        let ok = ApiResponse { status: 200, retry_after: None, body: r#"{"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.HBgL","message_status":"accepted"}]}"#.into() };
        assert_eq!(parse_sent(&ok), Ok("wamid.HBgL".into()));
        let bad_param = ApiResponse { status: 400, retry_after: None, body: r#"{"error":{"message":"(#131009) Parameter value is not valid","type":"OAuthException","code":131009,"fbtrace_id":"A"}}"#.into() };
        assert!(matches!(
            parse_sent(&bad_param),
            Err(Failure::Rejected { .. })
        ));
        let window = ApiResponse { status: 400, retry_after: None, body: r#"{"error":{"message":"Re-engagement message","type":"OAuthException","code":131047}}"#.into() };
        assert_eq!(parse_sent(&window), Err(Failure::NeedsTemplate));
        let throttled = ApiResponse { status: 400, retry_after: None, body: r#"{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"error_subcode":2494055}}"#.into() };
        assert!(matches!(parse_sent(&throttled), Err(Failure::Retry { .. })));
        let token = ApiResponse { status: 401, retry_after: None, body: r#"{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}"#.into() };
        assert!(matches!(parse_sent(&token), Err(Failure::Permanent { .. })));
        let down = ApiResponse {
            status: 502,
            retry_after: None,
            body: "oops".into(),
        };
        assert!(matches!(parse_sent(&down), Err(Failure::Retry { .. })));
    }

    #[test]
    fn parses_messages_replies_and_statuses() {
        assert_eq!(
            parse_webhook(META_BODY.as_bytes()).unwrap().events,
            [Event::Message {
                from: "16505551234".into(),
                id: "wamid.TEST1".into(),
                context_id: None,
                text: Some("Hi".into()),
                is_button: false,
                files: vec![],
                sent_at: Some(1_749_416_383_000),
            }]
        );
        let reply = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
            "messages":[{"from":"16505551234","id":"wamid.R1","timestamp":"1","type":"text","text":{"body":"Yes!"},"context":{"from":"15550783881","id":"wamid.OURS"}}],
            "statuses":[{"id":"wamid.OURS","status":"failed","timestamp":"1","recipient_id":"16505551234","errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message"}]}]}}]}]}"#;
        assert_eq!(
            parse_webhook(reply.as_bytes()).unwrap().events,
            [
                Event::Message {
                    from: "16505551234".into(),
                    id: "wamid.R1".into(),
                    context_id: Some("wamid.OURS".into()),
                    text: Some("Yes!".into()),
                    is_button: false,
                    files: vec![],
                    sent_at: Some(1000),
                },
                Event::Status {
                    id: "wamid.OURS".into(),
                    status: "failed".into(),
                    error_code: Some(131047),
                    recipient: Some("16505551234".into()),
                    at: Some(1000),
                },
            ]
        );
        assert!(parse_webhook(b"not json").is_none());
        let hook = parse_webhook(META_BODY.as_bytes()).unwrap();
        assert_eq!(hook.foreign_number("106540352242922"), None);
        assert_eq!(hook.foreign_number("999"), Some("106540352242922"));
        // An agent's swipe-replied document (CHANNELS.md §1.7 shape).
        let doc = r#"{"entry":[{"changes":[{"value":{"messages":[{"from":"16505551234","id":"wamid.D1","timestamp":"1","type":"document",
            "context":{"id":"wamid.OURS"},"document":{"filename":"receipt.pdf","mime_type":"application/pdf","sha256":"x","id":"987"}}]}}]}]}"#;
        let events: [Event; 1] = parse_webhook(doc.as_bytes())
            .unwrap()
            .events
            .try_into()
            .unwrap();
        let [Event::Message { text, files, .. }] = events else {
            panic!("one message")
        };
        assert_eq!(text, None);
        assert_eq!(
            files,
            vec![InboundFile {
                handle: "987".into(),
                name: Some("receipt.pdf".into()),
                size: None
            }]
        );
    }

    #[test]
    fn builds_broadcast_templates_and_reads_the_template_list() {
        let to = Addressee {
            api_base: "http://127.0.0.1:1",
            version: "v23.0",
            phone_number_id: "123",
            access_token: "tok",
            to: "4915100000001",
        };
        let buttons = [
            CtaButton {
                label: "Shop".into(),
                action: CtaAction::Link {
                    url: "https://shop.example".into(),
                },
            },
            CtaButton {
                label: "Yes".into(),
                action: CtaAction::Reply,
            },
        ];
        let t = TemplateSend {
            name: "spring_sale".into(),
            language: "pt_BR".into(),
            parameters: vec!["Ana".into(), "30%\n  off".into()],
            header: Some(("image".into(), "555".into())),
        };
        let body: serde_json::Value =
            serde_json::from_str(&send_broadcast_template(&to, &t, &buttons).body).unwrap();
        assert_eq!(body["template"]["name"], "spring_sale");
        assert_eq!(body["template"]["language"]["code"], "pt_BR");
        let c = &body["template"]["components"];
        assert_eq!(c[0]["type"], "header");
        assert_eq!(c[0]["parameters"][0]["image"]["id"], "555");
        assert_eq!(c[1]["parameters"][1]["text"], "30% off", "one line");
        // The quick reply (the template's second button) carries its label back.
        assert_eq!(
            c[2],
            serde_json::json!({"type": "button", "sub_type": "quick_reply", "index": "1",
                               "parameters": [{"type": "payload", "payload": "Yes"}]})
        );
        assert_eq!(
            c.as_array().unwrap().len(),
            3,
            "a URL button takes no parameter"
        );
        let listed = ApiResponse {
            status: 200,
            retry_after: None,
            body: r#"{"data":[{"name":"spring_sale","language":"pt_BR","status":"APPROVED","components":[{"type":"HEADER","format":"IMAGE"},{"type":"BODY","text":"Oi {{1}}, {{2}}"},{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Yes"}]}]}]}"#.into(),
        };
        assert_eq!(
            parse_templates(&listed).unwrap(),
            vec![TemplateInfo {
                name: "spring_sale".into(),
                language: "pt_BR".into(),
                status: "APPROVED".into(),
                header: Some("IMAGE".into()),
                body_parameters: 2,
                buttons: vec![TemplateButton {
                    kind: "QUICK_REPLY".into(),
                    text: "Yes".into(),
                    url: None
                }],
            }]
        );
        let req = list_templates("http://x", "v23.0", "999", "tok", "spring_sale");
        assert_eq!(req.method, "GET");
        assert!(req
            .url
            .starts_with("http://x/v23.0/999/message_templates?name=spring%5Fsale"));
    }
}
