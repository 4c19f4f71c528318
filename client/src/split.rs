//! The app's second part (`tools/wasm-split`): the functions a usual session does not run
//! are in a second module, which the glue links once the app has started — or at once, and
//! synchronously, the first time one of them is called. Code that is known to be there and
//! that no usual session runs before it came (the chat app's proactive rules and presence
//! socket) waits for it with [`ready`] or [`linked`] instead, so that it never has the page
//! wait for a synchronous load.

use wasm_bindgen::{JsCast, JsValue};

/// Resolves once the second part is linked, which the glue fetches now if it has not yet; at
/// once in a build without one. An error if it cannot be (gone, or not this build's).
pub async fn ready() -> Result<(), JsValue> {
    wait(true).await
}

/// As [`ready`], but the fetch is not hastened: it starts once the browser is idle, as ever.
pub async fn linked() -> Result<(), JsValue> {
    wait(false).await
}

async fn wait(now: bool) -> Result<(), JsValue> {
    let hook = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("__beckonSplitReady"))?;
    let Some(hook) = hook.dyn_ref::<js_sys::Function>() else {
        return Ok(());
    };
    let linked: js_sys::Promise = hook
        .call1(&JsValue::NULL, &JsValue::from_bool(now))?
        .dyn_into()?;
    wasm_bindgen_futures::JsFuture::from(linked).await.map(drop)
}
