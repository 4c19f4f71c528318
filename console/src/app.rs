//! The root: signed out → [`SignIn`] (or, opened from an invitation link `#invite=…`,
//! [`Accept`]); signed in → [`Inbox`]. The credential lives in sessionStorage (gone when the
//! tab closes): an admin key, or `csrf:<token>` for a person's session (whose cookie the page
//! cannot read); a session still open is picked up again on load.

use crate::inbox::Inbox;
use crate::sign_in::{Accept, SignIn};
use beckon_client::api::{self, SESSION_CREDENTIAL};
use yew::prelude::*;

const KEY_SLOT: &str = "beckon:admin-key";
const NAME_SLOT: &str = "beckon:agent-name";
/// Set (in localStorage, shared by the tabs) while this browser may hold a session cookie:
/// only then is a new tab's session asked for (a signed-out load asks nothing).
const SESSION_HINT: &str = "beckon:session";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn hint(on: bool) {
    if let Some(s) = local_storage() {
        let _ = if on {
            s.set_item(SESSION_HINT, "1")
        } else {
            s.remove_item(SESSION_HINT)
        };
    }
}

/// The invitation token in the page's address (`#invite=…`).
fn invitation() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    hash.strip_prefix("#invite=")
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

#[function_component]
pub fn App() -> Html {
    let slot = |name| session_storage().and_then(|s| s.get_item(name).ok().flatten());
    let key = use_state(|| slot(KEY_SLOT));
    let name = use_state(|| slot(NAME_SLOT).unwrap_or_else(|| "Support".into()));
    // Whether we know yet if a session is open (nothing is shown until then).
    let known = use_state(|| {
        let hinted = local_storage()
            .and_then(|s| s.get_item(SESSION_HINT).ok().flatten())
            .is_some();
        key.is_some() || invitation().is_some() || !hinted
    });
    let on_sign_in = {
        let (key, name) = (key.clone(), name.clone());
        Callback::from(move |(k, n): (String, String)| {
            if let Some(s) = session_storage() {
                let _ = s.set_item(KEY_SLOT, &k);
                let _ = s.set_item(NAME_SLOT, &n);
            }
            hint(k.starts_with(SESSION_CREDENTIAL));
            // The invitation is spent: the address no longer carries it.
            if invitation().is_some() {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().set_hash("");
                }
            }
            key.set(Some(k));
            name.set(n);
        })
    };
    {
        let (known, on_sign_in) = (known.clone(), on_sign_in.clone());
        use_effect_with((), move |_| {
            if !*known {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok((_, text)) =
                        api::call("GET", "/api/v1/admin/session", None, None).await
                    {
                        if let Some(signed_in) = crate::sign_in::session_of(&text) {
                            on_sign_in.emit(signed_in);
                        }
                    } else {
                        hint(false);
                    }
                    known.set(true);
                });
            }
        });
    }
    let on_sign_out = {
        let key = key.clone();
        Callback::from(move |_| {
            if let Some(s) = session_storage() {
                let _ = s.remove_item(KEY_SLOT);
            }
            hint(false);
            // A session ends on the server too (its cookie is cleared there).
            if let Some(k) = (*key).clone().filter(|k| k.starts_with(SESSION_CREDENTIAL)) {
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = api::call("DELETE", "/api/v1/admin/session", Some(&k), None).await;
                });
            }
            key.set(None);
        })
    };
    match (&*key, invitation()) {
        (Some(k), _) => html! {
            <Inbox admin_key={AttrValue::from(k.clone())} agent_name={AttrValue::from((*name).clone())} {on_sign_out} />
        },
        (None, Some(token)) => html! { <Accept token={AttrValue::from(token)} {on_sign_in} /> },
        (None, None) if !*known => html! {},
        (None, None) => html! { <SignIn {on_sign_in} /> },
    }
}
