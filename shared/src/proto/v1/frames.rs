//! WebSocket frames. A client connects to one conversation
//! (`/api/v1/conversations/{id}/ws`), says `hello` with the last `seq` it holds, and the
//! server replays everything after it before going live — so a reconnect never loses or
//! repeats a message.
//!
//! Sends carry a [`ClientMsgId`]: retrying a send with the same id after a dropped socket is
//! safe; the server stores it once and acknowledges every attempt with the same `seq`.

use super::{ConversationOrigin, ErrorCode, Message, ReadCursors, Role};
use crate::ids::{AttachmentId, ClientMsgId, ConversationId, MessageId, Seq};

crate::tagged! {
/// Frames a client sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientFrame: tag "type", #[serde(deny_unknown_fields)] {
    /// First frame on every connection: replay everything after `resume_from` (0 = all).
    "hello" => Hello { resume_from: Seq },
    /// Post a message. `client_msg_id` is the idempotency key. `attachments` are completed
    /// uploads of this conversation (the body may then be empty).
    "send" => Send {
        client_msg_id: ClientMsgId,
        body: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<AttachmentId>,
    },
    /// The sender started or stopped typing.
    "typing" => Typing { active: bool },
    /// The sender has read everything up to and including `seq`.
    "read" => Read { seq: Seq },
    /// Keep-alive; answered with `pong`.
    "ping" => Ping,
    /// A visitor leaves an email address for answers that come while they are away (`""`
    /// forgets it): the business's messages also go there while no tab of theirs is open.
    "away_email" => AwayEmail { email: String },
}
}

crate::tagged! {
/// Frames the server sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerFrame: tag "type", other Unknown {
    /// Answer to `hello`; the replayed messages (`seq > resume_from`) follow it, in order.
    "welcome" => Welcome {
        conversation_id: ConversationId,
        origin: ConversationOrigin,
        /// The conversation's newest `seq` at the time of the hello.
        last_seq: Seq,
        read: ReadCursors,
        /// The address the visitor left for answers while away, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        away_email: Option<String>,
    },
    /// A message, replayed or new.
    "message" => Message {
        message: Message,
    },
    /// The server stored (or had already stored) the sender's message.
    "ack" => Ack {
        client_msg_id: ClientMsgId,
        id: MessageId,
        seq: Seq,
        created_at: i64,
        /// `true` when this `client_msg_id` had been stored before (a retried send).
        duplicate: bool,
    },
    /// The other side started or stopped typing.
    "typing" => Typing {
        role: Role,
        active: bool,
    },
    /// A read cursor moved.
    "read" => Read {
        role: Role,
        seq: Seq,
    },
    /// A frame was refused. `client_msg_id` names the send it concerns, if any.
    "error" => Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<ClientMsgId>,
    },
    "pong" => Pong,
}
}

impl ServerFrame {
    pub fn error(code: ErrorCode, client_msg_id: Option<ClientMsgId>) -> ServerFrame {
        ServerFrame::Error {
            code,
            message: code.describe().to_owned(),
            client_msg_id,
        }
    }
}

/// WebSocket close codes the server uses.
pub mod close {
    /// The frame was larger than [`crate::limits::MAX_FRAME_BYTES`].
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// A binary frame (the protocol is JSON text only).
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// The first frame was not `hello`, or access was revoked.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// The server could not keep what it just sent: reconnect (the welcome says where the
    /// stored messages end).
    pub const TRY_AGAIN: u16 = 1013;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    fn round_trip<T>(value: &T, expected: serde_json::Value)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        let encoded = serde_json::to_value(value).unwrap();
        assert_eq!(encoded, expected);
        let decoded: T = serde_json::from_value(encoded).unwrap();
        assert_eq!(&decoded, value);
    }

    fn sample_message() -> Message {
        Message {
            id: MessageId::from_random([1; 16]),
            seq: Seq(7),
            role: Role::Agent,
            body: "Yes, we ship to Canada.".into(),
            created_at: 1_767_225_600_000,
            attachments: vec![],
            client_msg_id: None,
            author: Some("Ana".into()),
            avatar: None,
            via: Some("inbox".into()),
            buttons: Vec::new(),
        }
    }

    #[test]
    fn client_frames_round_trip() {
        let id = ClientMsgId::parse("k1").unwrap();
        round_trip(
            &ClientFrame::Hello {
                resume_from: Seq(3),
            },
            json!({"type":"hello","resume_from":3}),
        );
        round_trip(
            &ClientFrame::Send {
                client_msg_id: id,
                body: "hi".into(),
                attachments: Vec::new(),
            },
            json!({"type":"send","client_msg_id":"k1","body":"hi"}),
        );
        round_trip(
            &ClientFrame::Typing { active: true },
            json!({"type":"typing","active":true}),
        );
        round_trip(
            &ClientFrame::Read { seq: Seq(9) },
            json!({"type":"read","seq":9}),
        );
        round_trip(&ClientFrame::Ping, json!({"type":"ping"}));
        round_trip(
            &ClientFrame::AwayEmail {
                email: "ana@example.com".into(),
            },
            json!({"type":"away_email","email":"ana@example.com"}),
        );
    }

    #[test]
    fn malformed_client_frames_are_rejected() {
        for bad in [
            r#"{"type":"send","body":"no id"}"#,
            r#"{"type":"send","client_msg_id":"bad id!","body":"x"}"#,
            r#"{"type":"hello","resume_from":-1}"#,
            r#"{"type":"teleport"}"#,
            r#"not json"#,
            r#"[]"#,
        ] {
            assert!(
                serde_json::from_str::<ClientFrame>(bad).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn server_frames_round_trip() {
        let m = sample_message();
        let mj = json!({"id": m.id.as_str(), "seq": 7, "role": "agent", "body": "Yes, we ship to Canada.",
                        "created_at": 1_767_225_600_000i64, "attachments": [], "author": "Ana", "via": "inbox"});
        round_trip(
            &ServerFrame::Message { message: m.clone() },
            json!({"type":"message","message": mj}),
        );
        round_trip(
            &ServerFrame::Welcome {
                conversation_id: ConversationId::from_random([2; 16]),
                origin: ConversationOrigin::Rule {
                    rule_id: "r1".into(),
                },
                last_seq: Seq(7),
                read: ReadCursors {
                    visitor: Seq(7),
                    agent: Seq(5),
                },
                away_email: None,
            },
            json!({"type":"welcome","conversation_id": ConversationId::from_random([2; 16]).as_str(),
                   "origin": {"kind":"rule","rule_id":"r1"}, "last_seq": 7, "read": {"visitor":7,"agent":5}}),
        );
        round_trip(
            &ServerFrame::Welcome {
                conversation_id: ConversationId::from_random([2; 16]),
                origin: ConversationOrigin::Visitor,
                last_seq: Seq(0),
                read: ReadCursors::default(),
                away_email: Some("ana@example.com".into()),
            },
            json!({"type":"welcome","conversation_id": ConversationId::from_random([2; 16]).as_str(),
                   "origin": {"kind":"visitor"}, "last_seq": 0, "read": {"visitor":0,"agent":0},
                   "away_email": "ana@example.com"}),
        );
        round_trip(
            &ServerFrame::Ack {
                client_msg_id: ClientMsgId::parse("k1").unwrap(),
                id: m.id.clone(),
                seq: Seq(7),
                created_at: 5,
                duplicate: true,
            },
            json!({"type":"ack","client_msg_id":"k1","id": m.id.as_str(),"seq":7,"created_at":5,"duplicate":true}),
        );
        round_trip(
            &ServerFrame::Typing {
                role: Role::Visitor,
                active: false,
            },
            json!({"type":"typing","role":"visitor","active":false}),
        );
        round_trip(
            &ServerFrame::Read {
                role: Role::Agent,
                seq: Seq(2),
            },
            json!({"type":"read","role":"agent","seq":2}),
        );
        round_trip(
            &ServerFrame::error(ErrorCode::MessageTooLong, None),
            json!({"type":"error","code":"message_too_long","message":"The message is too long."}),
        );
        round_trip(&ServerFrame::Pong, json!({"type":"pong"}));
    }

    #[test]
    fn old_clients_survive_new_server_frames() {
        let f: ServerFrame = serde_json::from_str(r#"{"type":"reaction","emoji":"+1"}"#).unwrap();
        assert_eq!(f, ServerFrame::Unknown);
        let e: ServerFrame =
            serde_json::from_str(r#"{"type":"error","code":"quota_exceeded","message":"x"}"#)
                .unwrap();
        assert!(matches!(
            e,
            ServerFrame::Error {
                code: ErrorCode::Unknown,
                ..
            }
        ));
        let m: Message = serde_json::from_value(
            json!({"id": MessageId::from_random([1;16]).as_str(), "seq": 1,
            "role": "robot_overlord", "body": "x", "created_at": 1, "future_field": true}),
        )
        .unwrap();
        assert_eq!(m.role, Role::Unknown);
        let o: ConversationOrigin =
            serde_json::from_value(json!({"kind":"campaign","campaign_id":"b1"})).unwrap();
        assert_eq!(o, ConversationOrigin::Unknown);
    }
}
