//! Who has which conversation open: each inbox tab's socket carries a [`Viewer`] attachment
//! (memory and the socket, never storage). A change — a conversation opened, a reply being
//! written, a tab closed — is told to every tab, each with its own `you`, so colleagues see
//! who is viewing or writing where before two of them answer the same visitor.

use super::{send, SiteHub, AGENT};
use crate::error::Result;
use beckon_shared::proto::v1::{InboxEvent, Viewer};
use beckon_shared::ConversationId;
use worker::WebSocket;

/// Carries the tab's person's name into the hub, hex-encoded UTF-8 (a header is bytes).
pub(super) const NAME_HEADER: &str = "x-beckon-name";

/// The longest name shown.
const MAX_NAME: usize = 80;

pub(super) fn encode_name(name: &str) -> String {
    hex::encode(name.as_bytes())
}

fn decode_name(header: Option<String>) -> String {
    let name: String = header
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME)
        .collect();
    if name.trim().is_empty() {
        "A colleague".to_owned()
    } else {
        name
    }
}

impl SiteHub {
    /// A new inbox tab of `person`: showing no conversation yet.
    pub(super) fn join(&self, ws: &WebSocket, person: &str, name: Option<String>) -> Result<()> {
        ws.serialize_attachment(&Viewer {
            tab: hex::encode(crate::random::bytes::<6>()),
            person: person.to_owned(),
            name: decode_name(name),
            conversation_id: None,
            typing: false,
        })?;
        self.tell_viewers(None);
        Ok(())
    }

    /// The tab on `ws` shows `conversation_id` now, its person writing there or not.
    pub(super) fn viewing(
        &self,
        ws: &WebSocket,
        conversation_id: Option<ConversationId>,
        typing: bool,
    ) -> Result<()> {
        let Some(mut v) = ws.deserialize_attachment::<Viewer>()? else {
            return Ok(());
        };
        let typing = typing && conversation_id.is_some();
        if v.conversation_id == conversation_id && v.typing == typing {
            return Ok(());
        }
        v.conversation_id = conversation_id;
        v.typing = typing;
        ws.serialize_attachment(&v)?;
        self.tell_viewers(None);
        Ok(())
    }

    /// A tab closed: colleagues stop seeing it where it was.
    pub(super) fn leave(&self, ws: &WebSocket) {
        let was_viewing = ws
            .deserialize_attachment::<Viewer>()
            .ok()
            .flatten()
            .is_some_and(|v| v.conversation_id.is_some());
        if was_viewing {
            self.tell_viewers(Some(ws));
        }
    }

    /// Tells every tab (but `closing`) where every tab is.
    fn tell_viewers(&self, closing: Option<&WebSocket>) {
        let tabs: Vec<(WebSocket, Viewer)> = self
            .state
            .get_websockets_with_tag(AGENT)
            .into_iter()
            .filter(|ws| Some(ws) != closing)
            .filter_map(|ws| {
                let v = ws.deserialize_attachment::<Viewer>().ok().flatten()?;
                Some((ws, v))
            })
            .collect();
        let viewers: Vec<Viewer> = tabs
            .iter()
            .filter(|(_, v)| v.conversation_id.is_some())
            .map(|(_, v)| v.clone())
            .collect();
        for (ws, me) in &tabs {
            send(
                ws,
                &InboxEvent::Viewers {
                    you: me.tab.clone(),
                    viewers: viewers.clone(),
                },
            );
        }
    }
}
