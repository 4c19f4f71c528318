//! The `conversations` table: the index behind the inbox list. Each conversation's Durable
//! Object is the source of truth; the site's hub writes the rows it is told about, many in one
//! batch; a row never moves backwards (`last_seq` guards the upsert).

use super::{stmt, Arg};
use crate::error::{Error, Result};
use beckon_shared::proto::v1::{
    ContactChannel, ConversationOrigin, ConversationSummary, MessagePreview, Role,
};
use beckon_shared::{ConversationId, Seq, SiteKey, VisitorId};
use serde::Deserialize;
use worker::D1Database;

#[derive(Deserialize)]
struct Row {
    id: String,
    site_key: String,
    visitor_id: String,
    origin: String,
    page_url: Option<String>,
    created_at: i64,
    updated_at: i64,
    last_seq: i64,
    last_role: Option<String>,
    last_body: Option<String>,
    last_at: Option<i64>,
    agent_read_seq: i64,
    unread: i64,
    contact_channel: Option<String>,
}

const COLUMNS: &str = "id, site_key, visitor_id, origin, page_url, created_at, updated_at, last_seq, last_role, last_body, last_at, agent_read_seq, unread, contact_channel";

impl Row {
    fn into_summary(self) -> Result<ConversationSummary> {
        let last_message = match (self.last_role, self.last_body, self.last_at) {
            (Some(role), Some(body), Some(at)) => Some(MessagePreview {
                role: Role::parse(&role),
                body,
                created_at: at,
            }),
            _ => None,
        };
        Ok(ConversationSummary {
            id: ConversationId::parse(&self.id)?,
            site: SiteKey::parse(&self.site_key)?,
            visitor_id: VisitorId::parse(&self.visitor_id)?,
            origin: serde_json::from_str::<ConversationOrigin>(&self.origin)
                .map_err(Error::internal)?,
            page_url: self.page_url,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_seq: Seq(self.last_seq.max(0) as u64),
            last_message,
            agent_read_seq: Seq(self.agent_read_seq.max(0) as u64),
            unread: self.unread.max(0) as u64,
            contact: self
                .contact_channel
                .as_deref()
                .and_then(ContactChannel::parse),
        })
    }
}

/// The statement writing a conversation's row unless a newer state is already there.
fn upsert(db: &D1Database, s: &ConversationSummary) -> Result<worker::D1PreparedStatement> {
    let origin = serde_json::to_string(&s.origin).map_err(Error::internal)?;
    let (role, body, at) = match &s.last_message {
        Some(m) => (
            Some(m.role.as_str()),
            Some(m.body.as_str()),
            Some(m.created_at),
        ),
        None => (None, None, None),
    };
    stmt(
        db,
        &format!(
            "INSERT INTO conversations ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, last_seq = excluded.last_seq,
               last_role = excluded.last_role, last_body = excluded.last_body, last_at = excluded.last_at,
               agent_read_seq = excluded.agent_read_seq, unread = excluded.unread,
               contact_channel = excluded.contact_channel
             WHERE excluded.last_seq > conversations.last_seq
                OR (excluded.last_seq = conversations.last_seq AND excluded.agent_read_seq >= conversations.agent_read_seq)"
        ),
        &[
            Arg::Str(s.id.as_str()),
            Arg::Str(s.site.as_str()),
            Arg::Str(s.visitor_id.as_str()),
            Arg::Str(&origin),
            Arg::OptStr(s.page_url.as_deref()),
            Arg::Int(s.created_at),
            Arg::Int(s.updated_at),
            Arg::Int(s.last_seq.0 as i64),
            Arg::OptStr(role),
            Arg::OptStr(body),
            at.map_or(Arg::OptStr(None), Arg::Int),
            Arg::Int(s.agent_read_seq.0 as i64),
            Arg::Int(s.unread as i64),
            Arg::OptStr(s.contact.map(ContactChannel::as_str)),
        ],
    )
}

/// Writes the rows of `summaries` in one batch (each unless a newer state is there).
pub async fn upsert_all(db: &D1Database, summaries: &[ConversationSummary]) -> Result<()> {
    if summaries.is_empty() {
        return Ok(());
    }
    let statements = summaries
        .iter()
        .map(|s| upsert(db, s))
        .collect::<Result<Vec<_>>>()?;
    db.batch(statements).await?;
    Ok(())
}

/// Forgets a deleted conversation: its index row and every row that routes to it (channel
/// threads, contact threads, goal credits), in one batch.
pub async fn delete(db: &D1Database, id: &ConversationId) -> Result<()> {
    let statements = [
        "DELETE FROM conversations WHERE id = ?1",
        "DELETE FROM channel_threads WHERE conversation_id = ?1",
        "DELETE FROM contact_threads WHERE conversation_id = ?1",
        "DELETE FROM goal_credits WHERE conversation_id = ?1",
    ]
    .into_iter()
    .map(|q| stmt(db, q, &[Arg::Str(id.as_str())]))
    .collect::<Result<Vec<_>>>()?;
    db.batch(statements).await?;
    Ok(())
}

pub async fn get(db: &D1Database, id: &ConversationId) -> Result<Option<ConversationSummary>> {
    let row: Option<Row> = stmt(
        db,
        &format!("SELECT {COLUMNS} FROM conversations WHERE id = ?1"),
        &[Arg::Str(id.as_str())],
    )?
    .first(None)
    .await?;
    row.map(Row::into_summary).transpose()
}

/// Newest first; `before` pages by `updated_at`.
pub async fn list(
    db: &D1Database,
    site: Option<&SiteKey>,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<ConversationSummary>> {
    let rows: Vec<Row> = stmt(
        db,
        &format!(
            "SELECT {COLUMNS} FROM conversations
             WHERE (?1 IS NULL OR site_key = ?1) AND updated_at < ?2
             ORDER BY updated_at DESC, id DESC LIMIT ?3"
        ),
        &[
            Arg::OptStr(site.map(SiteKey::as_str)),
            Arg::Int(before.unwrap_or(i64::MAX / 2)),
            Arg::Int(limit as i64),
        ],
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter().map(Row::into_summary).collect()
}
