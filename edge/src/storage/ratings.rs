//! The `conversation_ratings` table: each conversation's rating by its visitor (written by
//! the conversation's object with its index writes; read by the dashboard).

use super::{stmt, Arg};
use crate::error::Result;
use beckon_shared::{ConversationId, SiteKey};
use worker::D1Database;

/// Records (or replaces) the rating of conversation `id`.
pub async fn put(
    db: &D1Database,
    site: &SiteKey,
    id: &ConversationId,
    score: u8,
    comment: Option<&str>,
    at: i64,
) -> Result<()> {
    stmt(
        db,
        "INSERT INTO conversation_ratings (conversation_id, site_key, score, comment, rated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(conversation_id) DO UPDATE SET score = excluded.score,
           comment = excluded.comment, rated_at = excluded.rated_at",
        &[
            Arg::Str(id.as_str()),
            Arg::Str(site.as_str()),
            Arg::Int(i64::from(score)),
            Arg::OptStr(comment),
            Arg::Int(at),
        ],
    )?
    .run()
    .await?;
    Ok(())
}
