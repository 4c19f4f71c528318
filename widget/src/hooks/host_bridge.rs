//! Listens to the loader on the host page for as long as `key` stays the same (handlers that
//! depend on the current view are re-registered when it changes).

use crate::bridge::{Bridge, FromHost};
use yew::prelude::*;

#[hook]
pub fn use_host_bridge<K>(bridge: &Bridge, key: K, handler: impl Fn(FromHost) + 'static)
where
    K: PartialEq + 'static,
{
    let bridge = bridge.clone();
    use_effect_with(key, move |_| {
        let listener = bridge.listen(handler);
        move || drop(listener)
    });
}
