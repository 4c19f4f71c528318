//! `/hooks/messenger/{site}`: the subscription handshake (`GET`, `hub.verify_token`) and
//! events (`POST`, `X-Hub-Signature-256` over the raw body) for the Page (`object: page`) and
//! its Instagram account (`object: instagram`). Each person who writes becomes a contact; what
//! they write (text and files) goes to their conversation, opened now if none is going on,
//! under an id derived from their address, so a redelivery or two messages handled at once
//! open one conversation. Events for another Page or account are left alone. Every event of
//! a batch is handled even if one fails; then a failure on our side answers 5xx so Meta
//! redelivers the batch (message ids apply each one once); one with only refused events (4xx)
//! answers 200.

use super::{api, window, Messenger};
use crate::channels::inbound::unauthorized;
use crate::channels::{meta, ContactRoute, Hook};
use crate::error::{Error, Result};
use crate::storage::visitors;
use beckon_shared::proto::v1::ContactChannel;
use worker::{Method, Request, Response};

pub(super) async fn handle(ch: &Messenger, mut req: Request, hook: &Hook<'_>) -> Result<Response> {
    if req.method() == Method::Get {
        return meta::subscription(&req, &ch.secrets.verify_token);
    }
    let signature = req.headers().get("x-hub-signature-256")?;
    let raw = hook.read_body(&mut req).await?;
    if !meta::verify(&ch.secrets.app_secret, signature.as_deref(), &raw) {
        return Err(unauthorized("X-Hub-Signature-256"));
    }
    let events = api::parse_webhook(&raw)
        .ok_or_else(|| Error::bad_request("not a Messenger or Instagram webhook payload"))?;
    // One Meta app has one callback for all its Pages: this site's hook takes its own
    // Page's and account's events and leaves the others (acknowledged, or Meta would
    // redeliver the batch and in the end switch the subscription off).
    let (events, others): (Vec<_>, Vec<_>) = events.into_iter().partition(|e| ours(ch, e));
    for other in others {
        worker::console_warn!(
            "messenger webhook: an event for {} account {} is not this site's",
            other.channel.as_str(),
            other.account
        );
    }
    let mut answer = meta::BatchAnswer::default();
    for event in events {
        if let Err(e) = person_wrote(ch, hook, event).await {
            answer.failed("messenger webhook event", e);
        }
    }
    answer.answer()
}

/// Whether the event was sent to this site's Page or Instagram account.
fn ours(ch: &Messenger, e: &api::Incoming) -> bool {
    match e.channel {
        ContactChannel::Instagram => ch.settings.instagram_id.as_deref() == Some(&e.account),
        _ => e.account == ch.settings.page_id,
    }
}

/// Namespace of people's message ids (their idempotency keys).
fn events_prefix(channel: ContactChannel) -> &'static str {
    match channel {
        ContactChannel::Instagram => "ig-contact",
        _ => "fb-contact",
    }
}

async fn person_wrote(ch: &Messenger, hook: &Hook<'_>, e: api::Incoming) -> Result<()> {
    let db = hook.db()?;
    // Any message opens (refreshes) their windows, from when it was sent: a payload replayed
    // later cannot reopen a window that has closed.
    let at = e.sent_at.map_or(hook.now(), |t| t.min(hook.now()));
    window::touch(&db, hook.site, (e.channel, &e.from), at).await?;
    // Shares, story mentions, deleted or unsupported messages: nothing to post.
    if e.text.is_none() && e.files.is_empty() {
        return Ok(());
    }
    let route = ContactRoute {
        channel: e.channel,
        address: e.from.clone(),
    };
    // "STOP" (or "START"): broadcasts on this app stop (or resume), confirmed to them.
    if let Some(text) = &e.text {
        hook.consent_keyword((&route, &[]), &e.mid, text, str::to_owned)
            .await?;
    }
    let thread = hook.contact_thread(&route).await?;
    // Their name, when a conversation begins (a failure only leaves it unnamed).
    let name = match thread {
        Some(_) => None,
        None => ch.name_of(e.channel, &e.from, hook).await,
    };
    let new_id = crate::random::visitor_id();
    let contact = visitors::meta_contact(
        &db,
        hook.site,
        (e.channel, &e.from),
        name.as_deref(),
        &new_id,
        hook.now(),
    )
    .await?;
    let thread = match thread {
        Some(thread) => thread,
        None => (
            contact.clone(),
            hook.open_for_contact(&contact, route).await?,
        ),
    };
    let text = e.text.unwrap_or_default();
    hook.contact_message(
        thread,
        (events_prefix(e.channel), &e.mid),
        &text,
        (&e.files, ch),
    )
    .await
}
