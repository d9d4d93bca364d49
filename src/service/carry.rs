//! Carry forward: the projection of every comment of earlier revisions into a
//! later one, computed once (when the later revision is made, or when a
//! comment arrives on an older revision) and stored; never on read.

use std::collections::HashMap;

use super::modules::Structure;
use crate::db::comments::CommentRow;
use crate::db::consolidation::{self as store, CarriedRow, OriginRow};
use crate::db::modules::{self as modules_store, RevisionRow};
use crate::db::Conn;
use crate::domain::carry::{Carrier, Origin, QuoteAt};
use crate::error::{AppError, AppResult};

async fn structure(c: &mut Conn<'_>, revision: RevisionRow) -> AppResult<Structure> {
    let sections = modules_store::sections_of(c, &[revision.id]).await?;
    let blocks = modules_store::blocks_of(c, &[revision.id]).await?;
    Ok(Structure {
        revision,
        sections,
        blocks,
    })
}

/// Project every comment made on the module's earlier revisions into `target`
/// (just created). Returns how many were carried.
pub async fn into_new_revision(c: &mut Conn<'_>, target: &RevisionRow) -> AppResult<usize> {
    if target.number <= 1 {
        return Ok(0);
    }
    let earlier =
        modules_store::revisions_between(c, target.module_id, 1, target.number - 1).await?;
    let ids: Vec<i64> = earlier.iter().map(|r| r.id).collect();
    let origins = store::origins_on(c, &ids).await?;
    if origins.is_empty() {
        return Ok(0);
    }
    let mut by_revision: HashMap<i64, Vec<OriginRow>> = HashMap::new();
    for o in origins {
        by_revision.entry(o.revision_id).or_default().push(o);
    }
    let mut work = Vec::new();
    for r in earlier {
        if let Some(list) = by_revision.remove(&r.id) {
            work.push((structure(c, r).await?, list));
        }
    }
    let target = structure(c, target.clone()).await?;
    let rows = tokio::task::spawn_blocking(move || project(&work, &[target]))
        .await
        .map_err(AppError::internal)?;
    let n = rows.len();
    store::insert_carried(c, rows).await?;
    Ok(n)
}

/// A comment arrived on (or was re-anchored in) a revision that already has
/// later ones: project it into each of them.
pub async fn comment_forward(c: &mut Conn<'_>, comment: &CommentRow) -> AppResult<()> {
    // Usually there is no later revision: one statement says so.
    let later = modules_store::revisions_after(c, comment.revision_id).await?;
    if later.is_empty() {
        return Ok(());
    }
    store::delete_carried(c, comment.id).await?;
    let origin = modules_store::revision_by_id(c, comment.revision_id)
        .await?
        .ok_or_else(|| AppError::not_found("revision"))?;
    let o = OriginRow {
        id: comment.id,
        revision_id: comment.revision_id,
        anchor: comment.anchor.clone(),
    };
    let work = vec![(structure(c, origin).await?, vec![o])];
    let mut targets = Vec::with_capacity(later.len());
    for r in later {
        targets.push(structure(c, r).await?);
    }
    store::insert_carried(c, project(&work, &targets)).await?;
    Ok(())
}

/// Where each comment (grouped by the revision it was made on) is in each target.
pub fn project(work: &[(Structure, Vec<OriginRow>)], targets: &[Structure]) -> Vec<CarriedRow> {
    let mut out = Vec::new();
    for target in targets {
        let to = target.diff_input();
        for (from_s, origins) in work {
            let from = from_s.diff_input();
            let sections: HashMap<&str, usize> = from_s
                .sections
                .iter()
                .enumerate()
                .map(|(i, s)| (s.anchor_id.as_str(), i))
                .collect();
            let blocks: HashMap<&str, usize> = from_s
                .blocks
                .iter()
                .enumerate()
                .map(|(i, b)| (b.anchor_id.as_str(), i))
                .collect();
            let mut carrier = Carrier::new(&from, &to);
            for o in origins {
                let a = &o.anchor;
                let origin = Origin {
                    kind: a.kind(),
                    section: a.section().and_then(|s| sections.get(s).copied()),
                    block: a.block().and_then(|b| blocks.get(b).copied()),
                    quote: a.quote().map(|q| QuoteAt {
                        exact: &q.exact,
                        prefix: q.prefix.as_deref(),
                        suffix: q.suffix.as_deref(),
                        start: usize::try_from(q.start).unwrap_or_default(),
                    }),
                };
                let p = carrier.project(&origin);
                out.push(CarriedRow {
                    revision_id: target.revision.id,
                    comment_id: o.id,
                    status: p.status,
                    score: p
                        .score
                        .map(|s| (f64::from(s) * 10_000.0).round() / 10_000.0),
                    section_anchor: p
                        .section
                        .and_then(|i| target.sections.get(i))
                        .map(|s| s.anchor_id.clone()),
                    block_anchor: p
                        .block
                        .and_then(|i| target.blocks.get(i))
                        .map(|b| b.anchor_id.clone()),
                    quote_start: p.quote.map(|q| q.0 as i64),
                    quote_end: p.quote.map(|q| q.1 as i64),
                    doc_order: p.doc_order,
                });
            }
        }
    }
    out
}
