//! Pagination requests (Relay `first/after/last/before`), checked and capped.

use super::accounts::Invalid;

/// The most items one page may hold.
pub const MAX_PAGE: usize = 100;
/// The page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE: usize = 20;

/// A position in a list: the sort key, then the row id to break ties.
pub type Key = (i64, i64);

/// A checked page request over a list ordered by `(sort key, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// How many items to return.
    pub limit: usize,
    /// Only items strictly after this key.
    pub after: Option<Key>,
    /// Only items strictly before this key.
    pub before: Option<Key>,
    /// `last` was asked: take the items nearest to `before` (or the end).
    pub from_end: bool,
}

impl Page {
    /// Check `first`/`last` (one at most, between 0 and [`MAX_PAGE`]).
    pub fn new(
        first: Option<i32>,
        after: Option<Key>,
        last: Option<i32>,
        before: Option<Key>,
    ) -> Result<Self, (&'static str, Invalid)> {
        let size = |name: &'static str, n: i32| -> Result<usize, (&'static str, Invalid)> {
            match usize::try_from(n) {
                Ok(n) if n <= MAX_PAGE => Ok(n),
                _ => Err((
                    name,
                    Invalid(format!("{name} must be between 0 and {MAX_PAGE}")),
                )),
            }
        };
        let (limit, from_end) = match (first, last) {
            (Some(_), Some(_)) => {
                return Err(("last", Invalid("give first or last, not both".into())))
            }
            (Some(f), None) => (size("first", f)?, false),
            (None, Some(l)) => (size("last", l)?, true),
            (None, None) => (DEFAULT_PAGE, false),
        };
        Ok(Self {
            limit,
            after,
            before,
            from_end,
        })
    }

    /// Everything (bounded): for internal callers.
    pub fn all() -> Self {
        Self {
            limit: MAX_PAGE,
            after: None,
            before: None,
            from_end: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_and_defaults() {
        assert_eq!(
            Page::new(None, None, None, None).map(|p| p.limit),
            Ok(DEFAULT_PAGE)
        );
        assert!(Page::new(Some(101), None, None, None).is_err());
        assert!(Page::new(Some(-1), None, None, None).is_err());
        assert!(Page::new(Some(1), None, Some(1), None).is_err());
        let p = Page::new(None, None, Some(5), Some((9, 9))).expect("valid");
        assert!(p.from_end && p.limit == 5 && p.before == Some((9, 9)));
    }
}
