//! A person's data requests, for owners, on the Contacts page: everything held about one
//! contact downloaded as JSON, or deleted (after a confirmation), and the log of both — who,
//! when, how much.

use crate::broadcasts::admin;
use beckon_client::api;
use beckon_shared::{SiteKey, VisitorId};
use serde_json::Value;
use yew::prelude::*;

fn path(site: &SiteKey, rest: &str) -> String {
    format!("/api/v1/admin/sites/{site}/{rest}")
}

/// The site's log, newest first: `Ok(None)` when this credential may not read it (an
/// agent's), `Err` when it could not be read now.
pub(crate) async fn log(key: &str, site: &SiteKey) -> Result<Option<Vec<Value>>, ()> {
    match admin(key, "GET", &path(site, "data-requests"), None).await {
        Ok(v) => Ok(Some(v["requests"].as_array().cloned().unwrap_or_default())),
        Err(api::CallError::Refused { status: 403, .. }) => Ok(None),
        Err(_) => Err(()),
    }
}

/// Downloads everything held about `id` as `beckon-<site>-<id>.json`.
pub(crate) async fn export(key: &str, site: &SiteKey, id: &VisitorId) -> Result<(), String> {
    let (_, json) = api::call(
        "GET",
        &path(site, &format!("contacts/{id}/export")),
        Some(key),
        None,
    )
    .await
    .map_err(|e| e.describe())?;
    crate::contacts::download(
        &format!("beckon-{site}-{id}.json"),
        &json,
        "application/json",
    );
    Ok(())
}

/// Deletes everything held about `id`, once the person confirmed it; whether it was deleted.
pub(crate) async fn delete(
    key: &str,
    site: &SiteKey,
    id: &VisitorId,
    who: &str,
) -> Result<bool, String> {
    let sure = web_sys::window()
        .and_then(|w| {
            w.confirm_with_message(&format!(
                "Delete everything about {who}: their conversations, messages, files, notes and \
                 contact record? This cannot be undone."
            ))
            .ok()
        })
        .unwrap_or(false);
    if !sure {
        return Ok(false);
    }
    admin(key, "DELETE", &path(site, &format!("contacts/{id}")), None)
        .await
        .map_err(|e| e.describe())?;
    Ok(true)
}

/// "2 Dec 2026, 10:04 · Ana exported v_1a2b3c: 2 conversations, 14 messages, 1 file".
fn entry(r: &Value) -> String {
    let n = |k: &str, one: &str| {
        let n = r[k].as_u64().unwrap_or(0);
        format!("{n} {one}{}", if n == 1 { "" } else { "s" })
    };
    let date = js_sys::Date::new(&r["at"].as_f64().unwrap_or(0.0).into());
    let when = String::from(date.to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED));
    let did = if r["kind"] == "delete" {
        "deleted"
    } else {
        "exported"
    };
    let visitor = r["visitor_id"].as_str().unwrap_or_default();
    format!(
        "{when} · {} {did} {}: {}, {}, {}",
        r["by"]["name"].as_str().unwrap_or("?"),
        visitor.get(..8).unwrap_or(visitor),
        n("conversations", "conversation"),
        n("messages", "message"),
        n("files", "file")
    )
}

#[derive(Properties, PartialEq)]
pub(crate) struct LogProps {
    pub entries: Vec<Value>,
}

/// The log, folded away until opened.
#[function_component]
pub(crate) fn DataRequestLog(props: &LogProps) -> Html {
    html! {
        <details class="data-requests">
            <summary>{ format!("Data requests ({})", props.entries.len()) }</summary>
            <p class="hint">{ "Every export and deletion of a person's data: who, when and how much. A deletion's entry keeps only the visitor id." }</p>
            if props.entries.is_empty() {
                <p class="empty">{ "None yet." }</p>
            }
            <ul>
                { for props.entries.iter().map(|r| html! { <li>{ entry(r) }</li> }) }
            </ul>
        </details>
    }
}
