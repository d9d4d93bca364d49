//! Idempotency keys: a client that did not hear the answer to a creating
//! mutation (a timeout, a dropped connection, a 503) sends it again with the
//! same key and gets the first result instead of a second comment.
//!
//! Modelled on Stripe's `Idempotency-Key`: the key is the client's (a UUID is
//! a good choice), it belongs to the signed-in user, and it is bound to the
//! operation and its input: the same key with the same input replays the first
//! result; with another input it is refused (CONFLICT). The key is claimed in
//! the transaction that does the work, so it exists exactly when the work was
//! stored; a request that failed left no key and may be sent again as it is.
//! Keys are kept for [`KEPT`].

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::db::idempotency as store;
use crate::db::Conn;
use crate::error::{AppError, AppResult};

/// How long a key is remembered after its first use.
pub const KEPT: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// The longest key accepted.
pub const MAX_KEY_CHARS: usize = 255;

/// A checked key, as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Check a key from `field` (an input field or the `Idempotency-Key` header):
    /// 1 to 255 characters, none of them control characters or spaces at the ends.
    pub fn parse(field: &str, raw: &str) -> AppResult<Self> {
        let n = raw.chars().count();
        if n == 0 || n > MAX_KEY_CHARS {
            return Err(AppError::validation(
                field,
                format!("an idempotency key has 1 to {MAX_KEY_CHARS} characters"),
            ));
        }
        if raw.chars().any(char::is_control) || raw.trim() != raw {
            return Err(AppError::validation(
                field,
                "an idempotency key has no control characters and no spaces at either end",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// An optional key from an input field.
    pub fn optional(field: &str, raw: Option<&str>) -> AppResult<Option<Self>> {
        raw.map(|k| Self::parse(field, k)).transpose()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One use of a key: the operation and a hash of its input.
#[derive(Debug, Clone)]
pub struct Use<'k> {
    key: &'k IdempotencyKey,
    operation: &'static str,
    fingerprint: String,
}

impl<'k> Use<'k> {
    /// `input` is everything that decides what the operation does (its
    /// `Debug` form is hashed: the same values give the same fingerprint).
    pub fn new(
        key: Option<&'k IdempotencyKey>,
        operation: &'static str,
        input: &impl std::fmt::Debug,
    ) -> Option<Self> {
        key.map(|key| Self {
            key,
            operation,
            fingerprint: hex::encode(Sha256::digest(format!("{operation}\n{input:?}").as_bytes())),
        })
    }
}

/// What a claim found.
#[derive(Debug)]
pub enum Claim {
    /// The key is new (or there is none): do the work, then [`settle`].
    Fresh,
    /// The work was done before: the ids it created.
    Replay(Vec<i64>),
}

/// Claim the key (if any) in the transaction that will do the work; call this
/// before anything else in it.
pub async fn claim(
    c: &mut Conn<'_>,
    user_id: i64,
    key: Option<&Use<'_>>,
    now: DateTime<Utc>,
) -> AppResult<Claim> {
    let Some(u) = key else {
        return Ok(Claim::Fresh);
    };
    store::purge(c, now - KEPT).await?;
    let Some(row) =
        store::claim(c, user_id, u.key.as_str(), u.operation, &u.fingerprint, now).await?
    else {
        return Ok(Claim::Fresh);
    };
    judge(row, u).map(Claim::Replay)
}

/// Outside a transaction: the ids the work under this key created, if it was
/// done before (so a replay needs no write lock and no open window).
pub async fn earlier(
    c: &mut Conn<'_>,
    user_id: i64,
    key: Option<&Use<'_>>,
    now: DateTime<Utc>,
) -> AppResult<Option<Vec<i64>>> {
    let Some(u) = key else {
        return Ok(None);
    };
    match store::find(c, user_id, u.key.as_str(), now - KEPT).await? {
        Some(row) => judge(row, u).map(Some),
        None => Ok(None),
    }
}

/// The same key and the same input replay; another input is a CONFLICT.
fn judge(row: store::KeyRow, u: &Use<'_>) -> AppResult<Vec<i64>> {
    if row.operation != u.operation || row.fingerprint != u.fingerprint {
        return Err(AppError::Conflict(format!(
            "this idempotency key was used for another request ({}, with other input); \
             use a new key for a new request",
            row.operation
        )));
    }
    row.result
        .as_deref()
        .and_then(|r| serde_json::from_str::<Vec<i64>>(r).ok())
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "idempotency key {:?} has no result",
                u.key.as_str()
            ))
        })
}

/// Record the ids the work under the key created (same transaction as [`claim`]).
pub async fn settle(
    c: &mut Conn<'_>,
    user_id: i64,
    key: Option<&Use<'_>>,
    ids: &[i64],
) -> AppResult<()> {
    let Some(u) = key else {
        return Ok(());
    };
    let result = serde_json::to_string(ids).map_err(AppError::internal)?;
    store::settle(c, user_id, u.key.as_str(), &result).await
}

/// The one id of a replayed single-object creation.
pub fn single(ids: &[i64]) -> AppResult<i64> {
    match ids {
        [id] => Ok(*id),
        _ => Err(AppError::internal(anyhow::anyhow!(
            "an idempotency key of a single creation holds {} ids",
            ids.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        assert!(IdempotencyKey::parse("k", "3f1c2b9e-6d1a-4d6f-9a41-0c3a6e1b2d77").is_ok());
        assert!(IdempotencyKey::parse("k", "").is_err());
        assert!(IdempotencyKey::parse("k", " padded").is_err());
        assert!(IdempotencyKey::parse("k", "new\nline").is_err());
        assert!(IdempotencyKey::parse("k", &"x".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("k", &"é".repeat(255)).is_ok());
    }

    #[test]
    fn the_fingerprint_follows_the_operation_and_the_input() {
        let k = IdempotencyKey::parse("k", "a").unwrap();
        let fp = |op, input: &str| Use::new(Some(&k), op, &input).unwrap().fingerprint;
        assert_eq!(fp("submitComment", "x"), fp("submitComment", "x"));
        assert_ne!(fp("submitComment", "x"), fp("submitComment", "y"));
        assert_ne!(fp("submitComment", "x"), fp("addReply", "x"));
    }
}
