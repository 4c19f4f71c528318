//! Fake Messenger Platform (CHANNELS.md §4) for a Page and its linked Instagram account:
//! `POST /{version}/{page-id}/messages` with the Page token as bearer (190 on a bad token),
//! the Send API's payload rules (`recipient.id`, `messaging_type` `RESPONSE` / `UPDATE` /
//! `MESSAGE_TAG` with `tag: HUMAN_AGENT`, exactly one of `text` / `attachment`, Messenger's
//! 2000 characters and Instagram's 1000 bytes), the windows (24 hours after the person's last
//! message for `RESPONSE`/`UPDATE`, 7 days with `HUMAN_AGENT`, else code 10 with subcode
//! 2018278 on Messenger, 2534022 on Instagram), quick replies (at most 13 text replies, titles
//! of at most 20 characters), a wrong Page as code 100 subcode 33, attachments fetched from
//! their URL as Meta does (code 100 subcode 2018008 when the URL cannot be fetched),
//! throttling as code 613, and user profiles (`GET /{version}/{id}?fields=…`). People's files
//! are served from a CDN path signed with an `oh` parameter. Webhooks toward the edge are signed like WhatsApp's.

use super::{has_bearer, serve, take_fault, unix_now, Fault, FaultQueue};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const HOUR_MS: i64 = 3_600_000;

/// Which app a person wrote through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum App {
    Messenger,
    Instagram,
}

/// A message the fake accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    pub message_id: String,
    pub to: String,
    /// `RESPONSE`, `UPDATE` or `MESSAGE_TAG`.
    pub messaging_type: String,
    pub tag: Option<String>,
    pub text: Option<String>,
    /// An attachment's type and the bytes fetched from its URL.
    pub attachment: Option<(String, Vec<u8>)>,
    /// The quick replies' titles.
    pub quick_replies: Vec<String>,
}

struct Person {
    app: App,
    name: String,
    /// When they last wrote (ms).
    last_inbound: i64,
}

struct Inner {
    sent: Vec<Sent>,
    people: HashMap<String, Person>,
    /// People's files on the CDN, by path.
    cdn: HashMap<String, Vec<u8>>,
}

#[derive(Clone)]
struct AppState {
    token: String,
    page_id: String,
    inner: Arc<Mutex<Inner>>,
    faults: FaultQueue,
    ids: Arc<AtomicU64>,
}

pub struct FakeMessenger {
    pub base: String,
    pub token: String,
    pub page_id: String,
    pub instagram_id: String,
    inner: Arc<Mutex<Inner>>,
    pub faults: FaultQueue,
    ids: Arc<AtomicU64>,
    _task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeMessenger {
    fn drop(&mut self) {
        self._task.abort();
    }
}

fn graph_error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> Response {
    let mut error = json!({"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AzFakeTrace"});
    if let Some(s) = subcode {
        error["error_subcode"] = json!(s);
    }
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({ "error": error })),
    )
        .into_response()
}

fn now_ms() -> i64 {
    unix_now() * 1000
}

/// `POST /{v}/{page-id}/messages`.
async fn messages(
    State(s): State<AppState>,
    Path((_version, page)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    match take_fault(&s.faults, "messages") {
        Some(Fault::RateLimited { .. } | Fault::PairRateLimited { .. }) => {
            return graph_error(
                400,
                613,
                None,
                "Calls to this api have exceeded the rate limit.",
            )
        }
        Some(Fault::ServerError) => {
            return graph_error(500, 2, None, "An unexpected error has occurred.")
        }
        Some(Fault::Hang(d)) => {
            tokio::time::sleep(d).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        None => {}
    }
    if !has_bearer(&headers, &s.token) {
        return graph_error(401, 190, None, "Invalid OAuth access token.");
    }
    if page != s.page_id && page != "me" {
        return graph_error(
            400,
            100,
            Some(33),
            "Unsupported post request. Object with ID does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
        );
    }
    let Some(to) = body["recipient"]["id"].as_str().map(str::to_owned) else {
        return graph_error(400, 100, None, "(#100) param recipient must be non-empty.");
    };
    let messaging_type = body["messaging_type"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let tag = body["tag"].as_str().map(str::to_owned);
    let allowed_for = match (messaging_type.as_str(), tag.as_deref()) {
        ("RESPONSE" | "UPDATE", None) => 24 * HOUR_MS,
        ("MESSAGE_TAG", Some("HUMAN_AGENT")) => 7 * 24 * HOUR_MS,
        _ => {
            return graph_error(
                400,
                100,
                None,
                "(#100) messaging_type must be RESPONSE, UPDATE or MESSAGE_TAG with a tag",
            )
        }
    };
    let message = &body["message"];
    let text = message["text"].as_str().map(str::to_owned);
    let attachment = &message["attachment"];
    if text.is_some() == attachment.is_object() {
        return graph_error(
            400,
            100,
            None,
            "(#100) message must have exactly one of text, attachment",
        );
    }
    let app = {
        let inner = s.inner.lock().unwrap();
        let Some(person) = inner.people.get(&to) else {
            return graph_error(400, 100, Some(2018001), "(#100) No matching user found");
        };
        if now_ms() - person.last_inbound >= allowed_for {
            let subcode = match person.app {
                App::Messenger => 2018278,
                App::Instagram => 2534022,
            };
            return graph_error(
                400,
                10,
                Some(subcode),
                "(#10) This message is sent outside of allowed window.",
            );
        }
        person.app
    };
    if let Some(t) = &text {
        let too_long = match app {
            App::Messenger => t.chars().count() > 2000,
            App::Instagram => t.len() > 1000,
        };
        if too_long || t.is_empty() {
            return graph_error(
                400,
                100,
                None,
                "(#100) Length of param message[text] must be less than or equal to the limit",
            );
        }
    }
    // Quick replies: at most 13, each `content_type: text` with a title of at most 20
    // characters and a payload of at most 1000.
    let mut quick_replies = Vec::new();
    if let Some(q) = message.get("quick_replies") {
        let list = q.as_array().cloned().unwrap_or_default();
        let valid = !list.is_empty()
            && list.len() <= 13
            && list.iter().all(|r| {
                r["content_type"] == "text"
                    && r["title"]
                        .as_str()
                        .is_some_and(|t| !t.is_empty() && t.chars().count() <= 20)
                    && r["payload"]
                        .as_str()
                        .is_some_and(|p| !p.is_empty() && p.len() <= 1000)
            });
        if !valid {
            return graph_error(400, 100, None, "(#100) Invalid quick_replies");
        }
        quick_replies = list
            .iter()
            .map(|r| r["title"].as_str().unwrap_or_default().to_owned())
            .collect();
    }
    let fetched = match attachment["type"].as_str() {
        None => None,
        Some(kind) => {
            let allowed = match app {
                App::Messenger => ["image", "video", "audio", "file"].contains(&kind),
                App::Instagram => ["image", "video", "audio"].contains(&kind),
            };
            let url = attachment["payload"]["url"].as_str().unwrap_or_default();
            if !allowed || url.is_empty() {
                return graph_error(400, 100, None, "(#100) Invalid attachment type or URL");
            }
            // Meta fetches the file from its URL.
            let bytes = match reqwest::get(url).await {
                Ok(r) if r.status().is_success() => r.bytes().await.ok().map(|b| b.to_vec()),
                _ => None,
            };
            match bytes {
                Some(b) if !b.is_empty() && b.len() <= 25 * 1024 * 1024 => {
                    Some((kind.to_owned(), b))
                }
                _ => {
                    return graph_error(
                        400,
                        100,
                        Some(2018008),
                        "(#100) Failed to fetch the file from the url",
                    )
                }
            }
        }
    };
    let message_id = format!("m_FAKE{:010}", s.ids.fetch_add(1, Ordering::SeqCst));
    s.inner.lock().unwrap().sent.push(Sent {
        message_id: message_id.clone(),
        to: to.clone(),
        messaging_type,
        tag,
        text,
        attachment: fetched,
        quick_replies,
    });
    Json(json!({"recipient_id": to, "message_id": message_id})).into_response()
}

/// `GET /{v}/{id}?fields=…`: a person's profile (Messenger: `first_name,last_name`;
/// Instagram: `name,username`).
async fn profile(
    State(s): State<AppState>,
    Path((_version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !has_bearer(&headers, &s.token) {
        return graph_error(401, 190, None, "Invalid OAuth access token.");
    }
    let inner = s.inner.lock().unwrap();
    let Some(p) = inner.people.get(&id) else {
        return graph_error(400, 100, Some(33), "Unsupported get request.");
    };
    let (first, last) = p.name.split_once(' ').unwrap_or((&p.name, ""));
    match p.app {
        App::Messenger => Json(json!({"first_name": first, "last_name": last, "id": id})),
        App::Instagram => Json(json!({"name": p.name, "username": first.to_lowercase(), "id": id})),
    }
    .into_response()
}

/// `GET /cdn/{path}?oh=…`: a person's file, only with its signature.
async fn cdn(
    State(s): State<AppState>,
    Path(path): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let inner = s.inner.lock().unwrap();
    match (inner.cdn.get(&path), q.get("oh")) {
        (Some(bytes), Some(oh)) if *oh == signature(&path) => bytes.clone().into_response(),
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

fn signature(path: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(path.as_bytes())[..8])
}

impl FakeMessenger {
    /// The Page `page_id` (and Instagram account `instagram_id`) answering to `token`.
    pub async fn start(token: &str, page_id: &str, instagram_id: &str) -> FakeMessenger {
        let inner = Arc::new(Mutex::new(Inner {
            sent: Vec::new(),
            people: HashMap::new(),
            cdn: HashMap::new(),
        }));
        let faults: FaultQueue = Default::default();
        let ids = Arc::new(AtomicU64::new(1));
        let state = AppState {
            token: token.into(),
            page_id: page_id.into(),
            inner: inner.clone(),
            faults: faults.clone(),
            ids: ids.clone(),
        };
        let app = Router::new()
            .route("/{version}/{page}/messages", post(messages))
            .route("/{version}/{id}", get(profile))
            .route("/cdn/{*path}", get(cdn))
            .with_state(state);
        let (base, task) = serve(app).await;
        FakeMessenger {
            base,
            token: token.into(),
            page_id: page_id.into(),
            instagram_id: instagram_id.into(),
            inner,
            faults,
            ids,
            _task: task,
        }
    }

    /// Meta's clock runs ahead of the edge's: it sees `person`'s last message `hours` older.
    pub fn age(&self, person: &str, hours: i64) {
        if let Some(p) = self.inner.lock().unwrap().people.get_mut(person) {
            p.last_inbound -= hours * HOUR_MS;
        }
    }

    pub fn inject(&self, fault: Fault) {
        self.faults.lock().unwrap().push(fault);
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.inner.lock().unwrap().sent.clone()
    }

    pub fn sent_to(&self, person: &str) -> Vec<Sent> {
        self.sent().into_iter().filter(|s| s.to == person).collect()
    }

    /// The webhook payload of `from` (named `name`) writing `text` through `app`,
    /// `hours_ago` hours ago (their windows open from then), with `files` (kind, name,
    /// bytes) put on the CDN.
    pub fn message_event(
        &self,
        app: App,
        (from, name): (&str, &str),
        text: Option<&str>,
        files: &[(&str, &str, Vec<u8>)],
        hours_ago: i64,
    ) -> (String, Value) {
        let n = self.ids.fetch_add(1, Ordering::SeqCst);
        let mid = format!("m_IN{n:010}");
        let at = now_ms() - hours_ago * HOUR_MS;
        let mut inner = self.inner.lock().unwrap();
        let person = inner.people.entry(from.into()).or_insert(Person {
            app,
            name: name.into(),
            last_inbound: at,
        });
        person.last_inbound = person.last_inbound.max(at);
        let mut attachments = Vec::new();
        for (i, (kind, file, bytes)) in files.iter().enumerate() {
            let path = format!("v/t{n}.{i}/{file}");
            let url = format!("{}/cdn/{path}?oh={}", self.base, signature(&path));
            inner.cdn.insert(path, bytes.clone());
            attachments.push(json!({"type": kind, "payload": {"url": url}}));
        }
        let mut message = json!({"mid": mid});
        if let Some(t) = text {
            message["text"] = json!(t);
        }
        if !attachments.is_empty() {
            message["attachments"] = json!(attachments);
        }
        let account = match app {
            App::Messenger => &self.page_id,
            App::Instagram => &self.instagram_id,
        };
        let event = json!({"sender": {"id": from}, "recipient": {"id": account}, "timestamp": at, "message": message});
        (mid, self.envelope(app, account, vec![event]))
    }

    /// The echo of one of the Page's own messages (which the edge must ignore).
    pub fn echo_event(&self, to: &str, text: &str) -> Value {
        let event = json!({"sender": {"id": self.page_id}, "recipient": {"id": to}, "timestamp": now_ms(),
                           "message": {"mid": "m_ECHO1", "text": text, "is_echo": true, "app_id": 1517776481860111_i64}});
        self.envelope(App::Messenger, &self.page_id, vec![event])
    }

    /// A payload addressed to another Page (`account`).
    pub fn foreign_event(&self, account: &str, from: &str) -> Value {
        let event = json!({"sender": {"id": from}, "recipient": {"id": account}, "timestamp": now_ms(),
                           "message": {"mid": "m_FOREIGN", "text": "hi"}});
        self.envelope(App::Messenger, account, vec![event])
    }

    fn envelope(&self, app: App, account: &str, events: Vec<Value>) -> Value {
        let object = match app {
            App::Messenger => "page",
            App::Instagram => "instagram",
        };
        json!({"object": object, "entry": [{"id": account, "time": now_ms(), "messaging": events}]})
    }

    /// Posts a webhook to the edge, signed with `app_secret` as Meta does.
    pub async fn deliver(url: &str, app_secret: &str, payload: &Value) -> u16 {
        super::whatsapp::FakeWhatsapp::deliver(url, app_secret, payload).await
    }
}
