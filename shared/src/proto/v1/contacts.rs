//! Known contacts: what the host page tells about a visitor (`Beckon.identify`), the contact
//! list, and writing first to a contact on their own channel.

use super::{ChannelKind, ErrorCode};
use crate::ids::VisitorId;
use serde::{Deserialize, Serialize};

/// `POST /api/v1/sites/{site}/identify` (visitor token): what the site's page knows about
/// the visitor (`Beckon.identify`), making them a known contact.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identify {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// With country code; anything but digits is dropped.
    #[serde(default)]
    pub phone: Option<String>,
}

impl Identify {
    pub fn validated(self) -> Result<Identify, (ErrorCode, String)> {
        let bad = |m: &str| Err((ErrorCode::BadRequest, m.to_owned()));
        let name = match self
            .name
            .as_deref()
            .map(|n| crate::text::normalize_label(n, 80))
        {
            Some(Err(_)) => return bad("name must be one line of at most 80 characters"),
            Some(Ok(n)) => n,
            None => None,
        };
        let email = self
            .email
            .map(|e| e.trim().to_ascii_lowercase())
            .filter(|e| !e.is_empty());
        if let Some(e) = &email {
            let ok = e.len() <= 254
                && e.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
                })
                && !e
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
            if !ok {
                return bad("email must be an address like ana@example.com");
            }
        }
        let phone = self
            .phone
            .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>())
            .filter(|p| !p.is_empty());
        if phone.as_ref().is_some_and(|p| !(7..=15).contains(&p.len())) {
            return bad("phone must be a number with country code, e.g. +49 151 12345678");
        }
        Ok(Identify { name, email, phone })
    }
}

/// A visitor the site identified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub visitor_id: VisitorId,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// Who they are on Telegram ("@username" or their name), present once they started the
    /// site's bot — the only way a bot may write to someone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telegram: Option<String>,
    pub last_seen_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// What they agreed to (or stopped) on each of their addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consents: Vec<Consent>,
}

/// Consent recorded for one of a contact's channel addresses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub channel: super::BroadcastChannel,
    /// `in` or `out`.
    pub status: String,
    /// `import`, `api`, `keyword` (STOP / START) or `widget`.
    pub source: String,
    pub at: i64,
}

/// A channel a business may use to write to a contact first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    /// The approved template from the business number (the only way to write first).
    Whatsapp,
    /// A private chat with the site's bot, for people who started it.
    Telegram,
}

impl ContactChannel {
    pub const ALL: [ContactChannel; 2] = [ContactChannel::Whatsapp, ContactChannel::Telegram];

    pub fn parse(s: &str) -> Option<ContactChannel> {
        ContactChannel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ContactChannel::Whatsapp => "whatsapp",
            ContactChannel::Telegram => "telegram",
        }
    }

    /// The site channel whose settings and credentials reach the contact.
    pub fn channel(self) -> ChannelKind {
        match self {
            ContactChannel::Whatsapp => ChannelKind::Whatsapp,
            ContactChannel::Telegram => ChannelKind::Telegram,
        }
    }
}

/// `POST /api/v1/admin/sites/{site}/contacts/{visitor_id}/conversations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactOutreach {
    pub channel: ContactChannel,
    pub body: String,
    #[serde(default)]
    pub author: Option<String>,
}
