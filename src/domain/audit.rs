//! Who may read which audit events: the rule on drafts.
//!
//! A draft is its author's alone, and so is every trace of it in the audit
//! trail (that it was drafted, edited or deleted, when, and its id): only its
//! author and the secretariat read those events.

/// The actions that record a change to a draft.
pub const DRAFT_ACTIONS: &[&str] = &[
    "comment.drafted",
    "comment.draft_edited",
    "comment.draft_deleted",
];

/// Edits of drafts recorded before they had an action of their own
/// (`comment.edited` with this summary).
pub const LEGACY_DRAFT_EDIT: (&str, &str) = ("comment.edited", "a draft comment edited");

/// Is this event about a draft?
pub fn is_draft_event(action: &str, summary: &str) -> bool {
    DRAFT_ACTIONS.contains(&action) || (action, summary) == LEGACY_DRAFT_EDIT
}

/// May a reader who is not the secretariat read this event? Draft events only
/// when they are its actor (the draft's author).
pub fn draft_rule_allows(reader_id: i64, action: &str, summary: &str, actor: Option<i64>) -> bool {
    !is_draft_event(action, summary) || actor == Some(reader_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draft_events_are_their_authors() {
        for a in DRAFT_ACTIONS {
            assert!(!draft_rule_allows(1, a, "a draft comment drafted", Some(2)));
            assert!(draft_rule_allows(2, a, "a draft comment drafted", Some(2)));
            assert!(!draft_rule_allows(1, a, "x", None));
        }
        assert!(!draft_rule_allows(
            1,
            "comment.edited",
            "a draft comment edited",
            Some(2)
        ));
        assert!(draft_rule_allows(
            1,
            "comment.edited",
            "comment 3 edited",
            Some(2)
        ));
        assert!(draft_rule_allows(
            1,
            "comment.submitted",
            "comment 3 submitted",
            Some(2)
        ));
    }
}
