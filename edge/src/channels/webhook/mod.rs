//! Outbound webhooks: every conversation event posted to the business's own endpoint, signed
//! per Standard Webhooks 1.0 (`webhook-id`, `webhook-timestamp`, `webhook-signature`) — a
//! `conversation.started` before a conversation's first message there, then one
//! `message.created` per message, its files as signed links; and the site's own events
//! (`contact.*`, `broadcast.*`, from the site's outbox: [`crate::site_outbox::event`]). Delivered from the
//! conversation's durable outbox (retries with backoff, the endpoint's `Retry-After`
//! honoured, ids stable so consumers dedupe), each attempt written to the delivery log
//! ([`crate::storage::webhooks`]) that the inbox shows and replays. During a secret's
//! rotation both secrets sign. The endpoint may post replies back, signed the same way
//! ([`replies`]; the file other channels call `webhook.rs`).

pub mod api;
mod replies;

use super::{Delivery, Driver, Failure, Hook, InboundFile, Recipient};
use crate::error::{Error, Result};
use crate::storage::webhooks::{self as log, Attempt};
use beckon_shared::proto::v1::{
    ChannelSettings, ErrorCode, WebhookDelivery, WebhookSecrets, WebhookSettings,
};
use beckon_shared::SiteKey;
use worker::{Env, Request, Response};

/// A site's webhook endpoint.
#[derive(Clone, Debug)]
pub struct Webhook {
    pub settings: WebhookSettings,
    pub secrets: WebhookSecrets,
}

/// One event about to be posted.
struct Event<'a> {
    id: &'a str,
    kind: &'a str,
    /// The endpoint's fingerprint ([`api::endpoint_id`]).
    endpoint: &'a str,
    conversation: Option<&'a str>,
    payload: &'a str,
}

impl Webhook {
    /// Posts `event` now (a fresh timestamp and signatures) and logs the attempt. The log is
    /// best effort: a delivered event is never sent again because its log line failed.
    async fn post(
        &self,
        env: &Env,
        site: &SiteKey,
        event: &Event<'_>,
        timeout_ms: u64,
    ) -> std::result::Result<(), Failure> {
        let now = crate::http::now_ms();
        let request = api::request(
            &self.settings.url,
            &self.secrets.signing_keys(now),
            event.id,
            now / 1000,
            event.payload.to_owned(),
        );
        let (outcome, status) = match crate::transport::send(&request, timeout_ms, None).await {
            Ok(resp) => (api::classify(&resp), Some(resp.status)),
            Err(f) => (Err(f), None),
        };
        let error = outcome.as_ref().err().map(Failure::reason);
        let attempt = Attempt {
            event_id: event.id,
            event_type: event.kind,
            endpoint: event.endpoint,
            conversation: event.conversation,
            payload: event.payload,
            response_status: status,
            error: error.as_deref(),
            now,
        };
        let logged = async { log::record(&env.d1("DB")?, site, &attempt).await }.await;
        if let Err(e) = logged {
            worker::console_error!("logging a webhook delivery failed: {e}");
        }
        if status == Some(410) {
            // Gone: the endpoint is turned off (Standard Webhooks), pending events with it.
            let reason = format!(
                "{} — webhooks were turned off; save the channel again to turn them on",
                error.as_deref().unwrap_or("HTTP 410")
            );
            let off = async {
                crate::storage::channels::disable(
                    &env.d1("DB")?,
                    site,
                    beckon_shared::proto::v1::ChannelKind::Webhook,
                    &reason,
                    now,
                )
                .await
            }
            .await;
            match off {
                Ok(()) => crate::channels::set::invalidate(site),
                Err(e) => worker::console_error!("turning webhooks off failed: {e}"),
            }
        }
        outcome
    }

    async fn deliver_event(
        &self,
        d: &Delivery<'_>,
        event: &Event<'_>,
    ) -> std::result::Result<(), Failure> {
        self.post(d.env, &d.envelope.site, event, d.timeout_ms)
            .await
    }

    /// Sends a logged event again under its id (a replay from the inbox), and returns its
    /// log line after the attempt.
    pub async fn replay(
        &self,
        env: &Env,
        site: &SiteKey,
        (delivery, endpoint): &(WebhookDelivery, String),
    ) -> Result<WebhookDelivery> {
        let here = api::endpoint_id(&self.settings.url);
        if *endpoint != here {
            return Err(Error::new(
                ErrorCode::Conflict,
                "this event was sent to another endpoint URL; it is not replayed to this one",
            ));
        }
        let event = Event {
            id: &delivery.event_id,
            kind: &delivery.event_type,
            endpoint: &here,
            conversation: delivery.conversation_id.as_deref(),
            payload: &delivery.payload,
        };
        // Its failure is in the log line returned.
        let outcome = self
            .post(env, site, &event, crate::transport::timeout_ms(env))
            .await;
        match log::get(&env.d1("DB")?, site, &delivery.event_id).await? {
            Some((after, _)) if after.updated_at >= delivery.updated_at => Ok(after),
            // The log line could not be written: say what happened anyway.
            _ => Err(match outcome {
                Ok(()) => {
                    Error::internal("the event was replayed but its log line was not written")
                }
                Err(f) => Error::internal(format!("the replay failed: {}", f.reason())),
            }),
        }
    }

    /// Whether the endpoint is on this machine (allowed only in development): files the
    /// business's system posts may then be there too.
    fn local(&self) -> bool {
        ChannelSettings::Webhook(self.settings.clone())
            .check_api_host(false)
            .is_err()
    }
}

impl Driver for Webhook {
    async fn deliver(&self, d: &Delivery<'_>) -> std::result::Result<(), Failure> {
        if !d.destination_pending()? {
            return Ok(());
        }
        let site = d.envelope.site.as_str();
        if let Some(e) = d.event() {
            let payload = api::site_event(site, e);
            let event = Event {
                id: &e.id,
                kind: &e.kind,
                endpoint: &api::endpoint_id(&self.settings.url),
                conversation: None,
                payload: &payload,
            };
            self.deliver_event(d, &event).await?;
            return d.record(Recipient::Destination, &e.id);
        }
        let Some(m) = d.message() else {
            // A test: its id is new on every attempt (nothing to dedupe).
            let now = d.now();
            let id = crate::random::hex_id("evt_test_");
            let payload = api::test_event(site, d.text(), now);
            let event = Event {
                id: &id,
                kind: "test",
                endpoint: &api::endpoint_id(&self.settings.url),
                conversation: None,
                payload: &payload,
            };
            self.deliver_event(d, &event).await?;
            return d.record(Recipient::Destination, &id);
        };
        // Links fixed by the message's time: every attempt and replay sends the same body.
        let relay = d.relay_until(m, m.created_at + super::delivery::RELAY_LINK_TTL_MS);
        let endpoint = api::endpoint_id(&self.settings.url);
        // The conversation's thread is this endpoint's: a new URL gets the conversation's
        // start, and only it can answer from then on.
        let thread = format!("{endpoint}:{}", relay.conversation_id);
        if d.thread()?.as_deref() != Some(thread.as_str()) {
            let id = api::started_event_id(relay.conversation_id);
            let payload = api::started(site, &relay, m.created_at);
            let event = Event {
                id: &id,
                kind: "conversation.started",
                endpoint: &endpoint,
                conversation: Some(relay.conversation_id),
                payload: &payload,
            };
            self.deliver_event(d, &event).await?;
            // The endpoint's replies name the conversation: it is theirs to answer from now.
            d.remember_thread(&thread, &thread).await?;
        }
        let id = api::message_event_id(m.id.as_str());
        let payload = api::message_created(site, &relay, m.seq.0, m.created_at);
        let event = Event {
            id: &id,
            kind: "message.created",
            endpoint: &endpoint,
            conversation: Some(relay.conversation_id),
            payload: &payload,
        };
        self.deliver_event(d, &event).await?;
        d.record(Recipient::Destination, &id)
    }

    /// Downloads a file a reply names: from a public https host (or, in development, the
    /// endpoint's own machine).
    async fn download(
        &self,
        file: &InboundFile,
        max_bytes: u64,
        timeout_ms: u64,
    ) -> std::result::Result<Vec<u8>, Failure> {
        let check = ChannelSettings::Webhook(WebhookSettings {
            url: file.handle.clone(),
        })
        .check_api_host(self.local());
        if check.is_err() {
            return Err(Failure::Rejected {
                reason: "a file must be on a public https host".into(),
            });
        }
        crate::transport::download_url(&file.handle, None, timeout_ms, max_bytes).await
    }

    async fn webhook(&self, req: Request, hook: &Hook<'_>) -> Result<Response> {
        replies::handle(self, req, hook).await
    }
}

/// The refusal when the site has no webhook endpoint set up.
pub fn not_set_up(site: &SiteKey) -> Error {
    Error::new(
        ErrorCode::NotFound,
        format!("webhooks are not set up for site {site}"),
    )
}
