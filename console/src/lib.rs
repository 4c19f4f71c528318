//! Beckon's web inbox, served at `/console`: an agent signs in, sees the site's conversations
//! update live (SiteHub feed), opens one, works it and replies; replies reach the visitor's
//! widget in real time. It reuses the widget's conversation session and message components
//! from `beckon-client`, as an agent. The rarely used pages (channels, rules, dashboard,
//! people, audiences, broadcasts, contacts) are a second app, `beckon-console-pages`, loaded
//! on first use ([`lazy`]); it links this crate without its `app` feature for the parts both
//! use ([`kit`], [`newest`], [`write_first`]).

pub mod kit;
pub mod newest;
pub mod write_first;

/// The inbox itself (off when the pages app links this crate).
#[cfg(feature = "app")]
mod app;
#[cfg(feature = "app")]
mod conversation;
#[cfg(feature = "app")]
mod feed;
#[cfg(feature = "app")]
mod inbox;
#[cfg(feature = "app")]
mod lazy;
#[cfg(feature = "app")]
mod shortcuts;
#[cfg(feature = "app")]
mod sidebar;
#[cfg(feature = "app")]
mod sign_in;
#[cfg(feature = "app")]
mod viewers;
#[cfg(feature = "app")]
mod visitors;
#[cfg(feature = "app")]
mod work;

#[cfg(feature = "app")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"))
    else {
        return;
    };
    yew::Renderer::<app::App>::with_root(root).render();
}
