//! Talking to the edge like its real clients: the widget (visitor HTTP + WebSocket), the inbox
//! and the admin API.

use beckon_shared::proto::v1::{
    ClientFrame, ConversationSummary, MessagePage, PostedMessage, ServerFrame, SiteSettings,
    StartedConversation, WsTicket,
};
use beckon_shared::{ClientMsgId, ConversationId};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// An HTTP client bound to one edge.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

/// A status and JSON body (the body is `Null` if it was not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            base: base.trim_end_matches('/').to_owned(),
            // No idle connection is kept for another request: `wrangler dev`'s front closes
            // one idle for a few seconds, and a request sent on it just then is lost unanswered
            // (hyper's `IncompleteMessage`, seen in `make test`). Loopback connects are cheap.
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("an HTTP client"),
        }
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        // The error says which request and how it failed (a flake once printed neither).
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("request reaches the edge: {e:?}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.base))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.base))
    }

    pub fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.put(format!("{}{path}", self.base))
    }

    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(crate::ADMIN_KEY)
    }

    /// Deletes a visitor's data on `site` (`DELETE …/contacts/{visitor}`) and returns how many
    /// files the deletion found, as its entry in the data requests' log says.
    pub async fn erase_visitor(&self, site: &str, visitor: &str) -> u64 {
        let path = format!("/api/v1/admin/sites/{site}/contacts/{visitor}");
        let r = self.send(self.admin(reqwest::Method::DELETE, &path)).await;
        assert_eq!(r.status, 204, "{:?}", r.body);
        let path = format!("/api/v1/admin/sites/{site}/data-requests");
        let log = self.send(self.admin(reqwest::Method::GET, &path)).await;
        let entry = log.body["requests"].as_array().and_then(|all| {
            all.iter()
                .find(|r| r["kind"] == "delete" && r["visitor_id"] == visitor)
        });
        entry
            .and_then(|r| r["files"].as_u64())
            .unwrap_or_else(|| panic!("no deletion of {visitor} in the log: {:?}", log.body))
    }

    /// `site`'s conversation whose last message is `body`, as the admin list shows it (the list
    /// follows a conversation within a few seconds: the index is written in batches).
    pub async fn conversation_ending_with(&self, site: &str, body: &str) -> Value {
        let path = format!("/api/v1/admin/conversations?site={site}&limit=200");
        crate::browser::eventually(
            Duration::from_secs(30),
            "the conversation in the admin list",
            || async {
                let list = self.send(self.admin(reqwest::Method::GET, &path)).await;
                list.body["conversations"]
                    .as_array()?
                    .iter()
                    .find(|c| c["last_message"]["body"] == body)
                    .cloned()
            },
        )
        .await
    }

    /// `PATCH /api/v1/admin/sites/{site}` with `body`, as the admin.
    pub async fn patch_site(&self, site: &str, body: Value) -> Reply {
        self.send(
            self.admin(
                reqwest::Method::PATCH,
                &format!("/api/v1/admin/sites/{site}"),
            )
            .json(&body),
        )
        .await
    }

    /// Creates a site with loopback origins allowed; returns its key.
    pub async fn create_site(&self, key: &str) -> SiteSettings {
        let r = self
            .send(self.admin(reqwest::Method::POST, "/api/v1/admin/sites").json(&json!({
                "key": key, "name": format!("Test site {key}"), "greeting": "Hello!", "accent": "#0f766e",
                "allowed_origins": ["https://shop.example"], "allow_loopback_origins": true
            })))
            .await;
        assert_eq!(r.status, 201, "create site: {:?}", r.body);
        serde_json::from_value(r.body).unwrap()
    }

    /// Starts a conversation as a new visitor (or as `token`'s visitor).
    pub async fn start_conversation(&self, site: &str, token: Option<&str>) -> StartedConversation {
        let mut req = self
            .post(&format!("/api/v1/sites/{site}/conversations"))
            .json(&json!({"page_url": "https://shop.example/pricing"}));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = self.send(req).await;
        assert_eq!(r.status, 201, "start conversation: {:?}", r.body);
        serde_json::from_value(r.body).unwrap()
    }

    /// The newest conversation of `site` (other than `not`) once it holds a stored message.
    pub async fn newest_conversation(
        &self,
        site: &str,
        not: Option<&ConversationId>,
    ) -> ConversationId {
        crate::eventually(Duration::from_secs(20), "a conversation stored", || async {
            let list = self
                .send(self.admin(
                    reqwest::Method::GET,
                    &format!("/api/v1/admin/conversations?site={site}&limit=5"),
                ))
                .await;
            let id = ConversationId::parse(list.body["conversations"][0]["id"].as_str()?).ok()?;
            if Some(&id) == not {
                return None;
            }
            (!self.admin_messages(&id).await.messages.is_empty()).then_some(id)
        })
        .await
    }

    pub async fn admin_messages(&self, id: &ConversationId) -> MessagePage {
        let r = self
            .send(self.admin(
                reqwest::Method::GET,
                &format!("/api/v1/admin/conversations/{id}/messages"),
            ))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        serde_json::from_value(r.body).unwrap()
    }

    pub async fn admin_summary(&self, id: &ConversationId) -> ConversationSummary {
        let r = self
            .send(self.admin(
                reqwest::Method::GET,
                &format!("/api/v1/admin/conversations/{id}"),
            ))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        serde_json::from_value(r.body).unwrap()
    }

    /// `POST …/audience-counts`: who `filter` reaches on `site`, per channel.
    pub async fn audience_count(
        &self,
        site: &str,
        filter: &serde_json::Value,
    ) -> serde_json::Value {
        let r = self
            .send(
                self.admin(
                    reqwest::Method::POST,
                    &format!("/api/v1/admin/sites/{site}/audience-counts"),
                )
                .json(filter),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body
    }

    /// Posts an agent reply through the admin API.
    pub async fn agent_reply(&self, id: &ConversationId, body: &str) -> PostedMessage {
        let r = self
            .send(
                self.admin(
                    reqwest::Method::POST,
                    &format!("/api/v1/admin/conversations/{id}/messages"),
                )
                .json(&json!({"body": body, "author": "Ana"})),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        serde_json::from_value(r.body).unwrap()
    }

    /// `POST …/ws-ticket` with a visitor token: the ticket, or the refusal.
    pub async fn visitor_ticket(
        &self,
        id: &ConversationId,
        token: &str,
    ) -> Result<WsTicket, Reply> {
        let r = self
            .send(
                self.post(&format!("/api/v1/conversations/{id}/ws-ticket"))
                    .bearer_auth(token),
            )
            .await;
        match r.status {
            200 => Ok(serde_json::from_value(r.body).unwrap()),
            _ => Err(r),
        }
    }

    /// `POST /api/v1/admin/ws-ticket` with `key` for `wanted` (`{"site": …}` or
    /// `{"conversation_id": …}`).
    pub async fn admin_ticket(&self, key: &str, wanted: Value) -> Result<WsTicket, Reply> {
        let r = self
            .send(
                self.post("/api/v1/admin/ws-ticket")
                    .bearer_auth(key)
                    .json(&wanted),
            )
            .await;
        match r.status {
            200 => Ok(serde_json::from_value(r.body).unwrap()),
            _ => Err(r),
        }
    }

    /// A WebSocket URL of ours with `ticket`.
    pub fn ws_url(&self, path: &str, ticket: &str) -> String {
        format!(
            "{}{path}?ticket={ticket}",
            self.base.replacen("http", "ws", 1)
        )
    }

    /// A fresh single-use WebSocket URL for the visitor's conversation socket.
    pub async fn visitor_ws_url(&self, id: &ConversationId, token: &str) -> String {
        let ticket = self
            .visitor_ticket(id, token)
            .await
            .unwrap_or_else(|r| panic!("visitor ticket refused: {} {:?}", r.status, r.body));
        self.ws_url(&format!("/api/v1/conversations/{id}/ws"), &ticket.ticket)
    }

    /// A fresh single-use WebSocket URL for an agent (the master key) on a conversation.
    pub async fn agent_ws_url(&self, id: &ConversationId) -> String {
        let ticket = self
            .admin_ticket(
                crate::ADMIN_KEY,
                serde_json::json!({ "conversation_id": id, "name": "Ana" }),
            )
            .await
            .unwrap_or_else(|r| panic!("agent ticket refused: {} {:?}", r.status, r.body));
        self.ws_url(&format!("/api/v1/conversations/{id}/ws"), &ticket.ticket)
    }

    /// A fresh single-use URL for `site`'s live feed (the master key).
    pub async fn feed_ws_url(&self, site: &str) -> String {
        let ticket = self
            .admin_ticket(crate::ADMIN_KEY, serde_json::json!({ "site": site }))
            .await
            .unwrap_or_else(|r| panic!("feed ticket refused: {} {:?}", r.status, r.body));
        self.ws_url(&format!("/api/v1/admin/sites/{site}/live"), &ticket.ticket)
    }

    /// The visitor's conversation socket, connected and past `hello`.
    pub async fn visitor_socket(&self, c: &StartedConversation) -> Ws {
        let mut ws = Ws::connect(
            &self
                .visitor_ws_url(&c.conversation_id, &c.visitor_token)
                .await,
            None,
        )
        .await
        .expect("visitor socket");
        ws.hello(0).await;
        ws
    }
}

/// A client WebSocket to the edge.
pub type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A protocol v1 WebSocket client.
pub struct Ws {
    stream: WsStream,
}

/// Why a WebSocket could not be opened: the HTTP status of the refused handshake and its body.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub body: Value,
}

impl Ws {
    /// Connects, optionally sending an `Origin` header as a browser would.
    pub async fn connect(url: &str, origin: Option<&str>) -> Result<Ws, Refused> {
        let mut req = url.into_client_request().unwrap();
        if let Some(o) = origin {
            req.headers_mut().insert("origin", o.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(req).await {
            Ok((stream, _)) => Ok(Ws { stream }),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                let status = resp.status().as_u16();
                let mut body = resp
                    .body()
                    .as_ref()
                    .and_then(|b| serde_json::from_slice(b).ok())
                    .unwrap_or(Value::Null);
                if body.is_null() {
                    body = refusal_body(url, origin).await;
                }
                Err(Refused { status, body })
            }
            Err(e) => panic!("websocket connect failed: {e}"),
        }
    }

    pub async fn send(&mut self, frame: &ClientFrame) {
        self.send_raw(&serde_json::to_string(frame).unwrap()).await;
    }

    /// Sends `text` as a new message and waits (up to 30 s) for its acknowledgement.
    pub async fn say(&mut self, text: &str) {
        self.send(&ClientFrame::Send {
            client_msg_id: client_id(&format!("m{}-{}", std::process::id(), crate::serial())),
            body: text.into(),
            attachments: Vec::new(),
        })
        .await;
        self.recv_until(Duration::from_secs(30), |f| {
            matches!(f, ServerFrame::Ack { .. })
        })
        .await;
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.stream
            .send(WsMessage::text(text.to_owned()))
            .await
            .expect("send frame");
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.stream
            .send(WsMessage::binary(bytes))
            .await
            .expect("send frame");
    }

    /// The next server frame, or `None` on close/timeout. Close frames are reported through
    /// [`Ws::next_event`].
    pub async fn recv(&mut self) -> Option<ServerFrame> {
        match self.next_event(Duration::from_secs(10)).await {
            WsEvent::Frame(f) => Some(f),
            _ => None,
        }
    }

    /// The next text frame as it came, or `None` on close/timeout.
    pub async fn next_text(&mut self, timeout: Duration) -> Option<String> {
        loop {
            match tokio::time::timeout(timeout, self.stream.next()).await {
                Ok(Some(Ok(WsMessage::Text(t)))) => return Some(t.as_str().to_owned()),
                Ok(Some(Ok(WsMessage::Close(_)))) | Ok(None) | Ok(Some(Err(_))) | Err(_) => {
                    return None
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Reads (and drops) frames until the server closes the socket: its close code, or
    /// `None` if it stays open for `timeout`.
    pub async fn closed_within(&mut self, timeout: Duration) -> Option<Option<u16>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) => return Some(None),
                Ok(Some(Ok(WsMessage::Close(c)))) => return Some(c.map(|c| u16::from(c.code))),
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    pub async fn next_event(&mut self, timeout: Duration) -> WsEvent {
        loop {
            match tokio::time::timeout(timeout, self.stream.next()).await {
                Err(_) => return WsEvent::Timeout,
                Ok(None) => {
                    return WsEvent::Closed {
                        code: None,
                        reason: String::new(),
                    }
                }
                Ok(Some(Err(_))) => {
                    return WsEvent::Closed {
                        code: None,
                        reason: String::new(),
                    }
                }
                Ok(Some(Ok(WsMessage::Text(t)))) => {
                    return WsEvent::Frame(
                        serde_json::from_str(t.as_str()).expect("server frames are valid JSON"),
                    )
                }
                Ok(Some(Ok(WsMessage::Close(c)))) => {
                    return WsEvent::Closed {
                        code: c.as_ref().map(|c| u16::from(c.code)),
                        reason: c.map(|c| c.reason.to_string()).unwrap_or_default(),
                    }
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Receives frames until `pred` matches one; panics after `timeout`.
    pub async fn recv_until(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&ServerFrame) -> bool,
    ) -> ServerFrame {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_event(left).await {
                WsEvent::Frame(f) if pred(&f) => return f,
                WsEvent::Frame(_) => continue,
                other => panic!("expected a frame, got {other:?}"),
            }
        }
    }

    /// The next message an agent wrote (within `timeout`).
    pub async fn agent_message(&mut self, timeout: Duration) -> beckon_shared::proto::v1::Message {
        use beckon_shared::proto::v1::Role;
        match self
            .recv_until(
                timeout,
                |f| matches!(f, ServerFrame::Message { message } if message.role == Role::Agent),
            )
            .await
        {
            ServerFrame::Message { message } => message,
            _ => unreachable!("the predicate admits messages only"),
        }
    }

    /// Says hello and collects the replayed messages up to the announced `last_seq`.
    pub async fn hello(&mut self, resume_from: u64) -> Vec<beckon_shared::proto::v1::Message> {
        self.send(&ClientFrame::Hello {
            resume_from: beckon_shared::Seq(resume_from),
        })
        .await;
        let ServerFrame::Welcome { last_seq, .. } = self
            .recv_until(Duration::from_secs(10), |f| {
                matches!(f, ServerFrame::Welcome { .. })
            })
            .await
        else {
            unreachable!()
        };
        let mut out = Vec::new();
        let mut seen = resume_from;
        while seen < last_seq.0 {
            match self.recv().await {
                Some(ServerFrame::Message { message }) => {
                    seen = message.seq.0;
                    out.push(message);
                }
                Some(_) => {}
                None => panic!("replay stopped at {seen} of {}", last_seq.0),
            }
        }
        out
    }

    /// The socket's sending and receiving halves (for load generators).
    pub fn into_parts(
        self,
    ) -> (
        futures_util::stream::SplitSink<WsStream, WsMessage>,
        futures_util::stream::SplitStream<WsStream>,
    ) {
        self.stream.split()
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }

    /// Drops the TCP connection without a closing handshake (a network failure).
    pub fn drop_connection(self) {
        drop(self.stream);
    }
}

/// tungstenite does not keep the body of a refused handshake: ask again over plain HTTP with
/// the same upgrade headers to read the JSON error.
async fn refusal_body(url: &str, origin: Option<&str>) -> Value {
    let mut req = reqwest::Client::new()
        .get(url.replacen("ws", "http", 1))
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    match req.send().await {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

#[derive(Debug)]
pub enum WsEvent {
    Frame(ServerFrame),
    Closed { code: Option<u16>, reason: String },
    Timeout,
}

pub fn client_id(s: &str) -> ClientMsgId {
    ClientMsgId::parse(s).unwrap()
}
