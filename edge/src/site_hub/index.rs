//! The site's share of the D1 conversation index, written in batches: conversations publish
//! their summary here (at most about once a second each, see `conversation/index.rs`); the hub
//! keeps the newest of each in its own storage (so nothing is lost if it stops) and writes
//! them to D1 together, [`BATCH_MS`] after the first change of a quiet spell (what is left
//! goes at once after) — one statement for many conversations instead of one per change.
//! Their new text messages for the search index (`storage/search.rs`) wait and go the same
//! way.

use super::SiteHub;
use crate::error::{Error, Result};
use crate::storage::search::{self, Text};
use crate::{http, storage};
use beckon_shared::proto::v1::ConversationSummary;
use serde::Deserialize;
use worker::SqlStorageValue;

/// How long a summary waits for others to share its D1 write.
pub const BATCH_MS: i64 = 1_000;
/// Rows written to D1 per batch.
const BATCH_ROWS: i64 = 100;
/// After a failed D1 write, the next try.
const RETRY_MS: i64 = 10_000;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pending_index (
  id         TEXT PRIMARY KEY,
  summary    TEXT NOT NULL,
  last_seq   INTEGER NOT NULL,
  agent_read INTEGER NOT NULL,
  rev        INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS pending_texts (
  site_key        TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  at              INTEGER NOT NULL,
  body            TEXT NOT NULL,
  PRIMARY KEY (conversation_id, seq)
);
";

/// Texts written to D1 per batch.
const BATCH_TEXTS: i64 = 200;
/// The most batches an explicit flush writes before giving up.
const MAX_FLUSH_BATCHES: usize = 20;

#[derive(Deserialize)]
struct Pending {
    id: String,
    summary: String,
    rev: i64,
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

impl SiteHub {
    /// Keeps `summary` (raw JSON) for the next batch, unless a newer one of the same
    /// conversation is already waiting; makes sure the batch is scheduled.
    pub(super) async fn queue_index(&self, summary: &ConversationSummary, raw: &str) -> Result<()> {
        self.state.storage().sql().exec(
            "INSERT INTO pending_index (id, summary, last_seq, agent_read) VALUES (?, ?, ?, ?)
             ON CONFLICT(id) DO UPDATE SET summary = excluded.summary, last_seq = excluded.last_seq,
               agent_read = excluded.agent_read, rev = rev + 1
             WHERE excluded.last_seq > pending_index.last_seq
                OR (excluded.last_seq = pending_index.last_seq AND excluded.agent_read >= pending_index.agent_read)",
            vec![
                summary.id.as_str().into(),
                raw.into(),
                SqlStorageValue::Integer(summary.last_seq.0 as i64),
                SqlStorageValue::Integer(summary.agent_read_seq.0 as i64),
            ],
        )?;
        if !self.batch_scheduled.replace(true) {
            self.set_alarm(http::now_ms() + BATCH_MS).await;
        }
        Ok(())
    }

    /// Keeps a conversation's new text messages for the search index's next batch.
    pub(super) fn queue_texts(&self, s: &ConversationSummary, texts: &[Text]) -> Result<()> {
        // As few statements as their size allows (one, unless they are long).
        let mut rest = texts;
        while !rest.is_empty() {
            let (json, n) = storage::json_rows(rest)?;
            self.state.storage().sql().exec(
                "INSERT OR IGNORE INTO pending_texts (site_key, conversation_id, seq, at, body)
                 SELECT ?, ?, json_extract(value, '$.seq'), json_extract(value, '$.at'),
                        json_extract(value, '$.body')
                   FROM json_each(?) ORDER BY key",
                vec![s.site.as_str().into(), s.id.as_str().into(), json.into()],
            )?;
            rest = &rest[n..];
        }
        Ok(())
    }

    /// Drops a deleted conversation's summary and texts waiting for the index.
    pub(super) fn forget_index(&self, id: &str) -> Result<()> {
        let sql = self.state.storage().sql();
        sql.exec("DELETE FROM pending_index WHERE id = ?", vec![id.into()])?;
        sql.exec(
            "DELETE FROM pending_texts WHERE conversation_id = ?",
            vec![id.into()],
        )?;
        Ok(())
    }

    /// Sends a new inbox tab the summaries still waiting for the index (it loads the rest
    /// from D1).
    pub(super) fn send_pending(&self, ws: &worker::WebSocket) -> Result<()> {
        #[derive(Deserialize)]
        struct Row {
            summary: String,
        }
        let rows: Vec<Row> = self
            .state
            .storage()
            .sql()
            .exec("SELECT summary FROM pending_index", None)?
            .to_array()?;
        for r in rows {
            let _ = ws.send_with_str(format!(
                r#"{{"type":"conversation","summary":{}}}"#,
                r.summary
            ));
        }
        Ok(())
    }

    /// From the alarm: writes waiting summaries to D1, then forgets those not replaced
    /// meanwhile; comes back for the rest.
    pub(super) async fn write_index(&self) {
        self.batch_scheduled.set(false);
        let next = match self.write_batch().await {
            Ok(true) => Some(http::now_ms()),
            Ok(false) => None,
            Err(e) => {
                worker::console_error!("writing the conversation index failed: {e}");
                Some(http::now_ms() + RETRY_MS)
            }
        };
        if let Some(at) = next {
            self.batch_scheduled.set(true);
            self.set_alarm(at).await;
        }
    }

    /// One batch; whether more rows wait.
    async fn write_batch(&self) -> Result<bool> {
        let sql = self.state.storage().sql();
        let rows: Vec<Pending> = sql
            .exec(
                "SELECT id, summary, rev FROM pending_index LIMIT ?",
                vec![SqlStorageValue::Integer(BATCH_ROWS)],
            )?
            .to_array()?;
        let db = self.env.d1("DB")?;
        // The rows first, in their own statement: nothing on the search's side may hold up
        // the conversation list. Those replaced meanwhile (a newer `rev`) stay for the next.
        if !rows.is_empty() {
            let summaries = rows
                .iter()
                .map(|r| serde_json::from_str::<ConversationSummary>(&r.summary))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(Error::internal)?;
            let (upserts, n) = storage::conversations::upserts(&db, &summaries)?;
            upserts.run().await?;
            let written: Vec<(&str, i64)> =
                rows[..n].iter().map(|r| (r.id.as_str(), r.rev)).collect();
            sql.exec(
                "DELETE FROM pending_index WHERE (id, rev) IN
                   (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))",
                vec![serde_json::to_string(&written).map_err(Error::internal)?.into()],
            )?;
        }
        // Read only now, and sent without an await between: a conversation deleted while the
        // rows were written has had its texts dropped (`forget_index`), and they stay gone.
        let mut texts: Vec<search::Entry> = sql
            .exec(
                "SELECT site_key, conversation_id, seq, at, body FROM pending_texts
                 ORDER BY rowid LIMIT ?",
                vec![SqlStorageValue::Integer(BATCH_TEXTS)],
            )?
            .to_array()?;
        if texts.is_empty() {
            return self.left();
        }
        // As many as one statement carries, in the order they came; the rest go next.
        let (insert, n) = search::insert(&db, &texts)?;
        insert.run().await?;
        texts.truncate(n);
        // Forgotten by key (the same text queued again meanwhile is the same row).
        let keys: Vec<(&str, i64)> = texts
            .iter()
            .map(|e| (e.conversation_id.as_str(), e.seq))
            .collect();
        sql.exec(
            "DELETE FROM pending_texts WHERE (conversation_id, seq) IN
               (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))",
            vec![serde_json::to_string(&keys)
                .map_err(Error::internal)?
                .into()],
        )?;
        self.left()
    }

    /// Whether rows or texts still wait.
    fn left(&self) -> Result<bool> {
        let left: Count = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT (SELECT COUNT(*) FROM pending_index) + (SELECT COUNT(*) FROM pending_texts) AS n",
                None,
            )?
            .one()?;
        Ok(left.n > 0)
    }

    /// Writes everything waiting now (a caller reads the index next), a bounded number of
    /// batches; an error if D1 could not be written.
    pub(super) async fn write_all(&self) -> Result<()> {
        for _ in 0..MAX_FLUSH_BATCHES {
            if !self.write_batch().await? {
                return Ok(());
            }
        }
        Err(Error::internal(
            "the conversation index is too far behind to flush now",
        ))
    }

    async fn set_alarm(&self, at: i64) {
        if let Err(e) = self
            .state
            .storage()
            .set_alarm(crate::outbox::alarm_at(at))
            .await
        {
            self.batch_scheduled.set(false);
            worker::console_error!("setting the hub's alarm failed: {e}");
        }
    }
}
