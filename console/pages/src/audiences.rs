//! "Audiences": saved filters over the site's contacts (tags, language, a custom field, the
//! channels they can be reached on, last seen) with who each reaches now; a broadcast is sent
//! to one. The filter being written is counted live before it is saved.

use crate::broadcasts::{admin, checked, input_value, n, url};
use beckon_shared::SiteKey;
use serde_json::{json, Value};
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct AudiencesPageProps {
    pub admin_key: AttrValue,
    pub site: SiteKey,
}

/// The form's fields.
#[derive(Clone, Default, PartialEq)]
struct Draft {
    name: String,
    tags: String,
    language: String,
    /// `field=value`, one per line.
    attributes: String,
    channels: [bool; CHANNELS.len()],
    seen_days: String,
}

/// The channels an audience counts and filters on: (wire name, label).
pub(crate) const CHANNELS: [(&str, &str); 6] = [
    ("whatsapp", "WhatsApp"),
    ("telegram", "Telegram"),
    ("web", "Website chat"),
    ("email", "Email"),
    ("messenger", "Messenger"),
    ("instagram", "Instagram"),
];

impl Draft {
    fn filter(&self) -> Value {
        let tags: Vec<&str> = self
            .tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        let mut attributes = serde_json::Map::new();
        for (k, v) in self.attributes.lines().filter_map(|l| l.split_once('=')) {
            attributes.insert(k.trim().to_owned(), v.trim().into());
        }
        let reachable = checked(&CHANNELS, &self.channels);
        let mut f = json!({ "tags": tags, "attributes": attributes, "reachable_on": reachable });
        if !self.language.trim().is_empty() {
            f["language"] = self.language.trim().into();
        }
        // (Whole days: parsing a float would bring its tables into the download.)
        if let Ok(days) = self.seen_days.trim().parse::<u32>() {
            f["seen_after"] =
                ((js_sys::Date::now() - f64::from(days) * 86_400_000.0) as i64).into();
        }
        f
    }
}

/// "12 contacts · WhatsApp 5 · Telegram 3 · Website chat 4 · Email 2 · Messenger 0 · Instagram 0 · 2 not reachable · 1 opted out".
fn reach_text(r: &Value) -> String {
    format!("{} contacts{}", n(&r["contacts"]), channel_counts(r))
}

/// " · WhatsApp 5 · Telegram 3 · Website chat 4 · Email 2 · Messenger 0 · Instagram 0 · 2 not reachable · 1 opted out": who a
/// count (a reach, a broadcast's preview) finds where.
pub(crate) fn channel_counts(r: &Value) -> String {
    let mut out = String::new();
    for (key, label) in CHANNELS {
        out.push_str(&format!(" · {label} {}", n(&r[key])));
    }
    out + &format!(
        " · {} not reachable · {} opted out",
        n(&r["unreachable"]),
        n(&r["opted_out"])
    )
}

/// What a saved filter selects, in words.
fn describe(f: &Value) -> String {
    let mut parts = Vec::new();
    let list = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect()
    };
    let tags = list(&f["tags"]);
    if !tags.is_empty() {
        parts.push(format!("tagged {}", tags.join(" + ")));
    }
    if let Some(l) = f["language"].as_str() {
        parts.push(format!("language {l}"));
    }
    for (k, v) in f["attributes"].as_object().into_iter().flatten() {
        parts.push(format!("{k} = {}", v.as_str().unwrap_or_default()));
    }
    let on = list(&f["reachable_on"]);
    if !on.is_empty() {
        parts.push(format!("reachable on {}", on.join(" or ")));
    }
    if f["seen_after"].is_number() {
        parts.push("seen recently".into());
    }
    if parts.is_empty() {
        "every contact".into()
    } else {
        parts.join(", ")
    }
}

#[function_component]
pub fn AudiencesPage(props: &AudiencesPageProps) -> Html {
    let saved = use_state(Vec::<Value>::new);
    let draft = use_state(Draft::default);
    let count = use_state(|| None::<Value>);
    let error = use_state(|| None::<String>);
    let reload = {
        let (saved, error) = (saved.clone(), error.clone());
        let (key, site) = (props.admin_key.to_string(), props.site.clone());
        Callback::from(move |_: ()| {
            let (saved, error, key, site) =
                (saved.clone(), error.clone(), key.clone(), site.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let listed = match admin(&key, "GET", &url(&site, "audiences"), None).await {
                    Ok(l) => l,
                    Err(e) => return error.set(Some(e.describe())),
                };
                // Each with who it reaches now.
                let mut out = Vec::new();
                for a in listed["audiences"].as_array().into_iter().flatten() {
                    let path = url(
                        &site,
                        &format!("audiences/{}", a["id"].as_str().unwrap_or_default()),
                    );
                    out.push(
                        admin(&key, "GET", &path, None)
                            .await
                            .unwrap_or_else(|_| a.clone()),
                    );
                }
                saved.set(out);
            });
        })
    };
    {
        let reload = reload.clone();
        use_effect_with((props.admin_key.clone(), props.site.clone()), move |_| {
            reload.emit(())
        });
    }
    // Keeps an edited draft and counts who it reaches.
    let counts = crate::newest::use_newest();
    let update: Rc<dyn Fn(Draft)> = {
        let (draft, count, error) = (draft.clone(), count.clone(), error.clone());
        let (key, site) = (props.admin_key.to_string(), props.site.clone());
        Rc::new(move |d: Draft| {
            draft.set(d.clone());
            let (count, error, key, site) =
                (count.clone(), error.clone(), key.clone(), site.clone());
            let asked = counts.ask();
            wasm_bindgen_futures::spawn_local(async move {
                let answer = admin(
                    &key,
                    "POST",
                    &url(&site, "audience-counts"),
                    Some(d.filter()),
                )
                .await;
                // The count of a draft since edited again is not shown.
                if !asked.is_newest() {
                    return;
                }
                match answer {
                    Ok(c) => {
                        count.set(Some(c));
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    let field = |set: fn(&mut Draft, String)| {
        let (draft, update) = (draft.clone(), update.clone());
        Callback::from(move |e: Event| {
            let mut d = (*draft).clone();
            set(&mut d, input_value(&e));
            update(d);
        })
    };
    let toggle = |i: usize| {
        let (draft, update) = (draft.clone(), update.clone());
        Callback::from(move |_: Event| {
            let mut d = (*draft).clone();
            d.channels[i] = !d.channels[i];
            update(d);
        })
    };
    let onsubmit = {
        let (draft, error, reload, count) =
            (draft.clone(), error.clone(), reload.clone(), count.clone());
        let (key, site) = (props.admin_key.to_string(), props.site.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let d = (*draft).clone();
            let (draft, error, reload, count, key, site) = (
                draft.clone(),
                error.clone(),
                reload.clone(),
                count.clone(),
                key.clone(),
                site.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let body = json!({ "name": d.name, "filter": d.filter() });
                match admin(&key, "POST", &url(&site, "audiences"), Some(body)).await {
                    Ok(_) => {
                        draft.set(Draft::default());
                        count.set(None);
                        error.set(None);
                        reload.emit(());
                    }
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    let remove = |id: String| {
        let (error, reload) = (error.clone(), reload.clone());
        let (key, site) = (props.admin_key.to_string(), props.site.clone());
        Callback::from(move |_: MouseEvent| {
            let (error, reload, key, path) = (
                error.clone(),
                reload.clone(),
                key.clone(),
                url(&site, &format!("audiences/{id}")),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match admin(&key, "DELETE", &path, None).await {
                    Ok(_) => reload.emit(()),
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    let d = &*draft;
    html! {
        <section class="settings" aria-labelledby="audiences-h">
            <h2 id="audiences-h">{ "Audiences" }</h2>
            <p class="lead">{ "Saved groups of contacts to send broadcasts to. Each counts who it reaches now, on which channel." }</p>
            if !saved.is_empty() {
                <ul class="audience-list">
                    { for saved.iter().map(|a| {
                        let name = a["name"].as_str().unwrap_or_default().to_owned();
                        html! {
                            <li key={a["id"].as_str().unwrap_or_default().to_owned()}>
                                <strong>{ &name }</strong>
                                <span class="meta">{ describe(&a["filter"]) }</span>
                                if a["reach"].is_object() { <span class="meta">{ reach_text(&a["reach"]) }</span> }
                                <button type="button" class="link" aria-label={format!("Delete audience {name}")}
                                    onclick={remove(a["id"].as_str().unwrap_or_default().to_owned())}>{ "Delete" }</button>
                            </li>
                        }
                    }) }
                </ul>
            }
            <form class="audience-form" {onsubmit} aria-label="New audience">
                <label>{ "Name" }<input type="text" required=true maxlength="80" value={d.name.clone()} placeholder="VIP customers" onchange={field(|d, v| d.name = v)} /></label>
                <label>{ "Tagged (all of, comma-separated)" }<input type="text" value={d.tags.clone()} placeholder="customer, vip" onchange={field(|d, v| d.tags = v)} /></label>
                <label>{ "Language (pt matches pt-BR)" }<input type="text" value={d.language.clone()} maxlength="35" onchange={field(|d, v| d.language = v)} /></label>
                <label>{ "Custom fields, one field=value per line" }<textarea rows="2" value={d.attributes.clone()} placeholder="plan=pro" onchange={field(|d, v| d.attributes = v)} /></label>
                <fieldset>
                    <legend>{ "Reachable on (any of; none: every channel)" }</legend>
                    { for CHANNELS.iter().enumerate().map(|(i, (_, label))| html! {
                        <label class="check"><input type="checkbox" checked={d.channels[i]} onchange={toggle(i)} />{ *label }</label>
                    }) }
                </fieldset>
                <label>{ "Seen in the last … days (optional)" }<input type="number" min="1" value={d.seen_days.clone()} onchange={field(|d, v| d.seen_days = v)} /></label>
                if let Some(c) = &*count { <p class="count" aria-live="polite">{ reach_text(c) }</p> }
                if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
                <button type="submit">{ "Save audience" }</button>
            </form>
        </section>
    }
}
