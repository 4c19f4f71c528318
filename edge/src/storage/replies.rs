//! The `saved_replies` table: a site's saved replies, each under its shortcut.

use super::{stmt, Arg};
use crate::error::Result;
use beckon_shared::proto::v1::SavedReply;
use beckon_shared::SiteKey;
use worker::D1Database;

/// A site's saved replies, by shortcut.
pub async fn list(db: &D1Database, site: &SiteKey) -> Result<Vec<SavedReply>> {
    Ok(stmt(
        db,
        "SELECT shortcut, body FROM saved_replies WHERE site_key = ?1 ORDER BY shortcut",
        &[Arg::Str(site.as_str())],
    )?
    .all()
    .await?
    .results()?)
}

/// Saves `reply` under its shortcut (replacing the one there) unless the site already has
/// `max` others. Returns whether it was saved.
pub async fn save(
    db: &D1Database,
    site: &SiteKey,
    reply: &SavedReply,
    max: usize,
    now: i64,
) -> Result<bool> {
    let r = stmt(
        db,
        "INSERT INTO saved_replies (site_key, shortcut, body, updated_at)
         SELECT ?1, ?2, ?3, ?4
         WHERE (SELECT COUNT(*) FROM saved_replies WHERE site_key = ?1 AND shortcut != ?2) < ?5
         ON CONFLICT (site_key, shortcut) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        &[
            Arg::Str(site.as_str()),
            Arg::Str(&reply.shortcut),
            Arg::Str(&reply.body),
            Arg::Int(now),
            Arg::Int(max as i64),
        ],
    )?
    .run()
    .await?;
    super::changed_any(&r)
}

/// Deletes the reply under `shortcut`; whether there was one.
pub async fn delete(db: &D1Database, site: &SiteKey, shortcut: &str) -> Result<bool> {
    let r = stmt(
        db,
        "DELETE FROM saved_replies WHERE site_key = ?1 AND shortcut = ?2",
        &[Arg::Str(site.as_str()), Arg::Str(shortcut)],
    )?
    .run()
    .await?;
    super::changed_any(&r)
}
