//! Frames of the inbox's live feed (`/api/v1/admin/sites/{site}/live`).

use super::{ConversationSummary, OnlineVisitor};

crate::tagged! {
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InboxEvent: tag "type", other Unknown {
    /// A conversation was created or changed (new message, read cursor).
    "conversation" => Conversation { summary: Box<ConversationSummary> },
    /// Who is on the site now (sent whenever it changes).
    "presence" => Presence { visitors: Vec<OnlineVisitor> },
}
}
