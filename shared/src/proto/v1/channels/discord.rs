//! Discord's settings and secrets: a forum channel that gets one thread per conversation
//! through an incoming webhook, and (optionally) the application whose `/reply` command
//! agents answer with — its Interactions requests are signed with Ed25519 (CHANNELS.md §6.1).

use super::{bad, check_api_base, check_secret};
use crate::proto::v1::ErrorCode;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct DiscordSettings {
    /// The forum channel's incoming webhook id (the number in its URL).
    pub webhook_id: String,
    /// The application's public key (64 hex digits), to verify `/reply` interactions; without
    /// it Discord is notify-only.
    #[serde(default)]
    pub public_key: Option<String>,
    #[serde(default)]
    pub api_base: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct DiscordSecrets {
    /// The token in the webhook's URL (after its id).
    pub webhook_token: String,
}

fn snowflake(s: &str) -> bool {
    (15..=21).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

impl DiscordSettings {
    /// The API base URL relays go to (the production host unless set).
    pub fn api_base(&self) -> &str {
        super::base_or(
            &self.api_base,
            super::ChannelKind::Discord.default_api_base(),
        )
    }

    pub fn validated(mut self) -> Result<Self, (ErrorCode, String)> {
        self.webhook_id = self.webhook_id.trim().to_owned();
        if !snowflake(&self.webhook_id) {
            return bad(
                "webhook_id must be the number in the webhook's URL (…/webhooks/<id>/<token>)",
            );
        }
        self.public_key = match self.public_key.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(k) if k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(k.to_ascii_lowercase())
            }
            Some(_) => {
                return bad("public_key must be the application's public key: 64 hex digits")
            }
        };
        check_api_base(&mut self.api_base)?;
        Ok(self)
    }
}

impl DiscordSecrets {
    pub fn validated(self) -> Result<Self, (ErrorCode, String)> {
        check_secret(&self.webhook_token)?;
        if !self
            .webhook_token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return bad(
                "webhook_token must be the token in the webhook's URL (letters, digits, - and _)",
            );
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_and_secrets_validate() {
        let s = |id: &str, key: Option<&str>| {
            DiscordSettings {
                webhook_id: id.into(),
                public_key: key.map(str::to_owned),
                api_base: None,
            }
            .validated()
        };
        assert!(s("1250000000000000000", None).is_ok());
        assert!(s("12", None).is_err());
        assert!(s("1250000000000000000/tok", None).is_err());
        let k = "A".repeat(64);
        assert_eq!(
            s("1250000000000000000", Some(&k))
                .unwrap()
                .public_key
                .unwrap(),
            "a".repeat(64)
        );
        assert!(s("1250000000000000000", Some("abc")).is_err());
        assert_eq!(
            s("1250000000000000000", Some(" ")).unwrap().public_key,
            None
        );
        assert_eq!(
            s("1250000000000000000", None).unwrap().api_base(),
            "https://discord.com/api"
        );
        let t = |tok: &str| {
            DiscordSecrets {
                webhook_token: tok.into(),
            }
            .validated()
        };
        assert!(t("Xk3_-9aZ").is_ok());
        assert!(t("a/b").is_err());
        assert!(t("").is_err());
    }
}
