//! What follows a change, kept off the message hot path: publishing the conversation's summary
//! to the site's hub (which tells open inboxes at once and writes the D1 index row with the
//! site's next batch) and — for a conversation a rule started — its first-response metric.
//! Coalesced to at most one flush per [`FLUSH_INTERVAL_MS`]: while an inbox of the site may be
//! open ([`watched`]), the first change after a quiet spell flushes at once (after the sender's
//! ack) and changes within the interval wait for one trailing flush from the alarm; while none
//! is, every flush is a trailing one ([`QUIET_INTERVAL_MS`]).
//! Messages posted over HTTP (the admin API, webhooks: not the hot path) flush before their
//! answer, so a caller reads its own write in the conversation list.
//!
//! Nothing is lost: a failed flush is retried from the alarm, and a new instance's first alarm
//! flushes once (its predecessor may have died with a flush pending — whose alarm, in storage,
//! is what woke it). Trailing flushes are jittered, so conversations started together do not
//! flush together, and spread ([`spread`]): when many conversations of one isolate wait for
//! one, the interval grows with their number, so the isolate's publishes stay a small, steady
//! share of its time and the messages themselves keep the rest.
//!
//! The DO has one alarm; [`Conversation::schedule`] keeps it no later than the earliest of the
//! outbox's next due row, the trailing flush and the first abandoned upload, touching storage
//! only when it must come sooner. An alarm more than
//! [`LOST_ALARM_MS`](crate::outbox::LOST_ALARM_MS) past its time is taken as lost and set
//! again. A runtime stopped at the wrong moment can leave an instance with work and no alarm
//! that fires; for the messages a broadcast posted (nothing else comes to those
//! conversations), the broadcast's watch calls [`Conversation::wake`].

use super::Conversation;
use crate::error::Result;
use crate::{http, site_hub, storage};
use beckon_shared::proto::v1::{ConversationOrigin, FirstResponse};
use std::cell::Cell;

/// A busy conversation refreshes open inboxes at most this often.
pub const FLUSH_INTERVAL_MS: i64 = 1_000;
/// While no inbox of the site is open, the index follows a conversation at most this often.
pub const QUIET_INTERVAL_MS: i64 = 5_000;
/// How long what a publish said about the site's open inboxes is trusted.
const WATCHED_TTL_MS: i64 = 10_000;
/// An isolate's trailing publishes are at least this far apart on average: with more than
/// `interval / PUBLISH_SPACING_MS` conversations waiting (50 with an inbox open, 250 without),
/// each waits longer rather than all together taking the isolate's time from new messages.
pub const PUBLISH_SPACING_MS: i64 = 20;

/// How long after a flush the next may come: `interval`, or longer while `waiting`
/// conversations of this isolate have a trailing flush due — never more than three times
/// `interval` (the count is of instances alive, and one evicted without being dropped is
/// still in it).
pub fn spread(interval: i64, waiting: usize) -> i64 {
    interval
        .max(waiting as i64 * PUBLISH_SPACING_MS)
        .min(3 * interval)
}

/// How long after a flush the next may come, with an inbox of the site open (`watched`) or
/// not, as this isolate's waiting conversations [`spread`] it.
fn interval(watched: bool) -> i64 {
    let base = if watched {
        FLUSH_INTERVAL_MS
    } else {
        QUIET_INTERVAL_MS
    };
    spread(base, WAITING.with(Cell::get))
}

/// When the trailing flush is due, if one is; counted in [`WAITING`] while it is.
#[derive(Default)]
pub(super) struct Due(Cell<Option<i64>>);

impl Due {
    pub(super) fn get(&self) -> Option<i64> {
        self.0.get()
    }

    pub(super) fn set(&self, at: Option<i64>) {
        let was = self.0.replace(at);
        let delta = at.is_some() as isize - was.is_some() as isize;
        WAITING.with(|w| w.set(w.get().saturating_add_signed(delta)));
    }

    pub(super) fn take(&self) -> Option<i64> {
        let at = self.get();
        self.set(None);
        at
    }
}

impl Drop for Due {
    /// An instance that goes away no longer waits.
    fn drop(&mut self) {
        self.set(None);
    }
}

thread_local! {
    /// How many conversations of this isolate have a trailing flush due ([`Due`]).
    static WAITING: Cell<usize> = const { Cell::new(0) };
    /// Per site: whether an inbox was open at the last publish from this isolate, until when.
    static WATCHED: std::cell::RefCell<std::collections::HashMap<String, (bool, i64)>> =
        Default::default();
}

/// Once a "no inbox open" has expired, one conversation asks again (it is told yes, so it
/// publishes at once — or within a second, if its own publish is running) and the others keep
/// to the "no" until an answer is noted, at most this long; then the next caller asks. So the
/// messages after a quiet spell of a site known to have no inbox open are not a burst of
/// publishes.
const ASKING_MS: i64 = 1_000;

/// Whether `site` may have an inbox open, as the last publish from this isolate said: a "no"
/// for [`WATCHED_TTL_MS`], a "yes" until a publish says "no"; unknown (a fresh isolate) counts
/// as yes for every caller. An expired "no" is yes for the first caller and stays no for the
/// others while it asks ([`ASKING_MS`]).
fn watched(site: &str, now: i64) -> bool {
    WATCHED.with(|w| match w.borrow_mut().get_mut(site) {
        None => true,
        Some((watched, until)) if *watched || *until >= now => *watched,
        Some((_, until)) => {
            *until = now + ASKING_MS;
            true
        }
    })
}

/// `at`, pushed back at random by up to half of `interval`: conversations that started together
/// (a broadcast, a burst of visitors) do not all publish to the site's hub in the same instant.
fn jittered(at: i64, interval: i64) -> i64 {
    at + (js_sys::Math::random() * (interval / 2) as f64) as i64
}

fn note_watchers(site: &str, watchers: usize, now: i64) {
    WATCHED.with(|w| {
        w.borrow_mut()
            .insert(site.to_owned(), (watchers > 0, now + WATCHED_TTL_MS))
    });
}
/// A failed flush is tried again after this long.
const RETRY_MS: i64 = 10_000;

/// The flush's state (memory only).
pub(super) struct Flush {
    /// This instance has not flushed from its alarm yet.
    fresh: Cell<bool>,
    /// A change has not been flushed yet.
    dirty: Cell<bool>,
    running: Cell<bool>,
    last_at: Cell<i64>,
    due: Due,
    /// The next flush writes the D1 row before it returns.
    write_now: Cell<bool>,
}

impl Default for Flush {
    fn default() -> Flush {
        Flush {
            fresh: Cell::new(true),
            dirty: Cell::new(false),
            running: Cell::new(false),
            last_at: Cell::new(0),
            due: Due::default(),
            write_now: Cell::new(false),
        }
    }
}

/// The alarm as this instance knows it.
#[derive(Default)]
pub(super) struct AlarmState {
    /// `None` until read or set by this instance; then the alarm time (or none).
    known: Cell<Option<Option<i64>>>,
    /// The outbox's next due row, as it last said.
    outbox_due: Cell<Option<i64>>,
    /// When the oldest open upload is abandoned.
    uploads_due: Cell<Option<i64>>,
}

impl Flush {
    /// Nothing is left to flush (the conversation was deleted).
    pub(super) fn forget(&self) {
        self.dirty.set(false);
        self.due.set(None);
        self.fresh.set(false);
    }
}

impl Conversation {
    /// Something changed (a message, a read cursor): flush now, or once the interval is over.
    pub(super) async fn changed(&self) {
        self.flush.dirty.set(true);
        let now = http::now_ms();
        // A trailing flush that has come due goes with this change (the alarm only catches
        // the last change of a burst: it can fire late).
        if let Some(due) = self.flush.due.get() {
            if now >= due && !self.flush.running.get() {
                self.flush.due.set(None);
                self.flush_now().await;
            }
            return;
        }
        let watched = self.watched(now);
        let interval = interval(watched);
        let next_allowed = self.flush.last_at.get() + interval;
        // Nobody watching: no flush at once — the index catches up within the interval.
        if self.flush.running.get() || now < next_allowed || !watched {
            if self.flush.due.get().is_none() {
                let at = if watched {
                    next_allowed
                } else {
                    now + interval / 2
                };
                self.flush.due.set(Some(jittered(at.max(now), interval)));
                self.schedule().await;
            }
            return;
        }
        self.flush_now().await;
    }

    /// Whether an inbox of the conversation's site may be open.
    fn watched(&self, now: i64) -> bool {
        match self.store.meta() {
            Ok(Some(m)) => watched(m.site.as_str(), now),
            _ => true,
        }
    }

    /// Something changed that an HTTP caller will look for next (an agent's reply through the
    /// API, a webhook's message): flush before answering, whatever the interval.
    pub(super) async fn changed_now(&self) {
        self.flush.dirty.set(true);
        self.flush.write_now.set(true);
        self.flush_now().await;
    }

    /// Writes the index row, tells open inboxes, records the first response; on failure, the
    /// alarm retries.
    pub(super) async fn flush_now(&self) {
        if self.flush.running.replace(true) {
            return;
        }
        self.flush.dirty.set(false);
        self.flush.last_at.set(http::now_ms());
        let result = self.publish().await;
        self.flush.running.set(false);
        match result {
            Ok(()) => {
                if self.flush.dirty.get() && self.flush.due.get().is_none() {
                    // Changes arrived while it ran: one trailing flush.
                    let interval = interval(self.watched(http::now_ms()));
                    self.flush.due.set(Some(jittered(
                        self.flush.last_at.get() + interval,
                        interval,
                    )));
                    self.schedule().await;
                }
            }
            Err(e) => {
                worker::console_error!("publishing conversation change failed: {e}");
                self.flush.dirty.set(true);
                self.flush.due.set(Some(http::now_ms() + RETRY_MS));
                self.schedule().await;
            }
        }
    }

    /// From the alarm: flushes what is behind (this instance's changes, or a previous
    /// instance's that were never indexed).
    pub(super) async fn flush_if_behind(&self) {
        let due = self.flush.due.take();
        if due.is_some_and(|at| at > http::now_ms()) {
            self.flush.due.set(due);
            return;
        }
        let behind = self.flush.dirty.get() | self.flush.fresh.replace(false);
        if behind {
            self.flush.dirty.set(true);
            self.flush_now().await;
        }
    }

    async fn publish(&self) -> Result<()> {
        self.record_first_response().await?;
        self.write_broadcast_reports().await?;
        // A rating that cannot be written now is written with a later flush (it stays
        // unwritten); the index row goes on meanwhile.
        if let Err(e) = self.write_rating().await {
            worker::console_error!("writing a conversation's rating failed: {e}");
            self.flush.dirty.set(true);
        }
        let summary = self.summary()?;
        let write_now = self.flush.write_now.take();
        // Messages the search index does not have yet go with the summary.
        let texts = self
            .store
            .texts_after(self.store.searched_to()?, storage::search::MAX_TEXTS)?;
        let watchers =
            site_hub::publish(&self.env, &summary.site, &summary, &texts, write_now).await?;
        note_watchers(summary.site.as_str(), watchers, http::now_ms());
        // (Not for a conversation deleted meanwhile: its storage stays empty.)
        if let (Some(last), Some(_)) = (texts.last(), self.store.meta()?) {
            self.store.set_searched_to(last.seq)?;
        }
        if texts.len() == storage::search::MAX_TEXTS {
            // A long history catches up with the next flushes (`flush_now` schedules one).
            self.flush.dirty.set(true);
        }
        Ok(())
    }

    /// The first answer to the visitor's first message, once there is one: kept (it never
    /// changes) for the summary's index row, and — for a conversation a rule started —
    /// recorded once in the rule's metrics.
    async fn record_first_response(&self) -> Result<()> {
        if self.store.first_answer()?.is_some() {
            return Ok(());
        }
        let Some((asked, answered, by)) = self.store.first_response()? else {
            return Ok(());
        };
        self.store.set_first_answer(&FirstResponse {
            ms: (answered - asked).max(0) as u64,
            by,
        })?;
        let meta = self.meta()?;
        let ConversationOrigin::Rule { rule_id } = &meta.origin else {
            return Ok(());
        };
        // Set before the await: a concurrent change cannot record it twice.
        if self.store.flag("first_response")? {
            return Ok(());
        }
        self.store.set_flag("first_response")?;
        let db = self.env.d1("DB")?;
        storage::rules::first_response(&db, &meta.site, rule_id, answered - asked, answered).await
    }

    /// The outbox's next due row changed.
    pub(super) async fn outbox_due(&self, at: Option<i64>) {
        self.alarm_state.outbox_due.set(at);
        self.schedule().await;
    }

    /// The oldest open upload's expiry changed.
    pub(super) async fn uploads_due(&self, at: Option<i64>) {
        self.alarm_state.uploads_due.set(at);
        self.schedule().await;
    }

    /// Makes sure the alarm comes no later than the earliest of the outbox's next row, the
    /// trailing flush and the first abandoned upload. An alarm set earlier than needed is left alone (waking up to find
    /// nothing due is cheaper than a storage write per message).
    pub(super) async fn schedule(&self) {
        let Some(wanted) = [
            self.alarm_state.outbox_due.get(),
            self.flush.due.get(),
            self.alarm_state.uploads_due.get(),
        ]
        .into_iter()
        .flatten()
        .min() else {
            return;
        };
        if self.alarm_time().await.is_some_and(|set| set <= wanted) {
            return;
        }
        match self
            .state
            .storage()
            .set_alarm(crate::outbox::alarm_at(wanted))
            .await
        {
            Ok(()) => self.alarm_state.known.set(Some(Some(wanted))),
            Err(e) => {
                self.alarm_state.known.set(None);
                worker::console_error!("setting the conversation's alarm failed: {e}");
            }
        }
    }

    /// The alarm fired: it is no longer set, and the outbox's pump, which runs now, says
    /// again when it is next due (a time left from before would bring the alarm back at once,
    /// again and again, when the pump finds nothing to send).
    pub(super) fn alarm_fired(&self) {
        self.alarm_state.known.set(Some(None));
        self.alarm_state.outbox_due.set(None);
    }

    /// The alarm time, as known or read; none if it is long past (lost).
    pub(super) async fn alarm_time(&self) -> Option<i64> {
        let at = match self.alarm_state.known.get() {
            Some(known) => known,
            None => {
                let at = self.state.storage().get_alarm().await.ok().flatten();
                self.alarm_state.known.set(Some(at));
                at
            }
        };
        at.filter(|at| *at > http::now_ms() - crate::outbox::LOST_ALARM_MS)
    }

    /// Woken from outside (a broadcast's watch found a message of this conversation not
    /// reported for a while): writes what its broadcast messages came to, and has the alarm
    /// come now — set again if it was lost — to send what is due (a send a stopped runtime
    /// cut short is settled there). The caller does not wait for the sends.
    pub(super) async fn wake(&self) {
        // A deleted conversation owes nothing.
        if self.store.meta().ok().flatten().is_none() {
            return;
        }
        self.alarm_state.known.set(None);
        if let Err(e) = self.write_broadcast_reports().await {
            worker::console_error!("writing broadcast reports on waking: {e}");
            self.changed().await;
        }
        self.relay_soon().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_grows_only_past_its_share_of_the_isolate() {
        assert_eq!(spread(FLUSH_INTERVAL_MS, 0), 1_000);
        assert_eq!(spread(FLUSH_INTERVAL_MS, 50), 1_000);
        assert_eq!(spread(FLUSH_INTERVAL_MS, 60), 1_200);
        assert_eq!(spread(QUIET_INTERVAL_MS, 250), 5_000);
        assert_eq!(spread(QUIET_INTERVAL_MS, 500), 10_000);
        assert_eq!(spread(QUIET_INTERVAL_MS, 5_000), 15_000);
        assert_eq!(spread(FLUSH_INTERVAL_MS, 5_000), 3_000);
    }

    #[test]
    fn an_expired_no_is_asked_again_by_one_conversation_at_a_time() {
        let (site, t) = ("asked-site", 1_000_000);
        assert!(watched(site, t), "unknown: yes");
        note_watchers(site, 0, t);
        assert!(!watched(site, t + WATCHED_TTL_MS), "fresh: no");
        let expired = t + WATCHED_TTL_MS + 1;
        assert!(
            watched(site, expired),
            "the first one after it expired asks"
        );
        assert!(!watched(site, expired), "the others keep to the old answer");
        assert!(!watched(site, expired + ASKING_MS), "still asking");
        assert!(
            watched(site, expired + ASKING_MS + 1),
            "no answer came: asked again"
        );
        note_watchers(site, 1, expired + ASKING_MS + 5);
        assert!(
            watched(site, expired + ASKING_MS + 6),
            "the answer replaces the asking"
        );
        let later = expired + ASKING_MS + 5 + WATCHED_TTL_MS + 1;
        assert!(watched(site, later), "an expired yes stays yes");
        assert!(watched(site, later));
        note_watchers(site, 0, later);
        assert!(!watched(site, later + 1), "a new no holds at once");
    }

    #[test]
    fn a_conversation_waits_once_however_often_its_flush_moves_and_not_after_it_is_gone() {
        let waiting = || WAITING.with(Cell::get);
        let before = waiting();
        let (a, b) = (Due::default(), Due::default());
        a.set(Some(1));
        a.set(Some(2));
        b.set(Some(3));
        assert_eq!(waiting(), before + 2);
        assert_eq!(a.take(), Some(2));
        assert_eq!(a.take(), None);
        assert_eq!(waiting(), before + 1);
        drop(b);
        assert_eq!(waiting(), before);
        drop(a);
        assert_eq!(waiting(), before);
    }
}
