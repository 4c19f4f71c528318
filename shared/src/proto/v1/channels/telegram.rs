//! Telegram's settings and secrets: a forum supergroup with one topic per conversation, and
//! the bot that writes there (CHANNELS.md §2).

use super::{bad, check_api_base, check_secret};
use crate::proto::v1::ErrorCode;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    /// The business's forum supergroup (`-100…`); one topic per conversation.
    pub chat_id: i64,
    #[serde(default)]
    pub api_base: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct TelegramSecrets {
    pub bot_token: String,
    /// Sent by Telegram in `X-Telegram-Bot-Api-Secret-Token` (set it with `setWebhook`).
    pub webhook_secret: String,
}

impl TelegramSettings {
    /// The API base URL relays go to (the production host unless set).
    pub fn api_base(&self) -> &str {
        super::base_or(
            &self.api_base,
            super::ChannelKind::Telegram.default_api_base(),
        )
    }

    pub fn validated(mut self) -> Result<Self, (ErrorCode, String)> {
        if self.chat_id >= 0 {
            return bad("chat_id must be the supergroup's negative id (-100…)");
        }
        check_api_base(&mut self.api_base)?;
        Ok(self)
    }
}

/// Shortest webhook secret token accepted (Telegram allows 1–256 characters).
pub const MIN_WEBHOOK_SECRET: usize = 32;

impl TelegramSecrets {
    pub fn validated(self) -> Result<Self, (ErrorCode, String)> {
        // It is the webhook's only credential: long enough not to be guessed.
        let ok = (MIN_WEBHOOK_SECRET..=256).contains(&self.webhook_secret.len())
            && self
                .webhook_secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            return bad(
                "webhook_secret must be 32-256 of A-Z a-z 0-9 _ - (e.g. `openssl rand -hex 16`)",
            );
        }
        check_secret(&self.bot_token)?;
        Ok(self)
    }
}
