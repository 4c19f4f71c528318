//! Messenger and Instagram: people who write to the site's Facebook Page or its linked
//! Instagram account become contacts, each with a conversation in the inbox; what the business
//! answers there goes back to them through the Send API — as a `RESPONSE` within 24 hours of
//! their last message, tagged `HUMAN_AGENT` within 7 days when a person answers (never for
//! automated messages), and not at all later (the message is marked failed with the reason).
//! A broadcast goes as an `UPDATE` within the 24 hours only, its link buttons as lines and
//! its reply buttons as quick replies. Files go as attachments Meta fetches from their signed
//! links; theirs are downloaded from Meta's CDN into the conversation. Messenger is not an
//! agents' channel (Meta lets a Page write only to people who wrote to it): its
//! conversations reach agents in the inbox and on the site's other channels.

pub mod api;
mod webhook;
pub mod window;

use super::{Delivery, Driver, Failure, Hook, InboundFile, Recipient, Target};
use crate::error::Result;
use api::{Addressee, Window};
use beckon_shared::proto::v1::{ContactChannel, MessengerSecrets, MessengerSettings, Role};
use worker::{Request, Response};

/// A site's Messenger (and Instagram) channel.
#[derive(Clone, Debug)]
pub struct Messenger {
    pub settings: MessengerSettings,
    pub secrets: MessengerSecrets,
}

impl Messenger {
    fn to<'a>(&'a self, channel: ContactChannel, address: &'a str) -> Addressee<'a> {
        Addressee {
            api_base: self.settings.api_base(),
            version: &self.settings.graph_version,
            page_id: &self.settings.page_id,
            token: &self.secrets.page_access_token,
            channel,
            to: address,
            proactive: false,
        }
    }

    /// A person's name from their profile, if Meta gives it.
    async fn name_of(&self, channel: ContactChannel, id: &str, hook: &Hook<'_>) -> Option<String> {
        let timeout = crate::transport::timeout_ms(&hook.edge.env);
        let request = api::profile(&self.to(channel, id));
        match crate::transport::send(&request, timeout, None).await {
            Ok(resp) => api::parse_profile(&resp),
            Err(f) => {
                worker::console_warn!("{} profile not read: {}", channel.as_str(), f.reason());
                None
            }
        }
    }

    /// Sends the request `build` makes for `window`. Refused for the window (Meta's clock saw
    /// the 24 hours end before ours), a person's answer goes again tagged `HUMAN_AGENT`;
    /// otherwise the refusal says Meta's rule.
    async fn send_in(
        &self,
        d: &Delivery<'_>,
        to: &Addressee<'_>,
        (window, human): (Window, bool),
        build: &dyn Fn(Window) -> crate::channels::ApiRequest,
    ) -> std::result::Result<String, Failure> {
        let outcome = match api::parse_sent(&d.send(&build(window)).await?, to.channel) {
            Err(Failure::NeedsTemplate) if window == Window::Standard && human => {
                api::parse_sent(&d.send(&build(Window::HumanAgent)).await?, to.channel)
            }
            other => other,
        };
        outcome.map_err(|f| match f {
            Failure::NeedsTemplate => Failure::Rejected {
                reason: Window::closed_reason(to.channel),
            },
            f => f,
        })
    }

    /// The business's message (or a notice) to the contact, inside the window that is open:
    /// the text first, then each file as an attachment (those the app does not take as one
    /// are linked in the text), each part recorded as it lands.
    async fn to_contact(&self, d: &Delivery<'_>) -> std::result::Result<(), Failure> {
        let contact = d.envelope.contact.as_ref().ok_or(Failure::Permanent {
            reason: "no contact address".into(),
        })?;
        let recipient = Recipient::Address(&contact.address);
        if d.delivered(recipient)? {
            return Ok(());
        }
        let db = d.db()?;
        let last = window::last_inbound(&db, &d.envelope.site, (contact.channel, &contact.address))
            .await
            .map_err(Failure::internal)?;
        // A person's answer (from the inbox or an agents' channel) may use the 7-day
        // HUMAN_AGENT window; automated messages (the API, webhooks, broadcasts, notices)
        // only 24 hours.
        let broadcast = d.envelope.broadcast.as_ref();
        let human = broadcast.is_none()
            && d.message().is_some_and(|m| {
                m.role == Role::Agent && !matches!(m.via.as_deref(), Some("api" | "webhook"))
            });
        d.broadcast_still_wanted().await?;
        let window = Window::at(last, d.now()).for_sender(human);
        if window == Window::Closed {
            return Err(Failure::Rejected {
                reason: Window::closed_reason(contact.channel),
            });
        }
        let to = Addressee {
            proactive: broadcast.is_some(),
            ..self.to(contact.channel, &contact.address)
        };
        let sender = (window, human);
        let buttons = broadcast.map_or(&[][..], |b| b.buttons.as_slice());
        let Some(m) = d.message() else {
            let id = self
                .send_in(d, &to, sender, &|w| api::send_text(&to, w, d.text()))
                .await?;
            return d.record(recipient, &id);
        };
        let relay = d.relay(m);
        let (attached, linked): (Vec<_>, Vec<_>) = relay
            .files
            .iter()
            .cloned()
            .partition(|f| api::attachment_type(to.channel, f).is_some());
        let text_relay = super::Relay {
            files: linked,
            ..relay.clone()
        };
        let prefix = m
            .author
            .as_deref()
            .map(|a| format!("{a}: "))
            .unwrap_or_default();
        let mut text = to.fit(&text_relay, prefix.chars().count());
        if !text.is_empty() {
            text.insert_str(0, &prefix);
        }
        let mut last_id = String::new();
        // A broadcast shows its files first, then the text with its buttons (quick replies
        // hang from the last message).
        let text_first = broadcast.is_none();
        if text_first && !text.is_empty() && !d.part_delivered(recipient, "text")? {
            let id = self
                .send_in(d, &to, sender, &|w| api::send_text(&to, w, &text))
                .await?;
            d.record_part(recipient, "text", &id)?;
            last_id = id;
        }
        for file in &attached {
            let key = format!("file:{}", file.attachment.id);
            if d.part_delivered(recipient, &key)? {
                continue;
            }
            let (Some(kind), Some(link)) = (api::attachment_type(to.channel, file), &file.link)
            else {
                continue;
            };
            let id = match self
                .send_in(d, &to, sender, &|w| api::send_file(&to, w, kind, link))
                .await
            {
                // Refused as an attachment (Meta could not fetch or take it): its line instead
                // (a window that closed meanwhile refuses that too, and says so).
                Err(Failure::Rejected { reason }) => {
                    worker::console_warn!(
                        "{} refused a file ({reason}): sent as a link",
                        to.channel.as_str()
                    );
                    self.send_in(d, &to, sender, &|w| api::send_text(&to, w, &file.line()))
                        .await?
                }
                other => other?,
            };
            d.record_part(recipient, &key, &id)?;
            last_id = id;
        }
        let has_link = buttons
            .iter()
            .any(|b| matches!(b.action, beckon_shared::rules::CtaAction::Link { .. }));
        if !text_first && (!text.is_empty() || has_link) && !d.part_delivered(recipient, "text")? {
            let id = self
                .send_in(d, &to, sender, &|w| {
                    api::send_with_buttons(&to, w, &text, buttons)
                })
                .await?;
            d.record_part(recipient, "text", &id)?;
            last_id = id;
        }
        d.record(recipient, &last_id)
    }
}

impl Driver for Messenger {
    const HANDSHAKE: bool = true;

    async fn deliver(&self, d: &Delivery<'_>) -> std::result::Result<(), Failure> {
        match d.target {
            Target::Contact(_) => self.to_contact(d).await,
            // No agents' side: the settings' test has nobody to reach.
            Target::Agents(_) => Err(Failure::Rejected {
                reason: "Messenger reaches the people who write to the Page; there is nobody to send a test to. Write to the Page to try it.".into(),
            }),
        }
    }

    async fn webhook(&self, req: Request, hook: &Hook<'_>) -> Result<Response> {
        webhook::handle(self, req, hook).await
    }

    /// A person's file, from Meta's CDN (its URL is signed by Meta; no token is sent).
    async fn download(
        &self,
        file: &InboundFile,
        max_bytes: u64,
        timeout_ms: u64,
    ) -> std::result::Result<Vec<u8>, Failure> {
        let api_host = super::api::url_host(self.settings.api_base());
        if !api::on_meta_cdn(&file.handle, api_host) {
            return Err(Failure::Rejected {
                reason: "not a file on Meta's CDN".into(),
            });
        }
        crate::transport::download_url(&file.handle, None, timeout_ms, max_bytes).await
    }
}
