//! Discord's wire format, sans-IO (CHANNELS.md §6.1): Execute Webhook into a forum channel
//! (`thread_name` opens a conversation's thread, `thread_id` posts into it, `wait=true` so
//! the answer names the thread), a relay's file as a multipart attachment, answers
//! classified, and the Interactions side: Ed25519 verification and the `/reply` command.

use crate::channels::multipart::Form;
use crate::channels::{ApiRequest, ApiResponse, Failure, Inbound, InboundFile, Relay, RelayFile};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::Deserialize;
use serde_json::{json, Value};

/// Discord's limit on a message's content.
pub const MAX_CONTENT: usize = 2000;
/// Largest file an incoming webhook may attach (larger ones go as links).
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// Longest thread title.
const MAX_THREAD_NAME: usize = 100;
/// An interaction whose timestamp is further than this from now is refused (a replay).
pub const REPLAY_WINDOW_SECS: i64 = 5 * 60;

/// Visitor text as Discord markdown that shows it literally: every markdown character
/// escaped (brackets too, so no `(…)` can follow a link text), so a visitor cannot format,
/// mask a link, quote or autolink. (Mentions are disabled by
/// `allowed_mentions` on every post.)
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '[' | ']' | '#' | '-' | '<' | ':'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `{base}/v10/webhooks/{id}/{token}?wait=true[&thread_id=…]`.
fn execute_url(base: &str, (id, token): (&str, &str), thread: Option<&str>) -> String {
    let mut url = format!("{base}/v10/webhooks/{id}/{token}?wait=true");
    if let Some(t) = thread {
        url.push_str("&thread_id=");
        url.push_str(t);
    }
    url
}

/// A post's JSON: `content`, no mentions, and `thread_name` when it opens a thread.
fn payload(content: &str, thread_name: Option<&str>, file: Option<&str>) -> Value {
    let mut p = json!({ "content": content, "allowed_mentions": { "parse": [] } });
    if let Some(name) = thread_name {
        p["thread_name"] = json!(name);
    }
    if let Some(f) = file {
        p["attachments"] = json!([{ "id": 0, "filename": f }]);
    }
    p
}

/// Where a post goes: into `thread`, or opening a thread named `thread_name`.
pub enum Place<'a> {
    Thread(&'a str),
    NewThread(&'a str),
}

impl Place<'_> {
    fn split(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Place::Thread(t) => (Some(t), None),
            Place::NewThread(n) => (None, Some(n)),
        }
    }
}

/// A text post.
pub fn post(base: &str, hook: (&str, &str), place: &Place, content: &str) -> ApiRequest {
    let (thread, name) = place.split();
    ApiRequest::json(
        execute_url(base, hook, thread),
        None,
        &payload(content, name, None),
    )
}

/// A post carrying `file` (streamed from storage) with `content` as its text.
pub fn post_file(
    base: &str,
    hook: (&str, &str),
    place: &Place,
    content: &str,
    file: &RelayFile,
) -> ApiRequest {
    let (thread, name) = place.split();
    let a = file.attachment;
    Form::new()
        .field(
            "payload_json",
            &payload(content, name, Some(&a.name)).to_string(),
        )
        .with_file(
            execute_url(base, hook, thread),
            Vec::new(),
            ("files[0]", &a.name, &a.mime),
            (&file.key, a.size),
        )
}

/// The thread a conversation opens: "Website chat 3fa2c1 · shop.example/pricing".
pub fn thread_name(relay: &Relay) -> String {
    let mut name = format!("Website chat {}", relay.short_id());
    if let Some(url) = relay.page_url {
        let page = url.split_once("://").map_or(url, |(_, rest)| rest);
        name.push_str(" · ");
        name.push_str(page);
    }
    crate::channels::api::clip(&name, MAX_THREAD_NAME).into_owned()
}

/// A relay's text: who wrote it and what (escaped), its files as links when `links`; the
/// first one of a thread names the site and page.
pub fn content(relay: &Relay, first: bool, links: bool) -> String {
    let mut head = String::new();
    if first {
        head.push_str(&format!(
            "New website chat on **{}**",
            escape(relay.site_name)
        ));
        if let Some(url) = relay.page_url {
            head.push_str(&format!(" · <{}>", crate::channels::api::clip(url, 300)));
        }
        head.push_str("\nAnswer with `/reply` in this thread.\n");
    }
    let speaker = format!("**{}**: ", escape(&relay.speaker()));
    let room = MAX_CONTENT.saturating_sub(head.chars().count() + speaker.chars().count());
    let body = if links {
        relay.text_within(room / 2)
    } else {
        crate::channels::api::clip(relay.body, room / 2).into_owned()
    };
    // Escaping at most doubles the text: it stays within the limit.
    format!("{head}{speaker}{}", escape(&body))
}

#[derive(Deserialize)]
struct Posted {
    id: String,
    channel_id: String,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: i64,
    #[serde(default)]
    retry_after: Option<f64>,
}

/// The posted message's id and its channel (the thread): or why it failed.
pub fn parse_posted(resp: &ApiResponse, in_thread: bool) -> Result<(String, String), Failure> {
    if resp.status == 200 {
        return serde_json::from_str::<Posted>(&resp.body)
            .map(|p| (p.id, p.channel_id))
            .map_err(|_| Failure::from_status(200, None, "discord: unreadable answer"));
    }
    let err: ApiError = serde_json::from_str(&resp.body).unwrap_or(ApiError {
        message: String::new(),
        code: 0,
        retry_after: None,
    });
    let reason = format!("discord: {} ({})", err.message, err.code);
    match (resp.status, err.code) {
        (429, _) => Err(Failure::Retry {
            after_ms: err
                .retry_after
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| (s * 1000.0).ceil() as u64)
                .or_else(|| {
                    resp.retry_after
                        .as_deref()
                        .and_then(crate::channels::api::parse_retry_after)
                }),
            reason,
        }),
        // Unknown Channel: the conversation's thread was deleted.
        (404, 10003) if in_thread => Err(Failure::ThreadGone),
        (401 | 403 | 404, _) => Err(Failure::Permanent { reason }),
        (400 | 413, _) => Err(Failure::Rejected { reason }),
        (s, _) => Err(Failure::from_status(s, None, "discord")),
    }
}

/// Why an interaction was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Reject {
    Missing,
    Stale,
    BadSignature,
}

/// Verifies `X-Signature-Ed25519` (hex) over `timestamp + raw body` with the application's
/// public key (hex), and that `X-Signature-Timestamp` is within [`REPLAY_WINDOW_SECS`].
pub fn verify(
    public_key: &str,
    (signature, timestamp): (Option<&str>, Option<&str>),
    raw: &[u8],
    now_secs: i64,
) -> Result<(), Reject> {
    let (Some(sig), Some(ts)) = (signature, timestamp) else {
        return Err(Reject::Missing);
    };
    let ts_num: i64 = ts.trim().parse().map_err(|_| Reject::Missing)?;
    if (now_secs - ts_num).abs() > REPLAY_WINDOW_SECS {
        return Err(Reject::Stale);
    }
    let key: [u8; 32] = hex::decode(public_key)
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or(Reject::BadSignature)?;
    let sig: [u8; 64] = hex::decode(sig.trim())
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or(Reject::BadSignature)?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| Reject::BadSignature)?;
    let mut message = ts.as_bytes().to_vec();
    message.extend_from_slice(raw);
    key.verify(&message, &Signature::from_bytes(&sig))
        .map_err(|_| Reject::BadSignature)
}

#[derive(Deserialize)]
struct Interaction {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    id: String,
    #[serde(default)]
    channel_id: Option<String>,
    #[serde(default)]
    data: Option<CommandData>,
    #[serde(default)]
    member: Option<Member>,
    #[serde(default)]
    user: Option<User>,
}

#[derive(Deserialize)]
struct CommandData {
    #[serde(default)]
    name: String,
    #[serde(default)]
    options: Vec<CommandOption>,
    #[serde(default)]
    resolved: Option<Resolved>,
}

#[derive(Deserialize)]
struct CommandOption {
    name: String,
    #[serde(default)]
    value: Value,
}

#[derive(Deserialize)]
struct Resolved {
    #[serde(default)]
    attachments: std::collections::HashMap<String, ResolvedFile>,
}

#[derive(Deserialize)]
struct ResolvedFile {
    url: String,
    filename: String,
    #[serde(default)]
    size: Option<u64>,
}

#[derive(Deserialize)]
struct Member {
    #[serde(default)]
    nick: Option<String>,
    user: Option<User>,
}

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    global_name: Option<String>,
    #[serde(default)]
    username: String,
}

/// What an interaction asks.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// Type 1: answered with `{"type":1}`.
    Ping,
    /// `/reply text:… [file:…]` in a conversation's thread.
    Reply(Inbound),
    /// Anything else: answered with a short ephemeral note.
    Other,
}

/// Parses a verified interaction.
pub fn parse_interaction(raw: &[u8]) -> Option<Event> {
    let i: Interaction = serde_json::from_slice(raw).ok()?;
    if i.kind == 1 {
        return Some(Event::Ping);
    }
    let Some(data) = i.data.filter(|d| i.kind == 2 && d.name == "reply") else {
        return Some(Event::Other);
    };
    let text = data
        .options
        .iter()
        .find(|o| o.name == "text")
        .and_then(|o| o.value.as_str())
        .unwrap_or_default()
        .to_owned();
    let files = data
        .options
        .iter()
        .filter(|o| o.name == "file")
        .filter_map(|o| o.value.as_str())
        .filter_map(|id| data.resolved.as_ref()?.attachments.get(id))
        .map(|f| InboundFile {
            handle: f.url.clone(),
            name: Some(f.filename.clone()),
            size: f.size,
        })
        .collect();
    let (nick, user) = match i.member {
        Some(m) => (m.nick, m.user),
        None => (None, i.user),
    };
    let author = nick.or_else(|| {
        user.map(|u| u.global_name.unwrap_or(u.username))
            .filter(|n| !n.is_empty())
    });
    Some(Event::Reply(Inbound {
        thread_key: i.channel_id?,
        event_key: i.id,
        author,
        text,
        files,
    }))
}

/// The answer shown in the thread after a `/reply`: what was sent, to everyone there (no
/// mentions), or only to the agent (`ephemeral`) when nothing was sent.
pub fn answer(text: &str, ephemeral: bool) -> Value {
    let mut data = json!({ "content": crate::channels::api::clip(text, MAX_CONTENT), "allowed_mentions": { "parse": [] } });
    if ephemeral {
        data["flags"] = json!(64);
    }
    json!({ "type": 4, "data": data })
}

#[cfg(test)]
mod tests {
    use super::*;
    use beckon_shared::proto::v1::Role;
    use ed25519_dalek::{Signer, SigningKey};

    fn relay<'a>(body: &'a str, page: Option<&'a str>) -> Relay<'a> {
        Relay {
            site_name: "Shop_*",
            conversation_id: "c_3fa2c1d4e5",
            page_url: page,
            role: Role::Visitor,
            author: None,
            via: None,
            body,
            files: Vec::new(),
        }
    }

    #[test]
    fn visitor_text_cannot_format_or_link() {
        assert_eq!(
            escape("**hi** [x](https://evil) @everyone <@1>"),
            "\\*\\*hi\\*\\* \\[x\\](https\\://evil) @everyone \\<@1\\>"
        );
        let r = relay(
            "see [here](https://evil)",
            Some("https://shop.example/pricing"),
        );
        let first = content(&r, true, true);
        assert!(
            first.starts_with("New website chat on **Shop\\_\\***"),
            "{first}"
        );
        assert!(first.contains("<https://shop.example/pricing>"), "{first}");
        assert!(
            first.ends_with("**Visitor**: see \\[here\\](https\\://evil)"),
            "{first}"
        );
        let long = "*".repeat(5000);
        let r = relay(&long, None);
        assert!(content(&r, true, true).chars().count() <= MAX_CONTENT);
        assert_eq!(
            thread_name(&relay("x", Some("https://shop.example/p"))),
            "Website chat 3fa2c1 · shop.example/p"
        );
    }

    #[test]
    fn posts_open_or_follow_the_thread() {
        let p = post(
            "https://discord.com/api",
            ("111", "tok"),
            &Place::NewThread("T"),
            "hi",
        );
        assert_eq!(
            p.url,
            "https://discord.com/api/v10/webhooks/111/tok?wait=true"
        );
        let body: Value = serde_json::from_str(&p.body).unwrap();
        assert_eq!(body["thread_name"], "T");
        assert_eq!(body["allowed_mentions"]["parse"], json!([]));
        let p = post(
            "https://discord.com/api",
            ("111", "tok"),
            &Place::Thread("125"),
            "hi",
        );
        assert!(p.url.ends_with("?wait=true&thread_id=125"));
        assert!(!p.body.contains("thread_name"));
    }

    #[test]
    fn answers_are_classified() {
        let resp = |status: u16, body: &str| ApiResponse {
            status,
            retry_after: Some("3".into()),
            body: body.into(),
        };
        assert_eq!(
            parse_posted(
                &resp(200, r#"{"id":"9","channel_id":"125","content":"x"}"#),
                false
            ),
            Ok(("9".into(), "125".into()))
        );
        assert!(matches!(
            parse_posted(
                &resp(
                    429,
                    r#"{"message":"You are being rate limited.","retry_after":64.57,"global":false}"#
                ),
                true
            ),
            Err(Failure::Retry {
                after_ms: Some(64_570),
                ..
            })
        ));
        assert_eq!(
            parse_posted(
                &resp(404, r#"{"message":"Unknown Channel","code":10003}"#),
                true
            ),
            Err(Failure::ThreadGone)
        );
        assert!(matches!(
            parse_posted(
                &resp(401, r#"{"message":"Invalid Webhook Token","code":50027}"#),
                true
            ),
            Err(Failure::Permanent { .. })
        ));
        assert!(matches!(
            parse_posted(
                &resp(400, r#"{"message":"Invalid Form Body","code":50035}"#),
                true
            ),
            Err(Failure::Rejected { .. })
        ));
        assert!(matches!(
            parse_posted(&resp(502, ""), true),
            Err(Failure::Retry { .. })
        ));
    }

    #[test]
    fn interactions_verify_with_ed25519_and_parse() {
        let signing = SigningKey::from_bytes(&[7u8; 32]);
        let public = hex::encode(signing.verifying_key().to_bytes());
        let body = br#"{"type":2,"id":"i1","channel_id":"125","member":{"user":{"username":"ana","global_name":"Ana"}},
            "data":{"name":"reply","options":[{"name":"text","type":3,"value":"On its way"},{"name":"file","type":11,"value":"55"}],
            "resolved":{"attachments":{"55":{"url":"https://cdn.discordapp.com/a/q.pdf","filename":"q.pdf","size":120}}}}}"#;
        let sig = hex::encode(
            signing
                .sign(&[b"1700000000".as_slice(), body].concat())
                .to_bytes(),
        );
        let h = |s: &'static str| (Some(s), Some("1700000000"));
        assert_eq!(
            verify(
                &public,
                (Some(sig.as_str()), Some("1700000000")),
                body,
                1_700_000_100
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                &public,
                (Some(sig.as_str()), Some("1700000000")),
                body,
                1_700_000_400
            ),
            Err(Reject::Stale)
        );
        assert_eq!(
            verify(
                &public,
                (Some(sig.as_str()), Some("1700000000")),
                b"{}",
                1_700_000_000
            ),
            Err(Reject::BadSignature)
        );
        assert_eq!(
            verify(&public, h("zz"), body, 1_700_000_000),
            Err(Reject::BadSignature)
        );
        assert_eq!(
            verify(&public, (None, Some("1")), body, 1),
            Err(Reject::Missing)
        );
        let Some(Event::Reply(r)) = parse_interaction(body) else {
            panic!()
        };
        assert_eq!(
            (
                r.thread_key.as_str(),
                r.event_key.as_str(),
                r.author.as_deref(),
                r.text.as_str()
            ),
            ("125", "i1", Some("Ana"), "On its way")
        );
        assert_eq!(r.files[0].name.as_deref(), Some("q.pdf"));
        assert_eq!(parse_interaction(br#"{"type":1}"#), Some(Event::Ping));
        assert_eq!(
            parse_interaction(br#"{"type":2,"id":"i","data":{"name":"other"}}"#),
            Some(Event::Other)
        );
        assert_eq!(answer("x", true)["data"]["flags"], 64);
    }
}
