//! One server process per SQLite file: its events reach only its own
//! subscribers, so a second server on the same file would take writes whose
//! live updates nobody else sees. The lock is held for the server's life.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The held lock; released when dropped (or when the process ends, however).
#[derive(Debug)]
pub struct ServerLock {
    _file: File,
    pub path: PathBuf,
}

/// Why the lock was not taken.
#[derive(Debug)]
pub enum Refused {
    /// A server holds it: its pid as it wrote it (empty if not yet written).
    Held(String),
    /// The lock file could not be opened or locked.
    Failed(anyhow::Error),
}

/// "another kitreview server (pid N)", from what the holder wrote.
pub fn holder(pid: &str) -> String {
    if pid.is_empty() {
        "another kitreview server".to_owned()
    } else {
        format!("another kitreview server (pid {pid})")
    }
}

/// Take the lock beside `db` (`<db>.lock`), or say which process holds it.
pub fn hold(db: &Path) -> anyhow::Result<ServerLock> {
    try_hold(db).map_err(|refused| match refused {
        Refused::Held(pid) => anyhow::anyhow!(
            "{} is already serving {}: one SQLite database serves one server process. \
             Stop it first, or run several instances on PostgreSQL (see the README, \
             \"Deploying on PostgreSQL\")",
            holder(&pid),
            db.display()
        ),
        Refused::Failed(e) => e,
    })
}

/// Take the lock beside `db`; [`Refused::Held`] while a server holds it.
/// `restore` takes it too, so that no server starts on a file being replaced.
pub fn try_hold(db: &Path) -> Result<ServerLock, Refused> {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    let path = PathBuf::from(name);
    let failed = |e: std::io::Error| Refused::Failed(e.into());
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| {
            Refused::Failed(anyhow::anyhow!(
                "cannot open the lock file {}: {e}",
                path.display()
            ))
        })?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(Refused::Held(holder.trim().to_owned()));
        }
        Err(TryLockError::Error(e)) => {
            return Err(Refused::Failed(anyhow::anyhow!(
                "cannot lock {}: {e}",
                path.display()
            )))
        }
    }
    file.set_len(0).map_err(failed)?;
    file.seek(SeekFrom::Start(0)).map_err(failed)?;
    write!(file, "{}", std::process::id()).map_err(failed)?;
    file.flush().map_err(failed)?;
    Ok(ServerLock { _file: file, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_told_who_holds_it() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("k.db");
        let first = hold(&db).expect("first");
        let err = hold(&db).expect_err("second").to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        assert!(err.contains("PostgreSQL"), "{err}");
        drop(first);
        hold(&db).expect("free again");
    }
}
