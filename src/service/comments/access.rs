//! What each viewer may see of a cycle's comments: the domain's rules
//! (`domain::visibility`) applied to rows, with the late grants they need.

use super::*;

/// May `user` see comments of this cycle beyond their own organization's?
/// `own_late_until` is the late grant of the user's organization in this
/// cycle, if any (see [`rules::scope`]); [`scope_of`] loads it.
pub fn scope_for(
    user: &AuthUser,
    cycle: &CycleRow,
    question_id: i64,
    own_late_until: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> Scope {
    visibility::cycle_scope(
        cycle.visibility,
        &cycle.period(),
        user.manages_question(question_id),
        own_late_until,
        now,
    )
}

/// Can a late grant change what `user` sees of this cycle? Only in a SEALED
/// cycle that has closed, for someone who does not manage its question (so the
/// grant is not read for every other cycle).
fn grant_may_matter(
    user: &AuthUser,
    cycle: &CycleRow,
    question_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    visibility::grant_may_matter(
        cycle.visibility,
        cycle.period().status(now),
        user.manages_question(question_id),
    )
}

/// The late grants of `org` among these cycles, by cycle.
async fn late_grants_of_org(
    c: &mut Conn<'_>,
    cycle_ids: &[i64],
    org: i64,
) -> AppResult<HashMap<i64, chrono::DateTime<chrono::Utc>>> {
    if cycle_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(cycles_store::late_grants_of(c, cycle_ids)
        .await?
        .into_iter()
        .filter(|(_, o, _)| *o == org)
        .map(|(cycle, _, until)| (cycle, until))
        .collect())
}

/// [`scope_for`], with the grant of the user's organization read from the database.
pub async fn scope_of(
    c: &mut Conn<'_>,
    user: &AuthUser,
    cycle: &CycleRow,
    question_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Scope> {
    let late = if grant_may_matter(user, cycle, question_id, now) {
        cycles_store::late_until(c, cycle.id, user.organization_id).await?
    } else {
        None
    };
    Ok(scope_for(user, cycle, question_id, late, now))
}

/// The visibility of a set of cycles for one viewer, for list queries.
pub async fn visible_in(
    c: &mut Conn<'_>,
    user: &AuthUser,
    cycles: &[CycleRow],
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Visible> {
    let matters: Vec<i64> = cycles
        .iter()
        .filter(|cy| grant_may_matter(user, cy, cy.question_id, now))
        .map(|cy| cy.id)
        .collect();
    let late = late_grants_of_org(c, &matters, user.organization_id).await?;
    let mut v = Visible {
        viewer_id: user.id,
        viewer_org: user.organization_id,
        ..Default::default()
    };
    for cy in cycles {
        match scope_for(user, cy, cy.question_id, late.get(&cy.id).copied(), now) {
            Scope::All => v.all_cycles.push(cy.id),
            Scope::OwnOrganization => v.sealed_cycles.push(cy.id),
        }
    }
    Ok(v)
}

/// May `user` see this comment?
pub fn can_see(user: &AuthUser, comment: &CommentRow, scope: Scope) -> bool {
    let state = comment.state;
    rules::visible(
        scope,
        state,
        user.id,
        user.organization_id,
        comment.author_id,
        comment.organization_id,
    )
}

/// A comment the user can see, with its cycle; NOT_FOUND otherwise (no leak).
pub(super) async fn visible_comment(
    c: &mut Conn<'_>,
    user: &AuthUser,
    comment_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<(CommentRow, CycleRow)> {
    let comment = store::by_id(c, comment_id)
        .await?
        .ok_or_else(|| AppError::not_found("comment"))?;
    let cycle = cycle_of(c, comment.cycle_id).await?;
    let q = cycle.question_id;
    if !can_see(user, &comment, scope_of(c, user, &cycle, q, now).await?) {
        return Err(AppError::not_found("comment"));
    }
    Ok((comment, cycle))
}
