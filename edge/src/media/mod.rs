//! Files in conversations (photos, videos, PDFs, documents), stored in R2 under their
//! conversation (`c/{conversation}/{attachment}`):
//! - [`sniff`] decides what a file is from its bytes (pure);
//! - [`serve`] answers a signed download with headers that never let a file run as a page;
//! - the upload lifecycle (parts, limits, completion, cleanup) is the conversation's own, in
//!   `conversation/uploads.rs`; the HTTP shell is `routes/uploads.rs`.

pub mod serve;
pub mod sniff;

use beckon_shared::{AttachmentId, ConversationId};

/// The R2 binding holding every file.
pub const BUCKET: &str = "MEDIA";

/// The object key of an attachment.
pub fn object_key(conversation: &ConversationId, id: &AttachmentId) -> String {
    format!("c/{conversation}/{id}")
}
