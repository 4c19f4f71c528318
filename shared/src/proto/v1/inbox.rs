//! Frames of the inbox's live feed (`/api/v1/admin/sites/{site}/live`): what the site's hub
//! tells every open inbox, and what an inbox tells it — which conversation is open in it and
//! whether its person is writing there, so colleagues do not answer the same visitor twice.

use super::{ConversationSummary, OnlineVisitor, Work};
use crate::ConversationId;
use serde::{Deserialize, Serialize};

/// An open inbox tab and where its person is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Viewer {
    /// This tab (a person may have several).
    pub tab: String,
    /// Who: a signed-in person's id, or an admin key's.
    pub person: String,
    pub name: String,
    /// The conversation open in the tab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<ConversationId>,
    /// Writing a reply there now.
    #[serde(default)]
    pub typing: bool,
}

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
    /// Which conversation every open inbox tab shows, sent when any of it changes; `you` is
    /// the receiving tab.
    "viewers" => Viewers { you: String, viewers: Vec<Viewer> },
}
}

crate::tagged! {
/// What an inbox tells the site's hub on its live feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedFrame: tag "type", other Unknown {
    /// The conversation open in this tab now (none: the list only), and whether its person is
    /// writing a reply there.
    "viewing" => Viewing {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conversation_id: Option<ConversationId>,
        #[serde(default)]
        typing: bool,
    },
    /// Keep-alive; answered with `pong`.
    "ping" => Ping,
}
}
