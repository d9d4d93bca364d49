use super::*;

fn input<'a>(
    sections: &[(&'a str, &'a str, &'a str)],
    blocks: &[(&'a str, usize, &'a str)],
) -> DiffInput<'a> {
    DiffInput {
        sections: sections
            .iter()
            .map(|(a, c, t)| DiffSection {
                anchor: a,
                clause: c,
                title: t,
            })
            .collect(),
        blocks: blocks
            .iter()
            .map(|(a, s, t)| DiffBlock {
                anchor: a,
                section: *s,
                kind: BlockKind::Paragraph,
                text: t,
            })
            .collect(),
    }
}

#[test]
fn word_changes_rebuild_both_texts_on_french() {
    let a = "L'évaluation de « l'état de préparation » au cybergouvernement reste à faire.";
    let b = "L'évaluation rapide de « l'état de préparation » au cyberenvironnement reste à faire.";
    let changes = word_changes(a, b);
    let old: String = changes
        .iter()
        .filter(|c| c.op != Op::Insert)
        .map(|c| c.text.as_str())
        .collect();
    let new: String = changes
        .iter()
        .filter(|c| c.op != Op::Delete)
        .map(|c| c.text.as_str())
        .collect();
    assert_eq!((old.as_str(), new.as_str()), (a, b));
    assert!(changes
        .iter()
        .any(|c| c.op == Op::Delete && c.text == "cybergouvernement"));
    assert!(changes
        .iter()
        .any(|c| c.op == Op::Insert && c.text.contains("rapide")));
    // The guillemets and apostrophes are not broken apart from unchanged words.
    assert!(changes
        .iter()
        .any(|c| c.op == Op::Equal && c.text.contains("« l'état de préparation »")));
}

#[test]
fn classifies_every_kind_of_change() {
    let from = input(
        &[("s1", "1", "Introduction"), ("s2", "2", "Scope"), ("s3", "3", "Old annex")],
        &[
            ("a", 0, "The toolkit helps member states."),
            ("b", 0, "Readiness is measured in four dimensions: infrastructure, policy, governance and reach."),
            ("c", 1, "This paragraph will move to the introduction."),
            ("d", 1, "This paragraph is removed."),
            ("e", 2, "The annex goes away."),
        ],
    );
    let to = input(
        &[("s1", "1", "Introduction"), ("s2", "2", "Scope of the module"), ("s9", "3", "New part")],
        &[
            ("c", 0, "This paragraph will move to the introduction."),
            ("a", 0, "The toolkit helps member states."),
            ("x", 0, "Readiness is measured in four dimensions: infrastructure, policy, institutions and reach."),
            ("y", 1, "A brand new paragraph."),
            ("z", 2, "New part text."),
        ],
    );
    let d = diff(&from, &to);
    let flat: Vec<(Status, Option<usize>, Option<usize>)> = d
        .sections
        .iter()
        .flat_map(|s| s.blocks.iter().map(|b| (b.status, b.from, b.to)))
        .collect();
    assert!(flat.contains(&(Status::Moved, Some(2), Some(0))));
    assert!(flat.contains(&(Status::Unchanged, Some(0), Some(1))));
    assert!(flat.contains(&(Status::Changed, Some(1), Some(2))));
    assert!(flat.contains(&(Status::Removed, Some(3), None)));
    assert!(flat.contains(&(Status::Added, None, Some(3))));
    assert_eq!(
        d.summary.blocks,
        Counts {
            added: 2,
            removed: 2,
            changed: 1,
            moved: 1,
            unchanged: 1
        }
    );
    // Section 3's clause is kept, but its title and anchor differ: paired by clause, changed.
    let statuses: Vec<Status> = d.sections.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        vec![Status::Changed, Status::Changed, Status::Changed]
    );
    let changed = flat
        .iter()
        .position(|f| f.0 == Status::Changed)
        .and_then(|p| d.sections.iter().flat_map(|s| s.blocks.iter()).nth(p));
    let changed = changed.expect("changed block");
    assert!(changed.similarity.is_some_and(|s| s > 0.5 && s < 1.0));
    assert!(changed
        .changes
        .iter()
        .any(|c| c.op == Op::Insert && c.text == "institutions"));
    assert_eq!(d.summary.words_added, 1 + 4 + 3);
}

#[test]
fn reverse_direction_mirrors() {
    let a = input(
        &[("s1", "1", "A")],
        &[("p", 0, "one two three"), ("q", 0, "four five six")],
    );
    let b = input(
        &[("s1", "1", "A")],
        &[("p", 0, "one two three"), ("r", 0, "seven")],
    );
    let fwd = diff(&a, &b).summary.blocks;
    let back = diff(&b, &a).summary.blocks;
    assert_eq!((fwd.added, fwd.removed, fwd.unchanged), (1, 1, 1));
    assert_eq!((back.added, back.removed, back.unchanged), (1, 1, 1));
    let same = diff(&a, &a);
    assert_eq!(same.summary.blocks.unchanged, 2);
    assert!(same.sections.iter().all(|s| s.status == Status::Unchanged));
}

#[test]
fn removed_sections_keep_their_place() {
    let a = input(
        &[("s1", "1", "A"), ("s2", "2", "B"), ("s3", "3", "C")],
        &[("p", 0, "x"), ("q", 1, "y"), ("r", 2, "z")],
    );
    let b = input(
        &[("s1", "1", "A"), ("s3", "3", "C")],
        &[("p", 0, "x"), ("r", 1, "z")],
    );
    let d = diff(&a, &b);
    let order: Vec<(Status, Option<usize>)> =
        d.sections.iter().map(|s| (s.status, s.from)).collect();
    assert_eq!(
        order,
        vec![
            (Status::Unchanged, Some(0)),
            (Status::Removed, Some(1)),
            (Status::Unchanged, Some(2))
        ]
    );
}

#[test]
fn longest_increasing_run() {
    assert_eq!(
        longest_increasing(&[0, 2, 1, 3]),
        vec![true, false, true, true]
    );
    assert_eq!(
        longest_increasing(&[3, 0, 1, 2]),
        vec![false, true, true, true]
    );
    assert!(longest_increasing(&[]).is_empty());
}
