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

/// Was a decision made on version `expected` of a disposition now at
/// `current` made on a stale read? Any difference is: a version only grows,
/// and one ahead of the stored one was never read.
pub fn stale(expected: i64, current: i64) -> bool {
    expected != current
}

/// What a rapporteur is told when their decision was made on a stale read:
/// who changed it last, when, and what to do.
pub fn stale_message(
    number: Option<i64>,
    changed_by: Option<&str>,
    changed_at: Option<chrono::DateTime<chrono::Utc>>,
    expected: i64,
    current: i64,
) -> String {
    let comment = match number {
        Some(n) => format!("comment No. {n}"),
        None => "the comment".to_owned(),
    };
    let since = match (changed_by, changed_at) {
        (Some(who), Some(at)) => format!(
            "was changed by {who} at {} since you loaded it",
            at.format("%Y-%m-%d %H:%M UTC")
        ),
        _ => "was changed since you loaded it".to_owned(),
    };
    format!("{comment} {since} (version {current}, you had {expected}); reload it and decide again")
}

/// What a batch of decisions is checked against, loaded in bulk before any rule runs.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The comments named (decided, or duplicated), by id.
    pub comments: HashMap<i64, CommentFacts>,
    /// The cycles of the decided comments, by id.
    pub cycles: HashMap<i64, CycleFacts>,
    /// Each cycle's duplicate links (`comment → the comment it duplicates`).
    pub links: HashMap<i64, HashMap<i64, i64>>,
    /// Revisions named by `addressedInRevisionId`, and those of the comments.
    pub revisions: HashMap<i64, RevisionFacts>,
    /// The version of each decided comment's disposition (how many times it
    /// changed), read in the writing transaction; a comment absent is at 0.
    pub versions: HashMap<i64, i64>,
}

/// What the rules need to know of a comment.
#[derive(Debug, Clone)]
pub struct CommentFacts {
    pub id: i64,
    pub cycle_id: i64,
    pub revision_id: i64,
    pub author_id: i64,
    pub state: CommentState,
    /// May the viewer see it at all (for those who do not manage its question)?
    pub visible: bool,
}

/// What the rules need to know of a cycle, now.
#[derive(Debug, Clone, Copy)]
pub struct CycleFacts {
    pub status: CycleStatus,
    /// Does the viewer manage its question (rapporteur, secretariat)?
    pub managed: bool,
}

/// A revision's place in its module.
#[derive(Debug, Clone, Copy)]
pub struct RevisionFacts {
    pub module_id: i64,
    pub number: i64,
}

/// One decision of a batch, checked on its own (see [`check`]).
#[derive(Debug, Clone)]
pub struct Asked {
    pub comment_id: i64,
    pub decision: Decision,
    pub addressed_in: Option<i64>,
    /// The version the decision was made on (`expectedVersion`); `None`
    /// decides whatever is stored now.
    pub expected_version: Option<i64>,
}

/// Why a batch is refused: the first rule broken, in input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The comment (or its cycle) does not exist, or the viewer may not know it does.
    NotFound(&'static str),
    /// The viewer sees the comment but may not decide on it.
    Forbidden,
    /// The cycle is consolidated: its dispositions are final.
    Consolidated,
    /// Input `index` was decided on version `expected`, but the disposition
    /// has changed since: it is at `current` now.
    Stale {
        index: usize,
        expected: i64,
        current: i64,
    },
    /// Input `index`'s `field` breaks a rule.
    Invalid {
        index: usize,
        field: &'static str,
        message: &'static str,
    },
}

/// Check a whole batch against the facts: `Ok` when every decision may be
/// stored. The duplicate links are followed as they will be once the batch's
/// earlier decisions are made, so a loop is found within a batch too.
pub fn plan(viewer_id: i64, asked: &[Asked], facts: &Facts) -> Result<(), Refusal> {
    let mut links = facts.links.clone();
    for (index, a) in asked.iter().enumerate() {
        let invalid = |field, message| Refusal::Invalid {
            index,
            field,
            message,
        };
        let comment = facts
            .comments
            .get(&a.comment_id)
            .ok_or(Refusal::NotFound("comment"))?;
        let cycle = facts
            .cycles
            .get(&comment.cycle_id)
            .ok_or(Refusal::NotFound("review cycle"))?;
        if !cycle.managed {
            return Err(if comment.visible {
                Refusal::Forbidden
            } else {
                Refusal::NotFound("comment")
            });
        }
        if !takes_disposition(comment.state) {
            if comment.author_id != viewer_id {
                return Err(Refusal::NotFound("comment"));
            }
            return Err(invalid(
                "commentId",
                "a draft takes no disposition until it is submitted",
            ));
        }
        if cycle.status == CycleStatus::Consolidated {
            return Err(Refusal::Consolidated);
        }
        if let Some(expected) = a.expected_version {
            let current = facts.versions.get(&comment.id).copied().unwrap_or(0);
            if stale(expected, current) {
                return Err(Refusal::Stale {
                    index,
                    expected,
                    current,
                });
            }
        }
        let cycle_links = links.entry(comment.cycle_id).or_default();
        match a.decision.duplicate_of {
            Some(target_id) => {
                if target_id == comment.id {
                    return Err(invalid(
                        "duplicateOfId",
                        "a comment cannot duplicate itself",
                    ));
                }
                let same_cycle = facts.comments.get(&target_id).is_some_and(|t| {
                    t.cycle_id == comment.cycle_id && t.state != CommentState::Draft
                });
                if !same_cycle {
                    return Err(invalid(
                        "duplicateOfId",
                        "duplicateOfId must name another submitted comment of the same review cycle",
                    ));
                }
                if forms_loop(cycle_links, comment.id, target_id) {
                    return Err(invalid(
                        "duplicateOfId",
                        "duplicates would form a loop: that comment is already (through others) a duplicate of this one",
                    ));
                }
                cycle_links.insert(comment.id, target_id);
            }
            None => {
                cycle_links.remove(&comment.id);
            }
        }
        if let Some(rev) = a.addressed_in {
            let origin = facts.revisions.get(&comment.revision_id);
            let later = facts.revisions.get(&rev);
            let ok = matches!((origin, later), (Some(o), Some(l))
                if l.module_id == o.module_id && l.number > o.number);
            if !ok {
                return Err(invalid(
                    "addressedInRevisionId",
                    "must name a later revision of the comment's module",
                ));
            }
        }
    }
    Ok(())
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

    fn facts() -> Facts {
        let comment = |id, state| CommentFacts {
            id,
            cycle_id: 1,
            revision_id: 10,
            author_id: 7,
            state,
            visible: true,
        };
        let mut f = Facts::default();
        f.comments.insert(1, comment(1, CommentState::Submitted));
        f.comments.insert(2, comment(2, CommentState::Submitted));
        f.comments.insert(3, comment(3, CommentState::Draft));
        f.cycles.insert(
            1,
            CycleFacts {
                status: CycleStatus::Closed,
                managed: true,
            },
        );
        f.revisions.insert(
            10,
            RevisionFacts {
                module_id: 5,
                number: 1,
            },
        );
        f.revisions.insert(
            11,
            RevisionFacts {
                module_id: 5,
                number: 2,
            },
        );
        f
    }

    fn asked(comment_id: i64, duplicate_of: Option<i64>, addressed_in: Option<i64>) -> Asked {
        let kind = if duplicate_of.is_some() {
            DispositionKind::Duplicate
        } else {
            DispositionKind::Accepted
        };
        Asked {
            comment_id,
            decision: Decision {
                kind,
                rationale: Some("r".into()),
                duplicate_of,
            },
            addressed_in,
            expected_version: None,
        }
    }

    #[test]
    fn a_decision_on_a_stale_version_is_refused() {
        assert!(!stale(0, 0));
        assert!(stale(1, 2));
        assert!(stale(3, 2), "a version never read");
        let mut f = facts();
        f.versions.insert(2, 2);
        let on = |comment_id, v| Asked {
            expected_version: Some(v),
            ..asked(comment_id, None, None)
        };
        // Never decided: version 0.
        assert_eq!(plan(9, &[on(1, 0)], &f), Ok(()));
        assert_eq!(plan(9, &[on(1, 0), on(2, 2)], &f), Ok(()));
        // Without expectedVersion, whatever is stored is replaced.
        assert_eq!(plan(9, &[asked(2, None, None)], &f), Ok(()));
        assert_eq!(
            plan(9, &[on(1, 0), on(2, 1)], &f),
            Err(Refusal::Stale {
                index: 1,
                expected: 1,
                current: 2
            })
        );
        // Who may not decide learns nothing of the version.
        let mut unmanaged = f.clone();
        unmanaged.cycles.get_mut(&1).expect("cycle").managed = false;
        assert_eq!(plan(9, &[on(2, 1)], &unmanaged), Err(Refusal::Forbidden));
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-03T14:05:09Z")
            .expect("time")
            .with_timezone(&chrono::Utc);
        assert_eq!(
            stale_message(Some(12), Some("Rafael Rapporteur"), Some(at), 2, 3),
            "comment No. 12 was changed by Rafael Rapporteur at 2026-12-03 14:05 UTC since you \
             loaded it (version 3, you had 2); reload it and decide again"
        );
    }

    #[test]
    fn a_batch_is_planned_against_the_facts() {
        let f = facts();
        assert_eq!(plan(9, &[asked(1, None, Some(11))], &f), Ok(()));
        assert_eq!(
            plan(9, &[asked(4, None, None)], &f),
            Err(Refusal::NotFound("comment"))
        );
        // A draft: not found for others, a clear error for its author.
        assert_eq!(
            plan(9, &[asked(3, None, None)], &f),
            Err(Refusal::NotFound("comment"))
        );
        assert!(matches!(
            plan(7, &[asked(3, None, None)], &f),
            Err(Refusal::Invalid {
                field: "commentId",
                ..
            })
        ));
        // A loop made inside one batch is found.
        assert!(matches!(
            plan(9, &[asked(1, Some(2), None), asked(2, Some(1), None)], &f),
            Err(Refusal::Invalid {
                index: 1,
                field: "duplicateOfId",
                ..
            })
        ));
        // Only a later revision of the same module addresses a comment.
        assert!(matches!(
            plan(9, &[asked(1, None, Some(10))], &f),
            Err(Refusal::Invalid {
                field: "addressedInRevisionId",
                ..
            })
        ));
        let mut unmanaged = facts();
        unmanaged.cycles.insert(
            1,
            CycleFacts {
                status: CycleStatus::Closed,
                managed: false,
            },
        );
        assert_eq!(
            plan(9, &[asked(1, None, None)], &unmanaged),
            Err(Refusal::Forbidden)
        );
        let mut consolidated = facts();
        consolidated.cycles.insert(
            1,
            CycleFacts {
                status: CycleStatus::Consolidated,
                managed: true,
            },
        );
        assert_eq!(
            plan(9, &[asked(1, None, None)], &consolidated),
            Err(Refusal::Consolidated)
        );
    }
}
