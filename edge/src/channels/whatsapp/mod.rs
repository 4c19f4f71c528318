//! WhatsApp: relays go to the business's agent numbers from the site's business number —
//! free-form text inside a number's 24-hour window, the approved template outside it (and when
//! a free-form send is refused for the window, at once or later by a `failed` status). Agents
//! answer by swipe-replying: every wamid we send is mapped to its conversation. Contacts the
//! business writes to first get the same treatment on their own number. Files go as media
//! messages inside the window ([`media`]); agents' files come back by media id.

pub mod api;
mod broadcast;
pub mod media;
pub mod numbers;
mod webhook;
mod window;

use super::{Delivery, Driver, Failure, Hook, InboundFile, Recipient, Relay, RelayFile, Target};
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

    /// A message with files to one number. Inside the window: `text` (which links the files
    /// WhatsApp cannot carry), then each other file as a media message captioned `caption`,
    /// each recorded as it lands; a file WhatsApp refuses goes as its line with a link.
    /// Outside the window: [`Whatsapp::send`] (the template links every file).
    async fn send_with_files(
        &self,
        d: &Delivery<'_>,
        to: &Addressee<'_>,
        (text, template_text, caption): (&str, &str, &str),
        files: &[RelayFile<'_>],
    ) -> std::result::Result<(), Failure> {
        let native: Vec<_> = files
            .iter()
            .filter_map(|f| media::kind(f).map(|k| (f, k)))
            .collect();
        if native.is_empty() || d.fallback {
            return self.send(d, to, text, template_text).await;
        }
        let last_inbound = window::last_inbound(&d.db()?, &d.envelope.site, to.to)
            .await
            .map_err(Failure::internal)?;
        if !api::window_open(last_inbound, d.now()) {
            return self.send(d, to, text, template_text).await;
        }
        let recipient = Recipient::Address(to.to);
        let mut last = String::new();
        if !text.is_empty() && !d.part_delivered(recipient, "text")? {
            let wamid = match api::parse_sent(&d.send(&api::send_text(to, text)).await?) {
                // Closed after all: the template, which names every file.
                Err(Failure::NeedsTemplate) => {
                    let template = self.template(d, to, template_text);
                    let wamid = api::parse_sent(&d.send(&template).await?)?;
                    d.map_remote(&wamid).await?;
                    return d.record(recipient, &wamid);
                }
                other => other?,
            };
            d.map_remote(&wamid).await?;
            d.record_part(recipient, "text", &wamid)?;
            last = wamid;
        }
        for (file, kind) in native {
            let key = format!("file:{}", file.attachment.id);
            if d.part_delivered(recipient, &key)? {
                continue;
            }
            let wamid = match self.media_message(d, to, (file, kind), caption).await {
                Err(Failure::Rejected { reason }) => {
                    worker::console_warn!("whatsapp refused a file ({reason}): sent as a link");
                    let line = format!("{caption}: {}", file.line());
                    api::parse_sent(&d.send(&api::send_text(to, &line)).await?)?
                }
                other => other?,
            };
            d.map_remote(&wamid).await?;
            d.record_part(recipient, &key, &wamid)?;
            last = wamid;
        }
        d.record(recipient, &last)
    }

    /// Uploads `file` to the business number's media, then sends it by id.
    async fn media_message(
        &self,
        d: &Delivery<'_>,
        to: &Addressee<'_>,
        (file, kind): (&RelayFile<'_>, media::Kind),
        caption: &str,
    ) -> std::result::Result<String, Failure> {
        let id = media::parse_upload(&d.send(&media::upload(to, file)).await?)?;
        api::parse_sent(&d.send(&media::send(to, kind, &id, file, caption)).await?)
    }
}

/// `relay` with only the files that cannot go as WhatsApp media: those its text links.
fn linked_only<'a>(relay: &Relay<'a>) -> Relay<'a> {
    Relay {
        files: relay
            .files
            .iter()
            .filter(|f| media::kind(f).is_none())
            .cloned()
            .collect(),
        ..relay.clone()
    }
}

impl Driver for Whatsapp {
    const HANDSHAKE: bool = true;

    async fn deliver(&self, d: &Delivery<'_>) -> std::result::Result<(), Failure> {
        match (d.target, d.message()) {
            // A message to every agent number not served yet.
            (Target::Agents(_), Some(m)) => {
                let relay = d.relay(m);
                let text_relay = linked_only(&relay);
                let caption = relay.speaker();
                for number in &self.settings.agent_numbers {
                    let to = Recipient::Address(number);
                    if d.delivered(to)? {
                        continue;
                    }
                    let first = d.first_to(to)?;
                    // A first message or one with text says it; files alone need no text.
                    let text = match first
                        || !text_relay.body.is_empty()
                        || !text_relay.files.is_empty()
                    {
                        true => api::message_text(&text_relay, first),
                        false => String::new(),
                    };
                    let template_text = api::template_text(&relay, first);
                    self.send_with_files(
                        d,
                        &self.to(number),
                        (&text, &template_text, &caption),
                        &relay.files,
                    )
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
                d.broadcast_still_wanted().await?;
                // A broadcast goes as its approved template, whatever the window.
                if let Some((template, buttons)) = d
                    .envelope
                    .broadcast
                    .as_ref()
                    .and_then(|b| b.template.as_ref().map(|t| (t, &b.buttons)))
                {
                    let to = self.to(number);
                    let wamid = api::parse_sent(
                        &d.send(&api::send_broadcast_template(&to, template, buttons))
                            .await?,
                    )?;
                    // Recorded before it is mapped: if mapping fails, the retry finds it
                    // delivered and sends nothing (a broadcast never goes twice); its statuses
                    // still find it by the contact's number.
                    d.record(Recipient::Address(number), &wamid)?;
                    return d.map_remote(&wamid).await;
                }
                let site = &d.envelope.site_name;
                let Some(m) = message else {
                    return self.send(d, &self.to(number), d.text(), d.text()).await;
                };
                let relay = d.relay(m);
                let speaker = match &m.author {
                    Some(a) => format!("{a} ({site})"),
                    None => site.clone(),
                };
                let linked = linked_only(&relay);
                let text = match linked.body.is_empty() && linked.files.is_empty() {
                    true => String::new(),
                    false => {
                        let body = linked.text_within(api::MAX_TEXT_CHARS);
                        super::api::clip(&format!("{speaker}: {body}"), api::MAX_TEXT_CHARS)
                            .into_owned()
                    }
                };
                let template_text = relay.text_within(api::MAX_TEXT_CHARS);
                self.send_with_files(
                    d,
                    &self.to(number),
                    (&text, &template_text, &speaker),
                    &relay.files,
                )
                .await
            }
        }
    }

    async fn webhook(&self, req: Request, hook: &Hook<'_>) -> Result<Response> {
        webhook::handle(self, req, hook).await
    }

    /// The media's URL (valid five minutes), then its bytes, both with the access token.
    async fn download(
        &self,
        file: &InboundFile,
        max_bytes: u64,
        timeout_ms: u64,
    ) -> std::result::Result<Vec<u8>, Failure> {
        let token = &self.secrets.access_token;
        let at = media::locate(
            self.settings.api_base(),
            &self.settings.graph_version,
            token,
            &file.handle,
        );
        let located = crate::transport::send(&at, timeout_ms, None).await?;
        crate::transport::download(&media::download(&located, token)?, timeout_ms, max_bytes).await
    }
}
