use super::*;

const DRAFT: &str = "# Module 1: e-Government readiness\n\nIntro before numbering.\n\n## 1 Introduction\n\nThe framework covers four dimensions.\nIt is a draft.\n\n## Scope\n\n- infrastructure\n- policy\n  - nested detail\n- governance\n\n### 2.1 Résumé\n\nL'évaluation de « l'état de préparation » au cybergouvernement.\n\n| Dimension | Weight |\n|---|---|\n| Reach | 25 |\n\n> A quoted\n> passage.\n\n```\ncode here\n```\n";

fn doc() -> Document {
    parse(DRAFT, DocumentLimits::default()).expect("parses")
}

#[test]
fn sections_take_clause_numbers_from_headings_or_hierarchy() {
    let d = doc();
    let heads: Vec<_> = d
        .sections
        .iter()
        .map(|s| (s.level, s.clause.as_str(), s.title.as_str()))
        .collect();
    assert_eq!(
        heads,
        vec![
            (1, "", "Module 1: e-Government readiness"),
            (2, "1", "Introduction"),
            (2, "2", "Scope"),
            (3, "2.1", "Résumé"),
        ]
    );
}

#[test]
fn blocks_in_document_order_with_kinds_and_text() {
    let d = doc();
    let got: Vec<_> = d
        .blocks
        .iter()
        .map(|b| (b.section, b.kind, b.text.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, BlockKind::Paragraph, "Intro before numbering."),
            (
                1,
                BlockKind::Paragraph,
                "The framework covers four dimensions. It is a draft."
            ),
            (2, BlockKind::ListItem, "infrastructure"),
            (2, BlockKind::ListItem, "policy"),
            (2, BlockKind::ListItem, "nested detail"),
            (2, BlockKind::ListItem, "governance"),
            (
                3,
                BlockKind::Paragraph,
                "L'évaluation de « l'état de préparation » au cybergouvernement."
            ),
            (3, BlockKind::TableRow, "Dimension | Weight"),
            (3, BlockKind::TableRow, "Reach | 25"),
            (3, BlockKind::BlockQuote, "A quoted passage."),
            (3, BlockKind::CodeBlock, "code here"),
        ]
    );
    for (i, b) in d.blocks.iter().enumerate() {
        assert_eq!(b.position, i);
        assert!(
            DRAFT[b.source_start..b.source_end].contains(b.text.split(' ').next().unwrap_or(""))
        );
    }
    assert!(d.word_count > 30);
}

#[test]
fn refuses_empty_oversize_and_nul() {
    assert!(parse("   \n\n", DocumentLimits::default()).is_err());
    assert!(parse("a\0b", DocumentLimits::default()).is_err());
    assert!(parse("hello", DocumentLimits { max_bytes: 3 }).is_err());
    assert!(parse("just one paragraph", DocumentLimits::default()).is_ok());
}

#[test]
fn unchanged_and_moved_blocks_keep_their_anchors() {
    let d1 = doc();
    let a1 = assign_anchors(&d1, &PreviousAnchors::default(), 1);
    assert_eq!(a1.blocks[0], "blk-1-0");
    assert_eq!(a1.sections[1], "sec-1-1");
    let prev = PreviousAnchors {
        sections: d1
            .sections
            .iter()
            .zip(&a1.sections)
            .map(|(s, a)| (a.clone(), s.clause.clone(), s.title.clone()))
            .collect(),
        blocks: d1
            .blocks
            .iter()
            .zip(&a1.blocks)
            .map(|(b, a)| (a.clone(), b.kind, b.text.clone()))
            .collect(),
    };
    // Revision 2: the quote moved to the top, one paragraph changed, a heading reworded.
    let v2 = DRAFT
        .replace("## Scope", "## Scope of the module")
        .replace("It is a draft.", "It is the second draft.")
        .replace("> A quoted\n> passage.\n", "")
        .replace(
            "Intro before numbering.",
            "> A quoted passage.\n\nIntro before numbering.",
        );
    let d2 = parse(&v2, DocumentLimits::default()).expect("parses");
    let a2 = assign_anchors(&d2, &prev, 2);
    let anchor_of = |d: &Document, a: &Anchors, text: &str| {
        d.blocks
            .iter()
            .position(|b| b.text == text)
            .map(|i| a.blocks[i].clone())
    };
    assert_eq!(
        anchor_of(&d2, &a2, "A quoted passage."),
        anchor_of(&d1, &a1, "A quoted passage.")
    );
    assert_eq!(
        anchor_of(&d2, &a2, "governance"),
        anchor_of(&d1, &a1, "governance")
    );
    let changed = anchor_of(
        &d2,
        &a2,
        "The framework covers four dimensions. It is the second draft.",
    )
    .expect("present");
    assert!(
        changed.starts_with("blk-2-"),
        "a changed block gets a new id: {changed}"
    );
    // "Scope" became "Scope of the module": same clause 2, same section anchor.
    assert_eq!(a2.sections[2], a1.sections[2]);
    assert_eq!(d2.sections[2].title, "Scope of the module");
    let mut unique = a2.blocks.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), a2.blocks.len());
}

#[test]
fn hashes_are_sha256() {
    assert_eq!(
        content_hash("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
