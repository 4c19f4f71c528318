//! The `visitors` table: visitors who have interacted (sent a message, answered a teaser, or
//! were reached by an agent), with what the site's page told us about them
//! (`Beckon.identify`: name, email, phone), and `contact_threads`: which conversation a
//! contact's messages on their own channel belong to. Visitors who never interact are never
//! stored.

use super::{stmt, Arg};
use crate::error::Result;
use beckon_shared::proto::v1::{Contact, Identify};
use beckon_shared::{ConversationId, SiteKey, VisitorId};
use serde::Deserialize;
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

/// Records what the site's page said about the visitor; absent fields keep their value.
pub async fn identify(
    db: &D1Database,
    site: &SiteKey,
    id: &VisitorId,
    who: &Identify,
    now: i64,
) -> Result<()> {
    stmt(
        db,
        "UPDATE visitors SET name = COALESCE(?3, name), email = COALESCE(?4, email), phone = COALESCE(?5, phone), last_seen_at = ?6
         WHERE id = ?1 AND site_key = ?2",
        &[
            Arg::Str(id.as_str()),
            Arg::Str(site.as_str()),
            Arg::OptStr(who.name.as_deref()),
            Arg::OptStr(who.email.as_deref()),
            Arg::OptStr(who.phone.as_deref()),
            Arg::Int(now),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

#[derive(Deserialize)]
struct ContactRow {
    id: String,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    last_seen_at: i64,
}

impl ContactRow {
    fn into_contact(self) -> Result<Contact> {
        Ok(Contact {
            visitor_id: VisitorId::parse(&self.id)?,
            name: self.name,
            email: self.email,
            phone: self.phone,
            last_seen_at: self.last_seen_at,
        })
    }
}

/// Identified visitors, most recently seen first.
pub async fn contacts(db: &D1Database, site: &SiteKey, limit: usize) -> Result<Vec<Contact>> {
    let rows: Vec<ContactRow> = stmt(
        db,
        "SELECT id, name, email, phone, last_seen_at FROM visitors
         WHERE site_key = ?1 AND (name IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL)
         ORDER BY last_seen_at DESC LIMIT ?2",
        &[Arg::Str(site.as_str()), Arg::Int(limit as i64)],
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter().map(ContactRow::into_contact).collect()
}

pub async fn contact(db: &D1Database, site: &SiteKey, id: &VisitorId) -> Result<Option<Contact>> {
    let row: Option<ContactRow> = stmt(
        db,
        "SELECT id, name, email, phone, last_seen_at FROM visitors WHERE site_key = ?1 AND id = ?2",
        &[Arg::Str(site.as_str()), Arg::Str(id.as_str())],
    )?
    .first(None)
    .await?;
    row.map(ContactRow::into_contact).transpose()
}

/// Points a contact's address on a channel at a conversation (their messages there go to it).
pub async fn map_contact_thread(
    db: &D1Database,
    site: &SiteKey,
    channel: &str,
    address: &str,
    visitor: &VisitorId,
    conversation: &ConversationId,
    now: i64,
) -> Result<()> {
    stmt(
        db,
        "INSERT INTO contact_threads (site_key, channel, address, visitor_id, conversation_id, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(site_key, channel, address) DO UPDATE SET visitor_id = excluded.visitor_id,
           conversation_id = excluded.conversation_id, updated_at = excluded.updated_at",
        &[
            Arg::Str(site.as_str()),
            Arg::Str(channel),
            Arg::Str(address),
            Arg::Str(visitor.as_str()),
            Arg::Str(conversation.as_str()),
            Arg::Int(now),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// The contact and conversation a message from `address` on `channel` belongs to.
pub async fn find_contact_thread(
    db: &D1Database,
    site: &SiteKey,
    channel: &str,
    address: &str,
) -> Result<Option<(VisitorId, ConversationId)>> {
    #[derive(Deserialize)]
    struct Row {
        visitor_id: String,
        conversation_id: String,
    }
    let row: Option<Row> = stmt(
        db,
        "SELECT visitor_id, conversation_id FROM contact_threads WHERE site_key = ?1 AND channel = ?2 AND address = ?3",
        &[Arg::Str(site.as_str()), Arg::Str(channel), Arg::Str(address)],
    )?
    .first(None)
    .await?;
    row.map(|r| {
        Ok((
            VisitorId::parse(&r.visitor_id)?,
            ConversationId::parse(&r.conversation_id)?,
        ))
    })
    .transpose()
}
