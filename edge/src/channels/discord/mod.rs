//! Discord: one thread per conversation in the business's forum channel, posted through the
//! channel's incoming webhook — the first post opens the thread (`thread_name`) and names the
//! site and page, every later relay goes into it (`thread_id`); a relay's files are attached
//! (up to 10 MB each, larger ones as links). Webhooks cannot read the thread, and a Worker
//! holds no gateway connection, so agents answer with the application's `/reply` command in
//! the thread, delivered over HTTP as an Interaction signed with Ed25519 ([`webhook`]);
//! without the application's public key Discord is notify-only. Discord cannot reach
//! contacts.

pub mod api;
mod webhook;

use super::{ApiRequest, Delivery, Driver, Failure, Hook, InboundFile, Recipient};
use crate::error::Result;
use api::Place;
use beckon_shared::proto::v1::{DiscordSecrets, DiscordSettings, Message};
use worker::{Request, Response};

/// A site's Discord forum channel.
#[derive(Clone, Debug)]
pub struct Discord {
    pub settings: DiscordSettings,
    pub secrets: DiscordSecrets,
}

impl Discord {
    fn hook(&self) -> (&str, &str) {
        (&self.settings.webhook_id, &self.secrets.webhook_token)
    }

    /// Posts `request`, opening the conversation's thread with it if it has none yet.
    async fn post(
        &self,
        d: &Delivery<'_>,
        request: ApiRequest,
        thread: &mut Option<String>,
    ) -> std::result::Result<String, Failure> {
        let resp = d.send(&request).await?;
        let (id, channel) = api::parse_posted(&resp, thread.is_some())?;
        if thread.is_none() {
            d.remember_thread(&channel, &channel).await?;
            *thread = Some(channel);
        }
        Ok(id)
    }

    /// One relay into the thread: its files attached (each once, the text with the first) if
    /// they all fit, else the text with every file as a link.
    async fn relay(&self, d: &Delivery<'_>, m: &Message) -> std::result::Result<(), Failure> {
        let base = self.settings.api_base();
        let relay = d.relay(m);
        let mut thread = d.thread()?;
        let first = thread.is_none() || d.first_to(Recipient::Destination)?;
        let name = api::thread_name(&relay);
        let attach = !relay.files.is_empty()
            && relay
                .files
                .iter()
                .all(|f| f.attachment.size <= api::MAX_FILE_BYTES);
        let text = api::content(&relay, first, !attach);
        if !attach {
            let place = thread
                .as_deref()
                .map_or(Place::NewThread(&name), Place::Thread);
            let request = api::post(base, self.hook(), &place, &text);
            let id = self.post(d, request, &mut thread).await?;
            return d.record(Recipient::Destination, &id);
        }
        let mut last = String::new();
        for (n, file) in relay.files.iter().enumerate() {
            let part = n.to_string();
            if d.part_delivered(Recipient::Destination, &part)? {
                continue;
            }
            let content = if n == 0 { text.as_str() } else { "" };
            let place = thread
                .as_deref()
                .map_or(Place::NewThread(&name), Place::Thread);
            let request = api::post_file(base, self.hook(), &place, content, file);
            last = self.post(d, request, &mut thread).await?;
            d.record_part(Recipient::Destination, &part, &last)?;
        }
        d.record(Recipient::Destination, &last)
    }
}

impl Driver for Discord {
    async fn deliver(&self, d: &Delivery<'_>) -> std::result::Result<(), Failure> {
        if !d.destination_pending()? {
            return Ok(());
        }
        let Some(m) = d.message() else {
            // A test opens a thread of its own (a forum channel takes posts only in threads).
            let text = api::escape(d.text());
            let request = api::post(
                self.settings.api_base(),
                self.hook(),
                &Place::NewThread("Beckon test"),
                &text,
            );
            let (id, _) = api::parse_posted(&d.send(&request).await?, false)?;
            return d.record(Recipient::Destination, &id);
        };
        // A deleted thread: the relay opens a new one, once.
        for _ in 0..2 {
            match self.relay(d, m).await {
                Err(Failure::ThreadGone) => d.forget_thread()?,
                other => return other,
            }
        }
        Err(Failure::ThreadGone)
    }

    /// Downloads an agent's file from Discord's CDN (or the configured API host).
    async fn download(
        &self,
        file: &InboundFile,
        max_bytes: u64,
        timeout_ms: u64,
    ) -> std::result::Result<Vec<u8>, Failure> {
        let h = super::api::url_host(&file.handle);
        let cdn = file.handle.starts_with("https://")
            && matches!(h, Some("cdn.discordapp.com" | "media.discordapp.net"));
        // The API's own host (discord.com, or the fake on this machine in development).
        let api = h.is_some() && h == super::api::url_host(self.settings.api_base());
        if !(cdn || api) {
            return Err(Failure::Rejected {
                reason: "not a Discord attachment URL".into(),
            });
        }
        crate::transport::download_url(&file.handle, None, timeout_ms, max_bytes).await
    }

    async fn webhook(&self, req: Request, hook: &Hook<'_>) -> Result<Response> {
        webhook::handle(self, req, hook).await
    }
}
