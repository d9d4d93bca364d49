//! What happened, for live updates: small facts (ids, never text) that each
//! server instance turns into subscription events for the viewers allowed to
//! see them. They travel as JSON (PostgreSQL `NOTIFY` payloads are limited to
//! 8,000 bytes, so batches are split by size).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The kind of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventKind {
    CommentSubmitted,
    CommentUpdated,
    CommentWithdrawn,
    ReplyAdded,
    DispositionSet,
    CycleStatusChanged,
    RevisionPublished,
    /// A user's account changed (deactivated, roles, organization): their live
    /// connections end. Never shown to subscribers.
    AccountChanged,
}

/// One change, as raised in the transaction that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    /// The module concerned (0 for account changes).
    #[serde(rename = "m", default)]
    pub module_id: i64,
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub cycle_id: Option<i64>,
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub comment_id: Option<i64>,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub reply_id: Option<i64>,
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<i64>,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    pub at: DateTime<Utc>,
}

impl Event {
    fn new(kind: EventKind, module_id: i64, at: DateTime<Utc>) -> Self {
        Self {
            kind,
            module_id,
            cycle_id: None,
            comment_id: None,
            reply_id: None,
            revision_id: None,
            user_id: None,
            at,
        }
    }

    /// A change to a comment (submitted, updated, withdrawn, decided).
    pub fn comment(
        kind: EventKind,
        module_id: i64,
        cycle_id: i64,
        comment_id: i64,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            cycle_id: Some(cycle_id),
            comment_id: Some(comment_id),
            ..Self::new(kind, module_id, at)
        }
    }

    /// A reply added to a comment.
    pub fn reply(
        module_id: i64,
        cycle_id: i64,
        comment_id: i64,
        reply_id: i64,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            reply_id: Some(reply_id),
            ..Self::comment(EventKind::ReplyAdded, module_id, cycle_id, comment_id, at)
        }
    }

    /// A cycle opened, closed, was extended or consolidated.
    pub fn cycle_status(module_id: i64, cycle_id: i64, at: DateTime<Utc>) -> Self {
        Self {
            cycle_id: Some(cycle_id),
            ..Self::new(EventKind::CycleStatusChanged, module_id, at)
        }
    }

    /// A new revision of a module.
    pub fn revision(module_id: i64, revision_id: i64, at: DateTime<Utc>) -> Self {
        Self {
            revision_id: Some(revision_id),
            ..Self::new(EventKind::RevisionPublished, module_id, at)
        }
    }

    /// A user's account changed.
    pub fn account(user_id: i64, at: DateTime<Utc>) -> Self {
        Self {
            user_id: Some(user_id),
            ..Self::new(EventKind::AccountChanged, 0, at)
        }
    }
}

/// The largest payload sent in one `NOTIFY` (PostgreSQL's limit is 8,000 bytes).
pub const MAX_PAYLOAD: usize = 7_000;

/// Encode events as JSON arrays of at most [`MAX_PAYLOAD`] bytes each.
pub fn encode_batches(events: &[Event]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::from("[");
    for e in events {
        let Ok(one) = serde_json::to_string(e) else {
            continue;
        };
        if current.len() > 1 && current.len() + one.len() + 2 > MAX_PAYLOAD {
            current.push(']');
            out.push(std::mem::replace(&mut current, String::from("[")));
        }
        if current.len() > 1 {
            current.push(',');
        }
        current.push_str(&one);
    }
    if current.len() > 1 {
        current.push(']');
        out.push(current);
    }
    out
}

/// Decode one payload of [`encode_batches`].
pub fn decode_batch(payload: &str) -> Result<Vec<Event>, serde_json::Error> {
    serde_json::from_str(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T10:00:00.123456Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("valid time")
    }

    #[test]
    fn batches_round_trip_and_stay_under_the_notify_limit() {
        let events: Vec<Event> = (0..500)
            .map(|i| Event::comment(EventKind::DispositionSet, 7, 3, i, at()))
            .collect();
        let batches = encode_batches(&events);
        assert!(batches.len() > 1);
        assert!(batches.iter().all(|b| b.len() <= MAX_PAYLOAD));
        let back: Vec<Event> = batches
            .iter()
            .flat_map(|b| decode_batch(b).expect("valid JSON"))
            .collect();
        assert_eq!(back, events);
    }

    #[test]
    fn no_events_no_batches() {
        assert!(encode_batches(&[]).is_empty());
        let one = encode_batches(&[Event::account(5, at())]);
        assert_eq!(one.len(), 1);
        assert!(one[0].contains("ACCOUNT_CHANGED"));
    }
}
