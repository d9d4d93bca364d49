//! Is a file a sound kitreview database, and which migrations does it hold;
//! the read-only connections and `VACUUM INTO` that backups are made with.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, SqliteConnection};

use super::files::{human, remove_if_present, size};

/// The migrations this binary knows: those [`crate::db::Db::migrate`] applies.
static MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");

/// What a database file holds, once checked.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Its size.
    pub bytes: u64,
    /// kitreview migrations applied in it.
    pub applied: usize,
    /// Migrations this binary knows and it lacks (a server applies them at start).
    pub pending: usize,
    /// The first migration in it that this binary does not know (a newer kitreview's).
    pub unknown: Option<i64>,
    /// The first migration in it whose script differs from this binary's.
    pub changed: Option<i64>,
}

/// Open and check a backup as `restore` would, refusing what it would refuse.
pub(super) async fn checked_backup(from: &Path, busy_timeout: Duration) -> anyhow::Result<Checked> {
    let mut conn = open_backup(from, busy_timeout).await?;
    let found = inspect(&mut conn, from).await;
    let _ = conn.close().await;
    refuse_unusable(found, from, "restore")
}

pub(super) async fn open_backup(
    from: &Path,
    busy_timeout: Duration,
) -> anyhow::Result<SqliteConnection> {
    open_read_only(from, busy_timeout, false)
        .await
        .map_err(|e| anyhow!("cannot restore: {}; check --from", not_sqlite(from, &e)))
}

/// A database this binary can serve: sound, kitreview's, no newer or
/// changed migration; `verb` is what was asked (`restore`, `copy`).
pub(in crate::db) fn refuse_unusable(
    found: anyhow::Result<Checked>,
    from: &Path,
    verb: &str,
) -> anyhow::Result<Checked> {
    let check = found.map_err(|e| anyhow!("cannot {verb}: {e}; check --from"))?;
    if let Some(v) = check.unknown {
        bail!(
            "cannot {verb} {}: a newer kitreview made it (it has migration {v}, which this kitreview does not know); {verb} it with that version or a newer one",
            from.display()
        );
    }
    if let Some(v) = check.changed {
        bail!(
            "cannot {verb} {}: its migration {v} differs from this kitreview's; {verb} it with the kitreview build that made it",
            from.display()
        );
    }
    Ok(check)
}

/// Check the file at `path` (named `shown` in messages), read-only and
/// without touching it (`immutable`: a fresh copy that nothing else writes).
pub(super) async fn check_file(
    path: &Path,
    busy_timeout: Duration,
    shown: &Path,
) -> anyhow::Result<Checked> {
    let mut conn = open_read_only(path, busy_timeout, true)
        .await
        .map_err(|e| not_sqlite(shown, &e))?;
    let mut found = inspect(&mut conn, shown).await;
    let _ = conn.close().await;
    if let Ok(c) = &mut found {
        c.bytes = size(path);
    }
    found
}

/// Is this a sound kitreview database? What it holds, or why not (a sentence).
pub(in crate::db) async fn inspect(
    conn: &mut SqliteConnection,
    shown: &Path,
) -> anyhow::Result<Checked> {
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| not_sqlite(shown, &e))?;
    if problems.iter().map(String::as_str).ne(["ok"]) {
        bail!(
            "{} is damaged (SQLite's integrity check says: {})",
            shown.display(),
            problems.first().map_or("nothing", String::as_str)
        );
    }
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| not_sqlite(shown, &e))?;
    let applied: Vec<(i64, Vec<u8>, bool)> = if tables == 0 {
        Vec::new()
    } else {
        sqlx::query_as("SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| not_sqlite(shown, &e))?
    };
    if applied.is_empty() {
        bail!(
            "{} is an SQLite database but not a kitreview one (it has no kitreview migrations)",
            shown.display()
        );
    }
    let known = || {
        MIGRATIONS
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
    };
    let mut checked = Checked {
        bytes: size(shown),
        applied: applied.len(),
        pending: known()
            .filter(|m| !applied.iter().any(|(v, ..)| *v == m.version))
            .count(),
        unknown: None,
        changed: None,
    };
    for (version, checksum, success) in &applied {
        if !success {
            bail!(
                "{} is not usable: its migration {version} did not finish",
                shown.display()
            );
        }
        match known().find(|m| m.version == *version) {
            None => {
                checked.unknown.get_or_insert(*version);
            }
            Some(m) if m.checksum.as_ref() != checksum.as_slice() => {
                checked.changed.get_or_insert(*version);
            }
            Some(_) => {}
        }
    }
    Ok(checked)
}

pub(in crate::db) async fn open_read_only(
    path: &Path,
    busy_timeout: Duration,
    immutable: bool,
) -> Result<SqliteConnection, sqlx::Error> {
    SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(immutable)
        .busy_timeout(busy_timeout)
        .connect()
        .await
}

/// A consistent copy of the connection's database, written to `to` (which
/// must not exist: a stale one of ours is removed first).
pub(super) async fn vacuum_into(conn: &mut SqliteConnection, to: &Path) -> anyhow::Result<()> {
    remove_if_present(to)?;
    let name = to
        .to_str()
        .ok_or_else(|| anyhow!("the path {} is not valid UTF-8", to.display()))?;
    sqlx::query("VACUUM INTO $1")
        .bind(name)
        .execute(&mut *conn)
        .await
        .map_err(|e| anyhow!("{}", reason(&e)))?;
    Ok(())
}

fn not_sqlite(shown: &Path, e: &sqlx::Error) -> anyhow::Error {
    anyhow!(
        "{} is not an SQLite database (SQLite says: {})",
        shown.display(),
        reason(e)
    )
}

/// The driver's own words, without its wrapping.
pub(in crate::db) fn reason(e: &sqlx::Error) -> String {
    match e.as_database_error() {
        Some(d) => d.message().to_owned(),
        None => e.to_string(),
    }
}

impl fmt::Display for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, integrity checked, {} migrations",
            human(self.bytes),
            self.applied
        )?;
        if self.pending > 0 {
            write!(
                f,
                ", {} more to apply at the server's next start",
                self.pending
            )?;
        }
        Ok(())
    }
}
