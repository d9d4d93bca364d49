//! A revision's text as structure: Markdown parsed (pulldown-cmark) into
//! sections (from headings, with clause numbers) and blocks (paragraphs, list
//! items, table rows, block quotes, code blocks), each with a stable anchor id.

use std::collections::{HashMap, VecDeque};

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use sha2::{Digest, Sha256};

use super::accounts::Invalid;

string_enum!(
    /// What kind of block a piece of text is.
    BlockKind {
        Paragraph = "PARAGRAPH",
        ListItem = "LIST_ITEM",
        TableRow = "TABLE_ROW",
        BlockQuote = "BLOCK_QUOTE",
        CodeBlock = "CODE_BLOCK",
    }
);

/// A section: a heading and what follows it up to the next heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Place in document order, from 0.
    pub position: usize,
    /// Heading level 1-6; 0 for the text before the first heading.
    pub level: u8,
    /// Clause number such as `3.1`: from the heading text when it starts with
    /// one, else computed from the heading hierarchy; empty for the title and preamble.
    pub clause: String,
    /// Heading text without the clause number.
    pub title: String,
}

/// A block of text, the unit that comments anchor to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Place in document order, from 0.
    pub position: usize,
    /// Index of its section.
    pub section: usize,
    pub kind: BlockKind,
    /// Plain text, whitespace collapsed; table cells joined by ` | `.
    pub text: String,
    /// Byte range of the block in the Markdown source.
    pub source_start: usize,
    pub source_end: usize,
}

/// A parsed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub sections: Vec<Section>,
    pub blocks: Vec<Block>,
    /// Words in headings and blocks.
    pub word_count: usize,
}

/// Limits on an uploaded draft.
#[derive(Debug, Clone, Copy)]
pub struct DocumentLimits {
    pub max_bytes: usize,
}

impl Default for DocumentLimits {
    fn default() -> Self {
        Self {
            max_bytes: 2 * 1024 * 1024,
        }
    }
}

/// SHA-256 of the Markdown source, hex.
pub fn content_hash(markdown: &str) -> String {
    hex::encode(Sha256::digest(markdown.as_bytes()))
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

/// `"3.1 Scope"` -> `Some(("3.1", "Scope"))`; also `"3.1. Scope"` and `"A.2 Annex"`.
fn explicit_clause(heading: &str) -> Option<(String, String)> {
    let (first, rest) = heading.split_once(char::is_whitespace)?;
    let number = first.trim_end_matches('.');
    let mut parts = number.split('.');
    let head = parts.next()?;
    let head_ok = (!head.is_empty() && head.len() <= 3 && head.bytes().all(|b| b.is_ascii_digit()))
        || (head.len() == 1
            && head.bytes().all(|b| b.is_ascii_uppercase())
            && number.contains('.'));
    let rest_ok =
        parts.all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()));
    let rest = rest.trim();
    (head_ok && rest_ok && !rest.is_empty()).then(|| (number.to_owned(), rest.to_owned()))
}

fn level_number(l: HeadingLevel) -> u8 {
    match l {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

struct OpenBlock {
    /// Order of the block's start: a nested list item ends before its parent
    /// but comes after it in the document.
    seq: usize,
    kind: BlockKind,
    text: String,
    start: usize,
    end: usize,
}

/// Parse a draft. Refuses an empty document, one over the size limit, and NUL characters.
pub fn parse(markdown: &str, limits: DocumentLimits) -> Result<Document, Invalid> {
    if markdown.len() > limits.max_bytes {
        return Err(Invalid(format!(
            "the document is {} bytes; at most {} are accepted",
            markdown.len(),
            limits.max_bytes
        )));
    }
    if markdown.contains('\0') {
        return Err(Invalid("the document contains a NUL character".into()));
    }
    let mut headings: Vec<(u8, String)> = Vec::new();
    // (start order, section or None for the preamble, block)
    let mut found: Vec<(usize, Option<usize>, Block)> = Vec::new();
    let mut seq = 0usize;
    // Text before the first heading belongs to a preamble section, made when needed.
    let mut heading_text: Option<(u8, String)> = None;
    let mut open: Vec<OpenBlock> = Vec::new();
    // Inside a block quote or code block, nothing nested becomes a block of its own.
    let mut opaque_depth = 0usize;
    let mut cell_index = 0usize;

    let finish =
        |b: OpenBlock, found: &mut Vec<(usize, Option<usize>, Block)>, current: Option<usize>| {
            let text = collapse(&b.text);
            if text.is_empty() {
                return;
            }
            found.push((
                b.seq,
                current,
                Block {
                    position: 0,
                    section: 0,
                    kind: b.kind,
                    text,
                    source_start: b.start,
                    source_end: b.end,
                },
            ));
        };

    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for (event, range) in Parser::new_ext(markdown, opts).into_offset_iter() {
        let current = headings.len().checked_sub(1);
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                heading_text = Some((level_number(level), String::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, text)) = heading_text.take() {
                    headings.push((level, collapse(&text)));
                }
            }
            Event::Start(tag) if opaque_depth == 0 => {
                let kind = match tag {
                    Tag::Paragraph if open.is_empty() => Some(BlockKind::Paragraph),
                    Tag::HtmlBlock if open.is_empty() => Some(BlockKind::Paragraph),
                    Tag::Item => Some(BlockKind::ListItem),
                    Tag::TableHead | Tag::TableRow => Some(BlockKind::TableRow),
                    Tag::BlockQuote(_) => Some(BlockKind::BlockQuote),
                    Tag::CodeBlock(_) => Some(BlockKind::CodeBlock),
                    Tag::TableCell => {
                        if let Some(b) = open.last_mut() {
                            if cell_index > 0 {
                                b.text.push_str(" | ");
                            }
                        }
                        cell_index += 1;
                        None
                    }
                    _ => None,
                };
                if let Some(kind) = kind {
                    if matches!(kind, BlockKind::BlockQuote | BlockKind::CodeBlock) {
                        opaque_depth = 1;
                    }
                    if kind == BlockKind::TableRow {
                        cell_index = 0;
                    }
                    seq += 1;
                    open.push(OpenBlock {
                        seq,
                        kind,
                        text: String::new(),
                        start: range.start,
                        end: range.end,
                    });
                }
            }
            Event::Start(Tag::BlockQuote(_)) => opaque_depth += 1,
            Event::End(TagEnd::BlockQuote(_)) if opaque_depth > 1 => opaque_depth -= 1,
            Event::Start(_) => {}
            Event::End(end) => {
                let closes = match end {
                    TagEnd::Paragraph | TagEnd::HtmlBlock => {
                        open.last().is_some_and(|b| b.kind == BlockKind::Paragraph)
                            && opaque_depth == 0
                    }
                    TagEnd::Item => {
                        opaque_depth == 0
                            && open.last().is_some_and(|b| b.kind == BlockKind::ListItem)
                    }
                    TagEnd::TableHead | TagEnd::TableRow => {
                        open.last().is_some_and(|b| b.kind == BlockKind::TableRow)
                    }
                    TagEnd::BlockQuote(_) | TagEnd::CodeBlock => {
                        let closing = opaque_depth == 1;
                        if closing {
                            opaque_depth = 0;
                        }
                        closing
                    }
                    // A paragraph inside a list item: keep its words apart from the next one's.
                    _ => false,
                };
                if matches!(end, TagEnd::Paragraph) && !closes {
                    if let Some(b) = open.last_mut() {
                        b.text.push(' ');
                    }
                }
                if closes {
                    if let Some(b) = open.pop() {
                        finish(b, &mut found, current);
                    }
                }
            }
            Event::Text(t)
            | Event::Code(t)
            | Event::Html(t)
            | Event::InlineHtml(t)
            | Event::InlineMath(t)
            | Event::DisplayMath(t) => {
                if let Some((_, h)) = heading_text.as_mut() {
                    h.push_str(&t);
                } else if let Some(b) = open.last_mut() {
                    b.text.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some((_, h)) = heading_text.as_mut() {
                    h.push(' ');
                } else if let Some(b) = open.last_mut() {
                    b.text.push(' ');
                }
            }
            _ => {}
        }
    }
    while let Some(b) = open.pop() {
        let current = headings.len().checked_sub(1);
        finish(b, &mut found, current);
    }
    found.sort_by_key(|(seq, _, _)| *seq);
    let (sections_of_blocks, mut blocks): (Vec<Option<usize>>, Vec<Block>) =
        found.into_iter().map(|(_, s, b)| (s, b)).unzip();
    for (i, b) in blocks.iter_mut().enumerate() {
        b.position = i;
    }
    if blocks.is_empty() && headings.is_empty() {
        return Err(Invalid(
            "the document is empty: write at least one heading or paragraph".into(),
        ));
    }

    // Sections: an optional preamble, then one per heading.
    let has_preamble = sections_of_blocks.iter().any(Option::is_none);
    let offset = usize::from(has_preamble);
    let mut sections = Vec::with_capacity(headings.len() + offset);
    if has_preamble {
        sections.push(Section {
            position: 0,
            level: 0,
            clause: String::new(),
            title: String::new(),
        });
    }
    let clauses = clause_numbers(&headings);
    for (i, ((level, text), (clause, title))) in headings.iter().zip(clauses).enumerate() {
        let title = if title.is_empty() {
            text.clone()
        } else {
            title
        };
        sections.push(Section {
            position: i + offset,
            level: *level,
            clause,
            title,
        });
    }
    for (b, s) in blocks.iter_mut().zip(&sections_of_blocks) {
        b.section = s.map_or(0, |i| i + offset);
    }
    let word_count = headings.iter().map(|(_, t)| word_count(t)).sum::<usize>()
        + blocks.iter().map(|b| word_count(&b.text)).sum::<usize>();
    Ok(Document {
        sections,
        blocks,
        word_count,
    })
}

/// Clause and title of each heading. A lone first `#` heading is the document's
/// title (no clause). Explicit numbers win and reset the counters below them.
fn clause_numbers(headings: &[(u8, String)]) -> Vec<(String, String)> {
    let h1s = headings.iter().filter(|(l, _)| *l == 1).count();
    let title_first = headings
        .first()
        .is_some_and(|(l, t)| *l == 1 && explicit_clause(t).is_none())
        && h1s == 1;
    let base = headings
        .iter()
        .skip(usize::from(title_first))
        .map(|(l, _)| *l)
        .min()
        .unwrap_or(1);
    let mut counters: Vec<u32> = Vec::new();
    headings
        .iter()
        .enumerate()
        .map(|(i, (level, text))| {
            if i == 0 && title_first {
                return (String::new(), text.clone());
            }
            let depth = usize::from(level.saturating_sub(base));
            if let Some((number, title)) = explicit_clause(text) {
                let parts: Vec<u32> = number.split('.').filter_map(|p| p.parse().ok()).collect();
                if parts.len() == number.split('.').count() {
                    counters = parts;
                }
                return (number, title);
            }
            counters.truncate(depth + 1);
            while counters.len() < depth + 1 {
                counters.push(0);
            }
            if let Some(last) = counters.last_mut() {
                *last += 1;
            }
            let number = counters
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(".");
            (number, text.clone())
        })
        .collect()
}

/// The anchors of the previous revision, to be kept where the text is the same.
#[derive(Debug, Clone, Default)]
pub struct PreviousAnchors {
    /// `(anchor, clause, title)` in document order.
    pub sections: Vec<(String, String, String)>,
    /// `(anchor, kind, text)` in document order.
    pub blocks: Vec<(String, BlockKind, String)>,
}

/// Anchor ids for a new revision's sections and blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchors {
    pub sections: Vec<String>,
    pub blocks: Vec<String>,
}

/// Give each section and block an anchor id. A block whose kind and text are
/// unchanged (wherever it moved) keeps the previous revision's id; a section
/// keeps its id when its heading is the same, or else when its clause number is.
/// New ids are `sec-R-P` / `blk-R-P` (revision number, position), unique in the module.
pub fn assign_anchors(doc: &Document, previous: &PreviousAnchors, revision_number: i64) -> Anchors {
    let mut by_text: HashMap<(BlockKind, &str), VecDeque<&str>> = HashMap::new();
    for (anchor, kind, text) in &previous.blocks {
        by_text
            .entry((*kind, text.as_str()))
            .or_default()
            .push_back(anchor);
    }
    let blocks = doc
        .blocks
        .iter()
        .map(|b| {
            by_text
                .get_mut(&(b.kind, b.text.as_str()))
                .and_then(VecDeque::pop_front)
                .map_or_else(
                    || format!("blk-{revision_number}-{}", b.position),
                    str::to_owned,
                )
        })
        .collect();

    let mut used = vec![false; previous.sections.len()];
    let mut sections: Vec<Option<String>> = vec![None; doc.sections.len()];
    // First the same heading, then the same clause.
    for pass in 0..2 {
        for (i, s) in doc.sections.iter().enumerate() {
            if sections[i].is_some() {
                continue;
            }
            let found = previous
                .sections
                .iter()
                .enumerate()
                .position(|(j, (_, clause, title))| {
                    !used[j]
                        && if pass == 0 {
                            clause == &s.clause && title == &s.title
                        } else {
                            !s.clause.is_empty() && clause == &s.clause
                        }
                });
            if let Some(j) = found {
                used[j] = true;
                sections[i] = Some(previous.sections[j].0.clone());
            }
        }
    }
    let sections = sections
        .into_iter()
        .enumerate()
        .map(|(i, a)| a.unwrap_or_else(|| format!("sec-{revision_number}-{i}")))
        .collect();
    Anchors { sections, blocks }
}

pub mod html;

#[cfg(test)]
mod tests;
