//! Backups of an SQLite database. `backup` copies it with `VACUUM INTO` over a
//! read-only connection: a consistent snapshot that includes what is still in
//! the write-ahead log, taken beside a running server (whose process lock it
//! leaves alone, and without migrating anything). `restore` checks a backup
//! (integrity, kitreview's migrations) and replaces the database atomically,
//! while no server holds it. The signing-secret file kept beside a database
//! travels with it, owner-only.

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, SqliteConnection};

use super::lock;

/// The migrations this binary knows: those [`super::Db::migrate`] applies.
static MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");

/// Where the signing secret of a database file is kept (see `auth::secret`).
pub type SecretPath = fn(&Path) -> PathBuf;

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

/// What `backup` wrote.
#[derive(Debug)]
pub struct Written {
    pub database: PathBuf,
    pub database_bytes: u64,
    pub wal_bytes: u64,
    pub file: PathBuf,
    pub check: Checked,
    /// Where the signing secret was copied, if the database has a secret file.
    pub secret: Option<PathBuf>,
}

/// What `restore` did (or, checking only, would do).
#[derive(Debug)]
pub struct Restored {
    pub from: PathBuf,
    /// The database replaced; `None` when only checked.
    pub database: Option<PathBuf>,
    pub check: Checked,
    /// The secret file restored (or found beside the backup, when only checked).
    pub secret: Option<PathBuf>,
}

/// Copy the database at `db` to `to` (and its secret file to `secret(to)`),
/// refusing to replace either unless `force`. The copy is written beside
/// `to`, checked, synced, then renamed into place.
pub async fn backup(
    db: &Path,
    to: &Path,
    force: bool,
    secret: SecretPath,
    busy_timeout: Duration,
) -> anyhow::Result<Written> {
    let database_bytes = match fs::metadata(db) {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => bail!(
            "{} is not a database file: check --database-url (KITREVIEW_DATABASE_URL)",
            db.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "there is no database at {}: check --database-url (KITREVIEW_DATABASE_URL)",
            db.display()
        ),
        Err(e) => bail!("cannot read {}: {e}", db.display()),
    };
    let own = [
        db.to_path_buf(),
        sibling(db, "-wal"),
        sibling(db, "-shm"),
        sibling(db, ".lock"),
        secret(db),
    ];
    if own.iter().any(|p| same_file(p, to)) {
        bail!(
            "--to {} is one of the database's own files: choose another file for the backup",
            to.display()
        );
    }
    let to_secret = secret(to);
    if !force {
        for p in [to, to_secret.as_path()] {
            if fs::symlink_metadata(p).is_ok() {
                bail!(
                    "{} already exists: choose another --to, or add --force to replace it",
                    p.display()
                );
            }
        }
    }
    let dir = folder(to);
    if !dir.is_dir() {
        bail!(
            "cannot write the backup: the folder {} does not exist; create it or choose another --to",
            dir.display()
        );
    }
    let from_secret = read_secret(&secret(db))?;
    let tmp = sibling(to, &format!(".partial-{}", std::process::id()));
    let secret_tmp = sibling(&to_secret, &format!(".partial-{}", std::process::id()));
    let written = async {
        let mut conn = open_read_only(db, busy_timeout, false).await.map_err(|e| {
            anyhow!(
                "cannot open the database at {}: {}; check --database-url (KITREVIEW_DATABASE_URL)",
                db.display(),
                reason(&e)
            )
        })?;
        let wal_bytes = size(&sibling(db, "-wal"));
        vacuum_into(&mut conn, &tmp).await.map_err(|e| {
            anyhow!(
                "cannot copy {} to {}: {e}; check that the folder is writable and has room, or choose another --to",
                db.display(),
                to.display()
            )
        })?;
        let _ = conn.close().await;
        sync_file(&tmp)?;
        let check = check_file(&tmp, busy_timeout, db).await.map_err(|e| {
            anyhow!("cannot back up: {e}; check --database-url (KITREVIEW_DATABASE_URL)")
        })?;
        if let Some(bytes) = &from_secret {
            write_private(&secret_tmp, bytes)?;
        }
        rename(&tmp, to)?;
        if from_secret.is_some() {
            rename(&secret_tmp, &to_secret)?;
        } else {
            // A secret left from an older backup under this name (--force)
            // would be restored with this one.
            remove_if_present(&to_secret)?;
        }
        sync_dir(&dir);
        anyhow::Ok(Written {
            database: db.to_path_buf(),
            database_bytes,
            wal_bytes,
            file: to.to_path_buf(),
            check,
            secret: from_secret.as_ref().map(|_| to_secret.clone()),
        })
    }
    .await;
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
        let _ = fs::remove_file(&secret_tmp);
    }
    written
}

/// Check the backup `from`; unless `check_only`, replace the database at
/// `db` with it (refused while a server holds `db`, or if `db` holds data
/// and not `force`), and its secret file with the backup's.
pub async fn restore(
    from: &Path,
    db: &Path,
    force: bool,
    check_only: bool,
    secret: SecretPath,
    busy_timeout: Duration,
) -> anyhow::Result<Restored> {
    match fs::metadata(from) {
        Ok(m) if m.is_file() => {}
        Ok(_) => bail!(
            "--from {} is not a file: give a backup made by kitreview backup",
            from.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("there is no backup at {}: check --from", from.display())
        }
        Err(e) => bail!("cannot read {}: {e}; check --from", from.display()),
    }
    let from_secret = secret(from);
    let secret_bytes = read_secret(&from_secret)?;
    if check_only {
        let check = checked_backup(from, busy_timeout).await?;
        return Ok(Restored {
            from: from.to_path_buf(),
            database: None,
            check,
            secret: secret_bytes.map(|_| from_secret),
        });
    }
    let (wal, shm) = (sibling(db, "-wal"), sibling(db, "-shm"));
    if [db, wal.as_path(), shm.as_path()]
        .iter()
        .any(|p| same_file(p, from))
    {
        bail!(
            "--from {} is the database being restored into: give a backup file, or another --database-url",
            from.display()
        );
    }
    let dir = folder(db);
    fs::create_dir_all(&dir).map_err(|e| {
        anyhow!(
            "cannot create the folder {}: {e}; check --database-url (KITREVIEW_DATABASE_URL)",
            dir.display()
        )
    })?;
    // Held until the new file is in place: no server starts on it half-way.
    let _lock = match lock::try_hold(db) {
        Ok(held) => held,
        Err(lock::Refused::Held(pid)) => bail!(
            "{} is serving {}: stop it before restoring into that database, or restore into another --database-url (KITREVIEW_DATABASE_URL)",
            lock::holder(&pid),
            db.display()
        ),
        Err(lock::Refused::Failed(e)) => return Err(e),
    };
    let existing = size(db) + size(&wal);
    if existing > 0 && !force {
        bail!(
            "{} already holds a database ({}): add --force to replace it, or restore into another --database-url (KITREVIEW_DATABASE_URL)",
            db.display(),
            human(existing)
        );
    }
    let mut conn = open_backup(from, busy_timeout).await?;
    let check = refuse_unusable(check(&mut conn, from).await, from)?;
    let tmp = sibling(db, ".restoring");
    let db_secret = secret(db);
    let secret_tmp = sibling(&db_secret, ".restoring");
    let restored = async {
        vacuum_into(&mut conn, &tmp).await.map_err(|e| {
            anyhow!(
                "cannot write {}: {e}; check that its folder is writable and has room",
                tmp.display()
            )
        })?;
        let _ = conn.close().await;
        sync_file(&tmp)?;
        if let Some(bytes) = &secret_bytes {
            write_private(&secret_tmp, bytes)?;
        }
        // The old database's log and index must never be read with the new
        // file. (Should the process die right here, the old database has
        // lost its last commits, and it is being replaced anyway: run the
        // restore again.)
        remove_if_present(&wal)?;
        remove_if_present(&shm)?;
        rename(&tmp, db)?;
        if secret_bytes.is_some() {
            rename(&secret_tmp, &db_secret)?;
        }
        sync_dir(&dir);
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = restored {
        let _ = fs::remove_file(&tmp);
        let _ = fs::remove_file(&secret_tmp);
        return Err(e);
    }
    Ok(Restored {
        from: from.to_path_buf(),
        database: Some(db.to_path_buf()),
        check,
        secret: secret_bytes.map(|_| db_secret),
    })
}

/// Open and check a backup as `restore` would, refusing what it would refuse.
async fn checked_backup(from: &Path, busy_timeout: Duration) -> anyhow::Result<Checked> {
    let mut conn = open_backup(from, busy_timeout).await?;
    let found = check(&mut conn, from).await;
    let _ = conn.close().await;
    refuse_unusable(found, from)
}

async fn open_backup(from: &Path, busy_timeout: Duration) -> anyhow::Result<SqliteConnection> {
    open_read_only(from, busy_timeout, false)
        .await
        .map_err(|e| anyhow!("cannot restore: {}; check --from", not_sqlite(from, &e)))
}

/// A backup this binary can serve: sound, kitreview's, no newer migration.
fn refuse_unusable(found: anyhow::Result<Checked>, from: &Path) -> anyhow::Result<Checked> {
    let check = found.map_err(|e| anyhow!("cannot restore: {e}; check --from"))?;
    if let Some(v) = check.unknown {
        bail!(
            "cannot restore {}: a newer kitreview made it (it has migration {v}, which this kitreview does not know); restore it with that version or a newer one",
            from.display()
        );
    }
    if let Some(v) = check.changed {
        bail!(
            "cannot restore {}: its migration {v} differs from this kitreview's; restore it with the kitreview build that made it",
            from.display()
        );
    }
    Ok(check)
}

/// Check the file at `path` (named `shown` in messages), read-only and
/// without touching it (`immutable`: a fresh copy that nothing else writes).
async fn check_file(path: &Path, busy_timeout: Duration, shown: &Path) -> anyhow::Result<Checked> {
    let mut conn = open_read_only(path, busy_timeout, true)
        .await
        .map_err(|e| not_sqlite(shown, &e))?;
    let mut found = check(&mut conn, shown).await;
    let _ = conn.close().await;
    if let Ok(c) = &mut found {
        c.bytes = size(path);
    }
    found
}

/// Is this a sound kitreview database? What it holds, or why not (a sentence).
async fn check(conn: &mut SqliteConnection, shown: &Path) -> anyhow::Result<Checked> {
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

async fn open_read_only(
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
async fn vacuum_into(conn: &mut SqliteConnection, to: &Path) -> anyhow::Result<()> {
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
fn reason(e: &sqlx::Error) -> String {
    match e.as_database_error() {
        Some(d) => d.message().to_owned(),
        None => e.to_string(),
    }
}

/// The secret file's contents, if there is one.
fn read_secret(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) if bytes.trim_ascii().is_empty() => {
            bail!(
                "the signing-secret file {} is empty; remove it or put the secret back",
                path.display()
            )
        }
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => bail!(
            "cannot read the signing-secret file {}: {e}",
            path.display()
        ),
    }
}

/// Write an owner-only file (mode 0600), replacing a stale one, and sync it.
fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    remove_if_present(path)?;
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| anyhow!("cannot create {}: {e}", path.display()))?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))
}

fn sync_file(path: &Path) -> anyhow::Result<()> {
    fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| anyhow!("cannot sync {} to disk: {e}", path.display()))
}

/// Make a rename durable. Best effort: not every system syncs a folder.
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn rename(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::rename(from, to)
        .map_err(|e| anyhow!("cannot move {} to {}: {e}", from.display(), to.display()))
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => bail!("cannot remove {}: {e}", path.display()),
    }
}

/// `<path><suffix>`, as SQLite names a database's `-wal` and `-shm`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The folder a file is in (`.` for a bare name).
fn folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn size(path: &Path) -> u64 {
    fs::metadata(path).map_or(0, |m| m.len())
}

/// Do two paths name one file (the second need not exist)?
fn same_file(a: &Path, b: &Path) -> bool {
    let resolve = |p: &Path| {
        p.canonicalize().ok().or_else(|| {
            let name = p.file_name()?;
            Some(folder(p).canonicalize().ok()?.join(name))
        })
    };
    matches!((resolve(a), resolve(b)), (Some(x), Some(y)) if x == y)
}

/// A size for people: `512 bytes`, `4.0 KiB`, `3.4 MiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
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

impl fmt::Display for Written {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Backed up {} ({}, and {} in its write-ahead log) to {} ({})",
            self.database.display(),
            human(self.database_bytes),
            human(self.wal_bytes),
            self.file.display(),
            self.check
        )?;
        match &self.secret {
            Some(s) => write!(
                f,
                ", and its signing secret to {} (mode 0600).",
                s.display()
            ),
            None => f.write_str(
                "; the database has no signing-secret file beside it, so keep the configured \
                 --jwt-secret (KITREVIEW_JWT_SECRET) with the backup.",
            ),
        }
    }
}

impl fmt::Display for Restored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.database {
            Some(db) => write!(
                f,
                "Restored {} from {} ({})",
                db.display(),
                self.from.display(),
                self.check
            )?,
            None => write!(
                f,
                "{} is a kitreview backup that this kitreview can restore ({})",
                self.from.display(),
                self.check
            )?,
        }
        match (&self.secret, &self.database) {
            (Some(s), Some(_)) => write!(
                f,
                ", and its signing secret to {} (mode 0600); start the server on it.",
                s.display()
            ),
            (Some(s), None) => write!(f, ", with its signing secret in {}.", s.display()),
            (None, Some(_)) => f.write_str(
                "; the backup has no signing-secret file, so the server signs with --jwt-secret \
                 (KITREVIEW_JWT_SECRET) or the secret file beside the database, and whoever \
                 was signed in with another secret signs in again.",
            ),
            (None, None) => f.write_str(
                ", without a signing-secret file: keep the deployment's --jwt-secret \
                 (KITREVIEW_JWT_SECRET) with it.",
            ),
        }
    }
}

/// The sentence for a PostgreSQL URL: what to use instead, and what else to keep.
pub fn postgres_refusal(restoring: bool, shown_url: &str) -> anyhow::Error {
    if restoring {
        anyhow!(
            "kitreview restore writes SQLite databases, and --database-url (KITREVIEW_DATABASE_URL) {shown_url} is PostgreSQL: \
             restore a pg_dump -Fc backup with pg_restore, and give every server the signing secret \
             (--jwt-secret, KITREVIEW_JWT_SECRET) kept with it"
        )
    } else {
        anyhow!(
            "kitreview backup copies SQLite databases, and --database-url (KITREVIEW_DATABASE_URL) {shown_url} is PostgreSQL: \
             back it up with pg_dump -Fc (pg_restore brings it back), and keep the signing secret \
             (--jwt-secret, KITREVIEW_JWT_SECRET) with the dump, since every token and session is signed with it"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human(512), "512 bytes");
        assert_eq!(human(4096), "4.0 KiB");
        assert_eq!(human(3_565_158), "3.4 MiB");
    }

    #[test]
    fn a_path_and_its_spelling_through_dot_are_one_file() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("k.db");
        let other = dir.path().join(".").join("k.db");
        assert!(same_file(&db, &other), "neither exists yet");
        fs::write(&db, b"").expect("write");
        assert!(same_file(&db, &other));
        assert!(!same_file(&db, &dir.path().join("k2.db")));
    }
}
