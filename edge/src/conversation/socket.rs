//! The conversation's WebSockets: accepting them (hibernatable), reading client frames, and
//! fanning server frames out. A socket's principal and whether it has said `hello`
//! ([`SocketState`]) are kept in its serialized attachment, so they survive hibernation.

use super::{Conversation, Principal};
use crate::error::{Error, Result};
use beckon_shared::limits::{MAX_FRAME_BYTES, MAX_HISTORY_PAGE};
use beckon_shared::proto::v1::{close, ClientFrame, ErrorCode, ServerFrame};
use serde::{Deserialize, Serialize};
use worker::{Response, State, WebSocket, WebSocketIncomingMessage, WebSocketPair};

/// What a socket carries through hibernation.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SocketState {
    principal: Principal,
    ready: bool,
}

/// Accepts a WebSocket for `principal` and hands the client end back to the caller.
pub fn open(state: &State, principal: Principal) -> Result<Response> {
    let pair = WebSocketPair::new()?;
    state.accept_websocket_with_tags(&pair.server, &[principal.role().as_str()]);
    pair.server.serialize_attachment(SocketState {
        principal,
        ready: false,
    })?;
    Ok(Response::from_websocket(pair.client)?)
}

pub fn send(ws: &WebSocket, frame: &ServerFrame) {
    if let Ok(text) = serde_json::to_string(frame) {
        // A socket that is closing cannot be written to; its close handler cleans up.
        let _ = ws.send_with_str(text);
    }
}

/// Sends `frame` to every socket that has said hello, except those of `skip_role`'s role.
pub fn broadcast(
    state: &State,
    frame: &ServerFrame,
    skip_role: Option<beckon_shared::proto::v1::Role>,
) {
    let Ok(text) = serde_json::to_string(frame) else {
        return;
    };
    for ws in state.get_websockets() {
        let Ok(Some(att)) = ws.deserialize_attachment::<SocketState>() else {
            continue;
        };
        if att.ready && Some(att.principal.role()) != skip_role {
            let _ = ws.send_with_str(&text);
        }
    }
}

impl Conversation {
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
        let Some(mut att) = ws.deserialize_attachment::<SocketState>()? else {
            return Err(Error::internal("socket without attachment"));
        };
        // A visitor's access is re-checked on every frame: it is cheap and survives hibernation.
        self.check_access(&att.principal)?;

        match frame {
            ClientFrame::Hello { resume_from } => {
                let meta = self.meta()?;
                send(
                    ws,
                    &ServerFrame::Welcome {
                        conversation_id: meta.id,
                        origin: meta.origin,
                        last_seq: self.store.last_seq()?,
                        read: self.store.cursors()?,
                    },
                );
                let mut after = resume_from;
                loop {
                    let page = self.store.after(after, MAX_HISTORY_PAGE)?;
                    let Some(last) = page.last().map(|m| m.seq) else {
                        break;
                    };
                    for message in page {
                        send(ws, &ServerFrame::Message { message });
                    }
                    after = last;
                }
                att.ready = true;
                ws.serialize_attachment(&att)?;
            }
            _ if !att.ready => {
                send(ws, &ServerFrame::error(ErrorCode::BadFrame, None));
                let _ = ws.close(
                    Some(close::POLICY_VIOLATION),
                    Some("the first frame must be hello"),
                );
            }
            ClientFrame::Send {
                client_msg_id,
                body,
            } => match self.store_message(
                &att.principal,
                Some(client_msg_id.clone()),
                &body,
                &*self.channels().await?,
            ) {
                Ok((m, duplicate)) => {
                    send(
                        ws,
                        &ServerFrame::Ack {
                            client_msg_id,
                            id: m.id,
                            seq: m.seq,
                            created_at: m.created_at,
                            duplicate,
                        },
                    );
                    if !duplicate {
                        self.outbox.arm_safety_net(self).await;
                        self.publish().await;
                        self.outbox.pump(self).await;
                    }
                }
                Err(e) => send(
                    ws,
                    &ServerFrame::Error {
                        code: e.error_code(),
                        message: e.body().error.message,
                        client_msg_id: Some(client_msg_id),
                    },
                ),
            },
            ClientFrame::Typing { active } => {
                let role = att.principal.role();
                broadcast(
                    &self.state,
                    &ServerFrame::Typing { role, active },
                    Some(role),
                );
            }
            ClientFrame::Read { seq } => self.mark_read(att.principal.role(), seq).await?,
            ClientFrame::Ping => send(ws, &ServerFrame::Pong),
        }
        Ok(())
    }
}
