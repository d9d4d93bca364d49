//! Accounts: organizations, users, roles and questions, as validated values.

use std::fmt;
use std::str::FromStr;

/// A rule broken by an input value; the caller attaches the field name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(msg: impl Into<String>) -> Invalid {
    Invalid(msg.into())
}

/// Trimmed, non-empty text of at most `max` characters, without control characters.
fn clean_text(raw: &str, what: &str, max: usize) -> Result<String, Invalid> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(invalid(format!("{what} must not be empty")));
    }
    if s.chars().count() > max {
        return Err(invalid(format!("{what} must be at most {max} characters")));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{what} must not contain control characters"
        )));
    }
    Ok(s.to_owned())
}

/// An e-mail address. Kept as typed; compared case-insensitively through [`Email::key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        if s.len() > 254 {
            return Err(invalid("e-mail address is too long"));
        }
        let addr = email_address::EmailAddress::from_str(s)
            .map_err(|_| invalid(format!("'{s}' is not a valid e-mail address")))?;
        Ok(Self(addr.as_str().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive uniqueness key.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// The uniqueness key of an e-mail address as typed: the parsed address's
/// key, or (for one that does not parse, and so matches no account) the
/// trimmed lower-case text.
pub fn email_key(raw: &str) -> String {
    Email::parse(raw)
        .map(|e| e.key())
        .unwrap_or_else(|_| raw.trim().to_lowercase())
}

/// A person's display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        clean_text(raw, "name", 200).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An organization's full name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationName(String);

impl OrganizationName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        clean_text(raw, "name", 300).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An organization's short name (`ITU`, `UNEP`, `Kenya`), unique case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortName(String);

impl ShortName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = clean_text(raw, "short name", 40)?;
        if !s
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '&' | '\''))
        {
            return Err(invalid(
                "short name may contain letters, digits, spaces and - _ . & ' only",
            ));
        }
        Ok(Self(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The case-insensitive uniqueness key.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountryCode(isocountry::CountryCode);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim().to_ascii_uppercase();
        if s.len() != 2 {
            return Err(invalid(format!(
                "'{}' is not an ISO 3166-1 alpha-2 country code (two letters, e.g. KE)",
                raw.trim()
            )));
        }
        isocountry::CountryCode::for_alpha2(&s)
            .map(Self)
            .map_err(|_| invalid(format!("'{s}' is not an ISO 3166-1 alpha-2 country code")))
    }
    pub fn as_str(&self) -> &'static str {
        self.0.alpha2()
    }
    /// The country's English name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

string_enum!(
    /// What kind of body an organization is.
    OrganizationKind {
        MemberState = "MEMBER_STATE",
        SectorMember = "SECTOR_MEMBER",
        Academia = "ACADEMIA",
        InternationalOrganization = "INTERNATIONAL_ORGANIZATION",
        Observer = "OBSERVER",
    }
);

string_enum!(
    /// The ITU administrative regions.
    Region {
        Africa = "AFRICA",
        Americas = "AMERICAS",
        ArabStates = "ARAB_STATES",
        AsiaPacific = "ASIA_PACIFIC",
        Cis = "CIS",
        Europe = "EUROPE",
    }
);

string_enum!(
    /// What a user may do. RAPPORTEUR powers apply to the questions the user is assigned to.
    Role {
        Member = "MEMBER",
        Rapporteur = "RAPPORTEUR",
        Secretariat = "SECRETARIAT",
    }
);

/// The checked attributes of an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationProfile {
    pub kind: OrganizationKind,
    pub country: Option<CountryCode>,
    pub region: Option<Region>,
}

impl OrganizationProfile {
    /// A member state needs its country code; other kinds may give one.
    pub fn new(
        kind: OrganizationKind,
        country: Option<CountryCode>,
        region: Option<Region>,
    ) -> Result<Self, (&'static str, Invalid)> {
        if kind == OrganizationKind::MemberState && country.is_none() {
            return Err((
                "countryCode",
                invalid("a MEMBER_STATE organization needs its ISO 3166-1 alpha-2 country code"),
            ));
        }
        Ok(Self {
            kind,
            country,
            region,
        })
    }
}

/// A set of roles, stored as a bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoleSet(u8);

impl RoleSet {
    fn bit(role: Role) -> u8 {
        match role {
            Role::Member => 1,
            Role::Rapporteur => 2,
            Role::Secretariat => 4,
        }
    }

    /// At least one role is required.
    pub fn parse(roles: &[Role]) -> Result<Self, Invalid> {
        if roles.is_empty() {
            return Err(invalid("a user needs at least one role"));
        }
        Ok(Self(roles.iter().fold(0, |m, r| m | Self::bit(*r))))
    }

    pub fn from_bits(bits: i64) -> Self {
        Self((bits & 7) as u8)
    }
    pub fn bits(self) -> i64 {
        i64::from(self.0)
    }
    pub fn contains(self, role: Role) -> bool {
        self.0 & Self::bit(role) != 0
    }
    pub fn with(self, role: Role) -> Self {
        Self(self.0 | Self::bit(role))
    }
    pub fn to_vec(self) -> Vec<Role> {
        Role::ALL
            .iter()
            .copied()
            .filter(|r| self.contains(*r))
            .collect()
    }
}

/// A study question code such as `17-2/2`: number, optional revision, `/` study group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionCode {
    code: String,
    study_group: i64,
}

impl QuestionCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        let bad = || {
            invalid(format!(
                "'{s}' is not a question code like 17-2/2 (question, optional revision, / study group)"
            ))
        };
        let (number, group) = s.split_once('/').ok_or_else(bad)?;
        let (question, revision) = match number.split_once('-') {
            Some((q, r)) => (q, Some(r)),
            None => (number, None),
        };
        let digits =
            |p: &str| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(question) || !revision.is_none_or(digits) || !digits(group) {
            return Err(bad());
        }
        let study_group: i64 = group.parse().map_err(|_| bad())?;
        if study_group == 0 {
            return Err(bad());
        }
        Ok(Self {
            code: s.to_owned(),
            study_group,
        })
    }
    pub fn as_str(&self) -> &str {
        &self.code
    }
    /// The study group the code names after the `/`.
    pub fn study_group(&self) -> i64 {
        self.study_group
    }
}

/// A question's title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        clean_text(raw, "title", 500).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password that meets the policy. Never printed.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_BYTES: usize = 1024;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(invalid(format!(
                "password must be at least {} characters",
                Self::MIN_CHARS
            )));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(invalid(format!(
                "password must be at most {} bytes",
                Self::MAX_BYTES
            )));
        }
        if raw.trim().is_empty() {
            return Err(invalid("password must not be only spaces"));
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_and_keyed_case_insensitively() {
        let e = Email::parse("  Amina.Diallo@Example.SN ").expect("valid");
        assert_eq!(e.as_str(), "Amina.Diallo@Example.SN");
        assert_eq!(e.key(), "amina.diallo@example.sn");
        assert!(Email::parse("not-an-email").is_err());
        assert!(Email::parse("a@").is_err());
    }

    #[test]
    fn country_codes_are_iso_3166_alpha_2() {
        assert_eq!(CountryCode::parse("ke").map(|c| c.as_str()), Ok("KE"));
        assert_eq!(CountryCode::parse("FR").map(|c| c.name()), Ok("France"));
        assert!(CountryCode::parse("XX").is_err());
        assert!(CountryCode::parse("FRA").is_err());
        assert!(CountryCode::parse("").is_err());
    }

    #[test]
    fn member_states_need_a_country() {
        assert!(OrganizationProfile::new(OrganizationKind::MemberState, None, None).is_err());
        assert!(
            OrganizationProfile::new(OrganizationKind::InternationalOrganization, None, None)
                .is_ok()
        );
    }

    #[test]
    fn question_codes() {
        let q = QuestionCode::parse("17-2/2").expect("valid");
        assert_eq!(q.study_group(), 2);
        assert_eq!(QuestionCode::parse("3/1").map(|q| q.study_group()), Ok(1));
        for bad in [
            "17", "17-/2", "a-2/2", "17-2/", "17-2/0", "1234/2", "17-2/2x",
        ] {
            assert!(QuestionCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn role_sets() {
        let r = RoleSet::parse(&[Role::Member, Role::Rapporteur]).expect("valid");
        assert!(r.contains(Role::Rapporteur) && !r.contains(Role::Secretariat));
        assert_eq!(RoleSet::from_bits(r.bits()), r);
        assert_eq!(r.to_vec(), vec![Role::Member, Role::Rapporteur]);
        assert!(RoleSet::parse(&[]).is_err());
        assert_eq!("RAPPORTEUR".parse::<Role>(), Ok(Role::Rapporteur));
        assert!("rapporteur".parse::<Role>().is_err());
    }

    #[test]
    fn text_and_passwords() {
        assert!(DisplayName::parse("  ").is_err());
        assert!(DisplayName::parse("A\u{0}B").is_err());
        assert_eq!(
            DisplayName::parse(" Zoé Müller ").map(|n| n.as_str().to_owned()),
            Ok("Zoé Müller".into())
        );
        assert!(ShortName::parse("UN DESA").is_ok());
        assert!(ShortName::parse("<script>").is_err());
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("a long enough passphrase").is_ok());
        assert!(
            format!("{:?}", NewPassword::parse("a long enough passphrase")).contains("redacted")
        );
    }
}
