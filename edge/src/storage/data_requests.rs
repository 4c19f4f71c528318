//! The `data_requests` log, and what a visitor's data request reads and removes beyond their
//! conversations and record (`conversations.rs`, `visitors.rs`): their consents and the
//! broadcasts planned for them.

use super::visitors::consent_of_visitor;
use super::{stmt, Arg};
use crate::error::Result;
use beckon_shared::proto::v1::{Assignee, DataRequest, DataRequestKind};
use beckon_shared::{SiteKey, VisitorId};
use serde::Deserialize;
use serde_json::{Map, Value};
use worker::D1Database;

/// Every column the site keeps of the visitor, as stored; `None` when there is no such
/// visitor on `site`.
pub async fn record(
    db: &D1Database,
    site: &SiteKey,
    visitor: &VisitorId,
) -> Result<Option<Map<String, Value>>> {
    Ok(stmt(
        db,
        "SELECT * FROM visitors WHERE site_key = ?1 AND id = ?2",
        &[Arg::Str(site.as_str()), Arg::Str(visitor.as_str())],
    )?
    .first(None)
    .await?)
}

/// The consent recorded on each of the visitor's addresses.
pub async fn consents(db: &D1Database, site: &SiteKey, visitor: &VisitorId) -> Result<Vec<Value>> {
    Ok(stmt(
        db,
        concat!(
            "SELECT k.channel, k.address, k.status, k.source, k.updated_at
               FROM consents k JOIN visitors v ON v.site_key = ?1 AND v.id = ?2
              WHERE ",
            consent_of_visitor!(),
            " ORDER BY k.channel"
        ),
        &[Arg::Str(site.as_str()), Arg::Str(visitor.as_str())],
    )?
    .all()
    .await?
    .results()?)
}

/// The broadcasts planned for the visitor: each with the text they were sent, where and how
/// far it got.
pub async fn broadcasts(
    db: &D1Database,
    site: &SiteKey,
    visitor: &VisitorId,
) -> Result<Vec<Value>> {
    Ok(stmt(
        db,
        "SELECT b.id AS broadcast_id, b.name, r.channel, r.address, r.body, r.parameters, r.stage,
                r.reason, r.conversation_id, r.updated_at
           FROM broadcast_recipients r JOIN broadcasts b ON b.id = r.broadcast_id
          WHERE b.site_key = ?1 AND r.contact_id = ?2
          ORDER BY r.updated_at",
        &[Arg::Str(site.as_str()), Arg::Str(visitor.as_str())],
    )?
    .all()
    .await?
    .results()?)
}

/// Removes what the visitor's record links to, before the record itself goes:
/// - the consents on their own addresses (not a phone or email they only claimed: that
///   consent is its owner's) — an opt-out on a phone number or email address stays
///   (the address alone), so a later import cannot message them again, and so does a consent
///   on an address another contact of the site also has; a web consent always goes (its
///   address is the visitor id);
/// - their broadcast rows, kept for the broadcasts' totals with address, text and contact
///   erased (one not yet sent is cancelled);
/// - the site's webhook delivery log entries about them (`contact.updated` with their
///   details, `contact.consent_changed` with an address of theirs).
pub async fn scrub(db: &D1Database, site: &SiteKey, visitor: &VisitorId) -> Result<()> {
    let args = [Arg::Str(site.as_str()), Arg::Str(visitor.as_str())];
    db.batch(vec![
        stmt(
            db,
            concat!(
                "DELETE FROM consents AS k WHERE EXISTS
                   (SELECT 1 FROM visitors v WHERE v.site_key = ?1 AND v.id = ?2 AND ",
                consent_of_visitor!(),
                ") AND (k.channel = 'web' OR (k.status <> 'out' AND NOT EXISTS
                   (SELECT 1 FROM visitors v WHERE v.site_key = ?1 AND v.id <> ?2 AND ",
                consent_of_visitor!(),
                ")))"
            ),
            &args,
        )?,
        stmt(
            db,
            "UPDATE broadcast_recipients
                SET address = 'erased:' || lower(hex(randomblob(8))), contact_id = '', body = '',
                    parameters = '[]',
                    reason = CASE WHEN stage = 0 THEN 'the contact was deleted' ELSE reason END,
                    stage = CASE WHEN stage = 0 THEN -3 ELSE stage END
              WHERE contact_id = ?2 AND broadcast_id IN (SELECT id FROM broadcasts WHERE site_key = ?1)",
            &args,
        )?,
        stmt(
            db,
            "DELETE FROM webhook_deliveries AS d WHERE d.site_key = ?1 AND (
               substr(d.event_id, 1, 13 + length(?2)) = 'evt_contact_' || ?2 || '_'
               OR (d.event_type = 'contact.consent_changed' AND EXISTS
                 (SELECT 1 FROM visitors v WHERE v.site_key = ?1 AND v.id = ?2
                    AND json_extract(d.payload, '$.data.address') IN
                      (v.id, CASE WHEN v.phone_claimed = 0 THEN v.phone END,
                       CASE WHEN v.email_claimed = 0 THEN v.email END,
                       v.telegram_chat, v.messenger_psid, v.instagram_id))))",
            &args,
        )?,
    ])
    .await?;
    Ok(())
}

#[derive(Deserialize)]
struct Row {
    id: String,
    visitor_id: String,
    kind: String,
    by_id: String,
    by_name: String,
    at: i64,
    conversations: i64,
    messages: i64,
    files: i64,
}

pub async fn log(db: &D1Database, site: &SiteKey, r: &DataRequest) -> Result<()> {
    stmt(
        db,
        "INSERT INTO data_requests (id, site_key, visitor_id, kind, by_id, by_name, at,
                                    conversations, messages, files)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        &[
            Arg::Str(&r.id),
            Arg::Str(site.as_str()),
            Arg::Str(r.visitor_id.as_str()),
            Arg::Str(r.kind.as_str()),
            Arg::Str(&r.by.id),
            Arg::Str(&r.by.name),
            Arg::Int(r.at),
            Arg::Int(r.conversations as i64),
            Arg::Int(r.messages as i64),
            Arg::Int(r.files as i64),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// The site's requests, newest first.
pub async fn list(db: &D1Database, site: &SiteKey, limit: i64) -> Result<Vec<DataRequest>> {
    let rows: Vec<Row> = stmt(
        db,
        "SELECT id, visitor_id, kind, by_id, by_name, at, conversations, messages, files
           FROM data_requests WHERE site_key = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
        &[Arg::Str(site.as_str()), Arg::Int(limit)],
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter()
        .map(|r| {
            Ok(DataRequest {
                id: r.id,
                visitor_id: VisitorId::parse(&r.visitor_id)?,
                kind: serde_json::from_value(Value::String(r.kind))
                    .unwrap_or(DataRequestKind::Unknown),
                by: Assignee {
                    id: r.by_id,
                    name: r.by_name,
                },
                at: r.at,
                conversations: r.conversations as u64,
                messages: r.messages as u64,
                files: r.files as u64,
            })
        })
        .collect()
}
