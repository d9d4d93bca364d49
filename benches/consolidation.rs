//! Benchmark: consolidation at meeting scale, release build.
//!
//! - carrying 10,000 comments (blocks, quotes, sections) of revision 1 forward
//!   to a revision 2 of 1,000 blocks (5% rewritten, 2% moved, 2% deleted):
//!   the whole `createRevision` (parse, anchors, projection, storage), in process;
//! - exporting a cycle of 2,000 and of 20,000 comments as CSV and as XLSX from the release
//!   server binary over HTTP: time to the last byte, and the server's resident
//!   memory before, and its peak after each export (a fresh server for each).
//!
//! `cargo bench --bench consolidation` (SQLite); PostgreSQL too with
//! `BENCH_POSTGRES_URL` (or `TEST_POSTGRES_URL`).

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

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("dir");
    let carry_db = format!("sqlite:{}", dir.path().join("carry.db").display());
    carry("SQLite", &carry_db).await;
    // Two sizes: the CSV's peak memory must not follow the number of comments.
    for n in [2_000, 20_000] {
        let export_db = format!(
            "sqlite:{}",
            dir.path().join(format!("export{n}.db")).display()
        );
        export("SQLite", &export_db, 18771, n).await;
    }
    common::with_postgres("kitreview_carry", |url| async move {
        carry("PostgreSQL", &url).await
    })
    .await;
    common::with_postgres("kitreview_export", |url| async move {
        export("PostgreSQL", &url, 18772, 20_000).await
    })
    .await;
}
