//! The `visitors` table: anonymous visitors who have interacted (sent a message or answered a
//! teaser). Visitors who never interact are never stored.

use super::{stmt, Arg};
use crate::error::Result;
use beckon_shared::{SiteKey, VisitorId};
use worker::D1Database;

pub async fn create(db: &D1Database, site: &SiteKey, id: &VisitorId, now: i64) -> Result<()> {
    stmt(
        db,
        "INSERT INTO visitors (id, site_key, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?3)",
        &[
            Arg::Str(id.as_str()),
            Arg::Str(site.as_str()),
            Arg::Int(now),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// Whether the visitor exists (a token for a deleted visitor is refused).
pub async fn exists(db: &D1Database, site: &SiteKey, id: &VisitorId) -> Result<bool> {
    let n: Option<i64> = stmt(
        db,
        "SELECT COUNT(*) AS n FROM visitors WHERE id = ?1 AND site_key = ?2",
        &[Arg::Str(id.as_str()), Arg::Str(site.as_str())],
    )?
    .first(Some("n"))
    .await?;
    Ok(n.unwrap_or(0) > 0)
}

pub async fn touch(db: &D1Database, id: &VisitorId, now: i64) -> Result<()> {
    stmt(
        db,
        "UPDATE visitors SET last_seen_at = ?2 WHERE id = ?1",
        &[Arg::Str(id.as_str()), Arg::Int(now)],
    )?
    .run()
    .await?;
    Ok(())
}
