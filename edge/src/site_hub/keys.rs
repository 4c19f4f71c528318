//! Revoking an admin key closes its sockets at once: the hub tags the inbox feeds it accepts
//! with their key, and remembers in which of the site's conversations a key opened a socket
//! (each conversation tells it, [`super::watch`]); a revoked key's feeds are closed here and
//! each of those conversations is told to close its sockets.

use super::SiteHub;
use crate::conversation::client::ConversationClient;
use crate::error::Result;
use beckon_shared::proto::v1::close;
use beckon_shared::ConversationId;
use serde::Deserialize;
use worker::SqlStorageValue;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS key_sockets (
  key          TEXT NOT NULL,
  conversation TEXT NOT NULL,
  at           INTEGER NOT NULL,
  PRIMARY KEY (key, conversation)
);
";

/// Forgotten after this long (sockets of an agent's tab reconnect, and so re-register,
/// far more often).
const KEEP_MS: i64 = 30 * 86_400_000;

/// The tag of a socket opened with `key`.
pub(super) fn tag(key: &str) -> String {
    format!("key:{key}")
}

impl SiteHub {
    /// `key` has a socket in `conversation`.
    pub(super) fn remember(&self, key: &str, conversation: &str, now: i64) -> Result<()> {
        let sql = self.state.storage().sql();
        sql.exec(
            "DELETE FROM key_sockets WHERE at < ?",
            vec![SqlStorageValue::Integer(now - KEEP_MS)],
        )?;
        sql.exec(
            "INSERT INTO key_sockets (key, conversation, at) VALUES (?, ?, ?)
             ON CONFLICT(key, conversation) DO UPDATE SET at = excluded.at",
            vec![
                key.into(),
                conversation.into(),
                SqlStorageValue::Integer(now),
            ],
        )?;
        Ok(())
    }

    /// Closes every socket of `key` on this site: its feeds here, and its sockets in the
    /// conversations it was seen in. Returns how many conversations were told.
    pub(super) async fn revoke(&self, key: &str) -> Result<usize> {
        for ws in self.state.get_websockets_with_tag(&tag(key)) {
            let _ = ws.close(Some(close::POLICY_VIOLATION), Some("this key was revoked"));
        }
        #[derive(Deserialize)]
        struct Row {
            conversation: String,
        }
        let sql = self.state.storage().sql();
        let rows: Vec<Row> = sql
            .exec(
                "SELECT conversation FROM key_sockets WHERE key = ?",
                vec![key.into()],
            )?
            .to_array()?;
        for row in &rows {
            if let Ok(id) = ConversationId::parse(&row.conversation) {
                ConversationClient::new(&self.env, &id)?
                    .close_key(key)
                    .await?;
            }
        }
        sql.exec("DELETE FROM key_sockets WHERE key = ?", vec![key.into()])?;
        Ok(rows.len())
    }
}
