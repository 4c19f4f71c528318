//! Identifiers as newtypes. Each one validates on construction *and* on deserialization, so a
//! malformed id in a frame or URL is rejected at the boundary instead of deep inside a handler.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    /// Which kind of id was expected (`"conversation id"`, …).
    pub kind: &'static str,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a valid {}", self.kind)
    }
}

impl std::error::Error for IdError {}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn is_random_id(s: &str, prefix: &str) -> bool {
    s.len() == prefix.len() + 32
        && s.starts_with(prefix)
        && s.as_bytes()[prefix.len()..]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

fn hex_with_prefix(prefix: &str, bytes: [u8; 16]) -> String {
    let mut s = String::with_capacity(prefix.len() + 32);
    s.push_str(prefix);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $valid:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates `s` as this kind of id.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                let valid: fn(&str) -> bool = $valid;
                if valid(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(IdError { kind: $kind })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl $crate::json::FromJson for $name {
            fn from_json(v: $crate::json::Value) -> Result<Self, $crate::json::Error> {
                let s = <String as $crate::json::FromJson>::from_json(v)?;
                Self::parse(&s).map_err(|e| $crate::json::error(|| e.to_string()))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $prefix:literal) => {
        string_id!($(#[$doc])* $name, $kind, |s| is_random_id(s, $prefix));

        impl $name {
            /// The id's fixed prefix, e.g. `c_` for conversations.
            pub const PREFIX: &'static str = $prefix;

            /// Builds an id from 16 random bytes supplied by the caller (the edge uses the
            /// runtime's CSPRNG; this crate stays free of I/O).
            pub fn from_random(bytes: [u8; 16]) -> Self {
                Self(hex_with_prefix($prefix, bytes))
            }
        }
    };
}

random_id!(
    /// A conversation: `c_` + 32 hex digits. One Durable Object per conversation.
    ConversationId,
    "conversation id",
    "c_"
);
random_id!(
    /// An anonymous website visitor: `v_` + 32 hex digits.
    VisitorId,
    "visitor id",
    "v_"
);
random_id!(
    /// A file in a conversation: `a_` + 32 hex digits, derived from the conversation and the
    /// sender's upload key (so a retried upload is the same file).
    AttachmentId,
    "attachment id",
    "a_"
);
random_id!(
    /// A broadcast: `b_` + 32 hex digits.
    BroadcastId,
    "broadcast id",
    "b_"
);
random_id!(
    /// A saved audience of a site's contacts: `u_` + 32 hex digits.
    AudienceId,
    "audience id",
    "u_"
);
random_id!(
    /// A stored message: `m_` + 32 hex digits, assigned by the conversation's Durable Object.
    MessageId,
    "message id",
    "m_"
);

string_id!(
    /// A site's public key, as in `data-site="demo"`: 1–40 of `a-z 0-9 -`, starting with a
    /// letter or digit.
    SiteKey,
    "site key",
    |s| {
        !s.is_empty()
            && s.len() <= crate::limits::MAX_SITE_KEY_LEN
            && s.as_bytes()[0].is_ascii_alphanumeric()
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }
);

string_id!(
    /// A client-generated message id: the **idempotency key** of a send. The sender picks it
    /// (1–64 of `A-Z a-z 0-9 _ -`, a UUID is typical) and reuses it on every retry of the same
    /// message; the conversation stores the message once and answers a repeat with the
    /// original `seq`.
    ClientMsgId,
    "client message id",
    |s| {
        !s.is_empty()
            && s.len() <= crate::limits::MAX_CLIENT_MSG_ID_LEN
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }
);

impl ClientMsgId {
    /// Ids starting with this are derived from channel events (a redelivered webhook stores its
    /// message once); clients may not use them.
    pub const CHANNEL_PREFIX: &'static str = "ch_";

    /// Whether this id is in the channels' namespace.
    pub fn is_reserved(&self) -> bool {
        self.as_str().starts_with(Self::CHANNEL_PREFIX)
    }
}

string_id!(
    /// A proactive rule's id within its site: 1–40 of `a-z 0-9 _ -`.
    RuleId,
    "rule id",
    |s| {
        !s.is_empty()
            && s.len() <= 40
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    }
);

/// A message's position in its conversation: 1, 2, 3, … with no gaps. `Seq(0)` means
/// "nothing yet" and is what a fresh client resumes from.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    crate::json::FromJson,
)]
#[serde(transparent)]
pub struct Seq(pub u64);

impl Seq {
    pub const ZERO: Seq = Seq(0);

    pub fn next(self) -> Seq {
        Seq(self.0 + 1)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_round_trip_and_validate() {
        let id = ConversationId::from_random([0xab; 16]);
        assert_eq!(id.as_str(), "c_abababababababababababababababab");
        assert_eq!(ConversationId::parse(id.as_str()), Ok(id.clone()));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<ConversationId>(&json).unwrap(), id);
        for bad in [
            "",
            "c_",
            "c_ABABABABABABABABABABABABABABABAB",
            "v_abababababababababababababababab",
            "c_abab",
        ] {
            assert!(ConversationId::parse(bad).is_err(), "{bad:?} accepted");
            assert!(serde_json::from_str::<ConversationId>(&format!("{bad:?}")).is_err());
        }
    }

    #[test]
    fn site_keys() {
        for ok in ["demo", "acme-shop", "a", "x1"] {
            assert!(SiteKey::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-demo", "Demo", "de mo", "demo/x", &"a".repeat(41)] {
            assert!(SiteKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_msg_ids() {
        assert!(ClientMsgId::parse("0f6c1a4e-2b1d-4a59-9f7e-1f0a3c2d4e5f").is_ok());
        assert!(ClientMsgId::parse(&"a".repeat(64)).is_ok());
        for bad in ["", "has space", "semi;colon", &"a".repeat(65)] {
            assert!(ClientMsgId::parse(bad).is_err(), "{bad}");
        }
    }
}
