//! Inbound channel webhooks, `/hooks/{channel}/{site}`: the site's channel of that kind, or
//! 403 before anything is read (a webhook for a channel the site has not set up, or for
//! another site), and at most [`Limit::Hooks`] a minute per address (429 with `Retry-After`:
//! Telegram, Slack, WhatsApp and Messenger retry it); then the channel's own webhook verifies the request over its raw body and
//! acts on it (see `channels/<name>/webhook.rs`). Errors are answered in the channel's terms.

use crate::channels::{Config, Hook};
use crate::error::{Error, Result};
use crate::http::{self, Edge};
use crate::rate_limit::{self, Limit};
use crate::storage::channels as store;
use beckon_shared::proto::v1::{ChannelKind, ErrorCode};
use beckon_shared::SiteKey;
use worker::{Request, Response};

/// `GET` (handshakes) or `POST` (events) on `/hooks/{channel}/{site}`.
pub async fn handle(
    req: Request,
    edge: &Edge,
    site: &SiteKey,
    kind: ChannelKind,
) -> Result<Response> {
    let result = async {
        // Counted per address before anything is read, whichever site it names: a flood costs
        // no lookup and no verification, and a new site key gets it no fresh allowance.
        rate_limit::check(&edge.env, &req, Limit::Hooks).await?;
        if req.method() == worker::Method::Get && !Config::has_handshake(kind) {
            return Err(Error::new(
                ErrorCode::NotFound,
                format!(
                    "{} posts its updates here; it has no GET handshake",
                    kind.label()
                ),
            ));
        }
        let key = http::secret(&edge.env, "SECRETS_KEY")?;
        let channel = match store::get(&edge.db()?, site, kind, &key).await? {
            Some(c) if c.enabled => c,
            _ => {
                return Err(Error::new(
                    ErrorCode::Forbidden,
                    format!("{} is not set up for site {site}", kind.as_str()),
                ))
            }
        };
        let hook = Hook { edge, site, kind };
        channel.config.webhook(req, &hook).await
    }
    .await;
    match result {
        Ok(r) => Ok(r),
        Err(e) => Config::refusal(kind, &e).map_err(Error::from),
    }
}
