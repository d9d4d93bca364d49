//! What the benchmarks share: configuration, the release server process, memory readings.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kitreview::config::{AuthArgs, DbArgs, ExternalUserClaim};
use kitreview::db::SqliteSync;

pub const SECRET: &str = "bench-secret-that-is-at-least-32-bytes!!";

/// Token settings, with cheap password hashing (the benchmarks sign in many times).
pub fn auth() -> AuthArgs {
    AuthArgs {
        jwt_secret: Some(SECRET.parse().expect("infallible")),
        jwt_issuer: "kitreview".into(),
        jwt_audience: "kitreview".into(),
        token_ttl: Duration::from_secs(3600),
        session_ttl: Duration::from_secs(3600),
        secure_cookies: kitreview::config::SecureCookies::Auto,
        jwt_leeway_secs: 30,
        external_issuer: None,
        external_audience: None,
        external_algorithm: None,
        external_public_key_file: None,
        external_jwks_file: None,
        external_user_claim: ExternalUserClaim::Email,
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        cors_origins: Vec::new(),
    }
}

pub fn db_args(url: &str) -> DbArgs {
    DbArgs {
        database_url: url.into(),
        db_max_connections: 16,
        sqlite_synchronous: SqliteSync::Full,
        db_busy_timeout: Duration::from_secs(10),
        db_acquire_timeout: Duration::from_secs(10),
    }
}

/// The "cycle page" query: the revision's sections and blocks, the comment
/// counts per section, the first 100 comments with their authors,
/// organizations, anchors and up to 10 replies each.
pub const CYCLE_PAGE: &str = "query CyclePage($c: ID!, $r: ID!) { revision: node(id: $r) { ... on Revision { number sections { anchorId clause title blocks { anchorId kind text } } commentCounts { sectionAnchorId count } } } cycle: node(id: $c) { ... on ReviewCycle { title status closesAt comments(first: 100) { totalCount pageInfo { hasNextPage endCursor } nodes { id number type typeCode state body proposedChange late anchor { kind sectionAnchorId blockAnchorId quote { exact start end } } author { displayName } organization { shortName countryCode } viewerCanEdit replies(first: 10) { totalCount nodes { body author { displayName } organization { shortName } } } } } } } }";

/// The release server binary on `url`.
pub fn start_server(url: &str, port: u16) -> Child {
    start_server_with(url, port, &[])
}

/// The release server binary on `url`, with `env` set on top of (and
/// overriding) the benchmarks' usual settings. `BENCH_SERVER_BIN` names
/// another server binary (an older build, to compare with).
pub fn start_server_with(url: &str, port: u16, env: &[(&str, &str)]) -> Child {
    server_command(url, port, env)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the release server")
}

/// The same server with its log written to `log` (as to a log file).
#[allow(dead_code)]
pub fn start_server_logged(
    url: &str,
    port: u16,
    env: &[(&str, &str)],
    log: &std::path::Path,
) -> Child {
    let file = std::fs::File::create(log).expect("log file");
    server_command(url, port, env)
        .stderr(Stdio::from(file))
        .spawn()
        .expect("start the release server")
}

fn server_command(url: &str, port: u16, env: &[(&str, &str)]) -> Command {
    let bin = std::env::var_os("BENCH_SERVER_BIN")
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_kitreview").into());
    let mut c = Command::new(bin);
    c.args([
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--database-url",
        url,
    ])
    .env("KITREVIEW_JWT_SECRET", SECRET)
    .env("KITREVIEW_LOG", "warn")
    .env("KITREVIEW_DB_MAX_CONNECTIONS", "16")
    // Every benchmark client comes from 127.0.0.1.
    .env("KITREVIEW_MAX_CONNECTIONS_PER_ADDRESS", "0")
    .env("KITREVIEW_WS_MAX_PENDING_PER_ADDRESS", "0")
    .envs(env.iter().copied())
    .stdout(Stdio::null());
    c
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Resident memory now.
pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// Peak resident memory so far.
pub fn peak_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:")
}

/// Wait until the server answers `/readyz`.
pub async fn wait_ready(http: &reqwest::Client, port: u16) {
    for _ in 0..200 {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
        {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

/// The PostgreSQL database for benchmarks, if one is configured.
pub fn postgres_url() -> Option<String> {
    std::env::var("BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("TEST_POSTGRES_URL"))
        .ok()
        .filter(|u| !u.is_empty())
}

/// Run `f` on a fresh PostgreSQL database (created, then dropped), if one is configured.
pub async fn with_postgres<F, Fut>(prefix: &str, f: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use sqlx::Connection as _;
    let Some(admin) = postgres_url() else {
        println!("(set BENCH_POSTGRES_URL to benchmark PostgreSQL too)");
        return;
    };
    let name = format!("{prefix}_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(&admin).await.expect("postgres");
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create");
    let mut u = url::Url::parse(&admin).expect("url");
    u.set_path(&format!("/{name}"));
    f(u.to_string()).await;
    let _ = sqlx::Executor::execute(
        &mut conn,
        format!("DROP DATABASE {name} WITH (FORCE)").as_str(),
    )
    .await;
}

/// What every benchmark starts from: one organization and user per country
/// (the first user a rapporteur of the question), a question, a kit, a module.
pub struct Base {
    pub users: Vec<kitreview::db::accounts::UserRow>,
    pub rapporteur: kitreview::auth::AuthUser,
    pub module_id: i64,
}

pub async fn base(state: &kitreview::state::AppState, countries: &[(&str, &str)]) -> Base {
    use kitreview::domain::accounts::{OrganizationKind, Role};
    use kitreview::service::{accounts, modules, session, Actor};
    let mut users = Vec::new();
    for (i, (name, cc)) in countries.iter().enumerate() {
        let org = accounts::create_organization(
            state,
            Actor::Operator,
            accounts::OrganizationInput {
                name: name.to_string(),
                short_name: name.to_string(),
                kind: OrganizationKind::MemberState,
                country_code: Some(cc.to_string()),
                region: None,
            },
        )
        .await
        .expect("org");
        users.push(
            accounts::create_user(
                state,
                Actor::Operator,
                accounts::UserInput {
                    email: format!("user{i}@bench.example"),
                    display_name: format!("Delegate of {name}"),
                    organization_id: Some(org.id),
                    roles: vec![if i == 0 {
                        Role::Rapporteur
                    } else {
                        Role::Member
                    }],
                    password: Some("bench password 123".into()),
                    external_subject: None,
                },
            )
            .await
            .expect("user"),
        );
    }
    let q = accounts::create_question(state, Actor::Operator, "17-2/2", "Bench", None)
        .await
        .expect("question");
    accounts::assign_rapporteur(state, Actor::Operator, q.id, users[0].id)
        .await
        .expect("assign");
    let kit = modules::create_kit(state, Actor::Operator, q.id, "Kit", "")
        .await
        .expect("kit");
    let module = modules::create_module(state, Actor::Operator, kit.id, 1, "Bench")
        .await
        .expect("module");
    let rapporteur = session::auth_user(state, users[0].id)
        .await
        .expect("viewer");
    Base {
        users,
        rapporteur,
        module_id: module.id,
    }
}

/// A bearer token for a user.
pub fn token(state: &kitreview::state::AppState, u: &kitreview::db::accounts::UserRow) -> String {
    state
        .tokens
        .issue(
            u.id,
            u.password_version,
            u.token_epoch,
            Duration::from_secs(7200),
        )
        .expect("token")
        .0
}
