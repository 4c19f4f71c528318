//! Unit enums written as their names (`"bad_request"`, `"jpeg"`): one list per enum gives the
//! variants, `as_str`, `named` (the value of a name), and serde and `FromJson` by the name.
//!
//! serde's derive gives each such enum an enum visitor and a variant matcher for strings and
//! again for bytes — code the browser apps carry per enum. Reading a `String` and matching it
//! once costs a fraction of that, with the same wire format and the same error for an unknown
//! name.
//!
//! ```text
//! named! {
//!     /// Who wrote a message.
//!     #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
//!     pub enum Role: other Unknown {
//!         Visitor = "visitor",
//!         /// A role this client version does not know.
//!         Unknown = "unknown",
//!     }
//! }
//! ```
//!
//! `other X` reads any name this version does not know as `X`; without it such a name is an
//! error (`unknown variant …, expected one of …`).

/// See the [module documentation](self).
#[macro_export]
macro_rules! named {
    (
        $(#[$meta:meta])*
        $vis:vis enum $Name:ident $(: other $Other:ident)? {
            $( $(#[$vmeta:meta])* $Var:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        $vis enum $Name {
            $( $(#[$vmeta])* $Var, )+
        }

        impl $Name {
            /// Every value.
            pub const ALL: &'static [$Name] = &[$($Name::$Var),+];

            /// Every name, in the order of the variants.
            pub const NAMES: &'static [&'static str] = &[$($wire),+];

            /// Its name on the wire and in storage.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $Name::$Var => $wire, )+
                }
            }

            /// The value named `s`, if any.
            pub fn named(s: &str) -> Option<$Name> {
                match s {
                    $( $wire => Some($Name::$Var), )+
                    _ => None,
                }
            }
        }

        impl ::serde::Serialize for $Name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl $crate::json::FromJson for $Name {
            fn from_json(v: $crate::json::Value) -> Result<$Name, $crate::json::Error> {
                let s = <String as $crate::json::FromJson>::from_json(v)?;
                match $Name::named(&s) {
                    Some(v) => Ok(v),
                    None => $crate::named!(@read_other $Name, s $(, $Other)?),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $Name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<$Name, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                match $Name::named(&s) {
                    Some(v) => Ok(v),
                    None => $crate::named!(@other $Name, s $(, $Other)?),
                }
            }
        }
    };
    (@other $Name:ident, $s:ident, $Other:ident) => {
        Ok($Name::$Other)
    };
    (@other $Name:ident, $s:ident) => {
        Err(<D::Error as ::serde::de::Error>::unknown_variant(&$s, $Name::NAMES))
    };
    (@read_other $Name:ident, $s:ident, $Other:ident) => {
        Ok($Name::$Other)
    };
    (@read_other $Name:ident, $s:ident) => {
        Err($crate::json::unknown("name", &$s, $Name::NAMES))
    };
}

#[cfg(test)]
mod tests {
    crate::named! {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum Open: other Unknown {
            Tea = "tea",
            GreenTea = "green_tea",
            Unknown = "unknown",
        }
    }
    crate::named! {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum Closed {
            Mon = "mon",
            Tue = "tue",
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_fall_back_or_are_refused() {
        assert_eq!(
            serde_json::to_string(&Open::GreenTea).unwrap(),
            "\"green_tea\""
        );
        let read = |s: &str| serde_json::from_str::<Open>(s).unwrap();
        assert_eq!(read("\"green_tea\""), Open::GreenTea);
        assert_eq!(read("\"coffee\""), Open::Unknown);
        assert_eq!(Open::named("tea"), Some(Open::Tea));
        assert_eq!(Closed::NAMES, ["mon", "tue"]);
        assert_eq!(Open::NAMES, ["tea", "green_tea", "unknown"]);
        for v in Open::ALL.iter().chain(&[Open::Tea]) {
            assert_eq!(Open::named(v.as_str()), Some(*v));
        }
        assert_eq!(Closed::ALL, [Closed::Mon, Closed::Tue]);
        let e = serde_json::from_str::<Closed>("\"wed\"")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown variant `wed`, expected `mon` or `tue`"),
            "{e}"
        );
        assert!(serde_json::from_str::<Closed>("3").is_err());
        let v: Vec<Closed> = serde_json::from_value(serde_json::json!(["tue", "mon"])).unwrap();
        assert_eq!(v, [Closed::Tue, Closed::Mon]);
    }
}
