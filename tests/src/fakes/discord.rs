//! A loopback Discord (CHANNELS.md §6.1): Execute Webhook into a forum channel —
//! `POST /api/v10/webhooks/{id}/{token}?wait=true[&thread_id=]`, JSON or multipart
//! (`payload_json` + `files[n]`); a post needs `thread_name` (opens a thread: the answer's
//! `channel_id`) or `thread_id`; Discord's error bodies and codes (50027 bad token, 10003
//! unknown channel, 220001 forum needs a thread, 50035 content over 2000, 50006 empty),
//! 429 with `retry_after` and `Retry-After`. Attachments a `/reply` carries are served at
//! `/attachments/{name}`. As the application it signs Interactions with a fixed Ed25519 key.

use super::{form_fields, take_fault, Fault, FaultQueue, FormFile};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use ed25519_dalek::{Signer, SigningKey};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// A message the fake accepted.
#[derive(Clone, Debug)]
pub struct Posted {
    pub id: String,
    /// The thread it landed in.
    pub thread_id: String,
    /// Set when the post opened the thread.
    pub thread_name: Option<String>,
    pub content: String,
    pub allowed_mentions: Value,
    pub files: Vec<FormFile>,
}

#[derive(Default)]
struct Inner {
    threads: HashSet<String>,
    posted: Vec<Posted>,
    files: Vec<(String, Vec<u8>)>,
    next: u64,
}

#[derive(Clone)]
pub struct FakeDiscord {
    pub base: String,
    pub webhook_id: String,
    pub webhook_token: String,
    pub faults: FaultQueue,
    inner: Arc<Mutex<Inner>>,
    _task: Arc<tokio::task::JoinHandle<()>>,
}

#[derive(Clone)]
struct Ctx {
    webhook: (String, String),
    faults: FaultQueue,
    inner: Arc<Mutex<Inner>>,
}

#[derive(Deserialize)]
struct ExecuteQuery {
    #[serde(default)]
    wait: Option<bool>,
    #[serde(default)]
    thread_id: Option<String>,
}

fn error(status: StatusCode, code: u32, message: &str) -> Response {
    (status, Json(json!({"message": message, "code": code}))).into_response()
}

async fn execute(
    State(ctx): State<Ctx>,
    Path((id, token)): Path<(String, String)>,
    Query(q): Query<ExecuteQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match take_fault(&ctx.faults, "execute") {
        Some(Fault::RateLimited { retry_after_secs } | Fault::PairRateLimited { retry_after_secs }) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    ("retry-after", retry_after_secs.to_string()),
                    ("x-ratelimit-limit", "5".to_owned()),
                    ("x-ratelimit-remaining", "0".to_owned()),
                    ("x-ratelimit-reset-after", retry_after_secs.to_string()),
                    ("x-ratelimit-bucket", "abcd1234".to_owned()),
                ],
                Json(json!({"message": "You are being rate limited.", "retry_after": retry_after_secs as f64, "global": false})),
            )
                .into_response()
        }
        Some(Fault::ServerError) => return (StatusCode::BAD_GATEWAY, "upstream error").into_response(),
        Some(Fault::Hang(d)) => {
            tokio::time::sleep(d).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        None => {}
    }
    if (id.as_str(), token.as_str()) != (ctx.webhook.0.as_str(), ctx.webhook.1.as_str()) {
        return error(StatusCode::UNAUTHORIZED, 50027, "Invalid Webhook Token");
    }
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
    let Some((fields, files)) = form_fields(content_type, body).await else {
        return error(
            StatusCode::BAD_REQUEST,
            50109,
            "The request body contains invalid JSON.",
        );
    };
    // Multipart: the JSON is in `payload_json`.
    let payload: Value = match fields.get("payload_json").and_then(Value::as_str) {
        Some(p) => match serde_json::from_str(p) {
            Ok(v) => v,
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    50109,
                    "The request body contains invalid JSON.",
                )
            }
        },
        None => fields,
    };
    let content = payload["content"].as_str().unwrap_or_default().to_owned();
    if content.chars().count() > 2000 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": 50035, "message": "Invalid Form Body",
                "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}})),
        )
            .into_response();
    }
    if content.is_empty() && files.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            50006,
            "Cannot send an empty message",
        );
    }
    let mut s = ctx.inner.lock().unwrap();
    let thread_name = payload["thread_name"].as_str().map(str::to_owned);
    let thread_id = match (&q.thread_id, &thread_name) {
        (Some(t), _) if s.threads.contains(t) => t.clone(),
        (Some(_), _) => return error(StatusCode::NOT_FOUND, 10003, "Unknown Channel"),
        (None, Some(_)) => {
            s.next += 1;
            let t = format!("{}", 1_250_000_000_000_000_000u64 + s.next);
            s.threads.insert(t.clone());
            t
        }
        (None, None) => {
            return error(
                StatusCode::BAD_REQUEST,
                220001,
                "Webhooks posted to forum channels must have a thread_name or thread_id",
            )
        }
    };
    s.next += 1;
    let id = format!("{}", 1_260_000_000_000_000_000u64 + s.next);
    s.posted.push(Posted {
        id: id.clone(),
        thread_id: thread_id.clone(),
        thread_name,
        content: content.clone(),
        allowed_mentions: payload["allowed_mentions"].clone(),
        files: files.clone(),
    });
    if q.wait != Some(true) {
        return StatusCode::NO_CONTENT.into_response();
    }
    let attachments: Vec<Value> = files
        .iter()
        .map(|f| json!({"id": "1", "filename": f.filename, "size": f.bytes.len()}))
        .collect();
    Json(
        json!({"id": id, "type": 0, "channel_id": thread_id, "content": content,
        "webhook_id": ctx.webhook.0, "attachments": attachments}),
    )
    .into_response()
}

async fn attachment(State(ctx): State<Ctx>, Path(name): Path<String>) -> Response {
    let s = ctx.inner.lock().unwrap();
    match s.files.iter().find(|(n, _)| *n == name) {
        Some((_, b)) => (StatusCode::OK, b.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The application's fixed signing key (its public half is what Beckon is given).
pub fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

/// The application's public key, hex.
pub fn public_key() -> String {
    hex::encode(signing_key().verifying_key().to_bytes())
}

impl FakeDiscord {
    pub async fn start(webhook_id: &str, webhook_token: &str) -> FakeDiscord {
        let faults = FaultQueue::default();
        let inner = Arc::new(Mutex::new(Inner::default()));
        let ctx = Ctx {
            webhook: (webhook_id.to_owned(), webhook_token.to_owned()),
            faults: faults.clone(),
            inner: inner.clone(),
        };
        let app = axum::Router::new()
            .route("/api/v10/webhooks/{id}/{token}", post(execute))
            .route("/attachments/{name}", get(attachment))
            .with_state(ctx);
        let (base, task) = super::serve(app).await;
        FakeDiscord {
            base: format!("{base}/api"),
            webhook_id: webhook_id.to_owned(),
            webhook_token: webhook_token.to_owned(),
            faults,
            inner,
            _task: Arc::new(task),
        }
    }

    pub fn posted(&self) -> Vec<Posted> {
        self.inner.lock().unwrap().posted.clone()
    }

    /// Deletes a thread (a moderator did): posts into it get 10003.
    pub fn delete_thread(&self, id: &str) {
        self.inner.lock().unwrap().threads.remove(id);
    }

    /// Serves `bytes` as a Discord attachment; returns its URL.
    pub fn serve_attachment(&self, name: &str, bytes: Vec<u8>) -> String {
        self.inner
            .lock()
            .unwrap()
            .files
            .push((name.to_owned(), bytes));
        format!("{}/attachments/{name}", self.base.trim_end_matches("/api"))
    }

    /// Sends an interaction to `hook` as Discord does, signed with `key` over `timestamp +
    /// body`, the timestamp `age_secs` old; returns (status, answer).
    pub async fn interact(
        hook: &str,
        key: &SigningKey,
        body: &Value,
        age_secs: i64,
    ) -> (u16, Value) {
        let raw = body.to_string();
        let ts = (super::unix_now() - age_secs).to_string();
        let sig = key.sign(&[ts.as_bytes(), raw.as_bytes()].concat());
        let resp = reqwest::Client::new()
            .post(hook)
            .header("content-type", "application/json")
            .header("x-signature-ed25519", hex::encode(sig.to_bytes()))
            .header("x-signature-timestamp", ts)
            .body(raw)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

/// A `/reply` interaction in `thread` by `user`, with `text` and optionally an attachment.
pub fn reply(
    id: &str,
    thread: &str,
    user: &str,
    text: &str,
    file: Option<(&str, &str, u64)>,
) -> Value {
    let mut options = vec![json!({"name": "text", "type": 3, "value": text})];
    let mut resolved = json!({});
    if let Some((url, name, size)) = file {
        options.push(json!({"name": "file", "type": 11, "value": "900"}));
        resolved = json!({"attachments": {"900": {"id": "900", "url": url, "proxy_url": url, "filename": name, "size": size}}});
    }
    json!({"type": 2, "id": id, "application_id": "777", "token": "interaction-token", "version": 1,
        "channel_id": thread, "guild_id": "555",
        "member": {"user": {"id": "321", "username": user.to_lowercase(), "global_name": user}, "roles": []},
        "data": {"id": "888", "name": "reply", "type": 1, "options": options, "resolved": resolved}})
}
