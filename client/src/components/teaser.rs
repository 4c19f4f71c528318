//! A proactive message beside the launcher: who it is from, the text, an optional image and
//! call-to-action buttons, "Reply" and "Dismiss". Announced politely to screen readers,
//! reachable by keyboard (every action is a button; Escape dismisses). The inbox renders the
//! same component as the rule preview.

use super::icons;
use beckon_shared::i18n::Text;
use beckon_shared::rules::{CtaAction, CtaButton};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TeaserProps {
    pub from: AttrValue,
    pub text: AttrValue,
    #[prop_or_default]
    pub image_url: Option<AttrValue>,
    #[prop_or_default]
    pub buttons: Vec<CtaButton>,
    /// Open the chat (the card or "Reply").
    pub on_open: Callback<()>,
    pub on_dismiss: Callback<()>,
    /// A call-to-action button, by index.
    pub on_button: Callback<usize>,
}

#[function_component]
pub fn Teaser(props: &TeaserProps) -> Html {
    let tx = crate::i18n::current();
    let onkeydown = {
        let dismiss = props.on_dismiss.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                dismiss.emit(());
            }
        })
    };
    let open = props.on_open.reform(|_: MouseEvent| ());
    let dismiss = props.on_dismiss.reform(|_: MouseEvent| ());
    let has_reply_button = props.buttons.iter().any(|b| b.action == CtaAction::Reply);
    html! {
        <aside id="teaser" class="teaser" aria-label={tx.f(Text::MessageFrom, &[("name", &props.from)])} {onkeydown}>
            <button type="button" class="teaser-dismiss" aria-label={tx.t(Text::Dismiss).to_owned()} onclick={dismiss}>{ icons::close() }</button>
            <div class="teaser-body" role="status" aria-live="polite" aria-atomic="true" onclick={open.clone()}>
                <p class="teaser-from">{ &props.from }</p>
                <p class="teaser-text" dir="auto">{ &props.text }</p>
            </div>
            if let Some(src) = &props.image_url {
                <img class="teaser-image" src={src.clone()} alt="" />
            }
            <div class="teaser-actions">
                { for props.buttons.iter().enumerate().map(|(i, b)| {
                    let onclick = props.on_button.reform(move |_: MouseEvent| i);
                    html! { <button type="button" class="teaser-cta" {onclick}>{ &b.label }</button> }
                }) }
                if !has_reply_button {
                    <button type="button" class="teaser-reply" onclick={open}>{ tx.t(Text::Reply) }</button>
                }
            </div>
        </aside>
    }
}
