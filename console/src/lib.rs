//! Beckon's web inbox, served at `/console`: an agent signs in with an admin API key, sees the
//! site's conversations update live (SiteHub feed), opens one and replies; replies reach the
//! visitor's widget in real time. It reuses the widget's conversation session and message
//! components from `beckon-client`, as an agent.

mod app;
mod audiences;
mod broadcasts;
mod channels;
mod contacts;
mod conversation;
mod dashboard;
mod data_requests;
mod feed;
mod inbox;
mod metrics;
mod newest;
mod people;
mod rules;
mod shortcuts;
mod sidebar;
mod sign_in;
mod viewers;
mod visitors;
mod work;
mod write_first;

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(start)]
pub fn start() {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app"))
    else {
        return;
    };
    yew::Renderer::<app::App>::with_root(root).render();
}
