//! The Beckon chat app: a yew component tree compiled to wasm, running in the iframe the
//! loader creates on intent. The iframe is served by the edge with a strict CSP, so the host
//! page never needs `wasm-unsafe-eval`.
//!
//! - [`beckon_client::session`] owns the conversation: transcript, WebSocket, reconnects,
//!   persistence (shared with the inbox).
//! - [`bridge`] is the origin-checked `postMessage` channel to the loader on the host page.
//! - [`state`] is the app's state and actions (a reducer); [`hooks`] connect it to the
//!   loader, the presence socket and the iframe's size.
//! - [`components`] render a session snapshot; they hold no connection logic.

pub mod app;
pub mod bridge;
pub mod components;
pub mod hooks;
pub mod proactive;
pub mod state;

use beckon_shared::proto::v1::WidgetBoot;
use wasm_bindgen::prelude::wasm_bindgen;

/// Entry point: mounts the app if the page carries a boot block (test pages do not).
#[wasm_bindgen(start)]
pub fn start() {
    let Some((mut boot, rules)) = read_boot() else {
        return;
    };
    // The language the edge chose, with its catalog (moved out: the app needs it only here).
    let catalog = std::mem::take(&mut boot.catalog);
    beckon_client::i18n::set(std::rc::Rc::new(beckon_client::i18n::Catalog::new(
        boot.locale,
        catalog,
    )));
    yew::Renderer::<app::App>::with_props(app::AppProps {
        boot: std::rc::Rc::new(boot),
        rules: std::rc::Rc::new(std::cell::RefCell::new(rules)),
    })
    .render();
}

/// The boot block, and its `rules` apart and unread (see [`proactive::Rules`]).
fn read_boot() -> Option<(WidgetBoot, serde_json::Value)> {
    let text = web_sys::window()?
        .document()?
        .get_element_by_id("beckon-boot")?
        .text_content()?;
    let mut boot = beckon_shared::json::parse(&text).ok()?;
    // Taken, not removed: the boot's map is not rebalanced (that code is in the second part).
    // `WidgetBoot` skips `rules` in the app.
    let rules = boot
        .get_mut("rules")
        .map(serde_json::Value::take)
        .unwrap_or_default();
    let boot = <WidgetBoot as beckon_shared::json::FromJson>::from_json(boot).ok()?;
    Some((boot, rules))
}
