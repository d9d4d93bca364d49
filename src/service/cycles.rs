//! Review cycles: opening, extending and closing comment periods, late grants.

use chrono::{DateTime, Utc};

use super::audit::{self, Change};
use super::Actor;
use crate::auth::AuthUser;
use crate::db::cycles::{self as store, CycleRow, NewCycle};
use crate::db::modules as modules_store;
use crate::db::{accounts, Conn};
use crate::domain::audit::AuditAction;
use crate::domain::cycle::{CycleStatus, Period, Visibility};
use crate::domain::events::Event;
use crate::domain::ids::NodeKind;
use crate::domain::modules::{self as rules, ModuleStatus};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The question a cycle belongs to.
pub async fn question_of(c: &mut Conn<'_>, cycle_id: i64) -> AppResult<i64> {
    store::questions_of(c, &[cycle_id])
        .await?
        .first()
        .map(|(_, q)| *q)
        .ok_or_else(|| AppError::not_found("review cycle"))
}

fn require_manager(user: &AuthUser, question_id: i64) -> AppResult<()> {
    if user.manages_question(question_id) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only the rapporteurs of this question and the secretariat may run its review cycles",
        ))
    }
}

/// A cycle the caller manages, inside a write transaction.
pub(crate) async fn managed(
    c: &mut Conn<'_>,
    user: &AuthUser,
    cycle_id: i64,
) -> AppResult<CycleRow> {
    let cycle = store::by_id(c, cycle_id)
        .await?
        .ok_or_else(|| AppError::not_found("review cycle"))?;
    require_manager(user, question_of(c, cycle_id).await?)?;
    Ok(cycle)
}

/// Open a comment period on a module's latest revision.
#[tracing::instrument(skip_all, fields(revision_id))]
pub async fn open(
    state: &AppState,
    user: &AuthUser,
    revision_id: i64,
    title: &str,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    visibility: Visibility,
) -> AppResult<CycleRow> {
    let now = state.clock.now();
    let title = rules::title(title).map_err(|e| AppError::validation("title", e.0))?;
    let period = Period::new(
        crate::clock::to_micros(opens_at),
        crate::clock::to_micros(closes_at),
        now,
    )
    .map_err(|(f, e)| AppError::validation(f, e.0))?;
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let revision = modules_store::revision_by_id(&mut c, revision_id)
        .await?
        .ok_or_else(|| AppError::not_found("revision"))?;
    let module = modules_store::module_by_id(&mut c, revision.module_id)
        .await?
        .ok_or_else(|| AppError::not_found("module"))?;
    let kit = modules_store::kit_by_id(&mut c, module.kit_id)
        .await?
        .ok_or_else(|| AppError::not_found("kit"))?;
    require_manager(user, kit.question_id)?;
    if module.status == ModuleStatus::Withdrawn {
        return Err(AppError::Conflict("the module is WITHDRAWN".into()));
    }
    if revision.number != module.revision_count {
        return Err(AppError::Conflict(format!(
            "revision {} is not the module's latest (revision {}): open the cycle on the latest",
            revision.number, module.revision_count
        )));
    }
    // Lock the module row so two cycles cannot be opened at once.
    modules_store::update_module(&mut c, module.id, Default::default(), now).await?;
    let active = store::of_modules(&mut c, &[module.id])
        .await?
        .into_iter()
        .find(|cy| cy.period().is_active(now));
    if let Some(a) = active {
        return Err(AppError::Conflict(format!(
            "the module already has a {} review cycle ('{}'); close it first",
            a.period().status(now).as_str(),
            a.title
        )));
    }
    let row = store::insert(
        &mut c,
        NewCycle {
            module_id: module.id,
            revision_id,
            title: &title,
            period,
            visibility: visibility.as_str(),
            created_by: user.id,
        },
        now,
    )
    .await?;
    cycle_changed(
        &mut c,
        user,
        &row,
        AuditAction::CycleOpened,
        format!("review cycle \"{}\" created", row.title),
        now,
    )
    .await?;
    tx.emit(Event::cycle_status(row.module_id, row.id, now));
    tx.commit().await?;
    Ok(row)
}

/// The audit entry of a change to a cycle.
async fn cycle_changed(
    c: &mut Conn<'_>,
    user: &AuthUser,
    row: &CycleRow,
    action: AuditAction,
    summary: String,
    now: DateTime<Utc>,
) -> AppResult<()> {
    audit::record(
        c,
        Actor::User(user),
        Change::new(action, NodeKind::ReviewCycle, row.id, summary).in_cycle(row.id),
        now,
    )
    .await
}

/// Move the close of a scheduled or open cycle later.
#[tracing::instrument(skip_all, fields(cycle_id))]
pub async fn extend(
    state: &AppState,
    user: &AuthUser,
    cycle_id: i64,
    closes_at: DateTime<Utc>,
) -> AppResult<CycleRow> {
    let now = state.clock.now();
    let closes_at = crate::clock::to_micros(closes_at);
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let cycle = managed(&mut c, user, cycle_id).await?;
    match cycle.period().status(now) {
        CycleStatus::Scheduled | CycleStatus::Open => {}
        _ => {
            return Err(AppError::CycleClosed(
                "the cycle is closed; grant late submissions instead".into(),
            ))
        }
    }
    if closes_at <= cycle.closes_at {
        return Err(AppError::validation(
            "closesAt",
            "the new closesAt must be later than the current one",
        ));
    }
    let row = store::set_period(&mut c, cycle_id, cycle.opens_at, closes_at, now)
        .await?
        .ok_or_else(|| AppError::not_found("review cycle"))?;
    let summary = format!(
        "review cycle \"{}\" extended to {}",
        row.title,
        row.closes_at.to_rfc3339()
    );
    cycle_changed(&mut c, user, &row, AuditAction::CycleExtended, summary, now).await?;
    tx.emit(Event::cycle_status(row.module_id, row.id, now));
    tx.commit().await?;
    Ok(row)
}

/// Close a cycle now (a scheduled one is closed before it opens).
#[tracing::instrument(skip_all, fields(cycle_id))]
pub async fn close_now(state: &AppState, user: &AuthUser, cycle_id: i64) -> AppResult<CycleRow> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let cycle = managed(&mut c, user, cycle_id).await?;
    let opens_at = match cycle.period().status(now) {
        CycleStatus::Scheduled => now,
        CycleStatus::Open => cycle.opens_at,
        _ => return Err(AppError::CycleClosed("the cycle is already closed".into())),
    };
    let row = store::set_period(&mut c, cycle_id, opens_at, now, now)
        .await?
        .ok_or_else(|| AppError::not_found("review cycle"))?;
    let summary = format!("review cycle \"{}\" closed early", row.title);
    cycle_changed(&mut c, user, &row, AuditAction::CycleClosed, summary, now).await?;
    tx.emit(Event::cycle_status(row.module_id, row.id, now));
    tx.commit().await?;
    Ok(row)
}

/// Let one organization submit after the close, until `until`.
#[tracing::instrument(skip_all, fields(cycle_id, organization_id))]
pub async fn grant_late(
    state: &AppState,
    user: &AuthUser,
    cycle_id: i64,
    organization_id: i64,
    until: DateTime<Utc>,
) -> AppResult<CycleRow> {
    let now = state.clock.now();
    let until = crate::clock::to_micros(until);
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let cycle = managed(&mut c, user, cycle_id).await?;
    if cycle.consolidated_at.is_some() {
        return Err(AppError::CycleClosed("the cycle is consolidated".into()));
    }
    accounts::organization_by_id(&mut c, organization_id)
        .await?
        .ok_or_else(|| AppError::validation("organizationId", "no such organization"))?;
    if until <= now || until <= cycle.closes_at {
        return Err(AppError::validation(
            "until",
            "until must be in the future and after the cycle's closesAt",
        ));
    }
    store::grant_late(&mut c, cycle_id, organization_id, until, user.id, now).await?;
    let summary = format!(
        "late submissions granted to organization {organization_id} until {}",
        until.to_rfc3339()
    );
    cycle_changed(
        &mut c,
        user,
        &cycle,
        AuditAction::CycleLateGranted,
        summary,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(cycle)
}
