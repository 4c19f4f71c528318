//! Fake WhatsApp Cloud API (CHANNELS.md §1.9): `POST /{version}/{phone-number-id}/messages`
//! with bearer auth (190 on a bad token), payload validation, Graph error bodies, the 24-hour
//! customer-service window (free-form text to a user whose window is closed fails with
//! 131047; approved templates always go), throttling as code 130429; and webhooks toward the
//! edge (GET handshake, messages with `context.id`, statuses) signed with both
//! `X-Hub-Signature-256` and the legacy `X-Hub-Signature`. Media (§1.3–1.4): multipart
//! uploads to `/{pnid}/media` within WhatsApp's kinds and limits (131053 otherwise),
//! `image` / `video` / `document` messages by media id, `GET /{media-id}` → a URL on
//! `/media-bytes/{id}` that needs the bearer token; agents' media messages.

use super::{form_fields, has_bearer, serve, take_fault, unix_now, Fault, FaultQueue, FormFile};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A message the fake accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    pub wamid: String,
    pub to: String,
    /// `text` or `template`.
    pub kind: String,
    /// The text body, or the template's body parameters joined with " | ".
    pub text: String,
    pub template: Option<String>,
    /// A media message's kind (`image`, `video`, `document`), file (as uploaded) and filename.
    pub media: Option<(String, FormFile, Option<String>)>,
    /// When the fake accepted it (for throughput measurements).
    pub at: Instant,
    /// The same, in seconds since the epoch: the time its "sent" status gives.
    pub unix: i64,
}

struct Inner {
    sent: Vec<Sent>,
    /// When each user last wrote to the business number.
    windows: HashMap<String, Instant>,
    /// Refuse this many upcoming free-form sends with 131047 regardless of the window.
    force_reengagement: u32,
    /// Accept the next send, then hold its answer this long (it arrived; the caller does not
    /// know yet).
    answer_late: Option<Duration>,
    templates: Vec<String>,
    /// Templates of the business account (`message_templates`), by name.
    specs: HashMap<String, TemplateSpec>,
    /// Media by id: uploaded by the business, or an agent's (for download).
    media: HashMap<String, FormFile>,
    /// Numbers WhatsApp knows by another `wa_id` (a Brazilian mobile registered before the
    /// ninth digit): sends to them answer with it.
    wa_ids: HashMap<String, String>,
    /// Numbers every send to which is refused with the pair rate limit (131056) until then.
    pair_limited: HashMap<String, Instant>,
}

/// A template as the business account holds it.
#[derive(Clone, Debug)]
struct TemplateSpec {
    language: String,
    status: String,
    /// `IMAGE`, `VIDEO`, `DOCUMENT` or none.
    header: Option<String>,
    body_parameters: usize,
    /// Its buttons: (`QUICK_REPLY` or `URL`, text, url).
    buttons: Vec<(String, String, Option<String>)>,
}

#[derive(Clone)]
struct AppState {
    token: String,
    phone_number_id: String,
    inner: Arc<Mutex<Inner>>,
    faults: FaultQueue,
    ids: Arc<AtomicU64>,
}

pub struct FakeWhatsapp {
    pub base: String,
    pub token: String,
    pub phone_number_id: String,
    inner: Arc<Mutex<Inner>>,
    pub faults: FaultQueue,
    ids: Arc<AtomicU64>,
    _task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeWhatsapp {
    fn drop(&mut self) {
        self._task.abort();
    }
}

fn graph_error(status: u16, code: i64, message: &str, details: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(
            json!({"error": {"message": message, "type": "OAuthException", "code": code,
                               "error_data": {"messaging_product": "whatsapp", "details": details},
                               "fbtrace_id": "AzFakeTrace"}}),
        ),
    )
        .into_response()
}

/// The version path segment, the bearer token and (for calls on a number) the phone number
/// id, as Graph checks them.
fn refused(
    s: &AppState,
    version: &str,
    pnid: Option<&str>,
    headers: &HeaderMap,
) -> Option<Response> {
    let version_ok = version.strip_prefix('v').is_some_and(|v| {
        v.split('.').count() == 2 && v.split('.').all(|p| p.parse::<u32>().is_ok())
    });
    if !version_ok {
        return Some(graph_error(
            400,
            2500,
            "Unknown path components",
            "bad version",
        ));
    }
    if !has_bearer(headers, &s.token) {
        return Some(graph_error(
            401,
            190,
            "Invalid OAuth access token.",
            "The access token could not be decrypted",
        ));
    }
    if pnid.is_some_and(|p| p != s.phone_number_id) {
        return Some(graph_error(
            400,
            100,
            "Unsupported post request.",
            "unknown phone number id",
        ));
    }
    None
}

/// `POST /{v}/{pnid}/media`: a multipart upload → `{"id"}`.
async fn upload(
    State(s): State<AppState>,
    Path((version, pnid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = refused(&s, &version, Some(&pnid), &headers) {
        return r;
    }
    let ct = headers.get("content-type").and_then(|v| v.to_str().ok());
    let Some((fields, files)) = form_fields(ct, body).await else {
        return graph_error(400, 100, "Invalid parameter", "not a multipart body");
    };
    let Some(file) = files.into_iter().find(|f| f.field == "file") else {
        return graph_error(400, 100, "Invalid parameter", "file is required");
    };
    if fields["messaging_product"] != "whatsapp" || fields["type"].as_str().is_none() {
        return graph_error(
            400,
            100,
            "Invalid parameter",
            "messaging_product and type are required",
        );
    }
    const MB: usize = 1024 * 1024;
    let limit = match fields["type"].as_str().unwrap_or_default() {
        "image/jpeg" | "image/png" => 5 * MB,
        "video/mp4" | "video/3gpp" => 16 * MB,
        "application/pdf"
        | "text/plain"
        | "application/msword"
        | "application/vnd.ms-excel"
        | "application/vnd.ms-powerpoint" => 100 * MB,
        t if t.starts_with("application/vnd.openxmlformats-officedocument.") => 100 * MB,
        _ => 0,
    };
    if file.bytes.is_empty() || file.bytes.len() > limit {
        return graph_error(
            400,
            131053,
            "(#131053) Media upload error",
            "Unsupported file type or size",
        );
    }
    let id = format!(
        "{}",
        4490709327384033u64 + s.ids.fetch_add(1, Ordering::SeqCst)
    );
    s.inner.lock().unwrap().media.insert(id.clone(), file);
    Json(json!({ "id": id })).into_response()
}

/// `GET /{v}/{waba-id}/message_templates?name=`: the account's templates of that name.
async fn list_templates(
    State(s): State<AppState>,
    Path((version, _waba)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refused(&s, &version, None, &headers) {
        return r;
    }
    let inner = s.inner.lock().unwrap();
    let data: Vec<Value> = inner
        .specs
        .iter()
        .filter(|(name, _)| q.get("name").is_none_or(|n| n == *name))
        .map(|(name, t)| {
            let mut components = Vec::new();
            if let Some(h) = &t.header {
                components.push(json!({"type": "HEADER", "format": h}));
            }
            let body: Vec<String> = (1..=t.body_parameters).map(|i| format!("{{{{{i}}}}}")).collect();
            components.push(json!({"type": "BODY", "text": format!("Sale! {}", body.join(" "))}));
            if !t.buttons.is_empty() {
                let buttons: Vec<Value> = t
                    .buttons
                    .iter()
                    .map(|(k, text, url)| match url {
                        Some(u) => json!({"type": k, "text": text, "url": u}),
                        None => json!({"type": k, "text": text}),
                    })
                    .collect();
                components.push(json!({"type": "BUTTONS", "buttons": buttons}));
            }
            json!({"name": name, "language": t.language, "status": t.status, "category": "MARKETING",
                   "id": "1234", "components": components})
        })
        .collect();
    Json(json!({ "data": data })).into_response()
}

/// `GET /{v}/{media-id}`: where the media can be downloaded (a URL that needs the token).
async fn locate(
    State(s): State<AppState>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refused(&s, &version, None, &headers) {
        return r;
    }
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    match s.inner.lock().unwrap().media.get(&id) {
        Some(f) => Json(json!({"messaging_product": "whatsapp", "url": format!("http://{host}/media-bytes/{id}"),
                               "mime_type": f.content_type, "sha256": "fake", "file_size": f.bytes.len().to_string(), "id": id}))
            .into_response(),
        None => graph_error(400, 100, "Unsupported get request.", "no such media"),
    }
}

/// `GET /media-bytes/{id}` with the bearer token: the bytes.
async fn media_bytes(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !has_bearer(&headers, &s.token) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match s.inner.lock().unwrap().media.get(&id) {
        Some(f) => f.bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn messages(
    State(s): State<AppState>,
    Path((version, pnid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = refused(&s, &version, Some(&pnid), &headers) {
        return r;
    }
    match take_fault(&s.faults, "messages") {
        Some(Fault::RateLimited { .. }) => {
            return graph_error(400, 130429, "(#130429) Rate limit hit", "Message failed to send because there were too many messages sent from this phone number in a short period of time")
        }
        Some(Fault::PairRateLimited { .. }) => {
            return graph_error(400, 131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit", "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time")
        }
        Some(Fault::ServerError) => return graph_error(500, 2, "Service temporarily unavailable", "temporary"),
        Some(Fault::Hang(d)) => {
            tokio::time::sleep(d).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        None => {}
    }
    let to = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b["to"].as_str().map(str::to_owned));
    let limited = to.and_then(|to| s.inner.lock().unwrap().pair_limited.get(&to).copied());
    if limited.is_some_and(|until| Instant::now() < until) {
        return graph_error(400, 131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit", "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time");
    }
    let answer = accept(&s, &body);
    let late = match answer.status().is_success() {
        true => s.inner.lock().unwrap().answer_late.take(),
        false => None,
    };
    if let Some(late) = late {
        tokio::time::sleep(late).await;
    }
    answer
}

/// The answer to a send: taken (recorded in `sent`) or refused.
fn accept(s: &AppState, body: &[u8]) -> Response {
    let Ok(p) = serde_json::from_slice::<Value>(body) else {
        return graph_error(400, 100, "Invalid parameter", "body is not JSON");
    };
    if p["messaging_product"] != "whatsapp" {
        return graph_error(
            400,
            100,
            "Invalid parameter",
            "messaging_product must be whatsapp",
        );
    }
    let Some(to) = p["to"]
        .as_str()
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
    else {
        return graph_error(400, 100, "Invalid parameter", "to must be a phone number");
    };
    let mut inner = s.inner.lock().unwrap();
    let window_open = inner
        .windows
        .get(to)
        .is_some_and(|t| t.elapsed() < Duration::from_secs(24 * 3600));
    let kind = p["type"].as_str().unwrap_or_default().to_owned();
    if matches!(kind.as_str(), "text" | "image" | "video" | "document")
        && (!window_open || inner.force_reengagement > 0)
    {
        inner.force_reengagement = inner.force_reengagement.saturating_sub(1);
        return graph_error(400, 131047, "Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number.");
    }
    let mut media = None;
    let (kind, text, template) = match p["type"].as_str() {
        Some("text") => {
            let Some(body) = p["text"]["body"].as_str().filter(|b| !b.is_empty()) else {
                return graph_error(400, 100, "Invalid parameter", "text.body is required");
            };
            if body.chars().count() > 4096 {
                return graph_error(
                    400,
                    100,
                    "Invalid parameter",
                    "Param text['body'] must be at most 4096 characters long.",
                );
            }
            ("text", body.to_owned(), None)
        }
        Some(k @ ("image" | "video" | "document")) => {
            let object = &p[k];
            let Some(file) = object["id"].as_str().and_then(|id| inner.media.get(id)) else {
                return graph_error(
                    400,
                    131053,
                    "(#131053) Media upload error",
                    "unknown media id",
                );
            };
            let caption = object["caption"].as_str().unwrap_or_default();
            if caption.chars().count() > 1024 {
                return graph_error(400, 100, "Invalid parameter", "caption too long");
            }
            media = Some((
                k.to_owned(),
                file.clone(),
                object["filename"].as_str().map(str::to_owned),
            ));
            (k, caption.to_owned(), None)
        }
        Some("template") => {
            let name = p["template"]["name"].as_str().unwrap_or("");
            if !inner.templates.iter().any(|t| t == name)
                || p["template"]["language"]["code"].as_str().is_none()
            {
                return graph_error(
                    404,
                    132001,
                    "Template name does not exist in the translation",
                    "template not approved",
                );
            }
            let params: Vec<String> = p["template"]["components"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["type"] == "body")
                .flat_map(|c| c["parameters"].as_array().cloned().unwrap_or_default())
                .filter_map(|x| x["text"].as_str().map(str::to_owned))
                .collect();
            if let Some(spec) = inner.specs.get(name) {
                if p["template"]["language"]["code"] != spec.language.as_str() {
                    return graph_error(
                        404,
                        132001,
                        "Template name does not exist in the translation",
                        "language",
                    );
                }
                if params.len() != spec.body_parameters {
                    return graph_error(
                        400,
                        132000,
                        "Number of parameters does not match the expected number of params",
                        "body",
                    );
                }
                // Quick-reply payloads only on the template's quick-reply buttons.
                for c in p["template"]["components"].as_array().into_iter().flatten() {
                    if c["type"] != "button" {
                        continue;
                    }
                    let index = c["index"].as_str().and_then(|i| i.parse::<usize>().ok());
                    let fits = index
                        .and_then(|i| spec.buttons.get(i))
                        .is_some_and(|(k, _, _)| {
                            *k == c["sub_type"].as_str().unwrap_or_default().to_uppercase()
                        })
                        && c["parameters"][0]["payload"].is_string();
                    if !fits {
                        return graph_error(
                            400,
                            132000,
                            "Number of parameters does not match the expected number of params",
                            "button",
                        );
                    }
                }
                if let Some(h) = &spec.header {
                    let kind = h.to_lowercase();
                    let header = p["template"]["components"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|c| c["type"] == "header")
                        .map(|c| c["parameters"][0][kind.as_str()]["id"].clone())
                        .unwrap_or_default();
                    let Some(file) = header.as_str().and_then(|id| inner.media.get(id)) else {
                        return graph_error(
                            400,
                            132012,
                            "Parameter format does not match format in the created template",
                            "header media",
                        );
                    };
                    media = Some((kind, file.clone(), None));
                }
            }
            ("template", params.join(" | "), Some(name.to_owned()))
        }
        _ => return graph_error(400, 100, "Invalid parameter", "unsupported type"),
    };
    let wamid = format!("wamid.FAKE{:010}", s.ids.fetch_add(1, Ordering::SeqCst));
    inner.sent.push(Sent {
        wamid: wamid.clone(),
        to: to.into(),
        kind: kind.into(),
        text,
        template,
        media,
        at: Instant::now(),
        unix: unix_now(),
    });
    let wa_id = inner.wa_ids.get(to).map_or(to, String::as_str);
    Json(
        json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": wa_id}],
                "messages": [{"id": wamid, "message_status": "accepted"}]}),
    )
    .into_response()
}

impl FakeWhatsapp {
    /// A business number `phone_number_id` with the approved `templates`.
    pub async fn start(token: &str, phone_number_id: &str, templates: &[&str]) -> FakeWhatsapp {
        let inner = Arc::new(Mutex::new(Inner {
            sent: Vec::new(),
            windows: HashMap::new(),
            force_reengagement: 0,
            answer_late: None,
            templates: templates.iter().map(|t| t.to_string()).collect(),
            specs: HashMap::new(),
            media: HashMap::new(),
            wa_ids: HashMap::new(),
            pair_limited: HashMap::new(),
        }));
        let faults: FaultQueue = Default::default();
        let ids = Arc::new(AtomicU64::new(1));
        let state = AppState {
            token: token.into(),
            phone_number_id: phone_number_id.into(),
            inner: inner.clone(),
            faults: faults.clone(),
            ids: ids.clone(),
        };
        let app = Router::new()
            .route("/{version}/{pnid}/messages", post(messages))
            .route("/{version}/{pnid}/media", post(upload))
            .route("/{version}/{id}", get(locate))
            .route("/{version}/{waba}/message_templates", get(list_templates))
            .route("/media-bytes/{id}", get(media_bytes))
            .with_state(state);
        let (base, task) = serve(app).await;
        FakeWhatsapp {
            base,
            token: token.into(),
            phone_number_id: phone_number_id.into(),
            inner,
            faults,
            ids,
            _task: task,
        }
    }

    /// A template of the business account: `header` `IMAGE`/`VIDEO`/`DOCUMENT` or none, with
    /// `body_parameters` `{{n}}`s; sendable once `status` is `APPROVED`.
    pub fn add_template(
        &self,
        name: &str,
        language: &str,
        status: &str,
        header: Option<&str>,
        body_parameters: usize,
    ) {
        let mut inner = self.inner.lock().unwrap();
        inner.specs.insert(
            name.into(),
            TemplateSpec {
                language: language.into(),
                status: status.into(),
                header: header.map(str::to_owned),
                body_parameters,
                buttons: Vec::new(),
            },
        );
        if status == "APPROVED" {
            inner.templates.push(name.into());
        }
    }

    /// Gives template `name` these buttons: (`QUICK_REPLY` or `URL`, text, url).
    pub fn template_buttons(&self, name: &str, buttons: &[(&str, &str, Option<&str>)]) {
        let mut inner = self.inner.lock().unwrap();
        let spec = inner.specs.get_mut(name).expect("add_template first");
        spec.buttons = buttons
            .iter()
            .map(|(k, t, u)| (k.to_string(), t.to_string(), u.map(str::to_owned)))
            .collect();
    }

    /// The webhook payload of `from` tapping a template's quick-reply button.
    pub fn button_event(&self, from: &str, text: &str, payload: &str) -> (String, Value) {
        let id = format!("wamid.IN{:010}", self.ids.fetch_add(1, Ordering::SeqCst));
        let message = json!({"from": from, "id": id, "timestamp": unix_now().to_string(), "type": "button",
                             "button": {"payload": payload, "text": text}});
        (id, self.envelope(json!({"contacts": [{"profile": {"name": "Contact"}, "wa_id": from}], "messages": [message]})))
    }

    /// How many files were uploaded to `/media`.
    pub fn uploads(&self) -> usize {
        self.inner.lock().unwrap().media.len()
    }

    pub fn inject(&self, fault: Fault) {
        self.faults.lock().unwrap().push(fault);
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.inner.lock().unwrap().sent.clone()
    }

    /// The next `n` free-form sends fail with 131047 even inside the window (the window closed
    /// on Meta's side first).
    pub fn refuse_free_form(&self, n: u32) {
        self.inner.lock().unwrap().force_reengagement = n;
    }

    /// WhatsApp knows `number` as `wa_id` (its messages and statuses carry that).
    pub fn registered_as(&self, number: &str, wa_id: &str) {
        self.inner
            .lock()
            .unwrap()
            .wa_ids
            .insert(number.into(), wa_id.into());
    }

    /// Every send to `number` (as the business sends it: digits, no `+`) is refused with the
    /// pair rate limit (131056, which has no retry hint) for `lasting`.
    pub fn pair_limit(&self, number: &str, lasting: Duration) {
        let until = Instant::now() + lasting;
        self.inner
            .lock()
            .unwrap()
            .pair_limited
            .insert(number.trim_start_matches('+').to_owned(), until);
    }

    /// The next accepted send is answered only after `late` (a caller stopped meanwhile
    /// cannot know it arrived).
    pub fn answer_late(&self, late: Duration) {
        self.inner.lock().unwrap().answer_late = Some(late);
    }

    /// The webhook payload of `from` writing `text`, optionally swipe-replying to `context_id`.
    /// Writing opens `from`'s 24-hour window, as on the real service.
    pub fn message_event(
        &self,
        from: &str,
        text: &str,
        context_id: Option<&str>,
    ) -> (String, Value) {
        self.inner
            .lock()
            .unwrap()
            .windows
            .insert(from.into(), Instant::now());
        let id = format!("wamid.IN{:010}", self.ids.fetch_add(1, Ordering::SeqCst));
        let mut message = json!({"from": from, "id": id, "timestamp": unix_now().to_string(), "type": "text", "text": {"body": text}});
        if let Some(c) = context_id {
            message["context"] = json!({"from": "15550783881", "id": c});
        }
        (id, self.envelope(json!({"contacts": [{"profile": {"name": "Agent"}, "wa_id": from}], "messages": [message]})))
    }

    /// The webhook payload of `from` sending a file (`kind`: image, video or document),
    /// swipe-replying to `context_id`; the media is downloadable by its id.
    pub fn media_event(
        &self,
        from: &str,
        (kind, mime, bytes, filename): (&str, &str, Vec<u8>, Option<&str>),
        caption: Option<&str>,
        context_id: &str,
    ) -> (String, Value) {
        let n = self.ids.fetch_add(1, Ordering::SeqCst);
        let (id, media_id) = (format!("wamid.IN{n:010}"), format!("77{n:08}"));
        let mut inner = self.inner.lock().unwrap();
        inner.windows.insert(from.into(), Instant::now());
        inner.media.insert(
            media_id.clone(),
            FormFile {
                field: "file".into(),
                filename: filename.map(str::to_owned),
                content_type: Some(mime.into()),
                bytes,
            },
        );
        let mut object = json!({"mime_type": mime, "sha256": "fake", "id": media_id});
        if let Some(c) = caption {
            object["caption"] = c.into();
        }
        if let Some(f) = filename {
            object["filename"] = f.into();
        }
        let mut message = json!({"from": from, "id": id, "timestamp": unix_now().to_string(), "type": kind,
                                 "context": {"from": "15550783881", "id": context_id}});
        message[kind] = object;
        (id, self.envelope(json!({"contacts": [{"profile": {"name": "Agent"}, "wa_id": from}], "messages": [message]})))
    }

    /// A status webhook for one of the business's messages: stamped, as WhatsApp does, with
    /// when it happened — for "sent", when the message was accepted.
    pub fn status_event(
        &self,
        wamid: &str,
        to: &str,
        status: &str,
        error_code: Option<i64>,
    ) -> Value {
        let sent_at = (status == "sent")
            .then(|| {
                let inner = self.inner.lock().unwrap();
                inner.sent.iter().find(|s| s.wamid == wamid).map(|s| s.unix)
            })
            .flatten();
        let at = sent_at.unwrap_or_else(unix_now);
        let mut s = json!({"id": wamid, "status": status, "timestamp": at.to_string(), "recipient_id": to,
                           "pricing": {"billable": true, "pricing_model": "PMP", "category": "utility"}});
        if let Some(code) = error_code {
            s["errors"] = json!([{"code": code, "title": "Re-engagement message", "message": "Re-engagement message",
                                  "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}]);
        }
        self.envelope(json!({"statuses": [s]}))
    }

    fn envelope(&self, value: Value) -> Value {
        let mut v = json!({"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": self.phone_number_id}});
        v.as_object_mut()
            .unwrap()
            .extend(value.as_object().unwrap().clone());
        json!({"object": "whatsapp_business_account", "entry": [{"id": "419561257915477", "changes": [{"field": "messages", "value": v}]}]})
    }

    /// Posts a webhook to the edge, signed with `app_secret` (both headers, as Meta does).
    pub async fn deliver(url: &str, app_secret: &str, payload: &Value) -> u16 {
        let body = payload.to_string();
        let mut mac256 = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).unwrap();
        mac256.update(body.as_bytes());
        let mut mac1 = Hmac::<sha1::Sha1>::new_from_slice(app_secret.as_bytes()).unwrap();
        mac1.update(body.as_bytes());
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header(
                "X-Hub-Signature-256",
                format!("sha256={}", hex::encode(mac256.finalize().into_bytes())),
            )
            .header(
                "X-Hub-Signature",
                format!("sha1={}", hex::encode(mac1.finalize().into_bytes())),
            )
            .body(body)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }
}
