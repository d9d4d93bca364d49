//! Sign-in throttling: how many failures are allowed, and for how long a key is locked.

use chrono::{DateTime, Duration, Utc};

/// The limits for one kind of key (an account, or a client address).
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures allowed within `window` before the key is locked.
    pub max_failures: i64,
    /// How long failures are remembered.
    pub window: Duration,
    /// The first lock; each further failure while over the limit doubles it.
    pub base_lockout: Duration,
    /// The longest lock.
    pub max_lockout: Duration,
}

impl ThrottlePolicy {
    /// Per account: 5 failures in 15 minutes, then 1 minute, doubling up to 15.
    pub const ACCOUNT: ThrottlePolicy = ThrottlePolicy {
        max_failures: 5,
        window: Duration::minutes(15),
        base_lockout: Duration::minutes(1),
        max_lockout: Duration::minutes(15),
    };
    /// Per client address: 20 failures in 15 minutes, then 5 minutes, doubling up to 1 hour.
    pub const ADDRESS: ThrottlePolicy = ThrottlePolicy {
        max_failures: 20,
        window: Duration::minutes(15),
        base_lockout: Duration::minutes(5),
        max_lockout: Duration::hours(1),
    };
}

/// Account keys are this prefix and the account's e-mail key.
pub const ACCOUNT_KEY_PREFIX: &str = "account:";

/// The throttle key of an account.
pub fn account_key(email_key: &str) -> String {
    format!("{ACCOUNT_KEY_PREFIX}{email_key}")
}

/// The throttle key of a client address.
pub fn address_key(addr: std::net::IpAddr) -> String {
    format!("address:{addr}")
}

/// What is remembered about one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleState {
    pub failures: i64,
    pub window_started_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl ThrottlePolicy {
    /// `Err(seconds)` while the key is locked.
    pub fn check(&self, state: Option<&ThrottleState>, now: DateTime<Utc>) -> Result<(), u64> {
        match state.and_then(|s| s.locked_until) {
            Some(until) if until > now => {
                let ms = (until - now).num_milliseconds().max(0);
                // Round up: "try again in 0 seconds" would be a lie.
                Err(((ms + 999) / 1000).max(1) as u64)
            }
            _ => Ok(()),
        }
    }

    /// Failures counted before this instant are forgotten (the window has passed).
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window
    }

    /// The state after one more failure at `now`.
    pub fn record_failure(
        &self,
        state: Option<ThrottleState>,
        now: DateTime<Utc>,
    ) -> ThrottleState {
        let fresh = ThrottleState {
            failures: 0,
            window_started_at: now,
            locked_until: None,
        };
        let mut s = match state {
            Some(s) if now < s.window_started_at + self.window => s,
            Some(s) if s.locked_until.is_some_and(|u| u > now) => s,
            _ => fresh,
        };
        s.failures += 1;
        self.lock_if_over(s, now)
    }

    /// The state once an attempt has been counted at `now`: locked when the
    /// failures reach the limit (storage counts the attempt itself, atomically;
    /// see `db::throttle::reserve`).
    pub fn lock_if_over(&self, mut s: ThrottleState, now: DateTime<Utc>) -> ThrottleState {
        if s.failures >= self.max_failures {
            let doublings = (s.failures - self.max_failures).min(20) as u32;
            let lock = self
                .base_lockout
                .checked_mul(2_i32.saturating_pow(doublings))
                .unwrap_or(self.max_lockout)
                .min(self.max_lockout);
            s.locked_until = Some(now + lock);
            // A lock keeps the failures in memory for as long as it lasts.
            s.window_started_at = now;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("valid")
    }

    #[test]
    fn locks_after_the_limit_and_doubles() {
        let p = ThrottlePolicy::ACCOUNT;
        let mut state = None;
        for _ in 0..4 {
            state = Some(p.record_failure(state, t0()));
            assert_eq!(p.check(state.as_ref(), t0()), Ok(()));
        }
        state = Some(p.record_failure(state, t0()));
        assert_eq!(p.check(state.as_ref(), t0()), Err(60));
        assert_eq!(
            p.check(state.as_ref(), t0() + Duration::seconds(59)),
            Err(1)
        );
        assert_eq!(
            p.check(state.as_ref(), t0() + Duration::seconds(60)),
            Ok(())
        );
        // One more failure right after the lock ends: two minutes this time.
        let later = t0() + Duration::seconds(61);
        state = Some(p.record_failure(state, later));
        assert_eq!(p.check(state.as_ref(), later), Err(120));
    }

    #[test]
    fn lockout_is_capped_and_failures_are_forgotten() {
        let p = ThrottlePolicy::ACCOUNT;
        let mut state = None;
        for _ in 0..30 {
            state = Some(p.record_failure(state, t0()));
        }
        assert_eq!(p.check(state.as_ref(), t0()), Err(15 * 60));
        let much_later = t0() + Duration::hours(2);
        let s = p.record_failure(state, much_later);
        assert_eq!(s.failures, 1);
        assert_eq!(s.locked_until, None);
    }

    #[test]
    fn counting_then_locking_is_a_failure() {
        let p = ThrottlePolicy::ACCOUNT;
        let counted = ThrottleState {
            failures: 5,
            window_started_at: t0() - Duration::minutes(3),
            locked_until: None,
        };
        let locked = p.lock_if_over(counted, t0());
        assert_eq!(locked.locked_until, Some(t0() + Duration::minutes(1)));
        assert_eq!(locked.window_started_at, t0());
        let under = ThrottleState {
            failures: 4,
            window_started_at: t0(),
            locked_until: None,
        };
        assert_eq!(p.lock_if_over(under.clone(), t0()), under);
        assert_eq!(p.window_start(t0()), t0() - Duration::minutes(15));
    }
}
