//! Signing in: a person with their email and password (a session cookie), or an admin API
//! key (checked against the API before it is kept); and accepting an invitation (a name and
//! a password, then signed in).

use beckon_client::api::{self, SESSION_CREDENTIAL};
use beckon_shared::proto::v1::MIN_PASSWORD_CHARS;
use serde_json::json;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SignInProps {
    /// (credential, display name): an admin key, or `csrf:<token>` for a session.
    pub on_sign_in: Callback<(String, String)>,
}

fn value(r: &NodeRef) -> String {
    raw(r).trim().to_owned()
}

/// A field as typed (a password keeps its spaces).
fn raw(r: &NodeRef) -> String {
    r.cast::<HtmlInputElement>()
        .map(|i| i.value())
        .unwrap_or_default()
}

/// (credential, name) from a `SessionInfo` answer (read as JSON values: typed reading of the
/// session costs the inbox's download more than it saves).
pub fn session_of(text: &str) -> Option<(String, String)> {
    let v = beckon_shared::json::parse(text).ok()?;
    let csrf = v["csrf_token"].as_str()?;
    let name = v["person"]["name"].as_str().unwrap_or("Support");
    Some((format!("{SESSION_CREDENTIAL}{csrf}"), name.to_owned()))
}

/// Posts `body` to `path` (sign-in, accept); on success signs in with the session it opened.
fn open_session(
    path: &'static str,
    body: serde_json::Value,
    (busy, error): (UseStateHandle<bool>, UseStateHandle<Option<String>>),
    on_sign_in: Callback<(String, String)>,
) {
    busy.set(true);
    wasm_bindgen_futures::spawn_local(async move {
        match api::call("POST", path, None, Some(beckon_shared::json::text(&body))).await {
            Ok((_, text)) => match session_of(&text) {
                Some(signed_in) => on_sign_in.emit(signed_in),
                None => error.set(Some("Unexpected answer from the server.".into())),
            },
            Err(f) => error.set(Some(f.describe())),
        }
        busy.set(false);
    });
}

#[function_component]
pub fn SignIn(props: &SignInProps) -> Html {
    let (email, password) = (use_node_ref(), use_node_ref());
    let input = use_node_ref();
    let name_input = use_node_ref();
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let on_person = {
        let (email, password) = (email.clone(), password.clone());
        let (busy, error, on_sign_in) = (busy.clone(), error.clone(), props.on_sign_in.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = json!({ "email": value(&email), "password": raw(&password) });
            open_session(
                "/api/v1/auth/sign-in",
                body,
                (busy.clone(), error.clone()),
                on_sign_in.clone(),
            );
        })
    };
    let onsubmit = {
        let input = input.clone();
        let name_input = name_input.clone();
        let error = error.clone();
        let busy = busy.clone();
        let on_sign_in = props.on_sign_in.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let key = value(&input);
            if key.is_empty() {
                error.set(Some("Enter your admin API key.".into()));
                return;
            }
            let name = Some(value(&name_input))
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
            <div class="card">
                <h1>{ "Beckon inbox" }</h1>
                <form id="person-form" onsubmit={on_person} aria-label="Sign in with your account">
                    <label for="email">{ "Email" }</label>
                    <input id="email" ref={email} type="email" autocomplete="username" required=true />
                    <label for="password">{ "Password" }</label>
                    <input id="password" ref={password} type="password" autocomplete="current-password" required=true />
                    <button type="submit" disabled={*busy}>{ if *busy { "Signing in…" } else { "Sign in" } }</button>
                </form>
                if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
                <form id="key-form" {onsubmit} aria-label="Sign in with an admin API key">
                    <h2>{ "Or with an admin API key" }</h2>
                    <label for="admin-key">{ "Admin API key" }</label>
                    <input id="admin-key" ref={input} type="password" autocomplete="off" required=true />
                    <label for="agent-name">{ "Your name (shown to visitors)" }</label>
                    <input id="agent-name" ref={name_input} type="text" value="Support" maxlength="80" />
                    <button type="submit" disabled={*busy}>{ "Sign in with the key" }</button>
                    <p class="hint">{ "make dev puts the key in .dev.vars (ADMIN_API_KEY)." }</p>
                </form>
            </div>
        </main>
    }
}

#[derive(Properties, PartialEq)]
pub struct AcceptProps {
    pub token: AttrValue,
    pub on_sign_in: Callback<(String, String)>,
}

/// The invitation link's page: a name and a password, then signed in.
#[function_component]
pub fn Accept(props: &AcceptProps) -> Html {
    let (name, password) = (use_node_ref(), use_node_ref());
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let onsubmit = {
        let (name, password, token) = (name.clone(), password.clone(), props.token.clone());
        let (busy, error, on_sign_in) = (busy.clone(), error.clone(), props.on_sign_in.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = json!({ "token": token.as_str(), "name": value(&name), "password": raw(&password) });
            open_session(
                "/api/v1/auth/accept",
                body,
                (busy.clone(), error.clone()),
                on_sign_in.clone(),
            );
        })
    };
    html! {
        <main class="signin">
            <form class="card" id="accept-form" {onsubmit}>
                <h1>{ "Join the Beckon inbox" }</h1>
                <label for="your-name">{ "Your name (shown to visitors)" }</label>
                <input id="your-name" ref={name} type="text" autocomplete="name" maxlength="80" required=true />
                <label for="new-password">{ format!("Choose a password ({MIN_PASSWORD_CHARS} characters or more)") }</label>
                <input id="new-password" ref={password} type="password" autocomplete="new-password" minlength={MIN_PASSWORD_CHARS.to_string()} maxlength="128" required=true />
                if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
                <button type="submit" disabled={*busy}>{ if *busy { "Joining…" } else { "Join" } }</button>
            </form>
        </main>
    }
}
