//! Full-text search, the database-independent part: how text is cut into
//! words and folded, the query a user types, and the highlighted snippets.
//!
//! Both databases index the same analysed terms (computed here), so they find
//! the same comments: each word is folded (lower case, accents and ligatures
//! removed: « État » and « etat » are one word) and indexed with its English
//! and French stems (« consultations » also finds « consultation »). A query is
//! only words: operators, quotes and punctuation are ignored, every word must
//! match (in any of its forms).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use super::accounts::Invalid;

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// The most words a query may hold.
pub const MAX_QUERY_WORDS: usize = 12;
/// Words kept around the first match in a snippet.
const SNIPPET_WORDS: usize = 24;
/// Words of context before the first match.
const SNIPPET_LEAD: usize = 6;

static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));
static FRENCH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::French));

/// A word of a text, with its byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word<'a> {
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
}

/// The words of a text. French elisions are split (« l'état » is « l » and
/// « état »), as are words joined by apostrophes in general.
pub fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut push = |start: usize, end: usize| {
        out.push(Word {
            text: &text[start..end],
            start,
            end,
        })
    };
    for (start, w) in text.unicode_word_indices() {
        let mut part = 0;
        for (i, c) in w.char_indices() {
            if c == '\'' || c == '\u{2019}' {
                if i > part {
                    push(start + part, start + i);
                }
                part = i + c.len_utf8();
            }
        }
        if w.len() > part {
            push(start + part, start + w.len());
        }
    }
    out
}

/// Lower case, without accents, ligatures spelled out.
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.nfd().filter(|c| !is_combining_mark(*c)) {
        match c {
            'œ' | 'Œ' => out.push_str("oe"),
            'æ' | 'Æ' => out.push_str("ae"),
            'ß' => out.push_str("ss"),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The forms a word is indexed (and looked up) under: folded, and its
/// English and French stems, folded.
pub fn forms(word: &str) -> Vec<String> {
    let lower = word.to_lowercase();
    let mut set = BTreeSet::new();
    set.insert(fold(&lower));
    set.insert(fold(&ENGLISH.stem(&lower)));
    set.insert(fold(&FRENCH.stem(&lower)));
    set.retain(|f| !f.is_empty());
    set.into_iter().collect()
}

/// The analysed terms of some texts, space-separated, for the index.
pub fn index_terms<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for text in texts {
        for w in words(text) {
            for f in forms(w.text) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&f);
            }
        }
    }
    out
}

/// A checked search query: for each word, the forms any of which must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    groups: Vec<Vec<String>>,
}

impl Query {
    /// Check and analyse what the user typed.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let chars = raw.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(Invalid(format!(
                "the query is {chars} characters long; at most {MAX_QUERY_CHARS} are allowed"
            )));
        }
        let mut groups: Vec<Vec<String>> = Vec::new();
        for w in words(raw) {
            let g = forms(w.text);
            if !g.is_empty() && !groups.contains(&g) {
                groups.push(g);
            }
        }
        if groups.is_empty() {
            return Err(Invalid("the query has no word to look for".into()));
        }
        if groups.len() > MAX_QUERY_WORDS {
            return Err(Invalid(format!(
                "the query has {} words; at most {MAX_QUERY_WORDS} are allowed",
                groups.len()
            )));
        }
        Ok(Self { groups })
    }

    /// As an SQLite FTS5 `MATCH` expression (every form quoted: no operator
    /// the user typed can reach the engine).
    pub fn fts5(&self) -> String {
        self.groups
            .iter()
            .map(|g| {
                let alts: Vec<String> =
                    g.iter().map(|f| format!("\"{}\"", quote_free(f))).collect();
                format!("({})", alts.join(" OR "))
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// As a PostgreSQL `to_tsquery('simple', …)` text (forms quoted likewise).
    pub fn tsquery(&self) -> String {
        self.groups
            .iter()
            .map(|g| {
                let alts: Vec<String> = g
                    .iter()
                    .map(|f| format!("'{}'", f.replace(['\'', '\\'], "")))
                    .collect();
                format!("({})", alts.join(" | "))
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// Does this word of a text match one of the query's words?
    pub fn matches(&self, word: &str) -> bool {
        let f = forms(word);
        self.groups.iter().any(|g| g.iter().any(|x| f.contains(x)))
    }
}

fn quote_free(s: &str) -> String {
    s.replace('"', "")
}

/// A passage of a text around its first match, with the matching words'
/// positions (in characters from the start of `text`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub text: String,
    /// `(start, length)` in Unicode code points.
    pub highlights: Vec<(usize, usize)>,
}

/// The snippet of `text` for `query`, or `None` when no word matches.
pub fn snippet(text: &str, query: &Query) -> Option<Snippet> {
    let ws = words(text);
    let hits: Vec<usize> = ws
        .iter()
        .enumerate()
        .filter(|(_, w)| query.matches(w.text))
        .map(|(i, _)| i)
        .collect();
    let first = *hits.first()?;
    let from = first.saturating_sub(SNIPPET_LEAD);
    let to = (from + SNIPPET_WORDS).min(ws.len());
    let (start, end) = (
        if from == 0 { 0 } else { ws[from].start },
        if to == ws.len() {
            text.len()
        } else {
            ws[to - 1].end
        },
    );
    let lead = if start > 0 { "…" } else { "" };
    let tail = if end < text.len() { "…" } else { "" };
    let body = text[start..end].trim();
    let trimmed = text[start..end].len() - text[start..end].trim_start().len();
    let base = start + trimmed;
    let lead_chars = lead.chars().count();
    let highlights = hits
        .iter()
        .filter(|i| (from..to).contains(*i))
        .map(|&i| {
            let w = ws[i];
            let at = lead_chars + text[base..w.start].chars().count();
            (at, w.text.chars().count())
        })
        .collect();
    Some(Snippet {
        text: format!("{lead}{body}{tail}"),
        highlights,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_case_accents_and_ligatures() {
        assert_eq!(fold("État"), "etat");
        assert_eq!(fold("cœur"), "coeur");
        assert_eq!(fold("Ça"), "ca");
        assert_eq!(fold("naïve"), "naive");
    }

    #[test]
    fn elisions_are_split() {
        let ws: Vec<&str> = words("l'état et l’administration")
            .iter()
            .map(|w| w.text)
            .collect();
        assert_eq!(ws, ["l", "état", "et", "l", "administration"]);
        let text = "l’administration";
        let w = words(text);
        assert_eq!(&text[w[1].start..w[1].end], "administration");
    }

    #[test]
    fn accented_and_plain_words_find_each_other_with_stems() {
        let q = Query::parse("etat").expect("valid");
        assert!(q.matches("État"));
        assert!(q.matches("états"));
        let q = Query::parse("consultations").expect("valid");
        assert!(q.matches("consultation"));
        let q = Query::parse("données").expect("valid");
        assert!(q.matches("DONNEES"));
        assert!(!q.matches("donation"));
    }

    #[test]
    fn operators_and_junk_never_reach_the_engine() {
        let q = Query::parse("\"e-government\" OR NEAR(x* -y) AND ^z").expect("valid");
        let fts = q.fts5();
        assert!(fts.starts_with("(\"e"), "{fts}");
        assert!(!fts.contains('*') && !fts.contains('^') && !fts.contains("NEAR("));
        let ts = q.tsquery();
        assert!(!ts.contains('*') && !ts.contains('!'), "{ts}");
        assert!(Query::parse("  ...  !!! ").is_err());
        assert!(Query::parse(&"a".repeat(10_000)).is_err());
        assert!(
            Query::parse(&"word ".repeat(20)).is_ok(),
            "repeated words count once"
        );
        let many: String = (0..20).map(|i| format!("w{i} ")).collect();
        assert!(Query::parse(&many).is_err());
    }

    #[test]
    fn snippets_highlight_the_matching_words_in_characters() {
        let q = Query::parse("etat").expect("valid");
        let s = snippet("Le rôle de l'État est central.", &q).expect("a match");
        assert_eq!(s.text, "Le rôle de l'État est central.");
        assert_eq!(s.highlights, vec![(13, 4)]);
        let chars: Vec<char> = s.text.chars().collect();
        assert_eq!(chars[13..17].iter().collect::<String>(), "État");
        let long = format!(
            "{} the État here {}",
            "word ".repeat(40),
            "tail ".repeat(40)
        );
        let s = snippet(&long, &q).expect("a match");
        assert!(s.text.starts_with('…') && s.text.ends_with('…'));
        let (at, len) = s.highlights[0];
        let chars: Vec<char> = s.text.chars().collect();
        assert_eq!(chars[at..at + len].iter().collect::<String>(), "État");
        assert!(snippet("nothing here", &q).is_none());
    }

    #[test]
    fn index_terms_hold_every_form() {
        let t = index_terms(["Les États membres"]);
        assert!(t.split(' ').any(|x| x == "etats"));
        assert!(t.split(' ').any(|x| x == "etat"));
    }
}
