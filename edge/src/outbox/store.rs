//! The outbox's SQL, in its owner's Durable Object storage: one row per (item, target) with
//! its state and retry schedule, the ledger of deliveries per recipient, and the owner's
//! threads per channel. Synchronous calls, like all DO SQL.

use super::policy::DeliveryStatus;
use crate::channels::delivery::Ledger;
use crate::channels::Target;
use crate::error::Result;
use beckon_shared::proto::v1::ChannelKind;
use serde::{Deserialize, Serialize};
use worker::{SqlStorage, SqlStorageValue};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
  seq            INTEGER NOT NULL,
  channel        TEXT NOT NULL,
  state          TEXT NOT NULL DEFAULT 'pending',
  attempts       INTEGER NOT NULL DEFAULT 0,
  next_at        INTEGER NOT NULL,
  last_error     TEXT,
  fallback       INTEGER NOT NULL DEFAULT 0,
  done_at        INTEGER,
  PRIMARY KEY (seq, channel)
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, channel, seq);
CREATE TABLE IF NOT EXISTS deliveries (
  seq        INTEGER NOT NULL,
  channel    TEXT NOT NULL,
  recipient  TEXT NOT NULL,
  remote_id  TEXT,
  status     TEXT NOT NULL DEFAULT 'sent',
  sent_at    INTEGER NOT NULL,
  PRIMARY KEY (seq, channel, recipient)
);
CREATE INDEX IF NOT EXISTS deliveries_by_remote ON deliveries (remote_id);
CREATE TABLE IF NOT EXISTS threads (channel TEXT PRIMARY KEY, thread TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS in_flight (
  seq       INTEGER NOT NULL,
  channel   TEXT NOT NULL,
  began_at  INTEGER,
  PRIMARY KEY (seq, channel)
);
";

pub(crate) fn int(v: i64) -> SqlStorageValue {
    SqlStorageValue::Integer(v)
}

fn opt(v: Option<&str>) -> SqlStorageValue {
    v.map_or(SqlStorageValue::Null, SqlStorageValue::from)
}

/// A pending row, as the pump reads it.
#[derive(Clone, Debug, Deserialize)]
pub struct Row {
    pub seq: i64,
    pub attempts: i64,
    pub next_at: i64,
    pub fallback: i64,
}

/// One row as the admin API shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RelayInfo {
    pub seq: i64,
    pub channel: String,
    pub state: String,
    pub attempts: i64,
    pub next_at: i64,
    pub last_error: Option<String>,
    pub done_at: Option<i64>,
    #[serde(default)]
    pub deliveries: Vec<DeliveryInfo>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeliveryInfo {
    pub recipient: String,
    pub remote_id: Option<String>,
    pub status: String,
    pub sent_at: i64,
}

/// A recipient's delivery, as stored.
#[derive(Deserialize)]
struct DeliveryRow {
    seq: i64,
    channel: String,
    recipient: String,
    remote_id: Option<String>,
    status: String,
    sent_at: i64,
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

#[derive(Deserialize)]
struct Earliest {
    n: Option<i64>,
}

#[derive(Deserialize)]
struct ChannelColumn {
    channel: String,
}

#[derive(Deserialize)]
struct SeqColumn {
    seq: i64,
}

#[derive(Deserialize)]
struct ThreadColumn {
    thread: String,
}

/// What a channel's status report changed.
#[derive(Debug, Default)]
pub struct StatusApplied {
    /// A delivery of ours is known under the remote id.
    pub known: bool,
    /// The row goes out again in its fallback form.
    pub requeued: bool,
    /// The delivery of row `seq` to target `channel` moved forward.
    pub advanced: Option<(i64, String)>,
}

pub struct OutboxStore {
    sql: SqlStorage,
    /// Whether rows are pending, once this instance knows (a pump found none, or one was
    /// queued): lets the pump skip its queries when there is nothing to send.
    pending: std::cell::Cell<Option<bool>>,
    /// Bumped when the conversation is deleted: a send that was under way then writes
    /// nothing when it returns ([`ItemLedger`]).
    generation: std::cell::Cell<u32>,
}

impl OutboxStore {
    pub fn new(sql: SqlStorage) -> Result<OutboxStore> {
        // Outboxes created before the column was named for what it means.
        #[derive(Deserialize)]
        struct Column {
            name: String,
        }
        let columns: Vec<Column> = sql.exec("PRAGMA table_info(outbox)", None)?.to_array()?;
        if columns.iter().any(|c| c.name == "force_template") {
            sql.exec(
                "ALTER TABLE outbox RENAME COLUMN force_template TO fallback",
                None,
            )?;
        }
        sql.exec(SCHEMA, None)?;
        // Marks of attempts made before they said when they began.
        let marks: Vec<Column> = sql.exec("PRAGMA table_info(in_flight)", None)?.to_array()?;
        if !marks.iter().any(|c| c.name == "began_at") {
            sql.exec("ALTER TABLE in_flight ADD COLUMN began_at INTEGER", None)?;
        }
        Ok(OutboxStore {
            sql,
            pending: std::cell::Cell::new(None),
            generation: std::cell::Cell::new(0),
        })
    }

    /// Its rows are gone (the conversation was deleted): a send under way is of another
    /// generation from now on.
    pub fn forget(&self) {
        self.pending.set(None);
        self.generation.set(self.generation.get().wrapping_add(1));
    }

    fn any(&self, count_query: &str, args: Vec<SqlStorageValue>) -> Result<bool> {
        let r: Count = self.sql.exec(count_query, args)?.one()?;
        Ok(r.n > 0)
    }

    /// Queues item `seq` for each target (in the same synchronous block that stores the item,
    /// so it is durable exactly when the item is).
    pub fn enqueue(&self, seq: i64, targets: &[Target], now: i64) -> Result<()> {
        if !targets.is_empty() {
            self.pending.set(Some(true));
        }
        for target in targets {
            self.sql.exec(
                "INSERT OR IGNORE INTO outbox (seq, channel, next_at) VALUES (?, ?, ?)",
                vec![int(seq), target.as_str().into(), int(now)],
            )?;
        }
        Ok(())
    }

    /// Whether there may be pending rows (`false` only when known to be none).
    pub fn may_have_pending(&self) -> bool {
        self.pending.get() != Some(false)
    }

    /// Every target with a pending row.
    pub fn pending_targets(&self) -> Result<Vec<Target>> {
        let rows: Vec<ChannelColumn> = self
            .sql
            .exec(
                "SELECT DISTINCT channel FROM outbox WHERE state = 'pending'",
                None,
            )?
            .to_array()?;
        Ok(rows
            .iter()
            .filter_map(|c| Target::parse(&c.channel))
            .collect())
    }

    /// The target's oldest pending row.
    pub fn next_pending(&self, target: Target) -> Result<Option<Row>> {
        let rows: Vec<Row> = self
            .sql
            .exec(
                "SELECT seq, attempts, next_at, fallback FROM outbox WHERE state = 'pending' AND channel = ? ORDER BY seq LIMIT 1",
                vec![target.as_str().into()],
            )?
            .to_array()?;
        Ok(rows.into_iter().next())
    }

    /// When the earliest pending row is due. Only each target's oldest row can be: later ones
    /// wait behind it.
    pub fn earliest_due(&self) -> Result<Option<i64>> {
        if self.pending.get() == Some(false) {
            return Ok(None);
        }
        let r: Earliest = self
            .sql
            .exec(
                "SELECT MIN(next_at) AS n FROM outbox o WHERE state = 'pending'
                   AND seq = (SELECT MIN(seq) FROM outbox WHERE state = 'pending' AND channel = o.channel)",
                None,
            )?
            .one()?;
        self.pending.set(Some(r.n.is_some()));
        Ok(r.n)
    }

    /// Ends a row as `sent` or `failed`.
    pub fn finish(
        &self,
        seq: i64,
        target: Target,
        state: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<()> {
        self.sql.exec(
            "UPDATE outbox SET state = ?, done_at = ?, last_error = COALESCE(?, last_error) WHERE seq = ? AND channel = ?",
            vec![state.into(), int(now), opt(error), int(seq), target.as_str().into()],
        )?;
        Ok(())
    }

    /// Fails the row with `reason` if it is still pending (a newer item replaced it).
    pub fn finish_if_pending(&self, seq: i64, target: Target, reason: &str) -> Result<()> {
        self.sql.exec(
            "UPDATE outbox SET state = 'failed', done_at = ?, last_error = ? WHERE seq = ? AND channel = ? AND state = 'pending'",
            vec![int(crate::http::now_ms()), reason.into(), int(seq), target.as_str().into()],
        )?;
        Ok(())
    }

    /// How many recipients item `seq` reached on `target`.
    pub fn deliveries_of(&self, seq: i64, target: Target) -> Result<usize> {
        let r: Count = self
            .sql
            .exec(
                "SELECT COUNT(*) AS n FROM deliveries WHERE seq = ? AND channel = ? AND status != 'failed'",
                vec![int(seq), target.as_str().into()],
            )?
            .one()?;
        Ok(r.n.max(0) as usize)
    }

    /// Marks an at-most-once attempt as under way since `now`; `false` if an earlier attempt
    /// never finished (its instance stopped mid-send: it may have arrived).
    pub fn begin_attempt(&self, seq: i64, target: Target, now: i64) -> Result<bool> {
        if self.attempted(seq, target)? {
            return Ok(false);
        }
        self.sql.exec(
            "INSERT INTO in_flight (seq, channel, began_at) VALUES (?, ?, ?)",
            vec![int(seq), target.as_str().into(), int(now)],
        )?;
        Ok(true)
    }

    /// Ends item `seq`'s pending rows to the contact as failed for `reason` (the item will
    /// not be sent: its conversation is being deleted).
    pub fn end_contact_rows(&self, seq: i64, reason: &str, now: i64) -> Result<()> {
        self.sql.exec(
            "UPDATE outbox SET state = 'failed', last_error = ?, done_at = ?
              WHERE seq = ? AND state = 'pending' AND channel LIKE 'contact:%'",
            vec![reason.into(), int(now), int(seq)],
        )?;
        Ok(())
    }

    /// The attempt finished with a known outcome. (One whose fate is unknown keeps its mark:
    /// when it began, for the channel's status that may still settle it.)
    pub fn end_attempt(&self, seq: i64, target: Target) -> Result<()> {
        self.sql.exec(
            "DELETE FROM in_flight WHERE seq = ? AND channel = ?",
            vec![int(seq), target.as_str().into()],
        )?;
        Ok(())
    }

    pub fn retry_later(
        &self,
        seq: i64,
        target: Target,
        attempts: u32,
        next_at: i64,
        error: &str,
    ) -> Result<()> {
        self.sql.exec(
            "UPDATE outbox SET attempts = ?, next_at = ?, last_error = ? WHERE seq = ? AND channel = ?",
            vec![int(i64::from(attempts)), int(next_at), error.into(), int(seq), target.as_str().into()],
        )?;
        Ok(())
    }

    /// Whether an at-most-once attempt at row `seq` to `target` began and was not ended (an
    /// instance stopped during it, or it was left unanswered): it may have arrived.
    pub fn attempted(&self, seq: i64, target: Target) -> Result<bool> {
        let c: Count = self
            .sql
            .exec(
                "SELECT COUNT(*) AS n FROM in_flight WHERE seq = ? AND channel = ?",
                vec![int(seq), target.as_str().into()],
            )?
            .one()?;
        Ok(c.n > 0)
    }

    /// Fails every pending row that needs channel `kind` (its agents and its contacts) with
    /// `error`; the rows it ended.
    pub fn fail_pending(
        &self,
        kind: ChannelKind,
        error: &str,
        now: i64,
    ) -> Result<Vec<(i64, Target)>> {
        let mut ended = Vec::new();
        for target in [Target::Agents(kind), Target::Contact(kind)] {
            let rows: Vec<SeqColumn> = self
                .sql
                .exec(
                    "UPDATE outbox SET state = 'failed', done_at = ?, last_error = ? WHERE state = 'pending' AND channel = ? RETURNING seq",
                    vec![int(now), error.into(), target.as_str().into()],
                )?
                .to_array()?;
            ended.extend(rows.into_iter().map(|r| (r.seq, target)));
        }
        Ok(ended)
    }

    /// Marks the target's pending rows `skipped` (the channel is not set up); the rows it
    /// ended.
    pub fn skip_pending(&self, target: Target, now: i64) -> Result<Vec<i64>> {
        let rows: Vec<SeqColumn> = self
            .sql
            .exec(
                "UPDATE outbox SET state = 'skipped', done_at = ? WHERE state = 'pending' AND channel = ? RETURNING seq",
                vec![int(now), target.as_str().into()],
            )?
            .to_array()?;
        Ok(rows.into_iter().map(|r| r.seq).collect())
    }

    /// A row's state, attempts and last error.
    pub fn row(&self, seq: i64, target: Target) -> Result<Option<RelayInfo>> {
        let rows: Vec<RelayInfo> = self
            .sql
            .exec(
                "SELECT seq, channel, state, attempts, next_at, last_error, done_at FROM outbox WHERE seq = ? AND channel = ?",
                vec![int(seq), target.as_str().into()],
            )?
            .to_array()?;
        Ok(rows.into_iter().next())
    }

    pub fn thread(&self, kind: ChannelKind) -> Result<Option<String>> {
        let rows: Vec<ThreadColumn> = self
            .sql
            .exec(
                "SELECT thread FROM threads WHERE channel = ?",
                vec![kind.as_str().into()],
            )?
            .to_array()?;
        Ok(rows.into_iter().next().map(|t| t.thread))
    }

    pub fn set_thread(&self, kind: ChannelKind, thread: Option<&str>) -> Result<()> {
        match thread {
            Some(t) => self.sql.exec(
                "INSERT INTO threads (channel, thread) VALUES (?, ?) ON CONFLICT(channel) DO UPDATE SET thread = excluded.thread",
                vec![kind.as_str().into(), t.into()],
            )?,
            None => self
                .sql
                .exec("DELETE FROM threads WHERE channel = ?", vec![kind.as_str().into()])?,
        };
        Ok(())
    }

    /// The ledger of item `seq` on `target`, for its delivery.
    pub fn ledger(&self, seq: i64, target: Target) -> ItemLedger<'_> {
        ItemLedger {
            store: self,
            seq,
            target: target.as_str(),
            generation: self.generation.get(),
        }
    }

    /// Records a delivery status the channel reported for the message it knows as
    /// `remote_id`. With `fallback`, the delivery is void and its row goes out again in the
    /// channel's fallback form (`reason` says why); returns whether a row was re-queued.
    pub fn record_status(
        &self,
        remote_id: &str,
        status: DeliveryStatus,
        fallback: Option<&str>,
        now: i64,
    ) -> Result<StatusApplied> {
        let rows: Vec<DeliveryRow> = self
            .sql
            .exec(
                "SELECT seq, channel, recipient, remote_id, status, sent_at FROM deliveries WHERE remote_id = ?",
                vec![remote_id.into()],
            )?
            .to_array()?;
        let Some(d) = rows.into_iter().next() else {
            return Ok(StatusApplied::default());
        };
        if let Some(reason) = fallback {
            self.sql.exec(
                "UPDATE deliveries SET status = 'failed' WHERE remote_id = ?",
                vec![remote_id.into()],
            )?;
            self.pending.set(Some(true));
            self.sql.exec(
                "UPDATE outbox SET state = 'pending', fallback = 1, next_at = ?, done_at = NULL, last_error = ?
                 WHERE seq = ? AND channel = ?",
                vec![int(now), reason.into(), int(d.seq), d.channel.as_str().into()],
            )?;
            return Ok(StatusApplied {
                known: true,
                requeued: true,
                advanced: None,
            });
        }
        if status.advances(DeliveryStatus::parse(&d.status)) {
            self.sql.exec(
                "UPDATE deliveries SET status = ? WHERE remote_id = ?",
                vec![status.as_str().into(), remote_id.into()],
            )?;
            return Ok(StatusApplied {
                known: true,
                requeued: false,
                advanced: Some((d.seq, d.channel)),
            });
        }
        Ok(StatusApplied {
            known: true,
            ..StatusApplied::default()
        })
    }

    /// The newest at-most-once row to `target` whose send's fate is unknown — failed for
    /// that reason, or still pending with the mark of an instance that stopped (the caller
    /// makes sure no attempt there is under way) — and which began within `window` of `at`
    /// (`(before, after)` ms, the channel's own time for the status): it arrived after all,
    /// as `remote_id` to `recipient`. The row is sent, its delivery recorded with `status`
    /// and its mark gone. Its seq, if one was.
    pub fn arrived_after_all(
        &self,
        target: Target,
        (recipient, remote_id): (&str, &str),
        status: DeliveryStatus,
        at: i64,
        (before, after): (i64, i64),
    ) -> Result<Option<i64>> {
        #[derive(Deserialize)]
        struct Seq {
            seq: i64,
        }
        let channel = target.as_str();
        let rows: Vec<Seq> = self
            .sql
            .exec(
                "SELECT o.seq FROM outbox o JOIN in_flight f ON f.seq = o.seq AND f.channel = o.channel
                 WHERE o.channel = ? AND f.began_at BETWEEN ? AND ?
                   AND (o.state = 'pending' OR (o.state = 'failed' AND o.last_error IN (?, ?)))
                 ORDER BY o.seq DESC LIMIT 1",
                vec![
                    channel.as_str().into(),
                    int(at - after),
                    int(at + before),
                    super::ARRIVAL_UNKNOWN[0].into(),
                    super::ARRIVAL_UNKNOWN[1].into(),
                ],
            )?
            .to_array()?;
        let Some(Seq { seq }) = rows.into_iter().next() else {
            return Ok(None);
        };
        let now = crate::http::now_ms();
        self.sql.exec(
            "UPDATE outbox SET state = 'sent', done_at = ?, last_error = NULL WHERE seq = ? AND channel = ?",
            vec![int(now), int(seq), channel.as_str().into()],
        )?;
        self.end_attempt(seq, target)?;
        self.sql.exec(
            "INSERT INTO deliveries (seq, channel, recipient, remote_id, status, sent_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT(seq, channel, recipient) DO UPDATE SET remote_id = excluded.remote_id, status = excluded.status",
            vec![
                int(seq),
                channel.as_str().into(),
                recipient.into(),
                remote_id.into(),
                status.as_str().into(),
                int(now),
            ],
        )?;
        Ok(Some(seq))
    }

    /// Every row with its deliveries (the admin API's relay view).
    pub fn relays(&self) -> Result<Vec<RelayInfo>> {
        let mut relays: Vec<RelayInfo> = self
            .sql
            .exec("SELECT seq, channel, state, attempts, next_at, last_error, done_at FROM outbox ORDER BY seq, channel", None)?
            .to_array()?;
        let deliveries: Vec<DeliveryRow> = self
            .sql
            .exec("SELECT seq, channel, recipient, remote_id, status, sent_at FROM deliveries ORDER BY sent_at", None)?
            .to_array()?;
        for d in deliveries {
            if let Some(r) = relays
                .iter_mut()
                .find(|r| r.seq == d.seq && r.channel == d.channel)
            {
                r.deliveries.push(DeliveryInfo {
                    recipient: d.recipient,
                    remote_id: d.remote_id,
                    status: d.status,
                    sent_at: d.sent_at,
                });
            }
        }
        Ok(relays)
    }
}

/// The deliveries of one item on one target. What it writes is dropped once the conversation
/// was deleted since it was made: its numbers start again at 1, and a send that returns after
/// the deletion must not mark a new item delivered or bring back the old thread.
pub struct ItemLedger<'a> {
    store: &'a OutboxStore,
    seq: i64,
    target: String,
    generation: u32,
}

impl ItemLedger<'_> {
    fn current(&self) -> bool {
        self.store.generation.get() == self.generation
    }
}

impl Ledger for ItemLedger<'_> {
    fn thread(&self, kind: ChannelKind) -> Result<Option<String>> {
        self.store.thread(kind)
    }

    fn set_thread(&self, kind: ChannelKind, thread: Option<&str>) -> Result<()> {
        if !self.current() {
            return Ok(());
        }
        self.store.set_thread(kind, thread)
    }

    fn delivered(&self, recipient: &str) -> Result<bool> {
        self.store.any(
            "SELECT COUNT(*) AS n FROM deliveries WHERE seq = ? AND channel = ? AND recipient = ? AND status != 'failed'",
            vec![int(self.seq), self.target.as_str().into(), recipient.into()],
        )
    }

    fn served_before(&self, recipient: &str) -> Result<bool> {
        self.store.any(
            "SELECT COUNT(*) AS n FROM deliveries WHERE channel = ? AND recipient = ?",
            vec![self.target.as_str().into(), recipient.into()],
        )
    }

    fn record(&self, recipient: &str, remote_id: &str, now: i64) -> Result<()> {
        if !self.current() {
            return Ok(());
        }
        self.store.sql.exec(
            "INSERT INTO deliveries (seq, channel, recipient, remote_id, sent_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(seq, channel, recipient) DO UPDATE SET remote_id = excluded.remote_id, status = 'sent', sent_at = excluded.sent_at",
            vec![int(self.seq), self.target.as_str().into(), recipient.into(), remote_id.into(), int(now)],
        )?;
        Ok(())
    }
}
