//! Import of a delegation's filled-in comments template (CSV or XLSX): every
//! row is checked, then all rows become SUBMITTED comments, or none does.
//!
//! Accepted: the template's columns (`MB/NC`, `Clause`, `Paragraph/Figure/Table`,
//! `Type of comment`, `Comment(s)`, `Proposed change`; `No.`, `Line number`,
//! `Disposition` and `Observations` are ignored), headings matched without
//! regard to case, spaces and punctuation; CSV in UTF-8 with or without a BOM,
//! separated by `,`, `;` (Excel in French) or tabs, with quoted line breaks.
//! `Clause` empty or `General` means the whole document. A location written
//! as the export writes it ("Paragraph 2") anchors the comment to that block;
//! any other location is kept at the top of the comment's text.

use std::collections::HashMap;
use std::io::Cursor;

use sha2::{Digest, Sha256};

use super::comments::{check_text, closed, cycle_of, submit_in, window, AnchorInput, TextInput};
use super::idempotency::{self, Claim, IdempotencyKey, Use};
use super::table::{block_labels, clause_label, restore_formula, GENERAL};
use super::workbook::{self, Bounds, Refusal};
use crate::auth::AuthUser;
use crate::db::comments::CommentRow;
use crate::db::modules as modules_store;
use crate::db::Conn;
use crate::domain::audit::AuditAction;
use crate::domain::comments::{self as rules, AnchorKind, CommentType};
use crate::domain::cycle::Window;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The most rows one upload may hold.
pub const MAX_ROWS: usize = 5_000;
/// The most row errors reported at once.
const MAX_ERRORS: usize = 200;

/// One problem in the upload: the spreadsheet row (1 is the heading row), the column, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub message: String,
}

/// Why an import failed.
#[derive(Debug)]
pub enum ImportError {
    /// The file, or some rows, are wrong: nothing was written.
    Rows(Vec<RowError>),
    /// The file expands past the upload limits (HTTP 413): nothing was read.
    TooLarge(String),
    Other(AppError),
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        ImportError::Other(e)
    }
}

fn file_error(message: impl Into<String>) -> ImportError {
    ImportError::Rows(vec![RowError {
        row: 0,
        column: String::new(),
        message: message.into(),
    }])
}

/// The cells of the sheet, heading row first, within `b` (rows, columns and,
/// for an XLSX, its expanded size); the CSV export's formula guard is undone.
pub fn read_sheet(bytes: &[u8], b: &Bounds) -> Result<Vec<Vec<String>>, ImportError> {
    let mut rows = if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes, b)?
    } else {
        read_csv(bytes, b)?
    };
    for cell in rows.iter_mut().flatten() {
        restore_formula(cell);
    }
    Ok(rows)
}

fn too_many_rows(b: &Bounds) -> ImportError {
    file_error(format!("at most {} comments per upload", b.rows))
}

fn too_many_columns(b: &Bounds) -> ImportError {
    file_error(format!(
        "the comments template has at most {} columns (A to {})",
        b.columns,
        workbook::column_name(b.columns as u64)
    ))
}

fn read_csv(bytes: &[u8], b: &Bounds) -> Result<Vec<Vec<String>>, ImportError> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        file_error("the file is neither an XLSX workbook nor UTF-8 text (save the CSV as UTF-8)")
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains('\0') {
        return Err(file_error("the file is not a CSV text file"));
    }
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = [b';', b'\t', b',']
        .into_iter()
        .max_by_key(|d| first_line.bytes().filter(|b| b == d).count())
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| file_error(format!("line {}: {e}", i + 1)))?;
        if record.len() > b.columns {
            return Err(too_many_columns(b));
        }
        rows.push(record.iter().map(str::to_owned).collect());
        if rows.len() > b.rows + 1 {
            return Err(too_many_rows(b));
        }
    }
    Ok(rows)
}

/// The first worksheet, read cell by cell after [`workbook::check`] proved the
/// archive small: reading stops at the first cell beyond the limits.
fn read_xlsx(bytes: &[u8], b: &Bounds) -> Result<Vec<Vec<String>>, ImportError> {
    use calamine::{Data, Reader, Xlsx};
    workbook::check(bytes, b).map_err(|r| match r {
        Refusal::TooLarge(m) => ImportError::TooLarge(m),
        Refusal::Invalid(m) => file_error(m),
    })?;
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e| file_error(format!("the XLSX workbook cannot be read: {e}")))?;
    let first = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| file_error("the workbook has no worksheet"))?;
    let unreadable =
        |e: calamine::XlsxError| file_error(format!("the first worksheet cannot be read: {e}"));
    let mut reader = book.worksheet_cells_reader(&first).map_err(unreadable)?;
    // (row, column, text) of the non-empty cells, 0-based.
    let mut cells: Vec<(usize, usize, String)> = Vec::new();
    while let Some(cell) = reader.next_cell().map_err(unreadable)? {
        let (row, column) = cell.get_position();
        let (row, column) = (row as usize, column as usize);
        if row > b.rows {
            return Err(too_many_rows(b));
        }
        if column >= b.columns {
            return Err(too_many_columns(b));
        }
        let text = match Data::from(cell.get_value().clone()) {
            Data::Empty => continue,
            Data::Float(f) if f.fract() == 0.0 => format!("{f:.0}"),
            other => other.to_string(),
        };
        cells.push((row, column, text));
    }
    // As calamine's ranges do: the table starts at its first non-empty row and column.
    let (Some(top), Some(left)) = (
        cells.iter().map(|c| c.0).min(),
        cells.iter().map(|c| c.1).min(),
    ) else {
        return Ok(Vec::new());
    };
    let bottom = cells.iter().map(|c| c.0).max().unwrap_or(top);
    let right = cells.iter().map(|c| c.1).max().unwrap_or(left);
    let mut rows = vec![vec![String::new(); right - left + 1]; bottom - top + 1];
    for (row, column, text) in cells {
        rows[row - top][column - left] = text;
    }
    Ok(rows)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Ignored,
    Organization,
    Clause,
    Location,
    Type,
    Comment,
    Proposed,
    Language,
}

fn column_of(heading: &str) -> Option<Col> {
    let key: String = heading
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    Some(match key.as_str() {
        "no"
        | "number"
        | "commentno"
        | "linenumber"
        | "line"
        | "disposition"
        | "observations"
        | "observationsrationale"
        | "observationsofthesecretariat"
        | "rationale" => Col::Ignored,
        "mbnc" | "mb" | "nc" | "organization" | "organisation" => Col::Organization,
        "clause" | "clausesubclause" | "clausesubclausenumber" => Col::Clause,
        "paragraphfiguretable" | "paragraph" | "location" | "paragraphfiguretablenote" => {
            Col::Location
        }
        "typeofcomment" | "type" | "commenttype" => Col::Type,
        "comment" | "comments" | "commentsjustificationforchange" => Col::Comment,
        "proposedchange" | "proposedchanges" => Col::Proposed,
        "language" => Col::Language,
        "" => Col::Ignored,
        _ => return None,
    })
}

fn comment_type(raw: &str) -> Option<CommentType> {
    match raw.trim().to_lowercase().as_str() {
        "ge" | "general" => Some(CommentType::General),
        "te" | "technical" => Some(CommentType::Technical),
        "ed" | "editorial" => Some(CommentType::Editorial),
        _ => None,
    }
}

/// A checked row, ready to be submitted.
struct Checked {
    anchor: AnchorInput,
    text: TextInput,
}

/// The revision's sections and blocks, for resolving clauses and locations.
struct Places {
    /// clause (or title of an unnumbered section) -> section anchor and position
    clauses: HashMap<String, (String, i64)>,
    /// (section position, "paragraph 2") -> block anchor
    blocks: HashMap<(i64, String), String>,
}

fn norm_clause(s: &str) -> String {
    s.trim().trim_end_matches('.').to_lowercase()
}

/// Check the sheet against the revision; every problem is reported.
fn check_rows(
    rows: &[Vec<String>],
    places: &Places,
    org_labels: &[String],
) -> Result<Vec<Checked>, ImportError> {
    let Some(headings) = rows.first() else {
        return Err(file_error("the sheet is empty"));
    };
    let mut errors = Vec::new();
    let mut cols: Vec<Col> = Vec::with_capacity(headings.len());
    for h in headings {
        match column_of(h) {
            Some(c) => cols.push(c),
            None => {
                errors.push(RowError {
                    row: 1,
                    column: h.clone(),
                    message: format!("'{}' is not a column of the comments template", h.trim()),
                });
                cols.push(Col::Ignored);
            }
        }
    }
    for (need, name) in [
        (Col::Clause, "Clause"),
        (Col::Type, "Type of comment"),
        (Col::Comment, "Comment"),
    ] {
        if !cols.contains(&need) {
            errors.push(RowError {
                row: 1,
                column: name.into(),
                message: format!("the '{name}' column is missing"),
            });
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let cell = |row: &[String], want: Col| -> String {
        cols.iter()
            .position(|c| *c == want)
            .and_then(|i| row.get(i))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate().skip(1) {
        let line = i + 1;
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut row_errors: Vec<RowError> = Vec::new();
        let mut err = |column: &str, message: String| {
            row_errors.push(RowError {
                row: line,
                column: column.into(),
                message,
            });
        };
        let org = cell(row, Col::Organization);
        if !org.is_empty() && !org_labels.iter().any(|l| l.eq_ignore_ascii_case(&org)) {
            err(
                "MB/NC",
                format!(
                    "'{org}' is not your organization ({}): each delegation uploads its own comments",
                    org_labels.first().cloned().unwrap_or_default()
                ),
            );
        }
        let clause = cell(row, Col::Clause);
        let section = if clause.is_empty() || clause.eq_ignore_ascii_case(GENERAL) {
            None
        } else {
            match places.clauses.get(&norm_clause(&clause)) {
                Some(s) => Some(s.clone()),
                None => {
                    err("Clause", format!("the revision has no clause '{clause}'"));
                    None
                }
            }
        };
        let type_raw = cell(row, Col::Type);
        let ctype = comment_type(&type_raw);
        if ctype.is_none() {
            err(
                "Type of comment",
                format!("'{type_raw}' is not a type of comment: use ge, te or ed"),
            );
        }
        let mut body = cell(row, Col::Comment);
        if let Err(e) = rules::body(&body, "the comment") {
            err("Comment", e.0);
        }
        let proposed = Some(cell(row, Col::Proposed)).filter(|p| !p.is_empty());
        if let Some(Err(e)) = proposed
            .as_deref()
            .map(|p| rules::body(p, "the proposed change"))
        {
            err("Proposed change", e.0);
        }
        let language = Some(cell(row, Col::Language)).filter(|l| !l.is_empty());
        if let Some(Err(e)) = language.as_deref().map(rules::language) {
            err("Language", e.0);
        }
        let location = cell(row, Col::Location);
        let block = section
            .as_ref()
            .and_then(|(_, pos)| places.blocks.get(&(*pos, location.to_lowercase())).cloned());
        if block.is_none() && !location.is_empty() {
            body = format!("[{location}] {body}");
        }
        let failed = !row_errors.is_empty();
        let room = MAX_ERRORS.saturating_sub(errors.len());
        errors.extend(row_errors.into_iter().take(room));
        let (Some(comment_type), false) = (ctype, failed || !errors.is_empty()) else {
            continue;
        };
        let anchor = match (&section, block) {
            (_, Some(b)) => AnchorInput {
                kind: AnchorKind::Block,
                section_anchor_id: None,
                block_anchor_id: Some(b),
                quote: None,
            },
            (Some((s, _)), None) => AnchorInput {
                kind: AnchorKind::Section,
                section_anchor_id: Some(s.clone()),
                block_anchor_id: None,
                quote: None,
            },
            (None, None) => AnchorInput {
                kind: AnchorKind::Document,
                section_anchor_id: None,
                block_anchor_id: None,
                quote: None,
            },
        };
        out.push(Checked {
            anchor,
            text: TextInput {
                comment_type,
                body,
                proposed_change: proposed,
                language,
            },
        });
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    if out.is_empty() {
        return Err(file_error("the sheet has a heading row but no comments"));
    }
    Ok(out)
}

/// Import a sheet for the uploader's organization, while the cycle accepts
/// its comments: all rows or none.
#[tracing::instrument(skip_all, fields(cycle_id, bytes = bytes.len()))]
pub async fn import(
    state: &AppState,
    user: &AuthUser,
    cycle_id: i64,
    bytes: Vec<u8>,
    key: Option<&IdempotencyKey>,
) -> Result<Vec<CommentRow>, ImportError> {
    // Who may upload, and where, is settled before a byte of the file is read.
    let now = state.clock.now();
    let file_hash = hex::encode(Sha256::digest(&bytes));
    let key = Use::new(key, "importComments", &(cycle_id, &file_hash));
    {
        let mut pooled = state.db.read().await?;
        let mut c = pooled.conn();
        let cycle = cycle_of(&mut c, cycle_id).await?;
        // The same upload sent again: its first result, even after the close.
        if let Some(ids) = idempotency::earlier(&mut c, user.id, key.as_ref(), now).await? {
            return Ok(replayed(&mut c, &ids).await?);
        }
        let w = window(&mut c, &cycle, user.organization_id, now).await?;
        if !matches!(w, Window::OnTime | Window::Late) {
            return Err(closed(w).into());
        }
    }
    let bounds = Bounds::of(&state.limits, MAX_ROWS);
    let rows = tokio::task::spawn_blocking(move || read_sheet(&bytes, &bounds))
        .await
        .map_err(AppError::internal)??;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    if let Claim::Replay(ids) = idempotency::claim(&mut c, user.id, key.as_ref(), now).await? {
        let rows = replayed(&mut c, &ids).await?;
        tx.commit().await?;
        return Ok(rows);
    }
    let cycle = cycle_of(&mut c, cycle_id).await?;
    let w = window(&mut c, &cycle, user.organization_id, now).await?;
    if !matches!(w, Window::OnTime | Window::Late) {
        return Err(closed(w).into());
    }
    let sections = modules_store::sections_of(&mut c, &[cycle.revision_id]).await?;
    let blocks = modules_store::blocks_of(&mut c, &[cycle.revision_id]).await?;
    let mut places = Places {
        clauses: HashMap::new(),
        blocks: HashMap::new(),
    };
    for s in &sections {
        places
            .clauses
            .entry(norm_clause(clause_label(s)))
            .or_insert((s.anchor_id.clone(), s.position));
    }
    for (b, label) in blocks.iter().zip(block_labels(&blocks)) {
        places.blocks.insert(
            (b.section_position, label.to_lowercase()),
            b.anchor_id.clone(),
        );
    }
    let org = crate::db::accounts::organization_by_id(&mut c, user.organization_id)
        .await?
        .ok_or_else(|| AppError::not_found("organization"))?;
    let mut labels = vec![org.short_name.clone(), org.name.clone()];
    if let Some(cc) = &org.country_code {
        labels.insert(0, cc.clone());
    }
    let checked = check_rows(&rows, &places, &labels)?;
    let mut out = Vec::with_capacity(checked.len());
    for row in &checked {
        let text = check_text(&row.text)?;
        out.push(submit_in(&mut c, user, &cycle, &row.anchor, &text, w, now).await?);
    }
    for r in &out {
        super::comments::record(&mut c, user, r, AuditAction::CommentSubmitted, now).await?;
    }
    let summary = format!("{} comments imported from a spreadsheet", out.len());
    let change = crate::service::audit::Change::new(
        AuditAction::CommentsImported,
        crate::domain::ids::NodeKind::ReviewCycle,
        cycle.id,
        summary,
    )
    .in_cycle(cycle.id);
    crate::service::audit::record(&mut c, crate::service::Actor::User(user), change, now).await?;
    let ids: Vec<i64> = out.iter().map(|r| r.id).collect();
    idempotency::settle(&mut c, user.id, key.as_ref(), &ids).await?;
    for r in &out {
        tx.emit(super::comments::event(
            crate::domain::events::EventKind::CommentSubmitted,
            &cycle,
            r,
            now,
        ));
    }
    tx.commit().await?;
    Ok(out)
}

/// The comments an earlier import under the same key created, in its order.
async fn replayed(c: &mut Conn<'_>, ids: &[i64]) -> AppResult<Vec<CommentRow>> {
    let mut rows = crate::db::comments::by_ids(c, ids).await?;
    let order: HashMap<i64, usize> = ids.iter().enumerate().map(|(n, id)| (*id, n)).collect();
    rows.sort_by_key(|r| order.get(&r.id).copied());
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_as_spreadsheets_write_it() {
        let text = "\u{feff}MB/NC;Clause;Type of comment;Comment\nFR;3.1;te;\"Deux lignes\navec « guillemets »\"\n";
        let b = Bounds::of(&crate::config::LimitArgs::default(), MAX_ROWS);
        let rows = read_sheet(text.as_bytes(), &b)
            .map_err(|_| "read")
            .expect("read");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0], "MB/NC");
        assert_eq!(rows[1][3], "Deux lignes\navec « guillemets »");
        assert!(read_sheet(&[0xff, 0xfe, 0x00, 0x41], &b).is_err());
    }

    #[test]
    fn headings_are_matched_loosely() {
        assert_eq!(column_of("Type of comment"), Some(Col::Type));
        assert_eq!(column_of("clause/subclause"), Some(Col::Clause));
        assert_eq!(column_of("Paragraph/Figure/Table"), Some(Col::Location));
        assert_eq!(column_of("Comments"), Some(Col::Comment));
        assert_eq!(column_of("Favourite colour"), None);
        assert_eq!(comment_type(" TE "), Some(CommentType::Technical));
        assert_eq!(comment_type("xx"), None);
    }
}
