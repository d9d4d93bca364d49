//! Test harness: a real server on port 0 over a fresh database (SQLite file, or
//! a new PostgreSQL database when `TEST_POSTGRES_URL` is set), with a clock the
//! test moves by hand.

#![allow(dead_code)]

pub mod committee;
pub mod proxy;
pub mod ws;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use kitreview::clock::ManualClock;
use kitreview::config::{AuthArgs, DbArgs, ExternalUserClaim, LimitArgs};
use kitreview::db::SqliteSync;
use kitreview::domain::accounts::Role;
use kitreview::service::{accounts as service, Actor};
use kitreview::state::AppState;
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// The HS256 secret every test server uses.
pub const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long!";
/// The password of accounts made by [`TestServer::user`].
pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Run each listed `async fn name(backend)` once per database.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

/// The PostgreSQL server for tests; `None` skips (but fails under CI).
pub fn postgres_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set but TEST_POSTGRES_URL is not: the PostgreSQL tests must run");
            }
            eprintln!("TEST_POSTGRES_URL is not set: skipping the PostgreSQL run of this test");
            None
        }
    }
}

/// A database made for one test and dropped after it.
pub struct TestDb {
    pub url: String,
    sqlite_dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite:{}", dir.path().join("kitreview.db").display());
                Some(Self {
                    url,
                    sqlite_dir: Some(dir),
                    pg: None,
                })
            }
            Backend::Postgres => {
                let admin = postgres_url()?;
                let name = format!("kitreview_t_{}", random_suffix());
                let mut conn = connect_admin(&admin).await;
                sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create test database");
                let mut url = url::Url::parse(&admin).expect("TEST_POSTGRES_URL is a URL");
                url.set_path(&format!("/{name}"));
                Some(Self {
                    url: url.to_string(),
                    sqlite_dir: None,
                    pg: Some((admin, name)),
                })
            }
        }
    }

    /// The folder of an SQLite database.
    pub fn dir(&self) -> Option<PathBuf> {
        self.sqlite_dir.as_ref().map(|d| d.path().to_path_buf())
    }
}

async fn connect_admin(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection as _;
    sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at TEST_POSTGRES_URL: {e}"))
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            // Drop runs outside async code: use a runtime of its own on a thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    let mut conn = connect_admin(&admin).await;
                    let _ = sqlx::Executor::execute(
                        &mut conn,
                        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                    )
                    .await;
                });
            })
            .join();
        }
    }
}

fn random_suffix() -> String {
    use rand::Rng as _;
    let mut rng = rand::thread_rng();
    (0..12)
        .map(|_| char::from(b'a' + rng.gen_range(0..26)))
        .collect()
}

/// The start of every test clock.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
        .expect("valid")
        .with_timezone(&Utc)
}

pub fn db_args(url: &str) -> DbArgs {
    DbArgs {
        database_url: url.to_owned(),
        db_max_connections: 10,
        sqlite_synchronous: SqliteSync::Normal,
        db_busy_timeout: Duration::from_secs(10),
        db_acquire_timeout: Duration::from_secs(10),
    }
}

pub fn auth_args() -> AuthArgs {
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
        // Cheap hashes: the tests sign in hundreds of times.
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        cors_origins: Vec::new(),
    }
}

/// A running server.
pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub clock: ManualClock,
    pub state: AppState,
    pub http: reqwest::Client,
    pub db: TestDb,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

/// Options for [`TestServer::start_with`].
pub struct Options {
    pub auth: AuthArgs,
    pub limits: LimitArgs,
    pub trust_forwarded_for: bool,
    /// Changes to the database settings.
    pub db: fn(&mut DbArgs),
    /// Where `/metrics` is served.
    pub metrics: kitreview::config::MetricsMode,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            auth: auth_args(),
            limits: LimitArgs::default(),
            trust_forwarded_for: false,
            db: |_| {},
            metrics: kitreview::config::MetricsMode::On,
        }
    }
}

impl TestServer {
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, Options::default()).await
    }

    pub async fn start_with(backend: Backend, opts: Options) -> Option<Self> {
        let db = TestDb::new(backend).await?;
        Some(Self::start_in(db, opts).await)
    }

    /// A server on an existing database URL (the caller keeps the database).
    pub async fn start_on(url: &str, opts: Options) -> Self {
        let db = TestDb {
            url: url.to_owned(),
            sqlite_dir: None,
            pg: None,
        };
        Self::start_in(db, opts).await
    }

    async fn start_in(db: TestDb, opts: Options) -> Self {
        let clock = ManualClock::new(t0());
        let mut args = db_args(&db.url);
        (opts.db)(&mut args);
        let state = kitreview::app::build_state(
            &args,
            &opts.auth,
            opts.limits,
            opts.trust_forwarded_for,
            Arc::new(clock.clone()),
        )
        .await
        .expect("server state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let serve_state = state.clone();
        let opts_metrics = opts.metrics;
        let handle = tokio::spawn(async move {
            kitreview::app::serve(listener, serve_state, opts_metrics, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        Self {
            base: format!("http://{addr}"),
            addr,
            clock,
            state,
            http: reqwest::Client::new(),
            db,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    /// Stop accepting, finish requests in flight, close the database.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }

    /// The server's (test) clock now.
    pub fn clock_now(&self) -> DateTime<Utc> {
        use kitreview::clock::Clock as _;
        self.clock.now()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// POST a GraphQL operation; the parsed JSON body (any status).
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.gql_raw(token, query, variables).await.1
    }

    /// POST a GraphQL operation; status and body.
    pub async fn gql_raw(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .post(self.url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let body = res.json::<Value>().await.expect("JSON body");
        (status, body)
    }

    /// POST a GraphQL operation from a task of its own (for concurrent calls); the JSON body.
    pub fn spawn_gql(
        &self,
        token: &str,
        query: &'static str,
        variables: Value,
    ) -> tokio::task::JoinHandle<Value> {
        let (url, http, token) = (self.url("/graphql"), self.http.clone(), token.to_owned());
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({ "query": query, "variables": variables }))
                .send()
                .await
                .expect("request")
                .json::<Value>()
                .await
                .expect("JSON")
        })
    }

    /// Like [`gql`](Self::gql) but panics on any error; returns `data`.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// Create an account directly (as the operator would) and return its global id.
    pub async fn user(&self, email: &str, org_short: &str, roles: &[Role]) -> String {
        let org = {
            let mut pooled = self.state.db.read().await.expect("db");
            kitreview::db::accounts::organization_by_short_name(&mut pooled.conn(), org_short)
                .await
                .expect("query")
                .map(|o| o.id)
        };
        let row = service::create_user(
            &self.state,
            Actor::Operator,
            service::UserInput {
                email: email.into(),
                display_name: format!("Test {email}"),
                organization_id: org,
                roles: roles.to_vec(),
                password: Some(PASSWORD.into()),
                external_subject: None,
            },
        )
        .await
        .expect("create user");
        kitreview::domain::ids::GlobalId::new(kitreview::domain::ids::NodeKind::User, row.id)
            .to_string()
    }

    /// Create an organization directly and return its global id.
    pub async fn org(&self, short: &str, country: Option<&str>) -> String {
        use kitreview::domain::accounts::OrganizationKind;
        let row = service::create_organization(
            &self.state,
            Actor::Operator,
            service::OrganizationInput {
                name: format!("{short} (test)"),
                short_name: short.into(),
                kind: if country.is_some() {
                    OrganizationKind::MemberState
                } else {
                    OrganizationKind::InternationalOrganization
                },
                country_code: country.map(Into::into),
                region: None,
            },
        )
        .await
        .expect("create organization");
        kitreview::domain::ids::GlobalId::new(
            kitreview::domain::ids::NodeKind::Organization,
            row.id,
        )
        .to_string()
    }

    /// Sign in over the API; the token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let data = self
            .ok(
                None,
                "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }",
                json!({ "e": email, "p": password }),
            )
            .await;
        data["login"]["token"].as_str().expect("token").to_owned()
    }

    /// A signed-in SECRETARIAT user; its token.
    pub async fn secretariat(&self) -> String {
        self.user("secretariat@itu.example", "ITU", &[Role::Secretariat])
            .await;
        self.login("secretariat@itu.example", PASSWORD).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The `extensions.code` of the first error.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body:#}"))
}
