//! Internally tagged enums (`{"type": "ack", …}`) that read without serde's buffering.
//!
//! serde's derive reads an internally tagged enum into a generic `Content` tree first (the tag
//! may come last) and then reads the variant again from that tree: a second copy of every
//! variant's deserializer, and of every type inside it — a fifth of the chat app's wasm.
//! [`tagged!`] keeps the wire format and serde's `Serialize`, and reads instead by finding
//! the tag in the object, then reading `{"<tag>": <object>}` as an externally tagged twin of
//! the enum, which serde does in one pass (from the `Value` every read goes through, see
//! [`crate::json`]). The browser apps read it with `FromJson`, derived on the enum itself:
//! the tag taken out of the object, the variant's fields read from the rest.
//!
//! ```text
//! tagged! {
//!     /// Frames the server sends.
//!     #[derive(Clone, Debug, PartialEq, Eq)]
//!     pub enum ServerFrame: tag "type", other Unknown {
//!         "ack" => Ack { seq: Seq },
//!         "pong" => Pong,
//!     }
//! }
//! ```
//!
//! `other X` adds a unit variant `X` for tags this version does not know (serialized as
//! `"unknown"`); without it an unknown tag is an error. A last `#[serde(…)]` (such as
//! `deny_unknown_fields`) applies to the reading.

/// See the [module documentation](self).
#[macro_export]
macro_rules! tagged {
    (
        $(#[$meta:meta])*
        $vis:vis enum $Name:ident : tag $tag:literal $(, other $Other:ident)? $(, #[$twin:meta])? {
            $(
                $(#[$vmeta:meta])*
                $wire:literal => $Var:ident $({
                    $( $(#[$fmeta:meta])* $field:ident : $fty:ty ),* $(,)?
                })?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(serde::Serialize, $crate::json::FromJson)]
        #[serde(tag = $tag)]
        #[json(tagged)]
        $(#[$twin])?
        $vis enum $Name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $wire)]
                $Var $({ $( $(#[$fmeta])* $field: $fty ),* })?,
            )*
            $(
                /// A kind this version does not know (ignored).
                #[serde(rename = "unknown", other)]
                $Other,
            )?
        }

        const _: () = {
            /// The enum externally tagged, each variant accepting the tag among its fields.
            #[derive(serde::Deserialize)]
            $(#[$twin])?
            enum Twin {
                $(
                    #[serde(rename = $wire)]
                    $Var {
                        #[serde(rename = $tag)]
                        _tag: serde::de::IgnoredAny,
                        $($( $(#[$fmeta])* $field: $fty ),*)?
                    },
                )*
            }

            impl From<Twin> for $Name {
                fn from(t: Twin) -> $Name {
                    match t {
                        $( Twin::$Var { $($($field,)*)? .. } => $Name::$Var $({ $($field),* })?, )*
                    }
                }
            }

            impl<'de> serde::Deserialize<'de> for $Name {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$Name, D::Error> {
                    const KNOWN: &[&str] = &[$($wire),*];
                    let object = serde_json::Value::deserialize(d)?;
                    let wire = $crate::tagged::tag_of::<D::Error>(&object, $tag, KNOWN)?;
                    let Some(wire) = wire else {
                        $( return Ok($Name::$Other); )?
                        #[allow(unreachable_code)]
                        return Err(<D::Error as serde::de::Error>::unknown_variant(
                            $crate::tagged::tag_str(&object, $tag),
                            KNOWN,
                        ));
                    };
                    $crate::tagged::read_twin::<Twin, D::Error>(wire, object).map(Into::into)
                }
            }
        };
    };
}

use serde::de::Error;

/// The object's tag if it is one of `known` (`Ok(None)` for any other string); an error if
/// the value is not an object or has no string tag.
pub fn tag_of<E: Error>(
    object: &serde_json::Value,
    tag: &'static str,
    known: &[&'static str],
) -> Result<Option<&'static str>, E> {
    if !object.is_object() {
        return Err(E::custom("expected an object"));
    }
    match object.get(tag) {
        Some(serde_json::Value::String(s)) => Ok(known.iter().copied().find(|k| k == s)),
        _ => Err(E::missing_field(tag)),
    }
}

/// The tag as a string (for an error message).
pub fn tag_str<'a>(object: &'a serde_json::Value, tag: &str) -> &'a str {
    object.get(tag).and_then(|t| t.as_str()).unwrap_or_default()
}

/// Reads `object` as variant `wire` of the externally tagged twin `T`.
pub fn read_twin<T: serde::de::DeserializeOwned, E: Error>(
    wire: &str,
    object: serde_json::Value,
) -> Result<T, E> {
    let mut wrapped = serde_json::Map::new();
    wrapped.insert(wire.to_owned(), object);
    crate::json::from_value(serde_json::Value::Object(wrapped)).map_err(E::custom)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    crate::tagged! {
        /// A test enum.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Shape: tag "kind", other Unknown {
            "circle" => Circle { r: f64 },
            "rect" => Rect {
                w: u32,
                #[serde(default, skip_serializing_if = "Option::is_none")]
                h: Option<u32>,
            },
            "nothing" => Nothing,
            "group" => Group { of: Vec<Shape> },
        }
    }

    crate::tagged! {
        #[derive(Debug, PartialEq)]
        pub enum Strict: tag "t", #[serde(deny_unknown_fields)] {
            "a" => A { x: u8 },
        }
    }

    #[test]
    fn reads_and_writes_the_internally_tagged_form() {
        for (value, wire) in [
            (
                Shape::Circle { r: 1.5 },
                json!({"kind": "circle", "r": 1.5}),
            ),
            (
                Shape::Rect { w: 2, h: None },
                json!({"kind": "rect", "w": 2}),
            ),
            (Shape::Nothing, json!({"kind": "nothing"})),
            (
                Shape::Group {
                    of: vec![Shape::Nothing, Shape::Rect { w: 1, h: Some(3) }],
                },
                json!({"kind": "group", "of": [{"kind": "nothing"}, {"w": 1, "h": 3, "kind": "rect"}]}),
            ),
        ] {
            assert_eq!(serde_json::to_value(&value).unwrap()["kind"], wire["kind"]);
            assert_eq!(
                serde_json::from_value::<Shape>(wire.clone()).unwrap(),
                value
            );
            assert_eq!(
                serde_json::from_str::<Shape>(&wire.to_string()).unwrap(),
                value
            );
        }
        // The tag anywhere; unknown kinds are `Unknown`; unknown fields are ignored.
        assert_eq!(
            serde_json::from_str::<Shape>(r#"{"r": 2, "extra": 1, "kind": "circle"}"#).unwrap(),
            Shape::Circle { r: 2.0 }
        );
        assert_eq!(
            serde_json::from_str::<Shape>(r#"{"kind": "hexagon"}"#).unwrap(),
            Shape::Unknown
        );
        assert_eq!(
            serde_json::to_value(Shape::Unknown).unwrap(),
            json!({"kind": "unknown"})
        );
    }

    #[test]
    fn refuses_what_serde_refuses() {
        let err = |s: &str| serde_json::from_str::<Strict>(s).unwrap_err().to_string();
        assert!(err(r#"{"x": 1}"#).contains("missing field `t`"));
        assert!(err(r#"{"t": "b"}"#).contains("unknown variant `b`, expected `a`"));
        assert!(err(r#"{"t": "a", "x": 1, "y": 2}"#).contains("unknown field `y`"));
        assert!(err(r#"{"t": "a", "x": 300}"#).contains("invalid value: integer `300`"));
        assert!(err(r#"[1]"#).contains("expected an object"));
        assert_eq!(
            serde_json::from_str::<Strict>(r#"{"x": 7, "t": "a"}"#).unwrap(),
            Strict::A { x: 7 }
        );
        // Inside a larger document the outer parser adds its own position.
        assert!(serde_json::from_str::<Vec<Shape>>(r#"[{"kind": "rect"}]"#)
            .unwrap_err()
            .to_string()
            .contains("missing field `w`"));
    }
}
