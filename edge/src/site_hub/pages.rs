//! The pages a visitor who chatted opened, for the inbox's sidebar ("this visit": pages
//! without a half-hour gap between them).
//! Only visitors whose chat app names them with their token (they chatted or were identified),
//! only page paths (the presence frame's URL already stripped of host, query and fragment),
//! at most [`MAX_PAGES_SEEN`] per visitor, forgotten after a day — or at once when the
//! visitor's data is deleted, after which their token names nobody here.

use super::SiteHub;
use crate::error::Result;
use beckon_shared::proto::v1::{OnlineVisitor, PageSeen, MAX_PAGES_SEEN};
use serde::Deserialize;
use worker::SqlStorageValue;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pages_seen (
  visitor TEXT NOT NULL,
  since   INTEGER NOT NULL,
  url     TEXT NOT NULL,
  at      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS pages_seen_by_visitor ON pages_seen (visitor, at);
CREATE INDEX IF NOT EXISTS pages_seen_by_age ON pages_seen (at);
CREATE TABLE IF NOT EXISTS forgotten_visitors (
  visitor TEXT PRIMARY KEY,
  at      INTEGER NOT NULL
);
";

/// A deleted visitor's token still verifies until it expires: their pages are not kept
/// again for this long (a token's lifetime).
const FORGET_MS: i64 = crate::auth::VISITOR_TOKEN_TTL_MS;

/// Kept this long.
const KEEP_MS: i64 = 86_400_000;
/// A page this long after the last one starts another visit.
const VISIT_GAP_MS: i64 = 30 * 60_000;

#[derive(Deserialize)]
struct Row {
    since: i64,
    url: String,
    at: i64,
}

impl SiteHub {
    /// `visitor` is on `url` now. A page told again (a socket reconnecting) is kept once.
    pub(super) fn page_seen(&self, visitor: &str, url: &str, now: i64) -> Result<()> {
        self.prune_pages(now)?;
        let sql = self.state.storage().sql();
        let last: Vec<Row> = sql
            .exec(
                "SELECT since, url, at FROM pages_seen WHERE visitor = ? ORDER BY at DESC LIMIT 1",
                vec![visitor.into()],
            )?
            .to_array()?;
        // One visit: pages without a gap of half an hour (the chat app knows the visit's
        // start only on sites that remember visitors).
        let since = match last.first() {
            Some(r) if now - r.at < VISIT_GAP_MS => r.since,
            _ => now,
        };
        if last
            .first()
            .is_some_and(|r| r.url == url && r.since == since)
        {
            return Ok(());
        }
        sql.exec(
            "INSERT INTO pages_seen (visitor, since, url, at) VALUES (?, ?, ?, ?)",
            vec![
                visitor.into(),
                SqlStorageValue::Integer(since),
                url.into(),
                SqlStorageValue::Integer(now),
            ],
        )?;
        sql.exec(
            "DELETE FROM pages_seen WHERE visitor = ? AND rowid NOT IN
               (SELECT rowid FROM pages_seen WHERE visitor = ? ORDER BY at DESC LIMIT ?)",
            vec![
                visitor.into(),
                visitor.into(),
                SqlStorageValue::Integer(MAX_PAGES_SEEN as i64),
            ],
        )?;
        Ok(())
    }

    /// Drops what is older than a day (also from the hub's alarm, so a quiet site keeps
    /// nothing longer), and forgotten visitors whose tokens have expired.
    pub(super) fn prune_pages(&self, now: i64) -> Result<()> {
        let sql = self.state.storage().sql();
        sql.exec(
            "DELETE FROM pages_seen WHERE at < ?",
            vec![SqlStorageValue::Integer(now - KEEP_MS)],
        )?;
        sql.exec(
            "DELETE FROM forgotten_visitors WHERE at < ?",
            vec![SqlStorageValue::Integer(now - FORGET_MS)],
        )?;
        Ok(())
    }

    /// The pages of `visitor`'s latest visit within the last day, oldest first.
    pub(super) fn pages_seen(&self, visitor: &str, now: i64) -> Result<Vec<PageSeen>> {
        let rows: Vec<Row> = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT since, url, at FROM pages_seen WHERE visitor = ? AND at >= ?
                   AND since = (SELECT MAX(since) FROM pages_seen WHERE visitor = ?)
                 ORDER BY at",
                vec![
                    visitor.into(),
                    SqlStorageValue::Integer(now - KEEP_MS),
                    visitor.into(),
                ],
            )?
            .to_array()?;
        Ok(rows
            .into_iter()
            .map(|r| PageSeen {
                url: r.url,
                at: r.at,
            })
            .collect())
    }

    /// Everything kept of `visitor` (their data is being deleted), and nothing more from
    /// now on: their open pages stop naming them, and their token no longer does here.
    pub(super) async fn forget_pages(&self, visitor: &str, now: i64) -> Result<()> {
        let sql = self.state.storage().sql();
        sql.exec(
            "DELETE FROM pages_seen WHERE visitor = ?",
            vec![visitor.into()],
        )?;
        sql.exec(
            "INSERT INTO forgotten_visitors (visitor, at) VALUES (?, ?)
             ON CONFLICT(visitor) DO UPDATE SET at = excluded.at",
            vec![visitor.into(), SqlStorageValue::Integer(now)],
        )?;
        let mut changed = false;
        for ws in self.state.get_websockets_with_tag(super::VISITOR) {
            if let Ok(Some(mut v)) = ws.deserialize_attachment::<OnlineVisitor>() {
                if v.visitor_id
                    .as_ref()
                    .is_some_and(|id| id.as_str() == visitor)
                {
                    v.visitor_id = None;
                    self.set_online(&ws, v)?;
                    changed = true;
                }
            }
        }
        if changed {
            self.presence_changed().await;
        }
        Ok(())
    }

    /// Whether `visitor`'s data was deleted (their token names nobody here any more).
    pub(super) fn is_forgotten(&self, visitor: &str) -> Result<bool> {
        #[derive(Deserialize)]
        struct Found {
            #[allow(dead_code)]
            visitor: String,
        }
        let found: Vec<Found> = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT visitor FROM forgotten_visitors WHERE visitor = ?",
                vec![visitor.into()],
            )?
            .to_array()?;
        Ok(!found.is_empty())
    }
}
