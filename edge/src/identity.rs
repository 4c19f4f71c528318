//! Verified identity, pure: the proofs a site's backend makes that a visitor is one of its
//! signed-in users, checked in constant time under the site's identity secret.
//! - `user_hash`: lowercase hex HMAC-SHA256 of the user id (the scheme Intercom and others
//!   use, so existing backends already make it);
//! - `jwt`: a compact HS256 JWT whose `sub` is the user id and `exp` (seconds) is required;
//!   `name` and `email` claims, when present, are taken as proven too.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use beckon_shared::proto::v1::Identify;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Clock skew allowed on a JWT's `exp`.
pub const JWT_LEEWAY_SECS: i64 = 60;

/// Who the site's backend proved the visitor is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The site's own id for the user.
    pub user_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Why a proof was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The signature does not match (a forged or mistyped proof, or another secret).
    BadSignature,
    /// A JWT past its `exp`, or without one.
    Expired,
    /// Not a JWT we read: not HS256, unreadable parts, no `sub`.
    Malformed,
}

impl Refused {
    pub fn message(self) -> &'static str {
        match self {
            Refused::BadSignature => "the identity proof does not match this site's secret",
            Refused::Expired => "the identity token has expired (exp): make a new one",
            Refused::Malformed => "the identity token must be an HS256 JWT with sub and exp",
        }
    }
}

fn mac(secret: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length")
}

/// The `user_hash` a site's backend sends for `user_id` (what the README shows).
pub fn user_hash(secret: &[u8], user_id: &str) -> String {
    let mut m = mac(secret);
    m.update(user_id.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// Checks the proof `who` carries, if any: `Ok(None)` when there is none.
pub fn verify(secret: &[u8], who: &Identify, now_ms: i64) -> Result<Option<Verified>, Refused> {
    if let Some(jwt) = &who.jwt {
        return verify_jwt(secret, jwt, now_ms).map(Some);
    }
    let (Some(user_id), Some(hash)) = (&who.user_id, &who.user_hash) else {
        return Ok(None);
    };
    let tag = hex::decode(hash).map_err(|_| Refused::BadSignature)?;
    let mut m = mac(secret);
    m.update(user_id.as_bytes());
    m.verify_slice(&tag).map_err(|_| Refused::BadSignature)?;
    Ok(Some(Verified {
        user_id: user_id.clone(),
        name: None,
        email: None,
    }))
}

fn verify_jwt(secret: &[u8], jwt: &str, now_ms: i64) -> Result<Verified, Refused> {
    #[derive(Deserialize)]
    struct Header {
        alg: String,
    }
    #[derive(Deserialize)]
    struct Claims {
        sub: Option<String>,
        exp: Option<i64>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        email: Option<String>,
    }
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err(Refused::Malformed);
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| Refused::Malformed);
    let head: Header = serde_json::from_slice(&decode(header)?).map_err(|_| Refused::Malformed)?;
    // Only HS256: never `none`, never an algorithm the caller chose for us.
    if head.alg != "HS256" {
        return Err(Refused::Malformed);
    }
    let mut m = mac(secret);
    m.update(format!("{header}.{payload}").as_bytes());
    m.verify_slice(&decode(signature)?)
        .map_err(|_| Refused::BadSignature)?;
    let claims: Claims =
        serde_json::from_slice(&decode(payload)?).map_err(|_| Refused::Malformed)?;
    let exp = claims.exp.ok_or(Refused::Expired)?;
    if now_ms / 1000 > exp.saturating_add(JWT_LEEWAY_SECS) {
        return Err(Refused::Expired);
    }
    let user_id = claims
        .sub
        .filter(|s| {
            !s.is_empty()
                && s.chars().count() <= 128
                && s.trim() == s
                && !s.chars().any(char::is_control)
        })
        .ok_or(Refused::Malformed)?;
    Ok(Verified {
        user_id,
        name: claims.name,
        email: claims.email,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"site-identity-secret-0123456789abcdef";
    const NOW: i64 = 1_800_000_000_000;

    fn jwt(secret: &[u8], header: &str, claims: &str) -> String {
        let h = URL_SAFE_NO_PAD.encode(header);
        let c = URL_SAFE_NO_PAD.encode(claims);
        let mut m = mac(secret);
        m.update(format!("{h}.{c}").as_bytes());
        let s = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
        format!("{h}.{c}.{s}")
    }

    fn with_hash(user: &str, hash: &str) -> Identify {
        Identify {
            user_id: Some(user.into()),
            user_hash: Some(hash.into()),
            ..Identify::default()
        }
    }

    fn with_jwt(token: String) -> Identify {
        Identify {
            jwt: Some(token),
            ..Identify::default()
        }
    }

    #[test]
    fn a_user_hash_proves_its_user_only() {
        // The value `echo -n u-42 | openssl dgst -sha256 -hmac <secret>` prints.
        let hash = user_hash(SECRET, "u-42");
        assert_eq!(hash.len(), 64);
        assert_eq!(
            verify(SECRET, &with_hash("u-42", &hash), NOW).unwrap(),
            Some(Verified {
                user_id: "u-42".into(),
                name: None,
                email: None
            })
        );
        for forged in [
            with_hash("u-43", &hash),
            with_hash("u-42", &user_hash(b"another-secret", "u-42")),
            with_hash("u-42", &"0".repeat(64)),
            with_hash("u-42", "zz"),
        ] {
            assert_eq!(verify(SECRET, &forged, NOW), Err(Refused::BadSignature));
        }
        assert_eq!(verify(SECRET, &Identify::default(), NOW), Ok(None));
    }

    #[test]
    fn a_jwt_proves_its_subject_until_it_expires() {
        let exp = NOW / 1000 + 300;
        let good = jwt(
            SECRET,
            r#"{"alg":"HS256","typ":"JWT"}"#,
            &format!(r#"{{"sub":"u-42","exp":{exp},"name":"Ana","email":"ana@example.com"}}"#),
        );
        let v = verify(SECRET, &with_jwt(good.clone()), NOW)
            .unwrap()
            .unwrap();
        assert_eq!(
            (v.user_id.as_str(), v.name.as_deref(), v.email.as_deref()),
            ("u-42", Some("Ana"), Some("ana@example.com"))
        );
        let late = (exp + JWT_LEEWAY_SECS + 1) * 1000;
        assert_eq!(
            verify(SECRET, &with_jwt(good.clone()), late),
            Err(Refused::Expired)
        );
        assert_eq!(
            verify(b"another-secret", &with_jwt(good.clone()), NOW),
            Err(Refused::BadSignature)
        );
        // A payload changed after signing.
        let parts: Vec<&str> = good.split('.').collect();
        let other = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"admin","exp":{exp}}}"#));
        let swapped = format!("{}.{other}.{}", parts[0], parts[2]);
        assert_eq!(
            verify(SECRET, &with_jwt(swapped), NOW),
            Err(Refused::BadSignature)
        );
        // No exp, alg none, no sub.
        let no_exp = jwt(SECRET, r#"{"alg":"HS256"}"#, r#"{"sub":"u-42"}"#);
        assert_eq!(
            verify(SECRET, &with_jwt(no_exp), NOW),
            Err(Refused::Expired)
        );
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"u-42","exp":{exp}}}"#))
        );
        assert_eq!(
            verify(SECRET, &with_jwt(none), NOW),
            Err(Refused::Malformed)
        );
        let no_sub = jwt(SECRET, r#"{"alg":"HS256"}"#, &format!(r#"{{"exp":{exp}}}"#));
        assert_eq!(
            verify(SECRET, &with_jwt(no_sub), NOW),
            Err(Refused::Malformed)
        );
    }
}
