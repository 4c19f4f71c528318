//! The root component: creates the [`Session`], wires the host bridge to it, and renders
//! the chat view from the session's snapshots.

use crate::bridge::{Bridge, FromHost, ToHost};
use crate::components::ChatView;
use beckon_client::session::{Auth, Session, SessionEvent, Snapshot};
use beckon_shared::proto::v1::WidgetBoot;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct AppProps {
    pub boot: Rc<WidgetBoot>,
}

/// Sets the site's accent colour as a CSS variable (through the CSSOM, which the iframe's
/// CSP permits, unlike inline style attributes).
pub fn apply_theme(accent: &str) {
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
    if let Some(el) = root {
        let _ = el.style().set_property("--accent", accent);
    }
}

#[function_component]
pub fn App(props: &AppProps) -> Html {
    let snapshot = use_state(|| Rc::new(Snapshot::default()));
    let bridge = use_memo(props.boot.host_origin.clone(), |origin| {
        Bridge::new(origin.clone())
    });
    let session = {
        let setter = snapshot.setter();
        let site = props.boot.config.site.clone();
        let bridge = (*bridge).clone();
        use_memo((), move |_| {
            let events = Callback::from(move |event| match event {
                SessionEvent::Unread(n) => bridge.post(&ToHost::Unread { n }),
                SessionEvent::Engaged => bridge.post(&ToHost::Engaged),
            });
            Session::new(
                Auth::Visitor { site },
                Callback::from(move |s| setter.set(s)),
                events,
            )
        })
    };

    {
        let session = (*session).clone();
        let bridge = (*bridge).clone();
        use_effect_with((), move |_| {
            let listener = bridge.listen({
                let session = session.clone();
                move |msg| match msg {
                    FromHost::Open => session.set_open(true),
                    FromHost::Close => session.set_open(false),
                    FromHost::Page { url, referrer, .. } => session.set_page(url, referrer),
                    _ => {}
                }
            });
            bridge.post(&ToHost::Ready);
            move || drop(listener)
        });
    }

    let on_send = {
        let session = (*session).clone();
        Callback::from(move |text: String| session.send(&text))
    };
    let on_close = {
        let session = (*session).clone();
        let bridge = (*bridge).clone();
        Callback::from(move |_| {
            session.set_open(false);
            bridge.post(&ToHost::Mode { open: false });
        })
    };
    let on_typing = {
        let session = (*session).clone();
        Callback::from(move |active| session.typing(active))
    };
    let on_discard = {
        let session = (*session).clone();
        Callback::from(move |id| session.discard(&id))
    };
    html! {
        <ChatView
            config={Rc::new(props.boot.config.clone())}
            snapshot={(*snapshot).clone()}
            {on_send} {on_close} {on_typing} {on_discard}
        />
    }
}
