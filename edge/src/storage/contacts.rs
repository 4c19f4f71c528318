//! Contact records as broadcasts see them (the `visitors` rows with their tags, attributes,
//! language and time zone), the `consents` per channel address, the writes of a contacts
//! import, and which forms of a WhatsApp number a site knows (records, consents and
//! `contact_threads`).

use super::visitors::consent_of_visitor;
use super::{stmt, Arg};
use crate::broadcast::import::{Existing, Fields, Write};
use crate::broadcast::plan::Contact;
use crate::error::{Error, Result};
use beckon_shared::proto::v1::{Audience, BroadcastChannel};
use beckon_shared::SiteKey;
use serde::Deserialize;
use worker::D1Database;

/// Contacts read per query.
const PAGE: i64 = 500;
/// Statements per D1 batch.
const BATCH: usize = 100;

/// Where a consent came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Import,
    /// The person sent STOP or START.
    Keyword,
    /// The visitor muted broadcasts in the widget.
    Widget,
    /// The person used an email's unsubscribe link.
    Link,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Import => "import",
            Source::Keyword => "keyword",
            Source::Widget => "widget",
            Source::Link => "link",
        }
    }
}

/// Which of `numbers` (forms of one WhatsApp number) the site knows someone by, each with
/// how: 0 a conversation held on the number, 1 a contact's own phone (not one a visitor only
/// claimed), 2 only a consent.
pub async fn known_whatsapp_numbers(
    db: &D1Database,
    site: &SiteKey,
    numbers: &[String],
) -> Result<Vec<(String, i64)>> {
    #[derive(Deserialize)]
    struct Known {
        number: String,
        rank: i64,
    }
    let list = (0..numbers.len())
        .map(|i| format!("?{}", i + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT address AS number, 0 AS rank FROM contact_threads
           WHERE site_key = ?1 AND channel = 'whatsapp' AND address IN ({list})
         UNION SELECT phone, 1 FROM visitors WHERE site_key = ?1 AND phone IN ({list})
           AND phone_claimed = 0
         UNION SELECT address, 2 FROM consents
           WHERE site_key = ?1 AND channel = 'whatsapp' AND address IN ({list})"
    );
    let mut args = vec![Arg::Str(site.as_str())];
    args.extend(numbers.iter().map(|n| Arg::Str(n)));
    let rows: Vec<Known> = stmt(db, &sql, &args)?.all().await?.results()?;
    Ok(rows.into_iter().map(|r| (r.number, r.rank)).collect())
}

/// Records that the person at `address` on `channel` opted in (`true`) or out.
pub async fn set_consent(
    db: &D1Database,
    site: &SiteKey,
    (channel, address): (BroadcastChannel, &str),
    granted: bool,
    source: Source,
    now: i64,
) -> Result<()> {
    stmt(
        db,
        "INSERT INTO consents (site_key, channel, address, status, source, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(site_key, channel, address) DO UPDATE SET status = excluded.status,
           source = excluded.source, updated_at = excluded.updated_at",
        &[
            Arg::Str(site.as_str()),
            Arg::Str(channel.as_str()),
            Arg::Str(address),
            Arg::Str(if granted { "in" } else { "out" }),
            Arg::Str(source.as_str()),
            Arg::Int(now),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// Whether the person at `address` opted out on `channel`.
pub async fn opted_out(
    db: &D1Database,
    site: &SiteKey,
    channel: BroadcastChannel,
    address: &str,
) -> Result<bool> {
    let status: Option<String> = stmt(
        db,
        "SELECT status FROM consents WHERE site_key = ?1 AND channel = ?2 AND address = ?3",
        &[
            Arg::Str(site.as_str()),
            Arg::Str(channel.as_str()),
            Arg::Str(address),
        ],
    )?
    .first(Some("status"))
    .await?;
    Ok(status.as_deref() == Some("out"))
}

/// The recipients of a table `r(contact, channel, address)` (`contact` may be NULL) who opted
/// out: on the address itself, or on any address of their contact record (site `?1`).
pub(crate) const OPTED_OUT_OF_R: &str = "SELECT r.contact AS contact FROM r
   LEFT JOIN visitors v ON v.id = r.contact AND v.site_key = ?1
 WHERE EXISTS (SELECT 1 FROM consents k WHERE k.site_key = ?1 AND k.status = 'out' AND (
     (k.channel = r.channel AND k.address = r.address)
     OR (k.channel = 'web' AND k.address = r.contact)
     OR (k.channel = 'telegram' AND k.address = v.telegram_chat)
     OR (k.channel = 'whatsapp' AND k.address = v.phone)
     OR (k.channel = 'email' AND k.address = v.email)
     OR (k.channel = 'messenger' AND k.address = v.messenger_psid)
     OR (k.channel = 'instagram' AND k.address = v.instagram_id)))";

/// Which of these recipients — (contact id, channel, address) — opted out: on the planned
/// address, or on any address of their contact record (a STOP on WhatsApp, a mute in the
/// widget). Their contact ids. (A stop on another record of the same person holds from the
/// next plan: the planner groups the records, this check does not.)
pub async fn opted_out_among(
    db: &D1Database,
    site: &SiteKey,
    recipients: &[(&str, &str, &str)],
) -> Result<std::collections::HashSet<String>> {
    #[derive(Deserialize)]
    struct Out {
        contact: String,
    }
    let mut out = std::collections::HashSet::new();
    // 3 parameters a recipient, within D1's 100.
    for chunk in recipients.chunks(30) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(?{}, ?{}, ?{})", i * 3 + 2, i * 3 + 3, i * 3 + 4))
            .collect();
        let mut args = vec![Arg::Str(site.as_str())];
        for (contact, channel, address) in chunk {
            args.extend([Arg::Str(contact), Arg::Str(channel), Arg::Str(address)]);
        }
        let rows: Vec<Out> = stmt(
            db,
            &format!(
                "WITH r(contact, channel, address) AS (VALUES {}) {OPTED_OUT_OF_R}",
                values.join(", ")
            ),
            &args,
        )?
        .all()
        .await?
        .results()?;
        out.extend(rows.into_iter().map(|r| r.contact));
    }
    Ok(out)
}

#[derive(Deserialize)]
struct Row {
    id: String,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    language: Option<String>,
    time_zone: Option<String>,
    tags: String,
    attributes: String,
    telegram_chat: Option<String>,
    messenger_psid: Option<String>,
    messenger_at: Option<i64>,
    instagram_id: Option<String>,
    instagram_at: Option<i64>,
    web_conversation: Option<String>,
    phone_claimed: i64,
    email_claimed: i64,
    web_consent: Option<String>,
    telegram_consent: Option<String>,
    whatsapp_consent: Option<String>,
    email_consent: Option<String>,
    messenger_consent: Option<String>,
    instagram_consent: Option<String>,
}

impl Row {
    /// The record as of `now`: Meta's windows that closed are gone.
    fn into_contact(self, now: i64) -> Contact {
        use crate::channels::messenger::api::STANDARD_WINDOW_MS;
        let window = |id: Option<String>, last: Option<i64>| {
            let closes = last? + STANDARD_WINDOW_MS;
            (now < closes).then_some((id?, closes))
        };
        let consent = [
            (BroadcastChannel::Web, self.web_consent),
            (BroadcastChannel::Telegram, self.telegram_consent),
            (BroadcastChannel::Whatsapp, self.whatsapp_consent),
            (BroadcastChannel::Email, self.email_consent),
            (BroadcastChannel::Messenger, self.messenger_consent),
            (BroadcastChannel::Instagram, self.instagram_consent),
        ]
        .into_iter()
        .filter_map(|(channel, status)| Some((channel, status? == "in")))
        // A claimed phone or email does not carry the address's opt-in (its opt-out it does).
        .filter(|(channel, opted_in)| {
            !opted_in
                || match channel {
                    BroadcastChannel::Whatsapp => self.phone_claimed == 0,
                    BroadcastChannel::Email => self.email_claimed == 0,
                    _ => true,
                }
        })
        .collect();
        Contact {
            fields: Fields {
                attributes: serde_json::from_str(&self.attributes).unwrap_or_default(),
                tags: serde_json::from_str(&self.tags).unwrap_or_default(),
                name: self.name,
                email: self.email,
                phone: self.phone,
                language: self.language,
                time_zone: self.time_zone,
                phone_claimed: self.phone_claimed != 0,
                email_claimed: self.email_claimed != 0,
            },
            id: self.id,
            web_conversation: self.web_conversation,
            telegram_chat: self.telegram_chat,
            messenger: window(self.messenger_psid, self.messenger_at),
            instagram: window(self.instagram_id, self.instagram_at),
            consent,
        }
    }
}

/// A contact's columns, their widget conversation, when they last wrote on Messenger and
/// Instagram, and their consents; `?1` is the site.
const SELECT: &str = "SELECT v.id, v.name, v.email, v.phone, v.language, v.time_zone, v.tags,
    v.attributes, v.phone_claimed, v.email_claimed, v.telegram_chat, v.messenger_psid, v.instagram_id,
    (SELECT c.id FROM conversations c WHERE c.visitor_id = v.id AND c.contact_channel IS NULL
       ORDER BY c.updated_at DESC LIMIT 1) AS web_conversation,
    (SELECT w.last_inbound_at FROM contact_windows w WHERE w.site_key = ?1 AND w.channel = 'messenger' AND w.address = v.messenger_psid) AS messenger_at,
    (SELECT w.last_inbound_at FROM contact_windows w WHERE w.site_key = ?1 AND w.channel = 'instagram' AND w.address = v.instagram_id) AS instagram_at,
    (SELECT k.status FROM consents k WHERE k.site_key = ?1 AND k.channel = 'web' AND k.address = v.id) AS web_consent,
    (SELECT k.status FROM consents k WHERE k.site_key = ?1 AND k.channel = 'telegram' AND k.address = v.telegram_chat) AS telegram_consent,
    (SELECT k.status FROM consents k WHERE k.site_key = ?1 AND k.channel = 'whatsapp' AND k.address = v.phone) AS whatsapp_consent,
    (SELECT k.status FROM consents k WHERE k.site_key = ?1 AND k.channel = 'email' AND k.address = v.email) AS email_consent,
    (SELECT k.status FROM consents k WHERE k.site_key = ?1 AND k.channel = 'messenger' AND k.address = v.messenger_psid) AS messenger_consent,
    (SELECT k.status FROM consents k WHERE k.site_key = ?1 AND k.channel = 'instagram' AND k.address = v.instagram_id) AS instagram_consent
  FROM visitors v";

/// Every contact of `site` matching `audience`, as of `now`, in a stable order. Identities
/// made for a conversation on someone's own channel (no fields, no widget conversation) are
/// not contacts of their own.
pub async fn audience(
    db: &D1Database,
    site: &SiteKey,
    audience: &Audience,
    now: i64,
) -> Result<Vec<Contact>> {
    let mut sql = format!(
        "{SELECT} WHERE v.site_key = ?1 AND v.id > ?2
           AND (v.name IS NOT NULL OR v.email IS NOT NULL OR v.phone IS NOT NULL
                OR v.telegram_chat IS NOT NULL
                OR v.messenger_psid IS NOT NULL OR v.instagram_id IS NOT NULL
                OR EXISTS (SELECT 1 FROM conversations c WHERE c.visitor_id = v.id AND c.contact_channel IS NULL))"
    );
    let mut args: Vec<String> = Vec::new();
    for tag in &audience.tags {
        args.push(tag.trim().to_lowercase());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM json_each(v.tags) WHERE json_each.value = ?{})",
            args.len() + 2
        ));
    }
    if let Some(l) = &audience.language {
        args.push(format!("{}%", l.trim()));
        sql.push_str(&format!(" AND v.language LIKE ?{}", args.len() + 2));
    }
    if let Some(t) = audience.seen_after {
        args.push(t.to_string());
        sql.push_str(&format!(
            " AND v.last_seen_at >= CAST(?{} AS INTEGER)",
            args.len() + 2
        ));
    }
    sql.push_str(&format!(" ORDER BY v.id LIMIT {PAGE}"));
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let mut bound = vec![Arg::Str(site.as_str()), Arg::Str(&after)];
        bound.extend(args.iter().map(|a| Arg::Str(a)));
        let rows: Vec<Row> = stmt(db, &sql, &bound)?.all().await?.results()?;
        let n = rows.len();
        if let Some(last) = rows.last() {
            after = last.id.clone();
        }
        out.extend(rows.into_iter().map(|r| r.into_contact(now)));
        if (n as i64) < PAGE {
            return Ok(out);
        }
    }
}

/// Every record of `site` that said stop (or muted) on an address of its own, as of `now`:
/// a broadcast's plan takes them as records of their person whatever the audience's filters
/// (a stop on one record holds on the person's others), and sends them nothing.
pub async fn stopped(db: &D1Database, site: &SiteKey, now: i64) -> Result<Vec<Contact>> {
    let sql = concat!(
        "WHERE v.site_key = ?1 AND EXISTS (SELECT 1 FROM consents k WHERE ",
        consent_of_visitor!(),
        " AND k.status = 'out')"
    );
    let rows: Vec<Row> = stmt(db, &format!("{SELECT} {sql}"), &[Arg::Str(site.as_str())])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.into_contact(now)).collect())
}

/// The site's contact records an import may match (any with a phone or an email, and those
/// named by `ids`), oldest first, with their WhatsApp and email opt-ins (none for a claimed
/// address: its consent is not the claimer's).
pub async fn importable(db: &D1Database, site: &SiteKey, ids: &[&str]) -> Result<Vec<Existing>> {
    #[derive(Deserialize)]
    struct R {
        id: String,
        name: Option<String>,
        email: Option<String>,
        phone: Option<String>,
        language: Option<String>,
        time_zone: Option<String>,
        tags: String,
        attributes: String,
        created_at: i64,
        opted_in: i64,
        email_opted_in: i64,
        phone_claimed: i64,
        email_claimed: i64,
    }
    const COLUMNS: &str = "SELECT v.id, v.name, v.email, v.phone, v.language, v.time_zone, v.tags,
           v.attributes, v.created_at, v.phone_claimed, v.email_claimed,
           v.phone_claimed = 0 AND EXISTS (SELECT 1 FROM consents k WHERE k.site_key = ?1
                   AND k.channel = 'whatsapp' AND k.address = v.phone AND k.status = 'in') AS opted_in,
           v.email_claimed = 0 AND EXISTS (SELECT 1 FROM consents k WHERE k.site_key = ?1
                   AND k.channel = 'email' AND k.address = v.email AND k.status = 'in') AS email_opted_in
         FROM visitors v WHERE v.site_key = ?1";
    let mut rows: Vec<R> = stmt(
        db,
        &format!("{COLUMNS} AND (v.phone IS NOT NULL OR v.email IS NOT NULL)"),
        &[Arg::Str(site.as_str())],
    )?
    .all()
    .await?
    .results()?;
    // Those named by id (a visitor of the widget, a Telegram contact), 90 per query.
    for chunk in ids.chunks(90) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("?{}", i + 2)).collect();
        let mut args = vec![Arg::Str(site.as_str())];
        args.extend(chunk.iter().map(|id| Arg::Str(id)));
        let named: Vec<R> = stmt(
            db,
            &format!(
                "{COLUMNS} AND v.phone IS NULL AND v.email IS NULL AND v.id IN ({})",
                marks.join(", ")
            ),
            &args,
        )?
        .all()
        .await?
        .results()?;
        rows.extend(named);
    }
    rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(rows
        .into_iter()
        .map(|r| Existing {
            fields: Fields {
                tags: serde_json::from_str(&r.tags).unwrap_or_default(),
                attributes: serde_json::from_str(&r.attributes).unwrap_or_default(),
                name: r.name,
                email: r.email,
                phone: r.phone,
                language: r.language,
                time_zone: r.time_zone,
                phone_claimed: r.phone_claimed != 0,
                email_claimed: r.email_claimed != 0,
            },
            id: r.id,
            whatsapp_opted_in: r.opted_in != 0,
            email_opted_in: r.email_opted_in != 0,
        })
        .collect())
}

/// Applies an import's writes, in batches. An opt-in never replaces a recorded opt-out.
pub async fn apply_import(
    db: &D1Database,
    site: &SiteKey,
    writes: &[Write],
    now: i64,
) -> Result<()> {
    let mut statements = Vec::new();
    for w in writes {
        statements.push(match w {
            Write::Create { id, fields } | Write::Update { id, fields } => {
                let tags = serde_json::to_string(&fields.tags).map_err(Error::internal)?;
                let attributes =
                    serde_json::to_string(&fields.attributes).map_err(Error::internal)?;
                stmt(
                    db,
                    "INSERT INTO visitors (id, site_key, created_at, last_seen_at, name, email, phone,
                       language, time_zone, tags, attributes, phone_claimed, email_claimed)
                     VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                     ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email,
                       phone = excluded.phone, language = excluded.language,
                       time_zone = excluded.time_zone, tags = excluded.tags,
                       attributes = excluded.attributes, phone_claimed = excluded.phone_claimed,
                       email_claimed = excluded.email_claimed",
                    &[
                        Arg::Str(id),
                        Arg::Str(site.as_str()),
                        Arg::Int(now),
                        Arg::OptStr(fields.name.as_deref()),
                        Arg::OptStr(fields.email.as_deref()),
                        Arg::OptStr(fields.phone.as_deref()),
                        Arg::OptStr(fields.language.as_deref()),
                        Arg::OptStr(fields.time_zone.as_deref()),
                        Arg::Str(&tags),
                        Arg::Str(&attributes),
                        Arg::Int(i64::from(fields.phone_claimed)),
                        Arg::Int(i64::from(fields.email_claimed)),
                    ],
                )?
            }
            Write::OptIn { channel, address } => stmt(
                db,
                "INSERT INTO consents (site_key, channel, address, status, source, updated_at)
                 VALUES (?1, ?2, ?3, 'in', 'import', ?4)
                 ON CONFLICT(site_key, channel, address) DO NOTHING",
                &[
                    Arg::Str(site.as_str()),
                    Arg::Str(channel.as_str()),
                    Arg::Str(address),
                    Arg::Int(now),
                ],
            )?,
        });
    }
    for chunk in statements.chunks(BATCH) {
        db.batch(chunk.to_vec()).await?;
    }
    Ok(())
}

/// Every contact of the site as CSV rows, in the import's columns (so an export imports back
/// unchanged), plus where each may be reached.
pub async fn export_csv(db: &D1Database, site: &SiteKey, now: i64) -> Result<String> {
    let contacts = audience(db, site, &Audience::default(), now).await?;
    let keys: std::collections::BTreeSet<&String> = contacts
        .iter()
        .flat_map(|c| c.fields.attributes.keys())
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "contact_id",
        "name",
        "email",
        "phone",
        "language",
        "time_zone",
        "tags",
        "whatsapp_opt_in",
        "email_opt_in",
        "reachable_on",
        "opted_out",
    ];
    header.extend(keys.iter().map(|k| k.as_str()));
    w.write_record(&header).map_err(Error::internal)?;
    for c in &contacts {
        let reachable: Vec<&str> = BroadcastChannel::ALL
            .iter()
            .filter(|ch| c.reachable(**ch).is_some())
            .map(|ch| ch.as_str())
            .collect();
        let mut row = vec![
            c.id.clone(),
            c.fields.name.clone().unwrap_or_default(),
            c.fields.email.clone().unwrap_or_default(),
            c.fields.phone.clone().unwrap_or_default(),
            c.fields.language.clone().unwrap_or_default(),
            c.fields.time_zone.clone().unwrap_or_default(),
            c.fields.tags.join(";"),
            if c.opted_in(BroadcastChannel::Whatsapp) {
                "yes"
            } else {
                "no"
            }
            .into(),
            if c.opted_in(BroadcastChannel::Email) {
                "yes"
            } else {
                "no"
            }
            .into(),
            reachable.join(";"),
            if c.opted_out() { "yes" } else { "no" }.into(),
        ];
        row.extend(
            keys.iter()
                .map(|k| c.fields.attributes.get(*k).cloned().unwrap_or_default()),
        );
        w.write_record(row.iter().map(crate::spreadsheet::cell))
            .map_err(Error::internal)?;
    }
    String::from_utf8(w.into_inner().map_err(Error::internal)?).map_err(Error::internal)
}
