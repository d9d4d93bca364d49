//! Getting a user back in: a temporary password from the secretariat (shown
//! once; it signs in only to choose a new password, and only for
//! [`TEMPORARY_VALIDITY`]), a password the operator sets from the command
//! line, and the unlocking of an account that failed sign-ins locked. Each
//! ends the user's earlier tokens (except an unlock) and is audited.

use chrono::{DateTime, Duration, Utc};

use super::audit::{self, Change};
use super::{field, Actor};
use crate::auth::password::temporary_password;
use crate::db::accounts::{self as store, UserRow};
use crate::db::{credentials, throttle};
use crate::domain::accounts::{email_key, NewPassword};
use crate::domain::audit::AuditAction;
use crate::domain::events::Event;
use crate::domain::ids::NodeKind;
use crate::domain::throttle::account_key;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// How long a temporary password works.
pub const TEMPORARY_VALIDITY: Duration = Duration::days(7);

/// A temporary password, to be passed on to the user; never stored in clear.
pub struct Reset {
    pub user: UserRow,
    pub password: String,
    pub expires_at: DateTime<Utc>,
}

async fn user(state: &AppState, id: i64) -> AppResult<UserRow> {
    let mut pooled = state.db.read().await?;
    store::user_by_id(&mut pooled.conn(), id)
        .await?
        .ok_or_else(|| AppError::not_found("user"))
}

/// Give a user a new temporary password (the secretariat): their earlier
/// password and tokens stop working, a sign-in lock is lifted.
#[tracing::instrument(skip_all, fields(user_id = id))]
pub async fn reset_password(state: &AppState, actor: Actor<'_>, id: i64) -> AppResult<Reset> {
    actor.require_secretariat()?;
    if actor.user_id() == Some(id) {
        return Err(AppError::validation(
            "userId",
            "change your own password with changePassword",
        ));
    }
    let target = user(state, id).await?;
    let password = temporary_password();
    let until = state.clock.now() + TEMPORARY_VALIDITY;
    let user = store_password(
        state,
        actor,
        &target,
        &state.passwords.hash(&password).await?,
        Some(until),
        format!("temporary password issued for {}", target.email),
    )
    .await?;
    Ok(Reset {
        user,
        password,
        expires_at: until,
    })
}

/// Set a user's password from the command line (the operator): their own
/// password, or with `temporary` one they must change at their next sign-in.
#[tracing::instrument(skip_all)]
pub async fn set_password(
    state: &AppState,
    email: &str,
    password: &str,
    temporary: bool,
) -> AppResult<UserRow> {
    let target = {
        let mut pooled = state.db.read().await?;
        store::user_by_email_key(&mut pooled.conn(), &email_key(email))
            .await?
            .ok_or_else(|| AppError::not_found(format!("user with e-mail address {email}")))?
    };
    let password = field("password", NewPassword::parse(password))?;
    let hash = state.passwords.hash(password.expose()).await?;
    let until = temporary.then(|| state.clock.now() + TEMPORARY_VALIDITY);
    let kind = if temporary { "a temporary" } else { "a new" };
    store_password(
        state,
        Actor::Operator,
        &target,
        &hash,
        until,
        format!("{kind} password set for {} by the operator", target.email),
    )
    .await
}

/// Store a password someone else set, clear the account's sign-in lock,
/// record it and end the user's live connections (their tokens end).
async fn store_password(
    state: &AppState,
    actor: Actor<'_>,
    target: &UserRow,
    hash: &str,
    until: Option<DateTime<Utc>>,
    summary: String,
) -> AppResult<UserRow> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let user = credentials::set_password(&mut tx.conn(), target.id, hash, until, now)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    throttle::clear(&mut tx.conn(), &account_key(&email_key(&user.email))).await?;
    let change = Change::new(
        AuditAction::UserPasswordReset,
        NodeKind::User,
        user.id,
        summary,
    );
    audit::record(&mut tx.conn(), actor, change, now).await?;
    tx.emit(Event::account(user.id, now));
    tx.commit().await?;
    Ok(user)
}

/// Lift the sign-in lock that failed attempts put on a user's account (the
/// secretariat). Recorded only when there was something to lift; the
/// password is unchanged.
#[tracing::instrument(skip_all, fields(user_id = id))]
pub async fn unlock_sign_in(state: &AppState, actor: Actor<'_>, id: i64) -> AppResult<UserRow> {
    actor.require_secretariat()?;
    let target = user(state, id).await?;
    let key = account_key(&email_key(&target.email));
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let Some(counted) = throttle::get(&mut tx.conn(), &key).await? else {
        return Ok(target);
    };
    throttle::clear(&mut tx.conn(), &key).await?;
    let summary = match counted.locked_until {
        Some(until) if until > now => format!("sign-in of {} unlocked", target.email),
        _ => format!("failed sign-ins of {} forgotten", target.email),
    };
    let change = Change::new(
        AuditAction::UserSignInUnlocked,
        NodeKind::User,
        target.id,
        summary,
    );
    audit::record(&mut tx.conn(), actor, change, now).await?;
    tx.commit().await?;
    Ok(target)
}
