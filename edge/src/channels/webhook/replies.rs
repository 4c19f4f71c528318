//! `POST /hooks/webhook/{site}`: the business's system answering a conversation, signed with
//! the same secrets as the events it gets (Standard Webhooks, 5-minute tolerance). A
//! `message.create` goes into the conversation it names, only if that conversation's events
//! were sent to this endpoint's current URL; its `webhook-id` makes a redelivery a no-op.

use super::{api, Webhook};
use crate::channels::inbound::{ok, unauthorized};
use crate::channels::Hook;
use crate::error::{Error, Result};
use crate::storage::channels as store;
use beckon_shared::proto::v1::ErrorCode;
use worker::{Request, Response};

pub(super) async fn handle(ch: &Webhook, mut req: Request, hook: &Hook<'_>) -> Result<Response> {
    let header = |name: &str| req.headers().get(name);
    let (id, timestamp, signature) = (
        header("webhook-id")?,
        header("webhook-timestamp")?,
        header("webhook-signature")?,
    );
    let raw = hook.read_body(&mut req).await?;
    let keys = ch.secrets.signing_keys(hook.now());
    match api::verify(
        &keys,
        (id.as_deref(), timestamp.as_deref(), signature.as_deref()),
        &raw,
        hook.now() / 1000,
    ) {
        Ok(()) => {}
        Err(api::Reject::Stale) => {
            return Err(Error::new(
                ErrorCode::InvalidToken,
                "webhook-timestamp is more than 5 minutes from now",
            ))
        }
        Err(api::Reject::Missing) => {
            return Err(Error::new(
                ErrorCode::InvalidToken,
                "webhook-id, webhook-timestamp and webhook-signature are required",
            ))
        }
        Err(api::Reject::BadSignature) => return Err(unauthorized("webhook-signature")),
    }
    let id = id.unwrap_or_default();
    if id.is_empty() || id.len() > 128 {
        return Err(Error::bad_request("webhook-id must be 1 to 128 characters"));
    }
    match api::parse(&raw, &id).map_err(Error::bad_request)? {
        api::Event::Reply(mut inbound) => {
            // Conversations are this endpoint's only if their events went to its URL.
            inbound.thread_key = format!(
                "{}:{}",
                api::endpoint_id(&ch.settings.url),
                inbound.thread_key
            );
            let known =
                store::find_thread(&hook.db()?, hook.kind, hook.site, &inbound.thread_key).await?;
            if known.is_none() {
                return Err(Error::new(
                    ErrorCode::NotFound,
                    "no conversation with this id was sent to this endpoint",
                ));
            }
            hook.agent_reply(inbound, ch).await?;
            ok()
        }
        api::Event::Ignored => ok(),
    }
}
