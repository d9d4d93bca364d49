//! Signing in, token checks on every request, and password changes.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::audit::{self, Change};
use super::{field, Actor};
use crate::auth::jwt::TokenSubject;
use crate::auth::AuthUser;
use crate::db::{accounts as store, credentials, sessions, throttle};
use crate::domain::accounts::{email_key, NewPassword, RoleSet};
use crate::domain::audit::AuditAction;
use crate::domain::events::Event;
use crate::domain::ids::NodeKind;
use crate::domain::throttle::{account_key, address_key, ThrottlePolicy, ThrottleState};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// What a successful sign-in returns.
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: store::UserRow,
}

const WRONG_CREDENTIALS: &str = "wrong e-mail address or password";
const EXPIRED_TEMPORARY: &str =
    "this temporary password has expired: ask the secretariat for a new one";
const CHOOSE_NEW: &str = "this is a temporary password from the secretariat: sign in again \
                          with it and a new password of your own (newPassword)";

/// Resolve a bearer token to an active user, refusing tokens of deactivated
/// users and tokens issued before the user's last password change or
/// deactivation (a reactivated user signs in again).
///
/// What the database said of a token is kept while the data version stays the
/// same ([`AuthCache`]): any write, on any instance (a deactivation, a
/// password change, a sign-out, a new rapporteur), changes the version, so a
/// kept answer is never older than the last write. The token's signature and
/// times are checked every time.
pub async fn authenticate(state: &AppState, token: &str) -> AppResult<AuthUser> {
    authenticate_at(state, token, None).await
}

/// [`authenticate`], when the caller has just read the data version itself.
#[tracing::instrument(skip_all)]
pub async fn authenticate_at(
    state: &AppState,
    token: &str,
    version: Option<i64>,
) -> AppResult<AuthUser> {
    let subject = state.tokens.verify(token)?;
    let mut pooled = state.db.read().await?;
    let mut c = pooled.conn();
    let version = match version {
        Some(v) => v,
        None => crate::db::versions::data(&mut c).await?,
    };
    if let Some(user) = state.auth_cache.get(token, version) {
        return Ok(user);
    }
    let user = check(&mut c, subject).await?;
    state.auth_cache.put(token, version, &user);
    Ok(user)
}

async fn check(c: &mut crate::db::Conn<'_>, subject: TokenSubject) -> AppResult<AuthUser> {
    let user = match &subject {
        TokenSubject::Local { user_id, .. } => store::user_by_id(c, *user_id).await?,
        TokenSubject::ExternalEmail(email) => {
            store::user_by_email_key(c, &email.trim().to_lowercase()).await?
        }
        TokenSubject::ExternalSubject(sub) => store::user_by_external_subject(c, sub).await?,
    };
    let Some(user) = user else {
        return Err(AppError::Unauthenticated(
            "invalid token: it names no user of this service".into(),
        ));
    };
    if !user.active {
        return Err(AppError::Unauthenticated(
            "this account has been deactivated".into(),
        ));
    }
    if let TokenSubject::Local {
        password_version,
        token_epoch,
        token_id,
        ..
    } = subject
    {
        if password_version != user.password_version {
            return Err(AppError::Unauthenticated(
                "invalid token: the password was changed after it was issued; sign in again".into(),
            ));
        }
        if token_epoch != user.token_epoch {
            return Err(AppError::Unauthenticated(
                "invalid token: the account was deactivated after it was issued; sign in again"
                    .into(),
            ));
        }
        if sessions::token_revoked(c, &token_id).await? {
            return Err(AppError::Unauthenticated(
                "invalid token: this session was signed out; sign in again".into(),
            ));
        }
    }
    viewer_of(c, user).await
}

/// Who each recently seen token is, with the data version it was read at.
pub struct AuthCache(quick_cache::sync::Cache<String, (i64, AuthUser)>);

impl AuthCache {
    pub fn new(tokens: usize) -> Self {
        Self(quick_cache::sync::Cache::new(tokens.max(1)))
    }

    fn get(&self, token: &str, version: i64) -> Option<AuthUser> {
        self.0
            .get(token)
            .and_then(|(at, user)| (at == version).then_some(user))
    }

    fn put(&self, token: &str, version: i64, user: &AuthUser) {
        self.0.insert(token.to_owned(), (version, user.clone()));
    }
}

async fn viewer_of(c: &mut crate::db::Conn<'_>, user: store::UserRow) -> AppResult<AuthUser> {
    let rapporteur_of = store::rapporteur_questions(c, &[user.id])
        .await?
        .into_iter()
        .map(|(_, q)| q)
        .collect();
    Ok(AuthUser {
        id: user.id,
        organization_id: user.organization_id,
        roles: RoleSet::from_bits(user.roles),
        rapporteur_of,
    })
}

/// The viewer a user would be, for work done on their behalf (the demo loader).
pub async fn auth_user(state: &AppState, user_id: i64) -> AppResult<AuthUser> {
    let mut pooled = state.db.read().await?;
    let mut c = pooled.conn();
    let user = store::user_by_id(&mut c, user_id)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    viewer_of(&mut c, user).await
}

/// Sign in with e-mail and password. A wrong e-mail, a wrong password and a
/// deactivated account give the same error after the same work. Every attempt
/// is counted against the account and the client address *before* its password
/// is checked, so a burst of concurrent guesses gets no more checks than the
/// limits allow; a success clears the account's count and gives the address
/// its attempt back.
///
/// With `new_password` the sign-in also sets a new password (every earlier
/// token stops working). A temporary password from the secretariat signs in
/// only so, before it expires: without one the answer is
/// `PASSWORD_CHANGE_REQUIRED`.
#[tracing::instrument(skip_all)]
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    new_password: Option<&str>,
    client: Option<IpAddr>,
    ttl: std::time::Duration,
) -> AppResult<Session> {
    let now = state.clock.now();
    // A malformed address can never match; it still counts against the client.
    let email_key = email_key(email);
    let account = account_key(&email_key);
    let address = client.map(address_key);
    let reserved = match reserve_attempt(state, &account, address.as_deref(), now).await {
        Ok(r) => r,
        Err(e) => {
            if matches!(e, AppError::RateLimited { .. }) {
                metrics::counter!("kitreview_sign_in_failures_total", "reason" => "locked")
                    .increment(1);
            }
            return Err(e);
        }
    };
    let address_attempt = reserved.address.clone();
    let creds = {
        let mut pooled = state.db.read().await?;
        let mut c = pooled.conn();
        credentials::credentials_by_email_key(&mut c, &email_key).await?
    };
    let hash = creds.as_ref().and_then(|c| c.password_hash.as_deref());
    let ok = state.passwords.verify(hash, password).await?;
    // A deactivated account is refused like a wrong password (telling them apart
    // would confirm the password), and the attempt stays counted.
    let known = creds.as_ref().map(|c| c.user.clone());
    let Some(creds) = creds.filter(|c| ok && c.user.active) else {
        let reason = match &known {
            None => "unknown_account",
            Some(u) if !u.active => "deactivated",
            Some(_) => "wrong_password",
        };
        failed(state, known.as_ref(), client, reason, &reserved, now).await;
        return Err(AppError::Unauthenticated(WRONG_CREDENTIALS.into()));
    };
    let new_hash = match (creds.user.password_temporary_until, new_password) {
        // Counted as a failure: the password no longer works.
        (Some(until), _) if until <= now => {
            failed(
                state,
                known.as_ref(),
                client,
                "expired_temporary",
                &reserved,
                now,
            )
            .await;
            return Err(AppError::Unauthenticated(EXPIRED_TEMPORARY.into()));
        }
        (Some(_), None) => Err(AppError::PasswordChangeRequired(CHOOSE_NEW.into())),
        (_, Some(new)) => hash_new(state, password, new).await.map(Some),
        (None, None) => Ok(None),
    };
    let new_hash = match new_hash {
        Ok(h) => h,
        Err(e) => {
            // The password was right: the attempt is not held against anyone
            // (a user choosing a new password may need a few tries).
            let mut tx = state.db.begin_bookkeeping().await?;
            let mut c = tx.conn();
            forgive(
                &mut c,
                &account,
                address.as_deref(),
                address_attempt.as_ref(),
            )
            .await?;
            tx.commit().await?;
            return Err(e);
        }
    };
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let mut user = creds.user;
    if let Some(hash) = new_hash {
        user = credentials::set_password(&mut c, user.id, &hash, None, now)
            .await?
            .ok_or_else(|| AppError::Unauthenticated(WRONG_CREDENTIALS.into()))?;
    }
    forgive(
        &mut c,
        &account,
        address.as_deref(),
        address_attempt.as_ref(),
    )
    .await?;
    let who = AuthUser {
        id: user.id,
        organization_id: user.organization_id,
        roles: RoleSet::from_bits(user.roles),
        rapporteur_of: Vec::new(),
    };
    if new_password.is_some() {
        let change = Change::new(
            AuditAction::UserPasswordChanged,
            NodeKind::User,
            who.id,
            format!("{} chose a new password at sign-in", user.email),
        );
        audit::record(&mut c, Actor::User(&who), change, now).await?;
        // Earlier tokens stop working: so do the live connections made with them.
        tx.emit(Event::account(user.id, now));
    }
    let change = Change::new(
        AuditAction::SessionSignedIn,
        NodeKind::User,
        who.id,
        format!("{} signed in", user.email),
    );
    audit::record(&mut tx.conn(), Actor::User(&who), change, now).await?;
    tx.commit().await?;
    let (token, expires_at) =
        state
            .tokens
            .issue(user.id, user.password_version, user.token_epoch, ttl)?;
    Ok(Session {
        token,
        expires_at,
        user,
    })
}

/// The right password was given: clear the account's failures and give the
/// address its attempt back.
async fn forgive(
    c: &mut crate::db::Conn<'_>,
    account: &str,
    address: Option<&str>,
    counted: Option<&ThrottleState>,
) -> AppResult<()> {
    throttle::clear(c, account).await?;
    if let (Some(address), Some(counted)) = (address, counted) {
        throttle::release(c, address, counted).await?;
    }
    Ok(())
}

/// Check a new password against the policy and the current one, and hash it.
async fn hash_new(state: &AppState, current: &str, new: &str) -> AppResult<String> {
    let new = field("newPassword", NewPassword::parse(new))?;
    if new.expose() == current {
        return Err(AppError::validation(
            "newPassword",
            "the new password must differ from the current one",
        ));
    }
    state.passwords.hash(new.expose()).await
}

/// One attempt, counted: the address's state (for [`throttle::release`]
/// after a success) and the locks it set, should it fail.
struct Reserved {
    address: Option<ThrottleState>,
    account_locked_until: Option<DateTime<Utc>>,
    address_locked_until: Option<DateTime<Utc>>,
}

/// Count one sign-in attempt against the account and (when known) the client
/// address, in one transaction: refused with `RATE_LIMITED`, and nothing
/// counted, when either is locked.
async fn reserve_attempt(
    state: &AppState,
    account: &str,
    address: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Reserved> {
    let mut tx = state.db.begin_bookkeeping().await?;
    let mut c = tx.conn();
    // Always the account first, then the address: one order, no deadlock.
    let (_, account_locked_until) =
        reserve_key(&mut c, account, ThrottlePolicy::ACCOUNT, now).await?;
    let (address, address_locked_until) = match address {
        Some(address) => {
            let (s, locked) = reserve_key(&mut c, address, ThrottlePolicy::ADDRESS, now).await?;
            (Some(s), locked)
        }
        None => (None, None),
    };
    // On a refusal the transaction is dropped: rolled back, nothing counted.
    tx.commit().await?;
    Ok(Reserved {
        address,
        account_locked_until,
        address_locked_until,
    })
}

/// The key's counted state, and the end of the lock this attempt set (if
/// it fails: a success clears the account and releases the address).
async fn reserve_key(
    c: &mut crate::db::Conn<'_>,
    key: &str,
    policy: ThrottlePolicy,
    now: DateTime<Utc>,
) -> AppResult<(ThrottleState, Option<DateTime<Utc>>)> {
    let Some(counted) = throttle::reserve(c, key, now, policy.window_start(now)).await? else {
        let locked = throttle::get(c, key).await?;
        let retry_after_secs = policy.check(locked.as_ref(), now).err().unwrap_or(1);
        return Err(AppError::RateLimited { retry_after_secs });
    };
    let after = policy.lock_if_over(counted.clone(), now);
    if after == counted {
        return Ok((counted, None));
    }
    let until = after.locked_until;
    Ok((throttle::put(c, key, &after).await?, until))
}

/// A failed sign-in: logged, counted, and (for an account that exists) in
/// the audit trail with the lock it caused. Best effort: the client's answer
/// does not depend on it.
async fn failed(
    state: &AppState,
    user: Option<&store::UserRow>,
    client: Option<IpAddr>,
    reason: &'static str,
    reserved: &Reserved,
    now: DateTime<Utc>,
) {
    metrics::counter!("kitreview_sign_in_failures_total", "reason" => reason).increment(1);
    let client_text = client.map_or_else(|| "unknown".to_owned(), |c| c.to_string());
    tracing::info!(reason, client = %client_text, user_id = user.map(|u| u.id), "sign-in failed");
    if let Some(until) = reserved.address_locked_until {
        metrics::counter!("kitreview_sign_in_lockouts_total", "key" => "address").increment(1);
        tracing::warn!(client = %client_text, %until, "sign-ins from this address locked");
    }
    if let Some(until) = reserved.account_locked_until {
        metrics::counter!("kitreview_sign_in_lockouts_total", "key" => "account").increment(1);
        tracing::warn!(user_id = user.map(|u| u.id), %until, "sign-ins to this account locked");
    }
    let Some(user) = user else {
        return;
    };
    let mut summary = format!("failed sign-in to {} from {client_text}", user.email);
    if let Some(until) = reserved.account_locked_until {
        summary.push_str(&format!(
            "; sign-in locked until {}",
            until.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    let action = if reserved.account_locked_until.is_some() {
        AuditAction::SessionLockedOut
    } else {
        AuditAction::SessionSignInFailed
    };
    let recorded = async {
        let mut tx = state.db.begin_bookkeeping().await?;
        let change = Change::new(action, NodeKind::User, user.id, summary);
        audit::record(&mut tx.conn(), Actor::Operator, change, now).await?;
        tx.commit().await
    };
    if let Err(e) = recorded.await {
        tracing::warn!(error = %e, "a failed sign-in was not recorded in the audit trail");
    }
}

/// Sign a browser session out on the server: its token is refused from now
/// on (a copy of the cookie, or the token used as a bearer, included), and the
/// live connections made with it close. The user's other sessions and tokens
/// keep working. A token that is not valid (expired, not ours) needs nothing.
#[tracing::instrument(skip_all)]
pub async fn sign_out(state: &AppState, token: &str) -> AppResult<()> {
    let Ok(TokenSubject::Local {
        user_id,
        token_id,
        expires_at,
        ..
    }) = state.tokens.verify(token)
    else {
        return Ok(());
    };
    // Token times follow the system clock (see `TokenService::issue`); a row
    // is kept until its token is past expiry and the most leeway.
    let purge_before = chrono::Utc::now()
        - chrono::Duration::seconds(
            i64::try_from(crate::auth::jwt::MAX_LEEWAY_SECS).unwrap_or(30) + 60,
        );
    let mut tx = state.db.begin().await?;
    sessions::revoke_token(&mut tx.conn(), &token_id, user_id, expires_at, purge_before).await?;
    // The live connections of the user check their tokens again.
    tx.emit(Event::account(user_id, state.clock.now()));
    tx.commit().await
}

/// Change the viewer's own password. Every earlier token stops working; the
/// returned session carries a fresh one.
#[tracing::instrument(skip_all, fields(user_id = viewer.id))]
pub async fn change_password(
    state: &AppState,
    viewer: &AuthUser,
    current: &str,
    new: &str,
) -> AppResult<Session> {
    let creds = {
        let mut pooled = state.db.read().await?;
        let mut c = pooled.conn();
        credentials::credentials_by_id(&mut c, viewer.id)
            .await?
            .ok_or_else(|| AppError::not_found("user"))?
    };
    if !state
        .passwords
        .verify(creds.password_hash.as_deref(), current)
        .await?
    {
        return Err(AppError::validation(
            "currentPassword",
            "the current password is wrong",
        ));
    }
    let hash = hash_new(state, current, new).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let user = credentials::set_password(&mut tx.conn(), viewer.id, &hash, None, now)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    let change = Change::new(
        AuditAction::UserPasswordChanged,
        NodeKind::User,
        user.id,
        format!("{} changed their password", user.email),
    );
    audit::record(&mut tx.conn(), Actor::User(viewer), change, now).await?;
    // Earlier tokens stop working: so do the live connections made with them.
    tx.emit(Event::account(user.id, now));
    tx.commit().await?;
    let (token, expires_at) = state.tokens.issue(
        user.id,
        user.password_version,
        user.token_epoch,
        state.token_ttl,
    )?;
    Ok(Session {
        token,
        expires_at,
        user,
    })
}
