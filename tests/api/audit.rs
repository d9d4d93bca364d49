//! The audit trail (`auditLog`): one event per change with who, what, when
//! and the request's id; its filters and pages; who may read it; written in
//! the change's own transaction; append-only in the database. And
//! notifications: a new revision tells the organizations that commented and
//! the module's followers.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::committee::{Committee, REV1};
use crate::common::{code, Backend, PASSWORD};
use kitreview::domain::accounts::Role;

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
    "mutation($i: SubmitCommentInput!) { submitComment(input: $i) { comment { id number } } }";
const UPDATE: &str =
    "mutation($i: UpdateCommentInput!) { updateComment(input: $i) { comment { id } } }";
const DRAFT: &str =
    "mutation($i: CreateCommentDraftInput!) { createCommentDraft(input: $i) { comment { id } } }";
const ADD_REPLY: &str = "mutation($c: ID!, $b: String!) { addReply(input: {commentId: $c, body: $b}) { reply { id } } }";
const CREATE_REVISION: &str =
    "mutation($i: CreateRevisionInput!) { createRevision(input: $i) { revision { id number } } }";
const AUDIT: &str = "query($f: AuditLogFilter, $n: Int, $a: String) { auditLog(filter: $f, first: $n, after: $a) { totalCount pageInfo { hasNextPage endCursor } nodes { id at action entityType entityId summary requestId actor { id } organization { shortName } } } }";
const COUNT: &str = "{ auditLog { totalCount } }";
const FOLLOW: &str =
    "mutation($m: ID!) { followModule(input: {moduleId: $m}) { following module { id viewerFollows } } }";
const UNFOLLOW: &str =
    "mutation($m: ID!) { unfollowModule(input: {moduleId: $m}) { following module { id viewerFollows } } }";
const FOLLOWS: &str = "query($m: ID!) { node(id: $m) { ... on Module { viewerFollows } } }";
const VIEWER: &str = "query($u: Boolean) { viewer { unreadNotificationCount notifications(unread: $u) { totalCount nodes { id kind reason readAt createdAt module { id } revision { id number } } } } }";
const MARK: &str = "mutation($i: MarkNotificationsReadInput!) { markNotificationsRead(input: $i) { marked unreadCount } }";

fn instant(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

/// The `field` of each item of a list.
fn each<'a>(list: &'a Value, field: &str) -> Vec<&'a Value> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| &v[field])
        .collect()
}

fn strings(list: &Value, field: &str) -> Vec<String> {
    each(list, field)
        .into_iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("{field}: {v}"))
                .to_owned()
        })
        .collect()
}

/// No notifications.
fn none() -> Vec<(String, i64)> {
    Vec::new()
}

/// Is this a request id the server made (96 random bits, hex)?
fn generated(id: &str) -> bool {
    id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Fx {
    /// A cycle on revision 1, open from now for 14 days.
    async fn open(&self, visibility: &str) -> String {
        let opens = self.s.clock_now();
        let body = self
            .s
            .gql(
                Some(&self.rapporteur),
                OPEN,
                json!({ "i": { "revisionId": self.revision, "title": "Comments", "opensAt": opens.to_rfc3339(), "closesAt": (opens + Duration::days(14)).to_rfc3339(), "visibility": visibility } }),
            )
            .await;
        body["data"]["openReviewCycle"]["cycle"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned()
    }

    fn submit_vars(&self, cycle: &str, body: &str) -> Value {
        json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": body } })
    }

    async fn submit(&self, token: &str, cycle: &str, body: &str) -> String {
        let data = self
            .s
            .ok(Some(token), SUBMIT, self.submit_vars(cycle, body))
            .await;
        data["submitComment"]["comment"]["id"]
            .as_str()
            .expect("comment")
            .to_owned()
    }

    async fn draft(&self, token: &str, cycle: &str) -> String {
        let data = self
            .s
            .ok(
                Some(token),
                DRAFT,
                json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": "Not sent yet." } }),
            )
            .await;
        data["createCommentDraft"]["comment"]["id"]
            .as_str()
            .expect("draft")
            .to_owned()
    }

    async fn viewer_id(&self, token: &str) -> String {
        self.s.ok(Some(token), "{ viewer { id } }", json!({})).await["viewer"]["id"]
            .as_str()
            .expect("viewer")
            .to_owned()
    }

    async fn question_id(&self) -> String {
        self.s
            .ok(
                Some(&self.admin),
                "{ question(code: \"17-2/2\") { id } }",
                json!({}),
            )
            .await["question"]["id"]
            .as_str()
            .expect("question")
            .to_owned()
    }

    /// POST a GraphQL operation with an `X-Request-Id` header (or none): the
    /// response's `x-request-id` and its JSON body.
    async fn send(
        &self,
        token: Option<&str>,
        request_id: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (String, Value) {
        let mut req = self
            .s
            .http
            .post(self.s.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(id) = request_id {
            req = req.header("X-Request-Id", id);
        }
        let res = req.send().await.expect("request");
        let echoed = res
            .headers()
            .get("x-request-id")
            .unwrap_or_else(|| panic!("no x-request-id in {:?}", res.headers()))
            .to_str()
            .expect("ASCII")
            .to_owned();
        let body = res.json::<Value>().await.expect("JSON");
        assert!(body.get("errors").is_none(), "{body:#}");
        (echoed, body["data"].clone())
    }

    /// `auditLog` as `token` sees it; the whole response.
    async fn log_raw(&self, token: Option<&str>, filter: Value, first: Option<i64>) -> Value {
        self.s
            .gql(token, AUDIT, json!({ "f": filter, "n": first }))
            .await
    }

    /// `auditLog` (first 100) that must succeed.
    async fn log(&self, token: &str, filter: Value) -> Value {
        let res = self.log_raw(Some(token), filter, Some(100)).await;
        assert!(res.get("errors").is_none(), "auditLog: {res:#}");
        let log = res["data"]["auditLog"].clone();
        assert_eq!(
            log["pageInfo"]["hasNextPage"], false,
            "the test log fits in a page"
        );
        log
    }

    /// How many events the secretariat sees.
    async fn count(&self) -> i64 {
        self.s.ok(Some(&self.admin), COUNT, json!({})).await["auditLog"]["totalCount"]
            .as_i64()
            .expect("totalCount")
    }

    /// Publish the next revision of the module (revision 1 with a paragraph added).
    async fn publish(&self, base: &str, n: usize) -> String {
        let markdown = format!(
            "{}\n\nA paragraph added in revision {n}.\n",
            REV1.trim_end()
        );
        let res = self
            .s
            .gql(
                Some(&self.rapporteur),
                CREATE_REVISION,
                json!({ "i": { "moduleId": self.module, "baseRevisionId": base, "markdown": markdown, "summary": "Comments taken into account" } }),
            )
            .await;
        let rev = &res["data"]["createRevision"]["revision"];
        assert_eq!(rev["number"], n, "{res}");
        rev["id"].as_str().expect("revision").to_owned()
    }
}

/// A change to make: (name, token, operation, variables, expected action,
/// entity type, actor's id).
type Step<'a> = (
    &'a str,
    Option<&'a str>,
    String,
    Value,
    &'a str,
    &'a str,
    &'a str,
);

/// Every change appends an event: actor, organization, action, entity,
/// summary, the test clock's time and the request's id (one the server makes
/// and returns in the response, whatever `X-Request-Id` the client sent).
async fn each_change_is_recorded_with_its_request(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("OPEN").await;
    let kenya_id = f.viewer_id(&f.kenya).await;
    f.s.clock.advance(Duration::minutes(83));
    let now = f.s.clock_now();

    let (echoed, data) = f
        .send(
            Some(f.kenya.as_str()),
            Some("test-req-42"),
            SUBMIT,
            f.submit_vars(&cycle, "Secret words of the comment."),
        )
        .await;
    assert!(
        generated(&echoed),
        "a server-made id, not the client's: {echoed:?}"
    );
    let comment = data["submitComment"]["comment"]["id"]
        .as_str()
        .expect("comment")
        .to_owned();
    let log = f
        .log(
            &f.admin,
            json!({ "entityId": comment, "action": "comment.submitted" }),
        )
        .await;
    assert_eq!(log["totalCount"], 1);
    let e = &log["nodes"][0];
    assert_eq!(
        (
            &e["action"],
            &e["entityType"],
            &e["entityId"],
            &e["requestId"],
            &e["actor"]["id"],
            &e["organization"]["shortName"],
            &e["summary"],
        ),
        (
            &json!("comment.submitted"),
            &json!("Comment"),
            &json!(comment),
            &json!(echoed),
            &json!(kenya_id),
            &json!("Kenya"),
            &json!("comment 1 submitted"),
        )
    );
    assert_eq!(instant(&e["at"]), now, "the service clock's time");
    // The event's id resolves to it.
    let node =
        f.s.ok(
            Some(f.admin.as_str()),
            "query($id: ID!) { node(id: $id) { ... on AuditEvent { id action requestId } } }",
            json!({ "id": e["id"] }),
        )
        .await;
    assert_eq!(
        node["node"],
        json!({ "id": e["id"], "action": "comment.submitted", "requestId": echoed })
    );

    // Without the header, with markup, or with an id already used: a new id,
    // returned in the response and kept with the event.
    let too_long = "x".repeat(65);
    for header in [
        None,
        Some("\"><script>alert(1)</script>"),
        Some(too_long.as_str()),
        Some(echoed.as_str()),
    ] {
        let (echoed, data) = f
            .send(
                Some(f.kenya2.as_str()),
                header,
                SUBMIT,
                f.submit_vars(&cycle, "Another comment."),
            )
            .await;
        assert!(generated(&echoed), "{header:?}: a generated id, {echoed:?}");
        let c = data["submitComment"]["comment"]["id"].clone();
        let log = f.log(&f.admin, json!({ "entityId": c })).await;
        assert_eq!(
            each(&log["nodes"], "requestId"),
            [&json!(echoed)],
            "{header:?}"
        );
    }

    // Each kind of change, each from a request of its own at a time of its own.
    let kenya2_id = f.viewer_id(&f.kenya2).await;
    let (rapp, admin) = (f.rapporteur_id.clone(), f.admin_id.clone());
    let later = |days: i64| (f.s.clock_now() + Duration::days(days)).to_rfc3339();
    let draft = f.draft(&f.france, &cycle).await;
    let france_id = f.viewer_id(&f.france).await;
    let steps: Vec<Step> = vec![
        (
            "edit",
            Some(f.kenya2.as_str()),
            UPDATE.into(),
            json!({ "i": { "commentId": comment, "body": "Edited." } }),
            "comment.edited",
            "Comment",
            &kenya2_id,
        ),
        (
            "reply",
            Some(f.rapporteur.as_str()),
            ADD_REPLY.into(),
            json!({ "c": comment, "b": "Noted." }),
            "reply.added",
            "Reply",
            &rapp,
        ),
        (
            "disposition",
            Some(f.rapporteur.as_str()),
            "mutation($c: ID!) { setDisposition(input: {commentId: $c, kind: ACCEPTED}) { comment { id } } }".into(),
            json!({ "c": comment }),
            "disposition.set",
            "Comment",
            &rapp,
        ),
        (
            "extend",
            Some(f.rapporteur.as_str()),
            "mutation($c: ID!, $t: DateTime!) { extendReviewCycle(input: {cycleId: $c, closesAt: $t}) { cycle { id } } }".into(),
            json!({ "c": cycle, "t": later(20) }),
            "cycle.extended",
            "ReviewCycle",
            &rapp,
        ),
        (
            "late grant",
            Some(f.admin.as_str()),
            "mutation($c: ID!, $o: ID!, $t: DateTime!) { grantLateSubmission(input: {cycleId: $c, organizationId: $o, until: $t}) { cycle { id } } }".into(),
            json!({ "c": cycle, "o": f.france_org, "t": later(25) }),
            "cycle.late_granted",
            "ReviewCycle",
            &admin,
        ),
        (
            "delete draft",
            Some(f.france.as_str()),
            "mutation($c: ID!) { deleteCommentDraft(input: {commentId: $c}) { deletedCommentId } }".into(),
            json!({ "c": draft }),
            "comment.draft_deleted",
            "Comment",
            &france_id,
        ),
        (
            "follow",
            Some(f.admin.as_str()),
            FOLLOW.into(),
            json!({ "m": f.module }),
            "module.followed",
            "Module",
            &admin,
        ),
        (
            "unfollow",
            Some(f.admin.as_str()),
            UNFOLLOW.into(),
            json!({ "m": f.module }),
            "module.unfollowed",
            "Module",
            &admin,
        ),
        (
            "withdraw",
            Some(f.kenya.as_str()),
            "mutation($c: ID!) { withdrawComment(input: {commentId: $c}) { comment { id } } }".into(),
            json!({ "c": comment }),
            "comment.withdrawn",
            "Comment",
            &kenya_id,
        ),
        (
            "close",
            Some(f.rapporteur.as_str()),
            "mutation($c: ID!) { closeReviewCycleNow(input: {cycleId: $c}) { cycle { id } } }".into(),
            json!({ "c": cycle }),
            "cycle.closed",
            "ReviewCycle",
            &rapp,
        ),
        (
            "sign in",
            None,
            "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }".into(),
            json!({ "e": "wanjiru@example.ke", "p": PASSWORD }),
            "session.signed_in",
            "User",
            &kenya_id,
        ),
    ];
    let orgs = [
        (kenya_id.clone(), "Kenya"),
        (kenya2_id.clone(), "Kenya"),
        (france_id.clone(), "France"),
        (rapp.clone(), "Brazil"),
        (admin.clone(), "ITU"),
    ];
    for (i, (what, token, query, vars, action, entity_type, actor)) in steps.into_iter().enumerate()
    {
        f.s.clock.advance(Duration::minutes(7));
        let request = format!("req-{i}-{}", what.replace(' ', "-"));
        let before = f.count().await;
        let (echoed, data) = f.send(token, Some(&request), &query, vars).await;
        assert!(
            generated(&echoed),
            "{what}: the server's own id, not {request:?}"
        );
        let request = echoed;
        let entity = match what {
            "edit" | "disposition" | "withdraw" => comment.clone(),
            "extend" | "late grant" | "close" => cycle.clone(),
            "delete draft" => draft.clone(),
            "follow" | "unfollow" => f.module.clone(),
            "sign in" => kenya_id.clone(),
            _ => data["addReply"]["reply"]["id"]
                .as_str()
                .expect("reply")
                .to_owned(),
        };
        assert_eq!(f.count().await, before + 1, "{what}: one event");
        let newest = &f.log(&f.admin, json!({})).await["nodes"][0];
        let org = orgs
            .iter()
            .find(|(id, _)| id == actor)
            .map(|(_, o)| *o)
            .expect("org");
        assert_eq!(
            (
                &newest["action"],
                &newest["entityType"],
                &newest["entityId"],
                &newest["requestId"],
                &newest["actor"]["id"],
                &newest["organization"]["shortName"],
            ),
            (
                &json!(action),
                &json!(entity_type),
                &json!(entity),
                &json!(request),
                &json!(actor),
                &json!(org),
            ),
            "{what}"
        );
        assert_eq!(instant(&newest["at"]), f.s.clock_now(), "{what}");
        assert!(
            !newest["summary"].as_str().unwrap_or("").is_empty(),
            "{what}: a summary"
        );
        assert!(
            !newest["summary"]
                .as_str()
                .unwrap_or("")
                .contains("Secret words"),
            "{what}: no comment text in the log"
        );
    }
}

/// A spreadsheet import (not GraphQL) is recorded with its request id too;
/// an event keeps the organization its actor had at the time.
async fn imports_and_account_changes_are_recorded(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("OPEN").await;
    let kenya_id = f.viewer_id(&f.kenya).await;
    f.s.clock.advance(Duration::minutes(5));
    let res =
        f.s.http
            .post(f.s.url(&format!("/imports/cycles/{cycle}/comments")))
            .header("content-type", "text/csv")
            .header("X-Request-Id", "import-7")
            .bearer_auth(&f.kenya)
            .body("Clause,Type of comment,Comment\nGeneral,ge,Imported remark.\n")
            .send()
            .await
            .expect("request");
    assert_eq!(res.status().as_u16(), 201);
    let import_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("a request id")
        .to_owned();
    assert!(generated(&import_id), "{import_id:?}");
    let log = f
        .log(&f.admin, json!({ "action": "comments.imported" }))
        .await;
    assert_eq!(log["totalCount"], 1);
    let e = &log["nodes"][0];
    assert_eq!(
        (
            &e["entityType"],
            &e["entityId"],
            &e["requestId"],
            &e["actor"]["id"],
            &e["organization"]["shortName"],
        ),
        (
            &json!("ReviewCycle"),
            &json!(cycle),
            &json!(import_id),
            &json!(kenya_id),
            &json!("Kenya"),
        )
    );
    assert_eq!(instant(&e["at"]), f.s.clock_now());
    // Each imported comment has its own `comment.submitted` event.
    let body: serde_json::Value = res.json().await.expect("JSON");
    let imported = body["comments"][0]["id"]
        .as_str()
        .expect("imported id")
        .to_owned();
    let history = f.log(&f.admin, json!({ "entityId": imported })).await;
    assert_eq!(history["totalCount"], 1, "{history}");
    assert_eq!(history["nodes"][0]["action"], "comment.submitted");
    assert_eq!(history["nodes"][0]["requestId"], json!(import_id));

    // Kenya's second delegate moves to France: their earlier event still says Kenya.
    let kenya2_id = f.viewer_id(&f.kenya2).await;
    let c = f.submit(&f.kenya2, &cycle, "Before the move.").await;
    f.s.ok(
        Some(&f.admin),
        "mutation($u: ID!, $o: ID!) { updateUser(input: {userId: $u, organizationId: $o}) { user { organization { shortName } } } }",
        json!({ "u": kenya2_id, "o": f.france_org }),
    )
    .await;
    let log = f.log(&f.admin, json!({ "entityId": c })).await;
    assert_eq!(
        each(&log["nodes"], "organization"),
        [&json!({ "shortName": "Kenya" })]
    );
    let log = f.log(&f.admin, json!({ "entityId": kenya2_id })).await;
    let updated = &log["nodes"][0];
    assert_eq!(
        (
            &updated["action"],
            &updated["actor"]["id"],
            &updated["organization"]["shortName"]
        ),
        (&json!("user.updated"), &json!(f.admin_id), &json!("ITU"))
    );
}

/// Filters (entity, action, actor, since/until, question) and pages.
async fn the_log_filters_and_pages(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("OPEN").await;
    let kenya2_id = f.viewer_id(&f.kenya2).await;
    let t = |h: i64| crate::common::t0() + Duration::hours(h);
    f.s.clock.advance(Duration::hours(1));
    let c = f.submit(&f.kenya, &cycle, "First.").await;
    f.s.clock.advance(Duration::hours(1));
    f.s.ok(
        Some(&f.kenya2),
        UPDATE,
        json!({ "i": { "commentId": c, "body": "First, edited." } }),
    )
    .await;
    f.s.clock.advance(Duration::hours(1));
    let reply =
        f.s.ok(
            Some(f.rapporteur.as_str()),
            ADD_REPLY,
            json!({ "c": c, "b": "Thanks." }),
        )
        .await["addReply"]["reply"]["id"]
            .clone();
    f.s.clock.advance(Duration::hours(1));
    let c2 = f.submit(&f.kenya2, &cycle, "Second.").await;
    let actions = |log: &Value| strings(&log["nodes"], "action");

    // One object's history, newest first.
    let log = f.log(&f.admin, json!({ "entityId": c })).await;
    assert_eq!(log["totalCount"], 2);
    assert_eq!(actions(&log), ["comment.edited", "comment.submitted"]);
    assert_eq!(
        each(&log["nodes"], "at")
            .into_iter()
            .map(instant)
            .collect::<Vec<_>>(),
        [t(2), t(1)]
    );
    let log = f.log(&f.admin, json!({ "entityId": reply })).await;
    assert_eq!(actions(&log), ["reply.added"]);
    // By action.
    let log = f
        .log(&f.admin, json!({ "action": "comment.submitted" }))
        .await;
    assert_eq!(log["totalCount"], 2);
    assert_eq!(strings(&log["nodes"], "entityId"), [c2.clone(), c.clone()]);
    let log = f.log(&f.admin, json!({ "action": "no.such" })).await;
    assert_eq!(log["totalCount"], 0);
    // By actor: everything Kenya's second delegate did (the sign-in of the
    // committee's set-up included).
    let log = f.log(&f.admin, json!({ "actorId": kenya2_id })).await;
    assert_eq!(
        actions(&log),
        ["comment.submitted", "comment.edited", "session.signed_in"]
    );
    assert!(each(&log["nodes"], "actor")
        .iter()
        .all(|a| a["id"] == json!(kenya2_id)));
    // Since (inclusive) and until (exclusive).
    let window = |since: Option<i64>, until: Option<i64>| {
        let filter = json!({ "since": since.map(|h| t(h).to_rfc3339()), "until": until.map(|h| t(h).to_rfc3339()) });
        async move { f.log(&f.admin, filter).await }
    };
    assert_eq!(
        actions(&window(Some(2), None).await),
        ["comment.submitted", "reply.added", "comment.edited"]
    );
    assert_eq!(
        actions(&window(Some(1), Some(3)).await),
        ["comment.edited", "comment.submitted"]
    );
    assert_eq!(
        actions(&window(Some(3), Some(3)).await),
        Vec::<String>::new()
    );
    // Times to the microsecond, in any offset.
    let micro = |h: i64, us: i64| (t(h) + Duration::microseconds(us)).to_rfc3339();
    let paris = |h: i64| {
        t(h).with_timezone(&chrono::FixedOffset::east_opt(3600).expect("offset"))
            .to_rfc3339()
    };
    for (filter, want) in [
        (
            json!({ "since": micro(2, 1) }),
            vec!["comment.submitted", "reply.added"],
        ),
        (
            json!({ "since": micro(2, -1), "until": micro(2, 1) }),
            vec!["comment.edited"],
        ),
        (
            json!({ "since": paris(2), "until": paris(4) }),
            vec!["reply.added", "comment.edited"],
        ),
    ] {
        assert_eq!(
            actions(&f.log(&f.admin, filter.clone()).await),
            want,
            "{filter}"
        );
    }
    let before = window(None, Some(1)).await;
    assert!(
        before["totalCount"].as_i64().unwrap() > 0,
        "the set-up's events"
    );
    assert!(
        each(&before["nodes"], "at")
            .into_iter()
            .all(|at| instant(at) < t(1)),
        "{before}"
    );
    let everything = f.log(&f.admin, json!({})).await;
    assert_eq!(
        before["totalCount"].as_i64().unwrap() + 4,
        everything["totalCount"].as_i64().unwrap(),
        "before t+1h and the four events since"
    );
    // By question, with the other filters.
    let q = f.question_id().await;
    let log = f
        .log(
            &f.admin,
            json!({ "questionId": q, "since": t(1).to_rfc3339(), "actorId": kenya2_id }),
        )
        .await;
    assert_eq!(actions(&log), ["comment.submitted", "comment.edited"]);

    // Pages of 4: the same events, in the same order, as the whole list.
    let whole = strings(&everything["nodes"], "id");
    let total = everything["totalCount"].as_i64().unwrap();
    assert_eq!(whole.len() as i64, total);
    let times: Vec<DateTime<Utc>> = each(&everything["nodes"], "at")
        .into_iter()
        .map(instant)
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let res =
            f.s.gql(
                Some(f.admin.as_str()),
                AUDIT,
                json!({ "f": {}, "n": 4, "a": after }),
            )
            .await;
        let page = &res["data"]["auditLog"];
        assert_eq!(page["totalCount"], total, "{res}");
        let ids = strings(&page["nodes"], "id");
        let more = page["pageInfo"]["hasNextPage"].as_bool().expect("bool");
        assert_eq!(ids.len(), if more { 4 } else { whole.len() - seen.len() });
        seen.extend(ids);
        if !more {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, whole);

    // Bad filters.
    for (filter, field) in [
        (json!({ "entityId": "not-an-id" }), "filter.entityId"),
        (json!({ "actorId": c }), "filter.actorId"),
        (json!({ "questionId": "%%%" }), "filter.questionId"),
    ] {
        let res = f.log_raw(Some(&f.admin), filter.clone(), None).await;
        assert_eq!(code(&res), "VALIDATION", "{filter}");
        assert_eq!(res["errors"][0]["extensions"]["field"], field);
    }
    let res = f.log_raw(Some(&f.admin), json!({}), Some(500)).await;
    assert_eq!(code(&res), "VALIDATION");
}

/// The secretariat reads everything; a rapporteur the events of their
/// question (not account events); another question's rapporteur none of
/// them; members and anonymous callers nothing, by list or by `node`.
async fn who_may_read_the_log(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("SEALED").await;
    let c = f.submit(&f.kenya, &cycle, "A comment.").await;
    f.s.clock.advance(Duration::days(14));
    f.publish(&f.revision, 2).await;

    let all = f.log(&f.admin, json!({})).await;
    let all_actions: BTreeSet<String> = strings(&all["nodes"], "action").into_iter().collect();
    for a in [
        "organization.created",
        "user.created",
        "session.signed_in",
        "question.created",
        "rapporteur.assigned",
        "kit.created",
        "module.created",
        "revision.published",
        "cycle.opened",
        "comment.submitted",
    ] {
        assert!(all_actions.contains(a), "the secretariat sees {a}");
    }
    // Accounts made at the command line: no actor.
    let created = f.log(&f.admin, json!({ "action": "user.created" })).await;
    assert!(created["totalCount"].as_i64().unwrap() >= 6);
    assert!(each(&created["nodes"], "actor").iter().all(|a| a.is_null()));
    assert!(each(&created["nodes"], "organization")
        .iter()
        .all(|o| o.is_null()));

    // The rapporteur: exactly the events of question 17-2/2.
    let q = f.question_id().await;
    let of_question = f.log(&f.admin, json!({ "questionId": q })).await;
    let mine = f.log(&f.rapporteur, json!({})).await;
    assert_eq!(mine["totalCount"], of_question["totalCount"]);
    assert_eq!(
        strings(&mine["nodes"], "id"),
        strings(&of_question["nodes"], "id")
    );
    let mine_actions: BTreeSet<String> = strings(&mine["nodes"], "action").into_iter().collect();
    for a in [
        "comment.submitted",
        "cycle.opened",
        "revision.published",
        "module.created",
    ] {
        assert!(mine_actions.contains(a), "the rapporteur sees {a}");
    }
    for a in ["user.created", "session.signed_in", "organization.created"] {
        assert!(!mine_actions.contains(a), "the rapporteur does not see {a}");
    }
    let events_of_c = f.log(&f.rapporteur, json!({ "entityId": c })).await;
    assert_eq!(
        strings(&events_of_c["nodes"], "action"),
        ["comment.submitted"]
    );
    assert_eq!(
        f.log(&f.rapporteur, json!({ "action": "session.signed_in" }))
            .await["totalCount"],
        0
    );

    // The other question's rapporteur: the events of 18-2/2, none of these.
    let theirs = f.log(&f.other_rapporteur, json!({})).await;
    let q2 =
        f.s.ok(
            Some(&f.admin),
            "{ question(code: \"18-2/2\") { id } }",
            json!({}),
        )
        .await["question"]["id"]
            .clone();
    let of_q2 = f.log(&f.admin, json!({ "questionId": q2 })).await;
    assert!(of_q2["totalCount"].as_i64().unwrap() > 0);
    assert_eq!(
        strings(&theirs["nodes"], "id"),
        strings(&of_q2["nodes"], "id")
    );
    let mine_ids: BTreeSet<String> = strings(&mine["nodes"], "id").into_iter().collect();
    assert!(strings(&theirs["nodes"], "id")
        .iter()
        .all(|id| !mine_ids.contains(id)));
    assert_eq!(
        f.log(&f.other_rapporteur, json!({ "questionId": q })).await["totalCount"],
        0
    );
    assert_eq!(
        f.log(&f.other_rapporteur, json!({ "entityId": c })).await["totalCount"],
        0
    );

    // Members: FORBIDDEN; anonymous: UNAUTHENTICATED.
    for t in [&f.kenya, &f.kenya2, &f.france] {
        assert_eq!(
            code(&f.log_raw(Some(t), json!({}), None).await),
            "FORBIDDEN"
        );
        assert_eq!(
            code(&f.log_raw(Some(t), json!({ "entityId": c }), None).await),
            "FORBIDDEN"
        );
    }
    assert_eq!(
        code(&f.log_raw(None, json!({}), None).await),
        "UNAUTHENTICATED"
    );

    // node(id:) follows the same rules.
    let submitted = f.log(&f.admin, json!({ "entityId": c })).await["nodes"][0]["id"].clone();
    let signed_in = f
        .log(&f.admin, json!({ "action": "session.signed_in" }))
        .await["nodes"][0]["id"]
        .clone();
    let node = |token: String, id: Value| async move {
        f.s.ok(
            Some(&token),
            "query($id: ID!) { node(id: $id) { ... on AuditEvent { id action } } }",
            json!({ "id": id }),
        )
        .await["node"]
            .clone()
    };
    assert_eq!(
        node(f.admin.clone(), submitted.clone()).await,
        json!({ "id": submitted, "action": "comment.submitted" })
    );
    assert_eq!(
        node(f.admin.clone(), signed_in.clone()).await["action"],
        "session.signed_in"
    );
    assert_eq!(
        node(f.rapporteur.clone(), submitted.clone()).await["id"],
        submitted
    );
    assert!(node(f.rapporteur.clone(), signed_in.clone())
        .await
        .is_null());
    assert!(node(f.other_rapporteur.clone(), submitted.clone())
        .await
        .is_null());
    for t in [&f.kenya, &f.kenya2, &f.france] {
        assert!(node(t.clone(), submitted.clone()).await.is_null());
        assert!(node(t.clone(), signed_in.clone()).await.is_null());
    }

    // A rapporteur no longer: FORBIDDEN (the RAPPORTEUR role alone is not enough).
    f.s.ok(
        Some(&f.admin),
        "mutation($q: ID!, $u: ID!) { unassignRapporteur(input: {questionId: $q, userId: $u}) { user { id } } }",
        json!({ "q": q, "u": f.rapporteur_id }),
    )
    .await;
    assert_eq!(
        code(&f.log_raw(Some(&f.rapporteur), json!({}), None).await),
        "FORBIDDEN"
    );
    assert!(node(f.rapporteur.clone(), submitted.clone())
        .await
        .is_null());
}

/// A change that is refused writes no event, even when it fails in the
/// middle of its transaction.
async fn a_refused_change_records_nothing(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("OPEN").await;
    let k = f.submit(&f.kenya, &cycle, "Kenya's comment.").await;
    let draft = f.draft(&f.kenya, &cycle).await;
    let before = f.count().await;
    let refusals: Vec<(&str, &str, Value, &str)> = vec![
        (
            f.kenya.as_str(),
            SUBMIT,
            f.submit_vars(&cycle, "   "),
            "VALIDATION",
        ),
        (
            f.kenya.as_str(),
            SUBMIT,
            json!({ "i": { "cycleId": cycle, "anchor": { "kind": "BLOCK", "blockAnchorId": "blk-9-99" }, "type": "GENERAL", "body": "On a block that is not there." } }),
            "VALIDATION",
        ),
        (
            f.france.as_str(),
            UPDATE,
            json!({ "i": { "commentId": k, "body": "Hijack" } }),
            "FORBIDDEN",
        ),
        (
            f.kenya.as_str(),
            UPDATE,
            json!({ "i": { "commentId": k, "body": "" } }),
            "VALIDATION",
        ),
        (
            f.kenya.as_str(),
            ADD_REPLY,
            json!({ "c": k, "b": " " }),
            "VALIDATION",
        ),
        (
            f.rapporteur.as_str(),
            "mutation($i: SetDispositionsInput!) { setDispositions(input: $i) { comments { id } } }",
            json!({ "i": { "dispositions": [{ "commentId": k, "kind": "ACCEPTED" }, { "commentId": k, "kind": "REJECTED" }] } }),
            "VALIDATION",
        ),
        // Fails after the revision row is written: the whole transaction goes.
        (
            f.rapporteur.as_str(),
            CREATE_REVISION,
            json!({ "i": { "moduleId": f.module, "baseRevisionId": f.revision, "markdown": format!("{REV1}\nMore.\n"), "summary": "Second", "addressedCommentIds": [draft] } }),
            "VALIDATION",
        ),
        (
            f.kenya.as_str(),
            OPEN,
            json!({ "i": { "revisionId": f.revision, "title": "Mine", "opensAt": f.s.clock_now().to_rfc3339(), "closesAt": (f.s.clock_now() + Duration::days(3)).to_rfc3339(), "visibility": "OPEN" } }),
            "FORBIDDEN",
        ),
    ];
    for (token, query, vars, want) in refusals {
        let res = f.s.gql(Some(token), query, vars.clone()).await;
        assert_eq!(code(&res), want, "{vars}: {res}");
        assert_eq!(f.count().await, before, "no event for {vars}");
    }
    let count = "query($m: ID!) { node(id: $m) { ... on Module { revisionCount } } }";
    assert_eq!(
        f.s.ok(Some(&f.rapporteur), count, json!({ "m": f.module }))
            .await["node"]["revisionCount"],
        1
    );
    // And one that succeeds writes exactly one.
    f.submit(&f.kenya, &cycle, "Accepted this time.").await;
    assert_eq!(f.count().await, before + 1);
}

/// The database itself refuses to change or delete audit events.
async fn the_log_is_append_only(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("OPEN").await;
    f.submit(&f.kenya, &cycle, "Something to record.").await;
    let before = f.count().await;
    assert!(before > 0);
    let url = f.s.db.url.clone();
    type Row = (i64, String, String);
    const ROWS: &str = "SELECT id, action, summary FROM audit_events ORDER BY id";
    let (rows_before, rows_after, errors) = match b {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
            let rows_before: Vec<Row> = sqlx::query_as(ROWS).fetch_all(&pool).await.expect("rows");
            let mut errors = Vec::new();
            for stmt in [
                "UPDATE audit_events SET summary = 'x'",
                "UPDATE audit_events SET summary = 'x' WHERE id = (SELECT MAX(id) FROM audit_events)",
                "DELETE FROM audit_events",
                "DELETE FROM audit_events WHERE id = (SELECT MIN(id) FROM audit_events)",
            ] {
                errors.push((stmt, sqlx::query(stmt).execute(&pool).await.map(|r| r.rows_affected())));
            }
            let rows_after: Vec<Row> = sqlx::query_as(ROWS).fetch_all(&pool).await.expect("rows");
            pool.close().await;
            (rows_before, rows_after, errors)
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&url).await.expect("connect");
            let rows_before: Vec<Row> = sqlx::query_as(ROWS).fetch_all(&pool).await.expect("rows");
            let mut errors = Vec::new();
            for stmt in [
                "UPDATE audit_events SET summary = 'x'",
                "UPDATE audit_events SET summary = 'x' WHERE id = (SELECT MAX(id) FROM audit_events)",
                "DELETE FROM audit_events",
                "DELETE FROM audit_events WHERE id = (SELECT MIN(id) FROM audit_events)",
                "TRUNCATE audit_events",
            ] {
                errors.push((stmt, sqlx::query(stmt).execute(&pool).await.map(|r| r.rows_affected())));
            }
            let rows_after: Vec<Row> = sqlx::query_as(ROWS).fetch_all(&pool).await.expect("rows");
            pool.close().await;
            (rows_before, rows_after, errors)
        }
    };
    assert_eq!(rows_before.len() as i64, before);
    for (stmt, result) in errors {
        match result {
            Ok(n) => panic!("{stmt}: allowed ({n} rows)"),
            Err(e) => assert!(
                e.to_string().contains("append-only"),
                "{stmt}: refused by the trigger, not for another reason: {e}"
            ),
        }
    }
    assert_eq!(rows_after, rows_before, "the rows are unchanged");
    assert_eq!(f.count().await, before);
}

/// The committee after a round: Kenya commented on revision 1, France only
/// saved a draft, the secretariat and the rapporteur follow the module, the
/// cycle closed and the rapporteur published revision 2.
struct Published {
    rev2: String,
}

impl Fx {
    async fn round(&self) -> Published {
        let cycle = self.open("OPEN").await;
        self.submit(&self.kenya, &cycle, "Kenya's comment.").await;
        self.draft(&self.france, &cycle).await;
        for t in [&self.admin, &self.rapporteur] {
            let data = self
                .s
                .ok(Some(t), FOLLOW, json!({ "m": self.module }))
                .await;
            assert_eq!(
                data["followModule"],
                json!({ "following": true, "module": { "id": self.module, "viewerFollows": true } })
            );
        }
        assert_eq!(
            self.unread(&self.kenya).await,
            0,
            "nothing before the revision"
        );
        self.s.clock.advance(Duration::days(14));
        let status = "query($c: ID!) { node(id: $c) { ... on ReviewCycle { status } } }";
        assert_eq!(
            self.s
                .ok(Some(&self.rapporteur), status, json!({ "c": cycle }))
                .await["node"]["status"],
            "CLOSED"
        );
        self.s.clock.advance(Duration::hours(1));
        let rev2 = self.publish(&self.revision, 2).await;
        Published { rev2 }
    }

    /// `viewer { unreadNotificationCount notifications(unread:) }`.
    async fn notifications(&self, token: &str, unread: Option<bool>) -> Value {
        self.s.ok(Some(token), VIEWER, json!({ "u": unread })).await["viewer"].clone()
    }

    async fn unread(&self, token: &str) -> i64 {
        self.notifications(token, None).await["unreadNotificationCount"]
            .as_i64()
            .expect("count")
    }

    /// A user's notifications without their ids and times: (reason, revision number) each.
    async fn told(&self, token: &str) -> Vec<(String, i64)> {
        let v = self.notifications(token, None).await;
        let nodes = v["notifications"]["nodes"]
            .as_array()
            .expect("nodes")
            .clone();
        assert_eq!(v["notifications"]["totalCount"], nodes.len());
        nodes
            .iter()
            .map(|n| {
                assert_eq!(n["kind"], "REVISION_PUBLISHED");
                assert_eq!(n["module"]["id"], json!(self.module));
                (
                    n["reason"].as_str().expect("reason").to_owned(),
                    n["revision"]["number"].as_i64().expect("number"),
                )
            })
            .collect()
    }

    async fn follows(&self, token: &str) -> bool {
        self.s
            .ok(Some(token), FOLLOWS, json!({ "m": self.module }))
            .await["node"]["viewerFollows"]
            .as_bool()
            .expect("viewerFollows")
    }
}

/// A new revision tells every user of an organization that submitted a
/// comment on an earlier revision (COMMENTED) and the module's followers
/// (FOLLOWING), but not its publisher; a draft does not count.
async fn a_new_revision_notifies_commenters_and_followers(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let p = f.round().await;
    let published_at = f.s.clock_now();
    for t in [&f.kenya, &f.kenya2] {
        let v = f.notifications(t, None).await;
        assert_eq!(v["unreadNotificationCount"], 1);
        assert_eq!(v["notifications"]["totalCount"], 1);
        let n = &v["notifications"]["nodes"][0];
        assert!(n["id"].is_string());
        assert_eq!(instant(&n["createdAt"]), published_at);
        assert_eq!(
            json!({ "kind": n["kind"], "reason": n["reason"], "readAt": n["readAt"], "module": n["module"], "revision": n["revision"] }),
            json!({ "kind": "REVISION_PUBLISHED", "reason": "COMMENTED", "readAt": null, "module": { "id": f.module }, "revision": { "id": p.rev2, "number": 2 } })
        );
    }
    assert_eq!(f.told(&f.france).await, none(), "a draft does not count");
    assert_eq!(f.unread(&f.france).await, 0);
    assert_eq!(f.told(&f.admin).await, [("FOLLOWING".to_owned(), 2)]);
    assert_eq!(f.unread(&f.admin).await, 1);
    assert_eq!(
        f.told(&f.rapporteur).await,
        none(),
        "not the publisher, though a follower"
    );
    assert_eq!(f.told(&f.other_rapporteur).await, none());
}

/// Marking read: one's own notifications only (another's id is NOT_FOUND and
/// nothing changes), some or all; nobody else may list them.
async fn notifications_are_their_owners_alone(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    f.round().await;
    let first_id = |token: String| async move {
        f.notifications(&token, None).await["notifications"]["nodes"][0]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let k1 = first_id(f.kenya.clone()).await;
    let k2 = first_id(f.kenya2.clone()).await;
    assert_ne!(k1, k2);

    // Another user's id: NOT_FOUND, and nothing is marked (not even one's own).
    for (token, ids) in [
        (&f.kenya2, vec![k1.clone()]),
        (&f.kenya, vec![k1.clone(), k2.clone()]),
        (&f.admin, vec![k1.clone()]),
    ] {
        let res =
            f.s.gql(Some(token), MARK, json!({ "i": { "ids": ids } }))
                .await;
        assert_eq!(code(&res), "NOT_FOUND", "{res}");
    }
    assert_eq!(f.unread(&f.kenya).await, 1);
    assert_eq!(f.unread(&f.kenya2).await, 1);
    let res =
        f.s.gql(Some(&f.kenya), MARK, json!({ "i": { "ids": ["junk"] } }))
            .await;
    assert_eq!(code(&res), "VALIDATION");
    assert_eq!(res["errors"][0]["extensions"]["field"], "ids[0]");
    assert_eq!(
        code(&f.s.gql(None, MARK, json!({ "i": {} })).await),
        "UNAUTHENTICATED"
    );
    let too_many: Vec<String> = (1..=501)
        .map(|i| {
            kitreview::domain::ids::GlobalId::new(kitreview::domain::ids::NodeKind::Notification, i)
                .to_string()
        })
        .collect();
    let res =
        f.s.gql(Some(&f.kenya), MARK, json!({ "i": { "ids": too_many } }))
            .await;
    assert_eq!(code(&res), "VALIDATION", "at most 500 ids");
    assert_eq!(res["errors"][0]["extensions"]["field"], "ids");

    // Mark one read.
    f.s.clock.advance(Duration::hours(2));
    let read_at = f.s.clock_now();
    let data =
        f.s.ok(Some(&f.kenya), MARK, json!({ "i": { "ids": [k1] } }))
            .await;
    assert_eq!(
        data["markNotificationsRead"],
        json!({ "marked": 1, "unreadCount": 0 })
    );
    let log = f
        .log(&f.admin, json!({ "action": "notifications.read" }))
        .await;
    assert_eq!(log["totalCount"], 1, "{log}");
    assert_eq!(log["nodes"][0]["summary"], "1 notification marked read");
    let v = f.notifications(&f.kenya, None).await;
    assert_eq!(v["unreadNotificationCount"], 0);
    assert_eq!(v["notifications"]["totalCount"], 1);
    assert_eq!(instant(&v["notifications"]["nodes"][0]["readAt"]), read_at);
    let unread = f.notifications(&f.kenya, Some(true)).await;
    assert_eq!(
        unread["notifications"],
        json!({ "totalCount": 0, "nodes": [] })
    );
    let read = f.notifications(&f.kenya, Some(false)).await;
    assert_eq!(
        strings(&read["notifications"]["nodes"], "id"),
        std::slice::from_ref(&k1)
    );
    // Again: nothing more to mark; readAt stays.
    f.s.clock.advance(Duration::hours(1));
    let data =
        f.s.ok(Some(&f.kenya), MARK, json!({ "i": { "ids": [k1] } }))
            .await;
    assert_eq!(
        data["markNotificationsRead"],
        json!({ "marked": 0, "unreadCount": 0 })
    );
    assert_eq!(
        instant(&f.notifications(&f.kenya, None).await["notifications"]["nodes"][0]["readAt"]),
        read_at
    );
    // The colleague's is untouched; then all of theirs.
    assert_eq!(f.unread(&f.kenya2).await, 1);
    let data = f.s.ok(Some(&f.kenya2), MARK, json!({ "i": {} })).await;
    assert_eq!(
        data["markNotificationsRead"],
        json!({ "marked": 1, "unreadCount": 0 })
    );
    assert_eq!(f.unread(&f.kenya2).await, 0);
    assert_eq!(f.unread(&f.admin).await, 1, "the secretariat's untouched");

    // Nobody else sees them: not through the user, not through node(id:).
    let kenya2_id = f.viewer_id(&f.kenya2).await;
    for field in ["notifications { totalCount }", "unreadNotificationCount"] {
        let q = format!("query($u: ID!) {{ node(id: $u) {{ ... on User {{ {field} }} }} }}");
        for t in [&f.kenya, &f.admin] {
            let res = f.s.gql(Some(t), &q, json!({ "u": kenya2_id })).await;
            // Another member cannot reach the user at all (the directory is the
            // secretariat's); the secretariat reaches it but not its notifications.
            if res["data"]["node"].is_null() && res.get("errors").is_none() {
                assert!(std::ptr::eq(t, &f.kenya), "{field}: {res}");
            } else {
                assert_eq!(code(&res), "FORBIDDEN", "{field}: {res}");
            }
        }
        let own =
            f.s.gql(Some(&f.kenya2), &q, json!({ "u": kenya2_id }))
                .await;
        assert!(own.get("errors").is_none(), "one's own: {own}");
    }
    let node = "query($id: ID!) { node(id: $id) { ... on Notification { id reason } } }";
    assert_eq!(
        f.s.ok(Some(&f.kenya), node, json!({ "id": k1 })).await["node"],
        json!({ "id": k1, "reason": "COMMENTED" })
    );
    for t in [&f.kenya2, &f.admin, &f.france] {
        assert!(f.s.ok(Some(t), node, json!({ "id": k1 })).await["node"].is_null());
    }
}

/// `followModule` / `unfollowModule` and `Module.viewerFollows`; an
/// unfollowed module tells no more; one notification per user and revision.
async fn following_and_unfollowing(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let p = f.round().await;
    assert!(f.follows(&f.admin).await);
    assert!(!f.follows(&f.kenya).await);
    // Following twice is following.
    f.s.ok(Some(&f.admin), FOLLOW, json!({ "m": f.module }))
        .await;
    assert!(f.follows(&f.admin).await);
    // Kenya's second delegate follows too: still one notification per revision.
    f.s.ok(Some(&f.kenya2), FOLLOW, json!({ "m": f.module }))
        .await;
    assert!(f.follows(&f.kenya2).await);
    assert!(!f.follows(&f.kenya).await, "following is per user");
    let data =
        f.s.ok(Some(&f.admin), UNFOLLOW, json!({ "m": f.module }))
            .await;
    assert_eq!(
        data["unfollowModule"],
        json!({ "following": false, "module": { "id": f.module, "viewerFollows": false } })
    );
    assert!(!f.follows(&f.admin).await);
    // Unfollowing what one does not follow is not an error.
    let data =
        f.s.ok(Some(&f.france), UNFOLLOW, json!({ "m": f.module }))
            .await;
    assert_eq!(data["unfollowModule"]["following"], false);
    let missing =
        kitreview::domain::ids::GlobalId::new(kitreview::domain::ids::NodeKind::Module, 999_999)
            .to_string();
    assert_eq!(
        code(
            &f.s.gql(Some(&f.admin), FOLLOW, json!({ "m": missing }))
                .await
        ),
        "NOT_FOUND"
    );
    assert_eq!(
        code(
            &f.s.gql(Some(&f.admin), FOLLOW, json!({ "m": p.rev2 }))
                .await
        ),
        "VALIDATION",
        "not a module's id"
    );

    // Two Kenyans who join now: one is deactivated before revision 3.
    f.s.user("amani@example.ke", "Kenya", &[Role::Member]).await;
    let gone =
        f.s.user("baraka@example.ke", "Kenya", &[Role::Member])
            .await;
    let amani = f.s.login("amani@example.ke", PASSWORD).await;
    let deactivate = "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { id } } }";
    let reactivate = "mutation($id: ID!) { reactivateUser(input: {userId: $id}) { user { id } } }";
    f.s.ok(Some(&f.admin), deactivate, json!({ "id": gone }))
        .await;

    f.s.clock.advance(Duration::hours(1));
    f.publish(&p.rev2, 3).await;
    assert_eq!(
        f.told(&amani).await,
        [("COMMENTED".to_owned(), 3)],
        "their organization commented on an earlier revision"
    );
    f.s.ok(Some(&f.admin), reactivate, json!({ "id": gone }))
        .await;
    let baraka = f.s.login("baraka@example.ke", PASSWORD).await;
    assert_eq!(
        f.told(&baraka).await,
        none(),
        "an inactive user is not told"
    );
    assert_eq!(
        f.told(&f.admin).await,
        [("FOLLOWING".to_owned(), 2)],
        "no more after unfollowing"
    );
    assert_eq!(
        f.told(&f.kenya).await,
        [("COMMENTED".to_owned(), 3), ("COMMENTED".to_owned(), 2)],
        "newest first"
    );
    assert_eq!(
        f.told(&f.kenya2).await,
        [("COMMENTED".to_owned(), 3), ("COMMENTED".to_owned(), 2)],
        "once per revision, though commenting and following"
    );
    assert_eq!(f.unread(&f.kenya2).await, 2);
    assert_eq!(f.told(&f.france).await, none());
    assert_eq!(f.told(&f.rapporteur).await, none());

    // Pages of notifications.
    let page = "query($a: String) { viewer { notifications(first: 1, after: $a) { totalCount pageInfo { hasNextPage endCursor } nodes { revision { number } } } } }";
    let first = f.s.ok(Some(&f.kenya), page, json!({})).await["viewer"]["notifications"].clone();
    assert_eq!(first["totalCount"], 2);
    assert_eq!(first["nodes"], json!([{ "revision": { "number": 3 } }]));
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let next =
        f.s.ok(
            Some(&f.kenya),
            page,
            json!({ "a": first["pageInfo"]["endCursor"] }),
        )
        .await["viewer"]["notifications"]
            .clone();
    assert_eq!(next["nodes"], json!([{ "revision": { "number": 2 } }]));
    assert_eq!(next["pageInfo"]["hasNextPage"], false);
}

/// Draft events (drafted, edited, deleted) are their author's and the
/// secretariat's alone, on every read path: the list, its counts, its filters,
/// `node` and `nodes`.
async fn draft_events_are_their_authors_alone(b: Backend) {
    let Some(f) = setup(b).await else { return };
    let f = &f;
    let cycle = f.open("SEALED").await;
    let theirs = f.draft(&f.france, &cycle).await;
    f.s.ok(
        Some(&f.france),
        UPDATE,
        json!({ "i": { "commentId": theirs, "body": "Still not sent." } }),
    )
    .await;
    f.s.ok(
        Some(&f.france),
        "mutation($c: ID!) { deleteCommentDraft(input: {commentId: $c}) { deletedCommentId } }",
        json!({ "c": theirs }),
    )
    .await;
    let own = f.draft(&f.rapporteur, &cycle).await;
    f.submit(&f.kenya, &cycle, "A submitted comment.").await;

    let all = f.log(&f.admin, json!({ "entityId": theirs })).await;
    let theirs_events = strings(&all["nodes"], "id");

    // The rapporteur: the rest of the question, their own draft, none of France's.
    let q = f.question_id().await;
    let of_question = f.log(&f.admin, json!({ "questionId": q })).await;
    let mine = f.log(&f.rapporteur, json!({})).await;
    let expected: Vec<String> = strings(&of_question["nodes"], "id")
        .into_iter()
        .filter(|id| !theirs_events.contains(id))
        .collect();
    assert_eq!(strings(&mine["nodes"], "id"), expected);
    assert_eq!(mine["totalCount"], json!(expected.len()));
    assert_eq!(
        f.log(&f.rapporteur, json!({ "entityId": theirs })).await["totalCount"],
        0
    );
    let drafted = f
        .log(&f.rapporteur, json!({ "action": "comment.drafted" }))
        .await;
    assert_eq!(drafted["totalCount"], 1);
    assert_eq!(
        f.log(&f.rapporteur, json!({ "entityId": own })).await["nodes"][0]["action"],
        "comment.drafted"
    );
    for action in ["comment.draft_edited", "comment.draft_deleted"] {
        assert_eq!(
            f.log(&f.rapporteur, json!({ "action": action })).await["totalCount"],
            0,
            "{action}"
        );
    }
    let rapporteur_count =
        f.s.ok(Some(&f.rapporteur), COUNT, json!({})).await["auditLog"]["totalCount"].clone();
    assert_eq!(rapporteur_count, json!(expected.len()));

    // The secretariat sees all three, an edit of a draft named as such.
    assert_eq!(
        strings(&all["nodes"], "action"),
        [
            "comment.draft_deleted",
            "comment.draft_edited",
            "comment.drafted"
        ]
    );

    // node(id:) and nodes(ids:) follow the same rule.
    let one = "query($id: ID!) { node(id: $id) { ... on AuditEvent { id action } } }";
    let many = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on AuditEvent { id } } }";
    for id in &theirs_events {
        let body = f.s.ok(Some(&f.rapporteur), one, json!({ "id": id })).await;
        assert!(body["node"].is_null(), "{body}");
        let body = f.s.ok(Some(&f.admin), one, json!({ "id": id })).await;
        assert_eq!(body["node"]["id"], json!(id));
    }
    let body =
        f.s.ok(Some(&f.rapporteur), many, json!({ "ids": theirs_events }))
            .await;
    assert_eq!(body["nodes"], json!([null, null, null]));
    let own_event = drafted["nodes"][0]["id"].clone();
    let body =
        f.s.ok(Some(&f.rapporteur), many, json!({ "ids": [own_event] }))
            .await;
    assert_eq!(body["nodes"], json!([{ "id": own_event }]));
}

backend_tests!(
    each_change_is_recorded_with_its_request,
    imports_and_account_changes_are_recorded,
    the_log_filters_and_pages,
    who_may_read_the_log,
    a_refused_change_records_nothing,
    the_log_is_append_only,
    a_new_revision_notifies_commenters_and_followers,
    notifications_are_their_owners_alone,
    following_and_unfollowing,
    draft_events_are_their_authors_alone,
);
