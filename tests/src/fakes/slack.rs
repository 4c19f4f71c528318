//! Fake Slack Web API and Events API sender (CHANNELS.md §3.6): `/api/chat.postMessage`
//! with bearer auth, JSON or form bodies, `{"ok":false,"error":…}` answers (`invalid_auth`,
//! `channel_not_found`, `not_in_channel`), HTTP 429 with `Retry-After`, threads by
//! `thread_ts`; and signed Events API requests (`url_verification`, `event_callback`,
//! retries with `X-Slack-Retry-Num`, stale timestamps) toward the edge. Files (§3.2): the
//! external upload flow — `files.getUploadURLExternal` (form), a loopback pre-signed
//! `upload_url` taking the raw bytes (their length must be the one announced),
//! `files.completeUploadExternal` into a thread —, and agents' `file_share` events whose
//! `url_private_download` needs the bot token.

use super::{body_json, serve, take_fault, unix_now, Fault, FaultQueue};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A message the fake accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct Posted {
    pub channel: String,
    pub ts: String,
    pub thread_ts: Option<String>,
    pub text: String,
    /// Files shared with it: (title, bytes).
    pub files: Vec<(String, Vec<u8>)>,
}

/// A file announced with `files.getUploadURLExternal`.
#[derive(Clone, Default)]
struct SlackFile {
    name: String,
    length: usize,
    bytes: Option<Vec<u8>>,
}

#[derive(Default)]
struct Inner {
    posted: Vec<Posted>,
    /// Channels the bot is a member of.
    channels: Vec<String>,
    /// Answer every call with this error (e.g. `invalid_auth` after a revoked token).
    broken: Option<String>,
    /// Files by id: announced, uploaded, or an agent's.
    files: std::collections::HashMap<String, SlackFile>,
}

impl Inner {
    /// Whether `ts` is a message that can take thread replies (a root, not a reply).
    fn has_root(&self, ts: &str) -> bool {
        self.posted
            .iter()
            .any(|m| m.ts == ts && m.thread_ts.is_none())
    }
}

#[derive(Clone)]
struct AppState {
    token: String,
    inner: Arc<Mutex<Inner>>,
    faults: FaultQueue,
    clock: Arc<AtomicU64>,
}

pub struct FakeSlack {
    pub base: String,
    pub token: String,
    inner: Arc<Mutex<Inner>>,
    pub faults: FaultQueue,
    events: Arc<AtomicU64>,
    _task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        self._task.abort();
    }
}

fn answer(v: Value) -> Response {
    Json(v).into_response()
}

/// The call's arguments (JSON or form), or the answer refusing its token or a fault.
async fn web_api(
    s: &AppState,
    method: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Value, Response> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ct = headers.get("content-type").and_then(|v| v.to_str().ok());
    let p = body_json(ct, body).unwrap_or(Value::Null);
    let token_ok = auth.strip_prefix("Bearer ") == Some(s.token.as_str())
        || p["token"].as_str() == Some(s.token.as_str());
    if !token_ok {
        return Err(answer(
            json!({"ok": false, "error": if auth.is_empty() { "not_authed" } else { "invalid_auth" }}),
        ));
    }
    match take_fault(&s.faults, method) {
        Some(
            Fault::RateLimited { retry_after_secs } | Fault::PairRateLimited { retry_after_secs },
        ) => Err((
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", retry_after_secs.to_string())],
            Json(json!({"ok": false, "error": "ratelimited"})),
        )
            .into_response()),
        Some(Fault::ServerError) => {
            Err((StatusCode::INTERNAL_SERVER_ERROR, "upstream error").into_response())
        }
        Some(Fault::Hang(d)) => {
            tokio::time::sleep(d).await;
            Err(StatusCode::GATEWAY_TIMEOUT.into_response())
        }
        None => Ok(p),
    }
}

async fn post_message(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let p = match web_api(&s, "chat.postMessage", &headers, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut inner = s.inner.lock().unwrap();
    if let Some(e) = &inner.broken {
        return answer(json!({"ok": false, "error": e}));
    }
    let Some(channel) = p["channel"].as_str() else {
        return answer(json!({"ok": false, "error": "channel_not_found"}));
    };
    if !channel.starts_with('C') {
        return answer(json!({"ok": false, "error": "channel_not_found"}));
    }
    if !inner.channels.iter().any(|c| c == channel) {
        return answer(json!({"ok": false, "error": "not_in_channel"}));
    }
    let Some(text) = p["text"].as_str().filter(|t| !t.is_empty()) else {
        return answer(json!({"ok": false, "error": "no_text"}));
    };
    if text.len() > 40_000 {
        return answer(json!({"ok": false, "error": "msg_too_long"}));
    }
    let thread_ts = p["thread_ts"].as_str().map(str::to_owned);
    if thread_ts.as_ref().is_some_and(|t| !inner.has_root(t)) {
        return answer(json!({"ok": false, "error": "thread_not_found"}));
    }
    let n = s.clock.fetch_add(1, Ordering::SeqCst);
    let ts = format!("{}.{:06}", unix_now(), n % 1_000_000);
    inner.posted.push(Posted {
        channel: channel.into(),
        ts: ts.clone(),
        thread_ts: thread_ts.clone(),
        text: text.into(),
        files: Vec::new(),
    });
    answer(json!({"ok": true, "channel": channel, "ts": ts,
                  "message": {"type": "message", "subtype": "bot_message", "bot_id": "B0BECKON", "text": text, "ts": ts, "thread_ts": thread_ts}}))
}

/// `files.getUploadURLExternal`: `filename` and `length` → a pre-signed loopback URL.
async fn get_upload_url(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let p = match web_api(&s, "files.getUploadURLExternal", &headers, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let length = p["length"].as_str().and_then(|l| l.parse::<usize>().ok());
    let (Some(name), Some(length)) = (p["filename"].as_str(), length) else {
        return answer(json!({"ok": false, "error": "invalid_arguments"}));
    };
    let n = s.clock.fetch_add(1, Ordering::SeqCst);
    let id = format!("F{n:09}");
    s.inner.lock().unwrap().files.insert(
        id.clone(),
        SlackFile {
            name: name.into(),
            length,
            bytes: None,
        },
    );
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    answer(
        json!({"ok": true, "upload_url": format!("http://{host}/upload/v1/{id}"), "file_id": id}),
    )
}

/// The pre-signed upload URL: the raw bytes (no token), of the announced length.
async fn upload(State(s): State<AppState>, Path(id): Path<String>, body: Bytes) -> Response {
    let mut inner = s.inner.lock().unwrap();
    let Some(file) = inner.files.get_mut(&id) else {
        return (StatusCode::NOT_FOUND, "unknown upload").into_response();
    };
    if body.len() != file.length {
        return (StatusCode::BAD_REQUEST, "length mismatch").into_response();
    }
    file.bytes = Some(body.to_vec());
    (StatusCode::OK, format!("OK - {}", body.len())).into_response()
}

/// `files.completeUploadExternal`: uploaded files shared into a channel or a thread.
async fn complete_upload(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let p = match web_api(&s, "files.completeUploadExternal", &headers, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    // With form encoding `files` is a JSON string.
    let files = match &p["files"] {
        Value::String(j) => serde_json::from_str(j).unwrap_or(Value::Null),
        v => v.clone(),
    };
    let mut inner = s.inner.lock().unwrap();
    let Some(channel) = p["channel_id"].as_str().map(str::to_owned) else {
        return answer(json!({"ok": false, "error": "invalid_channel"}));
    };
    if !inner.channels.contains(&channel) {
        return answer(json!({"ok": false, "error": "not_in_channel"}));
    }
    let thread_ts = p["thread_ts"].as_str().map(str::to_owned);
    if thread_ts.as_ref().is_some_and(|t| !inner.has_root(t)) {
        return answer(json!({"ok": false, "error": "invalid_thread_ts"}));
    }
    let mut shared = Vec::new();
    for f in files.as_array().into_iter().flatten() {
        let id = f["id"].as_str().unwrap_or_default();
        let Some(bytes) = inner.files.get(id).and_then(|x| x.bytes.clone()) else {
            return answer(json!({"ok": false, "error": "file_not_found"}));
        };
        let title = f["title"].as_str().map(str::to_owned);
        shared.push((
            id.to_owned(),
            title.unwrap_or_else(|| inner.files[id].name.clone()),
            bytes,
        ));
    }
    if shared.is_empty() {
        return answer(json!({"ok": false, "error": "invalid_arguments"}));
    }
    let n = s.clock.fetch_add(1, Ordering::SeqCst);
    inner.posted.push(Posted {
        channel,
        ts: format!("{}.{:06}", unix_now(), n % 1_000_000),
        thread_ts,
        text: p["initial_comment"].as_str().unwrap_or_default().into(),
        files: shared
            .iter()
            .map(|(_, t, b)| (t.clone(), b.clone()))
            .collect(),
    });
    answer(
        json!({"ok": true, "files": shared.iter().map(|(id, t, _)| json!({"id": id, "title": t})).collect::<Vec<_>>()}),
    )
}

/// `url_private_download` of an agent's file: needs the bot token.
async fn private_file(
    State(s): State<AppState>,
    Path((id, _name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !super::has_bearer(&headers, &s.token) {
        // Slack answers an HTML sign-in page, not the file.
        return (
            StatusCode::OK,
            [("content-type", "text/html")],
            "<html>sign in</html>",
        )
            .into_response();
    }
    match s
        .inner
        .lock()
        .unwrap()
        .files
        .get(&id)
        .and_then(|f| f.bytes.clone())
    {
        Some(b) => b.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl FakeSlack {
    /// A workspace where the bot (token `token`) is a member of `channels`.
    pub async fn start(token: &str, channels: &[&str]) -> FakeSlack {
        let inner = Arc::new(Mutex::new(Inner {
            channels: channels.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        }));
        let faults: FaultQueue = Default::default();
        let state = AppState {
            token: token.into(),
            inner: inner.clone(),
            faults: faults.clone(),
            clock: Arc::new(AtomicU64::new(1)),
        };
        let app = Router::new()
            .route("/api/chat.postMessage", post(post_message))
            .route("/api/files.getUploadURLExternal", post(get_upload_url))
            .route("/api/files.completeUploadExternal", post(complete_upload))
            .route("/upload/v1/{id}", post(upload))
            .route("/files-pri/{id}/{name}", get(private_file))
            .with_state(state);
        let (base, task) = serve(app).await;
        FakeSlack {
            base: format!("{base}/api"),
            token: token.into(),
            inner,
            faults,
            events: Arc::new(AtomicU64::new(1)),
            _task: task,
        }
    }

    pub fn inject(&self, fault: Fault) {
        self.faults.lock().unwrap().push(fault);
    }

    /// Every later call answers `{"ok":false,"error":error}` (a revoked token, a kicked bot).
    pub fn break_with(&self, error: Option<&str>) {
        self.inner.lock().unwrap().broken = error.map(str::to_owned);
    }

    pub fn posted(&self) -> Vec<Posted> {
        self.inner.lock().unwrap().posted.clone()
    }

    /// An agent's reply in a thread, as an Events API `event_callback`.
    pub fn reply_event(&self, channel: &str, thread_ts: &str, user: &str, text: &str) -> Value {
        let n = self.events.fetch_add(1, Ordering::SeqCst);
        let ts = format!("{}.{:06}", unix_now(), 500_000 + n);
        json!({"token": "XXYYZZ", "team_id": "T123ABC456", "api_app_id": "A123ABC456", "type": "event_callback",
               "event_id": format!("Ev{n:08}"), "event_time": unix_now(),
               "authorizations": [{"team_id": "T123ABC456", "user_id": "U0BOTUSER", "is_bot": true, "is_enterprise_install": false}],
               "event": {"type": "message", "channel": channel, "channel_type": "channel", "user": user, "text": text,
                         "ts": ts, "thread_ts": thread_ts, "parent_user_id": "U0BOTUSER", "event_ts": ts}})
    }

    /// An agent's message with files in a thread (`subtype: file_share`), as an Events API
    /// `event_callback`; each file is downloadable with the bot token.
    pub fn file_share_event(
        &self,
        (channel, thread_ts): (&str, &str),
        user: &str,
        text: &str,
        files: &[(&str, &str, Vec<u8>)],
    ) -> Value {
        let mut event = self.reply_event(channel, thread_ts, user, text);
        let mut described = Vec::new();
        let mut inner = self.inner.lock().unwrap();
        for (name, mime, bytes) in files {
            let n = self.events.fetch_add(1, Ordering::SeqCst);
            let id = format!("FA{n:08}");
            inner.files.insert(
                id.clone(),
                SlackFile {
                    name: name.to_string(),
                    length: bytes.len(),
                    bytes: Some(bytes.clone()),
                },
            );
            let base = self.base.trim_end_matches("/api");
            described.push(
                json!({"id": id, "name": name, "title": name, "mimetype": mime, "size": bytes.len(),
                                  "url_private": format!("{base}/files-pri/{id}/{name}"),
                                  "url_private_download": format!("{base}/files-pri/{id}/{name}")}),
            );
        }
        event["event"]["subtype"] = "file_share".into();
        event["event"]["files"] = described.into();
        event
    }

    /// `v0=` signature of `body` at `timestamp`.
    pub fn sign(signing_secret: &str, timestamp: i64, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(signing_secret.as_bytes()).unwrap();
        mac.update(format!("v0:{timestamp}:{body}").as_bytes());
        format!("v0={}", hex::encode(mac.finalize().into_bytes()))
    }

    /// Sends a signed Events API request; `retry` sets `X-Slack-Retry-Num`. Returns status and
    /// body.
    pub async fn deliver(
        url: &str,
        signing_secret: &str,
        timestamp: i64,
        payload: &Value,
        retry: Option<u32>,
    ) -> (u16, String) {
        let body = payload.to_string();
        let mut req = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("X-Slack-Request-Timestamp", timestamp.to_string())
            .header(
                "X-Slack-Signature",
                Self::sign(signing_secret, timestamp, &body),
            )
            .body(body);
        if let Some(n) = retry {
            req = req
                .header("X-Slack-Retry-Num", n.to_string())
                .header("X-Slack-Retry-Reason", "http_timeout");
        }
        match req.send().await {
            Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
            Err(_) => (0, String::new()),
        }
    }
}
