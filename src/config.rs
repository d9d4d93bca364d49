//! Typed configuration from command-line flags and `KITREVIEW_*` environment variables.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::db::{DbOptions, SqliteSync};
use crate::domain::accounts::Role;

/// kitreview: comment-and-review service for ITU-D Question 17 toolkit modules.
#[derive(Debug, Parser)]
#[command(name = "kitreview", version, about)]
pub struct Cli {
    /// How log lines are written to standard error: `text`, or `json` (one
    /// JSON object per line, for a log collector).
    #[arg(
        long,
        global = true,
        env = "KITREVIEW_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the GraphQL server.
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate(DbArgs),
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Mint an access token for a user, for scripts.
    Token(TokenArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Copy the SQLite database and its signing-secret file, while the server runs.
    Backup(BackupArgs),
    /// Replace the SQLite database (and its signing secret) with a backup; stop the server first.
    Restore(RestoreArgs),
    /// Move an SQLite database into a new PostgreSQL database; stop the server first.
    Copy(CopyArgs),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create(UserCreateArgs),
    /// Set a user's password, read from standard input; their earlier tokens
    /// stop working and a sign-in lock is lifted.
    SetPassword(UserSetPasswordArgs),
}

/// A secret value: parsed from config, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("'{s}' is not a duration like 30s or 12h: {e}"))
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.to_ascii_uppercase()
        .parse::<Role>()
        .map_err(|_| format!("'{s}' is not a role (MEMBER, RAPPORTEUR or SECRETARIAT)"))
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Database URL: `sqlite:PATH` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "KITREVIEW_DATABASE_URL",
        default_value = "sqlite:kitreview.db"
    )]
    pub database_url: String,
    /// PostgreSQL connection pool size for requests. Live updates keep 3
    /// connections of their own on top of it (LISTEN, loading events, the
    /// clock watch).
    #[arg(long, env = "KITREVIEW_DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,
    /// SQLite `synchronous` level: `full` (a commit survives a power cut) or `normal`.
    #[arg(
        long,
        env = "KITREVIEW_SQLITE_SYNCHRONOUS",
        value_enum,
        default_value = "full"
    )]
    pub sqlite_synchronous: SqliteSync,
    /// How long a statement waits for a database lock or a pooled connection.
    #[arg(long, env = "KITREVIEW_DB_BUSY_TIMEOUT", value_parser = parse_duration, default_value = "5s")]
    pub db_busy_timeout: Duration,
    /// How long a request waits for a database connection before it is
    /// answered UNAVAILABLE (503 with `Retry-After`).
    #[arg(long, env = "KITREVIEW_DB_ACQUIRE_TIMEOUT", value_parser = parse_duration, default_value = "2s")]
    pub db_acquire_timeout: Duration,
}

impl DbArgs {
    pub fn options(&self) -> DbOptions {
        DbOptions {
            url: self.database_url.clone(),
            max_connections: self.db_max_connections,
            sqlite_synchronous: self.sqlite_synchronous,
            busy_timeout: self.db_busy_timeout,
            acquire_timeout: self.db_acquire_timeout,
        }
    }

    /// The SQLite database file, when the URL names one.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        sqlite_path_of(&self.database_url)
    }
}

/// The SQLite database file a `sqlite:` URL names (not another URL's, nor an in-memory one).
pub fn sqlite_path_of(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.contains(":memory:") {
        None
    } else {
        Some(PathBuf::from(path))
    }
}

/// Algorithms accepted from an external identity provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExternalAlgorithm {
    #[value(name = "RS256")]
    Rs256,
    #[value(name = "ES256")]
    Es256,
    #[value(name = "EdDSA")]
    EdDsa,
}

/// Which claim of an external token names the kitreview user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExternalUserClaim {
    /// The `email` claim, matched case-insensitively against users' e-mail addresses.
    Email,
    /// The `sub` claim, matched against the user's external subject.
    Sub,
}

/// Tokens and passwords.
/// When the session cookie is marked `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecureCookies {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// HS256 signing secret, at least 32 bytes. With SQLite and no secret, one is
    /// generated and kept beside the database file.
    #[arg(long, env = "KITREVIEW_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,
    /// `iss` of the tokens this server issues (and requires).
    #[arg(long, env = "KITREVIEW_JWT_ISSUER", default_value = "kitreview")]
    pub jwt_issuer: String,
    /// `aud` of the tokens this server issues (and requires).
    #[arg(long, env = "KITREVIEW_JWT_AUDIENCE", default_value = "kitreview")]
    pub jwt_audience: String,
    /// Lifetime of tokens returned by `login`.
    #[arg(long, env = "KITREVIEW_TOKEN_TTL", value_parser = parse_duration, default_value = "12h")]
    pub token_ttl: Duration,
    /// Lifetime of a workspace session: the browser's sign-in cookie.
    #[arg(long, env = "KITREVIEW_SESSION_TTL", value_parser = parse_duration, default_value = "12h")]
    pub session_ttl: Duration,
    /// Mark the session cookie `Secure` (sent over HTTPS only): `auto` does
    /// when the request came over TLS (`X-Forwarded-Proto: https` from the
    /// proxy that terminates it).
    #[arg(
        long,
        env = "KITREVIEW_SECURE_COOKIES",
        value_enum,
        default_value = "auto"
    )]
    pub secure_cookies: SecureCookies,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds (at most 30).
    #[arg(long, env = "KITREVIEW_JWT_LEEWAY_SECS", default_value_t = 30)]
    pub jwt_leeway_secs: u64,
    /// Issuer (`iss`) of an external identity provider whose tokens are accepted.
    #[arg(long, env = "KITREVIEW_EXTERNAL_ISSUER")]
    pub external_issuer: Option<String>,
    /// Audience (`aud`) required in external tokens.
    #[arg(long, env = "KITREVIEW_EXTERNAL_AUDIENCE")]
    pub external_audience: Option<String>,
    /// The one algorithm accepted from the external provider.
    #[arg(long, env = "KITREVIEW_EXTERNAL_ALGORITHM", value_enum)]
    pub external_algorithm: Option<ExternalAlgorithm>,
    /// The external provider's public key, a PEM file.
    #[arg(long, env = "KITREVIEW_EXTERNAL_PUBLIC_KEY_FILE")]
    pub external_public_key_file: Option<PathBuf>,
    /// The external provider's keys, a JWKS file (keys chosen by `kid`).
    #[arg(long, env = "KITREVIEW_EXTERNAL_JWKS_FILE")]
    pub external_jwks_file: Option<PathBuf>,
    /// Which claim maps an external token to a user.
    #[arg(
        long,
        env = "KITREVIEW_EXTERNAL_USER_CLAIM",
        value_enum,
        default_value = "email"
    )]
    pub external_user_claim: ExternalUserClaim,
    /// Argon2id memory cost in KiB (OWASP minimum: 19456).
    #[arg(long, env = "KITREVIEW_ARGON2_MEMORY_KIB", default_value_t = 19_456)]
    pub argon2_memory_kib: u32,
    /// Argon2id iterations.
    #[arg(long, env = "KITREVIEW_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,
    /// Web pages on other origins that may call the API from a browser (a Word
    /// add-in, another front end), e.g. `https://addin.example.org`;
    /// comma-separated, none by default. They sign in with a bearer token: the
    /// session cookie never works from another site.
    #[arg(long, env = "KITREVIEW_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
}

/// What one request may cost.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "KITREVIEW_BODY_LIMIT_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub body_limit_bytes: usize,
    /// Longest a request may run before it is answered 503 TIMEOUT (with nothing
    /// stored); a request that has sent its COMMIT runs to its end.
    #[arg(long, env = "KITREVIEW_REQUEST_TIMEOUT", value_parser = parse_duration, default_value = "30s")]
    pub request_timeout: Duration,
    /// Deepest allowed query (the standard introspection query needs 13).
    #[arg(long, env = "KITREVIEW_MAX_QUERY_DEPTH", default_value_t = 15)]
    pub max_query_depth: usize,
    /// Highest allowed query complexity (each field costs 1, list fields multiply by their page size).
    #[arg(long, env = "KITREVIEW_MAX_QUERY_COMPLEXITY", default_value_t = 20_000)]
    pub max_query_complexity: usize,
    /// Largest accepted module draft (Markdown), in bytes.
    #[arg(long, env = "KITREVIEW_MAX_MARKDOWN_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_markdown_bytes: usize,
    /// Largest accepted comments spreadsheet (CSV or XLSX) upload, in bytes.
    #[arg(long, env = "KITREVIEW_MAX_UPLOAD_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_upload_bytes: usize,
    /// Most bytes an XLSX upload may expand to, all its zip entries together
    /// (each entry is read through this cap: declared sizes are not trusted).
    #[arg(long, env = "KITREVIEW_MAX_UPLOAD_EXPANDED_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_upload_expanded_bytes: u64,
    /// Highest compression ratio of one zip entry of an XLSX upload (entries
    /// expanding past 1 MiB); above it the upload is refused as a zip bomb.
    #[arg(long, env = "KITREVIEW_MAX_UPLOAD_ZIP_RATIO", default_value_t = 100)]
    pub max_upload_zip_ratio: u64,
    /// Serve schema introspection to signed-in users (GraphiQL needs it).
    #[arg(long, env = "KITREVIEW_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,
    /// Serve schema introspection to anonymous requests too.
    #[arg(long, env = "KITREVIEW_ANONYMOUS_INTROSPECTION", default_value_t = false, action = clap::ArgAction::Set)]
    pub anonymous_introspection: bool,
    /// Longest accepted GraphQL document (the `query` text), in bytes.
    #[arg(long, env = "KITREVIEW_MAX_QUERY_BYTES", default_value_t = 64 * 1024)]
    pub max_query_bytes: usize,
    /// Most fragments one document may define.
    #[arg(long, env = "KITREVIEW_MAX_FRAGMENTS", default_value_t = 100)]
    pub max_fragments: usize,
    /// Most fields one operation may select once its fragments are inlined.
    #[arg(long, env = "KITREVIEW_MAX_EXPANDED_FIELDS", default_value_t = 5_000)]
    pub max_expanded_fields: u64,
    /// Most aliased fields in one operation (fragments inlined).
    #[arg(long, env = "KITREVIEW_MAX_ALIASES", default_value_t = 100)]
    pub max_aliases: u64,
    /// Most root fields in one operation (fragments inlined).
    #[arg(long, env = "KITREVIEW_MAX_ROOT_FIELDS", default_value_t = 50)]
    pub max_root_fields: u64,
    /// Largest response a query or mutation may produce, in bytes (else RESPONSE_TOO_LARGE).
    #[arg(long, env = "KITREVIEW_MAX_RESPONSE_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_response_bytes: usize,
    /// Memory kept for computed revision diffs (revisions never change), in bytes.
    #[arg(long, env = "KITREVIEW_DIFF_CACHE_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub diff_cache_bytes: u64,
    /// Memory kept for revisions rendered as HTML for the workspace, in bytes.
    #[arg(long, env = "KITREVIEW_HTML_CACHE_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub html_cache_bytes: u64,
    /// How long a WebSocket client has to send `connection_init` (else closed with 4408).
    #[arg(long, env = "KITREVIEW_WS_INIT_TIMEOUT", value_parser = parse_duration, default_value = "3s")]
    pub ws_init_timeout: Duration,
    /// Most subscriptions running at once on one WebSocket connection.
    #[arg(long, env = "KITREVIEW_WS_MAX_SUBSCRIPTIONS", default_value_t = 50)]
    pub ws_max_subscriptions: usize,
    /// Most WebSocket connections served at once by this instance.
    #[arg(long, env = "KITREVIEW_WS_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub ws_max_connections: usize,
    /// Most WebSockets waiting for `connection_init` to be acknowledged, from
    /// all clients together (over it the upgrade is answered 503). They do not
    /// count against `--ws-max-connections` until acknowledged.
    #[arg(long, env = "KITREVIEW_WS_MAX_PENDING", default_value_t = 256)]
    pub ws_max_pending: usize,
    /// Most unacknowledged WebSockets from one client address (an IPv6 /64);
    /// 0 for no such limit.
    #[arg(
        long,
        env = "KITREVIEW_WS_MAX_PENDING_PER_ADDRESS",
        default_value_t = 16
    )]
    pub ws_max_pending_per_address: usize,
    /// Time a client has to send a request's line and headers, counted from
    /// when the server starts waiting for them: on a new connection and again
    /// after each response on a kept-alive one. Over it the connection is closed.
    #[arg(long, env = "KITREVIEW_HEADER_READ_TIMEOUT", value_parser = parse_duration, default_value = "10s")]
    pub header_read_timeout: Duration,
    /// An HTTP connection on which no request is being handled and no byte
    /// has moved either way for this long is closed (a client that stops
    /// reading a response, an idle keep-alive). WebSockets have their own rules.
    #[arg(long, env = "KITREVIEW_IDLE_TIMEOUT", value_parser = parse_duration, default_value = "30s")]
    pub idle_timeout: Duration,
    /// Most TCP connections open at once (WebSockets included); a connection
    /// over it is closed as soon as it is accepted. Keep it below the
    /// process's open-file limit (`ulimit -n`).
    #[arg(long, env = "KITREVIEW_MAX_CONNECTIONS", default_value_t = 16_384)]
    pub max_connections: usize,
    /// Most TCP connections open at once from one client address (an IPv6
    /// /64); 0 for no such limit. Behind a reverse proxy every connection
    /// comes from the proxy: raise it or set 0 there.
    #[arg(
        long,
        env = "KITREVIEW_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 256
    )]
    pub max_connections_per_address: usize,
}

impl Default for LimitArgs {
    fn default() -> Self {
        Self {
            body_limit_bytes: 4 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            max_query_depth: 15,
            max_query_complexity: 20_000,
            max_markdown_bytes: 2 * 1024 * 1024,
            max_upload_bytes: 4 * 1024 * 1024,
            max_upload_expanded_bytes: 64 * 1024 * 1024,
            max_upload_zip_ratio: 100,
            introspection: true,
            anonymous_introspection: false,
            max_query_bytes: 64 * 1024,
            max_fragments: 100,
            max_expanded_fields: 5_000,
            max_aliases: 100,
            max_root_fields: 50,
            max_response_bytes: 32 * 1024 * 1024,
            diff_cache_bytes: 64 * 1024 * 1024,
            html_cache_bytes: 32 * 1024 * 1024,
            ws_init_timeout: Duration::from_secs(3),
            ws_max_subscriptions: 50,
            ws_max_connections: 10_000,
            ws_max_pending: 256,
            ws_max_pending_per_address: 16,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_connections: 16_384,
            max_connections_per_address: 256,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KITREVIEW_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Load the Question 17 demo data (idempotent) and print the demo sign-ins.
    #[arg(long, env = "KITREVIEW_DEMO", default_value_t = false)]
    pub demo: bool,
    /// Load the demo even into a database that holds other accounts or
    /// organizations (it adds a SECRETARIAT account whose password is public).
    #[arg(
        long,
        env = "KITREVIEW_DEMO_FORCE",
        default_value_t = false,
        requires = "demo"
    )]
    pub demo_force: bool,
    /// Take the client address for sign-in throttling from `X-Forwarded-For`
    /// (only behind a proxy that sets it).
    #[arg(long, env = "KITREVIEW_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
    /// Where `GET /metrics` (Prometheus text format) is served: `on` (the
    /// main listener), `off`, or an address of its own such as 127.0.0.1:9464.
    #[arg(long, env = "KITREVIEW_METRICS", default_value = "on")]
    pub metrics: MetricsMode,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Clone, Args)]
pub struct UserCreateArgs {
    /// E-mail address (the sign-in name).
    #[arg(long)]
    pub email: String,
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// Role; repeat for several (MEMBER, RAPPORTEUR, SECRETARIAT).
    #[arg(long = "role", required = true, value_parser = parse_role)]
    pub roles: Vec<Role>,
    /// Short name of the user's organization; a SECRETARIAT user defaults to ITU.
    #[arg(long)]
    pub organization: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
}

#[derive(Debug, Clone, Args)]
pub struct UserSetPasswordArgs {
    /// The user's e-mail address.
    #[arg(long)]
    pub email: String,
    /// A temporary password: it signs in (for 7 days) only to choose a new one.
    #[arg(long)]
    pub temporary: bool,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The user's e-mail address.
    #[arg(long)]
    pub email: String,
    /// Token lifetime.
    #[arg(long, value_parser = parse_duration, default_value = "1h")]
    pub ttl: Duration,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The file to write; the signing secret, if the database has a secret
    /// file, goes beside it as FILE.jwt-secret (mode 0600).
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
    /// Replace FILE (and FILE.jwt-secret) if they exist.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// The backup (made by `kitreview backup`); FILE.jwt-secret beside it is
    /// restored as the database's signing secret.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Replace a database that holds data.
    #[arg(long)]
    pub force: bool,
    /// Only check FILE as a restore would (integrity, migrations); change nothing.
    #[arg(long, conflicts_with = "force")]
    pub check: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Clone, Args)]
pub struct CopyArgs {
    /// The SQLite database, `sqlite:PATH`, at this kitreview's migration level, no server on it.
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The PostgreSQL database, `postgres://USER@HOST/DB`: new and empty (it is migrated first).
    #[arg(long, value_name = "URL")]
    pub to: String,
}

/// Where `/metrics` is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsMode {
    /// On the main listener.
    On,
    /// Not at all.
    Off,
    /// On a listener of its own (and not on the main one).
    Listen(std::net::SocketAddr),
}

impl FromStr for MetricsMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "on" | "true" => Ok(MetricsMode::On),
            "off" | "false" => Ok(MetricsMode::Off),
            other => other.parse().map(MetricsMode::Listen).map_err(|_| {
                format!("'{other}' is neither on, off nor an address such as 127.0.0.1:9464")
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let s: Secret = "super-secret-value".parse().expect("infallible");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn sqlite_paths() {
        let mut db = DbArgs {
            database_url: "sqlite:data/k.db?mode=rwc".into(),
            db_max_connections: 1,
            sqlite_synchronous: SqliteSync::Full,
            db_busy_timeout: Duration::from_secs(1),
            db_acquire_timeout: Duration::from_secs(1),
        };
        assert_eq!(db.sqlite_path(), Some(PathBuf::from("data/k.db")));
        db.database_url = "sqlite::memory:".into();
        assert_eq!(db.sqlite_path(), None);
        db.database_url = "postgres://root@localhost/test".into();
        assert_eq!(db.sqlite_path(), None);
    }

    #[test]
    fn cli_parses() {
        let cli = Cli::try_parse_from([
            "kitreview",
            "user",
            "create",
            "--email",
            "a@b.org",
            "--name",
            "A",
            "--role",
            "secretariat",
        ])
        .expect("parses");
        match cli.command {
            Command::User {
                command: UserCommand::Create(args),
            } => assert_eq!(args.roles, vec![Role::Secretariat]),
            other => panic!("unexpected {other:?}"),
        }
    }
}
