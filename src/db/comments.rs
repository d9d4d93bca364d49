//! Storage of comments, their edits, and replies; visibility applied in SQL.

use chrono::{DateTime, Utc};

use super::sql::{finish_page, Arg, Sql};
use super::Conn;
use crate::domain::comments::{Anchor, AnchorKind, CommentState, CommentType, Quote, ReplyState};
use crate::domain::page::Page;
use crate::error::AppResult;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommentRow {
    pub id: i64,
    pub cycle_id: i64,
    pub revision_id: i64,
    pub author_id: i64,
    pub organization_id: i64,
    pub number: Option<i64>,
    pub state: CommentState,
    pub comment_type: CommentType,
    pub body: String,
    pub proposed_change: Option<String>,
    pub language: Option<String>,
    /// Where it points, from the anchor columns (see [`anchor_args`]).
    #[sqlx(flatten)]
    pub anchor: Anchor,
    pub doc_order: i64,
    pub late: bool,
    pub submitted_at: Option<DateTime<Utc>>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! comment_cols {
    () => {
        "id, cycle_id, revision_id, author_id, organization_id, number, state, comment_type, body, \
         proposed_change, language, anchor_kind, section_anchor, block_anchor, quote_exact, quote_prefix, \
         quote_suffix, quote_start, quote_end, doc_order, late, submitted_at, withdrawn_at, created_at, updated_at"
    };
}

/// The values of an anchor's columns, in the order of the anchor columns
/// (`anchor_kind, section_anchor, block_anchor, quote_exact, quote_prefix,
/// quote_suffix, quote_start, quote_end`): the one
/// mapping from [`Anchor`] to storage.
pub(crate) fn anchor_args(a: &Anchor) -> [Arg; 8] {
    let q = a.quote();
    [
        Arg::from(a.kind()),
        Arg::from(a.section()),
        Arg::from(a.block()),
        Arg::from(q.map(|q| q.exact.as_str())),
        Arg::from(q.and_then(|q| q.prefix.as_deref())),
        Arg::from(q.and_then(|q| q.suffix.as_deref())),
        Arg::from(q.map(|q| q.start)),
        Arg::from(q.map(|q| q.end)),
    ]
}

/// And back: an [`Anchor`] read from its columns, on either database.
macro_rules! anchor_from_row {
    ($row:ty) => {
        impl<'r> sqlx::FromRow<'r, $row> for Anchor {
            fn from_row(row: &'r $row) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                let kind: AnchorKind = row.try_get("anchor_kind")?;
                let exact: Option<String> = row.try_get("quote_exact")?;
                let quote = match exact {
                    None => None,
                    Some(exact) => {
                        let at = |col: &str| -> Result<i64, sqlx::Error> {
                            row.try_get::<Option<i64>, _>(col)?.ok_or_else(|| {
                                sqlx::Error::ColumnDecode {
                                    index: col.into(),
                                    source: "a stored quote has no position".into(),
                                }
                            })
                        };
                        Some(Quote {
                            exact,
                            prefix: row.try_get("quote_prefix")?,
                            suffix: row.try_get("quote_suffix")?,
                            start: at("quote_start")?,
                            end: at("quote_end")?,
                        })
                    }
                };
                Anchor::from_parts(
                    kind,
                    row.try_get("section_anchor")?,
                    row.try_get("block_anchor")?,
                    quote,
                )
                .map_err(|e| sqlx::Error::ColumnDecode {
                    index: "anchor_kind".into(),
                    source: Box::new(e),
                })
            }
        }
    };
}
anchor_from_row!(sqlx::sqlite::SqliteRow);
anchor_from_row!(sqlx::postgres::PgRow);

/// The text of a comment.
#[derive(Debug, Clone)]
pub struct CommentText {
    pub comment_type: CommentType,
    pub body: String,
    pub proposed_change: Option<String>,
    pub language: Option<String>,
}

pub struct NewComment<'a> {
    pub cycle_id: i64,
    pub revision_id: i64,
    pub author_id: i64,
    pub organization_id: i64,
    pub anchor: &'a Anchor,
    /// Where the anchor is in document order (see `domain::comments::document_order`).
    pub doc_order: i64,
    pub text: &'a CommentText,
}

/// How a new comment starts: a draft, or submitted with its number.
#[derive(Debug, Clone, Copy)]
pub enum Start {
    Draft,
    Submitted { number: i64, late: bool },
}

pub async fn insert(
    c: &mut Conn<'_>,
    n: NewComment<'_>,
    start: Start,
    now: DateTime<Utc>,
) -> AppResult<CommentRow> {
    let (state, number, late, submitted_at) = match start {
        Start::Draft => (CommentState::Draft, None, false, None),
        Start::Submitted { number, late } => {
            (CommentState::Submitted, Some(number), late, Some(now))
        }
    };
    Sql::new(concat!(
        "INSERT INTO comments (cycle_id, revision_id, author_id, organization_id, number, state, comment_type, body, \
         proposed_change, language, anchor_kind, section_anchor, block_anchor, quote_exact, quote_prefix, quote_suffix, \
         quote_start, quote_end, doc_order, late, submitted_at, created_at, updated_at) VALUES \
         ($1, $2, $3, $4, $20, $21, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $22, $19, $19) RETURNING ",
        comment_cols!()
    ))
    .arg(n.cycle_id)
    .arg(n.revision_id)
    .arg(n.author_id)
    .arg(n.organization_id)
    .arg(n.text.comment_type.as_str())
    .arg(n.text.body.as_str())
    .arg(n.text.proposed_change.clone())
    .arg(n.text.language.clone())
    .args(anchor_args(n.anchor))
    .arg(n.doc_order)
    .arg(late)
    .arg(now)
    .arg(number)
    .arg(state)
    .arg(submitted_at)
    .fetch_one(c)
    .await
}

pub async fn by_id(c: &mut Conn<'_>, id: i64) -> AppResult<Option<CommentRow>> {
    Sql::new(concat!(
        "SELECT ",
        comment_cols!(),
        " FROM comments WHERE id = $1"
    ))
    .arg(id)
    .fetch_optional(c)
    .await
}

pub async fn by_ids(c: &mut Conn<'_>, ids: &[i64]) -> AppResult<Vec<CommentRow>> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        comment_cols!(),
        " FROM comments WHERE id IN "
    ));
    sql.bind_list(ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

/// Replace a comment's text (the caller has stored the old one as an edit).
pub async fn set_text(
    c: &mut Conn<'_>,
    id: i64,
    t: &CommentText,
    now: DateTime<Utc>,
) -> AppResult<CommentRow> {
    Sql::new(concat!(
        "UPDATE comments SET comment_type = $1, body = $2, proposed_change = $3, language = $4, updated_at = $5 \
         WHERE id = $6 RETURNING ",
        comment_cols!()
    ))
    .arg(t.comment_type.as_str())
    .arg(t.body.as_str())
    .arg(t.proposed_change.clone())
    .arg(t.language.clone())
    .arg(now)
    .arg(id)
    .fetch_one(c)
    .await
}

/// Move a draft's anchor.
pub async fn set_anchor(
    c: &mut Conn<'_>,
    id: i64,
    a: &Anchor,
    doc_order: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    Sql::new(
        "UPDATE comments SET anchor_kind = $1, section_anchor = $2, block_anchor = $3, quote_exact = $4, \
         quote_prefix = $5, quote_suffix = $6, quote_start = $7, quote_end = $8, doc_order = $9, updated_at = $10 \
         WHERE id = $11",
    )
    .args(anchor_args(a))
    .arg(doc_order)
    .arg(now)
    .arg(id)
    .execute(c)
    .await?;
    Ok(())
}

/// A draft becomes SUBMITTED with its number.
pub async fn submit(
    c: &mut Conn<'_>,
    id: i64,
    number: i64,
    late: bool,
    now: DateTime<Utc>,
) -> AppResult<CommentRow> {
    Sql::new(concat!(
        "UPDATE comments SET state = 'SUBMITTED', number = $1, late = $2, submitted_at = $3, updated_at = $3 \
         WHERE id = $4 AND state = 'DRAFT' RETURNING ",
        comment_cols!()
    ))
    .arg(number)
    .arg(late)
    .arg(now)
    .arg(id)
    .fetch_one(c)
    .await
}

pub async fn withdraw(c: &mut Conn<'_>, id: i64, now: DateTime<Utc>) -> AppResult<CommentRow> {
    Sql::new(concat!(
        "UPDATE comments SET state = 'WITHDRAWN', withdrawn_at = $1, updated_at = $1 WHERE id = $2 RETURNING ",
        comment_cols!()
    ))
    .arg(now)
    .arg(id)
    .fetch_one(c)
    .await
}

pub async fn delete_draft(c: &mut Conn<'_>, id: i64) -> AppResult<bool> {
    super::consolidation::delete_carried(c, id).await?;
    let n = Sql::new("DELETE FROM comments WHERE id = $1 AND state = 'DRAFT'")
        .arg(id)
        .execute(c)
        .await?;
    Ok(n == 1)
}

/// Who sees what, per cycle: in `all_cycles` every submitted comment, in
/// `sealed_cycles` only the viewer's organization's; drafts are their author's.
#[derive(Debug, Clone, Default)]
pub struct Visible {
    pub viewer_id: i64,
    pub viewer_org: i64,
    pub all_cycles: Vec<i64>,
    pub sealed_cycles: Vec<i64>,
}

impl Visible {
    pub(crate) fn push(&self, sql: &mut Sql) {
        sql.push(" AND ((state = 'DRAFT' AND author_id = ")
            .bind(self.viewer_id);
        sql.push(") OR (state <> 'DRAFT' AND (cycle_id IN ");
        sql.bind_list(self.all_cycles.iter().map(|i| Arg::I64(*i)));
        sql.push(" OR (organization_id = ").bind(self.viewer_org);
        sql.push(" AND cycle_id IN ");
        sql.bind_list(self.sealed_cycles.iter().map(|i| Arg::I64(*i)));
        sql.push("))))");
    }

    pub(crate) fn cycles(&self) -> impl Iterator<Item = Arg> + '_ {
        self.all_cycles
            .iter()
            .chain(&self.sealed_cycles)
            .map(|i| Arg::I64(*i))
    }
}

/// Filters on a list of comments.
#[derive(Debug, Clone, Default)]
pub struct CommentFilter {
    pub section_anchor: Option<String>,
    pub comment_type: Option<CommentType>,
    pub organization_id: Option<i64>,
    pub state: Option<CommentState>,
    pub late: Option<bool>,
    pub revision_id: Option<i64>,
    /// Submitted and withdrawn comments only (the viewer's drafts left out).
    pub non_draft: bool,
}

/// Orders of a list of comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentOrder {
    /// Section, block, place in the block; document-level comments first.
    Document,
    /// By number (the order of submission); drafts last.
    Number,
}

impl CommentOrder {
    /// The SQL sort key and how to read it from a row, for cursors.
    pub fn key_sql(self) -> &'static str {
        match self {
            CommentOrder::Document => "doc_order",
            CommentOrder::Number => "COALESCE(number, 9000000000000000)",
        }
    }

    pub fn key_of(self, r: &CommentRow) -> (i64, i64) {
        match self {
            CommentOrder::Document => (r.doc_order, r.id),
            CommentOrder::Number => (r.number.unwrap_or(9_000_000_000_000_000), r.id),
        }
    }
}

pub(crate) fn filtered(sql: &mut Sql, v: &Visible, f: &CommentFilter) {
    sql.push(" WHERE cycle_id IN ");
    sql.bind_list(v.cycles());
    v.push(sql);
    if let Some(s) = &f.section_anchor {
        sql.push(" AND section_anchor = ").bind(s.clone());
    }
    if let Some(t) = &f.comment_type {
        sql.push(" AND comment_type = ").bind(*t);
    }
    if let Some(o) = f.organization_id {
        sql.push(" AND organization_id = ").bind(o);
    }
    if let Some(s) = &f.state {
        sql.push(" AND state = ").bind(*s);
    }
    if let Some(l) = f.late {
        sql.push(" AND late = ").bind(l);
    }
    if let Some(r) = f.revision_id {
        sql.push(" AND revision_id = ").bind(r);
    }
    if f.non_draft {
        sql.push(" AND state <> 'DRAFT'");
    }
}

pub async fn list(
    c: &mut Conn<'_>,
    v: &Visible,
    f: &CommentFilter,
    order: CommentOrder,
    page: &Page,
) -> AppResult<(Vec<CommentRow>, bool)> {
    let mut sql = Sql::new(concat!("SELECT ", comment_cols!(), " FROM comments"));
    filtered(&mut sql, v, f);
    sql.page_by(order.key_sql(), "id", page, false);
    Ok(finish_page(sql.fetch_all(c).await?, page))
}

pub async fn count(c: &mut Conn<'_>, v: &Visible, f: &CommentFilter) -> AppResult<i64> {
    let mut sql = Sql::new("SELECT COUNT(*) FROM comments");
    filtered(&mut sql, v, f);
    sql.fetch_i64(c).await
}

/// Visible submitted (not withdrawn) comments per section anchor; `None` for document-level ones.
pub async fn count_by_section(
    c: &mut Conn<'_>,
    v: &Visible,
    f: &CommentFilter,
) -> AppResult<Vec<(Option<String>, i64)>> {
    let mut sql = Sql::new("SELECT section_anchor, COUNT(*) FROM comments");
    filtered(&mut sql, v, f);
    sql.push(" AND state = 'SUBMITTED' GROUP BY section_anchor ORDER BY section_anchor");
    sql.fetch_all(c).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EditRow {
    pub id: i64,
    pub comment_id: i64,
    pub editor_id: i64,
    pub edited_at: DateTime<Utc>,
    pub comment_type: CommentType,
    pub body: String,
    pub proposed_change: Option<String>,
    pub language: Option<String>,
}

/// Keep a comment's text as it was before an edit.
pub async fn insert_edit(
    c: &mut Conn<'_>,
    comment_id: i64,
    editor_id: i64,
    before: &CommentText,
    now: DateTime<Utc>,
) -> AppResult<()> {
    Sql::new(
        "INSERT INTO comment_edits (comment_id, editor_id, edited_at, comment_type, body, proposed_change, language) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .arg(comment_id)
    .arg(editor_id)
    .arg(now)
    .arg(before.comment_type.as_str())
    .arg(before.body.as_str())
    .arg(before.proposed_change.clone())
    .arg(before.language.clone())
    .execute(c)
    .await?;
    Ok(())
}

/// The edits of each comment, oldest first.
pub async fn edits_of(c: &mut Conn<'_>, comment_ids: &[i64]) -> AppResult<Vec<EditRow>> {
    let mut sql = Sql::new(
        "SELECT id, comment_id, editor_id, edited_at, comment_type, body, proposed_change, language \
         FROM comment_edits WHERE comment_id IN ",
    );
    sql.bind_list(comment_ids.iter().map(|i| Arg::I64(*i)));
    sql.push(" ORDER BY comment_id, id");
    sql.fetch_all(c).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplyRow {
    pub id: i64,
    pub comment_id: i64,
    pub author_id: i64,
    pub organization_id: i64,
    pub body: String,
    pub state: ReplyState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! reply_cols {
    () => {
        "id, comment_id, author_id, organization_id, body, state, created_at, updated_at"
    };
}

pub async fn insert_reply(
    c: &mut Conn<'_>,
    comment_id: i64,
    author_id: i64,
    organization_id: i64,
    body: &str,
    now: DateTime<Utc>,
) -> AppResult<ReplyRow> {
    Sql::new(concat!(
        "INSERT INTO replies (comment_id, author_id, organization_id, body, state, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'ACTIVE', $5, $5) RETURNING ",
        reply_cols!()
    ))
    .arg(comment_id)
    .arg(author_id)
    .arg(organization_id)
    .arg(body)
    .arg(now)
    .fetch_one(c)
    .await
}

pub async fn reply_by_id(c: &mut Conn<'_>, id: i64) -> AppResult<Option<ReplyRow>> {
    Sql::new(concat!(
        "SELECT ",
        reply_cols!(),
        " FROM replies WHERE id = $1"
    ))
    .arg(id)
    .fetch_optional(c)
    .await
}

pub async fn replies_by_ids(c: &mut Conn<'_>, ids: &[i64]) -> AppResult<Vec<ReplyRow>> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        reply_cols!(),
        " FROM replies WHERE id IN "
    ));
    sql.bind_list(ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

pub async fn update_reply(
    c: &mut Conn<'_>,
    id: i64,
    body: Option<&str>,
    state: Option<ReplyState>,
    now: DateTime<Utc>,
) -> AppResult<ReplyRow> {
    let mut sql = Sql::new("UPDATE replies SET updated_at = ");
    sql.bind(now);
    if let Some(b) = body {
        sql.push(", body = ").bind(b);
    }
    if let Some(s) = state {
        sql.push(", state = ").bind(s);
    }
    sql.push(" WHERE id = ").bind(id);
    sql.push(concat!(" RETURNING ", reply_cols!()));
    sql.fetch_one(c).await
}

/// The replies of each comment, oldest first.
pub async fn replies_of(c: &mut Conn<'_>, comment_ids: &[i64]) -> AppResult<Vec<ReplyRow>> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        reply_cols!(),
        " FROM replies WHERE comment_id IN "
    ));
    sql.bind_list(comment_ids.iter().map(|i| Arg::I64(*i)));
    sql.push(" ORDER BY comment_id, id");
    sql.fetch_all(c).await
}
