//! Plain-Rust domain model: ids, validated values, rules. No SQL, no GraphQL.

/// An enum stored and shown as SCREAMING_CASE text, with `ALL`, `as_str` and `FromStr`.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The stored and API spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::accounts::Invalid;
            fn from_str(s: &str) -> Result<Self, $crate::domain::accounts::Invalid> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::domain::accounts::Invalid(format!(
                        concat!("'{}' is not a valid ", stringify!($name)), other
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod accounts;
pub mod audit;
pub mod carry;
pub mod comments;
pub mod cycle;
pub mod diff;
pub mod disposition;
pub mod document;
pub mod events;
pub mod ids;
pub mod modules;
pub mod notifications;
pub mod page;
pub mod search;
pub mod throttle;
pub mod visibility;
