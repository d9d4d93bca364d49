//! `CycleProgress`: where the consolidation of a cycle stands.

use async_graphql::{Context, Object, Result, SimpleObject};

use super::required;
use super::{CommentType, DispositionKind, Organization};
use crate::service::consolidation::Progress;

/// How many comments have one disposition.
#[derive(SimpleObject)]
pub struct DispositionCount {
    /// The disposition.
    pub kind: DispositionKind,
    /// How many comments have it.
    pub count: i64,
}

/// Comments of one type.
#[derive(SimpleObject)]
pub struct TypeCount {
    /// The type.
    #[graphql(name = "type")]
    pub comment_type: CommentType,
    /// Submitted and withdrawn comments of this type.
    pub count: i64,
    /// Submitted ones still without a disposition.
    pub remaining: i64,
}

/// Comments of one organization.
pub struct OrganizationCount {
    organization_id: i64,
    count: i64,
    remaining: i64,
}

/// Comments of one organization.
#[Object]
impl OrganizationCount {
    /// The organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        required(ctx, self.organization_id, "organization").await
    }
    /// Submitted and withdrawn comments.
    async fn count(&self) -> i64 {
        self.count
    }
    /// Submitted ones still without a disposition.
    async fn remaining(&self) -> i64 {
        self.remaining
    }
}

/// Where the consolidation of a cycle stands.
#[derive(SimpleObject)]
pub struct CycleProgress {
    /// Submitted and withdrawn comments the viewer can see.
    pub total: i64,
    /// Submitted (not withdrawn).
    pub submitted: i64,
    /// Withdrawn by their organizations (they need no disposition).
    pub withdrawn: i64,
    /// Submitted comments with a disposition.
    pub decided: i64,
    /// Submitted comments still without one.
    pub remaining: i64,
    /// Counts by disposition (every kind, zeros included).
    pub by_disposition: Vec<DispositionCount>,
    /// Counts by type.
    pub by_type: Vec<TypeCount>,
    /// Counts by organization.
    pub by_organization: Vec<OrganizationCount>,
}

impl From<Progress> for CycleProgress {
    fn from(p: Progress) -> Self {
        let by_type = p
            .by_type
            .into_iter()
            .map(|(t, count, remaining)| TypeCount {
                comment_type: t.into(),
                count,
                remaining,
            })
            .collect();
        CycleProgress {
            total: p.total,
            submitted: p.submitted,
            withdrawn: p.withdrawn,
            decided: p.decided,
            remaining: p.remaining,
            by_disposition: p
                .by_disposition
                .into_iter()
                .map(|(k, count)| DispositionCount {
                    kind: k.into(),
                    count,
                })
                .collect(),
            by_type,
            by_organization: p
                .by_organization
                .into_iter()
                .map(|(organization_id, count, remaining)| OrganizationCount {
                    organization_id,
                    count,
                    remaining,
                })
                .collect(),
        }
    }
}
