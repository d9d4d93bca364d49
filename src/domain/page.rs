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

    /// This page of a whole list already in memory, in id order: the items
    /// whose id is strictly between the cursors' ids; `total` is the whole list.
    pub fn cut_by_id<T>(&self, all: Vec<T>, id: impl Fn(&T) -> i64) -> PageOf<T> {
        let total = all.len() as i64;
        let mut items: Vec<T> = all
            .into_iter()
            .filter(|r| {
                self.after.is_none_or(|a| id(r) > a.1) && self.before.is_none_or(|b| id(r) < b.1)
            })
            .collect();
        let more = items.len() > self.limit;
        if self.from_end {
            items = items.split_off(items.len().saturating_sub(self.limit));
        } else {
            items.truncate(self.limit);
        }
        PageOf {
            items,
            more,
            total: Some(total),
        }
    }
}

/// One page of a list, as a read query returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct PageOf<T> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// Whether the list goes on past the page (after it, or before it for `last`).
    pub more: bool,
    /// How many items the whole list holds, when it was asked for.
    pub total: Option<i64>,
}

impl<T> PageOf<T> {
    /// A page of rows as storage returns them (`(rows, more)`), with the total if counted.
    pub fn new((items, more): (Vec<T>, bool), total: Option<i64>) -> Self {
        Self { items, more, total }
    }

    /// No items at all.
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            more: false,
            total: Some(0),
        }
    }

    /// The same page with each item changed.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> PageOf<U> {
        PageOf {
            items: self.items.into_iter().map(f).collect(),
            more: self.more,
            total: self.total,
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

    #[test]
    fn cuts_a_list_in_memory_by_id() {
        let all: Vec<i64> = (1..=5).collect();
        let first = Page::new(Some(2), Some((1, 1)), None, None).expect("valid");
        let p = first.cut_by_id(all.clone(), |i| *i);
        assert_eq!((p.items, p.more, p.total), (vec![2, 3], true, Some(5)));
        let last = Page::new(None, None, Some(2), Some((5, 5))).expect("valid");
        let p = last.cut_by_id(all, |i| *i);
        assert_eq!((p.items, p.more), (vec![3, 4], true));
    }
}
