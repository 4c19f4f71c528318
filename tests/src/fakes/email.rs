//! Fake email API (Resend's `POST /emails`, CHANNELS.md §5.1 c) and the other side of email:
//! the fake checks the bearer key (401), the payload (`from`, `to` ≤ 50, `subject` ≤ 998,
//! `text` or `html`, attachments by `content` in base64 or by `path`, which it fetches as
//! Resend does), honours `Idempotency-Key` (the same key within 24 hours is sent once and
//! answers the same id; the same key with another body is 409 `invalid_idempotent_request`,
//! while the first is still served 409 `concurrent_idempotent_requests`; a key outside 1–256
//! characters is 400 `invalid_idempotency_key`), throttles as 429 with
//! `retry-after`, and records what it sent. `fixture` builds an agent's answer from a fixture
//! (`tests/fixtures/email/*.eml`) and hands it to the edge's email handler
//! (`/cdn-cgi/handler/email`, as `wrangler dev` exposes it).

use super::{has_bearer, serve, take_fault, Fault, FaultQueue};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// An email the fake accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct Mail {
    pub id: String,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub reply_to: Option<String>,
    pub headers: HashMap<String, String>,
    /// (file name, bytes).
    pub attachments: Vec<(String, Vec<u8>)>,
}

impl Mail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Inner {
    sent: Vec<Mail>,
    /// Idempotency key → (body, id).
    keys: HashMap<String, (Value, String)>,
}

#[derive(Clone)]
struct AppState {
    key: String,
    inner: Arc<Mutex<Inner>>,
    faults: FaultQueue,
    ids: Arc<AtomicU64>,
}

pub struct FakeEmail {
    pub base: String,
    pub key: String,
    inner: Arc<Mutex<Inner>>,
    pub faults: FaultQueue,
    _task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeEmail {
    fn drop(&mut self) {
        self._task.abort();
    }
}

fn error(status: u16, name: &str, message: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({"statusCode": status, "name": name, "message": message})),
    )
        .into_response()
}

fn addresses(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(a) => a.iter().map(|x| x.as_str().map(str::to_owned)).collect(),
        _ => None,
    }
}

async fn send(State(s): State<AppState>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    match take_fault(&s.faults, "emails") {
        Some(
            Fault::RateLimited { retry_after_secs } | Fault::PairRateLimited { retry_after_secs },
        ) => {
            let mut r = error(
                429,
                "rate_limit_exceeded",
                "Too many requests. You can only make 2 requests per second.",
            );
            r.headers_mut()
                .insert("retry-after", retry_after_secs.to_string().parse().unwrap());
            return r;
        }
        Some(Fault::ServerError) => {
            return error(
                500,
                "internal_server_error",
                "An unexpected error occurred.",
            )
        }
        Some(Fault::Hang(d)) => {
            tokio::time::sleep(d).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        None => {}
    }
    if !has_bearer(&headers, &s.key) {
        return error(401, "validation_error", "API key is invalid");
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(k) = &key {
        if k.is_empty() || k.len() > 256 {
            return error(
                400,
                "invalid_idempotency_key",
                "The key must be between 1-256 chars.",
            );
        }
        let mut inner = s.inner.lock().unwrap();
        match inner.keys.get(k) {
            Some((_, id)) if id.is_empty() => {
                return error(
                    409,
                    "concurrent_idempotent_requests",
                    "Same idempotency key used while original request is still in progress.",
                )
            }
            Some((seen, id)) => {
                return if *seen == body {
                    Json(json!({ "id": id })).into_response()
                } else {
                    error(
                        409,
                        "invalid_idempotent_request",
                        "Same idempotency key used with a different request payload.",
                    )
                };
            }
            // Reserved while this request is served (its attachments fetched).
            None => {
                inner.keys.insert(k.clone(), (body.clone(), String::new()));
            }
        }
    }
    let accepted = accept(&body).await;
    let mut inner = s.inner.lock().unwrap();
    match accepted {
        Err(refusal) => {
            if let Some(k) = &key {
                inner.keys.remove(k);
            }
            refusal
        }
        Ok(mut mail) => {
            let id = format!(
                "49a3999c-0ce1-4ea6-ab68-{:012}",
                s.ids.fetch_add(1, Ordering::SeqCst)
            );
            if let Some(k) = key {
                inner.keys.insert(k, (body.clone(), id.clone()));
            }
            mail.id = id.clone();
            inner.sent.push(mail);
            Json(json!({ "id": id })).into_response()
        }
    }
}

/// Validates an email as Resend does and fetches its attachments given by `path`.
async fn accept(body: &Value) -> Result<Mail, Response> {
    let (Some(from), Some(to), Some(subject)) = (
        body["from"].as_str(),
        addresses(&body["to"]),
        body["subject"].as_str(),
    ) else {
        return Err(error(
            422,
            "validation_error",
            "from, to and subject are required",
        ));
    };
    if to.is_empty() || to.len() > 50 || subject.is_empty() || subject.chars().count() > 998 {
        return Err(error(
            422,
            "validation_error",
            "to must list 1 to 50 addresses; subject 1 to 998 characters",
        ));
    }
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    if text.is_empty() && body["html"].as_str().is_none() {
        return Err(error(422, "validation_error", "text or html is required"));
    }
    let mut attachments = Vec::new();
    for a in body["attachments"].as_array().into_iter().flatten() {
        let name = a["filename"].as_str().unwrap_or_default().to_owned();
        let bytes = match (a["content"].as_str(), a["path"].as_str()) {
            (Some(c), None) => base64::engine::general_purpose::STANDARD.decode(c).ok(),
            (None, Some(url)) => match reqwest::get(url).await {
                Ok(r) if r.status().is_success() => r.bytes().await.ok().map(|b| b.to_vec()),
                _ => None,
            },
            _ => None,
        };
        match bytes {
            Some(b) if !name.is_empty() => attachments.push((name, b)),
            _ => {
                return Err(error(
                    422,
                    "invalid_attachment",
                    "each attachment needs a filename and a readable content or path",
                ))
            }
        }
    }
    let headers = body["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    Ok(Mail {
        id: String::new(),
        from: from.into(),
        to,
        subject: subject.into(),
        text,
        reply_to: addresses(&body["reply_to"]).and_then(|a| a.into_iter().next()),
        headers,
        attachments,
    })
}

impl FakeEmail {
    pub async fn start(key: &str) -> FakeEmail {
        let inner = Arc::new(Mutex::new(Inner {
            sent: Vec::new(),
            keys: HashMap::new(),
        }));
        let faults: FaultQueue = Default::default();
        let state = AppState {
            key: key.into(),
            inner: inner.clone(),
            faults: faults.clone(),
            ids: Arc::new(AtomicU64::new(1)),
        };
        let app = Router::new().route("/emails", post(send)).with_state(state);
        let (base, task) = serve(app).await;
        FakeEmail {
            base,
            key: key.into(),
            inner,
            faults,
            _task: task,
        }
    }

    pub fn inject(&self, fault: Fault) {
        self.faults.lock().unwrap().push(fault);
    }

    pub fn sent(&self) -> Vec<Mail> {
        self.inner.lock().unwrap().sent.clone()
    }

    /// A fixture from `tests/fixtures/email/` with its placeholders filled: `{{FROM}}`,
    /// `{{TO}}` (the address replied to), `{{IN_REPLY_TO}}` (the Message-ID answered) and
    /// `{{SUBJECT}}`. Line endings become CRLF, as on the wire.
    pub fn fixture(name: &str, from: &str, answering: &Mail) -> String {
        let path = format!("{}/fixtures/email/{name}", env!("CARGO_MANIFEST_DIR"));
        let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        raw.replace("{{FROM}}", from)
            .replace("{{TO}}", answering.reply_to.as_deref().unwrap_or_default())
            .replace(
                "{{IN_REPLY_TO}}",
                answering.header("Message-ID").unwrap_or("<none@example>"),
            )
            .replace("{{SUBJECT}}", &answering.subject)
            .replace("\r\n", "\n")
            .replace('\n', "\r\n")
    }

    /// Hands a raw message to the edge's email handler, as Email Routing would (envelope
    /// `from` and `to`); the handler's HTTP status.
    pub async fn receive(edge: &str, envelope_from: &str, envelope_to: &str, raw: &str) -> u16 {
        reqwest::Client::new()
            .post(format!("{edge}/cdn-cgi/handler/email"))
            .query(&[("from", envelope_from), ("to", envelope_to)])
            .body(raw.to_owned())
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }
}
