//! A business's webhook consumer, written from the Standard Webhooks 1.0 specification
//! (CHANNELS.md §6.2): it verifies `webhook-signature` (any `v1,` entry, HMAC-SHA256 over
//! `id.timestamp.body` with the base64 key after `whsec_`, compared in constant time),
//! refuses a `webhook-timestamp` more than 5 minutes from its clock, and dedupes on
//! `webhook-id`. Every accepted event is also checked by the specification's official Rust
//! library (`standardwebhooks`), so the two readings of the spec must agree.
//!
//! Its clock can be moved forward (a replay "ten minutes later" without waiting), its next
//! answers can be faults (503, 429 with `Retry-After`, 410), and it can act as the business's
//! system by signing a reply to the edge.

use super::unix_now;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

/// The spec's tolerance for a delivery's timestamp.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// An event the consumer accepted.
#[derive(Clone, Debug)]
pub struct Event {
    pub id: String,
    pub timestamp: i64,
    /// The `webhook-signature` entries.
    pub signatures: Vec<String>,
    pub body: Value,
    /// The request as it came (to replay it).
    pub raw: Delivery,
}

/// A request as received: headers and raw body.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// What the consumer's next answer is instead of normal service.
#[derive(Clone, Debug)]
pub enum Answer {
    Status(u16),
    RateLimited { retry_after_secs: u64 },
}

#[derive(Default)]
struct Inner {
    secrets: Vec<String>,
    clock_offset_secs: i64,
    faults: VecDeque<Answer>,
    seen: HashSet<String>,
    accepted: Vec<Event>,
    /// Verified deliveries of an id already accepted (retries, replays), deduped.
    duplicates: Vec<Event>,
    /// Every request: (webhook-id, status answered, why).
    log: Vec<(String, u16, String)>,
    /// Files served at `/files/{name}` (for replies that carry one).
    files: Vec<(String, Vec<u8>)>,
}

#[derive(Clone)]
pub struct Consumer {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
    _task: Arc<tokio::task::JoinHandle<()>>,
}

/// Why a delivery was refused, per the spec.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    MissingHeaders,
    TimestampOutOfTolerance,
    NoValidSignature,
}

/// A `whsec_` secret's key bytes.
pub fn key(secret: &str) -> Vec<u8> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("a base64 secret")
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key(secret)).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// The spec's verification of one request against `secrets`, at `now` (unix seconds).
pub fn verify(secrets: &[String], d: &Delivery, now: i64) -> Result<(String, i64), Refusal> {
    let header = |n: &str| d.headers.get(n).and_then(|v| v.to_str().ok());
    let (Some(id), Some(ts), Some(sigs)) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    ) else {
        return Err(Refusal::MissingHeaders);
    };
    let ts: i64 = ts.parse().map_err(|_| Refusal::MissingHeaders)?;
    if (now - ts).abs() > TOLERANCE_SECS {
        return Err(Refusal::TimestampOutOfTolerance);
    }
    for sig in sigs.split(' ') {
        let Some(("v1", b64)) = sig.split_once(',') else {
            continue;
        };
        let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            continue;
        };
        for secret in secrets {
            let mut mac = Hmac::<Sha256>::new_from_slice(&key(secret)).unwrap();
            mac.update(format!("{id}.{ts}.").as_bytes());
            mac.update(&d.body);
            if mac.verify_slice(&expected).is_ok() {
                return Ok((id.to_owned(), ts));
            }
        }
    }
    Err(Refusal::NoValidSignature)
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let d = Delivery { headers, body };
    let mut s = inner.lock().unwrap();
    let id = d
        .headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if let Some(fault) = s.faults.pop_front() {
        return match fault {
            Answer::Status(code) => {
                s.log.push((id, code, "fault".into()));
                (StatusCode::from_u16(code).unwrap(), "fault").into_response()
            }
            Answer::RateLimited { retry_after_secs } => {
                s.log.push((id, 429, "fault".into()));
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", retry_after_secs.to_string())],
                    "slow down",
                )
                    .into_response()
            }
        };
    }
    let now = unix_now() + s.clock_offset_secs;
    let (id, timestamp) = match verify(&s.secrets, &d, now) {
        Ok(v) => v,
        Err(why) => {
            s.log.push((id, 401, format!("{why:?}")));
            return (StatusCode::UNAUTHORIZED, format!("{why:?}")).into_response();
        }
    };
    // The official library agrees (it reads the real clock: only for undelayed deliveries).
    if s.clock_offset_secs == 0 {
        let agreed = s.secrets.iter().any(|secret| {
            standardwebhooks::Webhook::new(secret)
                .and_then(|w| w.verify(&d.body, &d.headers))
                .is_ok()
        });
        if !agreed {
            s.log
                .push((id, 500, "the official library refuses it".into()));
            return (StatusCode::INTERNAL_SERVER_ERROR, "disagreement").into_response();
        }
    }
    let body: Value = serde_json::from_slice(&d.body).expect("a JSON event");
    let signatures = d
        .headers
        .get("webhook-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(' ')
        .map(str::to_owned)
        .collect();
    if !s.seen.insert(id.clone()) {
        s.log.push((id.clone(), 200, "duplicate".into()));
        s.duplicates.push(Event {
            id,
            timestamp,
            signatures,
            body,
            raw: d,
        });
        return (StatusCode::OK, "duplicate").into_response();
    }
    s.log.push((id.clone(), 204, "accepted".into()));
    s.accepted.push(Event {
        id,
        timestamp,
        signatures,
        body,
        raw: d,
    });
    StatusCode::NO_CONTENT.into_response()
}

async fn file(
    State(inner): State<Arc<Mutex<Inner>>>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    let s = inner.lock().unwrap();
    match s.files.iter().find(|(n, _)| *n == name) {
        Some((_, bytes)) => (StatusCode::OK, bytes.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A file that never ends, sent in chunks with no declared length (as a hostile or broken
/// host might): 64 KB of zeros after 64 KB, for as long as the reader reads.
async fn endless() -> Response {
    let chunk = Bytes::from(vec![0u8; 64 * 1024]);
    let chunks = futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
    Response::new(axum::body::Body::from_stream(chunks))
}

impl Consumer {
    /// A consumer at `{base}/hooks/chat` that trusts `secret`.
    pub async fn start(secret: &str) -> Consumer {
        let inner = Arc::new(Mutex::new(Inner {
            secrets: vec![secret.to_owned()],
            ..Inner::default()
        }));
        let app = axum::Router::new()
            .route("/hooks/chat", post(receive))
            .route("/files/{name}", get(file))
            .route("/endless", get(endless))
            .with_state(inner.clone());
        let (base, task) = super::serve(app).await;
        Consumer {
            base,
            inner,
            _task: Arc::new(task),
        }
    }

    pub fn url(&self) -> String {
        format!("{}/hooks/chat", self.base)
    }

    /// The secrets it verifies with (a consumer mid-rotation trusts both).
    pub fn trust(&self, secrets: &[&str]) {
        self.inner.lock().unwrap().secrets = secrets.iter().map(|s| s.to_string()).collect();
    }

    /// Moves its clock forward.
    pub fn advance_clock(&self, secs: i64) {
        self.inner.lock().unwrap().clock_offset_secs += secs;
    }

    pub fn push_fault(&self, a: Answer) {
        self.inner.lock().unwrap().faults.push_back(a);
    }

    /// Serves `bytes` at `{base}/files/{name}`.
    pub fn serve_file(&self, name: &str, bytes: Vec<u8>) -> String {
        self.inner
            .lock()
            .unwrap()
            .files
            .push((name.to_owned(), bytes));
        format!("{}/files/{name}", self.base)
    }

    /// A file at `{base}/endless` that never ends ([`endless`]).
    pub fn endless_file(&self) -> String {
        format!("{}/endless", self.base)
    }

    /// Drops the faults not served yet: normal service resumes.
    pub fn clear_faults(&self) {
        self.inner.lock().unwrap().faults.clear();
    }

    pub fn accepted(&self) -> Vec<Event> {
        self.inner.lock().unwrap().accepted.clone()
    }

    /// Verified repeats of accepted events, which it did not process again.
    pub fn duplicates(&self) -> Vec<Event> {
        self.inner.lock().unwrap().duplicates.clone()
    }

    /// Every request: (webhook-id, status, why).
    pub fn log(&self) -> Vec<(String, u16, String)> {
        self.inner.lock().unwrap().log.clone()
    }

    /// Posts a captured delivery to the consumer again, as an attacker replaying it would;
    /// returns the status it answered.
    pub async fn replay(&self, d: &Delivery) -> u16 {
        let mut req = reqwest::Client::new().post(self.url()).body(d.body.clone());
        for (name, value) in &d.headers {
            if name.as_str().starts_with("webhook-") || name == "content-type" {
                req = req.header(name.as_str(), value.to_str().unwrap());
            }
        }
        req.send().await.unwrap().status().as_u16()
    }

    /// Signs `body` as the business's system and posts it to the edge's `hook` URL, with a
    /// timestamp `age_secs` in the past; returns (status, body).
    pub async fn post_to(
        hook: &str,
        secret: &str,
        id: &str,
        age_secs: i64,
        body: &Value,
    ) -> (u16, String) {
        let raw = body.to_string();
        let ts = unix_now() - age_secs;
        let resp = reqwest::Client::new()
            .post(hook)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", sign(secret, id, ts, raw.as_bytes()))
            .body(raw)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }
}
