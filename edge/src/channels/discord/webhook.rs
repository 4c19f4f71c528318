//! `POST /hooks/discord/{site}`: the application's Interactions endpoint. Every request is
//! verified with Ed25519 over `timestamp + raw body` (Discord probes with bad signatures:
//! 401), inside a 5-minute window; a PING is answered `{"type":1}`; `/reply text:… [file:…]`
//! in a conversation's thread goes to that conversation once per interaction id, and the
//! thread shows what was sent.

use super::{api, Discord};
use crate::channels::inbound::unauthorized;
use crate::channels::Hook;
use crate::error::{Error, Result};
use crate::http;
use crate::storage::channels as store;
use beckon_shared::proto::v1::ErrorCode;
use worker::{Request, Response};

pub(super) async fn handle(ch: &Discord, mut req: Request, hook: &Hook<'_>) -> Result<Response> {
    let Some(public_key) = ch.settings.public_key.as_deref() else {
        return Err(Error::new(
            ErrorCode::NotFound,
            "replies from Discord are off: set the application's public_key",
        ));
    };
    let signature = req.headers().get("x-signature-ed25519")?;
    let timestamp = req.headers().get("x-signature-timestamp")?;
    let raw = hook.read_body(&mut req).await?;
    match api::verify(
        public_key,
        (signature.as_deref(), timestamp.as_deref()),
        &raw,
        hook.now() / 1000,
    ) {
        Ok(()) => {}
        Err(api::Reject::Stale) => {
            return Err(Error::new(
                ErrorCode::InvalidToken,
                "X-Signature-Timestamp is more than 5 minutes from now",
            ))
        }
        Err(_) => return Err(unauthorized("X-Signature-Ed25519")),
    }
    let answer = match api::parse_interaction(&raw) {
        None => return Err(Error::bad_request("not an interaction")),
        Some(api::Event::Ping) => serde_json::json!({ "type": 1 }),
        Some(api::Event::Other) => api::answer("Beckon only knows /reply.", true),
        Some(api::Event::Reply(inbound)) => {
            let known =
                store::find_thread(&hook.db()?, hook.kind, hook.site, &inbound.thread_key).await?;
            if known.is_none() {
                api::answer("Use /reply in a website chat's thread.", true)
            } else if inbound.text.trim().is_empty() && inbound.files.is_empty() {
                api::answer("Nothing to send: add text or a file.", true)
            } else {
                let shown = format!(
                    "**{}** to the visitor: {}",
                    api::escape(inbound.author.as_deref().unwrap_or("Agent")),
                    api::escape(&inbound.text)
                );
                hook.agent_reply(inbound, ch).await?;
                api::answer(&shown, false)
            }
        }
    };
    http::json(200, &answer)
}
