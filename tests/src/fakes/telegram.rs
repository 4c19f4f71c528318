//! Fake Telegram Bot API (CHANNELS.md §2.7): `/bot{token}/{method}` (method names
//! case-insensitive), JSON or form bodies, `{"ok":…}` envelopes with HTTP status = error code,
//! 401 for unknown tokens, forum topics per supergroup, `sendMessage` into topics (with
//! "message thread not found"), private chats only with users who started the bot (403 "bot
//! can't initiate conversation with a user" otherwise), 429 with `parameters.retry_after`, and
//! agent and private-chat updates sent to the edge's webhook with
//! `X-Telegram-Bot-Api-Secret-Token`. Files (§2.2): `sendPhoto` / `sendVideo` /
//! `sendDocument` as multipart uploads (10 MB photos, 50 MB others: 413 beyond; captions of
//! at most 1024 visible characters), photo dimensions (width + height ≤ 10000), `getFile` (bots download at most 20 MB) and
//! `/file/bot{token}/{file_path}`; agents' photos, videos and documents in topics.

use super::{form_fields, serve, take_fault, Fault, FaultQueue, FormFile};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

/// A message the fake accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    pub chat_id: i64,
    pub thread_id: Option<i64>,
    pub message_id: i64,
    /// The text, or a file's caption.
    pub text: String,
    pub parse_mode: Option<String>,
    /// The method a file came with (`sendphoto`, …) and the file.
    pub file: Option<(String, FormFile)>,
    /// Its inline keyboard, as accepted.
    pub reply_markup: Option<Value>,
    /// When the fake accepted it (for latency measurements).
    pub at: std::time::Instant,
}

/// A file Telegram holds: what `getFile` and the file endpoint serve.
#[derive(Clone)]
struct Stored {
    path: String,
    bytes: Vec<u8>,
    name: Option<String>,
    mime: Option<String>,
}

#[derive(Default)]
struct Inner {
    /// chat id → (thread id → topic name)
    topics: BTreeMap<i64, BTreeMap<i64, String>>,
    /// Users who started the bot (their private chat id = their user id).
    started: BTreeSet<i64>,
    /// Users who blocked the bot.
    blocked: BTreeSet<i64>,
    sent: Vec<Sent>,
    /// file_id → file.
    files: BTreeMap<String, Stored>,
    /// Callback queries issued by [`FakeTelegram::press`], and those answered.
    queries: BTreeSet<String>,
    answered: Vec<String>,
    /// Files that came as multipart uploads (not by file_id).
    uploads: usize,
}

/// `reply_markup` as Telegram reads it (a JSON object, or its text in a form): an inline
/// keyboard's buttons each with a text and exactly one of an http(s) `url` or a 1–64-byte
/// `callback_data`.
fn inline_keyboard(raw: &Value) -> Result<Option<Value>, &'static str> {
    let markup = match raw {
        Value::Null => return Ok(None),
        Value::String(text) => serde_json::from_str(text)
            .map_err(|_| "Bad Request: can't parse reply keyboard markup JSON object")?,
        other => other.clone(),
    };
    let rows = markup["inline_keyboard"].as_array().ok_or(
        "Bad Request: can't parse inline keyboard button: field \"inline_keyboard\" must be an Array",
    )?;
    for b in rows
        .iter()
        .flat_map(|r| r.as_array().cloned().unwrap_or_default())
    {
        let text_ok = b["text"].as_str().is_some_and(|t| !t.is_empty());
        let url = b["url"].as_str();
        let data = b["callback_data"].as_str();
        let ok = text_ok
            && match (url, data) {
                (Some(u), None) => u.starts_with("https://") || u.starts_with("http://"),
                (None, Some(d)) => (1..=64).contains(&d.len()),
                _ => false,
            };
        if !ok {
            return Err("Bad Request: BUTTON_DATA_INVALID");
        }
    }
    Ok(Some(markup))
}

#[derive(Clone)]
struct AppState {
    token: String,
    inner: Arc<Mutex<Inner>>,
    faults: FaultQueue,
    next_id: Arc<AtomicI64>,
    arrived: Arc<tokio::sync::Notify>,
}

pub struct FakeTelegram {
    pub base: String,
    pub token: String,
    inner: Arc<Mutex<Inner>>,
    pub faults: FaultQueue,
    next_id: Arc<AtomicI64>,
    arrived: Arc<tokio::sync::Notify>,
    _task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self._task.abort();
    }
}

/// The text a reader sees: for `parse_mode: HTML`, tags removed and entities decoded.
fn visible(text: &str, parse_mode: Option<&str>) -> String {
    if parse_mode != Some("HTML") {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

fn err(code: u16, description: &str) -> Response {
    (
        StatusCode::from_u16(code).unwrap(),
        Json(json!({"ok": false, "error_code": code, "description": description})),
    )
        .into_response()
}

fn ok(result: Value) -> Response {
    Json(json!({"ok": true, "result": result})).into_response()
}

async fn call(
    State(s): State<AppState>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if bot.strip_prefix("bot") != Some(s.token.as_str()) {
        return err(401, "Unauthorized");
    }
    let method = method.to_ascii_lowercase();
    match take_fault(&s.faults, &method) {
        Some(
            Fault::RateLimited { retry_after_secs } | Fault::PairRateLimited { retry_after_secs },
        ) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({"ok": false, "error_code": 429, "description": format!("Too Many Requests: retry after {retry_after_secs}"),
                            "parameters": {"retry_after": retry_after_secs}})),
            )
                .into_response()
        }
        Some(Fault::ServerError) => return err(500, "Internal Server Error"),
        Some(Fault::Hang(d)) => {
            tokio::time::sleep(d).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        None => {}
    }
    let ct = headers.get("content-type").and_then(|v| v.to_str().ok());
    let Some((p, files)) = form_fields(ct, body).await else {
        return err(400, "Bad Request: invalid request body");
    };
    let mut inner = s.inner.lock().unwrap();
    if method == "getfile" {
        let Some(stored) = p["file_id"].as_str().and_then(|id| inner.files.get(id)) else {
            return err(400, "Bad Request: invalid file_id");
        };
        if stored.bytes.len() > 20 * 1024 * 1024 {
            return err(400, "Bad Request: file is too big");
        }
        return ok(
            json!({"file_id": p["file_id"], "file_unique_id": format!("u{}", p["file_id"].as_str().unwrap_or_default()),
                         "file_size": stored.bytes.len(), "file_path": stored.path}),
        );
    }
    if method == "answercallbackquery" {
        let id = p["callback_query_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if !inner.queries.remove(&id) {
            return err(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            );
        }
        inner.answered.push(id);
        return ok(json!(true));
    }
    let markup = match inline_keyboard(&p["reply_markup"]) {
        Ok(m) => m,
        Err(refused) => return err(400, refused),
    };
    let chat_id = match &p["chat_id"] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    let Some(chat_id) = chat_id else {
        return err(400, "Bad Request: chat_id is empty");
    };
    let thread_id = match &p["message_thread_id"] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    match method.as_str() {
        "createforumtopic" => {
            let Some(name) = p["name"]
                .as_str()
                .filter(|n| (1..=128).contains(&n.chars().count()))
            else {
                return err(400, "Bad Request: invalid topic name");
            };
            let id = s.next_id.fetch_add(1, Ordering::SeqCst);
            inner
                .topics
                .entry(chat_id)
                .or_default()
                .insert(id, name.to_owned());
            ok(
                json!({"message_thread_id": id, "name": name, "icon_color": p["icon_color"].as_i64().unwrap_or(7322096)}),
            )
        }
        "sendmessage" => {
            // Telegram counts the text after entity parsing: markup is not counted.
            let Some(text) = p["text"].as_str() else {
                return err(400, "Bad Request: message text is empty");
            };
            let shown = visible(text, p["parse_mode"].as_str());
            if shown.trim().is_empty() {
                return err(400, "Bad Request: message text is empty");
            }
            if shown.chars().count() > 4096 {
                return err(400, "Bad Request: message is too long");
            }
            if let Some(refused) = check_chat(&inner, chat_id, thread_id) {
                return refused;
            }
            accept(
                &s,
                &mut inner,
                (chat_id, thread_id),
                text,
                &p,
                (None, markup),
            )
        }
        "sendphoto" | "sendvideo" | "senddocument" => {
            let field = &method["send".len()..];
            // An upload, or a file Telegram holds already, by its file_id.
            let by_id = p[field]
                .as_str()
                .and_then(|id| inner.files.get(id))
                .map(|s| FormFile {
                    field: field.to_owned(),
                    filename: s.name.clone(),
                    content_type: s.mime.clone(),
                    bytes: s.bytes.clone(),
                });
            if by_id.is_none() && p[field].is_string() {
                return err(400, "Bad Request: wrong file identifier/HTTP URL specified");
            }
            let uploaded = files.into_iter().find(|f| f.field == field);
            if uploaded.is_some() {
                inner.uploads += 1;
            }
            let Some(file) = uploaded.or(by_id) else {
                return err(
                    400,
                    &format!("Bad Request: there is no {field} in the request"),
                );
            };
            // Multipart limits: 10 MB for photos, 50 MB for other files.
            let max = if field == "photo" { 10 } else { 50 } * 1024 * 1024;
            if file.bytes.len() > max {
                return err(413, "Request Entity Too Large");
            }
            // Telegram's photo rule: width + height at most 10000 (PNG headers are read here).
            if field == "photo" && file.bytes.starts_with(b"\x89PNG") && file.bytes.len() >= 24 {
                let dim =
                    |at: usize| u32::from_be_bytes(file.bytes[at..at + 4].try_into().unwrap());
                if dim(16) + dim(20) > 10_000 {
                    return err(400, "Bad Request: PHOTO_INVALID_DIMENSIONS");
                }
            }
            let caption = p["caption"].as_str().unwrap_or_default();
            if visible(caption, p["parse_mode"].as_str()).chars().count() > 1024 {
                return err(400, "Bad Request: message caption is too long");
            }
            if let Some(refused) = check_chat(&inner, chat_id, thread_id) {
                return refused;
            }
            accept(
                &s,
                &mut inner,
                (chat_id, thread_id),
                caption,
                &p,
                (Some((method.clone(), file)), markup),
            )
        }
        _ => err(404, "Not Found: method not found"),
    }
}

/// Refuses a send to a private chat that never started the bot (or blocked it), or into a
/// topic that does not exist.
fn check_chat(inner: &Inner, chat_id: i64, thread_id: Option<i64>) -> Option<Response> {
    // Positive chat ids are private chats: only with users who started the bot.
    let private = chat_id > 0;
    if private && !inner.started.contains(&chat_id) {
        return Some(err(
            403,
            "Forbidden: bot can't initiate conversation with a user",
        ));
    }
    if private && inner.blocked.contains(&chat_id) {
        return Some(err(403, "Forbidden: bot was blocked by the user"));
    }
    if let Some(t) = thread_id {
        if !inner
            .topics
            .get(&chat_id)
            .is_some_and(|topics| topics.contains_key(&t))
        {
            return Some(err(400, "Bad Request: message thread not found"));
        }
    }
    None
}

/// Records an accepted message and answers with it (a file also becomes downloadable).
fn accept(
    s: &AppState,
    inner: &mut Inner,
    (chat_id, thread_id): (i64, Option<i64>),
    text: &str,
    p: &Value,
    (file, reply_markup): (Option<(String, FormFile)>, Option<Value>),
) -> Response {
    let message_id = s.next_id.fetch_add(1, Ordering::SeqCst);
    let private = chat_id > 0;
    let mut result = json!({"message_id": message_id, "message_thread_id": thread_id, "is_topic_message": thread_id.is_some(),
          "from": {"id": 7000000001i64, "is_bot": true, "first_name": "Beckon Relay", "username": "beckon_relay_bot"},
          "chat": if private { json!({"id": chat_id, "type": "private"}) } else { json!({"id": chat_id, "type": "supergroup", "is_forum": true}) },
          "date": super::unix_now()});
    match &file {
        None => result["text"] = text.into(),
        Some((_, f)) => {
            let file_id = format!("F{message_id}");
            inner.files.insert(
                file_id.clone(),
                Stored {
                    path: format!("{}/file_{message_id}", f.field),
                    bytes: f.bytes.clone(),
                    name: f.filename.clone(),
                    mime: f.content_type.clone(),
                },
            );
            let described = json!({"file_id": file_id, "file_unique_id": format!("u{file_id}"), "file_size": f.bytes.len(),
                                   "file_name": f.filename, "mime_type": f.content_type});
            result[f.field.as_str()] = if f.field == "photo" {
                json!([described])
            } else {
                described
            };
            if !text.is_empty() {
                result["caption"] = text.into();
            }
        }
    }
    inner.sent.push(Sent {
        chat_id,
        thread_id,
        message_id,
        text: text.to_owned(),
        parse_mode: p["parse_mode"].as_str().map(str::to_owned),
        file,
        reply_markup: reply_markup.clone(),
        at: std::time::Instant::now(),
    });
    if let Some(m) = reply_markup {
        result["reply_markup"] = m;
    }
    s.arrived.notify_waiters();
    ok(result)
}

/// `GET /file/bot{token}/{file_path}`: a file's bytes.
async fn file(State(s): State<AppState>, Path((bot, path)): Path<(String, String)>) -> Response {
    if bot.strip_prefix("bot") != Some(s.token.as_str()) {
        return err(401, "Unauthorized");
    }
    let inner = s.inner.lock().unwrap();
    match inner.files.values().find(|f| f.path == path) {
        Some(f) => f.bytes.clone().into_response(),
        None => err(404, "Not Found"),
    }
}

impl FakeTelegram {
    pub async fn start(token: &str) -> FakeTelegram {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let faults: FaultQueue = Default::default();
        let next_id = Arc::new(AtomicI64::new(100));
        let arrived = Arc::new(tokio::sync::Notify::new());
        let state = AppState {
            token: token.into(),
            inner: inner.clone(),
            faults: faults.clone(),
            next_id: next_id.clone(),
            arrived: arrived.clone(),
        };
        let app = Router::new()
            .route("/{bot}/{method}", post(call))
            .route("/file/{bot}/{*path}", get(file))
            .with_state(state);
        let (base, task) = serve(app).await;
        FakeTelegram {
            base,
            token: token.into(),
            inner,
            faults,
            next_id,
            arrived,
            _task: task,
        }
    }

    pub fn inject(&self, fault: Fault) {
        self.faults.lock().unwrap().push(fault);
    }

    /// Waits until at least `n` messages were accepted (or `timeout` passes); returns the count.
    pub async fn wait_for(&self, n: usize, timeout: std::time::Duration) -> usize {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.arrived.notified();
            tokio::pin!(notified);
            // Registered before the count is read, so no arrival can slip between the two.
            notified.as_mut().enable();
            let count = self.inner.lock().unwrap().sent.len();
            if count >= n || tokio::time::Instant::now() >= deadline {
                return count;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }

    /// Every message accepted, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.inner.lock().unwrap().sent.clone()
    }

    /// Topic names by thread id in `chat_id`.
    pub fn topics(&self, chat_id: i64) -> BTreeMap<i64, String> {
        self.inner
            .lock()
            .unwrap()
            .topics
            .get(&chat_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Deletes a topic (as an admin would in the Telegram app).
    pub fn delete_topic(&self, chat_id: i64, thread_id: i64) {
        if let Some(t) = self.inner.lock().unwrap().topics.get_mut(&chat_id) {
            t.remove(&thread_id);
        }
    }

    /// The update Telegram sends when agent `first_name` writes `text` in a topic.
    pub fn agent_update(
        &self,
        chat_id: i64,
        thread_id: i64,
        first_name: &str,
        text: &str,
        is_bot: bool,
    ) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        json!({"update_id": 900000000 + id, "message": {
            "message_id": id, "message_thread_id": thread_id, "is_topic_message": true,
            "from": {"id": 111111111, "is_bot": is_bot, "first_name": first_name, "username": "agent"},
            "chat": {"id": chat_id, "title": "Support", "type": "supergroup", "is_forum": true},
            "date": super::unix_now(),
            "reply_to_message": {"message_id": thread_id, "message_thread_id": thread_id, "is_topic_message": true,
                "from": {"id": 7000000001i64, "is_bot": true, "first_name": "Beckon Relay"},
                "chat": {"id": chat_id, "type": "supergroup", "is_forum": true}, "date": super::unix_now(),
                "forum_topic_created": {"name": "Visitor", "icon_color": 7322096}},
            "text": text}})
    }

    /// The update Telegram sends when an agent posts a file in a topic: `kind` is `photo`,
    /// `video` or `document`; the file is then downloadable through `getFile`.
    pub fn agent_file_update(
        &self,
        (chat_id, thread_id): (i64, i64),
        first_name: &str,
        (kind, bytes, file_name): (&str, Vec<u8>, Option<&str>),
        caption: Option<&str>,
    ) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let file_id = format!("A{id}");
        let size = bytes.len();
        self.inner.lock().unwrap().files.insert(
            file_id.clone(),
            Stored {
                path: format!("{kind}s/file_{id}"),
                bytes,
                name: file_name.map(str::to_owned),
                mime: None,
            },
        );
        let mut file =
            json!({"file_id": file_id, "file_unique_id": format!("u{file_id}"), "file_size": size});
        if let Some(n) = file_name {
            file["file_name"] = n.into();
        }
        let mut message = json!({
            "message_id": id, "message_thread_id": thread_id, "is_topic_message": true,
            "from": {"id": 111111111, "is_bot": false, "first_name": first_name, "username": "agent"},
            "chat": {"id": chat_id, "title": "Support", "type": "supergroup", "is_forum": true},
            "date": super::unix_now()});
        if kind == "photo" {
            // Telegram sends a photo in several sizes, the largest last.
            let thumb = json!({"file_id": format!("{file_id}-thumb"), "file_unique_id": "t", "width": 90, "height": 90, "file_size": 900});
            message["photo"] = json!([thumb, file]);
        } else {
            message[kind] = file;
        }
        if let Some(c) = caption {
            message["caption"] = c.into();
        }
        json!({"update_id": 900000000 + id, "message": message})
    }

    /// The update Telegram sends when user `user_id` writes `text` to the bot in their private
    /// chat (`/start` when they press Start); from then on the bot may write to them.
    pub fn private_update(
        &self,
        user_id: i64,
        first_name: &str,
        username: Option<&str>,
        text: &str,
    ) -> Value {
        self.inner.lock().unwrap().started.insert(user_id);
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let mut from = json!({"id": user_id, "is_bot": false, "first_name": first_name, "language_code": "en"});
        if let Some(u) = username {
            from["username"] = u.into();
        }
        json!({"update_id": 900000000 + id, "message": {
            "message_id": id, "from": from,
            "chat": {"id": user_id, "first_name": first_name, "type": "private"},
            "date": super::unix_now(), "text": text}})
    }

    /// The update Telegram sends when the person in `sent`'s private chat presses its inline
    /// button `index` (counted over the keyboard's rows); the fake then expects
    /// `answerCallbackQuery` for it.
    pub fn press(&self, sent: &Sent, index: usize) -> Value {
        let markup = sent
            .reply_markup
            .clone()
            .expect("a message with a keyboard");
        let button = markup["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r.as_array().cloned().unwrap_or_default())
            .nth(index)
            .expect("that button");
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let query = format!("q{id}");
        self.inner.lock().unwrap().queries.insert(query.clone());
        json!({"update_id": 900000000 + id, "callback_query": {
            "id": query, "chat_instance": "-42",
            "from": {"id": sent.chat_id, "is_bot": false, "first_name": "Pressed"},
            "message": {"message_id": sent.message_id, "date": super::unix_now(),
                        "chat": {"id": sent.chat_id, "type": "private"},
                        "from": {"id": 7000000001i64, "is_bot": true, "first_name": "Beckon Relay"},
                        "text": sent.text, "reply_markup": markup},
            "data": button["callback_data"]}})
    }

    /// How many files came as multipart uploads (not by file_id).
    pub fn uploads(&self) -> usize {
        self.inner.lock().unwrap().uploads
    }

    /// The callback queries answered (`answerCallbackQuery`), in order.
    pub fn answered(&self) -> Vec<String> {
        self.inner.lock().unwrap().answered.clone()
    }

    /// User `user_id` blocks the bot (Telegram then refuses messages to their chat).
    pub fn block(&self, user_id: i64) {
        self.inner.lock().unwrap().blocked.insert(user_id);
    }

    /// Messages the bot sent into `chat_id`'s private chat, in order.
    pub fn private_messages(&self, chat_id: i64) -> Vec<Sent> {
        self.sent()
            .into_iter()
            .filter(|s| s.chat_id == chat_id && s.thread_id.is_none())
            .collect()
    }

    /// Delivers `update` to the edge's webhook as Telegram does; returns the HTTP status.
    pub async fn deliver(url: &str, secret: Option<&str>, update: &Value) -> u16 {
        let mut req = reqwest::Client::new().post(url).json(update);
        if let Some(s) = secret {
            req = req.header("X-Telegram-Bot-Api-Secret-Token", s);
        }
        req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
    }
}
