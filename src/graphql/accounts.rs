//! Organizations and users: types, queries and the secretariat's mutations.

use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::connection::{self, Conn, PageArgs};
use super::context::CtxExt;
use super::loaders::required;
use super::maybe;
use super::node::{decode_id, ids};
use super::questions::Question;
use crate::domain::accounts as domain;
use crate::domain::ids::NodeKind;
use crate::error::AppError;
use crate::service::queries::accounts as queries;
use crate::service::records::{OrganizationFilter, OrganizationRow, UserFilter, UserRow};
use crate::service::{accounts as service, Actor};

/// What kind of body an organization is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(
    name = "OrganizationKind",
    remote = "crate::domain::accounts::OrganizationKind"
)]
pub enum OrganizationKind {
    /// A member state administration (has an ISO 3166-1 country code).
    MemberState,
    /// A sector member (operator, manufacturer, ...).
    SectorMember,
    /// A university or research institution.
    Academia,
    /// An international organization (UN DESA, OECD, UNEP, WMO, the ITU itself).
    InternationalOrganization,
    /// An observer.
    Observer,
}

/// The ITU administrative regions.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Region", remote = "crate::domain::accounts::Region")]
pub enum Region {
    /// Africa.
    Africa,
    /// The Americas.
    Americas,
    /// Arab States.
    ArabStates,
    /// Asia and the Pacific.
    AsiaPacific,
    /// Commonwealth of Independent States.
    Cis,
    /// Europe.
    Europe,
}

/// A user's roles. RAPPORTEUR powers apply to the questions the user is assigned to.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Role", remote = "crate::domain::accounts::Role")]
pub enum Role {
    /// Comments on drafts on behalf of the user's organization.
    Member,
    /// Runs review cycles and consolidation for assigned questions.
    Rapporteur,
    /// Administers the service: organizations, users, questions.
    Secretariat,
}

/// An organization on whose behalf users comment.
pub struct Organization(pub OrganizationRow);

/// An organization on whose behalf users comment.
#[Object]
impl Organization {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::id(NodeKind::Organization, self.0.id)
    }
    /// Full name, e.g. "Republic of Kenya" or "United Nations Environment Programme".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Short name, unique, e.g. "Kenya" or "UNEP".
    async fn short_name(&self) -> &str {
        &self.0.short_name
    }
    /// What kind of body it is.
    async fn kind(&self) -> OrganizationKind {
        self.0.kind.into()
    }
    /// ISO 3166-1 alpha-2 country code (always set for member states).
    async fn country_code(&self) -> Option<&str> {
        self.0.country_code.as_deref()
    }
    /// The ITU region, where it applies.
    async fn region(&self) -> Option<Region> {
        self.0.region.map(Into::into)
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A person who signs in.
pub struct User {
    pub row: UserRow,
    /// Returned to the user it names by `login` or `changePassword`, before the
    /// request has a viewer.
    own_session: bool,
}

impl User {
    fn require_self(&self, ctx: &Context<'_>) -> Result<(), AppError> {
        if ctx.user()?.id == self.row.id {
            Ok(())
        } else {
            Err(AppError::forbidden("only you can see your notifications"))
        }
    }

    pub fn new(row: UserRow) -> Self {
        Self {
            row,
            own_session: false,
        }
    }

    /// The user of a session just opened.
    pub fn own(row: UserRow) -> Self {
        Self {
            row,
            own_session: true,
        }
    }
}

/// A person who signs in.
#[Object]
impl User {
    /// Global id.
    pub async fn id(&self) -> ID {
        ids::id(NodeKind::User, self.row.id)
    }

    /// Your notifications, newest first (`viewer { notifications }`): new
    /// revisions of modules your organization commented on or you follow.
    /// FORBIDDEN on any other user.
    #[graphql(complexity = "super::connection::cost(first, None, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "true: only unread ones; false: only read ones.")] unread: Option<bool>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
    ) -> Result<super::connection::Conn<super::notifications::Notification>> {
        self.require_self(ctx)?;
        super::notifications::list(ctx, unread, PageArgs::forward(first, after)).await
    }

    /// How many of your notifications are unread. FORBIDDEN on any other user.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> Result<i64> {
        self.require_self(ctx)?;
        super::notifications::unread_count(ctx).await
    }
    /// E-mail address (the sign-in name); visible to the user and the secretariat only.
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        if self.own_session {
            return Ok(Some(self.row.email.as_str()));
        }
        let viewer = ctx.user()?;
        Ok(
            (viewer.id == self.row.id || viewer.is_secretariat())
                .then_some(self.row.email.as_str()),
        )
    }
    /// Name shown to others.
    async fn display_name(&self) -> &str {
        &self.row.display_name
    }
    /// The organization the user acts for.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Organization> {
        let org = required(
            &ctx.loaders()?.organizations,
            self.row.organization_id,
            "user without organization",
        )
        .await?;
        Ok(Organization(org))
    }
    /// The user's roles.
    async fn roles(&self) -> Vec<Role> {
        domain::RoleSet::from_bits(self.row.roles)
            .to_vec()
            .into_iter()
            .map(Into::into)
            .collect()
    }
    /// Whether the user may sign in. A deactivated user's tokens stop working at once.
    async fn active(&self) -> bool {
        self.row.active
    }
    /// The questions this user is a rapporteur of.
    async fn rapporteur_of(&self, ctx: &Context<'_>) -> Result<Vec<Question>> {
        let loaders = ctx.loaders()?;
        let ids = loaders
            .questions_of_rapporteur
            .load_one(self.row.id)
            .await?
            .unwrap_or_default();
        let rows = loaders.questions.load_many(ids.iter().copied()).await?;
        Ok(ids
            .iter()
            .filter_map(|i| rows.get(i).cloned())
            .map(Question)
            .collect())
    }
    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
}

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
