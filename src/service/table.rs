//! The consolidated comments table: the ISO comment template's columns plus
//! the disposition, in document order, as the viewer may see it. Read in
//! pages so that exports stream whatever the size of the cycle.

use std::borrow::Cow;
use std::collections::HashMap;

use super::comments::visible_in;
use super::consolidation::dispositions_visible;
use crate::auth::AuthUser;
use crate::db::accounts as accounts_store;
use crate::db::comments::{self as comments_store, CommentFilter, CommentOrder, Visible};
use crate::db::consolidation as store;
use crate::db::cycles::{self as cycles_store, CycleRow};
use crate::db::modules::{self as modules_store, BlockRow, SectionRow};
use crate::db::Conn;
use crate::domain::accounts::OrganizationKind;
use crate::domain::comments::CommentState;
use crate::domain::disposition::DispositionKind;
use crate::domain::document::BlockKind;
use crate::domain::page::Page;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The column headings, in order (the ISO template's, plus the disposition).
pub const HEADERS: [&str; 9] = [
    "No.",
    "MB/NC",
    "Clause",
    "Paragraph/Figure/Table",
    "Type of comment",
    "Comment",
    "Proposed change",
    "Disposition",
    "Observations (rationale)",
];

/// What the clause column says of a comment on the whole document.
pub const GENERAL: &str = "General";

/// Does a cell open as a formula in a spreadsheet (OWASP's CSV injection list)?
fn formula_like(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// A CSV cell that a spreadsheet opens as text: a cell that would start a
/// formula gets a single quote in front (OWASP), and so does one that already
/// starts with quotes before such a character, so that [`restore_formula`]
/// gives back exactly what was written.
pub fn neutralize_formula(s: &str) -> Cow<'_, str> {
    if formula_like(s.trim_start_matches('\'')) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Undo [`neutralize_formula`] on an uploaded cell: one leading quote goes
/// when quotes lead to a formula character; any other cell is left alone.
pub fn restore_formula(s: &mut String) {
    if s.starts_with('\'') && formula_like(s.trim_start_matches('\'')) {
        s.remove(0);
    }
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct TableRow {
    pub comment_id: i64,
    pub number: i64,
    pub organization: String,
    pub clause: String,
    pub location: String,
    pub type_code: &'static str,
    pub comment: String,
    pub proposed_change: String,
    pub disposition: Option<DispositionKind>,
    pub rationale: String,
    pub withdrawn: bool,
    /// Document-order key, for cursors.
    pub key: (i64, i64),
}

impl TableRow {
    /// The cells, in [`HEADERS`] order.
    pub fn cells(&self) -> [String; 9] {
        [
            self.number.to_string(),
            self.organization.clone(),
            self.clause.clone(),
            self.location.clone(),
            self.type_code.to_owned(),
            self.comment.clone(),
            self.proposed_change.clone(),
            self.disposition
                .map(|d| d.label().to_owned())
                .unwrap_or_default(),
            self.rationale.clone(),
        ]
    }
}

/// Where a section's blocks are, for the location column.
struct Labels {
    /// anchor -> clause (or title when the section has no number)
    clauses: HashMap<String, String>,
    /// anchor -> "Paragraph 2", "List item 3", "Table row 1"...
    blocks: HashMap<String, String>,
}

/// The English name of a kind of block, as the location column writes it.
pub fn kind_label(kind: BlockKind) -> &'static str {
    match kind {
        BlockKind::Paragraph => "Paragraph",
        BlockKind::ListItem => "List item",
        BlockKind::TableRow => "Table row",
        BlockKind::BlockQuote => "Quote",
        BlockKind::CodeBlock => "Code",
    }
}

/// What the Clause column calls a section: its number, else its title.
pub fn clause_label(s: &SectionRow) -> &str {
    if s.clause.is_empty() {
        &s.title
    } else {
        &s.clause
    }
}

/// What the location column calls each block, in order: its kind and its rank
/// among the blocks of that kind in its section ("Paragraph 2").
pub fn block_labels(blocks: &[BlockRow]) -> Vec<String> {
    let mut counters: HashMap<(i64, &'static str), usize> = HashMap::new();
    blocks
        .iter()
        .map(|b| {
            let kind = kind_label(b.kind);
            let n = counters.entry((b.section_position, kind)).or_default();
            *n += 1;
            format!("{kind} {n}")
        })
        .collect()
}

async fn labels(c: &mut Conn<'_>, revision_id: i64) -> AppResult<Labels> {
    let sections = modules_store::sections_of(c, &[revision_id]).await?;
    let blocks = modules_store::blocks_of(c, &[revision_id]).await?;
    let labels = block_labels(&blocks);
    Ok(Labels {
        clauses: sections
            .iter()
            .map(|s| (s.anchor_id.clone(), clause_label(s).to_owned()))
            .collect(),
        blocks: blocks
            .into_iter()
            .zip(labels)
            .map(|(b, l)| (b.anchor_id, l))
            .collect(),
    })
}

/// A cycle's table, ready to be read page by page.
pub struct Table {
    pub cycle: CycleRow,
    visible: Visible,
    show_dispositions: bool,
    labels: Labels,
    organizations: HashMap<i64, String>,
}

/// The label of an organization: the ISO 3166 code of a member state, else its short name.
fn org_label(kind: OrganizationKind, country: Option<&str>, short_name: &str) -> String {
    match (kind, country) {
        (OrganizationKind::MemberState, Some(cc)) => cc.to_owned(),
        _ => short_name.to_owned(),
    }
}

impl Table {
    /// Open a cycle's table for a viewer (any signed-in user; rows as visibility allows).
    pub async fn open(state: &AppState, user: &AuthUser, cycle_id: i64) -> AppResult<Self> {
        let now = state.clock.now();
        let mut pooled = state.db.read().await?;
        let mut c = pooled.conn();
        let cycle = cycles_store::by_id(&mut c, cycle_id)
            .await?
            .ok_or_else(|| AppError::not_found("review cycle"))?;
        let visible = visible_in(&mut c, user, std::slice::from_ref(&cycle), now).await?;
        let show_dispositions = dispositions_visible(user, &cycle, now);
        let labels = labels(&mut c, cycle.revision_id).await?;
        let orgs = accounts_store::organizations_of_cycle(&mut c, cycle.id).await?;
        let organizations = orgs
            .into_iter()
            .map(|o| {
                let label = org_label(o.kind, o.country_code.as_deref(), &o.short_name);
                (o.id, label)
            })
            .collect();
        Ok(Self {
            cycle,
            visible,
            show_dispositions,
            labels,
            organizations,
        })
    }

    fn filter(&self) -> CommentFilter {
        CommentFilter {
            non_draft: true,
            ..Default::default()
        }
    }

    /// How many rows the table has for this viewer.
    pub async fn count(&self, c: &mut Conn<'_>) -> AppResult<i64> {
        comments_store::count(c, &self.visible, &self.filter()).await
    }

    /// Rows after `after` (a document-order key), at most `page.limit`.
    pub async fn page(&self, c: &mut Conn<'_>, page: &Page) -> AppResult<(Vec<TableRow>, bool)> {
        let (comments, more) = comments_store::list(
            c,
            &self.visible,
            &self.filter(),
            CommentOrder::Document,
            page,
        )
        .await?;
        let ids: Vec<i64> = comments.iter().map(|r| r.id).collect();
        let dispositions: HashMap<i64, store::DispositionRow> =
            if self.show_dispositions && !ids.is_empty() {
                store::dispositions_of(c, &ids)
                    .await?
                    .into_iter()
                    .map(|d| (d.comment_id, d))
                    .collect()
            } else {
                HashMap::new()
            };
        let dup_ids: Vec<i64> = dispositions
            .values()
            .filter_map(|d| d.duplicate_of_id)
            .collect();
        let dup_numbers: HashMap<i64, i64> = if dup_ids.is_empty() {
            HashMap::new()
        } else {
            comments_store::by_ids(c, &dup_ids)
                .await?
                .into_iter()
                .filter_map(|r| r.number.map(|n| (r.id, n)))
                .collect()
        };
        let rows = comments
            .into_iter()
            .map(|r| {
                let d = dispositions.get(&r.id);
                let withdrawn = r.state == CommentState::Withdrawn;
                let kind = d.map(|d| d.kind).or(if withdrawn {
                    Some(DispositionKind::Withdrawn)
                } else {
                    None
                });
                let mut rationale = d.and_then(|d| d.rationale.clone()).unwrap_or_default();
                if let Some(n) = d
                    .and_then(|d| d.duplicate_of_id)
                    .and_then(|i| dup_numbers.get(&i))
                {
                    let see = format!("Duplicate of comment {n}.");
                    rationale = if rationale.is_empty() {
                        see
                    } else {
                        format!("{see} {rationale}")
                    };
                }
                let clause = match r.anchor.section() {
                    None => GENERAL.to_owned(),
                    Some(a) => self.labels.clauses.get(a).cloned().unwrap_or_default(),
                };
                let mut location = r
                    .anchor
                    .block()
                    .and_then(|a| self.labels.blocks.get(a))
                    .cloned()
                    .unwrap_or_default();
                if let Some(q) = r.anchor.quote() {
                    location = format!("{location} “{}”", q.exact);
                }
                TableRow {
                    comment_id: r.id,
                    number: r.number.unwrap_or_default(),
                    organization: self
                        .organizations
                        .get(&r.organization_id)
                        .cloned()
                        .unwrap_or_default(),
                    clause,
                    location,
                    type_code: r.comment_type.code(),
                    comment: r.body.clone(),
                    proposed_change: r.proposed_change.clone().unwrap_or_default(),
                    disposition: kind,
                    rationale,
                    withdrawn,
                    key: CommentOrder::Document.key_of(&r),
                }
            })
            .collect();
        Ok((rows, more))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralized_and_restored_exactly() {
        for (cell, csv) in [
            (
                "=HYPERLINK(\"http://evil.example\")",
                "'=HYPERLINK(\"http://evil.example\")",
            ),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=already quoted", "''=already quoted"),
            ("'tis plain", "'tis plain"),
            ("plain = text", "plain = text"),
            ("", ""),
        ] {
            assert_eq!(neutralize_formula(cell), csv);
            let mut back = csv.to_owned();
            restore_formula(&mut back);
            assert_eq!(back, cell, "round trip of {cell:?}");
        }
    }
}
