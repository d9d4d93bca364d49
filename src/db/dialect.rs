//! The few places where SQLite and PostgreSQL need different SQL text.

use super::Backend;

/// Row-lock suffix for a `SELECT` that must serialize writers on one row.
/// SQLite needs none: its write transactions are already serialized.
pub fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    }
}
