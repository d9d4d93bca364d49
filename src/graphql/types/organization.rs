//! `Organization`: an organization on whose behalf users comment.

use async_graphql::{Enum, Object, ID};
use chrono::{DateTime, Utc};

use crate::domain::ids::NodeKind;
use crate::graphql::ids;
use crate::service::records::OrganizationRow;

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
