//! The Messenger Platform, sans IO (CHANNELS.md §4): Send API requests for text and files,
//! their answers classified, the windows Meta allows a business to answer in, and webhook
//! payloads (`object` `page` or `instagram`) parsed into the people's messages.

use crate::channels::{ApiRequest, ApiResponse, Failure, InboundFile, RelayFile};
use beckon_shared::media::FileType;
use beckon_shared::proto::v1::ContactChannel;
use beckon_shared::rules::{CtaAction, CtaButton};
use serde::Deserialize;
use serde_json::json;

/// Messenger's longest text message, in characters.
pub const MAX_MESSENGER_CHARS: usize = 2000;
/// Instagram's longest text message, in bytes (CHANNELS.md §4: 1000 bytes).
pub const MAX_INSTAGRAM_BYTES: usize = 1000;
const HOUR_MS: i64 = 3_600_000;
/// The standard messaging window after the person's last message.
pub const STANDARD_WINDOW_MS: i64 = 24 * HOUR_MS;
/// How long a human agent may still answer, with the `HUMAN_AGENT` tag.
pub const HUMAN_AGENT_WINDOW_MS: i64 = 7 * 24 * HOUR_MS;
/// Graph error subcodes of a send outside the allowed window (Messenger, Instagram).
const OUTSIDE_WINDOW: [i64; 2] = [2_018_278, 2_534_022];

/// How the business may message someone now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Within 24 hours of their last message: any message (`RESPONSE`).
    Standard,
    /// Within 7 days: a person's answer, tagged `HUMAN_AGENT`.
    HumanAgent,
    /// Not at all until they write again.
    Closed,
}

impl Window {
    pub fn at(last_inbound: Option<i64>, now: i64) -> Window {
        match last_inbound.map(|t| now - t) {
            Some(age) if age < STANDARD_WINDOW_MS => Window::Standard,
            Some(age) if age < HUMAN_AGENT_WINDOW_MS => Window::HumanAgent,
            _ => Window::Closed,
        }
    }

    /// The window a message may use: a person's answer may use the 7-day `HUMAN_AGENT`
    /// window, anything automated only the standard one.
    pub fn for_sender(self, human: bool) -> Window {
        match (self, human) {
            (Window::HumanAgent, false) => Window::Closed,
            (w, _) => w,
        }
    }

    /// Why nothing can be sent, said to the business.
    pub fn closed_reason(channel: ContactChannel) -> String {
        let app = channel.label();
        format!("{app} allows answers only within 24 hours of the person's last message (a person's answer within 7 days); it reaches them again when they write")
    }
}

/// Who a message goes to, and through which Page.
pub struct Addressee<'a> {
    pub api_base: &'a str,
    pub version: &'a str,
    pub page_id: &'a str,
    pub token: &'a str,
    pub channel: ContactChannel,
    pub to: &'a str,
    /// Sent by the business unprompted (a broadcast): `UPDATE` rather than `RESPONSE`
    /// within the standard window.
    pub proactive: bool,
}

impl Addressee<'_> {
    fn request(&self, window: Window, message: serde_json::Value) -> ApiRequest {
        let mut body = json!({
            "recipient": { "id": self.to },
            "message": message,
        });
        match window {
            Window::HumanAgent => {
                body["messaging_type"] = json!("MESSAGE_TAG");
                body["tag"] = json!("HUMAN_AGENT");
            }
            _ if self.proactive => body["messaging_type"] = json!("UPDATE"),
            _ => body["messaging_type"] = json!("RESPONSE"),
        }
        ApiRequest::json(
            format!(
                "{}/{}/{}/messages",
                self.api_base, self.version, self.page_id
            ),
            Some(self.token),
            &body,
        )
    }

    /// The text clipped to the app's limit.
    pub fn clip<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        self.clip_within(text, 0)
    }

    /// The text clipped to the app's limit less `reserved` bytes (for what follows it).
    fn clip_within<'t>(&self, text: &'t str, reserved: usize) -> std::borrow::Cow<'t, str> {
        match self.channel {
            ContactChannel::Instagram => {
                clip_bytes(text, MAX_INSTAGRAM_BYTES.saturating_sub(reserved).max(8))
            }
            _ => crate::channels::api::clip(
                text,
                MAX_MESSENGER_CHARS.saturating_sub(reserved).max(8),
            ),
        }
    }

    /// The relay's text (the files it links included) within the app's limit, leaving room
    /// for `reserved` characters of prefix: Messenger counts characters, Instagram bytes
    /// (the text is planned again, shorter, until its bytes fit).
    pub fn fit(&self, relay: &crate::channels::Relay, reserved: usize) -> String {
        let (mut max, bytes) = match self.channel {
            ContactChannel::Instagram => (MAX_INSTAGRAM_BYTES, MAX_INSTAGRAM_BYTES),
            _ => (MAX_MESSENGER_CHARS, usize::MAX),
        };
        let bytes = bytes.saturating_sub(reserved * 4);
        loop {
            let text = relay.text_within(max.saturating_sub(reserved));
            if text.len() <= bytes || max <= reserved {
                return text;
            }
            max -= (text.len() - bytes).min(max - reserved).max(1);
        }
    }
}

/// `text` cut to at most `max` bytes on a character boundary, with an ellipsis.
fn clip_bytes(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let mut end = max - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end]).into()
}

/// A text message.
pub fn send_text(to: &Addressee, window: Window, text: &str) -> ApiRequest {
    to.request(window, json!({ "text": to.clip(text) }))
}

/// The most bytes a broadcast's link lines may take: what is left of Instagram's 1000 is for
/// the text.
const MAX_LINK_LINES_BYTES: usize = 600;

/// Why a broadcast's text and buttons cannot go on Messenger and Instagram, if they cannot:
/// link lines must leave room for the text, and reply buttons (quick replies) need a text to
/// hang from.
pub fn broadcast_check(text: &str, buttons: &[CtaButton]) -> Result<(), String> {
    if link_lines(buttons).len() > MAX_LINK_LINES_BYTES {
        return Err(format!(
            "on Messenger and Instagram link buttons go as lines under the text: theirs take over {MAX_LINK_LINES_BYTES} bytes (Instagram's messages hold 1000); shorten the links"
        ));
    }
    let replies = buttons.iter().any(|b| matches!(b.action, CtaAction::Reply));
    if replies && text.trim().is_empty() {
        return Err(
            "on Messenger and Instagram reply buttons go under the text: give a text".into(),
        );
    }
    Ok(())
}

/// A broadcast's link buttons as lines: "Label: https://…".
fn link_lines(buttons: &[CtaButton]) -> String {
    buttons
        .iter()
        .filter_map(|b| match &b.action {
            CtaAction::Link { url } => Some(format!("{}: {url}", b.label)),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A broadcast's text with its buttons: links as lines under the text ("Label: https://…"),
/// replies as quick replies (a tap comes back as the person's message with the label).
pub fn send_with_buttons(
    to: &Addressee,
    window: Window,
    text: &str,
    buttons: &[CtaButton],
) -> ApiRequest {
    // The links are kept whole (their length is checked up front): the text gives way.
    let tail = link_lines(buttons);
    let reserved = if tail.is_empty() { 0 } else { tail.len() + 2 };
    let mut full = to.clip_within(text, reserved).into_owned();
    if !tail.is_empty() {
        if !full.is_empty() {
            full.push_str("\n\n");
        }
        full.push_str(&tail);
    }
    let mut message = json!({ "text": full });
    let replies: Vec<serde_json::Value> = buttons
        .iter()
        .filter(|b| matches!(b.action, CtaAction::Reply))
        .map(|b| json!({ "content_type": "text", "title": b.label, "payload": b.label }))
        .collect();
    if !replies.is_empty() {
        message["quick_replies"] = json!(replies);
    }
    to.request(window, message)
}

/// The attachment type a file goes as, if the app takes it as one (Meta fetches it from its
/// link): images up to 8 MB, MP4 videos and (on Messenger) documents up to 25 MB.
pub fn attachment_type(channel: ContactChannel, file: &RelayFile) -> Option<&'static str> {
    const MB: u64 = 1024 * 1024;
    let a = file.attachment;
    file.link.as_ref()?;
    match a.kind {
        FileType::Jpeg | FileType::Png | FileType::Gif if a.size <= 8 * MB => Some("image"),
        FileType::Mp4 if a.size <= 25 * MB => Some("video"),
        FileType::Pdf | FileType::Text | FileType::Csv | FileType::Office
            if a.size <= 25 * MB && channel == ContactChannel::Messenger =>
        {
            Some("file")
        }
        _ => None,
    }
}

/// A file as an attachment message, fetched by Meta from its signed link.
pub fn send_file(to: &Addressee, window: Window, kind: &str, link: &str) -> ApiRequest {
    to.request(
        window,
        json!({ "attachment": { "type": kind, "payload": { "url": link, "is_reusable": false } } }),
    )
}

#[derive(Deserialize)]
struct Sent {
    #[serde(default)]
    message_id: Option<String>,
    #[serde(default)]
    error: Option<GraphError>,
}

#[derive(Deserialize)]
struct GraphError {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    error_subcode: Option<i64>,
    #[serde(default)]
    message: String,
}

/// The Send API's answer → the message id. Branches on codes, never on messages.
pub fn parse_sent(resp: &ApiResponse, channel: ContactChannel) -> Result<String, Failure> {
    let what = channel.as_str();
    let Ok(sent) = serde_json::from_str::<Sent>(&resp.body) else {
        return Err(Failure::from_status(
            resp.status,
            resp.retry_after.as_deref(),
            what,
        ));
    };
    if let Some(e) = sent.error {
        let reason = format!("{what} {}: {}", e.code, e.message);
        let after_ms = resp
            .retry_after
            .as_deref()
            .and_then(crate::channels::api::parse_retry_after);
        return Err(match (e.code, e.error_subcode) {
            // Outside the window Meta sees: the caller may send it again as a person's
            // answer (`HUMAN_AGENT`), else it is refused with the rule.
            (_, Some(s)) if OUTSIDE_WINDOW.contains(&s) => Failure::NeedsTemplate,
            // Throttled (app, page or user level), or Meta's transient errors.
            (4 | 17 | 32 | 613 | 1 | 2, _) => Failure::Retry { after_ms, reason },
            // The channel's set-up: a missing permission or feature, a wrong Page, a bad
            // token. Every message would fail: the channel is flagged.
            (10, None) | (100, Some(33)) | (190, _) | (200..=299, _) => {
                Failure::Permanent { reason }
            }
            // This message or this person only: unavailable, unknown, a file Meta could not
            // fetch, a parameter of this message.
            (551 | 100 | 10, _) => Failure::Rejected { reason },
            _ if resp.status >= 500 => Failure::Retry { after_ms, reason },
            _ => Failure::Permanent { reason },
        });
    }
    if resp.status >= 400 {
        return Err(Failure::from_status(
            resp.status,
            resp.retry_after.as_deref(),
            what,
        ));
    }
    sent.message_id.ok_or(Failure::Permanent {
        reason: format!("{what}: no message id"),
    })
}

/// A person's public profile: their name (`GET /{id}?fields=…`, with the Page token).
pub fn profile(to: &Addressee) -> ApiRequest {
    let fields = match to.channel {
        ContactChannel::Instagram => "name,username",
        _ => "first_name,last_name",
    };
    ApiRequest::get(
        format!("{}/{}/{}?fields={fields}", to.api_base, to.version, to.to),
        Some(to.token),
    )
}

#[derive(Deserialize)]
struct Profile {
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

/// The name in a profile answer, as one line of at most 80 characters.
pub fn parse_profile(resp: &ApiResponse) -> Option<String> {
    if resp.status != 200 {
        return None;
    }
    let p: Profile = serde_json::from_str(&resp.body).ok()?;
    let joined = [p.first_name, p.last_name]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let name = p
        .name
        .or(Some(joined).filter(|j| !j.trim().is_empty()))
        .or(p.username.map(|u| format!("@{u}")))?;
    beckon_shared::text::normalize_label(&name, 80)
        .ok()
        .flatten()
}

/// A person's message, from a webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    pub channel: ContactChannel,
    /// The Page or Instagram account it was sent to.
    pub account: String,
    /// Their page- or Instagram-scoped id.
    pub from: String,
    pub mid: String,
    pub text: Option<String>,
    /// Images, videos, audio and files, by their URL on Meta's CDN.
    pub files: Vec<InboundFile>,
    /// When they sent it (ms).
    pub sent_at: Option<i64>,
}

#[derive(Deserialize)]
struct Payload {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    id: String,
    /// Each event is read on its own: one of an unknown shape is skipped, not the batch.
    #[serde(default)]
    messaging: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Messaging {
    sender: Party,
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(default)]
    message: Option<PersonMessage>,
}

#[derive(Deserialize)]
struct Party {
    id: String,
}

#[derive(Deserialize)]
struct PersonMessage {
    mid: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    is_echo: bool,
    #[serde(default)]
    attachments: Vec<Attachment>,
}

#[derive(Deserialize)]
struct Attachment {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    payload: Option<AttachmentPayload>,
}

#[derive(Deserialize)]
struct AttachmentPayload {
    #[serde(default)]
    url: Option<String>,
}

/// The people's messages in a webhook payload (echoes of our own sends, reads, reactions and
/// other events are left out). `None`: not a Messenger or Instagram payload.
pub fn parse_webhook(raw: &[u8]) -> Option<Vec<Incoming>> {
    let payload: Payload = serde_json::from_slice(raw).ok()?;
    let channel = match payload.object.as_str() {
        "page" => ContactChannel::Messenger,
        "instagram" => ContactChannel::Instagram,
        _ => return None,
    };
    let mut out = Vec::new();
    for entry in payload.entry {
        for m in entry.messaging {
            let Ok(m) = serde_json::from_value::<Messaging>(m) else {
                continue;
            };
            // Page- and Instagram-scoped ids are numbers; anything else is not a person.
            if m.sender.id.is_empty() || !m.sender.id.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let Some(message) = m.message.filter(|msg| !msg.is_echo) else {
                continue;
            };
            let files = message
                .attachments
                .iter()
                .filter(|a| matches!(a.kind.as_str(), "image" | "video" | "audio" | "file"))
                .filter_map(|a| a.payload.as_ref()?.url.clone())
                .map(|url| InboundFile {
                    name: file_name(&url),
                    handle: url,
                    size: None,
                })
                .collect();
            out.push(Incoming {
                channel,
                account: entry.id.clone(),
                from: m.sender.id,
                mid: message.mid,
                text: message.text.filter(|t| !t.trim().is_empty()),
                files,
                sent_at: m.timestamp,
            });
        }
    }
    Some(out)
}

/// The file name at the end of a CDN URL's path, if it has one with an extension.
fn file_name(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let last = path.rsplit('/').next()?;
    (last.contains('.') && last.len() <= 120).then(|| last.to_owned())
}

/// Whether `url` is a file on Meta's CDN (https, `*.fbcdn.net`, `*.cdninstagram.com`,
/// `*.fbsbx.com`) or on the API's own host `api_host` (the fake on this machine in
/// development).
pub fn on_meta_cdn(url: &str, api_host: Option<&str>) -> bool {
    let Some(host) = crate::channels::api::url_host(url) else {
        return false;
    };
    let cdn = url.starts_with("https://")
        && [".fbcdn.net", ".cdninstagram.com", ".fbsbx.com"]
            .iter()
            .any(|suffix| host.ends_with(suffix));
    cdn || Some(host) == api_host
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(channel: ContactChannel) -> Addressee<'static> {
        Addressee {
            api_base: "https://graph.facebook.com",
            version: "v23.0",
            page_id: "1234567890",
            token: "EAAG",
            channel,
            to: "6543210987",
            proactive: false,
        }
    }

    #[test]
    fn a_broadcast_needs_room_for_its_text_and_a_text_for_its_replies() {
        let link = |url: String| CtaButton {
            label: "Shop".into(),
            action: CtaAction::Link { url },
        };
        let reply = CtaButton {
            label: "Yes".into(),
            action: CtaAction::Reply,
        };
        let short = link("https://shop.example/sale".into());
        let long = link(format!("https://shop.example/{}", "a".repeat(700)));
        assert!(broadcast_check("Sale!", &[short.clone(), reply.clone()]).is_ok());
        assert!(broadcast_check("Sale!", &[long])
            .unwrap_err()
            .contains("shorten"));
        assert!(broadcast_check(" ", &[reply])
            .unwrap_err()
            .contains("give a text"));
        assert!(broadcast_check("", &[short]).is_ok());
    }

    #[test]
    fn a_broadcast_goes_as_an_update_with_its_links_and_quick_replies() {
        let mut to = to(ContactChannel::Instagram);
        to.proactive = true;
        let buttons = [
            CtaButton {
                label: "Shop now".into(),
                action: CtaAction::Link {
                    url: "https://shop.example/sale".into(),
                },
            },
            CtaButton {
                label: "Stop".into(),
                action: CtaAction::Reply,
            },
        ];
        let long = "é".repeat(600);
        let body: serde_json::Value =
            serde_json::from_str(&send_with_buttons(&to, Window::Standard, &long, &buttons).body)
                .unwrap();
        assert_eq!(body["messaging_type"], "UPDATE");
        let text = body["message"]["text"].as_str().unwrap();
        assert!(text.len() <= MAX_INSTAGRAM_BYTES, "{}", text.len());
        assert!(
            text.ends_with("…\n\nShop now: https://shop.example/sale"),
            "{text}"
        );
        assert_eq!(
            body["message"]["quick_replies"],
            json!([{ "content_type": "text", "title": "Stop", "payload": "Stop" }])
        );
        // Without buttons, no quick replies; a person's answer is a RESPONSE.
        to.proactive = false;
        let plain: serde_json::Value =
            serde_json::from_str(&send_with_buttons(&to, Window::Standard, "Hi", &[]).body)
                .unwrap();
        assert_eq!(
            (
                plain["messaging_type"].as_str(),
                plain["message"].get("quick_replies")
            ),
            (Some("RESPONSE"), None)
        );
    }

    #[test]
    fn windows_follow_the_last_message() {
        let now = 100 * HUMAN_AGENT_WINDOW_MS;
        assert_eq!(Window::at(Some(now - 1000), now), Window::Standard);
        assert_eq!(
            Window::at(Some(now - STANDARD_WINDOW_MS), now),
            Window::HumanAgent
        );
        assert_eq!(
            Window::at(Some(now - HUMAN_AGENT_WINDOW_MS + 1), now),
            Window::HumanAgent
        );
        assert_eq!(
            Window::at(Some(now - HUMAN_AGENT_WINDOW_MS), now),
            Window::Closed
        );
        assert_eq!(Window::at(None, now), Window::Closed);
    }

    #[test]
    fn requests_carry_the_window_and_a_bearer_token() {
        let r = send_text(&to(ContactChannel::Messenger), Window::Standard, "hi");
        assert_eq!(
            r.url,
            "https://graph.facebook.com/v23.0/1234567890/messages"
        );
        assert!(r.headers.contains(&("authorization", "Bearer EAAG".into())));
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["messaging_type"], "RESPONSE");
        assert_eq!(body["recipient"]["id"], "6543210987");
        assert_eq!(body["message"]["text"], "hi");
        assert!(body.get("tag").is_none());
        let r = send_file(
            &to(ContactChannel::Messenger),
            Window::HumanAgent,
            "image",
            "https://x.example/f",
        );
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["messaging_type"], "MESSAGE_TAG");
        assert_eq!(body["tag"], "HUMAN_AGENT");
        assert_eq!(body["message"]["attachment"]["type"], "image");
        assert_eq!(
            body["message"]["attachment"]["payload"]["url"],
            "https://x.example/f"
        );
    }

    #[test]
    fn instagram_text_is_cut_to_1000_bytes_on_a_character_boundary() {
        let long = "é".repeat(700);
        let r = send_text(&to(ContactChannel::Instagram), Window::Standard, &long);
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let text = body["message"]["text"].as_str().unwrap();
        assert!(text.len() <= MAX_INSTAGRAM_BYTES, "{}", text.len());
        assert!(text.ends_with('…'));
        let r = send_text(&to(ContactChannel::Messenger), Window::Standard, &long);
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            body["message"]["text"].as_str().unwrap().chars().count(),
            700
        );
    }

    fn answer(status: u16, body: &str) -> ApiResponse {
        ApiResponse {
            status,
            body: body.into(),
            retry_after: None,
        }
    }

    #[test]
    fn answers_are_classified_by_code() {
        let ok = answer(200, r#"{"recipient_id":"1","message_id":"m_1"}"#);
        assert_eq!(parse_sent(&ok, ContactChannel::Messenger).unwrap(), "m_1");
        let window = answer(
            400,
            r#"{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278}}"#,
        );
        assert!(matches!(
            parse_sent(&window, ContactChannel::Messenger),
            Err(Failure::NeedsTemplate)
        ));
        let ig_window = answer(
            400,
            r#"{"error":{"message":"outside of allowed window","code":10,"error_subcode":2534022}}"#,
        );
        assert!(matches!(
            parse_sent(&ig_window, ContactChannel::Instagram),
            Err(Failure::NeedsTemplate)
        ));
        for setup in [
            r#"{"error":{"message":"(#10) Requires pages_messaging","code":10}}"#,
            r#"{"error":{"message":"Unsupported post request","code":100,"error_subcode":33}}"#,
            r#"{"error":{"message":"(#230) Requires pages_messaging permission","code":230}}"#,
        ] {
            assert!(
                matches!(
                    parse_sent(&answer(400, setup), ContactChannel::Messenger),
                    Err(Failure::Permanent { .. })
                ),
                "{setup}"
            );
        }
        let unknown = answer(
            400,
            r#"{"error":{"message":"No matching user found","code":100,"error_subcode":2018001}}"#,
        );
        assert!(matches!(
            parse_sent(&unknown, ContactChannel::Messenger),
            Err(Failure::Rejected { .. })
        ));
        let throttled = answer(400, r#"{"error":{"message":"limit","code":613}}"#);
        assert!(matches!(
            parse_sent(&throttled, ContactChannel::Messenger),
            Err(Failure::Retry { .. })
        ));
        let token = answer(400, r#"{"error":{"message":"bad token","code":190}}"#);
        assert!(matches!(
            parse_sent(&token, ContactChannel::Messenger),
            Err(Failure::Permanent { .. })
        ));
        let gone = answer(400, r#"{"error":{"message":"unavailable","code":551}}"#);
        assert!(matches!(
            parse_sent(&gone, ContactChannel::Messenger),
            Err(Failure::Rejected { .. })
        ));
        assert!(matches!(
            parse_sent(&answer(502, "<html>"), ContactChannel::Messenger),
            Err(Failure::Retry { .. })
        ));
    }

    #[test]
    fn files_come_only_from_metas_cdn() {
        let api = Some("127.0.0.1:9000");
        assert!(on_meta_cdn(
            "https://scontent.xx.fbcdn.net/v/t1/p.jpg?oh=1",
            api
        ));
        assert!(on_meta_cdn(
            "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1",
            api
        ));
        assert!(on_meta_cdn("http://127.0.0.1:9000/cdn/p.jpg", api));
        assert!(!on_meta_cdn("http://scontent.xx.fbcdn.net/p.jpg", api));
        assert!(!on_meta_cdn("https://fbcdn.net.evil.example/p.jpg", api));
        assert!(!on_meta_cdn("https://169.254.169.254/latest", api));
        assert!(!on_meta_cdn("http://127.0.0.1:9001/cdn/p.jpg", api));
        assert!(!on_meta_cdn("file:///etc/passwd", None));
        assert!(!on_meta_cdn("https://169.254.169.254\\x.fbcdn.net/p", api));
        assert!(!on_meta_cdn("https://x.fbcdn.net@169.254.169.254/p", api));
    }

    #[test]
    fn profiles_give_a_name() {
        let r = profile(&to(ContactChannel::Instagram));
        assert_eq!(
            r.url,
            "https://graph.facebook.com/v23.0/6543210987?fields=name,username"
        );
        let name = |body: &str| parse_profile(&answer(200, body));
        assert_eq!(
            name(r#"{"first_name":"Ana","last_name":"Lima","id":"1"}"#).as_deref(),
            Some("Ana Lima")
        );
        assert_eq!(
            name(r#"{"username":"ana.l","id":"1"}"#).as_deref(),
            Some("@ana.l")
        );
        assert_eq!(name(r#"{"name":"Ana\nLima"}"#), None);
        assert_eq!(parse_profile(&answer(400, r#"{"error":{}}"#)), None);
    }

    #[test]
    fn webhooks_yield_people_messages_and_skip_echoes() {
        let raw = br#"{"object":"page","entry":[{"id":"1234567890","time":1458692752478,"messaging":[
            {"sender":{"id":"6543210987"},"recipient":{"id":"1234567890"},"timestamp":1458692752478,
             "message":{"mid":"m_1","text":"hello, world!","attachments":[{"type":"image","payload":{"url":"https://cdn.example/p/photo.jpg?x=1"}},{"type":"fallback","payload":{"url":"https://x"}}]}},
            {"sender":{"id":"1234567890"},"recipient":{"id":"6543210987"},"timestamp":1,
             "message":{"mid":"m_2","text":"ours","is_echo":true}},
            {"sender":{"id":"6543210987"},"recipient":{"id":"1234567890"},"timestamp":2,"read":{"watermark":1}}
        ]}]}"#;
        let events = parse_webhook(raw).unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.channel, ContactChannel::Messenger);
        assert_eq!(
            (e.account.as_str(), e.from.as_str()),
            ("1234567890", "6543210987")
        );
        assert_eq!(e.text.as_deref(), Some("hello, world!"));
        assert_eq!(e.files.len(), 1);
        assert_eq!(e.files[0].name.as_deref(), Some("photo.jpg"));
        assert_eq!(e.sent_at, Some(1458692752478));
        let ig = br#"{"object":"instagram","entry":[{"id":"17841400000000000","messaging":[{"sender":{"id":"99"},"message":{"mid":"ig_1","text":"hi"}}]}]}"#;
        assert_eq!(
            parse_webhook(ig).unwrap()[0].channel,
            ContactChannel::Instagram
        );
        assert!(parse_webhook(br#"{"object":"whatsapp_business_account","entry":[]}"#).is_none());
        assert!(parse_webhook(b"nope").is_none());
    }
}
