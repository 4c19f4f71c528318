//! Slack: one thread per conversation in the business's channel — a root message naming the
//! site and page, every relay a reply in its thread; agents answer in the thread. Slack
//! cannot reach contacts. Notices (a test) are posted to the channel itself.

pub mod api;
mod webhook;

use super::{Delivery, Driver, Failure, Hook, Recipient, Target};
use crate::error::Result;
use beckon_shared::proto::v1::{SlackSecrets, SlackSettings};
use worker::{Request, Response};

/// A site's Slack channel.
#[derive(Clone, Debug)]
pub struct Slack {
    pub settings: SlackSettings,
    pub secrets: SlackSecrets,
}

impl Driver for Slack {
    async fn deliver(&self, d: &Delivery<'_>) -> std::result::Result<(), Failure> {
        if let Target::Contact(_) = d.target {
            return Err(Failure::Permanent {
                reason: "slack cannot reach contacts".into(),
            });
        }
        if d.delivered(Recipient::Destination)? {
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
        let resp = d
            .send(&api::post_reply(base, token, channel, &thread, &relay))
            .await?;
        d.record(Recipient::Destination, &api::parse_posted(&resp)?)
    }

    async fn webhook(&self, req: Request, hook: &Hook<'_>) -> Result<Response> {
        webhook::handle(self, req, hook).await
    }

    /// Slack retries every non-2xx: told not to for refusals, it still retries our failures.
    fn refusal(resp: Response, error: &crate::error::Error) -> worker::Result<Response> {
        if error.status() < 500 {
            resp.headers().set("x-slack-no-retry", "1")?;
        }
        Ok(resp)
    }
}
