//! Credentials, as pure functions over secrets (natively tested):
//! - **visitor tokens** `vt2.<kid>.<site>.<visitor>.<issued ms>.<mac>` — issued on a visitor's
//!   first interaction; they grant access to that visitor's conversations only, expire
//!   [`VISITOR_TOKEN_TTL_MS`] after issue and are renewed while in use; the key id lets the
//!   signing key rotate ([`TokenKeys`]) without logging anyone out;
//! - **WebSocket tickets** `wt2.<claims>.<mac>` — short-lived, single use (the object that
//!   accepts the socket remembers the nonce), bound to one conversation or one site's live
//!   feed and to who asked for it; browsers cannot send `Authorization` on a WebSocket, and
//!   a long-lived credential must not sit in a URL;
//! - **admin API keys** — random `bk_…` strings, stored only as SHA-256 hex digests, each
//!   with a role on some sites (`beckon_shared::proto::v1::KeyRole`, `KeySites`).
//!
//! MACs are HMAC-SHA256 with a per-purpose prefix and are checked in constant time.

use crate::conversation::Principal;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use beckon_shared::proto::v1::ErrorCode;
use beckon_shared::{AttachmentId, ConversationId, SiteKey, VisitorId};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

const DAY_MS: i64 = 86_400_000;

/// How long a WebSocket ticket stays valid.
pub const TICKET_TTL_MS: i64 = 60_000;
/// How long a visitor token is valid after it was issued.
pub const VISITOR_TOKEN_TTL_MS: i64 = 90 * DAY_MS;
/// A token in use older than this is replaced by a fresh one (so a visitor who comes back
/// within [`VISITOR_TOKEN_TTL_MS`] of their last visit keeps their conversations).
pub const VISITOR_TOKEN_RENEW_AFTER_MS: i64 = DAY_MS;
/// The shortest signing secret accepted (`TOKEN_SECRET`, each of `VISITOR_TOKEN_KEYS`) and
/// the shortest master admin key (`ADMIN_API_KEY`); `make dev` generates 48 characters.
pub const MIN_SECRET_CHARS: usize = 32;

/// What a valid visitor token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitorClaims {
    pub site: SiteKey,
    pub visitor: VisitorId,
    /// When the token was issued (ms).
    pub issued: i64,
}

impl VisitorClaims {
    /// Whether a request at `now` should hand the visitor a fresh token.
    pub fn needs_renewal(&self, now: i64) -> bool {
        now - self.issued > VISITOR_TOKEN_RENEW_AFTER_MS
    }
}

/// The keys visitor tokens are signed with: the first signs, every one verifies (by key id).
/// Configured as `VISITOR_TOKEN_KEYS="<kid>:<secret> <kid>:<secret>…"`, newest first; without
/// it, `TOKEN_SECRET` is the only key, with id `0`. To rotate: put the new key first and keep
/// the old one listed until its tokens have expired.
#[derive(Clone, Debug)]
pub struct TokenKeys {
    keys: Vec<(String, Vec<u8>)>,
}

impl TokenKeys {
    /// Parses the configuration; `fallback` is `TOKEN_SECRET`.
    pub fn parse(list: Option<&str>, fallback: &[u8]) -> Result<TokenKeys, String> {
        let Some(list) = list.filter(|l| !l.trim().is_empty()) else {
            return Ok(TokenKeys {
                keys: vec![("0".into(), fallback.to_vec())],
            });
        };
        let mut keys: Vec<(String, Vec<u8>)> = Vec::new();
        for entry in list.split_whitespace() {
            let (kid, secret) = entry
                .split_once(':')
                .ok_or("VISITOR_TOKEN_KEYS entries are <kid>:<secret>")?;
            if kid.is_empty() || kid.len() > 8 || !kid.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err("a key id is 1 to 8 letters or digits".into());
            }
            if secret.chars().count() < MIN_SECRET_CHARS {
                return Err(format!(
                    "each visitor token key must be at least {MIN_SECRET_CHARS} characters"
                ));
            }
            if keys.iter().any(|(k, _)| k == kid) {
                return Err(format!("key id {kid} is listed twice"));
            }
            keys.push((kid.to_owned(), secret.as_bytes().to_vec()));
        }
        Ok(TokenKeys { keys })
    }

    fn signing(&self) -> (&str, &[u8]) {
        let (kid, secret) = &self.keys[0];
        (kid, secret)
    }

    fn by_kid(&self, kid: &str) -> Option<&[u8]> {
        self.keys
            .iter()
            .find(|(k, _)| k == kid)
            .map(|(_, s)| s.as_slice())
    }
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

/// Issues a token for `visitor` on `site`, valid from `now`.
pub fn visitor_token(keys: &TokenKeys, site: &SiteKey, visitor: &VisitorId, now: i64) -> String {
    let (kid, secret) = keys.signing();
    let payload = format!("{kid}.{site}.{visitor}.{now}");
    format!("vt2.{payload}.{}", sign(secret, "visitor", &payload))
}

/// Checks a visitor token at `now`; any defect (format, ids, key, signature, age) is
/// `InvalidToken`.
pub fn verify_visitor_token(
    keys: &TokenKeys,
    token: &str,
    now: i64,
) -> Result<VisitorClaims, ErrorCode> {
    let parts: Vec<&str> = token.split('.').collect();
    let ["vt2", kid, site, visitor, issued, tag] = parts[..] else {
        return Err(ErrorCode::InvalidToken);
    };
    let (Ok(site), Ok(visitor), Ok(issued), Some(secret)) = (
        SiteKey::parse(site),
        VisitorId::parse(visitor),
        issued.parse::<i64>(),
        keys.by_kid(kid),
    ) else {
        return Err(ErrorCode::InvalidToken);
    };
    if !verify(
        secret,
        "visitor",
        &format!("{kid}.{site}.{visitor}.{issued}"),
        tag,
    ) {
        return Err(ErrorCode::InvalidToken);
    }
    // Issued in the future (beyond clock skew) or too long ago.
    if issued > now + 300_000 || now - issued > VISITOR_TOKEN_TTL_MS {
        return Err(ErrorCode::InvalidToken);
    }
    Ok(VisitorClaims {
        site,
        visitor,
        issued,
    })
}

/// What a WebSocket ticket opens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum TicketTarget {
    /// One conversation's socket.
    Conversation(ConversationId),
    /// One site's live feed (the inbox's conversation list).
    Site(SiteKey),
}

/// A WebSocket ticket's claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Who the socket is for, exactly as the Worker established it when minting.
    pub principal: Principal,
    pub target: TicketTarget,
    pub expires: i64,
    /// Random; the object that accepts the socket refuses it a second time.
    pub nonce: String,
}

/// Mints `ticket`.
pub fn ws_ticket(secret: &[u8], ticket: &Ticket) -> String {
    let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(ticket).expect("ticket serializes"));
    format!("wt2.{claims}.{}", sign(secret, "ws-ticket", &claims))
}

/// Checks a ticket's signature, target and expiry (single use is the accepting object's
/// check, [`Ticket::nonce`]).
pub fn verify_ws_ticket(
    secret: &[u8],
    ticket: &str,
    target: &TicketTarget,
    now: i64,
) -> Result<Ticket, ErrorCode> {
    let parts: Vec<&str> = ticket.split('.').collect();
    let ["wt2", claims, tag] = parts[..] else {
        return Err(ErrorCode::InvalidToken);
    };
    if !verify(secret, "ws-ticket", claims, tag) {
        return Err(ErrorCode::InvalidToken);
    }
    let ticket: Ticket = URL_SAFE_NO_PAD
        .decode(claims)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(ErrorCode::InvalidToken)?;
    if ticket.target != *target || now > ticket.expires {
        return Err(ErrorCode::InvalidToken);
    }
    Ok(ticket)
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

/// A new secret token (a session's, an invitation's): `prefix` and 32 random bytes, stored
/// only as [`hash_admin_key`]'s digest.
pub fn new_token(prefix: &str, random: [u8; 32]) -> String {
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random))
}

/// A person's password as stored: Argon2id with the crate's defaults (19 MiB, 2 passes, one
/// lane — OWASP's recommendation), salted with 16 random bytes, as a PHC string.
pub fn hash_password(password: &str, salt: [u8; 16]) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` is the one hashed in the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// The CSRF token of a session: bound to it (an HMAC of its token), so nothing more is
/// stored and another session's token does not fit.
pub fn csrf_token(secret: &[u8], session: &str) -> String {
    hex::encode(&derive_id(secret, "csrf", session)[..])
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

/// The token of an email broadcast's unsubscribe link for `address` on `site` (no expiry: an
/// old email's link must still work).
pub fn unsubscribe_token(secret: &[u8], site: &SiteKey, address: &str) -> String {
    let payload = format!("{site}\n{address}");
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload.as_bytes()),
        sign(secret, "unsubscribe", &payload)
    )
}

/// The site and address an unsubscribe token was made for, if it verifies.
pub fn unsubscribe_target(secret: &[u8], token: &str) -> Option<(SiteKey, String)> {
    let (payload, tag) = token.split_once('.')?;
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    if !verify(secret, "unsubscribe", &payload, tag) {
        return None;
    }
    let (site, address) = payload.split_once('\n')?;
    Some((SiteKey::parse(site).ok()?, address.to_owned()))
}

/// How long a preview link of unsaved settings works.
pub const PREVIEW_TTL_MS: i64 = 10 * 60 * 1000;

/// The token of a preview link: `settings` (a settings patch as JSON) for `site`, until
/// `expires`.
pub fn preview_token(secret: &[u8], site: &SiteKey, settings: &str, expires: i64) -> String {
    let payload = format!("{site}\n{expires}\n{settings}");
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload.as_bytes()),
        sign(secret, "preview", &payload)
    )
}

/// The settings a preview token carries, if it verifies, was made for `site` and has not
/// expired at `now`.
pub fn preview_settings(secret: &[u8], token: &str, site: &SiteKey, now: i64) -> Option<String> {
    let (payload, tag) = token.split_once('.')?;
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    if !verify(secret, "preview", &payload, tag) {
        return None;
    }
    let mut parts = payload.splitn(3, '\n');
    let (for_site, expires, settings) = (parts.next()?, parts.next()?, parts.next()?);
    (for_site == site.as_str() && expires.parse::<i64>().ok()? > now).then(|| settings.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn preview_tokens_carry_their_settings_for_their_site_until_they_expire() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let (demo, other) = (
            SiteKey::parse("demo").unwrap(),
            SiteKey::parse("other").unwrap(),
        );
        let settings = r##"{"accent":"#0a7"}"##;
        let token = preview_token(secret, &demo, settings, 1_000);
        assert_eq!(
            preview_settings(secret, &token, &demo, 999).as_deref(),
            Some(settings)
        );
        assert_eq!(
            preview_settings(secret, &token, &demo, 1_000),
            None,
            "expired"
        );
        assert_eq!(
            preview_settings(secret, &token, &other, 999),
            None,
            "another site"
        );
        assert_eq!(
            preview_settings(b"another secret of 32 bytes or so!", &token, &demo, 999),
            None
        );
        // Other settings under the same tag, or the same settings for another site.
        let (_, tag) = token.split_once('.').unwrap();
        let bent = URL_SAFE_NO_PAD.encode(
            r##"demo
1000
{"accent":"#f00"}"##,
        );
        assert_eq!(
            preview_settings(secret, &format!("{bent}.{tag}"), &demo, 999),
            None
        );
        let moved = URL_SAFE_NO_PAD.encode(format!("other\n1000\n{settings}"));
        assert_eq!(
            preview_settings(secret, &format!("{moved}.{tag}"), &other, 999),
            None
        );
        for junk in ["", ".", "abc", "abc.def", "!!.!!"] {
            assert_eq!(preview_settings(secret, junk, &demo, 0), None, "{junk:?}");
        }
    }

    #[test]
    fn unsubscribe_tokens_verify_and_cannot_be_bent() {
        let site = SiteKey::parse("shop").unwrap();
        let t = unsubscribe_token(b"secret", &site, "ana@example.com");
        assert_eq!(
            unsubscribe_target(b"secret", &t),
            Some((site.clone(), "ana@example.com".to_owned()))
        );
        assert_eq!(unsubscribe_target(b"other", &t), None);
        let (_, tag) = t.split_once('.').unwrap();
        let bent = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("shop\nbo@example.com"));
        assert_eq!(unsubscribe_target(b"secret", &bent), None);
        assert_eq!(unsubscribe_target(b"secret", "garbage"), None);
    }

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

    const NOW: i64 = 1_800_000_000_000;
    const K1: &str = "first-visitor-token-key-0123456789";
    const K2: &str = "second-visitor-token-key-012345678";

    #[test]
    fn visitor_tokens_verify_and_reject_forgeries() {
        let keys = TokenKeys::parse(None, SECRET).unwrap();
        let (site, visitor) = claims();
        let token = visitor_token(&keys, &site, &visitor, NOW);
        assert!(token.starts_with("vt2.0.demo."));
        assert_eq!(
            verify_visitor_token(&keys, &token, NOW),
            Ok(VisitorClaims {
                site: site.clone(),
                visitor: visitor.clone(),
                issued: NOW,
            })
        );
        let other_keys = TokenKeys::parse(None, b"other-secret").unwrap();
        assert_eq!(
            verify_visitor_token(&other_keys, &token, NOW),
            Err(ErrorCode::InvalidToken)
        );
        let other = VisitorId::from_random([8; 16]);
        let swapped = token.replace(visitor.as_str(), other.as_str());
        let resited = token.replacen("demo", "shop", 1);
        let reissued = token.replacen(&NOW.to_string(), &(NOW + 86_400_000).to_string(), 1);
        let rekeyed = token.replacen("vt2.0.", "vt2.1.", 1);
        for forged in [&swapped, &resited, &reissued, &rekeyed] {
            assert_eq!(
                verify_visitor_token(&keys, forged, NOW),
                Err(ErrorCode::InvalidToken),
                "{forged}"
            );
        }
        for junk in [
            "",
            "vt2",
            "vt2.0.demo",
            &format!("{token}.x"),
            "vt1.demo.v_x.y",
            &token[..token.len() - 2],
        ] {
            assert_eq!(
                verify_visitor_token(&keys, junk, NOW),
                Err(ErrorCode::InvalidToken),
                "{junk}"
            );
        }
    }

    #[test]
    fn visitor_tokens_expire_and_are_renewed_while_in_use() {
        let keys = TokenKeys::parse(None, SECRET).unwrap();
        let (site, visitor) = claims();
        let token = visitor_token(&keys, &site, &visitor, NOW);
        let at = |t: i64| verify_visitor_token(&keys, &token, t);
        assert!(!at(NOW + 1000).unwrap().needs_renewal(NOW + 1000));
        let next_day = NOW + VISITOR_TOKEN_RENEW_AFTER_MS + 1;
        assert!(at(next_day).unwrap().needs_renewal(next_day));
        assert!(at(NOW + VISITOR_TOKEN_TTL_MS).is_ok());
        assert_eq!(
            at(NOW + VISITOR_TOKEN_TTL_MS + 1),
            Err(ErrorCode::InvalidToken)
        );
        // Issued in the future: refused beyond five minutes of clock skew.
        assert!(at(NOW - 60_000).is_ok());
        assert_eq!(at(NOW - 600_000), Err(ErrorCode::InvalidToken));
    }

    #[test]
    fn a_rotated_key_keeps_older_tokens_valid_until_it_is_dropped() {
        let (site, visitor) = claims();
        let before = TokenKeys::parse(Some(&format!("1:{K1}")), SECRET).unwrap();
        let old = visitor_token(&before, &site, &visitor, NOW);
        assert!(old.starts_with("vt2.1."));
        let rotated = TokenKeys::parse(Some(&format!("2:{K2} 1:{K1}")), SECRET).unwrap();
        let new = visitor_token(&rotated, &site, &visitor, NOW);
        assert!(new.starts_with("vt2.2."));
        assert!(verify_visitor_token(&rotated, &old, NOW).is_ok());
        assert!(verify_visitor_token(&rotated, &new, NOW).is_ok());
        let retired = TokenKeys::parse(Some(&format!("2:{K2}")), SECRET).unwrap();
        assert_eq!(
            verify_visitor_token(&retired, &old, NOW),
            Err(ErrorCode::InvalidToken)
        );
        // A key listed under another id does not verify the old id's tokens.
        let relabelled = TokenKeys::parse(Some(&format!("3:{K1}")), SECRET).unwrap();
        assert!(verify_visitor_token(&relabelled, &old, NOW).is_err());
        for bad in [
            "1:short",
            &format!("1{K1}"),
            &format!("toolongkid:{K1}"),
            &format!("a-b:{K1}"),
            &format!("1:{K1} 1:{K2}"),
        ] {
            assert!(TokenKeys::parse(Some(bad), SECRET).is_err(), "{bad}");
        }
    }

    fn ticket_for(target: TicketTarget) -> Ticket {
        let (site, visitor_id) = claims();
        Ticket {
            principal: Principal::Visitor { site, visitor_id },
            target,
            expires: 1_000 + TICKET_TTL_MS,
            nonce: "n1".into(),
        }
    }

    #[test]
    fn tickets_are_bound_to_their_target_and_expire() {
        let conv = TicketTarget::Conversation(ConversationId::from_random([1; 16]));
        let ticket = ticket_for(conv.clone());
        let t = ws_ticket(SECRET, &ticket);
        assert!(t.starts_with("wt2.") && !t.contains("vt2"));
        assert_eq!(
            verify_ws_ticket(SECRET, &t, &conv, 1_000),
            Ok(ticket.clone())
        );
        let other = TicketTarget::Conversation(ConversationId::from_random([2; 16]));
        let site = TicketTarget::Site(SiteKey::parse("demo").unwrap());
        for (secret, target, now) in [
            (SECRET, &other, 1_000),
            (SECRET, &site, 1_000),
            (SECRET, &conv, ticket.expires + 1),
            (b"x".as_slice(), &conv, 1_000),
        ] {
            assert_eq!(
                verify_ws_ticket(secret, &t, target, now),
                Err(ErrorCode::InvalidToken)
            );
        }
        // Claims changed after signing (a longer life, another principal).
        let mut longer = ticket.clone();
        longer.expires += 3_600_000;
        let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&longer).unwrap());
        let tag = t.rsplit('.').next().unwrap();
        assert_eq!(
            verify_ws_ticket(SECRET, &format!("wt2.{claims}.{tag}"), &conv, 1_000),
            Err(ErrorCode::InvalidToken)
        );
        assert_eq!(
            verify_ws_ticket(SECRET, "wt1.9999999999999.AAAA", &conv, 1_000),
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
