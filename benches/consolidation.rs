//! Benchmark: consolidation at meeting scale, release build.
//!
//! - carrying 10,000 comments (blocks, quotes, sections) of revision 1 forward
//!   to a revision 2 of 1,000 blocks (5% rewritten, 2% moved, 2% deleted):
//!   the whole `createRevision` (parse, anchors, projection, storage), in process;
//! - exporting a cycle of 2,000 and of 20,000 comments as CSV and as XLSX from the release
//!   server binary over HTTP: time to the last byte, and the server's resident
//!   memory before, and its peak after each export (a fresh server for each).
//!
//! - the consolidation table page for a cycle of 2,000 comments: the
//!   queries `web/consolidate.js` sends when it opens (read from the file, so
//!   the benchmark follows the page), over HTTP to the release server: time
//!   of each, and of the whole, the first time after start and then again.
//!
//! - `kitreview copy` (the release binary) of the 20,000-comment SQLite
//!   database into a new PostgreSQL database: wall time of the command
//!   (PostgreSQL only; `BENCH_COPY_SQLITE=PATH` keeps the SQLite file, to
//!   time the command again by hand).
//!
//! `cargo bench --bench consolidation [-- carry|export|table|copy]` (SQLite);
//! PostgreSQL too with `BENCH_POSTGRES_URL` (or `TEST_POSTGRES_URL`).

mod common;

use std::sync::Arc;
use std::time::Instant;

use kitreview::clock::SystemClock;
use kitreview::config::LimitArgs;
use kitreview::db::comments::{self as comments_store, CommentText, NewComment, Start};
use kitreview::domain::comments::document_order;
use kitreview::domain::cycle::Visibility;
use kitreview::domain::ids::{GlobalId, NodeKind};
use kitreview::service::modules::RevisionInput;
use kitreview::service::{cycles, modules, Actor};

/// 100 sections of 10 paragraphs: 1,000 blocks.
fn revision(edit: bool) -> String {
    let mut md = String::from("# Module 1: Consolidation benchmark\n\n");
    let mut moved = Vec::new();
    for s in 1..=100 {
        md.push_str(&format!("## {s} Section {s}\n\n"));
        for p in 1..=10 {
            let n = s * 10 + p;
            let text = format!(
                "Paragraph {s}.{p}: the assessment of readiness covers infrastructure, policy, governance and reach, \
                 with the indicators that the national team selects for section {s}, item {p}."
            );
            if edit && n % 50 == 0 {
                continue; // 2% deleted
            }
            if edit && n % 50 == 1 {
                moved.push(text); // 2% moved to the end
                continue;
            }
            if edit && n % 20 == 3 {
                md.push_str(&text.replace(
                    "the national team selects",
                    "the national assessment team selects and documents",
                ));
            } else {
                md.push_str(&text);
            }
            md.push_str("\n\n");
        }
    }
    md.push_str("## 101 Moved paragraphs\n\n");
    for t in moved {
        md.push_str(&t);
        md.push_str("\n\n");
    }
    md
}

struct Seeded {
    state: kitreview::state::AppState,
    rapporteur: kitreview::auth::AuthUser,
    token: String,
    module_id: i64,
    rev1: i64,
    cycle_gid: String,
}

/// A rapporteur, four delegations, revision 1 and a cycle with `n` comments.
async fn seed(url: &str, n: usize) -> Seeded {
    let state = kitreview::app::build_state(
        &common::db_args(url),
        &common::auth(),
        LimitArgs::default(),
        false,
        Arc::new(SystemClock),
    )
    .await
    .expect("state");
    let common::Base {
        users,
        rapporteur,
        module_id,
    } = common::base(
        &state,
        &[
            ("Brazil", "BR"),
            ("Kenya", "KE"),
            ("France", "FR"),
            ("Egypt", "EG"),
            ("India", "IN"),
        ],
    )
    .await;
    let rev = modules::create_revision(
        &state,
        Actor::User(&rapporteur),
        RevisionInput {
            module_id,
            base_revision_id: None,
            markdown: revision(false),
            summary: "bench",
            addressed_comment_ids: &[],
            idempotency_key: None,
        },
    )
    .await
    .expect("revision");
    let now = chrono::Utc::now();
    let cycle = cycles::open(
        &state,
        &rapporteur,
        rev.id,
        "Bench cycle",
        now - chrono::Duration::hours(1),
        now + chrono::Duration::days(30),
        Visibility::Open,
    )
    .await
    .expect("cycle");
    let (sections, blocks) = {
        let mut pooled = state.db.read().await.expect("db");
        let mut c = pooled.conn();
        (
            kitreview::db::modules::sections_of(&mut c, &[rev.id])
                .await
                .expect("sections"),
            kitreview::db::modules::blocks_of(&mut c, &[rev.id])
                .await
                .expect("blocks"),
        )
    };
    // The comments go in directly, in one transaction (seeding, not measured).
    let mut tx = state.db.begin().await.expect("tx");
    let mut c = tx.conn();
    for i in 0..n {
        let b = &blocks[(i * 7) % blocks.len()];
        let section = sections
            .iter()
            .find(|s| s.position == b.section_position)
            .expect("section");
        use kitreview::domain::comments::{Anchor, AnchorKind, CommentType, Quote};
        let kind = [
            AnchorKind::Block,
            AnchorKind::Quote,
            AnchorKind::Section,
            AnchorKind::Block,
        ][i % 4];
        let quote_start = 11 + b.section_position.to_string().len() as i64;
        let (section_id, block_id) = (section.anchor_id.clone(), b.anchor_id.clone());
        let anchor = match kind {
            AnchorKind::Section => Anchor::Section {
                section: section_id,
            },
            AnchorKind::Quote => Anchor::Quote {
                section: Some(section_id),
                block: block_id,
                quote: Quote {
                    exact: "the assessment of readiness".into(),
                    prefix: None,
                    suffix: None,
                    start: quote_start,
                    end: quote_start + 27,
                },
            },
            _ => Anchor::Block {
                section: Some(section_id),
                block: block_id,
            },
        };
        let doc_order = document_order(
            Some(b.section_position as usize),
            (kind != AnchorKind::Section).then_some(b.position as usize),
            (kind == AnchorKind::Quote).then_some(quote_start as usize),
        );
        let text = CommentText {
            comment_type: [
                CommentType::General,
                CommentType::Technical,
                CommentType::Editorial,
            ][i % 3],
            body: format!("Comment {i}: please clarify how this indicator is measured, and by whom; « données » included."),
            proposed_change: (i % 2 == 0).then(|| "measured with national statistics, \"as published\"".to_owned()),
            language: Some("en".into()),
        };
        let number = kitreview::db::cycles::take_number(&mut c, cycle.id)
            .await
            .expect("number");
        let u = &users[1 + i % 4];
        comments_store::insert(
            &mut c,
            NewComment {
                cycle_id: cycle.id,
                revision_id: rev.id,
                author_id: u.id,
                organization_id: u.organization_id,
                anchor: &anchor,
                doc_order,
                text: &text,
            },
            Start::Submitted {
                number,
                late: false,
            },
            now,
        )
        .await
        .expect("comment");
    }
    tx.commit().await.expect("commit");
    let token = common::token(&state, &users[0]);
    Seeded {
        state,
        rapporteur,
        token,
        module_id,
        rev1: rev.id,
        cycle_gid: GlobalId::new(NodeKind::ReviewCycle, cycle.id).to_string(),
    }
}

async fn carry(label: &str, url: &str) {
    let s = seed(url, 10_000).await;
    let started = Instant::now();
    let rev2 = modules::create_revision(
        &s.state,
        Actor::User(&s.rapporteur),
        RevisionInput {
            module_id: s.module_id,
            base_revision_id: Some(s.rev1),
            markdown: revision(true),
            summary: "bench",
            addressed_comment_ids: &[],
            idempotency_key: None,
        },
    )
    .await
    .expect("revision 2");
    let took = started.elapsed();
    let statuses: Vec<(String, i64)> = {
        let mut pooled = s.state.db.read().await.expect("db");
        kitreview::db::sql::Sql::new("SELECT status, COUNT(*) FROM carried_anchors WHERE revision_id = $1 GROUP BY status ORDER BY status")
            .arg(rev2.id)
            .fetch_all(&mut pooled.conn())
            .await
            .expect("statuses")
    };
    println!(
        "{label}: createRevision of 1,000 blocks carrying 10,000 comments: {:.0} ms (revision {})",
        took.as_secs_f64() * 1000.0,
        rev2.number
    );
    println!("{label}: carried: {statuses:?}");
    s.state.db.close().await;
}

async fn export(label: &str, url: &str, port: u16, n: usize) {
    let s = seed(url, n).await;
    s.state.db.close().await;
    let http = reqwest::Client::new();
    for file in ["comments.csv", "comments.xlsx"] {
        let mut server = common::start_server(url, port);
        common::wait_ready(&http, port).await;
        let before = common::rss_kib(server.id());
        let started = Instant::now();
        let res = http
            .get(format!(
                "http://127.0.0.1:{port}/exports/cycles/{}/{file}",
                s.cycle_gid
            ))
            .bearer_auth(&s.token)
            .send()
            .await
            .expect("export");
        assert!(res.status().is_success(), "{}", res.status());
        let body = res.bytes().await.expect("body");
        let took = started.elapsed();
        let peak = common::peak_kib(server.id());
        println!(
            "{label}: export {file}, {n} comments: {:.0} ms, {:.1} MiB; server RSS before {:.1} MiB, peak {:.1} MiB",
            took.as_secs_f64() * 1000.0,
            body.len() as f64 / 1048576.0,
            before as f64 / 1024.0,
            peak as f64 / 1024.0
        );
        let _ = server.kill();
        let _ = server.wait();
    }
}

/// `kitreview copy` of an SQLite database of `n` comments into `url`.
async fn copy(sqlite: &std::path::Path, url: &str, n: usize) {
    let from = format!("sqlite:{}", sqlite.display());
    seed(&from, n).await.state.db.close().await;
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kitreview"))
        .args(["copy", "--from", &from, "--to", url])
        .env("KITREVIEW_LOG", "warn")
        .output()
        .expect("kitreview copy");
    let took = started.elapsed();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "copy failed: {said}");
    println!(
        "SQLite to PostgreSQL: kitreview copy of {n} comments ({:.1} MiB): {:.2} s",
        std::fs::metadata(sqlite).map_or(0, |m| m.len()) as f64 / 1048576.0,
        took.as_secs_f64()
    );
    println!("{}", said.lines().last().unwrap_or_default());
}

/// A query of the consolidation page: the template literal `const NAME = `…``
/// in `web/consolidate.js`.
fn page_query(name: &str) -> String {
    let src = include_str!("../web/consolidate.js");
    let head = format!("const {name} = `");
    let start = src.find(&head).expect("the query is in web/consolidate.js") + head.len();
    let len = src[start..].find('`').expect("the query's end");
    src[start..start + len].to_owned()
}

/// One POST to /graphql: its time and the size of its answer.
async fn post(
    http: &reqwest::Client,
    port: u16,
    token: &str,
    query: &str,
    variables: serde_json::Value,
) -> (f64, usize, serde_json::Value) {
    let started = Instant::now();
    let res = http
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("graphql");
    let body = res.bytes().await.expect("body");
    let took = started.elapsed().as_secs_f64() * 1000.0;
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert!(v.get("errors").is_none(), "{v}");
    (took, body.len(), v)
}

/// What the consolidation page asks for when it opens: the cycle, its
/// progress, then the table 100 rows at a time. (ms per part, bytes, requests)
async fn open_table(
    http: &reqwest::Client,
    port: u16,
    token: &str,
    cycle: &str,
) -> ([f64; 3], usize, usize) {
    let (cycle_q, progress_q, rows_q) = (
        page_query("CYCLE"),
        page_query("PROGRESS"),
        page_query("ROWS"),
    );
    let (a, mut bytes, _) = post(
        http,
        port,
        token,
        &cycle_q,
        serde_json::json!({ "cycle": cycle }),
    )
    .await;
    let (b, n, _) = post(
        http,
        port,
        token,
        &progress_q,
        serde_json::json!({ "cycle": cycle }),
    )
    .await;
    bytes += n;
    let (mut rows_ms, mut requests, mut after) = (0.0, 2, serde_json::Value::Null);
    loop {
        let (ms, n, v) = post(
            http,
            port,
            token,
            &rows_q,
            serde_json::json!({ "cycle": cycle, "after": after }),
        )
        .await;
        rows_ms += ms;
        bytes += n;
        requests += 1;
        let page = &v["data"]["node"]["consolidatedTable"]["pageInfo"];
        if page["hasNextPage"] != serde_json::Value::Bool(true) {
            break;
        }
        after = page["endCursor"].clone();
    }
    ([a, b, rows_ms], bytes, requests)
}

async fn table(label: &str, url: &str, port: u16, n: usize) {
    let s = seed(url, n).await;
    s.state.db.close().await;
    let http = reqwest::Client::new();
    let mut server = common::start_server(url, port);
    common::wait_ready(&http, port).await;
    let mut runs = Vec::new();
    for _ in 0..7 {
        runs.push(open_table(&http, port, &s.token, &s.cycle_gid).await);
    }
    let (first, bytes, requests) = runs[0];
    let mut totals: Vec<f64> = runs[1..].iter().map(|r| r.0.iter().sum()).collect();
    totals.sort_by(f64::total_cmp);
    let median = totals[totals.len() / 2];
    let again = runs[1 + runs[1..]
        .iter()
        .position(|r| r.0.iter().sum::<f64>() == median)
        .unwrap_or(0)]
    .0;
    println!(
        "{label}: consolidation page, {n} comments: {requests} requests, {:.1} MiB of JSON; \
         first open {:.0} ms (cycle {:.1}, progress {:.1}, rows {:.0}); \
         again (median of 6) {median:.0} ms (cycle {:.1}, progress {:.1}, rows {:.0})",
        bytes as f64 / 1048576.0,
        first.iter().sum::<f64>(),
        first[0],
        first[1],
        first[2],
        again[0],
        again[1],
        again[2],
    );
    let _ = server.kill();
    let _ = server.wait();
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; any other argument picks the cases.
    let picked: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |case: &str| picked.is_empty() || picked.iter().any(|p| p == case);
    let dir = tempfile::tempdir().expect("dir");
    if run("carry") {
        let carry_db = format!("sqlite:{}", dir.path().join("carry.db").display());
        carry("SQLite", &carry_db).await;
    }
    if run("export") {
        // Two sizes: the CSV's peak memory must not follow the number of comments.
        for n in [2_000, 20_000] {
            let export_db = format!(
                "sqlite:{}",
                dir.path().join(format!("export{n}.db")).display()
            );
            export("SQLite", &export_db, 18771, n).await;
        }
    }
    if run("table") {
        let table_db = format!("sqlite:{}", dir.path().join("table.db").display());
        table("SQLite", &table_db, 18773, 2_000).await;
    }
    if run("carry") {
        common::with_postgres("kitreview_carry", |url| async move {
            carry("PostgreSQL", &url).await
        })
        .await;
    }
    if run("export") {
        common::with_postgres("kitreview_export", |url| async move {
            export("PostgreSQL", &url, 18772, 20_000).await
        })
        .await;
    }
    if run("table") {
        common::with_postgres("kitreview_table", |url| async move {
            table("PostgreSQL", &url, 18774, 2_000).await
        })
        .await;
    }
    if run("copy") {
        let sqlite = std::env::var_os("BENCH_COPY_SQLITE")
            .map_or_else(|| dir.path().join("copy.db"), std::path::PathBuf::from);
        common::with_postgres("kitreview_copy", |url| async move {
            copy(&sqlite, &url, 20_000).await
        })
        .await;
    }
}
