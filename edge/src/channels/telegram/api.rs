//! Telegram Bot API (CHANNELS.md §2): one forum topic per conversation in the business's
//! supergroup (`createForumTopic`, then `sendMessage` with `message_thread_id`); inbound agent
//! messages arrive as webhook updates authenticated by `X-Telegram-Bot-Api-Secret-Token`.
//! Thread key: `<chat_id>:<message_thread_id>`. People who write to the bot in a private chat
//! (`/start`) become contacts the business may write to there (CHANNELS.md §2.1: a bot can
//! message only users who started it). Updates are parsed in `update.rs`.

use crate::channels::api::{clip, ApiRequest, ApiResponse, Failure, Relay, MAX_QUOTED_URL};
use beckon_shared::rules::{CtaAction, CtaButton};
use serde::Deserialize;
use serde_json::json;

/// Topic icon colour (one of the six Telegram allows).
const ICON_COLOR: i64 = 7322096;

/// How a conversation's topic is known for routing: `<chat_id>:<message_thread_id>` (the
/// outbox maps it when it opens the topic; the webhook looks replies up by it).
pub fn thread_key(chat_id: i64, thread_id: i64) -> String {
    format!("{chat_id}:{thread_id}")
}

pub(super) fn url(api_base: &str, token: &str, method: &str) -> String {
    format!("{api_base}/bot{token}/{method}")
}

/// Escapes text for `parse_mode: HTML` (visitor text must never become markup).
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `createForumTopic`: "Visitor 3fa2c1 · shop.example/pricing" (≤ 128 characters).
pub fn create_topic(api_base: &str, token: &str, chat_id: i64, relay: &Relay) -> ApiRequest {
    let place = relay
        .page_url
        .map(|u| {
            u.split_once("://")
                .map_or(u, |(_, rest)| rest)
                .trim_end_matches('/')
        })
        .filter(|p| !p.is_empty());
    let mut name = match place {
        Some(p) => format!("Visitor {} · {p}", relay.short_id()),
        None => format!("Visitor {}", relay.short_id()),
    };
    if name.chars().count() > 128 {
        name = name.chars().take(127).collect::<String>() + "…";
    }
    ApiRequest::json(
        url(api_base, token, "createForumTopic"),
        None,
        &json!({"chat_id": chat_id, "name": name, "icon_color": ICON_COLOR}),
    )
}

/// Telegram's limit on a message's text, counted after entity parsing (markup excluded).
pub const MAX_TEXT_CHARS: usize = 4096;

/// What goes before a relay's body, as HTML, and how many characters of it are visible: on
/// the first message of a conversation the site and the page, then "**Speaker**: ".
pub fn topic_head(relay: &Relay, first: bool) -> (String, usize) {
    let speaker = relay.speaker();
    let mut head = String::new();
    let mut chars = 0;
    if first {
        let url = relay.page_url.map(|u| clip(u, MAX_QUOTED_URL));
        head = format!("New chat on <b>{}</b>", escape_html(relay.site_name));
        chars = "New chat on ".len() + relay.site_name.chars().count() + 2;
        if let Some(url) = url {
            head.push_str(&format!("\nPage: {}", escape_html(&url)));
            chars += "\nPage: ".len() + url.chars().count();
        }
        head.push_str("\n\n");
    }
    head.push_str(&format!("<b>{}</b>: ", escape_html(&speaker)));
    (head, chars + speaker.chars().count() + 2)
}

/// `sendMessage` (HTML) into a conversation's topic, or — without a thread — into a
/// contact's private chat.
pub fn send_message(
    api_base: &str,
    token: &str,
    chat_id: i64,
    thread_id: Option<i64>,
    text: &str,
) -> ApiRequest {
    send_message_with(api_base, token, (chat_id, thread_id), text, None)
}

/// `sendMessage` with an inline keyboard under it (a broadcast's buttons), if given.
pub fn send_message_with(
    api_base: &str,
    token: &str,
    (chat_id, thread_id): (i64, Option<i64>),
    text: &str,
    markup: Option<&serde_json::Value>,
) -> ApiRequest {
    let mut body = json!({"chat_id": chat_id, "text": text, "parse_mode": "HTML",
                          "link_preview_options": {"is_disabled": true}});
    if let Some(thread) = thread_id {
        body["message_thread_id"] = thread.into();
    }
    if let Some(m) = markup {
        body["reply_markup"] = m.clone();
    }
    ApiRequest::json(url(api_base, token, "sendMessage"), None, &body)
}

/// A broadcast's buttons as an inline keyboard, one per row: a link opens its URL; a reply
/// button comes back as a callback query whose `callback_data` (`r:<n>`) the webhook finds
/// on the pressed message's own keyboard.
pub fn keyboard(buttons: &[CtaButton]) -> Option<serde_json::Value> {
    let rows: Vec<serde_json::Value> = buttons
        .iter()
        .enumerate()
        .filter_map(|(i, b)| match &b.action {
            CtaAction::Link { url } => Some(json!([{"text": b.label, "url": url}])),
            CtaAction::Reply => Some(json!([{"text": b.label, "callback_data": format!("r:{i}")}])),
            CtaAction::Open => None,
        })
        .collect();
    (!rows.is_empty()).then(|| json!({ "inline_keyboard": rows }))
}

/// `answerCallbackQuery`: the pressed button stops spinning in the person's app.
pub fn answer_callback(api_base: &str, token: &str, id: &str) -> ApiRequest {
    ApiRequest::json(
        url(api_base, token, "answerCallbackQuery"),
        None,
        &json!({ "callback_query_id": id }),
    )
}

/// The bot's answer when someone starts it: who they reached, and that both sides can write.
pub fn welcome_text(site_name: &str) -> String {
    format!(
        "Hi! You are connected to <b>{}</b>. Write here any time; we answer in this chat.",
        escape_html(site_name)
    )
}

/// "**Maya (Acme)**: " as HTML, and its visible length.
pub fn contact_head(site_name: &str, author: Option<&str>) -> (String, usize) {
    let speaker = match author {
        Some(a) => format!("{a} ({site_name})"),
        None => site_name.to_owned(),
    };
    let chars = speaker.chars().count() + 2;
    (format!("<b>{}</b>: ", escape_html(&speaker)), chars)
}

/// `sendMessage` to the group's General topic (the "send test message" action).
pub fn send_test(api_base: &str, token: &str, chat_id: i64, text: &str) -> ApiRequest {
    ApiRequest::json(
        url(api_base, token, "sendMessage"),
        None,
        &json!({"chat_id": chat_id, "text": text}),
    )
}

#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    #[serde(default)]
    result: serde_json::Value,
    #[serde(default)]
    error_code: Option<u16>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    #[serde(default)]
    retry_after: Option<u64>,
}

pub(super) fn result(resp: &ApiResponse) -> Result<serde_json::Value, Failure> {
    let Ok(env) = serde_json::from_str::<Envelope>(&resp.body) else {
        return Err(Failure::from_status(
            resp.status,
            resp.retry_after.as_deref(),
            "telegram",
        ));
    };
    if env.ok {
        return Ok(env.result);
    }
    let code = env.error_code.unwrap_or(resp.status);
    let description = env.description.unwrap_or_default();
    let reason = format!("telegram {code}: {description}");
    Err(match code {
        429 => Failure::Retry {
            after_ms: env.parameters.and_then(|p| p.retry_after).map(|s| s * 1000),
            reason,
        },
        500..=599 => Failure::Retry {
            after_ms: None,
            reason,
        },
        400 if description.contains("message is too long")
            || description.contains("can't parse entities")
            || description.contains("text must be non-empty") =>
        {
            Failure::Rejected { reason }
        }
        // A file Telegram will not take (too big, bad dimensions, a type it cannot process).
        413 => Failure::Rejected { reason },
        400 if ["file", "PHOTO_", "VIDEO_", "IMAGE_", "DOCUMENT_"]
            .iter()
            .any(|w| description.contains(w)) =>
        {
            Failure::Rejected { reason }
        }
        400 if description.contains("thread not found")
            || description.contains("TOPIC_DELETED")
            || description.contains("TOPIC_CLOSED") =>
        {
            Failure::ThreadGone
        }
        _ => Failure::Permanent { reason },
    })
}

/// `createForumTopic`'s answer → the new topic's `message_thread_id`.
pub fn parse_topic(resp: &ApiResponse) -> Result<i64, Failure> {
    result(resp)?["message_thread_id"]
        .as_i64()
        .ok_or(Failure::Permanent {
            reason: "telegram: no message_thread_id".into(),
        })
}

/// `sendMessage`'s answer → the message id.
pub fn parse_sent(resp: &ApiResponse) -> Result<String, Failure> {
    let r = result(resp)?;
    r["message_id"]
        .as_i64()
        .map(|id| id.to_string())
        .ok_or(Failure::Permanent {
            reason: "telegram: no message_id".into(),
        })
}

/// `sendMessage`'s answer for a contact's private chat. A contact who blocked the bot, deleted
/// their account or never started it fails that message only (`Rejected`): it says nothing
/// about the site's channel, which stays healthy.
pub fn parse_sent_to_contact(resp: &ApiResponse) -> Result<String, Failure> {
    match parse_sent(resp) {
        Err(Failure::Permanent { reason })
            if resp.status == 403 || reason.contains("chat not found") =>
        {
            Err(Failure::Rejected { reason })
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use beckon_shared::proto::v1::Role;

    fn relay<'a>(body: &'a str, role: Role) -> Relay<'a> {
        Relay {
            site_name: "Acme & Co",
            conversation_id: "c_3fa2c1aaaaaaaaaaaaaaaaaaaaaaaaaa",
            page_url: Some("https://example.com/pricing"),
            role,
            author: Some("Ana"),
            via: Some("slack"),
            body,
            files: vec![],
        }
    }

    #[test]
    fn builds_topic_and_message_requests() {
        let r = create_topic(
            "https://api.telegram.org",
            "123:ABC",
            -1001234567890,
            &relay("x", Role::Visitor),
        );
        assert_eq!(
            r.url,
            "https://api.telegram.org/bot123:ABC/createForumTopic"
        );
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["name"], "Visitor 3fa2c1 · example.com/pricing");
        assert_eq!(body["chat_id"], -1001234567890i64);
        let text = message_text(&relay("<b>hi</b> & bye", Role::Visitor), true);
        assert_eq!(text, "New chat on <b>Acme &amp; Co</b>\nPage: https://example.com/pricing\n\n<b>Visitor</b>: &lt;b&gt;hi&lt;/b&gt; &amp; bye");
        assert_eq!(
            message_text(&relay("ok", Role::Agent), false),
            "<b>Ana (via slack)</b>: ok"
        );
        let s = send_message("http://127.0.0.1:9", "t", -100, Some(163), "hi");
        let body: serde_json::Value = serde_json::from_str(&s.body).unwrap();
        assert_eq!(
            (
                body["message_thread_id"].as_i64(),
                body["parse_mode"].as_str()
            ),
            (Some(163), Some("HTML"))
        );
        // A contact's private chat: no thread.
        let s = send_message("http://127.0.0.1:9", "t", 5550001, None, "hi");
        let body: serde_json::Value = serde_json::from_str(&s.body).unwrap();
        assert_eq!(
            (body["chat_id"].as_i64(), body.get("message_thread_id")),
            (Some(5550001), None)
        );
        assert_eq!(
            contact_text("Acme & Co", Some("Maya"), "<i>your order</i>"),
            "<b>Maya (Acme &amp; Co)</b>: &lt;i&gt;your order&lt;/i&gt;"
        );
        let long = visible(&contact_text("Acme", None, &"x".repeat(5000)));
        assert_eq!(long.chars().count(), MAX_TEXT_CHARS);
    }

    fn resp(status: u16, body: &str) -> ApiResponse {
        ApiResponse {
            status,
            retry_after: None,
            body: body.into(),
        }
    }

    use crate::channels::telegram::media::{plan, Send, Step};

    /// The one text message a relay of `relay` without files is.
    fn message_text(relay: &Relay, first: bool) -> String {
        let (head, chars) = topic_head(relay, first);
        text_of(plan((&head, chars), relay.body, &[]))
    }

    /// The one text message the business's `body` is in a contact's chat.
    fn contact_text(site_name: &str, author: Option<&str>, body: &str) -> String {
        let (head, chars) = contact_head(site_name, author);
        text_of(plan((&head, chars), body, &[]))
    }

    fn text_of(steps: Vec<Step>) -> String {
        match steps.as_slice() {
            [Step {
                send: Send::Text(t),
                ..
            }] => t.clone(),
            _ => panic!("one text message"),
        }
    }

    /// The text a Telegram user sees: markup removed, entities decoded.
    fn visible(html: &str) -> String {
        html.replace("<b>", "")
            .replace("</b>", "")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    }

    #[test]
    fn longest_relays_fit_telegrams_limit() {
        let body = "<&>".repeat(1400).chars().take(4000).collect::<String>();
        let url = format!("https://example.com/{}", "p".repeat(2000));
        let mut r = relay(&body, Role::Visitor);
        r.page_url = Some(&url);
        for first in [true, false] {
            let shown = visible(&message_text(&r, first));
            assert!(shown.chars().count() <= MAX_TEXT_CHARS, "{first}");
            // Only the first relay (with its header) needs cutting; the cut shows.
            assert_eq!(shown.ends_with('…'), first);
        }
        let short = visible(&message_text(&relay("hi", Role::Visitor), true));
        assert!(short.ends_with("Visitor: hi"), "{short}");
        assert_eq!(
            parse_sent(&resp(
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}"#
            )),
            Err(Failure::Rejected {
                reason: "telegram 400: Bad Request: message is too long".into()
            })
        );
    }

    #[test]
    fn classifies_answers() {
        assert_eq!(
            parse_topic(&resp(
                200,
                r#"{"ok":true,"result":{"message_thread_id":163,"name":"x","icon_color":7322096}}"#
            )),
            Ok(163)
        );
        assert_eq!(
            parse_sent(&resp(
                200,
                r#"{"ok":true,"result":{"message_id":171,"chat":{"id":-1}}}"#
            )),
            Ok("171".into())
        );
        assert_eq!(
            parse_sent(&resp(
                429,
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}}"#
            )),
            Err(Failure::Retry {
                after_ms: Some(35_000),
                reason: "telegram 429: Too Many Requests: retry after 35".into()
            })
        );
        assert_eq!(
            parse_sent(&resp(
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: message thread not found"}"#
            )),
            Err(Failure::ThreadGone)
        );
        assert!(matches!(
            parse_sent(&resp(
                401,
                r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#
            )),
            Err(Failure::Permanent { .. })
        ));
        assert!(matches!(
            parse_sent(&resp(
                403,
                r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#
            )),
            Err(Failure::Permanent { .. })
        ));
        // The same answers for a contact's private chat fail only that message.
        for (status, description) in [
            (403, "Forbidden: bot was blocked by the user"),
            (
                403,
                "Forbidden: bot can't initiate conversation with a user",
            ),
            (400, "Bad Request: chat not found"),
        ] {
            let body =
                format!(r#"{{"ok":false,"error_code":{status},"description":"{description}"}}"#);
            assert!(
                matches!(
                    parse_sent_to_contact(&resp(status, &body)),
                    Err(Failure::Rejected { .. })
                ),
                "{description}"
            );
        }
        assert!(matches!(
            parse_sent_to_contact(&resp(
                401,
                r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#
            )),
            Err(Failure::Permanent { .. })
        ));
        assert!(matches!(
            parse_sent(&resp(502, "<html>bad gateway</html>")),
            Err(Failure::Retry { after_ms: None, .. })
        ));
    }
}
