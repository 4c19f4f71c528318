//! Messenger's and Instagram's settings and secrets: a Facebook Page, and optionally the
//! Instagram professional account linked to it, messaged through the Messenger Platform with
//! the Page's access token (CHANNELS.md §4). People who write to the Page or the account
//! become contacts; the business answers them within Meta's windows.

use super::{bad, check_api_base, check_graph_version, check_secret};
use crate::proto::v1::ErrorCode;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct MessengerSettings {
    /// The Facebook Page's id.
    pub page_id: String,
    /// The id of the Instagram professional account linked to the Page, to take its direct
    /// messages too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instagram_id: Option<String>,
    #[serde(default = "super::default_graph_version")]
    pub graph_version: String,
    #[serde(default)]
    pub api_base: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct MessengerSecrets {
    /// The Page access token (`pages_messaging`, and `instagram_manage_messages` for
    /// Instagram).
    pub page_access_token: String,
    /// The Meta app's secret, which signs webhooks (`X-Hub-Signature-256`).
    pub app_secret: String,
    /// Answered in the `hub.verify_token` handshake.
    pub verify_token: String,
}

fn numeric_id(s: &str) -> bool {
    (5..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

impl MessengerSettings {
    /// The API base URL messages go to (the production host unless set).
    pub fn api_base(&self) -> &str {
        super::base_or(
            &self.api_base,
            super::ChannelKind::Messenger.default_api_base(),
        )
    }

    pub fn validated(mut self) -> Result<Self, (ErrorCode, String)> {
        self.page_id = self.page_id.trim().to_owned();
        if !numeric_id(&self.page_id) {
            return bad("page_id must be the Facebook Page's numeric id");
        }
        self.instagram_id = match self.instagram_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(id) if numeric_id(id) => Some(id.to_owned()),
            Some(_) => return bad(
                "instagram_id must be the numeric id of the Instagram account linked to the Page",
            ),
        };
        check_graph_version(&self.graph_version)?;
        check_api_base(&mut self.api_base)?;
        Ok(self)
    }
}

impl MessengerSecrets {
    pub fn validated(self) -> Result<Self, (ErrorCode, String)> {
        check_secret(&self.page_access_token)?;
        check_secret(&self.app_secret)?;
        check_secret(&self.verify_token)?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(page: &str, ig: Option<&str>) -> MessengerSettings {
        MessengerSettings {
            page_id: page.into(),
            instagram_id: ig.map(Into::into),
            graph_version: "v23.0".into(),
            api_base: None,
        }
    }

    #[test]
    fn ids_are_numeric_and_an_empty_instagram_id_means_none() {
        assert!(settings("1234567890", None).validated().is_ok());
        assert_eq!(
            settings(" 1234567890 ", Some(" ")).validated().unwrap(),
            settings("1234567890", None)
        );
        assert!(settings("my-page", None).validated().is_err());
        assert!(settings("1234567890", Some("@shop")).validated().is_err());
        let bad_version = MessengerSettings {
            graph_version: "23".into(),
            ..settings("1234567890", None)
        };
        assert!(bad_version.validated().is_err());
    }
}
