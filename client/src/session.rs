//! A conversation session: the single owner of the transcript and the WebSocket, for a
//! visitor (widget) or an agent (inbox). Components get immutable [`Snapshot`]s and call back
//! into the session to send, type and mark read; the app hears about unread counts and the
//! visitor's first conversation through [`SessionEvent`]s.
//!
//! Guarantees: a message typed is queued (and, for visitors, saved) before it is sent, and is
//! retried with the same client message id until acknowledged, across dropped sockets and
//! reloads; reconnects back off with jitter and resume from the last contiguous `seq`, so
//! nothing is lost or shown twice.

use crate::api::{self, CallError};
use crate::persist::{self, Saved, SavedPending};
use crate::upload;
use beckon_shared::backoff;
use beckon_shared::proto::v1::{
    paths, ClientFrame, ConversationOrigin, ErrorCode, Role, ServerFrame, StartConversation,
    TicketRequest,
};
use beckon_shared::text::normalize_body;
use beckon_shared::transcript::Transcript;
use beckon_shared::{ClientMsgId, ConversationId, Seq, SiteKey};
use gloo_events::EventListener;
use gloo_timers::callback::{Interval, Timeout};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};
use yew::Callback;

const RECONNECT_BASE_MS: u64 = 500;
/// After the edge refused a send as too fast (it admits one every 2 s past a burst, and
/// refuses everything for 1 s after a refusal: this must be longer).
const RESEND_AFTER_MS: u32 = 2_500;
const RECONNECT_CAP_MS: u64 = 15_000;
const PING_EVERY_MS: u32 = 25_000;

/// Who the session speaks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Auth {
    /// A website visitor of `site`: the conversation is created on the first send, and the
    /// token, conversation and unsent messages are saved in localStorage.
    Visitor {
        site: SiteKey,
        /// The site's Turnstile challenge, passed before each conversation starts.
        challenge: Option<beckon_shared::proto::v1::Challenge>,
    },
    /// An agent in the inbox, on an existing conversation: every connect mints a fresh
    /// WebSocket ticket with the admin key.
    Agent {
        admin_key: String,
        name: String,
        conversation: ConversationId,
    },
}

/// What the session tells its app besides snapshots.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionEvent {
    /// Messages from the other side not yet read (0 while the panel is open).
    Unread(usize),
    /// The visitor's conversation now exists (first interaction done).
    Engaged,
}

/// Connection state, as shown in the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// No conversation yet (nothing to connect to).
    Idle,
    Connecting,
    Online,
    /// Disconnected; a retry is scheduled.
    Offline,
}

/// A file being sent, as its row shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct UploadView {
    /// The upload key (also the message's client id once it is sent).
    pub key: ClientMsgId,
    pub name: String,
    pub size: u64,
    pub sent: u64,
    /// Why it stopped, if it did.
    pub error: Option<String>,
}

/// What the components render.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub transcript: Transcript,
    pub status: Status,
    pub open: bool,
    /// A problem to show the visitor (a refused message, a blocked site).
    pub notice: Option<String>,
    /// Files on their way, in the order they were picked.
    pub uploads: Vec<UploadView>,
    /// The conversation's newest `seq` when this page first connected to it: later messages
    /// arrived while the page was open (earlier ones are its history).
    pub live_after: Option<Seq>,
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            transcript: Transcript::new(Role::Visitor),
            status: Status::Idle,
            open: false,
            notice: None,
            uploads: Vec::new(),
            live_after: None,
        }
    }
}

struct Socket {
    ws: WebSocket,
    opened: bool,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _ping: Option<Interval>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

struct Inner {
    auth: Auth,
    events: Callback<SessionEvent>,
    transcript: Transcript,
    status: Status,
    open: bool,
    notice: Option<String>,
    conversation: Option<ConversationId>,
    token: Option<String>,
    page_url: Option<String>,
    referrer: Option<String>,
    origin: Option<ConversationOrigin>,
    socket: Option<Socket>,
    attempt: u32,
    retry: Option<Timeout>,
    /// Sends the server asked to slow down go again when this fires.
    resend: Option<Timeout>,
    starting: bool,
    unread_reported: Option<usize>,
    live_after: Option<Seq>,
    on_change: Callback<Rc<Snapshot>>,
    _online: Option<EventListener>,
    uploads: Vec<(UploadView, Rc<upload::Control>)>,
}

/// A cheap handle to the session (clones share it).
#[derive(Clone)]
pub struct Session {
    inner: Rc<RefCell<Inner>>,
}

impl PartialEq for Session {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

fn new_client_msg_id() -> ClientMsgId {
    let mut bytes = [0u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    ClientMsgId::parse(&hex).expect("32 hex digits are a valid client message id")
}

impl Session {
    /// Starts a session. A visitor's saved state is restored and a returning visitor
    /// reconnects at once; an agent connects at once.
    pub fn new(
        auth: Auth,
        on_change: Callback<Rc<Snapshot>>,
        events: Callback<SessionEvent>,
    ) -> Session {
        let (saved, me) = match &auth {
            Auth::Visitor { site, .. } => (persist::load(site), Role::Visitor),
            Auth::Agent { conversation, .. } => (
                Saved {
                    conversation_id: Some(conversation.clone()),
                    ..Saved::default()
                },
                Role::Agent,
            ),
        };
        let mut transcript = Transcript::new(me);
        for p in &saved.pending {
            transcript.queue_with(
                p.id.clone(),
                p.body.clone(),
                p.attachments.clone(),
                p.created_at,
            );
        }
        let can_connect =
            saved.conversation_id.is_some() && (saved.token.is_some() || me == Role::Agent);
        let inner = Rc::new(RefCell::new(Inner {
            auth,
            events,
            transcript,
            status: Status::Idle,
            open: false,
            notice: None,
            conversation: saved.conversation_id.clone(),
            token: saved.token.clone(),
            page_url: None,
            referrer: None,
            origin: None,
            socket: None,
            attempt: 0,
            retry: None,
            resend: None,
            starting: false,
            unread_reported: None,
            live_after: None,
            on_change,
            _online: None,
            uploads: Vec::new(),
        }));
        let session = Session { inner };
        // Come back at once when the network does, instead of waiting out the backoff.
        if let Some(window) = web_sys::window() {
            let weak = Rc::downgrade(&session.inner);
            let listener = EventListener::new(&window, "online", move |_| {
                if let Some(s) = upgrade(&weak) {
                    let offline = s.inner.borrow().status == Status::Offline;
                    if offline {
                        s.connect();
                    }
                }
            });
            session.inner.borrow_mut()._online = Some(listener);
        }
        if can_connect {
            session.connect();
        } else if !saved.pending.is_empty() {
            session.start_conversation();
        }
        session
    }

    pub fn snapshot(&self) -> Rc<Snapshot> {
        let i = self.inner.borrow();
        Rc::new(Snapshot {
            transcript: i.transcript.clone(),
            status: i.status,
            open: i.open,
            notice: i.notice.clone(),
            uploads: i.uploads.iter().map(|(v, _)| v.clone()).collect(),
            live_after: i.live_after,
        })
    }

    /// Emits a fresh snapshot and the unread count. Never called while the cell is borrowed
    /// (a callback may render synchronously and read the session).
    fn notify(&self) {
        let snapshot = self.snapshot();
        let (callback, events, unread) = {
            let mut i = self.inner.borrow_mut();
            let unread = if i.open { 0 } else { i.transcript.unread() };
            let changed = i.unread_reported != Some(unread);
            i.unread_reported = Some(unread);
            (
                i.on_change.clone(),
                i.events.clone(),
                changed.then_some(unread),
            )
        };
        if let Some(n) = unread {
            events.emit(SessionEvent::Unread(n));
        }
        callback.emit(snapshot);
    }

    fn emit(&self, event: SessionEvent) {
        let events = self.inner.borrow().events.clone();
        events.emit(event);
    }

    /// Saves a visitor's state; agents keep theirs in memory.
    fn save(&self) {
        let i = self.inner.borrow();
        let Auth::Visitor { site, .. } = &i.auth else {
            return;
        };
        let saved = Saved {
            conversation_id: i.conversation.clone(),
            token: i.token.clone(),
            pending: i.transcript.unsent().map(SavedPending::from).collect(),
        };
        persist::save(site, &saved);
    }

    /// Records the host page the visitor is on (used when the conversation starts). Only web
    /// addresses are kept — the edge refuses anything else (a `file://` page, an
    /// `android-app://` referrer), and that must not stop the visitor from chatting.
    pub fn set_page(&self, url: String, referrer: String) {
        let web = |u: String| beckon_shared::text::is_web_url(&u).then_some(u);
        let mut i = self.inner.borrow_mut();
        i.page_url = web(url);
        i.referrer = web(referrer);
    }

    /// The visitor's token, once they have one.
    pub fn token(&self) -> Option<String> {
        self.inner.borrow().token.clone()
    }

    /// The visitor's conversation and token, once there is one.
    pub fn credentials(&self) -> Option<(ConversationId, String)> {
        let i = self.inner.borrow();
        i.conversation.clone().zip(i.token.clone())
    }

    /// Becomes the person a verified identity belongs to (known from another browser): their
    /// token from now on, and their latest conversation if they have one.
    pub fn become_identity(&self, token: String, conversation: Option<ConversationId>) {
        match conversation {
            Some(c) => self.adopt(c, token),
            None => {
                {
                    let mut i = self.inner.borrow_mut();
                    i.token = Some(token);
                    i.conversation = None;
                    i.socket = None;
                    i.transcript = i.transcript.restart();
                }
                self.save();
                self.notify();
            }
        }
    }

    /// Takes over a conversation an agent started for this visitor (delivered through the
    /// presence socket) and connects to it.
    pub fn adopt(&self, conversation: ConversationId, token: String) {
        {
            let mut i = self.inner.borrow_mut();
            if !matches!(i.auth, Auth::Visitor { .. })
                || i.conversation.as_ref() == Some(&conversation)
            {
                return;
            }
            i.conversation = Some(conversation);
            i.token = Some(token);
            i.live_after = None;
            i.origin = None;
            i.transcript = i.transcript.restart();
            i.attempt = 0;
        }
        self.save();
        self.emit(SessionEvent::Engaged);
        self.connect();
    }

    /// Marks the conversation that is about to start as an answer to a proactive rule.
    pub fn set_origin(&self, origin: Option<ConversationOrigin>) {
        self.inner.borrow_mut().origin = origin;
    }

    /// Opens or closes the panel; opening marks everything read.
    pub fn set_open(&self, open: bool) {
        {
            let mut i = self.inner.borrow_mut();
            i.open = open;
            if open {
                mark_read(&mut i);
            }
        }
        self.notify();
    }

    /// Queues a message for sending. Returns `false` (and shows why) if it is not acceptable.
    pub fn send(&self, raw: &str) -> bool {
        let body = match normalize_body(raw) {
            Ok(b) => b,
            Err(code) => {
                self.inner.borrow_mut().notice = Some(crate::i18n::refusal(code, ""));
                self.notify();
                return false;
            }
        };
        self.inner.borrow_mut().notice = None;
        self.queue_send(new_client_msg_id(), body, Vec::new());
        true
    }

    /// Queues (and saves) a send, transmits it if the socket is open, starts the conversation
    /// if there is none yet.
    fn queue_send(
        &self,
        id: ClientMsgId,
        body: String,
        attachments: Vec<beckon_shared::proto::v1::Attachment>,
    ) {
        let needs_conversation = {
            let mut i = self.inner.borrow_mut();
            let ids = attachments.iter().map(|a| a.id.clone()).collect();
            i.transcript
                .queue_with(id.clone(), body.clone(), attachments, now_ms());
            // While the edge asked to slow down, new messages wait for the resend, which
            // sends everything in the order it was written.
            let slowed = i.resend.is_some();
            if let Some(s) = i.socket.as_ref().filter(|s| s.opened && !slowed) {
                send_frame(
                    &s.ws,
                    &ClientFrame::Send {
                        client_msg_id: id,
                        body,
                        attachments: ids,
                    },
                );
            }
            i.conversation.is_none()
        };
        self.save();
        if needs_conversation {
            self.start_conversation();
        }
        self.notify();
    }

    /// Sends `files`: each is checked (a refusal becomes the notice), uploaded with progress
    /// in its own row, then sent as a message of its own.
    pub fn attach(&self, files: Vec<web_sys::File>) {
        for file in files {
            if let Err(why) = upload::check(&file) {
                self.inner.borrow_mut().notice = Some(why);
                continue;
            }
            let key = new_client_msg_id();
            let control = Rc::new(upload::Control::default());
            let view = UploadView {
                key: key.clone(),
                name: file.name(),
                size: file.size() as u64,
                sent: 0,
                error: None,
            };
            {
                let mut i = self.inner.borrow_mut();
                i.notice = None;
                i.uploads.push((view, control.clone()));
            }
            self.start_conversation();
            let weak = Rc::downgrade(&self.inner);
            wasm_bindgen_futures::spawn_local(async move {
                let result = Self::run_upload(weak.clone(), &file, &key, control).await;
                let Some(session) = upgrade(&weak) else {
                    return;
                };
                match result {
                    Ok(attachment) => {
                        session
                            .inner
                            .borrow_mut()
                            .uploads
                            .retain(|(v, _)| v.key != key);
                        session.queue_send(key, String::new(), vec![attachment]);
                    }
                    Err(e) => {
                        let mut i = session.inner.borrow_mut();
                        let cancelled =
                            i.uploads.iter().any(|(v, c)| v.key == key && c.cancelled());
                        if cancelled {
                            i.uploads.retain(|(v, _)| v.key != key);
                        } else if let Some((v, _)) =
                            i.uploads.iter_mut().find(|(v, _)| v.key == key)
                        {
                            v.error = Some(e.describe());
                        }
                    }
                }
                session.notify();
            });
        }
        self.notify();
    }

    /// Waits for the conversation to exist, then uploads.
    async fn run_upload(
        weak: Weak<RefCell<Inner>>,
        file: &web_sys::File,
        key: &ClientMsgId,
        control: Rc<upload::Control>,
    ) -> Result<beckon_shared::proto::v1::Attachment, CallError> {
        let mut waited = 0;
        let target = loop {
            let session = upgrade(&weak).ok_or(CallError::Network)?;
            let target = {
                let i = session.inner.borrow();
                let bearer = match &i.auth {
                    Auth::Visitor { .. } => i.token.clone(),
                    Auth::Agent { admin_key, .. } => Some(admin_key.clone()),
                };
                i.conversation.clone().zip(bearer)
            };
            if let Some((conversation, bearer)) = target {
                break upload::Target {
                    conversation,
                    bearer,
                };
            }
            if waited > 30_000 || control.cancelled() {
                return Err(CallError::Network);
            }
            drop(session);
            gloo_timers::future::TimeoutFuture::new(100).await;
            waited += 100;
        };
        let progress = {
            let weak = weak.clone();
            let key = key.clone();
            move |sent: u64| {
                if let Some(session) = upgrade(&weak) {
                    if let Some((v, _)) = session
                        .inner
                        .borrow_mut()
                        .uploads
                        .iter_mut()
                        .find(|(v, _)| v.key == key)
                    {
                        v.sent = sent;
                    }
                    session.notify();
                }
            }
        };
        upload::upload(&target, file, key, control, progress).await
    }

    /// Stops a file on its way (or dismisses one that failed).
    pub fn cancel_upload(&self, key: &ClientMsgId) {
        let mut i = self.inner.borrow_mut();
        if let Some((v, c)) = i.uploads.iter().find(|(v, _)| &v.key == key) {
            if v.error.is_some() {
                i.uploads.retain(|(v, _)| &v.key != key);
            } else {
                c.cancel();
            }
        }
        drop(i);
        self.notify();
    }

    /// Drops a message the server refused for good.
    pub fn discard(&self, id: &ClientMsgId) {
        self.inner.borrow_mut().transcript.discard(id);
        self.save();
        self.notify();
    }

    pub fn typing(&self, active: bool) {
        let i = self.inner.borrow();
        if let Some(s) = i.socket.as_ref().filter(|s| s.opened) {
            send_frame(&s.ws, &ClientFrame::Typing { active });
        }
    }

    /// Leaves the visitor's email for answers while they are away (the server confirms it
    /// with the next welcome: one that did not arrive shows the form again).
    pub fn leave_away_email(&self, email: &str) {
        {
            let mut i = self.inner.borrow_mut();
            let Some(s) = i.socket.as_ref().filter(|s| s.opened) else {
                return;
            };
            send_frame(
                &s.ws,
                &ClientFrame::AwayEmail {
                    email: email.to_owned(),
                },
            );
            i.transcript
                .set_away_email(Some(email.to_owned()).filter(|e| !e.is_empty()));
        }
        self.notify();
    }

    /// Creates the conversation (first interaction), then connects. Retries network failures.
    fn start_conversation(&self) {
        let (site, challenge, token, mut start) = {
            let mut i = self.inner.borrow_mut();
            let Auth::Visitor { site, challenge } = &i.auth else {
                return;
            };
            let (site, challenge) = (site.clone(), challenge.clone());
            if i.starting || i.conversation.is_some() {
                return;
            }
            i.starting = true;
            let start = StartConversation {
                page_url: i.page_url.clone(),
                referrer: i.referrer.clone(),
                origin: i.origin.clone(),
                turnstile_token: None,
            };
            (site, challenge, i.token.clone(), start)
        };
        let weak = Rc::downgrade(&self.inner);
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(c) = &challenge {
                let passed = crate::challenge::token(c).await;
                let Some(session) = upgrade(&weak) else {
                    return;
                };
                match passed {
                    Ok(t) => start.turnstile_token = Some(t),
                    Err(why) => {
                        let mut i = session.inner.borrow_mut();
                        i.starting = false;
                        i.notice = Some(why);
                        drop(i);
                        return session.notify();
                    }
                }
            }
            let result = api::start_conversation(&site, token.as_deref(), &start).await;
            let Some(session) = upgrade(&weak) else {
                return;
            };
            session.inner.borrow_mut().starting = false;
            match result {
                Ok(started) => {
                    {
                        let mut i = session.inner.borrow_mut();
                        i.conversation = Some(started.conversation_id);
                        i.token = Some(started.visitor_token);
                        i.attempt = 0;
                    }
                    session.emit(SessionEvent::Engaged);
                    session.save();
                    session.connect();
                }
                Err(CallError::Refused {
                    code: ErrorCode::InvalidToken | ErrorCode::Forbidden,
                    ..
                }) if token.is_some() => {
                    // A stale token (rotated secret, other site): start over as a new visitor.
                    session.inner.borrow_mut().token = None;
                    session.start_conversation();
                }
                Err(e @ CallError::Refused { .. }) => {
                    session.inner.borrow_mut().notice = Some(e.describe());
                    session.notify();
                }
                Err(CallError::Network) => session.retry_later(Session::start_conversation),
            }
        });
    }

    fn retry_later(&self, what: fn(&Session)) {
        let weak = Rc::downgrade(&self.inner);
        {
            let mut i = self.inner.borrow_mut();
            let delay = backoff::delay_ms(
                i.attempt,
                RECONNECT_BASE_MS,
                RECONNECT_CAP_MS,
                js_sys::Math::random(),
            );
            i.attempt = i.attempt.saturating_add(1);
            i.status = Status::Offline;
            i.retry = Some(Timeout::new(delay as u32, move || {
                if let Some(s) = upgrade(&weak) {
                    what(&s);
                }
            }));
        }
        self.notify();
    }

    /// Opens the conversation's WebSocket (replacing any previous one) with a fresh single-use
    /// ticket: a long-lived credential never goes into a URL. A visitor whose ticket is
    /// refused for good (the conversation or the visitor was deleted, the token expired)
    /// starts afresh.
    pub fn connect(&self) {
        {
            let mut i = self.inner.borrow_mut();
            i.socket = None;
            i.retry = None;
            i.status = Status::Connecting;
        }
        let (conversation, visitor_token, agent) = {
            let i = self.inner.borrow();
            match &i.auth {
                Auth::Visitor { .. } => {
                    let (Some(id), Some(token)) = (&i.conversation, &i.token) else {
                        return;
                    };
                    (id.clone(), Some(token.clone()), None)
                }
                Auth::Agent {
                    admin_key,
                    name,
                    conversation,
                } => (
                    conversation.clone(),
                    None,
                    Some((admin_key.clone(), name.clone())),
                ),
            }
        };
        let weak = Rc::downgrade(&self.inner);
        wasm_bindgen_futures::spawn_local(async move {
            let ticket = match (&visitor_token, agent) {
                (Some(token), _) => api::visitor_ws_ticket(&conversation, token).await,
                (None, Some((key, name))) => {
                    let wanted = TicketRequest {
                        conversation_id: Some(conversation.clone()),
                        name: Some(name),
                        ..TicketRequest::default()
                    };
                    api::ws_ticket(&key, &wanted).await
                }
                (None, None) => return,
            };
            let Some(s) = upgrade(&weak) else { return };
            match ticket {
                Ok(t) => {
                    if let Some(renewed) = t.visitor_token {
                        s.inner.borrow_mut().token = Some(renewed);
                        s.save();
                    }
                    s.open_socket(&format!(
                        "{}?ticket={}",
                        paths::fill(paths::CONVERSATION_SOCKET, &[conversation.as_str()]),
                        js_sys::encode_uri_component(&t.ticket)
                    ))
                }
                Err(CallError::Refused {
                    status: 401 | 403 | 404,
                    ..
                }) if visitor_token.is_some() => s.start_afresh(),
                Err(e @ CallError::Refused { .. }) => {
                    s.inner.borrow_mut().notice = Some(e.describe());
                    s.retry_later(Session::connect);
                }
                Err(CallError::Network) => s.retry_later(Session::connect),
            }
        });
        self.notify();
    }

    /// The visitor's conversation is gone or no longer theirs: the next send starts a new
    /// one (at once, if messages wait).
    fn start_afresh(&self) {
        {
            let mut i = self.inner.borrow_mut();
            i.conversation = None;
            i.status = Status::Idle;
        }
        self.save();
        let has_unsent = self.inner.borrow().transcript.unsent().next().is_some();
        if has_unsent {
            self.start_conversation();
        }
        self.notify();
    }

    fn open_socket(&self, path: &str) {
        let Some(url) = api::ws_url(path) else { return };
        let ws = match WebSocket::new(&url) {
            Ok(ws) => ws,
            Err(_) => return self.retry_later(Session::connect),
        };
        let weak = Rc::downgrade(&self.inner);
        let on_open = Closure::<dyn FnMut()>::new({
            let weak = weak.clone();
            move || {
                if let Some(s) = upgrade(&weak) {
                    s.on_open();
                }
            }
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
            let weak = weak.clone();
            move |e: MessageEvent| {
                if let (Some(s), Some(text)) = (upgrade(&weak), e.data().as_string()) {
                    s.on_frame(&text);
                }
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_e: CloseEvent| {
            if let Some(s) = upgrade(&weak) {
                s.on_close();
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        self.inner.borrow_mut().socket = Some(Socket {
            ws,
            opened: false,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _ping: None,
        });
    }

    fn on_open(&self) {
        {
            let mut i = self.inner.borrow_mut();
            let resume_from = i.transcript.resume_from();
            let unsent = unsent_frames(&i.transcript);
            i.status = Status::Online;
            i.attempt = 0;
            let Some(socket) = i.socket.as_mut() else {
                return;
            };
            socket.opened = true;
            send_frame(&socket.ws, &ClientFrame::Hello { resume_from });
            for frame in &unsent {
                send_frame(&socket.ws, frame);
            }
            let ws = socket.ws.clone();
            socket._ping = Some(Interval::new(PING_EVERY_MS, move || {
                send_frame(&ws, &ClientFrame::Ping)
            }));
        }
        self.notify();
    }

    fn on_frame(&self, text: &str) {
        let Ok(frame) = beckon_shared::json::decode::<ServerFrame>(text) else {
            return;
        };
        let resolves_pending = matches!(
            frame,
            ServerFrame::Ack { .. } | ServerFrame::Message { .. } | ServerFrame::Error { .. }
        );
        let changed = {
            let mut i = self.inner.borrow_mut();
            // A notice is a change of its own: a rate-limit error leaves the transcript as it
            // was, and may be the last frame of a burst (nothing else would show it).
            let mut noticed = false;
            if let ServerFrame::Welcome { last_seq, .. } = &frame {
                i.live_after.get_or_insert(*last_seq);
            }
            if let ServerFrame::Error {
                client_msg_id: Some(_),
                ref message,
                code,
            } = frame
            {
                let notice = crate::i18n::refusal(code, message);
                noticed = i.notice.as_ref() != Some(&notice);
                i.notice = Some(notice);
                // Too fast: the message stays pending and goes again shortly, on its own.
                if code == ErrorCode::RateLimited && i.resend.is_none() {
                    let weak = Rc::downgrade(&self.inner);
                    i.resend = Some(Timeout::new(RESEND_AFTER_MS, move || {
                        if let Some(s) = upgrade(&weak) {
                            s.resend_unsent();
                        }
                    }));
                }
            }
            let applied = i.transcript.apply(frame);
            if i.open && applied.incoming > 0 {
                mark_read(&mut i);
            }
            applied.changed || noticed
        };
        if resolves_pending {
            self.save();
        }
        if changed {
            self.notify();
        }
    }

    /// Sends again every message not acknowledged yet (after the server asked to slow down).
    fn resend_unsent(&self) {
        let mut i = self.inner.borrow_mut();
        i.resend = None;
        i.notice = None;
        let frames = unsent_frames(&i.transcript);
        if let Some(s) = i.socket.as_ref().filter(|s| s.opened) {
            for frame in &frames {
                send_frame(&s.ws, frame);
            }
        }
        drop(i);
        self.notify();
    }

    /// The socket closed (or its handshake failed, which browsers do not explain): the next
    /// attempt asks for a new ticket, and that answer says whether the credentials still hold.
    fn on_close(&self) {
        self.inner.borrow_mut().socket = None;
        self.retry_later(Session::connect);
    }
}

fn upgrade(weak: &Weak<RefCell<Inner>>) -> Option<Session> {
    weak.upgrade().map(|inner| Session { inner })
}

/// A `send` frame for every message not acknowledged yet, oldest first.
fn unsent_frames(t: &Transcript) -> Vec<ClientFrame> {
    t.unsent()
        .map(|p| ClientFrame::Send {
            client_msg_id: p.client_msg_id.clone(),
            body: p.body.clone(),
            attachments: p.attachments.iter().map(|a| a.id.clone()).collect(),
        })
        .collect()
}

fn send_frame(ws: &WebSocket, frame: &ClientFrame) {
    if let Ok(text) = serde_json::to_string(frame) {
        let _ = ws.send_with_str(&text);
    }
}

fn mark_read(i: &mut Inner) {
    if let Some(seq) = i.transcript.mark_read() {
        if let Some(s) = i.socket.as_ref().filter(|s| s.opened) {
            send_frame(&s.ws, &ClientFrame::Read { seq });
        }
    }
}
