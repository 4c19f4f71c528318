//! The `channels` and `channel_threads` tables: a site's relay settings (secrets sealed with
//! [`crate::secrets`]) and which channel thread belongs to which conversation.

use super::{stmt, Arg};
use crate::channels::Config;
use crate::error::{Error, Result};
use beckon_shared::proto::v1::{
    ChannelKind, ChannelSecrets, ChannelSettings, ChannelStatus, ErrorCode,
};
use beckon_shared::{ConversationId, SiteKey};
use serde::Deserialize;
use worker::D1Database;

/// A channel with its secrets opened, for the code that talks to the channel.
#[derive(Clone, Debug)]
pub struct Channel {
    pub config: Config,
    pub enabled: bool,
    pub status: ChannelStatus,
    pub last_error: Option<String>,
    pub failing_since: Option<i64>,
    pub updated_at: i64,
}

impl Channel {
    pub fn kind(&self) -> ChannelKind {
        self.config.kind()
    }
}

#[derive(Deserialize)]
struct Row {
    kind: String,
    enabled: i64,
    settings: String,
    secrets: String,
    status: String,
    last_error: Option<String>,
    failing_since: Option<i64>,
    updated_at: i64,
}

fn aad(site: &SiteKey, kind: ChannelKind) -> String {
    format!("{site}/{}", kind.as_str())
}

fn status(s: &str) -> ChannelStatus {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).unwrap_or_default()
}

/// A stored channel whose secrets cannot be opened (the `SECRETS_KEY` changed, or the row
/// was copied from another deployment): it must be set up again.
#[derive(Clone, Debug)]
pub struct Unreadable {
    pub kind: ChannelKind,
    pub enabled: bool,
    pub settings: ChannelSettings,
    pub updated_at: i64,
}

impl Unreadable {
    pub const REASON: &str =
        "the stored secrets cannot be read with this deployment's SECRETS_KEY: enter them again";
}

impl Row {
    fn open(self, site: &SiteKey, key: &[u8]) -> Result<std::result::Result<Channel, Unreadable>> {
        let kind = ChannelKind::parse(&self.kind)
            .ok_or_else(|| Error::internal("unknown channel kind in D1"))?;
        let settings: ChannelSettings =
            serde_json::from_str(&self.settings).map_err(Error::internal)?;
        let config = crate::secrets::open(key, &aad(site, kind), &self.secrets)
            .ok()
            .and_then(|s| serde_json::from_slice::<ChannelSecrets>(&s).ok())
            .and_then(|secrets| Config::new(settings.clone(), secrets).ok());
        let Some(config) = config else {
            return Ok(Err(Unreadable {
                kind,
                enabled: self.enabled != 0,
                settings,
                updated_at: self.updated_at,
            }));
        };
        Ok(Ok(Channel {
            config,
            enabled: self.enabled != 0,
            status: status(&self.status),
            last_error: self.last_error,
            failing_since: self.failing_since,
            updated_at: self.updated_at,
        }))
    }
}

const COLUMNS: &str =
    "kind, enabled, settings, secrets, status, last_error, failing_since, updated_at";

/// Every channel of `site`, secrets opened where they can be (one unreadable row never hides
/// the others).
pub async fn list(
    db: &D1Database,
    site: &SiteKey,
    key: &[u8],
) -> Result<Vec<std::result::Result<Channel, Unreadable>>> {
    let rows: Vec<Row> = stmt(
        db,
        &format!("SELECT {COLUMNS} FROM channels WHERE site_key = ?1 ORDER BY kind"),
        &[Arg::Str(site.as_str())],
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter().map(|r| r.open(site, key)).collect()
}

pub async fn get(
    db: &D1Database,
    site: &SiteKey,
    kind: ChannelKind,
    key: &[u8],
) -> Result<Option<Channel>> {
    let row: Option<Row> = stmt(
        db,
        &format!("SELECT {COLUMNS} FROM channels WHERE site_key = ?1 AND kind = ?2"),
        &[Arg::Str(site.as_str()), Arg::Str(kind.as_str())],
    )?
    .first(None)
    .await?;
    match row.map(|r| r.open(site, key)).transpose()? {
        None => Ok(None),
        Some(Ok(channel)) => Ok(Some(channel)),
        Some(Err(_)) => Err(Error::new(ErrorCode::Conflict, Unreadable::REASON)),
    }
}

/// Creates or replaces a channel's settings and secrets; the health resets.
pub async fn put(
    db: &D1Database,
    site: &SiteKey,
    ch: &Channel,
    key: &[u8],
    nonce: [u8; 12],
    now: i64,
) -> Result<()> {
    let kind = ch.kind();
    let secrets = serde_json::to_vec(&ch.config.secrets()).map_err(Error::internal)?;
    let sealed = crate::secrets::seal(key, &aad(site, kind), &secrets, nonce);
    let settings = serde_json::to_string(&ch.config.settings()).map_err(Error::internal)?;
    stmt(
        db,
        "INSERT INTO channels (site_key, kind, enabled, settings, secrets, status, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'unknown', ?6)
         ON CONFLICT(site_key, kind) DO UPDATE SET enabled = excluded.enabled, settings = excluded.settings,
           secrets = excluded.secrets, status = 'unknown', last_error = NULL, failing_since = NULL, updated_at = excluded.updated_at",
        &[
            Arg::Str(site.as_str()),
            Arg::Str(kind.as_str()),
            Arg::Int(i64::from(ch.enabled)),
            Arg::Str(&settings),
            Arg::Str(&sealed),
            Arg::Int(now),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

pub async fn delete(db: &D1Database, site: &SiteKey, kind: ChannelKind) -> Result<bool> {
    let result = stmt(
        db,
        "DELETE FROM channels WHERE site_key = ?1 AND kind = ?2",
        &[Arg::Str(site.as_str()), Arg::Str(kind.as_str())],
    )?
    .run()
    .await?;
    super::changed_any(&result)
}

/// Records the channel's health after a relay attempt (only writes when it changes).
pub async fn report(
    db: &D1Database,
    site: &SiteKey,
    kind: ChannelKind,
    error: Option<&str>,
    now: i64,
) -> Result<()> {
    match error {
        None => stmt(
            db,
            "UPDATE channels SET status = 'ok', last_error = NULL, failing_since = NULL WHERE site_key = ?1 AND kind = ?2 AND status != 'ok'",
            &[Arg::Str(site.as_str()), Arg::Str(kind.as_str())],
        )?,
        Some(e) => stmt(
            db,
            "UPDATE channels SET status = 'failing', last_error = ?3, failing_since = COALESCE(failing_since, ?4) WHERE site_key = ?1 AND kind = ?2",
            &[Arg::Str(site.as_str()), Arg::Str(kind.as_str()), Arg::Str(e), Arg::Int(now)],
        )?,
    }
    .run()
    .await?;
    Ok(())
}

/// Remembers that `thread_key` in `kind` belongs to `conversation`.
pub async fn map_thread(
    db: &D1Database,
    kind: ChannelKind,
    site: &SiteKey,
    thread_key: &str,
    conversation: &ConversationId,
    now: i64,
) -> Result<()> {
    stmt(
        db,
        "INSERT INTO channel_threads (kind, site_key, thread_key, conversation_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT DO NOTHING",
        &[Arg::Str(kind.as_str()), Arg::Str(site.as_str()), Arg::Str(thread_key), Arg::Str(conversation.as_str()), Arg::Int(now)],
    )?
    .run()
    .await?;
    Ok(())
}

/// The conversation a channel thread belongs to.
pub async fn find_thread(
    db: &D1Database,
    kind: ChannelKind,
    site: &SiteKey,
    thread_key: &str,
) -> Result<Option<ConversationId>> {
    let id: Option<String> = stmt(
        db,
        "SELECT conversation_id FROM channel_threads WHERE kind = ?1 AND site_key = ?2 AND thread_key = ?3",
        &[Arg::Str(kind.as_str()), Arg::Str(site.as_str()), Arg::Str(thread_key)],
    )?
    .first(Some("conversation_id"))
    .await?;
    id.map(|s| ConversationId::parse(&s).map_err(Error::from))
        .transpose()
}

/// Turns a channel off after its endpoint said it is gone (a webhook's 410): relays stop
/// being queued and the inbox shows why, until it is set up again.
pub async fn disable(
    db: &D1Database,
    site: &SiteKey,
    kind: ChannelKind,
    reason: &str,
    now: i64,
) -> Result<()> {
    stmt(
        db,
        "UPDATE channels SET enabled = 0, status = 'failing', last_error = ?3, failing_since = COALESCE(failing_since, ?4) WHERE site_key = ?1 AND kind = ?2",
        &[Arg::Str(site.as_str()), Arg::Str(kind.as_str()), Arg::Str(reason), Arg::Int(now)],
    )?
    .run()
    .await?;
    Ok(())
}
