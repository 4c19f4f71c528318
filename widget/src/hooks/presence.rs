//! The presence socket to the site's hub: says where the visitor is (what "online now" shows
//! agents), and hears how many agents are online and conversations agents start with this
//! visitor. Reconnects on its own; closed when the app goes away. Its code is in the app's
//! second part: it opens once that is linked ([`beckon_client::split::linked`], a moment after
//! the app started), and until then where the visitor is is only noted.

use beckon_client::api;
use beckon_client::reconnecting::{Reconnecting, SocketEvent, UrlSource};
use beckon_client::session::Session;
use beckon_shared::proto::v1::{paths, HubFrame, PresenceFrame};
use beckon_shared::SiteKey;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::prelude::*;

/// The page the visitor is on.
#[derive(Clone, Default)]
struct Whereabouts {
    url: String,
    title: String,
    since: i64,
}

/// A handle to tell the hub where the visitor is.
#[derive(Clone)]
pub struct Presence {
    socket: Rc<RefCell<Option<Rc<Reconnecting>>>>,
    here: Rc<RefCell<Whereabouts>>,
    session: Session,
}

impl Presence {
    /// The visitor moved to `url` (`title`).
    pub fn moved(&self, url: String, title: String) {
        {
            let mut w = self.here.borrow_mut();
            w.url = url;
            w.title = title;
        }
        if self.socket.borrow().is_some() {
            self.announce();
        }
    }

    /// The visit started `secs` seconds ago (first signal only).
    pub fn started(&self, secs: u32) {
        let mut w = self.here.borrow_mut();
        if w.since == 0 {
            w.since = js_sys::Date::now() as i64 - i64::from(secs) * 1000;
        }
    }

    fn announce(&self) {
        let frame = {
            let w = self.here.borrow();
            PresenceFrame::Here {
                url: w.url.clone(),
                title: w.title.clone(),
                since: w.since,
                token: self.session.credentials().map(|c| c.1),
            }
        };
        if let (Some(socket), Ok(text)) =
            (self.socket.borrow().as_ref(), serde_json::to_string(&frame))
        {
            socket.send(&text);
        }
    }

    /// Opens the socket to `site`'s hub.
    fn open(&self, site: &SiteKey, on_frame: Callback<HubFrame>) {
        let path = paths::fill(paths::PRESENCE, &[site.as_str()]);
        let url: UrlSource = Rc::new(move || {
            let path = path.clone();
            Box::pin(async move { api::ws_url(&path) })
        });
        let on_event = {
            let presence = self.clone();
            Callback::from(move |e| match e {
                SocketEvent::Open => presence.announce(),
                SocketEvent::Message(text) => {
                    if let Ok(frame) = beckon_shared::json::decode::<HubFrame>(&text) {
                        on_frame.emit(frame);
                    }
                }
                SocketEvent::Closed => {}
            })
        };
        *self.socket.borrow_mut() = Some(Rc::new(Reconnecting::open(url, on_event)));
    }
}

/// Opens the presence socket for the app's lifetime; `on_frame` hears the hub.
#[hook]
pub fn use_presence(site: &SiteKey, session: &Session, on_frame: Callback<HubFrame>) -> Presence {
    let presence = use_memo((), {
        let session = session.clone();
        move |_| Presence {
            socket: Rc::default(),
            here: Rc::default(),
            session,
        }
    });
    {
        let (presence, site) = ((*presence).clone(), site.clone());
        use_effect_with((), move |_| {
            let gone = Rc::new(Cell::new(false));
            {
                let (presence, gone) = (presence.clone(), gone.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    if beckon_client::split::linked().await.is_ok() && !gone.get() {
                        presence.open(&site, on_frame);
                    }
                });
            }
            // Dropping the socket also breaks the callback ↔ socket reference cycle.
            move || {
                gone.set(true);
                drop(presence.socket.borrow_mut().take())
            }
        });
    }
    (*presence).clone()
}
