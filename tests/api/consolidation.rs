//! Consolidation: dispositions (their rules, their history, who may set them
//! and who sees them when), batches, progress, marking a cycle consolidated,
//! the consolidated table, revisions that address comments, and comments
//! carried forward into later revisions.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::committee::{Committee, REV1};
use crate::common::{code, t0, Backend};

/// Paragraphs of revision 1 that revision 2 ([`rev2`]) keeps, moves, edits or deletes.
const P_EXACT: &str = "The policy dimension examines whether the country has the strategies";
const P_MOVED: &str = "Multichannel delivery remains important in most developing countries. Services delivered through mobile telephones, including by text message, and through assisted access points can reach users who do not have a personal Internet connection, and should be taken into account in the assessment of reach.";
const P_FUZZY: &str = "The duration of an assessment depends on the size of the country";
const P_GONE: &str = "The framework deliberately avoids comparing countries on the basis of the composite index. The results of an assessment belong to the country concerned, which decides whether and how they are published.";
/// A paragraph of section 5, which revision 2 deletes whole.
const P_SEC5: &str = "This draft is circulated to the members of the Question 17-2/2 group";
/// The paragraph of 2.3 with "legal mandate" in it (its second paragraph).
const P_GOVERNANCE: &str = "The assessment should identify the lead agency for e-government";

/// Revision 1 with: the multichannel paragraph moved from 2.4 to the end of
/// clause 3 (where the "deliberately avoids" paragraph was, now deleted), a
/// few words of the duration paragraph (clause 4) edited, and clause 5 deleted.
fn rev2() -> String {
    let without_moved = REV1.replace(&format!("{P_MOVED}\n\n"), "");
    assert_ne!(without_moved, REV1, "the moved paragraph is in revision 1");
    let moved = without_moved.replace(&format!("{P_GONE}\n\n"), &format!("{P_MOVED}\n\n"));
    assert_ne!(
        moved, without_moved,
        "the deleted paragraph is in revision 1"
    );
    let edited = moved.replace(
        "between two and four months",
        "between three and six months",
    );
    assert_ne!(edited, moved, "the edited words are in revision 1");
    let cut = edited.find("## 5 Next steps").expect("clause 5");
    format!("{}\n", edited[..cut].trim_end())
}

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
const CLOSE: &str =
    "mutation($c: ID!) { closeReviewCycleNow(input: {cycleId: $c}) { cycle { status } } }";
const CREATE_REVISION: &str =
    "mutation($i: CreateRevisionInput!) { createRevision(input: $i) { revision { id number } } }";
const SUBMIT: &str = "mutation($i: SubmitCommentInput!) { submitComment(input: $i) { comment { id number state } } }";
const DRAFT: &str =
    "mutation($i: CreateCommentDraftInput!) { createCommentDraft(input: $i) { comment { id } } }";
const WITHDRAW: &str =
    "mutation($c: ID!) { withdrawComment(input: {commentId: $c}) { comment { state } } }";
const SET: &str = "mutation($i: SetDispositionInput!) { setDisposition(input: $i) { comment { id disposition { kind rationale duplicateOf { id } decidedBy { id } decidedAt addressedIn { id } history { changedBy { id } changedAt before { kind rationale duplicateOfId } after { kind rationale duplicateOfId } } } } } }";
const SET_MANY: &str = "mutation($i: SetDispositionsInput!) { setDispositions(input: $i) { comments { id disposition { kind } } } }";
const DISPOSITION: &str =
    "query($id: ID!) { node(id: $id) { ... on Comment { id disposition { kind rationale } } } }";
const MARK: &str =
    "mutation($c: ID!) { markCycleConsolidated(input: {cycleId: $c}) { cycle { id status } } }";
const STATUS: &str = "query($c: ID!, $m: ID!) { c: node(id: $c) { ... on ReviewCycle { status } } m: node(id: $m) { ... on Module { status revisionCount } } }";
const PROGRESS: &str = "query($c: ID!) { node(id: $c) { ... on ReviewCycle { progress { total submitted withdrawn decided remaining byDisposition { kind count } byType { type count remaining } byOrganization { organization { id } count remaining } } } } }";
const TABLE: &str = "query($c: ID!, $n: Int, $a: String) { node(id: $c) { ... on ReviewCycle { consolidatedTable(first: $n, after: $a) { edges { node { number organization clause location typeCode body proposedChange disposition rationale comment { id } } } pageInfo { hasNextPage endCursor } } } } }";
const CARRIED: &str = "query($r: ID!, $f: CarriedCommentFilter) { node(id: $r) { ... on Revision { carriedComments(filter: $f, first: 100) { totalCount edges { node { comment { id number } anchor { status score sectionAnchorId blockAnchorId quoteStart quoteEnd revision { id } block { anchorId text } section { anchorId } } } } } } } }";
const ANCHOR_IN: &str = "query($c: ID!, $r: ID!) { node(id: $c) { ... on Comment { anchorIn(revisionId: $r) { status score sectionAnchorId blockAnchorId quoteStart quoteEnd revision { id } block { anchorId text } section { anchorId } } } } }";
const DIFF: &str = "query($m: ID!) { node(id: $m) { ... on Module { diff(fromRevision: 1, toRevision: 2) { addressedComments { id } sections { blocks { status fromBlock { anchorId } toBlock { anchorId } addressedComments { id } } } } } } }";

/// The `id`s of a list of objects.
fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_owned())
        .collect()
}

fn field(body: &Value) -> &Value {
    &body["errors"][0]["extensions"]["field"]
}

fn instant(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

impl Fx {
    /// Open a cycle on `revision` from `opens` for `days`; its id.
    async fn open_on(
        &self,
        revision: &str,
        visibility: &str,
        opens: DateTime<Utc>,
        days: i64,
    ) -> String {
        let body = self
            .s
            .gql(
                Some(&self.rapporteur),
                OPEN,
                json!({ "i": { "revisionId": revision, "title": "Comments", "opensAt": opens.to_rfc3339(), "closesAt": (opens + Duration::days(days)).to_rfc3339(), "visibility": visibility } }),
            )
            .await;
        body["data"]["openReviewCycle"]["cycle"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned()
    }

    /// A cycle on revision 1, open from now for 14 days.
    async fn open_now(&self, visibility: &str) -> String {
        self.open_on(&self.revision, visibility, self.s.clock_now(), 14)
            .await
    }

    async fn close_now(&self, cycle: &str) {
        let data = self
            .s
            .ok(Some(&self.rapporteur), CLOSE, json!({ "c": cycle }))
            .await;
        assert_eq!(data["closeReviewCycleNow"]["cycle"]["status"], "CLOSED");
    }

    /// Every block of a revision, in document order, with its section's clause.
    async fn blocks(&self, revision: &str) -> Vec<Value> {
        let q = "query($r: ID!) { node(id: $r) { ... on Revision { sections { anchorId clause blocks { anchorId kind text sectionAnchorId } } } } }";
        let data = self
            .s
            .ok(Some(&self.rapporteur), q, json!({ "r": revision }))
            .await;
        data["node"]["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .flat_map(|s| {
                s["blocks"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|mut b| {
                        b["clause"] = s["clause"].clone();
                        b
                    })
            })
            .collect()
    }

    /// The block of a revision whose text starts with `prefix` (exactly one).
    async fn block(&self, revision: &str, prefix: &str) -> Value {
        let found: Vec<Value> = self
            .blocks(revision)
            .await
            .into_iter()
            .filter(|b| b["text"].as_str().unwrap_or("").starts_with(prefix))
            .collect();
        assert_eq!(found.len(), 1, "one block starts with {prefix:?}");
        found[0].clone()
    }

    /// The anchor id of a revision's section by clause number.
    async fn section(&self, revision: &str, clause: &str) -> String {
        let q =
            "query($r: ID!) { node(id: $r) { ... on Revision { sections { anchorId clause } } } }";
        let data = self
            .s
            .ok(Some(&self.rapporteur), q, json!({ "r": revision }))
            .await;
        data["node"]["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .find(|s| s["clause"] == clause)
            .unwrap_or_else(|| panic!("no clause {clause}"))["anchorId"]
            .as_str()
            .expect("anchor")
            .to_owned()
    }

    /// Submit a comment; its id.
    async fn submit(
        &self,
        token: &str,
        cycle: &str,
        anchor: Value,
        kind: &str,
        body: &str,
    ) -> String {
        let res = self
            .s
            .gql(
                Some(token),
                SUBMIT,
                json!({ "i": { "cycleId": cycle, "anchor": anchor, "type": kind, "body": body } }),
            )
            .await;
        res["data"]["submitComment"]["comment"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("submit: {res}"))
            .to_owned()
    }

    async fn on_document(&self, token: &str, cycle: &str, body: &str) -> String {
        self.submit(token, cycle, json!({ "kind": "DOCUMENT" }), "GENERAL", body)
            .await
    }

    async fn on_block(&self, token: &str, cycle: &str, block: &Value, body: &str) -> String {
        self.submit(
            token,
            cycle,
            json!({ "kind": "BLOCK", "blockAnchorId": block["anchorId"] }),
            "TECHNICAL",
            body,
        )
        .await
    }

    async fn draft(&self, token: &str, cycle: &str, anchor: Value) -> String {
        let data = self
            .s
            .ok(
                Some(token),
                DRAFT,
                json!({ "i": { "cycleId": cycle, "anchor": anchor, "type": "GENERAL", "body": "Not sent yet." } }),
            )
            .await;
        data["createCommentDraft"]["comment"]["id"]
            .as_str()
            .expect("draft")
            .to_owned()
    }

    async fn withdraw(&self, token: &str, comment: &str) {
        let data = self
            .s
            .ok(Some(token), WITHDRAW, json!({ "c": comment }))
            .await;
        assert_eq!(data["withdrawComment"]["comment"]["state"], "WITHDRAWN");
    }

    /// `setDisposition`; the whole response.
    async fn set(
        &self,
        token: Option<&str>,
        comment: &str,
        kind: &str,
        rationale: Option<&str>,
        duplicate_of: Option<&str>,
    ) -> Value {
        self.s
            .gql(
                token,
                SET,
                json!({ "i": { "commentId": comment, "kind": kind, "rationale": rationale, "duplicateOfId": duplicate_of } }),
            )
            .await
    }

    /// `setDisposition` that must succeed; the disposition.
    async fn set_ok(
        &self,
        token: &str,
        comment: &str,
        kind: &str,
        rationale: Option<&str>,
        duplicate_of: Option<&str>,
    ) -> Value {
        let res = self
            .set(Some(token), comment, kind, rationale, duplicate_of)
            .await;
        assert!(res.get("errors").is_none(), "setDisposition: {res}");
        res["data"]["setDisposition"]["comment"]["disposition"].clone()
    }

    /// The comment's disposition as `token` sees it (`Value::Null` when none
    /// or hidden; `"no comment"` when the comment itself is hidden).
    async fn disposition(&self, token: &str, comment: &str) -> Value {
        let data = self
            .s
            .ok(Some(token), DISPOSITION, json!({ "id": comment }))
            .await;
        if data["node"].is_null() {
            return json!("no comment");
        }
        data["node"]["disposition"].clone()
    }

    async fn kind_seen(&self, token: &str, comment: &str) -> Option<String> {
        self.disposition(token, comment).await["kind"]
            .as_str()
            .map(str::to_owned)
    }

    async fn status(&self, cycle: &str) -> (String, String, i64) {
        let d = self
            .s
            .ok(
                Some(&self.rapporteur),
                STATUS,
                json!({ "c": cycle, "m": self.module }),
            )
            .await;
        (
            d["c"]["status"].as_str().expect("cycle status").to_owned(),
            d["m"]["status"].as_str().expect("module status").to_owned(),
            d["m"]["revisionCount"].as_i64().expect("count"),
        )
    }

    async fn create_revision(&self, markdown: &str, base: &str, addressed: &[&str]) -> Value {
        self.s
            .gql(
                Some(&self.rapporteur),
                CREATE_REVISION,
                json!({ "i": { "moduleId": self.module, "baseRevisionId": base, "markdown": markdown, "summary": "Comments taken into account", "addressedCommentIds": addressed } }),
            )
            .await
    }

    async fn create_revision_ok(&self, markdown: &str, base: &str, addressed: &[&str]) -> String {
        let res = self.create_revision(markdown, base, addressed).await;
        res["data"]["createRevision"]["revision"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("createRevision: {res}"))
            .to_owned()
    }

    /// A second module of the kit, with a revision 1; (module, revision).
    async fn other_module(&self) -> (String, String) {
        let module = self.s.ok(Some(&self.rapporteur), "mutation($k: ID!) { createModule(input: {kitId: $k, number: 2, title: \"Strategy\"}) { module { id } } }", json!({ "k": self.kit })).await
            ["createModule"]["module"]["id"].as_str().expect("module").to_owned();
        let revision = self
            .s
            .ok(
                Some(&self.rapporteur),
                CREATE_REVISION,
                json!({ "i": { "moduleId": module, "markdown": REV1, "summary": "first" } }),
            )
            .await["createRevision"]["revision"]["id"]
            .as_str()
            .expect("revision")
            .to_owned();
        (module, revision)
    }

    async fn progress(&self, token: &str, cycle: &str) -> Value {
        self.s
            .ok(Some(token), PROGRESS, json!({ "c": cycle }))
            .await["node"]["progress"]
            .clone()
    }

    /// Every row of the consolidated table as `token` sees it.
    async fn table(&self, token: &str, cycle: &str) -> Vec<Value> {
        let data = self
            .s
            .ok(Some(token), TABLE, json!({ "c": cycle, "n": 100 }))
            .await;
        let t = &data["node"]["consolidatedTable"];
        assert_eq!(t["pageInfo"]["hasNextPage"], false);
        t["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"].clone())
            .collect()
    }

    /// The carried comments of `revision` as `token` sees them: (totalCount, nodes).
    async fn carried(&self, token: &str, revision: &str, filter: Value) -> (i64, Vec<Value>) {
        let data = self
            .s
            .ok(Some(token), CARRIED, json!({ "r": revision, "f": filter }))
            .await;
        let c = &data["node"]["carriedComments"];
        let nodes: Vec<Value> = c["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"].clone())
            .collect();
        (c["totalCount"].as_i64().expect("totalCount"), nodes)
    }

    async fn anchor_in(&self, token: &str, comment: &str, revision: &str) -> Value {
        self.s
            .ok(
                Some(token),
                ANCHOR_IN,
                json!({ "c": comment, "r": revision }),
            )
            .await["node"]["anchorIn"]
            .clone()
    }
}

/// The rules of a decision, checked before anything is written; duplicates
/// without loops; every change kept in the history, repeats not.
async fn dispositions_follow_the_rules(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    // A comment of an earlier cycle, to point duplicates at.
    let earlier = f.open_now("OPEN").await;
    let old = f.on_document(&f.kenya, &earlier, "Earlier round").await;
    f.close_now(&earlier).await;
    let cycle = f.open_now("OPEN").await;
    let a = f.on_document(&f.kenya, &cycle, "A").await;
    let b_ = f.on_document(&f.france, &cycle, "B").await;
    let c = f.on_document(&f.kenya2, &cycle, "C").await;
    let draft = f
        .draft(&f.france, &cycle, json!({ "kind": "DOCUMENT" }))
        .await;

    let t = Some(f.rapporteur.as_str());
    for kind in [
        "ACCEPTED_IN_PRINCIPLE",
        "REJECTED",
        "NOTED",
        "WITHDRAWN",
        "DUPLICATE",
    ] {
        for rationale in [None, Some("   ")] {
            let dup = (kind == "DUPLICATE").then_some(b_.as_str());
            let res = f.set(t, &a, kind, rationale, dup).await;
            assert_eq!(code(&res), "VALIDATION", "{kind} {rationale:?}: {res}");
            assert_eq!(field(&res), "rationale", "{kind}: {res}");
        }
    }
    let cases: [(&str, Option<&str>, &str); 6] = [
        ("DUPLICATE", None, "no duplicateOfId"),
        ("NOTED", Some(b_.as_str()), "duplicateOfId on NOTED"),
        ("ACCEPTED", Some(b_.as_str()), "duplicateOfId on ACCEPTED"),
        ("DUPLICATE", Some(a.as_str()), "itself"),
        ("DUPLICATE", Some(old.as_str()), "another cycle's comment"),
        ("DUPLICATE", Some(draft.as_str()), "a draft"),
    ];
    for (kind, dup, why) in cases {
        let res = f.set(t, &a, kind, Some("Same point"), dup).await;
        assert_eq!(code(&res), "VALIDATION", "{why}: {res}");
        assert_eq!(field(&res), "duplicateOfId", "{why}: {res}");
    }
    assert!(
        f.disposition(&f.rapporteur, &a).await.is_null(),
        "nothing was written"
    );

    // ACCEPTED needs no rationale; the cycle is still open.
    let d = f.set_ok(&f.rapporteur, &a, "ACCEPTED", None, None).await;
    assert_eq!(d["kind"], "ACCEPTED");
    assert!(d["rationale"].is_null());
    assert!(d["duplicateOf"].is_null());
    assert_eq!(d["decidedBy"]["id"], json!(f.rapporteur_id));
    assert_eq!(instant(&d["decidedAt"]), t0());
    let h = d["history"].as_array().expect("history");
    assert_eq!(h.len(), 1);
    assert!(h[0]["before"].is_null(), "the first change has no before");
    assert_eq!(
        h[0]["after"],
        json!({ "kind": "ACCEPTED", "rationale": null, "duplicateOfId": null })
    );
    assert_eq!(h[0]["changedBy"]["id"], json!(f.rapporteur_id));

    // The secretariat changes it an hour later.
    f.s.clock.advance(Duration::hours(1));
    let d = f
        .set_ok(&f.admin, &a, "DUPLICATE", Some("Same as B."), Some(&b_))
        .await;
    assert_eq!(d["kind"], "DUPLICATE");
    assert_eq!(d["rationale"], "Same as B.");
    assert_eq!(d["duplicateOf"]["id"], json!(b_));
    assert_eq!(d["decidedBy"]["id"], json!(f.admin_id));
    assert_eq!(instant(&d["decidedAt"]), t0() + Duration::hours(1));
    let h = d["history"].as_array().expect("history");
    assert_eq!(h.len(), 2);
    assert_eq!(instant(&h[0]["changedAt"]), t0());
    assert_eq!(instant(&h[1]["changedAt"]), t0() + Duration::hours(1));
    assert_eq!(h[1]["changedBy"]["id"], json!(f.admin_id));
    assert_eq!(
        h[1]["before"],
        json!({ "kind": "ACCEPTED", "rationale": null, "duplicateOfId": null })
    );
    assert_eq!(
        h[1]["after"],
        json!({ "kind": "DUPLICATE", "rationale": "Same as B.", "duplicateOfId": b_ })
    );

    // The same value again adds nothing to the history.
    f.s.clock.advance(Duration::hours(1));
    let d = f
        .set_ok(
            &f.rapporteur,
            &a,
            "DUPLICATE",
            Some("Same as B."),
            Some(&b_),
        )
        .await;
    assert_eq!(d["history"].as_array().map(Vec::len), Some(2), "{d}");

    // Loops: B duplicating A, or B duplicating C which duplicates A.
    let res = f
        .set(t, &b_, "DUPLICATE", Some("Same as A."), Some(&a))
        .await;
    assert_eq!(
        (code(&res), field(&res)),
        ("VALIDATION", &json!("duplicateOfId")),
        "{res}"
    );
    f.set_ok(&f.rapporteur, &c, "DUPLICATE", Some("Same as A."), Some(&a))
        .await;
    let res = f
        .set(t, &b_, "DUPLICATE", Some("Same as C."), Some(&c))
        .await;
    assert_eq!(
        (code(&res), field(&res)),
        ("VALIDATION", &json!("duplicateOfId")),
        "{res}"
    );
    assert!(f.disposition(&f.rapporteur, &b_).await.is_null());
    // A no longer a duplicate: B may now duplicate C (C -> A, A -> nothing).
    f.set_ok(&f.rapporteur, &a, "NOTED", Some("Taken note."), None)
        .await;
    let d = f
        .set_ok(
            &f.rapporteur,
            &b_,
            "DUPLICATE",
            Some("Same as C."),
            Some(&c),
        )
        .await;
    assert_eq!(d["duplicateOf"]["id"], json!(c));
    // A withdrawn comment takes a disposition too.
    f.withdraw(&f.kenya, &a).await;
    assert_eq!(
        f.set_ok(
            &f.rapporteur,
            &a,
            "WITHDRAWN",
            Some("Withdrawn by Kenya."),
            None
        )
        .await["kind"],
        "WITHDRAWN"
    );
    let d = f.disposition(&f.rapporteur, &a).await;
    assert_eq!(
        d,
        json!({ "kind": "WITHDRAWN", "rationale": "Withdrawn by Kenya." })
    );
}

/// Who may set a disposition: the question's rapporteurs and the secretariat.
/// Others get FORBIDDEN when they can see the comment, else NOT_FOUND.
async fn only_rapporteurs_and_the_secretariat_decide(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open_now("OPEN").await;
    let k = f.on_document(&f.kenya, &cycle, "Kenya's comment").await;
    let draft = f
        .draft(&f.kenya, &cycle, json!({ "kind": "DOCUMENT" }))
        .await;
    let outcome = |token: Option<String>, comment: String| async move {
        let res = f
            .set(
                token.as_deref(),
                &comment,
                "NOTED",
                Some("Taken note."),
                None,
            )
            .await;
        if res.get("errors").is_some() {
            code(&res).to_owned()
        } else {
            "ok".to_owned()
        }
    };
    let who = [
        ("author", Some(f.kenya.clone()), "FORBIDDEN"),
        ("colleague", Some(f.kenya2.clone()), "FORBIDDEN"),
        ("other organization", Some(f.france.clone()), "FORBIDDEN"),
        (
            "rapporteur of another question",
            Some(f.other_rapporteur.clone()),
            "FORBIDDEN",
        ),
        ("anonymous", None, "UNAUTHENTICATED"),
    ];
    for (role, token, want) in &who {
        assert_eq!(
            outcome(token.clone(), k.clone()).await,
            *want,
            "{role}, OPEN cycle"
        );
    }
    assert!(f.disposition(&f.rapporteur, &k).await.is_null());
    // Drafts are their author's alone: NOT_FOUND for everyone else.
    for (role, token, want) in [
        ("author", &f.kenya, "FORBIDDEN"),
        ("colleague", &f.kenya2, "NOT_FOUND"),
        ("rapporteur", &f.rapporteur, "NOT_FOUND"),
        ("secretariat", &f.admin, "NOT_FOUND"),
    ] {
        assert_eq!(
            outcome(Some(token.clone()), draft.clone()).await,
            want,
            "{role}, a draft"
        );
    }
    assert_eq!(
        outcome(Some(f.rapporteur.clone()), k.clone()).await,
        "ok",
        "rapporteur"
    );
    assert_eq!(
        outcome(Some(f.admin.clone()), k.clone()).await,
        "ok",
        "secretariat"
    );

    // In a SEALED cycle, before the close, other organizations cannot see it.
    f.close_now(&cycle).await;
    let sealed = f.open_now("SEALED").await;
    let k2 = f.on_document(&f.kenya, &sealed, "Sealed comment").await;
    for (role, token, want) in [
        ("colleague", &f.kenya2, "FORBIDDEN"),
        ("other organization", &f.france, "NOT_FOUND"),
        (
            "rapporteur of another question",
            &f.other_rapporteur,
            "NOT_FOUND",
        ),
    ] {
        assert_eq!(
            outcome(Some(token.clone()), k2.clone()).await,
            want,
            "{role}, SEALED open cycle"
        );
    }
    // After the close everyone sees it: FORBIDDEN.
    f.s.clock.advance(Duration::days(14));
    for (role, token) in [
        ("other organization", &f.france),
        ("rapporteur of another question", &f.other_rapporteur),
    ] {
        assert_eq!(
            outcome(Some(token.clone()), k2.clone()).await,
            "FORBIDDEN",
            "{role}, SEALED closed cycle"
        );
    }
    assert_eq!(
        outcome(Some(f.rapporteur.clone()), k2.clone()).await,
        "ok",
        "rapporteur, closed cycle"
    );
    assert_eq!(
        f.kind_seen(&f.kenya, &k2).await.as_deref(),
        Some("NOTED"),
        "only the rapporteur's decision was written"
    );
}

/// Until the close only the rapporteurs and the secretariat see dispositions,
/// whatever the visibility; afterwards everyone who sees the comment does.
async fn dispositions_are_provisional_until_the_close(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let list = "query($c: ID!) { node(id: $c) { ... on ReviewCycle { comments(first: 100) { nodes { id disposition { kind } } } } } }";
    for visibility in ["OPEN", "SEALED"] {
        let cycle = f.open_now(visibility).await;
        let k = f.on_document(&f.kenya, &cycle, "Kenya's").await;
        let fr = f.on_document(&f.france, &cycle, "France's").await;
        f.set_ok(&f.rapporteur, &k, "REJECTED", Some("Out of scope."), None)
            .await;
        f.set_ok(&f.admin, &fr, "NOTED", Some("Thanks."), None)
            .await;
        for (who, token) in [
            ("author", &f.kenya),
            ("colleague", &f.kenya2),
            ("rapporteur of another question", &f.other_rapporteur),
        ] {
            let seen = f.disposition(token, &k).await;
            if who == "rapporteur of another question" && visibility == "SEALED" {
                assert_eq!(seen, "no comment");
            } else {
                assert!(seen.is_null(), "{who} in a {visibility} cycle: {seen}");
            }
        }
        let france_sees = f.disposition(&f.france, &k).await;
        assert_eq!(
            france_sees,
            if visibility == "OPEN" {
                Value::Null
            } else {
                json!("no comment")
            },
            "{visibility}"
        );
        assert!(f.disposition(&f.france, &fr).await.is_null());
        let nodes = f.s.ok(Some(&f.kenya), list, json!({ "c": cycle })).await["node"]["comments"]
            ["nodes"]
            .clone();
        let nodes = nodes.as_array().expect("nodes");
        assert_eq!(nodes.len(), if visibility == "OPEN" { 2 } else { 1 });
        assert!(
            nodes.iter().all(|n| n["disposition"].is_null()),
            "{nodes:?}"
        );
        // The managers see them at once.
        for token in [&f.rapporteur, &f.admin] {
            assert_eq!(f.kind_seen(token, &k).await.as_deref(), Some("REJECTED"));
            assert_eq!(f.kind_seen(token, &fr).await.as_deref(), Some("NOTED"));
        }
        // After the close, everyone.
        f.s.clock.advance(Duration::days(14));
        assert_eq!(
            f.disposition(&f.kenya, &k).await,
            json!({ "kind": "REJECTED", "rationale": "Out of scope." }),
            "{visibility}"
        );
        assert_eq!(
            f.disposition(&f.kenya2, &fr).await,
            json!({ "kind": "NOTED", "rationale": "Thanks." }),
            "{visibility}"
        );
        assert_eq!(
            f.kind_seen(&f.other_rapporteur, &k).await.as_deref(),
            Some("REJECTED")
        );
        let nodes = f.s.ok(Some(&f.france), list, json!({ "c": cycle })).await["node"]["comments"]
            ["nodes"]
            .clone();
        let kinds: BTreeSet<&str> = nodes
            .as_array()
            .expect("nodes")
            .iter()
            .filter_map(|n| n["disposition"]["kind"].as_str())
            .collect();
        assert_eq!(kinds, BTreeSet::from(["NOTED", "REJECTED"]));
    }
}

/// `setDispositions` applies every decision or none; errors name the item.
async fn batches_are_all_or_nothing(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open_now("OPEN").await;
    let a = f.on_document(&f.kenya, &cycle, "A").await;
    let b_ = f.on_document(&f.france, &cycle, "B").await;
    let c = f.on_document(&f.kenya2, &cycle, "C").await;
    let d = f.on_document(&f.france, &cycle, "D").await;
    let many = |items: Value| async move {
        f.s.gql(
            Some(&f.rapporteur),
            SET_MANY,
            json!({ "i": { "dispositions": items } }),
        )
        .await
    };
    let failures = [
        (
            json!([
                { "commentId": a, "kind": "ACCEPTED" },
                { "commentId": b_, "kind": "NOTED", "rationale": "Taken note." },
                { "commentId": c, "kind": "REJECTED" },
            ]),
            "dispositions[2].rationale",
            "a missing rationale",
        ),
        (
            json!([
                { "commentId": a, "kind": "ACCEPTED" },
                { "commentId": b_, "kind": "NOTED", "rationale": "Taken note." },
                { "commentId": c, "kind": "DUPLICATE", "rationale": "Same.", "duplicateOfId": c },
            ]),
            "dispositions[2].duplicateOfId",
            "a comment duplicating itself",
        ),
        (
            json!([
                { "commentId": a, "kind": "DUPLICATE", "rationale": "As B.", "duplicateOfId": b_ },
                { "commentId": b_, "kind": "DUPLICATE", "rationale": "As A.", "duplicateOfId": a },
            ]),
            "dispositions[1].duplicateOfId",
            "a loop inside the batch",
        ),
    ];
    for (items, want, why) in failures {
        let res = many(items).await;
        assert_eq!(code(&res), "VALIDATION", "{why}: {res}");
        assert_eq!(field(&res), want, "{why}: {res}");
        for id in [&a, &b_, &c] {
            assert!(
                f.disposition(&f.rapporteur, id).await.is_null(),
                "{why}: nothing was written"
            );
        }
        assert_eq!(f.progress(&f.rapporteur, &cycle).await["decided"], 0);
    }
    // A comment the rapporteur may not decide on (a draft) fails the batch too.
    let draft = f
        .draft(&f.kenya, &cycle, json!({ "kind": "DOCUMENT" }))
        .await;
    let res = many(json!([
        { "commentId": a, "kind": "ACCEPTED" },
        { "commentId": draft, "kind": "ACCEPTED" },
    ]))
    .await;
    assert_eq!(code(&res), "NOT_FOUND", "{res}");
    assert!(f.disposition(&f.rapporteur, &a).await.is_null());

    // All good: applied, returned in the order given.
    let res = many(json!([
        { "commentId": c, "kind": "DUPLICATE", "rationale": "Same.", "duplicateOfId": a },
        { "commentId": a, "kind": "ACCEPTED" },
        { "commentId": b_, "kind": "NOTED", "rationale": "Taken note." },
    ]))
    .await;
    assert!(res.get("errors").is_none(), "{res}");
    let comments = &res["data"]["setDispositions"]["comments"];
    assert_eq!(ids(comments), vec![c.clone(), a.clone(), b_.clone()]);
    assert_eq!(comments[0]["disposition"]["kind"], "DUPLICATE");
    assert_eq!(
        f.disposition(&f.rapporteur, &b_).await,
        json!({ "kind": "NOTED", "rationale": "Taken note." })
    );
    assert_eq!(f.progress(&f.rapporteur, &cycle).await["decided"], 3);

    // At most 500 per call; none is an error too.
    let too_many: Vec<Value> = (0..501)
        .map(|_| json!({ "commentId": d, "kind": "ACCEPTED" }))
        .collect();
    let res = many(json!(too_many)).await;
    assert_eq!(code(&res), "VALIDATION", "{res}");
    assert_eq!(field(&res), "dispositions");
    assert!(f.disposition(&f.rapporteur, &d).await.is_null());
    let res = many(json!([])).await;
    assert_eq!(code(&res), "VALIDATION", "{res}");
    // Members may not.
    let res =
        f.s.gql(
            Some(&f.kenya),
            SET_MANY,
            json!({ "i": { "dispositions": [{ "commentId": d, "kind": "ACCEPTED" }] } }),
        )
        .await;
    assert_eq!(code(&res), "FORBIDDEN", "{res}");
}

/// `cycle.progress`: counts over submitted and withdrawn comments, by
/// disposition, type and organization; null for members before the close.
async fn progress_counts_every_comment_the_viewer_may_see(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open_now("SEALED").await;
    let doc = || json!({ "kind": "DOCUMENT" });
    let k1 = f.submit(&f.kenya, &cycle, doc(), "GENERAL", "k1").await;
    let k2 = f.submit(&f.kenya, &cycle, doc(), "TECHNICAL", "k2").await;
    let f1 = f.submit(&f.france, &cycle, doc(), "EDITORIAL", "f1").await;
    let f2 = f.submit(&f.france, &cycle, doc(), "GENERAL", "f2").await;
    f.withdraw(&f.france, &f2).await;
    f.draft(&f.kenya, &cycle, doc()).await;
    f.set_ok(&f.rapporteur, &k1, "ACCEPTED", None, None).await;
    f.set_ok(
        &f.rapporteur,
        &f2,
        "WITHDRAWN",
        Some("Withdrawn by France."),
        None,
    )
    .await;

    let summary = |p: &Value| {
        let kinds: BTreeMap<String, i64> = p["byDisposition"]
            .as_array()
            .expect("byDisposition")
            .iter()
            .map(|k| {
                (
                    k["kind"].as_str().expect("kind").to_owned(),
                    k["count"].as_i64().expect("count"),
                )
            })
            .collect();
        let types: BTreeMap<String, (i64, i64)> = p["byType"]
            .as_array()
            .expect("byType")
            .iter()
            .map(|t| {
                (
                    t["type"].as_str().expect("type").to_owned(),
                    (
                        t["count"].as_i64().expect("count"),
                        t["remaining"].as_i64().expect("remaining"),
                    ),
                )
            })
            .collect();
        let orgs: BTreeMap<String, (i64, i64)> = p["byOrganization"]
            .as_array()
            .expect("byOrganization")
            .iter()
            .map(|o| {
                (
                    o["organization"]["id"].as_str().expect("org").to_owned(),
                    (
                        o["count"].as_i64().expect("count"),
                        o["remaining"].as_i64().expect("remaining"),
                    ),
                )
            })
            .collect();
        (
            [
                &p["total"],
                &p["submitted"],
                &p["withdrawn"],
                &p["decided"],
                &p["remaining"],
            ]
            .map(|v| v.as_i64().unwrap_or(-1)),
            kinds,
            types,
            orgs,
        )
    };
    let kinds = |accepted: i64, noted: i64, rejected: i64| {
        BTreeMap::from([
            ("ACCEPTED".to_owned(), accepted),
            ("ACCEPTED_IN_PRINCIPLE".to_owned(), 0),
            ("REJECTED".to_owned(), rejected),
            ("NOTED".to_owned(), noted),
            ("DUPLICATE".to_owned(), 0),
            ("WITHDRAWN".to_owned(), 1),
        ])
    };
    let expected = (
        [4, 3, 1, 1, 2],
        kinds(1, 0, 0),
        BTreeMap::from([
            ("GENERAL".to_owned(), (2, 0)),
            ("TECHNICAL".to_owned(), (1, 1)),
            ("EDITORIAL".to_owned(), (1, 1)),
        ]),
        BTreeMap::from([
            (f.kenya_org.clone(), (2, 1)),
            (f.france_org.clone(), (2, 1)),
        ]),
    );
    for token in [&f.rapporteur, &f.admin] {
        let p = f.progress(token, &cycle).await;
        assert_eq!(
            p["byDisposition"].as_array().map(Vec::len),
            Some(6),
            "every kind, zeros included"
        );
        assert_eq!(summary(&p), expected, "{p:#}");
    }
    // Members (and another question's rapporteur) see nothing before the close.
    for token in [&f.kenya, &f.france, &f.other_rapporteur] {
        assert!(f.progress(token, &cycle).await.is_null());
    }
    f.s.clock.advance(Duration::days(14));
    for token in [&f.kenya, &f.france] {
        assert_eq!(summary(&f.progress(token, &cycle).await), expected);
    }
    f.set_ok(&f.rapporteur, &k2, "REJECTED", Some("No."), None)
        .await;
    f.set_ok(&f.rapporteur, &f1, "NOTED", Some("Yes."), None)
        .await;
    let (counts, by_kind, types, orgs) = summary(&f.progress(&f.kenya, &cycle).await);
    assert_eq!(counts, [4, 3, 1, 3, 0]);
    assert_eq!(by_kind, kinds(1, 1, 1));
    assert!(types.values().all(|(_, r)| *r == 0), "{types:?}");
    assert_eq!(orgs[&f.kenya_org], (2, 0));
}

/// `markCycleConsolidated`: managers only, a closed cycle with every submitted
/// comment decided and no late grant running; then dispositions are final and
/// the module CONSOLIDATING until its next revision.
async fn consolidation_needs_every_decision(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f
        .open_on(&f.revision, "OPEN", t0() + Duration::days(1), 14)
        .await;
    let mark = |token: String| {
        let cycle = cycle.clone();
        async move { f.s.gql(Some(&token), MARK, json!({ "c": cycle })).await }
    };
    assert_eq!(
        code(&mark(f.rapporteur.clone()).await),
        "CONFLICT",
        "scheduled"
    );
    f.s.clock.advance(Duration::days(1));
    assert_eq!(code(&mark(f.rapporteur.clone()).await), "CONFLICT", "open");
    assert_eq!(code(&mark(f.kenya.clone()).await), "FORBIDDEN");
    let k1 = f.on_document(&f.kenya, &cycle, "k1").await;
    let k2 = f.on_document(&f.kenya, &cycle, "k2").await;
    let f1 = f.on_document(&f.france, &cycle, "f1").await;
    f.withdraw(&f.france, &f1).await;
    f.set_ok(&f.rapporteur, &k1, "ACCEPTED", None, None).await;

    // Closed, with France granted two more days.
    f.s.clock.advance(Duration::days(14));
    let grant = "mutation($c: ID!, $o: ID!, $u: DateTime!) { grantLateSubmission(input: {cycleId: $c, organizationId: $o, until: $u}) { cycle { id } } }";
    let until = (f.s.clock_now() + Duration::days(2)).to_rfc3339();
    f.s.ok(
        Some(&f.rapporteur),
        grant,
        json!({ "c": cycle, "o": f.france_org, "u": until }),
    )
    .await;
    // A shorter grant to Kenya, given later: France's still counts.
    let kenya_until = (f.s.clock_now() + Duration::days(1)).to_rfc3339();
    f.s.ok(
        Some(&f.rapporteur),
        grant,
        json!({ "c": cycle, "o": f.kenya_org, "u": kenya_until }),
    )
    .await;
    let late = f.on_document(&f.france, &cycle, "late").await;
    let res = mark(f.rapporteur.clone()).await;
    assert_eq!(code(&res), "CONFLICT", "a late grant runs: {res}");
    assert_eq!(code(&mark(f.kenya.clone()).await), "FORBIDDEN");
    assert_eq!(code(&mark(f.france.clone()).await), "FORBIDDEN");
    f.s.clock.advance(Duration::days(1));
    let res = mark(f.rapporteur.clone()).await;
    assert_eq!(code(&res), "CONFLICT", "France's grant still runs: {res}");
    f.s.clock.advance(Duration::days(1));

    // Undecided comments (the withdrawn one needs nothing).
    let res = mark(f.rapporteur.clone()).await;
    assert_eq!(code(&res), "VALIDATION", "{res}");
    let msg = res["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        msg.contains("2 submitted comments still have no disposition"),
        "{msg}"
    );
    assert_eq!(f.status(&cycle).await.0, "CLOSED", "nothing was marked");
    f.set_ok(&f.rapporteur, &k2, "NOTED", Some("Taken note."), None)
        .await;
    let res = mark(f.admin.clone()).await;
    let msg = res["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        msg.contains("1 submitted comment still has no disposition"),
        "{res}"
    );
    assert_eq!(f.status(&cycle).await.0, "CLOSED");
    f.set_ok(&f.rapporteur, &late, "REJECTED", Some("Too late."), None)
        .await;
    let res = mark(f.rapporteur.clone()).await;
    assert!(res.get("errors").is_none(), "{res}");
    assert_eq!(
        res["data"]["markCycleConsolidated"]["cycle"],
        json!({ "id": cycle, "status": "CONSOLIDATED" })
    );
    assert_eq!(
        f.status(&cycle).await,
        ("CONSOLIDATED".to_owned(), "CONSOLIDATING".to_owned(), 1)
    );

    // Final: no change, by anyone, one at a time or in a batch.
    let res = f
        .set(Some(&f.rapporteur), &k1, "REJECTED", Some("Changed."), None)
        .await;
    assert_eq!(code(&res), "CYCLE_CLOSED", "{res}");
    let res = f.set(Some(&f.admin), &k1, "ACCEPTED", None, None).await;
    assert_eq!(code(&res), "CYCLE_CLOSED", "even the same value: {res}");
    let res =
        f.s.gql(
            Some(&f.rapporteur),
            SET_MANY,
            json!({ "i": { "dispositions": [{ "commentId": k2, "kind": "ACCEPTED" }] } }),
        )
        .await;
    assert_eq!(code(&res), "CYCLE_CLOSED", "{res}");
    assert_eq!(
        f.kind_seen(&f.kenya, &k1).await.as_deref(),
        Some("ACCEPTED")
    );
    assert_eq!(f.kind_seen(&f.kenya, &k2).await.as_deref(), Some("NOTED"));
    assert_eq!(code(&mark(f.rapporteur.clone()).await), "CONFLICT", "again");

    // The next revision ends the consolidation of the module (not the cycle's).
    f.create_revision_ok(&rev2(), &f.revision, &[]).await;
    assert_eq!(
        f.status(&cycle).await,
        ("CONSOLIDATED".to_owned(), "DRAFTING".to_owned(), 2)
    );
}

/// The consolidated table: the template's columns, in document order, with
/// dispositions only when the viewer may see them.
async fn the_consolidated_table_follows_the_document(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open_now("OPEN").await;
    let rev = f.revision.clone();
    let governance = f.block(&rev, P_GOVERNANCE).await;
    let list_item = f
        .block(
            &rev,
            "the ICT infrastructure and skills on which those services depend",
        )
        .await;
    let policy_row = f.block(&rev, "Policy | e-Government strategy").await;
    assert_eq!(
        (
            governance["kind"].as_str(),
            list_item["kind"].as_str(),
            policy_row["kind"].as_str()
        ),
        (Some("PARAGRAPH"), Some("LIST_ITEM"), Some("TABLE_ROW"))
    );
    let section_23 = f.section(&rev, "2.3").await;
    let submit = |token: &str, anchor: Value, kind: &str, body: &str, change: Option<&str>| {
        let vars = json!({ "i": { "cycleId": cycle, "anchor": anchor, "type": kind, "body": body, "proposedChange": change } });
        let token = token.to_owned();
        async move {
            f.s.ok(Some(&token), SUBMIT, vars).await["submitComment"]["comment"]["id"]
                .as_str()
                .expect("id")
                .to_owned()
        }
    };
    let c1 = submit(
        &f.kenya,
        json!({ "kind": "BLOCK", "blockAnchorId": governance["anchorId"] }),
        "TECHNICAL",
        "Name the agency.",
        Some("Add: designated by law."),
    )
    .await;
    let c2 = submit(
        &f.france,
        json!({ "kind": "DOCUMENT" }),
        "GENERAL",
        "Too long.",
        None,
    )
    .await;
    let c3 = submit(
        &f.kenya,
        json!({ "kind": "QUOTE", "blockAnchorId": governance["anchorId"], "quote": { "exact": "legal mandate" } }),
        "EDITORIAL",
        "Say statutory mandate.",
        None,
    )
    .await;
    let c4 = submit(
        &f.france,
        json!({ "kind": "SECTION", "sectionAnchorId": section_23 }),
        "GENERAL",
        "Governance needs more weight.",
        None,
    )
    .await;
    let c5 = submit(
        &f.admin,
        json!({ "kind": "BLOCK", "blockAnchorId": list_item["anchorId"] }),
        "EDITORIAL",
        "Semicolons.",
        None,
    )
    .await;
    let c6 = submit(
        &f.france,
        json!({ "kind": "BLOCK", "blockAnchorId": policy_row["anchorId"] }),
        "TECHNICAL",
        "Weight 0.30.",
        None,
    )
    .await;
    let c7 = submit(
        &f.kenya,
        json!({ "kind": "DOCUMENT" }),
        "GENERAL",
        "Withdrawn later.",
        None,
    )
    .await;
    f.withdraw(&f.kenya2, &c7).await;
    f.draft(&f.kenya, &cycle, json!({ "kind": "DOCUMENT" }))
        .await;
    f.set_ok(&f.rapporteur, &c1, "ACCEPTED", None, None).await;
    f.set_ok(
        &f.rapporteur,
        &c2,
        "DUPLICATE",
        Some("Same point."),
        Some(&c4),
    )
    .await;
    f.set_ok(
        &f.rapporteur,
        &c3,
        "REJECTED",
        Some("Keep the wording."),
        None,
    )
    .await;
    f.set_ok(&f.rapporteur, &c4, "NOTED", Some("Thanks."), None)
        .await;
    f.set_ok(
        &f.rapporteur,
        &c5,
        "ACCEPTED_IN_PRINCIPLE",
        Some("Reworded."),
        None,
    )
    .await;

    // (comment, number, organization, clause, location, type, body, proposed change, disposition, rationale)
    type Row<'a> = (
        &'a str,
        i64,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
        &'a str,
    );
    let full: Vec<Row> = vec![
        (
            &c2,
            2,
            "FR",
            "General",
            "",
            "ge",
            "Too long.",
            "",
            Some("DUPLICATE"),
            "Duplicate of comment 4. Same point.",
        ),
        (
            &c7,
            7,
            "KE",
            "General",
            "",
            "ge",
            "Withdrawn later.",
            "",
            Some("WITHDRAWN"),
            "",
        ),
        (
            &c5,
            5,
            "ITU",
            "1.1",
            "List item 2",
            "ed",
            "Semicolons.",
            "",
            Some("ACCEPTED_IN_PRINCIPLE"),
            "Reworded.",
        ),
        (
            &c4,
            4,
            "FR",
            "2.3",
            "",
            "ge",
            "Governance needs more weight.",
            "",
            Some("NOTED"),
            "Thanks.",
        ),
        (
            &c1,
            1,
            "KE",
            "2.3",
            "Paragraph 2",
            "te",
            "Name the agency.",
            "Add: designated by law.",
            Some("ACCEPTED"),
            "",
        ),
        (
            &c3,
            3,
            "KE",
            "2.3",
            "Paragraph 2 “legal mandate”",
            "ed",
            "Say statutory mandate.",
            "",
            Some("REJECTED"),
            "Keep the wording.",
        ),
        (
            &c6,
            6,
            "FR",
            "3",
            "Table row 3",
            "te",
            "Weight 0.30.",
            "",
            None,
            "",
        ),
    ];
    let as_json = |rows: &[Row]| -> Vec<Value> {
        rows.iter()
            .map(|r| {
                json!({
                    "comment": { "id": r.0 },
                    "number": r.1,
                    "organization": r.2,
                    "clause": r.3,
                    "location": r.4,
                    "typeCode": r.5,
                    "body": r.6,
                    "proposedChange": r.7,
                    "disposition": r.8,
                    "rationale": r.9,
                })
            })
            .collect()
    };
    // Members see the rows before the close, without the decisions (a
    // withdrawal is no decision: it shows).
    let hidden: Vec<Row> = full
        .iter()
        .map(|r| {
            let mut r = *r;
            if r.8 != Some("WITHDRAWN") {
                r.8 = None;
            }
            r.9 = "";
            r
        })
        .collect();
    assert_eq!(f.table(&f.rapporteur, &cycle).await, as_json(&full));
    assert_eq!(f.table(&f.admin, &cycle).await, as_json(&full));
    assert_eq!(f.table(&f.kenya, &cycle).await, as_json(&hidden));
    assert_eq!(f.table(&f.other_rapporteur, &cycle).await, as_json(&hidden));

    // Pages, in the same order.
    let page =
        f.s.ok(Some(&f.rapporteur), TABLE, json!({ "c": cycle, "n": 3 }))
            .await["node"]["consolidatedTable"]
            .clone();
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let numbers = |p: &Value| -> Vec<i64> {
        p["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["number"].as_i64().expect("number"))
            .collect()
    };
    assert_eq!(numbers(&page), vec![2, 7, 5]);
    let rest =
        f.s.ok(
            Some(&f.rapporteur),
            TABLE,
            json!({ "c": cycle, "n": 10, "a": page["pageInfo"]["endCursor"] }),
        )
        .await["node"]["consolidatedTable"]
            .clone();
    assert_eq!(numbers(&rest), vec![4, 1, 3, 6]);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);

    // After the close, everyone sees the decisions.
    f.s.clock.advance(Duration::days(14));
    assert_eq!(f.table(&f.kenya, &cycle).await, as_json(&full));
    assert_eq!(f.table(&f.france, &cycle).await, as_json(&full));

    // A SEALED cycle: a Kenyan delegate sees Kenyan rows only, until the close.
    let sealed = f.open_now("SEALED").await;
    let k = f.on_document(&f.kenya, &sealed, "Kenyan view").await;
    let fr = f.on_document(&f.france, &sealed, "French view").await;
    let only = |rows: Vec<Value>| -> Vec<(String, String)> {
        rows.iter()
            .map(|r| {
                (
                    r["comment"]["id"].as_str().expect("id").to_owned(),
                    r["organization"].as_str().expect("org").to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        only(f.table(&f.kenya, &sealed).await),
        vec![(k.clone(), "KE".to_owned())]
    );
    assert_eq!(
        only(f.table(&f.france, &sealed).await),
        vec![(fr.clone(), "FR".to_owned())]
    );
    assert!(f.table(&f.other_rapporteur, &sealed).await.is_empty());
    assert_eq!(
        only(f.table(&f.rapporteur, &sealed).await),
        vec![(k.clone(), "KE".to_owned()), (fr.clone(), "FR".to_owned())]
    );
    f.s.clock.advance(Duration::days(14));
    assert_eq!(f.table(&f.kenya, &sealed).await.len(), 2);
}

/// `consolidatedTable.totalCount` counts the rows the viewer may see.
async fn the_consolidated_table_counts_its_rows(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open_now("SEALED").await;
    f.on_document(&f.kenya, &cycle, "one").await;
    f.on_document(&f.kenya2, &cycle, "two").await;
    f.on_document(&f.france, &cycle, "three").await;
    f.draft(&f.kenya, &cycle, json!({ "kind": "DOCUMENT" }))
        .await;
    let q = "query($c: ID!) { node(id: $c) { ... on ReviewCycle { consolidatedTable(first: 1) { totalCount edges { node { number } } } } } }";
    let count = |token: String| {
        let cycle = cycle.clone();
        async move {
            let data = f.s.ok(Some(&token), q, json!({ "c": cycle })).await;
            let t = &data["node"]["consolidatedTable"];
            assert_eq!(t["edges"].as_array().map(Vec::len), Some(1));
            t["totalCount"].as_i64()
        }
    };
    assert_eq!(count(f.rapporteur.clone()).await, Some(3), "rapporteur");
    assert_eq!(count(f.kenya.clone()).await, Some(2), "Kenya, sealed");
    assert_eq!(count(f.france.clone()).await, Some(1), "France, sealed");
}

/// `createRevision.addressedCommentIds` and `setDisposition.addressedInRevisionId`:
/// checked, shown on the comment, its disposition and the diff.
async fn revisions_address_comments(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open_now("OPEN").await;
    let rev1 = f.revision.clone();
    let fuzzy = f.block(&rev1, P_FUZZY).await;
    let exact = f.block(&rev1, P_EXACT).await;
    let cf = f.on_block(&f.kenya, &cycle, &fuzzy, "Too long.").await;
    let ce = f.on_block(&f.france, &cycle, &exact, "Fine.").await;
    let cw = f.on_block(&f.kenya, &cycle, &fuzzy, "Withdrawn.").await;
    f.withdraw(&f.kenya, &cw).await;
    let cd = f
        .draft(&f.kenya, &cycle, json!({ "kind": "DOCUMENT" }))
        .await;
    let (_, module2_rev) = f.other_module().await;
    let other_cycle = f.open_on(&module2_rev, "OPEN", f.s.clock_now(), 14).await;
    let co = f.on_document(&f.kenya, &other_cycle, "Other module").await;

    let md = rev2();
    for (bad, why) in [
        (&cw, "a withdrawn comment"),
        (&cd, "a draft"),
        (&co, "another module's comment"),
    ] {
        let res = f.create_revision(&md, &rev1, &[&cf, bad]).await;
        assert_eq!(code(&res), "VALIDATION", "{why}: {res}");
        assert_eq!(field(&res), "addressedCommentIds", "{why}");
        assert_eq!(f.status(&cycle).await.2, 1, "{why}: no revision was made");
    }
    let rev2_id = f.create_revision_ok(&md, &rev1, &[&cf]).await;

    let addressed = "query($c: ID!) { node(id: $c) { ... on Comment { addressedIn { id number } disposition { addressedIn { id } } } } }";
    let seen = |token: String, comment: String| async move {
        f.s.ok(Some(&token), addressed, json!({ "c": comment }))
            .await["node"]
            .clone()
    };
    assert_eq!(
        seen(f.kenya.clone(), cf.clone()).await["addressedIn"],
        json!([{ "id": rev2_id, "number": 2 }])
    );
    assert_eq!(
        seen(f.kenya.clone(), ce.clone()).await["addressedIn"],
        json!([])
    );
    f.set_ok(&f.rapporteur, &cf, "ACCEPTED", None, None).await;
    assert_eq!(
        seen(f.rapporteur.clone(), cf.clone()).await["disposition"]["addressedIn"],
        json!([{ "id": rev2_id }])
    );

    // A disposition may name the revision that addresses the comment: a later
    // revision of its own module only.
    let set_addressed = |rev: String| {
        let ce = ce.clone();
        async move {
            f.s.gql(
                Some(&f.rapporteur),
                SET,
                json!({ "i": { "commentId": ce, "kind": "NOTED", "rationale": "Done.", "addressedInRevisionId": rev } }),
            )
            .await
        }
    };
    for (rev, why) in [
        (&rev1, "its own revision"),
        (&module2_rev, "another module"),
    ] {
        let res = set_addressed(rev.clone()).await;
        assert_eq!(code(&res), "VALIDATION", "{why}: {res}");
        assert_eq!(field(&res), "addressedInRevisionId", "{why}");
    }
    assert!(
        f.disposition(&f.rapporteur, &ce).await.is_null(),
        "nothing written"
    );
    let res = set_addressed(rev2_id.clone()).await;
    assert!(res.get("errors").is_none(), "{res}");
    assert_eq!(
        res["data"]["setDisposition"]["comment"]["disposition"]["addressedIn"],
        json!([{ "id": rev2_id }])
    );
    assert_eq!(
        seen(f.kenya.clone(), ce.clone()).await["addressedIn"],
        json!([{ "id": rev2_id, "number": 2 }])
    );
    // Naming it again adds nothing.
    set_addressed(rev2_id.clone()).await;
    assert_eq!(
        seen(f.kenya.clone(), ce.clone()).await["addressedIn"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // The diff: both comments, each on its own block.
    let diff = f.s.ok(Some(&f.kenya), DIFF, json!({ "m": f.module })).await["node"]["diff"].clone();
    let all: BTreeSet<String> = ids(&diff["addressedComments"]).into_iter().collect();
    assert_eq!(all, BTreeSet::from([cf.clone(), ce.clone()]));
    let blocks: Vec<Value> = diff["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|s| s["blocks"].as_array().cloned().unwrap_or_default())
        .collect();
    let listing = |comment: &str| -> Vec<Value> {
        blocks
            .iter()
            .filter(|b| ids(&b["addressedComments"]).iter().any(|i| i == comment))
            .cloned()
            .collect()
    };
    let on_cf = listing(&cf);
    assert_eq!(on_cf.len(), 1, "{on_cf:?}");
    assert_eq!(on_cf[0]["status"], "CHANGED");
    assert_eq!(on_cf[0]["fromBlock"]["anchorId"], fuzzy["anchorId"]);
    let on_ce = listing(&ce);
    assert_eq!(on_ce.len(), 1, "{on_ce:?}");
    assert_eq!(on_ce[0]["status"], "UNCHANGED");
    assert_eq!(on_ce[0]["toBlock"]["anchorId"], exact["anchorId"]);
    // A later revision may address a comment of any earlier one.
    let rev3_md = format!("{md}\nA paragraph added in revision 3.\n");
    let res = f.create_revision(&rev3_md, &rev2_id, &[&cf]).await;
    let rev3_id = res["data"]["createRevision"]["revision"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("revision 3: {res}"))
        .to_owned();
    assert_eq!(
        seen(f.kenya.clone(), cf.clone()).await["addressedIn"],
        json!([{ "id": rev2_id, "number": 2 }, { "id": rev3_id, "number": 3 }]),
        "oldest first"
    );
}

/// A batch that names a comment twice: refused, or applied in order (the
/// last value wins and the history follows every step) — never half-applied.
async fn a_batch_naming_a_comment_twice_stays_consistent(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open_now("OPEN").await;
    let a = f.on_document(&f.kenya, &cycle, "A").await;
    let b_ = f.on_document(&f.france, &cycle, "B").await;
    f.set_ok(&f.rapporteur, &a, "ACCEPTED", None, None).await;
    let history = "query($id: ID!) { node(id: $id) { ... on Comment { disposition { kind history { before { kind } after { kind } } } } } }";
    let read = |id: String| async move {
        f.s.ok(Some(&f.rapporteur), history, json!({ "id": id }))
            .await["node"]["disposition"]
            .clone()
    };
    let consistent = |d: &Value| {
        let h = d["history"].as_array().expect("history");
        assert!(h[0]["before"].is_null(), "{d}");
        for w in h.windows(2) {
            assert_eq!(
                w[1]["before"], w[0]["after"],
                "each change starts where the last ended: {d}"
            );
        }
        assert_eq!(
            h.last().expect("a change")["after"]["kind"],
            d["kind"],
            "{d}"
        );
    };

    // Changed, then changed back to what it was before the batch.
    let res =
        f.s.gql(
            Some(&f.rapporteur),
            SET_MANY,
            json!({ "i": { "dispositions": [
        { "commentId": a, "kind": "NOTED", "rationale": "First thoughts." },
        { "commentId": a, "kind": "ACCEPTED" },
    ] } }),
        )
        .await;
    let d = read(a.clone()).await;
    if res.get("errors").is_some() {
        assert_eq!(code(&res), "VALIDATION", "{res}");
        assert_eq!(d["kind"], "ACCEPTED");
        assert_eq!(d["history"].as_array().map(Vec::len), Some(1), "{d}");
    } else {
        assert_eq!(d["kind"], "ACCEPTED", "the last value given wins: {d}");
        consistent(&d);
    }

    // The same value twice on an undecided comment: at most one change.
    let res =
        f.s.gql(
            Some(&f.rapporteur),
            SET_MANY,
            json!({ "i": { "dispositions": [
        { "commentId": b_, "kind": "NOTED", "rationale": "Taken note." },
        { "commentId": b_, "kind": "NOTED", "rationale": "Taken note." },
    ] } }),
        )
        .await;
    let d = read(b_.clone()).await;
    if res.get("errors").is_some() {
        assert_eq!(code(&res), "VALIDATION", "{res}");
        assert!(d.is_null(), "{d}");
    } else {
        assert_eq!(d["kind"], "NOTED");
        assert_eq!(
            d["history"].as_array().map(Vec::len),
            Some(1),
            "identical values add no change: {d}"
        );
        consistent(&d);
    }
}

/// Carry forward: every comment of revision 1 is found (or not) in revision 2
/// — EXACT, MOVED, FUZZY, ORPHANED — and `anchorIn` says where.
async fn comments_are_carried_into_the_next_revision(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open_now("OPEN").await;
    let rev1 = f.revision.clone();
    let exact = f.block(&rev1, P_EXACT).await;
    let moved = f.block(&rev1, P_MOVED).await;
    let fuzzy = f.block(&rev1, P_FUZZY).await;
    let gone = f.block(&rev1, P_GONE).await;
    let sec5_block = f.block(&rev1, P_SEC5).await;
    let sec3 = f.section(&rev1, "3").await;
    let sec4 = f.section(&rev1, "4").await;
    let sec5 = f.section(&rev1, "5").await;
    assert_eq!(moved["clause"], "2.4");
    let quote = |block: &Value, exact: &str| json!({ "kind": "QUOTE", "blockAnchorId": block["anchorId"], "quote": { "exact": exact } });
    let c_exact = f.on_block(&f.kenya, &cycle, &exact, "exact").await;
    let c_moved = f.on_block(&f.kenya, &cycle, &moved, "moved").await;
    let c_fuzzy = f.on_block(&f.france, &cycle, &fuzzy, "fuzzy").await;
    let c_gone = f.on_block(&f.kenya, &cycle, &gone, "gone").await;
    let c_quote_kept = f
        .submit(
            &f.kenya,
            &cycle,
            quote(&fuzzy, "the validation workshop"),
            "EDITORIAL",
            "kept",
        )
        .await;
    let c_quote_lost = f
        .submit(
            &f.kenya,
            &cycle,
            quote(&fuzzy, "two and four months"),
            "EDITORIAL",
            "lost",
        )
        .await;
    let c_sec5_block = f
        .on_block(&f.france, &cycle, &sec5_block, "sec5 block")
        .await;
    let c_sec5 = f
        .submit(
            &f.kenya,
            &cycle,
            json!({ "kind": "SECTION", "sectionAnchorId": sec5 }),
            "GENERAL",
            "sec5",
        )
        .await;
    let c_doc = f.on_document(&f.france, &cycle, "document").await;
    // Withdrawn comments are carried too.
    f.withdraw(&f.kenya, &c_moved).await;

    // In its own revision a comment is EXACT, with its own anchor.
    let own = f.anchor_in(&f.kenya, &c_quote_kept, &rev1).await;
    let kept_start = fuzzy["text"]
        .as_str()
        .expect("text")
        .find("the validation workshop")
        .expect("quote") as i64;
    assert_eq!(
        (own["status"].as_str(), own["score"].as_f64()),
        (Some("EXACT"), Some(1.0))
    );
    assert_eq!(own["blockAnchorId"], fuzzy["anchorId"]);
    assert_eq!(own["sectionAnchorId"], json!(sec4));
    assert_eq!(
        (own["quoteStart"].as_i64(), own["quoteEnd"].as_i64()),
        (Some(kept_start), Some(kept_start + 23))
    );
    assert_eq!(own["revision"]["id"], json!(rev1));

    let rev2_id = f.create_revision_ok(&rev2(), &rev1, &[]).await;
    let new_fuzzy = f.block(&rev2_id, P_FUZZY).await;
    assert_ne!(
        new_fuzzy["anchorId"], fuzzy["anchorId"],
        "a new text, a new anchor"
    );
    let new_text = new_fuzzy["text"].as_str().expect("text").to_owned();
    assert!(new_text.contains("three and six months"));
    assert_eq!(
        f.block(&rev2_id, P_MOVED).await["anchorId"],
        moved["anchorId"],
        "a moved block keeps its anchor"
    );
    let sec3_v2 = f.section(&rev2_id, "3").await;
    let sec4_v2 = f.section(&rev2_id, "4").await;
    assert_eq!(
        (sec3_v2.as_str(), sec4_v2.as_str()),
        (sec3.as_str(), sec4.as_str())
    );

    let at = |c: String| {
        let r = rev2_id.clone();
        async move { f.anchor_in(&f.rapporteur, &c, &r).await }
    };
    let brief = |a: &Value| {
        (
            a["status"].as_str().map(str::to_owned),
            a["sectionAnchorId"].as_str().map(str::to_owned),
            a["blockAnchorId"].as_str().map(str::to_owned),
        )
    };
    let s = |v: &str| Some(v.to_owned());
    let a = at(c_doc.clone()).await;
    assert_eq!(brief(&a), (s("EXACT"), None, None));
    assert_eq!(a["score"].as_f64(), Some(1.0));
    assert_eq!(a["revision"]["id"], json!(rev2_id));

    let a = at(c_exact.clone()).await;
    assert_eq!(
        brief(&a),
        (
            s("EXACT"),
            exact["sectionAnchorId"].as_str().map(str::to_owned),
            exact["anchorId"].as_str().map(str::to_owned)
        )
    );
    assert_eq!(a["score"].as_f64(), Some(1.0));
    assert_eq!(a["block"]["text"], exact["text"]);

    let a = at(c_moved.clone()).await;
    assert_eq!(
        brief(&a),
        (
            s("MOVED"),
            Some(sec3.clone()),
            moved["anchorId"].as_str().map(str::to_owned)
        ),
        "moved from 2.4 to 3"
    );
    assert_eq!(a["score"].as_f64(), Some(1.0));
    assert_eq!(a["section"]["anchorId"], json!(sec3));

    let a = at(c_fuzzy.clone()).await;
    assert_eq!(
        brief(&a),
        (
            s("FUZZY"),
            Some(sec4.clone()),
            new_fuzzy["anchorId"].as_str().map(str::to_owned)
        )
    );
    let score = a["score"].as_f64().expect("a score");
    assert!((0.5..1.0).contains(&score), "score {score}");
    assert_eq!(a["block"]["text"], json!(new_text));

    let a = at(c_quote_kept.clone()).await;
    assert_eq!(
        brief(&a),
        (
            s("MOVED"),
            Some(sec4.clone()),
            new_fuzzy["anchorId"].as_str().map(str::to_owned)
        ),
        "the quoted words are still in the rewritten block"
    );
    assert_eq!(a["score"].as_f64(), Some(1.0));
    let (qs, qe) = (
        a["quoteStart"].as_i64().expect("start") as usize,
        a["quoteEnd"].as_i64().expect("end") as usize,
    );
    let words: String = new_text.chars().skip(qs).take(qe - qs).collect();
    assert_eq!(words, "the validation workshop");
    assert_ne!(
        qs as i64, kept_start,
        "the words shifted (\"three and six\")"
    );

    let a = at(c_quote_lost.clone()).await;
    assert_eq!(
        brief(&a),
        (
            s("FUZZY"),
            Some(sec4.clone()),
            new_fuzzy["anchorId"].as_str().map(str::to_owned)
        ),
        "the quoted words are gone; the block is similar"
    );
    assert_eq!(a["score"].as_f64(), Some(score));
    assert!(a["quoteStart"].is_null() && a["quoteEnd"].is_null());

    let a = at(c_gone.clone()).await;
    assert_eq!(
        brief(&a),
        (s("ORPHANED"), Some(sec3.clone()), None),
        "falls back to its section"
    );
    assert!(a["score"].is_null() && a["block"].is_null());
    assert_eq!(a["section"]["anchorId"], json!(sec3));

    for c in [&c_sec5_block, &c_sec5] {
        let a = at(c.clone()).await;
        assert_eq!(
            brief(&a),
            (s("ORPHANED"), None, None),
            "falls back to the document"
        );
        assert!(a["score"].is_null() && a["section"].is_null());
    }

    // The revision's carried comments, in its document order.
    let (total, nodes) = f.carried(&f.rapporteur, &rev2_id, Value::Null).await;
    assert_eq!(total, 9);
    let order: Vec<String> = nodes
        .iter()
        .map(|n| n["comment"]["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(
        order,
        vec![
            c_sec5_block.clone(),
            c_sec5.clone(),
            c_doc.clone(),
            c_exact.clone(),
            c_gone.clone(),
            c_moved.clone(),
            c_fuzzy.clone(),
            c_quote_lost.clone(),
            c_quote_kept.clone(),
        ]
    );
    let by_id: BTreeMap<String, Value> = nodes
        .iter()
        .map(|n| {
            (
                n["comment"]["id"].as_str().expect("id").to_owned(),
                n["anchor"].clone(),
            )
        })
        .collect();
    assert_eq!(
        by_id[&c_fuzzy],
        at(c_fuzzy.clone()).await,
        "the same projection"
    );
    let count = |token: String, filter: Value| {
        let r = rev2_id.clone();
        async move { f.carried(&token, &r, filter).await.0 }
    };
    let r = || f.rapporteur.clone();
    assert_eq!(count(r(), json!({ "status": "ORPHANED" })).await, 3);
    assert_eq!(count(r(), json!({ "status": "FUZZY" })).await, 2);
    assert_eq!(count(r(), json!({ "status": "MOVED" })).await, 2);
    assert_eq!(count(r(), json!({ "status": "EXACT" })).await, 2);

    // Filtering by disposition shows only what the viewer may see of them.
    f.set_ok(&f.rapporteur, &c_gone, "REJECTED", Some("Deleted."), None)
        .await;
    f.set_ok(&f.rapporteur, &c_fuzzy, "REJECTED", Some("No."), None)
        .await;
    f.set_ok(&f.rapporteur, &c_doc, "ACCEPTED", None, None)
        .await;
    assert_eq!(count(r(), json!({ "disposition": "REJECTED" })).await, 2);
    assert_eq!(
        count(
            r(),
            json!({ "disposition": "REJECTED", "status": "ORPHANED" })
        )
        .await,
        1
    );
    assert_eq!(count(r(), json!({ "disposition": "NOTED" })).await, 0);
    assert_eq!(
        count(f.kenya.clone(), json!({ "disposition": "REJECTED" })).await,
        0,
        "a member, before the close"
    );
    assert_eq!(
        count(f.kenya.clone(), Value::Null).await,
        9,
        "an OPEN cycle"
    );

    // A comment arriving on revision 1 after revision 2 is carried at once.
    let c_late = f.on_block(&f.kenya, &cycle, &exact, "after rev 2").await;
    let a = at(c_late.clone()).await;
    assert_eq!(
        brief(&a),
        (
            s("EXACT"),
            exact["sectionAnchorId"].as_str().map(str::to_owned),
            exact["anchorId"].as_str().map(str::to_owned)
        )
    );
    assert_eq!(count(r(), Value::Null).await, 10);

    f.s.clock.advance(Duration::days(14));
    assert_eq!(
        count(f.kenya.clone(), json!({ "disposition": "REJECTED" })).await,
        2,
        "a member, after the close"
    );

    // anchorIn: null for an earlier revision and for another module's.
    let (_, other_rev) = f.other_module().await;
    assert!(f
        .anchor_in(&f.rapporteur, &c_exact, &other_rev)
        .await
        .is_null());
    let cycle2 = f.open_on(&rev2_id, "OPEN", f.s.clock_now(), 14).await;
    let on2 = f
        .on_block(&f.kenya, &cycle2, &new_fuzzy, "on revision 2")
        .await;
    assert!(f.anchor_in(&f.kenya, &on2, &rev1).await.is_null());
    assert_eq!(
        f.anchor_in(&f.kenya, &on2, &rev2_id).await["status"],
        "EXACT"
    );
    assert_eq!(
        count(r(), Value::Null).await,
        10,
        "a revision's own comments are not carried into it"
    );
}

/// Carried comments keep the visibility of their cycle: a SEALED cycle's
/// other organizations stay hidden until the close, drafts stay their
/// author's, and addressed comments in a diff are filtered the same way.
async fn carried_comments_respect_visibility(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open_now("SEALED").await;
    let rev1 = f.revision.clone();
    let exact = f.block(&rev1, P_EXACT).await;
    let fuzzy = f.block(&rev1, P_FUZZY).await;
    let kb = f.on_block(&f.kenya, &cycle, &exact, "Kenya").await;
    let fb = f.on_block(&f.france, &cycle, &exact, "France").await;
    let kd = f
        .draft(
            &f.kenya,
            &cycle,
            json!({ "kind": "BLOCK", "blockAnchorId": fuzzy["anchorId"] }),
        )
        .await;
    f.set_ok(&f.rapporteur, &kb, "REJECTED", Some("No."), None)
        .await;
    // Revision 2 while the cycle still runs, addressing France's comment.
    let rev2_id = f.create_revision_ok(&rev2(), &rev1, &[&fb]).await;

    let seen = |token: String, filter: Value| {
        let r = rev2_id.clone();
        async move {
            let (total, nodes) = f.carried(&token, &r, filter).await;
            let found: BTreeSet<String> = nodes
                .iter()
                .map(|n| n["comment"]["id"].as_str().expect("id").to_owned())
                .collect();
            assert_eq!(total as usize, found.len(), "totalCount matches the list");
            found
        }
    };
    let set = |v: &[&String]| v.iter().map(|s| (*s).clone()).collect::<BTreeSet<String>>();
    assert_eq!(seen(f.kenya.clone(), Value::Null).await, set(&[&kb, &kd]));
    assert_eq!(seen(f.kenya2.clone(), Value::Null).await, set(&[&kb]));
    assert_eq!(seen(f.france.clone(), Value::Null).await, set(&[&fb]));
    assert_eq!(
        seen(f.other_rapporteur.clone(), Value::Null).await,
        set(&[])
    );
    assert_eq!(
        seen(f.rapporteur.clone(), Value::Null).await,
        set(&[&kb, &fb])
    );
    assert_eq!(seen(f.admin.clone(), Value::Null).await, set(&[&kb, &fb]));
    assert_eq!(
        seen(f.kenya.clone(), json!({ "status": "EXACT" })).await,
        set(&[&kb])
    );
    assert_eq!(
        seen(f.kenya.clone(), json!({ "status": "FUZZY" })).await,
        set(&[&kd]),
        "a draft is carried, for its author"
    );
    assert_eq!(
        seen(f.rapporteur.clone(), json!({ "status": "FUZZY" })).await,
        set(&[])
    );
    assert_eq!(
        seen(f.kenya.clone(), json!({ "disposition": "REJECTED" })).await,
        set(&[]),
        "no disposition before the close, not even through a filter"
    );
    assert_eq!(
        seen(f.rapporteur.clone(), json!({ "disposition": "REJECTED" })).await,
        set(&[&kb])
    );
    assert_eq!(
        f.anchor_in(&f.kenya, &fb, &rev2_id).await,
        Value::Null,
        "France's comment is not Kenya's to see"
    );
    assert_eq!(
        f.anchor_in(&f.kenya, &kd, &rev2_id).await["status"],
        "FUZZY"
    );
    assert!(f.anchor_in(&f.kenya2, &kd, &rev2_id).await.is_null());

    // The diff lists the addressed comment only for those who may see it.
    let diff_ids = |token: String| async move {
        let diff =
            f.s.ok(Some(&token), DIFF, json!({ "m": f.module })).await["node"]["diff"].clone();
        let in_blocks: Vec<String> = diff["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .flat_map(|s| s["blocks"].as_array().cloned().unwrap_or_default())
            .flat_map(|b| ids(&b["addressedComments"]))
            .collect();
        (ids(&diff["addressedComments"]), in_blocks)
    };
    assert_eq!(diff_ids(f.kenya.clone()).await, (vec![], vec![]));
    assert_eq!(
        diff_ids(f.rapporteur.clone()).await,
        (vec![fb.clone()], vec![fb.clone()])
    );
    assert_eq!(
        diff_ids(f.france.clone()).await,
        (vec![fb.clone()], vec![fb.clone()])
    );

    // After the close every submitted comment shows; drafts still do not.
    f.s.clock.advance(Duration::days(14));
    assert_eq!(
        seen(f.kenya.clone(), Value::Null).await,
        set(&[&kb, &fb, &kd])
    );
    assert_eq!(seen(f.kenya2.clone(), Value::Null).await, set(&[&kb, &fb]));
    assert_eq!(
        seen(f.france.clone(), json!({ "disposition": "REJECTED" })).await,
        set(&[&kb])
    );
    assert_eq!(
        f.anchor_in(&f.kenya, &fb, &rev2_id).await["status"],
        "EXACT"
    );
    assert_eq!(
        diff_ids(f.kenya.clone()).await,
        (vec![fb.clone()], vec![fb.clone()])
    );
}

/// Decisions on one comment sent at the same moment: the history stays one
/// chain (each change starts where the previous one ended).
async fn concurrent_decisions_keep_one_history(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open_now("OPEN").await;
    let send = |token: String, vars: Value| f.s.spawn_gql(&token, SET, vars);

    let a = f.on_document(&f.kenya, &cycle, "A").await;
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let token = [&f.rapporteur, &f.admin][i % 2].clone();
            send(
                token,
                json!({ "i": { "commentId": a, "kind": "NOTED", "rationale": format!("Reason {i}.") } }),
            )
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        let res = t.await.expect("join");
        match res.get("errors") {
            None => ok += 1,
            Some(_) => assert_eq!(code(&res), "CONFLICT", "{res}"),
        }
    }
    assert!(ok >= 1);
    let q = "query($id: ID!) { node(id: $id) { ... on Comment { disposition { rationale history { before { rationale } after { rationale } } } } } }";
    let d = f.s.ok(Some(&f.rapporteur), q, json!({ "id": a })).await["node"]["disposition"].clone();
    let h = d["history"].as_array().expect("history");
    assert_eq!(h.len(), ok, "one change per decision applied: {d:#}");
    assert!(h[0]["before"].is_null(), "{d:#}");
    for w in h.windows(2) {
        assert_eq!(
            w[1]["before"], w[0]["after"],
            "each change starts where the previous ended: {d:#}"
        );
    }
    assert_eq!(h[h.len() - 1]["after"]["rationale"], d["rationale"]);
}

/// Two comments declared duplicates of each other at the same moment: at
/// most one of the two decisions may stand, or they would form a loop.
async fn concurrent_duplicates_form_no_loop(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open_now("OPEN").await;
    let send = |token: String, vars: Value| f.s.spawn_gql(&token, SET, vars);

    for round in 0..5 {
        let x = f.on_document(&f.kenya, &cycle, &format!("x{round}")).await;
        let y = f.on_document(&f.france, &cycle, &format!("y{round}")).await;
        let one = send(
            f.rapporteur.clone(),
            json!({ "i": { "commentId": x, "kind": "DUPLICATE", "rationale": "Same.", "duplicateOfId": y } }),
        );
        let two = send(
            f.admin.clone(),
            json!({ "i": { "commentId": y, "kind": "DUPLICATE", "rationale": "Same.", "duplicateOfId": x } }),
        );
        let (one, two) = (one.await.expect("join"), two.await.expect("join"));
        let applied = [&one, &two]
            .iter()
            .filter(|r| r.get("errors").is_none())
            .count();
        assert!(
            applied <= 1,
            "round {round}: a loop was stored: {one} {two}"
        );
        let kinds = (
            f.kind_seen(&f.rapporteur, &x).await,
            f.kind_seen(&f.rapporteur, &y).await,
        );
        assert_ne!(
            kinds,
            (Some("DUPLICATE".to_owned()), Some("DUPLICATE".to_owned())),
            "round {round}: x and y duplicate each other"
        );
    }
}

const SET_VERSIONED: &str = "mutation($i: SetDispositionInput!) { setDisposition(input: $i) { comment { id dispositionVersion disposition { kind rationale } } } }";
const VERSIONS: &str = "query($id: ID!) { node(id: $id) { ... on Comment { number dispositionVersion disposition { rationale decidedBy { displayName } history { after { rationale } } } } } }";

impl Fx {
    /// The comment as the rapporteur sees it: number, version, disposition.
    async fn versioned(&self, comment: &str) -> Value {
        self.s
            .ok(Some(&self.rapporteur), VERSIONS, json!({ "id": comment }))
            .await["node"]
            .clone()
    }

    /// `setDisposition` NOTED with this rationale, on `expected` (if any).
    async fn note(
        &self,
        token: &str,
        comment: &str,
        rationale: &str,
        expected: Option<i64>,
    ) -> Value {
        self.s
            .gql(
                Some(token),
                SET_VERSIONED,
                json!({ "i": { "commentId": comment, "kind": "NOTED", "rationale": rationale, "expectedVersion": expected } }),
            )
            .await
    }
}

/// `Comment.dispositionVersion` counts the changes; a decision made on an
/// older version is refused (CONFLICT, naming who changed it) and stores nothing.
async fn stale_decisions_are_refused(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open_now("OPEN").await;
    let a = f.on_document(&f.kenya, &cycle, "A").await;
    assert_eq!(f.versioned(&a).await["dispositionVersion"], 0);

    // Version 0 -> 1.
    let res = f.note(&f.rapporteur, &a, "First.", Some(0)).await;
    assert!(res.get("errors").is_none(), "{res}");
    assert_eq!(
        res["data"]["setDisposition"]["comment"]["dispositionVersion"],
        1
    );
    // The same decision again changes nothing, and keeps the version.
    let res = f.note(&f.rapporteur, &a, "First.", Some(1)).await;
    assert!(res.get("errors").is_none(), "{res}");
    assert_eq!(
        res["data"]["setDisposition"]["comment"]["dispositionVersion"],
        1
    );

    // The secretariat changes it (version 2) while the rapporteur still has 1.
    let res = f.note(&f.admin, &a, "Second.", Some(1)).await;
    assert!(res.get("errors").is_none(), "{res}");
    let before = f.versioned(&a).await;
    assert_eq!(before["dispositionVersion"], 2, "{before}");
    let res = f.note(&f.rapporteur, &a, "Stale.", Some(1)).await;
    assert_eq!(code(&res), "CONFLICT", "{res}");
    assert_eq!(field(&res), "expectedVersion", "{res}");
    let who = before["disposition"]["decidedBy"]["displayName"]
        .as_str()
        .expect("name");
    let message = res["errors"][0]["message"].as_str().expect("message");
    let number = before["number"].as_i64().expect("number");
    assert!(
        message.starts_with(&format!("comment No. {number} was changed by {who} at ")),
        "{message}"
    );
    assert!(
        message.ends_with("since you loaded it (version 2, you had 1); reload it and decide again"),
        "{message}"
    );
    assert_eq!(f.versioned(&a).await, before, "nothing changed");
    assert_eq!(
        before["disposition"]["history"].as_array().map(Vec::len),
        Some(2)
    );
    // A version never read is stale too; a negative one is not a version.
    let res = f.note(&f.rapporteur, &a, "Ahead.", Some(3)).await;
    assert_eq!(code(&res), "CONFLICT", "{res}");
    let res = f.note(&f.rapporteur, &a, "Negative.", Some(-1)).await;
    assert_eq!(code(&res), "VALIDATION", "{res}");
    assert_eq!(field(&res), "expectedVersion", "{res}");

    // On the current version it goes through; omitted, it always does.
    let res = f.note(&f.rapporteur, &a, "Third.", Some(2)).await;
    assert!(res.get("errors").is_none(), "{res}");
    let res = f.note(&f.admin, &a, "Fourth.", None).await;
    assert!(res.get("errors").is_none(), "{res}");
    let after = f.versioned(&a).await;
    assert_eq!(after["dispositionVersion"], 4, "{after}");
    assert_eq!(after["disposition"]["rationale"], "Fourth.");
    assert_eq!(
        after["disposition"]["history"].as_array().map(Vec::len),
        Some(4)
    );

    // A member does not see the provisional disposition, nor its version.
    let q = "query($id: ID!) { node(id: $id) { ... on Comment { dispositionVersion } } }";
    let seen = f.s.ok(Some(&f.kenya), q, json!({ "id": a })).await;
    assert_eq!(seen["node"]["dispositionVersion"], 0, "{seen}");
    // Nor can they probe it: no version is compared for who may not decide.
    let res = f.note(&f.kenya, &a, "Probe.", Some(0)).await;
    assert_eq!(code(&res), "FORBIDDEN", "{res}");

    // In a list of comments, each has its own version.
    let q = "query($c: ID!) { node(id: $c) { ... on ReviewCycle { comments(first: 50) { edges { node { id dispositionVersion } } } } } }";
    let b_ = f.on_document(&f.france, &cycle, "B").await;
    let list = f.s.ok(Some(&f.rapporteur), q, json!({ "c": cycle })).await;
    let versions: BTreeMap<String, i64> = list["node"]["comments"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|e| {
            (
                e["node"]["id"].as_str().expect("id").to_owned(),
                e["node"]["dispositionVersion"].as_i64().expect("version"),
            )
        })
        .collect();
    assert_eq!(versions.get(&a), Some(&4), "{list}");
    assert_eq!(versions.get(&b_), Some(&0), "{list}");
}

/// A batch with one stale row applies nothing, and names that row.
async fn a_stale_row_fails_the_batch(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open_now("OPEN").await;
    let a = f.on_document(&f.kenya, &cycle, "A").await;
    let b_ = f.on_document(&f.france, &cycle, "B").await;
    let c = f.on_document(&f.kenya2, &cycle, "C").await;
    let res = f.note(&f.rapporteur, &b_, "First.", Some(0)).await;
    assert!(res.get("errors").is_none(), "{res}");
    let res = f.note(&f.admin, &b_, "Second.", None).await;
    assert!(res.get("errors").is_none(), "{res}");
    let before = f.versioned(&b_).await;
    let many = |items: Value| async move {
        f.s.gql(
            Some(&f.rapporteur),
            SET_MANY,
            json!({ "i": { "dispositions": items } }),
        )
        .await
    };
    let res = many(json!([
        { "commentId": a, "kind": "ACCEPTED", "expectedVersion": 0 },
        { "commentId": b_, "kind": "ACCEPTED", "expectedVersion": 1 },
        { "commentId": c, "kind": "ACCEPTED" },
    ]))
    .await;
    assert_eq!(code(&res), "CONFLICT", "{res}");
    assert_eq!(field(&res), "dispositions[1].expectedVersion", "{res}");
    let number = before["number"].as_i64().expect("number");
    let message = res["errors"][0]["message"].as_str().expect("message");
    assert!(
        message.starts_with(&format!("comment No. {number} was changed by ")),
        "{message}"
    );
    assert!(message.contains("(version 2, you had 1)"), "{message}");
    for id in [&a, &c] {
        assert!(
            f.disposition(&f.rapporteur, id).await.is_null(),
            "nothing applied"
        );
        assert_eq!(f.versioned(id).await["dispositionVersion"], 0);
    }
    assert_eq!(f.versioned(&b_).await, before);
    // With the current versions, all go through.
    let res = many(json!([
        { "commentId": a, "kind": "ACCEPTED", "expectedVersion": 0 },
        { "commentId": b_, "kind": "ACCEPTED", "expectedVersion": 2 },
        { "commentId": c, "kind": "ACCEPTED" },
    ]))
    .await;
    assert!(res.get("errors").is_none(), "{res}");
    for (id, v) in [(&a, 1), (&b_, 3), (&c, 1)] {
        assert_eq!(f.versioned(id).await["dispositionVersion"], v);
    }
}

/// Saves on the same version at the same moment: exactly one succeeds, the
/// others are told it changed (the check is made in the writing transaction).
async fn concurrent_saves_on_one_version(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open_now("OPEN").await;
    for round in 0..4 {
        let a = f.on_document(&f.kenya, &cycle, &format!("A{round}")).await;
        let expected = if round % 2 == 0 {
            0
        } else {
            let res = f.note(&f.rapporteur, &a, "Start.", None).await;
            assert!(res.get("errors").is_none(), "{res}");
            1
        };
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let token = [&f.rapporteur, &f.admin][i % 2].clone();
                f.s.spawn_gql(
                    &token,
                    SET_VERSIONED,
                    json!({ "i": { "commentId": a, "kind": "NOTED", "rationale": format!("Reason {i}."), "expectedVersion": expected } }),
                )
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            let res = t.await.expect("join");
            match res.get("errors") {
                None => ok += 1,
                Some(_) => {
                    assert_eq!(code(&res), "CONFLICT", "{res}");
                    assert_eq!(field(&res), "expectedVersion", "{res}");
                }
            }
        }
        assert_eq!(
            ok, 1,
            "round {round}: exactly one save on version {expected}"
        );
        let now = f.versioned(&a).await;
        assert_eq!(now["dispositionVersion"], expected + 1, "{now}");
        assert_eq!(
            now["disposition"]["history"].as_array().map(Vec::len),
            Some(expected as usize + 1)
        );
    }
}

backend_tests!(
    dispositions_follow_the_rules,
    only_rapporteurs_and_the_secretariat_decide,
    dispositions_are_provisional_until_the_close,
    batches_are_all_or_nothing,
    progress_counts_every_comment_the_viewer_may_see,
    consolidation_needs_every_decision,
    the_consolidated_table_follows_the_document,
    the_consolidated_table_counts_its_rows,
    revisions_address_comments,
    a_batch_naming_a_comment_twice_stays_consistent,
    concurrent_decisions_keep_one_history,
    concurrent_duplicates_form_no_loop,
    comments_are_carried_into_the_next_revision,
    carried_comments_respect_visibility,
    stale_decisions_are_refused,
    a_stale_row_fails_the_batch,
    concurrent_saves_on_one_version,
);
