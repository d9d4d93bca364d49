//! The `kitreview` command line: migrate, user create, token, schema, and start-up refusals.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::common::{Options, TestServer};

pub(crate) fn kitreview() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kitreview"));
    c.env_remove("KITREVIEW_JWT_SECRET")
        .env_remove("KITREVIEW_DATABASE_URL")
        .env("KITREVIEW_LOG", "warn")
        .env("KITREVIEW_ARGON2_MEMORY_KIB", "1024")
        .env("KITREVIEW_ARGON2_ITERATIONS", "1");
    c
}

pub(crate) fn run_with_stdin(mut cmd: Command, stdin: &str) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kitreview");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// `user create` of a secretariat account, its password on standard input.
pub(crate) fn create_boss(url: &str) -> std::process::Output {
    let mut create = kitreview();
    create.args([
        "user",
        "create",
        "--email",
        "boss@itu.example",
        "--name",
        "The Boss",
        "--role",
        "secretariat",
        "--database-url",
        url,
    ]);
    run_with_stdin(create, "a long bootstrap passphrase\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstraps_a_secretariat_and_mints_tokens() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("kr.db");
    let url = format!("sqlite:{}", db.display());

    let out = kitreview()
        .args(["migrate", "--database-url", &url])
        .output()
        .expect("migrate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.exists(), "the SQLite file is created on first start");

    let out = create_boss(&url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("bootstrap passphrase"),
        "the password is never printed"
    );

    // A generated secret, readable by its owner only.
    let secret = dir.path().join("kr.db.jwt-secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&secret)
            .expect("secret file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A short password is refused, and no user is made.
    let mut bad = kitreview();
    bad.args([
        "user",
        "create",
        "--email",
        "x@itu.example",
        "--name",
        "X",
        "--role",
        "MEMBER",
        "--organization",
        "ITU",
        "--database-url",
        &url,
    ]);
    let out = run_with_stdin(bad, "short\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12 characters"));

    let out = kitreview()
        .args([
            "token",
            "--email",
            "BOSS@itu.example",
            "--ttl",
            "10m",
            "--database-url",
            &url,
        ])
        .output()
        .expect("token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_owned();

    // A server on the same database (and so the same secret file) accepts it,
    // and the bootstrapped password signs in.
    let mut opts = Options::default();
    opts.auth.jwt_secret = None;
    let s = TestServer::start_on(&url, opts).await;
    let data = s
        .ok(
            Some(&token),
            "{ viewer { displayName roles organization { shortName } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["viewer"]["displayName"], "The Boss");
    assert_eq!(data["viewer"]["organization"]["shortName"], "ITU");
    s.login("boss@itu.example", "a long bootstrap passphrase")
        .await;

    // A forgotten password, set again from the command line while the
    // server runs: earlier tokens end, the new password signs in.
    let set_password = |email: &str, temporary: bool| {
        let mut cmd = kitreview();
        cmd.args([
            "user",
            "set-password",
            "--email",
            email,
            "--database-url",
            &url,
        ]);
        if temporary {
            cmd.arg("--temporary");
        }
        cmd
    };
    let out = run_with_stdin(set_password("Boss@itu.example", false), "short\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12 characters"));
    let out = run_with_stdin(
        set_password("nobody@itu.example", false),
        "a long enough passphrase\n",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody@itu.example"));
    let out = run_with_stdin(
        set_password("Boss@itu.example", false),
        "the remembered passphrase\n",
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        !said.contains("remembered passphrase"),
        "never printed: {said}"
    );
    let body = s.gql(Some(&token), "{ viewer { id } }", json!({})).await;
    assert_eq!(crate::common::code(&body), "UNAUTHENTICATED", "{body}");
    s.login("boss@itu.example", "the remembered passphrase")
        .await;
    // A temporary one signs in only to choose a new password.
    let out = run_with_stdin(
        set_password("boss@itu.example", true),
        "a temporary passphrase\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = s
        .gql(
            None,
            "mutation { login(input: {email: \"boss@itu.example\", password: \"a temporary passphrase\"}) { token } }",
            json!({}),
        )
        .await;
    assert_eq!(
        crate::common::code(&body),
        "PASSWORD_CHANGE_REQUIRED",
        "{body}"
    );
}

#[test]
fn schema_command_prints_the_committed_sdl() {
    let out = kitreview().arg("schema").output().expect("schema");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).expect("utf8"),
        include_str!("../../schema.graphql")
    );
}

#[test]
fn refuses_to_start_with_a_short_secret() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite:{}", dir.path().join("kr.db").display());
    let out = kitreview()
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &url])
        .env("KITREVIEW_JWT_SECRET", "short-secret")
        .output()
        .expect("serve");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at least 32 bytes"), "{err}");
    assert!(!err.contains("short-secret"), "the secret is never printed");
}

/// A second server on the same SQLite file refuses to start and says which
/// process holds it (its live updates would never reach the first one's
/// subscribers); PostgreSQL is the way to run several.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_one_sqlite_file_refuses_to_start() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("kr.db");
    let url = format!("sqlite:{}", db.display());
    let lock = dir.path().join("kr.db.lock");
    let serve = |url: &str| {
        let mut c = kitreview();
        c.args(["serve", "--listen", "127.0.0.1:0", "--database-url", url])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c
    };
    // The lock names its holder once it is held.
    let held_by = |pid: u32| {
        let lock = lock.clone();
        async move {
            for _ in 0..600 {
                if std::fs::read_to_string(&lock).is_ok_and(|s| s.trim() == pid.to_string()) {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            false
        }
    };
    let mut first = serve(&url).spawn().expect("first server");
    assert!(held_by(first.id()).await, "the first server holds the lock");
    let second = serve(&url).output().expect("second server");
    let _ = first.kill();
    let _ = first.wait();
    assert!(!second.status.success(), "the second server must not start");
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains(&format!("pid {}", first.id())) && err.contains("PostgreSQL"),
        "{err}"
    );
    // Once the first has gone (even killed), the file can be served again.
    let mut again = serve(&url).spawn().expect("again");
    let served = held_by(again.id()).await;
    let _ = again.kill();
    let _ = again.wait();
    assert!(served, "served again after the first stopped");
}

/// `serve --demo` on this database: whether it loaded the demo (it printed
/// the demo sign-ins), and what it wrote to standard error until then.
fn demo_loads(url: &str, force: bool) -> (bool, String) {
    use std::io::BufRead as _;
    let mut c = kitreview();
    c.args([
        "serve",
        "--demo",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        url,
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    if force {
        c.arg("--demo-force");
    }
    let mut child = c.spawn().expect("serve --demo");
    let stderr = child.stderr.take().expect("stderr");
    let mut seen = String::new();
    let mut loaded = false;
    for line in std::io::BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("Demo data loaded") {
            loaded = true;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    (loaded, seen)
}

/// `--demo` loads into an empty database and again into a demo database, but
/// refuses one with accounts of its own (the demo adds a SECRETARIAT account
/// whose password is public), unless `--demo-force`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_loads_only_where_there_is_nothing_else() {
    let dir = tempfile::tempdir().expect("dir");
    let demo = format!("sqlite:{}", dir.path().join("demo.db").display());
    assert!(demo_loads(&demo, false).0, "an empty database");
    assert!(demo_loads(&demo, false).0, "a demo database, again");

    let real = format!("sqlite:{}", dir.path().join("real.db").display());
    let out = create_boss(&real);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (loaded, err) = demo_loads(&real, false);
    assert!(!loaded, "{err}");
    assert!(
        err.contains("--demo refused")
            && err.contains("1 account(s)")
            && err.contains("--demo-force"),
        "{err}"
    );
    assert!(
        !err.contains("Validation {") && !err.contains("panicked"),
        "{err}"
    );
    assert!(demo_loads(&real, true).0, "forced");
}

/// Start-up failures are one plain sentence each, with the setting to change:
/// an unsupported URL (before any secret is asked for), a PostgreSQL that
/// refuses connections (host, port and the refusal, the password hidden), a
/// database that a newer kitreview migrated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_errors_say_what_to_do() {
    let fails = |args: &[&str]| {
        let out = kitreview()
            .args(args)
            .env("KITREVIEW_DB_ACQUIRE_TIMEOUT", "1s")
            .output()
            .expect("run");
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !err.contains("\u{1b}["),
            "no colour codes when not a terminal: {err}"
        );
        assert!(
            !err.contains("Validation {") && !err.contains("Internal("),
            "no debug formatting: {err}"
        );
        err
    };
    let err = fails(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        "mysql://root@localhost/kr",
    ]);
    assert!(
        err.contains("is not supported") && err.contains("postgres://"),
        "{err}"
    );
    assert!(
        !err.to_lowercase().contains("secret"),
        "the URL comes first: {err}"
    );

    let err = fails(&[
        "migrate",
        "--database-url",
        "postgres://kr:hunter2-password@127.0.0.1:1/kr",
    ]);
    assert!(
        err.contains("127.0.0.1:1") && err.to_lowercase().contains("refused"),
        "{err}"
    );
    assert!(
        err.contains("--database-url") && !err.contains("hunter2"),
        "{err}"
    );

    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("kr.db");
    let url = format!("sqlite:{}", db.display());
    let out = kitreview()
        .args(["migrate", "--database-url", &url])
        .output()
        .expect("migrate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(&db);
    let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&opts)
        .await
        .expect("open");
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (999, 'from the future', 1, x'00', 1)")
        .execute(&mut c)
        .await
        .expect("a newer migration");
    drop(c);
    let err = fails(&["migrate", "--database-url", &url]);
    assert!(
        err.contains("migration 999") && err.contains("newer"),
        "{err}"
    );
}
