//! Carry forward: where a comment made on one revision is found in a later one.
//!
//! The comment's own anchor stays the truth; this computes a projection of it
//! into a later revision, compared directly with the revision it was made on:
//!
//! - EXACT: the same text in the same block (a block keeps its anchor id while
//!   its text is unchanged), or the same section heading;
//! - MOVED: the same text elsewhere (the block moved, or the quoted words are
//!   still there at another place);
//! - FUZZY: the block was rewritten, and a block of the later revision is at
//!   least [`SIMILARITY_THRESHOLD`] similar to it (share of equal words, the
//!   measure of the diff); the score is kept;
//! - ORPHANED: the text is gone; the comment falls back to its section when
//!   the section survives, else to the document.

use std::collections::HashMap;

use super::comments::{document_order, AnchorKind};
use super::diff::{self, DiffInput, Pairing, Status, SIMILARITY_THRESHOLD};

string_enum!(
    /// How well a comment's anchor was re-found in a later revision.
    CarryStatus {
        Exact = "EXACT",
        Moved = "MOVED",
        Fuzzy = "FUZZY",
        Orphaned = "ORPHANED",
    }
);

/// A comment's anchor in the revision it was made on (indexes into that
/// revision's sections and blocks).
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub kind: AnchorKind,
    pub section: Option<usize>,
    pub block: Option<usize>,
    pub quote: Option<QuoteAt<'a>>,
}

/// A quote and where it was, in code points of its block's text.
#[derive(Debug, Clone, Copy)]
pub struct QuoteAt<'a> {
    pub exact: &'a str,
    pub prefix: Option<&'a str>,
    pub suffix: Option<&'a str>,
    pub start: usize,
}

/// Where the comment is in the later revision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    pub status: CarryStatus,
    /// 1 for EXACT and MOVED, the similarity for FUZZY, none for ORPHANED.
    pub score: Option<f32>,
    /// Indexes into the later revision's sections and blocks.
    pub section: Option<usize>,
    pub block: Option<usize>,
    /// The quote's place in the later block, when its words were found.
    pub quote: Option<(usize, usize)>,
    pub doc_order: i64,
}

/// Candidates considered for a removed block's approximate successor.
const FUZZY_CANDIDATES: usize = 200;

/// Projects comments of one revision (`from`) into a later one (`to`),
/// pairing the two revisions once and each block at most once.
pub struct Carrier<'a> {
    from: &'a DiffInput<'a>,
    to: &'a DiffInput<'a>,
    pairing: Pairing,
    to_of_from: Vec<Option<usize>>,
    section_to_of_from: Vec<Option<usize>>,
    by_text: HashMap<&'a str, Vec<usize>>,
    blocks: HashMap<usize, Option<(usize, CarryStatus, f32)>>,
}

impl<'a> Carrier<'a> {
    pub fn new(from: &'a DiffInput<'a>, to: &'a DiffInput<'a>) -> Self {
        let pairing = diff::pair(from, to);
        let to_of_from = pairing.to_of_from(from.blocks.len());
        let mut section_to_of_from = vec![None; from.sections.len()];
        for (j, p) in pairing.sections.iter().enumerate() {
            if let Some(slot) = p.and_then(|i| section_to_of_from.get_mut(i)) {
                *slot = Some(j);
            }
        }
        let mut by_text: HashMap<&str, Vec<usize>> = HashMap::new();
        for (j, b) in to.blocks.iter().enumerate() {
            by_text.entry(b.text).or_default().push(j);
        }
        Self {
            from,
            to,
            pairing,
            to_of_from,
            section_to_of_from,
            by_text,
            blocks: HashMap::new(),
        }
    }

    /// Where a block of `from` went: the block, how, and the score.
    fn block(&mut self, i: usize) -> Option<(usize, CarryStatus, f32)> {
        if let Some(hit) = self.blocks.get(&i) {
            return *hit;
        }
        let hit = self.find_block(i);
        self.blocks.insert(i, hit);
        hit
    }

    fn find_block(&self, i: usize) -> Option<(usize, CarryStatus, f32)> {
        let old = self.from.blocks.get(i)?;
        if let Some(j) = self.to_of_from.get(i).copied().flatten() {
            return Some(match self.pairing.status.get(j) {
                Some(Status::Unchanged) => (j, CarryStatus::Exact, 1.0),
                Some(Status::Changed) => (
                    j,
                    CarryStatus::Fuzzy,
                    self.pairing.similarity.get(&j).copied().unwrap_or_default(),
                ),
                _ => (j, CarryStatus::Moved, 1.0),
            });
        }
        // The block itself is gone: the same text elsewhere (a copy)...
        if let Some(&j) = self.by_text.get(old.text).and_then(|v| v.first()) {
            return Some((j, CarryStatus::Moved, 1.0));
        }
        // ...or the most similar new block of its kind, nearest first.
        let scale = self.to.blocks.len() as f64 / self.from.blocks.len().max(1) as f64;
        let expected = (i as f64 * scale) as usize;
        let mut candidates: Vec<usize> = (0..self.to.blocks.len())
            .filter(|&j| self.pairing.blocks[j].is_none() && self.to.blocks[j].kind == old.kind)
            .collect();
        candidates.sort_by_key(|&j| j.abs_diff(expected));
        candidates.truncate(FUZZY_CANDIDATES);
        let mut best: Option<(usize, f32)> = None;
        for j in candidates {
            let s = diff::similarity(old.text, self.to.blocks[j].text);
            if s >= SIMILARITY_THRESHOLD && best.is_none_or(|(_, b)| s > b) {
                best = Some((j, s));
            }
        }
        best.map(|(j, s)| (j, CarryStatus::Fuzzy, s))
    }

    fn section(&self, s: Option<usize>) -> Option<usize> {
        s.and_then(|s| self.section_to_of_from.get(s).copied().flatten())
    }

    fn at_block(&self, j: usize, status: CarryStatus, score: f32) -> Projection {
        let section = self.to.blocks[j].section;
        Projection {
            status,
            score: Some(score),
            section: Some(section),
            block: Some(j),
            quote: None,
            doc_order: document_order(Some(section), Some(j), None),
        }
    }

    /// The fallback when the text is gone: the section if it survives, else the document.
    fn orphan(&self, section: Option<usize>) -> Projection {
        let section = self.section(section);
        Projection {
            status: CarryStatus::Orphaned,
            score: None,
            section,
            block: None,
            quote: None,
            doc_order: document_order(section, None, None),
        }
    }

    /// Where `origin` is in the later revision.
    pub fn project(&mut self, origin: &Origin<'_>) -> Projection {
        match origin.kind {
            AnchorKind::Document => Projection {
                status: CarryStatus::Exact,
                score: Some(1.0),
                section: None,
                block: None,
                quote: None,
                doc_order: document_order(None, None, None),
            },
            AnchorKind::Section => self.project_section(origin.section),
            AnchorKind::Block => match origin.block.and_then(|i| self.block(i)) {
                Some((j, status, score)) => self.at_block(j, status, score),
                None => self.orphan(origin.section),
            },
            AnchorKind::Quote => self.project_quote(origin),
        }
    }

    fn project_section(&self, s: Option<usize>) -> Projection {
        let (Some(old), Some(j)) = (s.and_then(|s| self.from.sections.get(s)), self.section(s))
        else {
            return self.orphan(None);
        };
        let new = &self.to.sections[j];
        let (status, score) = if old.title == new.title && old.clause == new.clause {
            (CarryStatus::Exact, 1.0)
        } else if old.title == new.title {
            (CarryStatus::Moved, 1.0)
        } else {
            let s = diff::similarity(old.title, new.title);
            if s < SIMILARITY_THRESHOLD && old.anchor != new.anchor {
                return self.orphan(None);
            }
            (CarryStatus::Fuzzy, s)
        };
        Projection {
            status,
            score: Some(score),
            section: Some(j),
            block: None,
            quote: None,
            doc_order: document_order(Some(j), None, None),
        }
    }

    fn project_quote(&mut self, origin: &Origin<'_>) -> Projection {
        let (Some(i), Some(q)) = (origin.block, origin.quote) else {
            return self.orphan(origin.section);
        };
        let hit = self.block(i);
        let with_quote = |p: Projection, (s, e): (usize, usize)| Projection {
            quote: Some((s, e)),
            doc_order: document_order(p.section, p.block, Some(s)),
            ..p
        };
        match hit {
            Some((j, status @ (CarryStatus::Exact | CarryStatus::Moved), _)) => {
                let p = self.at_block(j, status, 1.0);
                let len = q.exact.chars().count();
                with_quote(p, (q.start, q.start + len))
            }
            Some((j, _, score)) => match find_quote(self.to.blocks[j].text, &q) {
                // The quoted words are still there, in the rewritten block.
                Some(at) => with_quote(self.at_block(j, CarryStatus::Moved, 1.0), at),
                None => self.at_block(j, CarryStatus::Fuzzy, score),
            },
            None => {
                // The block is gone: the quoted words elsewhere, in one place only.
                let found: Vec<(usize, (usize, usize))> = self
                    .to
                    .blocks
                    .iter()
                    .enumerate()
                    .filter_map(|(j, b)| find_quote(b.text, &q).map(|at| (j, at)))
                    .take(2)
                    .collect();
                match found.as_slice() {
                    [(j, at)] => with_quote(self.at_block(*j, CarryStatus::Moved, 1.0), *at),
                    _ => self.orphan(origin.section),
                }
            }
        }
    }
}

/// The quote's words in `text`: the occurrence whose prefix and suffix still
/// match, else the one nearest its old place.
fn find_quote(text: &str, q: &QuoteAt<'_>) -> Option<(usize, usize)> {
    if q.exact.is_empty() {
        return None;
    }
    let chars: Vec<char> = text.chars().collect();
    let exact: Vec<char> = q.exact.chars().collect();
    if exact.len() > chars.len() {
        return None;
    }
    let prefix: Vec<char> = q.prefix.unwrap_or("").chars().collect();
    let suffix: Vec<char> = q.suffix.unwrap_or("").chars().collect();
    let fits = |i: usize| {
        let end = i + exact.len();
        (i >= prefix.len() && chars[i - prefix.len()..i] == prefix[..])
            && (end + suffix.len() <= chars.len() && chars[end..end + suffix.len()] == suffix[..])
    };
    let all: Vec<usize> = (0..=chars.len() - exact.len())
        .filter(|&i| chars[i..i + exact.len()] == exact[..])
        .collect();
    let best = all
        .iter()
        .copied()
        .filter(|&i| fits(i))
        .min_by_key(|i| i.abs_diff(q.start))
        .or_else(|| all.iter().copied().min_by_key(|i| i.abs_diff(q.start)))?;
    Some((best, best + exact.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::diff::{DiffBlock, DiffSection};
    use crate::domain::document::BlockKind;

    fn input<'a>(
        sections: &'a [(&'a str, &'a str)],
        blocks: &'a [(&'a str, usize, &'a str)],
    ) -> DiffInput<'a> {
        DiffInput {
            sections: sections
                .iter()
                .map(|(anchor, title)| DiffSection {
                    anchor,
                    clause: "",
                    title,
                })
                .collect(),
            blocks: blocks
                .iter()
                .map(|(anchor, section, text)| DiffBlock {
                    anchor,
                    section: *section,
                    kind: BlockKind::Paragraph,
                    text,
                })
                .collect(),
        }
    }

    fn block(i: usize) -> Origin<'static> {
        Origin {
            kind: AnchorKind::Block,
            section: Some(0),
            block: Some(i),
            quote: None,
        }
    }

    #[test]
    fn every_status() {
        let sections = [("s1", "Scope"), ("s2", "Readiness")];
        let from = input(
            &sections,
            &[
                (
                    "b1",
                    0,
                    "The lead agency coordinates the national programme.",
                ),
                (
                    "b2",
                    0,
                    "Indicators are collected every two years by the statistics office.",
                ),
                (
                    "b3",
                    1,
                    "A paragraph that will disappear entirely from the text.",
                ),
                (
                    "b4",
                    1,
                    "Readiness is assessed before any investment is made.",
                ),
            ],
        );
        let to = input(
            &sections,
            &[
                (
                    "b1",
                    0,
                    "The lead agency coordinates the national programme.",
                ),
                (
                    "n1",
                    0,
                    "Indicators are collected every year by the statistics office.",
                ),
                (
                    "b4",
                    0,
                    "Readiness is assessed before any investment is made.",
                ),
            ],
        );
        let mut c = Carrier::new(&from, &to);
        let p = c.project(&block(0));
        assert_eq!((p.status, p.block), (CarryStatus::Exact, Some(0)));
        let p = c.project(&block(1));
        assert_eq!((p.status, p.block), (CarryStatus::Fuzzy, Some(1)));
        assert!(p
            .score
            .is_some_and(|s| (SIMILARITY_THRESHOLD..1.0).contains(&s)));
        let p = c.project(&block(3));
        assert_eq!((p.status, p.block), (CarryStatus::Moved, Some(2)));
        let gone = Origin {
            section: Some(1),
            ..block(2)
        };
        let p = c.project(&gone);
        assert_eq!(
            (p.status, p.block, p.section),
            (CarryStatus::Orphaned, None, Some(1))
        );
        assert!(p.doc_order > c.project(&block(0)).doc_order);
    }

    #[test]
    fn quotes_follow_their_words() {
        let sections = [("s1", "Scope")];
        let from = input(
            &sections,
            &[(
                "b1",
                0,
                "Data should be open by default and free of charge.",
            )],
        );
        let to = input(
            &sections,
            &[(
                "n1",
                0,
                "All government data should be open by default and free of charge to reuse.",
            )],
        );
        let mut c = Carrier::new(&from, &to);
        let q = Origin {
            kind: AnchorKind::Quote,
            section: Some(0),
            block: Some(0),
            quote: Some(QuoteAt {
                exact: "open by default",
                prefix: Some("be "),
                suffix: None,
                start: 15,
            }),
        };
        let p = c.project(&q);
        assert_eq!(p.status, CarryStatus::Moved);
        let (s, e) = p.quote.expect("found");
        let text: String = to.blocks[0].text.chars().skip(s).take(e - s).collect();
        assert_eq!(text, "open by default");
        let lost = Origin {
            quote: Some(QuoteAt {
                exact: "gratis",
                prefix: None,
                suffix: None,
                start: 0,
            }),
            ..q
        };
        assert_eq!(c.project(&lost).status, CarryStatus::Fuzzy);
    }

    #[test]
    fn sections_fall_back_to_the_document() {
        let from = input(&[("s1", "Scope"), ("s2", "Annex")], &[]);
        let to = input(&[("s1", "Scope")], &[]);
        let mut c = Carrier::new(&from, &to);
        let sec = |s| Origin {
            kind: AnchorKind::Section,
            section: Some(s),
            block: None,
            quote: None,
        };
        assert_eq!(c.project(&sec(0)).status, CarryStatus::Exact);
        let p = c.project(&sec(1));
        assert_eq!((p.status, p.section), (CarryStatus::Orphaned, None));
    }
}
