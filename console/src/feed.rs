//! The site's live feed (SiteHub WebSocket) for the inbox: a reconnecting socket that mints a
//! fresh ticket before every attempt, decodes [`InboxEvent`]s and tells the hub which
//! conversation this tab shows.

use beckon_client::api;
use beckon_client::reconnecting::{Reconnecting, SocketEvent, UrlSource};
use beckon_shared::proto::v1::{paths, FeedFrame, InboxEvent, TicketRequest};
use beckon_shared::{ConversationId, SiteKey};
use std::rc::Rc;
use yew::Callback;

pub enum FeedUpdate {
    /// (Re)connected: reload the list, then apply events.
    Connected,
    Disconnected,
    /// The credential no longer holds (signed out elsewhere, removed, key revoked).
    SignedOut,
    Event(InboxEvent),
}

/// Keeps a feed open until dropped.
pub struct Feed {
    socket: Reconnecting,
}

impl Feed {
    /// `name`: who colleagues see in this tab (a signed-in person is named by the server).
    pub fn open(
        admin_key: String,
        name: String,
        site: SiteKey,
        on_update: Callback<FeedUpdate>,
    ) -> Feed {
        let told = on_update.clone();
        let url: UrlSource = Rc::new(move || {
            let (key, site, told) = (admin_key.clone(), site.clone(), told.clone());
            let name = name.clone();
            Box::pin(async move {
                let wanted = TicketRequest {
                    site: Some(site.clone()),
                    name: Some(name),
                    ..TicketRequest::default()
                };
                let t = match api::ws_ticket(&key, &wanted).await {
                    Ok(t) => t,
                    Err(api::CallError::Refused { status: 401, .. }) => {
                        told.emit(FeedUpdate::SignedOut);
                        return None;
                    }
                    Err(_) => return None,
                };
                api::ws_url(&format!(
                    "{}?ticket={}",
                    paths::fill(paths::ADMIN_SITE_LIVE, &[site.as_str()]),
                    js_sys::encode_uri_component(&t.ticket)
                ))
            })
        });
        let on_event = Callback::from(move |e| match e {
            SocketEvent::Open => on_update.emit(FeedUpdate::Connected),
            SocketEvent::Closed => on_update.emit(FeedUpdate::Disconnected),
            SocketEvent::Message(text) => {
                if let Ok(event) = beckon_shared::json::decode::<InboxEvent>(&text) {
                    on_update.emit(FeedUpdate::Event(event));
                }
            }
        });
        Feed {
            socket: Reconnecting::open(url, on_event),
        }
    }

    /// Tells colleagues which conversation this tab shows, and whether its person is writing
    /// there (lost while disconnected: said again on every connect).
    pub fn viewing(&self, conversation_id: Option<ConversationId>, typing: bool) {
        let frame = FeedFrame::Viewing {
            conversation_id,
            typing,
        };
        if let Ok(text) = serde_json::to_string(&frame) {
            self.socket.send(&text);
        }
    }
}
