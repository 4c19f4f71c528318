//! What the Worker and the Conversation object say to each other: the conversation's fixed
//! facts ([`Meta`]), who is calling ([`Principal`]), a message to post ([`PostRequest`]) and
//! a channel's delivery status ([`StatusReport`]).

use crate::channels::ContactRoute;
use crate::outbox::policy::DeliveryStatus;
use beckon_shared::proto::v1::{Attachment, ConversationOrigin, KeySites, Role};
use beckon_shared::{AttachmentId, ClientMsgId, ConversationId, SiteKey, VisitorId};
use serde::{Deserialize, Serialize};

/// Fixed facts about a conversation, written once at creation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    pub id: ConversationId,
    pub site: SiteKey,
    pub visitor_id: VisitorId,
    pub origin: ConversationOrigin,
    pub page_url: Option<String>,
    pub created_at: i64,
    /// The proactive message the visitor answered; stored as the first message (role `bot`).
    #[serde(default)]
    pub opening: Option<String>,
    /// For a conversation the business started on a contact's own channel: where the
    /// business's messages are relayed.
    #[serde(default)]
    pub contact: Option<ContactRoute>,
}

/// Who is calling, as established by the Worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Principal {
    Visitor {
        /// The site the visitor's token was issued for.
        site: SiteKey,
        visitor_id: VisitorId,
    },
    Agent {
        #[serde(default)]
        name: Option<String>,
        /// A signed-in person's photo (its URL path), drawn beside their messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        avatar: Option<String>,
        /// Where the agent writes from (`inbox`, `api`, a channel's name, …).
        via: String,
        /// The admin key that authorized the call (`env` for the master key), or what the
        /// system acts as (`channel`, `broadcast`): sockets are tagged with it, so revoking
        /// a key closes them.
        key: String,
        /// The sites the agent may act on; the conversation refuses others.
        sites: KeySites,
    },
}

impl Principal {
    /// The business acting through one of its own trusted paths (a channel's verified
    /// webhook, a broadcast): no admin key, every site.
    pub fn system(via: &str, name: Option<String>) -> Principal {
        Principal::Agent {
            name,
            avatar: None,
            via: via.into(),
            key: via.into(),
            sites: KeySites::All,
        }
    }

    /// The agent's display name, if any.
    pub fn name(&self) -> Option<&str> {
        match self {
            Principal::Agent { name, .. } => name.as_deref(),
            Principal::Visitor { .. } => None,
        }
    }

    pub fn role(&self) -> Role {
        match self {
            Principal::Visitor { .. } => Role::Visitor,
            Principal::Agent { .. } => Role::Agent,
        }
    }
}

/// An internal "post a message" request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PostRequest {
    pub principal: Principal,
    pub body: String,
    pub client_msg_id: Option<ClientMsgId>,
    #[serde(default)]
    pub attachments: Vec<AttachmentId>,
    /// Files stored elsewhere already (a broadcast's), attached as they are.
    #[serde(default)]
    pub files: Vec<Attachment>,
    /// The message is a broadcast's, to this recipient.
    #[serde(default)]
    pub broadcast: Option<crate::broadcast::Mark>,
    /// Answer only once its relays were attempted (a broadcast's sender keeps pace with the
    /// channels this way).
    #[serde(default)]
    pub relay_first: bool,
}

/// What a message may carry besides its text and its sender's uploads.
#[derive(Default)]
pub(crate) struct Extras<'a> {
    pub files: &'a [Attachment],
    pub broadcast: Option<&'a crate::broadcast::Mark>,
}

/// A delivery status a channel reported for one of our relayed messages.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StatusReport {
    pub remote_id: String,
    pub status: DeliveryStatus,
    /// Set when the channel refused the message in the form it was sent and it goes out
    /// again in the channel's fallback form: why.
    #[serde(default)]
    pub fallback: Option<String>,
    /// The contact the channel says it went to, and when it happened (ms): if no delivery
    /// of ours is recorded under `remote_id`, it may be a send whose fate was left unknown
    /// (`Outbox::arrived_after_all`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<crate::channels::ContactRoute>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
}

pub(crate) const PRINCIPAL_HEADER: &str = "x-beckon-principal";
