//! The `admin_keys` table. Only SHA-256 digests of keys are stored; a key is shown once, when
//! it is created.

use super::{stmt, Arg};
use crate::error::{Error, Result};
use beckon_shared::proto::v1::ErrorCode;
use serde::{Deserialize, Serialize};
use worker::D1Database;

/// An admin key as listed by the API (never the key itself).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdminKeyInfo {
    pub id: String,
    pub label: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// The id of the key with this digest, if any.
pub async fn find(db: &D1Database, hash: &str) -> Result<Option<String>> {
    Ok(stmt(
        db,
        "SELECT id FROM admin_keys WHERE key_hash = ?1",
        &[Arg::Str(hash)],
    )?
    .first(Some("id"))
    .await?)
}

pub async fn insert(db: &D1Database, id: &str, hash: &str, label: &str, now: i64) -> Result<()> {
    stmt(
        db,
        "INSERT INTO admin_keys (id, key_hash, label, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(key_hash) DO NOTHING",
        &[Arg::Str(id), Arg::Str(hash), Arg::Str(label), Arg::Int(now)],
    )?
    .run()
    .await?;
    Ok(())
}

pub async fn touch(db: &D1Database, id: &str, now: i64) -> Result<()> {
    stmt(
        db,
        "UPDATE admin_keys SET last_used_at = ?2 WHERE id = ?1",
        &[Arg::Str(id), Arg::Int(now)],
    )?
    .run()
    .await?;
    Ok(())
}

pub async fn list(db: &D1Database) -> Result<Vec<AdminKeyInfo>> {
    Ok(db
        .prepare("SELECT id, label, created_at, last_used_at FROM admin_keys ORDER BY created_at")
        .all()
        .await?
        .results()?)
}

pub async fn delete(db: &D1Database, id: &str) -> Result<()> {
    let changes = stmt(db, "DELETE FROM admin_keys WHERE id = ?1", &[Arg::Str(id)])?
        .run()
        .await?
        .meta()?
        .and_then(|m| m.changes)
        .unwrap_or(0);
    if changes == 0 {
        return Err(Error::new(
            ErrorCode::NotFound,
            format!("no admin key {id}"),
        ));
    }
    Ok(())
}
