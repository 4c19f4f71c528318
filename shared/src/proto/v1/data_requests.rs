//! A person's data requests: everything the site holds about one visitor or contact, exported
//! as one JSON document (with links to their files), or deleted. Each request is logged: who
//! asked for what, about whom, when, and how much it covered.

use super::{Assignee, ConversationSummary, Message, Note};
use crate::VisitorId;
use serde::{Deserialize, Serialize};

/// What was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(rename_all = "snake_case")]
pub enum DataRequestKind {
    Export,
    Delete,
    #[serde(other)]
    Unknown,
}

impl DataRequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DataRequestKind::Export => "export",
            DataRequestKind::Delete => "delete",
            DataRequestKind::Unknown => "unknown",
        }
    }
}

/// One logged request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct DataRequest {
    pub id: String,
    pub visitor_id: VisitorId,
    pub kind: DataRequestKind,
    /// Who made it: a signed-in person or an admin key.
    pub by: Assignee,
    pub at: i64,
    /// How many conversations, messages and files it covered.
    pub conversations: u64,
    pub messages: u64,
    pub files: u64,
}

/// `GET /api/v1/admin/sites/{site}/data-requests`: newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct DataRequestList {
    pub requests: Vec<DataRequest>,
}

/// One of the person's conversations, whole.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, crate::json::FromJson)]
pub struct ExportedConversation {
    pub summary: ConversationSummary,
    /// Every message, oldest first; each file with a signed download link.
    pub messages: Vec<Message>,
    /// The business's internal notes on it.
    pub notes: Vec<Note>,
}

/// `GET /api/v1/admin/sites/{site}/contacts/{visitor_id}/export`: everything held about one
/// visitor or contact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, crate::json::FromJson)]
pub struct VisitorExport {
    pub site: crate::SiteKey,
    pub visitor_id: VisitorId,
    pub exported_at: i64,
    /// The file links in `conversations` work until then; export again for fresh ones.
    pub files_valid_until: i64,
    /// Their record, every field the site keeps (identity, channel addresses, attributes,
    /// tags, language, time zone, first and last seen).
    pub record: serde_json::Map<String, serde_json::Value>,
    /// Consent per channel address: what they agreed to or stopped, where, when.
    pub consents: Vec<serde_json::Value>,
    pub conversations: Vec<ExportedConversation>,
    /// The broadcasts planned for them: which, on what channel and address, the text they
    /// were sent and how far it got.
    pub broadcasts: Vec<serde_json::Value>,
    /// The page paths of their latest visit the site's hub keeps for the inbox's sidebar.
    #[serde(default)]
    pub pages: Vec<super::PageSeen>,
}
