//! One way to read JSON into a type: parse to a [`serde_json::Value`], then read the type
//! from it. Every type read this way shares the one JSON parser instead of getting its own
//! copy of it inlined (what `serde_json::from_str::<T>` does per `T`) — in the browser apps,
//! where every byte of wasm is downloaded, that is most of the cost of a type.

use serde::de::DeserializeOwned;

/// `text` as a `T`.
pub fn read<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_value(serde_json::from_str::<serde_json::Value>(text)?)
}
