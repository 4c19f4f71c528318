//! Working a conversation: who has it (me, a colleague, nobody), close / snooze / reopen, and
//! internal notes that only the team sees; saved replies put into the composer by their
//! shortcut (owners keep the list). Changes come back to every tab through the live
//! feed (`work` and `note` events); the list and this bar follow them.

use crate::kit::{admin, input_value};
use beckon_shared::proto::v1::{ConversationSummary, Work, WorkStatus};
use beckon_shared::ConversationId;
use serde_json::{json, Value};
use wasm_bindgen::JsCast;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct WorkBarProps {
    pub admin_key: AttrValue,
    pub summary: ConversationSummary,
    /// The signed-in person's id (none with an admin key).
    pub me: Option<AttrValue>,
    /// Bumped when the feed tells of a new note on this conversation.
    pub notes_changed: u32,
    /// A change made here, as the edge answered it.
    pub on_work: Callback<(ConversationId, Work)>,
}

const HOUR_MS: i64 = 3_600_000;

/// Where a conversation stands at `now`, as the edge derives it: a snooze that ran out, or a
/// visitor message since the status was set, makes it open.
pub(crate) fn status_now(w: &Work, last_visitor_at: Option<i64>, now: i64) -> WorkStatus {
    match w.status {
        WorkStatus::Open => WorkStatus::Open,
        _ if last_visitor_at.unwrap_or(0) > w.status_at => WorkStatus::Open,
        WorkStatus::Snoozed if w.snoozed_until.is_none_or(|t| t <= now) => WorkStatus::Open,
        s => s,
    }
}

/// When a snooze choice ends, from now: an hour, tomorrow at 9:00 (local), a week.
fn snooze_until(choice: &str) -> Option<i64> {
    let now = js_sys::Date::new_0();
    let ms = now.get_time() as i64;
    match choice {
        "hour" => Some(ms + HOUR_MS),
        "tomorrow" => {
            let t = js_sys::Date::new(&now.into());
            t.set_date(t.get_date() + 1);
            t.set_hours(9);
            t.set_minutes(0);
            t.set_seconds(0);
            Some(t.get_time() as i64)
        }
        "week" => Some(ms + 7 * 24 * HOUR_MS),
        _ => None,
    }
}

fn when(ms: i64) -> String {
    let d = js_sys::Date::new(&(ms as f64).into());
    let opts = js_sys::Object::new();
    String::from(d.to_locale_string("default", &opts))
}

#[function_component]
pub fn WorkBar(props: &WorkBarProps) -> Html {
    let error = use_state(|| None::<String>);
    // Bumped when a change is refused: the choices are drawn again from what stands.
    let refused = use_state(|| 0u32);
    let notes = use_state(Vec::<Value>::new);
    let people = use_state(Vec::<Value>::new);
    let draft = use_state(String::new);
    let replies = use_state(Vec::<Value>::new);
    let replies_changed = use_state(|| 0u32);
    // Whether this credential may list people, i.e. is an owner's (who keeps saved replies).
    let owner = use_state(|| false);
    let (shortcut_ref, body_ref) = (use_node_ref(), use_node_ref());
    let id = props.summary.id.to_string();
    let path = format!("/api/v1/admin/conversations/{id}");
    {
        // Colleagues to hand it to: only an owner may list people (an agent gets "me").
        let (people, owner, key) = (people.clone(), owner.clone(), props.admin_key.to_string());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(v) = admin(&key, "GET", "/api/v1/admin/people", None).await {
                    people.set(v["people"].as_array().cloned().unwrap_or_default());
                    owner.set(true);
                }
            });
        });
    }
    let replies_path = format!("/api/v1/admin/sites/{}/replies", props.summary.site);
    {
        let (replies, key, path) = (
            replies.clone(),
            props.admin_key.to_string(),
            replies_path.clone(),
        );
        use_effect_with(*replies_changed, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(v) = admin(&key, "GET", &path, None).await {
                    replies.set(v["replies"].as_array().cloned().unwrap_or_default());
                }
            });
        });
    }
    {
        let (notes, key, path) = (notes.clone(), props.admin_key.to_string(), path.clone());
        use_effect_with(props.notes_changed, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(v) = admin(&key, "GET", &format!("{path}/notes"), None).await {
                    notes.set(v["notes"].as_array().cloned().unwrap_or_default());
                }
            });
        });
    }
    let change = {
        let (error, key, path) = (error.clone(), props.admin_key.to_string(), path.clone());
        let (on_work, id, refused) = (
            props.on_work.clone(),
            props.summary.id.clone(),
            refused.clone(),
        );
        Callback::from(move |body: Value| {
            let (error, key, path) = (error.clone(), key.clone(), path.clone());
            let (on_work, id, refused) = (on_work.clone(), id.clone(), refused.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match admin(&key, "PATCH", &path, Some(body)).await {
                    Ok(v) => {
                        if let Ok(work) = <Work as beckon_shared::json::FromJson>::from_json(v) {
                            on_work.emit((id, work));
                        }
                        error.set(None);
                    }
                    Err(e) => {
                        error.set(Some(e.describe()));
                        refused.set(*refused + 1);
                    }
                }
            });
        })
    };
    let mut work = props.summary.work.clone().unwrap_or_default();
    work.status = status_now(
        &work,
        props.summary.last_visitor_at,
        js_sys::Date::now() as i64,
    );
    let assignee = work.assignee.as_ref().map(|a| a.id.clone());
    let on_assign = change.reform(|e: Event| {
        let v = input_value(&e);
        json!({ "assignee": if v.is_empty() { Value::Null } else { json!(v) } })
    });
    let on_snooze = {
        let change = change.clone();
        Callback::from(move |e: Event| {
            if let Some(until) = snooze_until(&input_value(&e)) {
                change.emit(json!({ "status": "snoozed", "snoozed_until": until }));
            }
        })
    };
    let (next, next_label) = match work.status {
        WorkStatus::Open => ("closed", "Close"),
        _ => ("open", "Reopen"),
    };
    let on_status = change.reform(move |_: MouseEvent| json!({ "status": next }));
    // Tags: the whole list goes with each change (the edge keeps them lower-case, sorted). The
    // list as last sent, until the answer shows it: a second change made before the first is
    // answered builds on the first.
    let tags_sent = use_mut_ref(|| (work.tags.clone(), work.tags.clone()));
    if tags_sent.borrow().0 != work.tags {
        *tags_sent.borrow_mut() = (work.tags.clone(), work.tags.clone());
    }
    let send_tags = {
        let (change, tags_sent) = (change.clone(), tags_sent.clone());
        Callback::from(move |all: Vec<String>| {
            tags_sent.borrow_mut().1 = all.clone();
            change.emit(json!({ "tags": all }));
        })
    };
    let on_add_tag = {
        let (send_tags, tags_sent) = (send_tags.clone(), tags_sent.clone());
        Callback::from(move |e: Event| {
            let input = e.target_dyn_into::<web_sys::HtmlInputElement>();
            let added = input.as_ref().map(|i| i.value()).unwrap_or_default();
            if let Some(i) = input {
                i.set_value("");
            }
            let mut all = tags_sent.borrow().1.clone();
            let before = all.len();
            all.extend(
                added
                    .split(',')
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty()),
            );
            if all.len() > before {
                send_tags.emit(all);
            }
        })
    };
    let tag_chip = |t: &String| {
        let (send_tags, tags_sent, gone) = (send_tags.clone(), tags_sent.clone(), t.clone());
        let onclick = Callback::from(move |_: MouseEvent| {
            let rest = tags_sent
                .borrow()
                .1
                .iter()
                .filter(|o| **o != gone)
                .cloned()
                .collect();
            send_tags.emit(rest);
        });
        html! {
            <li class="tag">{ t }<button type="button" aria-label={format!("Remove tag {t}")} {onclick}>{ "×" }</button></li>
        }
    };
    let on_note = {
        let (draft, error, notes) = (draft.clone(), error.clone(), notes.clone());
        let (key, path) = (props.admin_key.to_string(), path.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = (*draft).trim().to_owned();
            if body.is_empty() {
                return;
            }
            let (draft, error, notes, key, path) = (
                draft.clone(),
                error.clone(),
                notes.clone(),
                key.clone(),
                path.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match admin(
                    &key,
                    "POST",
                    &format!("{path}/notes"),
                    Some(json!({ "body": body })),
                )
                .await
                {
                    Ok(note) => {
                        let mut all = (*notes).clone();
                        if !all.iter().any(|n| n["id"] == note["id"]) {
                            all.push(note);
                        }
                        notes.set(all);
                        draft.set(String::new());
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    let on_pick_reply = {
        let replies = replies.clone();
        Callback::from(move |e: Event| {
            let picked = input_value(&e);
            if let Some(r) = replies.iter().find(|r| r["shortcut"] == picked.as_str()) {
                into_composer(r["body"].as_str().unwrap_or_default());
            }
            if let Some(s) = e.target_dyn_into::<web_sys::HtmlSelectElement>() {
                s.set_value("");
            }
        })
    };
    let on_save_reply = {
        let (error, replies_changed) = (error.clone(), replies_changed.clone());
        let (key, path) = (props.admin_key.to_string(), replies_path.clone());
        let (shortcut_ref, body_ref) = (shortcut_ref.clone(), body_ref.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let field = |r: &NodeRef| r.cast::<web_sys::HtmlInputElement>();
            let (Some(shortcut), Some(body)) = (field(&shortcut_ref), field(&body_ref)) else {
                return;
            };
            let reply = json!({ "shortcut": shortcut.value(), "body": body.value() });
            let (error, replies_changed, key, path) = (
                error.clone(),
                replies_changed.clone(),
                key.clone(),
                path.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match admin(&key, "POST", &path, Some(reply)).await {
                    Ok(_) => {
                        shortcut.set_value("");
                        body.set_value("");
                        error.set(None);
                        replies_changed.set(*replies_changed + 1);
                    }
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    let delete_reply = {
        let (error, replies_changed) = (error.clone(), replies_changed.clone());
        let (key, path) = (props.admin_key.to_string(), replies_path.clone());
        Callback::from(move |shortcut: String| {
            let (error, replies_changed, key) =
                (error.clone(), replies_changed.clone(), key.clone());
            let url = format!("{path}/{shortcut}");
            wasm_bindgen_futures::spawn_local(async move {
                match admin(&key, "DELETE", &url, None).await {
                    Ok(_) => replies_changed.set(*replies_changed + 1),
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    let on_draft = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(t) = e.target_dyn_into::<web_sys::HtmlTextAreaElement>() {
                draft.set(t.value());
            }
        })
    };
    // Me, the colleagues on this site, and whoever has it now.
    let mut options: Vec<(String, String)> = Vec::new();
    if let Some(me) = &props.me {
        options.push((me.to_string(), "Me".into()));
    }
    for p in people.iter() {
        let pid = p["id"].as_str().unwrap_or_default();
        let works_here = p["sites"]
            .as_array()
            .is_none_or(|s| s.iter().any(|s| s == props.summary.site.as_str()));
        if works_here && props.me.as_deref() != Some(pid) {
            let name = p["name"].as_str().unwrap_or(pid);
            options.push((pid.to_owned(), name.to_owned()));
        }
    }
    if let Some(a) = work
        .assignee
        .as_ref()
        .filter(|a| !options.iter().any(|(i, _)| *i == a.id))
    {
        options.push((a.id.clone(), a.name.clone()));
    }
    html! {
        <div class="work">
            <div class="work-bar">
                <label>{ "Assigned to " }
                    <select key={format!("{assignee:?}{}", *refused)} aria-label="Assigned to" onchange={on_assign}>
                        <option value="" selected={assignee.is_none()}>{ "Nobody" }</option>
                        { for options.iter().map(|(v, label)| html! {
                            <option value={v.clone()} selected={assignee.as_deref() == Some(v.as_str())}>{ label }</option>
                        }) }
                    </select>
                </label>
                <span class={classes!("status", work.status.as_str())}>{ match (work.status, work.snoozed_until) {
                    (WorkStatus::Snoozed, Some(t)) => format!("Snoozed until {}", when(t)),
                    (s, _) => s.as_str().to_owned(),
                } }</span>
                <button type="button" onclick={on_status}>{ next_label }</button>
                if !replies.is_empty() {
                    <select aria-label="Insert a saved reply" onchange={on_pick_reply}>
                        <option value="" selected=true>{ "Saved reply…" }</option>
                        { for replies.iter().map(|r| {
                            let s = r["shortcut"].as_str().unwrap_or_default();
                            html! { <option value={s.to_owned()}>{ format!("/{s}") }</option> }
                        }) }
                    </select>
                }
                if work.status == WorkStatus::Open {
                    <select aria-label="Snooze" onchange={on_snooze}>
                        <option value="" selected=true>{ "Snooze…" }</option>
                        <option value="hour">{ "For an hour" }</option>
                        <option value="tomorrow">{ "Until tomorrow 9:00" }</option>
                        <option value="week">{ "For a week" }</option>
                    </select>
                }
            </div>
            <ul class="tags" aria-label="Tags">
                { for work.tags.iter().map(tag_chip) }
                <li><input type="text" aria-label="Add a tag" placeholder="Add a tag" onchange={on_add_tag} /></li>
            </ul>
            if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
            <details class="notes" open={!notes.is_empty()}>
                <summary>{ format!("Internal notes ({})", notes.len()) }</summary>
                <ul>
                    { for notes.iter().map(|n| html! {
                        <li key={n["id"].as_str().unwrap_or_default().to_owned()}>
                            <span class="who">{ n["author"].as_str().unwrap_or_default() }</span>
                            <span class="when">{ when(n["created_at"].as_i64().unwrap_or(0)) }</span>
                            <p dir="auto">{ n["body"].as_str().unwrap_or_default() }</p>
                        </li>
                    }) }
                </ul>
                <form onsubmit={on_note}>
                    <textarea aria-label="Internal note" placeholder="A note for your team (the visitor never sees it)"
                        maxlength="4000" value={(*draft).clone()} oninput={on_draft} />
                    <button type="submit" disabled={draft.trim().is_empty()}>{ "Add note" }</button>
                </form>
            </details>
            if *owner {
                <details class="saved">
                    <summary>{ format!("Saved replies ({})", replies.len()) }</summary>
                    <ul>
                        { for replies.iter().map(|r| {
                            let s = r["shortcut"].as_str().unwrap_or_default().to_owned();
                            let onclick = delete_reply.reform({ let s = s.clone(); move |_: MouseEvent| s.clone() });
                            html! {
                                <li key={s.clone()}>
                                    <code>{ format!("/{s}") }</code>
                                    <span>{ r["body"].as_str().unwrap_or_default() }</span>
                                    <button type="button" class="linkish" aria-label={format!("Delete /{s}")} {onclick}>{ "Delete" }</button>
                                </li>
                            }
                        }) }
                    </ul>
                    <form onsubmit={on_save_reply}>
                        <input ref={shortcut_ref} aria-label="Shortcut" placeholder="thanks" maxlength="33" required=true />
                        <input ref={body_ref} aria-label="Reply text" placeholder="Thank you for your patience!" maxlength="4000" required=true />
                        <button type="submit">{ "Save reply" }</button>
                    </form>
                </details>
            }
        </div>
    }
}

/// Puts `text` into the conversation's composer, as if typed, and focuses it.
fn into_composer(text: &str) {
    let Some(area) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector(".conversation textarea[aria-label='Message']")
                .ok()
                .flatten()
        })
        .and_then(|e| e.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
    else {
        return;
    };
    area.set_value(text);
    if let Ok(e) = web_sys::Event::new_with_event_init_dict("input", &{
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        init
    }) {
        let _ = area.dispatch_event(&e);
    }
    let _ = area.focus();
}
