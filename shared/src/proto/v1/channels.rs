//! Channel settings: where a site's conversations are relayed (Telegram, Slack, WhatsApp).
//! Public settings and secrets are separate types so secrets can never be serialized back to
//! a client by accident: the API returns [`ChannelInfo`], which has no secret fields at all.

use super::ErrorCode;
use serde::{Deserialize, Serialize};

/// A messaging app conversations are relayed into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Telegram,
    Slack,
    Whatsapp,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 3] = [
        ChannelKind::Telegram,
        ChannelKind::Slack,
        ChannelKind::Whatsapp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Telegram => "telegram",
            ChannelKind::Slack => "slack",
            ChannelKind::Whatsapp => "whatsapp",
        }
    }

    /// The app's name as people write it.
    pub fn label(self) -> &'static str {
        match self {
            ChannelKind::Telegram => "Telegram",
            ChannelKind::Slack => "Slack",
            ChannelKind::Whatsapp => "WhatsApp",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The production API host, used when `api_base` is not set.
    pub fn default_api_base(self) -> &'static str {
        match self {
            ChannelKind::Telegram => "https://api.telegram.org",
            ChannelKind::Slack => "https://slack.com/api",
            ChannelKind::Whatsapp => "https://graph.facebook.com",
        }
    }
}

/// Non-secret settings of one channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelSettings {
    Telegram {
        /// The business's forum supergroup (`-100…`); one topic per conversation.
        chat_id: i64,
        #[serde(default)]
        api_base: Option<String>,
    },
    Slack {
        /// The channel that gets one thread per conversation (`C…`).
        channel_id: String,
        #[serde(default)]
        api_base: Option<String>,
    },
    Whatsapp {
        /// The business phone number's id in the Cloud API.
        phone_number_id: String,
        /// Agents' WhatsApp numbers (digits, with country code) that receive the relays.
        agent_numbers: Vec<String>,
        /// Approved utility template used outside the 24-hour window, with two body
        /// parameters: `{{1}}` the site name and `{{2}}` the visitor's message.
        template_name: String,
        #[serde(default = "default_template_language")]
        template_language: String,
        #[serde(default = "default_graph_version")]
        graph_version: String,
        #[serde(default)]
        api_base: Option<String>,
    },
}

fn default_template_language() -> String {
    "en_US".into()
}

fn default_graph_version() -> String {
    "v23.0".into()
}

/// Secrets of one channel. Write-only: accepted by the API, never returned or logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelSecrets {
    Telegram {
        bot_token: String,
        /// Sent by Telegram in `X-Telegram-Bot-Api-Secret-Token` (set it with `setWebhook`).
        webhook_secret: String,
    },
    Slack {
        bot_token: String,
        signing_secret: String,
    },
    Whatsapp {
        access_token: String,
        app_secret: String,
        /// Answered in the `hub.verify_token` handshake.
        verify_token: String,
    },
}

impl std::fmt::Debug for ChannelSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChannelSecrets({}, redacted)", self.kind().as_str())
    }
}

impl ChannelSettings {
    pub fn kind(&self) -> ChannelKind {
        match self {
            ChannelSettings::Telegram { .. } => ChannelKind::Telegram,
            ChannelSettings::Slack { .. } => ChannelKind::Slack,
            ChannelSettings::Whatsapp { .. } => ChannelKind::Whatsapp,
        }
    }

    pub fn api_base(&self) -> &str {
        let custom = match self {
            ChannelSettings::Telegram { api_base, .. }
            | ChannelSettings::Slack { api_base, .. }
            | ChannelSettings::Whatsapp { api_base, .. } => api_base.as_deref(),
        };
        custom
            .unwrap_or(self.kind().default_api_base())
            .trim_end_matches('/')
    }

    /// Checks and normalises the settings.
    pub fn validated(mut self) -> Result<Self, (ErrorCode, String)> {
        let bad = |m: &str| Err((ErrorCode::BadRequest, m.to_owned()));
        match &mut self {
            ChannelSettings::Telegram { chat_id, api_base } => {
                if *chat_id >= 0 {
                    return bad("chat_id must be the supergroup's negative id (-100…)");
                }
                check_api_base(api_base)?;
            }
            ChannelSettings::Slack {
                channel_id,
                api_base,
            } => {
                *channel_id = channel_id.trim().to_owned();
                if channel_id.is_empty()
                    || channel_id.len() > 32
                    || !channel_id.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    return bad("channel_id must be a Slack channel id like C0123ABCDEF");
                }
                check_api_base(api_base)?;
            }
            ChannelSettings::Whatsapp {
                phone_number_id,
                agent_numbers,
                template_name,
                template_language,
                graph_version,
                api_base,
            } => {
                if phone_number_id.is_empty()
                    || !phone_number_id.bytes().all(|b| b.is_ascii_digit())
                {
                    return bad("phone_number_id must be the numeric id of the business number");
                }
                if agent_numbers.is_empty() || agent_numbers.len() > 10 {
                    return bad("agent_numbers must list 1 to 10 WhatsApp numbers");
                }
                for n in agent_numbers.iter_mut() {
                    *n = n.chars().filter(char::is_ascii_digit).collect();
                    if !(7..=15).contains(&n.len()) {
                        return bad("agent_numbers must be phone numbers with country code, e.g. 16505551234");
                    }
                }
                if template_name.is_empty()
                    || !template_name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                {
                    return bad("template_name must be an approved template's name (a-z, 0-9, _)");
                }
                if template_language.is_empty() || template_language.len() > 8 {
                    return bad("template_language must be a code like en_US");
                }
                let v = graph_version.strip_prefix('v').unwrap_or("");
                if v.split('.').count() != 2
                    || !v
                        .split('.')
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                {
                    return bad("graph_version must look like v23.0");
                }
                check_api_base(api_base)?;
            }
        }
        Ok(self)
    }
}

fn check_api_base(api_base: &mut Option<String>) -> Result<(), (ErrorCode, String)> {
    if let Some(b) = api_base {
        let trimmed = b.trim().trim_end_matches('/').to_owned();
        let ok = (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
            && !trimmed.contains(char::is_whitespace)
            && trimmed.len() <= 200;
        if !ok {
            return Err((
                ErrorCode::BadRequest,
                "api_base must be an http(s) URL".into(),
            ));
        }
        *b = trimmed;
    }
    Ok(())
}

impl ChannelSecrets {
    pub fn kind(&self) -> ChannelKind {
        match self {
            ChannelSecrets::Telegram { .. } => ChannelKind::Telegram,
            ChannelSecrets::Slack { .. } => ChannelKind::Slack,
            ChannelSecrets::Whatsapp { .. } => ChannelKind::Whatsapp,
        }
    }

    pub fn validated(self) -> Result<Self, (ErrorCode, String)> {
        let fields: Vec<&str> = match &self {
            ChannelSecrets::Telegram {
                bot_token,
                webhook_secret,
            } => {
                let ok = (1..=256).contains(&webhook_secret.len())
                    && webhook_secret
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if !ok {
                    return Err((
                        ErrorCode::BadRequest,
                        "webhook_secret must be 1-256 of A-Z a-z 0-9 _ -".into(),
                    ));
                }
                vec![bot_token]
            }
            ChannelSecrets::Slack {
                bot_token,
                signing_secret,
            } => vec![bot_token, signing_secret],
            ChannelSecrets::Whatsapp {
                access_token,
                app_secret,
                verify_token,
            } => vec![access_token, app_secret, verify_token],
        };
        if fields
            .iter()
            .any(|f| f.trim().is_empty() || f.len() > 512 || f.chars().any(char::is_control))
        {
            return Err((
                ErrorCode::BadRequest,
                "every secret must be set (at most 512 characters)".into(),
            ));
        }
        Ok(self)
    }
}

/// `PUT /api/v1/admin/sites/{site}/channels/{kind}`: settings, and secrets when setting up or
/// rotating them (omit `secrets` to keep the stored ones).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelInput {
    pub settings: ChannelSettings,
    #[serde(default)]
    pub secrets: Option<ChannelSecrets>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// Health of a channel, as relays experience it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelStatus {
    /// Configured, nothing sent yet.
    #[default]
    Unknown,
    Ok,
    /// Relays are failing; see `last_error`. Other channels are unaffected.
    Failing,
    #[serde(other)]
    Other,
}

/// A channel as the admin API shows it: settings and health, never secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelInfo {
    pub kind: ChannelKind,
    pub enabled: bool,
    pub settings: ChannelSettings,
    pub has_secrets: bool,
    pub status: ChannelStatus,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub failing_since: Option<i64>,
    /// The URL to register with the channel for inbound messages.
    pub webhook_url: String,
    pub updated_at: i64,
}

/// The result of `POST …/channels/{kind}/test`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelTestResult {
    pub ok: bool,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_validate() {
        let wa: ChannelSettings = serde_json::from_value(
            json!({"kind":"whatsapp","phone_number_id":"106540352242922",
            "agent_numbers":["+1 (650) 555-1234"],"template_name":"new_website_chat"}),
        )
        .unwrap();
        let ChannelSettings::Whatsapp {
            agent_numbers,
            graph_version,
            template_language,
            ..
        } = wa.validated().unwrap()
        else {
            panic!()
        };
        assert_eq!(agent_numbers, ["16505551234"]);
        assert_eq!(
            (graph_version.as_str(), template_language.as_str()),
            ("v23.0", "en_US")
        );
        let tg = ChannelSettings::Telegram {
            chat_id: 42,
            api_base: None,
        };
        assert!(tg.validated().is_err());
        let tg = ChannelSettings::Telegram {
            chat_id: -1001234567890,
            api_base: Some("http://127.0.0.1:9/".into()),
        }
        .validated()
        .unwrap();
        assert_eq!(tg.api_base(), "http://127.0.0.1:9");
        assert_eq!(
            ChannelSettings::Slack {
                channel_id: "C1".into(),
                api_base: None
            }
            .api_base(),
            "https://slack.com/api"
        );
        assert!(ChannelSettings::Slack {
            channel_id: "C1; drop".into(),
            api_base: None
        }
        .validated()
        .is_err());
        assert!(serde_json::from_value::<ChannelSettings>(
            json!({"kind":"slack","channel_id":"C1","bot_token":"x"})
        )
        .is_err());
    }

    #[test]
    fn secrets_are_never_debug_printed() {
        let s = ChannelSecrets::Slack {
            bot_token: "xoxb-secret".into(),
            signing_secret: "shh".into(),
        };
        assert!(!format!("{s:?}").contains("secret\""));
        assert!(!format!("{s:?}").contains("xoxb"));
        assert!(ChannelSecrets::Telegram {
            bot_token: "1:a".into(),
            webhook_secret: "bad secret!".into()
        }
        .validated()
        .is_err());
        assert!(ChannelSecrets::Slack {
            bot_token: " ".into(),
            signing_secret: "x".into()
        }
        .validated()
        .is_err());
    }
}
