//! Differences between two revisions: sections and blocks aligned (added,
//! removed, moved, changed, unchanged) and word-level changes inside changed blocks.
//!
//! Blocks are paired by anchor id first (an unchanged or moved block keeps its
//! id), then by identical text, then, inside aligned sections, by similarity of
//! at least [`SIMILARITY_THRESHOLD`]. Pairs out of order are MOVED (those not on
//! the longest in-order run). Works in either direction.

use std::collections::HashMap;

use similar::{ChangeTag, TextDiff};
use unicode_segmentation::UnicodeSegmentation as _;

use super::document::BlockKind;

/// Two blocks at least this similar (share of equal words, 0 to 1) are the same block, changed.
pub const SIMILARITY_THRESHOLD: f32 = 0.5;

/// A section as the diff sees it.
#[derive(Debug, Clone)]
pub struct DiffSection<'a> {
    pub anchor: &'a str,
    pub clause: &'a str,
    pub title: &'a str,
}

/// A block as the diff sees it.
#[derive(Debug, Clone)]
pub struct DiffBlock<'a> {
    pub anchor: &'a str,
    /// Index into the sections.
    pub section: usize,
    pub kind: BlockKind,
    pub text: &'a str,
}

/// One side of a diff, in document order.
#[derive(Debug, Clone, Default)]
pub struct DiffInput<'a> {
    pub sections: Vec<DiffSection<'a>>,
    pub blocks: Vec<DiffBlock<'a>>,
}

/// What happened to a section or block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Added,
    Removed,
    Changed,
    Moved,
    Unchanged,
}

/// A run of words in a changed block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Equal,
    Insert,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextChange {
    pub op: Op,
    pub text: String,
}

/// One block's fate; `from`/`to` index the blocks of each side.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockChange {
    pub status: Status,
    pub from: Option<usize>,
    pub to: Option<usize>,
    /// For CHANGED blocks: how similar the two texts are.
    pub similarity: Option<f32>,
    /// For CHANGED blocks: the word-level changes, which rebuild both texts.
    pub changes: Vec<TextChange>,
}

/// One section's fate and its blocks, in the order of the `to` side
/// (removed items placed after what preceded them).
#[derive(Debug, Clone, PartialEq)]
pub struct SectionChange {
    pub status: Status,
    pub from: Option<usize>,
    pub to: Option<usize>,
    pub blocks: Vec<BlockChange>,
}

/// Counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub sections: Counts,
    pub blocks: Counts,
    pub words_added: usize,
    pub words_removed: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    pub moved: usize,
    pub unchanged: usize,
}

impl Counts {
    fn add(&mut self, s: Status) {
        match s {
            Status::Added => self.added += 1,
            Status::Removed => self.removed += 1,
            Status::Changed => self.changed += 1,
            Status::Moved => self.moved += 1,
            Status::Unchanged => self.unchanged += 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    pub sections: Vec<SectionChange>,
    pub summary: Summary,
}

/// How similar two texts are: the share of equal words (Unicode word
/// boundaries, case and punctuation kept out), from 0 to 1.
pub fn similarity(a: &str, b: &str) -> f32 {
    if a == b {
        return 1.0;
    }
    let words = |s: &str| s.unicode_words().map(str::to_lowercase).collect::<Vec<_>>();
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() && wb.is_empty() {
        return 0.0;
    }
    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &wa, &wb);
    similar::get_diff_ratio(&ops, wa.len(), wb.len())
}

/// Word-level changes from `a` to `b`, adjacent runs of the same kind merged.
pub fn word_changes(a: &str, b: &str) -> Vec<TextChange> {
    let diff = TextDiff::configure().diff_unicode_words(a, b);
    let mut out: Vec<TextChange> = Vec::new();
    for change in diff.iter_all_changes() {
        let op = match change.tag() {
            ChangeTag::Equal => Op::Equal,
            ChangeTag::Insert => Op::Insert,
            ChangeTag::Delete => Op::Delete,
        };
        match out.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => out.push(TextChange {
                op,
                text: change.value().to_owned(),
            }),
        }
    }
    out
}

/// Indexes (into `seq`) of one longest strictly increasing subsequence.
fn longest_increasing(seq: &[usize]) -> Vec<bool> {
    // Patience sorting with back-pointers, O(n log n).
    let mut tails: Vec<usize> = Vec::new();
    let mut prev = vec![usize::MAX; seq.len()];
    for (i, &v) in seq.iter().enumerate() {
        let pos = tails.partition_point(|&t| seq[t] < v);
        if pos > 0 {
            prev[i] = tails[pos - 1];
        }
        if pos == tails.len() {
            tails.push(i);
        } else {
            tails[pos] = i;
        }
    }
    let mut keep = vec![false; seq.len()];
    let mut cur = tails.last().copied();
    while let Some(i) = cur {
        keep[i] = true;
        cur = (prev[i] != usize::MAX).then_some(prev[i]);
    }
    keep
}

fn pair_sections(from: &DiffInput<'_>, to: &DiffInput<'_>) -> Vec<Option<usize>> {
    let mut pairs: Vec<Option<usize>> = vec![None; to.sections.len()];
    let mut used = vec![false; from.sections.len()];
    let by_anchor: HashMap<&str, usize> = from
        .sections
        .iter()
        .enumerate()
        .map(|(i, s)| (s.anchor, i))
        .collect();
    for (j, s) in to.sections.iter().enumerate() {
        if let Some(&i) = by_anchor.get(s.anchor) {
            if !used[i] {
                used[i] = true;
                pairs[j] = Some(i);
            }
        }
    }
    for pass in 0..2 {
        for (j, s) in to.sections.iter().enumerate() {
            if pairs[j].is_some() {
                continue;
            }
            let hit = from.sections.iter().enumerate().position(|(i, f)| {
                !used[i]
                    && if pass == 0 {
                        f.title == s.title && f.clause == s.clause
                    } else {
                        !s.clause.is_empty() && f.clause == s.clause
                    }
            });
            if let Some(i) = hit {
                used[i] = true;
                pairs[j] = Some(i);
            }
        }
    }
    pairs
}

/// Which block of `from` each block of `to` is, and what happened to it.
#[derive(Debug, Clone)]
pub struct Pairing {
    /// For each section of `to`: the section of `from` it continues.
    pub sections: Vec<Option<usize>>,
    /// For each block of `to`: the block of `from` it continues.
    pub blocks: Vec<Option<usize>>,
    /// For each block of `to` paired by similarity (CHANGED): the similarity.
    pub similarity: HashMap<usize, f32>,
    /// For each block of `to`: ADDED, CHANGED, MOVED or UNCHANGED.
    pub status: Vec<Status>,
}

impl Pairing {
    /// For each block of `from`: the block of `to` it became, if any.
    pub fn to_of_from(&self, from_len: usize) -> Vec<Option<usize>> {
        let mut out = vec![None; from_len];
        for (j, p) in self.blocks.iter().enumerate() {
            if let Some(i) = p {
                if let Some(slot) = out.get_mut(*i) {
                    *slot = Some(j);
                }
            }
        }
        out
    }
}

/// Pair the blocks of two revisions: by anchor (same text), then identical
/// text, then similarity at or above [`SIMILARITY_THRESHOLD`] inside aligned
/// sections; pairs off the longest in-order run are MOVED.
pub fn pair(from: &DiffInput<'_>, to: &DiffInput<'_>) -> Pairing {
    let section_pair = pair_sections(from, to);

    // Block pairs: to-index -> from-index.
    let mut pair: Vec<Option<usize>> = vec![None; to.blocks.len()];
    let mut used = vec![false; from.blocks.len()];
    let by_anchor: HashMap<&str, usize> = from
        .blocks
        .iter()
        .enumerate()
        .map(|(i, b)| (b.anchor, i))
        .collect();
    for (j, b) in to.blocks.iter().enumerate() {
        if let Some(&i) = by_anchor.get(b.anchor) {
            if !used[i] && from.blocks[i].text == b.text {
                used[i] = true;
                pair[j] = Some(i);
            }
        }
    }
    let mut by_text: HashMap<(BlockKind, &str), Vec<usize>> = HashMap::new();
    for (i, b) in from.blocks.iter().enumerate().rev() {
        if !used[i] {
            by_text.entry((b.kind, b.text)).or_default().push(i);
        }
    }
    for (j, b) in to.blocks.iter().enumerate() {
        if pair[j].is_none() {
            if let Some(i) = by_text.get_mut(&(b.kind, b.text)).and_then(Vec::pop) {
                used[i] = true;
                pair[j] = Some(i);
            }
        }
    }
    // Similar blocks inside aligned sections are the same block, changed.
    let mut similar_pair: HashMap<usize, f32> = HashMap::new();
    for (sj, si) in section_pair.iter().enumerate() {
        let Some(si) = *si else { continue };
        let olds: Vec<usize> = (0..from.blocks.len())
            .filter(|&i| !used[i] && from.blocks[i].section == si)
            .collect();
        let news: Vec<usize> = (0..to.blocks.len())
            .filter(|&j| pair[j].is_none() && to.blocks[j].section == sj)
            .collect();
        // Bound the work on sections rewritten wholesale.
        let window = if olds.len() * news.len() > 40_000 {
            50
        } else {
            usize::MAX
        };
        let mut taken = vec![false; olds.len()];
        for (nj, &j) in news.iter().enumerate() {
            let mut best: Option<(usize, f32)> = None;
            for (oi, &i) in olds.iter().enumerate() {
                if taken[oi] || oi.abs_diff(nj) > window || from.blocks[i].kind != to.blocks[j].kind
                {
                    continue;
                }
                let s = similarity(from.blocks[i].text, to.blocks[j].text);
                if s >= SIMILARITY_THRESHOLD && best.is_none_or(|(_, b)| s > b) {
                    best = Some((oi, s));
                }
            }
            if let Some((oi, s)) = best {
                taken[oi] = true;
                used[olds[oi]] = true;
                pair[j] = Some(olds[oi]);
                similar_pair.insert(j, s);
            }
        }
    }

    // Order: pairs not on the longest in-order run moved.
    let paired: Vec<usize> = (0..to.blocks.len())
        .filter(|&j| pair[j].is_some())
        .collect();
    let from_positions: Vec<usize> = paired.iter().filter_map(|&j| pair[j]).collect();
    let in_order = longest_increasing(&from_positions);
    let mut block_status: Vec<Status> = vec![Status::Added; to.blocks.len()];
    for (k, &j) in paired.iter().enumerate() {
        let Some(i) = pair[j] else { continue };
        let same_section = section_pair[to.blocks[j].section] == Some(from.blocks[i].section);
        block_status[j] = if similar_pair.contains_key(&j) {
            Status::Changed
        } else if in_order[k] && same_section {
            Status::Unchanged
        } else {
            Status::Moved
        };
    }
    Pairing {
        sections: section_pair,
        blocks: pair,
        similarity: similar_pair,
        status: block_status,
    }
}

/// Compare two revisions.
pub fn diff(from: &DiffInput<'_>, to: &DiffInput<'_>) -> Diff {
    let Pairing {
        sections: section_pair,
        blocks: pair,
        similarity: similar_pair,
        status: block_status,
    } = self::pair(from, to);
    let mut section_of_from: Vec<Option<usize>> = vec![None; from.sections.len()];
    for (j, p) in section_pair.iter().enumerate() {
        if let Some(i) = p {
            section_of_from[*i] = Some(j);
        }
    }
    let mut summary = Summary::default();
    let block_change = |j: usize, summary: &mut Summary| -> BlockChange {
        let status = block_status[j];
        summary.blocks.add(status);
        let (similarity, changes) = match (status, pair[j]) {
            (Status::Changed, Some(i)) => {
                let changes = word_changes(from.blocks[i].text, to.blocks[j].text);
                for c in &changes {
                    let words = c.text.split_whitespace().count();
                    match c.op {
                        Op::Insert => summary.words_added += words,
                        Op::Delete => summary.words_removed += words,
                        Op::Equal => {}
                    }
                }
                (similar_pair.get(&j).copied(), changes)
            }
            _ => (None, Vec::new()),
        };
        if status == Status::Added {
            summary.words_added += to.blocks[j].text.split_whitespace().count();
        }
        BlockChange {
            status,
            from: pair[j],
            to: Some(j),
            similarity,
            changes,
        }
    };
    let removed = |i: usize, summary: &mut Summary| -> BlockChange {
        summary.blocks.add(Status::Removed);
        summary.words_removed += from.blocks[i].text.split_whitespace().count();
        BlockChange {
            status: Status::Removed,
            from: Some(i),
            to: None,
            similarity: None,
            changes: Vec::new(),
        }
    };

    // Where each from-block went (to-index), for placing removed blocks.
    let mut to_of_from: Vec<Option<usize>> = vec![None; from.blocks.len()];
    for (j, p) in pair.iter().enumerate() {
        if let Some(i) = p {
            to_of_from[*i] = Some(j);
        }
    }
    let section_in_order = {
        let paired_sections: Vec<usize> = section_pair.iter().flatten().copied().collect();
        let keep = longest_increasing(&paired_sections);
        let mut m = HashMap::new();
        for (k, i) in paired_sections.iter().enumerate() {
            m.insert(*i, keep[k]);
        }
        m
    };

    let mut out: Vec<SectionChange> = Vec::new();
    for (sj, section) in to.sections.iter().enumerate() {
        let si = section_pair[sj];
        // (sort key, change): new blocks by position; removed ones right after
        // the to-position of the from-block that preceded them.
        let mut entries: Vec<((i64, usize, usize), BlockChange)> = Vec::new();
        for j in (0..to.blocks.len()).filter(|&j| to.blocks[j].section == sj) {
            entries.push(((j as i64, 0, 0), block_change(j, &mut summary)));
        }
        if let Some(si) = si {
            let mut anchor_key: i64 = -1;
            for i in (0..from.blocks.len()).filter(|&i| from.blocks[i].section == si) {
                match to_of_from[i] {
                    Some(j) if to.blocks[j].section == sj => anchor_key = j as i64,
                    Some(_) => {}
                    None => entries.push(((anchor_key, 1, i), removed(i, &mut summary))),
                }
            }
        }
        entries.sort_by_key(|(k, _)| *k);
        let blocks: Vec<BlockChange> = entries.into_iter().map(|(_, c)| c).collect();
        let status = match si {
            None => Status::Added,
            Some(si) => {
                let f = &from.sections[si];
                if f.title != section.title || f.clause != section.clause {
                    Status::Changed
                } else if !section_in_order.get(&si).copied().unwrap_or(true) {
                    Status::Moved
                } else if blocks.iter().any(|b| b.status != Status::Unchanged) {
                    Status::Changed
                } else {
                    Status::Unchanged
                }
            }
        };
        summary.sections.add(status);
        out.push(SectionChange {
            status,
            from: si,
            to: Some(sj),
            blocks,
        });
    }
    // Removed sections go after the section that preceded them.
    let mut result: Vec<SectionChange> = Vec::with_capacity(out.len());
    let mut pending: Vec<(i64, SectionChange)> = Vec::new();
    let mut anchor: i64 = -1;
    for (si, _) in from.sections.iter().enumerate() {
        match section_of_from[si] {
            Some(sj) => anchor = sj as i64,
            None => {
                let blocks: Vec<BlockChange> = (0..from.blocks.len())
                    .filter(|&i| from.blocks[i].section == si && to_of_from[i].is_none())
                    .map(|i| removed(i, &mut summary))
                    .collect();
                summary.sections.add(Status::Removed);
                pending.push((
                    anchor,
                    SectionChange {
                        status: Status::Removed,
                        from: Some(si),
                        to: None,
                        blocks,
                    },
                ));
            }
        }
    }
    let mut pending = pending.into_iter().peekable();
    while let Some((a, _)) = pending.peek() {
        if *a >= 0 {
            break;
        }
        if let Some((_, s)) = pending.next() {
            result.push(s);
        }
    }
    for (sj, s) in out.into_iter().enumerate() {
        result.push(s);
        while let Some((a, _)) = pending.peek() {
            if *a != sj as i64 {
                break;
            }
            if let Some((_, s)) = pending.next() {
                result.push(s);
            }
        }
    }
    result.extend(pending.map(|(_, s)| s));
    Diff {
        sections: result,
        summary,
    }
}

#[cfg(test)]
mod tests;
