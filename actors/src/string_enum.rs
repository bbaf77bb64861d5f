//! [`string_enum!`](crate::string_enum): the one way to write an enum whose
//! variants are strings (stored in a column, sent on the wire, or both).
//!
//! Each variant is named once, beside its string; the macro derives from
//! that single list:
//! - `ALL`, every variant in declaration order;
//! - `as_str` and its inverse `parse` (exact, case-sensitive; `None` for an
//!   unknown string), plus [`FromStr`](std::str::FromStr) with
//!   [`UnknownVariant`] as its error;
//! - `Display`, which writes `as_str`;
//! - with `serde` after the name: `Serialize` and `Deserialize` derived with
//!   each variant renamed to its string (so the JSON, and serde's own error
//!   for an unknown variant, are what `rename_all = "snake_case"` gave);
//!   with `serialize`: `Serialize` alone.
//!
//! The other derives and attributes (`Debug`, `Copy`, `Default` with its
//! `#[default]` variant, docs) are written at the use site as on any enum.
//!
//! ```
//! switchboard_actors::string_enum! {
//!     /// A light.
//!     #[derive(Debug, Clone, Copy, PartialEq, Eq)]
//!     pub enum Light: serde {
//!         Red = "red",
//!         AmberBlink = "amber_blink",
//!     }
//! }
//! assert_eq!(Light::AmberBlink.as_str(), "amber_blink");
//! assert_eq!(Light::parse("red"), Some(Light::Red));
//! assert_eq!("red".parse::<Light>(), Ok(Light::Red));
//! assert_eq!(Light::ALL.len(), 2);
//! assert_eq!(serde_json::to_string(&Light::AmberBlink).unwrap(), "\"amber_blink\"");
//! ```

use std::fmt;

/// The error of `FromStr` on a [`string_enum!`](crate::string_enum) enum: the
/// string names no variant. Reads "unknown <Type> `<string>`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariant {
    /// The enum's type name.
    pub type_name: &'static str,
    /// The string that was given.
    pub value: String,
}

impl fmt::Display for UnknownVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} `{}`", self.type_name, self.value)
    }
}

impl std::error::Error for UnknownVariant {}

/// Defines a string enum; see the [module](crate::string_enum) documentation.
#[macro_export]
macro_rules! string_enum {
    // With Serialize and Deserialize, each variant renamed to its string.
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : serde {
            $( $(#[$vmeta:meta])* $variant:ident = $s:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(::serde::Serialize, ::serde::Deserialize)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $s)] $variant ),+
        }
        $crate::string_enum!(@impls $name { $( $variant = $s ),+ });
    };
    // With Serialize alone.
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : serialize {
            $( $(#[$vmeta:meta])* $variant:ident = $s:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(::serde::Serialize)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $s)] $variant ),+
        }
        $crate::string_enum!(@impls $name { $( $variant = $s ),+ });
    };
    // Without serde.
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $s:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }
        $crate::string_enum!(@impls $name { $( $variant = $s ),+ });
    };
    (@impls $name:ident { $( $variant:ident = $s:literal ),+ }) => {
        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [Self; [$($s),+].len()] = [$(Self::$variant),+];

            /// The stored and wire name.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $s),+
                }
            }

            /// Inverse of [`as_str`](Self::as_str); exact (case-sensitive)
            /// match.
            pub fn parse(s: &str) -> ::std::option::Option<Self> {
                match s {
                    $($s => ::std::option::Option::Some(Self::$variant),)+
                    _ => ::std::option::Option::None,
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::string_enum::UnknownVariant;

            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Self::parse(s).ok_or_else(|| $crate::string_enum::UnknownVariant {
                    type_name: ::std::stringify!($name),
                    value: s.to_owned(),
                })
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    crate::string_enum! {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        enum Sample: serde {
            One = "one",
            #[default]
            TwoWords = "two_words",
        }
    }

    #[test]
    fn every_variant_round_trips_through_str_display_and_json() {
        for v in Sample::ALL {
            assert_eq!(Sample::parse(v.as_str()), Some(v));
            assert_eq!(v.as_str().parse::<Sample>(), Ok(v));
            assert_eq!(v.to_string(), v.as_str());
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{}\"", v.as_str()));
            assert_eq!(serde_json::from_str::<Sample>(&json).unwrap(), v);
        }
        assert_eq!(Sample::default(), Sample::TwoWords);
    }

    #[test]
    fn unknown_strings_are_refused() {
        assert_eq!(Sample::parse("One"), None);
        let err = "three".parse::<Sample>().unwrap_err();
        assert_eq!(err.to_string(), "unknown Sample `three`");
        let err = serde_json::from_str::<Sample>("\"three\"").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unknown variant `three`, expected `one` or `two_words`"),
            "{err}"
        );
    }
}
