//! The `webhook_deliveries` table: outbound webhooks' delivery log (kept 30 days), written
//! after every attempt, read by the inbox and by a replay.

use super::{stmt, Arg};
use crate::error::Result;
use beckon_shared::proto::v1::{WebhookDelivery, WebhookDeliveryStatus};
use beckon_shared::SiteKey;
use serde::Deserialize;
use worker::D1Database;

/// How long the log keeps an event.
pub const KEEP_MS: i64 = 30 * 24 * 3600 * 1000;

/// One attempt to deliver an event.
pub struct Attempt<'a> {
    pub event_id: &'a str,
    pub event_type: &'a str,
    /// The endpoint's fingerprint (`webhook::api::endpoint_id`).
    pub endpoint: &'a str,
    pub conversation: Option<&'a str>,
    pub payload: &'a str,
    /// The endpoint's HTTP status, if it answered.
    pub response_status: Option<u16>,
    /// Why it failed; `None` when delivered.
    pub error: Option<&'a str>,
    pub now: i64,
}

/// Records an attempt (the first one keeps the payload), and forgets events older than
/// [`KEEP_MS`]. An attempt that started before the one on record (a retry that was under way
/// when a replay went through, and answered later) leaves the record as it is.
pub async fn record(db: &D1Database, site: &SiteKey, a: &Attempt<'_>) -> Result<()> {
    let status = match a.error {
        None => WebhookDeliveryStatus::Delivered,
        Some(_) => WebhookDeliveryStatus::Failing,
    };
    let upsert = stmt(
        db,
        "INSERT INTO webhook_deliveries (site_key, event_id, event_type, conversation_id, payload, status, attempts, response_status, last_error, created_at, updated_at, endpoint)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8, ?9, ?9, ?10)
         ON CONFLICT(site_key, event_id) DO UPDATE SET status = excluded.status, attempts = attempts + 1,
           response_status = excluded.response_status, last_error = excluded.last_error, updated_at = excluded.updated_at
         WHERE excluded.updated_at >= webhook_deliveries.updated_at",
        &[
            Arg::Str(site.as_str()),
            Arg::Str(a.event_id),
            Arg::Str(a.event_type),
            Arg::OptStr(a.conversation),
            Arg::Str(a.payload),
            Arg::Str(status.as_str()),
            Arg::OptInt(a.response_status.map(i64::from)),
            Arg::OptStr(a.error),
            Arg::Int(a.now),
            Arg::Str(a.endpoint),
        ],
    )?;
    let prune = stmt(
        db,
        "DELETE FROM webhook_deliveries WHERE site_key = ?1 AND created_at < ?2",
        &[Arg::Str(site.as_str()), Arg::Int(a.now - KEEP_MS)],
    )?;
    db.batch(vec![upsert, prune]).await?;
    Ok(())
}

#[derive(Deserialize)]
struct Row {
    event_id: String,
    event_type: String,
    conversation_id: Option<String>,
    payload: String,
    status: String,
    attempts: i64,
    response_status: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
    #[serde(default)]
    endpoint: String,
}

impl From<Row> for WebhookDelivery {
    fn from(r: Row) -> Self {
        WebhookDelivery {
            event_id: r.event_id,
            event_type: r.event_type,
            conversation_id: r.conversation_id,
            status: WebhookDeliveryStatus::parse(&r.status),
            attempts: r.attempts.max(0) as u32,
            response_status: r.response_status.map(|s| s as u16),
            last_error: r.last_error,
            payload: r.payload,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "event_id, event_type, conversation_id, payload, status, attempts, response_status, last_error, created_at, updated_at, endpoint";

/// The site's most recent deliveries, newest first: all, or those in `status`; at most
/// `limit`, created before `before` if given.
pub async fn list(
    db: &D1Database,
    site: &SiteKey,
    status: Option<WebhookDeliveryStatus>,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<WebhookDelivery>> {
    let rows: Vec<Row> = stmt(
        db,
        &format!(
            "SELECT {COLUMNS} FROM webhook_deliveries WHERE site_key = ?1 AND (?2 IS NULL OR status = ?2)
             AND (?3 IS NULL OR created_at < ?3) ORDER BY created_at DESC, event_id DESC LIMIT ?4"
        ),
        &[
            Arg::Str(site.as_str()),
            Arg::OptStr(status.map(|s| s.as_str())),
            Arg::OptInt(before),
            Arg::Int(i64::from(limit)),
        ],
    )?
    .all()
    .await?
    .results()?;
    Ok(rows.into_iter().map(WebhookDelivery::from).collect())
}

/// A logged event, and the endpoint it was sent to.
pub async fn get(
    db: &D1Database,
    site: &SiteKey,
    event_id: &str,
) -> Result<Option<(WebhookDelivery, String)>> {
    let row: Option<Row> = stmt(
        db,
        &format!("SELECT {COLUMNS} FROM webhook_deliveries WHERE site_key = ?1 AND event_id = ?2"),
        &[Arg::Str(site.as_str()), Arg::Str(event_id)],
    )?
    .first(None)
    .await?;
    Ok(row.map(|r| {
        let endpoint = r.endpoint.clone();
        (WebhookDelivery::from(r), endpoint)
    }))
}
