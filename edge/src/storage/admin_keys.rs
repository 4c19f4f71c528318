//! The `admin_keys` table. Only SHA-256 digests of keys are stored; a key is shown once, when
//! it is created. Each key has a role on some sites (`sites` NULL: every site).

use super::{stmt, Arg};
use crate::error::{Error, Result};
use beckon_shared::proto::v1::{AdminKeyInfo, ErrorCode, KeyRole, KeySites};
use beckon_shared::SiteKey;
use serde::Deserialize;
use worker::D1Database;

#[derive(Deserialize)]
struct Row {
    id: String,
    label: String,
    role: KeyRole,
    sites: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl Row {
    fn into_info(self) -> Result<AdminKeyInfo> {
        let sites: Option<Vec<SiteKey>> = self
            .sites
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(Error::internal)?;
        Ok(AdminKeyInfo {
            id: self.id,
            label: self.label,
            role: self.role,
            sites,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
        })
    }
}

const COLUMNS: &str = "id, label, role, sites, created_at, last_used_at";

/// The key with this digest, if any.
pub async fn find(db: &D1Database, hash: &str) -> Result<Option<AdminKeyInfo>> {
    stmt(
        db,
        &format!("SELECT {COLUMNS} FROM admin_keys WHERE key_hash = ?1"),
        &[Arg::Str(hash)],
    )?
    .first::<Row>(None)
    .await?
    .map(Row::into_info)
    .transpose()
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<AdminKeyInfo>> {
    stmt(
        db,
        &format!("SELECT {COLUMNS} FROM admin_keys WHERE id = ?1"),
        &[Arg::Str(id)],
    )?
    .first::<Row>(None)
    .await?
    .map(Row::into_info)
    .transpose()
}

pub async fn insert(
    db: &D1Database,
    id: &str,
    hash: &str,
    label: &str,
    role: KeyRole,
    sites: &KeySites,
    now: i64,
) -> Result<()> {
    let role = match role {
        KeyRole::Owner => "owner",
        KeyRole::Agent => "agent",
    };
    let sites = sites
        .to_list()
        .map(|l| serde_json::to_string(&l).map_err(Error::internal))
        .transpose()?;
    stmt(
        db,
        "INSERT INTO admin_keys (id, key_hash, label, role, sites, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(key_hash) DO NOTHING",
        &[
            Arg::Str(id),
            Arg::Str(hash),
            Arg::Str(label),
            Arg::Str(role),
            Arg::OptStr(sites.as_deref()),
            Arg::Int(now),
        ],
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
    db.prepare(format!(
        "SELECT {COLUMNS} FROM admin_keys ORDER BY created_at"
    ))
    .all()
    .await?
    .results::<Row>()?
    .into_iter()
    .map(Row::into_info)
    .collect()
}

pub async fn delete(db: &D1Database, id: &str) -> Result<()> {
    let result = stmt(db, "DELETE FROM admin_keys WHERE id = ?1", &[Arg::Str(id)])?
        .run()
        .await?;
    if !super::changed_any(&result)? {
        return Err(Error::new(
            ErrorCode::NotFound,
            format!("no admin key {id}"),
        ));
    }
    Ok(())
}
