//! `POST /hooks/slack/{site}`: Events API requests, signed with `v0` HMAC signatures over the
//! raw body inside a 5-minute window. Answers the URL verification challenge; an agent's
//! reply in a conversation's thread goes to that conversation.

use super::{api, Slack};
use crate::channels::inbound::{ok, unauthorized};
use crate::channels::Hook;
use crate::error::{Error, Result};
use crate::http;
use beckon_shared::proto::v1::ErrorCode;
use worker::{Request, Response};

pub(super) async fn handle(ch: &Slack, mut req: Request, hook: &Hook<'_>) -> Result<Response> {
    let timestamp = req.headers().get("x-slack-request-timestamp")?;
    let signature = req.headers().get("x-slack-signature")?;
    let raw = hook.read_body(&mut req).await?;
    match api::verify(
        &ch.secrets.signing_secret,
        timestamp.as_deref(),
        signature.as_deref(),
        &raw,
        hook.now() / 1000,
    ) {
        Ok(()) => {}
        Err(api::Reject::Stale) => {
            return Err(Error::new(
                ErrorCode::InvalidToken,
                "the request timestamp is outside the 5-minute window",
            ))
        }
        Err(_) => return Err(unauthorized("X-Slack-Signature")),
    }
    match api::parse_event(&raw) {
        Some(api::Event::UrlVerification { challenge }) => {
            http::text(200, "text/plain; charset=utf-8", challenge)
        }
        Some(api::Event::Reply(inbound)) => {
            hook.agent_reply(inbound, ch).await?;
            ok()
        }
        Some(api::Event::Ignored) => ok(),
        None => Err(Error::bad_request("not an Events API payload")),
    }
}
