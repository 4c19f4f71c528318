//! The inbox's keyboard shortcuts, and the list of them (`?`). They act on what is on the
//! page — the list's buttons, the search box, the reply box, the notes — so each keeps working
//! whatever the filters show. Keys typed into a field are the field's (Escape leaves it);
//! while the list is open, only it answers the keyboard.

use std::cell::Cell;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, KeyboardEvent};
use yew::prelude::*;

/// Each shortcut and what it does, as the list shows them.
pub const SHORTCUTS: [(&str, &str); 7] = [
    ("j", "Next conversation"),
    ("k", "Previous conversation"),
    ("/", "Search messages"),
    ("r", "Write a reply"),
    ("n", "Write an internal note"),
    (
        "Esc",
        "Leave the field you are typing in, or close this list",
    ),
    ("?", "Show or hide this list"),
];

thread_local! {
    /// A conversation is being opened from the keyboard: it leaves the focus on the list (so
    /// `j` again goes on) instead of taking it into its reply box.
    static FROM_KEYBOARD: Cell<bool> = const { Cell::new(false) };
}

/// Whether the conversation opening now may take the focus into its reply box: not when it
/// was opened from the keyboard (asked once), nor when it appears while the agent is typing
/// in a field (a filter that brings it back into the list must keep its keys).
pub fn reply_may_take_focus() -> bool {
    let from_keyboard = FROM_KEYBOARD.with(|f| f.replace(false));
    !from_keyboard && !focused().is_some_and(|el| is_field(&el))
}

fn find(css: &str) -> Option<HtmlElement> {
    web_sys::window()?
        .document()?
        .query_selector(css)
        .ok()
        .flatten()?
        .dyn_into()
        .ok()
}

fn focused() -> Option<HtmlElement> {
    web_sys::window()?
        .document()?
        .active_element()?
        .dyn_into()
        .ok()
}

/// Opens the conversation after (`by` 1) or before (-1) the open one.
fn step(by: i32) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(list) = doc.query_selector_all("nav.list button.conv") else {
        return;
    };
    let buttons: Vec<HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into().ok())
        .collect();
    let at = buttons
        .iter()
        .position(|b| b.class_list().contains("active"));
    let next = match at {
        Some(i) => i as i32 + by,
        None if by > 0 => 0,
        None => buttons.len() as i32 - 1,
    };
    if let Some(b) = usize::try_from(next).ok().and_then(|i| buttons.get(i)) {
        FROM_KEYBOARD.with(|f| f.set(true));
        b.click();
        let _ = b.focus();
    }
}

fn is_field(el: &HtmlElement) -> bool {
    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.is_content_editable()
}

fn typing_in_a_field(e: &KeyboardEvent) -> bool {
    e.target()
        .and_then(|t| t.dyn_into::<HtmlElement>().ok())
        .is_some_and(|el| is_field(&el))
}

#[function_component]
pub fn Shortcuts() -> Html {
    let shown = use_state(|| false);
    // What the key handler (made once) reads: the state as of the last render.
    let open_now = use_mut_ref(|| false);
    *open_now.borrow_mut() = *shown;
    // Where the focus was before the list opened: it goes back there.
    let before = use_mut_ref(|| None::<HtmlElement>);
    let close_ref = use_node_ref();
    {
        let (shown, open_now, close_ref) = (shown.clone(), open_now.clone(), close_ref.clone());
        use_effect_with((), move |_| {
            let on_key = Closure::<dyn Fn(KeyboardEvent)>::new(move |e: KeyboardEvent| {
                if e.ctrl_key() || e.meta_key() || e.alt_key() || e.is_composing() {
                    return;
                }
                let key = e.key();
                let open = *open_now.borrow();
                if key == "Escape" {
                    if open {
                        shown.set(false);
                    } else if typing_in_a_field(&e) {
                        if let Some(el) = e.target().and_then(|t| t.dyn_into::<HtmlElement>().ok())
                        {
                            let _ = el.blur();
                        }
                    }
                    return;
                }
                if open {
                    // The list is modal: its one button keeps the focus; `?` closes it.
                    if key == "Tab" {
                        e.prevent_default();
                        if let Some(b) = close_ref.cast::<HtmlElement>() {
                            let _ = b.focus();
                        }
                    } else if key == "?" && !e.repeat() {
                        e.prevent_default();
                        shown.set(false);
                    }
                    return;
                }
                if typing_in_a_field(&e) || e.repeat() && key == "?" {
                    return;
                }
                let acted = match key.as_str() {
                    "?" => {
                        shown.set(true);
                        true
                    }
                    "j" => {
                        step(1);
                        true
                    }
                    "k" => {
                        step(-1);
                        true
                    }
                    "/" => find("input.search").is_some_and(|el| el.focus().is_ok()),
                    "r" => find(".pane textarea[aria-label=Message]")
                        .is_some_and(|el| el.focus().is_ok()),
                    "n" => {
                        if let Some(d) = find(".notes") {
                            let _ = d.set_attribute("open", "");
                        }
                        find("textarea[aria-label='Internal note']")
                            .is_some_and(|el| el.focus().is_ok())
                    }
                    _ => false,
                };
                if acted {
                    e.prevent_default();
                }
            });
            let doc = web_sys::window().and_then(|w| w.document());
            if let Some(d) = &doc {
                let _ =
                    d.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
            }
            move || {
                if let Some(d) = doc {
                    let _ = d.remove_event_listener_with_callback(
                        "keydown",
                        on_key.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }
    {
        let (close_ref, before) = (close_ref.clone(), before.clone());
        use_effect_with(*shown, move |shown| {
            if *shown {
                *before.borrow_mut() = focused();
                if let Some(b) = close_ref.cast::<HtmlElement>() {
                    let _ = b.focus();
                }
            } else if let Some(el) = before.borrow_mut().take() {
                let _ = el.focus();
            }
        });
    }
    let (open, close) = {
        let (a, b) = (shown.clone(), shown.clone());
        (
            Callback::from(move |_: MouseEvent| a.set(true)),
            Callback::from(move |_: MouseEvent| b.set(false)),
        )
    };
    // A click on the backdrop, not on the list, closes it.
    let on_backdrop = {
        let shown = shown.clone();
        Callback::from(move |e: MouseEvent| {
            if e.target() == e.current_target() {
                shown.set(false);
            }
        })
    };
    html! {
        <>
            <button type="button" class="linkish shortcuts-open" aria-keyshortcuts="?" onclick={open}>{ "Shortcuts (?)" }</button>
            if *shown {
                <div class="shortcuts-backdrop" onclick={on_backdrop}>
                    <div class="shortcuts" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title">
                        <h2 id="shortcuts-title">{ "Keyboard shortcuts" }</h2>
                        <dl>
                            { for SHORTCUTS.iter().map(|(k, what)| html! { <><dt><kbd>{ *k }</kbd></dt><dd>{ *what }</dd></> }) }
                        </dl>
                        <button type="button" ref={close_ref} onclick={close}>{ "Close" }</button>
                    </div>
                </div>
            }
        </>
    }
}
