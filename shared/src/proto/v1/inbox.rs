//! Frames of the inbox's live feed (`/api/v1/admin/sites/{site}/live`).

use super::{ConversationSummary, OnlineVisitor};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboxEvent {
    /// A conversation was created or changed (new message, read cursor).
    Conversation { summary: Box<ConversationSummary> },
    /// Who is on the site now (sent whenever it changes).
    Presence { visitors: Vec<OnlineVisitor> },
    /// A frame this client version does not know.
    #[serde(other)]
    Unknown,
}
