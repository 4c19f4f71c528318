//! Cloudflare Turnstile, for sites that ask visitors to pass it before a conversation starts.
//! The work is in `/widget/challenge.js` (Turnstile is a JS API, and the widget's wasm pays
//! for nothing it does not use): added on each start, never before the first, it loads
//! Turnstile, shows the challenge only if the visitor must interact, and answers with the
//! single-use token as a `beckon-challenge` event on its own element.

use beckon_shared::proto::v1::Challenge;
use js_sys::{Promise, Reflect};
use wasm_bindgen_futures::JsFuture;

/// A token for one start; `Err` with what to tell the visitor.
pub async fn token(c: &Challenge) -> Result<String, String> {
    // What the visitor is told when no token came.
    let fail = || {
        crate::i18n::current()
            .t(beckon_shared::i18n::Text::ChallengeIncomplete)
            .to_owned()
    };
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(fail)?;
    let body = document.body().ok_or_else(fail)?;
    let script = document.create_element("script").map_err(|_| fail())?;
    for (k, v) in [
        ("data-sitekey", c.site_key.as_str()),
        ("data-src", c.script_url.as_str()),
        ("src", "/widget/challenge.js"),
    ] {
        script.set_attribute(k, v).map_err(|_| fail())?;
    }
    let answered = Promise::new(&mut |resolve, reject| {
        let _ = script.add_event_listener_with_callback("beckon-challenge", &resolve);
        let _ = script.add_event_listener_with_callback("error", &reject);
    });
    body.append_child(&script).map_err(|_| fail())?;
    let event = JsFuture::from(answered).await;
    script.remove();
    event
        .ok()
        .and_then(|e| Reflect::get(&e, &"detail".into()).ok())
        .and_then(|t| t.as_string())
        .ok_or_else(fail)
}
