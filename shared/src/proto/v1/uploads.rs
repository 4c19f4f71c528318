//! Uploads: a file is sent in parts ([`crate::media::PART_BYTES`] each, the last smaller), so a
//! dropped connection resumes from the last part instead of starting over. Create (or resume)
//! with `POST …/uploads`, `PUT` each missing part, then `POST …/complete`; the answer is the
//! [`Attachment`](super::Attachment) to put on a message.

use super::Attachment;
use crate::ids::{AttachmentId, ClientMsgId};
use serde::{Deserialize, Serialize};

crate::serde_reads!(CreateUpload);

/// `POST /api/v1/conversations/{id}/uploads`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateUpload {
    /// The sender's key for this file (reused on every retry): the same key is the same
    /// upload, so a file retried for one message is stored once.
    pub upload_key: ClientMsgId,
    pub name: String,
    /// Exact size in bytes.
    #[serde(deserialize_with = "crate::json::whole_number")]
    pub size: u64,
    /// What the sender believes the type is (advisory: the edge decides from the bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
}

/// Where an upload stands: the answer to create, to each part and to `GET`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct Upload {
    pub id: AttachmentId,
    pub name: String,
    pub size: u64,
    /// Every part but the last has exactly this many bytes.
    pub part_bytes: u64,
    pub parts: u32,
    /// Part numbers (1-based) already stored.
    pub received: Vec<u32>,
    /// Set once completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}
