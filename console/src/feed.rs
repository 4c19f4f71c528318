//! The site's live feed (SiteHub WebSocket): reconnects with backoff, minting a fresh ticket
//! each time, and reports [`InboxEvent`]s and connection changes.

use beckon_client::api;
use beckon_shared::backoff;
use beckon_shared::proto::v1::InboxEvent;
use beckon_shared::SiteKey;
use gloo_timers::callback::{Interval, Timeout};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};
use yew::Callback;

pub enum FeedUpdate {
    /// (Re)connected: reload the list, then apply events.
    Connected,
    Disconnected,
    Event(InboxEvent),
}

struct Live {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _ping: Interval,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.ws.set_onclose(None);
        self.ws.set_onmessage(None);
        self.ws.set_onopen(None);
        let _ = self.ws.close();
    }
}

#[derive(Default)]
struct State {
    live: Option<Live>,
    retry: Option<Timeout>,
    attempt: u32,
    stopped: bool,
}

/// Keeps a feed open until dropped.
pub struct Feed {
    state: Rc<RefCell<State>>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        let mut s = self.state.borrow_mut();
        s.stopped = true;
        s.live = None;
        s.retry = None;
    }
}

impl Feed {
    pub fn open(admin_key: String, site: SiteKey, on_update: Callback<FeedUpdate>) -> Feed {
        let state = Rc::new(RefCell::new(State::default()));
        connect(state.clone(), admin_key, site, on_update);
        Feed { state }
    }
}

fn connect(
    state: Rc<RefCell<State>>,
    admin_key: String,
    site: SiteKey,
    on_update: Callback<FeedUpdate>,
) {
    wasm_bindgen_futures::spawn_local(async move {
        let ticket = api::ws_ticket(&admin_key).await;
        if state.borrow().stopped {
            return;
        }
        let url = ticket.ok().and_then(|t| {
            api::ws_url(&format!(
                "/api/v1/admin/sites/{site}/live?ticket={}",
                js_sys::encode_uri_component(&t.ticket)
            ))
        });
        let Some(ws) = url.and_then(|u| WebSocket::new(&u).ok()) else {
            return retry(state, admin_key, site, on_update);
        };
        let on_open = Closure::<dyn FnMut()>::new({
            let (state, on_update) = (state.clone(), on_update.clone());
            move || {
                state.borrow_mut().attempt = 0;
                on_update.emit(FeedUpdate::Connected);
            }
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
            let on_update = on_update.clone();
            move |e: MessageEvent| {
                if let Some(event) = e
                    .data()
                    .as_string()
                    .and_then(|t| serde_json::from_str::<InboxEvent>(&t).ok())
                {
                    on_update.emit(FeedUpdate::Event(event));
                }
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new({
            let (state, on_update) = (state.clone(), on_update.clone());
            move |_e: CloseEvent| {
                on_update.emit(FeedUpdate::Disconnected);
                let stopped = state.borrow().stopped;
                if !stopped {
                    state.borrow_mut().live = None;
                    retry(
                        state.clone(),
                        admin_key.clone(),
                        site.clone(),
                        on_update.clone(),
                    );
                }
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let ping = {
            let ws = ws.clone();
            Interval::new(25_000, move || {
                let _ = ws.send_with_str(r#"{"type":"ping"}"#);
            })
        };
        state.borrow_mut().live = Some(Live {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _ping: ping,
        });
    });
}

fn retry(
    state: Rc<RefCell<State>>,
    admin_key: String,
    site: SiteKey,
    on_update: Callback<FeedUpdate>,
) {
    let mut s = state.borrow_mut();
    let delay = backoff::delay_ms(s.attempt, 1_000, 20_000, js_sys::Math::random());
    s.attempt = s.attempt.saturating_add(1);
    let again = state.clone();
    s.retry = Some(Timeout::new(delay as u32, move || {
        connect(again, admin_key, site, on_update)
    }));
}
