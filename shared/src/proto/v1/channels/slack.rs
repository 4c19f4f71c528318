//! Slack's settings and secrets: a channel with one thread per conversation, a bot token to
//! post and the app's signing secret to verify its events (CHANNELS.md §3).

use super::{bad, check_api_base, check_secret};
use crate::proto::v1::ErrorCode;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct SlackSettings {
    /// The channel that gets one thread per conversation (`C…`).
    pub channel_id: String,
    #[serde(default)]
    pub api_base: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct SlackSecrets {
    pub bot_token: String,
    pub signing_secret: String,
}

impl SlackSettings {
    /// The API base URL relays go to (the production host unless set).
    pub fn api_base(&self) -> &str {
        super::base_or(&self.api_base, super::ChannelKind::Slack.default_api_base())
    }

    pub fn validated(mut self) -> Result<Self, (ErrorCode, String)> {
        self.channel_id = self.channel_id.trim().to_owned();
        if self.channel_id.is_empty()
            || self.channel_id.len() > 32
            || !self.channel_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return bad("channel_id must be a Slack channel id like C0123ABCDEF");
        }
        check_api_base(&mut self.api_base)?;
        Ok(self)
    }
}

impl SlackSecrets {
    pub fn validated(self) -> Result<Self, (ErrorCode, String)> {
        check_secret(&self.bot_token)?;
        check_secret(&self.signing_secret)?;
        Ok(self)
    }
}
