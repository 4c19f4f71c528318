//! Telegram: one forum topic per conversation in the business's supergroup, where agents read
//! and answer; and contacts — people who started the site's bot — reached in their private
//! chat with it (a bot may write only to people who pressed Start).
//!
//! Delivery lifecycle: a conversation's first relay opens its topic (mapped for inbound
//! replies under [`api::thread_key`] before it is used) and carries the site and page; a
//! deleted topic is reopened once per attempt. A message's files go as photos, videos and
//! documents ([`media`]), each recorded in the ledger as it lands, so a retry sends only what
//! is missing. A contact's private chat gets the business's
//! messages; a contact who blocked the bot fails that message only. Notices go to the
//! group's General topic (a test) or to the contact (a greeting), as they are.

pub mod api;
pub mod media;
pub mod update;
mod webhook;

use super::{Delivery, Driver, Failure, Hook, InboundFile, Recipient, Target};
use crate::error::Result;
use crate::storage::broadcasts;
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
            let (head, chars) = api::topic_head(&relay, first);
            let steps = media::plan((&head, chars), relay.body, &relay.files);
            let to = (chat, Some(thread));
            match self
                .send_steps(d, Recipient::Destination, to, (steps, None))
                .await
            {
                Err(Failure::ThreadGone) => d.forget_thread()?,
                other => return other,
            }
        }
        Err(Failure::ThreadGone)
    }

    /// Makes a message's sends to `chat` (a topic if `thread`), each once, and records the
    /// message delivered to `to`. A file Telegram refuses goes as its fallback line alone.
    async fn send_steps(
        &self,
        d: &Delivery<'_>,
        to: Recipient<'_>,
        (chat, thread): (i64, Option<i64>),
        (steps, markup): (Vec<media::Step<'_>>, Option<serde_json::Value>),
    ) -> std::result::Result<(), Failure> {
        let (base, token) = (self.base(), self.secrets.bot_token.as_str());
        let contact = thread.is_none();
        let parse = |resp: &super::ApiResponse| match contact {
            true => api::parse_sent_to_contact(resp),
            false => api::parse_sent(resp),
        };
        let single = steps.len() == 1;
        let count = steps.len();
        let mut last = String::new();
        for (i, step) in steps.into_iter().enumerate() {
            if !single && d.part_delivered(to, &step.key)? {
                continue;
            }
            // A broadcast's buttons go under its last part.
            let markup = markup.as_ref().filter(|_| i + 1 == count);
            let id = match &step.send {
                media::Send::Text(text) => {
                    let request = api::send_message_with(base, token, (chat, thread), text, markup);
                    parse(&d.send(&request).await?)?
                }
                media::Send::File {
                    file,
                    caption,
                    fallback,
                } => {
                    // A broadcast's file Telegram holds already goes by its id; the first
                    // upload's id is kept for the other recipients.
                    let mark = d.envelope.broadcast.as_ref();
                    let by_id = mark.and_then(|b| b.telegram_file.as_deref());
                    let request = |by_id: Option<&str>| match by_id {
                        Some(id) => media::send_file_by_id(
                            (base, token),
                            (chat, thread),
                            (file, id),
                            (caption.as_deref(), markup),
                        ),
                        None => media::send_file(
                            (base, token),
                            (chat, thread),
                            file,
                            (caption.as_deref(), markup),
                        ),
                    };
                    let mut resp = d.send(&request(by_id)).await?;
                    let mut uploaded = by_id.is_none();
                    if by_id.is_some() && resp.status == 400 {
                        // An id Telegram no longer knows (the site changed its bot since):
                        // uploaded again, and that id kept instead.
                        resp = d.send(&request(None)).await?;
                        uploaded = true;
                    }
                    if let (Some(_), true, Some(id)) = (mark, uploaded, media::sent_file_id(&resp))
                    {
                        if let Ok(db) = d.db() {
                            let key = file.attachment.id.as_str();
                            let replace = by_id.is_some();
                            if let Err(e) =
                                broadcasts::set_telegram_file(&db, key, &id, replace).await
                            {
                                worker::console_warn!("telegram file_id not kept: {e}");
                            }
                        }
                    }
                    match parse(&resp) {
                        Err(Failure::Rejected { reason }) if !reason.contains("blocked") => {
                            worker::console_warn!(
                                "telegram refused a file ({reason}): sent as a link"
                            );
                            let text = api::send_message_with(
                                base,
                                token,
                                (chat, thread),
                                fallback,
                                markup,
                            );
                            parse(&d.send(&text).await?)?
                        }
                        other => other?,
                    }
                }
            };
            if !single {
                d.record_part(to, &step.key, &id)?;
            }
            last = id;
        }
        d.record(to, &last)
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
        d.broadcast_still_wanted().await?;
        match d.message() {
            Some(m) => {
                let relay = d.relay(m);
                let (head, chars) = api::contact_head(&d.envelope.site_name, m.author.as_deref());
                let steps = media::plan((&head, chars), &m.body, &relay.files);
                let markup = d
                    .envelope
                    .broadcast
                    .as_ref()
                    .and_then(|b| api::keyboard(&b.buttons));
                self.send_steps(d, to, (chat, None), (steps, markup)).await
            }
            // A notice is formatted for `parse_mode: HTML` by whoever queued it.
            None => {
                let request =
                    api::send_message(self.base(), &self.secrets.bot_token, chat, None, d.text());
                let id = api::parse_sent_to_contact(&d.send(&request).await?)?;
                d.record(to, &id)
            }
        }
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

    /// `getFile`, then the file itself (Telegram lets a bot download up to 20 MB).
    async fn download(
        &self,
        file: &InboundFile,
        max_bytes: u64,
        timeout_ms: u64,
    ) -> std::result::Result<Vec<u8>, Failure> {
        let (base, token) = (self.base(), &self.secrets.bot_token);
        let located = crate::transport::send(
            &media::get_file(base, token, &file.handle),
            timeout_ms,
            None,
        )
        .await?;
        let request = media::download(base, token, &located)?;
        crate::transport::download(
            &request,
            timeout_ms,
            max_bytes.min(media::MAX_DOWNLOAD_BYTES),
        )
        .await
    }
}
