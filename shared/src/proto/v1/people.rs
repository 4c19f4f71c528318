//! People who sign in to the inbox as themselves: an owner invites them with a role on some
//! sites (as an admin key has, [`KeyRole`], [`KeySites`]); they choose their name and password
//! from the invitation link and then sign in with their email and password. A signed-in
//! browser holds an `HttpOnly` session cookie and repeats the session's CSRF token in
//! `X-CSRF-Token` on every request that changes something.

use super::{KeyRole, KeySites};
use crate::SiteKey;
use serde::{Deserialize, Serialize};

/// The shortest password taken.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password taken (hashing has a cost).
pub const MAX_PASSWORD_CHARS: usize = 128;
/// The session cookie's name (`__Host-`: only from our own origin, over HTTPS, path `/`).
pub const SESSION_COOKIE: &str = "__Host-beckon_session";
/// The header repeating the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// `POST /api/v1/admin/invitations`: invite a person (owners only, for sites they own).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    pub email: String,
    /// `agent` unless said otherwise.
    #[serde(default = "agent")]
    pub role: KeyRole,
    /// The sites they may work on; `null` or absent: every site.
    #[serde(default)]
    pub sites: Option<Vec<SiteKey>>,
}

fn agent() -> KeyRole {
    KeyRole::Agent
}

/// An invitation, with its token: the link `…/console/#invite=<token>` is what to hand the
/// person (it works once, until `expires_at`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Invitation {
    pub email: String,
    pub role: KeyRole,
    pub sites: Option<Vec<SiteKey>>,
    pub token: String,
    pub expires_at: i64,
}

/// `POST /api/v1/auth/accept`: the invited person's name and password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    pub token: String,
    pub name: String,
    pub password: String,
}

/// `POST /api/v1/auth/sign-in`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

/// A person who may sign in, as listed (`GET /api/v1/admin/people`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Person {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: KeyRole,
    /// `null`: every site.
    pub sites: Option<Vec<SiteKey>>,
    pub created_at: i64,
    #[serde(default)]
    pub last_seen_at: Option<i64>,
    /// Their photo's address ([`super::paths::AVATAR`], with its version), beside their
    /// messages; none: their initial is drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

impl Person {
    pub fn scope(&self) -> KeySites {
        KeySites::from_list(self.sites.clone())
    }
}

/// Who is signed in, and the CSRF token to repeat (`POST …/sign-in`, `POST …/accept`,
/// `GET /api/v1/admin/session`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct SessionInfo {
    pub person: Person,
    pub csrf_token: String,
    pub expires_at: i64,
}

/// Why a password is not taken, if it is not.
pub fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(format!(
            "password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_have_a_length_range() {
        assert!(check_password("short").is_err());
        assert!(check_password("correct horse").is_ok());
        assert!(check_password(&"é".repeat(MAX_PASSWORD_CHARS)).is_ok());
        assert!(check_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }
}
