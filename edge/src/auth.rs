//! Credentials, as pure functions over a secret (natively tested):
//! - **visitor tokens** `vt1.<site>.<visitor>.<mac>` — issued on a visitor's first
//!   interaction; they grant access to that visitor's conversations only;
//! - **WebSocket tickets** `wt1.<expires_ms>.<mac>` — minted for an authenticated admin so
//!   the inbox can open WebSockets (browsers cannot send `Authorization` on them);
//! - **admin API keys** — random `bk_…` strings, stored only as SHA-256 hex digests.
//!
//! MACs are HMAC-SHA256 with a per-purpose prefix and are checked in constant time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use beckon_shared::proto::v1::ErrorCode;
use beckon_shared::{AttachmentId, ConversationId, SiteKey, VisitorId};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// How long an inbox WebSocket ticket stays valid.
pub const TICKET_TTL_MS: i64 = 60_000;

/// What a valid visitor token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitorClaims {
    pub site: SiteKey,
    pub visitor: VisitorId,
}

fn mac(secret: &[u8], purpose: &str, payload: &str) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    m.update(purpose.as_bytes());
    m.update(b"\n");
    m.update(payload.as_bytes());
    m
}

fn sign(secret: &[u8], purpose: &str, payload: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(secret, purpose, payload).finalize().into_bytes())
}

fn verify(secret: &[u8], purpose: &str, payload: &str, tag_b64: &str) -> bool {
    match URL_SAFE_NO_PAD.decode(tag_b64) {
        Ok(tag) => mac(secret, purpose, payload).verify_slice(&tag).is_ok(),
        Err(_) => false,
    }
}

/// 16 bytes derived from `payload` under `secret` for `purpose`: an id that is the same every
/// time it is derived (so concurrent requests agree on it) and that nobody else can predict.
pub fn derive_id(secret: &[u8], purpose: &str, payload: &str) -> [u8; 16] {
    let tag = mac(secret, purpose, payload).finalize().into_bytes();
    let mut id = [0u8; 16];
    id.copy_from_slice(&tag[..16]);
    id
}

/// Issues the token for `visitor` on `site`.
pub fn visitor_token(secret: &[u8], site: &SiteKey, visitor: &VisitorId) -> String {
    let payload = format!("{site}.{visitor}");
    format!("vt1.{payload}.{}", sign(secret, "visitor", &payload))
}

/// Checks a visitor token; any defect (format, ids, signature) is `InvalidToken`.
pub fn verify_visitor_token(secret: &[u8], token: &str) -> Result<VisitorClaims, ErrorCode> {
    let mut parts = token.split('.');
    let (Some("vt1"), Some(site), Some(visitor), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(ErrorCode::InvalidToken);
    };
    let (Ok(site), Ok(visitor)) = (SiteKey::parse(site), VisitorId::parse(visitor)) else {
        return Err(ErrorCode::InvalidToken);
    };
    if !verify(secret, "visitor", &format!("{site}.{visitor}"), tag) {
        return Err(ErrorCode::InvalidToken);
    }
    Ok(VisitorClaims { site, visitor })
}

/// Mints an inbox WebSocket ticket valid until `now + TICKET_TTL_MS`.
pub fn ws_ticket(secret: &[u8], now: i64) -> (String, i64) {
    let expires = now + TICKET_TTL_MS;
    let payload = expires.to_string();
    (
        format!("wt1.{payload}.{}", sign(secret, "ws-ticket", &payload)),
        expires,
    )
}

/// Checks an inbox WebSocket ticket against the clock.
pub fn verify_ws_ticket(secret: &[u8], ticket: &str, now: i64) -> Result<(), ErrorCode> {
    let mut parts = ticket.split('.');
    let (Some("wt1"), Some(expires), Some(tag), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ErrorCode::InvalidToken);
    };
    let Ok(expires_ms) = expires.parse::<i64>() else {
        return Err(ErrorCode::InvalidToken);
    };
    if !verify(secret, "ws-ticket", expires, tag) || now > expires_ms {
        return Err(ErrorCode::InvalidToken);
    }
    Ok(())
}

/// A signed attachment URL is valid until the end of the window after the one it was signed
/// in (30–60 min): every read within a window gets the same URL, which browsers cache.
pub const ATTACHMENT_URL_WINDOW_MS: i64 = 30 * 60 * 1000;

/// What a signed attachment URL grants: one file of one conversation, served as `file_type`
/// under `name`, until `expires` (ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileGrant {
    pub conversation: ConversationId,
    pub attachment: AttachmentId,
    pub file_type: String,
    pub name: String,
    pub expires: i64,
}

impl FileGrant {
    fn payload(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}",
            self.conversation, self.attachment, self.file_type, self.name, self.expires
        )
    }

    /// The grant's query string (`t`, `n`, `e`, `s`), signed.
    pub fn query(&self, secret: &[u8]) -> String {
        format!(
            "t={}&n={}&e={}&s={}",
            self.file_type,
            URL_SAFE_NO_PAD.encode(self.name.as_bytes()),
            self.expires,
            sign(secret, "file", &self.payload())
        )
    }

    /// The grant of `attachment` of `conversation` until `expires`.
    pub fn for_file(
        conversation: &ConversationId,
        attachment: &beckon_shared::proto::v1::Attachment,
        expires: i64,
    ) -> FileGrant {
        FileGrant {
            conversation: conversation.clone(),
            attachment: attachment.id.clone(),
            file_type: attachment.kind.as_str().to_owned(),
            name: attachment.name.clone(),
            expires,
        }
    }

    /// The file's download path with this grant, signed (relative to the edge's origin).
    pub fn url(&self, secret: &[u8]) -> String {
        let path = beckon_shared::proto::v1::paths::fill(
            beckon_shared::proto::v1::paths::ATTACHMENT,
            &[self.conversation.as_str(), self.attachment.as_str()],
        );
        format!("{path}?{}", self.query(secret))
    }

    /// The expiry for a URL signed at `now`.
    pub fn expiry(now: i64) -> i64 {
        (now / ATTACHMENT_URL_WINDOW_MS + 2) * ATTACHMENT_URL_WINDOW_MS
    }

    /// Reads and checks a grant from a download's query: signed for this conversation and
    /// file, not expired.
    pub fn verify(
        secret: &[u8],
        conversation: &ConversationId,
        attachment: &AttachmentId,
        query: &std::collections::HashMap<String, String>,
        now: i64,
    ) -> Result<FileGrant, crate::error::Error> {
        use crate::error::Error;
        let invalid = || Error::new(ErrorCode::Forbidden, "this link is not valid for this file");
        let get = |k: &str| query.get(k).ok_or_else(invalid);
        let name = URL_SAFE_NO_PAD
            .decode(get("n")?)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(invalid)?;
        let grant = FileGrant {
            conversation: conversation.clone(),
            attachment: attachment.clone(),
            file_type: get("t")?.clone(),
            name,
            expires: get("e")?.parse().map_err(|_| invalid())?,
        };
        if !verify(secret, "file", &grant.payload(), get("s")?) {
            return Err(invalid());
        }
        if now > grant.expires {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "this link has expired: reload the conversation for a fresh one",
            ));
        }
        Ok(grant)
    }
}

/// A new admin API key from 32 random bytes.
pub fn new_admin_key(random: [u8; 32]) -> String {
    format!("bk_{}", URL_SAFE_NO_PAD.encode(random))
}

/// What is stored for an admin key: lowercase hex SHA-256.
pub fn hash_admin_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Constant-time equality of two byte strings (lengths are not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The credential in an `Authorization: Bearer …` header value.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let value = header?.trim();
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret";

    #[test]
    fn file_grants_bind_conversation_file_and_time() {
        let conv = ConversationId::from_random([1; 16]);
        let att = AttachmentId::from_random([2; 16]);
        let now = 1_800_000_000_000;
        let grant = FileGrant {
            conversation: conv.clone(),
            attachment: att.clone(),
            file_type: "png".into(),
            name: "écran 1.png".into(),
            expires: FileGrant::expiry(now),
        };
        assert!(grant.expires - now > ATTACHMENT_URL_WINDOW_MS);
        assert!(grant.expires - now <= 2 * ATTACHMENT_URL_WINDOW_MS);
        // Same window, same URL (cacheable).
        assert_eq!(FileGrant::expiry(now), FileGrant::expiry(now + 1));
        let q: std::collections::HashMap<String, String> = grant
            .query(SECRET)
            .split('&')
            .map(|kv| kv.split_once('=').unwrap())
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(
            FileGrant::verify(SECRET, &conv, &att, &q, now).unwrap(),
            grant
        );
        let refused = |conv: &ConversationId,
                       att: &AttachmentId,
                       q: &std::collections::HashMap<String, String>,
                       at: i64| {
            FileGrant::verify(SECRET, conv, att, q, at)
                .unwrap_err()
                .to_string()
        };
        assert!(refused(&conv, &att, &q, grant.expires + 1).contains("expired"));
        let other_conv = ConversationId::from_random([3; 16]);
        assert!(refused(&other_conv, &att, &q, now).contains("not valid"));
        let other_att = AttachmentId::from_random([4; 16]);
        assert!(refused(&conv, &other_att, &q, now).contains("not valid"));
        let mut served_as_html = q.clone();
        served_as_html.insert("t".into(), "text".into());
        assert!(refused(&conv, &att, &served_as_html, now).contains("not valid"));
        let mut later = q.clone();
        later.insert("e".into(), (grant.expires + 3_600_000).to_string());
        assert!(refused(&conv, &att, &later, now).contains("not valid"));
    }

    fn claims() -> (SiteKey, VisitorId) {
        (
            SiteKey::parse("demo").unwrap(),
            VisitorId::from_random([7; 16]),
        )
    }

    #[test]
    fn visitor_tokens_verify_and_reject_forgeries() {
        let (site, visitor) = claims();
        let token = visitor_token(SECRET, &site, &visitor);
        assert_eq!(
            verify_visitor_token(SECRET, &token),
            Ok(VisitorClaims {
                site: site.clone(),
                visitor: visitor.clone()
            })
        );
        assert_eq!(
            verify_visitor_token(b"other-secret", &token),
            Err(ErrorCode::InvalidToken)
        );
        let other = VisitorId::from_random([8; 16]);
        let swapped = token.replace(visitor.as_str(), other.as_str());
        assert_eq!(
            verify_visitor_token(SECRET, &swapped),
            Err(ErrorCode::InvalidToken)
        );
        let resited = token.replacen("demo", "shop", 1);
        assert_eq!(
            verify_visitor_token(SECRET, &resited),
            Err(ErrorCode::InvalidToken)
        );
        for junk in [
            "",
            "vt1",
            "vt1.demo",
            &format!("{token}.x"),
            "vt2.demo.v_x.y",
            &token[..token.len() - 2],
        ] {
            assert_eq!(
                verify_visitor_token(SECRET, junk),
                Err(ErrorCode::InvalidToken),
                "{junk}"
            );
        }
    }

    #[test]
    fn tickets_expire() {
        let (t, exp) = ws_ticket(SECRET, 1_000);
        assert_eq!(exp, 1_000 + TICKET_TTL_MS);
        assert_eq!(verify_ws_ticket(SECRET, &t, 1_000), Ok(()));
        assert_eq!(
            verify_ws_ticket(SECRET, &t, exp + 1),
            Err(ErrorCode::InvalidToken)
        );
        assert_eq!(
            verify_ws_ticket(b"x", &t, 1_000),
            Err(ErrorCode::InvalidToken)
        );
        let later = t.replacen(&exp.to_string(), &(exp + 999_999).to_string(), 1);
        assert_eq!(
            verify_ws_ticket(SECRET, &later, 1_000),
            Err(ErrorCode::InvalidToken)
        );
    }

    #[test]
    fn admin_keys_and_bearer() {
        let k = new_admin_key([1; 32]);
        assert!(k.starts_with("bk_") && k.len() > 40);
        assert_eq!(
            hash_admin_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
        assert!(ct_eq(b"abc", b"abc") && !ct_eq(b"abc", b"abd") && !ct_eq(b"abc", b"ab"));
    }
}
