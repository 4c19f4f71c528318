//! Frames of the inbox's live feed (`/api/v1/admin/sites/{site}/live`).

use super::{ConversationSummary, OnlineVisitor, Work};
use crate::ConversationId;

crate::tagged! {
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InboxEvent: tag "type", other Unknown {
    /// A conversation was created or changed (new message, read cursor).
    "conversation" => Conversation { summary: Box<ConversationSummary> },
    /// Who is on the site now (sent whenever it changes).
    "presence" => Presence { visitors: Vec<OnlineVisitor> },
    /// A conversation was assigned, closed, snoozed or opened again.
    "work" => Work { conversation_id: ConversationId, work: Work },
    /// A colleague left an internal note on a conversation (`GET …/notes` reads it).
    "note" => Note { conversation_id: ConversationId },
}
}
