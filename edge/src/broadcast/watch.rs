//! The BroadcastWatch Durable Object: one per broadcast, its durable clock. While the
//! broadcast is scheduled or running, its alarm comes back every [`WATCH_MS`] (or at the
//! scheduled time) and queues a tick: a tick lost with a stopped runtime, or dropped after
//! its retries, never leaves a broadcast half sent. Extra ticks are harmless (recipients are
//! claimed before they are sent).
//!
//! It also watches the messages already posted: a conversation that has not reported how
//! far its broadcast message got within [`UNREPORTED_MS`] is woken (its alarm may have been
//! lost with a stopped runtime, and nothing else would come to it), until every one has
//! reported or a day has passed.

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

#[durable_object]
pub struct BroadcastWatch {
    state: State,
    env: Env,
}

impl DurableObject for BroadcastWatch {
    fn new(state: State, env: Env) -> Self {
        BroadcastWatch { state, env }
    }

    /// `POST /watch/{broadcast}`: (re)starts watching.
    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        let result: Result<Response> = async {
            let id = req
                .path()
                .strip_prefix("/watch/")
                .map(BroadcastId::parse)
                .transpose()?
                .ok_or_else(|| Error::internal("watch: no broadcast id"))?;
            self.state.storage().put("broadcast", id.as_str()).await?;
            self.arm(http::now_ms() + WATCH_MS).await?;
            Ok(Response::empty()?.with_status(204))
        }
        .await;
        result.or_else(|e| http::error_response(&e))
    }

    async fn alarm(&self) -> worker::Result<Response> {
        if let Err(e) = self.look().await {
            worker::console_error!("broadcast watch: {e}");
            self.arm(http::now_ms() + WATCH_MS).await.ok();
        }
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

    /// Queues a tick if the broadcast has work left, and comes back.
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
                send::enqueue(&self.env, &id, 0).await?;
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

    /// Wakes the conversations whose posted message has not been reported for a while;
    /// whether any posted message is still unreported.
    async fn wake_unreported(
        &self,
        db: &worker::D1Database,
        id: &BroadcastId,
        now: i64,
    ) -> Result<bool> {
        let waiting =
            broadcasts::unreported(db, id.as_str(), now - WAIT_AT_MOST_MS, WAKE_BATCH).await?;
        let late: Vec<_> = waiting
            .iter()
            .filter(|(_, since)| *since < now - UNREPORTED_MS)
            .collect();
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

/// Starts watching `broadcast` (at its creation, and when it is resumed).
pub async fn watch(env: &Env, broadcast: &BroadcastId) -> Result<()> {
    let stub = env
        .durable_object("BROADCAST_WATCH")?
        .id_from_name(broadcast.as_str())?
        .get_stub()?;
    let resp = stub
        .fetch_with_str(&format!("https://watch/watch/{broadcast}"))
        .await?;
    if resp.status_code() >= 300 {
        return Err(Error::internal(format!(
            "broadcast watch answered {}",
            resp.status_code()
        )));
    }
    Ok(())
}
