//! Storage of dispositions (with their history), the comments a revision
//! addresses, and the carry-forward projection of comments into later revisions.

use chrono::{DateTime, Utc};

use super::comments::Visible;
use super::sql::{finish_page, insert_many, Arg, Sql};
use super::Conn;
use crate::domain::carry::CarryStatus;
use crate::domain::comments::{Anchor, CommentState, CommentType};
use crate::domain::disposition::DispositionKind;
use crate::domain::page::Page;
use crate::error::AppResult;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DispositionRow {
    pub comment_id: i64,
    pub cycle_id: i64,
    pub kind: DispositionKind,
    pub rationale: Option<String>,
    pub duplicate_of_id: Option<i64>,
    pub decided_by: i64,
    pub decided_at: DateTime<Utc>,
    /// How many times it changed (the length of its history): 1 once decided.
    pub version: i64,
}

macro_rules! disposition_cols {
    () => {
        "comment_id, cycle_id, kind, rationale, duplicate_of_id, decided_by, decided_at, version"
    };
}

pub async fn dispositions_of(
    c: &mut Conn<'_>,
    comment_ids: &[i64],
) -> AppResult<Vec<DispositionRow>> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        disposition_cols!(),
        " FROM dispositions WHERE comment_id IN "
    ));
    sql.bind_list(comment_ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

/// Every duplicate link of a cycle: (comment, the comment it duplicates).
pub async fn duplicate_links(c: &mut Conn<'_>, cycle_id: i64) -> AppResult<Vec<(i64, i64)>> {
    Sql::new(
        "SELECT comment_id, duplicate_of_id FROM dispositions \
         WHERE cycle_id = $1 AND duplicate_of_id IS NOT NULL",
    )
    .arg(cycle_id)
    .fetch_all(c)
    .await
}

/// Record a decision, keeping the one it replaces in `disposition_changes`.
/// `after.version` is `before`'s plus one (1 for a first decision); the write
/// only happens while the stored version is still `before`'s, so a decision
/// made on a stale read is refused (`Ok(false)`) instead of overwriting.
pub async fn save(
    c: &mut Conn<'_>,
    before: Option<&DispositionRow>,
    after: &DispositionRow,
) -> AppResult<bool> {
    let n = Sql::new(
        "INSERT INTO dispositions (comment_id, cycle_id, kind, rationale, duplicate_of_id, decided_by, decided_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (comment_id) DO UPDATE SET kind = excluded.kind, \
         rationale = excluded.rationale, duplicate_of_id = excluded.duplicate_of_id, \
         decided_by = excluded.decided_by, decided_at = excluded.decided_at, version = excluded.version \
         WHERE dispositions.version = excluded.version - 1",
    )
    .arg(after.comment_id)
    .arg(after.cycle_id)
    .arg(after.kind.as_str())
    .arg(after.rationale.clone())
    .arg(after.duplicate_of_id)
    .arg(after.decided_by)
    .arg(after.decided_at)
    .arg(after.version)
    .execute(c)
    .await?;
    if n != 1 {
        return Ok(false);
    }
    Sql::new(
        "INSERT INTO disposition_changes (comment_id, changed_by, changed_at, before_kind, before_rationale, \
         before_duplicate_of_id, after_kind, after_rationale, after_duplicate_of_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .arg(after.comment_id)
    .arg(after.decided_by)
    .arg(after.decided_at)
    .arg(before.map(|b| b.kind))
    .arg(before.and_then(|b| b.rationale.clone()))
    .arg(before.and_then(|b| b.duplicate_of_id))
    .arg(after.kind.as_str())
    .arg(after.rationale.clone())
    .arg(after.duplicate_of_id)
    .execute(c)
    .await?;
    Ok(true)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChangeRow {
    pub id: i64,
    pub comment_id: i64,
    pub changed_by: i64,
    pub changed_at: DateTime<Utc>,
    pub before_kind: Option<DispositionKind>,
    pub before_rationale: Option<String>,
    pub before_duplicate_of_id: Option<i64>,
    pub after_kind: DispositionKind,
    pub after_rationale: Option<String>,
    pub after_duplicate_of_id: Option<i64>,
}

/// The history of each comment's disposition, oldest first.
pub async fn changes_of(c: &mut Conn<'_>, comment_ids: &[i64]) -> AppResult<Vec<ChangeRow>> {
    let mut sql = Sql::new(
        "SELECT id, comment_id, changed_by, changed_at, before_kind, before_rationale, before_duplicate_of_id, \
         after_kind, after_rationale, after_duplicate_of_id FROM disposition_changes WHERE comment_id IN ",
    );
    sql.bind_list(comment_ids.iter().map(|i| Arg::I64(*i)));
    sql.push(" ORDER BY comment_id, id");
    sql.fetch_all(c).await
}

/// One group of a cycle's progress: how many comments share these values.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProgressGroup {
    pub comment_type: CommentType,
    pub organization_id: i64,
    pub state: CommentState,
    pub disposition: Option<DispositionKind>,
    pub count: i64,
}

/// The visible, non-draft comments of a cycle, grouped.
pub async fn progress(
    c: &mut Conn<'_>,
    v: &Visible,
    cycle_id: i64,
) -> AppResult<Vec<ProgressGroup>> {
    let mut sql = Sql::new(
        "SELECT comment_type, organization_id, state, disposition, COUNT(*) AS count FROM \
         (SELECT comment_type, organization_id, state, \
         (SELECT d.kind FROM dispositions d WHERE d.comment_id = comments.id) AS disposition \
         FROM comments WHERE cycle_id = ",
    );
    sql.bind(cycle_id);
    sql.push(" AND state <> 'DRAFT'");
    v.push(&mut sql);
    sql.push(") t GROUP BY comment_type, organization_id, state, disposition");
    sql.fetch_all(c).await
}

/// Submitted comments of the cycle without a disposition.
pub async fn undecided(c: &mut Conn<'_>, cycle_id: i64) -> AppResult<i64> {
    Sql::new(
        "SELECT COUNT(*) FROM comments WHERE cycle_id = $1 AND state = 'SUBMITTED' \
         AND NOT EXISTS (SELECT 1 FROM dispositions d WHERE d.comment_id = comments.id)",
    )
    .arg(cycle_id)
    .fetch_i64(c)
    .await
}

pub async fn mark_consolidated(
    c: &mut Conn<'_>,
    cycle_id: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let n = Sql::new(
        "UPDATE review_cycles SET consolidated_at = $1, updated_at = $1 WHERE id = $2 AND consolidated_at IS NULL",
    )
    .arg(now)
    .arg(cycle_id)
    .execute(c)
    .await?;
    Ok(n == 1)
}

/// Record that `revision_id` addresses these comments.
pub async fn insert_addressed(
    c: &mut Conn<'_>,
    revision_id: i64,
    comment_ids: &[i64],
) -> AppResult<()> {
    let rows = comment_ids
        .iter()
        .map(|id| vec![Arg::I64(revision_id), Arg::I64(*id)])
        .collect();
    insert_many(c, "addressed_comments (revision_id, comment_id)", 2, rows).await?;
    Ok(())
}

/// (comment, revision) pairs: the revisions that addressed each comment, oldest first.
pub async fn addressed_in(c: &mut Conn<'_>, comment_ids: &[i64]) -> AppResult<Vec<(i64, i64)>> {
    let mut sql = Sql::new(
        "SELECT a.comment_id, a.revision_id FROM addressed_comments a \
         JOIN revisions r ON r.id = a.revision_id WHERE a.comment_id IN ",
    );
    sql.bind_list(comment_ids.iter().map(|i| Arg::I64(*i)));
    sql.push(" ORDER BY a.comment_id, r.number");
    sql.fetch_all(c).await
}

/// The comments addressed by any of these revisions.
pub async fn addressed_by(c: &mut Conn<'_>, revision_ids: &[i64]) -> AppResult<Vec<i64>> {
    let mut sql =
        Sql::new("SELECT DISTINCT comment_id FROM addressed_comments WHERE revision_id IN ");
    sql.bind_list(revision_ids.iter().map(|i| Arg::I64(*i)));
    sql.push(" ORDER BY comment_id");
    let rows: Vec<(i64,)> = sql.fetch_all(c).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Where a comment is in a later revision.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CarriedRow {
    pub revision_id: i64,
    pub comment_id: i64,
    pub status: CarryStatus,
    pub score: Option<f64>,
    pub section_anchor: Option<String>,
    pub block_anchor: Option<String>,
    pub quote_start: Option<i64>,
    pub quote_end: Option<i64>,
    pub doc_order: i64,
}

macro_rules! carried_cols {
    () => {
        "revision_id, comment_id, status, score, section_anchor, block_anchor, quote_start, quote_end, doc_order"
    };
}

pub async fn insert_carried(c: &mut Conn<'_>, rows: Vec<CarriedRow>) -> AppResult<u64> {
    let rows = rows
        .into_iter()
        .map(|r| {
            vec![
                Arg::I64(r.revision_id),
                Arg::I64(r.comment_id),
                Arg::from(r.status),
                Arg::OptF64(r.score),
                Arg::OptText(r.section_anchor),
                Arg::OptText(r.block_anchor),
                Arg::OptI64(r.quote_start),
                Arg::OptI64(r.quote_end),
                Arg::I64(r.doc_order),
            ]
        })
        .collect();
    insert_many(
        c,
        concat!("carried_anchors (", carried_cols!(), ")"),
        9,
        rows,
    )
    .await
}

/// Forget a comment's projections (a draft deleted, or re-anchored).
pub async fn delete_carried(c: &mut Conn<'_>, comment_id: i64) -> AppResult<()> {
    Sql::new("DELETE FROM carried_anchors WHERE comment_id = $1")
        .arg(comment_id)
        .execute(c)
        .await?;
    Ok(())
}

/// Each of these comments' projection into one revision.
pub async fn carried_of(
    c: &mut Conn<'_>,
    revision_id: i64,
    comment_ids: &[i64],
) -> AppResult<Vec<CarriedRow>> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        carried_cols!(),
        " FROM carried_anchors WHERE revision_id = "
    ));
    sql.bind(revision_id);
    sql.push(" AND comment_id IN ");
    sql.bind_list(comment_ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

/// Filters on a revision's carried comments.
#[derive(Debug, Clone, Default)]
pub struct CarriedFilter {
    pub status: Option<CarryStatus>,
    pub disposition: Option<DispositionKind>,
}

fn carried_filtered(sql: &mut Sql, revision_id: i64, v: &Visible, f: &CarriedFilter) {
    sql.push(" WHERE revision_id = ").bind(revision_id);
    if let Some(s) = &f.status {
        sql.push(" AND status = ").bind(*s);
    }
    sql.push(" AND comment_id IN (SELECT id FROM comments WHERE cycle_id IN ");
    sql.bind_list(v.cycles());
    v.push(sql);
    if let Some(d) = &f.disposition {
        sql.push(" AND EXISTS (SELECT 1 FROM dispositions d WHERE d.comment_id = comments.id AND d.kind = ")
            .bind(*d);
        sql.push(")");
    }
    sql.push(")");
}

/// The comments of earlier revisions the viewer can see, where they are in this revision.
pub async fn carried_list(
    c: &mut Conn<'_>,
    revision_id: i64,
    v: &Visible,
    f: &CarriedFilter,
    page: &Page,
) -> AppResult<(Vec<CarriedRow>, bool)> {
    let mut sql = Sql::new(concat!("SELECT ", carried_cols!(), " FROM carried_anchors"));
    carried_filtered(&mut sql, revision_id, v, f);
    sql.page_by("doc_order", "comment_id", page, false);
    Ok(finish_page(sql.fetch_all(c).await?, page))
}

pub async fn carried_count(
    c: &mut Conn<'_>,
    revision_id: i64,
    v: &Visible,
    f: &CarriedFilter,
) -> AppResult<i64> {
    let mut sql = Sql::new("SELECT COUNT(*) FROM carried_anchors");
    carried_filtered(&mut sql, revision_id, v, f);
    sql.fetch_i64(c).await
}

/// What the projection needs of a comment: its anchor on its own revision.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OriginRow {
    pub id: i64,
    pub revision_id: i64,
    #[sqlx(flatten)]
    pub anchor: Anchor,
}

/// Every comment (drafts too: nothing is lost) made on these revisions.
pub async fn origins_on(c: &mut Conn<'_>, revision_ids: &[i64]) -> AppResult<Vec<OriginRow>> {
    let mut sql = Sql::new(
        "SELECT id, revision_id, anchor_kind, section_anchor, block_anchor, quote_exact, quote_prefix, \
         quote_suffix, quote_start, quote_end FROM comments WHERE revision_id IN ",
    );
    sql.bind_list(revision_ids.iter().map(|i| Arg::I64(*i)));
    sql.push(" ORDER BY revision_id, id");
    sql.fetch_all(c).await
}
