//! Storage: one data layer over SQLite (embedded default) and PostgreSQL.
//!
//! Each query is written once. [`Db`] holds the pools of whichever database
//! the URL names (one for requests, a small one for live updates); [`Conn`]
//! is a borrowed connection of either kind, and the [`run!`](crate::run)
//! macro expands the same `sqlx` body once per driver, so both are compiled
//! with their native types (bool, timestamps).

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod comments;
pub mod consolidation;
pub mod copy;
pub mod credentials;
pub mod cycles;
pub mod idempotency;
pub mod lock;
pub mod modules;
pub mod notifications;
pub mod search;
pub mod sessions;
pub mod sql;
pub mod stats;
pub mod throttle;
pub mod types;
pub mod versions;

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

use tokio::sync::broadcast;

use crate::domain::events::Event;
use crate::error::{AppError, AppResult};

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How the database is opened.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// `sqlite:PATH` or `postgres://...`.
    pub url: String,
    /// PostgreSQL request pool size (SQLite uses one writer and a few
    /// readers). Live updates have connections of their own on top of it:
    /// [`BACKGROUND_CONNECTIONS`].
    pub max_connections: u32,
    /// SQLite `synchronous` setting.
    pub sqlite_synchronous: SqliteSync,
    /// How long a statement waits for a lock before failing.
    pub busy_timeout: Duration,
    /// How long a caller waits for a pooled connection (then UNAVAILABLE).
    pub acquire_timeout: Duration,
}

/// The SQLite `synchronous` levels we support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqliteSync {
    /// fsync the WAL on every commit: a committed change survives a power cut.
    Full,
    /// fsync at checkpoints only: survives a crash of the process, may lose the
    /// last commits on a power cut or OS crash (never corrupts).
    Normal,
}

/// Connections live updates keep apart from the request pool on PostgreSQL:
/// the `LISTEN` connection, the dispatcher's and the clock watch's. An
/// instance opens up to `--db-max-connections` plus these.
pub const BACKGROUND_CONNECTIONS: u32 = 3;
/// SQLite readers of live updates (the dispatcher's and the clock watch's),
/// beside the request readers.
const BACKGROUND_READERS: u32 = 2;
/// The longest live updates wait for one of their connections. Only the
/// dispatcher and the clock watch use them, so a wait means the database is
/// not answering (down, restarting, refusing connections): the dispatcher
/// then tells its subscribers that events may have been missed, within this
/// time, instead of after the request pool's timeout.
const BACKGROUND_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// A pool of either database, and a count of the statements run through it.
#[derive(Clone)]
pub struct Db {
    pools: Pools,
    /// Live updates' own connections, so that they never queue behind
    /// requests for a pooled connection (see [`Db::background`]).
    background: Background,
    statements: Arc<AtomicU64>,
    /// Committed events, for this process's live updates (SQLite; on
    /// PostgreSQL they arrive through `LISTEN`, from every instance).
    committed: broadcast::Sender<Arc<Vec<Event>>>,
}

/// The PostgreSQL channel events are sent on.
pub const EVENTS_CHANNEL: &str = "kitreview_events";

#[derive(Clone)]
enum Pools {
    /// SQLite allows one writer at a time: writes go through a one-connection
    /// pool (so they queue in-process instead of failing with SQLITE_BUSY) and
    /// reads through a pool of readers (WAL lets them run during a write).
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres(PgPool),
}

/// The background pool: read-only SQLite connections (or, for an in-memory
/// database, its one connection), or a few PostgreSQL connections, opened
/// with the request pool's settings.
#[derive(Clone)]
enum Background {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A connection of either database, borrowed from a pool or a transaction.
pub struct Conn<'c> {
    pub inner: ConnInner<'c>,
    statements: &'c AtomicU64,
}

/// The driver-specific connection inside a [`Conn`].
pub enum ConnInner<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Conn<'_> {
    /// Count one statement (see [`Db::statements`]).
    pub fn count_statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            ConnInner::Sqlite(_) => Backend::Sqlite,
            ConnInner::Postgres(_) => Backend::Postgres,
        }
    }
}

/// A pooled connection held for a few reads.
pub struct PooledConn {
    inner: PooledInner,
    statements: Arc<AtomicU64>,
}

enum PooledInner {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl PooledConn {
    pub fn conn(&mut self) -> Conn<'_> {
        let inner = match &mut self.inner {
            PooledInner::Sqlite(c) => ConnInner::Sqlite(&mut *c),
            PooledInner::Postgres(c) => ConnInner::Postgres(&mut *c),
        };
        Conn {
            inner,
            statements: &self.statements,
        }
    }
}

/// A write transaction of either database. Dropped without [`Tx::commit`], it rolls back.
/// Events raised in it are published when, and only if, it commits.
///
/// Cancellation-safe: `BEGIN` and `COMMIT` run on tasks of their own, so a
/// request that is dropped (the client hung up, the timeout fired) can never
/// leave a connection half-way into or out of a transaction. On SQLite the
/// transaction is driven with plain statements on the single write connection
/// (sqlx's own transaction counter could be left out of step by a cancelled
/// `BEGIN` or a failed `COMMIT`, and every later write then failed); a
/// transaction dropped without commit is rolled back on a task before the
/// writer goes back to the pool, and a writer that cannot leave its
/// transaction is closed and replaced.
pub struct Tx {
    inner: TxInner,
    /// Does its COMMIT hold the request past its time limit (see
    /// [`crate::deadline`])? Not for bookkeeping the client is not told about.
    claims: bool,
    statements: Arc<AtomicU64>,
    events: Vec<Event>,
    committed: broadcast::Sender<Arc<Vec<Event>>>,
}

enum TxInner {
    Sqlite(SqliteTx),
    Postgres(Transaction<'static, Postgres>),
}

/// The SQLite writer inside `BEGIN IMMEDIATE`; `None` once committed.
struct SqliteTx(Option<PoolConnection<Sqlite>>);

impl SqliteTx {
    fn conn(&mut self) -> &mut SqliteConnection {
        // Only `commit` takes the connection, and it consumes the transaction.
        match &mut self.0 {
            Some(c) => c,
            None => unreachable!("a committed SQLite transaction is never used again"),
        }
    }
}

/// Leave whatever transaction the writer is in; a writer that cannot is closed.
async fn roll_back(mut c: PoolConnection<Sqlite>) {
    if let Err(e) = sqlx::query("ROLLBACK").execute(&mut *c).await {
        // "no transaction is active" after SQLite rolled back by itself (a
        // failed COMMIT, SQLITE_FULL) is fine; after_release checks the rest.
        tracing::debug!(error = %e, "rollback of the SQLite writer");
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(roll_back(c));
                }
                // No runtime to roll back on: closing the connection discards
                // the transaction, and the pool opens a new writer.
                Err(_) => c.close_on_drop(),
            }
        }
    }
}

/// Is the SQLite writer outside any transaction? (A `BEGIN` inside one fails.)
async fn writer_is_idle(c: &mut SqliteConnection) -> bool {
    if sqlx::query("BEGIN").execute(&mut *c).await.is_err() {
        return false;
    }
    sqlx::query("ROLLBACK").execute(&mut *c).await.is_ok()
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        let inner = match &mut self.inner {
            TxInner::Sqlite(t) => ConnInner::Sqlite(t.conn()),
            TxInner::Postgres(t) => ConnInner::Postgres(&mut *t),
        };
        Conn {
            inner,
            statements: &self.statements,
        }
    }

    /// Raise an event, published if the transaction commits.
    pub fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Commit. On PostgreSQL the events go out with `pg_notify` inside the
    /// transaction, so every instance gets them exactly when the change is
    /// visible; on SQLite they are handed to this process once committed.
    pub async fn commit(mut self) -> AppResult<()> {
        // Past the request's time limit nothing is sent: dropping `self`
        // rolls back, and the client is told it timed out, which is true.
        if self.claims {
            crate::deadline::before_commit()?;
        }
        let events = std::mem::take(&mut self.events);
        let statements = self.statements.clone();
        let committed = self.committed.clone();
        // Once COMMIT is sent it runs to its end, whatever happens to the request.
        let done = match self.inner {
            TxInner::Sqlite(mut t) => {
                let Some(mut c) = t.0.take() else {
                    return Err(AppError::internal(anyhow::anyhow!(
                        "SQLite transaction committed twice"
                    )));
                };
                statements.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    let bumped = sqlx::query(BUMP_VERSION).bind(0_i32).execute(&mut *c).await;
                    if let Err(e) = bumped {
                        roll_back(c).await;
                        return Err(AppError::from(e));
                    }
                    match sqlx::query("COMMIT").execute(&mut *c).await {
                        Ok(_) => {
                            if !events.is_empty() {
                                // No receiver (no live updates running) is not an error.
                                let _ = committed.send(Arc::new(events));
                            }
                            Ok(())
                        }
                        Err(e) => {
                            // SQLite may already have rolled back (SQLITE_FULL, I/O).
                            roll_back(c).await;
                            Err(AppError::from(e))
                        }
                    }
                })
            }
            TxInner::Postgres(mut t) => tokio::spawn(async move {
                for payload in crate::domain::events::encode_batches(&events) {
                    statements.fetch_add(1, Ordering::Relaxed);
                    sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(EVENTS_CHANNEL)
                        .bind(payload)
                        .execute(&mut *t)
                        .await?;
                }
                statements.fetch_add(1, Ordering::Relaxed);
                sqlx::query(BUMP_VERSION)
                    .bind(rand::random::<u8>() as i32 % VERSION_STRIPES)
                    .execute(&mut *t)
                    .await?;
                t.commit().await?;
                Ok(())
            }),
        };
        done.await.map_err(AppError::internal)?
    }
}

/// Every write transaction's last statement: the data version moves exactly
/// when its change becomes visible (see `migrations/*/0010_data_version.sql`).
/// SQLite has one writer, so one stripe; PostgreSQL writers pick one of
/// [`VERSION_STRIPES`] at random so that they do not queue on one row.
const BUMP_VERSION: &str = "UPDATE data_versions SET version = version + 1 WHERE stripe = $1";
const VERSION_STRIPES: i32 = 16;

/// Run the same `sqlx` body against whichever connection a `&mut Conn` holds.
///
/// ```ignore
/// run!(conn, |c| sqlx::query_as::<_, Row>(SQL).bind(id).fetch_one(c).await)
/// ```
#[macro_export]
macro_rules! run {
    ($conn:expr, |$c:ident| $body:expr) => {{
        let conn: &mut $crate::db::Conn<'_> = $conn;
        conn.count_statement();
        match &mut conn.inner {
            $crate::db::ConnInner::Sqlite($c) => {
                let $c = &mut **$c;
                $body
            }
            $crate::db::ConnInner::Postgres($c) => {
                let $c = &mut **$c;
                $body
            }
        }
    }};
}

impl Backend {
    /// The backend a database URL names; VALIDATION for any other URL.
    pub fn of_url(url: &str) -> AppResult<Self> {
        let url = url.trim();
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(AppError::validation(
                "database-url",
                "is not supported: use sqlite:PATH or postgres://USER@HOST:PORT/DATABASE",
            ))
        }
    }
}

impl Db {
    /// Open the database the URL names, creating an SQLite file if missing.
    pub async fn connect(opts: &DbOptions) -> AppResult<Self> {
        let url = opts.url.trim();
        if Backend::of_url(url)? == Backend::Sqlite {
            let base = SqliteConnectOptions::from_str(url)
                .map_err(|e| AppError::internal(anyhow::anyhow!("bad SQLite URL: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(match opts.sqlite_synchronous {
                    SqliteSync::Full => SqliteSynchronous::Full,
                    SqliteSync::Normal => SqliteSynchronous::Normal,
                })
                .foreign_keys(true)
                .busy_timeout(opts.busy_timeout);
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let background_acquire = opts.acquire_timeout.min(BACKGROUND_ACQUIRE_TIMEOUT);
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .acquire_timeout(opts.acquire_timeout)
                // A writer still inside a transaction is closed, not reused:
                // the pool opens a fresh one.
                .after_release(|c, _| Box::pin(async move { Ok(writer_is_idle(c).await) }))
                .connect_with(base.clone())
                .await?;
            // An in-memory database lives in its one connection: everything
            // reads through the writer.
            let (read, background) = if in_memory {
                (write.clone(), write.clone())
            } else {
                // Readers can never write, even by mistake.
                let readers = base.pragma("query_only", "ON");
                let read = SqlitePoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(opts.acquire_timeout)
                    .connect_with(readers.clone())
                    .await?;
                let background = SqlitePoolOptions::new()
                    .max_connections(BACKGROUND_READERS)
                    .acquire_timeout(background_acquire)
                    .connect_lazy_with(readers);
                (read, background)
            };
            Ok(Db::new(
                Pools::Sqlite { read, write },
                Background::Sqlite(background),
            ))
        } else {
            let pg = PgConnectOptions::from_str(url)
                .map_err(|e| AppError::internal(anyhow::anyhow!("bad PostgreSQL URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(pg.clone())
                .await?;
            // Opened as they are first needed: `LISTEN` takes one at start-up.
            let background = PgPoolOptions::new()
                .max_connections(BACKGROUND_CONNECTIONS)
                .acquire_timeout(opts.acquire_timeout.min(BACKGROUND_ACQUIRE_TIMEOUT))
                .connect_lazy_with(pg);
            Ok(Db::new(
                Pools::Postgres(pool),
                Background::Postgres(background),
            ))
        }
    }

    fn new(pools: Pools, background: Background) -> Self {
        Self {
            pools,
            background,
            statements: Arc::new(AtomicU64::new(0)),
            committed: broadcast::channel(1024).0,
        }
    }

    /// Events committed through this pool, in commit order (see [`Tx::commit`]).
    pub fn committed_events(&self) -> broadcast::Receiver<Arc<Vec<Event>>> {
        self.committed.subscribe()
    }

    /// The PostgreSQL pool `LISTEN` takes its connection from: the
    /// background pool's, so that requests can neither hold it up at start
    /// nor when it reconnects.
    pub fn listen_pool(&self) -> Option<&PgPool> {
        match &self.background {
            Background::Postgres(p) => Some(p),
            Background::Sqlite(_) => None,
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Apply the embedded migrations of this backend.
    pub async fn migrate(&self) -> AppResult<()> {
        match &self.pools {
            Pools::Sqlite { write, .. } => sqlx::migrate!("./migrations/sqlite").run(write).await?,
            Pools::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// A connection for reads.
    pub async fn read(&self) -> AppResult<PooledConn> {
        let inner = match &self.pools {
            Pools::Sqlite { read, .. } => {
                PooledInner::Sqlite(stats::waiting(read.acquire()).await?)
            }
            Pools::Postgres(pool) => PooledInner::Postgres(stats::waiting(pool.acquire()).await?),
        };
        Ok(PooledConn {
            inner,
            statements: self.statements.clone(),
        })
    }

    /// A connection for live updates' reads (the dispatcher loading events,
    /// the clock watch), from their own small pool: however many requests
    /// wait for a connection, live delivery does not wait with them. It waits
    /// at most a second (less if `--db-acquire-timeout` is shorter), so a
    /// database that cannot answer is told to subscribers promptly.
    /// Its statements count in [`Db::statements`] like all others.
    pub async fn background(&self) -> AppResult<PooledConn> {
        let inner = match &self.background {
            Background::Sqlite(pool) => PooledInner::Sqlite(pool.acquire().await?),
            Background::Postgres(pool) => PooledInner::Postgres(pool.acquire().await?),
        };
        Ok(PooledConn {
            inner,
            statements: self.statements.clone(),
        })
    }

    /// Start a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction never fails half-way on a lock upgrade.
    pub async fn begin(&self) -> AppResult<Tx> {
        crate::deadline::before_begin()?;
        self.begin_tx(true).await
    }

    /// A transaction for bookkeeping that the client is not told about (a
    /// sign-in attempt counted before its password is checked): its COMMIT
    /// does not hold the request past its time limit, as the request's own
    /// change does.
    pub async fn begin_bookkeeping(&self) -> AppResult<Tx> {
        self.begin_tx(false).await
    }

    async fn begin_tx(&self, claims: bool) -> AppResult<Tx> {
        // On a task of its own: a caller dropped while BEGIN runs leaves the
        // task to finish it, and the transaction it made rolls back on drop.
        let inner = match &self.pools {
            Pools::Sqlite { write, .. } => {
                let write = write.clone();
                tokio::spawn(async move {
                    let mut c = stats::waiting(write.acquire()).await?;
                    sqlx::query("BEGIN IMMEDIATE").execute(&mut *c).await?;
                    AppResult::Ok(TxInner::Sqlite(SqliteTx(Some(c))))
                })
                .await
                .map_err(AppError::internal)??
            }
            Pools::Postgres(pool) => {
                let pool = pool.clone();
                tokio::spawn(async move {
                    AppResult::Ok(TxInner::Postgres(stats::waiting(pool.begin()).await?))
                })
                .await
                .map_err(AppError::internal)??
            }
        };
        Ok(Tx {
            inner,
            claims,
            statements: self.statements.clone(),
            events: Vec::new(),
            committed: self.committed.clone(),
        })
    }

    /// Does the database answer? On SQLite, can a write begin too?
    pub async fn ping(&self) -> AppResult<()> {
        {
            let mut c = self.read().await?;
            let mut conn = c.conn();
            run!(&mut conn, |c| sqlx::query("SELECT 1")
                .execute(c)
                .await
                .map(|_| ()))?;
        }
        if let Pools::Sqlite { .. } = &self.pools {
            let tx = self.begin().await?;
            drop(tx);
        }
        Ok(())
    }

    /// Close every connection (graceful shutdown).
    pub async fn close(&self) {
        match &self.background {
            Background::Sqlite(pool) => pool.close().await,
            Background::Postgres(pool) => pool.close().await,
        }
        match &self.pools {
            Pools::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}
