//! Channel settings: where a site's conversations are relayed. Each channel has a module with
//! its public settings and its secrets; this one lists the channels once ([`channels!`]) and
//! derives the kind, settings and secrets enums from that list. Settings and secrets are
//! separate types so secrets can never be serialized back to a client by accident: the API
//! returns [`ChannelInfo`], which has no secret fields at all.

mod discord;
mod email;
mod messenger;
mod slack;
mod telegram;
mod webhook;
mod whatsapp;

pub use discord::{DiscordSecrets, DiscordSettings};
pub use email::{check_address as email_address, EmailSecrets, EmailSettings, EMAIL_INPUT_PATTERN};
pub use messenger::{MessengerSecrets, MessengerSettings};
pub use slack::{SlackSecrets, SlackSettings};
pub use telegram::{TelegramSecrets, TelegramSettings};
pub use webhook::{
    secret_key as webhook_secret_key, PreviousSecret, WebhookDeliveries, WebhookDelivery,
    WebhookDeliveryStatus, WebhookSecrets, WebhookSettings, WEBHOOK_ROTATION_MS,
};
pub use whatsapp::{WhatsappSecrets, WhatsappSettings};

use super::ErrorCode;
use serde::{Deserialize, Serialize};

/// Declares the channels: for each, its variant, settings and secrets types, wire name,
/// display name and production API base. Adding a channel adds one line here.
macro_rules! channels {
    ($($Variant:ident($Settings:ident, $Secrets:ident) = $name:literal, $label:literal, $base:literal;)*) => {
        /// A messaging app conversations are relayed into.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, crate::json::FromJson)]
        #[serde(rename_all = "snake_case")]
        pub enum ChannelKind {
            $($Variant,)*
        }

        impl ChannelKind {
            pub const ALL: &'static [ChannelKind] = &[$(ChannelKind::$Variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ChannelKind::$Variant => $name,)*
                }
            }

            /// The app's name as people write it.
            pub fn label(self) -> &'static str {
                match self {
                    $(ChannelKind::$Variant => $label,)*
                }
            }

            /// The production API host, used when `api_base` is not set.
            pub fn default_api_base(self) -> &'static str {
                match self {
                    $(ChannelKind::$Variant => $base,)*
                }
            }
        }

        crate::serde_reads!(ChannelSettings);

        /// Non-secret settings of one channel (`{"kind": "<channel>", …}`).
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum ChannelSettings {
            $($Variant($Settings),)*
        }

        impl ChannelSettings {
            pub fn kind(&self) -> ChannelKind {
                match self {
                    $(ChannelSettings::$Variant(_) => ChannelKind::$Variant,)*
                }
            }

            /// The API base URL relays go to (the production host unless set).
            pub fn api_base(&self) -> &str {
                match self {
                    $(ChannelSettings::$Variant(s) => s.api_base(),)*
                }
            }

            /// Refuses an `api_base` on another host than the channel's official one, unless
            /// `loopback` allows a base on this machine (development and tests, where the
            /// channels' fakes run).
            pub fn check_api_host(&self, loopback: bool) -> Result<(), (ErrorCode, String)> {
                let official = host(self.kind().default_api_base());
                let base = self.api_base();
                if official.is_empty() {
                    // The business's own endpoint: any public https host.
                    let public = public_host(base);
                    return if public || (loopback && on_this_machine(base)) {
                        Ok(())
                    } else {
                        bad("url must be an https:// URL on a public host (http on this machine only in development, ALLOW_LOOPBACK_API_BASES=on)")
                    };
                }
                let official_ok = base.starts_with("https://") && host(base) == official;
                if official_ok || (loopback && on_this_machine(base)) {
                    Ok(())
                } else {
                    bad(&format!(
                        "api_base must be on {official} (other hosts only in development, ALLOW_LOOPBACK_API_BASES=on, and only on this machine)"
                    ))
                }
            }

            /// Checks and normalises the settings.
            pub fn validated(self) -> Result<Self, (ErrorCode, String)> {
                Ok(match self {
                    $(ChannelSettings::$Variant(s) => ChannelSettings::$Variant(s.validated()?),)*
                })
            }
        }

        crate::serde_reads!(ChannelSecrets);

        /// Secrets of one channel. Write-only: accepted by the API, never returned or logged.
        #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum ChannelSecrets {
            $($Variant($Secrets),)*
        }

        impl ChannelSecrets {
            pub fn kind(&self) -> ChannelKind {
                match self {
                    $(ChannelSecrets::$Variant(_) => ChannelKind::$Variant,)*
                }
            }

            pub fn validated(self) -> Result<Self, (ErrorCode, String)> {
                Ok(match self {
                    $(ChannelSecrets::$Variant(s) => ChannelSecrets::$Variant(s.validated()?),)*
                })
            }
        }

        impl ChannelSecrets {
            /// These new secrets replacing `old` at `now`: a webhook's replaced secret keeps
            /// signing for a while ([`WebhookSecrets::rotated`]); other channels' are simply
            /// replaced.
            pub fn replacing(self, old: Option<ChannelSecrets>, now: i64) -> ChannelSecrets {
                match (self, old) {
                    (ChannelSecrets::Webhook(new), Some(ChannelSecrets::Webhook(old))) => {
                        ChannelSecrets::Webhook(old.rotated(new, now))
                    }
                    (new, _) => new,
                }
            }
        }

        $(
            impl std::fmt::Debug for $Secrets {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(concat!(stringify!($Secrets), "(redacted)"))
                }
            }
        )*
    };
}

channels! {
    Telegram(TelegramSettings, TelegramSecrets) = "telegram", "Telegram", "https://api.telegram.org";
    Slack(SlackSettings, SlackSecrets) = "slack", "Slack", "https://slack.com/api";
    Whatsapp(WhatsappSettings, WhatsappSecrets) = "whatsapp", "WhatsApp", "https://graph.facebook.com";
    Discord(DiscordSettings, DiscordSecrets) = "discord", "Discord", "https://discord.com/api";
    Messenger(MessengerSettings, MessengerSecrets) = "messenger", "Messenger & Instagram", "https://graph.facebook.com";
    Email(EmailSettings, EmailSecrets) = "email", "Email", "https://api.resend.com";
    Webhook(WebhookSettings, WebhookSecrets) = "webhook", "Webhooks", "";
}

/// A channel's API base: the one set, or the production host (`default`).
fn base_or<'a>(set: &'a Option<String>, default: &'a str) -> &'a str {
    set.as_deref().unwrap_or(default).trim_end_matches('/')
}

impl ChannelKind {
    pub fn parse(s: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// Whether the channel relays conversations to the business's agents. Messenger does
    /// not: it reaches the people who write to the Page, in their own conversations.
    pub fn relays_to_agents(self) -> bool {
        self != ChannelKind::Messenger
    }
}

impl std::fmt::Debug for ChannelSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChannelSecrets({}, redacted)", self.kind().as_str())
    }
}

fn bad<T>(message: &str) -> Result<T, (ErrorCode, String)> {
    Err((ErrorCode::BadRequest, message.to_owned()))
}

/// A secret must be set, one line, at most 512 characters.
fn check_secret(value: &str) -> Result<(), (ErrorCode, String)> {
    if value.trim().is_empty() || value.len() > 512 || value.chars().any(char::is_control) {
        return bad("every secret must be set (at most 512 characters)");
    }
    Ok(())
}

/// The host (with port, if any) of an http(s) URL.
fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or("")
}

/// Whether an http(s) URL points at this machine (loopback).
fn on_this_machine(url: &str) -> bool {
    let h = host(url);
    let name = match h.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => h.split(':').next().unwrap_or(""),
    };
    matches!(name, "127.0.0.1" | "localhost" | "::1")
}

/// Whether an https URL's host is a public name or public IPv4 address. Refused: user
/// info (`user@host`), IPv6 literals, a trailing dot, single-label names, `localhost`,
/// `.local`, `.internal`, and any IPv4 form that is not four plain decimal octets
/// (`127.1`, `0x7f.0.0.1`, `010.0.0.1` all reach other addresses than they seem to) or
/// that is private, loopback, link-local or shared.
fn public_host(url: &str) -> bool {
    if !url.starts_with("https://") {
        return false;
    }
    let authority = url["https://".len()..]
        .split(['/', '?', '#', '\\'])
        .next()
        .unwrap_or("");
    if authority.contains('@') || authority.starts_with('[') {
        return false;
    }
    let name = match authority.rsplit_once(':') {
        Some((n, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => n,
        Some(_) => return false,
        None => authority,
    }
    .to_ascii_lowercase();
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return false;
    }
    let last = labels[labels.len() - 1];
    let numeric = last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x");
    if !numeric {
        return !matches!(last, "localhost" | "local" | "internal")
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    }
    let octets: Vec<u8> = labels
        .iter()
        .filter(|l| l.len() == 1 || !l.starts_with('0'))
        .filter_map(|l| l.parse().ok())
        .collect();
    match octets[..] {
        [a, b, _, _] if labels.len() == 4 => {
            !(a == 0
                || a == 10
                || a == 127
                || a >= 224
                || (a == 169 && b == 254)
                || (a == 172 && (16..32).contains(&b))
                || (a == 192 && b == 168)
                || (a == 100 && (64..128).contains(&b)))
        }
        _ => false,
    }
}

/// The Graph API version Meta's channels call by default.
fn default_graph_version() -> String {
    "v23.0".into()
}

/// A Graph API version: `v23.0`.
fn check_graph_version(version: &str) -> Result<(), (ErrorCode, String)> {
    let v = version.strip_prefix('v').unwrap_or("");
    let ok = v.split('.').count() == 2
        && v.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    match ok {
        true => Ok(()),
        false => bad("graph_version must look like v23.0"),
    }
}

fn check_api_base(api_base: &mut Option<String>) -> Result<(), (ErrorCode, String)> {
    if let Some(b) = api_base {
        let trimmed = b.trim().trim_end_matches('/').to_owned();
        let ok = (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
            && !trimmed.contains(char::is_whitespace)
            && trimmed.len() <= 200;
        if !ok {
            return bad("api_base must be an http(s) URL");
        }
        *b = trimmed;
    }
    Ok(())
}

/// `PUT /api/v1/admin/sites/{site}/channels/{kind}`: settings, and secrets when setting up or
/// rotating them (omit `secrets` to keep the stored ones).
#[derive(Clone, Debug, Serialize, Deserialize, crate::json::FromJson)]
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
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson,
)]
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

/// A channel as the admin API shows it: settings and health, never secrets. A client that
/// only shows the settings reads them as JSON (`ChannelInfo<serde_json::Value>`: the inbox
/// then carries no decoder for every channel's settings).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct ChannelInfo<S = ChannelSettings> {
    pub kind: ChannelKind,
    pub enabled: bool,
    pub settings: S,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
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
        let ChannelSettings::Whatsapp(wa) = wa.validated().unwrap() else {
            panic!()
        };
        assert_eq!(wa.agent_numbers, ["16505551234"]);
        assert_eq!(
            (wa.graph_version.as_str(), wa.template_language.as_str()),
            ("v23.0", "en_US")
        );
        let tg = ChannelSettings::Telegram(TelegramSettings {
            chat_id: 42,
            api_base: None,
        });
        assert!(tg.validated().is_err());
        let tg = ChannelSettings::Telegram(TelegramSettings {
            chat_id: -1001234567890,
            api_base: Some("http://127.0.0.1:9/".into()),
        })
        .validated()
        .unwrap();
        assert_eq!(tg.api_base(), "http://127.0.0.1:9");
        assert_eq!(
            serde_json::to_value(&tg).unwrap(),
            json!({"kind":"telegram","chat_id":-1001234567890i64,"api_base":"http://127.0.0.1:9"})
        );
        let slack = |id: &str| {
            ChannelSettings::Slack(SlackSettings {
                channel_id: id.into(),
                api_base: None,
            })
        };
        assert_eq!(slack("C1").api_base(), "https://slack.com/api");
        assert!(slack("C1; drop").validated().is_err());
        // A secret in the settings, or a field of another channel, is refused.
        assert!(serde_json::from_value::<ChannelSettings>(
            json!({"kind":"slack","channel_id":"C1","bot_token":"x"})
        )
        .is_err());
        assert!(serde_json::from_value::<ChannelSettings>(
            json!({"kind":"telegram","chat_id":-1,"channel_id":"C1"})
        )
        .is_err());
        assert_eq!(ChannelKind::parse("slack"), Some(ChannelKind::Slack));
        assert_eq!(ChannelKind::parse("fax"), None);
    }

    #[test]
    fn api_bases_stay_on_official_hosts_unless_development_allows_loopback() {
        let tg = |base: Option<&str>| {
            ChannelSettings::Telegram(TelegramSettings {
                chat_id: -1001234567890,
                api_base: base.map(str::to_owned),
            })
            .validated()
            .unwrap()
        };
        assert!(tg(None).check_api_host(false).is_ok());
        assert!(tg(Some("https://api.telegram.org"))
            .check_api_host(false)
            .is_ok());
        for (base, in_dev) in [
            ("http://127.0.0.1:9", true),
            ("http://localhost:8080/bot", true),
            ("http://[::1]:9", true),
            ("http://api.telegram.org", false),
            ("https://api.telegram.org.evil.example", false),
            ("https://evil.example/api.telegram.org", false),
            ("http://127.0.0.1.evil.example", false),
            ("https://10.0.0.7", false),
        ] {
            let s = tg(Some(base));
            let refused = s.check_api_host(false).unwrap_err();
            assert!(
                refused.1.contains("api.telegram.org"),
                "{base}: {refused:?}"
            );
            assert_eq!(s.check_api_host(true).is_ok(), in_dev, "{base}");
        }
    }

    #[test]
    fn secrets_are_never_debug_printed() {
        let s = ChannelSecrets::Slack(SlackSecrets {
            bot_token: "xoxb-secret".into(),
            signing_secret: "shh".into(),
        });
        assert!(!format!("{s:?}").contains("secret\""));
        assert!(!format!("{s:?}").contains("xoxb"));
        let inner = SlackSecrets {
            bot_token: "xoxb-secret".into(),
            signing_secret: "shh".into(),
        };
        assert!(!format!("{inner:?}").contains("xoxb"));
        assert!(ChannelSecrets::Telegram(TelegramSecrets {
            bot_token: "1:a".into(),
            webhook_secret: "bad secret!".into()
        })
        .validated()
        .is_err());
        let secret = |s: &str| {
            ChannelSecrets::Telegram(TelegramSecrets {
                bot_token: "1:a".into(),
                webhook_secret: s.into(),
            })
            .validated()
        };
        assert!(secret("x").is_err(), "a 1-character secret is refused");
        assert!(secret(&"a".repeat(31)).is_err());
        assert!(secret(&"a_B-9".repeat(7)).is_ok());
        assert!(ChannelSecrets::Slack(SlackSecrets {
            bot_token: " ".into(),
            signing_secret: "x".into()
        })
        .validated()
        .is_err());
    }
}
