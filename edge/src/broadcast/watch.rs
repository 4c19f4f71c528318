//! The BroadcastWatch Durable Object: one per broadcast, its durable clock. While the
//! broadcast is scheduled or running, its alarm comes back every [`WATCH_MS`] (or at the
//! scheduled time) and, if the broadcast's tick is overdue (`tick_due`), queues one in its
//! place ([`send::rescue`]): a tick lost with a stopped runtime, or dropped after its retries,
//! never leaves a broadcast half sent. Only then: a tick on time is not doubled, so a
//! broadcast waiting hours for its recipients' local times keeps one tick in the queue, not
//! one more per look. A runtime stopped at the wrong moment can lose the watch's own alarm
//! too: every tick of a running broadcast sets it again if so ([`ensure`]), and so does the
//! Worker's cron trigger ([`sweep`]) for every broadcast running, due to start or owed
//! reports — the one that lost it after its last tick included.
//!
//! It also watches the messages already posted: a conversation that has not reported how
//! far its broadcast message got within [`UNREPORTED_MS`] is woken (its alarm may have been
//! lost with a stopped runtime, and nothing else would come to it), [`WAKE_BATCH`] per look
//! in turn, until every one has reported or a day has passed.

use super::send;
use crate::clock::Clock;
use crate::conversation::client::ConversationClient;
use crate::error::{Error, Result};
use crate::http;
use crate::storage::broadcasts;
use beckon_shared::BroadcastId;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

/// How often a running broadcast is looked at.
const WATCH_MS: i64 = 30_000;
/// A posted message not reported for this long gets its conversation woken.
const UNREPORTED_MS: i64 = 60_000;
/// Conversations woken per look.
const WAKE_BATCH: i64 = 50;
/// Messages posted longer ago than this are no longer waited for.
const WAIT_AT_MOST_MS: i64 = 24 * 3600 * 1000;
/// Watches the cron trigger makes sure of per look.
const SWEEP_AT_MOST: i64 = 200;
/// Watches the cron trigger calls at a time.
const SWEEP_AT_ONCE: usize = 10;
/// Storage key: where the last look's batch of conversations to wake ended, `(since,
/// conversation)` (the next one goes on from there), if it was full.
const WOKEN_TO: &str = "woken_to";

#[durable_object]
pub struct BroadcastWatch {
    state: State,
    env: Env,
    /// While its alarm runs: `getAlarm` answers none then, and the look sets it again itself.
    looking: std::cell::Cell<bool>,
}

impl DurableObject for BroadcastWatch {
    fn new(state: State, env: Env) -> Self {
        BroadcastWatch {
            state,
            env,
            looking: std::cell::Cell::new(false),
        }
    }

    /// `POST /watch/{broadcast}`: (re)starts watching. `POST /ensure/{broadcast}`: the same,
    /// unless the alarm is already set.
    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        let result: Result<Response> = async {
            let path = req.path();
            let (id, restart) = match (path.strip_prefix("/watch/"), path.strip_prefix("/ensure/"))
            {
                (Some(id), _) => (id, true),
                (_, Some(id)) => (id, false),
                _ => return Err(Error::internal("watch: no broadcast id")),
            };
            let id = BroadcastId::parse(id)?;
            if !restart && self.looking.get() {
                return Ok(Response::empty()?.with_status(204));
            }
            let now = http::now_ms();
            let set = self.state.storage().get_alarm().await?;
            let lost = set.is_none_or(|at| at < now - crate::outbox::LOST_ALARM_MS);
            if lost && !restart {
                worker::console_warn!("broadcast {id}: its watch had lost its alarm, set again");
            }
            if restart || lost {
                self.state.storage().put("broadcast", id.as_str()).await?;
                self.arm(now + WATCH_MS).await?;
            }
            Ok(Response::empty()?.with_status(204))
        }
        .await;
        result.or_else(|e| http::error_response(&e))
    }

    async fn alarm(&self) -> worker::Result<Response> {
        self.looking.set(true);
        if let Err(e) = self.look().await {
            worker::console_error!("broadcast watch: {e}");
            self.arm(http::now_ms() + WATCH_MS).await.ok();
        }
        self.looking.set(false);
        Response::empty()
    }
}

impl BroadcastWatch {
    async fn arm(&self, at: i64) -> Result<()> {
        self.state
            .storage()
            .set_alarm(crate::outbox::alarm_at(at))
            .await?;
        Ok(())
    }

    /// Queues a tick if the broadcast has work left, wakes conversations that owe a report,
    /// and comes back while either is so.
    async fn look(&self) -> Result<()> {
        let Some(id) = self.state.storage().get::<String>("broadcast").await? else {
            return Ok(());
        };
        let id = BroadcastId::parse(&id)?;
        let db = self.env.d1("DB")?;
        let Some(row) = broadcasts::by_id(&db, id.as_str()).await? else {
            return Ok(());
        };
        let clock = Clock::read(&self.env).await?;
        let now = clock.now();
        let sending = match row.status.as_str() {
            "scheduled" if row.send_at > now => return self.arm(clock.real(row.send_at)).await,
            "scheduled" | "running" => {
                // Its tick is overdue: lost with a stopped runtime, dropped after its retries,
                // or late behind other ticks. One in its place, of its number: whichever of
                // the two comes first sends.
                if row.tick_due < now {
                    send::rescue(&self.env, &id, row.tick_gen).await?;
                }
                true
            }
            // Paused (resuming watches again), cancelled or done.
            _ => false,
        };
        let waiting = self.wake_unreported(&db, &id, now).await?;
        match sending || waiting {
            true => self.arm(http::now_ms() + WATCH_MS).await,
            false => Ok(()),
        }
    }

    /// Wakes the next [`WAKE_BATCH`] conversations whose posted message has not been
    /// reported for a while (after those of the last look, if its batch was full); whether
    /// any posted message is still unreported.
    async fn wake_unreported(
        &self,
        db: &worker::D1Database,
        id: &BroadcastId,
        now: i64,
    ) -> Result<bool> {
        let storage = self.state.storage();
        let oldest = now - WAIT_AT_MOST_MS;
        let after: Option<(i64, String)> = storage.get(WOKEN_TO).await?;
        let cursor = after.as_ref().map(|(since, c)| (*since, c.as_str()));
        let mut waiting =
            broadcasts::unreported(db, id.as_str(), oldest, cursor, WAKE_BATCH).await?;
        if waiting.is_empty() && after.is_some() {
            // Past the last of them: from the oldest again.
            waiting = broadcasts::unreported(db, id.as_str(), oldest, None, WAKE_BATCH).await?;
        }
        let late: Vec<_> = waiting
            .iter()
            .filter(|(_, since)| *since < now - UNREPORTED_MS)
            .collect();
        match (late.len() as i64 == WAKE_BATCH, late.last()) {
            (true, Some((c, since))) => storage.put(WOKEN_TO, (*since, c.as_str())).await?,
            _ => storage.delete(WOKEN_TO).await.map(|_| ())?,
        }
        if !late.is_empty() {
            worker::console_warn!(
                "broadcast {id}: not reported for a minute, woken: {} conversation(s)",
                late.len()
            );
        }
        let late = late.into_iter().map(|(conversation, _)| async move {
            let woken = match ConversationClient::new(&self.env, conversation) {
                Ok(c) => c.wake().await,
                Err(e) => Err(e),
            };
            if let Err(e) = woken {
                worker::console_error!("waking {conversation}: {e}");
            }
        });
        futures_util::future::join_all(late).await;
        Ok(!waiting.is_empty())
    }
}

/// The cron trigger's look (`wrangler.toml`'s `[triggers]`): every broadcast running, due
/// to start, or owed a report has its watch's alarm set again if it was lost (none set
/// while the watch is not looking, or more than 10 s overdue). Nothing else comes to a watch
/// that lost its alarm after the broadcast's last tick. At most [`SWEEP_AT_MOST`] watches
/// per look, [`SWEEP_AT_ONCE`] at a time (each is a subrequest); a random choice of them if
/// there are more.
pub async fn sweep(env: &Env) -> Result<()> {
    use futures_util::StreamExt;
    let now = Clock::read(env).await?.now();
    let ids =
        broadcasts::watched(&env.d1("DB")?, now, now - WAIT_AT_MOST_MS, SWEEP_AT_MOST).await?;
    futures_util::stream::iter(ids)
        .for_each_concurrent(SWEEP_AT_ONCE, |id| async move {
            if let Err(e) = ensure(env, &id).await {
                worker::console_error!("watching broadcast {id}: {e}");
            }
        })
        .await;
    Ok(())
}

/// Starts watching `broadcast` (at its creation, and when it is resumed).
pub async fn watch(env: &Env, broadcast: &BroadcastId) -> Result<()> {
    call(env, broadcast, "watch").await
}

/// Makes sure `broadcast` is watched: its watch's alarm set again if it was lost.
pub async fn ensure(env: &Env, broadcast: &BroadcastId) -> Result<()> {
    call(env, broadcast, "ensure").await
}

async fn call(env: &Env, broadcast: &BroadcastId, what: &str) -> Result<()> {
    let stub = env
        .durable_object("BROADCAST_WATCH")?
        .id_from_name(broadcast.as_str())?
        .get_stub()?;
    let resp = stub
        .fetch_with_str(&format!("https://watch/{what}/{broadcast}"))
        .await?;
    if resp.status_code() >= 300 {
        return Err(Error::internal(format!(
            "broadcast watch answered {}",
            resp.status_code()
        )));
    }
    Ok(())
}
