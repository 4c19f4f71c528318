//! Inbound channel webhooks, `/hooks/{channel}/{site}`: verify over the raw body (Telegram's
//! secret token, Slack's `v0` signature and replay window, Meta's `X-Hub-Signature-256`),
//! then route each agent reply to its conversation — by the thread it was written in, never
//! by anything the sender claims — where it is stored once (the channel's event id is the
//! idempotency key) and reaches the visitor live. The answer waits for the routing (a D1
//! lookup and one Durable Object call, well inside Slack's 3 s): if it fails we answer 5xx
//! and the channel redelivers, so no reply is lost after we said "ok".
//!
//! Contacts write here too: a contact the business reached on their own WhatsApp, and anyone
//! writing to the site's Telegram bot in a private chat (who becomes a contact; their messages
//! open a conversation if none is going on).

use crate::channels::{self, slack, telegram, whatsapp, Inbound};
use crate::conversation::client::ConversationClient;
use crate::conversation::{ContactRoute, PostRequest, Principal, RelayStatus};
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::random;
use crate::storage::channels::{self as store, Channel};
use crate::storage::visitors;
use beckon_shared::limits::MAX_MESSAGE_CHARS;
use beckon_shared::proto::v1::{
    ChannelKind, ChannelSecrets, ChannelSettings, ContactChannel, ConversationOrigin, ErrorCode,
};
use beckon_shared::{ConversationId, SiteKey, VisitorId};
use worker::{Env, Request, Response};

/// The site's channel of this kind, or 403: a webhook for a channel the site has not set up
/// (or for another site) is refused before anything is read.
async fn channel(edge: &Edge, site: &SiteKey, kind: ChannelKind) -> Result<Channel> {
    let key = http::secret(&edge.env, "SECRETS_KEY")?;
    match store::get(&edge.db()?, site, kind, &key).await? {
        Some(c) if c.enabled => Ok(c),
        _ => Err(Error::new(
            ErrorCode::Forbidden,
            format!("{} is not set up for site {site}", kind.as_str()),
        )),
    }
}

fn unauthorized(what: &str) -> Error {
    Error::new(ErrorCode::InvalidToken, format!("{what} does not verify"))
}

fn ok() -> Result<Response> {
    http::text(200, "text/plain; charset=utf-8", "ok")
}

/// Stores an agent's reply in the conversation its thread belongs to (once per event).
async fn route(env: &Env, site: &SiteKey, kind: ChannelKind, inbound: Inbound) -> Result<()> {
    let db = env.d1("DB")?;
    let Some(conversation) = store::find_thread(&db, kind, site, &inbound.thread_key).await? else {
        worker::console_log!(
            "{} reply in an unknown thread of site {site}: ignored",
            kind.as_str()
        );
        return Ok(());
    };
    let body: String = inbound.text.chars().take(MAX_MESSAGE_CHARS).collect();
    if body.trim().is_empty() {
        return Ok(());
    }
    let post = PostRequest {
        principal: Principal::Agent {
            name: inbound.author,
            via: kind.as_str().into(),
        },
        body,
        client_msg_id: Some(channels::idempotency_key(kind.as_str(), &inbound.event_key)),
    };
    ConversationClient::new(env, &conversation)?
        .post(&post)
        .await?;
    Ok(())
}

/// Stores a contact's message as the visitor's, once per channel event.
async fn post_as_contact(
    env: &Env,
    site: &SiteKey,
    channel: ContactChannel,
    (visitor, conversation): (VisitorId, ConversationId),
    event_id: &str,
    text: &str,
) -> Result<()> {
    let key_prefix = match channel {
        ContactChannel::Whatsapp => "wa-contact",
        ContactChannel::Telegram => "tg-contact",
    };
    let post = PostRequest {
        principal: Principal::Visitor {
            site: site.clone(),
            visitor_id: visitor,
        },
        body: text.chars().take(MAX_MESSAGE_CHARS).collect(),
        client_msg_id: Some(channels::idempotency_key(key_prefix, event_id)),
    };
    ConversationClient::new(env, &conversation)?
        .post(&post)
        .await?;
    Ok(())
}

/// A message from a contact on their own WhatsApp: the visitor's message in the conversation
/// the business started with them (anything else from unknown numbers is ignored).
async fn whatsapp_contact(
    env: &Env,
    site: &SiteKey,
    from: &str,
    event_id: &str,
    text: &str,
) -> Result<()> {
    let db = env.d1("DB")?;
    let Some(thread) =
        visitors::find_contact_thread(&db, site, ContactChannel::Whatsapp, from).await?
    else {
        worker::console_log!("whatsapp message from a number that is neither an agent nor a contact of {site}: ignored");
        return Ok(());
    };
    post_as_contact(env, site, ContactChannel::Whatsapp, thread, event_id, text).await
}

/// Someone writing to the site's bot in a private chat: they are a contact from now on (the
/// business may write to them there); what they write goes to their conversation, opened
/// now if none is going on — under an id derived from the chat, so a redelivery or a second
/// message handled at the same time opens the same conversation, never a second one.
async fn telegram_contact(
    edge: &Edge,
    site: &SiteKey,
    ch: &Channel,
    m: telegram::PrivateMessage,
) -> Result<()> {
    let db = edge.db()?;
    let chat = m.chat_id.to_string();
    let new_id = random::visitor_id();
    let contact =
        visitors::telegram_contact(&db, site, &chat, (&m.name, &m.handle), &new_id, edge.now)
            .await?;
    if m.is_start && contact == new_id {
        if let Err(e) = welcome(edge, site, ch, m.chat_id).await {
            worker::console_error!("telegram welcome: {e}");
        }
    }
    let Some(text) = m.text else {
        return Ok(());
    };
    let thread =
        match visitors::find_contact_thread(&db, site, ContactChannel::Telegram, &chat).await? {
            Some(thread) => thread,
            None => {
                let route = ContactRoute {
                    channel: ContactChannel::Telegram,
                    address: chat,
                };
                let id = ConversationId::from_random(crate::auth::derive_id(
                    &edge.token_secret()?,
                    "telegram-contact-conversation",
                    &format!("{site}\n{chat}", chat = route.address),
                ));
                let origin = ConversationOrigin::Visitor;
                super::contacts::open(&edge.env, &db, site, &contact, &id, route, origin, edge.now)
                    .await?;
                (contact, id)
            }
        };
    post_as_contact(
        &edge.env,
        site,
        ContactChannel::Telegram,
        thread,
        &m.event_key,
        &text,
    )
    .await
}

/// Greets a new contact who pressed Start — once, after the answer to Telegram: a failed
/// greeting is logged and never makes Telegram redeliver the update.
async fn welcome(edge: &Edge, site: &SiteKey, ch: &Channel, chat: i64) -> Result<()> {
    let ChannelSecrets::Telegram { bot_token, .. } = &ch.secrets else {
        return Err(Error::internal("telegram secrets mismatch"));
    };
    let site_name = crate::storage::sites::get(&edge.db()?, site)
        .await?
        .map_or_else(|| site.to_string(), |s| s.name);
    let request = telegram::send_message(
        ch.settings.api_base(),
        bot_token,
        chat,
        None,
        &telegram::welcome_text(&site_name),
    );
    let timeout = crate::transport::timeout_ms(&edge.env);
    edge.ctx.wait_until(async move {
        let sent = crate::transport::send(&request, timeout).await;
        if let Err(f) = sent.and_then(|r| telegram::parse_sent(&r)) {
            worker::console_error!("telegram welcome: {}", f.reason());
        }
    });
    Ok(())
}

/// `POST /hooks/telegram/{site}`.
pub async fn telegram(mut req: Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    let ch = channel(edge, site, ChannelKind::Telegram).await?;
    let ChannelSecrets::Telegram { webhook_secret, .. } = &ch.secrets else {
        return Err(Error::internal("telegram secrets mismatch"));
    };
    if !telegram::verify(
        webhook_secret,
        req.headers()
            .get("x-telegram-bot-api-secret-token")?
            .as_deref(),
    ) {
        return Err(unauthorized("X-Telegram-Bot-Api-Secret-Token"));
    }
    let raw = req.bytes().await?;
    match telegram::parse_update(&raw) {
        Some(telegram::Event::AgentReply(inbound)) => {
            route(&edge.env, site, ChannelKind::Telegram, inbound).await?
        }
        Some(telegram::Event::Private(m)) => telegram_contact(edge, site, &ch, m).await?,
        None => {}
    }
    ok()
}

/// `POST /hooks/slack/{site}`: Events API.
pub async fn slack(mut req: Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    let ch = channel(edge, site, ChannelKind::Slack).await?;
    let ChannelSecrets::Slack { signing_secret, .. } = &ch.secrets else {
        return Err(Error::internal("slack secrets mismatch"));
    };
    let timestamp = req.headers().get("x-slack-request-timestamp")?;
    let signature = req.headers().get("x-slack-signature")?;
    let raw = req.bytes().await?;
    match slack::verify(
        signing_secret,
        timestamp.as_deref(),
        signature.as_deref(),
        &raw,
        edge.now / 1000,
    ) {
        Ok(()) => {}
        Err(slack::Reject::Stale) => {
            return Err(Error::new(
                ErrorCode::InvalidToken,
                "the request timestamp is outside the 5-minute window",
            ))
        }
        Err(_) => return Err(unauthorized("X-Slack-Signature")),
    }
    match slack::parse_event(&raw) {
        Some(slack::Event::UrlVerification { challenge }) => {
            http::text(200, "text/plain; charset=utf-8", challenge)
        }
        Some(slack::Event::Reply(inbound)) => {
            route(&edge.env, site, ChannelKind::Slack, inbound).await?;
            ok()
        }
        Some(slack::Event::Ignored) => ok(),
        None => Err(Error::bad_request("not an Events API payload")),
    }
}

/// `GET /hooks/whatsapp/{site}`: the subscription handshake.
pub async fn whatsapp_handshake(req: &Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    let ch = channel(edge, site, ChannelKind::Whatsapp).await?;
    let ChannelSecrets::Whatsapp { verify_token, .. } = &ch.secrets else {
        return Err(Error::internal("whatsapp secrets mismatch"));
    };
    let q = http::query(req)?;
    let get = |k: &str| q.get(k).map(String::as_str);
    match whatsapp::handshake(
        get("hub.mode"),
        get("hub.verify_token"),
        get("hub.challenge"),
        verify_token,
    ) {
        Some(challenge) => http::text(200, "text/plain; charset=utf-8", challenge),
        None => Err(Error::new(
            ErrorCode::Forbidden,
            "hub.verify_token does not match",
        )),
    }
}

/// `POST /hooks/whatsapp/{site}`: messages (agents' swipe-replies) and statuses.
pub async fn whatsapp(mut req: Request, edge: &Edge, site: &SiteKey) -> Result<Response> {
    let ch = channel(edge, site, ChannelKind::Whatsapp).await?;
    let ChannelSecrets::Whatsapp { app_secret, .. } = &ch.secrets else {
        return Err(Error::internal("whatsapp secrets mismatch"));
    };
    let ChannelSettings::Whatsapp { agent_numbers, .. } = &ch.settings else {
        return Err(Error::internal("whatsapp settings mismatch"));
    };
    let signature = req.headers().get("x-hub-signature-256")?;
    let raw = req.bytes().await?;
    if !whatsapp::verify(app_secret, signature.as_deref(), &raw) {
        return Err(unauthorized("X-Hub-Signature-256"));
    }
    let events = whatsapp::parse_webhook(&raw)
        .ok_or_else(|| Error::bad_request("not a WhatsApp webhook payload"))?;
    let (env, agents, now) = (&edge.env, agent_numbers, edge.now);
    let db = env.d1("DB")?;
    // Every event is handled even if one fails; then a failure answers 5xx so Meta
    // redelivers the batch (the event ids make the retry apply each reply once).
    let mut failure = None;
    for event in events {
        let handled: Result<()> = async {
            match event {
                whatsapp::Event::Message {
                    from,
                    id,
                    context_id,
                    text,
                    is_button,
                } => {
                    // Any message opens (refreshes) that number's 24-hour window.
                    store::touch_window(&db, site, &from, now).await?;
                    if !agents.contains(&from) {
                        // A contact the business reached on WhatsApp, answering.
                        if let Some(text) = text {
                            whatsapp_contact(env, site, &from, &id, &text).await?;
                        }
                        return Ok(());
                    }
                    if let (Some(context), Some(text), false) = (context_id, text, is_button) {
                        let inbound = Inbound {
                            thread_key: context,
                            event_key: id,
                            author: None,
                            text,
                        };
                        route(env, site, ChannelKind::Whatsapp, inbound).await?;
                    }
                }
                whatsapp::Event::Status {
                    id,
                    status,
                    error_code,
                } => {
                    if let Some(conversation) =
                        store::find_thread(&db, ChannelKind::Whatsapp, site, &id).await?
                    {
                        let report = RelayStatus {
                            remote_id: id,
                            status,
                            error_code,
                        };
                        ConversationClient::new(env, &conversation)?
                            .relay_status(&report)
                            .await?;
                    }
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = handled {
            worker::console_error!("whatsapp webhook event: {e}");
            failure = Some(e);
        }
    }
    match failure {
        Some(e) if e.status() >= 500 => Err(e),
        _ => ok(),
    }
}

/// Answers every webhook error in the channel's terms (a JSON body is fine for all three);
/// Slack is told not to retry refusals (but to retry our own failures).
pub fn refusal(kind: ChannelKind, e: &Error) -> worker::Result<Response> {
    let resp = http::error_response(e)?;
    if kind == ChannelKind::Slack && e.status() < 500 {
        resp.headers().set("x-slack-no-retry", "1")?;
    }
    Ok(resp)
}
