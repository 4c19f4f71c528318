//! The conversation's WebSockets: accepting them (hibernatable), reading client frames, and
//! fanning server frames out. A socket's principal and whether it has said `hello`
//! ([`SocketState`]) are kept in its serialized attachment, so they survive hibernation; this
//! instance also keeps them in memory ([`Sockets`]), read from the attachments once after a
//! wake-up, so no frame and no fan-out deserializes an attachment.

use super::{Conversation, Principal};
use crate::error::{Error, Result};
use crate::rate_limit::{Bucket, Rate};
use beckon_shared::limits::{MAX_FRAME_BYTES, MAX_HISTORY_PAGE};
use beckon_shared::proto::v1::{close, ClientFrame, ErrorCode, Role, ServerFrame};
use beckon_shared::ClientMsgId;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use worker::{Response, State, WebSocket, WebSocketIncomingMessage, WebSocketPair};

/// Sockets a conversation keeps open for its visitor (tabs and devices) and for its agents
/// (inbox tabs, API clients): one more is refused (429), so a script cannot open thousands
/// and have every frame fanned out to each.
pub(super) const MAX_VISITOR_SOCKETS: usize = 20;
pub(super) const MAX_AGENT_SOCKETS: usize = 50;

/// "Typing" frames a side may have shown: 5 at once, then one a second.
const TYPING: Rate = Rate {
    burst: 5.0,
    interval_ms: 1_000.0,
    hold_ms: 0,
};

/// Which typing frames of one side go out to the other (pure: the caller gives the time).
/// Its "typing" within [`TYPING`]; its "stopped" only after a "typing" that went out. What the
/// apps send — one "typing" when typing starts, one "stopped" after a pause — always passes; a
/// flood goes nowhere, and nothing is left shown typing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct TypingMeter {
    typing: Bucket,
    shown: bool,
}

impl TypingMeter {
    /// A fresh meter (a new or woken object) lets its first "stopped" through: a "typing" that
    /// went out before the object slept is taken back.
    pub(super) fn new(now: i64) -> TypingMeter {
        TypingMeter {
            typing: Bucket::full(TYPING, now),
            shown: true,
        }
    }

    /// Whether this frame goes out.
    pub(super) fn admit(&mut self, active: bool, now: i64) -> bool {
        if !active {
            return std::mem::replace(&mut self.shown, false);
        }
        let admitted = self.typing.take(now).is_ok();
        self.shown |= admitted;
        admitted
    }
}

/// What a socket carries through hibernation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct SocketState {
    principal: Principal,
    ready: bool,
}

/// The conversation's open sockets and their state, as this instance knows them.
#[derive(Default)]
pub(super) struct Sockets {
    loaded: Cell<bool>,
    list: RefCell<Vec<(WebSocket, SocketState)>>,
}

impl Sockets {
    /// Reads every socket's attachment, once per instance.
    pub(super) fn load(&self, state: &State) {
        if self.loaded.replace(true) {
            return;
        }
        let mut list = self.list.borrow_mut();
        for ws in state.get_websockets() {
            if list.iter().any(|(w, _)| *w == ws) {
                continue;
            }
            if let Ok(Some(s)) = ws.deserialize_attachment::<SocketState>() {
                list.push((ws, s));
            }
        }
    }

    fn state_of(&self, state: &State, ws: &WebSocket) -> Option<SocketState> {
        self.load(state);
        self.list
            .borrow()
            .iter()
            .find(|(w, _)| w == ws)
            .map(|(_, s)| s.clone())
    }

    fn mark_ready(&self, ws: &WebSocket, s: SocketState) -> Result<()> {
        ws.serialize_attachment(&s)?;
        let mut list = self.list.borrow_mut();
        match list.iter_mut().find(|(w, _)| w == ws) {
            Some(entry) => entry.1 = s,
            None => list.push((ws.clone(), s)),
        }
        Ok(())
    }

    /// Closes the sockets opened with admin key `key` (revoked).
    pub(super) fn close_key(&self, state: &State, key: &str) {
        self.load(state);
        self.list.borrow_mut().retain(|(ws, s)| match &s.principal {
            Principal::Agent { key: k, .. } if k == key => {
                let _ = ws.close(Some(close::POLICY_VIOLATION), Some("this key was revoked"));
                false
            }
            _ => true,
        });
    }

    /// Whether a visitor's socket is open (and said hello): a tab of theirs shows the
    /// conversation.
    pub(super) fn visitor_present(&self, state: &State) -> bool {
        self.load(state);
        self.list
            .borrow()
            .iter()
            .any(|(_, s)| s.ready && s.principal.role() == Role::Visitor)
    }

    /// How many sockets of `role` are open (said hello or not).
    fn count(&self, role: Role) -> usize {
        self.list
            .borrow()
            .iter()
            .filter(|(_, s)| s.principal.role() == role)
            .count()
    }

    /// Forgets a socket that closed or failed.
    pub(super) fn remove(&self, ws: &WebSocket) {
        self.list.borrow_mut().retain(|(w, _)| w != ws);
    }

    /// Sends `frame` to every socket that has said hello, except those of `skip_role`.
    pub(super) fn broadcast(&self, state: &State, frame: &ServerFrame, skip_role: Option<Role>) {
        self.send_where(state, frame, |_, s| Some(s.principal.role()) != skip_role);
    }

    /// Sends `frame` to every socket that has said hello but `except`, and returns it encoded
    /// (for `except`, later) and how many sockets got it.
    pub(super) fn broadcast_except(
        &self,
        state: &State,
        frame: &ServerFrame,
        except: Option<&WebSocket>,
    ) -> (Option<wasm_bindgen::JsValue>, usize) {
        self.send_where(state, frame, |ws, _| Some(ws) != except)
    }

    /// The frame is encoded, and handed to JavaScript, once.
    fn send_where(
        &self,
        state: &State,
        frame: &ServerFrame,
        to: impl Fn(&WebSocket, &SocketState) -> bool,
    ) -> (Option<wasm_bindgen::JsValue>, usize) {
        let Ok(text) = serde_json::to_string(frame) else {
            return (None, 0);
        };
        let text = wasm_bindgen::JsValue::from_str(&text);
        self.load(state);
        let mut sent = 0;
        for (ws, s) in self.list.borrow().iter() {
            if s.ready && to(ws, s) {
                send_encoded(ws, &text);
                sent += 1;
            }
        }
        (Some(text), sent)
    }

    /// Closes every socket but `keep`; their clients reconnect, and the welcome tells them
    /// where the stored messages end.
    pub(super) fn close_all_but(&self, state: &State, keep: Option<&WebSocket>) {
        self.load(state);
        self.list.borrow_mut().retain(|(ws, _)| {
            if Some(ws) == keep {
                return true;
            }
            let _ = ws.close(Some(close::TRY_AGAIN), Some("please reconnect"));
            false
        });
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// A server-side WebSocket, as far as sending goes.
    type Sender;
    /// `WebSocket.send` with a string already in JavaScript.
    #[wasm_bindgen(method, js_name = send, catch)]
    fn send(
        this: &Sender,
        data: &wasm_bindgen::JsValue,
    ) -> std::result::Result<(), wasm_bindgen::JsValue>;
}

/// Sends `text` (a JavaScript string) on `ws`.
fn send_value(
    ws: &web_sys::WebSocket,
    text: &wasm_bindgen::JsValue,
) -> std::result::Result<(), wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;
    ws.unchecked_ref::<Sender>().send(text)
}

/// Sends a frame already encoded (as [`Sockets::broadcast_except`] returns it).
pub(super) fn send_encoded(ws: &WebSocket, frame: &wasm_bindgen::JsValue) {
    // A socket that is closing cannot be written to; its close handler cleans up.
    let _ = send_value(ws.as_ref(), frame);
}

pub fn send(ws: &WebSocket, frame: &ServerFrame) {
    if let Ok(text) = serde_json::to_string(frame) {
        // A socket that is closing cannot be written to; its close handler cleans up.
        let _ = ws.send_with_str(text);
    }
}

/// Ends this turn of the runtime and waits for the next (a timer; `delay` from
/// [`write_wait`]): frames sent in a turn leave only once it has ended, so a message's fan-out
/// waits for none of the work after it: its write, whose statement and commit cost the thread more
/// than the rest of the message (ARCHITECTURE, "the hot path", has the bench's figures).
async fn let_frames_leave(delay: std::time::Duration) {
    worker::Delay::from(delay).await
}

/// Receivers from which a message's frames take the runtime longer than a turn to send.
const MANY_RECEIVERS: usize = 3;

/// How long a message's write waits after its fan-out ([`let_frames_leave`]): a turn, or a
/// millisecond when [`MANY_RECEIVERS`] or more got the frame — those frames leave over the
/// runtime's next I/O polls, and a write that starts before they have left holds up the last
/// of them (bench, 10 sockets, p50 against the demo's over 15 pairs: 1.10× with the wait,
/// 1.23× without; ARCHITECTURE, "where the rest goes"). One frame is out within
/// the turn (measured), and the wait would only land the write on another conversation's
/// fan-out (50 conversations of 2 sockets: 1.74× with it, 1.00× without); the threshold
/// between is a choice, not a measurement. `test_delay` is added (tests only). `None` when no
/// other socket got it: no frames to let go first, and the write follows at once.
fn write_wait(receivers: usize, test_delay: std::time::Duration) -> Option<std::time::Duration> {
    let wait = match receivers {
        0 => return None,
        n if n >= MANY_RECEIVERS => std::time::Duration::from_millis(1),
        _ => std::time::Duration::ZERO,
    };
    Some(wait + test_delay)
}

impl Conversation {
    /// Waits until no message is between its fan-out and its write (a socket's send holds
    /// the turn across [`let_frames_leave`]): what comes after may read or store messages.
    /// Nothing may be awaited between this and that.
    pub(super) async fn messages_settled(&self) {
        drop(self.send_turn.lock().await);
    }

    /// Forgets a socket that closed or failed, once the frames that came before its close
    /// have had their turn: a visitor who sends and closes the tab at once still has every
    /// message stored (the bench caught 950 of 1,000 lost when the socket was forgotten first).
    pub(super) async fn forget_socket(&self, ws: &WebSocket) {
        let _turn = self.send_turn.lock().await;
        self.sockets.remove(ws);
    }

    /// Whether a visitor's new message fits their rate ([`crate::rate_limit::Bucket`]);
    /// agents are not limited here.
    pub(super) fn admits_send(&self, principal: &Principal) -> bool {
        let (Some(bucket), Principal::Visitor { .. }) = (&self.visitor_sends, principal) else {
            return true;
        };
        let mut b = bucket.get();
        let admitted = b.take(crate::http::now_ms()).is_ok();
        bucket.set(b);
        admitted
    }

    /// Whether one more socket of `principal`'s side may open (before its ticket is spent).
    pub(super) fn socket_room(&self, principal: &Principal) -> Result<()> {
        self.sockets.load(&self.state);
        let open = self.sockets.count(principal.role());
        let most = match principal.role() {
            Role::Visitor => MAX_VISITOR_SOCKETS,
            _ => MAX_AGENT_SOCKETS,
        };
        match open < most {
            true => Ok(()),
            false => Err(Error::new(
                ErrorCode::RateLimited,
                format!(
                    "{open} connections to this conversation are open already: close one first"
                ),
            )),
        }
    }

    /// Accepts a WebSocket for `principal` and hands the client end back to the caller.
    pub(super) fn open_socket(&self, principal: Principal) -> Result<Response> {
        // The sockets already open first, so the new one is listed exactly once.
        self.sockets.load(&self.state);
        let pair = WebSocketPair::new()?;
        self.state
            .accept_websocket_with_tags(&pair.server, &[principal.role().as_str()]);
        let s = SocketState {
            principal,
            ready: false,
        };
        pair.server.serialize_attachment(&s)?;
        self.sockets.list.borrow_mut().push((pair.server, s));
        Ok(Response::from_websocket(pair.client)?)
    }

    /// Answers a `send` (the ack, or the error) and ends its turn; then, off the sender's
    /// path: relays right away (with the alarm as a safety net), the index when the interval
    /// allows, and — `expired` — the site's channels read again. A message sent again (the
    /// first time may have been cut short after it was stored) gets what it is owed too.
    async fn answer_send(
        &self,
        ws: &WebSocket,
        client_msg_id: ClientMsgId,
        stored: Result<super::Stored>,
        turn: Option<tokio::sync::MutexGuard<'_, ()>>,
        expired: bool,
    ) {
        let stored = match stored {
            Ok(stored) => stored,
            Err(e) => {
                return send(
                    ws,
                    &ServerFrame::Error {
                        code: e.error_code(),
                        message: e.body().error.message,
                        client_msg_id: Some(client_msg_id),
                    },
                )
            }
        };
        let m = &stored.message;
        send(
            ws,
            &ServerFrame::Ack {
                client_msg_id,
                id: m.id.clone(),
                seq: m.seq,
                created_at: m.created_at,
                duplicate: stored.duplicate,
            },
        );
        drop(turn);
        let relays_and_index = async {
            if stored.relays {
                self.outbox.arm_safety_net(self).await;
            }
            if stored.relays || stored.duplicate {
                futures_util::join!(self.outbox.pump(self), self.changed());
            } else {
                self.changed().await;
            }
        };
        let channels_again = async {
            // The next messages get the fresh copy.
            if expired {
                if let Err(e) = self.channels().await {
                    worker::console_error!("reading the site's channels again: {e}");
                }
            }
        };
        futures_util::join!(relays_and_index, channels_again);
    }

    pub(super) async fn on_socket_message(
        &self,
        ws: &WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let text = match message {
            WebSocketIncomingMessage::String(s) => s,
            WebSocketIncomingMessage::Binary(_) => {
                let _ = ws.close(
                    Some(close::UNSUPPORTED_DATA),
                    Some("binary frames are not supported"),
                );
                return Ok(());
            }
        };
        if text.len() > MAX_FRAME_BYTES {
            let _ = ws.close(Some(close::MESSAGE_TOO_BIG), Some("frame too large"));
            return Ok(());
        }
        let frame: ClientFrame = serde_json::from_str(&text)
            .map_err(|e| Error::new(ErrorCode::BadFrame, format!("invalid frame: {e}")))?;
        // Frames are taken in the order they came, each once the message before it is written
        // (first come, first served): `make test` caught "line 40" stored before "line 39"
        // when the site's channels were read on the way, and a message sent right after a
        // hello refused as "before hello" when the hello waited for a message's write. A
        // message holds the turn until its answer (what follows it — relays, the index — does
        // not hold up the next), a hello until it has replayed; the others let it go at once.
        // The socket's close takes its turn too ([`Conversation::forget_socket`]).
        let turn = self.send_turn.lock().await;
        let Some(mut att) = self.sockets.state_of(&self.state, ws) else {
            // This object closed the socket while the frame waited (a revoked key, the
            // conversation deleted, a failed write): nothing is taken from it any more.
            return Ok(());
        };
        // A visitor's access is re-checked on every frame: it is cheap and survives hibernation.
        self.check_access(&att.principal)?;
        let turn = match &frame {
            ClientFrame::Send { .. } | ClientFrame::Hello { .. } => Some(turn),
            _ => {
                drop(turn);
                None
            }
        };

        match frame {
            // Once per socket: each hello replays the history while it holds the turn, so a
            // socket saying it again and again would hold up everyone's messages.
            ClientFrame::Hello { .. } if att.ready => {
                send(
                    ws,
                    &ServerFrame::Error {
                        code: ErrorCode::BadFrame,
                        message: "hello was already said on this socket".into(),
                        client_msg_id: None,
                    },
                );
                let _ = ws.close(
                    Some(close::POLICY_VIOLATION),
                    Some("hello is said once per socket"),
                );
            }
            ClientFrame::Hello { resume_from } => {
                let meta = self.meta()?;
                send(
                    ws,
                    &ServerFrame::Welcome {
                        conversation_id: meta.id.clone(),
                        origin: meta.origin.clone(),
                        last_seq: self.store.last_seq()?,
                        read: self.store.cursors()?,
                        away_email: self.store.away_email()?,
                    },
                );
                let mut after = resume_from;
                loop {
                    let page = self.store.after(after, MAX_HISTORY_PAGE)?;
                    let Some(last) = page.last().map(|m| m.seq) else {
                        break;
                    };
                    for message in page {
                        let message = self.served(message)?;
                        send(ws, &ServerFrame::Message { message });
                    }
                    after = last;
                }
                att.ready = true;
                self.sockets.mark_ready(ws, att)?;
            }
            _ if !att.ready => {
                send(ws, &ServerFrame::error(ErrorCode::BadFrame, None));
                let _ = ws.close(
                    Some(close::POLICY_VIOLATION),
                    Some("the first frame must be hello"),
                );
            }
            ClientFrame::Send { client_msg_id, .. } if client_msg_id.is_reserved() => send(
                ws,
                &ServerFrame::Error {
                    code: ErrorCode::InvalidId,
                    message: format!(
                        "client_msg_id may not start with {} (reserved for messages from channels)",
                        ClientMsgId::CHANNEL_PREFIX
                    ),
                    client_msg_id: Some(client_msg_id),
                },
            ),
            ClientFrame::Send { client_msg_id, .. } if !self.admits_send(&att.principal) => send(
                ws,
                &ServerFrame::Error {
                    code: ErrorCode::RateLimited,
                    message: "Too many messages at once; it will be sent in a moment.".into(),
                    client_msg_id: Some(client_msg_id),
                },
            ),
            ClientFrame::Send {
                client_msg_id,
                body,
                attachments,
            } => {
                let (channels, expired) = self.channels_for_message().await?;
                let extras = Default::default();
                let stored = match self.draft_message(
                    &att.principal,
                    Some(client_msg_id.clone()),
                    (&body, &attachments),
                    &extras,
                    Some(ws),
                ) {
                    Ok(super::Draft::New(drafted)) => {
                        if let Some(wait) = write_wait(drafted.receivers, self.write_delay) {
                            let_frames_leave(wait).await;
                        }
                        self.write_message(drafted, &channels, &extras, Some(ws))
                    }
                    Ok(super::Draft::Stored(stored)) => Ok(stored),
                    Err(e) => Err(e),
                };
                self.answer_send(ws, client_msg_id, stored, turn, expired)
                    .await;
            }
            ClientFrame::Typing { active } => {
                let role = att.principal.role();
                let side = usize::from(role == Role::Agent);
                let mut meters = self.typing.get();
                let admitted = meters[side].admit(active, crate::http::now_ms());
                self.typing.set(meters);
                if !admitted {
                    return Ok(());
                }
                self.sockets.broadcast(
                    &self.state,
                    &ServerFrame::Typing { role, active },
                    Some(role),
                );
            }
            ClientFrame::Read { seq } => self.mark_read(att.principal.role(), seq).await?,
            ClientFrame::Ping => send(ws, &ServerFrame::Pong),
            ClientFrame::AwayEmail { email } => {
                self.leave_away_email(&att.principal, &email).await?
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn typing_frames_pass_as_the_apps_send_them_and_a_flood_goes_nowhere() {
        let mut m = TypingMeter::new(0);
        // Typing, a pause, typing again, a pause: all go out, each "stopped" once.
        for t in [0, 4_000, 9_000] {
            assert!(m.admit(true, t));
            assert!(m.admit(false, t + 2_000));
            assert!(!m.admit(false, t + 2_100), "a second stop at {t}");
        }
        // A flood: the burst goes out, then one a second.
        let mut m = TypingMeter::new(0);
        let out = (0..1_000)
            .filter(|i| m.admit(i % 2 == 0, 10_000 + i))
            .count();
        // 5 typings and their 5 stops at once, then one pair per second (the flood lasts 1 s).
        assert!((10..=12).contains(&out), "{out} of 1,000 frames went out");
        // A woken object's first stop goes out (its typing may have gone out before it slept).
        let mut m = TypingMeter::new(0);
        assert!(m.admit(false, 5_000));
        assert!(!m.admit(false, 5_001));
        // A stop after a typing that went out always goes out: nothing stays shown.
        let mut m = TypingMeter::new(0);
        for i in 0..100 {
            m.admit(true, i);
        }
        assert!(m.admit(false, 100));
        assert!(!m.admit(false, 101));
    }

    #[test]
    fn a_write_waits_a_turn_a_millisecond_or_not_at_all_by_who_got_the_frame() {
        let extra = Duration::from_millis(5);
        // No other socket got it: the write follows in the same turn, test delay or not.
        assert_eq!(write_wait(0, Duration::ZERO), None);
        assert_eq!(write_wait(0, extra), None);
        for receivers in 1..MANY_RECEIVERS {
            assert_eq!(write_wait(receivers, Duration::ZERO), Some(Duration::ZERO));
            assert_eq!(write_wait(receivers, extra), Some(extra));
        }
        for receivers in [MANY_RECEIVERS, 9, 100] {
            assert_eq!(
                write_wait(receivers, Duration::ZERO),
                Some(Duration::from_millis(1))
            );
            assert_eq!(write_wait(receivers, extra), Some(Duration::from_millis(6)));
        }
    }
}
