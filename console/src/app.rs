//! The root: signed out → [`SignIn`]; signed in → [`Inbox`]. The admin key lives in
//! sessionStorage (gone when the tab closes).

use crate::inbox::Inbox;
use crate::sign_in::SignIn;
use yew::prelude::*;

const KEY_SLOT: &str = "beckon:admin-key";
const NAME_SLOT: &str = "beckon:agent-name";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

#[function_component]
pub fn App() -> Html {
    let slot = |name| session_storage().and_then(|s| s.get_item(name).ok().flatten());
    let key = use_state(|| slot(KEY_SLOT));
    let name = use_state(|| slot(NAME_SLOT).unwrap_or_else(|| "Support".into()));
    let on_sign_in = {
        let (key, name) = (key.clone(), name.clone());
        Callback::from(move |(k, n): (String, String)| {
            if let Some(s) = session_storage() {
                let _ = s.set_item(KEY_SLOT, &k);
                let _ = s.set_item(NAME_SLOT, &n);
            }
            key.set(Some(k));
            name.set(n);
        })
    };
    let on_sign_out = {
        let key = key.clone();
        Callback::from(move |_| {
            if let Some(s) = session_storage() {
                let _ = s.remove_item(KEY_SLOT);
            }
            key.set(None);
        })
    };
    match &*key {
        Some(k) => html! {
            <Inbox admin_key={AttrValue::from(k.clone())} agent_name={AttrValue::from((*name).clone())} {on_sign_out} />
        },
        None => html! { <SignIn {on_sign_in} /> },
    }
}
