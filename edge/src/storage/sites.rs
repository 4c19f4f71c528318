//! The `sites` table: each site's settings (theme, greeting, allowed origins).

use super::{stmt, Arg};
use crate::error::{Error, Result};
use beckon_shared::i18n::SiteLanguage;
use beckon_shared::proto::v1::{ErrorCode, LauncherPosition, RateTier, SiteSettings, Theme};
use beckon_shared::SiteKey;
use serde::Deserialize;
use worker::D1Database;

#[derive(Deserialize)]
struct Row {
    key: String,
    name: String,
    greeting: String,
    accent: String,
    position: String,
    allowed_origins: String,
    allow_loopback: i64,
    remember_visitors: i64,
    rate_tier: String,
    language: String,
    theme: String,
    /// JSON: the site's words per language.
    translations: String,
    /// JSON: the opening hours, if any.
    #[serde(default)]
    hours: Option<String>,
    /// JSON: the pre-chat form, if any.
    #[serde(default)]
    prechat: Option<String>,
    /// JSON: title count, chime, notifications (NULL: all off).
    #[serde(default)]
    attention: Option<String>,
    /// JSON: the launcher's icon, label and offsets (NULL: the default).
    #[serde(default)]
    launcher: Option<String>,
    #[serde(default)]
    font: Option<String>,
    /// Only in [`with_turnstile`]'s query.
    #[serde(default)]
    turnstile_site_key: Option<String>,
    #[serde(default)]
    turnstile_secret: Option<String>,
}

impl Row {
    fn turnstile(&self) -> Option<Turnstile> {
        Some(Turnstile {
            site_key: self.turnstile_site_key.clone()?,
            sealed_secret: self.turnstile_secret.clone()?,
        })
    }

    fn into_settings(self) -> Result<SiteSettings> {
        Ok(SiteSettings {
            key: SiteKey::parse(&self.key)?,
            name: self.name,
            greeting: self.greeting,
            accent: self.accent,
            position: if self.position == "left" {
                LauncherPosition::Left
            } else {
                LauncherPosition::Right
            },
            allowed_origins: serde_json::from_str(&self.allowed_origins)
                .map_err(Error::internal)?,
            allow_loopback_origins: self.allow_loopback != 0,
            remember_visitors: self.remember_visitors != 0,
            rate_tier: match self.rate_tier.as_str() {
                "high" => RateTier::High,
                "highest" => RateTier::Highest,
                _ => RateTier::Standard,
            },
            language: SiteLanguage::parse(&self.language),
            theme: Theme::parse(&self.theme),
            translations: serde_json::from_str(&self.translations).map_err(Error::internal)?,
            hours: optional_json(self.hours.as_deref())?,
            prechat: optional_json(self.prechat.as_deref())?,
            attention: optional_json(self.attention.as_deref())?.unwrap_or_default(),
            launcher: optional_json(self.launcher.as_deref())?.unwrap_or_default(),
            font: self.font,
        })
    }
}

const COLUMNS: &str = "key, name, greeting, accent, position, allowed_origins, allow_loopback, \
                       remember_visitors, rate_tier, language, theme, translations, hours, prechat, \
                       attention, launcher, font";

fn rate_tier(t: RateTier) -> &'static str {
    match t {
        RateTier::Standard => "standard",
        RateTier::High => "high",
        RateTier::Highest => "highest",
    }
}

fn position(p: LauncherPosition) -> &'static str {
    match p {
        LauncherPosition::Left => "left",
        LauncherPosition::Right => "right",
    }
}

pub async fn get(db: &D1Database, key: &SiteKey) -> Result<Option<SiteSettings>> {
    let row: Option<Row> = stmt(
        db,
        &format!("SELECT {COLUMNS} FROM sites WHERE key = ?1"),
        &[Arg::Str(key.as_str())],
    )?
    .first(None)
    .await?;
    row.map(Row::into_settings).transpose()
}

/// The refusal for a site key that names no site.
pub fn not_found(key: &SiteKey) -> Error {
    Error::new(ErrorCode::SiteNotFound, format!("no site with key {key}"))
}

/// The site, or `site_not_found`.
pub async fn require(db: &D1Database, key: &SiteKey) -> Result<SiteSettings> {
    get(db, key).await?.ok_or_else(|| not_found(key))
}

pub async fn list(db: &D1Database) -> Result<Vec<SiteSettings>> {
    let rows: Vec<Row> = db
        .prepare(format!("SELECT {COLUMNS} FROM sites ORDER BY key"))
        .all()
        .await?
        .results()?;
    rows.into_iter().map(Row::into_settings).collect()
}

/// A nullable JSON column's value.
fn optional_json<T: serde::de::DeserializeOwned>(raw: Option<&str>) -> Result<Option<T>> {
    raw.map(serde_json::from_str)
        .transpose()
        .map_err(Error::internal)
}

/// The site's JSON columns: allowed origins, words per language, opening hours, the pre-chat
/// form, attention, the launcher.
struct Json(
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);

impl Json {
    fn of(s: &SiteSettings) -> Result<Json> {
        let hours = s.hours.as_ref().map(serde_json::to_string).transpose();
        let prechat = s.prechat.as_ref().map(serde_json::to_string).transpose();
        Ok(Json(
            serde_json::to_string(&s.allowed_origins).map_err(Error::internal)?,
            serde_json::to_string(&s.translations).map_err(Error::internal)?,
            hours.map_err(Error::internal)?,
            prechat.map_err(Error::internal)?,
            serde_json::to_string(&s.attention).map_err(Error::internal)?,
            serde_json::to_string(&s.launcher).map_err(Error::internal)?,
        ))
    }
}

/// The bind values of a site row, in `COLUMNS` order (`?1`…`?17`).
fn values<'a>(s: &'a SiteSettings, json: &'a Json) -> [Arg<'a>; 17] {
    [
        Arg::Str(s.key.as_str()),
        Arg::Str(&s.name),
        Arg::Str(&s.greeting),
        Arg::Str(&s.accent),
        Arg::Str(position(s.position)),
        Arg::Str(&json.0),
        Arg::Int(i64::from(s.allow_loopback_origins)),
        Arg::Int(i64::from(s.remember_visitors)),
        Arg::Str(rate_tier(s.rate_tier)),
        Arg::Str(s.language.as_str()),
        Arg::Str(s.theme.as_str()),
        Arg::Str(&json.1),
        Arg::OptStr(json.2.as_deref()),
        Arg::OptStr(json.3.as_deref()),
        Arg::Str(&json.4),
        Arg::Str(&json.5),
        Arg::OptStr(s.font.as_deref()),
    ]
}

/// Inserts a new site; `conflict` if the key is taken.
pub async fn insert(db: &D1Database, s: &SiteSettings, now: i64) -> Result<()> {
    let json = Json::of(s)?;
    let mut args = values(s, &json).to_vec();
    args.push(Arg::Int(now));
    let sql = format!(
        "INSERT INTO sites ({COLUMNS}, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
    );
    match stmt(db, &sql, &args)?.run().await {
        Ok(_) => Ok(()),
        Err(e) if super::is_unique_violation(&e) => Err(Error::new(
            ErrorCode::Conflict,
            format!("site {} already exists", s.key),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn update(db: &D1Database, s: &SiteSettings) -> Result<()> {
    let sql = "UPDATE sites SET name = ?2, greeting = ?3, accent = ?4, position = ?5, allowed_origins = ?6,
               allow_loopback = ?7, remember_visitors = ?8, rate_tier = ?9, language = ?10,
               theme = ?11, translations = ?12, hours = ?13,
               prechat = ?14, attention = ?15, launcher = ?16, font = ?17 WHERE key = ?1";
    stmt(db, sql, &values(s, &Json::of(s)?))?.run().await?;
    Ok(())
}

/// A site's identity settings: its sealed secret (if one was made) and whether it accepts
/// verified identities only.
pub struct Identity {
    pub sealed_secret: Option<String>,
    pub required: bool,
}

pub async fn identity(db: &D1Database, key: &SiteKey) -> Result<Option<Identity>> {
    #[derive(Deserialize)]
    struct IdRow {
        identity_secret: Option<String>,
        identity_required: i64,
    }
    let row: Option<IdRow> = stmt(
        db,
        "SELECT identity_secret, identity_required FROM sites WHERE key = ?1",
        &[Arg::Str(key.as_str())],
    )?
    .first(None)
    .await?;
    Ok(row.map(|r| Identity {
        sealed_secret: r.identity_secret,
        required: r.identity_required != 0,
    }))
}

/// Sets whether the site requires verified identities, and its sealed secret when given.
pub async fn set_identity(
    db: &D1Database,
    key: &SiteKey,
    required: bool,
    sealed_secret: Option<&str>,
) -> Result<()> {
    stmt(
        db,
        "UPDATE sites SET identity_required = ?2, identity_secret = COALESCE(?3, identity_secret)
         WHERE key = ?1",
        &[
            Arg::Str(key.as_str()),
            Arg::Int(i64::from(required)),
            Arg::OptStr(sealed_secret),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// A site's Turnstile widget: its public site key and its sealed secret key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Turnstile {
    pub site_key: String,
    pub sealed_secret: String,
}

/// The site with its Turnstile widget (if it asks visitors to pass one), in one read.
pub async fn with_turnstile(
    db: &D1Database,
    key: &SiteKey,
) -> Result<Option<(SiteSettings, Option<Turnstile>)>> {
    let row: Option<Row> = stmt(
        db,
        &format!(
            "SELECT {COLUMNS}, turnstile_site_key, turnstile_secret FROM sites WHERE key = ?1"
        ),
        &[Arg::Str(key.as_str())],
    )?
    .first(None)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let turnstile = row.turnstile();
    Ok(Some((row.into_settings()?, turnstile)))
}

/// Sets (or with `None` clears) the site's Turnstile widget; `site_not_found` for no site.
pub async fn set_turnstile(db: &D1Database, key: &SiteKey, t: Option<&Turnstile>) -> Result<()> {
    let done = stmt(
        db,
        "UPDATE sites SET turnstile_site_key = ?2, turnstile_secret = ?3 WHERE key = ?1",
        &[
            Arg::Str(key.as_str()),
            Arg::OptStr(t.map(|t| t.site_key.as_str())),
            Arg::OptStr(t.map(|t| t.sealed_secret.as_str())),
        ],
    )?
    .run()
    .await?;
    if !super::changed_any(&done)? {
        return Err(not_found(key));
    }
    Ok(())
}
