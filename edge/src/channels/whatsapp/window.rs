//! The `whatsapp_windows` table: when each number last wrote to a site's business number,
//! which opens its 24-hour customer-service window (free-form messages inside, the approved
//! template outside).

use crate::error::Result;
use crate::storage::{stmt, Arg};
use beckon_shared::SiteKey;
use worker::D1Database;

/// `phone` wrote to the business number at `at`: its window is open from then.
pub async fn touch(db: &D1Database, site: &SiteKey, phone: &str, at: i64) -> Result<()> {
    stmt(
        db,
        "INSERT INTO whatsapp_windows (site_key, phone, last_inbound_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(site_key, phone) DO UPDATE SET last_inbound_at = MAX(last_inbound_at, excluded.last_inbound_at)",
        &[Arg::Str(site.as_str()), Arg::Str(phone), Arg::Int(at)],
    )?
    .run()
    .await?;
    Ok(())
}

/// When `phone` last wrote to the business number.
pub async fn last_inbound(db: &D1Database, site: &SiteKey, phone: &str) -> Result<Option<i64>> {
    Ok(stmt(
        db,
        "SELECT last_inbound_at FROM whatsapp_windows WHERE site_key = ?1 AND phone = ?2",
        &[Arg::Str(site.as_str()), Arg::Str(phone)],
    )?
    .first(Some("last_inbound_at"))
    .await?)
}
