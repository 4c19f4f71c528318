//! Conversations over HTTP: a visitor starts one, the inbox lists them, pages through their
//! messages and answers.

use super::{ContactChannel, ConversationOrigin, ErrorCode, Message, Role};
use crate::ids::{ClientMsgId, ConversationId, Seq, SiteKey, VisitorId};
use crate::limits::{MAX_CHALLENGE_TOKEN_LEN, MAX_URL_LEN};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/sites/{site}/conversations`: a visitor starts a conversation. The visitor's
/// token, if it has one, goes in `Authorization: Bearer`; without one the edge creates the
/// visitor and returns a fresh token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct StartConversation {
    /// The host page the visitor was on.
    #[serde(default)]
    pub page_url: Option<String>,
    #[serde(default)]
    pub referrer: Option<String>,
    /// Set when the visitor is answering a proactive rule's teaser.
    #[serde(default)]
    pub origin: Option<ConversationOrigin>,
    /// The visitor's Turnstile token, on sites that ask for one (see [`super::Challenge`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turnstile_token: Option<String>,
}

impl StartConversation {
    pub fn validated(mut self) -> Result<Self, (ErrorCode, String)> {
        for (name, v) in [
            ("page_url", &mut self.page_url),
            ("referrer", &mut self.referrer),
        ] {
            if v.as_deref() == Some("") {
                *v = None;
            }
            if let Some(url) = v {
                if !crate::text::is_web_url(url) {
                    return Err((
                        ErrorCode::BadRequest,
                        format!("{name} must be an http(s) URL of at most {MAX_URL_LEN} bytes"),
                    ));
                }
            }
        }
        if let Some(t) = &self.turnstile_token {
            if t.is_empty()
                || t.len() > MAX_CHALLENGE_TOKEN_LEN
                || !t.bytes().all(|b| b.is_ascii_graphic())
            {
                return Err((
                    ErrorCode::BadRequest,
                    format!("turnstile_token must be 1 to {MAX_CHALLENGE_TOKEN_LEN} printable ASCII characters"),
                ));
            }
        }
        match &self.origin {
            None | Some(ConversationOrigin::Visitor) | Some(ConversationOrigin::Rule { .. }) => {
                Ok(self)
            }
            Some(_) => Err((
                ErrorCode::BadRequest,
                "a visitor may only start a conversation of origin visitor or rule".into(),
            )),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct StartedConversation {
    pub conversation_id: ConversationId,
    pub visitor_id: VisitorId,
    /// Bearer token that grants this visitor access to its conversations. Keep it; it is
    /// shown once.
    pub visitor_token: String,
}

/// The newest message of a conversation, for lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct MessagePreview {
    pub role: Role,
    pub body: String,
    pub created_at: i64,
}

crate::serde_reads!(ConversationSummary);

/// A conversation as shown in the inbox list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: ConversationId,
    pub site: SiteKey,
    pub visitor_id: VisitorId,
    pub origin: ConversationOrigin,
    #[serde(default)]
    pub page_url: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_seq: Seq,
    #[serde(default)]
    pub last_message: Option<MessagePreview>,
    /// Highest `seq` an agent has read.
    pub agent_read_seq: Seq,
    /// Visitor messages after `agent_read_seq`.
    #[serde(default)]
    pub unread: u64,
    /// For a conversation held on a contact's own channel: which (the business's answers go
    /// there, not to a widget).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::contacts::lenient::option"
    )]
    pub contact: Option<ContactChannel>,
    /// When the visitor last wrote (reopens a closed or snoozed conversation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_visitor_at: Option<i64>,
    /// Who has it and where it stands: from the inbox's index (absent in the live feed's
    /// summaries, which come from the conversation itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work: Option<super::Work>,
    /// In a list searched with `q`: the newest matching message, cut around the words found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched: Option<String>,
    /// The first answer to the visitor's first message, once there is one (the dashboard's
    /// response times).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response: Option<FirstResponse>,
}

/// How long the visitor's first message waited for an answer, and who gave it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct FirstResponse {
    pub ms: u64,
    /// The answering agent's display name, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct ConversationList {
    pub conversations: Vec<ConversationSummary>,
    /// Pass as `before` to get the next (older) page; absent on the last page.
    #[serde(default)]
    pub next_before: Option<i64>,
    /// When the first of the site's snoozed conversations comes back (ms since the epoch):
    /// a list of open conversations is out of date then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_snooze_end: Option<i64>,
}

/// `GET …/messages?after=N&limit=M`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    pub last_seq: Seq,
}

/// `POST /api/v1/admin/conversations/{id}/messages`: an agent reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct PostMessage {
    pub body: String,
    /// Idempotency key; retrying with the same id stores the reply once.
    #[serde(default)]
    pub client_msg_id: Option<ClientMsgId>,
    /// Agent display name shown to the visitor.
    #[serde(default)]
    pub author: Option<String>,
    /// Completed uploads of this conversation to attach (the body may then be empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::AttachmentId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct PostedMessage {
    pub message: Message,
    pub duplicate: bool,
}

/// `POST /api/v1/admin/ws-ticket`'s body: what the ticket opens — one site's live feed or
/// one conversation (with the agent's display name there).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<SiteKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<ConversationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `POST /api/v1/admin/ws-ticket` (inbox) or `POST /api/v1/conversations/{id}/ws-ticket`
/// (visitor): a short-lived, single-use ticket for one WebSocket (browsers cannot put an
/// `Authorization` header on a WebSocket, and a long-lived credential must not be in a URL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct WsTicket {
    pub ticket: String,
    pub expires_at: i64,
    /// For a visitor whose token is due for renewal: the token to keep from now on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_conversation_validation() {
        let ok = StartConversation {
            page_url: Some("https://shop.example/p".into()),
            ..Default::default()
        };
        assert!(ok.validated().is_ok());
        let long = StartConversation {
            page_url: Some("x".repeat(MAX_URL_LEN + 1)),
            ..Default::default()
        };
        assert!(long.validated().is_err());
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "https://a b",
            "//x.example",
        ] {
            let s = StartConversation {
                referrer: Some(bad.into()),
                ..Default::default()
            };
            assert!(s.validated().is_err(), "{bad}");
        }
        let empty = StartConversation {
            referrer: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(empty.validated().unwrap().referrer, None);
        let forged = StartConversation {
            origin: Some(ConversationOrigin::Agent { author: None }),
            ..Default::default()
        };
        assert!(forged.validated().is_err());
    }
}
