//! Telegram: one forum topic per conversation in the business's supergroup, where agents read
//! and answer; and contacts — people who started the site's bot — reached in their private
//! chat with it (a bot may write only to people who pressed Start).
//!
//! Delivery lifecycle: a conversation's first relay opens its topic (mapped for inbound
//! replies under [`api::thread_key`] before it is used) and carries the site and page; a
//! deleted topic is reopened once per attempt. A contact's private chat gets the business's
//! messages; a contact who blocked the bot fails that message only. Notices go to the
//! group's General topic (a test) or to the contact (a greeting), as they are.

pub mod api;
pub mod update;
mod webhook;

use super::{Delivery, Driver, Failure, Hook, Recipient, Target};
use crate::error::Result;
use beckon_shared::proto::v1::{TelegramSecrets, TelegramSettings};
use worker::{Request, Response};

/// A site's Telegram channel.
#[derive(Clone, Debug)]
pub struct Telegram {
    pub settings: TelegramSettings,
    pub secrets: TelegramSecrets,
}

impl Telegram {
    fn base(&self) -> &str {
        self.settings.api_base()
    }

    /// A conversation message into its topic, opening the topic first if need be.
    async fn to_topic(
        &self,
        d: &Delivery<'_>,
        m: &beckon_shared::proto::v1::Message,
    ) -> std::result::Result<(), Failure> {
        if d.delivered(Recipient::Destination)? {
            return Ok(());
        }
        let (base, token, chat) = (self.base(), &self.secrets.bot_token, self.settings.chat_id);
        let relay = d.relay(m);
        for _ in 0..2 {
            let (thread, first) = match d.thread()? {
                // The header goes with the first message that actually lands in the topic
                // (its first send may have failed after the topic was opened).
                Some(t) => (
                    t.parse::<i64>().map_err(|_| Failure::ThreadGone)?,
                    d.first_to(Recipient::Destination)?,
                ),
                None => {
                    let resp = d
                        .send(&api::create_topic(base, token, chat, &relay))
                        .await?;
                    let thread = api::parse_topic(&resp)?;
                    d.remember_thread(&thread.to_string(), &api::thread_key(chat, thread))
                        .await?;
                    (thread, true)
                }
            };
            let text = api::message_text(&relay, first);
            let resp = d
                .send(&api::send_message(base, token, chat, Some(thread), &text))
                .await?;
            match api::parse_sent(&resp) {
                Ok(id) => return d.record(Recipient::Destination, &id),
                Err(Failure::ThreadGone) => d.forget_thread()?,
                Err(f) => return Err(f),
            }
        }
        Err(Failure::ThreadGone)
    }

    /// The business's message, or a greeting, in a contact's private chat with the bot.
    async fn to_contact(&self, d: &Delivery<'_>) -> std::result::Result<(), Failure> {
        let address = d.contact_address()?;
        let to = Recipient::Address(address);
        if d.delivered(to)? {
            return Ok(());
        }
        let chat = address.parse::<i64>().map_err(|_| Failure::Permanent {
            reason: "not a telegram chat id".into(),
        })?;
        let text = match d.message() {
            Some(m) => api::contact_text(&d.envelope.site_name, m.author.as_deref(), &m.body),
            // A notice is formatted for `parse_mode: HTML` by whoever queued it.
            None => d.text().to_owned(),
        };
        let request = api::send_message(self.base(), &self.secrets.bot_token, chat, None, &text);
        let id = api::parse_sent_to_contact(&d.send(&request).await?)?;
        d.record(to, &id)
    }
}

impl Driver for Telegram {
    async fn deliver(&self, d: &Delivery<'_>) -> std::result::Result<(), Failure> {
        match (d.target, d.message()) {
            (Target::Agents(_), Some(m)) => self.to_topic(d, m).await,
            (Target::Agents(_), None) => {
                if d.delivered(Recipient::Destination)? {
                    return Ok(());
                }
                let request = api::send_test(
                    self.base(),
                    &self.secrets.bot_token,
                    self.settings.chat_id,
                    d.text(),
                );
                let id = api::parse_sent(&d.send(&request).await?)?;
                d.record(Recipient::Destination, &id)
            }
            (Target::Contact(_), _) => self.to_contact(d).await,
        }
    }

    async fn webhook(&self, req: Request, hook: &Hook<'_>) -> Result<Response> {
        webhook::handle(self, req, hook).await
    }
}
