//! Plain-Rust domain model: ids, validated values, rules. No SQL, no GraphQL.

pub mod accounts;
pub mod ids;
pub mod page;
pub mod throttle;
