//! WhatsApp: relays go to the business's agent numbers from the site's business number —
//! free-form text inside a number's 24-hour window, the approved template outside it (and when
//! a free-form send is refused for the window, at once or later by a `failed` status). Agents
//! answer by swipe-replying: every wamid we send is mapped to its conversation. Contacts the
//! business writes to first get the same treatment on their own number.

pub mod api;
mod webhook;
mod window;

use super::{Delivery, Driver, Failure, Hook, Recipient, Target};
use crate::error::Result;
use api::Addressee;
use beckon_shared::proto::v1::{WhatsappSecrets, WhatsappSettings};
use worker::{Request, Response};

/// A site's WhatsApp channel.
#[derive(Clone, Debug)]
pub struct Whatsapp {
    pub settings: WhatsappSettings,
    pub secrets: WhatsappSecrets,
}

impl Whatsapp {
    fn to<'a>(&'a self, number: &'a str) -> Addressee<'a> {
        Addressee {
            api_base: self.settings.api_base(),
            version: &self.settings.graph_version,
            phone_number_id: &self.settings.phone_number_id,
            access_token: &self.secrets.access_token,
            to: number,
        }
    }

    /// The approved template, `{{1}}` the site, `{{2}}` the text; the quick-reply payload
    /// names the conversation.
    fn template(&self, d: &Delivery<'_>, to: &Addressee<'_>, text: &str) -> super::ApiRequest {
        let conversation = d
            .envelope
            .conversation
            .as_ref()
            .map_or("test", |c| c.as_str());
        api::send_template(
            to,
            &self.settings.template_name,
            &self.settings.template_language,
            &d.envelope.site_name,
            text,
            conversation,
        )
    }

    /// One message to one number: free-form `text` inside the number's 24-hour window (unless
    /// the row asks for its fallback form), else the template; a 131047 inside the window
    /// falls back to the template at once. The wamid is mapped to the conversation (statuses,
    /// swipe-replies) *before* the delivery is recorded: a recorded delivery is never sent or
    /// mapped again, so it must be routable by then.
    async fn send(
        &self,
        d: &Delivery<'_>,
        to: &Addressee<'_>,
        text: &str,
        template_text: &str,
    ) -> std::result::Result<(), Failure> {
        let db = d.db()?;
        let last_inbound = window::last_inbound(&db, &d.envelope.site, to.to)
            .await
            .map_err(Failure::internal)?;
        let in_window = !d.fallback && api::window_open(last_inbound, d.now());
        let request = if in_window {
            api::send_text(to, text)
        } else {
            self.template(d, to, template_text)
        };
        let wamid = match api::parse_sent(&d.send(&request).await?) {
            Err(Failure::NeedsTemplate) if in_window => {
                api::parse_sent(&d.send(&self.template(d, to, template_text)).await?)?
            }
            other => other?,
        };
        d.map_remote(&wamid).await?;
        d.record(Recipient::Address(to.to), &wamid)
    }
}

impl Driver for Whatsapp {
    const HANDSHAKE: bool = true;

    async fn deliver(&self, d: &Delivery<'_>) -> std::result::Result<(), Failure> {
        match (d.target, d.message()) {
            // A message to every agent number not served yet.
            (Target::Agents(_), Some(m)) => {
                let relay = d.relay(m);
                for number in &self.settings.agent_numbers {
                    let to = Recipient::Address(number);
                    if d.delivered(to)? {
                        continue;
                    }
                    let first = d.first_to(to)?;
                    let text = api::message_text(&relay, first);
                    let template_text = api::template_text(&relay, first);
                    self.send(d, &self.to(number), &text, &template_text)
                        .await?;
                }
                Ok(())
            }
            // A test: the template to every agent number (it works inside the window too).
            (Target::Agents(_), None) => {
                let text = d.text();
                for number in &self.settings.agent_numbers {
                    let to = Recipient::Address(number);
                    if d.delivered(to)? {
                        continue;
                    }
                    let addressee = self.to(number);
                    let wamid =
                        api::parse_sent(&d.send(&self.template(d, &addressee, text)).await?)?;
                    d.record(to, &wamid)?;
                }
                Ok(())
            }
            (Target::Contact(_), message) => {
                let number = d.contact_address()?;
                if d.delivered(Recipient::Address(number))? {
                    return Ok(());
                }
                let site = &d.envelope.site_name;
                let (text, template_text) = match message {
                    Some(m) => {
                        // Files go as lines with links (WhatsApp media messages: not yet).
                        let body = d.relay(m).text_within(api::MAX_TEXT_CHARS);
                        let text = match &m.author {
                            Some(a) => format!("{a} ({site}): {body}"),
                            None => format!("{site}: {body}"),
                        };
                        (text, body)
                    }
                    None => (d.text().to_owned(), d.text().to_owned()),
                };
                let text = super::api::clip(&text, api::MAX_TEXT_CHARS);
                self.send(d, &self.to(number), &text, &template_text).await
            }
        }
    }

    async fn webhook(&self, req: Request, hook: &Hook<'_>) -> Result<Response> {
        webhook::handle(self, req, hook).await
    }
}
