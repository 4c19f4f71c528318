//! The site's live feed (SiteHub WebSocket) for the inbox: a reconnecting socket that mints a
//! fresh ticket before every attempt and decodes [`InboxEvent`]s.

use beckon_client::api;
use beckon_client::reconnecting::{Reconnecting, SocketEvent, UrlSource};
use beckon_shared::proto::v1::{paths, InboxEvent, TicketRequest};
use beckon_shared::SiteKey;
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
    _socket: Reconnecting,
}

impl Feed {
    pub fn open(admin_key: String, site: SiteKey, on_update: Callback<FeedUpdate>) -> Feed {
        let told = on_update.clone();
        let url: UrlSource = Rc::new(move || {
            let (key, site, told) = (admin_key.clone(), site.clone(), told.clone());
            Box::pin(async move {
                let wanted = TicketRequest {
                    site: Some(site.clone()),
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
                if let Ok(event) = beckon_shared::json::read::<InboxEvent>(&text) {
                    on_update.emit(FeedUpdate::Event(event));
                }
            }
        });
        Feed {
            _socket: Reconnecting::open(url, on_event),
        }
    }
}
