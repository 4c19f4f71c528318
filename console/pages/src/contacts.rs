//! "Contacts": visitors the site identified with `Beckon.identify` (name, email, phone) and
//! people who started the site's Telegram bot, and writing first to one on their own channel —
//! WhatsApp (the approved template while their 24-hour window is closed) or a private Telegram
//! chat with the bot; their answers come back into the conversation.

use crate::broadcasts::chosen_file;
use crate::data_requests::{self, DataRequestLog};
use crate::write_first::{self, WriteFirst};
use beckon_client::api;
use beckon_shared::proto::v1::{Contact, ContactChannel, ContactOutreach};
use beckon_shared::{ConversationId, SiteKey, VisitorId};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ContactsPageProps {
    pub admin_key: AttrValue,
    pub agent_name: AttrValue,
    pub site: SiteKey,
    /// The conversation just started (to open it).
    pub on_started: Callback<ConversationId>,
}

fn seen(at: i64) -> String {
    let date = js_sys::Date::new(&(at as f64).into());
    format!(
        "last seen {}",
        String::from(date.to_locale_date_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED))
    )
}

#[function_component]
pub fn ContactsPage(props: &ContactsPageProps) -> Html {
    let contacts = use_state(|| None::<Vec<Contact>>);
    // The search and tag asked for, and where the next page begins.
    let query = use_state(|| (String::new(), String::new()));
    let next = use_state(|| None::<String>);
    let write_first::Forms {
        writing_to,
        error,
        busy,
        on_invalid,
        started,
    } = write_first::use_forms::<(VisitorId, ContactChannel)>(props.on_started.clone());
    // The data-request log: `None` unless this is an owner's credential.
    let log = use_state(|| None::<Vec<serde_json::Value>>);
    let done = use_state(|| None::<String>);
    let load_log = {
        let log = log.clone();
        let (key, site) = (props.admin_key.to_string(), props.site.clone());
        Callback::from(move |_: ()| {
            let (log, key, site) = (log.clone(), key.clone(), site.clone());
            wasm_bindgen_futures::spawn_local(async move {
                // A failed read keeps what was shown (an owner's buttons stay).
                if let Ok(read) = data_requests::log(&key, &site).await {
                    log.set(read);
                }
            });
        })
    };
    {
        let load_log = load_log.clone();
        use_effect_with((props.admin_key.clone(), props.site.clone()), move |_| {
            load_log.emit(())
        });
    }
    // Loads the first page for the query, or the next one after `before`.
    let loads = crate::newest::use_newest();
    let load = {
        let (contacts, next, error, query) =
            (contacts.clone(), next.clone(), error.clone(), query.clone());
        let (key, site) = (props.admin_key.to_string(), props.site.clone());
        Callback::from(move |before: Option<String>| {
            let (contacts, next, error, key, site) = (
                contacts.clone(),
                next.clone(),
                error.clone(),
                key.clone(),
                site.clone(),
            );
            let (q, tag) = (*query).clone();
            let enc = |v: &str| String::from(js_sys::encode_uri_component(v));
            let mut params = format!("q={}&tag={}", enc(&q), enc(&tag));
            if let Some(b) = &before {
                params.push_str(&format!("&before={}", enc(b)));
            }
            let asked = loads.ask();
            wasm_bindgen_futures::spawn_local(async move {
                let answer = api::contacts(&key, &site, &params).await;
                // A page for a search since changed is not shown.
                if !asked.is_newest() {
                    return;
                }
                match answer {
                    Ok((page, more)) => {
                        let mut list = if before.is_some() {
                            (*contacts).clone().unwrap_or_default()
                        } else {
                            Vec::new()
                        };
                        list.extend(page);
                        contacts.set(Some(list));
                        next.set(more);
                    }
                    Err(f) => error.set(Some(f.describe())),
                }
            });
        })
    };
    {
        let load = load.clone();
        use_effect_with(
            (
                props.admin_key.clone(),
                props.site.clone(),
                (*query).clone(),
            ),
            move |_| load.emit(None),
        );
    }
    let on_query = |set: fn(&mut (String, String), String)| {
        let query = query.clone();
        Callback::from(move |e: Event| {
            let mut q = (*query).clone();
            set(&mut q, crate::broadcasts::input_value(&e));
            query.set(q);
        })
    };
    let rows = contacts.as_deref().unwrap_or_default();
    html! {
        <section class="settings" aria-labelledby="contacts-h">
            <h2 id="contacts-h">{ "Contacts" }</h2>
            <ImportExport admin_key={props.admin_key.clone()} site={props.site.clone()} />
            <div class="contact-search" role="search">
                <label>{ "Search" }<input type="search" placeholder="Name, email, phone or Telegram" value={query.0.clone()} onchange={on_query(|q, v| q.0 = v)} /></label>
                <label>{ "Tag" }<input type="text" placeholder="vip" value={query.1.clone()} onchange={on_query(|q, v| q.1 = v)} /></label>
            </div>
            <p class="lead">{ "People your pages identified (Beckon.identify), imported, who started your Telegram bot or wrote to your Page. Write first by email, WhatsApp (a template outside 24 h), Telegram, or Messenger and Instagram within 7 days; answers come back here." }</p>
            if contacts.is_some() && rows.is_empty() {
                <p class="empty">{ "No known contacts yet. Call Beckon.identify({name, email, phone}) on pages where the visitor is signed in, or share a link to your Telegram bot." }</p>
            }
            <ul class="online">
                { for rows.iter().map(|c| {
                    let id = c.visitor_id.clone();
                    let who = c.name.clone().or_else(|| c.email.clone()).or_else(|| c.telegram.clone()).unwrap_or_else(|| format!("Visitor {}", &id.as_str()[2..8]));
                    let reachable: Vec<ContactChannel> = [
                        c.phone.is_some().then_some(ContactChannel::Whatsapp),
                        c.telegram.is_some().then_some(ContactChannel::Telegram),
                        c.email.is_some().then_some(ContactChannel::Email),
                    ]
                    .into_iter()
                    .flatten()
                    .chain(c.meta.iter().copied())
                    .collect();
                    let writing = writing_to.as_ref().filter(|(v, _)| *v == id).map(|(_, ch)| *ch);
                    let form = |channel: ContactChannel| {
                        let on_send = {
                            let (error, busy, started) = (error.clone(), busy.clone(), started.clone());
                            let (key, site, author, id) = (props.admin_key.to_string(), props.site.clone(), props.agent_name.to_string(), id.clone());
                            Callback::from(move |body: String| {
                                let outreach = ContactOutreach { channel, body, author: Some(author.clone()) };
                                let (key, site, id) = (key.clone(), site.clone(), id.clone());
                                let call = async move { api::write_to_contact(&key, &site, &id, &outreach).await };
                                write_first::start(call, busy.clone(), error.clone(), started.clone());
                            })
                        };
                        let label = channel.label();
                        html! {
                            <WriteFirst id={AttrValue::from(format!("{id}-{}", channel.as_str()))} placeholder="Hi! Your order shipped today — any questions?" busy={*busy} action={format!("Send on {label}")} {on_send} on_invalid={on_invalid.clone()} />
                        }
                    };
                    let button = |channel: ContactChannel| {
                        let open_form = { let w = writing_to.clone(); let id = id.clone(); Callback::from(move |_: MouseEvent| w.set(Some((id.clone(), channel)))) };
                        let label = channel.label();
                        html! {
                            <button type="button" class="start" onclick={open_form} aria-label={format!("Write to {who} on {label}")}>{ format!("Write on {label}") }</button>
                        }
                    };
                    let export = {
                        let (error, done, load_log) = (error.clone(), done.clone(), load_log.clone());
                        let (key, site, id) = (props.admin_key.to_string(), props.site.clone(), id.clone());
                        Callback::from(move |_: MouseEvent| {
                            let (error, done, load_log) = (error.clone(), done.clone(), load_log.clone());
                            let (key, site, id) = (key.clone(), site.clone(), id.clone());
                            wasm_bindgen_futures::spawn_local(async move {
                                match data_requests::export(&key, &site, &id).await {
                                    Ok(()) => {
                                        error.set(None);
                                        done.set(Some("Exported: the file is in your downloads (its file links work for half an hour).".into()));
                                    }
                                    Err(e) => {
                                        done.set(None);
                                        error.set(Some(e));
                                    }
                                }
                                load_log.emit(());
                            });
                        })
                    };
                    let erase = {
                        let (error, done, load_log, load) = (error.clone(), done.clone(), load_log.clone(), load.clone());
                        let (key, site, id, who) = (props.admin_key.to_string(), props.site.clone(), id.clone(), who.clone());
                        Callback::from(move |_: MouseEvent| {
                            let (error, done, load_log, load) = (error.clone(), done.clone(), load_log.clone(), load.clone());
                            let (key, site, id, who) = (key.clone(), site.clone(), id.clone(), who.clone());
                            wasm_bindgen_futures::spawn_local(async move {
                                match data_requests::delete(&key, &site, &id, &who).await {
                                    Ok(true) => {
                                        error.set(None);
                                        done.set(Some(format!("Deleted everything about {who}.")));
                                        load.emit(None);
                                        load_log.emit(());
                                    }
                                    Ok(false) => {}
                                    Err(e) => {
                                        done.set(None);
                                        error.set(Some(e));
                                    }
                                }
                            });
                        })
                    };
                    let handles = [c.email.clone(), c.phone.as_ref().map(|p| format!("+{p}")), c.telegram.as_ref().map(|t| format!("Telegram {t}"))]
                        .into_iter()
                        .chain(c.meta.iter().map(|m| Some(m.label().to_owned())));
                    html! {
                        <li key={id.to_string()} class="online-visitor contact">
                            <div class="where">
                                <strong>{ who.clone() }</strong>
                                if c.verified {
                                    <span class="tag identity verified" title="Proven by your site's backend (user_hash or JWT)">{ "verified" }</span>
                                } else if c.name.is_some() || c.email.is_some() || c.phone.is_some() {
                                    <span class="tag identity claimed" title="What the page said, not proven: this person may not be who they claim">{ "claimed" }</span>
                                }
                                <span class="url">{ handles.flatten().collect::<Vec<_>>().join(" · ") }</span>
                                <span class="meta">{ seen(c.last_seen_at) }{ c.language.as_ref().map(|l| format!(" · {l}")).unwrap_or_default() }</span>
                                if !c.tags.is_empty() {
                                    <span class="tags">{ for c.tags.iter().map(|t| html! { <span class="tag">{ t }</span> }) }</span>
                                }
                                if !c.consents.is_empty() {
                                    <span class="meta consent">{ consents(c) }</span>
                                }
                            </div>
                            if let Some(channel) = writing {
                                { form(channel) }
                            } else if reachable.is_empty() {
                                <span class="meta">{ "No phone number" }</span>
                            } else {
                                <div class="reach">{ for reachable.into_iter().map(button) }</div>
                            }
                            if log.is_some() {
                                <div class="data-actions">
                                    <button type="button" class="link" onclick={export} aria-label={format!("Export all data about {who}")}>{ "Export data" }</button>
                                    <button type="button" class="link danger" onclick={erase} aria-label={format!("Delete all data about {who}")}>{ "Delete data…" }</button>
                                </div>
                            }
                        </li>
                    }
                }) }
            </ul>
            if let Some(before) = (*next).clone() {
                <button type="button" class="secondary" onclick={load.reform(move |_: MouseEvent| Some(before.clone()))}>{ "Show more" }</button>
            }
            if let Some(d) = &*done { <p class="done" role="status">{ d }</p> }
            if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
            if let Some(entries) = &*log {
                <DataRequestLog entries={entries.clone()} />
            }
        </section>
    }
}

/// "WhatsApp: opted in (import, 3 Dec) · Telegram: stopped (keyword, 4 Dec)".
fn consents(c: &Contact) -> String {
    c.consents
        .iter()
        .map(|k| {
            let what = if k.status == "in" {
                "opted in"
            } else {
                "stopped"
            };
            let date = js_sys::Date::new(&(k.at as f64).into());
            let day = String::from(
                date.to_locale_date_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED),
            );
            format!("{}: {what} ({}, {day})", k.channel.label(), k.source)
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

#[derive(Properties, PartialEq)]
struct ImportExportProps {
    admin_key: AttrValue,
    site: SiteKey,
}

/// Contacts from a CSV file (with a report of every row not taken, and why), and all of them
/// as CSV.
#[function_component]
fn ImportExport(props: &ImportExportProps) -> Html {
    let report = use_state(|| None::<serde_json::Value>);
    let error = use_state(|| None::<String>);
    let on_file = {
        let (report, error) = (report.clone(), error.clone());
        let (key, site) = (props.admin_key.to_string(), props.site.clone());
        Callback::from(move |e: Event| {
            let Some(file) = chosen_file(&e) else {
                return;
            };
            let (report, error, key, site) =
                (report.clone(), error.clone(), key.clone(), site.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let path = format!("/api/v1/admin/sites/{site}/contact-imports");
                match api::call_with("POST", &path, Some(&key), Some((file.as_ref(), "text/csv")))
                    .await
                {
                    Ok((_, text)) => {
                        report.set(beckon_shared::json::decode(&text).ok());
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    let export = {
        let error = error.clone();
        let (key, site) = (props.admin_key.to_string(), props.site.clone());
        Callback::from(move |_| {
            let (error, key, site) = (error.clone(), key.clone(), site.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let path = format!("/api/v1/admin/sites/{site}/contacts.csv");
                match api::call("GET", &path, Some(&key), None).await {
                    Ok((_, csv)) => download(&format!("contacts-{site}.csv"), &csv, "text/csv"),
                    Err(e) => error.set(Some(e.describe())),
                }
            });
        })
    };
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    html! {
        <div class="import">
            <label class="button secondary">{ "Import contacts (CSV)" }
                <input type="file" class="visually-hidden" accept=".csv,text/csv" onchange={on_file} />
            </label>
            <button type="button" class="secondary" onclick={export}>{ "Export CSV" }</button>
            <p class="hint">{ "Columns: name, email, phone, language, time_zone, tags (a;b), whatsapp_opt_in, email_opt_in (yes/no); others become custom fields. Importing a file twice changes nothing." }</p>
            if let Some(r) = &*report {
                <div class="import-report" role="status">
                    <p>{ format!("{} added, {} updated, {} unchanged, {} not imported", n(&r["created"]), n(&r["updated"]), n(&r["unchanged"]), r["rejected"].as_array().map_or(0, Vec::len)) }</p>
                    <ul>
                        { for r["rejected"].as_array().into_iter().flatten().take(50).map(|row| html! {
                            <li>{ format!("Line {}: {}", n(&row["line"]), row["reason"].as_str().unwrap_or_default()) }</li>
                        }) }
                    </ul>
                </div>
            }
            if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
        </div>
    }
}

/// Saves `text` (of type `mime`) as a file named `name`.
pub(crate) fn download(name: &str, text: &str, mime: &str) {
    use wasm_bindgen::JsCast;
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(href) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let document = web_sys::window().and_then(|w| w.document());
    if let Some(a) = document
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&href);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&href);
}
