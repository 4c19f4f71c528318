//! Broadcast messages in this conversation: which stored message belongs to which broadcast
//! and recipient ([`Mark`]), and how far each got — reported back to the broadcast's
//! recipient row in D1 with the conversation's coalesced index writes (never on the message
//! path), kept here until written.
//!
//! A broadcast message goes only to the person (their own channel, or the widget); the
//! agents' channels get it with the person's first answer, so nothing reaches them for the
//! thousands who never answer.

use super::Conversation;
use crate::broadcast::Mark;
use crate::error::{Error, Result};
use crate::storage::broadcasts::{self, Stage};
use serde::Deserialize;
use std::cell::Cell;
use worker::SqlStorage;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS broadcast_marks (
  seq       INTEGER PRIMARY KEY,
  mark      TEXT NOT NULL,
  answered  INTEGER NOT NULL DEFAULT 0,
  seen      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS broadcast_reports (
  broadcast  TEXT NOT NULL,
  channel    TEXT NOT NULL,
  address    TEXT NOT NULL,
  stage      INTEGER NOT NULL,
  reason     TEXT,
  PRIMARY KEY (broadcast, channel, address)
);";

/// Why a broadcast message was not sent: its conversation was deleted first.
const DELETED: &str = "the conversation was deleted";
/// Why one's fate is unknown: its conversation was deleted while it was being sent.
const DELETED_DURING_SEND: &str =
    "the conversation was deleted during its send; whether it arrived is unknown";

pub struct Marks {
    sql: SqlStorage,
    /// Whether some mark is unanswered / unseen, once known: nearly every conversation has
    /// none, and then the message path reads nothing here.
    unanswered: Cell<Option<bool>>,
    unseen: Cell<Option<bool>>,
}

#[derive(Deserialize)]
struct MarkRow {
    mark: String,
}

#[derive(Deserialize)]
struct ReportRow {
    broadcast: String,
    channel: String,
    address: String,
    stage: i64,
    reason: Option<String>,
}

impl Marks {
    pub fn new(sql: SqlStorage) -> Result<Marks> {
        sql.exec(SCHEMA, None)?;
        Ok(Marks {
            sql,
            unanswered: Cell::new(None),
            unseen: Cell::new(None),
        })
    }

    /// The rows are gone (the conversation was deleted): read again when asked.
    pub fn forget(&self) {
        self.unanswered.set(None);
        self.unseen.set(None);
    }

    /// Remembers that message `seq` is `mark`'s.
    pub fn set(&self, seq: i64, mark: &Mark) -> Result<()> {
        self.sql.exec(
            "INSERT OR IGNORE INTO broadcast_marks (seq, mark) VALUES (?, ?)",
            vec![
                seq.into(),
                serde_json::to_string(mark).map_err(Error::internal)?.into(),
            ],
        )?;
        self.unanswered.set(Some(true));
        self.unseen.set(Some(true));
        Ok(())
    }

    /// Whether any mark has `column` still 0, read once and then kept in `known`.
    fn any_open(&self, known: &Cell<Option<bool>>, column: &str) -> Result<bool> {
        if let Some(open) = known.get() {
            return Ok(open);
        }
        #[derive(Deserialize)]
        struct Open {
            open: i64,
        }
        let rows: Vec<Open> = self
            .sql
            .exec(
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM broadcast_marks WHERE {column} = 0) AS open"
                ),
                None,
            )?
            .to_array()?;
        let open = rows.first().is_some_and(|r| r.open != 0);
        known.set(Some(open));
        Ok(open)
    }

    /// The broadcast message `seq` is, if it is one.
    pub fn of(&self, seq: i64) -> Result<Option<Mark>> {
        let rows: Vec<MarkRow> = self
            .sql
            .exec(
                "SELECT seq, mark FROM broadcast_marks WHERE seq = ?",
                vec![seq.into()],
            )?
            .to_array()?;
        rows.first()
            .map(|r| serde_json::from_str(&r.mark).map_err(Error::internal))
            .transpose()
    }

    /// The broadcast messages the person has now answered: those not answered yet that reached
    /// them (posted into the widget, or sent by their channel — or maybe sent: an attempt of
    /// unknown fate, which their answer suggests arrived). One whose send is still to come (a
    /// channel's retry) is not answered by what they write meanwhile — they have not seen it —,
    /// and one whose send failed never will be.
    pub fn answer(&self) -> Result<Vec<(i64, Mark)>> {
        if !self.any_open(&self.unanswered, "answered")? {
            return Ok(Vec::new());
        }
        #[derive(Deserialize)]
        struct Open {
            seq: i64,
            mark: String,
            pending: i64,
            failed: i64,
        }
        let rows: Vec<Open> = self
            .sql
            .exec(
                "SELECT m.seq, m.mark,
                        EXISTS (SELECT 1 FROM outbox o WHERE o.seq = m.seq
                                  AND o.channel LIKE 'contact:%' AND o.state = 'pending') AS pending,
                        EXISTS (SELECT 1 FROM outbox o WHERE o.seq = m.seq
                                  AND o.channel LIKE 'contact:%' AND o.state = 'failed'
                                  AND COALESCE(o.last_error, '') NOT IN (?, ?)) AS failed
                   FROM broadcast_marks m WHERE m.answered = 0",
                Some(
                    crate::outbox::ARRIVAL_UNKNOWN
                        .iter()
                        .map(|r| (*r).into())
                        .collect(),
                ),
            )?
            .to_array()?;
        let still_to_come = rows.iter().any(|r| r.pending != 0);
        // Asked again with the next message while a send is still to come.
        self.unanswered
            .set(if still_to_come { None } else { Some(false) });
        let mut answered = Vec::new();
        for r in rows.into_iter().filter(|r| r.pending == 0) {
            self.sql.exec(
                "UPDATE broadcast_marks SET answered = 1 WHERE seq = ?",
                vec![r.seq.into()],
            )?;
            if r.failed == 0 {
                let mark = serde_json::from_str(&r.mark).map_err(Error::internal)?;
                answered.push((r.seq, mark));
            }
        }
        Ok(answered)
    }

    /// The widget's visitor read up to `seq`: the broadcast messages up to it are read (once
    /// each); whether there were any.
    pub fn seen_up_to(&self, seq: i64) -> Result<bool> {
        if !self.any_open(&self.unseen, "seen")? {
            return Ok(false);
        }
        let rows: Vec<MarkRow> = self
            .sql
            .exec(
                "UPDATE broadcast_marks SET seen = 1 WHERE seq <= ? AND seen = 0 RETURNING seq, mark",
                vec![seq.into()],
            )?
            .to_array()?;
        // Any later ones are still unseen: asked again next time.
        self.unseen.set(None);
        for r in &rows {
            let mark: Mark = serde_json::from_str(&r.mark).map_err(Error::internal)?;
            self.report(&mark, Stage::Read, None)?;
        }
        Ok(!rows.is_empty())
    }

    /// Keeps `stage` (the furthest one) for the mark's recipient until it is written to D1.
    pub fn report(&self, mark: &Mark, stage: Stage, reason: Option<&str>) -> Result<()> {
        self.sql.exec(
            "INSERT INTO broadcast_reports (broadcast, channel, address, stage, reason)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (broadcast, channel, address) DO UPDATE SET
               stage = CASE WHEN excluded.stage > stage THEN excluded.stage ELSE stage END,
               reason = CASE WHEN stage < 0 AND excluded.stage > 0 THEN excluded.reason
                             ELSE COALESCE(excluded.reason, reason) END",
            vec![
                mark.broadcast.as_str().into(),
                mark.channel.as_str().into(),
                mark.address.as_str().into(),
                (stage as i64).into(),
                reason.into(),
            ],
        )?;
        Ok(())
    }

    /// The broadcast messages whose send to the person is still to come (their row to the
    /// contact is pending), each with whether an attempt at it is under way or was cut short
    /// (then it may have arrived).
    pub fn unsent(&self) -> Result<Vec<(i64, Mark, bool)>> {
        #[derive(Deserialize)]
        struct Unsent {
            seq: i64,
            mark: String,
            under_way: i64,
        }
        let rows: Vec<Unsent> = self
            .sql
            .exec(
                "SELECT m.seq, m.mark,
                        EXISTS (SELECT 1 FROM in_flight f WHERE f.seq = m.seq AND f.channel LIKE 'contact:%') AS under_way
                   FROM broadcast_marks m
                  WHERE EXISTS (SELECT 1 FROM outbox o WHERE o.seq = m.seq AND o.state = 'pending'
                                  AND o.channel LIKE 'contact:%')",
                None,
            )?
            .to_array()?;
        rows.into_iter()
            .map(|r| {
                let mark = serde_json::from_str(&r.mark).map_err(Error::internal)?;
                Ok((r.seq, mark, r.under_way != 0))
            })
            .collect()
    }

    fn pending(&self) -> Result<Vec<ReportRow>> {
        Ok(self
            .sql
            .exec(
                "SELECT broadcast, channel, address, stage, reason FROM broadcast_reports",
                None,
            )?
            .to_array()?)
    }

    fn written(&self, r: &ReportRow) -> Result<()> {
        // Only if nothing further was reported meanwhile.
        self.sql.exec(
            "DELETE FROM broadcast_reports WHERE broadcast = ? AND channel = ? AND address = ? AND stage = ?",
            vec![
                r.broadcast.as_str().into(),
                r.channel.as_str().into(),
                r.address.as_str().into(),
                r.stage.into(),
            ],
        )?;
        Ok(())
    }
}

impl Conversation {
    /// Records how far the broadcast message `seq` got, if it is one; written to D1 with the
    /// next index flush.
    pub(super) async fn broadcast_progress(
        &self,
        seq: i64,
        stage: Stage,
        reason: Option<&str>,
    ) -> Result<()> {
        if let Some(mark) = self.broadcasts.of(seq)? {
            self.broadcasts.report(&mark, stage, reason)?;
            self.changed().await;
        }
        Ok(())
    }

    /// Before the conversation is deleted: what its broadcast messages came to reaches D1.
    /// One not sent yet never will be: cancelled, with the reason, and its row ended in the
    /// same step (the alarm's pump may run while D1 is written). One whose send is under way
    /// (or was cut short) may have arrived: failed as of unknown fate.
    pub(super) async fn settle_broadcasts_before_erasing(&self) -> Result<()> {
        let now = crate::http::now_ms();
        for (seq, mark, under_way) in self.broadcasts.unsent()? {
            if under_way {
                self.broadcasts
                    .report(&mark, Stage::Failed, Some(DELETED_DURING_SEND))?;
            } else {
                self.broadcasts
                    .report(&mark, Stage::Cancelled, Some(DELETED))?;
                self.outbox.store.end_contact_rows(seq, DELETED, now)?;
            }
        }
        self.write_broadcast_reports().await
    }

    /// Writes the reports kept (from the index flush; on failure the flush is retried).
    pub(super) async fn write_broadcast_reports(&self) -> Result<()> {
        let pending = self.broadcasts.pending()?;
        if pending.is_empty() {
            return Ok(());
        }
        let db = self.env.d1("DB")?;
        let now = crate::http::now_ms();
        for r in &pending {
            broadcasts::advance(
                &db,
                &r.broadcast,
                (&r.channel, &r.address),
                Stage::from_code(r.stage),
                r.reason.as_deref(),
                now,
            )
            .await?;
            self.broadcasts.written(r)?;
        }
        Ok(())
    }
}
