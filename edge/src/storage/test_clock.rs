//! The test clock's offset (`crate::clock`).

use super::{stmt, Arg};
use crate::error::Result;
use worker::D1Database;

pub async fn offset(db: &D1Database) -> Result<i64> {
    Ok(
        stmt(db, "SELECT offset_ms FROM test_clock WHERE id = 1", &[])?
            .first::<i64>(Some("offset_ms"))
            .await?
            .unwrap_or(0),
    )
}

pub async fn set(db: &D1Database, offset: i64) -> Result<()> {
    stmt(
        db,
        "INSERT INTO test_clock (id, offset_ms) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET offset_ms = excluded.offset_ms",
        &[Arg::Int(offset)],
    )?
    .run()
    .await?;
    Ok(())
}
