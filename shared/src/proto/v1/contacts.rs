//! Known contacts: what the host page tells about a visitor (`Beckon.identify`), the contact
//! list, and writing first to a contact on their own channel.

use super::{ChannelKind, ErrorCode};
use crate::ids::VisitorId;
use crate::limits::{MAX_CONTACT_NAME_CHARS, MAX_EMAIL_LEN};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/sites/{site}/identify`: what the site's page knows about the visitor
/// (`Beckon.identify`), making them a known contact. Without proof it is a claim (shown as
/// such to agents, never joining histories). With proof from the site's backend — `user_hash`
/// (hex HMAC-SHA256 of `user_id` under the site's identity secret) or `jwt` (HS256 under the
/// same secret, `sub` the user id, `exp` required) — the identity is verified, and the same
/// person on another browser or device gets their conversations back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Identify {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// With country code; anything but digits is dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The site's own id for the signed-in user (with `user_hash`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<String>,
    /// Answers to the site's pre-chat form, by field key: they become the contact's
    /// attributes (only the form's own fields, with answers they take).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attributes: std::collections::BTreeMap<String, String>,
}

/// The answer to `identify`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct IdentifyResult {
    /// The identity was proven by the site's backend.
    pub verified: bool,
    /// This person's visitor token, when it is not the one the call came with (they were
    /// known from another browser, or had no token yet): keep it from now on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_token: Option<String>,
    /// Their latest conversation, to continue here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<crate::ids::ConversationId>,
}

/// `PUT /api/v1/admin/sites/{site}/identity`: whether the site accepts verified identities
/// only, and whether to make a new identity secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct IdentitySettings {
    /// Unchanged when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// A new secret replaces the old one (proofs made with the old one stop working).
    #[serde(default)]
    pub rotate_secret: bool,
}

/// The answer: the secret is shown once, when it is made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct IdentitySecret {
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl Identify {
    /// Whether the call carries a proof of identity.
    pub fn has_proof(&self) -> bool {
        self.user_hash.is_some() || self.jwt.is_some()
    }

    pub fn validated(self) -> Result<Identify, (ErrorCode, String)> {
        let bad = |m: &str| Err((ErrorCode::BadRequest, m.to_owned()));
        let name = match self
            .name
            .as_deref()
            .map(|n| crate::text::normalize_label(n, MAX_CONTACT_NAME_CHARS))
        {
            Some(Err(_)) => {
                return bad(&format!(
                    "name must be one line of at most {MAX_CONTACT_NAME_CHARS} characters"
                ))
            }
            Some(Ok(n)) => n,
            None => None,
        };
        let email = self
            .email
            .map(|e| e.trim().to_ascii_lowercase())
            .filter(|e| !e.is_empty());
        if let Some(e) = &email {
            let ok = e.len() <= MAX_EMAIL_LEN
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
        // Compared exactly as the site's backend signed it: never trimmed.
        let user_id =
            match self.user_id {
                Some(u) if crate::text::normalize_label(&u, 128) == Ok(Some(u.clone())) => Some(u),
                Some(_) => return bad(
                    "user_id must be one line of 1 to 128 characters, without surrounding spaces",
                ),
                None => None,
            };
        let user_hash = self.user_hash.map(|h| h.trim().to_ascii_lowercase());
        if user_hash
            .as_ref()
            .is_some_and(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return bad("user_hash must be the hex HMAC-SHA256 of user_id (64 characters)");
        }
        if user_hash.is_some() != user_id.is_some() && self.jwt.is_none() {
            return bad("user_id and user_hash go together");
        }
        if self
            .jwt
            .as_ref()
            .is_some_and(|j| j.len() > 4096 || j.split('.').count() != 3)
        {
            return bad("jwt must be a compact JWT (header.payload.signature)");
        }
        Ok(Identify {
            name,
            email,
            phone,
            user_id,
            user_hash,
            jwt: self.jwt,
            attributes: self.attributes,
        })
    }
}

crate::serde_reads!(Contact);

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
    /// `messenger` and/or `instagram`: they wrote to the site's Page or Instagram account
    /// there, which lets the business answer them within Meta's windows.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient::list"
    )]
    pub meta: Vec<ContactChannel>,
    pub last_seen_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// IANA time zone, e.g. `Asia/Jakarta` (imported or set through the API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The site's own fields about them (an import's extra columns).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attributes: std::collections::BTreeMap<String, String>,
    /// What they agreed to (or stopped) on each of their addresses.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient::consents"
    )]
    pub consents: Vec<Consent>,
    /// The site's backend proved who they are (`Beckon.identify` with a proof); otherwise
    /// name, email and phone are what the page claimed.
    #[serde(default)]
    pub verified: bool,
}

/// Consent recorded for one of a contact's channel addresses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Consent {
    pub channel: super::BroadcastChannel,
    /// `in` or `out`.
    pub status: String,
    /// `import`, `api`, `keyword` (STOP / START), `widget` or `link` (an email's unsubscribe
    /// link).
    pub source: String,
    pub at: i64,
}

/// A channel a business may use to write to a contact first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    /// The approved template from the business number (the only way to write first).
    Whatsapp,
    /// A private chat with the site's bot, for people who started it.
    Telegram,
    /// The Facebook Page's conversation with someone who wrote to it (their page-scoped id).
    Messenger,
    /// The Instagram account's conversation with someone who wrote to it (their IGSID).
    Instagram,
    /// Their email address, through the site's email channel (replies come back to the
    /// conversation).
    Email,
}

/// Reading channels a newer edge may name: an unknown one is left out rather than failing
/// the whole answer (an inbox tab open across a deploy that adds a channel keeps working).
pub mod lenient {
    use super::ContactChannel;
    use serde::{Deserialize, Deserializer};

    /// An optional channel; unknown as none.
    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ContactChannel>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        Ok(s.as_deref().and_then(ContactChannel::parse))
    }

    /// Consents; those on a channel this build does not know are dropped. (Read through a
    /// plain struct: an untagged enum would buffer every value and cost the inbox ~20 KB.)
    pub fn consents<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<super::Consent>, D::Error> {
        #[derive(Deserialize, crate::json::FromJson)]
        struct Raw {
            channel: String,
            status: String,
            source: String,
            at: i64,
        }
        let all = Vec::<Raw>::deserialize(d)?;
        Ok(all
            .into_iter()
            .filter_map(|r| {
                Some(super::Consent {
                    channel: super::super::BroadcastChannel::parse(&r.channel)?,
                    status: r.status,
                    source: r.source,
                    at: r.at,
                })
            })
            .collect())
    }

    /// A list of channels; unknown ones dropped.
    pub fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ContactChannel>, D::Error> {
        let all = Vec::<String>::deserialize(d)?;
        Ok(all
            .iter()
            .filter_map(|s| ContactChannel::parse(s))
            .collect())
    }
}

impl ContactChannel {
    pub const ALL: [ContactChannel; 5] = [
        ContactChannel::Whatsapp,
        ContactChannel::Telegram,
        ContactChannel::Messenger,
        ContactChannel::Instagram,
        ContactChannel::Email,
    ];

    pub fn parse(s: &str) -> Option<ContactChannel> {
        ContactChannel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ContactChannel::Whatsapp => "whatsapp",
            ContactChannel::Telegram => "telegram",
            ContactChannel::Messenger => "messenger",
            ContactChannel::Instagram => "instagram",
            ContactChannel::Email => "email",
        }
    }

    /// The app's name as people write it.
    pub fn label(self) -> &'static str {
        match self {
            ContactChannel::Whatsapp => "WhatsApp",
            ContactChannel::Telegram => "Telegram",
            ContactChannel::Messenger => "Messenger",
            ContactChannel::Instagram => "Instagram",
            ContactChannel::Email => "Email",
        }
    }

    /// The site channel whose settings and credentials reach the contact.
    pub fn channel(self) -> ChannelKind {
        match self {
            ContactChannel::Whatsapp => ChannelKind::Whatsapp,
            ContactChannel::Telegram => ChannelKind::Telegram,
            ContactChannel::Messenger | ContactChannel::Instagram => ChannelKind::Messenger,
            ContactChannel::Email => ChannelKind::Email,
        }
    }
}

/// `POST /api/v1/admin/sites/{site}/contacts/{visitor_id}/conversations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct ContactOutreach {
    pub channel: ContactChannel,
    pub body: String,
    #[serde(default)]
    pub author: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_a_newer_edge_names_are_left_out_not_fatal() {
        #[derive(Deserialize)]
        struct Both {
            #[serde(default, deserialize_with = "lenient::option")]
            one: Option<ContactChannel>,
            #[serde(default, deserialize_with = "lenient::list")]
            many: Vec<ContactChannel>,
        }
        let b: Both =
            serde_json::from_str(r#"{"one": "carrier_pigeon", "many": ["instagram", "fax"]}"#)
                .unwrap();
        assert_eq!((b.one, b.many), (None, vec![ContactChannel::Instagram]));
        let b: Both = serde_json::from_str(r#"{"one": "telegram"}"#).unwrap();
        assert_eq!((b.one, b.many), (Some(ContactChannel::Telegram), vec![]));
        let b: Both = serde_json::from_str(r#"{"one": null}"#).unwrap();
        assert_eq!(b.one, None);
        #[derive(Deserialize)]
        struct Said {
            #[serde(deserialize_with = "lenient::consents")]
            consents: Vec<Consent>,
        }
        let said: Said = serde_json::from_str(
            r#"{"consents": [{"channel": "fax", "status": "out", "source": "keyword", "at": 1},
                             {"channel": "web", "status": "out", "source": "widget", "at": 2}]}"#,
        )
        .unwrap();
        assert_eq!(said.consents.len(), 1);
        assert_eq!(said.consents[0].at, 2);
    }
}
