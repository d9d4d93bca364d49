//! Secretariat administration: organizations, users, questions, rapporteurs.

mod questions;

pub use questions::{assign_rapporteur, create_question, unassign_rapporteur, update_question};

use super::audit::{self, Change};
use super::{field, Actor};
use crate::db::accounts::{
    self as store, NewOrganization, NewUser, OrganizationChanges, OrganizationRow, QuestionRow,
    UserChanges, UserRow,
};
use crate::db::Tx;
use crate::domain::accounts::{
    CountryCode, DisplayName, Email, NewPassword, OrganizationKind, OrganizationName,
    OrganizationProfile, QuestionCode, Region, Role, RoleSet, ShortName, Title,
};
use crate::domain::audit::AuditAction;
use crate::domain::events::Event;
use crate::domain::ids::NodeKind;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The built-in secretariat organization.
pub const SECRETARIAT_ORG: &str = "ITU";

/// A new organization as asked for.
pub struct OrganizationInput {
    pub name: String,
    pub short_name: String,
    pub kind: OrganizationKind,
    pub country_code: Option<String>,
    pub region: Option<Region>,
}

/// Changes to an organization; `None` leaves a field alone, `Some(None)` clears it.
#[derive(Default)]
pub struct OrganizationPatch {
    pub name: Option<String>,
    pub short_name: Option<String>,
    pub kind: Option<OrganizationKind>,
    pub country_code: Option<Option<String>>,
    pub region: Option<Option<Region>>,
}

fn country(raw: Option<&str>) -> AppResult<Option<CountryCode>> {
    raw.filter(|s| !s.trim().is_empty())
        .map(|s| field("countryCode", CountryCode::parse(s)))
        .transpose()
}

fn profile(
    kind: OrganizationKind,
    country: Option<CountryCode>,
    region: Option<Region>,
) -> AppResult<OrganizationProfile> {
    OrganizationProfile::new(kind, country, region).map_err(|(f, e)| AppError::validation(f, e.0))
}

fn conflict_on_unique<T>(r: AppResult<T>, msg: impl FnOnce() -> String) -> AppResult<T> {
    r.map_err(|e| match e {
        AppError::Conflict(_) => AppError::Conflict(msg()),
        other => other,
    })
}

#[tracing::instrument(skip_all)]
pub async fn create_organization(
    state: &AppState,
    actor: Actor<'_>,
    input: OrganizationInput,
) -> AppResult<OrganizationRow> {
    actor.require_secretariat()?;
    let name = field("name", OrganizationName::parse(&input.name))?;
    let short = field("shortName", ShortName::parse(&input.short_name))?;
    let p = profile(
        input.kind,
        country(input.country_code.as_deref())?,
        input.region,
    )?;
    let mut tx = state.db.begin().await?;
    let row = store::insert_organization(
        &mut tx.conn(),
        NewOrganization {
            name: name.as_str(),
            short_name: short.as_str(),
            short_name_key: short.key(),
            kind: p.kind.as_str(),
            country_code: p.country.as_ref().map(CountryCode::as_str),
            region: p.region.map(Region::as_str),
        },
        state.clock.now(),
    )
    .await;
    let row = conflict_on_unique(row, || {
        format!(
            "an organization with short name '{}' already exists",
            short.as_str()
        )
    })?;
    audited(
        &mut tx,
        actor,
        AuditAction::OrganizationCreated,
        (NodeKind::Organization, row.id),
        None,
        format!("organization {} created", row.short_name),
        None,
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

#[tracing::instrument(skip_all, fields(organization_id = id))]
pub async fn update_organization(
    state: &AppState,
    actor: Actor<'_>,
    id: i64,
    patch: OrganizationPatch,
) -> AppResult<OrganizationRow> {
    actor.require_secretariat()?;
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let current = store::organization_by_id(&mut c, id)
        .await?
        .ok_or_else(|| AppError::not_found("organization"))?;
    let mut ch = OrganizationChanges::default();
    if let Some(name) = &patch.name {
        ch.name = Some(
            field("name", OrganizationName::parse(name))?
                .as_str()
                .to_owned(),
        );
    }
    let mut short_for_msg = current.short_name.clone();
    if let Some(short) = &patch.short_name {
        let s = field("shortName", ShortName::parse(short))?;
        short_for_msg = s.as_str().to_owned();
        ch.short_name = Some((s.as_str().to_owned(), s.key()));
    }
    // Check the organization as it will be, not just the changed fields.
    let kind = match patch.kind {
        Some(k) => k,
        None => current.kind,
    };
    let new_country = match &patch.country_code {
        Some(v) => country(v.as_deref())?,
        None => country(current.country_code.as_deref())?,
    };
    let region = match patch.region {
        Some(r) => r,
        None => current.region,
    };
    let p = profile(kind, new_country, region)?;
    ch.kind = patch.kind;
    ch.country_code = patch
        .country_code
        .map(|_| p.country.as_ref().map(|c| c.as_str().to_owned()));
    ch.region = patch.region.map(|r| r.map(|r| r.as_str().to_owned()));
    let row = store::update_organization(&mut c, id, ch, state.clock.now()).await;
    let row = conflict_on_unique(row, || {
        format!("an organization with short name '{short_for_msg}' already exists")
    })?
    .ok_or_else(|| AppError::not_found("organization"))?;
    audited(
        &mut tx,
        actor,
        AuditAction::OrganizationUpdated,
        (NodeKind::Organization, row.id),
        None,
        format!("organization {} updated", row.short_name),
        None,
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// A new user as asked for.
pub struct UserInput {
    pub email: String,
    pub display_name: String,
    /// `None`: the built-in ITU organization, allowed for SECRETARIAT users only.
    pub organization_id: Option<i64>,
    pub roles: Vec<Role>,
    /// `None`: the user signs in through the external identity provider only.
    pub password: Option<String>,
    pub external_subject: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn create_user(
    state: &AppState,
    actor: Actor<'_>,
    input: UserInput,
) -> AppResult<UserRow> {
    actor.require_secretariat()?;
    let email = field("email", Email::parse(&input.email))?;
    let name = field("displayName", DisplayName::parse(&input.display_name))?;
    let roles = field("roles", RoleSet::parse(&input.roles))?;
    let password = input
        .password
        .as_deref()
        .map(|p| field("password", NewPassword::parse(p)))
        .transpose()?;
    let external_subject = input
        .external_subject
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if password.is_none() && external_subject.is_none() {
        return Err(AppError::validation(
            "password",
            "give an initial password (or an external subject for single sign-on)",
        ));
    }
    // Hash before the transaction: it is slow and needs no lock.
    let password_hash = match &password {
        Some(p) => Some(state.passwords.hash(p.expose()).await?),
        None => None,
    };
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let organization_id = match input.organization_id {
        Some(id) => {
            store::organization_by_id(&mut c, id)
                .await?
                .ok_or_else(|| AppError::validation("organizationId", "no such organization"))?
                .id
        }
        None if roles.contains(Role::Secretariat) => {
            store::organization_by_short_name(&mut c, SECRETARIAT_ORG)
                .await?
                .ok_or_else(|| {
                    AppError::internal(anyhow::anyhow!("the ITU organization is missing"))
                })?
                .id
        }
        None => {
            return Err(AppError::validation(
                "organizationId",
                "a user who is not SECRETARIAT needs an organization",
            ))
        }
    };
    let row = store::insert_user(
        &mut c,
        NewUser {
            email: email.as_str(),
            email_key: email.key(),
            display_name: name.as_str(),
            organization_id,
            roles: roles.bits(),
            password_hash,
            external_subject,
        },
        state.clock.now(),
    )
    .await;
    let row = conflict_on_unique(row, || {
        format!(
            "a user with e-mail address {} already exists",
            email.as_str()
        )
    })?;
    audited(
        &mut tx,
        actor,
        AuditAction::UserCreated,
        (NodeKind::User, row.id),
        None,
        format!("user {} created", row.email),
        None,
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Changes to a user; `None` leaves a field alone.
#[derive(Default)]
pub struct UserPatch {
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub organization_id: Option<i64>,
    pub roles: Option<Vec<Role>>,
}

#[tracing::instrument(skip_all, fields(user_id = id))]
pub async fn update_user(
    state: &AppState,
    actor: Actor<'_>,
    id: i64,
    patch: UserPatch,
) -> AppResult<UserRow> {
    actor.require_secretariat()?;
    let mut ch = UserChanges::default();
    let mut email_for_msg = String::new();
    if let Some(e) = &patch.email {
        let e = field("email", Email::parse(e))?;
        email_for_msg = e.as_str().to_owned();
        ch.email = Some((e.as_str().to_owned(), e.key()));
    }
    if let Some(n) = &patch.display_name {
        ch.display_name = Some(
            field("displayName", DisplayName::parse(n))?
                .as_str()
                .to_owned(),
        );
    }
    if let Some(r) = &patch.roles {
        let roles = field("roles", RoleSet::parse(r))?;
        if actor.user_id() == Some(id) && !roles.contains(Role::Secretariat) {
            return Err(AppError::validation(
                "roles",
                "you cannot remove your own SECRETARIAT role",
            ));
        }
        ch.roles = Some(roles.bits());
    }
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    if let Some(org) = patch.organization_id {
        store::organization_by_id(&mut c, org)
            .await?
            .ok_or_else(|| AppError::validation("organizationId", "no such organization"))?;
        ch.organization_id = Some(org);
    }
    let row = store::update_user(&mut c, id, ch, state.clock.now()).await;
    let row = conflict_on_unique(row, || {
        format!("a user with e-mail address {email_for_msg} already exists")
    })?
    .ok_or_else(|| AppError::not_found("user"))?;
    audited(
        &mut tx,
        actor,
        AuditAction::UserUpdated,
        (NodeKind::User, row.id),
        None,
        format!("user {} updated", row.email),
        Some(row.id),
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Deactivate (tokens stop working at once, and for good: a reactivated user
/// signs in again) or reactivate a user.
#[tracing::instrument(skip_all, fields(user_id = id, active))]
pub async fn set_user_active(
    state: &AppState,
    actor: Actor<'_>,
    id: i64,
    active: bool,
) -> AppResult<UserRow> {
    actor.require_secretariat()?;
    if !active && actor.user_id() == Some(id) {
        return Err(AppError::validation(
            "userId",
            "you cannot deactivate your own account",
        ));
    }
    let mut tx = state.db.begin().await?;
    let row = store::update_user(
        &mut tx.conn(),
        id,
        UserChanges {
            active: Some(active),
            end_tokens: !active,
            ..Default::default()
        },
        state.clock.now(),
    )
    .await?
    .ok_or_else(|| AppError::not_found("user"))?;
    audited(
        &mut tx,
        actor,
        if active {
            AuditAction::UserActivated
        } else {
            AuditAction::UserDeactivated
        },
        (NodeKind::User, row.id),
        None,
        format!(
            "user {} {}",
            row.email,
            if active { "activated" } else { "deactivated" }
        ),
        Some(row.id),
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// The audit entry of an account change, and (for a change to a user's
/// rights) the signal that ends their live connections.
#[allow(clippy::too_many_arguments)]
async fn audited(
    tx: &mut Tx,
    actor: Actor<'_>,
    action: AuditAction,
    (kind, id): (NodeKind, i64),
    question_id: Option<i64>,
    summary: String,
    account_of: Option<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let mut change = Change::new(action, kind, id, summary);
    change.question_id = question_id;
    audit::record(&mut tx.conn(), actor, change, now).await?;
    if let Some(user_id) = account_of {
        tx.emit(Event::account(user_id, now));
    }
    Ok(())
}
