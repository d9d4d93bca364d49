//! `kitreview copy`, through the binary: a pilot's SQLite database (the demo,
//! then comments, edits, replies, dispositions, a revision carrying them,
//! follows, notifications, an idempotency key, a failed sign-in) moved to
//! PostgreSQL serves the same objects under the same ids to the same tokens
//! and carries on numbering; what is refused; and a check that copy knows
//! every table and column of both migration sets, in foreign-key order.
//! The PostgreSQL tests skip without `TEST_POSTGRES_URL` (and fail under CI)
//! and fail when it cannot be reached, like the rest of the suite.

use std::path::Path;

use serde_json::{json, Value};
use sqlx::Connection as _;

use crate::backup::{fails, run, serve_holding, sqlite_url, stderr, with_suffix};
use crate::cli::{create_boss, kitreview, run_with_stdin};
use crate::common::{Backend, Options, TestDb, TestServer};
use crate::files::demo_with;
use kitreview::db::copy::{Kind, TABLES};
use kitreview::demo::DEMO_PASSWORD;
use kitreview::domain::ids::GlobalId;

const SUBMIT: &str =
    "mutation($i: SubmitCommentInput!) { submitComment(input: $i) { comment { id number } } }";
const UPDATE: &str =
    "mutation($i: UpdateCommentInput!) { updateComment(input: $i) { comment { id } } }";
const REPLY: &str = "mutation($c: ID!, $b: String!) { addReply(input: {commentId: $c, body: $b}) { reply { id } } }";
const SET: &str =
    "mutation($i: SetDispositionInput!) { setDisposition(input: $i) { comment { id } } }";
const REVISE: &str =
    "mutation($i: CreateRevisionInput!) { createRevision(input: $i) { revision { id number } } }";
const FOLLOW: &str = "mutation($m: ID!) { followModule(input: {moduleId: $m}) { following } }";
/// What a delegate and the rapporteur see of a cycle: its comments with
/// their history, replies and dispositions.
const CYCLE: &str = "query($c: ID!) { node(id: $c) { ... on ReviewCycle { id title status module { id revisionCount currentRevision { id number } } comments(first: 100) { totalCount nodes { id number state type body proposedChange late submittedAt updatedAt anchor { kind sectionAnchorId blockAnchorId } author { id displayName } organization { id shortName } dispositionVersion disposition { kind rationale decidedAt history { changedAt before { kind } after { kind rationale } } } edits { editedAt body } replies(first: 20) { totalCount nodes { id body createdAt } } } } } } }";
const CARRIED: &str = "query($r: ID!) { node(id: $r) { ... on Revision { id number contentHash wordCount carriedComments(first: 100) { totalCount nodes { comment { id number } anchor { status } } } } } }";
const NODES: &str = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Comment { number body } ... on Reply { body } ... on Revision { number summary } ... on ReviewCycle { title } ... on User { displayName } ... on Organization { shortName } } }";
const AUDIT: &str = "{ auditLog(first: 100) { totalCount nodes { id at action summary } } }";
const VIEWER: &str = "{ viewer { id displayName email organization { id shortName } notifications { totalCount nodes { id kind reason } } } }";

fn id_of(v: &Value) -> i64 {
    let gid = v.as_str().unwrap_or_else(|| panic!("not an id: {v}"));
    GlobalId::parse(gid)
        .unwrap_or_else(|e| panic!("{gid}: {e:?}"))
        .id
}

fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

fn submit_vars(cycle: &str, body: &str, key: Option<&str>) -> Value {
    json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": body, "idempotencyKey": key } })
}

/// `kitreview copy --from sqlite:DB --to URL`; its output.
fn copy(db: &Path, to: &str) -> std::process::Output {
    run(&["copy", "--from", &sqlite_url(db), "--to", to])
}

/// The pilot: demo data and then a cycle's worth of work on SQLite, copied
/// through the binary to a new PostgreSQL database; a server there (with
/// the SQLite file's secret) answers the tokens minted before, returns the
/// same objects for the same ids, and gives new rows the next numbers and ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pilot_moves_to_postgres_with_its_ids_tokens_and_history() {
    let Some(pg) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let mut opts = Options::default();
    // The pilot's deployment: the secret generated into a file beside the database.
    opts.auth.jwt_secret = None;
    let d = demo_with(Backend::Sqlite, opts).await.expect("SQLite");
    let s = &d.s;
    let db = s.db.dir().expect("SQLite folder").join("kitreview.db");
    let cycle = d.open_cycle.clone();

    // A cycle's worth of work on SQLite.
    let mut mine = Vec::new();
    for (token, body) in [
        (&d.kenya, "Kenya: the indicators need a baseline year."),
        (&d.france, "France : préciser la méthode « en ligne »."),
        (&d.kenya, "Kenya: add the rural broadband figures."),
    ] {
        let c = s
            .ok(Some(token), SUBMIT, submit_vars(&cycle, body, None))
            .await;
        mine.push(str_of(&c["submitComment"]["comment"]["id"]));
    }
    let keyed = s
        .ok(
            Some(&d.kenya),
            SUBMIT,
            submit_vars(&cycle, "Sent with a key.", Some("key-before-copy")),
        )
        .await["submitComment"]["comment"]["id"]
        .clone();
    s.ok(Some(&d.kenya), UPDATE, json!({ "i": { "commentId": mine[0], "body": "Kenya: the indicators need a baseline year (2020)." } })).await;
    for (token, body) in [
        (&d.rapporteur, "Noted, thank you."),
        (&d.france, "We agree."),
    ] {
        s.ok(Some(token), REPLY, json!({ "c": mine[0], "b": body }))
            .await;
    }
    s.ok(
        Some(&d.rapporteur),
        SET,
        json!({ "i": { "commentId": mine[0], "kind": "ACCEPTED" } }),
    )
    .await;
    s.ok(Some(&d.rapporteur), SET, json!({ "i": { "commentId": mine[0], "kind": "ACCEPTED_IN_PRINCIPLE", "rationale": "The year only." } }))
        .await;
    s.ok(
        Some(&d.rapporteur),
        SET,
        json!({ "i": { "commentId": mine[1], "kind": "REJECTED", "rationale": "Out of scope." } }),
    )
    .await;
    let before = s
        .ok(Some(&d.rapporteur), CYCLE, json!({ "c": cycle }))
        .await;
    let module = str_of(&before["node"]["module"]["id"]);
    let current = str_of(&before["node"]["module"]["currentRevision"]["id"]);
    s.ok(Some(&d.kenya), FOLLOW, json!({ "m": module })).await;
    let markdown = s
        .ok(
            Some(&d.rapporteur),
            "query($r: ID!) { node(id: $r) { ... on Revision { markdown } } }",
            json!({ "r": current }),
        )
        .await["node"]["markdown"]
        .as_str()
        .expect("markdown")
        .replace("baseline", "baseline (2020)");
    let rev = s.ok(Some(&d.rapporteur), REVISE, json!({ "i": { "moduleId": module, "baseRevisionId": current, "markdown": format!("{markdown}\n\nA closing paragraph added in the pilot.\n"), "summary": "After the pilot", "addressedCommentIds": [mine[0]] } })).await["createRevision"]["revision"]["id"]
        .clone();
    // A failed sign-in, counted by the throttle.
    let (_, wrong) = s.gql_raw(None, "mutation { login(input: {email: \"delegate.kenya@itu.example\", password: \"not the password\"}) { token } }", json!({})).await;
    assert!(wrong.get("errors").is_some(), "{wrong}");

    // What is seen before the copy, with tokens minted before it.
    let secretariat = s.login("secretariat@itu.example", DEMO_PASSWORD).await;
    let seen_cycle = s
        .ok(Some(&d.rapporteur), CYCLE, json!({ "c": cycle }))
        .await;
    let seen_done = s
        .ok(Some(&d.rapporteur), CYCLE, json!({ "c": d.done_cycle }))
        .await;
    let seen_rev = s
        .ok(Some(&d.rapporteur), CARRIED, json!({ "r": rev }))
        .await;
    let carried = seen_rev["node"]["carriedComments"]["totalCount"]
        .as_i64()
        .expect("count");
    assert!(
        carried >= 3,
        "the new revision carries the cycle's comments: {seen_rev}"
    );
    let seen_audit = s.ok(Some(&secretariat), AUDIT, json!({})).await;
    let seen_viewer = s.ok(Some(&d.kenya), VIEWER, json!({})).await;
    assert!(
        seen_viewer["viewer"]["notifications"]["totalCount"].as_i64() >= Some(1),
        "the follow gave Kenya a notification: {seen_viewer}"
    );
    let comments = &seen_cycle["node"]["comments"]["nodes"];
    let mut ids: Vec<Value> = comments
        .as_array()
        .expect("comments")
        .iter()
        .flat_map(|c| {
            let replies = c["replies"]["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            std::iter::once(c["id"].clone()).chain(replies.into_iter().map(|r| r["id"].clone()))
        })
        .collect();
    ids.extend([
        json!(cycle),
        json!(d.done_cycle),
        rev.clone(),
        json!(current),
        json!(d.eenv_rev2),
        seen_viewer["viewer"]["id"].clone(),
        seen_viewer["viewer"]["organization"]["id"].clone(),
    ]);
    let seen_nodes = s
        .ok(Some(&d.rapporteur), NODES, json!({ "ids": ids }))
        .await;
    let highest = |kind: &str| {
        seen_nodes["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .filter(|n| n["__typename"] == kind)
            .map(|n| id_of(&n["id"]))
            .max()
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    let (top_comment, top_reply) = (highest("Comment"), highest("Reply"));
    let top_number = comments
        .as_array()
        .expect("comments")
        .iter()
        .filter_map(|c| c["number"].as_i64())
        .max()
        .expect("numbered comments");

    // The copy, through the binary.
    let out = copy(&db, &pg.url);
    let said = stderr(&out);
    assert!(out.status.success(), "copy failed: {said}");
    let secret_file = with_suffix(&db, ".jwt-secret");
    for expected in [
        "Copied",
        "comments",
        "audit_events",
        "carried_anchors",
        "idempotency_keys",
        "KITREVIEW_JWT_SECRET",
        &secret_file.display().to_string(),
    ] {
        assert!(said.contains(expected), "{expected} in: {said}");
    }
    let secret = std::fs::read_to_string(&secret_file).expect("secret file");
    assert!(
        !said.contains(secret.trim()),
        "the secret is never printed: {said}"
    );

    // A server on PostgreSQL with the SQLite file's secret, as the README says.
    let mut opts = Options::default();
    opts.auth.jwt_secret = Some(secret.trim().parse().expect("infallible"));
    let p = TestServer::start_on(&pg.url, opts).await;
    assert_eq!(
        p.ok(Some(&d.kenya), VIEWER, json!({})).await,
        seen_viewer,
        "Kenya's old token"
    );
    assert_eq!(
        p.ok(Some(&d.rapporteur), CYCLE, json!({ "c": cycle }))
            .await,
        seen_cycle
    );
    assert_eq!(
        p.ok(Some(&d.rapporteur), CYCLE, json!({ "c": d.done_cycle }))
            .await,
        seen_done
    );
    assert_eq!(
        p.ok(Some(&d.rapporteur), CARRIED, json!({ "r": rev }))
            .await,
        seen_rev
    );
    assert_eq!(
        p.ok(Some(&d.rapporteur), NODES, json!({ "ids": ids }))
            .await,
        seen_nodes
    );
    assert_eq!(p.ok(Some(&secretariat), AUDIT, json!({})).await, seen_audit);

    // The retry of a mutation sent before the copy is answered from its key.
    let again = p
        .ok(
            Some(&d.kenya),
            SUBMIT,
            submit_vars(&cycle, "Sent with a key.", Some("key-before-copy")),
        )
        .await;
    assert_eq!(again["submitComment"]["comment"]["id"], keyed);
    // New work: the next number, with no gap, and ids above the old ones.
    let next = p
        .ok(
            Some(&d.france),
            SUBMIT,
            submit_vars(&cycle, "After the move.", None),
        )
        .await;
    assert_eq!(
        next["submitComment"]["comment"]["number"],
        json!(top_number + 1)
    );
    let new_comment = id_of(&next["submitComment"]["comment"]["id"]);
    assert!(new_comment > top_comment, "no id given twice");
    let reply = p
        .ok(
            Some(&d.rapporteur),
            REPLY,
            json!({ "c": next["submitComment"]["comment"]["id"], "b": "Seen on PostgreSQL." }),
        )
        .await;
    assert!(id_of(&reply["addReply"]["reply"]["id"]) > top_reply);
    let audit = p.ok(Some(&secretariat), AUDIT, json!({})).await;
    assert!(
        audit["auditLog"]["totalCount"].as_i64() > seen_audit["auditLog"]["totalCount"].as_i64(),
        "the audit trail goes on: {audit}"
    );
    // Search finds copied comments through PostgreSQL's index.
    let found = p
        .ok(
            Some(&d.rapporteur),
            "{ searchComments(query: \"broadband\") { nodes { comment { id } } } }",
            json!({}),
        )
        .await;
    let hits = found["searchComments"]["nodes"].as_array().expect("hits");
    assert!(
        hits.iter().any(|h| h["comment"]["id"] == json!(mine[2])),
        "{found}"
    );
    p.stop().await;
}

/// A second copy into the same database is refused, as is a copy into a
/// database with an account of its own; either leaves the target as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_holds_data_is_refused() {
    let Some(pg) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let Some(other) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("kr.db");
    let out = create_boss(&sqlite_url(&db));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = copy(&db, &pg.url);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = fails(&["copy", "--from", &sqlite_url(&db), "--to", &pg.url]);
    assert!(
        said.contains("already holds kitreview data")
            && said.contains("1 users")
            && said.contains("audit events")
            && said.contains("empty database"),
        "{said}"
    );

    // An account made on PostgreSQL itself.
    let mut create = kitreview();
    create
        .env("KITREVIEW_JWT_SECRET", crate::common::SECRET)
        .args([
            "user",
            "create",
            "--email",
            "own@itu.example",
            "--name",
            "Own",
            "--role",
            "secretariat",
            "--database-url",
            &other.url,
        ]);
    let out = run_with_stdin(create, "a long bootstrap passphrase\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let said = fails(&["copy", "--from", &sqlite_url(&db), "--to", &other.url]);
    assert!(
        said.contains("already holds kitreview data (1 users"),
        "{said}"
    );
    let mut conn = sqlx::PgConnection::connect(&other.url)
        .await
        .expect("connect");
    let emails: Vec<String> = sqlx::query_scalar("SELECT email FROM users")
        .fetch_all(&mut conn)
        .await
        .expect("users");
    assert_eq!(emails, ["own@itu.example"], "nothing was copied in");
}

/// While `kitreview serve` holds the SQLite file, copy is refused, naming the
/// server's pid, before it looks at the target; the file's level is checked
/// too: older (not migrated yet) and newer (a later kitreview's) are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_is_refused_while_a_server_holds_the_file_or_its_level_differs() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("kr.db");
    let url = sqlite_url(&db);
    let out = create_boss(&url);
    assert!(out.status.success(), "{}", stderr(&out));
    // Nothing listens there: the target is only reached once the source is fine.
    let nowhere = "postgres://kitreview@127.0.0.1:9/none";
    let (mut server, pid) = serve_holding(&db).await;
    let said = fails(&["copy", "--from", &url, "--to", nowhere]);
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        said.contains(&format!("(pid {pid}) is serving"))
            && said.contains("stop it before copying"),
        "{said}"
    );
    let said = fails(&["copy", "--from", &url, "--to", nowhere]);
    assert!(said.contains("cannot connect to PostgreSQL at"), "{said}");

    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("open");
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) VALUES (99999, 'from a later kitreview', '2027-01-01', 1, x'00', 0)")
        .execute(&mut conn)
        .await
        .expect("a newer migration");
    let said = fails(&["copy", "--from", &url, "--to", nowhere]);
    assert!(
        said.contains("a newer kitreview made it") && said.contains("99999"),
        "{said}"
    );
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version >= (SELECT MAX(version) FROM _sqlx_migrations WHERE version < 99999)")
        .execute(&mut conn)
        .await
        .expect("an older level");
    conn.close().await.expect("close");
    let said = fails(&["copy", "--from", &url, "--to", nowhere]);
    assert!(
        said.contains("an older kitreview made it")
            && said.contains("start this kitreview on it once")
            && said.contains("kitreview migrate"),
        "{said}"
    );
    let said = fails(&["copy", "--from", "sqlite::memory:", "--to", nowhere]);
    assert!(said.contains("not an SQLite database file"), "{said}");
    let said = fails(&[
        "copy",
        "--from",
        &url,
        "--to",
        &sqlite_url(&dir.path().join("b.db")),
    ]);
    assert!(said.contains("not a PostgreSQL database"), "{said}");
}

/// The kind each PostgreSQL data type is copied as.
fn kind_of(data_type: &str) -> Option<Kind> {
    Some(match data_type {
        "bigint" | "integer" => Kind::Int,
        "text" => Kind::Text,
        "boolean" => Kind::Bool,
        "timestamp with time zone" => Kind::Time,
        "double precision" => Kind::Real,
        "tsvector" => Kind::Terms,
        _ => return None,
    })
}

/// Every table and column the SQLite migrations make is one copy knows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_knows_every_sqlite_table_and_column() {
    let dir = tempfile::tempdir().expect("dir");
    let url = sqlite_url(&dir.path().join("kr.db"));
    run(&["migrate", "--database-url", &url]);
    let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("open");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'virtual') \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .expect("tables");
    let mut found = Vec::new();
    for t in &tables {
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
            .bind(t)
            .fetch_all(&mut conn)
            .await
            .expect("columns");
        found.extend(columns.into_iter().map(|c| format!("{t}.{c}")));
    }
    let mut known: Vec<String> = TABLES
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| c.sqlite.is_none())
                .map(move |c| format!("{}.{}", t.name, c.name))
        })
        .collect();
    found.sort();
    known.sort();
    assert_eq!(found, known, "a migration added a table or column that kitreview copy does not copy: add it to src/db/copy/tables.rs");
}

/// Every table and column the PostgreSQL migrations make is one copy knows,
/// of the kind it is copied as, and every foreign key points at a table
/// copied before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_knows_every_postgres_table_and_column_in_foreign_key_order() {
    let Some(pg) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    run(&["migrate", "--database-url", &pg.url]);
    let mut conn = sqlx::PgConnection::connect(&pg.url).await.expect("connect");
    let mut found: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("columns");
    assert!(!found.is_empty(), "migrated");
    let mut known: Vec<(String, String, String)> = Vec::new();
    for t in TABLES {
        for c in t.columns {
            let (_, _, ty) = found
                .iter()
                .find(|(tn, cn, _)| tn == t.name && cn == c.name)
                .unwrap_or_else(|| panic!("{}.{} is not in the PostgreSQL schema", t.name, c.name));
            assert_eq!(kind_of(ty), Some(c.kind), "{}.{} is {ty}", t.name, c.name);
            known.push((t.name.into(), c.name.into(), ty.clone()));
        }
    }
    found.sort();
    known.sort();
    assert_eq!(found, known, "a migration added a table or column that kitreview copy does not copy: add it to src/db/copy/tables.rs");
    let keys: Vec<(String, String)> = sqlx::query_as(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint WHERE contype = 'f'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("foreign keys");
    assert!(keys.len() > 20, "{keys:?}");
    let position = |name: &str| {
        TABLES
            .iter()
            .position(|t| t.name == name)
            .unwrap_or_else(|| panic!("{name} is not copied"))
    };
    for (child, parent) in keys {
        assert!(
            position(&parent) <= position(&child),
            "{child} refers to {parent}, which is copied after it"
        );
    }
}
