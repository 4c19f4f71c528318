//! "Broadcasts": compose one message (text with `{{first_name|…}}` variables, a photo, video or
//! PDF, the approved WhatsApp template) for the site's contacts, see who would get it on
//! which channel and what each sees, send it, watch it go out, and read what it turned into
//! (sent → delivered → read → replied → goals, per channel). Broadcasts are read as JSON
//! values (no typed copies of their API bodies in the download).

use beckon_client::api;
use beckon_shared::proto::v1::BroadcastChannel;
use beckon_shared::SiteKey;
use serde_json::{json, Value};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct BroadcastsPageProps {
    pub admin_key: AttrValue,
    pub site: SiteKey,
}

pub(crate) use beckon_console::kit::{admin, checked, chosen_file, input_value, n, url};

/// A channel's name for people.
fn channel_label(c: &Value) -> &'static str {
    c.as_str()
        .and_then(BroadcastChannel::parse)
        .unwrap_or(BroadcastChannel::Web)
        .label()
}

#[function_component]
pub fn BroadcastsPage(props: &BroadcastsPageProps) -> Html {
    let open = use_state(|| None::<String>);
    let list = use_state(|| None::<Vec<Value>>);
    {
        let (list, open_now) = (list.clone(), open.is_some());
        use_effect_with(
            (props.admin_key.clone(), props.site.clone(), open_now),
            move |(key, site, _)| {
                let (key, site) = (key.to_string(), site.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(v) = admin(&key, "GET", &url(&site, "broadcasts"), None).await {
                        list.set(v["broadcasts"].as_array().cloned());
                    }
                });
            },
        );
    }
    if let Some(id) = &*open {
        let back = {
            let open = open.clone();
            Callback::from(move |_| open.set(None))
        };
        return html! {
            <Results admin_key={props.admin_key.clone()} site={props.site.clone()} id={AttrValue::from(id.clone())} {back} />
        };
    }
    let on_sent = {
        let open = open.clone();
        Callback::from(move |id: String| open.set(Some(id)))
    };
    let rows = list.as_deref().unwrap_or_default();
    html! {
        <section class="settings broadcasts" aria-labelledby="broadcasts-h">
            <h2 id="broadcasts-h">{ "Broadcasts" }</h2>
            <p class="lead">{ "One message to many contacts, each once, on the first of your channels where they can be reached and agreed to hear from you. People who said STOP get nothing." }</p>
            <Composer admin_key={props.admin_key.clone()} site={props.site.clone()} {on_sent} />
            if !rows.is_empty() {
                <h3>{ "Sent and scheduled" }</h3>
                <ul class="broadcast-list">
                    { for rows.iter().map(|b| {
                        let id = b["id"].as_str().unwrap_or_default().to_owned();
                        let onclick = { let open = open.clone(); Callback::from(move |_| open.set(Some(id.clone()))) };
                        let (sent, total) = (n(&b["total"]["sent"]), n(&b["total"]["recipients"]));
                        html! {
                            <li>
                                <button type="button" class="link" {onclick}>{ b["name"].as_str().unwrap_or_default() }</button>
                                <span class={classes!("status", b["status"].as_str().unwrap_or_default().to_owned())}>{ b["status"].as_str().unwrap_or_default() }</span>
                                <span class="muted">{ format!("{sent} of {total} sent") }</span>
                            </li>
                        }
                    }) }
                </ul>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ComposerProps {
    admin_key: AttrValue,
    site: SiteKey,
    on_sent: Callback<String>,
}

/// The composer's fields.
#[derive(Clone, PartialEq)]
struct Draft {
    name: String,
    text: String,
    /// Which of [`CHANNELS`] it goes on.
    on: [bool; CHANNELS.len()],
    tags: String,
    template: String,
    language: String,
    parameters: String,
    /// (attachment id, name, size) of the uploaded file.
    file: Option<(String, String, u64)>,
    /// A saved audience's id (instead of `tags`).
    audience: String,
    /// One per line: `Label` (a reply button) or `Label | https://…` (a link).
    buttons: String,
    /// `datetime-local` value: not before then.
    at: String,
    /// `HH:MM` in each recipient's own time zone.
    local_time: String,
    quiet: bool,
}

impl Draft {
    fn input(&self) -> Value {
        let channels = checked(&CHANNELS, &self.on);
        let list = |s: &str, sep: char| -> Vec<String> {
            s.split(sep)
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect()
        };
        let buttons: Vec<Value> = list(&self.buttons, '\n')
            .iter()
            .map(|l| match l.split_once('|') {
                Some((label, link)) => {
                    json!({"label": label.trim(), "action": "link", "url": link.trim()})
                }
                None => json!({"label": l, "action": "reply"}),
            })
            .collect();
        let mut schedule = json!({});
        let at = js_sys::Date::parse(&self.at);
        if at.is_finite() {
            schedule["at"] = (at as i64).into();
        }
        if !self.local_time.is_empty() {
            schedule["local_time"] = self.local_time.clone().into();
        }
        if self.quiet {
            schedule["quiet_hours"] = json!({"from": "21:00", "to": "08:00"});
        }
        let mut input = json!({
            "name": self.name, "text": self.text, "channels": channels,
            "files": self.file.iter().map(|f| f.0.clone()).collect::<Vec<_>>(),
            "buttons": buttons, "schedule": schedule,
        });
        if self.audience.is_empty() {
            input["audience"] = json!({"tags": list(&self.tags, ',')});
        } else {
            input["audience_id"] = self.audience.clone().into();
        }
        if self.on[WHATSAPP] {
            input["whatsapp_template"] = json!({"name": self.template.trim(), "language": self.language.trim(),
                                                "parameters": list(&self.parameters, '\n')});
        }
        input
    }
}

/// The channels a broadcast may name, in the composer's order of preference: (wire name,
/// who it reaches).
const CHANNELS: [(&str, &str); 6] = [
    (
        "whatsapp",
        "WhatsApp (approved template, to people who opted in)",
    ),
    ("telegram", "Telegram (people who started your bot)"),
    ("web", "Website chat (visitors who chatted)"),
    (
        "email",
        "Email (people who opted in; one-click unsubscribe)",
    ),
    (
        "messenger",
        "Messenger (people who wrote to your Page in the last 24 hours)",
    ),
    (
        "instagram",
        "Instagram (people who wrote to your account in the last 24 hours)",
    ),
];
const WHATSAPP: usize = 0;

#[function_component]
fn Composer(props: &ComposerProps) -> Html {
    let draft = use_state(|| Draft {
        name: String::new(),
        text: "Hi {{first_name|there}}! ".into(),
        on: [false, true, true, false, false, false],
        tags: String::new(),
        template: String::new(),
        language: "en_US".into(),
        parameters: "{{first_name|there}}".into(),
        file: None,
        audience: String::new(),
        buttons: String::new(),
        at: String::new(),
        local_time: String::new(),
        quiet: true,
    });
    let audiences = use_state(Vec::<Value>::new);
    {
        let audiences = audiences.clone();
        let (key, site) = (props.admin_key.to_string(), props.site.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(l) = admin(&key, "GET", &url(&site, "audiences"), None).await {
                    audiences.set(l["audiences"].as_array().cloned().unwrap_or_default());
                }
            });
        });
    }
    let preview = use_state(|| None::<Value>);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let previews = crate::newest::use_newest();
    let check = {
        let (key, site, preview, error) = (
            props.admin_key.to_string(),
            props.site.clone(),
            preview.clone(),
            error.clone(),
        );
        Callback::from(move |d: Draft| {
            let asked = previews.ask();
            // Nothing to check yet: no name, no message, no channel.
            let empty = d.name.trim().is_empty()
                || (d.text.trim().is_empty() && d.file.is_none())
                || !d.on.contains(&true);
            if empty {
                preview.set(None);
                error.set(None);
                return;
            }
            let (key, site, preview, error) =
                (key.clone(), site.clone(), preview.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let answer = admin(
                    &key,
                    "POST",
                    &url(&site, "broadcast-previews"),
                    Some(d.input()),
                )
                .await;
                // The preview of a draft since edited again is not shown.
                if !asked.is_newest() {
                    return;
                }
                match answer {
                    Ok(p) => {
                        preview.set(Some(p));
                        error.set(None);
                    }
                    Err(e) => {
                        preview.set(None);
                        error.set(Some(e.describe()));
                    }
                }
            });
        })
    };
    // Every committed change of a field updates the draft and the preview.
    let field = |set: fn(&mut Draft, String)| {
        let (draft, check) = (draft.clone(), check.clone());
        Callback::from(move |e: Event| {
            let mut d = (*draft).clone();
            set(&mut d, input_value(&e));
            draft.set(d.clone());
            check.emit(d);
        })
    };
    let toggle = |set: fn(&mut Draft)| {
        let (draft, check) = (draft.clone(), check.clone());
        Callback::from(move |_: Event| {
            let mut d = (*draft).clone();
            set(&mut d);
            draft.set(d.clone());
            check.emit(d);
        })
    };
    let toggle_channel = |i: usize| {
        let (draft, check) = (draft.clone(), check.clone());
        Callback::from(move |_: Event| {
            let mut d = (*draft).clone();
            d.on[i] = !d.on[i];
            draft.set(d.clone());
            check.emit(d);
        })
    };
    let on_file = {
        let (draft, check, error, busy) =
            (draft.clone(), check.clone(), error.clone(), busy.clone());
        let (key, site) = (props.admin_key.to_string(), props.site.clone());
        Callback::from(move |e: Event| {
            let Some(file) = chosen_file(&e) else {
                return;
            };
            let (draft, check, error, busy, key, site) = (
                draft.clone(),
                check.clone(),
                error.clone(),
                busy.clone(),
                key.clone(),
                site.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let name = file.name();
                let path = url(
                    &site,
                    &format!(
                        "broadcast-files?name={}",
                        js_sys::encode_uri_component(&name)
                    ),
                );
                let kind = file.type_();
                let sent = api::call_with(
                    "POST",
                    &path,
                    Some(&key),
                    Some((
                        file.as_ref(),
                        if kind.is_empty() {
                            "application/octet-stream"
                        } else {
                            &kind
                        },
                    )),
                )
                .await;
                busy.set(false);
                match sent.map(|(_, t)| beckon_shared::json::parse(&t).unwrap_or(Value::Null)) {
                    Ok(v) => {
                        let a = &v["attachment"];
                        let mut d = (*draft).clone();
                        d.file = Some((
                            a["id"].as_str().unwrap_or_default().into(),
                            a["name"].as_str().unwrap_or_default().into(),
                            n(&a["size"]),
                        ));
                        draft.set(d.clone());
                        check.emit(d);
                    }
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    let remove_file = {
        let (draft, check) = (draft.clone(), check.clone());
        Callback::from(move |_| {
            let mut d = (*draft).clone();
            d.file = None;
            draft.set(d.clone());
            check.emit(d);
        })
    };
    let onsubmit = {
        let (draft, error, busy, on_sent) = (
            draft.clone(),
            error.clone(),
            busy.clone(),
            props.on_sent.clone(),
        );
        let (key, site) = (props.admin_key.to_string(), props.site.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (d, error, busy, on_sent, key, site) = (
                (*draft).clone(),
                error.clone(),
                busy.clone(),
                on_sent.clone(),
                key.clone(),
                site.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let sent = admin(&key, "POST", &url(&site, "broadcasts"), Some(d.input())).await;
                busy.set(false);
                match sent {
                    Ok(b) => on_sent.emit(b["id"].as_str().unwrap_or_default().to_owned()),
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    let d = &*draft;
    let count = preview.as_ref().map(|p| &p["count"]);
    let total = count.map_or(0, |c| CHANNELS.iter().map(|(key, _)| n(&c[key])).sum());
    html! {
        <form class="broadcast-form" {onsubmit} aria-label="New broadcast">
            <label>{ "Name" }
                <input type="text" required=true maxlength="120" value={d.name.clone()} placeholder="Spring sale" onchange={field(|d, v| d.name = v)} />
            </label>
            <label>{ "Message" }
                <textarea rows="4" maxlength="4000" value={d.text.clone()} onchange={field(|d, v| d.text = v)} aria-describedby="vars-hint" />
            </label>
            <p id="vars-hint" class="hint">{ "Variables: {{first_name}}, {{name}}, {{email}} or any imported column; give a fallback for people without one: {{first_name|there}}." }</p>
            <fieldset>
                <legend>{ "Channels, in order of preference" }</legend>
                { for CHANNELS.iter().enumerate().map(|(i, (_, label))| html! {
                    <label class="check"><input type="checkbox" checked={d.on[i]} onchange={toggle_channel(i)} />{ format!("{}. {label}", i + 1) }</label>
                }) }
            </fieldset>
            if d.on[WHATSAPP] {
                <fieldset>
                    <legend>{ "WhatsApp template" }</legend>
                    <label>{ "Approved template name" }<input type="text" value={d.template.clone()} placeholder="spring_sale" onchange={field(|d, v| d.template = v)} /></label>
                    <label>{ "Language" }<input type="text" value={d.language.clone()} onchange={field(|d, v| d.language = v)} /></label>
                    <label>{ "Body parameters, one per line" }<textarea rows="2" value={d.parameters.clone()} onchange={field(|d, v| d.parameters = v)} /></label>
                </fieldset>
            }
            <label>{ "Audience" }
                <select onchange={field(|d, v| d.audience = v)}>
                    <option value="" selected={d.audience.is_empty()}>{ "All contacts (or those tagged below)" }</option>
                    { for audiences.iter().map(|a| {
                        let id = a["id"].as_str().unwrap_or_default().to_owned();
                        html! { <option value={id.clone()} selected={d.audience == id}>{ a["name"].as_str().unwrap_or_default() }</option> }
                    }) }
                </select>
            </label>
            if d.audience.is_empty() {
                <label>{ "Only contacts tagged (comma-separated, optional)" }
                    <input type="text" value={d.tags.clone()} placeholder="customer, vip" onchange={field(|d, v| d.tags = v)} />
                </label>
            }
            <label>{ "Buttons (optional): one per line, Label for a reply or Label | https://… for a link" }
                <textarea rows="2" value={d.buttons.clone()} placeholder={"Yes please\nShop now | https://shop.example/sale"} onchange={field(|d, v| d.buttons = v)} />
            </label>
            <fieldset class="schedule">
                <legend>{ "When" }</legend>
                <label>{ "Not before (empty: now)" }<input type="datetime-local" value={d.at.clone()} onchange={field(|d, v| d.at = v)} /></label>
                <label>{ "At this time in each person's own time zone (optional)" }<input type="time" value={d.local_time.clone()} onchange={field(|d, v| d.local_time = v)} /></label>
                <label class="check"><input type="checkbox" checked={d.quiet} onchange={toggle(|d| d.quiet = !d.quiet)} />{ "Quiet hours: nothing between 21:00 and 08:00 where they are" }</label>
            </fieldset>
            <div class="file-row">
                if let Some((_, name, size)) = &d.file {
                    <span class="file-chip">{ format!("{name} ({:.1} MB)", *size as f64 / 1_048_576.0) }</span>
                    <button type="button" class="link" onclick={remove_file}>{ "Remove" }</button>
                } else {
                    <label class="button secondary">{ "Add a photo, video or PDF" }
                        <input type="file" class="visually-hidden" accept="image/jpeg,image/png,image/webp,video/mp4,application/pdf" onchange={on_file} />
                    </label>
                }
            </div>
            if let Some(e) = &*error {
                <p class="error" role="alert">{ e }</p>
            }
            if let Some(p) = &*preview {
                <div class="preview" aria-live="polite">
                    <p class="count"><strong>{ format!("{total} recipients") }</strong>
                        { crate::audiences::channel_counts(&p["count"]) }
                    </p>
                    <div class="previews">
                        { for p["previews"].as_array().into_iter().flatten().map(|c| html! {
                            <figure class="channel-preview">
                                <figcaption>{ channel_label(&c["channel"]) }<span class="muted">{ c["form"].as_str().unwrap_or_default() }</span></figcaption>
                                <p class="preview-text">{ c["text"].as_str().unwrap_or_default() }</p>
                                if !d.buttons.trim().is_empty() {
                                    <div class="buttons">
                                        { for d.buttons.lines().filter(|l| !l.trim().is_empty()).map(|l| html! {
                                            <span class="cta">{ l.split('|').next().unwrap_or_default().trim() }</span>
                                        }) }
                                    </div>
                                }
                            </figure>
                        }) }
                    </div>
                </div>
            }
            <button type="submit" disabled={*busy || total == 0}>{ if total > 0 { format!("Send to {total}") } else { "Send".into() } }</button>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct ResultsProps {
    admin_key: AttrValue,
    site: SiteKey,
    id: AttrValue,
    back: Callback<()>,
}

#[function_component]
fn Results(props: &ResultsProps) -> Html {
    let b = use_state(|| None::<Value>);
    let error = use_state(|| None::<String>);
    let load = {
        let (b, error) = (b.clone(), error.clone());
        let path = url(&props.site, &format!("broadcasts/{}", props.id));
        let key = props.admin_key.to_string();
        Callback::from(move |action: Option<&'static str>| {
            let (b, error, key) = (b.clone(), error.clone(), key.clone());
            let (method, path) = match action {
                Some(a) => ("POST", format!("{path}/{a}")),
                None => ("GET", path.clone()),
            };
            wasm_bindgen_futures::spawn_local(async move {
                match admin(&key, method, &path, None).await {
                    Ok(v) => {
                        b.set(Some(v));
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    // Live while it sends, and until every recipient's result came back from their channel.
    let live = b.as_ref().is_none_or(|v| {
        let t = &v["total"];
        let settled = n(&t["sent"]) + n(&t["failed"]) + n(&t["opted_out"]) + n(&t["cancelled"]);
        match v["status"].as_str() {
            Some("running" | "scheduled") => true,
            Some("done") => settled < n(&t["recipients"]),
            _ => false,
        }
    });
    {
        let load = load.clone();
        use_effect_with(live, move |live| {
            load.emit(None);
            let timer =
                live.then(|| gloo_timers::callback::Interval::new(1000, move || load.emit(None)));
            move || drop(timer)
        });
    }
    let Some(v) = &*b else {
        return html! { <section class="settings"><p class="empty">{ "Loading…" }</p></section> };
    };
    let t = &v["total"];
    let total = n(&t["recipients"]);
    let settled = n(&t["sent"]) + n(&t["failed"]) + n(&t["opted_out"]) + n(&t["cancelled"]);
    let pct = (settled * 100).checked_div(total).unwrap_or(100);
    let status = v["status"].as_str().unwrap_or_default().to_owned();
    let act = |a: &'static str| {
        let load = load.clone();
        Callback::from(move |_| load.emit(Some(a)))
    };
    let back = {
        let back = props.back.clone();
        Callback::from(move |_| back.emit(()))
    };
    html! {
        <section class="settings results" aria-labelledby="results-h">
            <button type="button" class="link" onclick={back}>{ "← All broadcasts" }</button>
            <h2 id="results-h">{ v["name"].as_str().unwrap_or_default() }<span class={classes!("status", status.clone())}>{ status.clone() }</span></h2>
            <div class="progress-row">
                <progress max={total.to_string()} value={settled.to_string()} aria-label="Sending progress">{ format!("{pct}%") }</progress>
                <span class="pct">{ format!("{pct} %") }</span>
                <span class="muted">{ match status.as_str() {
                    "running" => format!("{settled} of {total} · {:.1} per second", v["rate"].as_f64().unwrap_or(0.0)),
                    _ => format!("{settled} of {total}"),
                } }</span>
            </div>
            if let Some(note) = waiting(v) {
                <p class="waiting muted" role="status">{ note }</p>
            }
            <div class="actions">
                if status == "running" || status == "scheduled" {
                    <button type="button" class="secondary" onclick={act("pause")}>{ "Pause" }</button>
                }
                if status == "paused" {
                    <button type="button" onclick={act("resume")}>{ "Resume" }</button>
                }
                // (Done posting, with messages still waiting for their channel's retry: those
                // can still be held back.)
                if matches!(status.as_str(), "running" | "scheduled" | "paused")
                    || (status == "done" && n(&t["queued"]) > 0)
                {
                    <button type="button" class="danger" onclick={act("cancel")}>{ "Cancel" }</button>
                }
            </div>
            if let Some(e) = &*error {
                <p class="error" role="alert">{ e }</p>
            }
            <h3>{ "What it turned into" }</h3>
            { crate::metrics::funnel(&[
                ("Recipients", n(&t["recipients"])),
                ("Sent", n(&t["sent"])),
                ("Delivered", n(&t["delivered"])),
                ("Read", n(&t["read"])),
                ("Replied", n(&t["replied"])),
                ("Goals", n(&t["goals"])),
            ]) }
            <table class="by-channel">
                <caption>{ "Per channel" }</caption>
                <thead><tr><th scope="col">{ "Channel" }</th><th scope="col">{ "Sent" }</th><th scope="col">{ "Delivered" }</th><th scope="col">{ "Read" }</th><th scope="col">{ "Replied" }</th><th scope="col">{ "Goals" }</th><th scope="col">{ "Failed" }</th><th scope="col">{ "Opted out" }</th></tr></thead>
                <tbody>
                    { for v["channels"].as_array().into_iter().flatten().map(|c| {
                        let f = &c["funnel"];
                        html! {
                            <tr>
                                <th scope="row">{ channel_label(&c["channel"]) }</th>
                                <td>{ n(&f["sent"]) }</td><td>{ n(&f["delivered"]) }</td><td>{ n(&f["read"]) }</td>
                                <td>{ n(&f["replied"]) }</td><td>{ format!("{} ({:.2})", n(&f["goals"]), f["goal_value"].as_f64().unwrap_or(0.0)) }</td>
                                <td>{ n(&f["failed"]) }</td><td>{ n(&f["opted_out"]) }</td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
        </section>
    }
}

/// Why nothing is going out right now, if that is so: everyone left waits for their local
/// send time or the end of their quiet hours (`next_at` in the future).
fn waiting(v: &serde_json::Value) -> Option<String> {
    let next = v["next_at"].as_f64()?;
    let now = js_sys::Date::now();
    if next <= now + 5_000.0 {
        return None;
    }
    let at = js_sys::Date::new(&next.into());
    let day = if at.to_date_string() == js_sys::Date::new(&now.into()).to_date_string() {
        String::new()
    } else {
        format!(
            "{} ",
            String::from(at.to_locale_date_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED))
        )
    };
    let when = format!("{day}{:02}:{:02}", at.get_hours(), at.get_minutes());
    Some(match v["status"].as_str() {
        Some("scheduled") => format!("Starts {when}."),
        Some("running") => format!(
            "Waiting: the next recipients are due {when} (your time), when it is their send \
             time or their quiet hours are over."
        ),
        _ => return None,
    })
}
