//! "Online now": visitors whose chat app is running on the site (live from the site's hub),
//! with where they are and for how long — and a way to start a conversation with one.

use crate::write_first::{self, WriteFirst};
use beckon_client::api;
use beckon_shared::proto::v1::{OnlineVisitor, ReachOut};
use beckon_shared::{ConversationId, SiteKey};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct VisitorsPageProps {
    pub admin_key: AttrValue,
    pub agent_name: AttrValue,
    pub site: SiteKey,
    pub visitors: Vec<OnlineVisitor>,
    /// The conversation an agent just started (to open it).
    pub on_started: Callback<ConversationId>,
}

fn duration(since: i64) -> String {
    let secs = ((js_sys::Date::now() as i64 - since) / 1000).max(0);
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

#[function_component]
pub fn VisitorsPage(props: &VisitorsPageProps) -> Html {
    let write_first::Forms {
        writing_to,
        error,
        busy,
        on_invalid,
        started,
    } = write_first::use_forms::<String>(props.on_started.clone());
    html! {
        <section class="settings" aria-labelledby="visitors-h">
            <h2 id="visitors-h">{ "Online now" }</h2>
            <p class="lead">{ "Visitors whose chat is open on the site — they showed intent, a rule reached out, or they chatted before. Start a conversation and they see it at once." }</p>
            if props.visitors.is_empty() {
                <p class="empty">{ "Nobody is online right now." }</p>
            }
            <ul class="online">
                { for props.visitors.iter().map(|v| {
                    let id = v.id.clone();
                    let open_form = { let w = writing_to.clone(); let id = id.clone(); Callback::from(move |_: MouseEvent| w.set(Some(id.clone()))) };
                    let writing = writing_to.as_deref() == Some(v.id.as_str());
                    let on_send = {
                        let (error, busy, started) = (error.clone(), busy.clone(), started.clone());
                        let (key, site, name, id) = (props.admin_key.to_string(), props.site.clone(), props.agent_name.to_string(), id.clone());
                        Callback::from(move |body: String| {
                            let (key, site, id, author) = (key.clone(), site.clone(), id.clone(), Some(name.clone()));
                            let call = async move { api::reach_out(&key, &site, &id, &ReachOut { body, author }).await };
                            write_first::start(call, busy.clone(), error.clone(), started.clone());
                        })
                    };
                    html! {
                        <li key={v.id.clone()} class="online-visitor">
                            <div class="where">
                                <strong class="url">{ if v.url.is_empty() { "(page not shared)".to_owned() } else { v.url.clone() } }</strong>
                                <span class="meta">{ format!("on the site for {}", duration(v.since)) }
                                    if v.visitor_id.is_some() { { " · has chatted before" } }</span>
                            </div>
                            if writing {
                                <WriteFirst id={AttrValue::from(v.id.clone())} placeholder="Hi! Can I help you find something?" busy={*busy} {on_send} on_invalid={on_invalid.clone()} />
                            } else {
                                <button type="button" class="start" onclick={open_form} aria-label={format!("Start a conversation with the visitor on {}", v.url)}>{ "Start conversation" }</button>
                            }
                        </li>
                    }
                }) }
            </ul>
            if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
        </section>
    }
}
