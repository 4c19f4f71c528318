//! `POST /hooks/telegram/{site}`: updates authenticated by `X-Telegram-Bot-Api-Secret-Token`.
//! An agent's message in a conversation's topic goes to that conversation; someone writing to
//! the bot in a private chat becomes a contact (greeted once when they press Start), and what
//! they write goes to their conversation — opened now if none is going on, under an id derived
//! from the chat, so a redelivery or a second message handled at the same time opens the same
//! conversation, never a second one.

use super::{api, update, Telegram};
use crate::channels::inbound::{ok, unauthorized};
use crate::channels::{ContactRoute, Hook};
use crate::error::Result;
use crate::storage::visitors;
use beckon_shared::proto::v1::ContactChannel;
use worker::{Request, Response};

/// Namespace of contacts' message ids (their idempotency keys).
const CONTACT_EVENTS: &str = "tg-contact";

pub(super) async fn handle(ch: &Telegram, mut req: Request, hook: &Hook<'_>) -> Result<Response> {
    let token = req.headers().get("x-telegram-bot-api-secret-token")?;
    if !update::verify(&ch.secrets.webhook_secret, token.as_deref()) {
        return Err(unauthorized("X-Telegram-Bot-Api-Secret-Token"));
    }
    let raw = hook.read_body(&mut req).await?;
    let handled = match update::parse_update(&raw) {
        Some(update::Event::AgentReply(inbound)) => hook.agent_reply(inbound, ch).await,
        Some(update::Event::Private(m)) => contact(ch, hook, m).await,
        None => Ok(()),
    };
    if let Some(id) = update::callback_id(&raw) {
        // Only the button's spinner depends on it: a failure changes nothing else.
        let answer = api::answer_callback(ch.settings.api_base(), &ch.secrets.bot_token, &id);
        let timeout = crate::transport::timeout_ms(&hook.edge.env);
        let _ = crate::transport::send(&answer, timeout, None).await;
    }
    handled?;
    ok()
}

/// A private chat with the bot: the person is a contact from now on.
async fn contact(ch: &Telegram, hook: &Hook<'_>, m: update::PrivateMessage) -> Result<()> {
    let db = hook.db()?;
    let chat = m.chat_id.to_string();
    let new_id = crate::random::visitor_id();
    let contact = visitors::telegram_contact(
        &db,
        hook.site,
        &chat,
        (&m.name, &m.handle),
        &new_id,
        hook.now(),
    )
    .await?;
    let route = ContactRoute {
        channel: ContactChannel::Telegram,
        address: chat,
    };
    if m.is_start {
        // Once per chat: the site's outbox keeps one greeting per contact address.
        let greeting = api::welcome_text(&hook.site_name().await?);
        hook.greet(&route, greeting).await?;
    }
    let Some(text) = m.text else {
        return Ok(());
    };
    hook.consent_keyword((&route, &[]), &m.event_key, &text, api::escape_html)
        .await?;
    let thread = match hook.contact_thread(&route).await? {
        Some(thread) => thread,
        None => (
            contact.clone(),
            hook.open_for_contact(&contact, route.clone()).await?,
        ),
    };
    hook.contact_message(thread, (CONTACT_EVENTS, &m.event_key), &text, (&[], ch))
        .await
}
