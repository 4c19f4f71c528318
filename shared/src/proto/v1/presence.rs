//! "Online now": the visitors whose chat app is running, the frames of their presence socket
//! (`/api/v1/sites/{site}/presence`), and an agent reaching out to one of them.

use crate::ids::{ConversationId, VisitorId};
use serde::{Deserialize, Serialize};

/// A visitor whose chat app is running on the site right now (kept in memory only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
pub struct OnlineVisitor {
    /// Identifies this page session until it goes away.
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub title: String,
    /// When the visit started (ms since the epoch).
    pub since: i64,
    /// Set when the visitor has chatted before.
    #[serde(default)]
    pub visitor_id: Option<VisitorId>,
}

/// `POST /api/v1/admin/sites/{site}/presence/{id}/conversations`: an agent starts a
/// conversation with a visitor who is on the site now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, crate::json::FromJson)]
#[serde(deny_unknown_fields)]
pub struct ReachOut {
    pub body: String,
    #[serde(default)]
    pub author: Option<String>,
}

crate::tagged! {
/// What a visitor's chat app tells the site's hub on its presence socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PresenceFrame: tag "type", other Unknown {
    /// Where the visitor is now. `token`, if the visitor has one, names them to agents.
    "here" => Here {
        url: String,
        #[serde(default)]
        title: String,
        /// When the visit started (ms since the epoch).
        #[serde(default)]
        since: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    /// Keep-alive; answered with `pong`.
    "ping" => Ping,
}
}

crate::tagged! {
/// What the site's hub tells a visitor's chat app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HubFrame: tag "type", other Unknown {
    /// First frame: this page session's presence id and how many inbox tabs are open.
    "welcome" => Welcome {
        id: String,
        agents_online: usize,
    },
    /// The number of open inbox tabs changed (the `agents_online` rule condition).
    "agents" => Agents {
        online: usize,
    },
    /// An agent started a conversation with this visitor: adopt it.
    "conversation" => Conversation {
        conversation_id: ConversationId,
        visitor_token: String,
    },
    "pong" => Pong,
}
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn presence_frames_round_trip_and_survive_new_kinds() {
        let here = PresenceFrame::Here {
            url: "https://shop.example/p".into(),
            title: "P".into(),
            since: 5,
            token: None,
        };
        let v = serde_json::to_value(&here).unwrap();
        assert_eq!(
            v,
            json!({"type":"here","url":"https://shop.example/p","title":"P","since":5})
        );
        assert_eq!(serde_json::from_value::<PresenceFrame>(v).unwrap(), here);
        assert_eq!(
            serde_json::from_str::<PresenceFrame>(r#"{"type":"ping"}"#).unwrap(),
            PresenceFrame::Ping
        );
        assert_eq!(
            serde_json::from_str::<PresenceFrame>(r#"{"type":"wave"}"#).unwrap(),
            PresenceFrame::Unknown
        );
        let welcome = HubFrame::Welcome {
            id: "p1".into(),
            agents_online: 2,
        };
        assert_eq!(
            serde_json::to_value(&welcome).unwrap(),
            json!({"type":"welcome","id":"p1","agents_online":2})
        );
        assert_eq!(
            serde_json::from_str::<HubFrame>(r#"{"type":"confetti"}"#).unwrap(),
            HubFrame::Unknown
        );
    }
}
