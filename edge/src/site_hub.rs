//! The SiteHub Durable Object: one per site, the inbox's live feed. Inbox tabs hold a
//! (hibernatable) WebSocket here; conversations post [`InboxEvent`]s after every change and
//! the hub fans them out.

use crate::error::{Error, Result};
use crate::http;
use beckon_shared::proto::v1::{ErrorCode, InboxEvent};
use beckon_shared::SiteKey;
use worker::{
    durable_object, DurableObject, Env, Headers, Method, Request, RequestInit, Response, State,
    WebSocket, WebSocketIncomingMessage, WebSocketPair,
};

#[durable_object]
pub struct SiteHub {
    state: State,
}

impl DurableObject for SiteHub {
    fn new(state: State, _env: Env) -> Self {
        SiteHub { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let result: Result<Response> = async {
            match (req.method(), req.path().as_str()) {
                (Method::Get, "/live") => {
                    let pair = WebSocketPair::new()?;
                    self.state
                        .accept_websocket_with_tags(&pair.server, &["agent"]);
                    Ok(Response::from_websocket(pair.client)?)
                }
                (Method::Post, "/notify") => {
                    let text = req.text().await?;
                    for ws in self.state.get_websockets() {
                        let _ = ws.send_with_str(&text);
                    }
                    Ok(Response::empty()?.with_status(204))
                }
                _ => Err(Error::code(ErrorCode::NotFound)),
            }
        }
        .await;
        result.or_else(|e| http::error_response(&e))
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> worker::Result<()> {
        // The feed is one-way; answer keep-alives so proxies keep the socket open.
        if let WebSocketIncomingMessage::String(s) = message {
            if s.contains("\"ping\"") {
                let _ = ws.send_with_str(r#"{"type":"pong"}"#);
            }
        }
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        _code: usize,
        _reason: String,
        _clean: bool,
    ) -> worker::Result<()> {
        let _ = ws.close(Some(1000), Some("closed"));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> worker::Result<()> {
        Ok(())
    }
}

fn stub(env: &Env, site: &SiteKey) -> Result<worker::Stub> {
    Ok(env
        .durable_object("SITE_HUB")?
        .id_from_name(site.as_str())?
        .get_stub()?)
}

/// Sends an event to every inbox watching `site`.
pub async fn notify(env: &Env, site: &SiteKey, event: &InboxEvent) -> Result<()> {
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(
        serde_json::to_string(event)
            .map_err(Error::internal)?
            .into(),
    ));
    let resp = stub(env, site)?
        .fetch_with_request(Request::new_with_init("https://hub/notify", &init)?)
        .await?;
    if resp.status_code() >= 400 {
        return Err(Error::internal(format!(
            "site hub answered {}",
            resp.status_code()
        )));
    }
    Ok(())
}

/// Opens an inbox WebSocket on `site`'s hub.
pub async fn connect(env: &Env, site: &SiteKey) -> Result<Response> {
    let headers = Headers::new();
    headers.set("upgrade", "websocket")?;
    let mut init = RequestInit::new();
    init.with_headers(headers);
    Ok(stub(env, site)?
        .fetch_with_request(Request::new_with_init("https://hub/live", &init)?)
        .await?)
}
