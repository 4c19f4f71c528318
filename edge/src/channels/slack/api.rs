//! Slack Web API and Events API (CHANNELS.md §3): a root message per conversation in the
//! business's channel, every relay as a reply in its thread (`thread_ts`); agent replies come
//! back as `message` events, signed with `v0` HMAC signatures inside a 5-minute window.
//! Thread key: `<channel>:<root ts>`.

use crate::channels::api::{ApiRequest, ApiResponse, Failure, Inbound, InboundFile, Relay};
use serde::Deserialize;
use serde_json::json;

/// Requests older or newer than this are replays (Slack's documented window).
pub const REPLAY_WINDOW_SECS: i64 = 300;

/// How a conversation's thread is known for routing: `<channel>:<root ts>` (the outbox maps it
/// when it posts the root; the webhook looks replies up by it).
pub fn thread_key(channel: &str, root_ts: &str) -> String {
    format!("{channel}:{root_ts}")
}

/// Escapes text for Slack's `mrkdwn`: `&`, `<`, `>` — so visitor text cannot become a link,
/// a mention (`<!channel>`) or formatting control.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn post_message(api_base: &str, token: &str, body: serde_json::Value) -> ApiRequest {
    ApiRequest::json(format!("{api_base}/chat.postMessage"), Some(token), &body)
}

/// The conversation's root message: site, page and a pointer to the thread.
pub fn post_root(api_base: &str, token: &str, channel: &str, relay: &Relay) -> ApiRequest {
    let mut text = format!(
        "New website chat on *{}* (visitor {})",
        escape(relay.site_name),
        relay.short_id()
    );
    if let Some(url) = relay.page_url {
        text.push_str(&format!("\nPage: {}", escape(url)));
    }
    text.push_str("\nReply in this thread to answer the visitor.");
    post_message(
        api_base,
        token,
        json!({"channel": channel, "text": text, "unfurl_links": false, "unfurl_media": false}),
    )
}

/// One relay, as a reply in the conversation's thread.
pub fn post_reply(
    api_base: &str,
    token: &str,
    channel: &str,
    thread_ts: &str,
    relay: &Relay,
) -> ApiRequest {
    // Slack takes 40,000 characters; a relay's body is at most a few thousand.
    let text = format!(
        "*{}*: {}",
        escape(&relay.speaker()),
        escape(&relay.text_within(usize::MAX))
    );
    post_message(
        api_base,
        token,
        json!({"channel": channel, "thread_ts": thread_ts, "text": text, "unfurl_links": false, "unfurl_media": false}),
    )
}

/// The "send test message" action.
pub fn post_test(api_base: &str, token: &str, channel: &str, text: &str) -> ApiRequest {
    post_message(
        api_base,
        token,
        json!({"channel": channel, "text": escape(text)}),
    )
}

/// A Web API answer's body when `ok`, else why not (HTTP 429 and Slack's error names
/// classified).
pub(super) fn answer(resp: &ApiResponse) -> Result<serde_json::Value, Failure> {
    let retry_after = || {
        resp.retry_after
            .as_deref()
            .and_then(crate::channels::api::parse_retry_after)
    };
    if resp.status == 429 {
        return Err(Failure::Retry {
            after_ms: retry_after(),
            reason: "slack: rate limited".into(),
        });
    }
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&resp.body) else {
        return Err(Failure::from_status(
            resp.status,
            resp.retry_after.as_deref(),
            "slack",
        ));
    };
    if v["ok"].as_bool() == Some(true) {
        return Ok(v);
    }
    let error = v["error"].as_str().unwrap_or("unknown_error").to_owned();
    Err(match error.as_str() {
        "ratelimited"
        | "rate_limited"
        | "internal_error"
        | "service_unavailable"
        | "fatal_error"
        | "request_timeout" => Failure::Retry {
            after_ms: retry_after(),
            reason: format!("slack: {error}"),
        },
        "msg_too_long"
        | "no_text"
        | "invalid_blocks"
        | "file_not_found"
        | "file_upload_size_exceeded" => Failure::Rejected {
            reason: format!("slack: {error}"),
        },
        _ => Failure::Permanent {
            reason: format!("slack: {error}"),
        },
    })
}

/// `chat.postMessage`'s answer → the message's `ts`.
pub fn parse_posted(resp: &ApiResponse) -> Result<String, Failure> {
    answer(resp)?["ts"]
        .as_str()
        .map(str::to_owned)
        .ok_or(Failure::Permanent {
            reason: "slack: answer without ts".into(),
        })
}

/// Why a signed request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    Missing,
    Stale,
    BadSignature,
}

/// Verifies `X-Slack-Signature` (`v0=` hex HMAC-SHA256 of `v0:<timestamp>:<raw body>`) and
/// the replay window, against `now_secs`.
pub fn verify(
    signing_secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    raw: &[u8],
    now_secs: i64,
) -> Result<(), Reject> {
    let (Some(ts), Some(sig)) = (timestamp, signature) else {
        return Err(Reject::Missing);
    };
    let Ok(ts_num) = ts.trim().parse::<i64>() else {
        return Err(Reject::Missing);
    };
    if (now_secs - ts_num).abs() > REPLAY_WINDOW_SECS {
        return Err(Reject::Stale);
    }
    let Some(hex) = sig.trim().strip_prefix("v0=") else {
        return Err(Reject::BadSignature);
    };
    if crate::channels::api::hmac_sha256_hex_matches(
        signing_secret.as_bytes(),
        &[b"v0:", ts.trim().as_bytes(), b":", raw],
        hex,
    ) {
        Ok(())
    } else {
        Err(Reject::BadSignature)
    }
}

/// What an Events API request asks of us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Answer with the challenge.
    UrlVerification { challenge: String },
    /// An agent's reply in a thread.
    Reply(Inbound),
    /// Anything else (bots, our own messages, edits, top-level messages): acknowledge only.
    Ignored,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    challenge: Option<String>,
    #[serde(default)]
    event_id: Option<String>,
    #[serde(default)]
    event: Option<MessageEvent>,
    #[serde(default)]
    authorizations: Vec<Authorization>,
}

#[derive(Deserialize)]
struct Authorization {
    #[serde(default)]
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct MessageEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    subtype: Option<String>,
    #[serde(default)]
    bot_id: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    ts: Option<String>,
    #[serde(default)]
    thread_ts: Option<String>,
    /// Files shared with the message (`subtype: file_share`).
    #[serde(default)]
    files: Vec<SlackFile>,
}

#[derive(Deserialize)]
struct SlackFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    url_private_download: Option<String>,
    #[serde(default)]
    url_private: Option<String>,
}

/// Undoes Slack's `&amp;`/`&lt;`/`&gt;` so the visitor sees what the agent typed.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub fn parse_event(raw: &[u8]) -> Option<Event> {
    let env: Envelope = serde_json::from_slice(raw).ok()?;
    match env.kind.as_str() {
        "url_verification" => Some(Event::UrlVerification {
            challenge: env.challenge?,
        }),
        "event_callback" => {
            let Some(e) = env.event else {
                return Some(Event::Ignored);
            };
            let ours = env
                .authorizations
                .iter()
                .filter_map(|a| a.user_id.as_deref())
                .collect::<Vec<_>>();
            let is_reply = e.thread_ts.is_some() && e.thread_ts != e.ts;
            // A message with files has subtype `file_share`; every other subtype is an edit,
            // a deletion, a bot or a broadcast copy.
            let plain = matches!(e.subtype.as_deref(), None | Some("file_share"));
            let from_a_person = plain
                && e.bot_id.is_none()
                && e.user.as_deref().is_some_and(|u| !ours.contains(&u));
            if e.kind != "message" || !is_reply || !from_a_person {
                return Some(Event::Ignored);
            }
            let files: Vec<InboundFile> = e
                .files
                .into_iter()
                .filter_map(|f| {
                    Some(InboundFile {
                        handle: f.url_private_download.or(f.url_private)?,
                        name: f.name,
                        size: f.size,
                    })
                })
                .collect();
            if e.text.as_deref().unwrap_or_default().is_empty() && files.is_empty() {
                return Some(Event::Ignored);
            }
            Some(Event::Reply(Inbound {
                thread_key: thread_key(&e.channel?, &e.thread_ts?),
                event_key: env.event_id?,
                author: None,
                text: unescape(e.text.as_deref().unwrap_or_default()),
                files,
            }))
        }
        _ => Some(Event::Ignored),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use beckon_shared::proto::v1::Role;

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn official_signature_vector_and_replay_window() {
        // CHANNELS.md Appendix A (Slack's documented example).
        assert_eq!(
            verify(
                SECRET,
                Some("1531420618"),
                Some(SIG),
                BODY.as_bytes(),
                1531420618 + 10
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                SECRET,
                Some("1531420618"),
                Some(SIG),
                BODY.as_bytes(),
                1531420618 + 301
            ),
            Err(Reject::Stale)
        );
        assert_eq!(
            verify(
                SECRET,
                Some("1531420618"),
                Some(SIG),
                BODY.as_bytes(),
                1531420618 - 301
            ),
            Err(Reject::Stale)
        );
        assert_eq!(
            verify(
                SECRET,
                Some("1531420618"),
                Some(SIG),
                b"tampered",
                1531420618
            ),
            Err(Reject::BadSignature)
        );
        assert_eq!(
            verify(
                "other",
                Some("1531420618"),
                Some(SIG),
                BODY.as_bytes(),
                1531420618
            ),
            Err(Reject::BadSignature)
        );
        assert_eq!(
            verify(SECRET, None, Some(SIG), BODY.as_bytes(), 1531420618),
            Err(Reject::Missing)
        );
        assert_eq!(
            verify(
                SECRET,
                Some("1531420618"),
                Some("a2114d"),
                BODY.as_bytes(),
                1531420618
            ),
            Err(Reject::BadSignature)
        );
    }

    #[test]
    fn builds_root_and_replies_with_escaped_text() {
        let relay = Relay {
            site_name: "Acme",
            conversation_id: "c_4821aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            page_url: Some("https://example.com/pricing"),
            role: Role::Visitor,
            author: None,
            via: None,
            body: "<!channel> look & <http://evil|click>",
            files: vec![],
        };
        let root = post_root("https://slack.com/api", "xoxb-1", "C123ABC456", &relay);
        assert_eq!(root.url, "https://slack.com/api/chat.postMessage");
        assert!(root
            .headers
            .contains(&("authorization", "Bearer xoxb-1".into())));
        let reply = post_reply(
            "https://slack.com/api",
            "xoxb-1",
            "C123ABC456",
            "1503435956.000247",
            &relay,
        );
        let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(body["thread_ts"], "1503435956.000247");
        assert_eq!(
            body["text"],
            "*Visitor*: &lt;!channel&gt; look &amp; &lt;http://evil|click&gt;"
        );
    }

    #[test]
    fn classifies_answers() {
        let ok = ApiResponse {
            status: 200,
            retry_after: None,
            body: r#"{"ok":true,"channel":"C123ABC456","ts":"1503435956.000247"}"#.into(),
        };
        assert_eq!(parse_posted(&ok), Ok("1503435956.000247".into()));
        let limited = ApiResponse {
            status: 429,
            retry_after: Some("30".into()),
            body: r#"{"ok":false,"error":"ratelimited"}"#.into(),
        };
        assert_eq!(
            parse_posted(&limited),
            Err(Failure::Retry {
                after_ms: Some(30_000),
                reason: "slack: rate limited".into()
            })
        );
        let not_in = ApiResponse {
            status: 200,
            retry_after: None,
            body: r#"{"ok":false,"error":"not_in_channel"}"#.into(),
        };
        assert_eq!(
            parse_posted(&not_in),
            Err(Failure::Permanent {
                reason: "slack: not_in_channel".into()
            })
        );
        let down = ApiResponse {
            status: 503,
            retry_after: None,
            body: "upstream".into(),
        };
        assert!(matches!(parse_posted(&down), Err(Failure::Retry { .. })));
    }

    #[test]
    fn parses_events() {
        assert_eq!(
            parse_event(br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#),
            Some(Event::UrlVerification { challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P".into() })
        );
        let reply = br#"{ "token": "XXYYZZ", "team_id": "T123ABC456", "api_app_id": "A123ABC456", "type": "event_callback",
          "event_id": "Ev123ABC456", "event_time": 1503436000,
          "authorizations": [ { "team_id": "T123ABC456", "user_id": "U0BOTUSER", "is_bot": true, "is_enterprise_install": false } ],
          "event": { "type": "message", "channel": "C123ABC456", "channel_type": "channel", "user": "U2222222", "text": "Yes &amp; we ship &lt;3",
                     "ts": "1503436000.000300", "thread_ts": "1503435956.000247", "parent_user_id": "U0BOTUSER",
                     "event_ts": "1503436000.000300", "client_msg_id": "5b3f" } }"#;
        assert_eq!(
            parse_event(reply),
            Some(Event::Reply(Inbound {
                thread_key: "C123ABC456:1503435956.000247".into(),
                event_key: "Ev123ABC456".into(),
                author: None,
                text: "Yes & we ship <3".into(),
                files: vec![],
            }))
        );
        let ours = String::from_utf8_lossy(reply)
            .replace(r#""user": "U2222222""#, r#""user": "U0BOTUSER""#);
        assert_eq!(parse_event(ours.as_bytes()), Some(Event::Ignored));
        let bot = String::from_utf8_lossy(reply).replace(
            r#""user": "U2222222","#,
            r#""user": "U2222222", "bot_id": "B19LU7CSY","#,
        );
        assert_eq!(parse_event(bot.as_bytes()), Some(Event::Ignored));
        let top_level =
            String::from_utf8_lossy(reply).replace(r#""thread_ts": "1503435956.000247", "#, "");
        assert_eq!(parse_event(top_level.as_bytes()), Some(Event::Ignored));
        let edit = String::from_utf8_lossy(reply).replace(
            r#""type": "message", "channel""#,
            r#""type": "message", "subtype": "message_changed", "channel""#,
        );
        assert_eq!(parse_event(edit.as_bytes()), Some(Event::Ignored));
    }
}
