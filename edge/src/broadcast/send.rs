//! Sending a broadcast, from the `BROADCASTS` queue: each message is a tick of one broadcast.
//! A tick claims up to [`BATCH`] due recipients, posts each one's message into their
//! conversation at the channel's pace, and queues the next tick — at once while recipients
//! are due, later for a local-time schedule, none when everyone was reached or stopped.
//!
//! Exactly once: a recipient's row is claimed before it is sent (a claim left by a stopped
//! runtime goes stale and is taken again), and their conversation stores the message once per
//! broadcast (`broadcast-<id>` as client message id), so a redelivered tick or a restart posts
//! nothing twice; the conversation's outbox then delivers it once, with the channel's retries.
//! A tick whose broadcast was paused or cancelled stops before its next few sends.

use super::plan;
use super::{client_msg_id, Mark, Stored, TemplateSend};
use crate::channels::ContactRoute;
use crate::clock::Clock;
use crate::conversation::client::ConversationClient;
use crate::conversation::{self, Opening, PostRequest, Principal};
use crate::error::{Error, Result};
use crate::http;
use crate::storage::broadcasts::{self, Claimed, Stage};
use crate::storage::{contacts, visitors};
use beckon_shared::proto::v1::{BroadcastChannel, ContactChannel, ConversationOrigin, ErrorCode};
use beckon_shared::{BroadcastId, ConversationId, SiteKey, VisitorId};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use worker::{Env, MessageBatch, MessageBuilder, MessageExt};

/// The queue binding.
pub const QUEUE: &str = "BROADCASTS";
/// Recipients per tick.
pub const BATCH: i64 = 50;
/// Recipients being sent at once.
const IN_FLIGHT: usize = 16;
/// The longest a queue message may be delayed (Queues' limit is 12 hours).
const MAX_DELAY_S: i64 = 12 * 3600;
/// When the only recipients left are claimed by a sender that may have stopped: look again
/// once their claim can be stale.
const STALE_RECHECK_S: i64 = 30;
/// How long after its delivery time a queued tick may be in starting before the watch queues
/// one in its place (of the same number: the two never both send, so this can be short).
const TICK_LATE_MS: i64 = 10_000;
/// How long a tick under way may take from one look to the next, beyond its paced sends
/// (their channels' answers, the batch's writes), before the watch takes it for lost.
const TICK_LOOK_MS: i64 = 60_000;

/// What became of one recipient, written with the rest of their batch.
pub enum Outcome {
    Posted {
        channel: String,
        address: String,
        conversation: ConversationId,
        stage: Stage,
    },
    Stopped {
        channel: String,
        address: String,
        stage: Stage,
        reason: &'static str,
    },
}

/// A queue message: work on this broadcast.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Tick {
    pub broadcast: BroadcastId,
    /// Its number ([`broadcasts::next_tick`]): a tick whose number is no longer the
    /// broadcast's stops. None in ticks queued before ticks were numbered: those run.
    #[serde(default)]
    pub gen: Option<i64>,
}

/// Sends per second a broadcast keeps to on each channel: Telegram allows a bot about 30
/// messages a second overall, WhatsApp's Cloud API 80 a second per number by default; the
/// widget is ours (a conversation object each); the email API (Resend) takes 2 requests a
/// second by default; Meta publishes no per-second figure for the Send API, so Messenger and
/// Instagram (one Page, one pace) keep to 20 together. `BROADCAST_RATES`
/// (`telegram=30,whatsapp=80,web=50,email=2,messenger=20`) overrides them.
fn rate(env: &Env, channel: BroadcastChannel) -> f64 {
    let default = match channel {
        BroadcastChannel::Telegram => 30.0,
        BroadcastChannel::Whatsapp => 80.0,
        BroadcastChannel::Web => 50.0,
        BroadcastChannel::Email => 2.0,
        BroadcastChannel::Messenger | BroadcastChannel::Instagram => 20.0,
    };
    env.var("BROADCAST_RATES")
        .ok()
        .map(|v| v.to_string())
        .and_then(|v| {
            v.split(',').find_map(|pair| {
                let (k, r) = pair.split_once('=')?;
                (k.trim() == channel.as_str())
                    .then(|| r.trim().parse::<f64>().ok())
                    .flatten()
            })
        })
        .filter(|r| *r > 0.0)
        .unwrap_or(default)
}

/// Queues a tick of `broadcast`, delivered after `delay_s` seconds, as its sender from now on
/// (a tick's successor, a new or resumed broadcast's first): it takes the next number, and a
/// tick with an older one stops at its next look.
pub async fn enqueue(env: &Env, broadcast: &BroadcastId, delay_s: i64) -> Result<()> {
    let delay_s = delay_s.clamp(0, MAX_DELAY_S);
    // By the clock of schedules: a test that moves it past the delivery time has the watch
    // queue one in its place at its next look, as it would once a real day had passed.
    let due = Clock::read(env).await?.now() + delay_s * 1000 + TICK_LATE_MS;
    let db = env.d1("DB")?;
    let Some(gen) = broadcasts::next_tick(&db, broadcast.as_str(), due).await? else {
        return Ok(());
    };
    let tick = Tick {
        broadcast: broadcast.clone(),
        gen: Some(gen),
    };
    let message = MessageBuilder::new(tick)
        .delay_seconds(delay_s as u32)
        .build();
    env.queue(QUEUE)?.send(message).await?;
    Ok(())
}

/// Queues a tick of `broadcast` in place of its tick `gen`, which is overdue: lost with a
/// stopped runtime, dropped after its retries — or only late, behind other broadcasts' ticks.
/// It has the same number: whichever of the two comes first sends (and queues the successor),
/// and the other then stops at its start. The watch waits [`TICK_LATE_MS`] before another.
pub async fn rescue(env: &Env, broadcast: &BroadcastId, gen: i64) -> Result<()> {
    let due = Clock::read(env).await?.now() + TICK_LATE_MS;
    let db = env.d1("DB")?;
    if broadcasts::tick_holds(&db, broadcast.as_str(), gen, due)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let tick = Tick {
        broadcast: broadcast.clone(),
        gen: Some(gen),
    };
    env.queue(QUEUE)?
        .send(MessageBuilder::new(tick).build())
        .await?;
    Ok(())
}

/// The queue consumer: each tick is acknowledged once done, retried by the queue if it
/// failed (sending is idempotent). A message that is not a tick is logged and dropped alone
/// (a batch whose handler ends well acknowledges what it left).
pub async fn consume(batch: MessageBatch<Tick>, env: &Env) -> worker::Result<()> {
    for message in batch.iter() {
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                worker::console_error!("broadcast queue: not a tick, dropped: {e}");
                continue;
            }
        };
        match tick(env, message.body()).await {
            Ok(()) => message.ack(),
            Err(e) => {
                worker::console_error!("broadcast {}: {e}", message.body().broadcast);
                message.retry();
            }
        }
    }
    Ok(())
}

/// How long a tick may take to look in again after starting to send `chunk`: its paced sends
/// at the slowest of their channels' paces, and [`TICK_LOOK_MS`] for the rest.
fn looks_within(env: &Env, chunk: &[Claimed]) -> i64 {
    let slowest = chunk
        .iter()
        .filter_map(|r| BroadcastChannel::parse(&r.channel))
        .map(|c| rate(env, c))
        .fold(f64::INFINITY, f64::min);
    let paced = match slowest.is_finite() {
        true => chunk.len() as f64 * 1000.0 / slowest,
        false => 0.0,
    };
    TICK_LOOK_MS + paced as i64
}

/// Paces sends per channel: each send takes the channel's next slot.
struct Pacer {
    next: [f64; BroadcastChannel::ALL.len()],
}

impl Pacer {
    /// Reserves the channel's next slot; how long to wait for it.
    fn slot(&mut self, env: &Env, channel: BroadcastChannel) -> Option<Duration> {
        // Messenger and Instagram go through one Page: one pace.
        let channel = match channel {
            BroadcastChannel::Instagram => BroadcastChannel::Messenger,
            c => c,
        };
        let i = channel as usize;
        let now = js_sys::Date::now();
        let at = self.next[i].max(now);
        self.next[i] = at + 1000.0 / rate(env, channel);
        (at > now).then(|| Duration::from_millis((at - now) as u64))
    }
}

async fn tick(env: &Env, tick: &Tick) -> Result<()> {
    let id = &tick.broadcast;
    let db = env.d1("DB")?;
    let Some(row) = broadcasts::by_id(&db, id.as_str()).await? else {
        return Ok(());
    };
    let clock = Clock::read(env).await?;
    let now = clock.now();
    if let Some(gen) = tick.gen {
        // Another tick is the sender (this one's successor, queued by the one of its number
        // that came first, or a resume's): nothing to do. Otherwise it is under way.
        let due = now + TICK_LOOK_MS;
        if broadcasts::tick_holds(&db, id.as_str(), gen, due)
            .await?
            .is_none()
        {
            return Ok(());
        }
    }
    match row.status.as_str() {
        "scheduled" if now >= row.send_at => {
            if broadcasts::set_status(&db, id.as_str(), &["scheduled"], "running", now).await? {
                let site = SiteKey::parse(&row.site_key)?;
                let named = (id.as_str(), row.name.as_str());
                crate::events::broadcast_changed(env, &site, named, "started", now).await;
            }
        }
        "scheduled" => return enqueue(env, id, (row.send_at - now + 999) / 1000).await,
        "running" => {}
        // Paused, cancelled or done: nothing to send (resuming queues a new tick).
        _ => return Ok(()),
    }
    // The watch is what finds a tick lost, and a conversation that owes a report: its alarm
    // must not have been lost with a stopped runtime.
    if let Err(e) = super::watch::ensure(env, id).await {
        worker::console_error!("broadcast {id}: its watch: {e}");
    }
    let site = SiteKey::parse(&row.site_key)?;
    let stored: Stored = serde_json::from_str(&row.spec).map_err(Error::internal)?;
    let mut claimed = broadcasts::claim(&db, id.as_str(), now, BATCH).await?;
    let full_batch = claimed.len() as i64 == BATCH;
    // Quiet hours hold at the moment of sending too (after a pause, a late tick, a long run
    // into the evening): whoever is inside theirs now waits until they end.
    if let Some(q) = &stored.input.schedule.quiet_hours {
        if let (Some(from), Some(to)) = (
            plan::parse_local_time(&q.from),
            plan::parse_local_time(&q.to),
        ) {
            let ids: Vec<&str> = claimed.iter().map(|r| r.contact_id.as_str()).collect();
            let zones = broadcasts::zones(&db, &ids).await?;
            let later: Vec<(String, String, i64)> = claimed
                .iter()
                .filter_map(|r| {
                    let due = plan::after_quiet(
                        now,
                        (from, to),
                        zones.get(&r.contact_id).map(String::as_str),
                    );
                    (due > now).then(|| (r.channel.clone(), r.address.clone(), due))
                })
                .collect();
            let refs: Vec<(&str, &str, i64)> = later
                .iter()
                .map(|(c, a, d)| (c.as_str(), a.as_str(), *d))
                .collect();
            broadcasts::defer(&db, id.as_str(), &refs).await?;
            claimed.retain(|r| {
                !later
                    .iter()
                    .any(|(c, a, _)| *c == r.channel && *a == r.address)
            });
        }
    }
    let pacer = std::cell::RefCell::new(Pacer {
        next: [0.0; BroadcastChannel::ALL.len()],
    });
    // The file goes to Telegram once: to the first Telegram recipient alone, then by the
    // file_id Telegram gave it (kept by the driver).
    let file = stored.files.first().map(|f| f.id.to_string());
    let mut telegram_file = match &file {
        Some(f) => broadcasts::telegram_file(&db, f).await?,
        None => None,
    };
    let first_telegram = claimed.iter().position(|r| r.channel == "telegram");
    let mut chunks: Vec<&[Claimed]> = Vec::new();
    match first_telegram {
        Some(i) if file.is_some() && telegram_file.is_none() => {
            claimed.swap(0, i);
            chunks.push(&claimed[..1]);
            chunks.extend(claimed[1..].chunks(IN_FLIGHT));
        }
        _ => chunks.extend(claimed.chunks(IN_FLIGHT)),
    }
    // A few sends in flight, each answered once its channel took it: the pace never outruns
    // what the channels (and the runtime) actually deliver.
    for chunk in chunks {
        // Paused or cancelled meanwhile: stop here (a pause gives the rest back at once).
        // Another tick made the sender meanwhile (a resume's): stop here too, and give back
        // what this one claimed and did not send.
        let status = match tick.gen {
            Some(gen) => {
                let due = clock.now() + looks_within(env, chunk);
                let held = broadcasts::tick_holds(&db, id.as_str(), gen, due).await?;
                let Some(status) = held else {
                    return broadcasts::release(&db, id.as_str(), Some(now)).await;
                };
                Some(status)
            }
            None => broadcasts::by_id(&db, id.as_str()).await?.map(|r| r.status),
        };
        if status.as_deref() != Some("running") {
            if status.as_deref() == Some("paused") {
                broadcasts::release(&db, id.as_str(), None).await?;
            }
            return Ok(());
        }
        // "STOP" since the broadcast was planned: honoured from that moment.
        let recipients: Vec<(&str, &str, &str)> = chunk
            .iter()
            .map(|r| {
                (
                    r.contact_id.as_str(),
                    r.channel.as_str(),
                    r.address.as_str(),
                )
            })
            .collect();
        let stopped = contacts::opted_out_among(&db, &site, &recipients).await?;
        let now = clock.now();
        let sends = chunk.iter().filter_map(|r| {
            let channel = BroadcastChannel::parse(&r.channel)?;
            if stopped.contains(&r.contact_id) {
                return None;
            }
            let pacer = &pacer;
            let stored = &stored;
            let site = &site;
            let telegram_file = telegram_file.as_deref();
            Some(async move {
                let wait = pacer.borrow_mut().slot(env, channel);
                if let Some(d) = wait {
                    worker::Delay::from(d).await;
                }
                match send_one(env, (id, site, stored), channel, r, telegram_file).await {
                    Ok(done) => Some(done),
                    Err(Error::Client { code, .. }) if refused_for_good(code) => {
                        Some(Outcome::Stopped {
                            channel: r.channel.clone(),
                            address: r.address.clone(),
                            stage: Stage::Failed,
                            reason: code.describe(),
                        })
                    }
                    Err(e) => {
                        // Left claimed: taken again once the claim is stale.
                        worker::console_error!(
                            "broadcast {id} to {} {}: {e}",
                            r.channel,
                            r.address
                        );
                        None
                    }
                }
            })
        });
        let done: Vec<Outcome> = futures_util::future::join_all(sends)
            .await
            .into_iter()
            .flatten()
            .collect();
        let stops: Vec<Outcome> = chunk
            .iter()
            .filter(|r| stopped.contains(&r.contact_id))
            .map(|r| Outcome::Stopped {
                channel: r.channel.clone(),
                address: r.address.clone(),
                stage: Stage::OptedOut,
                reason: "opted out",
            })
            .collect();
        broadcasts::record(&db, id.as_str(), done.iter().chain(&stops), now).await?;
        if let (Some(f), None, true) = (
            &file,
            &telegram_file,
            chunk.iter().any(|r| r.channel == "telegram"),
        ) {
            telegram_file = broadcasts::telegram_file(&db, f).await?;
        }
    }
    if full_batch {
        return enqueue(env, id, 0).await;
    }
    let now = clock.now();
    match broadcasts::next_due(&db, id.as_str()).await? {
        None => {
            if broadcasts::set_status(&db, id.as_str(), &["running"], "done", now).await? {
                let named = (id.as_str(), row.name.as_str());
                crate::events::broadcast_changed(env, &site, named, "finished", now).await;
            }
            Ok(())
        }
        Some(due) if due <= now => enqueue(env, id, STALE_RECHECK_S).await,
        Some(due) => enqueue(env, id, (due - now + 999) / 1000).await,
    }
}

/// Whether a recipient's message was refused for what it is (its text, filled in for them, too
/// long or empty; a file too large) or where it went (a conversation deleted): taken again, it
/// would be refused again, and the broadcast would never end. Failed, with the refusal's
/// sentence as the reason; the rest go on.
fn refused_for_good(code: ErrorCode) -> bool {
    code == ErrorCode::ConversationNotFound
        || matches!(crate::error::status_of(code), 400 | 413 | 415)
}

/// Posts one recipient's message into their conversation; what to record for them.
async fn send_one(
    env: &Env,
    (id, site, stored): (&BroadcastId, &SiteKey, &Stored),
    channel: BroadcastChannel,
    r: &Claimed,
    telegram_file: Option<&str>,
) -> Result<Outcome> {
    let db = env.d1("DB")?;
    let contact = VisitorId::parse(&r.contact_id)?;
    let conversation = match channel {
        BroadcastChannel::Web => match visitors::widget_conversation(&db, site, &contact).await? {
            Some(c) => c,
            None => {
                return Ok(Outcome::Stopped {
                    channel: r.channel.clone(),
                    address: r.address.clone(),
                    stage: Stage::Failed,
                    reason: "their conversation in the widget was deleted",
                })
            }
        },
        other => {
            let app = other
                .contact()
                .ok_or_else(|| Error::internal("a broadcast channel without an app"))?;
            // A Telegram chat or a Meta account is the contact's own identity; a number or an
            // address gets its own, never a browser's that merely claimed it.
            let owner = match other {
                BroadcastChannel::Whatsapp | BroadcastChannel::Email => None,
                _ => Some(&contact),
            };
            contact_conversation(env, (site, id), app, &r.address, owner).await?
        }
    };
    let template = match channel {
        BroadcastChannel::Whatsapp => {
            let t = stored
                .input
                .whatsapp_template
                .as_ref()
                .ok_or_else(|| Error::internal("a WhatsApp broadcast without its template"))?;
            Some(TemplateSend {
                name: t.name.clone(),
                language: t.language.clone(),
                parameters: serde_json::from_str(&r.parameters).map_err(Error::internal)?,
                header: stored.whatsapp_header.clone(),
            })
        }
        _ => None,
    };
    let post = PostRequest {
        principal: Principal::system("broadcast", None),
        body: r.body.clone(),
        client_msg_id: Some(client_msg_id(id)),
        attachments: Vec::new(),
        files: stored.files.clone(),
        broadcast: Some(Mark {
            broadcast: id.to_string(),
            channel,
            address: r.address.clone(),
            contact: Some(r.contact_id.clone()),
            template,
            buttons: stored.input.buttons.clone(),
            telegram_file: telegram_file
                .filter(|_| channel == BroadcastChannel::Telegram)
                .map(str::to_owned),
        }),
        relay_first: true,
    };
    ConversationClient::new(env, &conversation)?
        .post(&post)
        .await?;
    // The widget's message is there once stored; a channel's is sent by the outbox, which
    // reports back.
    Ok(Outcome::Posted {
        channel: r.channel.clone(),
        address: r.address.clone(),
        conversation,
        stage: match channel {
            BroadcastChannel::Web => Stage::Sent,
            _ => Stage::Queued,
        },
    })
}

/// The conversation held on a contact's own chat: the one their messages go to, else a new
/// one (started by `broadcast`) under the id every opener of that chat agrees on, owned by
/// `owner` (or by a new identity of the address).
async fn contact_conversation(
    env: &Env,
    (site, broadcast): (&SiteKey, &BroadcastId),
    channel: ContactChannel,
    address: &str,
    owner: Option<&VisitorId>,
) -> Result<ConversationId> {
    let db = env.d1("DB")?;
    if let Some((_, conversation)) =
        visitors::find_contact_thread(&db, site, channel, address).await?
    {
        return Ok(conversation);
    }
    let owner = match owner {
        Some(o) => o.clone(),
        None => visitors::create(&db, site, http::now_ms()).await?,
    };
    let route = ContactRoute {
        channel,
        address: address.to_owned(),
    };
    let id = conversation::contact_conversation_id(env, site, &route)?;
    conversation::open(
        env,
        Opening {
            id: Some(id.clone()),
            origin: ConversationOrigin::Broadcast {
                broadcast_id: broadcast.to_string(),
            },
            contact: Some(route),
            coalesce_index: true,
            ..Opening::new(site.clone(), owner, http::now_ms())
        },
    )
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_of_the_message_itself_fails_the_recipient_and_the_rest_are_taken_again() {
        for code in [
            ErrorCode::EmptyMessage,
            ErrorCode::MessageTooLong,
            ErrorCode::InvalidText,
            ErrorCode::BadRequest,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedFile,
            ErrorCode::ConversationNotFound,
        ] {
            assert!(refused_for_good(code), "{code:?}");
        }
        for code in [
            ErrorCode::Internal,
            ErrorCode::RateLimited,
            ErrorCode::Conflict,
            ErrorCode::Unknown,
        ] {
            assert!(!refused_for_good(code), "{code:?}");
        }
    }
}
