//! What every channel adapter shares, sans-IO: the HTTP request an adapter builds, the answer
//! it classifies, why a call failed ([`Failure`]), the relay text's parts, and constant-time
//! signature checks. Nothing here performs I/O; the outbox and the webhook route execute.

use beckon_shared::proto::v1::{Attachment, Role};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// An HTTP request to a channel's API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    /// A stored file whose bytes follow `body` (a multipart upload, a raw upload).
    pub file: Option<FileSplice>,
}

/// A stored file spliced into a request body: `body`, then the object's bytes, then `tail`.
/// The transport streams it from R2 (a 50 MB video never sits in memory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSplice {
    /// The R2 object key.
    pub key: String,
    pub size: u64,
    pub tail: String,
}

impl ApiRequest {
    pub(crate) fn json(url: String, bearer: Option<&str>, body: &serde_json::Value) -> ApiRequest {
        let mut headers = vec![("content-type", "application/json; charset=utf-8".to_owned())];
        if let Some(t) = bearer {
            headers.push(("authorization", format!("Bearer {t}")));
        }
        ApiRequest {
            method: "POST",
            url,
            headers,
            body: body.to_string(),
            file: None,
        }
    }

    /// A form-encoded `POST` with a bearer token.
    pub(crate) fn form(url: String, bearer: &str, fields: &[(&str, &str)]) -> ApiRequest {
        let body = worker::url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        ApiRequest {
            method: "POST",
            url,
            headers: vec![
                (
                    "content-type",
                    "application/x-www-form-urlencoded".to_owned(),
                ),
                ("authorization", format!("Bearer {bearer}")),
            ],
            body,
            file: None,
        }
    }

    /// A `GET` of `url` (a file download), with a bearer token if given.
    pub(crate) fn get(url: String, bearer: Option<&str>) -> ApiRequest {
        ApiRequest {
            method: "GET",
            url,
            headers: bearer
                .map(|t| vec![("authorization", format!("Bearer {t}"))])
                .unwrap_or_default(),
            body: String::new(),
            file: None,
        }
    }
}

/// A channel API's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
    pub body: String,
}

/// Why a call to a channel did not succeed, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Transient (rate limit, server error, timeout): retry, no sooner than `after_ms` if the
    /// channel said so.
    Retry {
        after_ms: Option<u64>,
        reason: String,
    },
    /// Retrying the same request will not help (bad token, unknown chat, bot not in channel);
    /// the channel is reported failing until its settings are fixed.
    Permanent { reason: String },
    /// The channel refused this one message (too long, unparseable): it is marked failed and
    /// the next messages go on; the channel itself is fine.
    Rejected { reason: String },
    /// The conversation's thread is gone (Telegram topic deleted): create a new one.
    ThreadGone,
    /// WhatsApp: outside the 24-hour window — send the approved template instead.
    NeedsTemplate,
    /// An error of ours while sending (storage, D1): retried later; it says nothing about
    /// the channel's health.
    Internal { reason: String },
    /// The request went out and no whole answer came (a timeout, or an answer that broke
    /// off): retried like [`Failure::Retry`], except where a send must not repeat (it may
    /// have arrived).
    Unanswered { reason: String },
}

impl Failure {
    pub fn reason(&self) -> String {
        match self {
            Failure::Retry { reason, .. }
            | Failure::Permanent { reason }
            | Failure::Rejected { reason }
            | Failure::Internal { reason }
            | Failure::Unanswered { reason } => reason.clone(),
            Failure::ThreadGone => "thread not found".into(),
            Failure::NeedsTemplate => "outside the 24-hour window".into(),
        }
    }

    /// An error of ours (see [`Failure::Internal`]).
    pub fn internal(e: impl std::fmt::Display) -> Failure {
        Failure::Internal {
            reason: e.to_string(),
        }
    }

    /// A server error or anything unparseable: retry with backoff.
    pub(crate) fn from_status(status: u16, retry_after: Option<&str>, what: &str) -> Failure {
        Failure::Retry {
            after_ms: retry_after.and_then(parse_retry_after),
            reason: format!("{what}: HTTP {status}"),
        }
    }
}

/// `text` cut to at most `max` characters, ending in `…` when cut (channels count characters,
/// and a relay must never be refused for its length).
pub fn clip(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.chars().count() <= max {
        return text.into();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…").into()
}

/// Longest page URL quoted in a relay's header.
pub const MAX_QUOTED_URL: usize = 300;

/// `Retry-After` in seconds (the only form these APIs send) → milliseconds.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| (s * 1000.0).ceil() as u64)
}

/// What a relay says in a channel: one message of the conversation, with enough context for
/// the first one to open the thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relay<'a> {
    pub site_name: &'a str,
    pub conversation_id: &'a str,
    pub page_url: Option<&'a str>,
    pub role: Role,
    pub author: Option<&'a str>,
    /// Where an agent's message was written (`inbox`, `slack`, …).
    pub via: Option<&'a str>,
    pub body: &'a str,
    /// The message's files, each with a link for channels (or files) sent as text.
    pub files: Vec<RelayFile<'a>>,
}

/// A file of a relayed message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayFile<'a> {
    pub attachment: &'a Attachment,
    /// The R2 object holding its bytes.
    pub key: String,
    /// A signed download link valid for days (none if the edge's public origin is unknown).
    pub link: Option<String>,
}

impl RelayFile<'_> {
    /// One line naming the file for a text relay: "📎 quote.pdf (1.2 MB): <link>".
    pub fn line(&self) -> String {
        let a = self.attachment;
        let size = human_size(a.size);
        match &self.link {
            Some(link) => format!("📎 {} ({size}): {link}", a.name),
            None => format!("📎 {} ({size}, in the inbox)", a.name),
        }
    }
}

/// The host (with port, if any) of an `https://` or `http://` URL; `None` for anything else,
/// and for an authority with user info (`user@host`). A backslash ends the authority, as
/// fetch reads it.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    (!authority.is_empty() && !authority.contains('@')).then_some(authority)
}

/// `1.2 MB`, `340 KB`, `12 bytes`.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        0..=1023 => format!("{bytes} bytes"),
        1024..=1_048_575 => format!("{} KB", bytes.div_ceil(1024)),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

impl Relay<'_> {
    /// Who wrote it, for the relay line: "Visitor", or "Ana (via Slack)".
    pub fn speaker(&self) -> String {
        match self.role {
            Role::Visitor => "Visitor".into(),
            _ => {
                let name = self.author.unwrap_or("Agent");
                match self.via {
                    Some(via) => format!("{name} (via {via})"),
                    None => name.to_owned(),
                }
            }
        }
    }

    /// The message as text alone, at most `max` characters: its body (clipped if need be),
    /// then a line per file (for channels, or files, that cannot carry the file itself).
    pub fn text_within(&self, max: usize) -> String {
        let lines: Vec<String> = self.files.iter().map(RelayFile::line).collect();
        let reserved: usize = lines.iter().map(|l| l.chars().count() + 1).sum();
        let mut out = clip(self.body, max.saturating_sub(reserved)).into_owned();
        for line in lines {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&line);
        }
        out
    }

    /// A short handle for the conversation, used in thread titles.
    pub fn short_id(&self) -> &str {
        self.conversation_id
            .get(2..8)
            .unwrap_or(self.conversation_id)
    }
}

/// An agent's message that arrived from a channel, ready to route to its conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inbound {
    /// Identifies the conversation's thread in the channel (see each adapter).
    pub thread_key: String,
    /// The channel's id of this event, stable across redeliveries (the idempotency key).
    pub event_key: String,
    pub author: Option<String>,
    pub text: String,
    /// Files the message carries, as the channel names them (downloaded by its webhook).
    pub files: Vec<InboundFile>,
}

/// A file of an inbound message, before it is downloaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundFile {
    /// The channel's handle for it (Telegram `file_id`, a Slack download URL, a WhatsApp
    /// media id).
    pub handle: String,
    /// Its name, if the channel gives one (else one is made from its kind).
    pub name: Option<String>,
    /// Its size, if the channel says (checked against the limits before downloading).
    pub size: Option<u64>,
}

/// Constant-time check of a lowercase-hex HMAC-SHA256 over the concatenation of `parts`.
pub fn hmac_sha256_hex_matches(secret: &[u8], parts: &[&[u8]], expected_hex: &str) -> bool {
    let Ok(expected) = hex::decode(expected_hex.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.verify_slice(&expected).is_ok()
}

/// A client message id derived from a channel's event id, so that a redelivered webhook
/// stores its message once: `ch_<prefix>-<first 32 hex of sha256(event)>`, in the namespace
/// no client may use (`ClientMsgId::is_reserved`).
pub fn idempotency_key(prefix: &str, event: &str) -> beckon_shared::ClientMsgId {
    use sha2::Digest;
    let digest = hex::encode(Sha256::digest(event.as_bytes()));
    beckon_shared::ClientMsgId::parse(&format!(
        "{}{prefix}-{}",
        beckon_shared::ClientMsgId::CHANNEL_PREFIX,
        &digest[..32]
    ))
    .expect("hex key is a valid client id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_x_hub_signature_vector() {
        // CHANNELS.md Appendix A (GitHub's documented vector; same scheme as Meta).
        assert!(hmac_sha256_hex_matches(
            b"It's a Secret to Everybody",
            &[b"Hello, World!"],
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        ));
        assert!(!hmac_sha256_hex_matches(
            b"It's a Secret to Everybody",
            &[b"Hello, World?"],
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        ));
        assert!(!hmac_sha256_hex_matches(b"k", &[b"m"], "not hex"));
    }

    #[test]
    fn retry_after_and_keys() {
        assert_eq!(parse_retry_after("35"), Some(35_000));
        assert_eq!(parse_retry_after("0.5"), Some(500));
        assert_eq!(parse_retry_after("soon"), None);
        let a = idempotency_key("slack", "Ev123");
        assert_eq!(a, idempotency_key("slack", "Ev123"));
        assert_ne!(a, idempotency_key("slack", "Ev124"));
        assert!(a.is_reserved());
        assert!(a.as_str().starts_with("ch_slack-") && a.as_str().len() == 41);
    }
}
