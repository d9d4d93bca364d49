//! Dispositions: the rapporteurs' decision on each comment, and the rules a
//! decision must follow (rationale, duplicates without loops, who sees it when).

use std::collections::HashMap;

use super::accounts::Invalid;
use super::comments::{self, CommentState};
use super::cycle::CycleStatus;

string_enum!(
    /// The decision on a comment.
    DispositionKind {
        Accepted = "ACCEPTED",
        AcceptedInPrinciple = "ACCEPTED_IN_PRINCIPLE",
        Rejected = "REJECTED",
        Noted = "NOTED",
        Duplicate = "DUPLICATE",
        Withdrawn = "WITHDRAWN",
    }
);

impl DispositionKind {
    /// The wording of the consolidated table.
    pub fn label(self) -> &'static str {
        match self {
            DispositionKind::Accepted => "Accepted",
            DispositionKind::AcceptedInPrinciple => "Accepted in principle",
            DispositionKind::Rejected => "Rejected",
            DispositionKind::Noted => "Noted",
            DispositionKind::Duplicate => "Duplicate",
            DispositionKind::Withdrawn => "Withdrawn",
        }
    }
}

/// A decision as asked, before it is checked against the cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub kind: DispositionKind,
    pub rationale: Option<String>,
    pub duplicate_of: Option<i64>,
}

/// Which field of a decision is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionError {
    pub field: &'static str,
    pub message: String,
}

fn err(field: &'static str, message: impl Into<String>) -> DecisionError {
    DecisionError {
        field,
        message: message.into(),
    }
}

/// Check a decision on its own: a rationale for every kind but ACCEPTED, a
/// `duplicateOfId` for DUPLICATE and for nothing else.
pub fn check(
    kind: DispositionKind,
    rationale: Option<&str>,
    duplicate_of: Option<i64>,
) -> Result<Decision, DecisionError> {
    let rationale = match rationale.filter(|r| !r.trim().is_empty()) {
        Some(r) => Some(comments::body(r, "rationale").map_err(|Invalid(m)| err("rationale", m))?),
        None if kind == DispositionKind::Accepted => None,
        None => {
            return Err(err(
                "rationale",
                format!("a rationale is required for {}", kind.as_str()),
            ))
        }
    };
    match (kind, duplicate_of) {
        (DispositionKind::Duplicate, None) => Err(err(
            "duplicateOfId",
            "a DUPLICATE disposition names the comment it duplicates (duplicateOfId)",
        )),
        (DispositionKind::Duplicate, Some(_)) | (_, None) => Ok(Decision {
            kind,
            rationale,
            duplicate_of,
        }),
        (_, Some(_)) => Err(err(
            "duplicateOfId",
            format!("duplicateOfId is only for DUPLICATE, not {}", kind.as_str()),
        )),
    }
}

/// Would `comment` marked a duplicate of `target` close a loop, given the
/// duplicate links already decided (`links`: comment -> the one it duplicates)?
pub fn forms_loop(links: &HashMap<i64, i64>, comment: i64, target: i64) -> bool {
    let mut at = target;
    let mut steps = 0;
    loop {
        if at == comment {
            return true;
        }
        match links.get(&at) {
            Some(&next) if steps <= links.len() => {
                at = next;
                steps += 1;
            }
            _ => return false,
        }
    }
}

/// May a comment in this state take a disposition?
pub fn takes_disposition(state: CommentState) -> bool {
    matches!(state, CommentState::Submitted | CommentState::Withdrawn)
}

/// Dispositions are provisional while the cycle runs: rapporteurs and the
/// secretariat may record them from the first submission, but other readers
/// see them only once the cycle has closed (whatever its visibility).
pub fn visible(status: CycleStatus, manages: bool) -> bool {
    manages || matches!(status, CycleStatus::Closed | CycleStatus::Consolidated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rationale_and_duplicate_rules() {
        use DispositionKind::*;
        assert!(check(Accepted, None, None).is_ok());
        assert_eq!(
            check(Rejected, Some("  "), None).map_err(|e| e.field),
            Err("rationale")
        );
        assert!(check(Rejected, Some("Out of scope"), None).is_ok());
        assert_eq!(
            check(Duplicate, Some("See 3"), None).map_err(|e| e.field),
            Err("duplicateOfId")
        );
        assert!(check(Duplicate, Some("See 3"), Some(3)).is_ok());
        assert_eq!(
            check(Noted, Some("ok"), Some(3)).map_err(|e| e.field),
            Err("duplicateOfId")
        );
    }

    #[test]
    fn duplicate_chains_never_loop() {
        let links: HashMap<i64, i64> = [(2, 1), (3, 2)].into_iter().collect();
        assert!(forms_loop(&links, 1, 3), "1 -> 3 -> 2 -> 1");
        assert!(forms_loop(&links, 1, 1), "itself");
        assert!(!forms_loop(&links, 4, 3));
        assert!(!forms_loop(&links, 1, 4));
    }

    #[test]
    fn provisional_until_the_close() {
        assert!(!visible(CycleStatus::Open, false));
        assert!(visible(CycleStatus::Open, true));
        assert!(visible(CycleStatus::Closed, false));
    }
}
