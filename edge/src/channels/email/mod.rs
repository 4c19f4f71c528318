//! Email: each conversation is one email thread to the business's support addresses, sent
//! through an HTTP email API ([`api`]: Resend's `POST /emails`); agents answer by replying.
//! Replies reach the Worker's `email` handler ([`inbound`]) at `reply+<conversation>.<tag>@`
//! the site's reply domain (or name one of our Message-IDs in `In-Reply-To`); the new text is
//! cut from the quoted history and signature ([`reply`]), auto-replies and bounces are
//! dropped, and files come along. Email cannot reach contacts yet.

pub mod api;
pub mod inbound;
pub mod reply;

use super::{Delivery, Driver, Failure, Hook, Recipient};
use crate::error::{Error, Result};
use beckon_shared::proto::v1::{EmailSecrets, EmailSettings, ErrorCode};
use worker::{Request, Response};

/// A site's email channel.
#[derive(Clone, Debug)]
pub struct Email {
    pub settings: EmailSettings,
    pub secrets: EmailSecrets,
}

impl Email {
    fn send(&self, d: &Delivery<'_>, mail: &api::Mail) -> crate::channels::ApiRequest {
        api::send(
            &self.settings,
            &self.secrets.api_key,
            &d.envelope.site_name,
            mail,
        )
    }
}

impl Driver for Email {
    async fn deliver(&self, d: &Delivery<'_>) -> std::result::Result<(), Failure> {
        if !d.destination_pending()? {
            return Ok(());
        }
        let domain = &self.settings.reply_domain;
        let Some(m) = d.message() else {
            let mail = api::Mail {
                subject: format!("Beckon test: {}", d.envelope.site_name),
                text: d.text().to_owned(),
                reply_to: self.settings.from.clone(),
                headers: vec![("Auto-Submitted", "auto-generated".into())],
                attachments: Vec::new(),
                idempotency_key: crate::random::hex_id("test-"),
            };
            let id = api::parse_sent(&d.send(&self.send(d, &mail)).await?)?;
            return d.record(Recipient::Destination, &id);
        };
        let conversation = d
            .envelope
            .conversation
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .ok_or(Failure::Permanent {
                reason: "email relays a conversation's messages only".into(),
            })?;
        let secret = crate::http::secret(d.env, "TOKEN_SECRET").map_err(Failure::internal)?;
        let tag = api::tag(&secret, &conversation);
        // The thread, as remembered: "<root Message-ID>|<the message that opened it>".
        let stored = d.thread()?;
        let (root, first) = match stored.as_deref().and_then(|t| t.split_once('|')) {
            Some((root, opener)) => (root.to_owned(), opener == m.id.as_str()),
            None => (api::message_id(&conversation, &tag, None, domain), true),
        };
        if stored.is_none() {
            // Mapped before the send: a reply can never arrive before its conversation is
            // findable, and a retry of this message is still the thread's first.
            let thread = format!("{root}|{}", m.id.as_str());
            d.remember_thread(&thread, &conversation).await?;
        }
        // Links fixed by the message's time: every attempt sends the same body, which the
        // idempotency key requires.
        let relay = d.relay_until(m, m.created_at + super::delivery::RELAY_LINK_TTL_MS);
        let (attached, linked) = api::split_files(&relay.files);
        let own_id = api::message_id(&conversation, &tag, Some(m.id.as_str()), domain);
        let mut headers = vec![
            ("Message-ID", if first { root.clone() } else { own_id }),
            ("Auto-Submitted", "auto-generated".to_owned()),
            ("X-Auto-Response-Suppress", "OOF, AutoReply".to_owned()),
            ("X-Beckon-Conversation", conversation.clone()),
        ];
        if !first {
            headers.push(("In-Reply-To", root.clone()));
            headers.push(("References", root.clone()));
        }
        let mail = api::Mail {
            subject: api::subject(&relay, first),
            text: api::text(&relay, &linked, first),
            reply_to: api::reply_address(&conversation, &tag, domain),
            headers,
            attachments: attached
                .iter()
                .filter_map(|f| Some((f.attachment.name.clone(), f.link.clone()?)))
                .collect(),
            idempotency_key: format!("{conversation}.{}", m.id.as_str()),
        };
        let id = api::parse_sent(&d.send(&self.send(d, &mail)).await?)?;
        d.record(Recipient::Destination, &id)
    }

    /// Email has no HTTP webhook: replies come through the Worker's email handler.
    async fn webhook(&self, _req: Request, _hook: &Hook<'_>) -> Result<Response> {
        Err(Error::new(
            ErrorCode::NotFound,
            "email replies arrive through Email Routing (the Worker's email handler), not a webhook",
        ))
    }
}
