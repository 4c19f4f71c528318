//! Outbound webhooks: every conversation event posted to the business's own endpoint, signed
//! per Standard Webhooks 1.0 (`webhook-id`, `webhook-timestamp`, `webhook-signature`) — a
//! `conversation.started` before a conversation's first message there, then one
//! `message.created` per message, its files as signed links. Delivered from the
//! conversation's durable outbox (retries with backoff, the endpoint's `Retry-After`
//! honoured, ids stable so consumers dedupe), each attempt written to the delivery log
//! ([`crate::storage::webhooks`]) that the inbox shows and replays. During a secret's
//! rotation both secrets sign. The endpoint may post replies back, signed the same way
//! ([`replies`]; the file other channels call `webhook.rs`).

pub mod api;
mod replies;

use super::{ApiRequest, Delivery, Driver, Failure, Hook, InboundFile, Recipient, Target};
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
        delivery: &WebhookDelivery,
    ) -> Result<WebhookDelivery> {
        let event = Event {
            id: &delivery.event_id,
            kind: &delivery.event_type,
            conversation: delivery.conversation_id.as_deref(),
            payload: &delivery.payload,
        };
        // Its failure is in the log line returned.
        let _ = self
            .post(env, site, &event, crate::transport::timeout_ms(env))
            .await;
        log::get(&env.d1("DB")?, site, &delivery.event_id)
            .await?
            .ok_or_else(|| Error::internal("a replayed delivery left no log line"))
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
        if let Target::Contact(_) = d.target {
            return Err(Failure::Permanent {
                reason: "webhooks cannot reach contacts".into(),
            });
        }
        if d.delivered(Recipient::Destination)? {
            return Ok(());
        }
        let site = d.envelope.site.as_str();
        let Some(m) = d.message() else {
            // A test: its id is new on every attempt (nothing to dedupe).
            let now = d.now();
            let id = crate::random::hex_id("evt_test_");
            let payload = api::test_event(site, d.text(), now);
            let event = Event {
                id: &id,
                kind: "test",
                conversation: None,
                payload: &payload,
            };
            self.deliver_event(d, &event).await?;
            return d.record(Recipient::Destination, &id);
        };
        let relay = d.relay(m);
        if d.thread()?.is_none() {
            let id = api::started_event_id(relay.conversation_id);
            let payload = api::started(site, &relay, m.created_at);
            let event = Event {
                id: &id,
                kind: "conversation.started",
                conversation: Some(relay.conversation_id),
                payload: &payload,
            };
            self.deliver_event(d, &event).await?;
            // The endpoint's replies name the conversation: it is theirs to answer from now.
            d.remember_thread(relay.conversation_id, relay.conversation_id)
                .await?;
        }
        let id = api::message_event_id(m.id.as_str());
        let payload = api::message_created(site, &relay, m.seq.0, m.created_at);
        let event = Event {
            id: &id,
            kind: "message.created",
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
        let request = ApiRequest::get(file.handle.clone(), None);
        crate::transport::download(&request, timeout_ms, max_bytes).await
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
