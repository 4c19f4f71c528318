//! Beside a conversation: who it is with (`GET …/conversations/{id}/visitor`) — their record,
//! the page they are on now (live, from the feed's presence list) and the pages of this visit,
//! their device, language and location, tags, attributes and consents, and their other
//! conversations (a click opens one). Read as JSON values: typed structs would cost the
//! inbox's size more than they save.

use crate::kit::admin;
use beckon_shared::proto::v1::{ConversationSummary, OnlineVisitor};
use serde_json::Value;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SidebarProps {
    pub admin_key: AttrValue,
    pub summary: ConversationSummary,
    /// Who is on the site now (the feed's presence list).
    pub online: Rc<Vec<OnlineVisitor>>,
    /// Opens another of the visitor's conversations.
    pub on_open: Callback<ConversationSummary>,
    /// Puts the sidebar away (narrow screens, where it lies over the conversation).
    pub on_hide: Callback<MouseEvent>,
}

/// The time of day, with the date if it was not today.
fn when(ms: i64) -> String {
    let d = js_sys::Date::new(&(ms as f64).into());
    let time = String::from(d.to_locale_time_string("default"));
    if d.to_date_string() == js_sys::Date::new_0().to_date_string() {
        time
    } else {
        format!("{} {time}", day(ms))
    }
}

fn day(ms: i64) -> String {
    let d = js_sys::Date::new(&(ms as f64).into());
    String::from(d.to_locale_date_string("default", &js_sys::Object::new()))
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v[key].as_str().filter(|s| !s.is_empty())
}

/// "Desktop · Chrome 131 · macOS".
fn device_line(client: &Value) -> String {
    let device = match client["device"].as_str() {
        Some("desktop") => "Desktop",
        Some("phone") => "Phone",
        Some("tablet") => "Tablet",
        _ => "Other device",
    };
    std::iter::once(device)
        .chain(text(client, "browser"))
        .chain(text(client, "os"))
        .collect::<Vec<_>>()
        .join(" · ")
}

#[function_component]
pub fn VisitorSidebar(props: &SidebarProps) -> Html {
    let profile = use_state(|| Value::Null);
    let failed = use_state(|| false);
    let visitor = props.summary.visitor_id.clone();
    // The page they are on now, live: a move to another page reads the profile again (the
    // visit's pages grow).
    let now_on = props
        .online
        .iter()
        .filter(|v| v.visitor_id.as_ref() == Some(&visitor))
        .max_by_key(|v| v.since)
        .map(|v| v.url.clone());
    // Only the newest read's answer is shown (answers may arrive out of order).
    let asked = use_mut_ref(|| 0u32);
    {
        let (profile, failed, key) = (profile.clone(), failed.clone(), props.admin_key.to_string());
        let asked = asked.clone();
        let path = format!("/api/v1/admin/conversations/{}/visitor", props.summary.id);
        use_effect_with((path, now_on.clone()), move |(path, _)| {
            let path = path.clone();
            let this = {
                let mut n = asked.borrow_mut();
                *n += 1;
                *n
            };
            wasm_bindgen_futures::spawn_local(async move {
                let answer = admin(&key, "GET", &path, None).await;
                if *asked.borrow() != this {
                    return;
                }
                match answer {
                    Ok(v) => {
                        failed.set(false);
                        profile.set(v);
                    }
                    Err(_) => failed.set(true),
                }
            });
        });
    }
    let p = &*profile;
    let contact = &p["contact"];
    let client = &p["client"];
    let name = text(contact, "name")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("Visitor {}", &visitor.as_str()[2..8]));
    let pages = p["pages"].as_array().cloned().unwrap_or_default();
    let tags: Vec<&str> = contact["tags"]
        .as_array()
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let attributes: Vec<(String, String)> = contact["attributes"]
        .as_object()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let consents = contact["consents"].as_array().cloned().unwrap_or_default();
    let past = p["conversations"].as_array().cloned().unwrap_or_default();
    let place = [text(client, "city"), text(client, "country")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    html! {
        <aside id="visitor-side" class="visitor-side" aria-label="About the visitor">
            <button type="button" class="side-close" aria-label="Hide the visitor's details" onclick={props.on_hide.clone()}>{ "×" }</button>
            <h3>{ name }
                if contact["verified"].as_bool() == Some(true) { <span class="verified" title="Proven by the site's backend">{ " ✓ verified" }</span> }
            </h3>
            if *failed { <p class="error" role="alert">{ "Could not load what is known of this visitor." }</p> }
            <dl>
                { for [("Email", "email"), ("Phone", "phone"), ("Telegram", "telegram"), ("Time zone", "time_zone")].iter()
                    .filter_map(|(label, k)| text(contact, k).map(|v| html! { <><dt>{ *label }</dt><dd>{ v }</dd></> })) }
                if let Some(url) = &now_on { <dt>{ "Now on" }</dt><dd class="now-on">{ url }</dd> }
                if client.is_object() {
                    <dt>{ "Device" }</dt><dd class="device">{ device_line(client) }</dd>
                    if let Some(l) = text(client, "language") { <dt>{ "Language" }</dt><dd>{ l }</dd> }
                    if !place.is_empty() { <dt>{ "Location" }</dt><dd class="location">{ place }</dd> }
                }
                { for attributes.iter().map(|(k, v)| html! { <><dt>{ k }</dt><dd>{ v }</dd></> }) }
            </dl>
            if !tags.is_empty() { <p class="tags-line">{ tags.iter().map(|t| format!("#{t}")).collect::<Vec<_>>().join(" ") }</p> }
            if !pages.is_empty() {
                <h4>{ "Latest visit" }</h4>
                <ol class="pages">
                    { for pages.iter().map(|pg| html! {
                        <li><span class="when">{ when(pg["at"].as_i64().unwrap_or_default()) }</span>{ " " }{ text(pg, "url").unwrap_or("/") }</li>
                    }) }
                </ol>
            }
            if !consents.is_empty() {
                <h4>{ "Consent" }</h4>
                <ul class="consents">
                    { for consents.iter().map(|c| html! {
                        <li>{ format!("{}: {} ({}, {})",
                            text(c, "channel").unwrap_or("?"),
                            if c["status"] == "in" { "agreed" } else { "stopped" },
                            text(c, "source").unwrap_or("?"),
                            day(c["at"].as_i64().unwrap_or_default())) }</li>
                    }) }
                </ul>
            }
            <h4>{ "Other conversations" }</h4>
            if p.is_null() {
                <p class="meta">{ if *failed { "–" } else { "Loading…" } }</p>
            } else if past.is_empty() {
                <p class="meta">{ "None." }</p>
            } else {
                <ul class="past">
                    { for past.into_iter().map(|c| {
                        let preview = text(&c["last_message"], "body").unwrap_or("(no messages)").to_owned();
                        let label = format!("{} · {}", day(c["updated_at"].as_i64().unwrap_or_default()), text(&c["work"], "status").unwrap_or("open"));
                        // Read from a JSON value, as the list reads summaries (reading them from
                        // text would add a second deserializer to the wasm: 6.5 KB).
                        let on_open = props.on_open.clone();
                        let onclick = Callback::from(move |_: MouseEvent| {
                            if let Ok(s) = <ConversationSummary as beckon_shared::json::FromJson>::from_json(c.clone()) {
                                on_open.emit(s);
                            }
                        });
                        html! { <li><button type="button" {onclick}><span class="when">{ label }</span><span class="preview">{ preview }</span></button></li> }
                    }) }
                </ul>
            }
        </aside>
    }
}
