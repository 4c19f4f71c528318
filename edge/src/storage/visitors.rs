//! The `visitors` table: visitors who have interacted (sent a message, answered a teaser, or
//! were reached by an agent), with what the site's page told us about them
//! (`Beckon.identify`: name, email, phone), and `contact_threads`: which conversation a
//! contact's messages on their own channel belong to. People who started the site's Telegram
//! bot, or wrote to its Facebook Page or Instagram account, are contacts too: each gets a
//! visitor identity of its own, keyed by their private chat or their Meta id.
//! Visitors who never interact are never stored.

use super::{stmt, Arg};
use crate::error::{Error, Result};
use beckon_shared::proto::v1::{Contact, ContactChannel, Identify, VisitorClient};
use beckon_shared::{ConversationId, SiteKey, VisitorId};
use serde::Deserialize;
use worker::D1Database;

/// Stores a new visitor of `site` under a fresh random id, and returns it.
pub async fn create(db: &D1Database, site: &SiteKey, now: i64) -> Result<VisitorId> {
    insert(db, site, now, None).await
}

/// A new visitor starting a conversation from the browser `client` describes.
pub async fn create_from(
    db: &D1Database,
    site: &SiteKey,
    client: &VisitorClient,
) -> Result<VisitorId> {
    insert(db, site, client.at, Some(client)).await
}

async fn insert(
    db: &D1Database,
    site: &SiteKey,
    now: i64,
    client: Option<&VisitorClient>,
) -> Result<VisitorId> {
    let id = crate::random::visitor_id();
    let client = client
        .map(serde_json::to_string)
        .transpose()
        .map_err(crate::error::Error::internal)?;
    stmt(
        db,
        "INSERT INTO visitors (id, site_key, created_at, last_seen_at, client) VALUES (?1, ?2, ?3, ?3, ?4)",
        &[
            Arg::Str(id.as_str()),
            Arg::Str(site.as_str()),
            Arg::Int(now),
            Arg::OptStr(client.as_deref()),
        ],
    )?
    .run()
    .await?;
    Ok(id)
}

/// Whether the visitor exists (a token for a deleted visitor is refused).
pub async fn exists(db: &D1Database, site: &SiteKey, id: &VisitorId) -> Result<bool> {
    let n: Option<i64> = stmt(
        db,
        "SELECT COUNT(*) AS n FROM visitors WHERE id = ?1 AND site_key = ?2",
        &[Arg::Str(id.as_str()), Arg::Str(site.as_str())],
    )?
    .first(Some("n"))
    .await?;
    Ok(n.unwrap_or(0) > 0)
}

/// The visitor starts a conversation now, from the browser `client` describes (kept for the
/// inbox's sidebar).
pub async fn touch(db: &D1Database, id: &VisitorId, client: &VisitorClient) -> Result<()> {
    stmt(
        db,
        "UPDATE visitors SET last_seen_at = ?2, client = ?3 WHERE id = ?1",
        &[
            Arg::Str(id.as_str()),
            Arg::Int(client.at),
            Arg::Str(&serde_json::to_string(client).map_err(crate::error::Error::internal)?),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// What [`touch`] kept of the visitor's browser, if anything.
pub async fn client(
    db: &D1Database,
    site: &SiteKey,
    id: &VisitorId,
) -> Result<Option<VisitorClient>> {
    let raw: Option<String> = stmt(
        db,
        "SELECT client FROM visitors WHERE site_key = ?1 AND id = ?2",
        &[Arg::Str(site.as_str()), Arg::Str(id.as_str())],
    )?
    .first(Some("client"))
    .await?;
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
}

/// Records a verified visitor: the proof's fields and what the page said beside them; absent
/// fields keep their value.
pub async fn identify(
    db: &D1Database,
    site: &SiteKey,
    id: &VisitorId,
    who: &Identify,
    now: i64,
    email_proven: bool,
) -> Result<()> {
    record(db, site, id, who, now, (false, email_proven)).await
}

/// What a page claims about a visitor: ignored once the visitor's identity was proven (a
/// claim must not change what agents see next to "verified").
pub async fn claim(
    db: &D1Database,
    site: &SiteKey,
    id: &VisitorId,
    who: &Identify,
    now: i64,
) -> Result<()> {
    record(db, site, id, who, now, (true, false)).await
}

/// `unproven_only`: a claim, which a proven visitor's fields ignore. A phone or email that
/// changes here is marked claimed (no proof covers a phone; an email is proven when
/// `email_proven`, a signed JWT's); the same value again leaves its mark (an import may have
/// made it the contact's own).
async fn record(
    db: &D1Database,
    site: &SiteKey,
    id: &VisitorId,
    who: &Identify,
    now: i64,
    (unproven_only, email_proven): (bool, bool),
) -> Result<()> {
    // Pre-chat answers join the contact's other attributes (an answer given again replaces
    // the last), a proven visitor's too: they are answers, not claims of who they are.
    let attributes = match who.attributes.is_empty() {
        true => None,
        false => Some(serde_json::to_string(&who.attributes).map_err(Error::internal)?),
    };
    stmt(
        db,
        "UPDATE visitors SET last_seen_at = ?6,
                name = CASE WHEN ?7 = 0 OR external_id IS NULL THEN COALESCE(?3, name) ELSE name END,
                email = CASE WHEN ?7 = 0 OR external_id IS NULL THEN COALESCE(?4, email) ELSE email END,
                email_claimed = CASE WHEN ?4 IS NOT NULL AND (?7 = 0 OR external_id IS NULL)
                  THEN CASE WHEN ?9 = 1 THEN 0 WHEN ?4 IS email THEN email_claimed ELSE 1 END
                  ELSE email_claimed END,
                phone = CASE WHEN ?7 = 0 OR external_id IS NULL THEN COALESCE(?5, phone) ELSE phone END,
                phone_claimed = CASE WHEN ?5 IS NOT NULL AND ?5 IS NOT phone
                  AND (?7 = 0 OR external_id IS NULL) THEN 1 ELSE phone_claimed END,
                attributes = CASE WHEN ?8 IS NULL THEN attributes ELSE json_patch(attributes, ?8) END
         WHERE id = ?1 AND site_key = ?2",
        &[
            Arg::Str(id.as_str()),
            Arg::Str(site.as_str()),
            Arg::OptStr(who.name.as_deref()),
            Arg::OptStr(who.email.as_deref()),
            Arg::OptStr(who.phone.as_deref()),
            Arg::Int(now),
            Arg::Int(i64::from(unproven_only)),
            Arg::OptStr(attributes.as_deref()),
            Arg::Int(i64::from(email_proven)),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

#[derive(Deserialize)]
struct ContactRow {
    id: String,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    telegram_name: Option<String>,
    on_messenger: i64,
    on_instagram: i64,
    last_seen_at: i64,
    language: Option<String>,
    tags: String,
    time_zone: Option<String>,
    attributes: String,
    consents: Option<String>,
    verified: i64,
}

impl ContactRow {
    fn into_contact(self) -> Result<Contact> {
        Ok(Contact {
            visitor_id: VisitorId::parse(&self.id)?,
            name: self.name,
            email: self.email,
            phone: self.phone,
            telegram: self.telegram_name,
            meta: [
                (self.on_messenger, ContactChannel::Messenger),
                (self.on_instagram, ContactChannel::Instagram),
            ]
            .into_iter()
            .filter_map(|(on, c)| (on != 0).then_some(c))
            .collect(),
            last_seen_at: self.last_seen_at,
            language: self.language,
            tags: serde_json::from_str(&self.tags).unwrap_or_default(),
            time_zone: self.time_zone,
            attributes: serde_json::from_str(&self.attributes).unwrap_or_default(),
            consents: self
                .consents
                .and_then(|c| serde_json::from_str(&c).ok())
                .unwrap_or_default(),
            verified: self.verified != 0,
        })
    }
}

/// SQL: the consent row `k` is for one of visitor `v`'s own addresses on site `?1` (not a
/// phone or email they only claimed: its consent is the address's owner's).
macro_rules! consent_of_visitor {
    () => {
        "k.site_key = ?1 AND ((k.channel = 'web' AND k.address = v.id)
         OR (k.channel = 'telegram' AND k.address = v.telegram_chat)
         OR (k.channel = 'whatsapp' AND k.address = v.phone AND v.phone_claimed = 0)
         OR (k.channel = 'email' AND k.address = v.email AND v.email_claimed = 0)
         OR (k.channel = 'messenger' AND k.address = v.messenger_psid)
         OR (k.channel = 'instagram' AND k.address = v.instagram_id))"
    };
}
pub(super) use consent_of_visitor;

/// A contact's columns with their consents (a JSON array: their own addresses', and the
/// opt-out of an address they claimed, which holds for them too); `?1` is the site.
const CONTACT: &str = concat!(
    "SELECT v.id, v.name, v.email, v.phone, v.telegram_name,
    v.messenger_psid IS NOT NULL AS on_messenger, v.instagram_id IS NOT NULL AS on_instagram, v.last_seen_at,
    v.language, v.tags, v.time_zone, v.attributes, v.external_id IS NOT NULL AS verified,
    (SELECT json_group_array(json_object('channel', k.channel, 'status', k.status,
         'source', k.source, 'at', k.updated_at))
       FROM consents k WHERE (",
    consent_of_visitor!(),
    ") OR (k.site_key = ?1 AND k.status = 'out' AND ((k.channel = 'whatsapp' AND k.address = v.phone)
         OR (k.channel = 'email' AND k.address = v.email)))) AS consents
  FROM visitors v"
);

/// Which contacts a list shows: those matching `search` (in name, email, phone or Telegram
/// name) and carrying `tag`, most recently seen first (then by id), after `after` — the
/// (last seen, id) of the previous page's last.
#[derive(Clone, Debug, Default)]
pub struct ContactQuery {
    pub search: Option<String>,
    pub tag: Option<String>,
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// The conversations a visitor of `site` holds.
pub async fn conversations_of(
    db: &D1Database,
    site: &SiteKey,
    id: &VisitorId,
) -> Result<Vec<ConversationId>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
    }
    let rows: Vec<Row> = stmt(
        db,
        "SELECT id FROM conversations WHERE site_key = ?1 AND visitor_id = ?2",
        &[Arg::Str(site.as_str()), Arg::Str(id.as_str())],
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter()
        .map(|r| ConversationId::parse(&r.id).map_err(Into::into))
        .collect()
}

/// The visitor's latest conversation in the widget (not one held on a channel of theirs).
pub async fn widget_conversation(
    db: &D1Database,
    site: &SiteKey,
    id: &VisitorId,
) -> Result<Option<ConversationId>> {
    let found: Option<String> = stmt(
        db,
        "SELECT id FROM conversations WHERE site_key = ?1 AND visitor_id = ?2 AND contact_channel IS NULL
         ORDER BY updated_at DESC LIMIT 1",
        &[Arg::Str(site.as_str()), Arg::Str(id.as_str())],
    )?
    .first(Some("id"))
    .await?;
    found
        .map(|c| ConversationId::parse(&c).map_err(Into::into))
        .transpose()
}

/// Forgets a visitor of `site`: their record (name, email, phone, Telegram chat, Meta ids),
/// their threads on contact channels, their own number's WhatsApp window (not one they only
/// claimed) and their Messenger and Instagram windows.
pub async fn delete(db: &D1Database, site: &SiteKey, id: &VisitorId) -> Result<()> {
    let args = [Arg::Str(site.as_str()), Arg::Str(id.as_str())];
    db.batch(vec![
        stmt(
            db,
            "DELETE FROM whatsapp_windows WHERE site_key = ?1 AND phone IN
               (SELECT phone FROM visitors WHERE site_key = ?1 AND id = ?2 AND phone IS NOT NULL
                  AND phone_claimed = 0)",
            &args,
        )?,
        stmt(
            db,
            "DELETE FROM contact_windows WHERE site_key = ?1 AND (
               (channel = 'messenger' AND address IN (SELECT messenger_psid FROM visitors WHERE site_key = ?1 AND id = ?2))
               OR (channel = 'instagram' AND address IN (SELECT instagram_id FROM visitors WHERE site_key = ?1 AND id = ?2)))",
            &args,
        )?,
        stmt(
            db,
            "DELETE FROM contact_threads WHERE site_key = ?1 AND visitor_id = ?2",
            &args,
        )?,
        stmt(
            db,
            "DELETE FROM visitors WHERE site_key = ?1 AND id = ?2",
            &args,
        )?,
    ])
    .await?;
    Ok(())
}

/// Identified visitors, most recently seen first.
pub async fn contacts(db: &D1Database, site: &SiteKey, q: &ContactQuery) -> Result<Vec<Contact>> {
    // LIKE with `\` escaping, so `%` and `_` in a search are themselves.
    let like = q.search.as_deref().map(|s| {
        let escaped: String = s
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        format!("%{escaped}%")
    });
    let rows: Vec<ContactRow> = stmt(
        db,
        &format!(
            "{CONTACT} WHERE v.site_key = ?1
               AND (v.name IS NOT NULL OR v.email IS NOT NULL OR v.phone IS NOT NULL OR v.telegram_chat IS NOT NULL
                    OR v.messenger_psid IS NOT NULL OR v.instagram_id IS NOT NULL)
               AND (?2 IS NULL OR v.name LIKE ?2 ESCAPE '\\' OR v.email LIKE ?2 ESCAPE '\\'
                    OR v.phone LIKE ?2 ESCAPE '\\' OR v.telegram_name LIKE ?2 ESCAPE '\\')
               AND (?3 IS NULL OR EXISTS (SELECT 1 FROM json_each(v.tags) WHERE json_each.value = ?3))
               AND (?4 IS NULL OR v.last_seen_at < ?4 OR (v.last_seen_at = ?4 AND v.id < ?6))
             ORDER BY v.last_seen_at DESC, v.id DESC LIMIT ?5"
        ),
        &[
            Arg::Str(site.as_str()),
            Arg::OptStr(like.as_deref()),
            Arg::OptStr(q.tag.as_deref()),
            q.after.as_ref().map_or(Arg::OptStr(None), |a| Arg::Int(a.0)),
            Arg::Int(q.limit),
            Arg::OptStr(q.after.as_ref().map(|a| a.1.as_str())),
        ],
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter().map(ContactRow::into_contact).collect()
}

pub async fn contact(db: &D1Database, site: &SiteKey, id: &VisitorId) -> Result<Option<Contact>> {
    let row: Option<ContactRow> = stmt(
        db,
        &format!("{CONTACT} WHERE v.site_key = ?1 AND v.id = ?2"),
        &[Arg::Str(site.as_str()), Arg::Str(id.as_str())],
    )?
    .first(None)
    .await?;
    row.map(ContactRow::into_contact).transpose()
}

/// Records someone who wrote to the site's Telegram bot in a private chat (`/start` or any
/// message) as a contact, once per chat (`new_id` is their identity if they are new); later
/// messages refresh their name and handle. Returns their visitor identity.
pub async fn telegram_contact(
    db: &D1Database,
    site: &SiteKey,
    chat: &str,
    (name, handle): (&str, &str),
    new_id: &VisitorId,
    now: i64,
) -> Result<VisitorId> {
    let id: Option<String> = stmt(
        db,
        "INSERT INTO visitors (id, site_key, created_at, last_seen_at, name, telegram_chat, telegram_name)
         VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6)
         ON CONFLICT(site_key, telegram_chat) DO UPDATE SET name = excluded.name,
           telegram_name = excluded.telegram_name, last_seen_at = excluded.last_seen_at
         RETURNING id",
        &[
            Arg::Str(new_id.as_str()),
            Arg::Str(site.as_str()),
            Arg::Int(now),
            Arg::Str(name),
            Arg::Str(chat),
            Arg::Str(handle),
        ],
    )?
    .first(Some("id"))
    .await?;
    match id {
        Some(id) => Ok(VisitorId::parse(&id)?),
        None => Err(crate::error::Error::internal(
            "telegram contact upsert returned no id",
        )),
    }
}

/// The private Telegram chat of a contact who started the site's bot.
pub async fn telegram_chat(
    db: &D1Database,
    site: &SiteKey,
    id: &VisitorId,
) -> Result<Option<String>> {
    Ok(stmt(
        db,
        "SELECT telegram_chat FROM visitors WHERE site_key = ?1 AND id = ?2",
        &[Arg::Str(site.as_str()), Arg::Str(id.as_str())],
    )?
    .first::<Option<String>>(Some("telegram_chat"))
    .await?
    .flatten())
}

/// The column holding a contact's id on a Meta channel (Messenger or Instagram).
fn meta_column(channel: ContactChannel) -> Result<&'static str> {
    match channel {
        ContactChannel::Messenger => Ok("messenger_psid"),
        ContactChannel::Instagram => Ok("instagram_id"),
        other => Err(crate::error::Error::internal(format!(
            "{} contacts are not kept by their Meta id",
            other.as_str()
        ))),
    }
}

/// The contact who wrote to the site's Page or Instagram account as `address`, made now (as
/// `new_id`) if they are new; their `name`, when Meta told it, is kept up to date.
pub async fn meta_contact(
    db: &D1Database,
    site: &SiteKey,
    (channel, address): (ContactChannel, &str),
    name: Option<&str>,
    new_id: &VisitorId,
    now: i64,
) -> Result<VisitorId> {
    let column = meta_column(channel)?;
    let id: Option<String> = stmt(
        db,
        &format!(
            "INSERT INTO visitors (id, site_key, created_at, last_seen_at, name, {column})
             VALUES (?1, ?2, ?3, ?3, ?4, ?5)
             ON CONFLICT(site_key, {column}) DO UPDATE SET name = COALESCE(excluded.name, name),
               last_seen_at = excluded.last_seen_at
             RETURNING id"
        ),
        &[
            Arg::Str(new_id.as_str()),
            Arg::Str(site.as_str()),
            Arg::Int(now),
            Arg::OptStr(name),
            Arg::Str(address),
        ],
    )?
    .first(Some("id"))
    .await?;
    match id {
        Some(id) => Ok(VisitorId::parse(&id)?),
        None => Err(crate::error::Error::internal(
            "meta contact upsert returned no id",
        )),
    }
}

/// A contact's id on a Meta channel, present once they wrote to the Page or the account.
pub async fn meta_address(
    db: &D1Database,
    site: &SiteKey,
    id: &VisitorId,
    channel: ContactChannel,
) -> Result<Option<String>> {
    let column = meta_column(channel)?;
    Ok(stmt(
        db,
        &format!("SELECT {column} FROM visitors WHERE site_key = ?1 AND id = ?2"),
        &[Arg::Str(site.as_str()), Arg::Str(id.as_str())],
    )?
    .first::<Option<String>>(Some(column))
    .await?
    .flatten())
}

/// Points a contact's address on a channel at a conversation (their messages there go to it).
pub async fn map_contact_thread(
    db: &D1Database,
    site: &SiteKey,
    channel: ContactChannel,
    address: &str,
    visitor: &VisitorId,
    conversation: &ConversationId,
    now: i64,
) -> Result<()> {
    stmt(
        db,
        "INSERT INTO contact_threads (site_key, channel, address, visitor_id, conversation_id, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(site_key, channel, address) DO UPDATE SET visitor_id = excluded.visitor_id,
           conversation_id = excluded.conversation_id, updated_at = excluded.updated_at",
        &[
            Arg::Str(site.as_str()),
            Arg::Str(channel.as_str()),
            Arg::Str(address),
            Arg::Str(visitor.as_str()),
            Arg::Str(conversation.as_str()),
            Arg::Int(now),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// The contact and conversation a message from `address` on `channel` belongs to.
pub async fn find_contact_thread(
    db: &D1Database,
    site: &SiteKey,
    channel: ContactChannel,
    address: &str,
) -> Result<Option<(VisitorId, ConversationId)>> {
    #[derive(Deserialize)]
    struct Row {
        visitor_id: String,
        conversation_id: String,
    }
    let row: Option<Row> = stmt(
        db,
        "SELECT visitor_id, conversation_id FROM contact_threads WHERE site_key = ?1 AND channel = ?2 AND address = ?3",
        &[
            Arg::Str(site.as_str()),
            Arg::Str(channel.as_str()),
            Arg::Str(address),
        ],
    )?
    .first(None)
    .await?;
    row.map(|r| {
        Ok((
            VisitorId::parse(&r.visitor_id)?,
            ConversationId::parse(&r.conversation_id)?,
        ))
    })
    .transpose()
}

/// The visitor whose identity the site's backend proved to be `user` (the site's own id).
pub async fn find_verified(
    db: &D1Database,
    site: &SiteKey,
    user: &str,
) -> Result<Option<VisitorId>> {
    let id: Option<String> = stmt(
        db,
        "SELECT id FROM visitors WHERE site_key = ?1 AND external_id = ?2",
        &[Arg::Str(site.as_str()), Arg::Str(user)],
    )?
    .first(Some("id"))
    .await?;
    id.map(|i| VisitorId::parse(&i).map_err(Into::into))
        .transpose()
}

/// Records that `id` is the site's user `user`, proven: `false` if another visitor already
/// is that user, or `id` is already proven to be someone else (never relabelled).
pub async fn set_verified(
    db: &D1Database,
    site: &SiteKey,
    id: &VisitorId,
    user: &str,
) -> Result<bool> {
    let result = stmt(
        db,
        "UPDATE visitors SET external_id = ?3 WHERE id = ?1 AND site_key = ?2
           AND external_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM visitors WHERE site_key = ?2 AND external_id = ?3)",
        &[
            Arg::Str(id.as_str()),
            Arg::Str(site.as_str()),
            Arg::Str(user),
        ],
    )?
    .run()
    .await?;
    super::changed_any(&result)
}
