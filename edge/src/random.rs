//! Randomness from the runtime's CSPRNG (`crypto.getRandomValues`), and the ids made from it.

use beckon_shared::{AttachmentId, BroadcastId, ConversationId, MessageId, VisitorId};
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

/// `N` cryptographically random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    get_random_values(&mut buf);
    buf
}

pub fn conversation_id() -> ConversationId {
    ConversationId::from_random(bytes())
}

pub fn visitor_id() -> VisitorId {
    VisitorId::from_random(bytes())
}

pub fn message_id() -> MessageId {
    MessageId::from_random(bytes())
}

pub fn broadcast_id() -> BroadcastId {
    BroadcastId::from_random(bytes())
}

pub fn audience_id() -> beckon_shared::AudienceId {
    beckon_shared::AudienceId::from_random(bytes())
}

/// A file stored outside any upload (a broadcast's).
pub fn attachment_id() -> AttachmentId {
    AttachmentId::from_random(bytes())
}

/// A short random identifier for rows that need no prefix semantics (admin key ids).
pub fn hex_id(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(bytes::<8>()))
}
