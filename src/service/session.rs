//! Signing in, token checks on every request, and password changes.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::audit::{self, Change};
use super::{field, Actor};
use crate::auth::jwt::TokenSubject;
use crate::auth::AuthUser;
use crate::db::{accounts as store, throttle};
use crate::domain::accounts::{Email, NewPassword, RoleSet};
use crate::domain::events::Event;
use crate::domain::ids::NodeKind;
use crate::domain::throttle::ThrottlePolicy;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// What a successful sign-in returns.
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: store::UserRow,
}

const WRONG_CREDENTIALS: &str = "wrong e-mail address or password";

/// Resolve a bearer token to an active user, refusing tokens of deactivated
/// users and tokens issued before the user's last password change.
#[tracing::instrument(skip_all)]
pub async fn authenticate(state: &AppState, token: &str) -> AppResult<AuthUser> {
    let subject = state.tokens.verify(token)?;
    let mut pooled = state.db.read().await?;
    let mut c = pooled.conn();
    let user = match &subject {
        TokenSubject::Local { user_id, .. } => store::user_by_id(&mut c, *user_id).await?,
        TokenSubject::ExternalEmail(email) => {
            store::user_by_email_key(&mut c, &email.trim().to_lowercase()).await?
        }
        TokenSubject::ExternalSubject(sub) => store::user_by_external_subject(&mut c, sub).await?,
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
        password_version, ..
    } = subject
    {
        if password_version != user.password_version {
            return Err(AppError::Unauthenticated(
                "invalid token: the password was changed after it was issued; sign in again".into(),
            ));
        }
    }
    viewer_of(&mut c, user).await
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

fn account_key(email_key: &str) -> String {
    format!("account:{email_key}")
}

fn address_key(addr: IpAddr) -> String {
    format!("address:{addr}")
}

/// Sign in with e-mail and password. A wrong e-mail and a wrong password give
/// the same error after the same work; failures are throttled per account and
/// per client address.
#[tracing::instrument(skip_all)]
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    client: Option<IpAddr>,
) -> AppResult<Session> {
    let now = state.clock.now();
    // A malformed address can never match; it still counts against the client.
    let email_key = Email::parse(email)
        .map(|e| e.key())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    let account = account_key(&email_key);
    let address = client.map(address_key);
    {
        let mut pooled = state.db.read().await?;
        let mut c = pooled.conn();
        let acct_state = throttle::get(&mut c, &account).await?;
        ThrottlePolicy::ACCOUNT
            .check(acct_state.as_ref(), now)
            .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;
        if let Some(address) = &address {
            let addr_state = throttle::get(&mut c, address).await?;
            ThrottlePolicy::ADDRESS
                .check(addr_state.as_ref(), now)
                .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;
        }
    }
    let creds = {
        let mut pooled = state.db.read().await?;
        let mut c = pooled.conn();
        store::credentials_by_email_key(&mut c, &email_key).await?
    };
    let hash = creds.as_ref().and_then(|c| c.password_hash.as_deref());
    let ok = state.passwords.verify(hash, password).await?;
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let Some(creds) = creds.filter(|_| ok) else {
        let s = throttle::get(&mut c, &account).await?;
        throttle::put(
            &mut c,
            &account,
            &ThrottlePolicy::ACCOUNT.record_failure(s, now),
        )
        .await?;
        if let Some(address) = &address {
            let s = throttle::get(&mut c, address).await?;
            throttle::put(
                &mut c,
                address,
                &ThrottlePolicy::ADDRESS.record_failure(s, now),
            )
            .await?;
        }
        tx.commit().await?;
        return Err(AppError::Unauthenticated(WRONG_CREDENTIALS.into()));
    };
    throttle::clear(&mut c, &account).await?;
    if creds.user.active {
        let who = AuthUser {
            id: creds.user.id,
            organization_id: creds.user.organization_id,
            roles: RoleSet::from_bits(creds.user.roles),
            rapporteur_of: Vec::new(),
        };
        let change = Change::new(
            "session.signed_in",
            NodeKind::User,
            who.id,
            format!("{} signed in", creds.user.email),
        );
        audit::record(&mut c, Actor::User(&who), change, now).await?;
    }
    tx.commit().await?;
    if !creds.user.active {
        return Err(AppError::Unauthenticated(
            "this account has been deactivated".into(),
        ));
    }
    let (token, expires_at) =
        state
            .tokens
            .issue(creds.user.id, creds.user.password_version, state.token_ttl)?;
    Ok(Session {
        token,
        expires_at,
        user: creds.user,
    })
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
    let new = field("newPassword", NewPassword::parse(new))?;
    let creds = {
        let mut pooled = state.db.read().await?;
        let mut c = pooled.conn();
        store::credentials_by_id(&mut c, viewer.id)
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
    if new.expose() == current {
        return Err(AppError::validation(
            "newPassword",
            "the new password must differ from the current one",
        ));
    }
    let hash = state.passwords.hash(new.expose()).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let user = store::set_password(&mut tx.conn(), viewer.id, &hash, now)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    let change = Change::new(
        "user.password_changed",
        NodeKind::User,
        user.id,
        format!("{} changed their password", user.email),
    );
    audit::record(&mut tx.conn(), Actor::User(viewer), change, now).await?;
    // Earlier tokens stop working: so do the live connections made with them.
    tx.emit(Event::account(user.id, now));
    tx.commit().await?;
    let (token, expires_at) =
        state
            .tokens
            .issue(user.id, user.password_version, state.token_ttl)?;
    Ok(Session {
        token,
        expires_at,
        user,
    })
}
