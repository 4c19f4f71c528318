//! The Worker's side of the Conversation Durable Object: typed calls over the stub. Errors the
//! DO returns come back as the same [`Error`] they started as.

use super::{Meta, PostRequest, Principal, PRINCIPAL_HEADER};
use crate::auth::Ticket;
use crate::error::{Error, Result};
use beckon_shared::proto::v1::{ApiError, ConversationSummary, MessagePage, PostedMessage};
use beckon_shared::{ConversationId, Seq};
use serde::de::DeserializeOwned;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Stub};

pub struct ConversationClient {
    stub: Stub,
}

impl ConversationClient {
    pub fn new(env: &Env, id: &ConversationId) -> Result<ConversationClient> {
        let stub = env
            .durable_object("CONVERSATION")?
            .id_from_name(id.as_str())?
            .get_stub()?;
        Ok(ConversationClient { stub })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        principal: Option<&Principal>,
        body: Option<String>,
        ticket: Option<&Ticket>,
    ) -> Result<Response> {
        let headers = Headers::new();
        if let Some(p) = principal {
            headers.set(
                PRINCIPAL_HEADER,
                &serde_json::to_string(p).map_err(Error::internal)?,
            )?;
        }
        if let Some(t) = ticket {
            headers.set("upgrade", "websocket")?;
            headers.set(
                crate::tickets::TICKET_HEADER,
                &crate::tickets::header_value(t),
            )?;
        }
        let mut init = RequestInit::new();
        init.with_method(method).with_headers(headers);
        if let Some(b) = body {
            init.with_body(Some(b.into()));
        }
        let req = Request::new_with_init(&format!("https://conversation{path}"), &init)?;
        Ok(self.stub.fetch_with_request(req).await?)
    }

    /// Creates the conversation (idempotent); with `coalesce`, its first index write waits for
    /// the next batch instead of happening before the answer.
    pub async fn init(&self, meta: &Meta, coalesce: bool) -> Result<()> {
        let body = serde_json::to_string(meta).map_err(Error::internal)?;
        let path = if coalesce { "/init?coalesce" } else { "/init" };
        decode::<serde_json::Value>(
            self.call(Method::Post, path, None, Some(body), None)
                .await?,
        )
        .await?;
        Ok(())
    }

    /// Opens a WebSocket for the ticket's principal, spending the ticket; the response is the
    /// 101 to hand to the client.
    pub async fn connect(&self, ticket: &Ticket) -> Result<Response> {
        let resp = self
            .call(
                Method::Get,
                "/ws",
                Some(&ticket.principal),
                None,
                Some(ticket),
            )
            .await?;
        if resp.status_code() == 101 {
            Ok(resp)
        } else {
            Err(decode::<serde_json::Value>(resp)
                .await
                .err()
                .unwrap_or_else(|| Error::internal("upgrade refused")))
        }
    }

    pub async fn messages(
        &self,
        principal: &Principal,
        after: Seq,
        limit: Option<usize>,
    ) -> Result<MessagePage> {
        let mut path = format!("/messages?after={after}");
        if let Some(l) = limit {
            path.push_str(&format!("&limit={l}"));
        }
        decode(
            self.call(Method::Get, &path, Some(principal), None, None)
                .await?,
        )
        .await
    }

    pub async fn post(&self, post: &PostRequest) -> Result<(PostedMessage, u16)> {
        let body = serde_json::to_string(post).map_err(Error::internal)?;
        let resp = self
            .call(Method::Post, "/messages", None, Some(body), None)
            .await?;
        let status = resp.status_code();
        Ok((decode(resp).await?, status))
    }

    /// Whether `address` is where the conversation's contact is reached by email now: the
    /// contact's own address, or the one the visitor left (a replaced one no longer is).
    pub async fn reaches_by_email(&self, address: &str) -> Result<bool> {
        let body = serde_json::to_string(&serde_json::json!({ "address": address }))
            .map_err(Error::internal)?;
        let resp = self
            .call(Method::Post, "/email-contact", None, Some(body), None)
            .await?;
        let answer: serde_json::Value = decode(resp).await?;
        Ok(answer["reaches"] == serde_json::Value::Bool(true))
    }

    /// The conversation's relays to channels and their deliveries.
    pub async fn relays(&self, principal: &Principal) -> Result<serde_json::Value> {
        decode(
            self.call(Method::Get, "/relays", Some(principal), None, None)
                .await?,
        )
        .await
    }

    /// Reports a channel's delivery status of one of our relayed messages.
    pub async fn relay_status(&self, status: &super::StatusReport) -> Result<()> {
        let body = serde_json::to_string(status).map_err(Error::internal)?;
        let resp = self
            .call(Method::Post, "/relay-status", None, Some(body), None)
            .await?;
        no_content(resp, "relay status refused").await
    }

    /// Wakes the conversation: what it owes is done now, and its alarm set again if lost.
    pub async fn wake(&self) -> Result<()> {
        let resp = self.call(Method::Post, "/wake", None, None, None).await?;
        no_content(resp, "wake refused").await
    }

    /// Asks the visitor to rate the conversation (once; only one held in the widget).
    pub async fn ask_rating(&self) -> Result<()> {
        no_content(
            self.call(Method::Post, "/ask-rating", None, None, None)
                .await?,
            "asking for a rating failed",
        )
        .await
    }

    /// Closes the sockets opened with admin key `key` (it was revoked).
    pub async fn close_key(&self, key: &str) -> Result<()> {
        let resp = self
            .call(Method::Post, "/close-key", None, Some(key.to_owned()), None)
            .await?;
        no_content(resp, "close refused").await
    }

    /// Deletes the conversation: its files, messages and storage (see `erase.rs`). Returns
    /// how many files it deleted.
    pub async fn erase(&self, principal: &Principal) -> Result<u64> {
        #[derive(serde::Deserialize)]
        struct Erased {
            files: u64,
        }
        let erased: Erased = decode(
            self.call(Method::Delete, "/", Some(principal), None, None)
                .await?,
        )
        .await?;
        Ok(erased.files)
    }

    /// Runs an upload operation (see `uploads.rs`).
    pub async fn upload(
        &self,
        principal: &Principal,
        op: &super::uploads::UploadOp,
    ) -> Result<super::uploads::UploadState> {
        let body = serde_json::to_string(op).map_err(Error::internal)?;
        decode(
            self.call(Method::Post, "/uploads", Some(principal), Some(body), None)
                .await?,
        )
        .await
    }

    pub async fn summary(&self, principal: &Principal) -> Result<ConversationSummary> {
        decode(
            self.call(Method::Get, "/summary", Some(principal), None, None)
                .await?,
        )
        .await
    }
}

/// A DO response without a body: fine, or the DO's error as our error.
async fn no_content(resp: Response, refused: &str) -> Result<()> {
    if resp.status_code() < 400 {
        return Ok(());
    }
    Err(decode::<serde_json::Value>(resp)
        .await
        .err()
        .unwrap_or_else(|| Error::internal(refused.to_owned())))
}

/// A DO response → value, or the DO's error as our error.
async fn decode<T: DeserializeOwned>(mut resp: Response) -> Result<T> {
    let status = resp.status_code();
    let text = resp.text().await?;
    if status >= 400 {
        return Err(match serde_json::from_str::<ApiError>(&text) {
            Ok(e) => Error::new(e.error.code, e.error.message),
            Err(_) => Error::internal(format!("conversation answered {status}: {text}")),
        });
    }
    serde_json::from_str(&text).map_err(Error::internal)
}
