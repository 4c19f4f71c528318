//! Slack: one thread per conversation in the business's channel — a root message naming the
//! site and page, every relay a reply in its thread; agents answer in the thread. Slack
//! cannot reach contacts. Notices (a test) are posted to the channel itself. A message's files
//! are shared into the thread ([`media`]); agents' files come back from `file_share` events.

pub mod api;
pub mod media;
mod webhook;

use super::{Delivery, Driver, Failure, Hook, InboundFile, Recipient, Relay};
use crate::error::Result;
use beckon_shared::proto::v1::{SlackSecrets, SlackSettings};
use worker::{Request, Response};

/// A site's Slack channel.
#[derive(Clone, Debug)]
pub struct Slack {
    pub settings: SlackSettings,
    pub secrets: SlackSecrets,
}

impl Slack {
    /// The relay's files into the thread (external upload), the relay line as their comment;
    /// the first file's id. All files are sent again on a retry: uploads not completed are
    /// never shown.
    async fn share_files(
        &self,
        d: &Delivery<'_>,
        (channel, thread): (&str, &str),
        relay: &Relay<'_>,
    ) -> std::result::Result<String, Failure> {
        let (base, token) = (self.settings.api_base(), self.secrets.bot_token.as_str());
        let mut uploaded = Vec::new();
        for file in &relay.files {
            let (url, id) =
                media::parse_upload_url(&d.send(&media::get_upload_url(base, token, file)).await?)?;
            media::check_uploaded(&d.send(&media::upload(&url, file)).await?)?;
            uploaded.push((id, file.attachment.name.clone()));
        }
        let done = media::complete((base, token), (channel, thread), &uploaded, relay);
        media::parse_completed(&d.send(&done).await?)
    }
}

impl Driver for Slack {
    async fn deliver(&self, d: &Delivery<'_>) -> std::result::Result<(), Failure> {
        if !d.destination_pending()? {
            return Ok(());
        }
        let (base, token, channel) = (
            self.settings.api_base(),
            &self.secrets.bot_token,
            self.settings.channel_id.as_str(),
        );
        let Some(m) = d.message() else {
            let resp = d
                .send(&api::post_test(base, token, channel, d.text()))
                .await?;
            return d.record(Recipient::Destination, &api::parse_posted(&resp)?);
        };
        let relay = d.relay(m);
        let thread = match d.thread()? {
            Some(t) => t,
            None => {
                let resp = d
                    .send(&api::post_root(base, token, channel, &relay))
                    .await?;
                let ts = api::parse_posted(&resp)?;
                d.remember_thread(&ts, &api::thread_key(channel, &ts))
                    .await?;
                ts
            }
        };
        if !relay.files.is_empty() {
            match self.share_files(d, (channel, &thread), &relay).await {
                Ok(id) => return d.record(Recipient::Destination, &id),
                // Slack refused a file: the relay goes as text, every file as a link.
                Err(Failure::Rejected { reason }) => {
                    worker::console_warn!("slack refused a file ({reason}): sent as links");
                }
                Err(f) => return Err(f),
            }
        }
        let resp = d
            .send(&api::post_reply(base, token, channel, &thread, &relay))
            .await?;
        d.record(Recipient::Destination, &api::parse_posted(&resp)?)
    }

    /// Downloads an agent's file with the bot token (`url_private_download`).
    async fn download(
        &self,
        file: &InboundFile,
        max_bytes: u64,
        timeout_ms: u64,
    ) -> std::result::Result<Vec<u8>, Failure> {
        let token = Some(self.secrets.bot_token.as_str());
        crate::transport::download_url(&file.handle, token, timeout_ms, max_bytes).await
    }

    async fn webhook(&self, req: Request, hook: &Hook<'_>) -> Result<Response> {
        webhook::handle(self, req, hook).await
    }

    /// Slack retries every non-2xx: told not to for refusals, it still retries our failures
    /// and a rate limit's 429.
    fn refusal(resp: Response, error: &crate::error::Error) -> worker::Result<Response> {
        let limited = error.error_code() == beckon_shared::proto::v1::ErrorCode::RateLimited;
        if error.status() < 500 && !limited {
            resp.headers().set("x-slack-no-retry", "1")?;
        }
        Ok(resp)
    }
}
