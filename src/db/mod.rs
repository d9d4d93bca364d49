//! Storage: one data layer over SQLite (embedded default) and PostgreSQL.
//!
//! Each query is written once. [`Db`] holds the pool of whichever database the
//! URL names; [`Conn`] is a borrowed connection of either kind, and the
//! [`run!`](crate::run) macro expands the same `sqlx` body once per driver,
//! so both are compiled with their native types (bool, timestamps).
//! Dialect-specific SQL lives in [`dialect`].

pub mod accounts;
pub mod dialect;
pub mod modules;
pub mod sql;
pub mod throttle;

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

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
    /// PostgreSQL pool size (SQLite uses one writer and a few readers).
    pub max_connections: u32,
    /// SQLite `synchronous` setting.
    pub sqlite_synchronous: SqliteSync,
    /// How long a statement waits for a lock before failing.
    pub busy_timeout: Duration,
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

/// A pool of either database.
#[derive(Clone)]
pub enum Db {
    /// SQLite allows one writer at a time: writes go through a one-connection
    /// pool (so they queue in-process instead of failing with SQLITE_BUSY) and
    /// reads through a pool of readers (WAL lets them run during a write).
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres(PgPool),
}

/// A connection of either database, borrowed from a pool or a transaction.
pub enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// A pooled connection held for a few reads.
pub enum PooledConn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl PooledConn {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            PooledConn::Sqlite(c) => Conn::Sqlite(&mut *c),
            PooledConn::Postgres(c) => Conn::Postgres(&mut *c),
        }
    }
}

/// A write transaction of either database. Dropped without [`Tx::commit`], it rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(&mut *t),
            Tx::Postgres(t) => Conn::Postgres(&mut *t),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> AppResult<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// Run the same `sqlx` body against whichever connection a `&mut Conn` holds.
///
/// ```ignore
/// run!(conn, |c| sqlx::query_as::<_, Row>(SQL).bind(id).fetch_one(c).await)
/// ```
#[macro_export]
macro_rules! run {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($c) => {
                let $c = &mut **$c;
                $body
            }
            $crate::db::Conn::Postgres($c) => {
                let $c = &mut **$c;
                $body
            }
        }
    };
}

impl Db {
    /// Open the database the URL names, creating an SQLite file if missing.
    pub async fn connect(opts: &DbOptions) -> AppResult<Self> {
        let url = opts.url.trim();
        if url.starts_with("sqlite:") {
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
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .connect_with(base.clone())
                .await?;
            let read = if in_memory {
                write.clone()
            } else {
                SqlitePoolOptions::new()
                    .max_connections(4)
                    // Readers can never write, even by mistake.
                    .connect_with(base.pragma("query_only", "ON"))
                    .await?
            };
            Ok(Db::Sqlite { read, write })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pg = PgConnectOptions::from_str(url)
                .map_err(|e| AppError::internal(anyhow::anyhow!("bad PostgreSQL URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.busy_timeout.max(Duration::from_secs(5)))
                .connect_with(pg)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(AppError::validation(
                "database-url",
                "the database URL must start with sqlite: or postgres:",
            ))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Apply the embedded migrations of this backend.
    pub async fn migrate(&self) -> AppResult<()> {
        match self {
            Db::Sqlite { write, .. } => sqlx::migrate!("./migrations/sqlite").run(write).await?,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// A connection for reads.
    pub async fn read(&self) -> AppResult<PooledConn> {
        Ok(match self {
            Db::Sqlite { read, .. } => PooledConn::Sqlite(read.acquire().await?),
            Db::Postgres(pool) => PooledConn::Postgres(pool.acquire().await?),
        })
    }

    /// Start a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction never fails half-way on a lock upgrade.
    pub async fn begin(&self) -> AppResult<Tx> {
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Does the database answer?
    pub async fn ping(&self) -> AppResult<()> {
        let mut c = self.read().await?;
        let mut conn = c.conn();
        run!(&mut conn, |c| sqlx::query("SELECT 1")
            .execute(c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Close every connection (graceful shutdown).
    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}
