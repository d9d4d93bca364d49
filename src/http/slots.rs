//! Counted places: a global budget and one per client address, taken as a
//! guard that gives its place back when dropped. Used for TCP connections and
//! for WebSockets that have not been acknowledged yet.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Why no place was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The global budget is used up.
    Everyone,
    /// This address holds its share already.
    Address,
}

/// A budget of `max` places, at most `per_address` of them (0: no such
/// limit) for one client address.
#[derive(Clone)]
pub struct Slots {
    inner: Arc<Inner>,
}

struct Inner {
    max: usize,
    per_address: usize,
    taken: Mutex<Taken>,
}

#[derive(Default)]
struct Taken {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

impl Slots {
    pub fn new(max: usize, per_address: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                max,
                per_address,
                taken: Mutex::new(Taken::default()),
            }),
        }
    }

    /// A place for a client at `ip`, if there is one.
    pub fn take(&self, ip: IpAddr) -> Result<Slot, Full> {
        let key = address_key(ip);
        // The counts stay consistent under a poisoned lock: each change is one statement.
        let mut taken = self
            .inner
            .taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if taken.total >= self.inner.max {
            return Err(Full::Everyone);
        }
        let mine = taken.by_address.entry(key).or_insert(0);
        if self.inner.per_address > 0 && *mine >= self.inner.per_address {
            return Err(Full::Address);
        }
        *mine += 1;
        taken.total += 1;
        Ok(Slot {
            slots: self.clone(),
            key,
        })
    }

    /// Places taken now.
    pub fn taken(&self) -> usize {
        self.inner
            .taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }
}

/// One place; given back on drop.
pub struct Slot {
    slots: Slots,
    key: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut taken = self
            .slots
            .inner
            .taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        taken.total = taken.total.saturating_sub(1);
        if let Some(n) = taken.by_address.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                taken.by_address.remove(&self.key);
            }
        }
    }
}

/// The address a limit is kept for: IPv4 as it is (also when mapped into
/// IPv6), IPv6 by its /64, the smallest block one subscriber is usually given.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn per_address_and_global_budgets() {
        let slots = Slots::new(3, 2);
        let a1 = slots.take(ip("10.0.0.1")).expect("first");
        let _a2 = slots.take(ip("10.0.0.1")).expect("second");
        assert_eq!(slots.take(ip("10.0.0.1")).err(), Some(Full::Address));
        let _b1 = slots.take(ip("10.0.0.2")).expect("another address");
        assert_eq!(slots.take(ip("10.0.0.3")).err(), Some(Full::Everyone));
        drop(a1);
        assert_eq!(slots.taken(), 2);
        let _a3 = slots.take(ip("10.0.0.1")).expect("a place was given back");
    }

    #[test]
    fn no_per_address_limit_when_zero() {
        let slots = Slots::new(10, 0);
        let held: Vec<_> = (0..10)
            .map(|_| slots.take(ip("10.0.0.1")).expect("a place"))
            .collect();
        assert_eq!(held.len(), 10);
        assert_eq!(slots.take(ip("10.0.0.1")).err(), Some(Full::Everyone));
    }

    #[test]
    fn ipv6_counts_by_64_and_mapped_ipv4_as_ipv4() {
        let slots = Slots::new(10, 1);
        let _a = slots.take(ip("2001:db8::1")).expect("first");
        assert_eq!(slots.take(ip("2001:db8::2")).err(), Some(Full::Address));
        let _b = slots.take(ip("2001:db8:0:1::1")).expect("another /64");
        let _c = slots.take(ip("192.0.2.1")).expect("IPv4");
        assert_eq!(
            slots.take(ip("::ffff:192.0.2.1")).err(),
            Some(Full::Address)
        );
    }
}
