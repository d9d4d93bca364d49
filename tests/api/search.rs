//! `searchComments`: words found without case or accents and by their
//! English and French stems, snippets and their highlights, ranking, filters,
//! the visibility of every other read path, an index kept in step with every
//! change, pagination, and input that must be refused.

use std::collections::BTreeSet;

use chrono::Duration;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::committee::{Committee, REV1};
use crate::common::{code, Backend};

/// The shared committee, with this file's helpers.
struct Fx(Committee);

impl std::ops::Deref for Fx {
    type Target = Committee;
    fn deref(&self) -> &Committee {
        &self.0
    }
}

async fn setup(b: Backend) -> Option<Fx> {
    Committee::start(b).await.map(Fx)
}

const OPEN: &str =
    "mutation($i: OpenReviewCycleInput!) { openReviewCycle(input: $i) { cycle { id } } }";
const SUBMIT: &str =
    "mutation($i: SubmitCommentInput!) { submitComment(input: $i) { comment { id } } }";
const DRAFT: &str =
    "mutation($i: CreateCommentDraftInput!) { createCommentDraft(input: $i) { comment { id } } }";
const UPDATE: &str =
    "mutation($i: UpdateCommentInput!) { updateComment(input: $i) { comment { id body } } }";
const ADD_REPLY: &str = "mutation($c: ID!, $b: String!) { addReply(input: {commentId: $c, body: $b}) { reply { id } } }";
const SET: &str = "mutation($c: ID!, $k: DispositionKind!, $r: String) { setDisposition(input: {commentId: $c, kind: $k, rationale: $r}) { comment { id disposition { kind } } } }";
const SEARCH: &str = "query($q: String!, $f: CommentSearchFilter, $n: Int, $a: String) { searchComments(query: $q, filter: $f, first: $n, after: $a) { totalCount pageInfo { hasNextPage endCursor } nodes { score comment { id state body } snippets { field text highlights { start length } reply { id } } } } }";

/// The ids of the comments of a search result, in order.
fn hit_ids(result: &Value) -> Vec<String> {
    result["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {result}"))
        .iter()
        .map(|n| n["comment"]["id"].as_str().expect("comment id").to_owned())
        .collect()
}

/// The characters `start..start+length` (code points) of `text`.
fn chars(text: &str, start: i64, length: i64) -> String {
    text.chars()
        .skip(start as usize)
        .take(length as usize)
        .collect()
}

/// The code-point offset of `needle` in `text`.
fn char_offset(text: &str, needle: &str) -> i64 {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} in {text:?}"));
    text[..at].chars().count() as i64
}

fn set(ids: &[&String]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).clone()).collect()
}

impl Fx {
    /// A cycle on `revision`, open from now for 14 days.
    async fn open_on(&self, revision: &str, visibility: &str) -> String {
        let opens = self.s.clock_now();
        let body = self
            .s
            .gql(
                Some(&self.rapporteur),
                OPEN,
                json!({ "i": { "revisionId": revision, "title": "Comments", "opensAt": opens.to_rfc3339(), "closesAt": (opens + Duration::days(14)).to_rfc3339(), "visibility": visibility } }),
            )
            .await;
        body["data"]["openReviewCycle"]["cycle"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned()
    }

    async fn open(&self, visibility: &str) -> String {
        self.open_on(&self.revision, visibility).await
    }

    /// Submit a comment on the whole document; its id.
    async fn submit_full(
        &self,
        token: &str,
        cycle: &str,
        kind: &str,
        body: &str,
        proposed: Option<&str>,
    ) -> String {
        let res = self
            .s
            .gql(
                Some(token),
                SUBMIT,
                json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": kind, "body": body, "proposedChange": proposed } }),
            )
            .await;
        res["data"]["submitComment"]["comment"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("submit: {res}"))
            .to_owned()
    }

    async fn submit(&self, token: &str, cycle: &str, body: &str) -> String {
        self.submit_full(token, cycle, "GENERAL", body, None).await
    }

    async fn draft(&self, token: &str, cycle: &str, body: &str) -> String {
        let data = self
            .s
            .ok(
                Some(token),
                DRAFT,
                json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": body } }),
            )
            .await;
        data["createCommentDraft"]["comment"]["id"]
            .as_str()
            .expect("draft")
            .to_owned()
    }

    async fn reply(&self, token: &str, comment: &str, body: &str) -> String {
        self.s
            .ok(Some(token), ADD_REPLY, json!({ "c": comment, "b": body }))
            .await["addReply"]["reply"]["id"]
            .as_str()
            .expect("reply")
            .to_owned()
    }

    /// A second module of the kit with its revision 1: (module, revision).
    async fn other_module(&self) -> (String, String) {
        let module = self.s.ok(Some(&self.rapporteur), "mutation($k: ID!) { createModule(input: {kitId: $k, number: 2, title: \"Strategy\"}) { module { id } } }", json!({ "k": self.kit })).await
            ["createModule"]["module"]["id"].as_str().expect("module").to_owned();
        let revision = self
            .s
            .ok(
                Some(&self.rapporteur),
                "mutation($i: CreateRevisionInput!) { createRevision(input: $i) { revision { id } } }",
                json!({ "i": { "moduleId": module, "markdown": REV1, "summary": "first" } }),
            )
            .await["createRevision"]["revision"]["id"]
            .as_str()
            .expect("revision")
            .to_owned();
        (module, revision)
    }

    /// The whole response of a search.
    async fn search_raw(
        &self,
        token: Option<&str>,
        query: &str,
        filter: Value,
        first: Option<i64>,
        after: Option<&str>,
    ) -> Value {
        self.s
            .gql(
                token,
                SEARCH,
                json!({ "q": query, "f": filter, "n": first, "a": after }),
            )
            .await
    }

    /// A search that must succeed: its `searchComments`.
    async fn search(&self, token: &str, query: &str, filter: Value) -> Value {
        let res = self
            .search_raw(Some(token), query, filter, None, None)
            .await;
        assert!(res.get("errors").is_none(), "search {query:?}: {res:#}");
        res["data"]["searchComments"].clone()
    }

    /// (totalCount, ids in order) of a search.
    async fn found(&self, token: &str, query: &str, filter: Value) -> (i64, Vec<String>) {
        let r = self.search(token, query, filter).await;
        (r["totalCount"].as_i64().expect("totalCount"), hit_ids(&r))
    }

    /// (totalCount, ids as a set) of a search without filters.
    async fn all(&self, token: &str, query: &str) -> (i64, BTreeSet<String>) {
        self.found_set(token, query, json!({})).await
    }

    /// (totalCount, ids as a set) of a search.
    async fn found_set(&self, token: &str, query: &str, filter: Value) -> (i64, BTreeSet<String>) {
        let (n, ids) = self.found(token, query, filter).await;
        let unique: BTreeSet<String> = ids.iter().cloned().collect();
        assert_eq!(unique.len(), ids.len(), "no comment twice: {ids:?}");
        (n, unique)
    }
}

/// « etat », « ÉTAT » find « L'État »; « donnees » finds « données »;
/// « consultations » finds « consultation »; every word must match.
async fn words_match_without_case_or_accents_and_by_stems(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("OPEN").await;
    let fr = f
        .submit(
            &f.france,
            &cycle,
            "L'État doit publier les données ouvertes",
        )
        .await;
    let en = f
        .submit(&f.kenya, &cycle, "Open data portals need consultation")
        .await;
    for q in ["etat", "ÉTAT", "État", "donnees", "DONNÉES", "publiées"] {
        assert_eq!(
            f.found(&f.kenya, q, json!({})).await,
            (1, vec![fr.clone()]),
            "{q:?} finds the French comment only"
        );
    }
    for q in ["consultations", "CONSULTATION", "portal", "needs"] {
        assert_eq!(
            f.found(&f.france, q, json!({})).await,
            (1, vec![en.clone()]),
            "{q:?} finds the English comment only"
        );
    }
    assert_eq!(
        f.found(&f.kenya, "zeppelin", json!({})).await,
        (0, vec![]),
        "a word in neither comment"
    );
    assert_eq!(
        f.found(&f.kenya, "etat consultation", json!({})).await,
        (0, vec![]),
        "every word must match, not any"
    );
    assert_eq!(
        f.found(&f.kenya, "État données", json!({})).await,
        (1, vec![fr.clone()])
    );
}

/// Snippets: the highlights are code-point ranges of the snippet's text that
/// hold the matching word; the proposed change and replies give snippets of
/// their own (a comment is found by its replies' words).
async fn snippets_highlight_the_words_found(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("OPEN").await;
    let etat = "L'État doit publier les données ouvertes";
    f.submit(&f.france, &cycle, etat).await;
    let r = f.search(&f.kenya, "etat", json!({})).await;
    assert_eq!(
        r["nodes"][0]["snippets"],
        json!([{ "field": "BODY", "text": etat, "highlights": [{ "start": 2, "length": 4 }], "reply": null }])
    );
    let r = f.search(&f.kenya, "donnees", json!({})).await;
    let snip = &r["nodes"][0]["snippets"][0];
    let h = &snip["highlights"][0];
    let (start, len) = (h["start"].as_i64().unwrap(), h["length"].as_i64().unwrap());
    assert_eq!((start, len), (24, 7), "{snip}");
    assert_eq!(chars(snip["text"].as_str().unwrap(), start, len), "données");

    // Offsets count code points, not bytes nor UTF-16 units.
    let emoji = "🌍🌍 Le cadastre numérique de l'État";
    f.submit(&f.france, &cycle, emoji).await;
    let r = f.search(&f.kenya, "cadastre", json!({})).await;
    let snip = &r["nodes"][0]["snippets"][0];
    assert_eq!(snip["text"], emoji);
    assert_eq!(
        snip["highlights"],
        json!([{ "start": 6, "length": 8 }]),
        "6 code points precede the word (8 UTF-16 units, 12 bytes)"
    );

    // Every match in the passage is highlighted.
    let twice = "Roads first; then more roads, and road safety.";
    f.submit(&f.kenya, &cycle, twice).await;
    let r = f.search(&f.kenya, "road", json!({})).await;
    let snip = &r["nodes"][0]["snippets"][0];
    let words: Vec<String> = snip["highlights"]
        .as_array()
        .expect("highlights")
        .iter()
        .map(|h| {
            chars(
                twice,
                h["start"].as_i64().unwrap(),
                h["length"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(words, ["Roads", "roads", "road"]);

    // A long text: a passage around the word, `…` for what is left out.
    let long = format!(
        "{} the hinterland matters {}",
        "Some words before. ".repeat(15),
        "And many words after. ".repeat(15)
    );
    f.submit(&f.kenya, &cycle, &long).await;
    let r = f.search(&f.kenya, "hinterland", json!({})).await;
    let snip = &r["nodes"][0]["snippets"][0];
    let text = snip["text"].as_str().expect("text");
    assert!(
        text.starts_with('…') && text.ends_with('…'),
        "a passage of the text: {text}"
    );
    assert!(text.chars().count() < long.chars().count());
    let h = &snip["highlights"][0];
    assert_eq!(
        chars(
            text,
            h["start"].as_i64().unwrap(),
            h["length"].as_i64().unwrap()
        ),
        "hinterland"
    );

    // A word only in the proposed change.
    let proposed = "Replace with: the interoperability framework applies.";
    let pc = f
        .submit_full(
            &f.kenya,
            &cycle,
            "TECHNICAL",
            "Clarify the framework of this section.",
            Some(proposed),
        )
        .await;
    let r = f.search(&f.france, "interoperability", json!({})).await;
    assert_eq!(hit_ids(&r), vec![pc.clone()]);
    assert_eq!(
        r["nodes"][0]["snippets"],
        json!([{ "field": "PROPOSED_CHANGE", "text": proposed, "highlights": [{ "start": char_offset(proposed, "interoperability"), "length": 16 }], "reply": null }])
    );
    // A word in both the body and the proposed change: a snippet of each.
    let r = f.search(&f.france, "framework", json!({})).await;
    assert_eq!(hit_ids(&r), vec![pc.clone()]);
    let fields: Vec<&Value> = r["nodes"][0]["snippets"]
        .as_array()
        .expect("snippets")
        .iter()
        .map(|s| &s["field"])
        .collect();
    assert_eq!(fields, [&json!("BODY"), &json!("PROPOSED_CHANGE")]);

    // A word only in a reply: the comment is found, with a REPLY snippet.
    let c = f.submit(&f.kenya, &cycle, "Define the audience.").await;
    let reply_text = "A glossary will be added.";
    let reply = f.reply(&f.rapporteur, &c, reply_text).await;
    let r = f.search(&f.france, "glossary", json!({})).await;
    assert_eq!(hit_ids(&r), vec![c.clone()]);
    assert_eq!(r["nodes"][0]["comment"]["body"], "Define the audience.");
    assert_eq!(
        r["nodes"][0]["snippets"],
        json!([{ "field": "REPLY", "text": reply_text, "highlights": [{ "start": 2, "length": 8 }], "reply": { "id": reply } }])
    );
}

/// A comment that uses the word three times ranks above one that uses it once.
async fn more_uses_of_a_word_rank_higher(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("OPEN").await;
    // Submitted first, so that a tie on the score would put it first.
    let once = f
        .submit(
            &f.kenya,
            &cycle,
            "Portal access: the site must list every public service.",
        )
        .await;
    let thrice = f
        .submit(
            &f.france,
            &cycle,
            "Portal access: the portal must list every portal service.",
        )
        .await;
    for body in [
        "Unrelated remark on funding.",
        "Another remark on staffing.",
        "A third remark on training.",
    ] {
        f.submit(&f.kenya2, &cycle, body).await;
    }
    let r = f.search(&f.kenya, "portal", json!({})).await;
    assert_eq!(r["totalCount"], 2);
    assert_eq!(hit_ids(&r), vec![thrice, once]);
    let (best, next) = (
        r["nodes"][0]["score"].as_f64().expect("score"),
        r["nodes"][1]["score"].as_f64().expect("score"),
    );
    assert!(best > next, "scores {best} > {next}");
    assert!(
        next > 0.0,
        "higher is better: a match scores above 0 ({next})"
    );
}

/// The filters: cycle, module, type, organization, and their combinations.
async fn filters_narrow_the_search(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let c1 = f.open("OPEN").await;
    let (m2, r2) = f.other_module().await;
    let c2 = f.open_on(&r2, "OPEN").await;
    let a = f
        .submit_full(&f.kenya, &c1, "GENERAL", "The budget is too small.", None)
        .await;
    let b_ = f
        .submit_full(&f.france, &c1, "EDITORIAL", "Budget: spell it out.", None)
        .await;
    let c = f
        .submit_full(
            &f.kenya,
            &c2,
            "TECHNICAL",
            "Budget lines for the portal.",
            None,
        )
        .await;
    let q = |filter: Value| f.found_set(&f.rapporteur, "budget", filter);
    assert_eq!(q(json!({})).await, (3, set(&[&a, &b_, &c])));
    assert_eq!(q(json!({ "cycleId": c1 })).await, (2, set(&[&a, &b_])));
    assert_eq!(q(json!({ "cycleId": c2 })).await, (1, set(&[&c])));
    assert_eq!(
        q(json!({ "moduleId": f.module })).await,
        (2, set(&[&a, &b_]))
    );
    assert_eq!(q(json!({ "moduleId": m2 })).await, (1, set(&[&c])));
    assert_eq!(
        q(json!({ "cycleId": c1, "moduleId": m2 })).await,
        (0, set(&[])),
        "a cycle of another module"
    );
    assert_eq!(q(json!({ "type": "EDITORIAL" })).await, (1, set(&[&b_])));
    assert_eq!(q(json!({ "type": "TECHNICAL" })).await, (1, set(&[&c])));
    assert_eq!(q(json!({ "type": "GENERAL" })).await, (1, set(&[&a])));
    assert_eq!(
        q(json!({ "organizationId": f.kenya_org })).await,
        (2, set(&[&a, &c]))
    );
    assert_eq!(
        q(json!({ "organizationId": f.france_org })).await,
        (1, set(&[&b_]))
    );
    assert_eq!(
        q(json!({ "organizationId": f.kenya_org, "cycleId": c1 })).await,
        (1, set(&[&a]))
    );
    assert_eq!(
        q(json!({ "organizationId": f.france_org, "type": "TECHNICAL" })).await,
        (0, set(&[]))
    );
}

/// Dispositions are provisional until the close: a member's disposition
/// filter finds nothing before it (not even their own comments), the
/// rapporteur's does; after the close, the member's does too.
async fn the_disposition_filter_shows_only_visible_dispositions(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("OPEN").await;
    let a = f.submit(&f.kenya, &cycle, "The budget is too small.").await;
    let b_ = f
        .submit(&f.france, &cycle, "The budget should be public.")
        .await;
    f.s.ok(Some(&f.rapporteur), SET, json!({ "c": a, "k": "ACCEPTED" }))
        .await;
    f.s.ok(
        Some(&f.rapporteur),
        SET,
        json!({ "c": b_, "k": "NOTED", "r": "Out of scope of this module." }),
    )
    .await;
    let q = |token: &str, kind: &str| {
        let token = token.to_owned();
        let kind = kind.to_owned();
        async move {
            f.found(&token, "budget", json!({ "disposition": kind }))
                .await
        }
    };
    // The comments themselves are visible to members ...
    assert_eq!(f.found_set(&f.kenya, "budget", json!({})).await.0, 2);
    // ... their dispositions are not, until the close.
    for t in [&f.kenya, &f.kenya2, &f.france] {
        assert_eq!(q(t, "ACCEPTED").await, (0, vec![]), "before the close");
        assert_eq!(q(t, "NOTED").await, (0, vec![]), "before the close");
    }
    assert_eq!(q(&f.rapporteur, "ACCEPTED").await, (1, vec![a.clone()]));
    assert_eq!(q(&f.rapporteur, "NOTED").await, (1, vec![b_.clone()]));
    assert_eq!(q(&f.rapporteur, "REJECTED").await, (0, vec![]));
    assert_eq!(q(&f.admin, "ACCEPTED").await, (1, vec![a.clone()]));
    assert_eq!(
        q(&f.other_rapporteur, "ACCEPTED").await,
        (0, vec![]),
        "a rapporteur of another question is a member here"
    );

    f.s.clock.advance(Duration::days(14));
    assert_eq!(q(&f.kenya, "ACCEPTED").await, (1, vec![a.clone()]));
    assert_eq!(q(&f.france, "ACCEPTED").await, (1, vec![a.clone()]));
    assert_eq!(q(&f.france, "NOTED").await, (1, vec![b_.clone()]));
    assert_eq!(q(&f.kenya, "REJECTED").await, (0, vec![]));
}

/// In a SEALED cycle a member finds only their organization's comments (and
/// the total counts only those); the rapporteur and secretariat find all;
/// after the close everyone does. A draft is found by its author only.
async fn search_sees_only_what_the_viewer_may_see(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("SEALED").await;
    let ke = f
        .submit(&f.kenya, &cycle, "Sealed remarks on the broadband budget.")
        .await;
    let fr = f
        .submit(&f.france, &cycle, "French remarks on the broadband plan.")
        .await;
    let draft = f
        .draft(&f.france, &cycle, "Draft remarks on broadband.")
        .await;
    assert_eq!(
        f.all(&f.france, "broadband").await,
        (2, set(&[&fr, &draft])),
        "France: its own comment and its own draft"
    );
    assert_eq!(
        f.all(&f.france, "budget").await,
        (0, set(&[])),
        "not Kenya's comment"
    );
    assert_eq!(f.all(&f.kenya, "broadband").await, (1, set(&[&ke])));
    assert_eq!(
        f.all(&f.kenya2, "broadband").await,
        (1, set(&[&ke])),
        "a colleague of the author"
    );
    assert_eq!(
        f.all(&f.rapporteur, "broadband").await,
        (2, set(&[&ke, &fr]))
    );
    assert_eq!(f.all(&f.admin, "broadband").await, (2, set(&[&ke, &fr])));
    assert_eq!(
        f.all(&f.other_rapporteur, "broadband").await,
        (0, set(&[])),
        "a rapporteur of another question is a member of no organization here"
    );
    // The filter by organization does not open the seal.
    assert_eq!(
        f.found_set(
            &f.france,
            "broadband",
            json!({ "organizationId": f.kenya_org })
        )
        .await,
        (0, set(&[]))
    );
    // The draft, by its words: its author only.
    assert_eq!(f.all(&f.france, "draft").await, (1, set(&[&draft])));
    for t in [&f.kenya, &f.rapporteur, &f.admin] {
        assert_eq!(f.all(t, "draft").await, (0, set(&[])));
    }

    f.s.clock.advance(Duration::days(14));
    assert_eq!(f.all(&f.france, "budget").await, (1, set(&[&ke])));
    assert_eq!(
        f.all(&f.france, "broadband").await,
        (3, set(&[&ke, &fr, &draft]))
    );
    assert_eq!(f.all(&f.kenya, "broadband").await, (2, set(&[&ke, &fr])));
    assert_eq!(f.all(&f.kenya, "draft").await, (0, set(&[])));
}

/// The index follows every change: edits, deleted drafts, replies added and
/// withdrawn. A withdrawn comment is still found (it keeps its number and
/// stays visible on every read path), with state WITHDRAWN.
async fn the_index_follows_every_change(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("OPEN").await;
    let c = f
        .submit(&f.kenya, &cycle, "The hydrology annex is missing.")
        .await;
    assert_eq!(
        f.found(&f.france, "hydrology", json!({})).await,
        (1, vec![c.clone()])
    );
    let data =
        f.s.ok(
            Some(&f.kenya2),
            UPDATE,
            json!({ "i": { "commentId": c, "body": "The cartography annex is missing." } }),
        )
        .await;
    assert_eq!(
        data["updateComment"]["comment"]["body"],
        "The cartography annex is missing."
    );
    assert_eq!(
        f.found(&f.france, "hydrology", json!({})).await,
        (0, vec![]),
        "the old word no longer finds it"
    );
    assert_eq!(
        f.found(&f.france, "cartography", json!({})).await,
        (1, vec![c.clone()])
    );
    // The proposed change, added by an edit.
    f.s.ok(
        Some(&f.kenya),
        UPDATE,
        json!({ "i": { "commentId": c, "proposedChange": "Add a glaciology annex." } }),
    )
    .await;
    assert_eq!(
        f.found(&f.france, "glaciology", json!({})).await,
        (1, vec![c.clone()])
    );
    assert_eq!(
        f.found(&f.france, "cartography", json!({})).await,
        (1, vec![c.clone()]),
        "the body is still indexed"
    );

    // A reply's words, until the reply is withdrawn.
    let reply = f
        .reply(&f.rapporteur, &c, "See the seismology appendix.")
        .await;
    assert_eq!(
        f.found(&f.france, "seismology", json!({})).await,
        (1, vec![c.clone()])
    );
    f.s.ok(
        Some(&f.rapporteur),
        "mutation($r: ID!) { withdrawReply(input: {replyId: $r}) { reply { withdrawn } } }",
        json!({ "r": reply }),
    )
    .await;
    assert_eq!(
        f.found(&f.france, "seismology", json!({})).await,
        (0, vec![]),
        "a withdrawn reply's words no longer find the comment"
    );

    // An edited reply: its new words, not its old ones.
    let reply = f.reply(&f.france, &c, "Mention the bathymetry data.").await;
    assert_eq!(
        f.found(&f.kenya, "bathymetry", json!({})).await,
        (1, vec![c.clone()])
    );
    f.s.ok(
        Some(&f.france),
        "mutation($r: ID!) { updateReply(input: {replyId: $r, body: \"Mention the topography data.\"}) { reply { body } } }",
        json!({ "r": reply }),
    )
    .await;
    assert_eq!(
        f.found(&f.kenya, "bathymetry", json!({})).await,
        (0, vec![])
    );
    assert_eq!(
        f.found(&f.kenya, "topography", json!({})).await,
        (1, vec![c.clone()])
    );

    // A deleted draft is forgotten.
    let d = f.draft(&f.kenya, &cycle, "An ephemeral thought.").await;
    assert_eq!(
        f.found(&f.kenya, "ephemeral", json!({})).await,
        (1, vec![d.clone()])
    );
    f.s.ok(
        Some(&f.kenya),
        "mutation($c: ID!) { deleteCommentDraft(input: {commentId: $c}) { deletedCommentId } }",
        json!({ "c": d }),
    )
    .await;
    assert_eq!(f.found(&f.kenya, "ephemeral", json!({})).await, (0, vec![]));

    // Comments imported from a spreadsheet are indexed too.
    let res = f
        .s
        .http
        .post(f.s.url(&format!("/imports/cycles/{cycle}/comments")))
        .header("content-type", "text/csv")
        .bearer_auth(&f.kenya)
        .body("Clause,Type of comment,Comment,Proposed change\nGeneral,ge,The orthophoto layer is stale.,Use the lidar survey.\n")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 201);
    let imported: Value = res.json().await.expect("JSON");
    let imported = imported["comments"][0]["id"]
        .as_str()
        .expect("imported comment")
        .to_owned();
    assert_eq!(
        f.found(&f.france, "orthophoto", json!({})).await,
        (1, vec![imported.clone()])
    );
    let r = f.search(&f.france, "lidar", json!({})).await;
    assert_eq!(hit_ids(&r), vec![imported.clone()]);
    assert_eq!(r["nodes"][0]["snippets"][0]["field"], "PROPOSED_CHANGE");

    // A withdrawn comment: still found, as WITHDRAWN.
    let w = f
        .submit(&f.france, &cycle, "A xylophone of a comment.")
        .await;
    f.s.ok(
        Some(&f.france),
        "mutation($c: ID!) { withdrawComment(input: {commentId: $c}) { comment { state } } }",
        json!({ "c": w }),
    )
    .await;
    let r = f.search(&f.kenya, "xylophone", json!({})).await;
    assert_eq!(r["totalCount"], 1);
    assert_eq!(hit_ids(&r), vec![w.clone()]);
    assert_eq!(r["nodes"][0]["comment"]["state"], "WITHDRAWN");
}

/// `first` and `after`: pages without overlap, `hasNextPage`, a stable total.
async fn results_page_without_overlap(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("OPEN").await;
    let mut all = BTreeSet::new();
    for i in 0..5 {
        let token = [&f.kenya, &f.france][i % 2];
        // Different lengths, so that the scores differ too.
        let body = format!("Roadmap item {i}{}", " with detail".repeat(i));
        all.insert(f.submit(token, &cycle, &body).await);
    }
    f.submit(&f.kenya, &cycle, "Not about that.").await;
    let whole = f
        .search_raw(Some(&f.kenya), "roadmap", json!({}), Some(100), None)
        .await;
    let whole = hit_ids(&whole["data"]["searchComments"]);
    assert_eq!(whole.len(), 5);

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for (size, more) in [(2, true), (2, true), (1, false)] {
        let res = f
            .search_raw(
                Some(&f.kenya),
                "roadmap",
                json!({}),
                Some(2),
                after.as_deref(),
            )
            .await;
        assert!(res.get("errors").is_none(), "{res}");
        let page = &res["data"]["searchComments"];
        assert_eq!(page["totalCount"], 5, "the total is the same on every page");
        let ids = hit_ids(page);
        assert_eq!(ids.len(), size, "{page}");
        assert_eq!(page["pageInfo"]["hasNextPage"], more, "{page}");
        seen.extend(ids);
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, whole, "the pages, in order, are the whole list");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), all);
}

/// Input that must be refused, and operators that must do no harm.
async fn bad_queries_are_refused(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("OPEN").await;
    let target = f
        .submit(
            &f.kenya,
            &cycle,
            "The data portal is not near completion, or so we hear from them.",
        )
        .await;
    let other = f
        .submit(&f.france, &cycle, "Open data portals need consultation")
        .await;
    let err = |res: Value| {
        (
            code(&res).to_owned(),
            res["errors"][0]["extensions"]["field"].clone(),
        )
    };
    let refused = |query: String, filter: Value, first: Option<i64>, after: Option<&str>| {
        let after = after.map(str::to_owned);
        async move {
            let res = f
                .search_raw(Some(&f.kenya), &query, filter, first, after.as_deref())
                .await;
            assert!(res["data"].is_null(), "no data: {res}");
            err(res)
        }
    };
    let validation = |field: &str| ("VALIDATION".to_owned(), json!(field));

    // 10,000 characters: refused, and the server answers the next request.
    let long = "data ".repeat(2000);
    assert_eq!(long.chars().count(), 10_000);
    assert_eq!(
        refused(long, json!({}), None, None).await,
        validation("query")
    );
    assert_eq!(
        f.found_set(&f.kenya, "data", json!({})).await,
        (2, set(&[&target, &other]))
    );
    // 256 characters are accepted, 257 are not.
    let at_most = format!("data{}", " ".repeat(252));
    assert_eq!(at_most.chars().count(), 256);
    assert_eq!(f.found_set(&f.kenya, &at_most, json!({})).await.0, 2);
    assert_eq!(
        refused(format!("{at_most} "), json!({}), None, None).await,
        validation("query")
    );
    // Only operators and punctuation.
    for junk in ["*** -- \"\"", "   ", "", "&|!()*:^-"] {
        assert_eq!(
            refused(junk.to_owned(), json!({}), None, None).await,
            validation("query"),
            "{junk:?}"
        );
    }
    // Operators of FTS5 and tsquery mixed with words: the words are looked
    // for (all of them, "OR", "NOT" and "NEAR" included), the operators are not.
    let ops = "\"data\" OR NOT (portal*) NEAR & | !";
    assert_eq!(
        f.found(&f.kenya, ops, json!({})).await,
        (1, vec![target.clone()])
    );
    for q in [
        "data:*",
        "portal')",
        "don't | data",
        "data' & 'x",
        "NEAR(data portal)",
    ] {
        let res = f.search_raw(Some(&f.kenya), q, json!({}), None, None).await;
        assert!(res.get("errors").is_none(), "{q:?}: {res}");
    }
    // At most 12 distinct words (repeats count once).
    let twelve = "the data portal is not near completion or so we hear from";
    assert_eq!(
        f.found(&f.kenya, twelve, json!({})).await,
        (1, vec![target.clone()])
    );
    assert_eq!(
        f.found(&f.kenya, &format!("{twelve} data data"), json!({}))
            .await,
        (1, vec![target.clone()])
    );
    assert_eq!(
        refused(format!("{twelve} them"), json!({}), None, None).await,
        validation("query"),
        "13 words"
    );
    // Page sizes.
    assert_eq!(
        refused("data".into(), json!({}), Some(500), None).await,
        validation("first")
    );
    assert_eq!(
        refused("data".into(), json!({}), Some(-1), None).await,
        validation("first")
    );
    assert_eq!(
        refused("data".into(), json!({}), Some(2), Some("junk")).await,
        validation("after")
    );
    // Ids in the filter.
    assert_eq!(
        refused("data".into(), json!({ "cycleId": "not-an-id" }), None, None).await,
        validation("filter.cycleId")
    );
    assert_eq!(
        refused("data".into(), json!({ "cycleId": f.module }), None, None).await,
        validation("filter.cycleId"),
        "the id of a module"
    );
    assert_eq!(
        refused("data".into(), json!({ "moduleId": "%%%" }), None, None).await,
        validation("filter.moduleId")
    );
    assert_eq!(
        refused(
            "data".into(),
            json!({ "organizationId": cycle }),
            None,
            None
        )
        .await,
        validation("filter.organizationId")
    );
    // Signed in only.
    let res = f.search_raw(None, "data", json!({}), None, None).await;
    assert_eq!(code(&res), "UNAUTHENTICATED");
}

/// A cursor the server never handed out (a position before the first result,
/// or one at the end of the 64-bit range) is refused as VALIDATION on
/// `after`, like any other bad cursor: not run as SQL, not a crash.
async fn forged_cursors_are_refused(b: Backend) {
    use base64::Engine as _;
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("OPEN").await;
    for i in 0..3 {
        f.submit(&f.kenya, &cycle, &format!("Data point {i}."))
            .await;
    }
    // A genuine cursor works.
    let first = f
        .search_raw(Some(&f.kenya), "data", json!({}), Some(1), None)
        .await;
    let end = first["data"]["searchComments"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let next = f
        .search_raw(Some(&f.kenya), "data", json!({}), Some(1), Some(&end))
        .await;
    assert_eq!(
        next["data"]["searchComments"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{next}"
    );
    let mut got = Vec::new();
    for key in [
        "k:-5:1",
        "k:-9223372036854775808:1",
        "k:9223372036854775807:1",
    ] {
        let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key);
        let res = f
            .s
            .http
            .post(f.s.url("/graphql"))
            .bearer_auth(&f.kenya)
            .json(&json!({ "query": SEARCH, "variables": { "q": "data", "n": 2, "a": cursor } }))
            .send()
            .await;
        let body: Value = match res {
            Ok(r) => r
                .json()
                .await
                .unwrap_or_else(|e| json!(format!("no JSON: {e}"))),
            Err(e) => json!(format!("no response: {e}")),
        };
        got.push((
            key,
            body["errors"][0]["extensions"]["code"]
                .as_str()
                .map(str::to_owned),
            body["errors"][0]["extensions"]["field"]
                .as_str()
                .map(str::to_owned),
            body,
        ));
    }
    let want = |key| (key, Some("VALIDATION".to_owned()), Some("after".to_owned()));
    let summary: Vec<_> = got
        .iter()
        .map(|g| (g.0, g.1.clone(), g.2.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            want("k:-5:1"),
            want("k:-9223372036854775808:1"),
            want("k:9223372036854775807:1")
        ],
        "responses: {:#?}",
        got.iter().map(|g| (g.0, &g.3)).collect::<Vec<_>>()
    );
    // The server still answers.
    assert_eq!(f.found(&f.kenya, "data", json!({})).await.0, 3);
}

backend_tests!(
    words_match_without_case_or_accents_and_by_stems,
    snippets_highlight_the_words_found,
    more_uses_of_a_word_rank_higher,
    filters_narrow_the_search,
    the_disposition_filter_shows_only_visible_dispositions,
    search_sees_only_what_the_viewer_may_see,
    the_index_follows_every_change,
    results_page_without_overlap,
    bad_queries_are_refused,
    forged_cursors_are_refused,
);
