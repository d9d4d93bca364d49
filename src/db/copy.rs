//! `kitreview copy`: an SQLite database moved to PostgreSQL, everything in
//! it, ids kept (so links, global ids and tokens keep working). The SQLite
//! file is read in one read transaction (a consistent snapshot) while its
//! server lock is held, so no server writes to it meanwhile; it must be at
//! this binary's migration level. The PostgreSQL target is migrated first
//! and must hold nothing beyond what its migrations insert (the ITU
//! organization and the `data_versions` stripes, which the source's rows
//! replace). The rows go in one transaction, tables in foreign-key order,
//! in multi-row INSERTs; the sequences are set past the highest id SQLite
//! ever gave; every table is read back and compared (row count and a
//! checksum computed the same way on both sides) before COMMIT, so a copy
//! that differs commits nothing.

mod rows;
mod tables;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use sqlx::Connection as _;

use self::rows::{arg, decode, Checksum, Value};
pub use self::tables::{Column, Kind, Seeded, Table, TABLES};
use super::backup::{inspect, open_read_only, read_secret, reason, refuse_unusable, SecretPath};
use super::sql::{insert_many, Arg, Sql};
use super::{lock, Conn, ConnInner, Db, DbOptions, SqliteSync};
use crate::error::AppError;

/// Rows read from SQLite, and written, per round.
const BATCH_ROWS: i64 = 5_000;

/// What one table holds, on both sides.
#[derive(Debug, Clone)]
pub struct TableCopied {
    pub name: &'static str,
    pub rows: u64,
    /// Hex SHA-256 of the rows (see `tables::Checksum`).
    pub checksum: String,
}

/// What `copy` did.
#[derive(Debug)]
pub struct Copied {
    pub from: PathBuf,
    /// The target, without its password.
    pub to: String,
    pub tables: Vec<TableCopied>,
    pub took: Duration,
    /// The source's signing-secret file, if it has one.
    pub secret: Option<PathBuf>,
}

/// Copy the SQLite database at `from` into the PostgreSQL database at `to`
/// (`shown`: its URL without password, for messages).
pub async fn copy(
    from: &Path,
    to: &str,
    shown: &str,
    secret: SecretPath,
    busy_timeout: Duration,
) -> anyhow::Result<Copied> {
    let started = Instant::now();
    match std::fs::metadata(from) {
        Ok(m) if m.is_file() => {}
        Ok(_) => bail!("--from {} is not a database file", from.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("there is no database at {}: check --from", from.display())
        }
        Err(e) => bail!("cannot read {}: {e}; check --from", from.display()),
    }
    // Held to the end: no server starts on the file and writes after the snapshot.
    let _lock = match lock::try_hold(from) {
        Ok(held) => held,
        Err(lock::Refused::Held(pid)) => bail!(
            "{} is serving {}: stop it before copying, so that nothing is written to SQLite after the copy",
            lock::holder(&pid),
            from.display()
        ),
        Err(lock::Refused::Failed(e)) => return Err(e),
    };
    let secret_file = secret(from);
    let has_secret = read_secret(&secret_file)?.is_some();
    let mut source = open_read_only(from, busy_timeout, false)
        .await
        .map_err(|e| {
            anyhow!(
                "cannot open the database at {}: {}; check --from",
                from.display(),
                reason(&e)
            )
        })?;
    // One read transaction: every table is read from the same snapshot.
    sqlx::query("BEGIN")
        .execute(&mut source)
        .await
        .map_err(|e| anyhow!("cannot read {}: {}", from.display(), reason(&e)))?;
    check_level(&mut source, from).await?;
    let target = open_target(to, shown, busy_timeout).await?;
    let copied = copy_into(&mut source, &target, from, shown).await;
    target.close().await;
    let _ = source.close().await;
    Ok(Copied {
        from: from.to_path_buf(),
        to: shown.to_owned(),
        tables: copied?,
        took: started.elapsed(),
        secret: has_secret.then_some(secret_file),
    })
}

/// The source holds exactly this binary's migrations.
async fn check_level(source: &mut sqlx::SqliteConnection, from: &Path) -> anyhow::Result<()> {
    let found = refuse_unusable(inspect(source, from).await, from, "copy")?;
    if found.pending > 0 {
        bail!(
            "cannot copy {}: an older kitreview made it ({} of this kitreview's migrations are not applied yet); start this kitreview on it once (kitreview migrate --database-url sqlite:{}) to migrate it, then copy again",
            from.display(),
            found.pending,
            from.display()
        );
    }
    Ok(())
}

/// The target, migrated.
async fn open_target(to: &str, shown: &str, busy_timeout: Duration) -> anyhow::Result<Db> {
    let opts = DbOptions {
        url: to.to_owned(),
        max_connections: 2,
        sqlite_synchronous: SqliteSync::Full,
        busy_timeout,
        acquire_timeout: busy_timeout.max(Duration::from_secs(5)),
    };
    // One direct attempt first: it gives the cause of a refusal at once
    // (a pool reports it as a time-out, later).
    let unreachable = |cause: String| {
        anyhow!(
            "cannot connect to PostgreSQL at {shown}: {cause}; check that it is running and reachable, and --to"
        )
    };
    let pg = <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(to)
        .map_err(|e| unreachable(reason(&e)))?;
    let probe = sqlx::ConnectOptions::connect(&pg)
        .await
        .map_err(|e| unreachable(reason(&e)))?;
    let _ = probe.close().await;
    let db = Db::connect(&opts).await.map_err(|e| unreachable(why(e)))?;
    db.migrate().await.map_err(|e| {
        anyhow!(
            "cannot apply kitreview's migrations to {shown}: {}; copy into a new, empty database",
            why(e)
        )
    })?;
    Ok(db)
}

/// Check the target is empty, copy, verify, commit.
async fn copy_into(
    source: &mut sqlx::SqliteConnection,
    target: &Db,
    from: &Path,
    shown: &str,
) -> anyhow::Result<Vec<TableCopied>> {
    let statements = AtomicU64::new(0);
    let mut src = Conn {
        inner: ConnInner::Sqlite(source),
        statements: &statements,
    };
    let fail = |e: AppError| {
        anyhow!(
            "cannot copy into {shown}: {}; nothing was committed",
            why(e)
        )
    };
    let mut tx = target.begin().await.map_err(fail)?;
    refuse_non_empty(&mut tx.conn(), shown).await?;
    let mut copied = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        if table.seeded != Seeded::No {
            Sql::new(&format!("DELETE FROM {}", table.name))
                .execute(&mut tx.conn())
                .await
                .map_err(fail)?;
        }
        let mut sum = Checksum::default();
        let mut offset = 0;
        loop {
            let rows = chunk(&mut src, table, false, offset).await.map_err(|e| {
                anyhow!(
                    "cannot read {} of {}: {}",
                    table.name,
                    from.display(),
                    why(e)
                )
            })?;
            let n = rows.len() as i64;
            for r in &rows {
                sum.add(r, table.columns);
            }
            insert(&mut tx.conn(), table, rows).await.map_err(|e| {
                anyhow!(
                    "cannot copy {} into {shown}: {}; nothing was committed",
                    table.name,
                    why(e)
                )
            })?;
            if n < BATCH_ROWS {
                break;
            }
            offset += n;
        }
        let (rows, checksum) = sum.finish();
        copied.push(TableCopied {
            name: table.name,
            rows,
            checksum,
        });
    }
    set_sequences(&mut src, &mut tx.conn())
        .await
        .map_err(fail)?;
    let mut differ = Vec::new();
    for (table, from_side) in TABLES.iter().zip(&copied) {
        let mut sum = Checksum::default();
        let mut offset = 0;
        loop {
            let rows = chunk(&mut tx.conn(), table, true, offset)
                .await
                .map_err(fail)?;
            let n = rows.len() as i64;
            for r in &rows {
                sum.add(r, table.columns);
            }
            if n < BATCH_ROWS {
                break;
            }
            offset += n;
        }
        let (rows, checksum) = sum.finish();
        if rows != from_side.rows || checksum != from_side.checksum {
            differ.push(format!(
                "{} ({} rows in SQLite, {rows} in PostgreSQL, checksums {} and {})",
                table.name,
                from_side.rows,
                &from_side.checksum[..12],
                &checksum[..12]
            ));
        }
    }
    if !differ.is_empty() {
        bail!(
            "the copy in {shown} differs from {} in {}: nothing was committed; report this to kitreview's maintainers",
            from.display(),
            differ.join(", ")
        );
    }
    tx.commit().await.map_err(fail)?;
    Ok(copied)
}

/// Refuse a target that holds kitreview rows beyond what migrations insert.
async fn refuse_non_empty(c: &mut Conn<'_>, shown: &str) -> anyhow::Result<()> {
    let mut held = Vec::new();
    for table in TABLES {
        let sql = match table.seeded {
            Seeded::No => format!("SELECT COUNT(*) FROM {}", table.name),
            Seeded::Itu => format!(
                "SELECT COUNT(*) FROM {} WHERE short_name_key <> 'itu'",
                table.name
            ),
            Seeded::Stripes => continue,
        };
        let n = Sql::new(&sql)
            .fetch_i64(c)
            .await
            .map_err(|e| anyhow!("cannot read {shown}: {}", why(e)))?;
        if n > 0 {
            held.push(format!("{n} {}", table.name.replace('_', " ")));
        }
    }
    if !held.is_empty() {
        bail!(
            "{shown} already holds kitreview data ({}): copy into a new, empty database (createdb), so that nothing in it is mixed with or replaced by the copy",
            held.join(", ")
        );
    }
    Ok(())
}

/// Up to [`BATCH_ROWS`] rows of `table` from `offset`, in key order.
async fn chunk(
    c: &mut Conn<'_>,
    table: &Table,
    postgres: bool,
    offset: i64,
) -> crate::error::AppResult<Vec<Vec<Value>>> {
    let text = format!("{} LIMIT $1 OFFSET $2", table.select(postgres));
    let columns = table.columns;
    Ok(crate::run!(c, |c| {
        sqlx::query(&text)
            .bind(BATCH_ROWS)
            .bind(offset)
            .fetch_all(c)
            .await
            .and_then(|rows| rows.iter().map(|r| decode(r, columns)).collect())
    })?)
}

/// Write rows of `table` (the search index's words analysed by PostgreSQL).
async fn insert(
    c: &mut Conn<'_>,
    table: &Table,
    rows: Vec<Vec<Value>>,
) -> crate::error::AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let args = |row: Vec<Value>| -> Vec<Arg> {
        row.into_iter()
            .zip(table.columns)
            .map(|(v, col)| arg(v, col.kind))
            .collect()
    };
    if !table.columns.iter().any(|col| col.kind == Kind::Terms) {
        let rows = rows.into_iter().map(args).collect();
        insert_many(c, &table.insert_target(), table.columns.len(), rows).await?;
        return Ok(());
    }
    for part in rows.chunks(100) {
        let mut sql = Sql::new(&format!("INSERT INTO {} VALUES ", table.insert_target()));
        for (i, row) in part.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            for (j, (v, col)) in row.iter().zip(table.columns).enumerate() {
                sql.push(if j == 0 { "" } else { ", " });
                if col.kind == Kind::Terms {
                    sql.push("to_tsvector('simple', ")
                        .bind(arg(v.clone(), col.kind))
                        .push(")");
                } else {
                    sql.bind(arg(v.clone(), col.kind));
                }
            }
            sql.push(")");
        }
        sql.execute(c).await?;
    }
    Ok(())
}

/// Each identity past the highest id SQLite gave (AUTOINCREMENT's
/// `sqlite_sequence` remembers deleted rows too), so no id is given twice.
async fn set_sequences(src: &mut Conn<'_>, dst: &mut Conn<'_>) -> crate::error::AppResult<()> {
    let given: Vec<(String, i64)> = Sql::new("SELECT name, seq FROM sqlite_sequence")
        .fetch_all(src)
        .await?;
    for table in TABLES.iter().filter(|t| t.identity) {
        let seq = given
            .iter()
            .find(|(name, _)| name == table.name)
            .map_or(0, |(_, seq)| *seq);
        let highest = Sql::new(&format!(
            "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM {}",
            table.name
        ))
        .fetch_i64(dst)
        .await?
        .max(seq);
        // With nothing given yet, the next id is 1.
        Sql::new(&format!(
            "SELECT CAST(setval(pg_get_serial_sequence('{}', 'id'), $1, $2) AS BIGINT)",
            table.name
        ))
        .arg(highest.max(1))
        .arg(highest > 0)
        .fetch_i64(dst)
        .await?;
    }
    Ok(())
}

/// An error's own words: the driver's message rather than "internal error".
fn why(e: AppError) -> String {
    match e {
        AppError::Internal(inner) => match inner.downcast_ref::<sqlx::Error>() {
            Some(s) => reason(s),
            None => match inner.downcast_ref::<sqlx::migrate::MigrateError>() {
                Some(m) => m.to_string(),
                None => inner.to_string(),
            },
        },
        other => other.to_string(),
    }
}

impl fmt::Display for Copied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<22} {:>10}  sha-256 (same on both)", "table", "rows")?;
        for t in &self.tables {
            writeln!(f, "{:<22} {:>10}  {}", t.name, t.rows, &t.checksum[..16])?;
        }
        let rows: u64 = self.tables.iter().map(|t| t.rows).sum();
        write!(
            f,
            "Copied {} to {} in {:.1} s: {rows} rows in {} tables, each read back from PostgreSQL with the same row count and checksum as in SQLite (the search index compared by comment id). ",
            self.from.display(),
            self.to,
            self.took.as_secs_f64(),
            self.tables.len()
        )?;
        match &self.secret {
            Some(s) => write!(
                f,
                "Tokens and sessions keep working only if every PostgreSQL server signs with this database's secret: start them with KITREVIEW_JWT_SECRET set to the content of {} (for example KITREVIEW_JWT_SECRET=\"$(cat {})\").",
                s.display(),
                s.display()
            ),
            None => f.write_str(
                "The database has no signing-secret file beside it: give the PostgreSQL servers the --jwt-secret (KITREVIEW_JWT_SECRET) the SQLite server had, or everyone signs in again.",
            ),
        }
    }
}
