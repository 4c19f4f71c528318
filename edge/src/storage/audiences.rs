//! Saved audiences (`audiences`): a named filter over a site's contacts.

use super::{is_unique_violation, stmt, Arg};
use crate::error::{Error, Result};
use beckon_shared::proto::v1::{Audience, ErrorCode, SavedAudience};
use beckon_shared::{AudienceId, SiteKey};
use serde::Deserialize;
use worker::D1Database;

#[derive(Deserialize)]
struct Row {
    id: String,
    name: String,
    filter: String,
    created_at: i64,
    updated_at: i64,
}

impl Row {
    fn into_audience(self) -> Result<SavedAudience> {
        Ok(SavedAudience {
            id: AudienceId::parse(&self.id)?,
            name: self.name,
            filter: serde_json::from_str(&self.filter).map_err(Error::internal)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn taken(e: worker::Error, name: &str) -> Error {
    if is_unique_violation(&e) {
        Error::new(
            ErrorCode::Conflict,
            format!("an audience named {name:?} exists already"),
        )
    } else {
        e.into()
    }
}

/// By name.
pub async fn list(db: &D1Database, site: &SiteKey) -> Result<Vec<SavedAudience>> {
    let rows: Vec<Row> = stmt(
        db,
        "SELECT * FROM audiences WHERE site_key = ?1 ORDER BY name LIMIT 500",
        &[Arg::Str(site.as_str())],
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter().map(Row::into_audience).collect()
}

pub async fn get(
    db: &D1Database,
    site: &SiteKey,
    id: &AudienceId,
) -> Result<Option<SavedAudience>> {
    let row: Option<Row> = stmt(
        db,
        "SELECT * FROM audiences WHERE id = ?1 AND site_key = ?2",
        &[Arg::Str(id.as_str()), Arg::Str(site.as_str())],
    )?
    .first(None)
    .await?;
    row.map(Row::into_audience).transpose()
}

pub async fn insert(db: &D1Database, site: &SiteKey, a: &SavedAudience) -> Result<()> {
    let filter = serde_json::to_string(&a.filter).map_err(Error::internal)?;
    stmt(
        db,
        "INSERT INTO audiences (id, site_key, name, filter, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        &[
            Arg::Str(a.id.as_str()),
            Arg::Str(site.as_str()),
            Arg::Str(&a.name),
            Arg::Str(&filter),
            Arg::Int(a.created_at),
        ],
    )?
    .run()
    .await
    .map_err(|e| taken(e, &a.name))?;
    Ok(())
}

/// Replaces its name and filter; whether it exists.
pub async fn update(
    db: &D1Database,
    site: &SiteKey,
    id: &AudienceId,
    (name, filter): (&str, &Audience),
    now: i64,
) -> Result<bool> {
    let filter = serde_json::to_string(filter).map_err(Error::internal)?;
    let r = stmt(
        db,
        "UPDATE audiences SET name = ?3, filter = ?4, updated_at = ?5 WHERE id = ?1 AND site_key = ?2",
        &[
            Arg::Str(id.as_str()),
            Arg::Str(site.as_str()),
            Arg::Str(name),
            Arg::Str(&filter),
            Arg::Int(now),
        ],
    )?
    .run()
    .await
    .map_err(|e| taken(e, name))?;
    super::changed_any(&r)
}

/// Whether it existed.
pub async fn delete(db: &D1Database, site: &SiteKey, id: &AudienceId) -> Result<bool> {
    let r = stmt(
        db,
        "DELETE FROM audiences WHERE id = ?1 AND site_key = ?2",
        &[Arg::Str(id.as_str()), Arg::Str(site.as_str())],
    )?
    .run()
    .await?;
    super::changed_any(&r)
}
