//! One way to read JSON into a type: parse to a [`serde_json::Value`] ([`parse`]), then read
//! the type from it. Every type read this way shares the one JSON parser instead of getting
//! its own copy of it inlined (what `serde_json::from_str::<T>` does per `T`) — in the browser
//! apps, where every byte of wasm is downloaded, that is most of the cost of a type. There the
//! parser is the browser's own (`JSON.parse`, copied out by [`from_js`]), so the apps carry
//! none.
//!
//! The reading from the `Value` is [`from_value`]'s, not `serde_json::from_value`: the same but
//! for one thing — a struct is read from a JSON object only. serde's derive also reads a struct
//! from an array of its fields in order, and `serde_json`'s `Value` offers it; that is a second
//! reader of every struct (a sixth of the chat app's serde code) for a form no Beckon peer
//! writes.
//!
//! The browser apps read with [`decode`] and [`FromJson`] instead: `#[derive(FromJson)]`
//! (`shared/derive`) reads a type by its serde attributes as straight-line code — each field
//! taken from the object by name — where serde's derive makes a field enum, a visitor with a
//! loop and a slot per field, and error paths, for every type. The two read the same
//! (`tests/from_json.rs` compares them on samples of the types the apps read, each changed in
//! every field and list: taken away, null, of another type, beside an unknown one); the edge keeps serde's, with its messages.
//! A type whose serde attributes the derive does not read implements `FromJson` by hand, or
//! through serde ([`serde_reads!`](crate::serde_reads)).
//!
//! With the feature `quiet` (the wasm builds of the chat app and the inbox) a read that fails
//! says only that it failed ([`Invalid`]): serde's messages ("invalid type: …, expected struct
//! Rule") are formatted as the error is made, so every type would carry its description and
//! the formatting for reads whose reason the app never shows ([`error`] there never makes
//! one). Everywhere else (the edge, tests, the inbox's pages, whose rules editor says why a
//! rule does not read) the error is `serde_json`'s, with its message: serde's own, or
//! `FromJson`'s (`when: percent: expected a whole number from 0 to 255`).

pub use beckon_shared_derive::FromJson;
use serde::de::value::StringDeserializer;
use serde::de::{
    DeserializeOwned, DeserializeSeed, EnumAccess, Error as _, IntoDeserializer, MapAccess,
    SeqAccess, Unexpected, VariantAccess, Visitor,
};
#[cfg(not(feature = "quiet"))]
pub use serde_json::Error;
pub use serde_json::{Map, Value};
#[cfg(feature = "quiet")]
pub use Invalid as Error;

/// A read error under `quiet`: the JSON does not fit the type (see the module docs).
#[derive(Debug)]
pub struct Invalid;

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the JSON does not fit")
    }
}

impl std::error::Error for Invalid {}

/// Every error is made without its message: serde's default ways would build the message's
/// arguments first (`Unexpected`, every type's `expecting`, the float formatting they need),
/// which keeps all of them in the app's wasm even though `custom` drops them.
impl serde::de::Error for Invalid {
    fn custom<T: std::fmt::Display>(_: T) -> Invalid {
        Invalid
    }

    fn invalid_type(_: Unexpected, _: &dyn serde::de::Expected) -> Invalid {
        Invalid
    }

    fn invalid_value(_: Unexpected, _: &dyn serde::de::Expected) -> Invalid {
        Invalid
    }

    fn invalid_length(_: usize, _: &dyn serde::de::Expected) -> Invalid {
        Invalid
    }

    fn unknown_variant(_: &str, _: &'static [&'static str]) -> Invalid {
        Invalid
    }

    fn unknown_field(_: &str, _: &'static [&'static str]) -> Invalid {
        Invalid
    }

    fn missing_field(_: &'static str) -> Invalid {
        Invalid
    }

    fn duplicate_field(_: &'static str) -> Invalid {
        Invalid
    }
}

impl From<serde_json::Error> for Invalid {
    fn from(_: serde_json::Error) -> Invalid {
        Invalid
    }
}

/// `text` as a `T`.
pub fn read<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    from_value(parse(text)?)
}

/// `text` as a JSON [`Value`].
///
/// In a browser app (wasm without the `worker` feature) the browser's own parser reads it
/// (`JSON.parse`) and [`from_js`] copies the result out: the app then carries no JSON parser of
/// its own (serde_json's, with its tables for reading decimals, is ~14 KB of wasm). Numbers are
/// the browser's: a whole number beyond 2^53 reads as a float (so not as an integer field),
/// and `2.0` or `1e3` as integers (no Beckon field holds such numbers). Deeper than
/// [`DEPTH`] levels reads as an error, as serde_json's limit makes it.
pub fn parse(text: &str) -> Result<Value, Error> {
    #[cfg(all(target_arch = "wasm32", not(feature = "worker")))]
    {
        let value = js_sys::JSON::parse(text).map_err(syntax_error)?;
        walk(&value, DEPTH).ok_or_else(|| Error::custom("nested too deeply"))
    }
    #[cfg(not(all(target_arch = "wasm32", not(feature = "worker"))))]
    {
        // (`?` converts to `Invalid` under `quiet`.)
        #[allow(clippy::needless_question_mark)]
        Ok(serde_json::from_str(text)?)
    }
}

/// What `JSON.parse` threw, as our error (its message only where errors have one).
#[cfg(all(target_arch = "wasm32", not(feature = "worker")))]
fn syntax_error(_thrown: wasm_bindgen::JsValue) -> Error {
    #[cfg(feature = "quiet")]
    {
        Invalid
    }
    #[cfg(not(feature = "quiet"))]
    {
        use wasm_bindgen::JsCast;
        Error::custom(String::from(
            _thrown.unchecked_into::<js_sys::Error>().message(),
        ))
    }
}

/// How deep a JSON value may nest (serde_json's own limit).
pub const DEPTH: usize = 128;

/// A JS value (what `JSON.parse` gives) as a JSON [`Value`], as `JSON.stringify` would write
/// it: an object's `undefined` and function members left out, other values JSON has no word
/// for as `null`; a number is an integer when it is a whole one. Deeper than [`DEPTH`] levels
/// (or a value that contains itself, which `JSON.parse` never gives) reads as `null`.
pub fn from_js(v: &wasm_bindgen::JsValue) -> Value {
    walk(v, DEPTH).unwrap_or(Value::Null)
}

/// [`from_js`], `None` when deeper than `depth`.
fn walk(v: &wasm_bindgen::JsValue, depth: usize) -> Option<Value> {
    use js_sys::{Array, Object};
    use wasm_bindgen::JsCast;
    let depth = depth.checked_sub(1)?;
    Some(if let Some(s) = v.as_string() {
        Value::String(s)
    } else if let Some(n) = v.as_f64() {
        const EXACT: f64 = 9_007_199_254_740_992.0;
        if n.fract() == 0.0 && n.abs() <= EXACT {
            if n < 0.0 {
                Value::from(n as i64)
            } else {
                Value::from(n as u64)
            }
        } else {
            serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
        }
    } else if let Some(b) = v.as_bool() {
        Value::Bool(b)
    } else if Array::is_array(v) {
        let mut list = Vec::new();
        for e in v.unchecked_ref::<Array>().iter() {
            list.push(walk(&e, depth)?);
        }
        Value::Array(list)
    } else if v.is_object() && !v.is_function() {
        // Inserted one by one: collecting would sort the entries first (more code in the app).
        let mut object = Map::new();
        for entry in Object::entries(v.unchecked_ref()).iter() {
            let entry = entry.unchecked_into::<Array>();
            let value = entry.get(1);
            if !value.is_undefined() && !value.is_function() {
                object.insert(
                    entry.get(0).as_string().unwrap_or_default(),
                    walk(&value, depth)?,
                );
            }
        }
        Value::Object(object)
    } else {
        Value::Null
    })
}

/// `value` as JSON text. In the browser apps this, not a `Value`'s `to_string`, writes JSON:
/// `Display` is a second JSON writer (with a pretty one for `{:#}`) in their wasm.
pub fn text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// `value` as a `T` (structs from objects only).
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, Error> {
    T::deserialize(Objects(value))
}

/// A `Value` read as serde_json's own `Value` deserializer does, structs from objects only.
struct Objects(Value);

fn unexpected(v: &Value) -> Unexpected<'_> {
    match v {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(_) => Unexpected::Other("number"),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl<'de> serde::Deserializer<'de> for Objects {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => v.visit_unit(),
            Value::Bool(b) => v.visit_bool(b),
            // As `Number`'s own deserializer does, with our error.
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => v.visit_u64(u),
                (None, Some(i)) => v.visit_i64(i),
                _ => v.visit_f64(n.as_f64().unwrap_or_default()),
            },
            Value::String(s) => v.visit_string(s),
            // As serde_json's: every item read (a fixed-size array's reader stops at its size).
            Value::Array(a) => {
                let len = a.len();
                let mut items = Elements(a.into_iter());
                let read = v.visit_seq(&mut items)?;
                match items.0.len() {
                    0 => Ok(read),
                    _ => Err(Error::invalid_length(len, &"fewer items")),
                }
            }
            Value::Object(m) => v.visit_map(Fields::new(m)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(m) => v.visit_map(Fields::new(m)),
            other => Err(Error::invalid_type(unexpected(&other), &v)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(s) => v.visit_enum(IntoDeserializer::<Error>::into_deserializer(s)),
            Value::Object(m) if m.len() == 1 => {
                let (variant, value) = m.into_iter().next().expect("one entry");
                v.visit_enum(Variant { variant, value })
            }
            other => Err(Error::invalid_type(unexpected(&other), &"an enum")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct identifier
    }
}

struct Elements(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Elements {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Objects(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Fields {
    entries: <Map<String, Value> as IntoIterator>::IntoIter,
    value: Option<Value>,
}

impl Fields {
    fn new(m: Map<String, Value>) -> Fields {
        Fields {
            entries: m.into_iter(),
            value: None,
        }
    }
}

impl<'de> MapAccess<'de> for Fields {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((k, v)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(v);
        let key: StringDeserializer<Error> = k.into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| Error::custom("a value before its key"))?;
        seed.deserialize(Objects(value))
    }
}

/// `{"variant": value}` of an externally tagged enum.
struct Variant {
    variant: String,
    value: Value,
}

impl<'de> EnumAccess<'de> for Variant {
    type Error = Error;
    type Variant = Objects;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Objects), Error> {
        let name: StringDeserializer<Error> = self.variant.into_deserializer();
        Ok((seed.deserialize(name)?, Objects(self.value)))
    }
}

impl<'de> VariantAccess<'de> for Objects {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.0 {
            Value::Null => Ok(()),
            other => Err(Error::invalid_type(unexpected(&other), &"a unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, Error> {
        serde::Deserializer::deserialize_seq(self, v)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        serde::Deserializer::deserialize_map(self, v)
    }
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
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, PartialEq, Deserialize, crate::json::FromJson)]
    struct Point {
        x: i32,
        #[serde(default)]
        label: Option<String>,
    }

    #[derive(Debug, PartialEq, Deserialize, crate::json::FromJson)]
    #[serde(rename_all = "snake_case")]
    enum Shape {
        Dot,
        Line(Vec<Point>),
        Box { corner: Point, side: f64 },
    }

    #[test]
    fn structs_and_enums_read_as_serde_json_reads_them_but_structs_only_from_objects() {
        let read = |v: serde_json::Value| super::from_value::<Vec<Shape>>(v);
        assert_eq!(
            read(json!(["dot", {"line": [{"x": -1}, {"x": 2, "label": "b"}]},
                        {"box": {"corner": {"x": 0, "label": null}, "side": 2}}]))
            .unwrap(),
            [
                Shape::Dot,
                Shape::Line(vec![
                    Point { x: -1, label: None },
                    Point {
                        x: 2,
                        label: Some("b".into())
                    }
                ]),
                Shape::Box {
                    corner: Point { x: 0, label: None },
                    side: 2.0
                }
            ]
        );
        // What serde_json would also take, a struct as an array of its fields, is refused.
        assert!(serde_json::from_value::<Point>(json!([1, "a"])).is_ok());
        let err = super::from_value::<Point>(json!([1, "a"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid type: sequence"), "{err}");
        // The same messages as serde_json's for the rest.
        for bad in [json!({"x": "1"}), json!({"label": "a"}), json!({"x": 1.5})] {
            assert_eq!(
                super::from_value::<Point>(bad.clone())
                    .unwrap_err()
                    .to_string(),
                serde_json::from_value::<Point>(bad)
                    .unwrap_err()
                    .to_string()
            );
        }
        assert!(super::from_value::<Shape>(json!("hexagon")).is_err());
        assert!(super::from_value::<Shape>(json!({"dot": null})).is_ok());
        assert_eq!(super::from_value::<u64>(json!(3)).unwrap(), 3);
        assert!(super::from_value::<u8>(json!(300)).is_err());
    }

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

/// A type the browser apps read from a JSON [`Value`] (see the module docs): derived with
/// `#[derive(FromJson)]` by the type's serde attributes, by hand where those cannot say it.
pub trait FromJson: Sized {
    fn from_json(v: Value) -> Result<Self, Error>;

    /// What a field that is not there reads as, where it has no default: an error, but for
    /// `Option` (`None`), as serde's derive does.
    fn absent() -> Result<Self, Error> {
        Err(error(|| "missing".into()))
    }
}

/// `text` as a `T`, read by [`FromJson`].
pub fn decode<T: FromJson>(text: &str) -> Result<T, Error> {
    T::from_json(parse(text)?)
}

/// An error saying `why`, where errors have a message: under `quiet` it is never made (nor the
/// code that makes it kept).
pub fn error(why: impl FnOnce() -> String) -> Error {
    #[cfg(feature = "quiet")]
    {
        let _ = why;
        Invalid
    }
    #[cfg(not(feature = "quiet"))]
    {
        Error::custom(why())
    }
}

/// `expected …, found <what v is>`.
pub fn expected(what: &'static str, v: &Value) -> Error {
    error(|| {
        let found = match v {
            Value::Null => "null",
            Value::Bool(_) => "true or false",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "a list",
            Value::Object(_) => "an object",
        };
        format!("expected {what}, found {found}")
    })
}

/// `unknown <what> "name", expected one of …` (for the derive).
#[doc(hidden)]
pub fn unknown(what: &'static str, name: &str, known: &[&str]) -> Error {
    error(|| {
        format!(
            "unknown {what} \"{name}\", expected one of: {}",
            known.join(", ")
        )
    })
}

/// An object being read field by field (for the derive). A field read is taken out, left as
/// `null` in place (a map's removal would bring its rebalancing code into the apps), and
/// counted: what is left over is what the type does not know.
#[doc(hidden)]
pub struct Object {
    map: Map<String, Value>,
    taken: usize,
    #[cfg(not(feature = "quiet"))]
    names: Vec<String>,
}

impl Object {
    /// Field `key`'s value, taken out.
    pub fn take(&mut self, key: &str) -> Option<Value> {
        let v = self.map.get_mut(key)?;
        self.taken += 1;
        #[cfg(not(feature = "quiet"))]
        self.names.push(key.to_owned());
        Some(v.take())
    }
}

/// An object's fields, to read (for the derive).
#[doc(hidden)]
pub fn object(v: Value) -> Result<Object, Error> {
    match v {
        Value::Object(map) => Ok(Object {
            map,
            taken: 0,
            #[cfg(not(feature = "quiet"))]
            names: Vec::new(),
        }),
        v => Err(expected("an object", &v)),
    }
}

/// `e` as met at `at` (`at: …`), where errors have a message.
fn within(e: Error, at: impl FnOnce() -> String) -> Error {
    #[cfg(feature = "quiet")]
    {
        let _ = at;
        e
    }
    #[cfg(not(feature = "quiet"))]
    {
        Error::custom(format!("{}: {e}", at()))
    }
}

/// Field `key` of `m` (for the derive).
#[doc(hidden)]
pub fn field<T: FromJson>(m: &mut Object, key: &str) -> Result<T, Error> {
    match m.take(key) {
        Some(v) => T::from_json(v),
        None => T::absent(),
    }
    .map_err(|e| within(e, || key.to_owned()))
}

/// Field `key` of `m`, `default()` if it is not there (for the derive).
#[doc(hidden)]
pub fn field_or<T: FromJson>(m: &mut Object, key: &str, default: fn() -> T) -> Result<T, Error> {
    match m.take(key) {
        Some(v) => read_field(v, key),
        None => Ok(default()),
    }
}

/// Field `key`'s value `v` read (for the derive, where the container gives the default).
#[doc(hidden)]
pub fn read_field<T: FromJson>(v: Value, key: &str) -> Result<T, Error> {
    T::from_json(v).map_err(|e| within(e, || key.to_owned()))
}

/// An error if `m` has fields the type does not know (`deny_unknown_fields`; for the derive).
#[doc(hidden)]
pub fn no_more(m: &Object) -> Result<(), Error> {
    if m.map.len() == m.taken {
        return Ok(());
    }
    Err(error(|| {
        #[cfg(not(feature = "quiet"))]
        let unknown = m.map.keys().find(|k| !m.names.contains(k));
        #[cfg(feature = "quiet")]
        let unknown: Option<&String> = None;
        format!("unknown field \"{}\"", unknown.map_or("", |k| k.as_str()))
    }))
}

/// An internally tagged enum's tag, taken from `m` (for the derive).
#[doc(hidden)]
pub fn tag(m: &mut Object, tag: &'static str) -> Result<String, Error> {
    match m.take(tag) {
        Some(Value::String(s)) => Ok(s),
        Some(v) => Err(within(expected("a string", &v), || tag.to_owned())),
        None => Err(error(|| format!("missing field `{tag}`"))),
    }
}

/// An externally tagged enum's variant name and what it holds: `"name"` or `{"name": …}`.
#[doc(hidden)]
pub fn variant(v: Value) -> Result<(String, Option<Value>), Error> {
    match v {
        Value::String(s) => Ok((s, None)),
        Value::Object(m) if m.len() == 1 => {
            let (k, v) = m.into_iter().next().expect("one entry");
            Ok((k, Some(v)))
        }
        v => Err(expected("a name or an object with one field", &v)),
    }
}

/// A unit variant's content: none, or `null`.
#[doc(hidden)]
pub fn unit(inner: Option<Value>) -> Result<(), Error> {
    match inner {
        None | Some(Value::Null) => Ok(()),
        Some(v) => Err(expected("nothing", &v)),
    }
}

/// A newtype or struct variant's content, which must be there.
#[doc(hidden)]
pub fn inner(inner: Option<Value>) -> Result<Value, Error> {
    inner.ok_or_else(|| error(|| "expected an object with the variant's fields".into()))
}

impl FromJson for Value {
    fn from_json(v: Value) -> Result<Value, Error> {
        Ok(v)
    }
}

impl FromJson for Map<String, Value> {
    fn from_json(v: Value) -> Result<Self, Error> {
        match v {
            Value::Object(m) => Ok(m),
            v => Err(expected("an object", &v)),
        }
    }
}

impl FromJson for String {
    fn from_json(v: Value) -> Result<String, Error> {
        match v {
            Value::String(s) => Ok(s),
            v => Err(expected("a string", &v)),
        }
    }
}

impl FromJson for bool {
    fn from_json(v: Value) -> Result<bool, Error> {
        v.as_bool().ok_or_else(|| expected("true or false", &v))
    }
}

/// Integers as serde reads them: a whole number in range (not `2.0`, which `parse` in the
/// browser already gives as `2`).
macro_rules! integers {
    ($($t:ty),*) => {$(
        impl FromJson for $t {
            fn from_json(v: Value) -> Result<$t, Error> {
                let n = match &v {
                    Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                        (Some(u), _) => <$t>::try_from(u).ok(),
                        (None, Some(i)) => <$t>::try_from(i).ok(),
                        _ => None,
                    },
                    _ => None,
                };
                n.ok_or_else(|| {
                    error(|| format!("expected a whole number from {} to {}", <$t>::MIN, <$t>::MAX))
                })
            }
        }
    )*};
}
integers!(u8, u16, u32, u64, usize, i8, i16, i32, i64);

impl FromJson for f64 {
    fn from_json(v: Value) -> Result<f64, Error> {
        v.as_f64().ok_or_else(|| expected("a number", &v))
    }
}

impl<T: FromJson> FromJson for Option<T> {
    fn from_json(v: Value) -> Result<Option<T>, Error> {
        match v {
            Value::Null => Ok(None),
            v => T::from_json(v).map(Some),
        }
    }

    fn absent() -> Result<Option<T>, Error> {
        Ok(None)
    }
}

/// A list's items, each read as a `T` (an error names the item's place).
fn items<T: FromJson, C: FromIterator<T>>(v: Value) -> Result<C, Error> {
    match v {
        Value::Array(a) => a
            .into_iter()
            .enumerate()
            .map(|(i, v)| T::from_json(v).map_err(|e| within(e, || i.to_string())))
            .collect(),
        v => Err(expected("a list", &v)),
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(v: Value) -> Result<Vec<T>, Error> {
        items(v)
    }
}

impl<T: FromJson + Ord> FromJson for std::collections::BTreeSet<T> {
    fn from_json(v: Value) -> Result<Self, Error> {
        items(v)
    }
}

impl<K: FromJson + Ord, T: FromJson> FromJson for std::collections::BTreeMap<K, T> {
    fn from_json(v: Value) -> Result<Self, Error> {
        Map::<String, Value>::from_json(v)?
            .into_iter()
            .map(|(k, v)| {
                let value = T::from_json(v).map_err(|e| within(e, || k.clone()))?;
                Ok((K::from_json(Value::String(k))?, value))
            })
            .collect()
    }
}

impl<T: FromJson> FromJson for Box<T> {
    fn from_json(v: Value) -> Result<Box<T>, Error> {
        T::from_json(v).map(Box::new)
    }

    fn absent() -> Result<Box<T>, Error> {
        T::absent().map(Box::new)
    }
}

impl<T: FromJson> FromJson for std::rc::Rc<T> {
    fn from_json(v: Value) -> Result<std::rc::Rc<T>, Error> {
        T::from_json(v).map(std::rc::Rc::new)
    }

    fn absent() -> Result<std::rc::Rc<T>, Error> {
        T::absent().map(std::rc::Rc::new)
    }
}

/// Anything (a tag already read).
impl FromJson for serde::de::IgnoredAny {
    fn from_json(_: Value) -> Result<Self, Error> {
        Ok(serde::de::IgnoredAny)
    }
}

impl<T: FromJson, const N: usize> FromJson for [T; N] {
    fn from_json(v: Value) -> Result<Self, Error> {
        Vec::<T>::from_json(v)?
            .try_into()
            .map_err(|_| error(|| format!("expected a list of {N}")))
    }
}

/// `FromJson` by the types' serde `Deserialize` (through [`from_value`]), for types whose
/// serde attributes the derive does not read (`flatten`, `deserialize_with`, `content`, a
/// `tag` outside `tagged!`, …).
#[macro_export]
macro_rules! serde_reads {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::json::FromJson for $t {
            fn from_json(v: $crate::json::Value) -> Result<$t, $crate::json::Error> {
                $crate::json::from_value(v)
            }
        }
    )*};
}
