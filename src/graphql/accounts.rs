//! Organizations and users: the lists, and the secretariat's mutations.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, Result, SimpleObject, ID};

use super::connection::{self, Conn, PageArgs};
use super::context::CtxExt;
use super::ids::decode_id;
use super::maybe;
use super::types::{Organization, OrganizationKind, Region, Role, User};
use crate::domain::ids::NodeKind;
use crate::service::queries::accounts as queries;
use crate::service::records::{OrganizationFilter, UserFilter};
use crate::service::{accounts as service, Actor};

/// Filters on `organizations`.
#[derive(InputObject, Default)]
pub struct OrganizationFilterInput {
    /// Only organizations of this kind.
    pub kind: Option<OrganizationKind>,
    /// Only organizations of this region.
    pub region: Option<Region>,
}

/// Filters on `users`.
#[derive(InputObject, Default)]
pub struct UserFilterInput {
    /// Only users of this organization.
    pub organization_id: Option<ID>,
    /// Only active (true) or deactivated (false) users.
    pub active: Option<bool>,
}

#[derive(Default)]
pub struct AccountsQuery;

#[Object]
impl AccountsQuery {
    /// Every organization, oldest first. Any signed-in user may list them.
    #[graphql(complexity = "connection::cost(first, last, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only organizations that match.")] filter: Option<OrganizationFilterInput>,
        #[graphql(desc = "Page size from the start (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> Result<Conn<Organization>> {
        ctx.user()?;
        let f = filter.unwrap_or_default();
        let f = OrganizationFilter {
            kind: f.kind.map(Into::into),
            region: f.region.map(Into::into),
        };
        let state = ctx.state()?;
        connection::query(
            ctx,
            PageArgs::new(first, after, last, before),
            |page, total| async move { queries::organizations(state, &f, &page, total).await },
            |r| (r.id, r.id),
            Organization,
        )
        .await
    }

    /// One organization by its short name (case-insensitive).
    async fn organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Short name, e.g. `UNEP` (case-insensitive).")] short_name: String,
    ) -> Result<Option<Organization>> {
        ctx.user()?;
        Ok(
            queries::organization_by_short_name(ctx.state()?, short_name.trim())
                .await?
                .map(Organization),
        )
    }

    /// Every user, oldest first. Secretariat only.
    #[graphql(complexity = "connection::cost(first, last, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only users that match.")] filter: Option<UserFilterInput>,
        #[graphql(desc = "Page size from the start (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Page size from the end (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> Result<Conn<User>> {
        let viewer = ctx.user()?;
        viewer.require_secretariat()?;
        let args = PageArgs::new(first, after, last, before);
        let state = ctx.state()?;
        connection::query(
            ctx,
            args,
            |page, total| async move {
                let f = filter.unwrap_or_default();
                let f = UserFilter {
                    organization_id: f
                        .organization_id
                        .map(|id| decode_id("filter.organizationId", &id, NodeKind::Organization))
                        .transpose()?,
                    active: f.active,
                };
                queries::users(state, viewer, &f, &page, total).await
            },
            |r| (r.id, r.id),
            User::new,
        )
        .await
    }
}

/// A new organization.
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// Full name.
    pub name: String,
    /// Short name, unique case-insensitively.
    pub short_name: String,
    /// What kind of body it is.
    pub kind: OrganizationKind,
    /// ISO 3166-1 alpha-2 code; required for MEMBER_STATE.
    pub country_code: Option<String>,
    /// The ITU region, where it applies.
    pub region: Option<Region>,
}

/// The organization created.
#[derive(SimpleObject)]
pub struct CreateOrganizationPayload {
    /// The new organization.
    pub organization: Organization,
}

/// Changes to an organization: omitted fields stay as they are; `null` clears an optional one.
#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    /// The organization to change.
    pub organization_id: ID,
    /// New full name.
    pub name: Option<String>,
    /// New short name.
    pub short_name: Option<String>,
    /// New kind.
    pub kind: Option<OrganizationKind>,
    /// New country code, or null to clear it.
    pub country_code: MaybeUndefined<String>,
    /// New region, or null to clear it.
    pub region: MaybeUndefined<Region>,
}

/// The organization changed.
#[derive(SimpleObject)]
pub struct UpdateOrganizationPayload {
    /// The organization as it is now.
    pub organization: Organization,
}

/// A new user account.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// E-mail address, unique case-insensitively.
    pub email: String,
    /// Name shown to others.
    pub display_name: String,
    /// The user's organization; may be omitted for SECRETARIAT users (then ITU).
    pub organization_id: Option<ID>,
    /// One or more roles.
    pub roles: Vec<Role>,
    /// Initial password (at least 12 characters); the user should change it.
    pub initial_password: Option<String>,
    /// Subject (`sub`) at the external identity provider, for single sign-on.
    pub external_subject: Option<String>,
}

/// The user created.
#[derive(SimpleObject)]
pub struct CreateUserPayload {
    /// The new user.
    pub user: User,
}

/// Changes to a user: omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateUserInput {
    /// The user to change.
    pub user_id: ID,
    /// New e-mail address.
    pub email: Option<String>,
    /// New display name.
    pub display_name: Option<String>,
    /// New organization.
    pub organization_id: Option<ID>,
    /// New set of roles (replaces the old one).
    pub roles: Option<Vec<Role>>,
}

/// The user changed.
#[derive(SimpleObject)]
pub struct UpdateUserPayload {
    /// The user as it is now.
    pub user: User,
}

/// Which user to deactivate or reactivate.
#[derive(InputObject)]
pub struct SetUserActiveInput {
    /// The user.
    pub user_id: ID,
}

/// The user after the change.
#[derive(SimpleObject)]
pub struct SetUserActivePayload {
    /// The user as it is now.
    pub user: User,
}

#[derive(Default)]
pub struct AccountsMutation;

#[Object]
impl AccountsMutation {
    /// Create an organization. Secretariat only.
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateOrganizationInput,
    ) -> Result<CreateOrganizationPayload> {
        let viewer = ctx.user()?;
        let row = service::create_organization(
            ctx.state()?,
            Actor::User(viewer),
            service::OrganizationInput {
                name: input.name,
                short_name: input.short_name,
                kind: input.kind.into(),
                country_code: input.country_code,
                region: input.region.map(Into::into),
            },
        )
        .await?;
        Ok(CreateOrganizationPayload {
            organization: Organization(row),
        })
    }

    /// Change an organization. Secretariat only.
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateOrganizationInput,
    ) -> Result<UpdateOrganizationPayload> {
        let viewer = ctx.user()?;
        let id = decode_id(
            "organizationId",
            &input.organization_id,
            NodeKind::Organization,
        )?;
        let patch = service::OrganizationPatch {
            name: input.name,
            short_name: input.short_name,
            kind: input.kind.map(Into::into),
            country_code: maybe(input.country_code),
            region: maybe(input.region).map(|r| r.map(Into::into)),
        };
        let row =
            service::update_organization(ctx.state()?, Actor::User(viewer), id, patch).await?;
        Ok(UpdateOrganizationPayload {
            organization: Organization(row),
        })
    }

    /// Create a user account. Secretariat only.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateUserInput,
    ) -> Result<CreateUserPayload> {
        let viewer = ctx.user()?;
        let organization_id = input
            .organization_id
            .map(|id| decode_id("organizationId", &id, NodeKind::Organization))
            .transpose()?;
        let row = service::create_user(
            ctx.state()?,
            Actor::User(viewer),
            service::UserInput {
                email: input.email,
                display_name: input.display_name,
                organization_id,
                roles: input.roles.into_iter().map(Into::into).collect(),
                password: input.initial_password,
                external_subject: input.external_subject,
            },
        )
        .await?;
        Ok(CreateUserPayload {
            user: User::new(row),
        })
    }

    /// Change a user account. Secretariat only.
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateUserInput,
    ) -> Result<UpdateUserPayload> {
        let viewer = ctx.user()?;
        let id = decode_id("userId", &input.user_id, NodeKind::User)?;
        let organization_id = input
            .organization_id
            .map(|id| decode_id("organizationId", &id, NodeKind::Organization))
            .transpose()?;
        let patch = service::UserPatch {
            email: input.email,
            display_name: input.display_name,
            organization_id,
            roles: input.roles.map(|r| r.into_iter().map(Into::into).collect()),
        };
        let row = service::update_user(ctx.state()?, Actor::User(viewer), id, patch).await?;
        Ok(UpdateUserPayload {
            user: User::new(row),
        })
    }

    /// Deactivate a user: they can no longer sign in and their tokens stop working at once.
    /// Secretariat only.
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: SetUserActiveInput,
    ) -> Result<SetUserActivePayload> {
        let viewer = ctx.user()?;
        let id = decode_id("userId", &input.user_id, NodeKind::User)?;
        let row = service::set_user_active(ctx.state()?, Actor::User(viewer), id, false).await?;
        Ok(SetUserActivePayload {
            user: User::new(row),
        })
    }

    /// Reactivate a deactivated user. Secretariat only.
    async fn reactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: SetUserActiveInput,
    ) -> Result<SetUserActivePayload> {
        let viewer = ctx.user()?;
        let id = decode_id("userId", &input.user_id, NodeKind::User)?;
        let row = service::set_user_active(ctx.state()?, Actor::User(viewer), id, true).await?;
        Ok(SetUserActivePayload {
            user: User::new(row),
        })
    }
}
