//! Backups of an SQLite database. `backup` copies it with `VACUUM INTO` over a
//! read-only connection: a consistent snapshot that includes what is still in
//! the write-ahead log, taken beside a running server (whose process lock it
//! leaves alone, and without migrating anything). `restore` checks a backup
//! (integrity, kitreview's migrations) and replaces the database atomically,
//! while no server holds it. The signing-secret file kept beside a database
//! travels with it, owner-only.

mod check;
mod files;

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail};
use sqlx::Connection as _;

pub use self::check::Checked;
use self::check::{check_file, checked_backup, open_backup, vacuum_into};
pub(super) use self::check::{inspect, open_read_only, reason, refuse_unusable};
use self::files::human;
pub(super) use self::files::read_secret;
use self::files::{
    folder, remove_if_present, rename, same_file, sibling, size, sync_dir, sync_file, write_private,
};
use super::lock;

/// Where the signing secret of a database file is kept (see `auth::secret`).
pub type SecretPath = fn(&Path) -> PathBuf;

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
    let check = refuse_unusable(inspect(&mut conn, from).await, from, "restore")?;
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
