//! Who may read which audit events: the rule on drafts.
//!
//! A draft is its author's alone, and so is every trace of it in the audit
//! trail (that it was drafted, edited or deleted, when, and its id): only its
//! author and the secretariat read those events.

string_enum!(
    /// What an audit event records (stored as `area.verb`).
    AuditAction {
        OrganizationCreated = "organization.created",
        OrganizationUpdated = "organization.updated",
        UserCreated = "user.created",
        UserUpdated = "user.updated",
        UserActivated = "user.activated",
        UserDeactivated = "user.deactivated",
        UserPasswordChanged = "user.password_changed",
        UserPasswordReset = "user.password_reset",
        UserSignInUnlocked = "user.sign_in_unlocked",
        SessionSignedIn = "session.signed_in",
        SessionSignInFailed = "session.sign_in_failed",
        SessionLockedOut = "session.locked_out",
        QuestionCreated = "question.created",
        QuestionUpdated = "question.updated",
        RapporteurAssigned = "rapporteur.assigned",
        RapporteurUnassigned = "rapporteur.unassigned",
        KitCreated = "kit.created",
        KitUpdated = "kit.updated",
        ModuleCreated = "module.created",
        ModuleUpdated = "module.updated",
        ModuleFollowed = "module.followed",
        ModuleUnfollowed = "module.unfollowed",
        RevisionPublished = "revision.published",
        CycleOpened = "cycle.opened",
        CycleExtended = "cycle.extended",
        CycleClosed = "cycle.closed",
        CycleLateGranted = "cycle.late_granted",
        CycleConsolidated = "cycle.consolidated",
        CommentDrafted = "comment.drafted",
        CommentDraftEdited = "comment.draft_edited",
        CommentDraftDeleted = "comment.draft_deleted",
        CommentSubmitted = "comment.submitted",
        CommentEdited = "comment.edited",
        CommentWithdrawn = "comment.withdrawn",
        CommentsImported = "comments.imported",
        ReplyAdded = "reply.added",
        ReplyEdited = "reply.edited",
        ReplyWithdrawn = "reply.withdrawn",
        DispositionSet = "disposition.set",
        NotificationsRead = "notifications.read",
    }
);

impl AuditAction {
    /// The verb of a summary ("comment 3 withdrawn", "a draft comment edited").
    pub fn verb(self) -> &'static str {
        match self {
            AuditAction::OrganizationCreated => "created",
            AuditAction::OrganizationUpdated => "updated",
            AuditAction::UserCreated => "created",
            AuditAction::UserUpdated => "updated",
            AuditAction::UserActivated => "activated",
            AuditAction::UserDeactivated => "deactivated",
            AuditAction::UserPasswordChanged => "password changed",
            AuditAction::UserPasswordReset => "password reset",
            AuditAction::UserSignInUnlocked => "sign-in unlocked",
            AuditAction::SessionSignedIn => "signed in",
            AuditAction::SessionSignInFailed => "sign-in failed",
            AuditAction::SessionLockedOut => "locked out",
            AuditAction::QuestionCreated => "created",
            AuditAction::QuestionUpdated => "updated",
            AuditAction::RapporteurAssigned => "assigned",
            AuditAction::RapporteurUnassigned => "unassigned",
            AuditAction::KitCreated => "created",
            AuditAction::KitUpdated => "updated",
            AuditAction::ModuleCreated => "created",
            AuditAction::ModuleUpdated => "updated",
            AuditAction::ModuleFollowed => "followed",
            AuditAction::ModuleUnfollowed => "unfollowed",
            AuditAction::RevisionPublished => "published",
            AuditAction::CycleOpened => "opened",
            AuditAction::CycleExtended => "extended",
            AuditAction::CycleClosed => "closed",
            AuditAction::CycleLateGranted => "late granted",
            AuditAction::CycleConsolidated => "consolidated",
            AuditAction::CommentDrafted => "drafted",
            AuditAction::CommentDraftEdited => "edited",
            AuditAction::CommentDraftDeleted => "deleted",
            AuditAction::CommentSubmitted => "submitted",
            AuditAction::CommentEdited => "edited",
            AuditAction::CommentWithdrawn => "withdrawn",
            AuditAction::CommentsImported => "imported",
            AuditAction::ReplyAdded => "added",
            AuditAction::ReplyEdited => "edited",
            AuditAction::ReplyWithdrawn => "withdrawn",
            AuditAction::DispositionSet => "set",
            AuditAction::NotificationsRead => "read",
        }
    }

    /// Does this action record a change to a draft?
    pub fn is_draft(self) -> bool {
        DRAFT_ACTIONS.contains(&self)
    }
}

/// The actions that record a change to a draft.
pub const DRAFT_ACTIONS: &[AuditAction] = &[
    AuditAction::CommentDrafted,
    AuditAction::CommentDraftEdited,
    AuditAction::CommentDraftDeleted,
];

/// Edits of drafts recorded before they had an action of their own
/// (`comment.edited` with this summary).
pub const LEGACY_DRAFT_EDIT: (AuditAction, &str) =
    (AuditAction::CommentEdited, "a draft comment edited");

/// Is this event about a draft?
pub fn is_draft_event(action: AuditAction, summary: &str) -> bool {
    action.is_draft() || (action, summary) == LEGACY_DRAFT_EDIT
}

/// May a reader who is not the secretariat read this event? Draft events only
/// when they are its actor (the draft's author).
pub fn draft_rule_allows(
    reader_id: i64,
    action: AuditAction,
    summary: &str,
    actor: Option<i64>,
) -> bool {
    !is_draft_event(action, summary) || actor == Some(reader_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draft_events_are_their_authors() {
        for a in DRAFT_ACTIONS {
            assert!(!draft_rule_allows(
                1,
                *a,
                "a draft comment drafted",
                Some(2)
            ));
            assert!(draft_rule_allows(2, *a, "a draft comment drafted", Some(2)));
            assert!(!draft_rule_allows(1, *a, "x", None));
        }
        assert!(!draft_rule_allows(
            1,
            AuditAction::CommentEdited,
            "a draft comment edited",
            Some(2)
        ));
        assert!(draft_rule_allows(
            1,
            AuditAction::CommentEdited,
            "comment 3 edited",
            Some(2)
        ));
        assert!(draft_rule_allows(
            1,
            AuditAction::CommentSubmitted,
            "comment 3 submitted",
            Some(2)
        ));
    }
}

#[test]
fn every_action_reads_back_and_has_a_verb() {
    for a in AuditAction::ALL {
        assert_eq!(a.as_str().parse::<AuditAction>().ok(), Some(*a));
        assert!(a.as_str().contains('.'));
        assert!(!a.verb().is_empty());
    }
}
