//! What the inbox's pages share, here and in the pages loaded on first use
//! (`beckon-console-pages`): the admin API read as JSON values, what a form field holds, and
//! the names the two apps pass each other ([`Page`], [`CHANNELS_CHANGED`],
//! [`CONVERSATION_STARTED`]).

use beckon_client::api::{self, CallError};
use beckon_shared::SiteKey;
use serde_json::Value;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// A page loaded on first use, by the name the inbox mounts it with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Contacts,
    Audiences,
    Broadcasts,
    Rules,
    Dashboard,
    Widget,
    Channels,
    People,
}

impl Page {
    const ALL: [Page; 8] = [
        Page::Contacts,
        Page::Audiences,
        Page::Broadcasts,
        Page::Rules,
        Page::Dashboard,
        Page::Widget,
        Page::Channels,
        Page::People,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Page::Contacts => "contacts",
            Page::Audiences => "audiences",
            Page::Broadcasts => "broadcasts",
            Page::Rules => "rules",
            Page::Dashboard => "dashboard",
            Page::Widget => "widget",
            Page::Channels => "channels",
            Page::People => "people",
        }
    }

    pub fn parse(name: &str) -> Option<Page> {
        Page::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// What a page tells the inbox (`notify(kind, value)`): a channel changed (value empty) …
pub const CHANNELS_CHANGED: &str = "channels";
/// … or the business started a conversation (value: its id).
pub const CONVERSATION_STARTED: &str = "started";

/// The site's admin API path `rest`.
pub fn url(site: &SiteKey, rest: &str) -> String {
    format!("/api/v1/admin/sites/{site}/{rest}")
}

/// Calls the admin API with `key`; the answer as a JSON value (`Null` when it has no body).
pub async fn admin(
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Result<Value, CallError> {
    let (_, text) = api::call(
        method,
        path,
        Some(key),
        body.map(|b| beckon_shared::json::text(&b)),
    )
    .await?;
    Ok(beckon_shared::json::parse(&text).unwrap_or(Value::Null))
}

/// The wire names of the `channels` whose box is ticked in `on`.
pub fn checked<'a>(channels: &[(&'a str, &str)], on: &[bool]) -> Vec<&'a str> {
    channels
        .iter()
        .zip(on)
        .filter(|(_, on)| **on)
        .map(|((c, _), _)| *c)
        .collect()
}

/// A count in an answer (0 when absent).
pub fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// The file a person chose in an `input[type=file]` (its `change` event).
pub fn chosen_file(e: &Event) -> Option<web_sys::File> {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .and_then(|i| i.files())
        .and_then(|f| f.get(0))
}

/// What the input, text area or select that fired `e` holds.
pub fn input_value(e: &Event) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .map(|i| i.value())
        .or_else(|| {
            e.target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
                .map(|t| t.value())
        })
        .or_else(|| {
            e.target_dyn_into::<web_sys::HtmlSelectElement>()
                .map(|s| s.value())
        })
        .unwrap_or_default()
}
