//! People (owners): who may sign in to the inbox, inviting someone (the link to hand them),
//! and removing someone (they are signed out at once). Anyone signed in as themselves sets
//! their own photo here.

use crate::broadcasts::{admin, chosen_file, input_value};
use beckon_client::api;
use beckon_shared::media::MAX_AVATAR_BYTES;
use beckon_shared::SiteKey;
use serde_json::{json, Value};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct PeopleProps {
    pub admin_key: AttrValue,
    pub site: SiteKey,
}

#[function_component]
pub fn PeoplePage(props: &PeopleProps) -> Html {
    // People and the invitation as JSON values (typed reading costs the download more).
    let people = use_state(Vec::<Value>::new);
    let error = use_state(|| None::<String>);
    // An agent sees their own photo here, not the team (the owners' to manage).
    let owners_only = use_state(|| false);
    let invited = use_state(|| None::<Value>);
    let reload = use_state(|| 0u32);
    let email = use_state(String::new);
    let owner = use_state(|| false);
    let every_site = use_state(|| false);
    // The signed-in person, for their photo (`Null` for an admin key: nobody in particular).
    let me = use_state(|| Value::Null);
    let busy = use_state(|| false);
    {
        let (people, error, owners_only, me, key) = (
            people.clone(),
            error.clone(),
            owners_only.clone(),
            me.clone(),
            props.admin_key.to_string(),
        );
        use_effect_with(*reload, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(v) = admin(&key, "GET", "/api/v1/admin/session", None).await {
                    me.set(v["person"].clone());
                }
                match admin(&key, "GET", "/api/v1/admin/people", None).await {
                    Ok(v) => people.set(v["people"].as_array().cloned().unwrap_or_default()),
                    Err(api::CallError::Refused { status: 403, .. }) => owners_only.set(true),
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        });
    }
    let onsubmit = {
        let (email, owner, every_site, invited, error, reload) = (
            email.clone(),
            owner.clone(),
            every_site.clone(),
            invited.clone(),
            error.clone(),
            reload.clone(),
        );
        let (key, site) = (props.admin_key.to_string(), props.site.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let sites = if *every_site {
                json!(null)
            } else {
                json!([site.as_str()])
            };
            let role = if *owner { "owner" } else { "agent" };
            let body = json!({ "email": (*email).trim(), "role": role, "sites": sites });
            let (invited, error, reload, key) =
                (invited.clone(), error.clone(), reload.clone(), key.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match admin(&key, "POST", "/api/v1/admin/invitations", Some(body)).await {
                    Ok(v) => {
                        invited.set(Some(v));
                        error.set(None);
                        reload.set(*reload + 1);
                    }
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let remove = |p: &Value| {
        let (error, reload, key) = (error.clone(), reload.clone(), props.admin_key.to_string());
        let (id, who) = (text(p, "id"), text(p, "name"));
        Callback::from(move |_: MouseEvent| {
            let sure = web_sys::window()
                .and_then(|w| {
                    w.confirm_with_message(&format!("Remove {who}? They are signed out at once."))
                        .ok()
                })
                .unwrap_or(false);
            if !sure {
                return;
            }
            let (error, reload, key, id) = (error.clone(), reload.clone(), key.clone(), id.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let path = format!("/api/v1/admin/people/{id}");
                match admin(&key, "DELETE", &path, None).await {
                    Ok(_) => reload.set(*reload + 1),
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    let on_photo = {
        let (me, error, busy, key) = (
            me.clone(),
            error.clone(),
            busy.clone(),
            props.admin_key.to_string(),
        );
        Callback::from(move |e: Event| {
            let Some(file) = chosen_file(&e) else {
                return;
            };
            if file.size() > MAX_AVATAR_BYTES as f64 {
                error.set(Some(
                    "This photo is larger than 512 KB: choose a smaller one.".into(),
                ));
                return;
            }
            let (me, error, busy, key) = (me.clone(), error.clone(), busy.clone(), key.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let body = Some((file.as_ref(), "application/octet-stream"));
                let sent = api::call_with("PUT", PHOTO, Some(&key), body).await;
                busy.set(false);
                match sent {
                    Ok((_, t)) => {
                        me.set(beckon_shared::json::parse(&t).unwrap_or(Value::Null));
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    let remove_photo = {
        let (reload, error, key) = (reload.clone(), error.clone(), props.admin_key.to_string());
        Callback::from(move |_: MouseEvent| {
            let (reload, error, key) = (reload.clone(), error.clone(), key.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match admin(&key, "DELETE", PHOTO, None).await {
                    Ok(_) => reload.set(*reload + 1),
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    let link = invited.as_ref().map(|i| {
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        format!("{origin}/console/#invite={}", text(i, "token"))
    });
    html! {
        <section class="settings people" aria-label="People">
            if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
            if !me.is_null() { { your_photo(&me, *busy, on_photo, remove_photo) } }
            <h2>{ "People" }</h2>
            if *owners_only {
                <p class="hint">{ "Only owners see and invite the team." }</p>
            } else {
            <p class="hint">{ "Everyone who signs in to this inbox as themselves. Agents read and answer conversations; owners also change settings, channels, broadcasts and people." }</p>
            <ul class="people-list">
                { for people.iter().map(|p| {
                    let sites = p["sites"].as_array().map_or("every site".to_owned(), |s| {
                        s.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
                    });
                    html! {
                        <li key={text(p, "id")}>
                            <span class="who">{ format!("{} <{}>", text(p, "name"), text(p, "email")) }</span>
                            <span class="role">{ format!("{}, {sites}", text(p, "role")) }</span>
                            <button type="button" class="linkish" onclick={remove(p)} aria-label={format!("Remove {}", text(p, "name"))}>{ "Remove" }</button>
                        </li>
                    }
                }) }
            </ul>
            <form class="invite-form" {onsubmit} aria-label="Invite someone">
                <label>{ "Email" }<input type="email" required=true value={(*email).clone()} onchange={{ let email = email.clone(); Callback::from(move |e: Event| email.set(input_value(&e))) }} /></label>
                <label class="check"><input type="checkbox" checked={*owner} onchange={{ let owner = owner.clone(); Callback::from(move |_| owner.set(!*owner)) }} />{ "Owner (settings, channels, broadcasts, people)" }</label>
                <label class="check"><input type="checkbox" checked={*every_site} onchange={{ let s = every_site.clone(); Callback::from(move |_| s.set(!*s)) }} />{ format!("Every site (otherwise only {})", props.site) }</label>
                <button type="submit">{ "Invite" }</button>
            </form>
            if let (Some(i), Some(link)) = (&*invited, link) {
                <p class="invited" role="status">{ format!("Send {} this link (it works once, for 7 days): ", text(i, "email")) }<code>{ link }</code></p>
            }
            }
        </section>
    }
}

/// The signed-in person's photo, beside the messages they write in the widget.
const PHOTO: &str = "/api/v1/admin/session/avatar";

/// The signed-in person's photo: shown (their initial without one), replaced, removed.
fn your_photo(
    me: &Value,
    busy: bool,
    on_file: Callback<Event>,
    remove: Callback<MouseEvent>,
) -> Html {
    let name = me["name"].as_str().unwrap_or_default();
    let photo = me["avatar"].as_str();
    html! {
        <div class="your-photo" role="group" aria-labelledby="your-photo-h">
            <h2 id="your-photo-h">{ "Your photo" }</h2>
            <p class="hint">{ "Shown to visitors beside the messages you write. Without one, your initial is." }</p>
            <div class="photo-row">
                if let Some(src) = photo {
                    <img class="photo" src={src.to_owned()} alt={format!("{name}'s photo")} width="64" height="64" />
                } else {
                    <span class="photo" aria-hidden="true">{ name.chars().next().unwrap_or('?').to_uppercase().to_string() }</span>
                }
                <label class="button">{ if photo.is_some() { "Replace…" } else { "Choose a photo…" } }
                    <input type="file" class="visually-hidden" accept="image/jpeg,image/png,image/webp" onchange={on_file} disabled={busy} />
                </label>
                if photo.is_some() { <button type="button" class="linkish" onclick={remove} aria-label="Remove your photo">{ "Remove" }</button> }
                <span role="status">{ if busy { "Uploading…" } else { "" } }</span>
            </div>
            <p class="hint">{ "JPEG, PNG or WebP; at most 512 KB and 2,048 px a side." }</p>
        </div>
    }
}
