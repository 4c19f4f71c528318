//! A WebSocket that stays open: reconnects with jittered backoff, asks for a fresh URL before
//! every attempt (the inbox mints a short-lived ticket each time), keeps itself alive with
//! pings, and reports opens, text messages and closes. Used by the inbox's live feed and the
//! widget's presence socket.

use beckon_shared::backoff;
use gloo_timers::callback::{Interval, Timeout};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};
use yew::Callback;

pub enum SocketEvent {
    Open,
    Message(String),
    Closed,
}

/// Produces the URL for the next connection attempt (`None`: try again later).
pub type UrlSource = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = Option<String>>>>>;

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

struct State {
    url: UrlSource,
    on_event: Callback<SocketEvent>,
    live: Option<Live>,
    retry: Option<Timeout>,
    attempt: u32,
    stopped: bool,
}

/// Keeps a socket open until dropped.
pub struct Reconnecting {
    state: Rc<RefCell<State>>,
}

impl Drop for Reconnecting {
    fn drop(&mut self) {
        let mut s = self.state.borrow_mut();
        s.stopped = true;
        s.live = None;
        s.retry = None;
    }
}

impl Reconnecting {
    pub fn open(url: UrlSource, on_event: Callback<SocketEvent>) -> Reconnecting {
        let state = Rc::new(RefCell::new(State {
            url,
            on_event,
            live: None,
            retry: None,
            attempt: 0,
            stopped: false,
        }));
        connect(state.clone());
        Reconnecting { state }
    }

    /// Sends a text frame if connected (dropped otherwise: callers resend on `Open`).
    pub fn send(&self, text: &str) {
        if let Some(live) = &self.state.borrow().live {
            let _ = live.ws.send_with_str(text);
        }
    }
}

fn connect(state: Rc<RefCell<State>>) {
    let url = (state.borrow().url)();
    wasm_bindgen_futures::spawn_local(async move {
        let url = url.await;
        if state.borrow().stopped {
            return;
        }
        let Some(ws) = url.and_then(|u| WebSocket::new(&u).ok()) else {
            return retry(state);
        };
        let on_event = state.borrow().on_event.clone();
        let on_open = Closure::<dyn FnMut()>::new({
            let (state, on_event) = (state.clone(), on_event.clone());
            move || {
                state.borrow_mut().attempt = 0;
                on_event.emit(SocketEvent::Open);
            }
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
            let on_event = on_event.clone();
            move |e: MessageEvent| {
                if let Some(text) = e.data().as_string() {
                    on_event.emit(SocketEvent::Message(text));
                }
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new({
            let state = state.clone();
            move |_e: CloseEvent| {
                on_event.emit(SocketEvent::Closed);
                if !state.borrow().stopped {
                    state.borrow_mut().live = None;
                    retry(state.clone());
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

fn retry(state: Rc<RefCell<State>>) {
    let mut s = state.borrow_mut();
    let delay = backoff::delay_ms(s.attempt, 1_000, 20_000, js_sys::Math::random());
    s.attempt = s.attempt.saturating_add(1);
    let again = state.clone();
    s.retry = Some(Timeout::new(delay as u32, move || connect(again)));
}
