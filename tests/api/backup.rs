//! `kitreview backup` and `kitreview restore`, through the binary: a backup
//! taken while comments are being written holds every acknowledged one, and
//! restores to a server that serves them (with the same signing secret);
//! what is refused, and the sentences that say so.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::cli::{create_boss, kitreview, run_with_stdin};
use crate::common::committee::Committee;
use crate::common::{t0, Backend, Options, TestServer};

const OPEN: &str =
    "mutation($i: OpenReviewCycleInput!) { openReviewCycle(input: $i) { cycle { id } } }";
const SUBMIT: &str =
    "mutation($i: SubmitCommentInput!) { submitComment(input: $i) { comment { number } } }";
const PAGE: &str = "query($c: ID!, $a: String) { node(id: $c) { ... on ReviewCycle { comments(first: 100, after: $a, orderBy: NUMBER) { pageInfo { hasNextPage endCursor } nodes { number body } } } } }";

pub(crate) fn sqlite_url(path: &Path) -> String {
    format!("sqlite:{}", path.display())
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Run `kitreview ARGS`; its output.
pub(crate) fn run(args: &[&str]) -> Output {
    kitreview().args(args).output().expect("run kitreview")
}

/// Run `kitreview ARGS`, which must succeed; what it said (one sentence).
pub(crate) fn succeeds(args: &[&str]) -> String {
    let out = run(args);
    let err = stderr(&out);
    assert!(out.status.success(), "kitreview {args:?} failed: {err}");
    plain(&err);
    err
}

/// Run `kitreview ARGS`, which must fail; what it said.
pub(crate) fn fails(args: &[&str]) -> String {
    let out = run(args);
    let err = stderr(&out);
    assert!(
        !out.status.success(),
        "kitreview {args:?} should fail: {err}"
    );
    plain(&err);
    err
}

/// One plain sentence: no Rust debug formatting, no panic.
pub(crate) fn plain(said: &str) {
    assert_eq!(said.trim().lines().count(), 1, "one sentence: {said}");
    for debug in ["{ ", "Error(", "Os {", "panicked", "Internal(", "\\\""] {
        assert!(!said.contains(debug), "no debug formatting: {said}");
    }
}

/// Owner-only?
fn assert_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    }
}

pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Every comment of a cycle, in number order: (number, body).
async fn all_comments(s: &TestServer, token: &str, cycle: &str) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = s
            .ok(Some(token), PAGE, json!({ "c": cycle, "a": after }))
            .await;
        let page = &data["node"]["comments"];
        for n in page["nodes"].as_array().expect("nodes") {
            out.push((
                n["number"].as_i64().expect("number"),
                n["body"].as_str().expect("body").to_owned(),
            ));
        }
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return out;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// `kitreview serve` on the SQLite file `db`, once it holds the file's lock;
/// the process and its pid.
pub(crate) async fn serve_holding(db: &Path) -> (std::process::Child, String) {
    let server = kitreview()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &sqlite_url(db),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let pid = server.id().to_string();
    let lock = with_suffix(db, ".lock");
    until("the server's lock", || {
        std::fs::read_to_string(&lock).is_ok_and(|s| s.trim() == pid)
    })
    .await;
    (server, pid)
}

/// Wait until `done` holds (at most a minute).
pub(crate) async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..3_000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The scenario of the issue: a busy server whose data is still mostly in
/// `kitreview.db-wal`. A backup taken through the binary while five writers
/// submit comments, beside the server's process lock, holds every comment
/// acknowledged before it started, numbered without gaps; restored to a new
/// path with its signing secret, a server on it accepts the old tokens and
/// carries on numbering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_writes_restores_every_acknowledged_comment() {
    let mut opts = Options::default();
    // The default deployment: the secret generated into a file beside the database.
    opts.auth.jwt_secret = None;
    let c = Committee::start_with(Backend::Sqlite, opts)
        .await
        .expect("SQLite always runs");
    let dir = c.s.db.dir().expect("an SQLite folder");
    let db = dir.join("kitreview.db");
    let url = sqlite_url(&db);
    // Held as `kitreview serve` holds it: the backup must not need it.
    let server_lock = kitreview::db::lock::hold(&db).expect("the server's lock");
    let cycle = c.s.ok(Some(&c.rapporteur), OPEN, json!({ "i": { "revisionId": c.revision, "title": "Busy", "opensAt": t0().to_rfc3339(), "closesAt": (t0() + chrono::Duration::days(14)).to_rfc3339(), "visibility": "OPEN" } })).await["openReviewCycle"]["cycle"]["id"]
        .as_str()
        .expect("cycle")
        .to_owned();

    let acked: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for (w, token) in [&c.kenya, &c.kenya2, &c.france, &c.rapporteur, &c.admin]
        .into_iter()
        .enumerate()
    {
        let (http, endpoint, token) = (c.s.http.clone(), c.s.url("/graphql"), token.clone());
        let (cycle, acked, stop) = (cycle.clone(), acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut k = 0;
            while !stop.load(Ordering::SeqCst) {
                let body = format!("writer {w}, comment {k}: {}", "needs a definition. ".repeat(60));
                let res: Value = http
                    .post(&endpoint)
                    .bearer_auth(&token)
                    .json(&json!({ "query": SUBMIT, "variables": { "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": body } } }))
                    .send()
                    .await
                    .expect("request")
                    .json()
                    .await
                    .expect("JSON");
                let number = res["data"]["submitComment"]["comment"]["number"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("{res}"));
                acked.lock().expect("lock").push((number, body));
                k += 1;
            }
        }));
    }
    let count = || acked.lock().expect("lock").len();
    until("100 comments", || count() >= 100).await;
    let wal = with_suffix(&db, "-wal");
    assert!(
        std::fs::metadata(&wal).map_or(0, |m| m.len()) > 0,
        "the recent commits are in the write-ahead log, where cp of the .db misses them"
    );

    let file = dir.join("backup.db");
    let before = acked.lock().expect("lock").clone();
    let args = [
        "backup".to_owned(),
        "--to".to_owned(),
        file.display().to_string(),
        "--database-url".to_owned(),
        url.clone(),
    ];
    let out = tokio::task::spawn_blocking(move || kitreview().args(args).output())
        .await
        .expect("join")
        .expect("backup");
    let after_backup = count();
    // The writers carry on past the snapshot.
    until("20 more comments", || count() >= after_backup + 20).await;
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.expect("writer");
    }
    let total = count();
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    plain(&said);
    let secret_copy = with_suffix(&file, ".jwt-secret");
    assert!(
        said.contains("Backed up")
            && said.contains(&file.display().to_string())
            && said.contains(&secret_copy.display().to_string())
            && said.contains("write-ahead log"),
        "{said}"
    );
    assert!(
        !with_suffix(&file, "-wal").exists(),
        "a backup is one file (and its secret)"
    );
    assert_private(&secret_copy);
    eprintln!(
        "{} comments acknowledged before the backup, {} while it ran, {total} in all",
        before.len(),
        after_backup - before.len()
    );

    // The live database is not replaced while its server runs.
    let err = fails(&[
        "restore",
        "--from",
        &file.display().to_string(),
        "--database-url",
        &url,
        "--force",
    ]);
    assert!(
        err.contains(&format!("pid {}", std::process::id())) && err.contains("stop it"),
        "{err}"
    );

    let elsewhere = tempfile::tempdir().expect("dir");
    let restored = elsewhere.path().join("restored").join("kitreview.db");
    let restored_url = sqlite_url(&restored);
    let said = succeeds(&[
        "restore",
        "--from",
        &file.display().to_string(),
        "--database-url",
        &restored_url,
    ]);
    assert!(
        said.contains("Restored") && said.contains("signing secret"),
        "{said}"
    );
    let restored_secret = with_suffix(&restored, ".jwt-secret");
    assert_private(&restored_secret);
    assert_eq!(
        std::fs::read(&restored_secret).expect("restored secret"),
        std::fs::read(dir.join("kitreview.db.jwt-secret")).expect("secret"),
        "the signing secret comes back with the database"
    );
    drop(server_lock);

    let mut opts = Options::default();
    opts.auth.jwt_secret = None;
    let s = TestServer::start_on(&restored_url, opts).await;
    // A token of the first server: valid only with the same secret.
    let comments = all_comments(&s, &c.rapporteur, &cycle).await;
    let numbers: Vec<i64> = comments.iter().map(|(n, _)| *n).collect();
    let n = numbers.len() as i64;
    assert_eq!(numbers, (1..=n).collect::<Vec<_>>(), "gap-free numbers");
    assert!(
        n as usize >= before.len() && (n as usize) < total,
        "{n} of {total}"
    );
    for (number, body) in &before {
        assert_eq!(
            comments.get(*number as usize - 1).map(|(_, b)| b),
            Some(body),
            "comment No. {number} was acknowledged before the backup"
        );
    }
    let next = s.ok(Some(&c.kenya), SUBMIT, json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": "After the restore." } })).await;
    assert_eq!(next["submitComment"]["comment"]["number"], json!(n + 1));
}

/// Beside a `kitreview serve` process: the backup works while it runs; a
/// restore into its database is refused and changes nothing, and goes
/// through once the server has stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_is_refused_while_a_server_runs() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("kr.db");
    let url = sqlite_url(&db);
    let out = create_boss(&url);
    assert!(out.status.success(), "{}", stderr(&out));
    let other = dir.path().join("other.db");
    succeeds(&["migrate", "--database-url", &sqlite_url(&other)]);
    let empty_backup = dir.path().join("other-backup.db");
    let said = succeeds(&[
        "backup",
        "--to",
        &empty_backup.display().to_string(),
        "--database-url",
        &sqlite_url(&other),
    ]);
    assert!(
        said.contains("no signing-secret file") && said.contains("KITREVIEW_JWT_SECRET"),
        "{said}"
    );

    let (mut server, pid) = serve_holding(&db).await;
    let file = dir.path().join("kr-backup.db");
    let backed_up = run(&[
        "backup",
        "--to",
        &file.display().to_string(),
        "--database-url",
        &url,
    ]);
    let refused = run(&[
        "restore",
        "--from",
        &empty_backup.display().to_string(),
        "--database-url",
        &url,
        "--force",
    ]);
    let still_up = server.try_wait().expect("try_wait").is_none();
    let _ = server.kill();
    let _ = server.wait();
    assert!(still_up, "the server kept running");
    assert!(backed_up.status.success(), "{}", stderr(&backed_up));
    assert!(!refused.status.success());
    let err = stderr(&refused);
    plain(&err);
    assert!(
        err.contains(&format!("pid {pid}"))
            && err.contains("stop it")
            && err.contains(&db.display().to_string()),
        "{err}"
    );
    assert!(!with_suffix(&db, ".restoring").exists());
    let token = |url: &str| {
        run(&[
            "token",
            "--email",
            "boss@itu.example",
            "--database-url",
            url,
        ])
    };
    assert!(token(&url).status.success(), "the database was left alone");

    // Stopped, the restore goes through: the boss is gone with --force.
    let said = succeeds(&[
        "restore",
        "--from",
        &empty_backup.display().to_string(),
        "--database-url",
        &url,
        "--force",
    ]);
    assert!(said.contains("no signing-secret file"), "{said}");
    let err = stderr(&token(&url));
    assert!(err.contains("no user"), "{err}");
    // And the backup taken beside the server has it.
    let again = dir.path().join("again.db");
    succeeds(&[
        "restore",
        "--from",
        &file.display().to_string(),
        "--database-url",
        &sqlite_url(&again),
    ]);
    assert!(token(&sqlite_url(&again)).status.success());
}

/// An existing backup (or its secret file) is kept unless `--force`; the
/// database's own files are never a destination.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("kr.db");
    let url = sqlite_url(&db);
    let out = create_boss(&url);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = dir.path().join("nightly.db");
    let to = file.display().to_string();
    let said = succeeds(&["backup", "--to", &to, "--database-url", &url]);
    assert!(said.contains("mode 0600"), "{said}");
    let secret_copy = with_suffix(&file, ".jwt-secret");
    assert_eq!(
        std::fs::read(&secret_copy).expect("secret copy"),
        std::fs::read(with_suffix(&db, ".jwt-secret")).expect("secret")
    );
    let first = std::fs::read(&file).expect("backup");

    // A second account, then the same backup again.
    let mut create = kitreview();
    create.args([
        "user",
        "create",
        "--email",
        "second@itu.example",
        "--name",
        "Second",
        "--role",
        "secretariat",
        "--database-url",
        &url,
    ]);
    let out = run_with_stdin(create, "another long passphrase\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let err = fails(&["backup", "--to", &to, "--database-url", &url]);
    assert!(
        err.contains("already exists") && err.contains("--force") && err.contains(&to),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&file).expect("backup"),
        first,
        "left as it was"
    );
    std::fs::remove_file(&file).expect("remove");
    let err = fails(&["backup", "--to", &to, "--database-url", &url]);
    assert!(
        err.contains(&secret_copy.display().to_string()) && err.contains("--force"),
        "{err}"
    );
    assert!(!file.exists());

    succeeds(&["backup", "--to", &to, "--database-url", &url, "--force"]);
    assert!(!dir.path().read_dir().expect("dir").any(|e| e
        .expect("entry")
        .file_name()
        .to_string_lossy()
        .contains(".partial")));
    let restored = sqlite_url(&dir.path().join("check").join("kr.db"));
    succeeds(&["restore", "--from", &to, "--database-url", &restored]);
    let token = |url: &str| {
        run(&[
            "token",
            "--email",
            "second@itu.example",
            "--database-url",
            url,
        ])
    };
    assert!(
        token(&restored).status.success(),
        "the forced backup is the new one"
    );

    for own in [db.clone(), with_suffix(&db, ".jwt-secret")] {
        let err = fails(&[
            "backup",
            "--to",
            &own.display().to_string(),
            "--database-url",
            &url,
            "--force",
        ]);
        assert!(err.contains("the database's own files"), "{err}");
    }
    assert!(token(&url).status.success(), "the database is intact");
    let err = fails(&[
        "backup",
        "--to",
        &dir.path().join("no/such/folder/b.db").display().to_string(),
        "--database-url",
        &url,
    ]);
    assert!(
        err.contains("does not exist") && err.contains("--to"),
        "{err}"
    );
    let err = fails(&[
        "backup",
        "--to",
        &to,
        "--database-url",
        &sqlite_url(&dir.path().join("missing.db")),
        "--force",
    ]);
    assert!(
        err.contains("no database at") && err.contains("--database-url"),
        "{err}"
    );
}

/// What is not a kitreview backup this binary can serve is refused before
/// anything is replaced: another file, another SQLite database, a backup
/// from a newer kitreview; a database with data needs `--force`; `--check`
/// changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_what_is_not_a_kitreview_backup() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().expect("dir");
    let target = dir.path().join("target.db");
    let target_url = sqlite_url(&target);
    let restore = |from: &Path, extra: &[&str]| {
        let from = from.display().to_string();
        let mut args = vec![
            "restore",
            "--from",
            from.as_str(),
            "--database-url",
            target_url.as_str(),
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let refused = |from: &Path, extra: &[&str]| {
        let out = restore(from, extra);
        assert!(!out.status.success(), "{}", stderr(&out));
        let err = stderr(&out);
        plain(&err);
        assert!(!target.exists(), "nothing written: {err}");
        err
    };

    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "Minutes of the rapporteurs' meeting, not a database.\n".repeat(200),
    )
    .expect("write");
    let err = refused(&text, &[]);
    assert!(
        err.contains("not an SQLite database") && err.contains("--from"),
        "{err}"
    );

    let foreign = dir.path().join("foreign.db");
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&foreign)
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts)
        .await
        .expect("open");
    sqlx::query("CREATE TABLE notes (body TEXT)")
        .execute(&mut conn)
        .await
        .expect("table");
    conn.close().await.expect("close");
    let err = refused(&foreign, &[]);
    assert!(
        err.contains("not a kitreview one") && err.contains("--from"),
        "{err}"
    );

    let err = refused(&dir.path().join("missing.db"), &[]);
    assert!(err.contains("no backup at"), "{err}");

    // A good backup, and one that a newer kitreview made.
    let src = dir.path().join("src.db");
    succeeds(&["migrate", "--database-url", &sqlite_url(&src)]);
    let good = dir.path().join("good.db");
    succeeds(&[
        "backup",
        "--to",
        &good.display().to_string(),
        "--database-url",
        &sqlite_url(&src),
    ]);
    let newer = dir.path().join("newer.db");
    std::fs::copy(&good, &newer).expect("copy");
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(&newer);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts)
        .await
        .expect("open");
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (999, 'from the future', 1, x'00', 1)")
        .execute(&mut conn)
        .await
        .expect("a newer migration");
    conn.close().await.expect("close");
    for extra in [&[][..], &["--check"][..]] {
        let err = refused(&newer, extra);
        assert!(
            err.contains("newer kitreview") && err.contains("migration 999"),
            "{err}"
        );
    }

    // --check says what a restore would, and writes nothing.
    let out = restore(&good, &["--check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("can restore"), "{}", stderr(&out));
    assert!(!target.exists());

    // A database with data is replaced only with --force.
    let out = create_boss(&target_url);
    assert!(out.status.success(), "{}", stderr(&out));
    let held = std::fs::read(&target).expect("target");
    let out = restore(&good, &[]);
    let err = stderr(&out);
    assert!(
        !out.status.success()
            && err.contains("already holds a database")
            && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&target).expect("target"),
        held,
        "left as it was"
    );
    let out = restore(&good, &["--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for stale in ["-wal", "-shm", ".restoring"] {
        assert!(!with_suffix(&target, stale).exists(), "{stale} left behind");
    }
    let out = run(&[
        "token",
        "--email",
        "boss@itu.example",
        "--database-url",
        &target_url,
    ]);
    assert!(
        stderr(&out).contains("no user"),
        "replaced: {}",
        stderr(&out)
    );
}

/// PostgreSQL has its own tools: the sentence names them and the signing
/// secret to keep, without the password; an in-memory database has no file.
#[test]
fn postgres_urls_are_pointed_to_pg_dump() {
    let url = "postgres://kr:hunter2-password@127.0.0.1:1/kr";
    let err = fails(&["backup", "--to", "b.dump", "--database-url", url]);
    assert!(
        err.contains("pg_dump -Fc") && err.contains("pg_restore") && err.contains("--jwt-secret"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    let err = fails(&["restore", "--from", "b.dump", "--database-url", url]);
    assert!(
        err.contains("pg_restore") && err.contains("--jwt-secret") && !err.contains("hunter2"),
        "{err}"
    );
    let err = fails(&[
        "backup",
        "--to",
        "b.db",
        "--database-url",
        "sqlite::memory:",
    ]);
    assert!(err.contains("in-memory"), "{err}");
}
