//! The `contact_windows` table: when each person last wrote to the site's Page or Instagram
//! account, which opens Meta's windows to answer them ([`super::api::Window`]).

use super::api::Window;
use crate::error::{Error, Result};
use crate::storage::{stmt, Arg};
use beckon_shared::proto::v1::{ContactChannel, ErrorCode};
use beckon_shared::SiteKey;
use worker::D1Database;

/// `address` wrote on `channel` at `at`: the windows are open from then (a replayed, older
/// payload never moves them back).
pub async fn touch(
    db: &D1Database,
    site: &SiteKey,
    (channel, address): (ContactChannel, &str),
    at: i64,
) -> Result<()> {
    stmt(
        db,
        "INSERT INTO contact_windows (site_key, channel, address, last_inbound_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(site_key, channel, address) DO UPDATE SET last_inbound_at = MAX(last_inbound_at, excluded.last_inbound_at)",
        &[
            Arg::Str(site.as_str()),
            Arg::Str(channel.as_str()),
            Arg::Str(address),
            Arg::Int(at),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// When `address` last wrote on `channel`.
pub async fn last_inbound(
    db: &D1Database,
    site: &SiteKey,
    (channel, address): (ContactChannel, &str),
) -> Result<Option<i64>> {
    Ok(stmt(
        db,
        "SELECT last_inbound_at FROM contact_windows WHERE site_key = ?1 AND channel = ?2 AND address = ?3",
        &[
            Arg::Str(site.as_str()),
            Arg::Str(channel.as_str()),
            Arg::Str(address),
        ],
    )?
    .first(Some("last_inbound_at"))
    .await?)
}

/// Refuses (409, with Meta's rule) writing to `address` now if its windows have closed.
pub async fn reachable(
    db: &D1Database,
    site: &SiteKey,
    (channel, address): (ContactChannel, &str),
    now: i64,
) -> Result<()> {
    match Window::at(last_inbound(db, site, (channel, address)).await?, now) {
        Window::Closed => Err(Error::new(
            ErrorCode::Conflict,
            Window::closed_reason(channel),
        )),
        _ => Ok(()),
    }
}
