//! Loopback fakes of the third-party APIs Beckon relays to, faithful to `CHANNELS.md`: the
//! same paths, JSON shapes, authentication, error bodies and rate-limit hints as the real
//! services, plus the ability to act as an agent by sending correctly signed webhooks to the
//! edge. They record only what they accepted, so "delivered exactly once" is observable.
//!
//! Faults are injected per call: the next N calls answer with a rate limit (with the
//! service's retry hint), a server error, or never answer (a timeout), then normal service
//! resumes.

pub mod discord;
pub mod email;
pub mod messenger;
pub mod slack;
pub mod telegram;
pub mod turnstile;
pub mod webhook;
pub mod whatsapp;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A fault the next call gets instead of normal service.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// The service's rate-limit answer, with its retry hint in seconds.
    RateLimited { retry_after_secs: u64 },
    /// WhatsApp's per-recipient pair rate limit (131056: too many messages to this number);
    /// other services answer it as `RateLimited`.
    PairRateLimited { retry_after_secs: u64 },
    /// HTTP 500.
    ServerError,
    /// Hold the request without answering for this long, then drop it unprocessed.
    Hang(Duration),
}

/// Faults waiting to be served, and a log of every call (accepted or not).
#[derive(Default)]
pub struct Faults {
    queue: VecDeque<Fault>,
    /// (when, what happened) for every call, in order.
    pub calls: Vec<(Instant, String)>,
}

impl Faults {
    pub fn push(&mut self, f: Fault) {
        self.queue.push_back(f);
    }

    /// Drops the faults not served yet.
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    fn next(&mut self) -> Option<Fault> {
        self.queue.pop_front()
    }
}

/// Shared handle to a fake's faults.
pub type FaultQueue = Arc<Mutex<Faults>>;

/// Takes the next fault, logging the call.
pub(crate) fn take_fault(faults: &FaultQueue, call: &str) -> Option<Fault> {
    let mut f = faults.lock().unwrap();
    let fault = f.next();
    let outcome = match &fault {
        None => "served".to_owned(),
        Some(x) => format!("{x:?}"),
    };
    f.calls.push((Instant::now(), format!("{call}: {outcome}")));
    fault
}

/// Serves `app` on a free loopback port; the task stops when the handle drops.
pub(crate) async fn serve(app: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (base, task)
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Whether the request carries `Authorization: Bearer <token>`.
pub(crate) fn has_bearer(headers: &axum::http::HeaderMap, token: &str) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.strip_prefix("Bearer "))
        == Some(token)
}

/// A file sent in a `multipart/form-data` body.
#[derive(Clone, Debug, PartialEq)]
pub struct FormFile {
    pub field: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// Parses a JSON, form-encoded or multipart body into its fields (as JSON strings) and files.
/// `None`: not parseable (a malformed multipart body included, as real APIs refuse it).
pub(crate) async fn form_fields(
    content_type: Option<&str>,
    body: axum::body::Bytes,
) -> Option<(serde_json::Value, Vec<FormFile>)> {
    let Some(boundary) = content_type.and_then(|c| multer::parse_boundary(c).ok()) else {
        return body_json(content_type, &body).map(|v| (v, Vec::new()));
    };
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut parts = multer::Multipart::new(stream, boundary);
    let (mut fields, mut files) = (serde_json::Map::new(), Vec::new());
    while let Some(part) = parts.next_field().await.ok()? {
        let field = part.name()?.to_owned();
        match part.file_name().map(str::to_owned) {
            Some(filename) => files.push(FormFile {
                field,
                filename: Some(filename),
                content_type: part.content_type().map(|m| m.to_string()),
                bytes: part.bytes().await.ok()?.to_vec(),
            }),
            None => {
                let text = part.text().await.ok()?;
                fields.insert(field, serde_json::Value::String(text));
            }
        }
    }
    Some((serde_json::Value::Object(fields), files))
}

/// Parses a JSON or form-encoded body into JSON (Telegram and Slack accept both).
pub(crate) fn body_json(content_type: Option<&str>, body: &[u8]) -> Option<serde_json::Value> {
    if content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
        let map: serde_json::Map<String, serde_json::Value> = url::form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
            .collect();
        return Some(serde_json::Value::Object(map));
    }
    serde_json::from_slice(body).ok()
}
