//! The Standard Webhooks 1.0 wire format, sans-IO (CHANNELS.md §6.2): event ids, payloads,
//! the signed request, how the endpoint's answer is classified, and the verification of a
//! reply the business's system posts back.

use crate::channels::{ApiRequest, ApiResponse, Failure, Inbound, InboundFile, Relay};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;

/// A delivery whose timestamp is further than this from now is refused (the reference
/// libraries' tolerance).
pub const TOLERANCE_SECS: i64 = 5 * 60;
/// Most `webhook-signature` entries looked at.
pub const MAX_SIGNATURES: usize = 10;
/// Longest message text an event carries (the spec asks for payloads under 20 KB).
pub const MAX_EVENT_TEXT: usize = 8_000;

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    format!("v1,{sig}")
}

/// The signed `POST` of `body` as event `id` at `timestamp`, one signature per key (two
/// while a secret is being rotated), space-separated.
pub fn request(url: &str, keys: &[Vec<u8>], id: &str, timestamp: i64, body: String) -> ApiRequest {
    let signatures: Vec<String> = keys
        .iter()
        .map(|k| sign(k, id, timestamp, body.as_bytes()))
        .collect();
    ApiRequest {
        method: "POST",
        url: url.to_owned(),
        headers: vec![
            ("content-type", "application/json".to_owned()),
            ("user-agent", "Beckon-Webhooks/1".to_owned()),
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signatures.join(" ")),
        ],
        body,
        file: None,
    }
}

/// The endpoint's answer: 2xx delivered; 410 the endpoint is gone (the channel fails until
/// it is changed); 408, 409, 425, 429 and 5xx retried (after `Retry-After` if given); any
/// other 4xx is a misconfigured endpoint (wrong URL, rejected signature): retried with
/// backoff and the channel reported failing.
pub fn classify(resp: &ApiResponse) -> Result<(), Failure> {
    let status = resp.status;
    let detail = || {
        let body: String = resp.body.chars().take(200).collect();
        match body.trim() {
            "" => format!("the endpoint answered HTTP {status}"),
            b => format!("the endpoint answered HTTP {status}: {b}"),
        }
    };
    match status {
        200..=299 => Ok(()),
        410 => Err(Failure::Permanent {
            reason: format!("{} (gone: change or remove the endpoint)", detail()),
        }),
        408 | 409 | 425 | 429 | 500..=599 => Err(Failure::Retry {
            after_ms: resp
                .retry_after
                .as_deref()
                .and_then(crate::channels::api::parse_retry_after),
            reason: detail(),
        }),
        _ => Err(Failure::Permanent { reason: detail() }),
    }
}

/// A short fingerprint of an endpoint URL: conversations and logged events belong to the
/// endpoint they were sent to, so a new URL neither answers nor replays the old one's.
pub fn endpoint_id(url: &str) -> String {
    use sha2::Digest;
    hex::encode(&Sha256::digest(url.as_bytes())[..8])
}

/// The event id of a message (stable across retries and replays: consumers dedupe on it).
pub fn message_event_id(message_id: &str) -> String {
    format!("evt_{message_id}")
}

/// The event id of a conversation's start.
pub fn started_event_id(conversation_id: &str) -> String {
    format!("evt_{conversation_id}_started")
}

fn envelope(kind: &str, at_ms: i64, data: Value) -> String {
    json!({
        "type": kind,
        "timestamp": beckon_shared::rules::tz::iso8601(at_ms),
        "data": data,
    })
    .to_string()
}

/// `conversation.started`: the first event of a conversation this endpoint gets.
pub fn started(site: &str, relay: &Relay<'_>, at_ms: i64) -> String {
    envelope(
        "conversation.started",
        at_ms,
        json!({
            "site": site,
            "conversation_id": relay.conversation_id,
            "page_url": relay.page_url,
        }),
    )
}

/// `message.created`: one message of a conversation, its files as signed links.
pub fn message_created(site: &str, relay: &Relay<'_>, seq: u64, at_ms: i64) -> String {
    let files: Vec<Value> = relay
        .files
        .iter()
        .map(|f| {
            let a = f.attachment;
            json!({
                "id": a.id.as_str(),
                "name": a.name,
                "kind": a.kind.as_str(),
                "content_type": a.mime,
                "size": a.size,
                "width": a.width,
                "height": a.height,
                "url": f.link,
            })
        })
        .collect();
    envelope(
        "message.created",
        at_ms,
        json!({
            "site": site,
            "conversation_id": relay.conversation_id,
            "seq": seq,
            "role": relay.role.as_str(),
            "author": relay.author,
            "via": relay.via,
            "text": crate::channels::api::clip(relay.body, MAX_EVENT_TEXT),
            "attachments": files,
        }),
    )
}

/// A site event (`contact.*`, `broadcast.*`): its data with the site named.
pub fn site_event(site: &str, event: &crate::channels::SiteEvent) -> String {
    let mut data = event.data.clone();
    if let Some(map) = data.as_object_mut() {
        map.insert("site".into(), json!(site));
    }
    envelope(&event.kind, event.at, data)
}

/// `test`: the channel's test notice.
pub fn test_event(site: &str, text: &str, at_ms: i64) -> String {
    envelope("test", at_ms, json!({ "site": site, "text": text }))
}

/// Why an inbound request was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Reject {
    Missing,
    Stale,
    BadSignature,
}

/// Verifies a request signed by the business's system with the same secrets: one of the
/// `v1,` signatures in `webhook-signature` matches (in constant time) and `webhook-timestamp`
/// is within [`TOLERANCE_SECS`] of `now_secs`.
pub fn verify(
    keys: &[Vec<u8>],
    (id, timestamp, signatures): (Option<&str>, Option<&str>, Option<&str>),
    raw: &[u8],
    now_secs: i64,
) -> Result<(), Reject> {
    let (Some(id), Some(ts), Some(signatures)) = (id, timestamp, signatures) else {
        return Err(Reject::Missing);
    };
    let ts_num = ts.trim().parse::<i64>().map_err(|_| Reject::Missing)?;
    if (now_secs - ts_num).abs() > TOLERANCE_SECS {
        return Err(Reject::Stale);
    }
    // One MAC per key (over the raw body once), compared with each of at most
    // `MAX_SIGNATURES` entries: a header of thousands of entries costs nothing extra.
    let b64 = base64::engine::general_purpose::STANDARD;
    let expected: Vec<Vec<u8>> = signatures
        .split(' ')
        .take(MAX_SIGNATURES)
        .filter_map(|sig| sig.strip_prefix("v1,"))
        .filter_map(|s| b64.decode(s).ok())
        .collect();
    for key in keys {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(format!("{id}.{ts_num}.").as_bytes());
        mac.update(raw);
        let ours = mac.finalize().into_bytes();
        if expected
            .iter()
            .any(|e| bool::from(subtle::ConstantTimeEq::ct_eq(ours.as_slice(), e.as_slice())))
        {
            return Ok(());
        }
    }
    Err(Reject::BadSignature)
}

#[derive(Deserialize)]
struct Posted {
    #[serde(rename = "type")]
    kind: String,
    data: Option<PostedMessage>,
}

#[derive(Deserialize)]
struct PostedMessage {
    conversation_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    attachments: Vec<PostedFile>,
}

#[derive(Deserialize)]
struct PostedFile {
    url: String,
    #[serde(default)]
    name: Option<String>,
}

/// Most files one posted message may carry.
pub const MAX_POSTED_FILES: usize = 10;

/// What the business's system posted.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// `message.create`: a reply into a conversation this endpoint was told about.
    Reply(Inbound),
    /// Any other type: acknowledged, nothing done.
    Ignored,
}

/// Parses a verified request: `{"type":"message.create","data":{"conversation_id",
/// "text", "author"?, "attachments"?: [{"url", "name"?}]}}`. `id` is its `webhook-id`.
pub fn parse(raw: &[u8], id: &str) -> Result<Event, String> {
    let posted: Posted = serde_json::from_slice(raw).map_err(|e| format!("not an event: {e}"))?;
    if posted.kind != "message.create" {
        return Ok(Event::Ignored);
    }
    let m = posted
        .data
        .ok_or("message.create needs data.conversation_id and data.text")?;
    if m.attachments.len() > MAX_POSTED_FILES {
        return Err(format!("at most {MAX_POSTED_FILES} attachments"));
    }
    if m.text.trim().is_empty() && m.attachments.is_empty() {
        return Err("data.text or data.attachments is required".into());
    }
    let files = m
        .attachments
        .into_iter()
        .map(|f| {
            if f.url.starts_with("https://") || f.url.starts_with("http://") {
                Ok(InboundFile {
                    handle: f.url,
                    name: f.name,
                    size: None,
                })
            } else {
                Err("every attachment needs an http(s) url".to_owned())
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(Event::Reply(Inbound {
        thread_key: m.conversation_id,
        event_key: id.to_owned(),
        author: m.author.filter(|a| !a.trim().is_empty()),
        text: m.text,
        files,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use beckon_shared::proto::v1::webhook_secret_key as secret_key;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn the_specifications_test_vector() {
        // CHANNELS.md Appendix A (the official libraries' test).
        let key = secret_key(SECRET).unwrap();
        let sig = sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let headers = |sig: &'static str| {
            (
                Some("msg_p5jXN8AQM9LWM0D4loKWxJek"),
                Some("1614265330"),
                Some(sig),
            )
        };
        let raw = br#"{"test": 2432232314}"#;
        let keys = [key];
        assert_eq!(
            verify(
                &keys,
                headers("v1,bm90IGl0 v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
                raw,
                1614265330 + 299
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                &keys,
                headers("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
                raw,
                1614265330 + 301
            ),
            Err(Reject::Stale)
        );
        assert_eq!(
            verify(
                &keys,
                headers("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
                b"{}",
                1614265330
            ),
            Err(Reject::BadSignature)
        );
        assert_eq!(
            verify(
                &keys,
                headers("v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
                raw,
                1614265330
            ),
            Err(Reject::BadSignature)
        );
        assert_eq!(
            verify(&keys, (None, Some("1"), Some("v1,x")), raw, 1),
            Err(Reject::Missing)
        );
    }

    #[test]
    fn requests_carry_one_signature_per_key() {
        let keys = [vec![1u8; 24], vec![2u8; 32]];
        let r = request(
            "https://crm.example/h",
            &keys,
            "evt_1",
            1_700_000_000,
            "{}".into(),
        );
        let header = |n: &str| r.headers.iter().find(|h| h.0 == n).unwrap().1.clone();
        assert_eq!(header("webhook-id"), "evt_1");
        assert_eq!(header("webhook-timestamp"), "1700000000");
        let sigs: Vec<String> = header("webhook-signature")
            .split(' ')
            .map(str::to_owned)
            .collect();
        assert_eq!(sigs.len(), 2);
        assert_eq!(sigs[0], sign(&keys[0], "evt_1", 1_700_000_000, b"{}"));
        assert_eq!(sigs[1], sign(&keys[1], "evt_1", 1_700_000_000, b"{}"));
    }

    #[test]
    fn answers_are_classified() {
        let resp = |status: u16, retry_after: Option<&str>| ApiResponse {
            status,
            retry_after: retry_after.map(str::to_owned),
            body: String::new(),
        };
        assert_eq!(classify(&resp(204, None)), Ok(()));
        assert!(matches!(
            classify(&resp(429, Some("7"))),
            Err(Failure::Retry {
                after_ms: Some(7000),
                ..
            })
        ));
        assert!(matches!(
            classify(&resp(503, None)),
            Err(Failure::Retry { after_ms: None, .. })
        ));
        assert!(matches!(
            classify(&resp(410, None)),
            Err(Failure::Permanent { .. })
        ));
        assert!(matches!(
            classify(&resp(401, None)),
            Err(Failure::Permanent { .. })
        ));
    }

    #[test]
    fn posted_replies_are_parsed() {
        let raw = br#"{"type":"message.create","data":{"conversation_id":"c_1","text":"Hi","author":"CRM",
            "attachments":[{"url":"https://crm.example/q.pdf","name":"q.pdf"}]}}"#;
        let Ok(Event::Reply(r)) = parse(raw, "evt_9") else {
            panic!()
        };
        assert_eq!(
            (r.thread_key.as_str(), r.event_key.as_str()),
            ("c_1", "evt_9")
        );
        assert_eq!(r.author.as_deref(), Some("CRM"));
        assert_eq!(r.files[0].handle, "https://crm.example/q.pdf");
        assert_eq!(parse(br#"{"type":"ping"}"#, "e"), Ok(Event::Ignored));
        assert!(parse(
            br#"{"type":"message.create","data":{"conversation_id":"c","text":" "}}"#,
            "e"
        )
        .is_err());
        assert!(parse(br#"{"type":"message.create","data":{"conversation_id":"c","text":"x","attachments":[{"url":"file:///etc/passwd"}]}}"#, "e").is_err());
        assert!(parse(b"nope", "e").is_err());
    }
}
