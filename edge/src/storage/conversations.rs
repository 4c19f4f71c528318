//! The `conversations` table: the index behind the inbox list. Each conversation's Durable
//! Object is the source of truth; the site's hub writes the rows it is told about, many in one
//! batch; a row never moves backwards (`last_seq` guards the upsert).

use super::{stmt, Arg};
use crate::error::{Error, Result};
use beckon_shared::proto::v1::{
    Assignee, ContactChannel, ConversationOrigin, ConversationSummary, FirstResponse,
    MessagePreview, Note, Role, Work, WorkStatus, MAX_PAST_CONVERSATIONS,
};
use beckon_shared::{ConversationId, Seq, SiteKey, VisitorId};
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

#[derive(Deserialize)]
struct Row {
    id: String,
    site_key: String,
    visitor_id: String,
    origin: String,
    page_url: Option<String>,
    created_at: i64,
    updated_at: i64,
    last_seq: i64,
    last_role: Option<String>,
    last_body: Option<String>,
    last_at: Option<i64>,
    agent_read_seq: i64,
    unread: i64,
    contact_channel: Option<String>,
    last_visitor_at: Option<i64>,
    first_response_ms: Option<i64>,
    first_responder: Option<String>,
    /// As it stands now ([`status_now`]).
    status: String,
    snoozed_until: Option<i64>,
    status_at: i64,
    assignee_id: Option<String>,
    assignee_name: Option<String>,
    tags: String,
    notes: i64,
    /// Only in a searched list.
    #[serde(default)]
    matched: Option<String>,
}

/// The columns a conversation's object writes.
const COLUMNS: &str = "id, site_key, visitor_id, origin, page_url, created_at, updated_at, last_seq, last_role, last_body, last_at, agent_read_seq, unread, contact_channel, last_visitor_at, first_response_ms, first_responder";

/// The status as it stands at the time bound to `now` (a parameter such as `?4`): a snooze
/// that ran out, or a visitor message since the status was set, opens the conversation again.
fn status_now(now: &str) -> String {
    format!(
        "(CASE WHEN status != 'open' AND COALESCE(last_visitor_at, 0) > status_at THEN 'open'
               WHEN status = 'snoozed' AND COALESCE(snoozed_until, 0) <= {now} THEN 'open'
               ELSE status END)"
    )
}

/// Everything a row is read with.
fn selected(now: &str) -> String {
    format!(
        "{COLUMNS}, {} AS status, snoozed_until, status_at, assignee_id, assignee_name, tags,
         (SELECT COUNT(*) FROM conversation_notes n WHERE n.conversation_id = conversations.id) AS notes",
        status_now(now)
    )
}

impl Row {
    fn into_summary(self) -> Result<ConversationSummary> {
        let status = WorkStatus::parse(&self.status).unwrap_or_default();
        let work = Work {
            status,
            snoozed_until: self.snoozed_until.filter(|_| status == WorkStatus::Snoozed),
            assignee: self.assignee_id.map(|id| Assignee {
                id,
                name: self.assignee_name.unwrap_or_default(),
            }),
            notes: self.notes.max(0) as u64,
            status_at: self.status_at,
            tags: serde_json::from_str(&self.tags).unwrap_or_default(),
        };
        let last_message = match (self.last_role, self.last_body, self.last_at) {
            (Some(role), Some(body), Some(at)) => Some(MessagePreview {
                role: Role::parse(&role),
                body,
                created_at: at,
            }),
            _ => None,
        };
        Ok(ConversationSummary {
            id: ConversationId::parse(&self.id)?,
            site: SiteKey::parse(&self.site_key)?,
            visitor_id: VisitorId::parse(&self.visitor_id)?,
            origin: serde_json::from_str::<ConversationOrigin>(&self.origin)
                .map_err(Error::internal)?,
            page_url: self.page_url,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_seq: Seq(self.last_seq.max(0) as u64),
            last_message,
            agent_read_seq: Seq(self.agent_read_seq.max(0) as u64),
            unread: self.unread.max(0) as u64,
            contact: self
                .contact_channel
                .as_deref()
                .and_then(ContactChannel::parse),
            last_visitor_at: self.last_visitor_at,
            work: Some(work),
            matched: self.matched,
            first_response: self.first_response_ms.map(|ms| FirstResponse {
                ms: ms.max(0) as u64,
                by: self.first_responder,
            }),
        })
    }
}

/// A conversation's row as a JSON array, its values in [`COLUMNS`]' order.
fn row(s: &ConversationSummary) -> Result<serde_json::Value> {
    let (role, body, at) = match &s.last_message {
        Some(m) => (
            Some(m.role.as_str()),
            Some(m.body.as_str()),
            Some(m.created_at),
        ),
        None => (None, None, None),
    };
    let origin = serde_json::to_string(&s.origin).map_err(Error::internal)?;
    Ok(serde_json::json!([
        s.id.as_str(),
        s.site.as_str(),
        s.visitor_id.as_str(),
        origin,
        s.page_url.as_deref(),
        s.created_at,
        s.updated_at,
        s.last_seq.0,
        role,
        body,
        at,
        s.agent_read_seq.0,
        s.unread,
        s.contact.map(ContactChannel::as_str),
        s.last_visitor_at,
        s.first_response.as_ref().map(|f| f.ms),
        s.first_response.as_ref().and_then(|f| f.by.as_deref()),
    ]))
}

/// One statement writing the rows of as many of `summaries` as it carries
/// ([`super::json_rows`]), each unless a newer state is already there; and how many that is.
pub fn upserts(
    db: &D1Database,
    summaries: &[ConversationSummary],
) -> Result<(D1PreparedStatement, usize)> {
    let rows = summaries.iter().map(row).collect::<Result<Vec<_>>>()?;
    let (json, n) = super::json_rows(&rows)?;
    let values = (0..COLUMNS.split(',').count())
        .map(|i| format!("json_extract(value, '$[{i}]')"))
        .collect::<Vec<_>>()
        .join(", ");
    // (`WHERE true`: SQLite's grammar needs it before an upsert's ON CONFLICT.)
    let statement = stmt(
        db,
        &format!(
            "INSERT INTO conversations ({COLUMNS}) SELECT {values} FROM json_each(?1) WHERE true
             ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, last_seq = excluded.last_seq,
               last_role = excluded.last_role, last_body = excluded.last_body, last_at = excluded.last_at,
               agent_read_seq = excluded.agent_read_seq, unread = excluded.unread,
               contact_channel = excluded.contact_channel, last_visitor_at = excluded.last_visitor_at,
               first_response_ms = COALESCE(conversations.first_response_ms, excluded.first_response_ms),
               first_responder = CASE WHEN conversations.first_response_ms IS NULL
                 THEN excluded.first_responder ELSE conversations.first_responder END
             WHERE excluded.last_seq > conversations.last_seq
                OR (excluded.last_seq = conversations.last_seq AND excluded.agent_read_seq >= conversations.agent_read_seq)"
        ),
        &[Arg::Str(&json)],
    )?;
    Ok((statement, n))
}

/// Forgets a deleted conversation: its index row and every row that routes to it (channel
/// threads, contact threads, goal credits), in one batch.
pub async fn delete(db: &D1Database, id: &ConversationId) -> Result<()> {
    let statements = [
        "DELETE FROM conversations WHERE id = ?1",
        "DELETE FROM channel_threads WHERE conversation_id = ?1",
        "DELETE FROM contact_threads WHERE conversation_id = ?1",
        "DELETE FROM goal_credits WHERE conversation_id = ?1",
        "DELETE FROM conversation_notes WHERE conversation_id = ?1",
        "DELETE FROM conversation_ratings WHERE conversation_id = ?1",
        // The events sent to the site's own endpoint carried its messages.
        "DELETE FROM webhook_deliveries WHERE conversation_id = ?1",
    ]
    .into_iter()
    .map(|q| stmt(db, q, &[Arg::Str(id.as_str())]))
    .chain([super::search::delete(db, id)])
    .collect::<Result<Vec<_>>>()?;
    db.batch(statements).await?;
    Ok(())
}

pub async fn get(
    db: &D1Database,
    id: &ConversationId,
    now: i64,
) -> Result<Option<ConversationSummary>> {
    let row: Option<Row> = stmt(
        db,
        &format!("SELECT {} FROM conversations WHERE id = ?1", selected("?2")),
        &[Arg::Str(id.as_str()), Arg::Int(now)],
    )?
    .first(None)
    .await?;
    row.map(Row::into_summary).transpose()
}

/// Which conversations a list shows.
#[derive(Default)]
pub struct ListQuery<'a> {
    pub site: Option<&'a SiteKey>,
    /// Pages by `updated_at`.
    pub before: Option<i64>,
    pub limit: usize,
    /// As it stands now.
    pub status: Option<WorkStatus>,
    /// `Some(None)`: nobody's; `Some(Some(id))`: that person's.
    pub assignee: Option<Option<&'a str>>,
    pub now: i64,
    /// Only those with a message matching this FTS5 query ([`super::search::query`]).
    pub search: Option<&'a str>,
    /// Only those started so (`visitor`, `rule`, `broadcast`, `agent`).
    pub origin: Option<&'a str>,
    /// Only those held in the widget (`web`) or on a contact's channel (`whatsapp`, …).
    pub channel: Option<&'a str>,
    /// Only those with this tag.
    pub tag: Option<&'a str>,
}

/// Newest first.
pub async fn list(db: &D1Database, q: &ListQuery<'_>) -> Result<Vec<ConversationSummary>> {
    // Searching: only conversations with a hit, each with its newest matching message.
    let (hit, hits) = match q.search {
        Some(_) => (
            ", hits.text_id",
            format!(
                "JOIN {} ON hits.conversation_id = conversations.id",
                super::search::hits("?11", "?1")
            ),
        ),
        None => ("", String::new()),
    };
    let page = format!(
        "SELECT {}{hit} FROM conversations {hits}
         WHERE (?1 IS NULL OR site_key = ?1) AND updated_at < ?2
           AND (?5 IS NULL OR {} = ?5)
           AND (?6 = 0 OR (?7 IS NULL AND assignee_id IS NULL) OR assignee_id = ?7)
           AND (?8 IS NULL OR json_extract(origin, '$.kind') = ?8)
           AND (?9 IS NULL OR (?9 = 'web' AND contact_channel IS NULL) OR contact_channel = ?9)
           AND (?10 IS NULL OR EXISTS (SELECT 1 FROM json_each(conversations.tags) WHERE json_each.value = ?10))
         ORDER BY updated_at DESC, id DESC LIMIT ?3",
        selected("?4"),
        status_now("?4"),
    );
    // A search's snippets for the page only (not for every conversation that matches).
    let sql = match q.search {
        Some(_) => format!(
            "WITH page AS MATERIALIZED ({page})
             SELECT page.*, {} AS matched FROM page ORDER BY updated_at DESC, id DESC",
            super::search::snippet("?11", "page.text_id")
        ),
        None => page,
    };
    let rows: Vec<Row> = stmt(
        db,
        &sql,
        // D1 refuses a parameter the statement does not use: `?11` only when searching.
        &[
            Arg::OptStr(q.site.map(SiteKey::as_str)),
            Arg::Int(q.before.unwrap_or(i64::MAX / 2)),
            Arg::Int(q.limit as i64),
            Arg::Int(q.now),
            Arg::OptStr(q.status.map(WorkStatus::as_str)),
            Arg::Int(q.assignee.is_some() as i64),
            Arg::OptStr(q.assignee.flatten()),
            Arg::OptStr(q.origin),
            Arg::OptStr(q.channel),
            Arg::OptStr(q.tag),
        ]
        .into_iter()
        .chain(q.search.map(Arg::Str))
        .collect::<Vec<_>>(),
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter().map(Row::into_summary).collect()
}

/// `visitor`'s conversations on `site` but `except`, newest first.
pub async fn of_visitor(
    db: &D1Database,
    site: &SiteKey,
    visitor: &VisitorId,
    except: &ConversationId,
    now: i64,
) -> Result<Vec<ConversationSummary>> {
    let rows: Vec<Row> = stmt(
        db,
        &format!(
            "SELECT {} FROM conversations WHERE site_key = ?1 AND visitor_id = ?2 AND id != ?3
             ORDER BY updated_at DESC LIMIT ?5",
            selected("?4")
        ),
        &[
            Arg::Str(site.as_str()),
            Arg::Str(visitor.as_str()),
            Arg::Str(except.as_str()),
            Arg::Int(now),
            Arg::Int(MAX_PAST_CONVERSATIONS as i64),
        ],
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter().map(Row::into_summary).collect()
}

/// When the first snooze still running on `site` (every site: `None`) ends.
pub async fn next_snooze_end(
    db: &D1Database,
    site: Option<&SiteKey>,
    now: i64,
) -> Result<Option<i64>> {
    Ok(stmt(
        db,
        "SELECT MIN(snoozed_until) AS t FROM conversations
         WHERE (?1 IS NULL OR site_key = ?1) AND status = 'snoozed' AND snoozed_until > ?2
           AND COALESCE(last_visitor_at, 0) <= status_at",
        &[Arg::OptStr(site.map(SiteKey::as_str)), Arg::Int(now)],
    )?
    .first::<Option<i64>>(Some("t"))
    .await?
    .flatten())
}

/// A change to a conversation's work: who has it (`Some(None)`: nobody), its status (with
/// when a snooze ends), its tags.
pub struct WorkChange<'a> {
    pub assignee: Option<Option<&'a Assignee>>,
    pub status: Option<(WorkStatus, Option<i64>)>,
    pub tags: Option<&'a [String]>,
}

/// Makes `change` to conversation `id`, as of `now`. Returns whether it was made (the row
/// exists, and the person does).
pub async fn set_work(
    db: &D1Database,
    id: &ConversationId,
    change: &WorkChange<'_>,
    now: i64,
) -> Result<bool> {
    let (assignee, status) = (change.assignee, change.status);
    let tags = change
        .tags
        .map(|t| serde_json::to_string(t).map_err(Error::internal))
        .transpose()?;
    let person = assignee.flatten();
    let r = stmt(
        db,
        "UPDATE conversations SET
           status = COALESCE(?2, status),
           status_at = CASE WHEN ?2 IS NULL THEN status_at ELSE ?4 END,
           snoozed_until = CASE WHEN ?2 IS NULL THEN snoozed_until ELSE ?3 END,
           assignee_id = CASE WHEN ?5 = 1 THEN ?6 ELSE assignee_id END,
           assignee_name = CASE WHEN ?5 = 1 THEN ?7 ELSE assignee_name END,
           tags = COALESCE(?8, tags)
         WHERE id = ?1
           -- A person removed meanwhile is nobody's assignee.
           AND (?6 IS NULL OR EXISTS (SELECT 1 FROM people WHERE people.id = ?6))",
        &[
            Arg::Str(id.as_str()),
            Arg::OptStr(status.map(|(s, _)| s.as_str())),
            Arg::OptInt(status.and_then(|(_, until)| until)),
            Arg::Int(now),
            Arg::Int(assignee.is_some() as i64),
            Arg::OptStr(person.map(|p| p.id.as_str())),
            Arg::OptStr(person.map(|p| p.name.as_str())),
            Arg::OptStr(tags.as_deref()),
        ],
    )?
    .run()
    .await?;
    super::changed_any(&r)
}

/// The conversations assigned to `person` (at most `limit`), with their sites.
pub async fn assigned_to(
    db: &D1Database,
    person: &str,
    limit: usize,
) -> Result<Vec<(ConversationId, SiteKey)>> {
    #[derive(Deserialize)]
    struct Assigned {
        id: String,
        site_key: String,
    }
    let rows: Vec<Assigned> = stmt(
        db,
        "SELECT id, site_key FROM conversations WHERE assignee_id = ?1 LIMIT ?2",
        &[Arg::Str(person), Arg::Int(limit as i64)],
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter()
        .map(|r| Ok((ConversationId::parse(&r.id)?, SiteKey::parse(&r.site_key)?)))
        .collect()
}

#[derive(Deserialize)]
struct NoteRow {
    id: String,
    conversation_id: String,
    author_id: String,
    author: String,
    body: String,
    created_at: i64,
}

pub async fn add_note(db: &D1Database, note: &Note) -> Result<()> {
    stmt(
        db,
        "INSERT INTO conversation_notes (id, conversation_id, author_id, author, body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            Arg::Str(&note.id),
            Arg::Str(note.conversation_id.as_str()),
            Arg::Str(&note.author_id),
            Arg::Str(&note.author),
            Arg::Str(&note.body),
            Arg::Int(note.created_at),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

/// A conversation's notes, oldest first.
pub async fn notes(db: &D1Database, id: &ConversationId) -> Result<Vec<Note>> {
    let rows: Vec<NoteRow> = stmt(
        db,
        "SELECT id, conversation_id, author_id, author, body, created_at FROM conversation_notes
         WHERE conversation_id = ?1 ORDER BY created_at, id",
        &[Arg::Str(id.as_str())],
    )?
    .all()
    .await?
    .results()?;
    rows.into_iter()
        .map(|r| {
            Ok(Note {
                id: r.id,
                conversation_id: ConversationId::parse(&r.conversation_id)?,
                author_id: r.author_id,
                author: r.author,
                body: r.body,
                created_at: r.created_at,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{row, COLUMNS};
    use beckon_shared::proto::v1::{
        ContactChannel, ConversationOrigin, ConversationSummary, FirstResponse, MessagePreview,
        Role,
    };
    use beckon_shared::{ConversationId, Seq, SiteKey, VisitorId};
    use serde_json::{json, Value};

    #[test]
    fn a_row_holds_each_column_in_its_place() {
        let s = ConversationSummary {
            id: ConversationId::from_random([1; 16]),
            site: SiteKey::parse("shop").unwrap(),
            visitor_id: VisitorId::from_random([2; 16]),
            origin: ConversationOrigin::Rule {
                rule_id: "r1".into(),
            },
            page_url: Some("https://shop.example/p".into()),
            created_at: 1_700_000_000_000,
            updated_at: 1_700_000_000_500,
            last_seq: Seq(7),
            last_message: Some(MessagePreview {
                role: Role::Visitor,
                body: "Hi \"there\"\n🙂".into(),
                created_at: 1_700_000_000_400,
            }),
            agent_read_seq: Seq(5),
            unread: 2,
            contact: Some(ContactChannel::Telegram),
            last_visitor_at: Some(1_700_000_000_300),
            work: None,
            matched: None,
            first_response: Some(FirstResponse {
                ms: 1_234,
                by: Some("Ana".into()),
            }),
        };
        let values: Vec<Value> = serde_json::from_value(row(&s).unwrap()).unwrap();
        let names: Vec<&str> = COLUMNS.split(',').map(str::trim).collect();
        assert_eq!(values.len(), names.len());
        let at = |name: &str| values[names.iter().position(|n| *n == name).unwrap()].clone();
        assert_eq!(at("id"), json!(s.id.as_str()));
        assert_eq!(at("site_key"), json!("shop"));
        assert_eq!(at("visitor_id"), json!(s.visitor_id.as_str()));
        assert_eq!(at("origin"), json!(r#"{"kind":"rule","rule_id":"r1"}"#));
        assert_eq!(at("page_url"), json!("https://shop.example/p"));
        assert_eq!(at("created_at"), json!(1_700_000_000_000_i64));
        assert_eq!(at("updated_at"), json!(1_700_000_000_500_i64));
        assert_eq!(at("last_seq"), json!(7));
        assert_eq!(at("last_role"), json!("visitor"));
        assert_eq!(at("last_body"), json!("Hi \"there\"\n🙂"));
        assert_eq!(at("last_at"), json!(1_700_000_000_400_i64));
        assert_eq!(at("agent_read_seq"), json!(5));
        assert_eq!(at("unread"), json!(2));
        assert_eq!(at("contact_channel"), json!("telegram"));
        assert_eq!(at("last_visitor_at"), json!(1_700_000_000_300_i64));
        assert_eq!(at("first_response_ms"), json!(1_234));
        assert_eq!(at("first_responder"), json!("Ana"));
    }
}
