//! The conversation log (`role="log"`, announced politely): an optional greeting, stored
//! messages with their delivery state, and sends still in flight. Keeps the newest message in view
//! unless the visitor has scrolled up to read.

use beckon_shared::proto::v1::Role;
use beckon_shared::transcript::{Delivery, Entry, Transcript};
use beckon_shared::ClientMsgId;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct MessageListProps {
    /// Shown as the first message (the site's greeting, in the widget).
    #[prop_or_default]
    pub greeting: Option<AttrValue>,
    pub transcript: Transcript,
    pub on_discard: Callback<ClientMsgId>,
}

fn clock(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
}

fn delivery_text(d: Delivery) -> &'static str {
    match d {
        Delivery::Sending => "Sending…",
        Delivery::Failed(_) => "Not sent",
        Delivery::Delivered => "Delivered",
        Delivery::Read => "Seen",
    }
}

#[function_component]
pub fn MessageList(props: &MessageListProps) -> Html {
    let log = use_node_ref();
    let stick_to_bottom = use_mut_ref(|| true);
    {
        let log = log.clone();
        let stick = stick_to_bottom.clone();
        let count = props.transcript.messages().len() + props.transcript.pending().len();
        use_effect_with(count, move |_| {
            if let Some(el) = log.cast::<web_sys::Element>() {
                if *stick.borrow() {
                    el.set_scroll_top(el.scroll_height());
                }
            }
        });
    }
    let onscroll = {
        let log = log.clone();
        Callback::from(move |_: Event| {
            if let Some(el) = log.cast::<web_sys::Element>() {
                *stick_to_bottom.borrow_mut() =
                    el.scroll_height() - el.scroll_top() - el.client_height() < 40;
            }
        })
    };
    let t = &props.transcript;
    let rows = t.entries().into_iter().map(|entry| {
        let delivery = entry.delivery();
        match entry {
            Entry::Stored { message, mine, .. } => {
                let who = match (message.role, &message.author) {
                    (Role::Visitor, _) => "Visitor".to_owned(),
                    (_, Some(author)) => author.clone(),
                    (_, None) => "Team".to_owned(),
                };
                html! {
                    <li key={message.id.to_string()} class={classes!("msg", if mine { "mine" } else { "theirs" })} data-seq={message.seq.to_string()}>
                        if !mine { <span class="author">{ who }</span> }
                        <p class="body">{ &message.body }</p>
                        <span class="meta">
                            <time>{ clock(message.created_at) }</time>
                            if mine { <span class="delivery">{ delivery_text(delivery) }</span> }
                        </span>
                    </li>
                }
            }
            Entry::Pending(p) => {
                let failed = matches!(delivery, Delivery::Failed(_));
                let discard = {
                    let id = p.client_msg_id.clone();
                    props.on_discard.reform(move |_: MouseEvent| id.clone())
                };
                html! {
                    <li key={p.client_msg_id.to_string()} class={classes!("msg", "mine", "pending", failed.then_some("failed"))}>
                        <p class="body">{ &p.body }</p>
                        <span class="meta">
                            <span class="delivery">{ delivery_text(delivery) }</span>
                            if failed { <button type="button" class="discard" onclick={discard}>{ "Remove" }</button> }
                        </span>
                    </li>
                }
            }
        }
    });
    html! {
        <ol class="log" role="log" aria-live="polite" aria-label="Messages" ref={log} {onscroll} tabindex="0">
            if let Some(greeting) = &props.greeting {
                <li class="msg theirs greeting"><p class="body">{ greeting }</p></li>
            }
            { for rows }
            if t.other_typing() {
                <li class="typing" aria-label="Typing"><span></span><span></span><span></span></li>
            }
        </ol>
    }
}
