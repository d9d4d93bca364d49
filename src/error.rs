//! The application's one error type and its mapping to GraphQL error codes.
//!
//! Resolvers return `async_graphql::Result` and use `?` on `AppError`: the
//! conversion keeps the `AppError` as the error's source, and
//! [`crate::graphql::errors`] turns it into `extensions.code` on the way out.

use std::fmt;

/// Everything that can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid credentials were presented.
    #[error("{0}")]
    Unauthenticated(String),
    /// The password was right but is a temporary one: the sign-in must
    /// choose a new password.
    #[error("{0}")]
    PasswordChangeRequired(String),
    /// The viewer is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The object does not exist, or the viewer may not know that it exists.
    #[error("{0}")]
    NotFound(String),
    /// An input value is malformed or breaks a rule; `field` names the input field.
    #[error("{message}")]
    Validation { field: String, message: String },
    /// The request conflicts with the current state (duplicate, stale base, ...).
    #[error("{0}")]
    Conflict(String),
    /// The change was prepared on a stale read (an optimistic-concurrency
    /// check failed); `field` names the input that carried the version.
    /// Shown as `CONFLICT`, with the field.
    #[error("{message}")]
    Stale { field: String, message: String },
    /// The review cycle no longer accepts this change.
    #[error("{0}")]
    CycleClosed(String),
    /// Too many attempts; the client should wait `retry_after_secs`.
    #[error("too many failed attempts; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    /// The service cannot do this now; trying again later may work (a live
    /// subscription that may have missed events, a limit on open work).
    #[error("{0}")]
    Unavailable(String),
    /// The request ran past its time limit before anything was stored (see
    /// [`crate::deadline`]); it may be retried.
    #[error("{0}")]
    Timeout(String),
    /// Anything unexpected. Logged with its cause chain, shown as `INTERNAL`.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Every `extensions.code` an error may carry (for the metrics' outcome
/// label, which never takes a value from outside this list).
pub const KNOWN_CODES: &[&str] = &[
    "UNAUTHENTICATED",
    "PASSWORD_CHANGE_REQUIRED",
    "FORBIDDEN",
    "NOT_FOUND",
    "VALIDATION",
    "CONFLICT",
    "CYCLE_CLOSED",
    "RATE_LIMITED",
    "UNAVAILABLE",
    "TIMEOUT",
    "INTERNAL",
    "GRAPHQL_VALIDATION_FAILED",
    "GRAPHQL_PARSE_FAILED",
    "PAYLOAD_TOO_LARGE",
    "BAD_REQUEST",
];

/// Shorthand for results in this crate.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A validation error on one input field.
    pub fn validation(field: impl Into<String>, message: impl fmt::Display) -> Self {
        AppError::Validation {
            field: field.into(),
            message: message.to_string(),
        }
    }

    /// The object named by `what` was not found (or is not visible).
    pub fn not_found(what: impl fmt::Display) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }

    /// The viewer lacks the permission described by `why`.
    pub fn forbidden(why: impl Into<String>) -> Self {
        AppError::Forbidden(why.into())
    }

    /// Wrap any unexpected error.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(err.into())
    }

    /// The stable machine-readable code for `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::PasswordChangeRequired(_) => "PASSWORD_CHANGE_REQUIRED",
            AppError::Forbidden(_) => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::Validation { .. } => "VALIDATION",
            AppError::Conflict(_) | AppError::Stale { .. } => "CONFLICT",
            AppError::CycleClosed(_) => "CYCLE_CLOSED",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::Unavailable(_) => "UNAVAILABLE",
            AppError::Timeout(_) => "TIMEOUT",
            AppError::Internal(_) => "INTERNAL",
        }
    }
}

/// The database cannot be reached or cannot take the work now (a client may retry).
fn unavailable(err: &sqlx::Error) -> Option<&'static str> {
    use sqlx::Error as E;
    match err {
        E::PoolTimedOut => Some("the database is busy or not answering; try again shortly"),
        E::PoolClosed | E::WorkerCrashed => Some("the database is shutting down; try again"),
        E::Io(_) | E::Tls(_) => Some("the database is not answering; try again shortly"),
        E::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or("");
            let busy = if db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                // Connection exceptions, too many connections, shutting down.
                code.starts_with("08") || matches!(code, "53300" | "57P01" | "57P02" | "57P03")
            } else if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // Busy or locked (5, 6), I/O error (10), disk full (13), by primary code.
                matches!(code.parse::<i32>().map(|c| c & 0xff), Ok(5 | 6 | 10 | 13))
            } else {
                false
            };
            busy.then_some("the database cannot take the change now; try again shortly")
        }
        _ => None,
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        if let Some(db) = err.as_database_error() {
            if db.is_unique_violation() {
                return AppError::Conflict(
                    "a record with the same unique value already exists".into(),
                );
            }
        }
        if let Some(message) = unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            return AppError::Unavailable(message.into());
        }
        AppError::Internal(err.into())
    }
}

impl From<sqlx::migrate::MigrateError> for AppError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        AppError::Internal(err.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(AppError::validation("email", "bad").code(), "VALIDATION");
        assert_eq!(
            AppError::RateLimited {
                retry_after_secs: 3
            }
            .to_string(),
            "too many failed attempts; try again in 3 seconds"
        );
        assert_eq!(
            AppError::internal(anyhow::anyhow!("secret detail")).to_string(),
            "internal error"
        );
    }
}
