//! The full-text index of comments: SQLite FTS5 and PostgreSQL `tsvector`
//! behind one interface. The terms are analysed by `domain::search`, so both
//! databases match the same comments; each ranks with its own function
//! (FTS5 bm25, PostgreSQL `ts_rank`), shown as a score where higher is better.

use super::comments::{filtered, CommentFilter, Visible};
use super::sql::Sql;
use super::{Backend, Conn};
use crate::domain::disposition::DispositionKind;
use crate::domain::search::Query;
use crate::error::AppResult;

/// Write (or replace) a comment's terms.
pub async fn put(c: &mut Conn<'_>, comment_id: i64, terms: &str) -> AppResult<()> {
    match c.backend() {
        Backend::Sqlite => {
            Sql::new("DELETE FROM comment_search WHERE rowid = $1")
                .arg(comment_id)
                .execute(c)
                .await?;
            Sql::new("INSERT INTO comment_search (rowid, terms) VALUES ($1, $2)")
                .arg(comment_id)
                .arg(terms)
                .execute(c)
                .await?;
        }
        Backend::Postgres => {
            Sql::new(
                "INSERT INTO comment_search (comment_id, terms) VALUES ($1, to_tsvector('simple', $2)) \
                 ON CONFLICT (comment_id) DO UPDATE SET terms = EXCLUDED.terms",
            )
            .arg(comment_id)
            .arg(terms)
            .execute(c)
            .await?;
        }
    }
    Ok(())
}

/// Forget a comment (a deleted draft).
pub async fn remove(c: &mut Conn<'_>, comment_id: i64) -> AppResult<()> {
    let sql = match c.backend() {
        Backend::Sqlite => "DELETE FROM comment_search WHERE rowid = $1",
        Backend::Postgres => "DELETE FROM comment_search WHERE comment_id = $1",
    };
    Sql::new(sql).arg(comment_id).execute(c).await?;
    Ok(())
}

/// What a search is limited to, beyond the viewer's visibility.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    pub comments: CommentFilter,
    /// Only comments with this disposition (the caller has limited `Visible`
    /// to the cycles whose dispositions the viewer may see).
    pub disposition: Option<DispositionKind>,
}

/// The matching comments, always found through the index first: SQLite's
/// planner, left to itself, would walk the cycle's comments and run the MATCH
/// per row (seconds at 100,000 comments), and PostgreSQL's would do the same
/// until the tables are analysed. `CROSS JOIN` (SQLite) and a materialized
/// CTE (PostgreSQL) fix the order.
fn matching(sql: &mut Sql, backend: Backend, v: &Visible, f: &SearchFilter) {
    match backend {
        Backend::Sqlite => {
            sql.push(" FROM hits CROSS JOIN comments ON comments.id = hits.id");
        }
        Backend::Postgres => {
            sql.push(" FROM hits JOIN comments ON comments.id = hits.id");
        }
    }
    filtered(sql, v, &f.comments);
    if let Some(d) = &f.disposition {
        sql.push(
            " AND EXISTS (SELECT 1 FROM dispositions d WHERE d.comment_id = comments.id AND d.kind = ",
        )
        .bind(*d)
        .push(")");
    }
}

/// `WITH hits (id, score)`: the comments the index matches, with their score
/// (higher is better).
fn hits(backend: Backend, q: &Query) -> Sql {
    match backend {
        // bm25 is lower for better matches.
        Backend::Sqlite => Sql::new(
            "WITH hits AS (SELECT rowid AS id, -bm25(comment_search) AS score \
             FROM comment_search WHERE comment_search MATCH $1)",
        )
        .arg(q.fts5()),
        Backend::Postgres => Sql::new(
            "WITH hits AS MATERIALIZED (SELECT s.comment_id AS id, \
             CAST(ts_rank(s.terms, q.q) AS DOUBLE PRECISION) AS score \
             FROM comment_search s, to_tsquery('simple', $1) AS q(q) WHERE s.terms @@ q.q)",
        )
        .arg(q.tsquery()),
    }
}

/// One page of matches, best first: `(comment id, score)`.
pub async fn search(
    c: &mut Conn<'_>,
    q: &Query,
    v: &Visible,
    f: &SearchFilter,
    offset: i64,
    limit: i64,
) -> AppResult<Vec<(i64, f64)>> {
    let backend = c.backend();
    let mut sql = hits(backend, q);
    sql.push(" SELECT comments.id, hits.score");
    matching(&mut sql, backend, v, f);
    sql.push(" ORDER BY hits.score DESC, comments.id ASC LIMIT ")
        .bind(limit)
        .push(" OFFSET ")
        .bind(offset);
    sql.fetch_all(c).await
}

/// How many comments match.
pub async fn count(c: &mut Conn<'_>, q: &Query, v: &Visible, f: &SearchFilter) -> AppResult<i64> {
    let backend = c.backend();
    let mut sql = hits(backend, q);
    sql.push(" SELECT COUNT(*)");
    matching(&mut sql, backend, v, f);
    sql.fetch_i64(c).await
}
