//! Notifications: what a user is told, and why.

string_enum!(
    /// What happened.
    NotificationKind {
        /// A new revision of a module the user commented on or follows.
        RevisionPublished = "REVISION_PUBLISHED",
    }
);

string_enum!(
    /// Why the user is told.
    NotificationReason {
        /// Their organization commented on an earlier revision.
        Commented = "COMMENTED",
        /// They follow the module.
        Following = "FOLLOWING",
    }
);
