//! The conversation log (`role="log"`, announced politely; each entry an `article`, as the log
//! role replaces the list's): an optional greeting, stored messages with their delivery state,
//! and sends still in flight. Keeps the newest message in view
//! unless the visitor has scrolled up to read.

use super::attachment::{human_size, FileView};
use super::files::files_of;
use crate::i18n::{current, Catalog};
use crate::session::UploadView;
use beckon_shared::i18n::Text;
use beckon_shared::proto::v1::{Attachment, Role};
use beckon_shared::rules::{CtaAction, CtaButton};
use beckon_shared::transcript::{Delivery, Entry, Transcript};
use beckon_shared::ClientMsgId;
use yew::prelude::*;

/// The author's initial, which the stylesheet draws as their avatar (generated content with
/// empty alternative text: the name beside it is what is read).
fn initial(who: &str) -> String {
    who.chars()
        .find(|c| !c.is_ascii_punctuation() && !c.is_ascii_whitespace())
        .map_or('?', |c| c.to_ascii_uppercase())
        .to_string()
}

/// Who wrote a message: their photo (decorative: the name beside it is read) over their
/// initial, which shows if the photo cannot load.
fn author(who: &str, photo: Option<&str>) -> Html {
    html! {
        <span class="author" data-initial={initial(who)}>
            if let Some(src) = photo { <img class="avatar" src={src.to_owned()} alt="" /> }
            { who }
        </span>
    }
}

#[derive(Properties, PartialEq)]
pub struct MessageListProps {
    /// Shown as the first message (the site's greeting, in the widget).
    #[prop_or_default]
    pub greeting: Option<AttrValue>,
    pub transcript: Transcript,
    pub on_discard: Callback<ClientMsgId>,
    /// Files on their way (each with progress and a cancel button).
    #[prop_or_default]
    pub uploads: Vec<UploadView>,
    #[prop_or_default]
    pub on_cancel_upload: Callback<ClientMsgId>,
    /// Files dropped on the list.
    #[prop_or_default]
    pub on_files: Option<Callback<Vec<web_sys::File>>>,
    /// Whether the list is on screen (a hidden list cannot scroll: it goes to the newest
    /// message when shown).
    #[prop_or(true)]
    pub visible: bool,
    /// A reply button pressed: its label, to send as the visitor's message (`None`: the
    /// buttons are shown, not pressable — the inbox).
    #[prop_or_default]
    pub on_reply: Option<Callback<String>>,
}

/// A broadcast's buttons under its message: links open in a new tab; replies send their
/// label (where `on_reply` is given).
fn buttons(list: &[CtaButton], on_reply: Option<&Callback<String>>) -> Html {
    if list.is_empty() {
        return html! {};
    }
    html! {
        <div class="buttons">
            { for list.iter().map(|b| match &b.action {
                CtaAction::Link { url } if beckon_shared::text::is_web_url(url) => html! {
                    <a class="cta" href={url.clone()} target="_blank" rel="noopener noreferrer">{ &b.label }</a>
                },
                CtaAction::Reply => {
                    let onclick = on_reply.map(|r| { let label = b.label.clone(); r.reform(move |_: MouseEvent| label.clone()) });
                    html! { <button type="button" class="cta" disabled={onclick.is_none()} {onclick}>{ &b.label }</button> }
                }
                _ => html! {},
            }) }
        </div>
    }
}

fn files(list: &[Attachment]) -> Html {
    if list.is_empty() {
        return html! {};
    }
    html! {
        <div class="files">
            { for list.iter().map(|a| html! { <FileView key={a.id.to_string()} file={a.clone()} /> }) }
        </div>
    }
}

fn delivery_text(tx: &Catalog, d: Delivery) -> &str {
    tx.t(match d {
        Delivery::Sending => Text::Sending,
        Delivery::Failed(_) => Text::NotSent,
        Delivery::Delivered => Text::Delivered,
        Delivery::Read => Text::Seen,
    })
}

#[function_component]
pub fn MessageList(props: &MessageListProps) -> Html {
    let tx = current();
    let log = use_node_ref();
    let stick_to_bottom = use_mut_ref(|| true);
    {
        let log = log.clone();
        let stick = stick_to_bottom.clone();
        let count = props.transcript.messages().len()
            + props.transcript.pending().len()
            + props.uploads.len();
        use_effect_with((count, props.visible), move |_| {
            if let Some(el) = log.cast::<web_sys::Element>() {
                if *stick.borrow() {
                    el.set_scroll_top(el.scroll_height());
                }
            }
        });
    }
    // A picture or video that finishes loading grows the log: stay at the bottom if there.
    {
        let log = log.clone();
        let stick = stick_to_bottom.clone();
        use_effect_with((), move |_| {
            let listeners: Vec<_> = log
                .cast::<web_sys::Element>()
                .map(|el| {
                    ["load", "loadedmetadata"].map(|kind| {
                        let (target, stick) = (el.clone(), stick.clone());
                        gloo_events::EventListener::new_with_options(
                            &el,
                            kind,
                            gloo_events::EventListenerOptions::run_in_capture_phase(),
                            move |_| {
                                if *stick.borrow() {
                                    target.set_scroll_top(target.scroll_height());
                                }
                            },
                        )
                    })
                })
                .into_iter()
                .flatten()
                .collect();
            move || drop(listeners)
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
                let who = match (message.role, &message.author, message.via.as_deref()) {
                    (Role::Visitor, _, _) => tx.t(Text::Visitor).to_owned(),
                    (_, Some(author), _) => author.clone(),
                    // The inbox sees where the conversation came from.
                    (_, None, Some("broadcast")) if t.me() == Role::Agent => tx.t(Text::Broadcast).to_owned(),
                    (_, None, _) => tx.t(Text::Team).to_owned(),
                };
                html! {
                    <li role="article" key={message.id.to_string()} class={classes!("msg", if mine { "mine" } else { "theirs" })} data-seq={message.seq.to_string()}>
                        if !mine { { author(&who, message.avatar.as_deref()) } }
                        { files(&message.attachments) }
                        if !message.body.is_empty() { <p class="body" dir="auto">{ &message.body }</p> }
                        { buttons(&message.buttons, props.on_reply.as_ref()) }
                        <span class="meta">
                            <time>{ tx.clock(message.created_at, false) }</time>
                            if mine { <span class="delivery">{ delivery_text(&tx, delivery) }</span> }
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
                    <li role="article" key={p.client_msg_id.to_string()} class={classes!("msg", "mine", "pending", failed.then_some("failed"))}>
                        { files(&p.attachments) }
                        if !p.body.is_empty() { <p class="body" dir="auto">{ &p.body }</p> }
                        <span class="meta">
                            <span class="delivery">{ delivery_text(&tx, delivery) }</span>
                            if failed { <button type="button" class="discard" onclick={discard}>{ tx.t(Text::Remove) }</button> }
                        </span>
                    </li>
                }
            }
        }
    });
    let uploads = props.uploads.iter().map(|u| {
        let cancel = {
            let key = u.key.clone();
            props.on_cancel_upload.reform(move |_: MouseEvent| key.clone())
        };
        let (label, button) = match &u.error {
            Some(why) => (why.clone(), tx.t(Text::Remove)),
            None => (
                tx.f(Text::FileProgress, &[("sent", &human_size(u.sent)), ("size", &human_size(u.size))]),
                tx.t(Text::Cancel),
            ),
        };
        html! {
            <li role="article" key={u.key.to_string()} class={classes!("msg", "mine", "pending", "upload", u.error.is_some().then_some("failed"))}>
                <span class="upload-name">{ &u.name }</span>
                if u.error.is_none() {
                    <progress max={u.size.to_string()} value={u.sent.to_string()} aria-label={tx.f(Text::SendingFile, &[("name", &u.name)])}></progress>
                }
                <span class="meta">
                    <span class="delivery">{ label }</span>
                    <button type="button" class="discard" onclick={cancel} aria-label={format!("{button} {}", u.name)}>{ button }</button>
                </span>
            </li>
        }
    });
    let (ondragover, ondrop) = match &props.on_files {
        Some(cb) => {
            let cb = cb.clone();
            (
                Callback::from(|e: DragEvent| e.prevent_default()),
                Callback::from(move |e: DragEvent| {
                    e.prevent_default();
                    let list = files_of(e.data_transfer().and_then(|d| d.files()));
                    if !list.is_empty() {
                        cb.emit(list);
                    }
                }),
            )
        }
        None => (Callback::noop(), Callback::noop()),
    };
    html! {
        <ol class="log" role="log" aria-live="polite" aria-label={tx.t(Text::Messages).to_owned()} ref={log} {onscroll} tabindex="0" {ondragover} {ondrop}>
            if let Some(greeting) = &props.greeting {
                <li role="article" class="msg theirs greeting"><p class="body" dir="auto">{ greeting }</p></li>
            }
            { for rows }
            { for uploads }
            if t.other_typing() {
                <li class="typing" role="status" aria-label={tx.t(Text::Typing).to_owned()}><span></span><span></span><span></span></li>
            }
        </ol>
    }
}
