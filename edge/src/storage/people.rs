//! The `people`, `invitations` and `sessions` tables: who may sign in to the inbox, who was
//! invited, and the signed-in browsers. Only digests of invitation and session tokens are
//! stored; passwords only as Argon2id PHC strings.

use super::{stmt, Arg};
use crate::error::{Error, Result};
use beckon_shared::proto::v1::{KeyRole, KeySites, Person};
use beckon_shared::SiteKey;
use serde::Deserialize;
use worker::D1Database;

#[derive(Deserialize)]
struct Row {
    id: String,
    email: String,
    name: String,
    role: KeyRole,
    sites: Option<String>,
    created_at: i64,
    last_seen_at: Option<i64>,
    avatar: Option<String>,
    /// Read by sign-in only.
    #[serde(default)]
    password_hash: Option<String>,
    /// Read with a session only.
    #[serde(default)]
    expires_at: Option<i64>,
}

impl Row {
    fn into_person(self) -> Result<Person> {
        let avatar = self
            .avatar
            .as_deref()
            .map(|digest| crate::media::avatar::path(&self.id, digest));
        Ok(Person {
            avatar,
            id: self.id,
            email: self.email,
            name: self.name,
            role: self.role,
            sites: sites_from(self.sites)?,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
        })
    }
}

fn sites_from(s: Option<String>) -> Result<Option<Vec<SiteKey>>> {
    s.map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(Error::internal)
}

fn sites_to(sites: &KeySites) -> Result<Option<String>> {
    sites
        .to_list()
        .map(|l| serde_json::to_string(&l).map_err(Error::internal))
        .transpose()
}

fn role_str(role: KeyRole) -> &'static str {
    match role {
        KeyRole::Owner => "owner",
        KeyRole::Agent => "agent",
    }
}

const COLUMNS: &str =
    "p.id, p.email, p.name, p.role, p.sites, p.created_at, p.last_seen_at, p.avatar";

pub async fn list(db: &D1Database) -> Result<Vec<Person>> {
    db.prepare(format!(
        "SELECT {COLUMNS} FROM people p ORDER BY p.created_at"
    ))
    .all()
    .await?
    .results::<Row>()?
    .into_iter()
    .map(Row::into_person)
    .collect()
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<Person>> {
    stmt(
        db,
        &format!("SELECT {COLUMNS} FROM people p WHERE p.id = ?1"),
        &[Arg::Str(id)],
    )?
    .first::<Row>(None)
    .await?
    .map(Row::into_person)
    .transpose()
}

/// The person with this (lowercased) email and their password hash.
pub async fn by_email(db: &D1Database, email: &str) -> Result<Option<(Person, String)>> {
    let row = stmt(
        db,
        &format!("SELECT {COLUMNS}, p.password_hash FROM people p WHERE p.email = ?1"),
        &[Arg::Str(email)],
    )?
    .first::<Row>(None)
    .await?;
    match row {
        Some(mut r) => {
            let hash = r.password_hash.take().unwrap_or_default();
            Ok(Some((r.into_person()?, hash)))
        }
        None => Ok(None),
    }
}

/// Stores an invitation (a newer one for the same email replaces the older).
pub async fn invite(
    db: &D1Database,
    token_hash: &str,
    (email, role, sites): (&str, KeyRole, &KeySites),
    invited_by: &str,
    (now, expires_at): (i64, i64),
) -> Result<()> {
    let sites = sites_to(sites)?;
    db.batch(vec![
        // A newer invitation replaces only the inviter's own older one (another owner's stays).
        stmt(
            db,
            "DELETE FROM invitations WHERE (email = ?1 AND invited_by = ?3) OR expires_at < ?2",
            &[Arg::Str(email), Arg::Int(now), Arg::Str(invited_by)],
        )?,
        stmt(
            db,
            "INSERT INTO invitations (token_hash, email, role, sites, invited_by, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &[
                Arg::Str(token_hash),
                Arg::Str(email),
                Arg::Str(role_str(role)),
                Arg::OptStr(sites.as_deref()),
                Arg::Str(invited_by),
                Arg::Int(now),
                Arg::Int(expires_at),
            ],
        )?,
    ])
    .await?;
    Ok(())
}

/// An invitation as stored.
pub struct Invited {
    pub email: String,
    pub role: KeyRole,
    pub sites: KeySites,
    pub invited_by: String,
}

/// The invitation with this digest, if it is still valid (not spent: see [`accept`]).
pub async fn invitation(db: &D1Database, token_hash: &str, now: i64) -> Result<Option<Invited>> {
    #[derive(Deserialize)]
    struct R {
        email: String,
        role: KeyRole,
        sites: Option<String>,
        invited_by: String,
    }
    let row: Option<R> = stmt(
        db,
        "SELECT email, role, sites, invited_by FROM invitations
         WHERE token_hash = ?1 AND expires_at > ?2",
        &[Arg::Str(token_hash), Arg::Int(now)],
    )?
    .first(None)
    .await?;
    row.map(|r| {
        Ok(Invited {
            email: r.email,
            role: r.role,
            sites: KeySites::from_list(sites_from(r.sites)?),
            invited_by: r.invited_by,
        })
    })
    .transpose()
}

/// Makes the account of the invitation with this digest and spends the invitation, in one
/// step: whether it was made (no: the invitation is gone or expired, or the email has an
/// account — the invitation then stays).
pub async fn accept(
    db: &D1Database,
    token_hash: &str,
    id: &str,
    (name, password_hash): (&str, &str),
    now: i64,
) -> Result<bool> {
    let results = db
        .batch(vec![
            stmt(
                db,
                "INSERT INTO people (id, email, name, password_hash, role, sites, invited_by, created_at)
                 SELECT ?1, email, ?2, ?3, role, sites, invited_by, ?4 FROM invitations
                 WHERE token_hash = ?5 AND expires_at > ?4
                 ON CONFLICT(email) DO NOTHING",
                &[
                    Arg::Str(id),
                    Arg::Str(name),
                    Arg::Str(password_hash),
                    Arg::Int(now),
                    Arg::Str(token_hash),
                ],
            )?,
            stmt(
                db,
                "DELETE FROM invitations WHERE token_hash = ?1
                   AND EXISTS (SELECT 1 FROM people WHERE id = ?2)",
                &[Arg::Str(token_hash), Arg::Str(id)],
            )?,
        ])
        .await?;
    match results.first() {
        Some(r) => super::changed_any(r),
        None => Ok(false),
    }
}

/// Forgets the invitations `inviter` (a key or a person) made: they go with it.
pub async fn drop_invitations_by(db: &D1Database, inviter: &str) -> Result<()> {
    stmt(
        db,
        "DELETE FROM invitations WHERE invited_by = ?1",
        &[Arg::Str(inviter)],
    )?
    .run()
    .await?;
    Ok(())
}

/// Whether `email` already has an account.
pub async fn exists(db: &D1Database, email: &str) -> Result<bool> {
    let n: Option<i64> = stmt(
        db,
        "SELECT COUNT(*) AS n FROM people WHERE email = ?1",
        &[Arg::Str(email)],
    )?
    .first(Some("n"))
    .await?;
    Ok(n.unwrap_or(0) > 0)
}

/// Removes a person and every session of theirs.
pub async fn delete(db: &D1Database, id: &str) -> Result<bool> {
    let results = db
        .batch(vec![
            stmt(
                db,
                "DELETE FROM sessions WHERE person_id = ?1",
                &[Arg::Str(id)],
            )?,
            stmt(
                db,
                "DELETE FROM invitations WHERE invited_by = ?1",
                &[Arg::Str(id)],
            )?,
            stmt(db, "DELETE FROM people WHERE id = ?1", &[Arg::Str(id)])?,
            // Their conversations go back to nobody.
            stmt(
                db,
                "UPDATE conversations SET assignee_id = NULL, assignee_name = NULL WHERE assignee_id = ?1",
                &[Arg::Str(id)],
            )?,
        ])
        .await?;
    match results.get(2) {
        Some(r) => super::changed_any(r),
        None => Ok(false),
    }
}

pub async fn open_session(
    db: &D1Database,
    token_hash: &str,
    person: &str,
    (now, expires_at): (i64, i64),
) -> Result<()> {
    db.batch(vec![
        // Sessions that ended are forgotten as new ones begin.
        stmt(
            db,
            "DELETE FROM sessions WHERE person_id = ?1 AND expires_at < ?2",
            &[Arg::Str(person), Arg::Int(now)],
        )?,
        stmt(
            db,
            "INSERT INTO sessions (token_hash, person_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            &[Arg::Str(token_hash), Arg::Str(person), Arg::Int(now), Arg::Int(expires_at)],
        )?,
    ])
    .await?;
    Ok(())
}

/// The person signed in with this session, and when it ends (`None`: no such session, it
/// ended, or the person was removed). Marks them seen.
pub async fn session(db: &D1Database, token_hash: &str, now: i64) -> Result<Option<(Person, i64)>> {
    let found: Option<Row> = stmt(
        db,
        &format!(
            "SELECT {COLUMNS}, s.expires_at FROM sessions s JOIN people p ON p.id = s.person_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2"
        ),
        &[Arg::Str(token_hash), Arg::Int(now)],
    )?
    .first(None)
    .await?;
    let Some(r) = found else {
        return Ok(None);
    };
    // Seen: written at most once a minute.
    if r.last_seen_at.is_none_or(|t| now - t > 60_000) {
        stmt(
            db,
            "UPDATE people SET last_seen_at = ?2 WHERE id = ?1",
            &[Arg::Str(&r.id), Arg::Int(now)],
        )?
        .run()
        .await?;
    }
    let ends = r.expires_at.unwrap_or(now);
    Ok(Some((r.into_person()?, ends)))
}

/// Ends one session.
pub async fn close_session(db: &D1Database, token_hash: &str) -> Result<()> {
    stmt(
        db,
        "DELETE FROM sessions WHERE token_hash = ?1",
        &[Arg::Str(token_hash)],
    )?
    .run()
    .await?;
    Ok(())
}

/// Sets (the digest of the stored image, its version) or clears a person's photo.
pub async fn set_avatar(db: &D1Database, person: &str, avatar: Option<&str>) -> Result<()> {
    stmt(
        db,
        "UPDATE people SET avatar = ?2 WHERE id = ?1",
        &[Arg::Str(person), Arg::OptStr(avatar)],
    )?
    .run()
    .await?;
    Ok(())
}

/// Ends every session of a person, and the sockets' tickets issued until `now`.
pub async fn close_sessions(db: &D1Database, person: &str, now: i64) -> Result<()> {
    db.batch(vec![
        stmt(
            db,
            "DELETE FROM sessions WHERE person_id = ?1",
            &[Arg::Str(person)],
        )?,
        stmt(
            db,
            "UPDATE people SET sessions_valid_after = ?2 WHERE id = ?1",
            &[Arg::Str(person), Arg::Int(now)],
        )?,
    ])
    .await?;
    Ok(())
}

/// Whether `person` exists and signed out everywhere no later than `issued_at`.
pub async fn holds(db: &D1Database, person: &str, issued_at: i64) -> Result<bool> {
    let after: Option<i64> = stmt(
        db,
        "SELECT sessions_valid_after FROM people WHERE id = ?1",
        &[Arg::Str(person)],
    )?
    .first(Some("sessions_valid_after"))
    .await?;
    Ok(after.is_some_and(|a| issued_at >= a))
}
