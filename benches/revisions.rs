//! Benchmark: publishing a 2 MiB revision, and diffing two revisions of 1,000
//! blocks, through the real server over HTTP (and the diff alone, in memory).
//!
//! `cargo bench --bench revisions` (SQLite); with `BENCH_POSTGRES_URL` (or
//! `TEST_POSTGRES_URL`) set, PostgreSQL too. Prints median and p95 per case.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use kitreview::clock::SystemClock;
use kitreview::config::{DbArgs, LimitArgs};
use kitreview::db::SqliteSync;
use kitreview::domain::accounts::{OrganizationKind, Role};
use kitreview::domain::diff::{self, DiffBlock, DiffInput, DiffSection};
use kitreview::domain::document::{self, DocumentLimits};
use kitreview::domain::ids::{GlobalId, NodeKind};
use kitreview::service::{accounts, modules, Actor};
use kitreview::state::AppState;
use serde_json::{json, Value};

/// A draft of about `bytes` bytes: numbered sections of ten paragraphs.
fn draft(bytes: usize, seed: &str) -> String {
    let mut md = String::from("# Module 1: Benchmark draft\n\n");
    let mut i = 0;
    while md.len() < bytes {
        if i % 10 == 0 {
            md.push_str(&format!("## {} Section {}\n\n", i / 10 + 1, i / 10 + 1));
        }
        md.push_str(&format!(
            "Paragraph {i} {seed}: the readiness of a country for e-government rests on infrastructure, \
             policy, governance and reach; each dimension is assessed with indicators (« l'état de préparation »), \
             weighted and scored, and the results are validated in a national workshop with all stakeholders.\n\n"
        ));
        i += 1;
    }
    md
}

/// 1,000 blocks; the second version changes every 10th block, drops every 50th and adds 20.
fn thousand_blocks(changed: bool) -> String {
    let mut md = String::from("# Module 1\n\n");
    for i in 0..1000 {
        if i % 20 == 0 {
            md.push_str(&format!("## {} Part {}\n\n", i / 20 + 1, i / 20 + 1));
        }
        if changed && i % 50 == 7 {
            continue;
        }
        let verb = if changed && i % 10 == 3 {
            "strengthens"
        } else {
            "supports"
        };
        md.push_str(&format!(
            "Block {i}: the framework {verb} decision-makers in assessing national readiness for e-government services.\n\n"
        ));
        if changed && i % 50 == 25 {
            md.push_str(&format!(
                "An added paragraph after block {i}, about accessibility and inclusion.\n\n"
            ));
        }
    }
    md
}

fn stats(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{name:<58} n={:<3} median {:>8.1} ms   p95 {:>8.1} ms",
        samples.len(),
        p(0.5).as_secs_f64() * 1e3,
        p(0.95).as_secs_f64() * 1e3
    );
}

struct Bench {
    state: AppState,
    base: String,
    token: String,
    module_gid: String,
    module_id: i64,
    http: reqwest::Client,
}

async fn setup(url: &str) -> Bench {
    let db = DbArgs {
        database_url: url.into(),
        db_max_connections: 10,
        sqlite_synchronous: SqliteSync::Full,
        db_busy_timeout: Duration::from_secs(10),
        db_acquire_timeout: Duration::from_secs(10),
    };
    let limits = LimitArgs {
        body_limit_bytes: 16 * 1024 * 1024,
        ..LimitArgs::default()
    };
    let state =
        kitreview::app::build_state(&db, &common::auth(), limits, false, Arc::new(SystemClock))
            .await
            .expect("state");
    let org = accounts::create_organization(
        &state,
        Actor::Operator,
        accounts::OrganizationInput {
            name: "Brazil".into(),
            short_name: "Brazil".into(),
            kind: OrganizationKind::MemberState,
            country_code: Some("BR".into()),
            region: None,
        },
    )
    .await
    .expect("org");
    let user = accounts::create_user(
        &state,
        Actor::Operator,
        accounts::UserInput {
            email: "rapporteur@bench.example".into(),
            display_name: "Rapporteur".into(),
            organization_id: Some(org.id),
            roles: vec![Role::Rapporteur],
            password: Some("bench password 123".into()),
            external_subject: None,
        },
    )
    .await
    .expect("user");
    let q = accounts::create_question(&state, Actor::Operator, "17-2/2", "Bench", None)
        .await
        .expect("question");
    accounts::assign_rapporteur(&state, Actor::Operator, q.id, user.id)
        .await
        .expect("assign");
    let kit = modules::create_kit(&state, Actor::Operator, q.id, "Kit", "")
        .await
        .expect("kit");
    let module = modules::create_module(&state, Actor::Operator, kit.id, 1, "Bench")
        .await
        .expect("module");
    let (token, _) = state
        .tokens
        .issue(
            user.id,
            user.password_version,
            user.token_epoch,
            Duration::from_secs(3600),
        )
        .expect("token");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let serve_state = state.clone();
    tokio::spawn(async move {
        let _ = kitreview::app::serve(
            listener,
            serve_state,
            kitreview::config::MetricsMode::On,
            std::future::pending(),
        )
        .await;
    });
    Bench {
        state,
        base,
        token,
        module_gid: GlobalId::new(NodeKind::Module, module.id).to_string(),
        module_id: module.id,
        http: reqwest::Client::new(),
    }
}

impl Bench {
    async fn gql(&self, query: &str, vars: Value) -> Value {
        let res = self
            .http
            .post(format!("{}/graphql", self.base))
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": vars }))
            .send()
            .await
            .expect("request");
        let body: Value = res.json().await.expect("json");
        assert!(body.get("errors").is_none(), "errors: {body}");
        body["data"].clone()
    }

    async fn latest(&self) -> Value {
        let q = "query($m: ID!) { node(id: $m) { ... on Module { currentRevision { id } } } }";
        self.gql(q, json!({ "m": self.module_gid })).await["node"]["currentRevision"]["id"].clone()
    }
}

const CREATE: &str = "mutation($i: CreateRevisionInput!) { createRevision(input: $i) { revision { number wordCount } } }";

async fn run(label: &str, url: &str) {
    let b = setup(url).await;
    let mut samples = Vec::new();
    for i in 0..10 {
        let md = draft(2 * 1024 * 1024 - 1024, &format!("v{i}"));
        let base = b.latest().await;
        let started = Instant::now();
        b.gql(CREATE, json!({ "i": { "moduleId": b.module_gid, "baseRevisionId": base, "markdown": md, "summary": "bench" } }))
            .await;
        samples.push(started.elapsed());
    }
    stats(
        &format!("{label}: createRevision, 2 MiB (~5,000 blocks), HTTP"),
        samples,
    );

    // Two revisions of 1,000 blocks on a fresh module.
    let kit_id = {
        let mut pooled = b.state.db.read().await.expect("db");
        kitreview::db::modules::module_by_id(&mut pooled.conn(), b.module_id)
            .await
            .expect("query")
            .expect("module")
            .kit_id
    };
    let module = modules::create_module(&b.state, Actor::Operator, kit_id, 2, "Diff bench")
        .await
        .expect("module");
    let gid = GlobalId::new(NodeKind::Module, module.id).to_string();
    let r1 = b
        .gql(CREATE.replace("number wordCount", "id").as_str(), json!({ "i": { "moduleId": gid, "markdown": thousand_blocks(false), "summary": "v1" } }))
        .await["createRevision"]["revision"]["id"]
        .clone();
    b.gql(CREATE, json!({ "i": { "moduleId": gid, "baseRevisionId": r1, "markdown": thousand_blocks(true), "summary": "v2" } }))
        .await;
    let q = "query($m: ID!) { node(id: $m) { ... on Module { diff(fromRevision: 1, toRevision: 2) { summary { blocksChanged blocksAdded blocksRemoved blocksUnchanged } sections { status blocks { status similarity toBlock { anchorId } changes { op text } } } } } } }";
    let mut samples = Vec::new();
    let mut summary = Value::Null;
    for _ in 0..20 {
        let started = Instant::now();
        summary = b.gql(q, json!({ "m": gid })).await["node"]["diff"]["summary"].clone();
        samples.push(started.elapsed());
    }
    stats(
        &format!("{label}: module.diff, 1,000 vs 1,000 blocks, full result, HTTP"),
        samples,
    );
    println!("    ({summary})");
}

fn diff_input<'a>(d: &'a document::Document, anchors: &'a document::Anchors) -> DiffInput<'a> {
    DiffInput {
        sections: d
            .sections
            .iter()
            .zip(&anchors.sections)
            .map(|(s, a)| DiffSection {
                anchor: a,
                clause: &s.clause,
                title: &s.title,
            })
            .collect(),
        blocks: d
            .blocks
            .iter()
            .zip(&anchors.blocks)
            .map(|(b, a)| DiffBlock {
                anchor: a,
                section: b.section,
                kind: b.kind,
                text: &b.text,
            })
            .collect(),
    }
}

fn in_memory_diff() {
    let limits = DocumentLimits::default();
    let a = document::parse(&thousand_blocks(false), limits).expect("a");
    let b = document::parse(&thousand_blocks(true), limits).expect("b");
    let anchors_a = document::assign_anchors(&a, &Default::default(), 1);
    let anchors_b = document::assign_anchors(&b, &Default::default(), 2);
    let ia = diff_input(&a, &anchors_a);
    let ib = diff_input(&b, &anchors_b);
    let mut samples = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let d = diff::diff(&ia, &ib);
        samples.push(started.elapsed());
        std::hint::black_box(d);
    }
    stats(
        "in memory: diff of 1,000 vs 1,000 blocks, no shared anchors",
        samples,
    );
    let md = draft(2 * 1024 * 1024 - 1024, "p");
    let mut samples = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let d = document::parse(&md, limits).expect("parse");
        samples.push(started.elapsed());
        std::hint::black_box(d);
    }
    stats("in memory: parse a 2 MiB draft", samples);
}

#[tokio::main]
async fn main() {
    in_memory_diff();
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    run("SQLite", &url).await;
    common::with_postgres("kitreview_bench", |url| async move {
        run("PostgreSQL", &url).await
    })
    .await;
}
