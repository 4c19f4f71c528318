//! Beckon's edge: a Cloudflare Worker (workers-rs) that serves the widget's API and pages,
//! the admin API and the inbox's live feeds, with one Durable Object per conversation
//! ([`conversation::Conversation`]) and one per site for the inbox ([`site_hub::SiteHub`]).
//!
//! Layout: `routes/` (HTTP endpoints, one file per audience), `conversation/` (the DO: messages,
//! sockets), `outbox/` (durable, channel-agnostic sends with retries), `channels/<name>/`
//! (everything about one messaging app), `site_hub.rs` and `site_outbox.rs` (per-site DOs),
//! `storage/` (D1 tables), `auth.rs` (tokens, tickets, admin keys), `pages.rs` (rendered
//! HTML/JS), `http.rs` (request/response plumbing), `error.rs` (the one error type).

pub mod auth;
pub mod broadcast;
pub mod channels;
pub mod clock;
pub mod conversation;
pub mod error;
pub mod events;
pub mod http;
pub mod identity;
pub mod media;
pub mod outbox;
pub mod pages;
pub mod random;
pub mod rate_limit;
pub mod routes;
pub mod secrets;
pub mod site_cache;
pub mod site_hub;
pub mod site_outbox;
pub mod spreadsheet;
pub mod storage;
pub mod tickets;
pub mod transport;
pub mod turnstile;
pub mod visitor_client;

use worker::{event, Context, Env, Request, Response};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    routes::handle(req, env, ctx).await
}

/// Email Routing hands agents' email replies here ([`channels::email::inbound`]).
#[event(email)]
async fn email(
    message: worker::ForwardableEmailMessage,
    env: Env,
    ctx: Context,
) -> worker::Result<()> {
    channels::email::inbound::receive(message, env, ctx).await
}

/// The cron trigger (`wrangler.toml`'s `[triggers]`): broadcasts' watches that lost their
/// alarm are set again ([`broadcast::watch::sweep`]), and broadcasts whose store failed
/// half-way (and its undo too) an hour ago are taken away
/// ([`storage::broadcasts::forget_unfinished`]).
#[event(scheduled)]
async fn scheduled(_event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    if let Err(e) = broadcast::watch::sweep(&env).await {
        worker::console_error!("scheduled sweep: {e}");
    }
    let an_hour_ago = http::now_ms() - 3_600_000;
    let forgotten = match env.d1("DB") {
        Ok(db) => storage::broadcasts::forget_unfinished(&db, an_hour_ago).await,
        Err(e) => Err(e.into()),
    };
    match forgotten {
        Ok(0) => {}
        Ok(n) => worker::console_warn!("{n} broadcast(s) stored half-way taken away"),
        Err(e) => worker::console_error!("taking half-stored broadcasts away: {e}"),
    }
}

#[event(queue)]
async fn queue(
    batch: worker::MessageBatch<broadcast::send::Tick>,
    env: Env,
    _ctx: Context,
) -> worker::Result<()> {
    broadcast::send::consume(batch, &env).await
}
