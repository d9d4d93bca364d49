//! Where the HS256 signing secret comes from: configuration, or (SQLite only)
//! a file generated beside the database on first start.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;

use super::jwt::MIN_SECRET_BYTES;
use crate::config::{AuthArgs, DbArgs};

/// The secret file kept beside an SQLite database.
pub fn secret_path(db_file: &Path) -> PathBuf {
    let mut name = db_file.as_os_str().to_owned();
    name.push(".jwt-secret");
    PathBuf::from(name)
}

/// The signing secret: `KITREVIEW_JWT_SECRET` if set (at least 32 bytes), else
/// the SQLite database's secret file, generated (mode 0600) if missing.
pub fn load_or_create(auth: &AuthArgs, db: &DbArgs) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &auth.jwt_secret {
        let bytes = secret.expose().as_bytes().to_vec();
        if bytes.len() < MIN_SECRET_BYTES {
            anyhow::bail!(
                "KITREVIEW_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes; refusing to start"
            );
        }
        return Ok(bytes);
    }
    let Some(db_file) = db.sqlite_path() else {
        anyhow::bail!(
            "KITREVIEW_JWT_SECRET is required with this database (every server instance must share it)"
        );
    };
    let path = secret_path(&db_file);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let secret = text.trim().as_bytes().to_vec();
            if secret.len() < MIN_SECRET_BYTES {
                anyhow::bail!(
                    "the secret in {} is too short; delete it to have a new one made",
                    path.display()
                );
            }
            Ok(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut raw = [0u8; 48];
            rand::thread_rng().fill_bytes(&mut raw);
            let secret = URL_SAFE_NO_PAD.encode(raw);
            write_private(&path, secret.as_bytes())?;
            tracing::info!(path = %path.display(), "generated a new JWT signing secret (owner-only file)");
            Ok(secret.into_bytes())
        }
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// Create an owner-only file (mode 0600; never one that exists), with its
/// folder, write `contents` and sync it.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}
