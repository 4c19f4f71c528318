//! `/hooks/whatsapp/{site}`: the subscription handshake (`GET`, `hub.verify_token`) and
//! events (`POST`, signed with `X-Hub-Signature-256` over the raw body): agents'
//! swipe-replies, contacts' answers, and delivery statuses of our messages. Every event of a
//! batch is handled even if one fails; then a failure on our side answers 5xx so Meta
//! redelivers the batch (the event ids make the retry apply each message once), and a batch
//! with only refused events (4xx: a retry would not help) answers 200.

use super::{api, numbers, window, Whatsapp};
use crate::channels::inbound::unauthorized;
use crate::channels::{meta, ContactRoute, Hook, Inbound};
use crate::conversation::StatusReport;
use crate::error::{Error, Result};
use crate::outbox::policy::DeliveryStatus;
use beckon_shared::proto::v1::{ContactChannel, ErrorCode};
use worker::{Method, Request, Response};

/// Namespace of contacts' message ids (their idempotency keys).
const CONTACT_EVENTS: &str = "wa-contact";

pub(super) async fn handle(ch: &Whatsapp, mut req: Request, hook: &Hook<'_>) -> Result<Response> {
    if req.method() == Method::Get {
        return meta::subscription(&req, &ch.secrets.verify_token);
    }
    let signature = req.headers().get("x-hub-signature-256")?;
    let raw = hook.read_body(&mut req).await?;
    if !meta::verify(&ch.secrets.app_secret, signature.as_deref(), &raw) {
        return Err(unauthorized("X-Hub-Signature-256"));
    }
    let payload = api::parse_webhook(&raw)
        .ok_or_else(|| Error::bad_request("not a WhatsApp webhook payload"))?;
    // The app may serve several business numbers: this site's hook takes only its own.
    if let Some(other) = payload.foreign_number(&ch.settings.phone_number_id) {
        return Err(Error::new(
            ErrorCode::Forbidden,
            format!("this payload is for phone number id {other:?}, not this site's"),
        ));
    }
    let mut answer = meta::BatchAnswer::default();
    for event in payload.events {
        if let Err(e) = handle_event(ch, hook, event).await {
            answer.failed("whatsapp webhook event", e);
        }
    }
    answer.answer()
}

async fn handle_event(ch: &Whatsapp, hook: &Hook<'_>, event: api::Event) -> Result<()> {
    match event {
        api::Event::Message {
            from,
            id,
            context_id,
            text,
            is_button,
            files,
            sent_at,
        } => {
            let agent = numbers::forms(&from)
                .iter()
                .find(|f| ch.settings.agent_numbers.contains(f))
                .cloned();
            // A contact is known by the form of their number the site has.
            let from = match agent {
                Some(agent) => agent,
                None => numbers::known_form(hook, from).await?,
            };
            // Any message opens (refreshes) that number's 24-hour window, from when it was
            // sent: a payload replayed later cannot reopen a window that has closed.
            let at = sent_at.map_or(hook.now(), |t| t.min(hook.now()));
            window::touch(&hook.db()?, hook.site, &from, at).await?;
            if !ch.settings.agent_numbers.contains(&from) {
                // A contact the business reached on WhatsApp, answering; other numbers are
                // neither agents nor contacts of this site.
                let route = ContactRoute {
                    channel: ContactChannel::Whatsapp,
                    address: from,
                };
                if let Some(text) = &text {
                    // STOP holds for every form of the number the site may have.
                    let others: Vec<String> =
                        numbers::forms(&route.address).into_iter().skip(1).collect();
                    hook.consent_keyword((&route, &others), &id, text, str::to_owned)
                        .await?;
                }
                let Some(thread) = hook.contact_thread(&route).await? else {
                    return Ok(());
                };
                let text = text.unwrap_or_default();
                return hook
                    .contact_message(thread, (CONTACT_EVENTS, &id), &text, (&files, ch))
                    .await;
            }
            let said = text.is_some() || !files.is_empty();
            if let (Some(context), true, false) = (context_id, said, is_button) {
                let inbound = Inbound {
                    thread_key: context,
                    event_key: id,
                    author: None,
                    text: text.unwrap_or_default(),
                    files,
                };
                hook.agent_reply(inbound, ch).await?;
            }
            Ok(())
        }
        api::Event::Status {
            id,
            status,
            error_code,
            recipient,
            at,
        } => {
            let Some(status) = DeliveryStatus::parse(&status) else {
                return Ok(());
            };
            // A free-form send refused for the window after the fact: resend as the template.
            let fallback = (status == DeliveryStatus::Failed
                && error_code == Some(api::RE_ENGAGEMENT))
            .then(|| {
                "free-form refused outside the 24-hour window (131047); resending as template"
                    .to_owned()
            });
            let to = match recipient {
                Some(wa_id) => Some(ContactRoute {
                    channel: ContactChannel::Whatsapp,
                    address: numbers::known_form(hook, wa_id).await?,
                }),
                None => None,
            };
            hook.delivery_status(StatusReport {
                remote_id: id,
                status,
                fallback,
                to,
                // Meta stamps every status; without it, when we heard of it (it came no
                // earlier than the send, and it bounds how long ago that may have been).
                at: Some(at.unwrap_or(hook.now())),
            })
            .await
        }
    }
}
