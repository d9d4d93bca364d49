//! Benchmark: the release server's resident memory (VmRSS) idle, after a
//! burst of 24 concurrent sign-ins (argon2id at the default 19 MiB per hash),
//! and 1, 5 and 10 s later; three bursts in a row. SQLite only (the memory in
//! question is the server's, not the database's).
//!
//! `cargo bench --bench memory`; `BENCH_SERVER_BIN` measures another build.

mod common;

use std::sync::Arc;
use std::time::Duration;

use kitreview::clock::SystemClock;
use kitreview::config::LimitArgs;

const SIGN_INS: usize = 24;

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite:{}", dir.path().join("memory.db").display());
    // Accounts hashed with the server's default cost, as real ones are.
    let mut auth = common::auth();
    auth.argon2_memory_kib = 19_456;
    auth.argon2_iterations = 2;
    {
        let state = kitreview::app::build_state(
            &common::db_args(&url),
            &auth,
            LimitArgs::default(),
            false,
            Arc::new(SystemClock),
        )
        .await
        .expect("state");
        let base = common::base(&state, &[("Kenya", "KE")]).await;
        // One account per sign-in: concurrent attempts on one account are
        // throttled (5 at a time) before any password is checked.
        for i in 0..SIGN_INS {
            kitreview::service::accounts::create_user(
                &state,
                kitreview::service::Actor::Operator,
                kitreview::service::accounts::UserInput {
                    email: format!("signer{i}@bench.example"),
                    display_name: format!("Signer {i}"),
                    organization_id: Some(base.users[0].organization_id),
                    roles: vec![kitreview::domain::accounts::Role::Member],
                    password: Some("bench password 123".into()),
                    external_subject: None,
                },
            )
            .await
            .expect("user");
        }
        state.db.close().await;
    }
    let port = 18791;
    // Each sign-in from an address of its own (the address throttle allows 20
    // attempts in flight from one).
    let mut server =
        common::start_server_with(&url, port, &[("KITREVIEW_TRUST_FORWARDED_FOR", "true")]);
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = server.id();
    let idle = common::rss_kib(pid);
    println!("memory: idle {}", mib(idle));
    let http = reqwest::Client::new();
    for round in 1..=3 {
        let started = std::time::Instant::now();
        let mut tasks = Vec::new();
        for i in 0..SIGN_INS {
            let body = serde_json::json!({
                "query": "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }",
                "variables": { "e": format!("signer{i}@bench.example"), "p": "bench password 123" }
            });
            let http = http.clone();
            let url = format!("http://127.0.0.1:{port}/graphql");
            tasks.push(tokio::spawn(async move {
                let res: serde_json::Value = http
                    .post(url)
                    .header("x-forwarded-for", format!("198.51.100.{}", i + 1))
                    .json(&body)
                    .send()
                    .await
                    .expect("sign-in")
                    .json()
                    .await
                    .expect("json");
                res["data"]["login"]["token"].is_string()
            }));
        }
        let mut ok = 0;
        for t in tasks {
            if t.await.unwrap_or(false) {
                ok += 1;
            }
        }
        let after = common::rss_kib(pid);
        let took = started.elapsed();
        let mut later = Vec::new();
        for wait in [1u64, 4, 5] {
            tokio::time::sleep(Duration::from_secs(wait)).await;
            later.push(common::rss_kib(pid));
        }
        println!(
            "memory: burst {round}: {ok}/{SIGN_INS} sign-ins in {:.2} s; RSS {} right after, {} after 1 s, {} after 5 s, {} after 10 s ({:.1}x idle)",
            took.as_secs_f64(),
            mib(after),
            mib(later[0]),
            mib(later[1]),
            mib(later[2]),
            later[2] as f64 / idle as f64
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}
