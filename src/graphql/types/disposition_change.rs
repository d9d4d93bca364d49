//! `DispositionChange`: one change of a disposition, before and after.

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::required;
use super::{DispositionKind, User};
use crate::domain::disposition as rules;
use crate::domain::ids::NodeKind;
use crate::graphql::ids;
use crate::service::records::ChangeRow;

/// A disposition's values at one moment.
#[derive(SimpleObject)]
pub struct DispositionValue {
    /// The decision.
    pub kind: DispositionKind,
    /// The rationale.
    pub rationale: Option<String>,
    /// For DUPLICATE: the id of the comment duplicated.
    pub duplicate_of_id: Option<ID>,
}

fn value(
    kind: rules::DispositionKind,
    rationale: &Option<String>,
    dup: Option<i64>,
) -> DispositionValue {
    DispositionValue {
        kind: kind.into(),
        rationale: rationale.clone(),
        duplicate_of_id: dup.map(|d| ids::id(NodeKind::Comment, d)),
    }
}

/// One change of a disposition: who, when, before and after.
pub struct DispositionChange(pub ChangeRow);

/// One change of a disposition: who, when, before and after.
#[Object]
impl DispositionChange {
    /// Who changed it.
    async fn changed_by(&self, ctx: &Context<'_>) -> Result<User> {
        required(ctx, self.0.changed_by, "change's user").await
    }
    /// When.
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
    /// The disposition before (null for the first decision).
    async fn before(&self) -> Option<DispositionValue> {
        self.0
            .before_kind
            .map(|k| value(k, &self.0.before_rationale, self.0.before_duplicate_of_id))
    }
    /// The disposition after.
    async fn after(&self) -> DispositionValue {
        value(
            self.0.after_kind,
            &self.0.after_rationale,
            self.0.after_duplicate_of_id,
        )
    }
}
