//! A stored chat message and the small types it is made of.

use crate::ids::{AttachmentId, ClientMsgId, ConversationId, MessageId, Seq};
use crate::media::FileType;
use serde::{Deserialize, Serialize};

crate::named! {
/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role: other Unknown {
    Visitor = "visitor",
    Agent = "agent",
    Bot = "bot",
    System = "system",
    /// A role this client version does not know.
    Unknown = "unknown",
}
}

impl Role {
    /// The role named `s` ([`Role::Unknown`] for any other name).
    pub fn parse(s: &str) -> Role {
        Role::named(s).unwrap_or(Role::Unknown)
    }
}

/// A file attached to a message (photo, video, PDF, document), as the edge stored it: its type
/// decided from its bytes, its name checked, its dimensions (images) recorded so a message list
/// can lay it out before it loads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Attachment {
    pub id: AttachmentId,
    pub name: String,
    #[serde(default = "unknown_type")]
    pub kind: FileType,
    pub mime: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// A short-lived signed URL, relative to the API's origin (filled in when the message is
    /// served; empty in storage).
    #[serde(default)]
    pub url: String,
    /// The conversation whose storage holds the bytes, when it is not the message's own (a
    /// broadcast's file, stored once and shared by every recipient's message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_in: Option<ConversationId>,
}

impl Attachment {
    /// The conversation whose storage holds the file of a message in `conversation`.
    pub fn holder<'a>(&'a self, conversation: &'a ConversationId) -> &'a ConversationId {
        self.held_in.as_ref().unwrap_or(conversation)
    }
}

fn unknown_type() -> FileType {
    FileType::Unknown
}

/// One message of a conversation, as stored by its Durable Object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Message {
    pub id: MessageId,
    /// Position in the conversation, gap-free from 1.
    pub seq: Seq,
    pub role: Role,
    pub body: String,
    /// Milliseconds since the Unix epoch, assigned by the edge.
    pub created_at: i64,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// The sender's idempotency key, when the sender supplied one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<ClientMsgId>,
    /// Display name of the agent or bot who wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The author's photo (a URL path on the edge), when a signed-in person with one wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// Where an agent wrote it: `inbox`, `telegram`, `slack`, `whatsapp`, `api`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// A broadcast's buttons: a reply (the label sent back as the visitor's message) or a
    /// link.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<crate::rules::CtaButton>,
}

impl Message {
    /// The message as one line of text: its body, or what its files are when it has no text
    /// ("Photo: shop.jpg", "Files: a.pdf, b.mp4") — for previews and text-only relays.
    pub fn as_text(&self) -> String {
        use crate::media::Family;
        if !self.body.is_empty() || self.attachments.is_empty() {
            return self.body.clone();
        }
        let names: Vec<&str> = self.attachments.iter().map(|a| a.name.as_str()).collect();
        let what = match (self.attachments.len(), self.attachments[0].kind.family()) {
            (1, Family::Image) => "Photo",
            (1, Family::Video) => "Video",
            (1, Family::Document) => "File",
            _ => "Files",
        };
        format!("{what}: {}", names.join(", "))
    }
}

/// How far each side has read, as the highest `seq` seen.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson,
)]
pub struct ReadCursors {
    pub visitor: Seq,
    pub agent: Seq,
}

crate::tagged! {
/// Who started a conversation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ConversationOrigin: tag "kind", other Unknown {
    /// The visitor wrote first.
    #[default]
    "visitor" => Visitor,
    /// The visitor replied to a proactive rule's teaser.
    "rule" => Rule { rule_id: String },
    /// An agent started it ("start new conversation").
    "agent" => Agent {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        author: Option<String>,
    },
    /// A broadcast started it (on the person's own channel).
    "broadcast" => Broadcast { broadcast_id: String },
}
}

impl ConversationOrigin {
    /// Every kind's wire name (the `kind` field), as the list's `origin` filter takes them.
    pub const KINDS: [&'static str; 4] = ["visitor", "rule", "agent", "broadcast"];

    /// Its wire name; empty for a kind this build does not know.
    pub fn kind(&self) -> &'static str {
        match self {
            ConversationOrigin::Visitor => "visitor",
            ConversationOrigin::Rule { .. } => "rule",
            ConversationOrigin::Agent { .. } => "agent",
            ConversationOrigin::Broadcast { .. } => "broadcast",
            _ => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ConversationOrigin;

    #[test]
    fn an_origins_kind_is_its_wire_name() {
        let all = [
            ConversationOrigin::Visitor,
            ConversationOrigin::Rule {
                rule_id: "r".into(),
            },
            ConversationOrigin::Agent { author: None },
            ConversationOrigin::Broadcast {
                broadcast_id: "b".into(),
            },
        ];
        for (o, kind) in all.iter().zip(ConversationOrigin::KINDS) {
            assert_eq!(serde_json::to_value(o).unwrap()["kind"], kind);
            assert_eq!(o.kind(), kind);
        }
        let unknown: ConversationOrigin = serde_json::from_str(r#"{"kind":"martian"}"#).unwrap();
        assert_eq!(unknown.kind(), "");
    }
}
