//! Comments: types, validated text, anchors (W3C Web Annotation quote and
//! position selectors), document order, and who may see what.

use super::accounts::Invalid;

string_enum!(
    /// The ISO comment template's type of comment.
    CommentType {
        General = "GENERAL",
        Technical = "TECHNICAL",
        Editorial = "EDITORIAL",
    }
);

impl CommentType {
    /// The template's code: `ge`, `te`, `ed`.
    pub fn code(self) -> &'static str {
        match self {
            CommentType::General => "ge",
            CommentType::Technical => "te",
            CommentType::Editorial => "ed",
        }
    }
}

string_enum!(
    /// Where a comment is in its life.
    CommentState {
        Draft = "DRAFT",
        Submitted = "SUBMITTED",
        Withdrawn = "WITHDRAWN",
    }
);

string_enum!(
    /// What a comment is anchored to.
    AnchorKind {
        Document = "DOCUMENT",
        Section = "SECTION",
        Block = "BLOCK",
        Quote = "QUOTE",
    }
);

string_enum!(
    /// A reply in a thread: active, or withdrawn by its author (kept, shown as withdrawn).
    ReplyState {
        Active = "ACTIVE",
        Withdrawn = "WITHDRAWN",
    }
);

/// The most bytes in a comment's body or proposed change.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A comment's body (Markdown): not empty, at most 64 KiB.
pub fn body(raw: &str, what: &str) -> Result<String, Invalid> {
    if raw.trim().is_empty() {
        return Err(Invalid(format!("{what} must not be empty")));
    }
    if raw.len() > MAX_BODY_BYTES {
        return Err(Invalid(format!(
            "{what} is {} bytes; at most {MAX_BODY_BYTES} are accepted",
            raw.len()
        )));
    }
    if raw.contains('\0') {
        return Err(Invalid(format!("{what} must not contain NUL characters")));
    }
    Ok(raw.to_owned())
}

/// A BCP 47 language tag such as `en`, `fr` or `es-419`, in canonical case.
pub fn language(raw: &str) -> Result<String, Invalid> {
    let tag = language_tags::LanguageTag::parse(raw.trim()).map_err(|e| {
        Invalid(format!(
            "'{}' is not a BCP 47 language tag: {e}",
            raw.trim()
        ))
    })?;
    tag.validate().map_err(|e| {
        Invalid(format!(
            "'{}' is not a valid BCP 47 language tag: {e}",
            raw.trim()
        ))
    })?;
    Ok(tag
        .canonicalize()
        .map_or_else(|_| tag.to_string(), |t| t.to_string()))
}

/// Quoted words of a block, as stored: the exact text, its context, and where
/// it is (`[start, end)` in code points of the block's text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub exact: String,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    pub start: i64,
    pub end: i64,
}

/// Where a comment points, one shape per kind: a DOCUMENT anchor cannot carry
/// a quote, a QUOTE anchor cannot lack its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// The whole document.
    Document,
    /// A section, by its stable anchor id.
    Section { section: String },
    /// A block (paragraph, list item, table row...) and the section it is in.
    Block {
        section: Option<String>,
        block: String,
    },
    /// Words of a block.
    Quote {
        section: Option<String>,
        block: String,
        quote: Quote,
    },
}

impl Anchor {
    pub fn kind(&self) -> AnchorKind {
        match self {
            Anchor::Document => AnchorKind::Document,
            Anchor::Section { .. } => AnchorKind::Section,
            Anchor::Block { .. } => AnchorKind::Block,
            Anchor::Quote { .. } => AnchorKind::Quote,
        }
    }

    /// The section's anchor id, where there is one.
    pub fn section(&self) -> Option<&str> {
        match self {
            Anchor::Document => None,
            Anchor::Section { section } => Some(section),
            Anchor::Block { section, .. } | Anchor::Quote { section, .. } => section.as_deref(),
        }
    }

    /// The block's anchor id, where there is one.
    pub fn block(&self) -> Option<&str> {
        match self {
            Anchor::Block { block, .. } | Anchor::Quote { block, .. } => Some(block),
            Anchor::Document | Anchor::Section { .. } => None,
        }
    }

    pub fn quote(&self) -> Option<&Quote> {
        match self {
            Anchor::Quote { quote, .. } => Some(quote),
            _ => None,
        }
    }

    /// Put the stored parts back together; parts that do not fit the kind are
    /// a broken row, not something to guess at.
    pub fn from_parts(
        kind: AnchorKind,
        section: Option<String>,
        block: Option<String>,
        quote: Option<Quote>,
    ) -> Result<Anchor, Invalid> {
        let bad = |why: &str| Err(Invalid(format!("a stored {kind} anchor {why}")));
        match (kind, section, block, quote) {
            (AnchorKind::Document, None, None, None) => Ok(Anchor::Document),
            (AnchorKind::Section, Some(section), None, None) => Ok(Anchor::Section { section }),
            (AnchorKind::Block, section, Some(block), None) => Ok(Anchor::Block { section, block }),
            (AnchorKind::Quote, section, Some(block), Some(quote)) => Ok(Anchor::Quote {
                section,
                block,
                quote,
            }),
            (AnchorKind::Document, ..) => bad("has a section, block or quote"),
            (AnchorKind::Section, ..) => bad("needs a section and nothing else"),
            (AnchorKind::Block, ..) => bad("needs a block and no quote"),
            (AnchorKind::Quote, ..) => bad("needs a block and a quote"),
        }
    }
}

/// A quote as the client gives it (TextQuoteSelector plus optional TextPositionSelector).
#[derive(Debug, Clone, Default)]
pub struct QuoteSelector {
    pub exact: String,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    /// Character (Unicode code point) offsets in the block's text.
    pub start: Option<usize>,
    pub end: Option<usize>,
}

/// Where the quote is: `[start, end)` in code points of the block text.
pub fn resolve_quote(block_text: &str, q: &QuoteSelector) -> Result<(usize, usize), Invalid> {
    if q.exact.is_empty() {
        return Err(Invalid("the quote's exact text must not be empty".into()));
    }
    let chars: Vec<char> = block_text.chars().collect();
    let exact: Vec<char> = q.exact.chars().collect();
    let prefix: Vec<char> = q.prefix.as_deref().unwrap_or("").chars().collect();
    let suffix: Vec<char> = q.suffix.as_deref().unwrap_or("").chars().collect();
    if exact.len() > chars.len() {
        return Err(Invalid("the quoted text is not in this block".into()));
    }
    let occurrences: Vec<usize> = (0..=chars.len() - exact.len())
        .filter(|&i| chars[i..i + exact.len()] == exact[..])
        .collect();
    if occurrences.is_empty() {
        return resolve_loosely(&chars, q);
    }
    let fits = |&i: &usize| {
        let end = i + exact.len();
        let prefix_ok = i >= prefix.len() && chars[i - prefix.len()..i] == prefix[..];
        let suffix_ok =
            end + suffix.len() <= chars.len() && chars[end..end + suffix.len()] == suffix[..];
        let start_ok = q.start.is_none_or(|s| s == i);
        let end_ok = q.end.is_none_or(|e| e == end);
        prefix_ok && suffix_ok && start_ok && end_ok
    };
    let matching: Vec<usize> = occurrences.iter().copied().filter(fits).collect();
    match matching.as_slice() {
        [i] => Ok((*i, *i + exact.len())),
        [] => Err(Invalid(
            "the quoted text is in this block, but not with the given prefix, suffix or offsets".into(),
        )),
        many => Err(Invalid(format!(
            "the quote is ambiguous: it occurs {} times in this block; add a prefix or suffix, or its start offset",
            many.len()
        ))),
    }
}

/// One character as copy and paste may have changed it: typographic quotes
/// and dashes made plain, every kind of space one space, lower case.
fn loose(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{02BC}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' => '"',
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        c if c.is_whitespace() => ' ',
        c => c.to_lowercase().next().unwrap_or(c),
    }
}

/// `text` made loose, runs of spaces collapsed, with each kept character's
/// index in `text`.
fn loosen(text: &[char]) -> (Vec<char>, Vec<usize>) {
    let mut out: Vec<char> = Vec::with_capacity(text.len());
    let mut at = Vec::with_capacity(text.len());
    for (i, &c) in text.iter().enumerate() {
        let l = loose(c);
        if l == ' ' && out.last().is_none_or(|&p| p == ' ') {
            continue;
        }
        out.push(l);
        at.push(i);
    }
    while out.last() == Some(&' ') {
        out.pop();
        at.pop();
    }
    (out, at)
}

/// The quote when it matches only after typographic normalisation (what a
/// pasted quote often needs); the prefix and suffix are compared the same way.
fn resolve_loosely(chars: &[char], q: &QuoteSelector) -> Result<(usize, usize), Invalid> {
    let (text, at) = loosen(chars);
    let (exact, _) = loosen(&q.exact.trim().chars().collect::<Vec<_>>());
    let absent = || {
        Invalid(
            "the quoted text is not in this block, not even when quotes, dashes, spaces and case are ignored"
                .into(),
        )
    };
    if exact.is_empty() || exact.len() > text.len() {
        return Err(absent());
    }
    let (prefix, _) = loosen(
        &q.prefix
            .as_deref()
            .unwrap_or("")
            .chars()
            .collect::<Vec<_>>(),
    );
    let (suffix, _) = loosen(
        &q.suffix
            .as_deref()
            .unwrap_or("")
            .chars()
            .collect::<Vec<_>>(),
    );
    // Spaces are ignored around the quote: compare the characters next to it,
    // walking out from it only as far as the prefix and suffix reach.
    let solid = |c: &&char| **c != ' ';
    let prefix_fits = |i: usize| {
        let mut before = text[..i].iter().rev().filter(solid);
        prefix
            .iter()
            .rev()
            .filter(solid)
            .all(|p| before.next() == Some(p))
    };
    let suffix_fits = |j: usize| {
        let mut after = text[j..].iter().filter(solid);
        suffix.iter().filter(solid).all(|s| after.next() == Some(s))
    };
    let matching: Vec<usize> = (0..=text.len() - exact.len())
        .filter(|&i| text[i..i + exact.len()] == exact[..])
        .filter(|&i| prefix_fits(i) && suffix_fits(i + exact.len()))
        .collect();
    let span = |i: usize| (at[i], at[i + exact.len() - 1] + 1);
    match matching.as_slice() {
        [i] => Ok(span(*i)),
        [] => Err(absent()),
        many => Err(Invalid(format!(
            "the quote is ambiguous: once quotes, spaces and case are ignored it occurs {} times in this block; add a prefix or suffix",
            many.len()
        ))),
    }
}

/// A comment's place in document order: document-level comments first, then
/// by section, block and position in the block. One sortable integer.
pub fn document_order(
    section: Option<usize>,
    block: Option<usize>,
    quote_start: Option<usize>,
) -> i64 {
    const FIELD: i64 = (1 << 21) - 1;
    let part = |v: Option<usize>| v.map_or(0, |v| (v as i64 + 1).min(FIELD));
    (part(section) << 42) | (part(block) << 21) | part(quote_start)
}

pub use super::visibility::{scope, visible, Scope};

#[cfg(test)]
mod tests {
    use super::*;

    fn q(exact: &str) -> QuoteSelector {
        QuoteSelector {
            exact: exact.into(),
            ..Default::default()
        }
    }

    #[test]
    fn quotes_are_found_once_or_refused() {
        let text = "the lead agency for e-government and, again, the lead agency for e-government.";
        assert_eq!(resolve_quote(text, &q("again")), Ok((38, 43)));
        let err = resolve_quote(text, &q("the lead agency")).expect_err("ambiguous");
        assert!(
            err.0.contains("ambiguous") && err.0.contains("2 times"),
            "{err}"
        );
        let with_prefix = QuoteSelector {
            prefix: Some("again, ".into()),
            ..q("the lead agency")
        };
        assert_eq!(resolve_quote(text, &with_prefix), Ok((45, 60)));
        let with_start = QuoteSelector {
            start: Some(0),
            ..q("the lead agency")
        };
        assert_eq!(resolve_quote(text, &with_start), Ok((0, 15)));
        assert!(resolve_quote(text, &q("not there")).is_err());
        assert!(resolve_quote(text, &q("")).is_err());
        let wrong_offset = QuoteSelector {
            start: Some(3),
            ..q("again")
        };
        assert!(resolve_quote(text, &wrong_offset).is_err());
    }

    #[test]
    fn offsets_count_characters_not_bytes() {
        let text = "L'évaluation de « l'état de préparation »";
        let (s, e) = resolve_quote(text, &q("l'état")).expect("found");
        assert_eq!(
            text.chars().skip(s).take(e - s).collect::<String>(),
            "l'état"
        );
        assert_eq!(s, 18);
    }

    #[test]
    fn pasted_quotes_match_after_normalisation() {
        let text = "The agency\u{2019}s  plan covers the \u{201C}whole of government\u{201D}.";
        let (s, e) = resolve_quote(text, &q("agency's plan covers THE \"whole")).expect("found");
        let found: String = text.chars().skip(s).take(e - s).collect();
        assert_eq!(found, "agency\u{2019}s  plan covers the \u{201C}whole");
        let nbsp = "costs\u{a0}and benefits, then costs and benefits";
        let err = resolve_quote(nbsp, &q("Costs and benefits")).expect_err("twice");
        assert!(err.0.contains("2 times"), "{}", err.0);
        let one = QuoteSelector {
            prefix: Some("then ".into()),
            ..q("Costs and benefits")
        };
        let (s, _) = resolve_quote(nbsp, &one).expect("found with its prefix");
        assert_eq!(s, 25);
        let err = resolve_quote(text, &q("agency's budget")).expect_err("absent");
        assert!(err.0.contains("not even when"), "{}", err.0);
    }

    #[test]
    fn document_order_puts_document_comments_first() {
        let doc = document_order(None, None, None);
        let sec = document_order(Some(0), None, None);
        let blk = document_order(Some(0), Some(3), None);
        let quote = document_order(Some(0), Some(3), Some(10));
        let later = document_order(Some(1), Some(4), None);
        assert!(doc < sec && sec < blk && blk < quote && quote < later);
    }

    #[test]
    fn sealed_cycles_hide_other_organizations_until_the_close() {
        use crate::domain::cycle::{CycleStatus::*, Visibility};
        assert_eq!(
            scope(Visibility::Sealed, Open, false, false),
            Scope::OwnOrganization
        );
        assert_eq!(scope(Visibility::Sealed, Open, true, false), Scope::All);
        assert_eq!(scope(Visibility::Sealed, Closed, false, false), Scope::All);
        // A late grant keeps the seal for its organization until it ends.
        assert_eq!(
            scope(Visibility::Sealed, Closed, false, true),
            Scope::OwnOrganization
        );
        assert_eq!(scope(Visibility::Sealed, Closed, true, true), Scope::All);
        assert_eq!(scope(Visibility::Open, Closed, false, true), Scope::All);
        assert_eq!(scope(Visibility::Open, Open, false, false), Scope::All);
        let own = Scope::OwnOrganization;
        assert!(visible(own, CommentState::Submitted, 1, 10, 2, 10));
        assert!(!visible(own, CommentState::Submitted, 1, 10, 2, 11));
        assert!(
            !visible(Scope::All, CommentState::Draft, 1, 10, 2, 10),
            "drafts are their author's"
        );
        assert!(visible(Scope::All, CommentState::Draft, 1, 10, 1, 10));
    }

    #[test]
    fn values() {
        assert_eq!(language("fr").as_deref(), Ok("fr"));
        assert_eq!(language("es-419").as_deref(), Ok("es-419"));
        assert!(language("not a tag").is_err());
        assert!(language("").is_err());
        assert!(body("  ", "body").is_err());
        assert!(body(&"x".repeat(MAX_BODY_BYTES + 1), "body").is_err());
        assert_eq!(CommentType::Editorial.code(), "ed");
    }
}

#[cfg(test)]
mod anchor_tests {
    use super::*;

    #[test]
    fn stored_parts_fit_their_kind_or_are_refused() {
        let q = Quote {
            exact: "words".into(),
            prefix: None,
            suffix: None,
            start: 3,
            end: 8,
        };
        let a = Anchor::from_parts(
            AnchorKind::Quote,
            Some("s-1".into()),
            Some("b-1".into()),
            Some(q.clone()),
        )
        .map_err(|e| e.0)
        .expect("a quote");
        assert_eq!(
            (a.kind(), a.section(), a.block(), a.quote()),
            (AnchorKind::Quote, Some("s-1"), Some("b-1"), Some(&q))
        );
        assert!(Anchor::from_parts(AnchorKind::Document, None, None, Some(q)).is_err());
        assert!(Anchor::from_parts(AnchorKind::Quote, None, Some("b".into()), None).is_err());
        assert!(Anchor::from_parts(AnchorKind::Section, None, None, None).is_err());
        assert_eq!(
            Anchor::from_parts(AnchorKind::Document, None, None, None).map_err(|e| e.0),
            Ok(Anchor::Document)
        );
    }
}
