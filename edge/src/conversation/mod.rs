//! The Conversation Durable Object: one instance per conversation, the single writer of its
//! messages. It assigns each message a gap-free `seq`, stores a send once per client message id
//! (idempotency key), fans frames out to the conversation's WebSockets (hibernation API, so
//! idle conversations cost nothing), replays from a client's cursor on reconnect, and keeps
//! read cursors. Each stored message queues its relays in the conversation's [`Outbox`] in
//! the same synchronous block — only for channels the site has enabled.
//!
//! The hot path is store, acknowledge, fan out: nothing on it touches D1 or another object,
//! and the other sockets get a message before its write, so their frames do not wait for the
//! commit (see [`Conversation::store_message`]); a socket's message that another socket got is
//! written a turn of the runtime after its fan-out, so they wait for none of the write's work
//! either (`socket.rs`).
//! The conversation's row in D1 and the inbox notification follow, coalesced ([`index`]);
//! relays follow right after the ack, or from the alarm.
//!
//! The Worker talks to it over internal HTTP (see [`client`]) after authenticating the
//! caller; the DO then authorizes the caller against the conversation's owner.

mod away;
mod broadcast;
mod calls;
pub mod client;
mod erase;
mod index;
mod open;
mod rating;
mod socket;
pub mod store;
pub mod uploads;

pub(crate) use calls::{Extras, PRINCIPAL_HEADER};
pub use calls::{Meta, PostRequest, Principal, StatusReport};
pub use open::{contact_conversation_id, open, Opening};

use crate::channels::set::{self, SiteChannels};
use crate::channels::{ContactRoute, Content, Envelope, Target};
use crate::error::{Error, Result};
use crate::http;
use crate::outbox::policy::DeliveryStatus;
use crate::outbox::{Arrival, Outbox, Owner};
use crate::storage::broadcasts::Stage;
use beckon_shared::limits::{MAX_AUTHOR_CHARS, MAX_HISTORY_PAGE};
use beckon_shared::proto::v1::{
    BroadcastChannel, ConversationSummary, ErrorCode, Message, MessagePage, MessagePreview,
    PostedMessage, Role, ServerFrame,
};
use beckon_shared::text::{normalize_body, normalize_label, preview};
use beckon_shared::{AttachmentId, ClientMsgId, Seq, SiteKey};
use store::{NewMessage, Store};
use worker::{
    durable_object, DurableObject, Env, Request, Response, State, WebSocket,
    WebSocketIncomingMessage,
};

/// A rule-opened conversation's teaser: its first message.
const TEASER_SEQ: i64 = 1;
/// Set once the teaser is queued for relay (with the visitor's first message).
const TEASER_SENT: &str = "teaser-relayed";

/// A message validated and fanned out to the other sockets, not yet written
/// ([`Conversation::draft_message`]).
struct Drafted {
    message: Message,
    /// The message's frame, encoded once, for the sender's socket after the write.
    frame: Option<wasm_bindgen::JsValue>,
    /// How many other sockets got the frame already (none: the write need not wait a turn).
    receivers: usize,
    rating: Option<rating::Answer>,
    now: i64,
}

/// What [`Conversation::draft_message`] made of a message.
enum Draft {
    /// Its client message id was stored already: that message (nothing to write).
    Stored(Stored),
    New(Drafted),
}

/// A message as stored by [`Conversation::store_message`].
pub(crate) struct Stored {
    pub message: Message,
    /// The client message id had been stored before: this is that message.
    pub duplicate: bool,
    /// Relays were queued for it.
    pub relays: bool,
}

#[durable_object]
pub struct Conversation {
    state: State,
    env: Env,
    store: Store,
    outbox: Outbox,
    sockets: socket::Sockets,
    flush: index::Flush,
    alarm_state: index::AlarmState,
    uploads: uploads::Uploads,
    broadcasts: broadcast::Marks,
    rating: rating::Cache,
    /// The visitor's messages (in memory: no I/O on the message path); `None` when rate
    /// limits are off.
    visitor_sends: Option<std::cell::Cell<crate::rate_limit::Bucket>>,
    /// A socket's frames, and then its close, are taken one at a time, in the order they came:
    /// an await on the way (the site's channels, read once per isolate) would otherwise let the
    /// next overtake. Held from a message's fan-out to its write (two turns of the runtime when
    /// another socket got it, a millisecond when three or more did): what must see or store
    /// the newest message waits for it
    /// ([`Conversation::messages_settled`]). First come, first served (tokio's lock is;
    /// `futures-util`'s wakes waiters by slot).
    send_turn: tokio::sync::Mutex<()>,
    /// Which typing frames each side (visitor, agents) may still show the other (in memory:
    /// a woken instance starts afresh).
    typing: std::cell::Cell<[socket::TypingMeter; 2]>,
    /// Tests only (`TEST_WRITE_DELAY_MS`, honoured where `TEST_CLOCK=on`; none otherwise): how
    /// much longer a socket's message waits between its fan-out and its write, so that a test
    /// can come in between for sure.
    write_delay: std::time::Duration,
}

impl DurableObject for Conversation {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        let store = Store::new(sql.clone()).expect("conversation schema");
        let outbox = Outbox::new(sql.clone()).expect("outbox schema");
        let uploads = uploads::Uploads::new(sql.clone()).expect("uploads schema");
        let broadcasts = broadcast::Marks::new(sql).expect("broadcast schema");
        let visitor_sends = crate::rate_limit::enabled(&env).then(|| {
            std::cell::Cell::new(crate::rate_limit::Bucket::full(
                crate::rate_limit::MESSAGES,
                http::now_ms(),
            ))
        });
        Conversation {
            state,
            store,
            outbox,
            sockets: Default::default(),
            flush: Default::default(),
            alarm_state: Default::default(),
            uploads,
            broadcasts,
            rating: Default::default(),
            visitor_sends,
            send_turn: Default::default(),
            typing: std::cell::Cell::new([socket::TypingMeter::new(http::now_ms()); 2]),
            write_delay: crate::clock::settable(&env)
                .then(|| env.var("TEST_WRITE_DELAY_MS").ok())
                .flatten()
                .and_then(|v| v.to_string().parse().ok())
                .map(std::time::Duration::from_millis)
                .unwrap_or_default(),
            env,
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        self.alarm_fired();
        if self.store.meta().ok().flatten().is_none() {
            return Response::empty();
        }
        let (_, _, swept) = futures_util::join!(
            self.flush_if_behind(),
            self.outbox.pump(self),
            self.sweep_uploads()
        );
        if let Err(e) = swept {
            worker::console_error!("sweeping abandoned uploads: {e}");
        }
        // Whatever is still due (a trailing flush, the outbox's next row) gets the alarm.
        self.schedule().await;
        Response::empty()
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        match self.route(req).await {
            Ok(resp) => Ok(resp),
            Err(e) => http::error_response(&e),
        }
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> worker::Result<()> {
        if let Err(e) = self.on_socket_message(&ws, message).await {
            if let Error::Internal(detail) = &e {
                worker::console_error!("conversation socket: {detail}");
            }
            let frame = ServerFrame::Error {
                code: e.error_code(),
                message: e.body().error.message,
                client_msg_id: None,
            };
            socket::send(&ws, &frame);
        }
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _clean: bool,
    ) -> worker::Result<()> {
        // Complete the closing handshake; 1005/1006 are reserved and may not be sent.
        let code = if (1000..=4999).contains(&code) && code != 1005 && code != 1006 {
            code as u16
        } else {
            1000
        };
        let _ = ws.close(Some(code), Some("closed"));
        self.forget_socket(&ws).await;
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, error: worker::Error) -> worker::Result<()> {
        worker::console_warn!("conversation socket error: {error}");
        self.forget_socket(&ws).await;
        Ok(())
    }
}

impl Owner for Conversation {
    fn env(&self) -> &Env {
        &self.env
    }

    fn site(&self) -> Result<SiteKey> {
        Ok(self.meta()?.site.clone())
    }

    fn envelope(&self, seq: i64, target: Target, site_name: &str) -> Result<Option<Envelope>> {
        let meta = self.meta()?;
        let Some(message) = self.store.message(Seq(seq.max(0) as u64))? else {
            return Ok(None);
        };
        let to_contact = matches!(target, Target::Contact(_));
        let contact = match target {
            Target::Agents(_) => None,
            // The contact's own channel, or the address the visitor left (queued while they
            // were away: it goes even if they came back since).
            Target::Contact(k) => self.reach(&meta)?.filter(|c| c.channel.channel() == k),
        };
        Ok(Some(Envelope {
            site: meta.site.clone(),
            site_name: site_name.to_owned(),
            conversation: Some(meta.id.clone()),
            page_url: meta.page_url.clone(),
            contact,
            broadcast: match to_contact {
                true => self.broadcasts.of(seq)?,
                false => None,
            },
            content: Content::Message(message),
        }))
    }

    fn storage(&self) -> worker::Storage {
        self.state.storage()
    }

    /// The outbox shares the DO's one alarm with the index flush.
    async fn wake_at(&self, at: Option<i64>) {
        self.outbox_due(at).await;
    }

    async fn alarm(&self) -> Option<i64> {
        self.alarm_time().await
    }

    /// A broadcast's message to its recipient: never twice.
    fn at_most_once(&self, seq: i64, target: Target) -> bool {
        matches!(target, Target::Contact(_)) && self.broadcasts.of(seq).ok().flatten().is_some()
    }

    async fn settled(&self, seq: i64, target: Target, outcome: std::result::Result<(), &str>) {
        if !matches!(target, Target::Contact(_)) {
            return;
        }
        let (stage, reason) = match outcome {
            Ok(()) => (Stage::Sent, None),
            Err(reason) => (crate::broadcast::stage_of_refusal(reason), Some(reason)),
        };
        if let Err(e) = self.broadcast_progress(seq, stage, reason).await {
            worker::console_error!("broadcast progress: {e}");
        }
    }
}

impl Conversation {
    async fn route(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        match (req.method(), path.as_str()) {
            (worker::Method::Post, "/init") => {
                // `?coalesce`: the opener (a broadcast) does not wait for the inbox's index.
                let coalesce = req.url()?.query() == Some("coalesce");
                let meta: Meta = req.json().await.map_err(Error::internal)?;
                let created = self.store.init_meta(&meta)?;
                if created {
                    if let Some(text) = &meta.opening {
                        self.store_teaser(text)?;
                    }
                    match coalesce {
                        true => self.changed().await,
                        false => self.changed_now().await,
                    }
                }
                http::json(
                    if created { 201 } else { 200 },
                    &serde_json::json!({ "created": created }),
                )
            }
            (worker::Method::Get, "/ws") => {
                let principal = self.authorize(&req)?;
                self.socket_room(&principal)?;
                crate::tickets::spend(&self.state.storage().sql(), &req, http::now_ms())?;
                if let Principal::Agent { key, .. } = &principal {
                    // The site's hub remembers which conversations a stored (revocable) key
                    // has sockets in, so revoking the key closes them.
                    if key.starts_with("key_") {
                        crate::site_hub::watch(&self.env, &*self.meta()?, key).await?;
                        // Deleted meanwhile: no socket on it.
                        self.meta()?;
                    }
                }
                self.open_socket(principal)
            }
            (worker::Method::Post, "/ask-rating") => {
                let asked = self.ask_rating().await?;
                http::json(200, &serde_json::json!({ "asked": asked }))
            }
            (worker::Method::Post, "/close-key") => {
                let key = req.text().await?;
                self.sockets.close_key(&self.state, &key);
                Ok(Response::empty()?.with_status(204))
            }
            (worker::Method::Get, "/messages") => {
                self.authorize(&req)?;
                self.messages_settled().await;
                let q = http::query(&req)?;
                let after = Seq(http::query_num(&q, "after")?.unwrap_or(0));
                let limit = http::query_num(&q, "limit")?
                    .unwrap_or(MAX_HISTORY_PAGE)
                    .clamp(1, MAX_HISTORY_PAGE);
                let page = MessagePage {
                    messages: self
                        .store
                        .after(after, limit)?
                        .into_iter()
                        .map(|m| self.served(m))
                        .collect::<Result<_>>()?,
                    last_seq: self.store.last_seq()?,
                };
                http::json(200, &page)
            }
            (worker::Method::Post, "/messages") => {
                let post: PostRequest = req.json().await.map_err(Error::internal)?;
                self.check_access(&post.principal)?;
                let channels = self.channels().await?;
                let extras = Extras {
                    files: &post.files,
                    broadcast: post.broadcast.as_ref(),
                };
                self.messages_settled().await;
                let stored = self.store_message(
                    &post.principal,
                    post.client_msg_id,
                    (&post.body, &post.attachments),
                    &channels,
                    &extras,
                    None,
                )?;
                // A message sent again may have been cut short the first time, after it was
                // stored and before its relays or index were on their way: it gets them too.
                // The caller waits for the relays only if it asked to (a webhook must not).
                match (stored.relays || stored.duplicate, post.relay_first) {
                    (true, true) => {
                        if !stored.duplicate {
                            self.outbox.arm_safety_net(self).await;
                        }
                        self.outbox.pump(self).await;
                    }
                    (true, false) => self.relay_soon().await,
                    (false, _) => {}
                }
                // A broadcast's sender does not wait for the inbox's index either.
                match post.broadcast {
                    Some(_) => self.changed().await,
                    None => self.changed_now().await,
                }
                let (message, duplicate) = (self.served(stored.message)?, stored.duplicate);
                http::json(
                    if duplicate { 200 } else { 201 },
                    &PostedMessage { message, duplicate },
                )
            }
            (worker::Method::Post, "/email-contact") => {
                #[derive(serde::Deserialize)]
                struct Ask {
                    address: String,
                }
                let ask: Ask = req.json().await.map_err(Error::internal)?;
                let reaches = self.reach(&*self.meta()?)?.is_some_and(|r| {
                    r.channel == beckon_shared::proto::v1::ContactChannel::Email
                        && r.address.eq_ignore_ascii_case(&ask.address)
                });
                http::json(200, &serde_json::json!({ "reaches": reaches }))
            }
            (worker::Method::Post, "/uploads") => {
                let principal = self.authorize(&req)?;
                let op: uploads::UploadOp = req.json().await.map_err(Error::internal)?;
                http::json(200, &self.upload_op(&principal, op).await?)
            }
            (worker::Method::Delete, "/") => {
                self.authorize(&req)?;
                let files = self.erase().await?;
                http::json(200, &serde_json::json!({ "files": files }))
            }
            (worker::Method::Get, "/summary") => {
                self.authorize(&req)?;
                http::json(200, &self.summary()?)
            }
            (worker::Method::Get, "/relays") => {
                self.authorize(&req)?;
                http::json(
                    200,
                    &serde_json::json!({ "relays": self.outbox.store.relays()? }),
                )
            }
            (worker::Method::Post, "/wake") => {
                self.wake().await;
                Ok(Response::empty()?.with_status(204))
            }
            (worker::Method::Post, "/relay-status") => {
                let s: StatusReport = req.json().await.map_err(Error::internal)?;
                let now = http::now_ms();
                let applied = self.outbox.store.record_status(
                    &s.remote_id,
                    s.status,
                    s.fallback.as_deref(),
                    now,
                )?;
                if applied.requeued {
                    self.relay_soon().await;
                }
                let mut advanced = applied.advanced.map(|(seq, _)| seq);
                // Only this conversation's own contact: a status of an agent's copy of a
                // relay (its number is not the contact) must not settle the contact's send.
                let contact = self.store.meta()?.and_then(|m| m.contact.clone());
                let to = s.to.as_ref().filter(|to| contact.as_ref() == Some(*to));
                if let (false, Some(to), Some(at)) = (applied.known, to, s.at) {
                    let timeout_ms = crate::transport::timeout_ms(&self.env) as i64;
                    match self.outbox.arrived_after_all(
                        to.target(),
                        (&to.address, &s.remote_id),
                        s.status,
                        at,
                        timeout_ms,
                    )? {
                        Arrival::Settled(seq) => {
                            self.broadcast_progress(seq, Stage::Sent, None).await?;
                            advanced = Some(seq);
                        }
                        // The channel tells it again (the webhook answers 5xx).
                        Arrival::Busy => {
                            return Err(Error::internal(
                                "a status for an id not recorded yet, while a send to its contact is under way",
                            ))
                        }
                        Arrival::NotOurs => {}
                    }
                }
                if let Some(seq) = advanced {
                    let stage = match s.status {
                        DeliveryStatus::Delivered => Some(Stage::Delivered),
                        DeliveryStatus::Read => Some(Stage::Read),
                        _ => None,
                    };
                    if let Some(stage) = stage {
                        self.broadcast_progress(seq, stage, None).await?;
                    }
                }
                Ok(Response::empty()?.with_status(204))
            }
            _ => Err(Error::code(ErrorCode::NotFound)),
        }
    }

    fn meta(&self) -> Result<std::rc::Rc<Meta>> {
        self.store
            .meta()?
            .ok_or_else(|| Error::code(ErrorCode::ConversationNotFound))
    }

    /// The site's channels (cached per isolate).
    async fn channels(&self) -> Result<std::rc::Rc<SiteChannels>> {
        set::get(&self.env, &self.meta()?.site).await
    }

    /// The site's channels for a message on its way, without waiting for D1 unless this
    /// isolate has no recent copy; `true` beside them: they have expired, read them again once
    /// it is answered ([`Conversation::channels`]).
    async fn channels_for_message(&self) -> Result<(std::rc::Rc<SiteChannels>, bool)> {
        set::get_for_message(&self.env, &self.meta()?.site).await
    }

    /// Reads the principal the Worker attached and checks it may use this conversation.
    fn authorize(&self, req: &Request) -> Result<Principal> {
        let raw = req
            .headers()
            .get(PRINCIPAL_HEADER)?
            .ok_or_else(|| Error::internal("principal header missing on internal request"))?;
        let principal: Principal = serde_json::from_str(&raw).map_err(Error::internal)?;
        self.check_access(&principal)?;
        Ok(principal)
    }

    /// Agents may use the conversations of their key's sites; a visitor only their own, on
    /// the site their token was issued for.
    fn check_access(&self, principal: &Principal) -> Result<()> {
        let meta = self.meta()?;
        match principal {
            Principal::Agent { sites, .. } if sites.allows(&meta.site) => Ok(()),
            Principal::Agent { .. } => Err(Error::new(
                ErrorCode::Forbidden,
                "this key is not valid for this conversation's site",
            )),
            Principal::Visitor { site, visitor_id }
                if *visitor_id == meta.visitor_id && *site == meta.site =>
            {
                Ok(())
            }
            Principal::Visitor { .. } => Err(Error::new(
                ErrorCode::Forbidden,
                "this conversation belongs to another visitor",
            )),
        }
    }

    /// Where a new message of `role` goes: every enabled channel's agents (of channels that
    /// have agents) except the one it came from, and — for the business's messages — the
    /// contact's `contact` route ([`Conversation::contact_route`]).
    fn relay_targets(
        &self,
        channels: &SiteChannels,
        role: Role,
        via: Option<&str>,
        contact: Option<&ContactRoute>,
    ) -> Vec<Target> {
        let mut targets: Vec<Target> = beckon_shared::proto::v1::ChannelKind::ALL
            .iter()
            .filter(|k| k.relays_to_agents() && channels.is_enabled(**k) && Some(k.as_str()) != via)
            .map(|k| Target::Agents(*k))
            .collect();
        if role != Role::Visitor {
            if let Some(c) = contact.filter(|c| channels.is_enabled(c.channel.channel())) {
                targets.push(c.target());
            }
        }
        targets
    }

    /// Validates and stores a message (once per client message id), queues its relays and
    /// fans it out: to every socket but `sender`'s before it is written, to `sender`'s after.
    /// The caller then relays and records the change ([`changed`]). Synchronous
    /// on purpose: no other event can interleave between reading the last `seq` and writing
    /// the next one, and the relays are durable exactly when the message is. (A socket's
    /// message takes its two halves with a turn of the runtime between them: `socket.rs`.)
    ///
    /// [`changed`]: Self::changed
    pub(crate) fn store_message(
        &self,
        principal: &Principal,
        client_msg_id: Option<ClientMsgId>,
        content: (&str, &[AttachmentId]),
        channels: &SiteChannels,
        extras: &Extras,
        sender: Option<&WebSocket>,
    ) -> Result<Stored> {
        match self.draft_message(principal, client_msg_id, content, extras, sender)? {
            Draft::Stored(stored) => Ok(stored),
            Draft::New(drafted) => self.write_message(drafted, channels, extras, sender),
        }
    }

    /// The first half of [`Conversation::store_message`]: the message validated, given the
    /// next `seq` and fanned out to every socket but `sender`'s — or the one stored under its
    /// client message id already. Until [`Conversation::write_message`], nothing else may be
    /// stored: the socket's path holds the send turn between the two ([`Conversation::messages_settled`]).
    fn draft_message(
        &self,
        principal: &Principal,
        client_msg_id: Option<ClientMsgId>,
        (raw_body, attachment_ids): (&str, &[AttachmentId]),
        extras: &Extras,
        sender: Option<&WebSocket>,
    ) -> Result<Draft> {
        // Deleted while this message waited for its turn: nothing is stored any more.
        self.meta()?;
        let role = principal.role();
        let mut attachments = if attachment_ids.is_empty() {
            Vec::new()
        } else {
            self.uploads.attachments(attachment_ids, role)?
        };
        attachments.extend_from_slice(extras.files);
        // A message with files may have no text.
        let body = if attachments.is_empty() || !raw_body.trim().is_empty() {
            normalize_body(raw_body)?
        } else {
            String::new()
        };
        let (author, avatar, via) = match principal {
            Principal::Visitor { .. } => (None, None, None),
            Principal::Agent {
                name, avatar, via, ..
            } => (
                name.as_deref()
                    .map(|n| normalize_label(n, MAX_AUTHOR_CHARS))
                    .transpose()?
                    .flatten(),
                avatar.clone(),
                Some(via.clone()),
            ),
        };
        let now = http::now_ms();
        // A tap on a rating's button is the rating, nothing an agent must answer.
        let rating = match role {
            Role::Visitor => self.rating_answer(&body, now)?,
            _ => None,
        };
        let scored = matches!(rating, Some(rating::Answer::Score(_)));
        let via = if scored {
            Some(rating::VIA.to_owned())
        } else {
            via
        };
        if let Some(id) = &client_msg_id {
            if let Some(existing) = self.store.by_client_id(id)? {
                // A retried send: the message stored under this client message id.
                if existing.role != role {
                    return Err(Error::bad_request(
                        "client_msg_id is already used by another sender",
                    ));
                }
                return Ok(Draft::Stored(Stored {
                    message: existing,
                    duplicate: true,
                    relays: false,
                }));
            }
        }
        let message = self.store.draft(NewMessage {
            id: crate::random::message_id(),
            role,
            body,
            created_at: now,
            client_msg_id,
            author,
            avatar,
            via,
            attachments,
            buttons: extras
                .broadcast
                .map(|m| m.buttons.clone())
                .unwrap_or_default(),
        })?;
        // Fanned out before it is written: frames sent after a write wait for its commit (the
        // runtime's output gate), these do not. The sender gets it once it is written, so it
        // is told "stored" only when it is durable.
        let (frame, receivers) = self.sockets.broadcast_except(
            &self.state,
            &ServerFrame::Message {
                message: self.served(message.clone())?,
            },
            sender,
        );
        Ok(Draft::New(Drafted {
            message,
            frame,
            receivers,
            rating,
            now,
        }))
    }

    /// The second half of [`Conversation::store_message`]: the drafted message written, sent
    /// to `sender`, and its relays queued in the same transaction.
    fn write_message(
        &self,
        drafted: Drafted,
        channels: &SiteChannels,
        extras: &Extras,
        sender: Option<&WebSocket>,
    ) -> Result<Stored> {
        let Drafted {
            message,
            frame,
            rating,
            now,
            ..
        } = drafted;
        let role = message.role;
        let scored = matches!(rating, Some(rating::Answer::Score(_)));
        if let Err(e) = self.store.write(&message) {
            // The others saw a message that is not stored: they reconnect, and the welcome's
            // `last_seq` drops it. The sender never saw it, and gets the error.
            self.sockets.close_all_but(&self.state, sender);
            return Err(e);
        }
        if let (Some(ws), Some(frame)) = (sender, &frame) {
            socket::send_encoded(ws, frame);
        }
        let meta = self.meta()?;
        // A rule's teaser waits for the visitor's first message, and goes out just before it.
        if role == Role::Visitor && meta.opening.is_some() && !self.store.flag(TEASER_SENT)? {
            let teaser = self.relay_targets(channels, Role::Bot, Some("rule"), None);
            self.outbox.store.enqueue(TEASER_SEQ, &teaser, now)?;
            self.store.set_flag(TEASER_SENT)?;
        }
        let seq = message.seq.0 as i64;
        let targets = match extras.broadcast {
            _ if scored => Vec::new(),
            // The person only; the agents' channels get it with their answer.
            Some(mark) => {
                self.broadcasts.set(seq, mark)?;
                let to_person: Vec<Target> = self
                    .relay_targets(channels, role, None, meta.contact.as_ref())
                    .into_iter()
                    .filter(|t| matches!(t, Target::Contact(_)))
                    .collect();
                // Its channel was turned off since the broadcast was planned (or its settings
                // cannot be read): it cannot go.
                if to_person.is_empty() && mark.channel != BroadcastChannel::Web {
                    let unreadable = mark
                        .channel
                        .contact()
                        .is_some_and(|c| channels.unreadable.contains(&c.channel()));
                    let reason = match unreadable {
                        true => crate::storage::channels::Unreadable::REASON,
                        false => crate::outbox::NOT_SET_UP,
                    };
                    self.broadcasts.report(mark, Stage::Failed, Some(reason))?;
                }
                to_person
            }
            None => self.relay_targets(
                channels,
                role,
                message.via.as_deref(),
                self.contact_route(&meta)?.as_ref(),
            ),
        };
        if role == Role::Visitor && !scored {
            // An answer to a broadcast: the agents see what was answered, just before it.
            for (answered, mark) in self.broadcasts.answer()? {
                let agents = self.relay_targets(channels, Role::Bot, Some("broadcast"), None);
                self.outbox.store.enqueue(answered, &agents, now)?;
                self.broadcasts.report(&mark, Stage::Replied, None)?;
            }
        }
        self.outbox.store.enqueue(seq, &targets, now)?;
        if let Some(answer) = rating {
            self.record_rating(answer, &message.body, now)?;
        }
        Ok(Stored {
            message,
            duplicate: false,
            relays: !targets.is_empty(),
        })
    }

    /// Stores the teaser the visitor answered as the conversation's first message
    /// ([`TEASER_SEQ`]). It is relayed with the visitor's own first message, never before:
    /// nothing reaches the agents' channels until a person writes.
    fn store_teaser(&self, text: &str) -> Result<()> {
        self.append_bot(normalize_body(text)?, "rule", Vec::new())?;
        Ok(())
    }

    /// Stores a message of the site's own (a rule's teaser, the rating's question), marked
    /// with where it came from (`via`).
    pub(crate) fn append_bot(
        &self,
        body: String,
        via: &str,
        buttons: Vec<beckon_shared::rules::CtaButton>,
    ) -> Result<Message> {
        let message = self.store.draft(NewMessage {
            id: crate::random::message_id(),
            role: Role::Bot,
            body,
            created_at: http::now_ms(),
            client_msg_id: None,
            author: None,
            avatar: None,
            via: Some(via.into()),
            attachments: Vec::new(),
            buttons,
        })?;
        self.store.write(&message)?;
        Ok(message)
    }

    /// Has the alarm run the relay pump now, if anything may be waiting (used where the
    /// caller should not wait for it).
    pub(crate) async fn relay_soon(&self) {
        if self.outbox.store.may_have_pending() {
            self.outbox_due(Some(http::now_ms())).await;
        }
    }

    /// Moves a read cursor and tells everyone.
    pub(crate) async fn mark_read(&self, role: Role, seq: Seq) -> Result<()> {
        // A socket may read a message it was sent before the message is written.
        self.messages_settled().await;
        if let Some(seq) = self.store.advance_cursor(role, seq)? {
            self.sockets
                .broadcast(&self.state, &ServerFrame::Read { role, seq }, None);
            if role == Role::Agent {
                self.changed().await;
            }
            // The visitor read a broadcast message in the widget: its funnel's "read".
            if role == Role::Visitor && self.broadcasts.seen_up_to(seq.0 as i64)? {
                self.changed().await;
            }
        }
        Ok(())
    }

    pub(crate) fn summary(&self) -> Result<ConversationSummary> {
        let meta = self.meta()?;
        let last = self.store.last_message()?;
        let cursors = self.store.cursors()?;
        Ok(ConversationSummary {
            id: meta.id.clone(),
            site: meta.site.clone(),
            visitor_id: meta.visitor_id.clone(),
            origin: meta.origin.clone(),
            page_url: meta.page_url.clone(),
            created_at: meta.created_at,
            updated_at: last.as_ref().map_or(meta.created_at, |m| m.created_at),
            last_seq: last.as_ref().map_or(Seq::ZERO, |m| m.seq),
            last_message: last.map(|m| MessagePreview {
                role: m.role,
                body: preview(&m.as_text(), 140),
                created_at: m.created_at,
            }),
            agent_read_seq: cursors.agent,
            unread: self.store.unread_by_agent()?,
            contact: meta.contact.as_ref().map(|c| c.channel),
            last_visitor_at: self.store.last_visitor_at()?,
            work: None,
            matched: None,
            first_response: self.store.first_answer()?,
        })
    }
}
