//! Kits, modules and revisions: their validated values and the module status rules.

use super::accounts::Invalid;

string_enum!(
    /// Where a module stands.
    ModuleStatus {
        Drafting = "DRAFTING",
        InReview = "IN_REVIEW",
        Consolidating = "CONSOLIDATING",
        Approved = "APPROVED",
        Withdrawn = "WITHDRAWN",
    }
);

impl ModuleStatus {
    /// Statuses a rapporteur sets by hand; IN_REVIEW and CONSOLIDATING follow the review cycles.
    pub fn settable(self) -> bool {
        matches!(
            self,
            ModuleStatus::Drafting | ModuleStatus::Approved | ModuleStatus::Withdrawn
        )
    }
}

fn text(raw: &str, what: &str, max: usize, allow_empty: bool) -> Result<String, Invalid> {
    let s = raw.trim();
    if s.is_empty() && !allow_empty {
        return Err(Invalid(format!("{what} must not be empty")));
    }
    if s.chars().count() > max {
        return Err(Invalid(format!("{what} must be at most {max} characters")));
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(Invalid(format!(
            "{what} must not contain control characters"
        )));
    }
    Ok(s.to_owned())
}

/// A kit's or module's title.
pub fn title(raw: &str) -> Result<String, Invalid> {
    text(raw, "title", 300, false)
}

/// A kit's description (may be empty).
pub fn description(raw: &str) -> Result<String, Invalid> {
    text(raw, "description", 10_000, true)
}

/// A revision's summary of changes.
pub fn summary(raw: &str) -> Result<String, Invalid> {
    text(raw, "summary", 10_000, false)
}

/// A module's number within its kit ("Module 3").
pub fn module_number(n: i64) -> Result<i64, Invalid> {
    if (1..=999).contains(&n) {
        Ok(n)
    } else {
        Err(Invalid(
            "the module number must be between 1 and 999".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert!(title("  ").is_err());
        assert_eq!(title(" Module 1 ").as_deref(), Ok("Module 1"));
        assert_eq!(description("").as_deref(), Ok(""));
        assert!(summary("").is_err());
        assert!(module_number(0).is_err() && module_number(1).is_ok());
        assert!(ModuleStatus::Withdrawn.settable() && !ModuleStatus::InReview.settable());
        assert_eq!(
            "IN_REVIEW".parse::<ModuleStatus>(),
            Ok(ModuleStatus::InReview)
        );
    }
}
