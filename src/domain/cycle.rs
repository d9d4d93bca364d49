//! Review cycles: the status follows the clock (no background job), and the
//! rules on who may comment when.

use chrono::{DateTime, Utc};

use super::accounts::Invalid;

string_enum!(
    /// Where a review cycle stands at a given instant.
    CycleStatus {
        Scheduled = "SCHEDULED",
        Open = "OPEN",
        Closed = "CLOSED",
        Consolidated = "CONSOLIDATED",
    }
);

string_enum!(
    /// Who sees submitted comments while the cycle is open.
    Visibility {
        Open = "OPEN",
        Sealed = "SEALED",
    }
);

/// The timing of a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub consolidated_at: Option<DateTime<Utc>>,
}

impl Period {
    /// A new comment period; it must end after it starts, and in the future.
    pub fn new(
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Self, (&'static str, Invalid)> {
        if closes_at <= opens_at {
            return Err(("closesAt", Invalid("closesAt must be after opensAt".into())));
        }
        if closes_at <= now {
            return Err(("closesAt", Invalid("closesAt must be in the future".into())));
        }
        Ok(Self {
            opens_at,
            closes_at,
            consolidated_at: None,
        })
    }

    /// The status at `now`: the cycle closes at `closes_at` exactly.
    pub fn status(&self, now: DateTime<Utc>) -> CycleStatus {
        if self.consolidated_at.is_some() {
            CycleStatus::Consolidated
        } else if now < self.opens_at {
            CycleStatus::Scheduled
        } else if now < self.closes_at {
            CycleStatus::Open
        } else {
            CycleStatus::Closed
        }
    }

    /// Scheduled or open: the module's one active cycle.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        matches!(self.status(now), CycleStatus::Scheduled | CycleStatus::Open)
    }
}

/// Whether an organization may submit (or edit, or withdraw) comments now, and
/// whether what it submits is late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The cycle is open.
    OnTime,
    /// The cycle is closed but a rapporteur granted this organization until a later time.
    Late,
    /// Not yet open.
    NotOpen,
    /// Closed, without a grant.
    Closed,
}

/// The submission window for one organization; `late_until` is its grant, if any.
pub fn window(period: &Period, late_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Window {
    match period.status(now) {
        CycleStatus::Scheduled => Window::NotOpen,
        CycleStatus::Open => Window::OnTime,
        CycleStatus::Closed if late_until.is_some_and(|u| now < u) => Window::Late,
        CycleStatus::Closed | CycleStatus::Consolidated => Window::Closed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn status_follows_the_clock_and_closes_exactly_at_closes_at() {
        let p = Period::new(
            t("2026-12-02T00:00:00Z"),
            t("2026-12-16T00:00:00Z"),
            t("2026-12-01T00:00:00Z"),
        )
        .expect("valid");
        assert_eq!(p.status(t("2026-12-01T23:59:59Z")), CycleStatus::Scheduled);
        assert_eq!(p.status(t("2026-12-02T00:00:00Z")), CycleStatus::Open);
        assert_eq!(
            p.status(t("2026-12-15T23:59:59.999999Z")),
            CycleStatus::Open
        );
        assert_eq!(p.status(t("2026-12-16T00:00:00Z")), CycleStatus::Closed);
        assert!(p.is_active(t("2026-12-01T00:00:00Z")));
        assert!(!p.is_active(t("2026-12-16T00:00:00Z")));
    }

    #[test]
    fn periods_are_checked() {
        let now = t("2026-12-01T00:00:00Z");
        assert!(Period::new(now, now, now).is_err());
        assert!(Period::new(t("2026-11-01T00:00:00Z"), t("2026-11-02T00:00:00Z"), now).is_err());
        // Opening in the past is fine (a cycle opened at once).
        assert!(Period::new(t("2026-11-01T00:00:00Z"), t("2026-12-02T00:00:00Z"), now).is_ok());
    }

    #[test]
    fn late_grants_open_a_window_after_the_close() {
        let p = Period::new(
            t("2026-12-02T00:00:00Z"),
            t("2026-12-16T00:00:00Z"),
            t("2026-12-01T00:00:00Z"),
        )
        .expect("valid");
        let after = t("2026-12-17T00:00:00Z");
        assert_eq!(window(&p, None, after), Window::Closed);
        assert_eq!(
            window(&p, Some(t("2026-12-18T00:00:00Z")), after),
            Window::Late
        );
        assert_eq!(
            window(&p, Some(t("2026-12-16T12:00:00Z")), after),
            Window::Closed
        );
        assert_eq!(window(&p, None, t("2026-12-03T00:00:00Z")), Window::OnTime);
        assert_eq!(window(&p, None, t("2026-12-01T12:00:00Z")), Window::NotOpen);
    }
}
