//! Files in conversations (photos, videos, PDFs, documents), stored in R2 under their
//! conversation (`c/{conversation}/{attachment}`):
//! - [`sniff`] decides what a file is from its bytes (pure);
//! - [`serve`] answers a signed download with headers that never let a file run as a page;
//! - the upload lifecycle (parts, limits, completion, cleanup) is the conversation's own, in
//!   `conversation/uploads.rs`; the HTTP shell is `routes/uploads.rs`;
//! - [`avatar`]: people's photos, beside their messages.

pub mod avatar;
pub mod serve;
pub mod sniff;

use crate::error::{Error, Result};
use beckon_shared::proto::v1::ErrorCode;
use beckon_shared::{AttachmentId, ConversationId};

/// What a file of `size` bytes is, from its first bytes (`head`), if Beckon takes it at that
/// size: every file — an upload's part 1, a channel's download — passes here.
pub fn check(head: &[u8], name: &str, size: u64) -> Result<sniff::Sniffed> {
    let s = sniff::sniff(head, name).map_err(|r| match r {
        sniff::Refusal::Empty => Error::bad_request(r.describe()),
        _ => Error::new(ErrorCode::UnsupportedFile, r.describe()),
    })?;
    let max = s.file_type.max_bytes();
    if size > max {
        return Err(Error::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "This {} is {} MB; at most {} MB.",
                s.file_type.label(),
                size.div_ceil(1 << 20),
                max >> 20
            ),
        ));
    }
    Ok(s)
}

/// The R2 binding holding every file.
pub const BUCKET: &str = "MEDIA";

/// Where a conversation's files are: every object key under this prefix.
pub fn conversation_prefix(conversation: &ConversationId) -> String {
    format!("c/{conversation}/")
}

/// The object key of an attachment.
pub fn object_key(conversation: &ConversationId, id: &AttachmentId) -> String {
    format!("{}{id}", conversation_prefix(conversation))
}
