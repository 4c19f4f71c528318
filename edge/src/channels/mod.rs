//! Channels: the messaging apps conversations are relayed into. Each one is a folder that
//! holds everything about it — `api.rs` (the sans-IO adapter: requests it builds, answers it
//! classifies), `mod.rs` (its configuration and delivery lifecycle: threads, templates,
//! windows, contacts, notices) and `webhook.rs` (inbound verification, parsing and routing).
//!
//! The rest of the edge talks to channels through [`Config`], one value per configured
//! channel (public settings and opened secrets together, so they cannot disagree): the outbox
//! calls [`Config::deliver`], the hooks route [`Config::webhook`], the settings route builds
//! and seals it. The channels are listed once, in the [`channels!`] invocation below.

pub mod api;
pub mod delivery;
pub mod discord;
pub mod email;
pub mod inbound;
pub mod messenger;
pub mod meta;
pub mod multipart;
pub mod set;
pub mod slack;
pub mod telegram;
pub mod webhook;
pub mod whatsapp;

pub use api::{ApiRequest, ApiResponse, Failure, Inbound, InboundFile, Relay, RelayFile};
pub use delivery::{Content, Delivery, Envelope, Recipient, SiteEvent};
pub use inbound::{FileSource, Hook};

use crate::error::{Error, Result};
use beckon_shared::proto::v1::{ChannelKind, ChannelSecrets, ChannelSettings, ContactChannel};
use serde::{Deserialize, Serialize};
use worker::{Request, Response};

/// What one channel does. Implemented by each channel's configuration type; the edge reaches
/// it through [`Config`]. (Its futures need not be `Send`: a Worker is single-threaded.)
#[allow(async_fn_in_trait)]
pub trait Driver {
    /// Whether the channel's webhook answers `GET` (a subscription handshake).
    const HANDSHAKE: bool = false;

    /// Sends the delivery's content to its target on this channel, recording each recipient
    /// served in the delivery's ledger (a retry never serves one twice).
    async fn deliver(&self, d: &Delivery<'_>) -> std::result::Result<(), Failure>;

    /// Verifies an inbound webhook over its raw body, then acts on it through `hook`.
    async fn webhook(&self, req: Request, hook: &Hook<'_>) -> Result<Response>;

    /// Downloads a file of an inbound message, at most `max_bytes` (a channel that cannot
    /// refuses it, and the message arrives with a note instead).
    async fn download(
        &self,
        _file: &InboundFile,
        _max_bytes: u64,
        _timeout_ms: u64,
    ) -> std::result::Result<Vec<u8>, Failure> {
        Err(Failure::Rejected {
            reason: "this channel's files are not downloaded".into(),
        })
    }

    /// Adjusts the answer to a refused or failed webhook request (`error`) to the channel's
    /// retry conventions.
    fn refusal(resp: Response, _error: &Error) -> worker::Result<Response> {
        Ok(resp)
    }
}

/// Lists the channels: `Variant(module::Type)`. Adding a channel adds one line here (and its
/// settings in `beckon_shared::proto::v1::channels`).
macro_rules! channels {
    ($($Variant:ident($module:ident::$Type:ident)),* $(,)?) => {
        /// A site's channel: settings and secrets together, ready to use.
        #[derive(Clone, Debug)]
        pub enum Config {
            $($Variant($module::$Type),)*
        }

        impl Config {
            /// Pairs settings with secrets of the same channel; anything else is refused.
            pub fn new(settings: ChannelSettings, secrets: ChannelSecrets) -> Result<Config> {
                match (settings, secrets) {
                    $((ChannelSettings::$Variant(s), ChannelSecrets::$Variant(k)) => {
                        Ok(Config::$Variant($module::$Type { settings: s, secrets: k }))
                    })*
                    (s, k) => Err(Error::bad_request(format!(
                        "secrets.kind must be {} (the settings' kind), not {}",
                        s.kind().as_str(),
                        k.kind().as_str()
                    ))),
                }
            }

            pub fn kind(&self) -> ChannelKind {
                match self {
                    $(Config::$Variant(_) => ChannelKind::$Variant,)*
                }
            }

            /// The public settings (what the admin API shows).
            pub fn settings(&self) -> ChannelSettings {
                match self {
                    $(Config::$Variant(c) => ChannelSettings::$Variant(c.settings.clone()),)*
                }
            }

            /// The secrets, for sealing before they are stored.
            pub fn secrets(&self) -> ChannelSecrets {
                match self {
                    $(Config::$Variant(c) => ChannelSecrets::$Variant(c.secrets.clone()),)*
                }
            }

            pub async fn deliver(&self, d: &Delivery<'_>) -> std::result::Result<(), Failure> {
                match self {
                    $(Config::$Variant(c) => c.deliver(d).await,)*
                }
            }

            pub async fn webhook(&self, req: Request, hook: &Hook<'_>) -> Result<Response> {
                match self {
                    $(Config::$Variant(c) => c.webhook(req, hook).await,)*
                }
            }

            /// The answer to a webhook request of `kind` that failed with `error`.
            pub fn refusal(kind: ChannelKind, error: &Error) -> worker::Result<Response> {
                let resp = crate::http::error_response(error)?;
                match kind {
                    $(ChannelKind::$Variant => <$module::$Type as Driver>::refusal(resp, error),)*
                }
            }

            /// Whether `kind`'s webhook answers `GET` as well as `POST`.
            pub fn has_handshake(kind: ChannelKind) -> bool {
                match kind {
                    $(ChannelKind::$Variant => <$module::$Type as Driver>::HANDSHAKE,)*
                }
            }
        }
    };
}

channels! {
    Telegram(telegram::Telegram),
    Slack(slack::Slack),
    Whatsapp(whatsapp::Whatsapp),
    Discord(discord::Discord),
    Messenger(messenger::Messenger),
    Email(email::Email),
    Webhook(webhook::Webhook),
}

/// Where an outgoing item goes on a channel: the site's agents there (a thread per
/// conversation), or a contact the business writes to on their own account there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Agents(ChannelKind),
    Contact(ChannelKind),
}

impl Target {
    pub fn channel(self) -> ChannelKind {
        match self {
            Target::Agents(k) | Target::Contact(k) => k,
        }
    }

    /// As stored in the outbox (and shown in the admin API's relay view): `telegram`, or
    /// `contact:telegram`.
    pub fn as_str(self) -> String {
        match self {
            Target::Agents(k) => k.as_str().to_owned(),
            Target::Contact(k) => format!("contact:{}", k.as_str()),
        }
    }

    pub fn parse(s: &str) -> Option<Target> {
        match s.strip_prefix("contact:") {
            Some(k) => ChannelKind::parse(k).map(Target::Contact),
            // Rows written before contacts had other channels than WhatsApp.
            None if s == "contact" => Some(Target::Contact(ChannelKind::Whatsapp)),
            None => ChannelKind::parse(s).map(Target::Agents),
        }
    }
}

/// A contact's address on their own channel: where the business's messages in a conversation
/// held there are relayed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRoute {
    pub channel: ContactChannel,
    pub address: String,
}

impl ContactRoute {
    pub fn target(&self) -> Target {
        Target::Contact(self.channel.channel())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip_and_read_old_rows() {
        for t in [
            Target::Agents(ChannelKind::Slack),
            Target::Contact(ChannelKind::Telegram),
            Target::Contact(ChannelKind::Whatsapp),
        ] {
            assert_eq!(Target::parse(&t.as_str()), Some(t));
        }
        assert_eq!(
            Target::parse("contact"),
            Some(Target::Contact(ChannelKind::Whatsapp))
        );
        assert_eq!(Target::parse("contact:fax"), None);
        assert_eq!(
            Target::Contact(ChannelKind::Telegram).as_str(),
            "contact:telegram"
        );
    }
}
