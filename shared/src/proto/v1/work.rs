//! Working a conversation in the inbox: who has it, where it stands (open, snoozed until a
//! time, closed; a visitor's new message opens it again) and internal notes. All of it is the
//! business's own: it lives in the inbox's index, never in the conversation, so nothing of it
//! reaches the visitor or a channel.

use super::ErrorCode;
use crate::ConversationId;
use serde::{Deserialize, Serialize};

/// The longest a conversation may be snoozed.
pub const MAX_SNOOZE_MS: i64 = 90 * 24 * 3600 * 1000;

/// Where a conversation stands for the business.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, crate::json::FromJson,
)]
#[serde(rename_all = "snake_case")]
pub enum WorkStatus {
    #[default]
    Open,
    /// Out of the open list until `snoozed_until` (or the visitor's next message).
    Snoozed,
    Closed,
}

impl WorkStatus {
    pub const ALL: [WorkStatus; 3] = [WorkStatus::Open, WorkStatus::Snoozed, WorkStatus::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkStatus::Open => "open",
            WorkStatus::Snoozed => "snoozed",
            WorkStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<WorkStatus> {
        WorkStatus::ALL.into_iter().find(|w| w.as_str() == s)
    }
}

/// The person a conversation is assigned to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Assignee {
    /// The person's id (`pp_…`).
    pub id: String,
    pub name: String,
}

/// A conversation's state in the inbox.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Work {
    /// As it stands now: a snooze that ran out, or a visitor message after the conversation
    /// was snoozed or closed, makes it `open`.
    pub status: WorkStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Assignee>,
    /// Internal notes on the conversation.
    #[serde(default)]
    pub notes: u64,
    /// When the status was last set (0: never). A visitor message after it opens the
    /// conversation again.
    #[serde(default)]
    pub status_at: i64,
    /// The business's labels (lower-case, sorted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

crate::serde_reads!(WorkPatch);

/// `PATCH /api/v1/admin/conversations/{id}`: what to change (absent fields stay).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkPatch {
    /// `"me"` (the signed-in person), a person's id, or `null` for nobody.
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub assignee: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WorkStatus>,
    /// Required with `status: snoozed`: when it comes back (ms since the epoch, in the future,
    /// at most [`MAX_SNOOZE_MS`] ahead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<i64>,
    /// The conversation's tags, all of them (replacing those it had).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

impl WorkPatch {
    /// Checks the patch against the time `now`.
    pub fn validated(mut self, now: i64) -> Result<Self, String> {
        if self.assignee.is_none() && self.status.is_none() && self.tags.is_none() {
            return Err("nothing to change: give assignee, status and/or tags".into());
        }
        if let Some(tags) = &self.tags {
            self.tags = Some(
                crate::text::normalize_tags(tags.iter().map(String::as_str))
                    .map_err(|e| format!("tags: {e}"))?,
            );
        }
        match (self.status, self.snoozed_until) {
            (Some(WorkStatus::Snoozed), None) => {
                Err("status snoozed needs snoozed_until (ms since the epoch)".into())
            }
            (Some(WorkStatus::Snoozed), Some(t)) if t <= now || t > now + MAX_SNOOZE_MS => {
                Err("snoozed_until must be in the future, at most 90 days ahead".into())
            }
            (Some(WorkStatus::Snoozed), Some(_)) => Ok(self),
            (_, Some(_)) => Err("snoozed_until goes with status snoozed only".into()),
            _ => Ok(self),
        }
    }
}

/// `null` and absent told apart: `Some(None)` is "set to nobody".
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Option<String>>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref().and_then(Option::as_ref).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

/// An internal note: seen by the business's people only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Note {
    pub id: String,
    pub conversation_id: ConversationId,
    /// Who wrote it: a person's id, or an admin key's.
    pub author_id: String,
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

/// `POST /api/v1/admin/conversations/{id}/notes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    pub body: String,
}

impl NewNote {
    /// The body as a message's is taken: trimmed, 1 to [`MAX_MESSAGE_CHARS`] characters, no
    /// control characters but line breaks and tabs.
    pub fn validated(self) -> Result<String, ErrorCode> {
        crate::text::normalize_body(&self.body)
    }
}

/// The most saved replies a site keeps.
pub const MAX_SAVED_REPLIES: usize = 200;
/// The longest shortcut.
pub const MAX_SHORTCUT_CHARS: usize = 32;

/// A saved reply: a text agents insert by its shortcut (`/thanks`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct SavedReply {
    /// 1 to 32 of `a-z 0-9 - _` (a leading `/` is dropped, capitals made small).
    pub shortcut: String,
    pub body: String,
}

impl SavedReply {
    /// A shortcut as stored: trimmed, without a leading `/`, in lower case.
    pub fn normalized_shortcut(raw: &str) -> String {
        raw.trim().trim_start_matches('/').to_lowercase()
    }

    /// `raw` as stored, if it makes a shortcut (1 to [`MAX_SHORTCUT_CHARS`] of `a-z 0-9 - _`).
    pub fn checked_shortcut(raw: &str) -> Result<String, String> {
        let shortcut = Self::normalized_shortcut(raw);
        let fits = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if shortcut.is_empty() || shortcut.len() > MAX_SHORTCUT_CHARS || !shortcut.chars().all(fits)
        {
            return Err(format!(
                "a shortcut is 1 to {MAX_SHORTCUT_CHARS} of a-z, 0-9, - and _"
            ));
        }
        Ok(shortcut)
    }

    pub fn validated(self) -> Result<Self, String> {
        let shortcut = Self::checked_shortcut(&self.shortcut)?;
        let body = crate::text::normalize_body(&self.body)
            .map_err(|c| format!("the reply's text: {}", c.describe()))?;
        Ok(SavedReply { shortcut, body })
    }
}

/// `GET /api/v1/admin/conversations/{id}/notes`: oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct NoteList {
    pub notes: Vec<Note>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_are_checked() {
        let p = |s: &str| {
            serde_json::from_str::<WorkPatch>(s)
                .unwrap()
                .validated(1_000)
        };
        assert!(p("{}").is_err());
        assert_eq!(
            p(r#"{"assignee":null}"#).unwrap().assignee,
            Some(None),
            "null is nobody"
        );
        assert_eq!(
            p(r#"{"assignee":"me"}"#).unwrap().assignee,
            Some(Some("me".into()))
        );
        assert!(p(r#"{"status":"snoozed"}"#).is_err());
        assert!(p(r#"{"status":"snoozed","snoozed_until":999}"#).is_err());
        assert!(p(r#"{"status":"snoozed","snoozed_until":2000}"#).is_ok());
        assert!(p(r#"{"status":"closed","snoozed_until":2000}"#).is_err());
        assert!(p(r#"{"status":"closed"}"#).is_ok());
        assert!(serde_json::from_str::<WorkPatch>(r#"{"status":"gone"}"#).is_err());
        assert!(serde_json::from_str::<WorkPatch>(r#"{"owner":"me"}"#).is_err());
    }

    #[test]
    fn saved_replies_are_checked() {
        let r = |s: &str, b: &str| {
            SavedReply {
                shortcut: s.into(),
                body: b.into(),
            }
            .validated()
        };
        assert_eq!(r(" /Thanks ", " Thank you! ").unwrap().shortcut, "thanks");
        assert_eq!(r("ship-2", "x").unwrap().body, "x");
        assert!(r("", "x").is_err());
        assert!(r("two words", "x").is_err());
        assert!(r(&"a".repeat(33), "x").is_err());
        assert!(r("ok", " ").unwrap_err().contains("reply's text"));
        assert!(r("ok", "bell \u{7}").is_err());
    }

    #[test]
    fn notes_are_trimmed_and_capped() {
        let n = |s: String| NewNote { body: s }.validated();
        assert_eq!(n("  hi \n".into()).unwrap(), "hi");
        assert!(n("   ".into()).is_err());
        assert!(n("x".repeat(crate::limits::MAX_MESSAGE_CHARS + 1)).is_err());
        assert_eq!(n("a\r\nb".into()).unwrap(), "a\nb");
        assert_eq!(n("bell \u{7}".into()), Err(ErrorCode::InvalidText));
    }
}
