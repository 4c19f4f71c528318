//! One way to read JSON into a type: parse to a [`serde_json::Value`], then read the type
//! from it. Every type read this way shares the one JSON parser instead of getting its own
//! copy of it inlined (what `serde_json::from_str::<T>` does per `T`) — in the browser apps,
//! where every byte of wasm is downloaded, that is most of the cost of a type.

use serde::de::DeserializeOwned;

/// `text` as a `T`.
pub fn read<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_value(serde_json::from_str::<serde_json::Value>(text)?)
}

/// A whole number, written `3` or `3.0` (JSON Schema's `integer` allows both), for request
/// fields a generated client may send either way.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    use serde::de::{Deserialize, Error};
    let n = serde_json::Number::deserialize(d)?;
    n.as_u64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(f))
                .map(|f| f as u64)
        })
        .ok_or_else(|| D::Error::custom("expected a whole number"))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Size {
        #[serde(deserialize_with = "super::whole_number")]
        n: u64,
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_fraction_of_zero() {
        let n = |s: &str| super::read::<Size>(s).map(|s| s.n).ok();
        assert_eq!(n(r#"{"n": 3241}"#), Some(3241));
        assert_eq!(n(r#"{"n": 3241.0}"#), Some(3241));
        assert_eq!(n(r#"{"n": 3241.5}"#), None);
        assert_eq!(n(r#"{"n": -1}"#), None);
        assert_eq!(n(r#"{"n": "3"}"#), None);
    }
}
