//! The small "write first" form the business uses to start a conversation — with a visitor who
//! is online now, or with a known contact on their own channel. The caller sends; the form
//! only collects a non-empty message; [`start`] runs the call.

use beckon_client::api::CallError;
use beckon_shared::ConversationId;
use std::future::Future;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

/// What a page with one [`WriteFirst`] form per row keeps: which row's form is open, the
/// last error, whether a call is running, and the callbacks the form and [`start`] need.
pub struct Forms<K: 'static> {
    pub writing_to: UseStateHandle<Option<K>>,
    pub error: UseStateHandle<Option<String>>,
    pub busy: UseStateHandle<bool>,
    pub on_invalid: Callback<String>,
    /// Closes the form and hands the new conversation to `on_started`.
    pub started: Callback<ConversationId>,
}

#[hook]
pub fn use_forms<K: 'static>(on_started: Callback<ConversationId>) -> Forms<K> {
    let writing_to = use_state(|| None::<K>);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let on_invalid = {
        let error = error.clone();
        Callback::from(move |m| error.set(Some(m)))
    };
    let started = {
        let writing_to = writing_to.clone();
        Callback::from(move |c| {
            writing_to.set(None);
            on_started.emit(c);
        })
    };
    Forms {
        writing_to,
        error,
        busy,
        on_invalid,
        started,
    }
}

/// Runs the call a form's message starts: `busy` while it runs; then either `started` with
/// the new conversation (the error cleared) or the failure shown in `error`.
pub fn start<F>(
    call: F,
    busy: UseStateHandle<bool>,
    error: UseStateHandle<Option<String>>,
    started: Callback<ConversationId>,
) where
    F: Future<Output = Result<ConversationId, CallError>> + 'static,
{
    busy.set(true);
    wasm_bindgen_futures::spawn_local(async move {
        match call.await {
            Ok(conversation) => {
                error.set(None);
                started.emit(conversation);
            }
            Err(f) => error.set(Some(f.describe())),
        }
        busy.set(false);
    });
}

#[derive(Properties, PartialEq)]
pub struct WriteFirstProps {
    /// Unique per form on the page (ties the label to the field).
    pub id: AttrValue,
    pub placeholder: AttrValue,
    pub busy: bool,
    /// Shown on the submit button.
    #[prop_or(AttrValue::Static("Send"))]
    pub action: AttrValue,
    pub on_send: Callback<String>,
    /// Called with a message when the form refuses to send.
    pub on_invalid: Callback<String>,
}

#[function_component]
pub fn WriteFirst(props: &WriteFirstProps) -> Html {
    let text = use_node_ref();
    let onsubmit = {
        let (text, on_send, on_invalid) = (
            text.clone(),
            props.on_send.clone(),
            props.on_invalid.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = text
                .cast::<HtmlTextAreaElement>()
                .map(|t| t.value())
                .unwrap_or_default();
            if body.trim().is_empty() {
                on_invalid.emit("Write a message first.".into());
            } else {
                on_send.emit(body);
            }
        })
    };
    let field = format!("write-{}", props.id);
    html! {
        <form class="reach-out" {onsubmit}>
            <label for={field.clone()}>{ "Message" }</label>
            <textarea id={field} ref={text} rows="2" placeholder={props.placeholder.clone()} />
            <button type="submit" disabled={props.busy}>{ props.action.clone() }</button>
        </form>
    }
}
