//! What the widget keeps in the iframe's localStorage (our origin, partitioned per host site
//! by the browser): the visitor's token, the open conversation, and sends not yet
//! acknowledged — so a reload never loses a message.

use beckon_shared::transcript::Pending;
use beckon_shared::{ClientMsgId, ConversationId, SiteKey};
use serde::{Deserialize, Serialize};

#[derive(
    Clone, Debug, Default, PartialEq, Serialize, Deserialize, beckon_shared::json::FromJson,
)]
pub struct Saved {
    #[serde(default)]
    pub conversation_id: Option<ConversationId>,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub pending: Vec<SavedPending>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, beckon_shared::json::FromJson)]
pub struct SavedPending {
    pub id: ClientMsgId,
    pub body: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<beckon_shared::proto::v1::Attachment>,
    pub created_at: i64,
}

impl From<&Pending> for SavedPending {
    fn from(p: &Pending) -> Self {
        SavedPending {
            id: p.client_msg_id.clone(),
            body: p.body.clone(),
            attachments: p.attachments.clone(),
            created_at: p.created_at,
        }
    }
}

fn key(site: &SiteKey) -> String {
    format!("beckon:v1:{site}")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Loads the saved state; missing, blocked or corrupt storage reads as empty.
pub fn load(site: &SiteKey) -> Saved {
    storage()
        .and_then(|s| s.get_item(&key(site)).ok().flatten())
        .and_then(|text| beckon_shared::json::decode(&text).ok())
        .unwrap_or_default()
}

/// Saves the state; if storage is blocked the widget still works for this page view.
pub fn save(site: &SiteKey, saved: &Saved) {
    if let (Some(s), Ok(text)) = (storage(), serde_json::to_string(saved)) {
        let _ = s.set_item(&key(site), &text);
    }
}
