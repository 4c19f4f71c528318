//! The outbox: a durable queue of items (conversation messages, the site's notices) to send
//! to channel targets, owned by a Durable Object and knowing no channel by name.
//!
//! - **Written with the item**: its owner queues the item's targets in the same synchronous
//!   block that stores the item, so a stored item always has its sends pending.
//! - **Sent by the pump**, right after the owner stored something and again from its alarm:
//!   per target, oldest first, one at a time (order is kept; a failing target never blocks
//!   the others). Targets whose channel the site has not set up are marked `skipped`, those
//!   whose channel cannot be read `failed`; either way the owner is told
//!   ([`Owner::settled`]), as for a send.
//! - **Exactly once per recipient**: drivers record each recipient served in the ledger
//!   before the row completes, and skip recipients already served on a retry.
//! - **Retries** follow [`policy::decide`]: exponential backoff with jitter, never sooner than
//!   the channel's hint; a channel failing for good is reported on its D1 row (admin API,
//!   inbox badge) and keeps being retried slowly until its settings are fixed.

pub mod policy;
pub mod store;

use crate::channels::delivery::{Delivery, Ledger};
use crate::channels::set::{self, SiteChannels};
use crate::channels::{Envelope, Failure, Target};
use crate::error::Result;
use crate::http;
use crate::storage::channels::Unreadable;
use beckon_shared::SiteKey;
use policy::{Attempt, DeliveryStatus, Health, Next};
use std::cell::{Cell, RefCell};
use store::{OutboxStore, Row};
use worker::Env;

/// Rows sent per target per pump run (the alarm picks up the rest).
const BATCH: usize = 100;
/// When a pending row exists but no pump is running, the alarm comes back within this.
const SAFETY_NET_MS: i64 = 5_000;
/// Why an at-most-once row was not attempted again: its instance stopped during the send.
const CUT_SHORT: &str =
    "the runtime stopped during its send; whether it arrived is unknown, and it is not sent again";
/// Why an at-most-once row was not attempted again: the channel did not answer its send.
const UNANSWERED: &str =
    "the channel did not answer its send in time; whether it arrived is unknown, and it is not sent again";
/// The reasons of at-most-once rows failed without knowing whether their send arrived: a
/// status from the channel may still show it did ([`Outbox::arrived_after_all`]).
pub(crate) const ARRIVAL_UNKNOWN: [&str; 2] = [CUT_SHORT, UNANSWERED];
/// Why a row was not sent: its channel was turned off or removed before it went.
pub(crate) const NOT_SET_UP: &str = "the channel is not set up";
/// How far a channel's clock (its statuses' times) may be from ours.
const CLOCK_SKEW_MS: i64 = 30_000;

/// What a channel's status for a message id we never recorded turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Arrival {
    /// The answer to this row's send of unknown fate: it is sent now.
    Settled(i64),
    /// A send to that contact is under way: it may be its answer, come early.
    Busy,
    /// None of ours.
    NotOurs,
}
/// How long the pump waits after an error of ours (D1, a missing secret) before trying again.
const PUMP_ERROR_BACKOFF_MS: i64 = 60_000;

/// What an outbox needs from the Durable Object that owns it. (Its futures need not be
/// `Send`: a Worker is single-threaded.)
#[allow(async_fn_in_trait)]
pub trait Owner {
    fn env(&self) -> &Env;
    /// The owner's Durable Object storage (its alarm).
    fn storage(&self) -> worker::Storage;
    /// The site the items belong to.
    fn site(&self) -> Result<SiteKey>;
    /// Row `seq`'s item for `target`, or `None` if it is gone.
    fn envelope(&self, seq: i64, target: Target, site_name: &str) -> Result<Option<Envelope>>;

    /// Asks for the owner's alarm at `at` (or none): the owner's alarm handler then pumps.
    async fn wake_at(&self, at: Option<i64>) {
        let storage = self.storage();
        let result = match at {
            Some(at) => storage.set_alarm(alarm_at(at)).await,
            None => storage.delete_alarm().await,
        };
        if let Err(e) = result {
            worker::console_error!("setting the outbox's alarm failed: {e}");
        }
    }

    /// The alarm time currently set, if any.
    async fn alarm(&self) -> Option<i64> {
        self.storage().get_alarm().await.ok().flatten()
    }

    /// Whether row `seq` to `target` goes at most once: an attempt cut short by a stopped
    /// instance (it may have arrived) is not repeated but failed (a broadcast must never
    /// reach someone twice; a conversation's relay is rather repeated than lost).
    fn at_most_once(&self, _seq: i64, _target: Target) -> bool {
        false
    }

    /// Row `seq` to `target` is done: sent, or failed for good with the reason.
    async fn settled(&self, _seq: i64, _target: Target, _outcome: std::result::Result<(), &str>) {}
}

/// An object's alarm this far past its time is taken as lost and set again: a runtime
/// stopped at the wrong moment can leave one that never fires, though `getAlarm` still
/// returns it (Cloudflare has been seen to do so too).
pub const LOST_ALARM_MS: i64 = 10_000;

/// An absolute alarm time (`set_alarm` takes a bare integer as an *offset*).
pub fn alarm_at(epoch_ms: i64) -> worker::ScheduledTime {
    worker::ScheduledTime::new(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        epoch_ms as f64,
    )))
}

/// What an earlier attempt at an at-most-once row left behind.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Earlier {
    /// There was none.
    None,
    /// Its instance stopped mid-send: it may have arrived.
    CutShort,
    /// Its instance stopped after the channel's answer was recorded: it arrived.
    Arrived,
}

pub struct Outbox {
    pub store: OutboxStore,
    /// A pump is running.
    pumping: Cell<bool>,
    /// Work arrived while it ran: run again.
    pump_again: Cell<bool>,
    /// At-most-once attempts under way in this instance (other `in_flight` marks are of
    /// instances that stopped).
    live: RefCell<Vec<(i64, Target)>>,
}

impl Outbox {
    pub fn new(sql: worker::SqlStorage) -> Result<Outbox> {
        Ok(Outbox {
            store: OutboxStore::new(sql)?,
            pumping: Cell::new(false),
            pump_again: Cell::new(false),
            live: RefCell::new(Vec::new()),
        })
    }

    /// A channel reported `status` for a message it knows as `remote_id`, sent to
    /// `recipient` on `target` at `at` (its own time), that no delivery of ours is recorded
    /// under: if a send of an at-most-once row there, begun shortly before `at`, was left with
    /// its fate unknown (cut short by a stopped instance, or unanswered within `timeout_ms`),
    /// that is its answer — it arrived after all, and the row is sent. While a send to
    /// `target` is under way here the status may be that send's own, come before its
    /// answer: [`Arrival::Busy`], to be told again later.
    pub fn arrived_after_all(
        &self,
        target: Target,
        (recipient, remote_id): (&str, &str),
        status: DeliveryStatus,
        at: i64,
        timeout_ms: i64,
    ) -> Result<Arrival> {
        if self.live.borrow().iter().any(|(_, t)| *t == target) {
            return Ok(Arrival::Busy);
        }
        let window = (CLOCK_SKEW_MS, timeout_ms + CLOCK_SKEW_MS);
        Ok(
            match self.store.arrived_after_all(
                target,
                (recipient, remote_id),
                status,
                at,
                window,
            )? {
                Some(seq) => Arrival::Settled(seq),
                None => Arrival::NotOurs,
            },
        )
    }

    /// Makes sure the alarm comes back for pending rows even if this instance dies before
    /// its pump finishes.
    pub async fn arm_safety_net(&self, owner: &impl Owner) {
        let at = http::now_ms() + SAFETY_NET_MS;
        if owner.alarm().await.is_none_or(|current| current > at) {
            owner.wake_at(Some(at)).await;
        }
    }

    /// Sends what is due. Concurrent calls coalesce: one pump runs, and runs again if asked
    /// while it was busy. Ends by asking for the alarm at the next due row.
    pub async fn pump(&self, owner: &impl Owner) {
        if !self.store.may_have_pending() {
            return;
        }
        if self.pumping.replace(true) {
            self.pump_again.set(true);
            return;
        }
        let mut not_before = 0;
        loop {
            self.pump_again.set(false);
            if let Err(e) = self.pump_once(owner).await {
                // D1 or a secret unavailable: come back later, not in a tight loop.
                worker::console_error!("outbox pump: {e}");
                not_before = http::now_ms() + PUMP_ERROR_BACKOFF_MS;
            }
            if !self.pump_again.get() {
                break;
            }
        }
        self.pumping.set(false);
        match self.store.earliest_due() {
            Ok(due) => {
                owner
                    .wake_at(due.map(|at| at.max(not_before).max(http::now_ms())))
                    .await
            }
            Err(e) => worker::console_error!("outbox: {e}"),
        }
    }

    async fn pump_once(&self, owner: &impl Owner) -> Result<()> {
        let targets = self.store.pending_targets()?;
        if targets.is_empty() {
            return Ok(());
        }
        let site = owner.site()?;
        let channels = set::get(owner.env(), &site).await?;
        let now = http::now_ms();
        // Such a channel cannot send until set up again: its rows fail with the reason (shown
        // in the inbox) instead of waiting forever.
        for kind in &channels.unreadable {
            let ended = self.store.fail_pending(*kind, Unreadable::REASON, now)?;
            if !ended.is_empty() {
                set::report(owner.env(), &site, *kind, Some(Unreadable::REASON)).await;
            }
            for (seq, target) in ended {
                let reason = self.ended_reason(seq, target, Unreadable::REASON)?;
                owner.settled(seq, target, Err(reason)).await;
            }
        }
        let mut work = Vec::new();
        for target in targets {
            if channels.get(target.channel()).is_some() {
                work.push(self.pump_target(owner, &site, &channels, target));
            } else if !channels.unreadable.contains(&target.channel()) {
                for seq in self.store.skip_pending(target, now)? {
                    let reason = self.ended_reason(seq, target, NOT_SET_UP)?;
                    owner.settled(seq, target, Err(reason)).await;
                }
            }
        }
        futures_util::future::join_all(work).await;
        Ok(())
    }

    /// Why row `seq` to `target`, ended without a send because of its channel (`reason`), is
    /// reported failed: an attempt a stopped instance began may have arrived, and then that
    /// is what it says (a channel's status may still settle it).
    fn ended_reason(&self, seq: i64, target: Target, reason: &'static str) -> Result<&'static str> {
        Ok(match self.store.attempted(seq, target)? {
            true => CUT_SHORT,
            false => reason,
        })
    }

    /// Sends one target's due rows in order; stops at the first that must wait.
    async fn pump_target(
        &self,
        owner: &impl Owner,
        site: &SiteKey,
        channels: &SiteChannels,
        target: Target,
    ) {
        let Some(channel) = channels.get(target.channel()) else {
            return;
        };
        for _ in 0..BATCH {
            let row = match self.store.next_pending(target) {
                Ok(Some(row)) if row.next_at <= http::now_ms() => row,
                Ok(_) => return,
                Err(e) => return worker::console_error!("outbox: {e}"),
            };
            let envelope = owner.envelope(row.seq, target, &channels.site_name);
            let once = owner.at_most_once(row.seq, target);
            let contact = match &envelope {
                Ok(Some(e)) => e.contact.as_ref().map(|c| c.address.as_str()),
                _ => None,
            };
            let earlier = match once {
                true => match self.earlier_attempt(row.seq, target, contact) {
                    Ok(earlier) => earlier,
                    Err(e) => return worker::console_error!("outbox: {e}"),
                },
                false => Earlier::None,
            };
            let cut_short = earlier == Earlier::CutShort;
            if once && earlier == Earlier::None {
                self.live.borrow_mut().push((row.seq, target));
            }
            let outcome = match &envelope {
                // Stopped after the channel's answer was recorded, before the row was.
                _ if earlier == Earlier::Arrived => Ok(()),
                _ if cut_short => Err(Failure::Rejected {
                    reason: CUT_SHORT.into(),
                }),
                Ok(Some(envelope)) => self.deliver(owner, channel, &row, target, envelope).await,
                Ok(None) => Err(Failure::Permanent {
                    reason: "the item to send is gone".into(),
                }),
                Err(e) => Err(Failure::internal(e)),
            };
            // An at-most-once send left unanswered may have arrived: never sent again.
            let unknown = cut_short || matches!(outcome, Err(Failure::Unanswered { .. }));
            let outcome = match outcome {
                Err(Failure::Unanswered { .. }) if once => Err(Failure::Rejected {
                    reason: UNANSWERED.into(),
                }),
                other => other,
            };
            let probe = matches!(
                envelope,
                Ok(Some(Envelope {
                    content: crate::channels::Content::Notice(_),
                    contact: None,
                    ..
                }))
            );
            let go_on = self
                .settle(
                    owner,
                    site,
                    target,
                    &row,
                    outcome.as_ref().map(|_| ()),
                    probe,
                )
                .await;
            if once {
                self.live.borrow_mut().retain(|a| *a != (row.seq, target));
                if !unknown {
                    if let Err(e) = self.store.end_attempt(row.seq, target) {
                        worker::console_error!("outbox: {e}");
                    }
                }
            }
            if !go_on {
                return;
            }
        }
    }

    /// What an earlier attempt at an at-most-once row to `contact` left; when there was
    /// none, this one is marked as under way.
    fn earlier_attempt(&self, seq: i64, target: Target, contact: Option<&str>) -> Result<Earlier> {
        if self.store.begin_attempt(seq, target, http::now_ms())? {
            return Ok(Earlier::None);
        }
        // The whole item, to the contact (not only some of its parts, `contact#part`).
        let arrived = match contact {
            Some(to) => self.store.ledger(seq, target).delivered(to)?,
            None => false,
        };
        Ok(if arrived {
            Earlier::Arrived
        } else {
            Earlier::CutShort
        })
    }

    /// One attempt at sending row `row`'s `envelope` to `target` through `channel`.
    async fn deliver(
        &self,
        owner: &impl Owner,
        channel: &crate::channels::set::Active,
        row: &Row,
        target: Target,
        envelope: &Envelope,
    ) -> std::result::Result<(), Failure> {
        let delivery = Delivery {
            target,
            envelope,
            fallback: row.fallback != 0,
            ledger: &self.store.ledger(row.seq, target),
            env: owner.env(),
            timeout_ms: crate::transport::timeout_ms(owner.env()),
        };
        channel.config.deliver(&delivery).await
    }

    /// Records an attempt's result on its row and the channel's health; whether the target's
    /// next row may go now.
    async fn settle(
        &self,
        owner: &impl Owner,
        site: &SiteKey,
        target: Target,
        row: &Row,
        outcome: std::result::Result<(), &Failure>,
        probe: bool,
    ) -> bool {
        let now = http::now_ms();
        let (next, health) = policy::decide(Attempt {
            outcome,
            attempts_before: row.attempts.max(0) as u32,
            now,
            jitter: js_sys::Math::random(),
            to_agents: matches!(target, Target::Agents(_)),
            probe,
        });
        let settled = match &next {
            Next::Sent => Some(Ok(())),
            Next::Failed { reason } | Next::GiveUp { reason } => Some(Err(reason.as_str())),
            Next::RetryAt { .. } => None,
        };
        let (written, go_on) = match &next {
            Next::Sent => (self.store.finish(row.seq, target, "sent", None, now), true),
            Next::Failed { reason } => (
                self.store
                    .finish(row.seq, target, "failed", Some(reason), now),
                true,
            ),
            Next::RetryAt {
                at,
                attempts,
                reason,
            } => (
                self.store
                    .retry_later(row.seq, target, *attempts, *at, reason),
                false,
            ),
            Next::GiveUp { reason } => (
                self.store
                    .finish(row.seq, target, "failed", Some(reason), now),
                true,
            ),
        };
        if let Err(e) = written {
            worker::console_error!("outbox: {e}");
            return false;
        }
        if let Some(outcome) = settled {
            owner.settled(row.seq, target, outcome).await;
        }
        match health {
            Health::Unchanged => {}
            Health::Ok => set::report(owner.env(), site, target.channel(), None).await,
            Health::Failing(reason) => {
                set::report(owner.env(), site, target.channel(), Some(&reason)).await
            }
        }
        go_on
    }
}
