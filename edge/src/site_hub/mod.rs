//! The SiteHub Durable Object: one per site, the site's live room.
//!
//! - **Inbox tabs** hold a WebSocket here (tag `agent`): conversations post [`InboxEvent`]s
//!   after every change and the hub fans them out; the tabs also get the presence list.
//! - **Visitors' chat apps** hold one too (tag `visitor`), which is what "online now" means:
//!   each says where it is (`here`), the hub keeps that in the socket's attachment — memory
//!   and the socket, never storage — and an agent can reach a visitor through it (`push`).
//!   Inbox tabs get the list as it changes, at most every 0.1 s ([`online`]).
//! - Agent availability (how many inbox tabs are open) is told to visitors' apps as it changes
//!   (the `agents_online` rule condition).
//! - **The conversation index**: conversations publish their summary here; the hub fans it out
//!   to inbox tabs and writes the site's rows to D1 in batches ([`index`]).
//!
//! - **Who views what** ([`viewers`]): each inbox tab says which conversation it shows and
//!   whether its person is writing there; every tab is told, so colleagues avoid answering
//!   the same visitor twice.
//!
//! - **Pages seen** ([`pages`]): the page paths a visitor who chatted opened, for a day, for
//!   the inbox's sidebar.
//!
//! Presence lives in socket attachments, so the hub can hibernate between events.

mod index;
mod keys;
mod online;
mod pages;
mod viewers;

use crate::auth;
use crate::error::{Error, Result};
use crate::http;
use crate::storage::search::Text;
use beckon_shared::proto::v1::{
    ConversationSummary, ErrorCode, FeedFrame, HubFrame, InboxEvent, OnlineVisitor, PageSeen,
    PresenceFrame,
};
use beckon_shared::{ConversationId, SiteKey, VisitorId};
use serde::{Deserialize, Serialize};
use worker::{
    durable_object, DurableObject, Env, Headers, Method, Request, RequestInit, Response, State,
    WebSocket, WebSocketIncomingMessage, WebSocketPair,
};

const AGENT: &str = "agent";
const VISITOR: &str = "visitor";
const SITE_TAG: &str = "site:";
/// Header carrying the site key on every call into the hub.
const SITE_HEADER: &str = "x-beckon-site";
/// The admin key an inbox feed or a conversation socket was opened with.
const KEY_HEADER: &str = "x-beckon-key";
/// On `/visitor-pages`: whose.
const VISITOR_HEADER: &str = "x-beckon-visitor";
/// On `/publish`: write the index now, not with the next batch.
const WRITE_NOW_HEADER: &str = "x-beckon-write-now";
/// Longest URL or title kept for a visitor.
const MAX_FIELD: usize = 2048;

#[durable_object]
pub struct SiteHub {
    state: State,
    env: Env,
    /// An index batch is scheduled (the alarm is set).
    batch_scheduled: std::cell::Cell<bool>,
    /// Each visitor socket's allowance of `here` frames (by presence id), as a visitor's
    /// messages: each one is told to every inbox tab. Starts full again after hibernation.
    here_allowance:
        std::cell::RefCell<std::collections::HashMap<String, crate::rate_limit::Bucket>>,
    /// Who is online (memory; `None` until first used after a wake).
    online: std::cell::RefCell<Option<online::Online>>,
    /// When the last presence list went out, or — while one waits — when it will (ms; 0: not
    /// since the wake).
    presence_sent: std::cell::Cell<i64>,
}

/// Where a visitor is now and the pages of their latest visit.
#[derive(Default, Serialize, Deserialize)]
pub struct VisitorPages {
    pub now_on: Option<PageSeen>,
    pub pages: Vec<PageSeen>,
}

/// A hub-internal request to push a frame to one visitor.
#[derive(Serialize, Deserialize)]
struct Push {
    id: String,
    frame: HubFrame,
}

fn clip(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(MAX_FIELD)
        .collect()
}

impl DurableObject for SiteHub {
    fn new(state: State, env: Env) -> Self {
        state
            .storage()
            .sql()
            .exec(index::SCHEMA, None)
            .expect("site hub schema");
        state
            .storage()
            .sql()
            .exec(keys::SCHEMA, None)
            .expect("site hub schema");
        state
            .storage()
            .sql()
            .exec(pages::SCHEMA, None)
            .expect("site hub schema");
        SiteHub {
            state,
            env,
            batch_scheduled: std::cell::Cell::new(false),
            here_allowance: Default::default(),
            online: Default::default(),
            presence_sent: Default::default(),
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        self.write_index().await;
        if let Err(e) = self.prune_pages(http::now_ms()) {
            worker::console_warn!("site hub: old pages not pruned: {e}");
        }
        Response::empty()
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let result: Result<Response> = async {
            match (req.method(), req.path().as_str()) {
                (Method::Get, "/live") => {
                    crate::tickets::spend(&self.state.storage().sql(), &req, http::now_ms())?;
                    let key = req.headers().get(KEY_HEADER)?.unwrap_or_default();
                    let pair = WebSocketPair::new()?;
                    self.state
                        .accept_websocket_with_tags(&pair.server, &[AGENT, &keys::tag(&key)]);
                    let name = req.headers().get(viewers::NAME_HEADER)?;
                    self.join(&pair.server, &key, name)?;
                    send(
                        &pair.server,
                        &InboxEvent::Presence {
                            visitors: self.visitors(),
                        },
                    );
                    // What the index does not show yet (its batch is pending).
                    self.send_pending(&pair.server)?;
                    self.tell_visitors_about_agents(None);
                    Ok(Response::from_websocket(pair.client)?)
                }
                (Method::Get, "/presence") => {
                    let site = req.headers().get(SITE_HEADER)?.unwrap_or_default();
                    let pair = WebSocketPair::new()?;
                    self.state.accept_websocket_with_tags(
                        &pair.server,
                        &[VISITOR, &format!("{SITE_TAG}{site}")],
                    );
                    let id = hex::encode(crate::random::bytes::<12>());
                    let now = http::now_ms();
                    let visitor = OnlineVisitor {
                        id: id.clone(),
                        url: String::new(),
                        title: String::new(),
                        since: now,
                        visitor_id: None,
                    };
                    self.set_online(&pair.server, visitor)?;
                    let agents_online = self.state.get_websockets_with_tag(AGENT).len();
                    send(&pair.server, &HubFrame::Welcome { id, agents_online });
                    Ok(Response::from_websocket(pair.client)?)
                }
                (Method::Get, "/visitors") => {
                    http::json(200, &serde_json::json!({ "visitors": self.visitors() }))
                }
                (Method::Get, "/agents") => http::json(
                    200,
                    &serde_json::json!({ "online": self.state.get_websockets_with_tag(AGENT).len() }),
                ),
                (Method::Post, "/publish") => {
                    let body = req.text().await?;
                    let published: Published =
                        serde_json::from_str(&body).map_err(Error::internal)?;
                    let raw = published.summary.get();
                    let summary: ConversationSummary =
                        serde_json::from_str(raw).map_err(Error::internal)?;
                    let agents = self.state.get_websockets_with_tag(AGENT);
                    let watchers = agents.len();
                    if !agents.is_empty() {
                        let event = format!(r#"{{"type":"conversation","summary":{raw}}}"#);
                        for ws in agents {
                            let _ = ws.send_with_str(&event);
                        }
                    }
                    self.queue_texts(&summary, &published.texts)?;
                    self.queue_index(&summary, raw).await?;
                    if req.headers().get(WRITE_NOW_HEADER)?.is_some() {
                        // Its caller answers an HTTP request next: the list must show it.
                        self.write_index().await;
                    }
                    http::json(200, &serde_json::json!({ "watchers": watchers }))
                }
                (Method::Post, "/tell") => {
                    // An inbox event from the API (work, notes): every inbox tab gets it.
                    let event = req.text().await?;
                    for ws in self.state.get_websockets_with_tag(AGENT) {
                        let _ = ws.send_with_str(&event);
                    }
                    Ok(Response::empty()?.with_status(204))
                }
                (Method::Post, "/watch") => {
                    let key = req.headers().get(KEY_HEADER)?.unwrap_or_default();
                    self.remember(&key, &req.text().await?, http::now_ms())?;
                    Ok(Response::empty()?.with_status(204))
                }
                (Method::Post, "/revoke-key") => {
                    let told = self.revoke(&req.text().await?).await?;
                    http::json(200, &serde_json::json!({ "conversations": told }))
                }
                (Method::Post, "/flush") => {
                    // Its caller reads the index next: all of it, or an error.
                    self.write_all().await?;
                    Ok(Response::empty()?.with_status(204))
                }
                (Method::Get, "/visitor-pages") => {
                    let visitor = req.headers().get(VISITOR_HEADER)?.unwrap_or_default();
                    let pages = self.pages_seen(&visitor, http::now_ms())?;
                    let now_on = self
                        .visitors()
                        .into_iter()
                        .filter(|v| v.visitor_id.as_ref().is_some_and(|id| id.as_str() == visitor))
                        .max_by_key(|v| v.since)
                        .map(|v| PageSeen {
                            at: pages
                                .iter()
                                .rev()
                                .find(|p| p.url == v.url)
                                .map_or(v.since, |p| p.at),
                            url: v.url,
                        });
                    http::json(200, &VisitorPages { now_on, pages })
                }
                (Method::Post, "/forget-visitor") => {
                    self.forget_pages(&req.text().await?, http::now_ms())
                        .await?;
                    Ok(Response::empty()?.with_status(204))
                }
                (Method::Post, "/forget") => {
                    let id = req.text().await?;
                    self.forget_index(&id)?;
                    Ok(Response::empty()?.with_status(204))
                }
                (Method::Post, "/push") => {
                    let push: Push = req.json().await.map_err(Error::internal)?;
                    for ws in self.state.get_websockets_with_tag(VISITOR) {
                        if ws
                            .deserialize_attachment::<OnlineVisitor>()
                            .ok()
                            .flatten()
                            .is_some_and(|v| v.id == push.id)
                        {
                            send(&ws, &push.frame);
                            return Ok(Response::empty()?.with_status(204));
                        }
                    }
                    Err(Error::new(
                        ErrorCode::NotFound,
                        "that visitor has left the site",
                    ))
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
        let WebSocketIncomingMessage::String(text) = message else {
            return Ok(());
        };
        let is_visitor = self.state.get_tags(&ws).iter().any(|t| t == VISITOR);
        if text.len() > 8 * 1024 {
            let _ = ws.close(Some(1009), Some("frame too large"));
            if is_visitor {
                self.went_offline(&ws).await;
            }
            return Ok(());
        }
        if !is_visitor {
            match serde_json::from_str::<FeedFrame>(&text) {
                Ok(FeedFrame::Viewing {
                    conversation_id,
                    typing,
                }) => {
                    if let Err(e) = self.viewing(&ws, conversation_id, typing) {
                        worker::console_warn!("site hub: a tab's viewing not kept: {e}");
                    }
                }
                Ok(FeedFrame::Ping) => send(&ws, &HubFrame::Pong),
                _ => {}
            }
            return Ok(());
        }
        match serde_json::from_str::<PresenceFrame>(&text) {
            Ok(PresenceFrame::Here {
                url,
                title: _,
                since,
                token,
            }) => {
                let Some(mut v) = ws.deserialize_attachment::<OnlineVisitor>()? else {
                    return Ok(());
                };
                if !self.here_allowed(&v.id) {
                    return Ok(());
                }
                // Before a visitor writes, agents see the page's path only: no host, query,
                // fragment or title (where sites put names, emails and tokens).
                v.url = if beckon_shared::text::is_web_url(&url) {
                    clip(&beckon_shared::text::page_path(&url))
                } else {
                    String::new()
                };
                if since > 0 && since <= v.since {
                    v.since = since;
                }
                // A token only names the visitor if it was issued for this very site.
                let site = self
                    .state
                    .get_tags(&ws)
                    .into_iter()
                    .find_map(|t| t.strip_prefix(SITE_TAG).map(str::to_owned));
                v.visitor_id = token
                    .and_then(|t| {
                        http::token_keys(&self.env)
                            .ok()
                            .map(|keys| auth::verify_visitor_token(&keys, &t, http::now_ms()))
                    })
                    .and_then(|claims| claims.ok())
                    .filter(|c| site.as_deref() == Some(c.site.as_str()))
                    .filter(|c| !self.is_forgotten(c.visitor.as_str()).unwrap_or(true))
                    .map(|c| c.visitor);
                if let (Some(visitor), false) = (&v.visitor_id, v.url.is_empty()) {
                    if let Err(e) = self.page_seen(visitor.as_str(), &v.url, http::now_ms()) {
                        worker::console_warn!("site hub: a page seen not kept: {e}");
                    }
                }
                self.set_online(&ws, v)?;
                self.presence_changed().await;
            }
            Ok(PresenceFrame::Ping) => send(&ws, &HubFrame::Pong),
            _ => {}
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
        let tags = self.state.get_tags(&ws);
        let _ = ws.close(Some(1000), Some("closed"));
        if tags.iter().any(|t| t == VISITOR) {
            self.went_offline(&ws).await;
        } else {
            self.tell_visitors_about_agents(Some(&ws));
            self.leave(&ws);
        }
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> worker::Result<()> {
        // A dropped inbox tab leaves its colleagues' view at once.
        if !self.state.get_tags(&ws).iter().any(|t| t == VISITOR) {
            self.leave(&ws);
        } else {
            self.went_offline(&ws).await;
        }
        Ok(())
    }
}

impl SiteHub {
    /// Whether visitor socket `id` may say where it is now (beyond its allowance, a `here`
    /// is dropped: the page it names is told with the next one that fits).
    fn here_allowed(&self, id: &str) -> bool {
        if !crate::rate_limit::enabled(&self.env) {
            return true;
        }
        let now = http::now_ms();
        let mut all = self.here_allowance.borrow_mut();
        let bucket = all
            .entry(id.to_owned())
            .or_insert_with(|| crate::rate_limit::Bucket::full(crate::rate_limit::MESSAGES, now));
        bucket.take(now).is_ok()
    }

    fn tell_visitors_about_agents(&self, closing: Option<&WebSocket>) {
        let online = self
            .state
            .get_websockets_with_tag(AGENT)
            .iter()
            .filter(|ws| Some(*ws) != closing)
            .count();
        for ws in self.state.get_websockets_with_tag(VISITOR) {
            send(&ws, &HubFrame::Agents { online });
        }
    }
}

/// Sends a frame; a socket that is closing cannot be written to, and its close handler
/// cleans up.
fn send(ws: &WebSocket, frame: &impl Serialize) {
    if let Ok(text) = serde_json::to_string(frame) {
        let _ = ws.send_with_str(text);
    }
}

fn stub(env: &Env, site: &SiteKey) -> Result<worker::Stub> {
    Ok(env
        .durable_object("SITE_HUB")?
        .id_from_name(site.as_str())?
        .get_stub()?)
}

/// A request into the hub, with `extra` headers (`upgrade: websocket`, write-now).
async fn call(
    env: &Env,
    site: &SiteKey,
    method: Method,
    path: &str,
    body: Option<String>,
    extra: &[(&str, &str)],
) -> Result<Response> {
    let mut init = RequestInit::new();
    init.with_method(method);
    let headers = Headers::new();
    // The hub is named after its site; it is told which, to check visitor tokens against.
    headers.set(SITE_HEADER, site.as_str())?;
    for (k, v) in extra {
        headers.set(k, v)?;
    }
    init.with_headers(headers);
    if let Some(b) = body {
        init.with_body(Some(b.into()));
    }
    Ok(stub(env, site)?
        .fetch_with_request(Request::new_with_init(
            &format!("https://hub{path}"),
            &init,
        )?)
        .await?)
}

const UPGRADE: &[(&str, &str)] = &[("upgrade", "websocket")];

/// What a conversation publishes: its summary, and its messages the search index lacks.
#[derive(Serialize)]
struct Publish<'a> {
    summary: &'a ConversationSummary,
    texts: &'a [Text],
}

/// [`Publish`] as the hub reads it: the summary kept as it came (inbox tabs get it verbatim).
#[derive(Deserialize)]
struct Published<'a> {
    #[serde(borrow)]
    summary: &'a serde_json::value::RawValue,
    #[serde(default)]
    texts: Vec<Text>,
}

/// Publishes a conversation's new summary: every inbox watching `site` gets it now, and the
/// site's conversation index gets it (with `texts`, for the search index) with the next batch
/// — or before this returns, with `write_now` (an HTTP caller reads the list next). Returns how
/// many inbox tabs watch.
pub async fn publish(
    env: &Env,
    site: &SiteKey,
    summary: &ConversationSummary,
    texts: &[Text],
    write_now: bool,
) -> Result<usize> {
    let body = serde_json::to_string(&Publish { summary, texts }).map_err(Error::internal)?;
    let headers = write_now.then_some([(WRITE_NOW_HEADER, "1")]);
    let mut resp = call(
        env,
        site,
        Method::Post,
        "/publish",
        Some(body),
        headers.as_ref().map_or(&[][..], |h| &h[..]),
    )
    .await?;
    if resp.status_code() >= 400 {
        return Err(Error::internal(format!(
            "site hub answered {}",
            resp.status_code()
        )));
    }
    #[derive(Deserialize)]
    struct Published {
        watchers: usize,
    }
    Ok(resp.json::<Published>().await?.watchers)
}

/// Tells every inbox tab on `site` about `event` (a conversation's work changed, a note).
pub async fn tell(env: &Env, site: &SiteKey, event: &InboxEvent) -> Result<()> {
    let body = serde_json::to_string(event).map_err(Error::internal)?;
    ok(call(env, site, Method::Post, "/tell", Some(body), &[]).await?)
}

/// Writes what `site`'s hub holds for the conversation index now (a caller reads it next).
pub async fn flush(env: &Env, site: &SiteKey) -> Result<()> {
    ok(call(env, site, Method::Post, "/flush", None, &[]).await?)
}

/// Tells `site`'s hub a conversation was deleted: a summary of it waiting for the index is
/// dropped (it would bring the row back).
pub async fn forget(env: &Env, site: &SiteKey, id: &ConversationId) -> Result<()> {
    let resp = call(
        env,
        site,
        Method::Post,
        "/forget",
        Some(id.to_string()),
        &[],
    )
    .await?;
    if resp.status_code() >= 400 {
        return Err(Error::internal(format!(
            "site hub answered {}",
            resp.status_code()
        )));
    }
    Ok(())
}

/// Where `visitor` is on `site` now and the pages of their latest visit.
pub async fn visitor_pages(env: &Env, site: &SiteKey, visitor: &VisitorId) -> Result<VisitorPages> {
    let mut resp = call(
        env,
        site,
        Method::Get,
        "/visitor-pages",
        None,
        &[(VISITOR_HEADER, visitor.as_str())],
    )
    .await?;
    Ok(resp.json().await?)
}

/// Tells `site`'s hub to forget the pages `visitor` was seen on (their data is deleted).
pub async fn forget_visitor(env: &Env, site: &SiteKey, visitor: &VisitorId) -> Result<()> {
    ok(call(
        env,
        site,
        Method::Post,
        "/forget-visitor",
        Some(visitor.to_string()),
        &[],
    )
    .await?)
}

/// Opens an inbox WebSocket on `site`'s hub with `ticket` (the hub spends it).
pub async fn connect(env: &Env, site: &SiteKey, ticket: &crate::auth::Ticket) -> Result<Response> {
    let (key, name) = match &ticket.principal {
        crate::conversation::Principal::Agent { key, name, .. } => (key.as_str(), name),
        crate::conversation::Principal::Visitor { .. } => {
            return Err(Error::code(ErrorCode::Forbidden))
        }
    };
    let spent = crate::tickets::header_value(ticket);
    let name = viewers::encode_name(name.as_deref().unwrap_or_default());
    let headers = [
        ("upgrade", "websocket"),
        (crate::tickets::TICKET_HEADER, spent.as_str()),
        (KEY_HEADER, key),
        (viewers::NAME_HEADER, name.as_str()),
    ];
    call(env, site, Method::Get, "/live", None, &headers).await
}

/// Tells the hub of `meta`'s site that admin key `key` opened a socket in that conversation.
pub async fn watch(env: &Env, meta: &crate::conversation::Meta, key: &str) -> Result<()> {
    let resp = call(
        env,
        &meta.site,
        Method::Post,
        "/watch",
        Some(meta.id.to_string()),
        &[(KEY_HEADER, key)],
    )
    .await?;
    ok(resp)
}

/// Closes every socket admin key `key` holds on `site` (it was revoked).
pub async fn revoke_key(env: &Env, site: &SiteKey, key: &str) -> Result<()> {
    let resp = call(
        env,
        site,
        Method::Post,
        "/revoke-key",
        Some(key.to_owned()),
        &[],
    )
    .await?;
    ok(resp)
}

fn ok(resp: Response) -> Result<()> {
    if resp.status_code() >= 400 {
        return Err(Error::internal(format!(
            "site hub answered {}",
            resp.status_code()
        )));
    }
    Ok(())
}

/// Opens a visitor's presence WebSocket on `site`'s hub.
pub async fn connect_visitor(env: &Env, site: &SiteKey) -> Result<Response> {
    call(env, site, Method::Get, "/presence", None, UPGRADE).await
}

/// Who is on the site now.
pub async fn visitors(env: &Env, site: &SiteKey) -> Result<Vec<OnlineVisitor>> {
    #[derive(Deserialize)]
    struct List {
        visitors: Vec<OnlineVisitor>,
    }
    let mut resp = call(env, site, Method::Get, "/visitors", None, &[]).await?;
    Ok(resp.json::<List>().await?.visitors)
}

/// How many inbox tabs are open.
pub async fn agents_online(env: &Env, site: &SiteKey) -> Result<usize> {
    #[derive(Deserialize)]
    struct Count {
        online: usize,
    }
    let mut resp = call(env, site, Method::Get, "/agents", None, &[]).await?;
    Ok(resp.json::<Count>().await?.online)
}

/// Sends `frame` to one visitor's app; `not_found` if the visitor has left.
pub async fn push(env: &Env, site: &SiteKey, presence_id: &str, frame: &HubFrame) -> Result<()> {
    let body = serde_json::to_string(&Push {
        id: presence_id.to_owned(),
        frame: frame.clone(),
    })
    .map_err(Error::internal)?;
    let mut resp = call(env, site, Method::Post, "/push", Some(body), &[]).await?;
    if resp.status_code() == 404 {
        return Err(Error::new(
            ErrorCode::NotFound,
            "that visitor has left the site",
        ));
    }
    if resp.status_code() >= 400 {
        return Err(Error::internal(format!(
            "site hub answered {}: {}",
            resp.status_code(),
            resp.text().await.unwrap_or_default()
        )));
    }
    Ok(())
}
