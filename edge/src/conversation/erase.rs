//! Deleting a conversation: what its broadcast messages came to written to D1 first, its files
//! in R2 (open uploads aborted first), its sockets closed, every row of its storage and its
//! alarm. The Worker then removes what D1 and the site's hub know of it (`routes/admin.rs`).

use super::Conversation;
use crate::error::{Error, Result};
use crate::media;

/// Close code for sockets of a deleted conversation (4000–4999: application codes).
const DELETED: u16 = 4404;

impl Conversation {
    /// Returns how many files it deleted.
    pub(super) async fn erase(&self) -> Result<u64> {
        let meta = self.meta()?;
        self.settle_broadcasts_before_erasing().await?;
        let mut files = 0;
        self.abort_open_uploads().await?;
        let bucket = self.env.bucket(media::BUCKET)?;
        let prefix = media::conversation_prefix(&meta.id);
        loop {
            let page = bucket
                .list()
                .prefix(prefix.clone())
                .limit(1000)
                .execute()
                .await?;
            let keys: Vec<String> = page.objects().iter().map(|o| o.key()).collect();
            if !keys.is_empty() {
                files += keys.len() as u64;
                bucket
                    .delete_multiple(keys.iter().map(String::as_str).collect())
                    .await
                    .map_err(|e| Error::internal(format!("deleting files: {e}")))?;
            }
            if keys.is_empty() || !page.truncated() {
                break;
            }
        }
        // Messages that took their turn before this are written (and deleted below); one
        // waiting for it after this finds the conversation gone.
        let _turn = self.send_turn.lock().await;
        self.state.storage().delete_alarm().await?;
        // After the last await: a socket opened while this waited is closed too. The list is
        // read first (after a hibernation it is not yet), so none is read back later.
        self.sockets.load(&self.state);
        for ws in self.state.get_websockets() {
            let _ = ws.close(Some(DELETED), Some("conversation deleted"));
            self.sockets.remove(&ws);
        }
        // Every row, not the tables: this instance keeps serving (with nothing) until evicted.
        self.state.storage().sql().exec(
            "DELETE FROM messages; DELETE FROM cursors; DELETE FROM uploads; DELETE FROM outbox;
             DELETE FROM deliveries; DELETE FROM threads; DELETE FROM in_flight;
             DELETE FROM broadcast_marks; DELETE FROM broadcast_reports; DELETE FROM meta;",
            None,
        )?;
        self.store.forget();
        self.outbox.store.forget();
        self.broadcasts.forget();
        self.flush.forget();
        Ok(files)
    }
}
