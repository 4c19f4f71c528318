//! Sign-in form: checks the admin key against the API before keeping it.

use beckon_client::api;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SignInProps {
    /// (admin key, agent display name)
    pub on_sign_in: Callback<(String, String)>,
}

#[function_component]
pub fn SignIn(props: &SignInProps) -> Html {
    let input = use_node_ref();
    let name_input = use_node_ref();
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let onsubmit = {
        let input = input.clone();
        let name_input = name_input.clone();
        let error = error.clone();
        let busy = busy.clone();
        let on_sign_in = props.on_sign_in.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(key) = input
                .cast::<HtmlInputElement>()
                .map(|i| i.value().trim().to_owned())
            else {
                return;
            };
            if key.is_empty() {
                error.set(Some("Enter your admin API key.".into()));
                return;
            }
            let name = name_input
                .cast::<HtmlInputElement>()
                .map(|i| i.value().trim().to_owned())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "Support".into());
            busy.set(true);
            let (error, busy, on_sign_in) = (error.clone(), busy.clone(), on_sign_in.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::list_sites(&key).await {
                    Ok(_) => on_sign_in.emit((key, name)),
                    Err(f) => error.set(Some(f.describe())),
                }
                busy.set(false);
            });
        })
    };
    html! {
        <main class="signin">
            <form class="card" {onsubmit}>
                <h1>{ "Beckon inbox" }</h1>
                <label for="admin-key">{ "Admin API key" }</label>
                <input id="admin-key" ref={input} type="password" autocomplete="current-password" required=true />
                <label for="agent-name">{ "Your name (shown to visitors)" }</label>
                <input id="agent-name" ref={name_input} type="text" value="Support" maxlength="80" />
                if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
                <button type="submit" disabled={*busy}>{ if *busy { "Signing in…" } else { "Sign in" } }</button>
                <p class="hint">{ "make dev puts the key in .dev.vars (ADMIN_API_KEY)." }</p>
            </form>
        </main>
    }
}
