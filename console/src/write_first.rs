//! The small "write first" form the business uses to start a conversation — with a visitor who
//! is online now, or with a known contact on their own channel. The caller sends; the form
//! only collects a non-empty message.

use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

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
