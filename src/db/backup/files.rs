//! The files around a backup: owner-only secrets, syncs and renames, paths.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};

/// The secret file's contents, if there is one.
pub(in crate::db) fn read_secret(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
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
pub(super) fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    remove_if_present(path)?;
    crate::auth::secret::write_private(path, contents)
}

pub(super) fn sync_file(path: &Path) -> anyhow::Result<()> {
    fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| anyhow!("cannot sync {} to disk: {e}", path.display()))
}

/// Make a rename durable. Best effort: not every system syncs a folder.
pub(super) fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

pub(super) fn rename(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::rename(from, to)
        .map_err(|e| anyhow!("cannot move {} to {}: {e}", from.display(), to.display()))
}

pub(super) fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => bail!("cannot remove {}: {e}", path.display()),
    }
}

/// `<path><suffix>`, as SQLite names a database's `-wal` and `-shm`.
pub(super) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The folder a file is in (`.` for a bare name).
pub(super) fn folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub(super) fn size(path: &Path) -> u64 {
    fs::metadata(path).map_or(0, |m| m.len())
}

/// Do two paths name one file (the second need not exist)?
pub(super) fn same_file(a: &Path, b: &Path) -> bool {
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
