//! Single use of WebSocket tickets ([`crate::auth::Ticket`]): the Durable Object that accepts
//! a socket records the ticket's nonce in its own SQLite storage until the ticket expires, so
//! a ticket copied from a log or a proxy opens nothing.

use crate::auth::Ticket;
use crate::error::{Error, Result};
use beckon_shared::proto::v1::ErrorCode;
use worker::{Request, SqlStorage, SqlStorageValue};

/// Carries `<nonce>.<expires>` from the Worker to the object on a socket request.
pub const TICKET_HEADER: &str = "x-beckon-ticket";

const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS spent_tickets (nonce TEXT PRIMARY KEY, expires INTEGER NOT NULL)";

/// The [`TICKET_HEADER`] value for `ticket`.
pub fn header_value(ticket: &Ticket) -> String {
    format!("{}.{}", ticket.nonce, ticket.expires)
}

/// Spends the ticket named in `req`'s header: refused if it was spent before.
pub fn spend(sql: &SqlStorage, req: &Request, now: i64) -> Result<()> {
    let raw = req
        .headers()
        .get(TICKET_HEADER)?
        .ok_or_else(|| Error::internal("ticket header missing on a socket request"))?;
    let (nonce, expires) = raw
        .split_once('.')
        .and_then(|(n, e)| Some((n, e.parse::<i64>().ok()?)))
        .ok_or_else(|| Error::internal("malformed ticket header"))?;
    sql.exec(SCHEMA, None)?;
    sql.exec(
        "DELETE FROM spent_tickets WHERE expires < ?",
        // Kept 5 minutes past expiry: the Worker checked expiry on its own clock.
        vec![SqlStorageValue::Integer(now - 300_000)],
    )?;
    let inserted: Vec<serde::de::IgnoredAny> = sql
        .exec(
            "INSERT INTO spent_tickets (nonce, expires) VALUES (?, ?) ON CONFLICT(nonce) DO NOTHING RETURNING 1 AS n",
            vec![SqlStorageValue::from(nonce), SqlStorageValue::Integer(expires)],
        )?
        .to_array()?;
    if inserted.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidToken,
            "this ticket was already used: ask for a new one",
        ));
    }
    Ok(())
}
