//! One conversation in the inbox: an agent session on it (history, live messages, replies),
//! marked read while it is on screen; who has it, its status and its notes above.

use crate::sidebar::VisitorSidebar;
use crate::work::WorkBar;
use beckon_client::components::{Composer, MessageList};
use beckon_client::session::{Auth, Session, Snapshot, Status};
use beckon_shared::proto::v1::{ConversationSummary, OnlineVisitor, Work};
use beckon_shared::ConversationId;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ConversationPaneProps {
    pub admin_key: AttrValue,
    pub agent_name: AttrValue,
    pub summary: ConversationSummary,
    /// The signed-in person's id (none with an admin key).
    pub me: Option<AttrValue>,
    /// Bumped when the feed tells of a new note on this conversation.
    pub notes_changed: u32,
    /// A change of its work made here (assign, close, snooze).
    pub on_work: Callback<(ConversationId, Work)>,
    /// Who is on the site now (for the sidebar).
    pub online: Rc<Vec<OnlineVisitor>>,
    /// Opens another conversation (one of the visitor's, from the sidebar).
    pub on_open: Callback<ConversationSummary>,
}

#[function_component]
pub fn ConversationPane(props: &ConversationPaneProps) -> Html {
    let snapshot = use_state(|| Rc::new(Snapshot::default()));
    let session = {
        let setter = snapshot.setter();
        let auth = Auth::Agent {
            admin_key: props.admin_key.to_string(),
            name: props.agent_name.to_string(),
            conversation: props.summary.id.clone(),
        };
        use_memo(props.summary.id.clone(), move |_| {
            let s = Session::new(
                auth,
                Callback::from(move |snap| setter.set(snap)),
                Callback::noop(),
            );
            s.set_open(true);
            s
        })
    };
    let on_send = {
        let session = (*session).clone();
        Callback::from(move |text: String| session.send(&text))
    };
    let on_typing = {
        let session = (*session).clone();
        Callback::from(move |active| session.typing(active))
    };
    let on_discard = {
        let session = (*session).clone();
        Callback::from(move |id| session.discard(&id))
    };
    let on_files = {
        let session = (*session).clone();
        Callback::from(move |files| session.attach(files))
    };
    let on_cancel_upload = {
        let session = (*session).clone();
        Callback::from(move |key| session.cancel_upload(&key))
    };
    // Opened from the keyboard (`j`, `k`), the focus stays on the list; shown again while a
    // filter is being typed, it stays in the filter.
    let focus_reply = *use_state(crate::shortcuts::reply_may_take_focus);
    // On narrow screens the sidebar is shown on demand, over the conversation: the focus goes
    // into it, and back to its toggle when it is put away.
    let side_open = use_state(|| false);
    let toggle_ref = use_node_ref();
    let was_open = use_mut_ref(|| false);
    {
        let (toggle_ref, was_open) = (toggle_ref.clone(), was_open.clone());
        use_effect_with(*side_open, move |open| {
            let doc = web_sys::window().and_then(|w| w.document());
            if *open {
                if let Some(el) = doc
                    .and_then(|d| d.query_selector(".visitor-side .side-close").ok().flatten())
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = el.focus();
                }
            } else if *was_open.borrow() {
                if let Some(t) = toggle_ref.cast::<web_sys::HtmlElement>() {
                    let _ = t.focus();
                }
            }
            *was_open.borrow_mut() = *open;
        });
    }
    let toggle_side = {
        let side_open = side_open.clone();
        Callback::from(move |_: MouseEvent| side_open.set(!*side_open))
    };
    let s = &props.summary;
    let status = match snapshot.status {
        Status::Online => "Live",
        Status::Offline => "Offline — reconnecting…",
        _ => "Connecting…",
    };
    html! {
        <div class={classes!("with-side", side_open.then_some("side-open"))}>
        <div class="conversation">
            <header class="conv-head">
                <div class="conv-title">
                    <h2>{ format!("Visitor {}", &s.visitor_id.as_str()[2..8]) }</h2>
                    <button type="button" class="side-toggle" ref={toggle_ref} aria-expanded={side_open.to_string()} aria-controls="visitor-side" onclick={toggle_side}>{ "About the visitor" }</button>
                </div>
                <p class="meta">
                    if let Some(url) = s.page_url.as_ref().filter(|u| beckon_shared::text::is_web_url(u)) { <span>{ "On " }<a href={url.clone()} target="_blank" rel="noopener noreferrer">{ url }</a></span> }
                    <span role="status">{ status }</span>
                </p>
            </header>
            <WorkBar admin_key={props.admin_key.clone()} summary={s.clone()} me={props.me.clone()} notes_changed={props.notes_changed} on_work={props.on_work.clone()} />
            <MessageList transcript={snapshot.transcript.clone()} {on_discard}
                uploads={snapshot.uploads.clone()} {on_cancel_upload} on_files={on_files.clone()} />
            if let Some(n) = &snapshot.notice { <p class="notice" role="alert">{ n }</p> }
            <Composer {on_send} {on_typing} focus={focus_reply} {on_files} />
        </div>
        <VisitorSidebar admin_key={props.admin_key.clone()} summary={s.clone()} online={props.online.clone()} on_open={props.on_open.clone()}
            on_hide={let s = side_open.clone(); Callback::from(move |_| s.set(false))} />
        </div>
    }
}
