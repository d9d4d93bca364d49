//! Review cycles and comments: the clock, the lifecycle, anchors, numbering,
//! visibility on every read path, threads, late comments, N+1, and who may do what.

use chrono::Duration;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::committee::Committee;
use crate::common::{code, t0, Backend};

/// The shared committee, with this file's helpers.
struct Review(Committee);

impl std::ops::Deref for Review {
    type Target = Committee;
    fn deref(&self) -> &Committee {
        &self.0
    }
}

async fn setup(b: Backend) -> Option<Review> {
    Committee::start(b).await.map(Review)
}

const OPEN: &str = "mutation($i: OpenReviewCycleInput!) { openReviewCycle(input: $i) { cycle { id status visibility opensAt closesAt } } }";

impl Review {
    /// Open a cycle from `opens` for `days`; its id.
    async fn open_at(
        &self,
        visibility: &str,
        opens: chrono::DateTime<chrono::Utc>,
        days: i64,
    ) -> String {
        let body = self
            .s
            .gql(
                Some(&self.rapporteur),
                OPEN,
                json!({ "i": { "revisionId": self.revision, "title": "Comments on revision 1", "opensAt": opens.to_rfc3339(), "closesAt": (opens + Duration::days(days)).to_rfc3339(), "visibility": visibility } }),
            )
            .await;
        body["data"]["openReviewCycle"]["cycle"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned()
    }

    /// Open a cycle from `start` (days from t0) for `days`.
    async fn open_cycle(&self, visibility: &str, start_days: i64, days: i64) -> String {
        self.open_at(visibility, t0() + Duration::days(start_days), days)
            .await
    }

    async fn blocks(&self) -> Vec<Value> {
        let q = "query($r: ID!) { node(id: $r) { ... on Revision { sections { anchorId clause blocks { anchorId text } } } } }";
        let data = self
            .s
            .ok(Some(&self.kenya), q, json!({ "r": self.revision }))
            .await;
        data["node"]["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .flat_map(|s| s["blocks"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    async fn submit(&self, token: &str, cycle: &str, body: &str) -> Value {
        self.s
            .gql(
                Some(token),
                SUBMIT,
                json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": body } }),
            )
            .await
    }

    async fn submit_ok(&self, token: &str, cycle: &str, body: &str) -> Value {
        let r = self.submit(token, cycle, body).await;
        assert!(r.get("errors").is_none(), "{r}");
        r["data"]["submitComment"]["comment"].clone()
    }

    async fn list(&self, token: &str, cycle: &str) -> Value {
        let q = "query($c: ID!) { node(id: $c) { ... on ReviewCycle { comments(first: 100, orderBy: NUMBER) { totalCount nodes { id number state body organization { shortName } } } } } }";
        self.s.ok(Some(token), q, json!({ "c": cycle })).await["node"]["comments"].clone()
    }
}

const SUBMIT: &str = "mutation($i: SubmitCommentInput!) { submitComment(input: $i) { comment { id number state late type typeCode body anchor { kind sectionAnchorId blockAnchorId quote { exact start end } } organization { shortName } } } }";
const DRAFT: &str = "mutation($i: CreateCommentDraftInput!) { createCommentDraft(input: $i) { comment { id number state } } }";
const UPDATE: &str = "mutation($i: UpdateCommentInput!) { updateComment(input: $i) { comment { body edits { body editor { displayName } } } } }";
const WITHDRAW: &str =
    "mutation($c: ID!) { withdrawComment(input: {commentId: $c}) { comment { number state } } }";
const STATUS: &str = "query($c: ID!, $m: ID!) { c: node(id: $c) { ... on ReviewCycle { status } } m: node(id: $m) { ... on Module { status activeCycle { id } } } }";

async fn cycles_follow_the_clock(b: Backend) {
    let Some(r) = setup(b).await else { return };
    let r = &r;
    let cycle = r.open_cycle("OPEN", 1, 14).await;
    let status = |c: &str| {
        let (c, m) = (c.to_owned(), r.module.clone());
        async move {
            r.s.ok(Some(&r.kenya), STATUS, json!({ "c": c, "m": m }))
                .await
        }
    };
    let d = status(&cycle).await;
    assert_eq!(
        (d["c"]["status"].as_str(), d["m"]["status"].as_str()),
        (Some("SCHEDULED"), Some("DRAFTING"))
    );
    assert_eq!(d["m"]["activeCycle"]["id"], json!(cycle));
    // One scheduled or open cycle per module.
    let body = r.s.gql(Some(&r.rapporteur), OPEN, json!({ "i": { "revisionId": r.revision, "title": "Another", "opensAt": t0().to_rfc3339(), "closesAt": (t0() + Duration::days(3)).to_rfc3339(), "visibility": "OPEN" } })).await;
    assert_eq!(code(&body), "CONFLICT");
    r.s.clock.advance(Duration::days(1));
    let d = status(&cycle).await;
    assert_eq!(
        (d["c"]["status"].as_str(), d["m"]["status"].as_str()),
        (Some("OPEN"), Some("IN_REVIEW"))
    );
    // Closes at closesAt exactly, with no job running.
    r.s.clock
        .advance(Duration::days(14) - Duration::microseconds(1));
    assert_eq!(status(&cycle).await["c"]["status"], "OPEN");
    r.s.clock.advance(Duration::microseconds(1));
    let d = status(&cycle).await;
    assert_eq!(
        (d["c"]["status"].as_str(), d["m"]["status"].as_str()),
        (Some("CLOSED"), Some("DRAFTING"))
    );
    assert!(d["m"]["activeCycle"].is_null());
    let body = r.submit(&r.kenya, &cycle, "too late").await;
    assert_eq!(code(&body), "CYCLE_CLOSED");
    let ext = "mutation($c: ID!, $t: DateTime!) { extendReviewCycle(input: {cycleId: $c, closesAt: $t}) { cycle { closesAt status } } }";
    let later = (r.s.clock_now() + Duration::days(5)).to_rfc3339();
    assert_eq!(
        code(
            &r.s.gql(Some(&r.rapporteur), ext, json!({ "c": cycle, "t": later }))
                .await
        ),
        "CYCLE_CLOSED"
    );

    // A new cycle after the close: extend it, then close it early.
    let opens = r.s.clock_now();
    let body = r.s.gql(Some(&r.rapporteur), OPEN, json!({ "i": { "revisionId": r.revision, "title": "Second round", "opensAt": opens.to_rfc3339(), "closesAt": (opens + Duration::days(7)).to_rfc3339(), "visibility": "SEALED" } })).await;
    let second = body["data"]["openReviewCycle"]["cycle"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let body =
        r.s.gql(
            Some(&r.rapporteur),
            ext,
            json!({ "c": second, "t": (opens + Duration::days(3)).to_rfc3339() }),
        )
        .await;
    assert_eq!(
        code(&body),
        "VALIDATION",
        "an extension moves the close later"
    );
    let data =
        r.s.ok(
            Some(&r.rapporteur),
            ext,
            json!({ "c": second, "t": (opens + Duration::days(10)).to_rfc3339() }),
        )
        .await;
    assert_eq!(data["extendReviewCycle"]["cycle"]["status"], "OPEN");
    let close =
        "mutation($c: ID!) { closeReviewCycleNow(input: {cycleId: $c}) { cycle { status } } }";
    assert_eq!(
        code(&r.s.gql(Some(&r.kenya), close, json!({ "c": second })).await),
        "FORBIDDEN"
    );
    assert_eq!(
        r.s.ok(Some(&r.rapporteur), close, json!({ "c": second }))
            .await["closeReviewCycleNow"]["cycle"]["status"],
        "CLOSED"
    );
    assert_eq!(
        code(
            &r.s.gql(Some(&r.rapporteur), close, json!({ "c": second }))
                .await
        ),
        "CYCLE_CLOSED"
    );

    // Bad periods and roles.
    for (opens, closes, field) in [(0, 0, "closesAt"), (-10, -5, "closesAt")] {
        let o = r.s.clock_now() + Duration::days(opens);
        let body = r.s.gql(Some(&r.rapporteur), OPEN, json!({ "i": { "revisionId": r.revision, "title": "Bad", "opensAt": o.to_rfc3339(), "closesAt": (r.s.clock_now() + Duration::days(closes)).to_rfc3339(), "visibility": "OPEN" } })).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let body = r.s.gql(Some(&r.kenya), OPEN, json!({ "i": { "revisionId": r.revision, "title": "Mine", "opensAt": t0().to_rfc3339(), "closesAt": (r.s.clock_now() + Duration::days(3)).to_rfc3339(), "visibility": "OPEN" } })).await;
    assert_eq!(code(&body), "FORBIDDEN");
}

async fn comments_live_draft_submitted_withdrawn(b: Backend) {
    let Some(r) = setup(b).await else { return };
    let r = &r;
    let cycle = r.open_cycle("OPEN", 0, 14).await;
    let draft = r
        .s
        .ok(Some(&r.kenya), DRAFT, json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "EDITORIAL", "body": "Typo in the title.", "language": "en" } }))
        .await["createCommentDraft"]["comment"]
        .clone();
    assert_eq!(
        (draft["state"].as_str(), draft["number"].is_null()),
        (Some("DRAFT"), true)
    );
    let draft_id = draft["id"].as_str().expect("id").to_owned();
    // Drafts are their author's alone: not a colleague's, not the rapporteur's.
    let node = "query($id: ID!) { node(id: $id) { ... on Comment { id body } } }";
    for t in [&r.kenya2, &r.rapporteur, &r.france, &r.admin] {
        assert!(r.s.ok(Some(t), node, json!({ "id": draft_id })).await["node"].is_null());
        assert_eq!(r.list(t, &cycle).await["totalCount"], 0);
    }
    assert_eq!(r.list(&r.kenya, &cycle).await["totalCount"], 1);
    // Only its author submits it; it takes number 1.
    assert_eq!(
        code(
            &r.s.gql(
                Some(&r.kenya2),
                SUBMIT,
                json!({ "i": { "commentId": draft_id } })
            )
            .await
        ),
        "NOT_FOUND"
    );
    let c1 =
        r.s.ok(
            Some(&r.kenya),
            SUBMIT,
            json!({ "i": { "commentId": draft_id } }),
        )
        .await["submitComment"]["comment"]
            .clone();
    assert_eq!(
        (
            c1["number"].as_i64(),
            c1["state"].as_str(),
            c1["typeCode"].as_str()
        ),
        (Some(1), Some("SUBMITTED"), Some("ed"))
    );
    assert_eq!(
        code(
            &r.s.gql(
                Some(&r.kenya),
                SUBMIT,
                json!({ "i": { "commentId": draft_id } })
            )
            .await
        ),
        "CONFLICT"
    );
    let c2 = r
        .submit_ok(&r.france, &cycle, "Please define e-government.")
        .await;
    assert_eq!(c2["number"], 2);

    // A colleague of the same organization may edit; every edit is kept.
    let data =
        r.s.ok(
            Some(&r.kenya2),
            UPDATE,
            json!({ "i": { "commentId": draft_id, "body": "Typo in the title (\"goverment\")." } }),
        )
        .await;
    assert_eq!(
        data["updateComment"]["comment"]["body"],
        "Typo in the title (\"goverment\")."
    );
    let data =
        r.s.ok(
            Some(&r.kenya),
            UPDATE,
            json!({ "i": { "commentId": draft_id, "body": "Third wording." } }),
        )
        .await;
    let edits = data["updateComment"]["comment"]["edits"]
        .as_array()
        .expect("edits")
        .clone();
    assert_eq!(edits.len(), 2);
    assert_eq!(edits[0]["body"], "Typo in the title.");
    assert_eq!(edits[0]["editor"]["displayName"], "Test otieno@example.ke");
    assert_eq!(edits[1]["body"], "Typo in the title (\"goverment\").");
    assert_eq!(edits[1]["editor"]["displayName"], "Test wanjiru@example.ke");
    // Another organization may not.
    assert_eq!(
        code(
            &r.s.gql(
                Some(&r.france),
                UPDATE,
                json!({ "i": { "commentId": draft_id, "body": "Hijack" } })
            )
            .await
        ),
        "FORBIDDEN"
    );
    assert_eq!(
        code(
            &r.s.gql(Some(&r.france), WITHDRAW, json!({ "c": draft_id }))
                .await
        ),
        "FORBIDDEN"
    );
    // Withdrawn, the comment keeps its number, and takes no more edits.
    let data =
        r.s.ok(Some(&r.kenya2), WITHDRAW, json!({ "c": draft_id }))
            .await;
    assert_eq!(
        data["withdrawComment"]["comment"],
        json!({ "number": 1, "state": "WITHDRAWN" })
    );
    assert_eq!(
        code(
            &r.s.gql(
                Some(&r.kenya),
                UPDATE,
                json!({ "i": { "commentId": draft_id, "body": "again" } })
            )
            .await
        ),
        "CONFLICT"
    );
    let c3 = r.submit_ok(&r.kenya, &cycle, "Next one.").await;
    assert_eq!(c3["number"], 3, "numbers are never reused");

    // Drafts can be deleted; submitted comments cannot.
    let d2 = r.s.ok(Some(&r.kenya), DRAFT, json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": "scratch" } })).await["createCommentDraft"]["comment"]["id"].clone();
    let del =
        "mutation($c: ID!) { deleteCommentDraft(input: {commentId: $c}) { deletedCommentId } }";
    assert_eq!(
        code(&r.s.gql(Some(&r.kenya), del, json!({ "c": c3["id"] })).await),
        "VALIDATION"
    );
    r.s.ok(Some(&r.kenya), del, json!({ "c": d2 })).await;

    // After the close: CYCLE_CLOSED for everything that changes a comment.
    r.s.clock.advance(Duration::days(14));
    let c3id = c3["id"].clone();
    assert_eq!(
        code(
            &r.s.gql(
                Some(&r.kenya),
                UPDATE,
                json!({ "i": { "commentId": c3id, "body": "late edit" } })
            )
            .await
        ),
        "CYCLE_CLOSED"
    );
    assert_eq!(
        code(
            &r.s.gql(Some(&r.kenya), WITHDRAW, json!({ "c": c3id }))
                .await
        ),
        "CYCLE_CLOSED"
    );
    assert_eq!(
        code(&r.submit(&r.kenya, &cycle, "late").await),
        "CYCLE_CLOSED"
    );
    let body = r.s.gql(Some(&r.kenya), DRAFT, json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": "late draft" } })).await;
    assert_eq!(code(&body), "CYCLE_CLOSED");

    // A late grant lets France (only) submit; its comments are marked late.
    let grant = "mutation($c: ID!, $o: ID!, $u: DateTime!) { grantLateSubmission(input: {cycleId: $c, organizationId: $o, until: $u}) { cycle { id } } }";
    let until = (r.s.clock_now() + Duration::days(2)).to_rfc3339();
    assert_eq!(
        code(
            &r.s.gql(
                Some(&r.france),
                grant,
                json!({ "c": cycle, "o": r.france_org, "u": until })
            )
            .await
        ),
        "FORBIDDEN"
    );
    let past = (r.s.clock_now() - Duration::days(1)).to_rfc3339();
    assert_eq!(
        code(
            &r.s.gql(
                Some(&r.rapporteur),
                grant,
                json!({ "c": cycle, "o": r.france_org, "u": past })
            )
            .await
        ),
        "VALIDATION"
    );
    r.s.ok(
        Some(&r.rapporteur),
        grant,
        json!({ "c": cycle, "o": r.france_org, "u": until }),
    )
    .await;
    let late = r.submit_ok(&r.france, &cycle, "Sorry for the delay.").await;
    assert_eq!(
        (late["number"].as_i64(), late["late"].as_bool()),
        (Some(4), Some(true))
    );
    assert_eq!(
        code(&r.submit(&r.kenya, &cycle, "me too").await),
        "CYCLE_CLOSED"
    );
    let q = "query($c: ID!) { node(id: $c) { ... on ReviewCycle { viewerCanComment comments(filter: {late: true}) { totalCount } } } }";
    assert_eq!(
        r.s.ok(Some(&r.france), q, json!({ "c": cycle })).await["node"],
        json!({ "viewerCanComment": true, "comments": { "totalCount": 1 } })
    );
    assert_eq!(
        r.s.ok(Some(&r.kenya), q, json!({ "c": cycle })).await["node"]["viewerCanComment"],
        false
    );
    r.s.clock.advance(Duration::days(2));
    assert_eq!(
        code(&r.submit(&r.france, &cycle, "too late now").await),
        "CYCLE_CLOSED"
    );
}

async fn anchors_are_checked(b: Backend) {
    let Some(r) = setup(b).await else { return };
    let r = &r;
    let cycle = r.open_cycle("OPEN", 0, 14).await;
    let blocks = r.blocks().await;
    let governance = blocks
        .iter()
        .find(|b| {
            b["text"]
                .as_str()
                .unwrap_or("")
                .starts_with("The assessment should identify the lead agency for e-government")
        })
        .expect("the 2.3 paragraph");
    let block = governance["anchorId"].as_str().expect("anchor").to_owned();
    let text = governance["text"].as_str().expect("text").to_owned();
    let quote = |exact: &str, prefix: Option<&str>| json!({ "kind": "QUOTE", "blockAnchorId": block, "quote": { "exact": exact, "prefix": prefix } });
    let submit = |anchor: Value, body: &str, language: Option<&str>| {
        let vars = json!({ "i": { "cycleId": cycle, "anchor": anchor, "type": "TECHNICAL", "body": body, "language": language } });
        async move { r.s.gql(Some(&r.kenya), SUBMIT, vars).await }
    };
    let before = r.list(&r.rapporteur, &cycle).await["totalCount"].as_i64();
    let cases = [
        (
            json!({ "kind": "SECTION", "sectionAnchorId": "sec-9-99" }),
            "x".to_owned(),
            None,
            "anchor.sectionAnchorId",
            "",
        ),
        (
            json!({ "kind": "BLOCK", "blockAnchorId": "blk-9-99" }),
            "x".to_owned(),
            None,
            "anchor.blockAnchorId",
            "",
        ),
        (
            json!({ "kind": "BLOCK" }),
            "x".to_owned(),
            None,
            "anchor.blockAnchorId",
            "",
        ),
        (
            quote("a phrase that is not there", None),
            "x".to_owned(),
            None,
            "anchor.quote",
            "not in this block",
        ),
        (
            quote("the lead agency for e-government", None),
            "x".to_owned(),
            None,
            "anchor.quote",
            "ambiguous",
        ),
        (
            json!({ "kind": "DOCUMENT" }),
            "y".repeat(64 * 1024 + 1),
            None,
            "body",
            "",
        ),
        (
            json!({ "kind": "DOCUMENT" }),
            "   ".to_owned(),
            None,
            "body",
            "",
        ),
        (
            json!({ "kind": "DOCUMENT" }),
            "ok".to_owned(),
            Some("not a language!"),
            "language",
            "",
        ),
    ];
    for (anchor, body, lang, field, msg) in cases {
        let res = submit(anchor.clone(), &body, lang).await;
        assert_eq!(code(&res), "VALIDATION", "{anchor}: {res}");
        assert_eq!(res["errors"][0]["extensions"]["field"], field, "{anchor}");
        assert!(
            res["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains(msg),
            "{res}"
        );
    }
    assert_eq!(
        r.list(&r.rapporteur, &cycle).await["totalCount"].as_i64(),
        before,
        "nothing was written"
    );
    // A prefix tells the two occurrences apart; offsets are in characters.
    let second = text
        .match_indices("the lead agency for e-government")
        .nth(1)
        .map(|(i, _)| text[..i].chars().count())
        .expect("twice");
    let prefix: String = text
        .chars()
        .take(second)
        .collect::<String>()
        .chars()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let res = submit(
        quote("the lead agency for e-government", Some(&prefix)),
        "Name the agency.",
        Some("en"),
    )
    .await;
    let c = &res["data"]["submitComment"]["comment"];
    assert_eq!(
        c["anchor"]["quote"]["start"].as_i64(),
        Some(second as i64),
        "{res}"
    );
    assert_eq!(c["anchor"]["kind"], "QUOTE");
    assert!(c["anchor"]["sectionAnchorId"].is_string());
    // Sections, blocks, the document.
    let section =
        r.s.ok(
            Some(&r.kenya),
            "query($r: ID!) { node(id: $r) { ... on Revision { sections { anchorId clause } } } }",
            json!({ "r": r.revision }),
        )
        .await["node"]["sections"][3]["anchorId"]
            .clone();
    r.s.ok(Some(&r.kenya), SUBMIT, json!({ "i": { "cycleId": cycle, "anchor": { "kind": "SECTION", "sectionAnchorId": section }, "type": "GENERAL", "body": "On the whole section" } })).await;
    r.s.ok(Some(&r.kenya), SUBMIT, json!({ "i": { "cycleId": cycle, "anchor": { "kind": "BLOCK", "blockAnchorId": block }, "type": "GENERAL", "body": "On the paragraph" } })).await;
    r.submit_ok(&r.kenya, &cycle, "On the document").await;
    // Document order: the document-level comment first, then section 3, its block, the quote.
    let q = "query($c: ID!) { node(id: $c) { ... on ReviewCycle { comments(orderBy: DOCUMENT_ORDER) { nodes { body } } } } }";
    let order: Vec<Value> = r.s.ok(Some(&r.rapporteur), q, json!({ "c": cycle })).await["node"]
        ["comments"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["body"].clone())
        .collect();
    assert_eq!(order[0], "On the document");
    assert_eq!(order.len(), 4);
    let q = "query($c: ID!) { node(id: $c) { ... on ReviewCycle { comments(orderBy: NUMBER) { nodes { number } } } } }";
    let nums: Vec<Value> = r.s.ok(Some(&r.rapporteur), q, json!({ "c": cycle })).await["node"]
        ["comments"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["number"].clone())
        .collect();
    assert_eq!(nums, vec![json!(1), json!(2), json!(3), json!(4)]);
}

async fn numbers_are_gap_free_under_concurrency(b: Backend) {
    let Some(r) = setup(b).await else { return };
    let r = &r;
    let cycle = r.open_cycle("OPEN", 0, 14).await;
    let tokens = [
        r.kenya.clone(),
        r.kenya2.clone(),
        r.france.clone(),
        r.rapporteur.clone(),
        r.admin.clone(),
    ];
    let mut tasks = Vec::new();
    for i in 0..100 {
        let vars = json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": format!("comment {i}") } });
        tasks.push(r.s.spawn_gql(&tokens[i % tokens.len()], SUBMIT, vars));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        let body = t.await.expect("join");
        numbers.push(
            body["data"]["submitComment"]["comment"]["number"]
                .as_i64()
                .unwrap_or_else(|| panic!("{body}")),
        );
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=100).collect::<Vec<_>>());
}

async fn sealed_cycles_hide_other_organizations_on_every_path(b: Backend) {
    let Some(r) = setup(b).await else { return };
    let r = &r;
    let cycle = r.open_cycle("SEALED", 0, 14).await;
    let blocks = r.blocks().await;
    let block = blocks[3]["anchorId"].clone();
    let ke = r.s.ok(Some(&r.kenya), SUBMIT, json!({ "i": { "cycleId": cycle, "anchor": { "kind": "BLOCK", "blockAnchorId": block }, "type": "TECHNICAL", "body": "Kenya's view" } })).await["submitComment"]["comment"].clone();
    let fr = r.s.ok(Some(&r.france), SUBMIT, json!({ "i": { "cycleId": cycle, "anchor": { "kind": "BLOCK", "blockAnchorId": block }, "type": "TECHNICAL", "body": "France's view" } })).await["submitComment"]["comment"].clone();
    // The rapporteur replies to France; that reply is hidden with its comment.
    let reply = r.s.ok(Some(&r.rapporteur), "mutation($c: ID!) { addReply(input: {commentId: $c, body: \"Noted\"}) { reply { id } } }", json!({ "c": fr["id"] })).await["addReply"]["reply"]["id"].clone();

    let paths = |token: String| {
        let (cycle, revision, fr_id, ke_id, reply) = (
            cycle.clone(),
            r.revision.clone(),
            fr["id"].clone(),
            ke["id"].clone(),
            reply.clone(),
        );
        let s = &r.s;
        async move {
            let list = s.ok(Some(&token), "query($c: ID!) { node(id: $c) { ... on ReviewCycle { comments { totalCount nodes { body } } } } }", json!({ "c": cycle })).await;
            let rev = s.ok(Some(&token), "query($r: ID!) { node(id: $r) { ... on Revision { comments { totalCount } commentCounts { sectionAnchorId count } } } }", json!({ "r": revision })).await;
            let node = s
                .ok(
                    Some(&token),
                    "query($id: ID!) { node(id: $id) { ... on Comment { body } } }",
                    json!({ "id": fr_id }),
                )
                .await;
            let nodes = s
                .ok(
                    Some(&token),
                    "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Comment { body } } }",
                    json!({ "ids": [ke_id, fr_id] }),
                )
                .await;
            let reply_node = s
                .ok(
                    Some(&token),
                    "query($id: ID!) { node(id: $id) { ... on Reply { body } } }",
                    json!({ "id": reply }),
                )
                .await;
            let add = s.gql(Some(&token), "mutation($c: ID!) { addReply(input: {commentId: $c, body: \"peek\"}) { reply { id } } }", json!({ "c": fr_id })).await;
            let counted: i64 = rev["node"]["commentCounts"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| c["count"].as_i64().unwrap_or(0))
                .sum();
            (
                list["node"]["comments"]["totalCount"].as_i64(),
                list["node"]["comments"]["nodes"].as_array().map(Vec::len),
                rev["node"]["comments"]["totalCount"].as_i64(),
                counted,
                node["node"].is_null(),
                nodes["nodes"][1].is_null(),
                reply_node["node"].is_null(),
                add.get("errors").map(|_| code(&add).to_owned()),
            )
        }
    };
    // A Kenyan delegate sees Kenya's comment only, on every path.
    assert_eq!(
        paths(r.kenya.clone()).await,
        (
            Some(1),
            Some(1),
            Some(1),
            1,
            true,
            true,
            true,
            Some("NOT_FOUND".to_owned())
        )
    );
    // The rapporteur and the secretariat see both.
    assert_eq!(paths(r.rapporteur.clone()).await.0, Some(2));
    assert_eq!(paths(r.admin.clone()).await.0, Some(2));
    // After the close, everyone does.
    r.s.clock.advance(Duration::days(14));
    let after = paths(r.kenya.clone()).await;
    assert_eq!(
        (after.0, after.2, after.3, after.4, after.6),
        (Some(2), Some(2), 2, false, false)
    );

    // An OPEN cycle shows submitted comments to everyone at once.
    let open = r.open_cycle_now("OPEN").await;
    r.submit_ok(&r.france, &open, "Visible at once").await;
    assert_eq!(r.list(&r.kenya, &open).await["totalCount"], 1);
}

/// A late grant in a SEALED cycle does not lift the seal for the granted
/// organization: it sees only its own comments, on every read path, until
/// its grant ends; then it sees all. Others see all from the close.
async fn a_late_grant_keeps_the_seal_for_its_organization(b: Backend) {
    let Some(r) = setup(b).await else { return };
    let r = &r;
    let cycle = r.open_cycle("SEALED", 0, 14).await;
    let ke = r.submit_ok(&r.kenya, &cycle, "Kenya's sealed view").await;
    r.submit_ok(&r.france, &cycle, "France's sealed view").await;
    r.s.clock.advance(Duration::days(14));
    let grant = "mutation($c: ID!, $o: ID!, $u: DateTime!) { grantLateSubmission(input: {cycleId: $c, organizationId: $o, until: $u}) { cycle { id } } }";
    let until = r.s.clock_now() + Duration::days(2);
    r.s.ok(
        Some(&r.rapporteur),
        grant,
        json!({ "c": cycle, "o": r.france_org, "u": until.to_rfc3339() }),
    )
    .await;

    // What one viewer sees of Kenya's comment: (cycle list count, revision
    // count, node, nodes, search hits, in the CSV export).
    let paths = |token: String| {
        let (cycle, revision, ke_id) = (cycle.clone(), r.revision.clone(), ke["id"].clone());
        async move {
            let list = r.list(&token, &cycle).await["totalCount"].as_i64();
            let rev = r.s.ok(Some(&token), "query($r: ID!) { node(id: $r) { ... on Revision { comments { totalCount } } } }", json!({ "r": revision })).await["node"]["comments"]["totalCount"].as_i64();
            let node =
                r.s.ok(
                    Some(&token),
                    "query($id: ID!) { node(id: $id) { ... on Comment { body } } }",
                    json!({ "id": ke_id }),
                )
                .await["node"]
                    .is_object();
            let nodes =
                r.s.ok(
                    Some(&token),
                    "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Comment { body } } }",
                    json!({ "ids": [ke_id] }),
                )
                .await["nodes"][0]
                    .is_object();
            let search =
                r.s.ok(
                    Some(&token),
                    "query($q: String!) { searchComments(query: $q) { totalCount } }",
                    json!({ "q": "sealed" }),
                )
                .await["searchComments"]["totalCount"]
                    .as_i64();
            let csv =
                r.s.http
                    .get(r.s.url(&format!("/exports/cycles/{cycle}/comments.csv")))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("request")
                    .text()
                    .await
                    .expect("text");
            (
                list,
                rev,
                node,
                nodes,
                search,
                csv.contains("Kenya's sealed view"),
            )
        }
    };
    let sealed = (Some(1), Some(1), false, false, Some(1), false);
    let unsealed = (Some(2), Some(2), true, true, Some(2), true);
    // France may still submit: it sees only its own, everywhere.
    assert_eq!(paths(r.france.clone()).await, sealed);
    // Kenya, without a grant, and the rapporteur see everything.
    assert_eq!(paths(r.kenya.clone()).await, unsealed);
    assert_eq!(paths(r.rapporteur.clone()).await, unsealed);
    // The late comment: Kenya sees it, France sees its own two.
    r.submit_ok(&r.france, &cycle, "France's late sealed view")
        .await;
    assert_eq!(r.list(&r.kenya, &cycle).await["totalCount"], 3);
    assert_eq!(r.list(&r.france, &cycle).await["totalCount"], 2);
    // Once the grant ends, France sees all.
    r.s.clock.advance(Duration::days(2) + Duration::seconds(1));
    let after = paths(r.france.clone()).await;
    assert_eq!(
        (after.0, after.1, after.2, after.3, after.4, after.5),
        (Some(3), Some(3), true, true, Some(3), true)
    );
}

impl Review {
    async fn open_cycle_now(&self, visibility: &str) -> String {
        self.open_at(visibility, self.s.clock_now(), 7).await
    }
}

async fn threads_and_filters(b: Backend) {
    let Some(r) = setup(b).await else { return };
    let r = &r;
    let cycle = r.open_cycle("OPEN", 0, 14).await;
    let c = r.submit_ok(&r.kenya, &cycle, "Clarify reach.").await;
    let add = "mutation($c: ID!, $b: String!) { addReply(input: {commentId: $c, body: $b}) { reply { id body } } }";
    let mut replies = Vec::new();
    for (t, text) in [
        (&r.france, "Agreed"),
        (&r.rapporteur, "Will do"),
        (&r.kenya2, "Thanks"),
    ] {
        replies.push(
            r.s.ok(Some(t), add, json!({ "c": c["id"], "b": text }))
                .await["addReply"]["reply"]["id"]
                .clone(),
        );
    }
    assert_eq!(
        code(
            &r.s.gql(Some(&r.france), add, json!({ "c": c["id"], "b": " " }))
                .await
        ),
        "VALIDATION"
    );
    let upd = "mutation($r: ID!, $b: String!) { updateReply(input: {replyId: $r, body: $b}) { reply { body } } }";
    assert_eq!(
        code(
            &r.s.gql(
                Some(&r.kenya),
                upd,
                json!({ "r": replies[0], "b": "not mine" })
            )
            .await
        ),
        "FORBIDDEN"
    );
    assert_eq!(
        r.s.ok(
            Some(&r.france),
            upd,
            json!({ "r": replies[0], "b": "Agreed, with a caveat" })
        )
        .await["updateReply"]["reply"]["body"],
        "Agreed, with a caveat"
    );
    let wd =
        "mutation($r: ID!) { withdrawReply(input: {replyId: $r}) { reply { body withdrawn } } }";
    assert_eq!(
        r.s.ok(Some(&r.kenya2), wd, json!({ "r": replies[2] }))
            .await["withdrawReply"]["reply"],
        json!({ "body": "", "withdrawn": true })
    );
    let q = "query($c: ID!, $a: String) { node(id: $c) { ... on Comment { viewerCanEdit viewerCanWithdraw viewerCanReply replies(first: 2, after: $a) { totalCount pageInfo { hasNextPage endCursor } nodes { body author { displayName } } } } } }";
    let data = r.s.ok(Some(&r.kenya2), q, json!({ "c": c["id"] })).await;
    let n = &data["node"];
    assert_eq!(
        (
            n["viewerCanEdit"].as_bool(),
            n["viewerCanWithdraw"].as_bool(),
            n["viewerCanReply"].as_bool()
        ),
        (Some(true), Some(true), Some(true))
    );
    assert_eq!(n["replies"]["totalCount"], 3);
    assert_eq!(n["replies"]["nodes"][0]["body"], "Agreed, with a caveat");
    let next =
        r.s.ok(
            Some(&r.kenya2),
            q,
            json!({ "c": c["id"], "a": n["replies"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        next["node"]["replies"]["nodes"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(next["node"]["replies"]["pageInfo"]["hasNextPage"], false);
    let other = r.s.ok(Some(&r.france), q, json!({ "c": c["id"] })).await;
    assert_eq!(
        (
            other["node"]["viewerCanEdit"].as_bool(),
            other["node"]["viewerCanReply"].as_bool()
        ),
        (Some(false), Some(true))
    );

    // Filters.
    r.s.ok(Some(&r.france), SUBMIT, json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "EDITORIAL", "body": "Commas." } })).await;
    let f = "query($c: ID!, $f: CommentFilterInput) { node(id: $c) { ... on ReviewCycle { comments(filter: $f) { totalCount } } } }";
    let count = |filter: Value| {
        let (cycle, token) = (cycle.clone(), r.rapporteur.clone());
        async move {
            r.s.ok(Some(&token), f, json!({ "c": cycle, "f": filter }))
                .await["node"]["comments"]["totalCount"]
                .as_i64()
        }
    };
    assert_eq!(count(json!({ "type": "EDITORIAL" })).await, Some(1));
    assert_eq!(
        count(json!({ "organizationId": r.kenya_org })).await,
        Some(1)
    );
    assert_eq!(count(json!({ "state": "SUBMITTED" })).await, Some(2));
    assert_eq!(count(json!({ "late": true })).await, Some(0));
    assert_eq!(count(json!({})).await, Some(2));
}

async fn the_cycle_page_issues_a_bounded_number_of_statements(b: Backend) {
    let Some(r) = setup(b).await else { return };
    let r = &r;
    let cycle = r.open_cycle("SEALED", 0, 14).await;
    let page = "query($c: ID!, $n: Int!) { node(id: $c) { ... on ReviewCycle { comments(first: $n) { totalCount nodes { number body author { displayName organization { shortName } } organization { shortName countryCode } anchor { kind blockAnchorId } viewerCanEdit replies(first: 10) { nodes { body author { displayName } } } } } } } }";
    let mut per_size = Vec::new();
    for (round, n) in [(0, 10), (1, 90)] {
        let already = if round == 0 { 0 } else { 10 };
        for i in already..n {
            let token = [&r.kenya, &r.france, &r.kenya2][i % 3];
            let c = r.submit_ok(token, &cycle, &format!("comment {i}")).await;
            r.s.ok(Some(&r.rapporteur), "mutation($c: ID!) { addReply(input: {commentId: $c, body: \"ok\"}) { reply { id } } }", json!({ "c": c["id"] })).await;
        }
        let before = r.s.state.db.statements();
        let data =
            r.s.ok(Some(&r.rapporteur), page, json!({ "c": cycle, "n": 100 }))
                .await;
        let used = r.s.state.db.statements() - before;
        assert_eq!(
            data["node"]["comments"]["nodes"].as_array().map(Vec::len),
            Some(n)
        );
        per_size.push(used);
    }
    // DataLoader batches form on timing, so the exact count varies by a few; what
    // matters is that 100 comments (each with author, organization and replies)
    // cost about what 10 do, not 100 statements more.
    assert!(
        per_size.iter().all(|n| *n <= 25),
        "statements: {per_size:?}"
    );
}

/// One row of the authorization table: who calls, in which cycle state, and the
/// expected result ("ok" or an error code).
async fn who_may_do_what(b: Backend) {
    let Some(r) = setup(b).await else { return };
    let r = &r;
    let roles: [(&str, Option<String>); 6] = [
        ("author", Some(r.kenya.clone())),
        ("colleague", Some(r.kenya2.clone())),
        ("other org", Some(r.france.clone())),
        ("rapporteur", Some(r.rapporteur.clone())),
        ("secretariat", Some(r.admin.clone())),
        ("anonymous", None),
    ];
    // Expected outcome per mutation, per role (in the order above), per state.
    type Row = (
        &'static str,
        [&'static str; 6],
        [&'static str; 6],
        [&'static str; 6],
    );
    let table: [Row; 8] = [
        //                         scheduled                                         open                                              closed
        (
            "createCommentDraft",
            ["ok", "ok", "ok", "ok", "ok", "UNAUTHENTICATED"],
            ["ok", "ok", "ok", "ok", "ok", "UNAUTHENTICATED"],
            [
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "UNAUTHENTICATED",
            ],
        ),
        (
            "submitComment",
            [
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "UNAUTHENTICATED",
            ],
            ["ok", "ok", "ok", "ok", "ok", "UNAUTHENTICATED"],
            [
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "UNAUTHENTICATED",
            ],
        ),
        (
            "updateComment",
            ["-", "-", "-", "-", "-", "-"],
            [
                "ok",
                "ok",
                "FORBIDDEN",
                "FORBIDDEN",
                "FORBIDDEN",
                "UNAUTHENTICATED",
            ],
            [
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "FORBIDDEN",
                "FORBIDDEN",
                "FORBIDDEN",
                "UNAUTHENTICATED",
            ],
        ),
        (
            "withdrawComment",
            ["-", "-", "-", "-", "-", "-"],
            [
                "ok",
                "ok",
                "FORBIDDEN",
                "FORBIDDEN",
                "FORBIDDEN",
                "UNAUTHENTICATED",
            ],
            [
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "FORBIDDEN",
                "FORBIDDEN",
                "FORBIDDEN",
                "UNAUTHENTICATED",
            ],
        ),
        (
            "addReply",
            ["-", "-", "-", "-", "-", "-"],
            ["ok", "ok", "ok", "ok", "ok", "UNAUTHENTICATED"],
            ["ok", "ok", "ok", "ok", "ok", "UNAUTHENTICATED"],
        ),
        (
            "extendReviewCycle",
            [
                "FORBIDDEN",
                "FORBIDDEN",
                "FORBIDDEN",
                "ok",
                "ok",
                "UNAUTHENTICATED",
            ],
            [
                "FORBIDDEN",
                "FORBIDDEN",
                "FORBIDDEN",
                "ok",
                "ok",
                "UNAUTHENTICATED",
            ],
            [
                "FORBIDDEN",
                "FORBIDDEN",
                "FORBIDDEN",
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "UNAUTHENTICATED",
            ],
        ),
        (
            "grantLateSubmission",
            [
                "FORBIDDEN",
                "FORBIDDEN",
                "FORBIDDEN",
                "ok",
                "ok",
                "UNAUTHENTICATED",
            ],
            [
                "FORBIDDEN",
                "FORBIDDEN",
                "FORBIDDEN",
                "ok",
                "ok",
                "UNAUTHENTICATED",
            ],
            [
                "FORBIDDEN",
                "FORBIDDEN",
                "FORBIDDEN",
                "ok",
                "ok",
                "UNAUTHENTICATED",
            ],
        ),
        (
            "closeReviewCycleNow",
            [
                "FORBIDDEN",
                "FORBIDDEN",
                "FORBIDDEN",
                "ok",
                "ok",
                "UNAUTHENTICATED",
            ],
            [
                "FORBIDDEN",
                "FORBIDDEN",
                "FORBIDDEN",
                "ok",
                "ok",
                "UNAUTHENTICATED",
            ],
            [
                "FORBIDDEN",
                "FORBIDDEN",
                "FORBIDDEN",
                "CYCLE_CLOSED",
                "CYCLE_CLOSED",
                "UNAUTHENTICATED",
            ],
        ),
    ];
    for (state_index, state) in ["scheduled", "open", "closed"].iter().enumerate() {
        for (mutation, sched, open, closed) in &table {
            let expected = [sched, open, closed][state_index];
            for (role_index, (role, token)) in roles.iter().enumerate() {
                let want = expected[role_index];
                if want == "-" {
                    continue;
                }
                // A fresh cycle (and, where needed, a fresh Kenyan comment) for every call.
                let cycle = r.fresh_cycle(state).await;
                let comment = r.kenyan_comment(&cycle, state).await;
                let res = r
                    .call(mutation, token.as_deref(), &cycle, comment.as_deref())
                    .await;
                let got = if res.get("errors").is_some() {
                    code(&res).to_owned()
                } else {
                    "ok".to_owned()
                };
                assert_eq!(got, want, "{mutation} by {role} in a {state} cycle: {res}");
            }
        }
    }
}

impl Review {
    /// Close every active cycle, then open one in the wanted state (OPEN visibility).
    async fn fresh_cycle(&self, state: &str) -> String {
        let q = "query($m: ID!) { node(id: $m) { ... on Module { activeCycle { id } } } }";
        let active = self
            .s
            .ok(Some(&self.rapporteur), q, json!({ "m": self.module }))
            .await["node"]["activeCycle"]["id"]
            .clone();
        if active.is_string() {
            self.s.ok(Some(&self.rapporteur), "mutation($c: ID!) { closeReviewCycleNow(input: {cycleId: $c}) { cycle { id } } }", json!({ "c": active })).await;
        }
        let now = self.s.clock_now();
        let opens = if state == "scheduled" {
            now + Duration::days(1)
        } else {
            now
        };
        self.open_at("OPEN", opens, 7).await
    }

    /// A Kenyan comment in an open cycle (closed afterwards for "closed"); none when scheduled.
    async fn kenyan_comment(&self, cycle: &str, state: &str) -> Option<String> {
        if state == "scheduled" {
            return None;
        }
        let c = self.submit_ok(&self.kenya, cycle, "A Kenyan comment").await["id"]
            .as_str()
            .map(str::to_owned);
        if state == "closed" {
            self.s.ok(Some(&self.rapporteur), "mutation($c: ID!) { closeReviewCycleNow(input: {cycleId: $c}) { cycle { id } } }", json!({ "c": cycle })).await;
        }
        c
    }

    async fn call(
        &self,
        mutation: &str,
        token: Option<&str>,
        cycle: &str,
        comment: Option<&str>,
    ) -> Value {
        let later = (self.s.clock_now() + Duration::days(30)).to_rfc3339();
        let (q, vars) = match mutation {
            "createCommentDraft" => (DRAFT, json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": "x" } })),
            "submitComment" => (SUBMIT, json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": "x" } })),
            "updateComment" => (UPDATE, json!({ "i": { "commentId": comment, "body": "edited" } })),
            "withdrawComment" => (WITHDRAW, json!({ "c": comment })),
            "addReply" => ("mutation($c: ID!) { addReply(input: {commentId: $c, body: \"re\"}) { reply { id } } }", json!({ "c": comment })),
            "extendReviewCycle" => ("mutation($c: ID!, $t: DateTime!) { extendReviewCycle(input: {cycleId: $c, closesAt: $t}) { cycle { id } } }", json!({ "c": cycle, "t": later })),
            "grantLateSubmission" => ("mutation($c: ID!, $o: ID!, $t: DateTime!) { grantLateSubmission(input: {cycleId: $c, organizationId: $o, until: $t}) { cycle { id } } }", json!({ "c": cycle, "o": self.france_org, "t": later })),
            "closeReviewCycleNow" => ("mutation($c: ID!) { closeReviewCycleNow(input: {cycleId: $c}) { cycle { id } } }", json!({ "c": cycle })),
            other => panic!("no such mutation {other}"),
        };
        self.s.gql(token, q, vars).await
    }
}

/// A quote pasted with typographic quotes, other spaces or case still finds
/// its passage and is stored as the text says it; one that is not there is
/// refused with a message that says what was tried.
async fn pasted_quotes_find_their_passage(b: Backend) {
    let Some(r) = setup(b).await else { return };
    let cycle = r.open_cycle("OPEN", 0, 14).await;
    let blocks = r.blocks().await;
    let block = blocks
        .iter()
        .find(|b| {
            b["text"]
                .as_str()
                .unwrap_or("")
                .starts_with("The assessment should identify the lead agency for e-government")
        })
        .expect("the 2.3 paragraph")["anchorId"]
        .clone();
    let submit = |exact: &str| {
        let vars = json!({ "i": { "cycleId": cycle, "type": "EDITORIAL", "body": "Pasted.",
            "anchor": { "kind": "QUOTE", "blockAnchorId": block, "quote": { "exact": exact } } } });
        let r = &r;
        async move { r.s.gql(Some(&r.kenya), SUBMIT, vars).await }
    };
    let res = submit("the  ASSESSMENT should\u{a0}identify").await;
    let quote = &res["data"]["submitComment"]["comment"]["anchor"]["quote"];
    assert_eq!(quote["exact"], "The assessment should identify", "{res}");
    assert_eq!(quote["start"], 0, "{res}");
    let res = submit("The assessment must identify").await;
    assert_eq!(
        res["errors"][0]["extensions"]["code"], "VALIDATION",
        "{res}"
    );
    let message = res["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("not even when quotes"), "{res}");
}

backend_tests!(
    pasted_quotes_find_their_passage,
    cycles_follow_the_clock,
    comments_live_draft_submitted_withdrawn,
    anchors_are_checked,
    numbers_are_gap_free_under_concurrency,
    sealed_cycles_hide_other_organizations_on_every_path,
    a_late_grant_keeps_the_seal_for_its_organization,
    threads_and_filters,
    the_cycle_page_issues_a_bounded_number_of_statements,
    who_may_do_what,
);
