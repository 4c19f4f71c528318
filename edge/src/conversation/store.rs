//! The conversation's own SQLite storage (Durable Object SQL API): its metadata, messages and
//! read cursors (its outbox keeps its own tables, see [`crate::outbox`]). All calls are
//! synchronous, so a sequence of them with no `await` between is atomic — which is what makes
//! `seq` assignment gap-free and idempotent sends exact. The DO is the only writer, so what a
//! summary needs — the metadata (written once), the last message and `seq`, the read cursors
//! and the unread count — is kept in memory after its first read and updated with each write,
//! as are the client message ids stored (as hashes), so a new message is checked for a retry
//! without a read.

use super::Meta;
use crate::error::{Error, Result};
use beckon_shared::proto::v1::{FirstResponse, Message, ReadCursors, Role};
use beckon_shared::{ClientMsgId, MessageId, Seq};
use serde::Deserialize;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use worker::{SqlStorage, SqlStorageValue};

// A message's `id` is random and never looked up, so it has no index: each index is one more
// page written with every message. (Conversations created before keep theirs; nothing relies
// on it.)
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
  seq           INTEGER PRIMARY KEY,
  id            TEXT NOT NULL,
  role          TEXT NOT NULL,
  body          TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  client_msg_id TEXT UNIQUE,
  author        TEXT,
  via           TEXT,
  attachments   TEXT NOT NULL DEFAULT '[]',
  buttons       TEXT,
  avatar        TEXT
);
CREATE TABLE IF NOT EXISTS cursors (role TEXT PRIMARY KEY, seq INTEGER NOT NULL);
";

#[derive(Deserialize)]
struct MessageRow {
    seq: i64,
    id: String,
    role: String,
    body: String,
    created_at: i64,
    client_msg_id: Option<String>,
    author: Option<String>,
    via: Option<String>,
    attachments: String,
    buttons: Option<String>,
    avatar: Option<String>,
}

impl MessageRow {
    fn into_message(self) -> Result<Message> {
        Ok(Message {
            id: MessageId::parse(&self.id)?,
            seq: Seq(self.seq as u64),
            role: Role::parse(&self.role),
            body: self.body,
            created_at: self.created_at,
            attachments: serde_json::from_str(&self.attachments).map_err(Error::internal)?,
            client_msg_id: self
                .client_msg_id
                .map(|c| ClientMsgId::parse(&c))
                .transpose()?,
            author: self.author,
            avatar: self.avatar,
            via: self.via,
            buttons: match self.buttons {
                Some(b) => serde_json::from_str(&b).map_err(Error::internal)?,
                None => Vec::new(),
            },
        })
    }
}

const MESSAGE_COLUMNS: &str =
    "seq, id, role, body, created_at, client_msg_id, author, via, attachments, buttons, avatar";

/// A message about to be stored (the store assigns `seq`).
pub struct NewMessage {
    pub id: MessageId,
    pub role: Role,
    pub body: String,
    pub created_at: i64,
    pub client_msg_id: Option<ClientMsgId>,
    pub author: Option<String>,
    /// The author's photo (its URL path).
    pub avatar: Option<String>,
    pub via: Option<String>,
    /// Stored without their URLs (signed when served).
    pub attachments: Vec<beckon_shared::proto::v1::Attachment>,
    pub buttons: Vec<beckon_shared::rules::CtaButton>,
}

pub struct Store {
    sql: SqlStorage,
    meta: RefCell<Option<Rc<Meta>>>,
    last_seq: Cell<Option<Seq>>,
    /// The newest message, once read (`Some(None)`: there is none).
    last_message: RefCell<Option<Option<Message>>>,
    cursors: Cell<Option<ReadCursors>>,
    unread: Cell<Option<u64>>,
    /// When the visitor last wrote, once read (`Some(None)`: never).
    last_visitor_at: Cell<Option<Option<i64>>>,
    /// The address the visitor left for answers while away, once read.
    away_email: RefCell<Option<Option<String>>>,
    /// The client message ids stored, as far as this instance knows them ([`ClientIds`]).
    client_ids: RefCell<ClientIds>,
}

/// A conversation with more client message ids than this has each new one looked up in
/// storage instead of in memory (8 bytes each, read in one go on an instance's first send).
pub const CLIENT_IDS_IN_MEMORY: usize = 2_000;

/// Which client message ids are stored, in memory, so that a new message's duplicate check
/// reads no storage on its way to the other sockets. Kept as hashes: an id whose hash is
/// absent is new for sure; one whose hash is present (a retry, or a rare collision) is looked
/// up.
#[derive(Debug, Default, PartialEq)]
enum ClientIds {
    /// Not read yet by this instance.
    #[default]
    Unknown,
    /// The hashes of every stored id.
    Known(std::collections::HashSet<u64>),
    /// More than [`CLIENT_IDS_IN_MEMORY`]: every id is looked up.
    TooMany,
}

impl ClientIds {
    /// From the stored ids, as read with a limit of one more than [`CLIENT_IDS_IN_MEMORY`].
    fn read<'a>(stored: impl ExactSizeIterator<Item = &'a str>) -> ClientIds {
        if stored.len() > CLIENT_IDS_IN_MEMORY {
            return ClientIds::TooMany;
        }
        ClientIds::Known(stored.map(hash).collect())
    }

    /// Whether `id` may be stored (false: it is not). Unknown is "may".
    fn may_hold(&self, id: &str) -> bool {
        match self {
            ClientIds::Known(hashes) => hashes.contains(&hash(id)),
            _ => true,
        }
    }

    /// `id` was just stored.
    fn note(&mut self, id: &str) {
        if let ClientIds::Known(hashes) = self {
            hashes.insert(hash(id));
            if hashes.len() > CLIENT_IDS_IN_MEMORY {
                *self = ClientIds::TooMany;
            }
        }
    }
}

fn hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

fn int(v: i64) -> SqlStorageValue {
    SqlStorageValue::Integer(v)
}

fn opt(v: Option<&str>) -> SqlStorageValue {
    v.map_or(SqlStorageValue::Null, SqlStorageValue::from)
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

impl Store {
    /// Whether `count_query` (a `SELECT COUNT(*) AS n …`) counts any row.
    fn any(&self, count_query: &str, args: Vec<SqlStorageValue>) -> Result<bool> {
        let r: Count = self.sql.exec(count_query, args)?.one()?;
        Ok(r.n > 0)
    }

    pub fn new(sql: SqlStorage) -> Result<Store> {
        sql.exec(SCHEMA, None)?;
        // Conversations stored before messages could carry buttons, or their authors' photos.
        #[derive(Deserialize)]
        struct Column {
            name: String,
        }
        let columns: Vec<Column> = sql.exec("PRAGMA table_info(messages)", None)?.to_array()?;
        for column in ["buttons", "avatar"] {
            if !columns.iter().any(|c| c.name == column) {
                sql.exec(
                    &format!("ALTER TABLE messages ADD COLUMN {column} TEXT"),
                    None,
                )?;
            }
        }
        Ok(Store {
            sql,
            meta: RefCell::new(None),
            last_seq: Cell::new(None),
            last_message: RefCell::new(None),
            cursors: Cell::new(None),
            unread: Cell::new(None),
            last_visitor_at: Cell::new(None),
            away_email: RefCell::new(None),
            client_ids: RefCell::new(ClientIds::Unknown),
        })
    }

    /// Forgets everything cached (the rows were deleted).
    pub fn forget(&self) {
        self.meta.replace(None);
        self.last_seq.set(None);
        self.last_message.replace(None);
        self.cursors.set(None);
        self.unread.set(None);
        self.last_visitor_at.set(None);
        self.away_email.replace(None);
        self.client_ids.replace(ClientIds::Unknown);
    }

    /// The conversation's metadata (read once; it never changes).
    pub fn meta(&self) -> Result<Option<Rc<Meta>>> {
        if let Some(m) = self.meta.borrow().as_ref() {
            return Ok(Some(m.clone()));
        }
        let Some(v) = self.value("conversation")? else {
            return Ok(None);
        };
        let meta: Rc<Meta> = Rc::new(serde_json::from_str(&v).map_err(Error::internal)?);
        *self.meta.borrow_mut() = Some(meta.clone());
        Ok(Some(meta))
    }

    /// A value of the `meta` table.
    pub fn value(&self, key: &str) -> Result<Option<String>> {
        #[derive(Deserialize)]
        struct Row {
            v: String,
        }
        let rows: Vec<Row> = self
            .sql
            .exec("SELECT v FROM meta WHERE k = ?", vec![key.into()])?
            .to_array()?;
        Ok(rows.into_iter().next().map(|r| r.v))
    }

    /// Stores the metadata once; returns `false` if it was already there.
    pub fn init_meta(&self, meta: &Meta) -> Result<bool> {
        if self.meta()?.is_some() {
            return Ok(false);
        }
        let v = serde_json::to_string(meta).map_err(Error::internal)?;
        self.sql.exec(
            "INSERT INTO meta (k, v) VALUES ('conversation', ?)",
            vec![v.into()],
        )?;
        Ok(true)
    }

    /// The address the visitor left for answers that come while they are away.
    pub fn away_email(&self) -> Result<Option<String>> {
        if let Some(v) = self.away_email.borrow().as_ref() {
            return Ok(v.clone());
        }
        let v = self.value("away_email")?;
        *self.away_email.borrow_mut() = Some(v.clone());
        Ok(v)
    }

    /// Keeps (or, with `None`, forgets) the visitor's address for answers while away.
    pub fn set_away_email(&self, email: Option<&str>) -> Result<()> {
        match email {
            Some(e) => self.set_value("away_email", e)?,
            None => {
                self.sql
                    .exec("DELETE FROM meta WHERE k = 'away_email'", None)?;
            }
        };
        *self.away_email.borrow_mut() = Some(email.map(str::to_owned));
        Ok(())
    }

    /// Text messages after `seq` for the search index, oldest first.
    pub fn texts_after(&self, seq: u64, limit: usize) -> Result<Vec<crate::storage::search::Text>> {
        Ok(self
            .sql
            .exec(
                "SELECT seq, created_at AS at, body FROM messages WHERE seq > ? AND body != ''
                 ORDER BY seq LIMIT ?",
                vec![int(seq as i64), int(limit as i64)],
            )?
            .to_array()?)
    }

    /// How far the search index has this conversation's messages (a `seq`).
    pub fn searched_to(&self) -> Result<u64> {
        Ok(self
            .value("searched_to")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    pub fn set_searched_to(&self, seq: u64) -> Result<()> {
        self.set_value("searched_to", &seq.to_string())
    }

    /// The first answer to the visitor's first message, once known.
    pub fn first_answer(&self) -> Result<Option<FirstResponse>> {
        self.value("first_answer")?
            .map(|v| serde_json::from_str(&v).map_err(Error::internal))
            .transpose()
    }

    pub fn set_first_answer(&self, first: &FirstResponse) -> Result<()> {
        let v = serde_json::to_string(first).map_err(Error::internal)?;
        self.set_value("first_answer", &v)
    }

    /// Stores `v` under `key` in `meta`, replacing what was there.
    pub fn set_value(&self, key: &str, v: &str) -> Result<()> {
        self.sql.exec(
            "INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
            vec![key.into(), v.into()],
        )?;
        Ok(())
    }

    /// Whether a one-time marker is set (`meta` table).
    pub fn flag(&self, name: &str) -> Result<bool> {
        self.any(
            "SELECT COUNT(*) AS n FROM meta WHERE k = ?",
            vec![format!("flag:{name}").into()],
        )
    }

    pub fn set_flag(&self, name: &str) -> Result<()> {
        self.sql.exec(
            "INSERT OR IGNORE INTO meta (k, v) VALUES (?, '1')",
            vec![format!("flag:{name}").into()],
        )?;
        Ok(())
    }

    /// (first visitor message, first agent message after it) times and the answer's author,
    /// if both exist.
    pub fn first_response(&self) -> Result<Option<(i64, i64, Option<String>)>> {
        #[derive(Deserialize)]
        struct Times {
            asked: Option<i64>,
            answered: Option<i64>,
            by: Option<String>,
        }
        let t: Times = self
            .sql
            .exec(
                "SELECT v.created_at AS asked, a.created_at AS answered, a.author AS by
                 FROM messages v LEFT JOIN messages a
                   ON a.seq = (SELECT MIN(seq) FROM messages WHERE role = 'agent' AND seq > v.seq)
                 WHERE v.role = 'visitor' ORDER BY v.seq LIMIT 1",
                None,
            )?
            .to_array::<Times>()?
            .into_iter()
            .next()
            .unwrap_or(Times {
                asked: None,
                answered: None,
                by: None,
            });
        Ok(t.asked.zip(t.answered).map(|(a, b)| (a, b, t.by)))
    }

    pub fn last_seq(&self) -> Result<Seq> {
        if let Some(seq) = self.last_seq.get() {
            return Ok(seq);
        }
        let r: Count = self
            .sql
            .exec("SELECT COALESCE(MAX(seq), 0) AS n FROM messages", None)?
            .one()?;
        let seq = Seq(r.n as u64);
        self.last_seq.set(Some(seq));
        Ok(seq)
    }

    pub fn by_client_id(&self, id: &ClientMsgId) -> Result<Option<Message>> {
        if !self.may_hold(id)? {
            return Ok(None);
        }
        let rows: Vec<MessageRow> = self
            .sql
            .exec(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE client_msg_id = ?"),
                vec![id.as_str().into()],
            )?
            .to_array()?;
        rows.into_iter()
            .next()
            .map(MessageRow::into_message)
            .transpose()
    }

    /// Whether `id` may be stored already (false: it is not): from memory, once this instance
    /// has read the stored ids (one read of the ids' index).
    fn may_hold(&self, id: &ClientMsgId) -> Result<bool> {
        if *self.client_ids.borrow() == ClientIds::Unknown {
            #[derive(Deserialize)]
            struct Row {
                client_msg_id: String,
            }
            let rows: Vec<Row> = self
                .sql
                .exec(
                    "SELECT client_msg_id FROM messages WHERE client_msg_id IS NOT NULL LIMIT ?",
                    vec![int(CLIENT_IDS_IN_MEMORY as i64 + 1)],
                )?
                .to_array()?;
            let known = ClientIds::read(rows.iter().map(|r| r.client_msg_id.as_str()));
            self.client_ids.replace(known);
        }
        Ok(self.client_ids.borrow().may_hold(id.as_str()))
    }

    /// The message `m` becomes when it is stored next: the next `seq`, nothing written yet.
    /// Nothing may be stored between this and [`Store::write`]: no `await` between them, or
    /// the conversation's send turn held across it (a socket's message); a write whose `seq`
    /// was taken meanwhile fails.
    pub fn draft(&self, m: NewMessage) -> Result<Message> {
        Ok(Message {
            id: m.id,
            seq: self.last_seq()?.next(),
            role: m.role,
            body: m.body,
            created_at: m.created_at,
            attachments: m.attachments,
            client_msg_id: m.client_msg_id,
            author: m.author,
            avatar: m.avatar,
            via: m.via,
            buttons: m.buttons,
        })
    }

    /// Stores a [`Store::draft`] (one statement: the hot path's only write). A message with
    /// the same client message id must not be stored already: the caller looks first.
    pub fn write(&self, m: &Message) -> Result<()> {
        if m.seq != self.last_seq()?.next() {
            return Err(Error::internal("a draft outlived the next message"));
        }
        let written = self.sql.exec(
            "INSERT INTO messages (seq, id, role, body, created_at, client_msg_id, author, via, attachments, buttons, avatar) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(client_msg_id) DO NOTHING",
            vec![
                int(m.seq.0 as i64),
                m.id.as_str().into(),
                m.role.as_str().into(),
                m.body.as_str().into(),
                int(m.created_at),
                opt(m.client_msg_id.as_ref().map(ClientMsgId::as_str)),
                opt(m.author.as_deref()),
                opt(m.via.as_deref()),
                if m.attachments.is_empty() {
                    "[]".into()
                } else {
                    serde_json::to_string(&m.attachments)
                        .map_err(Error::internal)?
                        .into()
                },
                if m.buttons.is_empty() {
                    SqlStorageValue::Null
                } else {
                    serde_json::to_string(&m.buttons)
                        .map_err(Error::internal)?
                        .into()
                },
                opt(m.avatar.as_deref()),
            ],
        )?
        .rows_written();
        if written == 0 {
            return Err(Error::internal("a message's client id was stored already"));
        }
        self.last_seq.set(Some(m.seq));
        if let Some(id) = &m.client_msg_id {
            self.client_ids.borrow_mut().note(id.as_str());
        }
        // (A visitor's rating neither reopens the conversation nor waits for an agent.)
        if m.role == Role::Visitor && m.via.is_none() {
            if let Some(n) = self.unread.get() {
                self.unread.set(Some(n + 1));
            }
            self.last_visitor_at.set(Some(Some(m.created_at)));
        }
        *self.last_message.borrow_mut() = Some(Some(m.clone()));
        Ok(())
    }

    pub fn message(&self, seq: Seq) -> Result<Option<Message>> {
        let rows: Vec<MessageRow> = self
            .sql
            .exec(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE seq = ?"),
                vec![int(seq.0 as i64)],
            )?
            .to_array()?;
        rows.into_iter()
            .next()
            .map(MessageRow::into_message)
            .transpose()
    }

    /// Messages with `seq > after`, oldest first, at most `limit`.
    pub fn after(&self, after: Seq, limit: usize) -> Result<Vec<Message>> {
        let rows: Vec<MessageRow> = self
            .sql
            .exec(
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE seq > ? ORDER BY seq LIMIT ?"
                ),
                vec![int(after.0 as i64), int(limit as i64)],
            )?
            .to_array()?;
        rows.into_iter().map(MessageRow::into_message).collect()
    }

    pub fn last_message(&self) -> Result<Option<Message>> {
        if let Some(m) = self.last_message.borrow().as_ref() {
            return Ok(m.clone());
        }
        let rows: Vec<MessageRow> = self
            .sql
            .exec(
                &format!("SELECT {MESSAGE_COLUMNS} FROM messages ORDER BY seq DESC LIMIT 1"),
                None,
            )?
            .to_array()?;
        let last = rows
            .into_iter()
            .next()
            .map(MessageRow::into_message)
            .transpose()?;
        *self.last_message.borrow_mut() = Some(last.clone());
        Ok(last)
    }

    pub fn cursors(&self) -> Result<ReadCursors> {
        if let Some(c) = self.cursors.get() {
            return Ok(c);
        }
        #[derive(Deserialize)]
        struct Row {
            role: String,
            seq: i64,
        }
        let rows: Vec<Row> = self
            .sql
            .exec("SELECT role, seq FROM cursors", None)?
            .to_array()?;
        let mut c = ReadCursors::default();
        for r in rows {
            match Role::parse(&r.role) {
                Role::Visitor => c.visitor = Seq(r.seq as u64),
                Role::Agent => c.agent = Seq(r.seq as u64),
                _ => {}
            }
        }
        self.cursors.set(Some(c));
        Ok(c)
    }

    /// Moves `role`'s read cursor forward to `seq` (never back, never past the last message);
    /// returns the new cursor if it moved.
    pub fn advance_cursor(&self, role: Role, seq: Seq) -> Result<Option<Seq>> {
        let target = seq.min(self.last_seq()?);
        let current = match role {
            Role::Visitor => self.cursors()?.visitor,
            Role::Agent => self.cursors()?.agent,
            _ => return Ok(None),
        };
        if target <= current {
            return Ok(None);
        }
        self.sql.exec(
            "INSERT INTO cursors (role, seq) VALUES (?, ?) ON CONFLICT(role) DO UPDATE SET seq = excluded.seq",
            vec![role.as_str().into(), int(target.0 as i64)],
        )?;
        let mut c = self.cursors()?;
        match role {
            Role::Visitor => c.visitor = target,
            _ => {
                c.agent = target;
                // Counted again at the next summary.
                self.unread.set(None);
            }
        }
        self.cursors.set(Some(c));
        Ok(Some(target))
    }

    /// When the visitor last wrote.
    pub fn last_visitor_at(&self) -> Result<Option<i64>> {
        if let Some(at) = self.last_visitor_at.get() {
            return Ok(at);
        }
        #[derive(Deserialize)]
        struct At {
            at: Option<i64>,
        }
        let r: At = self
            .sql
            .exec(
                "SELECT MAX(created_at) AS at FROM messages WHERE role = 'visitor' AND via IS NULL",
                None,
            )?
            .one()?;
        self.last_visitor_at.set(Some(r.at));
        Ok(r.at)
    }

    /// Visitor messages an agent has not read.
    pub fn unread_by_agent(&self) -> Result<u64> {
        if let Some(n) = self.unread.get() {
            return Ok(n);
        }
        let agent = self.cursors()?.agent;
        let r: Count = self
            .sql
            .exec(
                "SELECT COUNT(*) AS n FROM messages WHERE role = 'visitor' AND via IS NULL AND seq > ?",
                vec![int(agent.0 as i64)],
            )?
            .one()?;
        self.unread.set(Some(r.n as u64));
        Ok(r.n as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_answer_new_for_sure_and_look_up_the_rest() {
        let mut ids = ClientIds::Unknown;
        assert!(ids.may_hold("a"), "unknown is looked up");
        ids = ClientIds::read(["a", "b"].into_iter());
        assert!(ids.may_hold("a") && ids.may_hold("b"));
        assert!(!ids.may_hold("c"));
        ids.note("c");
        assert!(ids.may_hold("c"));
    }

    #[test]
    fn client_ids_past_the_cap_are_all_looked_up() {
        let many: Vec<String> = (0..=CLIENT_IDS_IN_MEMORY)
            .map(|i| format!("k{i}"))
            .collect();
        let ids = ClientIds::read(many.iter().map(String::as_str));
        assert_eq!(ids, ClientIds::TooMany);
        assert!(ids.may_hold("new"));

        let mut ids = ClientIds::read(many[1..].iter().map(String::as_str));
        assert!(!ids.may_hold("new"));
        ids.note("new");
        assert_eq!(ids, ClientIds::TooMany);
        assert!(ids.may_hold("other"));
    }
}
