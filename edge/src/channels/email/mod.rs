//! Email: each conversation is one email thread to the business's support addresses, sent
//! through an HTTP email API ([`api`]: Resend's `POST /emails`); agents answer by replying.
//! Replies reach the Worker's `email` handler ([`inbound`]) at `reply+<conversation>.<tag>@`
//! the site's reply domain (or name one of our Message-IDs in `In-Reply-To`); the new text is
//! cut from the quoted history and signature ([`reply`]), auto-replies and bounces are
//! dropped, and files come along.
//!
//! Email also reaches contacts at their own address — a visitor who left it while nobody was
//! online (their conversation's messages go there while no tab of theirs is open), someone
//! the business writes to first — each conversation one thread to them, whose reply address
//! is bound to their address; their replies come back into the conversation as theirs.

pub mod api;
pub mod inbound;
pub mod reply;

use super::{Delivery, Driver, Failure, Hook, Recipient, Target};
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

/// The idempotency key of a notice: made from where it goes and what it says.
fn notice_key(address: &str, text: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{address}\n{text}").as_bytes());
    format!("notice-{}", hex::encode(&digest[..16]))
}

impl Email {
    /// The link that unsubscribes `address` from the site's email broadcasts.
    fn unsubscribe_link(
        &self,
        d: &Delivery<'_>,
        address: &str,
    ) -> std::result::Result<String, Failure> {
        let origin = d
            .env
            .var("PUBLIC_ORIGIN")
            .map(|v| v.to_string())
            .map_err(|_| Failure::Permanent {
                reason: "email broadcasts need PUBLIC_ORIGIN (their unsubscribe link)".into(),
            })?;
        let secret = crate::http::secret(d.env, "TOKEN_SECRET").map_err(Failure::internal)?;
        let token = crate::auth::unsubscribe_token(&secret, &d.envelope.site, address);
        Ok(format!(
            "{}/unsubscribe/{token}",
            origin.trim_end_matches('/')
        ))
    }

    /// The business's message (or a notice) to a contact at their address.
    async fn to_contact(&self, d: &Delivery<'_>) -> std::result::Result<(), Failure> {
        let address = d.contact_address()?.to_owned();
        // A broadcast's email is recorded apart: the conversation's own thread to them starts
        // with its first conversation email, not with a broadcast.
        let ledger_key = match d.envelope.broadcast {
            Some(_) => format!("broadcast:{address}"),
            None => address.clone(),
        };
        let recipient = Recipient::Address(&ledger_key);
        if d.delivered(recipient)? {
            return Ok(());
        }
        d.broadcast_still_wanted().await?;
        let site_name = &d.envelope.site_name;
        let (Some(m), Some(conversation)) = (d.message(), &d.envelope.conversation) else {
            // A notice of ours (a confirmation): one email, not answerable.
            let mail = api::Mail {
                to: vec![address.clone()],
                subject: site_name.clone(),
                text: d.text().to_owned(),
                reply_to: self.settings.from.clone(),
                headers: vec![("Auto-Submitted", "auto-generated".into())],
                attachments: Vec::new(),
                // The same notice to the same address within the API's day is sent once.
                idempotency_key: notice_key(&address, d.text()),
            };
            let id = api::parse_sent(&d.send(&self.send(d, &mail)).await?)?;
            return d.record(recipient, &id);
        };
        let conversation = conversation.as_str();
        let domain = &self.settings.reply_domain;
        let secret = crate::http::secret(d.env, "TOKEN_SECRET").map_err(Failure::internal)?;
        let tag = api::tag(&secret, conversation, api::Side::Contact(&address));
        // Their thread: rooted at a Message-ID made from the conversation and their tag, so
        // it needs no memory beyond whether they got an email of it before.
        let root = api::message_id(conversation, &tag, None, domain);
        let own_id = api::message_id(conversation, &tag, Some(m.id.as_str()), domain);
        let relay = d.relay_until(m, m.created_at + super::delivery::RELAY_LINK_TTL_MS);
        let (attached, linked) = api::split_files(&relay.files);
        let mut text = api::contact_text(&relay, &linked);
        let (subject, headers) = match &d.envelope.broadcast {
            // A broadcast: a message of its own, with the one-click unsubscribe (RFC 8058)
            // every bulk sender needs — not sent without it.
            Some(_) => {
                let link = self.unsubscribe_link(d, &address)?;
                text.push_str(&api::unsubscribe_footer(site_name, &link));
                let headers = vec![
                    ("Message-ID", own_id),
                    ("List-Unsubscribe", format!("<{link}>")),
                    (
                        "List-Unsubscribe-Post",
                        "List-Unsubscribe=One-Click".to_owned(),
                    ),
                ];
                (api::broadcast_subject(site_name, &m.body), headers)
            }
            None => {
                let first = d.first_to(recipient)?;
                let mut headers = vec![("Message-ID", if first { root.clone() } else { own_id })];
                if !first {
                    headers.push(("In-Reply-To", root.clone()));
                    headers.push(("References", root));
                }
                (api::contact_subject(site_name, first), headers)
            }
        };
        let mail = api::Mail {
            to: vec![address.clone()],
            subject,
            text,
            reply_to: api::reply_address(conversation, &tag, domain),
            headers,
            attachments: api::by_link(&attached),
            idempotency_key: format!("{conversation}.{}.{tag}", m.id.as_str()),
        };
        let id = api::parse_sent(&d.send(&self.send(d, &mail)).await?)?;
        d.record(recipient, &id)
    }
}

impl Driver for Email {
    async fn deliver(&self, d: &Delivery<'_>) -> std::result::Result<(), Failure> {
        if let Target::Contact(_) = d.target {
            return self.to_contact(d).await;
        }
        if !d.destination_pending()? {
            return Ok(());
        }
        let domain = &self.settings.reply_domain;
        let Some(m) = d.message() else {
            let mail = api::Mail {
                to: self.settings.to.clone(),
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
        let tag = api::tag(&secret, &conversation, api::Side::Agents);
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
            to: self.settings.to.clone(),
            subject: api::subject(&relay, first),
            text: api::text(&relay, &linked, first),
            reply_to: api::reply_address(&conversation, &tag, domain),
            headers,
            attachments: api::by_link(&attached),
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
