//! The message box: Enter sends, Shift+Enter adds a line, typing is reported (throttled),
//! and the length limit is shown before the server would refuse it. Files come in through the
//! "Attach a file" button, a paste (screenshots) or a drop.

use super::files::files_of;
use super::icons;
use beckon_shared::i18n::Text;
use beckon_shared::limits::MAX_MESSAGE_CHARS;
use gloo_timers::callback::Timeout;
use wasm_bindgen::JsCast;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

const TYPING_IDLE_MS: u32 = 3_000;

#[derive(Properties, PartialEq)]
pub struct ComposerProps {
    pub on_send: Callback<String, bool>,
    pub on_typing: Callback<bool>,
    /// Focus the box when this becomes true (the panel opened).
    pub focus: bool,
    /// Files picked, pasted or dropped (no attach button without it).
    #[prop_or_default]
    pub on_files: Option<Callback<Vec<web_sys::File>>>,
}

#[function_component]
pub fn Composer(props: &ComposerProps) -> Html {
    let tx = crate::i18n::current();
    let text = use_state(String::new);
    let input = use_node_ref();
    let typing_timer = use_mut_ref(|| None::<Timeout>);

    {
        let input = input.clone();
        use_effect_with(props.focus, move |focus| {
            if *focus {
                if let Some(el) = input.cast::<HtmlTextAreaElement>() {
                    let _ = el.focus();
                }
            }
        });
    }

    let submit = {
        let text = text.clone();
        let on_send = props.on_send.clone();
        let on_typing = props.on_typing.clone();
        let typing_timer = typing_timer.clone();
        move || {
            if on_send.emit((*text).clone()) {
                text.set(String::new());
                if typing_timer.borrow_mut().take().is_some() {
                    on_typing.emit(false);
                }
            }
        }
    };
    let onsubmit = {
        let submit = submit.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            submit();
        })
    };
    let onkeydown = Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" && !e.shift_key() && !e.is_composing() {
            e.prevent_default();
            submit();
        }
    });
    let oninput = {
        let text = text.clone();
        let on_typing = props.on_typing.clone();
        Callback::from(move |e: InputEvent| {
            let Some(el) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlTextAreaElement>().ok())
            else {
                return;
            };
            text.set(el.value());
            let mut timer = typing_timer.borrow_mut();
            if timer.is_none() {
                on_typing.emit(true);
            }
            let on_typing = on_typing.clone();
            let slot = typing_timer.clone();
            *timer = Some(Timeout::new(TYPING_IDLE_MS, move || {
                slot.borrow_mut().take();
                on_typing.emit(false);
            }));
        })
    };
    let picker = use_node_ref();
    let (attach, onpaste, ondragover, ondrop, onpick) = match &props.on_files {
        Some(cb) => {
            let picker2 = picker.clone();
            let (c1, c2, c3) = (cb.clone(), cb.clone(), cb.clone());
            (
                Some(Callback::from(move |_: MouseEvent| {
                    if let Some(el) = picker2.cast::<web_sys::HtmlElement>() {
                        el.click();
                    }
                })),
                Callback::from(move |e: Event| {
                    let Some(e) = e.dyn_ref::<web_sys::ClipboardEvent>() else {
                        return;
                    };
                    let list = files_of(e.clipboard_data().and_then(|d| d.files()));
                    if !list.is_empty() {
                        e.prevent_default();
                        c1.emit(list);
                    }
                }),
                Callback::from(|e: DragEvent| e.prevent_default()),
                Callback::from(move |e: DragEvent| {
                    e.prevent_default();
                    let list = files_of(e.data_transfer().and_then(|d| d.files()));
                    if !list.is_empty() {
                        c2.emit(list);
                    }
                }),
                Callback::from(move |e: Event| {
                    let Some(input) = e
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                    else {
                        return;
                    };
                    let list = files_of(input.files());
                    input.set_value("");
                    if !list.is_empty() {
                        c3.emit(list);
                    }
                }),
            )
        }
        None => (
            None,
            Callback::noop(),
            Callback::noop(),
            Callback::noop(),
            Callback::noop(),
        ),
    };
    let count = text.chars().count();
    let over = count > MAX_MESSAGE_CHARS;
    let near = count > MAX_MESSAGE_CHARS * 9 / 10;
    html! {
        <form class="composer" {onsubmit} {ondragover} {ondrop}>
            if let Some(onclick) = attach {
                <input ref={picker} type="file" class="picker" multiple=true hidden=true tabindex="-1"
                    accept="image/*,video/mp4,video/webm,video/quicktime,application/pdf,text/plain,text/csv,.doc,.docx,.xls,.xlsx,.ppt,.pptx"
                    onchange={onpick} />
                <button type="button" class="attach" aria-label={tx.t(Text::AttachFile).to_owned()} title={tx.t(Text::AttachFile).to_owned()} {onclick}>{ icons::clip() }</button>
            }
            <textarea ref={input} class="input" rows="1" aria-label={tx.t(Text::MessageLabel).to_owned()} placeholder={tx.t(Text::WriteMessage).to_owned()} dir="auto"
                value={(*text).clone()} {oninput} {onkeydown} {onpaste} aria-invalid={over.to_string()} />
            if near {
                <span class={classes!("count", over.then_some("over"))} aria-live="polite">
                    { format!("{count}/{MAX_MESSAGE_CHARS}") }
                </span>
            }
            <button type="submit" class="send" aria-label={tx.t(Text::Send).to_owned()} disabled={text.trim().is_empty() || over}>{ icons::send() }</button>
        </form>
    }
}
