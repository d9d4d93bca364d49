//! Storage of kits, modules, revisions and their sections and blocks.

use chrono::{DateTime, Utc};

use super::sql::{finish_page, insert_many, Arg, Sql};
use super::Conn;
use crate::domain::document::BlockKind;
use crate::domain::document::{Anchors, Document};
use crate::domain::modules::ModuleStatus;
use crate::domain::page::Page;
use crate::error::AppResult;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KitRow {
    pub id: i64,
    pub question_id: i64,
    pub title: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! kit_cols {
    () => {
        "id, question_id, title, description, created_at, updated_at"
    };
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ModuleRow {
    pub id: i64,
    pub kit_id: i64,
    pub number: i64,
    pub title: String,
    pub status: ModuleStatus,
    /// The latest revision's number (0 before the first).
    pub revision_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! module_cols {
    () => {
        "id, kit_id, number, title, status, revision_count, created_at, updated_at"
    };
}

/// A revision without its Markdown (fetched on demand: it can be megabytes).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RevisionRow {
    pub id: i64,
    pub module_id: i64,
    pub number: i64,
    pub base_revision_id: Option<i64>,
    pub author_id: i64,
    pub summary: String,
    pub content_hash: String,
    pub word_count: i64,
    pub created_at: DateTime<Utc>,
}

macro_rules! revision_cols {
    () => {
        "id, module_id, number, base_revision_id, author_id, summary, content_hash, word_count, created_at"
    };
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SectionRow {
    pub revision_id: i64,
    pub position: i64,
    pub anchor_id: String,
    pub level: i64,
    pub clause: String,
    pub title: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BlockRow {
    pub revision_id: i64,
    pub position: i64,
    pub section_position: i64,
    pub anchor_id: String,
    pub kind: BlockKind,
    pub text: String,
    pub source_start: i64,
    pub source_end: i64,
}

macro_rules! block_cols {
    () => {
        "revision_id, position, section_position, anchor_id, kind, text, source_start, source_end"
    };
}

pub async fn insert_kit(
    c: &mut Conn<'_>,
    question_id: i64,
    title: &str,
    description: &str,
    now: DateTime<Utc>,
) -> AppResult<KitRow> {
    Sql::new(concat!(
        "INSERT INTO kits (question_id, title, description, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING ",
        kit_cols!()
    ))
    .arg(question_id)
    .arg(title)
    .arg(description)
    .arg(now)
    .fetch_one(c)
    .await
}

pub async fn update_kit(
    c: &mut Conn<'_>,
    id: i64,
    title: Option<String>,
    description: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<Option<KitRow>> {
    let mut sql = Sql::new("UPDATE kits SET updated_at = ");
    sql.bind(now);
    if let Some(t) = title {
        sql.push(", title = ").bind(t);
    }
    if let Some(d) = description {
        sql.push(", description = ").bind(d);
    }
    sql.push(" WHERE id = ").bind(id);
    sql.push(concat!(" RETURNING ", kit_cols!()));
    sql.fetch_optional(c).await
}

pub async fn kits_by_ids(c: &mut Conn<'_>, ids: &[i64]) -> AppResult<Vec<KitRow>> {
    let mut sql = Sql::new(concat!("SELECT ", kit_cols!(), " FROM kits WHERE id IN "));
    sql.bind_list(ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

pub async fn kit_by_id(c: &mut Conn<'_>, id: i64) -> AppResult<Option<KitRow>> {
    Sql::new(concat!("SELECT ", kit_cols!(), " FROM kits WHERE id = $1"))
        .arg(id)
        .fetch_optional(c)
        .await
}

/// The kits of each question, oldest first.
pub async fn kits_of_questions(c: &mut Conn<'_>, question_ids: &[i64]) -> AppResult<Vec<KitRow>> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        kit_cols!(),
        " FROM kits WHERE question_id IN "
    ));
    sql.bind_list(question_ids.iter().map(|i| Arg::I64(*i)));
    sql.push(" ORDER BY id");
    sql.fetch_all(c).await
}

pub async fn insert_module(
    c: &mut Conn<'_>,
    kit_id: i64,
    number: i64,
    title: &str,
    status: &str,
    now: DateTime<Utc>,
) -> AppResult<ModuleRow> {
    Sql::new(concat!(
        "INSERT INTO modules (kit_id, number, title, status, revision_count, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 0, $5, $5) RETURNING ",
        module_cols!()
    ))
    .arg(kit_id)
    .arg(number)
    .arg(title)
    .arg(status)
    .arg(now)
    .fetch_one(c)
    .await
}

/// Changed fields of a module; `None` leaves a field alone.
#[derive(Default)]
pub struct ModuleChanges {
    pub number: Option<i64>,
    pub title: Option<String>,
    pub status: Option<ModuleStatus>,
}

pub async fn update_module(
    c: &mut Conn<'_>,
    id: i64,
    ch: ModuleChanges,
    now: DateTime<Utc>,
) -> AppResult<Option<ModuleRow>> {
    let mut sql = Sql::new("UPDATE modules SET updated_at = ");
    sql.bind(now);
    if let Some(v) = ch.number {
        sql.push(", number = ").bind(v);
    }
    if let Some(v) = ch.title {
        sql.push(", title = ").bind(v);
    }
    if let Some(v) = ch.status {
        sql.push(", status = ").bind(v);
    }
    sql.push(" WHERE id = ").bind(id);
    sql.push(concat!(" RETURNING ", module_cols!()));
    sql.fetch_optional(c).await
}

pub async fn modules_by_ids(c: &mut Conn<'_>, ids: &[i64]) -> AppResult<Vec<ModuleRow>> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        module_cols!(),
        " FROM modules WHERE id IN "
    ));
    sql.bind_list(ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

pub async fn module_by_id(c: &mut Conn<'_>, id: i64) -> AppResult<Option<ModuleRow>> {
    Sql::new(concat!(
        "SELECT ",
        module_cols!(),
        " FROM modules WHERE id = $1"
    ))
    .arg(id)
    .fetch_optional(c)
    .await
}

/// The modules of each kit, by number.
pub async fn modules_of_kits(c: &mut Conn<'_>, kit_ids: &[i64]) -> AppResult<Vec<ModuleRow>> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        module_cols!(),
        " FROM modules WHERE kit_id IN "
    ));
    sql.bind_list(kit_ids.iter().map(|i| Arg::I64(*i)));
    sql.push(" ORDER BY number");
    sql.fetch_all(c).await
}

/// Claim revision number `expected + 1` of a module: fails (`false`) when another
/// revision was created since the caller looked, so concurrent uploads never
/// overwrite each other. On PostgreSQL the row lock orders concurrent claims.
pub async fn claim_revision_number(
    c: &mut Conn<'_>,
    module_id: i64,
    expected: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let n = Sql::new(
        "UPDATE modules SET revision_count = revision_count + 1, updated_at = $1 \
         WHERE id = $2 AND revision_count = $3",
    )
    .arg(now)
    .arg(module_id)
    .arg(expected)
    .execute(c)
    .await?;
    Ok(n == 1)
}

/// A new revision, already validated and parsed.
pub struct NewRevision<'a> {
    pub module_id: i64,
    pub number: i64,
    pub base_revision_id: Option<i64>,
    pub author_id: i64,
    pub summary: &'a str,
    pub markdown: &'a str,
    pub content_hash: &'a str,
    pub document: &'a Document,
    pub anchors: &'a Anchors,
}

/// Store a revision with its sections and blocks.
pub async fn insert_revision(
    c: &mut Conn<'_>,
    r: NewRevision<'_>,
    now: DateTime<Utc>,
) -> AppResult<RevisionRow> {
    let row: RevisionRow = Sql::new(concat!(
        "INSERT INTO revisions (module_id, number, base_revision_id, author_id, summary, markdown, \
         content_hash, word_count, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ",
        revision_cols!()
    ))
    .arg(r.module_id)
    .arg(r.number)
    .arg(r.base_revision_id)
    .arg(r.author_id)
    .arg(r.summary)
    .arg(r.markdown)
    .arg(r.content_hash)
    .arg(r.document.word_count as i64)
    .arg(now)
    .fetch_one(c)
    .await?;
    let rid = row.id;
    let sections: Vec<Vec<Arg>> = r
        .document
        .sections
        .iter()
        .zip(&r.anchors.sections)
        .map(|(s, a)| {
            vec![
                Arg::I64(rid),
                Arg::I64(s.position as i64),
                Arg::Text(a.clone()),
                Arg::I64(i64::from(s.level)),
                Arg::Text(s.clause.clone()),
                Arg::Text(s.title.clone()),
            ]
        })
        .collect();
    let blocks: Vec<Vec<Arg>> = r
        .document
        .blocks
        .iter()
        .zip(&r.anchors.blocks)
        .map(|(b, a)| {
            vec![
                Arg::I64(rid),
                Arg::I64(b.position as i64),
                Arg::I64(b.section as i64),
                Arg::Text(a.clone()),
                Arg::Text(b.kind.as_str().to_owned()),
                Arg::Text(b.text.clone()),
                Arg::I64(b.source_start as i64),
                Arg::I64(b.source_end as i64),
            ]
        })
        .collect();
    insert_many(
        c,
        "revision_sections (revision_id, position, anchor_id, level, clause, title)",
        6,
        sections,
    )
    .await?;
    insert_many(
        c,
        concat!("revision_blocks (", block_cols!(), ")"),
        8,
        blocks,
    )
    .await?;
    Ok(row)
}

pub async fn revisions_by_ids(c: &mut Conn<'_>, ids: &[i64]) -> AppResult<Vec<RevisionRow>> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        revision_cols!(),
        " FROM revisions WHERE id IN "
    ));
    sql.bind_list(ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

pub async fn revision_by_id(c: &mut Conn<'_>, id: i64) -> AppResult<Option<RevisionRow>> {
    Sql::new(concat!(
        "SELECT ",
        revision_cols!(),
        " FROM revisions WHERE id = $1"
    ))
    .arg(id)
    .fetch_optional(c)
    .await
}

pub async fn revision_by_number(
    c: &mut Conn<'_>,
    module_id: i64,
    number: i64,
) -> AppResult<Option<RevisionRow>> {
    Sql::new(concat!(
        "SELECT ",
        revision_cols!(),
        " FROM revisions WHERE module_id = $1 AND number = $2"
    ))
    .arg(module_id)
    .arg(number)
    .fetch_optional(c)
    .await
}

/// A module's revisions numbered in `[from, to]`, oldest first.
pub async fn revisions_between(
    c: &mut Conn<'_>,
    module_id: i64,
    from: i64,
    to: i64,
) -> AppResult<Vec<RevisionRow>> {
    Sql::new(concat!(
        "SELECT ",
        revision_cols!(),
        " FROM revisions WHERE module_id = $1 AND number >= $2 AND number <= $3 ORDER BY number"
    ))
    .arg(module_id)
    .arg(from)
    .arg(to)
    .fetch_all(c)
    .await
}

/// The revisions of the same module published after this one, oldest first.
pub async fn revisions_after(c: &mut Conn<'_>, revision_id: i64) -> AppResult<Vec<RevisionRow>> {
    Sql::new(concat!(
        "SELECT ",
        revision_cols!(),
        " FROM revisions WHERE module_id = (SELECT module_id FROM revisions WHERE id = $1) \
         AND number > (SELECT number FROM revisions WHERE id = $1) ORDER BY number"
    ))
    .arg(revision_id)
    .fetch_all(c)
    .await
}

/// A module's revisions, newest first; cursors are revision numbers.
pub async fn list_revisions(
    c: &mut Conn<'_>,
    module_id: i64,
    page: &Page,
) -> AppResult<(Vec<RevisionRow>, bool)> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        revision_cols!(),
        " FROM revisions WHERE module_id = "
    ));
    sql.bind(module_id);
    sql.page_desc("number", page);
    Ok(finish_page(sql.fetch_all(c).await?, page))
}

/// The Markdown sources of these revisions: `(revision_id, markdown)`.
pub async fn revision_markdowns(c: &mut Conn<'_>, ids: &[i64]) -> AppResult<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new("SELECT id, markdown FROM revisions WHERE id IN ");
    sql.bind_list(ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

/// Sections of each revision, in document order.
pub async fn sections_of(c: &mut Conn<'_>, revision_ids: &[i64]) -> AppResult<Vec<SectionRow>> {
    let mut sql = Sql::new(
        "SELECT revision_id, position, anchor_id, level, clause, title FROM revision_sections WHERE revision_id IN ",
    );
    sql.bind_list(revision_ids.iter().map(|i| Arg::I64(*i)));
    sql.push(" ORDER BY revision_id, position");
    sql.fetch_all(c).await
}

/// Blocks of each revision, in document order.
pub async fn blocks_of(c: &mut Conn<'_>, revision_ids: &[i64]) -> AppResult<Vec<BlockRow>> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        block_cols!(),
        " FROM revision_blocks WHERE revision_id IN "
    ));
    sql.bind_list(revision_ids.iter().map(|i| Arg::I64(*i)));
    sql.push(" ORDER BY revision_id, position");
    sql.fetch_all(c).await
}

pub async fn block_by_anchor(
    c: &mut Conn<'_>,
    revision_id: i64,
    anchor: &str,
) -> AppResult<Option<BlockRow>> {
    Sql::new(concat!(
        "SELECT ",
        block_cols!(),
        " FROM revision_blocks WHERE revision_id = $1 AND anchor_id = $2"
    ))
    .arg(revision_id)
    .arg(anchor)
    .fetch_optional(c)
    .await
}
