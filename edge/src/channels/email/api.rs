//! Email, sans IO (CHANNELS.md §5): the relays as Resend `POST /emails` requests, their
//! answers classified, and the addresses that bring replies back — `reply+<conversation>.<tag>@`
//! the site's reply domain, and Message-IDs of the same shape for clients that answer by
//! `In-Reply-To` — where the tag is a MAC of the conversation under the instance's secret, so
//! neither can be forged or guessed.

use crate::channels::{ApiRequest, ApiResponse, Failure, Relay, RelayFile};
use beckon_shared::proto::v1::EmailSettings;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;

/// Files attached to one email at most (their total); larger ones go as links.
pub const MAX_ATTACHED_BYTES: u64 = 10 * 1024 * 1024;
/// Hex digits of the conversation's tag.
const TAG_LEN: usize = 16;

/// Whom a reply address or Message-ID was made for: the site's agents (at the support
/// addresses), or a contact at their own address (the tag is then bound to it: only mail from
/// that address answers with it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side<'a> {
    Agents,
    Contact(&'a str),
}

/// The tag that proves a reply address or Message-ID was made by this instance for
/// `conversation` and `side`.
pub fn tag(secret: &[u8], conversation: &str, side: Side) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"email-reply\n");
    mac.update(conversation.as_bytes());
    if let Side::Contact(address) = side {
        mac.update(b"\ncontact:");
        mac.update(address.to_ascii_lowercase().as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())[..TAG_LEN].to_owned()
}

/// Whether `tag` is `conversation`'s for `side` (constant time).
pub fn tag_matches(secret: &[u8], conversation: &str, side: Side, tag: &str) -> bool {
    crate::auth::ct_eq(
        self::tag(secret, conversation, side).as_bytes(),
        tag.as_bytes(),
    )
}

/// The address in a `From:` header value (`"Ana" <ana@example.com>` or a bare address),
/// lowercase.
pub fn header_address(value: &str) -> Option<String> {
    let inner = match (value.rfind('<'), value.rfind('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value,
    };
    beckon_shared::proto::v1::email_address(inner)
}

/// Where agents' replies go: `reply+<conversation>.<tag>@<domain>`.
pub fn reply_address(conversation: &str, tag: &str, domain: &str) -> String {
    format!("reply+{conversation}.{tag}@{domain}")
}

/// The Message-ID of a relay: the thread's root is `<conversation.tag@domain>`, each
/// message `<conversation.tag.message@domain>`.
pub fn message_id(conversation: &str, tag: &str, message: Option<&str>, domain: &str) -> String {
    match message {
        Some(m) => format!("<{conversation}.{tag}.{m}@{domain}>"),
        None => format!("<{conversation}.{tag}@{domain}>"),
    }
}

/// The (conversation, tag) a reply address or one of our Message-IDs names.
pub fn parse_reference(s: &str) -> Option<(String, String)> {
    let s = s.trim().trim_start_matches('<').trim_end_matches('>');
    let local = s.split('@').next()?;
    let local = local.strip_prefix("reply+").unwrap_or(local);
    let mut parts = local.split('.');
    let (conversation, tag) = (parts.next()?, parts.next()?);
    let ok = conversation.starts_with("c_")
        && tag.len() == TAG_LEN
        && tag.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| (conversation.to_owned(), tag.to_ascii_lowercase()))
}

/// One email: to the support addresses, or to a contact.
#[derive(Clone, Debug, PartialEq)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub reply_to: String,
    /// Message-ID, In-Reply-To, References and the loop guards.
    pub headers: Vec<(&'static str, String)>,
    /// (name, signed link) — the API fetches each.
    pub attachments: Vec<(String, String)>,
    /// Resend keeps it 24 hours: a retried send is delivered once.
    pub idempotency_key: String,
}

/// The sender: `"Name" <address>`.
pub fn sender(settings: &EmailSettings, site_name: &str) -> String {
    let name = settings.from_name.as_deref().unwrap_or(site_name);
    let name: String = name
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | '\\'))
        .take(80)
        .collect();
    format!("\"{name}\" <{}>", settings.from)
}

/// `POST {api_base}/emails` with the API key.
pub fn send(settings: &EmailSettings, api_key: &str, site_name: &str, mail: &Mail) -> ApiRequest {
    let headers: serde_json::Map<String, serde_json::Value> = mail
        .headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    let mut body = json!({
        "from": sender(settings, site_name),
        "to": mail.to,
        "subject": mail.subject,
        "text": mail.text,
        "reply_to": mail.reply_to,
        "headers": headers,
    });
    if !mail.attachments.is_empty() {
        body["attachments"] = mail
            .attachments
            .iter()
            .map(|(name, path)| json!({"filename": name, "path": path}))
            .collect();
    }
    let mut request = ApiRequest::json(
        format!("{}/emails", settings.api_base()),
        Some(api_key),
        &body,
    );
    request
        .headers
        .push(("idempotency-key", mail.idempotency_key.clone()));
    request
}

#[derive(Deserialize)]
struct Sent {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// The API's answer → the email's id.
pub fn parse_sent(resp: &ApiResponse) -> Result<String, Failure> {
    let sent: Option<Sent> = serde_json::from_str(&resp.body).ok();
    if (200..300).contains(&resp.status) {
        return sent.and_then(|s| s.id).ok_or(Failure::Permanent {
            reason: "email: no id in the answer".into(),
        });
    }
    let what = sent
        .map(|s| {
            format!(
                "{}: {}",
                s.name.unwrap_or_default(),
                s.message.unwrap_or_default()
            )
        })
        .unwrap_or_else(|| format!("HTTP {}", resp.status));
    let reason = format!("email {}: {what}", resp.status);
    let concurrent = resp.body.contains("concurrent_idempotent_requests");
    Err(match resp.status {
        409 if concurrent => Failure::Retry {
            after_ms: Some(1000),
            reason,
        },
        429 | 500..=599 => Failure::Retry {
            after_ms: resp
                .retry_after
                .as_deref()
                .and_then(crate::channels::api::parse_retry_after),
            reason,
        },
        // This email only: a field the API refused, an attachment it could not fetch, the
        // same key with another body (never sent twice).
        400 | 409 | 422 => Failure::Rejected { reason },
        _ => Failure::Permanent { reason },
    })
}

/// The subject of every email of a conversation (mail clients thread by it, too).
pub fn subject(relay: &Relay, first: bool) -> String {
    let base = format!("[Chat {}] {}", relay.short_id(), relay.site_name);
    match first {
        true => base,
        false => format!("Re: {base}"),
    }
}

/// The text of a relay: who wrote, what, and the files linked (those not attached); the
/// first names the page and says how to answer.
pub fn text(relay: &Relay, linked: &[RelayFile], first: bool) -> String {
    let mut out = format!("{}: {}", relay.speaker(), relay.body);
    for f in linked {
        out.push('\n');
        out.push_str(&f.line());
    }
    if first {
        if let Some(page) = relay.page_url {
            out.push_str(&format!("\n\nPage: {page}"));
        }
        out.push_str("\n\n—\nReply to this email to answer; your reply reaches the visitor.");
    }
    out
}

/// The subject of the emails a contact gets in a conversation.
pub fn contact_subject(site_name: &str, first: bool) -> String {
    let base = format!("Your conversation with {site_name}");
    match first {
        true => base,
        false => format!("Re: {base}"),
    }
}

/// The subject of a broadcast's email: the site and the message's first line (clipped).
pub fn broadcast_subject(site_name: &str, body: &str) -> String {
    let first = body.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    // One line, whatever the text holds (a stray CR, a tab): a subject is a header.
    let first: String = first
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clipped = crate::channels::api::clip(first.trim(), 70);
    match clipped.is_empty() {
        true => format!("News from {site_name}"),
        false => format!("{site_name}: {clipped}"),
    }
}

/// The footer of a broadcast's email: why they get it and the link that stops it.
pub fn unsubscribe_footer(site_name: &str, link: &str) -> String {
    format!("\n\nYou get this because you agreed to emails from {site_name}. Unsubscribe: {link}")
}

/// The text a contact gets: the message, its files linked (those not attached), who wrote
/// it, and how to answer.
pub fn contact_text(relay: &Relay, linked: &[RelayFile]) -> String {
    let mut out = relay.body.to_owned();
    for f in linked {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&f.line());
    }
    let signed = match relay.author {
        Some(name) => format!("{name}, {}", relay.site_name),
        None => relay.site_name.to_owned(),
    };
    out.push_str(&format!(
        "\n\n— {signed}\n\nReply to this email to answer; your reply reaches the same conversation."
    ));
    out
}

/// Files to attach as (name, signed link): the API fetches each.
pub fn by_link(files: &[RelayFile]) -> Vec<(String, String)> {
    files
        .iter()
        .filter_map(|f| Some((f.attachment.name.clone(), f.link.clone()?)))
        .collect()
}

/// Which files go attached (by link) and which as lines: attached while their total fits
/// [`MAX_ATTACHED_BYTES`] and they have a link.
pub fn split_files<'a>(files: &[RelayFile<'a>]) -> (Vec<RelayFile<'a>>, Vec<RelayFile<'a>>) {
    let mut total = 0;
    files.iter().cloned().partition(|f| {
        let fits = f.link.is_some() && total + f.attachment.size <= MAX_ATTACHED_BYTES;
        if fits {
            total += f.attachment.size;
        }
        fits
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret";

    #[test]
    fn reply_addresses_and_message_ids_round_trip_and_cannot_be_forged() {
        let conv = "c_d024f79954cd122150ab4fa64d2bf84a";
        let t = tag(SECRET, conv, Side::Agents);
        let address = reply_address(conv, &t, "inbound.shop.example");
        assert!(address.split('@').next().unwrap().len() <= 64, "{address}");
        assert_eq!(
            parse_reference(&address),
            Some((conv.to_owned(), t.clone()))
        );
        let id = message_id(conv, &t, Some("m_1"), "inbound.shop.example");
        assert_eq!(parse_reference(&id), Some((conv.to_owned(), t.clone())));
        assert!(tag_matches(SECRET, conv, Side::Agents, &t));
        assert!(!tag_matches(b"other", conv, Side::Agents, &t));
        assert!(!tag_matches(SECRET, "c_other", Side::Agents, &t));
        // A contact's tag is bound to their address (any case), and is not the agents'.
        let theirs = tag(SECRET, conv, Side::Contact("Ana@Example.com"));
        assert!(tag_matches(
            SECRET,
            conv,
            Side::Contact("ana@example.com"),
            &theirs
        ));
        assert!(!tag_matches(
            SECRET,
            conv,
            Side::Contact("eve@example.com"),
            &theirs
        ));
        assert!(!tag_matches(SECRET, conv, Side::Agents, &theirs));
        assert!(!tag_matches(
            SECRET,
            conv,
            Side::Contact("ana@example.com"),
            &t
        ));
        assert_eq!(parse_reference("support@shop.example"), None);
        assert_eq!(parse_reference("<CAGmail0001@mail.gmail.com>"), None);
    }

    #[test]
    fn a_broadcast_subject_is_one_clipped_line() {
        assert_eq!(
            broadcast_subject("Shop", "\n  Winter beans\r are in\nmore"),
            "Shop: Winter beans  are in"
        );
        assert_eq!(broadcast_subject("Shop", " "), "News from Shop");
        assert!(broadcast_subject("Shop", &"x".repeat(200)).chars().count() <= 80);
    }

    #[test]
    fn from_headers_give_their_address() {
        assert_eq!(
            header_address("\"Ana (Shop)\" <Ana@Example.com>").as_deref(),
            Some("ana@example.com")
        );
        assert_eq!(
            header_address(" ana@example.com ").as_deref(),
            Some("ana@example.com")
        );
        assert_eq!(header_address("Ana <not an address>"), None);
        assert_eq!(header_address(""), None);
    }

    fn answer(status: u16, body: &str) -> ApiResponse {
        ApiResponse {
            status,
            body: body.into(),
            retry_after: None,
        }
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(
            parse_sent(&answer(200, r#"{"id":"49a3"}"#)).unwrap(),
            "49a3"
        );
        assert!(matches!(
            parse_sent(&answer(
                429,
                r#"{"statusCode":429,"name":"rate_limit_exceeded","message":"slow"}"#
            )),
            Err(Failure::Retry { .. })
        ));
        assert!(matches!(
            parse_sent(&answer(
                401,
                r#"{"statusCode":401,"name":"validation_error","message":"API key is invalid"}"#
            )),
            Err(Failure::Permanent { .. })
        ));
        assert!(matches!(
            parse_sent(&answer(
                422,
                r#"{"statusCode":422,"name":"validation_error","message":"bad"}"#
            )),
            Err(Failure::Rejected { .. })
        ));
        assert!(matches!(
            parse_sent(&answer(502, "<html>")),
            Err(Failure::Retry { .. })
        ));
        assert!(matches!(
            parse_sent(&answer(
                409,
                r#"{"statusCode":409,"name":"concurrent_idempotent_requests","message":"x"}"#
            )),
            Err(Failure::Retry { .. })
        ));
        assert!(matches!(
            parse_sent(&answer(
                409,
                r#"{"statusCode":409,"name":"invalid_idempotent_request","message":"x"}"#
            )),
            Err(Failure::Rejected { .. })
        ));
    }

    #[test]
    fn the_sender_name_cannot_break_the_header() {
        let s = EmailSettings {
            to: vec!["support@shop.example".into()],
            from: "chat@notify.shop.example".into(),
            from_name: None,
            reply_domain: "inbound.shop.example".into(),
            api_base: None,
        };
        assert_eq!(
            sender(&s, "Shop \"Best\" <x>\r\nBcc: a@b"),
            "\"Shop Best xBcc: a@b\" <chat@notify.shop.example>"
        );
    }
}
