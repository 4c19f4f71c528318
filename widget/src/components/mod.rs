//! The chat panel: header, conversation log and composer, rendered from a session
//! [`Snapshot`]; user intent goes out through callbacks.

mod prechat;

use beckon_client::api::Traits;
use beckon_client::components::{icons, Composer, MessageList};
use beckon_client::i18n::current;
use beckon_client::session::{Snapshot, Status};
use beckon_shared::i18n::Text;
use beckon_shared::proto::v1::{SiteConfig, EMAIL_INPUT_PATTERN};
use beckon_shared::ClientMsgId;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ChatViewProps {
    pub config: Rc<SiteConfig>,
    pub snapshot: Rc<Snapshot>,
    /// The first bubble: the site's greeting, or the teaser the visitor answered.
    #[prop_or_default]
    pub greeting: Option<AttrValue>,
    /// Returns whether the text was accepted (the composer clears only then).
    pub on_send: Callback<String, bool>,
    pub on_close: Callback<()>,
    pub on_typing: Callback<bool>,
    pub on_discard: Callback<ClientMsgId>,
    /// Files picked, pasted or dropped.
    #[prop_or_default]
    pub on_files: Callback<Vec<web_sys::File>>,
    #[prop_or_default]
    pub on_cancel_upload: Callback<ClientMsgId>,
    /// Once the visitor got a broadcast: whether they muted them (the control shows).
    #[prop_or_default]
    pub muted: Option<bool>,
    #[prop_or_default]
    pub on_mute: Callback<bool>,
    /// A broadcast's reply button pressed: its label.
    #[prop_or_default]
    pub on_reply: Callback<String>,
    /// Nobody is online and the site answers by email: the address the visitor left, or
    /// `Some("")` to ask for one.
    #[prop_or_default]
    pub away: Option<AttrValue>,
    #[prop_or_default]
    pub on_away_email: Callback<String>,
    /// Said instead of the usual reply time while nobody can answer soon (closed, or nobody
    /// online).
    #[prop_or_default]
    pub unavailable: Option<AttrValue>,
    /// The site's questions before the first message: shown in place of the composer.
    #[prop_or_default]
    pub prechat: Option<AttrValue>,
    #[prop_or_default]
    pub on_prechat: Callback<Traits>,
    /// Offer browser notifications of answers (the site has them on, the visitor wrote, and
    /// the browser has not asked them yet).
    #[prop_or_default]
    pub notify: bool,
    #[prop_or_default]
    pub on_notify: Callback<()>,
}

fn status_text(status: Status) -> Text {
    match status {
        Status::Idle | Status::Online => Text::StatusOnline,
        Status::Connecting => Text::StatusConnecting,
        Status::Offline => Text::StatusOffline,
    }
}

/// A line under the conversation with one button after its text.
fn announce(class: &'static str, text: String, label: &str, onclick: Callback<MouseEvent>) -> Html {
    html! {
        <p {class}>{ text }<button type="button" class="link" {onclick}>{ label }</button></p>
    }
}

/// The whole panel: header, conversation log, composer.
#[function_component]
pub fn ChatView(props: &ChatViewProps) -> Html {
    let tx = current();
    let s = &props.snapshot;
    let on_close = props.on_close.reform(|_: MouseEvent| ());
    let onkeydown = {
        let on_close = props.on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                on_close.emit(());
            }
        })
    };
    let offline = matches!(s.status, Status::Offline | Status::Connecting);
    let away_input = use_node_ref();
    let on_away_submit = {
        let (input, on_email) = (away_input.clone(), props.on_away_email.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(i) = input.cast::<web_sys::HtmlInputElement>() {
                on_email.emit(i.value());
            }
        })
    };
    html! {
        <section class="panel" aria-label={tx.f(Text::ChatWith, &[("name", &props.config.name)])} {onkeydown}>
            <header class="head">
                <div class="who">
                    <h1 class="name">{ &props.config.name }</h1>
                    <p class={classes!("status", offline.then_some("offline"))} role="status">{
                        match (&props.unavailable, s.status) {
                            (Some(note), Status::Idle | Status::Online) => note.to_string(),
                            _ => tx.t(status_text(s.status)).to_owned(),
                        }
                    }</p>
                </div>
                <button type="button" class="close" aria-label={tx.t(Text::CloseChat).to_owned()} onclick={on_close}>{ icons::close() }</button>
            </header>
            <MessageList
                greeting={props.greeting.clone()}
                transcript={s.transcript.clone()}
                on_discard={props.on_discard.clone()}
                uploads={s.uploads.clone()}
                on_cancel_upload={props.on_cancel_upload.clone()}
                on_files={props.on_files.clone()}
                visible={s.open}
                on_reply={Some(props.on_reply.clone())}
            />
            if let Some(muted) = props.muted {
                { announce("announce", tx.t(if muted { Text::AnnouncementsMuted } else { Text::AnnouncementsOn }).into(),
                    tx.t(if muted { Text::Unmute } else { Text::Mute }), props.on_mute.reform(move |_| !muted)) }
            }
            if props.notify {
                { announce("announce notify", tx.t(Text::NotifyAsk).into(), tx.t(Text::NotifyMe), props.on_notify.reform(|_| ())) }
            }
            if let Some(left) = props.away.as_deref().filter(|e| !e.is_empty()) {
                { announce("announce", tx.f(Text::AwayLeft, &[("email", left)]), tx.t(Text::Change),
                    props.on_away_email.reform(|_| String::new())) }
            } else if props.away.is_some() {
                // The browser checks the shape (the pattern asks for a dot in the domain, as the
                // edge does): nothing malformed is sent.
                <form class="announce away" onsubmit={on_away_submit}>
                    <label for="away-email">{ tx.t(Text::AwayAsk) }</label>
                    <input id="away-email" ref={away_input} type="email" required=true autocomplete="email"
                        pattern={EMAIL_INPUT_PATTERN} placeholder="you@example.com" />
                    <button type="submit" class="cta">{ tx.t(Text::NotifyMe) }</button>
                </form>
            }
            if let Some(notice) = &s.notice {
                <p class="notice" role="alert">{ notice }</p>
            }
            if let Some(form) = &props.prechat {
                { prechat::view(form, &props.on_prechat) }
            } else {
                <Composer on_send={props.on_send.clone()} on_typing={props.on_typing.clone()} focus={s.open}
                    on_files={props.on_files.clone()} />
            }
        </section>
    }
}
