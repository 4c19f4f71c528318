//! The `postMessage` channel between the app (in our iframe) and the loader (on the host
//! page). Both sides check origins: we only accept messages from the parent window at the
//! host origin the edge vetted, and only post to that origin.

use gloo_events::EventListener;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

beckon_shared::tagged! {
/// Messages from the loader.
#[derive(Clone, Debug, PartialEq)]
pub enum FromHost: tag "t", other Unknown {
    "open" => Open,
    "close" => Close,
    /// The host page's address (sent on ready and on SPA navigations).
    "page" => Page {
        url: String,
        #[serde(default)]
        title: String,
        #[serde(default)]
        referrer: String,
    },
    /// What the loader observes on the host page (sent every second once the app runs).
    "sig" => Sig {
        /// [`crate::proactive::Signals`], read by the rules (once they are).
        sig: serde_json::Value,
        #[serde(default)]
        w: u32,
        #[serde(default)]
        c: bool,
    },
    "identify" => Identify {
        traits: serde_json::Value,
    },
    "track" => Track {
        name: String,
        #[serde(default)]
        props: serde_json::Value,
    },
    "trigger" => Trigger {
        name: String,
    },
    /// From `attention.js`, on a site that offers notifications: whether the browser may show
    /// them (`Notification.permission`: "default" until the visitor decided).
    "notify" => Notify {
        s: String,
    },
}
}

/// Messages to the loader.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ToHost {
    Ready,
    /// `closed`, `teaser` (with the teaser's height in px) or `open`.
    Mode {
        mode: crate::state::Mode,
        #[serde(skip_serializing_if = "Option::is_none")]
        h: Option<u32>,
    },
    /// Unread agent messages, for the launcher badge, and how the launcher says it.
    Unread {
        n: usize,
        l: String,
    },
    /// The launcher's words in the app's language: open, close, the frame's title, the
    /// writing direction, and the site's label beside the icon, if it has one.
    Labels {
        o: String,
        c: String,
        f: String,
        d: &'static str,
        l: Option<String>,
    },

    /// Whether the visitor has a conversation: said once the app is ready, and again when one
    /// starts. The loader keeps its `engaged` mark by it, so the next page view creates the
    /// iframe at once only while they have one (a mark that outlived a sign-out goes the first
    /// time an app starts without a conversation). `n: 1` says they have none, `n: 0` (or no
    /// `n`, as apps before it said) that they have one. (A `usize`, as `Unread`'s `n`: one
    /// writer serves both.)
    Engaged {
        n: usize,
    },
    /// A `Beckon.on(name, cb)` event.
    Event {
        name: String,
        data: serde_json::Value,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Bridge {
    host_origin: String,
}

impl Bridge {
    pub fn new(host_origin: String) -> Bridge {
        Bridge { host_origin }
    }

    fn parent() -> Option<web_sys::Window> {
        let w = web_sys::window()?;
        let parent = w.parent().ok().flatten()?;
        // Top-level (not framed): there is no host to talk to.
        (parent != w).then_some(parent)
    }

    pub fn post(&self, msg: &ToHost) {
        let Some(parent) = Self::parent() else { return };
        let Ok(text) = serde_json::to_string(msg) else {
            return;
        };
        if let Ok(obj) = js_sys::JSON::parse(&text) {
            let _ = js_sys::Reflect::set(&obj, &"beckon".into(), &1.into());
            let _ = parent.post_message(&obj, &self.host_origin);
        }
    }

    /// Calls `handler` for every valid message from the host; dropping the listener stops it.
    pub fn listen(&self, handler: impl Fn(FromHost) + 'static) -> Option<EventListener> {
        let window = web_sys::window()?;
        let parent = Self::parent()?;
        let origin = self.host_origin.clone();
        Some(EventListener::new(&window, "message", move |event| {
            let Some(event) = event.dyn_ref::<web_sys::MessageEvent>() else {
                return;
            };
            // Identity, not `instanceof`: a cross-origin parent is a WindowProxy of another realm.
            let from_parent = event
                .source()
                .is_some_and(|s| JsValue::from(s) == JsValue::from(&parent));
            if event.origin() != origin || !from_parent {
                return;
            }
            // Through JSON text, as the page's `postMessage` data would be written: `toJSON`
            // applies (a `Date` in traits), and an object that refers to itself is refused
            // here instead of being walked without end.
            let Some(value) = js_sys::JSON::stringify(&event.data())
                .and_then(|text| js_sys::JSON::parse(&String::from(text)))
                .ok()
                .map(|data| beckon_shared::json::from_js(&data))
            else {
                return;
            };
            if value.get("beckon") != Some(&1.into()) {
                return;
            }
            if let Ok(msg) = <FromHost as beckon_shared::json::FromJson>::from_json(value) {
                handler(msg);
            }
        }))
    }
}
