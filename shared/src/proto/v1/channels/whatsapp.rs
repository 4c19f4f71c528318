//! WhatsApp's settings and secrets: the business number in the Cloud API, the agents' numbers
//! that receive relays, and the approved template used outside the 24-hour window
//! (CHANNELS.md §1).

use super::{bad, check_api_base, check_graph_version, check_secret};
use crate::proto::v1::ErrorCode;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct WhatsappSettings {
    /// The business phone number's id in the Cloud API.
    pub phone_number_id: String,
    /// Agents' WhatsApp numbers (digits, with country code) that receive the relays.
    pub agent_numbers: Vec<String>,
    /// Approved utility template used outside the 24-hour window, with two body
    /// parameters: `{{1}}` the site name and `{{2}}` the visitor's message.
    pub template_name: String,
    #[serde(default = "default_template_language")]
    pub template_language: String,
    #[serde(default = "super::default_graph_version")]
    pub graph_version: String,
    /// The WhatsApp Business Account's id: broadcasts check their template against its
    /// approved templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_account_id: Option<String>,
    #[serde(default)]
    pub api_base: Option<String>,
}

fn default_template_language() -> String {
    "en_US".into()
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct WhatsappSecrets {
    pub access_token: String,
    pub app_secret: String,
    /// Answered in the `hub.verify_token` handshake.
    pub verify_token: String,
}

impl WhatsappSettings {
    /// The API base URL relays go to (the production host unless set).
    pub fn api_base(&self) -> &str {
        super::base_or(
            &self.api_base,
            super::ChannelKind::Whatsapp.default_api_base(),
        )
    }

    pub fn validated(mut self) -> Result<Self, (ErrorCode, String)> {
        if self.phone_number_id.is_empty()
            || !self.phone_number_id.bytes().all(|b| b.is_ascii_digit())
        {
            return bad("phone_number_id must be the numeric id of the business number");
        }
        if self.agent_numbers.is_empty() || self.agent_numbers.len() > 10 {
            return bad("agent_numbers must list 1 to 10 WhatsApp numbers");
        }
        for n in self.agent_numbers.iter_mut() {
            *n = n.chars().filter(char::is_ascii_digit).collect();
            if !(7..=15).contains(&n.len()) {
                return bad(
                    "agent_numbers must be phone numbers with country code, e.g. 16505551234",
                );
            }
        }
        if self.template_name.is_empty()
            || !self
                .template_name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return bad("template_name must be an approved template's name (a-z, 0-9, _)");
        }
        if self.template_language.is_empty() || self.template_language.len() > 8 {
            return bad("template_language must be a code like en_US");
        }
        if self
            .business_account_id
            .as_deref()
            .is_some_and(|id| id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()))
        {
            return bad(
                "business_account_id must be the numeric id of the WhatsApp Business Account",
            );
        }
        check_graph_version(&self.graph_version)?;
        check_api_base(&mut self.api_base)?;
        Ok(self)
    }
}

impl WhatsappSecrets {
    pub fn validated(self) -> Result<Self, (ErrorCode, String)> {
        check_secret(&self.access_token)?;
        check_secret(&self.app_secret)?;
        check_secret(&self.verify_token)?;
        Ok(self)
    }
}
