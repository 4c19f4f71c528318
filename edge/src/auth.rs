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
use beckon_shared::{SiteKey, VisitorId};
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
