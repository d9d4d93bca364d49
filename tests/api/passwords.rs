//! Getting a user back in: the secretariat's temporary password (shown once,
//! good only to choose a new one, for 7 days), the unlocking of an account that
//! failed sign-ins locked, and what each leaves in the audit trail.

use kitreview::domain::accounts::Role;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::{code, Backend, TestServer, PASSWORD};

const LOGIN: &str = "mutation($e: String!, $p: String!, $n: String) { login(input: {email: $e, password: $p, newPassword: $n}) { token viewer { email temporaryPasswordExpiresAt } } }";
const RESET: &str = "mutation($u: ID!) { resetUserPassword(input: {userId: $u}) { temporaryPassword expiresAt user { id temporaryPasswordExpiresAt } } }";
const UNLOCK: &str =
    "mutation($u: ID!) { unlockUserSignIn(input: {userId: $u}) { user { id signInLockedUntil } } }";
const USER: &str =
    "query($u: ID!) { node(id: $u) { ... on User { temporaryPasswordExpiresAt signInLockedUntil } } }";
const AUDIT: &str = "query($u: ID!) { auditLog(filter: {entityId: $u}, first: 50) { nodes { action summary actor { email } } } }";

async fn login(s: &TestServer, email: &str, password: &str, new: Option<&str>) -> Value {
    s.gql(None, LOGIN, json!({ "e": email, "p": password, "n": new }))
        .await
}

/// A temporary password for `user`, issued by `boss`.
async fn issue(s: &TestServer, boss: &str, user: &str) -> String {
    let data = s.ok(Some(boss), RESET, json!({ "u": user })).await;
    data["resetUserPassword"]["temporaryPassword"]
        .as_str()
        .expect("password")
        .to_owned()
}

fn message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or("")
}

/// The actions recorded on `user`, oldest first.
async fn actions(s: &TestServer, boss: &str, user: &str) -> Vec<String> {
    let data = s.ok(Some(boss), AUDIT, json!({ "u": user })).await;
    let mut actions: Vec<String> = data["auditLog"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["action"].as_str().expect("action").to_owned())
        .collect();
    actions.reverse();
    actions
}

async fn the_secretariat_resets_a_forgotten_password(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    s.org("Kenya", Some("KE")).await;
    let user = s.user("wanjiru@example.ke", "Kenya", &[Role::Member]).await;
    let boss = s.secretariat().await;
    let old_token = s.login("wanjiru@example.ke", PASSWORD).await;

    // Only the secretariat, and not on their own account.
    let body = s.gql(Some(&old_token), RESET, json!({ "u": user })).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let me = s.ok(Some(&boss), "{ viewer { id } }", json!({})).await;
    let body = s
        .gql(Some(&boss), RESET, json!({ "u": me["viewer"]["id"] }))
        .await;
    assert_eq!(code(&body), "VALIDATION", "{body}");

    let reset = s.ok(Some(&boss), RESET, json!({ "u": user })).await;
    let reset = &reset["resetUserPassword"];
    let temporary = reset["temporaryPassword"].as_str().expect("password");
    assert!(temporary.len() >= 12, "{temporary}");
    let expires = (s.clock_now() + chrono::Duration::days(7)).to_rfc3339();
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(reset["expiresAt"].as_str().expect("expiresAt"))
            .expect("time");
    assert_eq!(
        expires_at,
        chrono::DateTime::parse_from_rfc3339(&expires).expect("time")
    );
    assert_eq!(
        reset["user"]["temporaryPasswordExpiresAt"],
        reset["expiresAt"]
    );
    // A second reset gives another password; the first stops working.
    let temporary2 = issue(&s, &boss, &user).await;
    assert_ne!(temporary, temporary2);
    let body = login(
        &s,
        "wanjiru@example.ke",
        temporary,
        Some("a brand new passphrase"),
    )
    .await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let temporary = temporary2;

    // The old token and the old password stop working.
    let body = s
        .gql(Some(&old_token), "{ viewer { id } }", json!({}))
        .await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    let body = login(&s, "wanjiru@example.ke", PASSWORD, None).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");

    // The temporary password signs in only to choose a new one.
    let body = login(&s, "wanjiru@example.ke", &temporary, None).await;
    assert_eq!(code(&body), "PASSWORD_CHANGE_REQUIRED", "{body}");
    assert!(body["data"]["login"].is_null(), "no token: {body}");
    assert!(message(&body).contains("newPassword"), "{body}");
    let body = login(&s, "wanjiru@example.ke", &temporary, Some("short")).await;
    assert_eq!(code(&body), "VALIDATION", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "newPassword");
    let body = login(&s, "wanjiru@example.ke", &temporary, Some(&temporary)).await;
    assert_eq!(code(&body), "VALIDATION", "{body}");
    // The secretariat sees the reset is pending; a member does not.
    let seen = s.ok(Some(&boss), USER, json!({ "u": user })).await;
    assert!(
        seen["node"]["temporaryPasswordExpiresAt"].is_string(),
        "{seen}"
    );

    let body = login(
        &s,
        "wanjiru@example.ke",
        &temporary,
        Some("my own new passphrase"),
    )
    .await;
    let token = body["data"]["login"]["token"].as_str().expect("token");
    assert!(
        body["data"]["login"]["viewer"]["temporaryPasswordExpiresAt"].is_null(),
        "{body}"
    );
    s.ok(Some(token), "{ viewer { id } }", json!({})).await;
    let seen = s.ok(Some(&boss), USER, json!({ "u": user })).await;
    assert!(
        seen["node"]["temporaryPasswordExpiresAt"].is_null(),
        "{seen}"
    );
    // The temporary password is spent; the new one signs in as usual.
    let body = login(&s, "wanjiru@example.ke", &temporary, None).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    s.login("wanjiru@example.ke", "my own new passphrase").await;

    assert_eq!(
        actions(&s, &boss, &user).await,
        [
            "user.created",
            "session.signed_in",
            "user.password_reset",
            "user.password_reset",
            // The spent first temporary password, then the old password.
            "session.sign_in_failed",
            "session.sign_in_failed",
            "user.password_changed",
            "session.signed_in",
            // The spent temporary password.
            "session.sign_in_failed",
            "session.signed_in",
        ]
    );
}

async fn a_temporary_password_expires(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let user = s.user("late@itu.example", "ITU", &[Role::Member]).await;
    let boss = s.secretariat().await;
    let temporary = issue(&s, &boss, &user).await;
    s.clock
        .advance(chrono::Duration::days(7) + chrono::Duration::seconds(1));
    let body = login(
        &s,
        "late@itu.example",
        &temporary,
        Some("a brand new passphrase"),
    )
    .await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    assert!(message(&body).contains("expired"), "{body}");
    // A new reset starts again.
    let temporary = issue(&s, &boss, &user).await;
    let body = login(
        &s,
        "late@itu.example",
        &temporary,
        Some("a brand new passphrase"),
    )
    .await;
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
}

async fn the_secretariat_unlocks_a_locked_account(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    s.org("Kenya", Some("KE")).await;
    let user = s.user("locked@example.ke", "Kenya", &[Role::Member]).await;
    let colleague = s
        .user("colleague@example.ke", "Kenya", &[Role::Member])
        .await;
    let boss = s.secretariat().await;
    let member = s.login("colleague@example.ke", PASSWORD).await;

    // Nothing to unlock: answered, and nothing recorded.
    let data = s.ok(Some(&boss), UNLOCK, json!({ "u": colleague })).await;
    assert!(data["unlockUserSignIn"]["user"]["signInLockedUntil"].is_null());
    for _ in 0..5 {
        let body = login(&s, "locked@example.ke", "guess guess guess", None).await;
        assert_eq!(code(&body), "UNAUTHENTICATED");
    }
    let body = login(&s, "locked@example.ke", PASSWORD, None).await;
    assert_eq!(code(&body), "RATE_LIMITED", "{body}");

    // The secretariat sees the lock; a member sees nothing.
    let seen = s.ok(Some(&boss), USER, json!({ "u": user })).await;
    let until = (s.clock_now() + chrono::Duration::seconds(60)).to_rfc3339();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(
            seen["node"]["signInLockedUntil"].as_str().expect("locked")
        )
        .expect("time"),
        chrono::DateTime::parse_from_rfc3339(&until).expect("time")
    );
    let seen = s.ok(Some(&member), USER, json!({ "u": user })).await;
    assert!(seen["node"]["signInLockedUntil"].is_null(), "{seen}");
    let body = s.gql(Some(&member), UNLOCK, json!({ "u": user })).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");

    let data = s.ok(Some(&boss), UNLOCK, json!({ "u": user })).await;
    assert!(data["unlockUserSignIn"]["user"]["signInLockedUntil"].is_null());
    // At once, with the unchanged password.
    s.login("locked@example.ke", PASSWORD).await;

    // A reset lifts a lock too.
    for _ in 0..6 {
        login(&s, "locked@example.ke", "guess guess guess", None).await;
    }
    let temporary = issue(&s, &boss, &user).await;
    let body = login(
        &s,
        "locked@example.ke",
        &temporary,
        Some("a brand new passphrase"),
    )
    .await;
    assert!(body["data"]["login"]["token"].is_string(), "{body}");

    let recorded = actions(&s, &boss, &user).await;
    // Each failed sign-in is recorded; the one that locks says so.
    let count = |a: &str| recorded.iter().filter(|x| *x == a).count();
    assert_eq!(count("session.sign_in_failed"), 8, "{recorded:?}");
    assert_eq!(count("session.locked_out"), 2, "{recorded:?}");
    assert_eq!(
        recorded
            .iter()
            .filter(|a| *a == "user.sign_in_unlocked")
            .count(),
        1,
        "{recorded:?}"
    );
    assert!(actions(&s, &boss, &colleague)
        .await
        .iter()
        .all(|a| a != "user.sign_in_unlocked"));
}

backend_tests!(
    the_secretariat_resets_a_forgotten_password,
    a_temporary_password_expires,
    the_secretariat_unlocks_a_locked_account,
);
