//! Storage of review cycles and late-submission grants.

use chrono::{DateTime, Utc};

use super::sql::{Arg, Sql};
use super::Conn;
use crate::domain::cycle::Period;
use crate::domain::cycle::Visibility;
use crate::error::AppResult;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CycleRow {
    pub id: i64,
    pub module_id: i64,
    pub revision_id: i64,
    pub title: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub visibility: Visibility,
    pub next_number: i64,
    pub consolidated_at: Option<DateTime<Utc>>,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The question of the module's kit (whose rapporteurs manage the cycle).
    pub question_id: i64,
}

impl CycleRow {
    pub fn period(&self) -> Period {
        Period {
            opens_at: self.opens_at,
            closes_at: self.closes_at,
            consolidated_at: self.consolidated_at,
        }
    }
}

macro_rules! cycle_cols {
    () => {
        "id, module_id, revision_id, title, opens_at, closes_at, visibility, next_number, \
         consolidated_at, created_by, created_at, updated_at, \
         (SELECT k.question_id FROM modules m JOIN kits k ON k.id = m.kit_id \
          WHERE m.id = review_cycles.module_id) AS question_id"
    };
}

/// A new cycle, already validated.
pub struct NewCycle<'a> {
    pub module_id: i64,
    pub revision_id: i64,
    pub title: &'a str,
    pub period: Period,
    pub visibility: &'a str,
    pub created_by: i64,
}

pub async fn insert(c: &mut Conn<'_>, n: NewCycle<'_>, now: DateTime<Utc>) -> AppResult<CycleRow> {
    Sql::new(concat!(
        "INSERT INTO review_cycles (module_id, revision_id, title, opens_at, closes_at, visibility, \
         next_number, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $8) RETURNING ",
        cycle_cols!()
    ))
    .arg(n.module_id)
    .arg(n.revision_id)
    .arg(n.title)
    .arg(n.period.opens_at)
    .arg(n.period.closes_at)
    .arg(n.visibility)
    .arg(n.created_by)
    .arg(now)
    .fetch_one(c)
    .await
}

pub async fn by_id(c: &mut Conn<'_>, id: i64) -> AppResult<Option<CycleRow>> {
    Sql::new(concat!(
        "SELECT ",
        cycle_cols!(),
        " FROM review_cycles WHERE id = $1"
    ))
    .arg(id)
    .fetch_optional(c)
    .await
}

pub async fn by_ids(c: &mut Conn<'_>, ids: &[i64]) -> AppResult<Vec<CycleRow>> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        cycle_cols!(),
        " FROM review_cycles WHERE id IN "
    ));
    sql.bind_list(ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

/// The cycles of each module, newest first.
pub async fn of_modules(c: &mut Conn<'_>, module_ids: &[i64]) -> AppResult<Vec<CycleRow>> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        cycle_cols!(),
        " FROM review_cycles WHERE module_id IN "
    ));
    sql.bind_list(module_ids.iter().map(|i| Arg::I64(*i)));
    sql.push(" ORDER BY id DESC");
    sql.fetch_all(c).await
}

/// The cycles on each revision, newest first.
pub async fn of_revisions(c: &mut Conn<'_>, revision_ids: &[i64]) -> AppResult<Vec<CycleRow>> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        cycle_cols!(),
        " FROM review_cycles WHERE revision_id IN "
    ));
    sql.bind_list(revision_ids.iter().map(|i| Arg::I64(*i)));
    sql.push(" ORDER BY id DESC");
    sql.fetch_all(c).await
}

/// Move a cycle's dates (extend, close now).
pub async fn set_period(
    c: &mut Conn<'_>,
    id: i64,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<Option<CycleRow>> {
    Sql::new(concat!(
        "UPDATE review_cycles SET opens_at = $1, closes_at = $2, updated_at = $3 WHERE id = $4 RETURNING ",
        cycle_cols!()
    ))
    .arg(opens_at)
    .arg(closes_at)
    .arg(now)
    .arg(id)
    .fetch_optional(c)
    .await
}

/// Take the cycle's next comment number. The row update is the lock that makes
/// numbers gap-free and unique: concurrent submitters queue on it, and a
/// transaction that rolls back gives its number back.
pub async fn take_number(c: &mut Conn<'_>, id: i64) -> AppResult<i64> {
    Sql::new("UPDATE review_cycles SET next_number = next_number + 1 WHERE id = $1 RETURNING next_number")
        .arg(id)
        .fetch_i64(c)
        .await
}

/// Grant (or move) an organization's late-submission window.
pub async fn grant_late(
    c: &mut Conn<'_>,
    cycle_id: i64,
    organization_id: i64,
    until: DateTime<Utc>,
    granted_by: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    Sql::new(
        "INSERT INTO late_grants (cycle_id, organization_id, until, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (cycle_id, organization_id) DO UPDATE SET until = excluded.until, \
         granted_by = excluded.granted_by, granted_at = excluded.granted_at",
    )
    .arg(cycle_id)
    .arg(organization_id)
    .arg(until)
    .arg(granted_by)
    .arg(now)
    .execute(c)
    .await?;
    Ok(())
}

/// Until when an organization may submit late, if a grant exists.
pub async fn late_until(
    c: &mut Conn<'_>,
    cycle_id: i64,
    organization_id: i64,
) -> AppResult<Option<DateTime<Utc>>> {
    let row: Option<(DateTime<Utc>,)> =
        Sql::new("SELECT until FROM late_grants WHERE cycle_id = $1 AND organization_id = $2")
            .arg(cycle_id)
            .arg(organization_id)
            .fetch_optional(c)
            .await?;
    Ok(row.map(|r| r.0))
}

/// The late grants of these cycles: `(cycle_id, organization_id, until)`.
pub async fn late_grants_of(
    c: &mut Conn<'_>,
    cycle_ids: &[i64],
) -> AppResult<Vec<(i64, i64, DateTime<Utc>)>> {
    if cycle_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql =
        Sql::new("SELECT cycle_id, organization_id, until FROM late_grants WHERE cycle_id IN ");
    sql.bind_list(cycle_ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

/// One organization's late grants among these cycles: `(cycle_id, until)`.
pub async fn late_grants_of_org(
    c: &mut Conn<'_>,
    cycle_ids: &[i64],
    organization_id: i64,
) -> AppResult<Vec<(i64, DateTime<Utc>)>> {
    if cycle_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new("SELECT cycle_id, until FROM late_grants WHERE organization_id = $1")
        .arg(organization_id);
    sql.push(" AND cycle_id IN ");
    sql.bind_list(cycle_ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

/// The question each cycle belongs to: `(cycle_id, question_id)`.
pub async fn questions_of(c: &mut Conn<'_>, cycle_ids: &[i64]) -> AppResult<Vec<(i64, i64)>> {
    let mut sql = Sql::new(
        "SELECT rc.id, k.question_id FROM review_cycles rc JOIN modules m ON m.id = rc.module_id \
         JOIN kits k ON k.id = m.kit_id WHERE rc.id IN ",
    );
    sql.bind_list(cycle_ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

/// The end of the latest late-submission grant of a cycle, if any.
pub async fn last_late_until(c: &mut Conn<'_>, cycle_id: i64) -> AppResult<Option<DateTime<Utc>>> {
    let row: Option<(DateTime<Utc>,)> =
        Sql::new("SELECT until FROM late_grants WHERE cycle_id = $1 ORDER BY until DESC LIMIT 1")
            .arg(cycle_id)
            .fetch_optional(c)
            .await?;
    Ok(row.map(|r| r.0))
}

/// Lock a cycle's row until the end of the transaction (writers on the cycle's
/// dispositions and its consolidation serialize on it); the row as it is now.
pub async fn lock(c: &mut Conn<'_>, id: i64) -> AppResult<Option<CycleRow>> {
    Sql::new(concat!(
        "UPDATE review_cycles SET updated_at = updated_at WHERE id = $1 RETURNING ",
        cycle_cols!()
    ))
    .arg(id)
    .fetch_optional(c)
    .await
}

/// Cycles that opened or closed in `(after, until]`, by the clock alone.
pub async fn turning_between(
    c: &mut Conn<'_>,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> AppResult<Vec<CycleRow>> {
    Sql::new(concat!(
        "SELECT ",
        cycle_cols!(),
        " FROM review_cycles WHERE (opens_at > $1 AND opens_at <= $2) \
         OR (closes_at > $1 AND closes_at <= $2) ORDER BY id"
    ))
    .arg(after)
    .arg(until)
    .fetch_all(c)
    .await
}

/// Every cycle (a search over all of them; there are tens, not thousands).
pub async fn all(c: &mut Conn<'_>) -> AppResult<Vec<CycleRow>> {
    Sql::new(concat!(
        "SELECT ",
        cycle_cols!(),
        " FROM review_cycles ORDER BY id"
    ))
    .fetch_all(c)
    .await
}
