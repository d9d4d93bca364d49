//! Relay connections: opaque cursors, capped pages, `totalCount` computed only when asked.

use async_graphql::connection::{Connection, CursorType, Edge, EmptyFields};
use std::future::Future;

use async_graphql::{Context, OutputType, Result, SimpleObject};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::domain::page::{Key, Page, PageOf, DEFAULT_PAGE};
use crate::error::{AppError, AppResult};

/// An opaque cursor: a list's sort key and the row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCursor(pub Key);

impl CursorType for KeyCursor {
    type Error = String;

    fn decode_cursor(s: &str) -> Result<Self, String> {
        let bad = || "not a valid cursor".to_owned();
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| bad())?;
        let rest = text.strip_prefix("k:").ok_or_else(bad)?;
        let (a, b) = rest.split_once(':').ok_or_else(bad)?;
        Ok(KeyCursor((
            a.parse().map_err(|_| bad())?,
            b.parse().map_err(|_| bad())?,
        )))
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("k:{}:{}", self.0 .0, self.0 .1))
    }
}

/// The extra field every connection has.
#[derive(SimpleObject)]
pub struct TotalCount {
    /// How many items the whole list holds (all pages), as the viewer may see them.
    pub total_count: i64,
}

/// A connection as returned by list fields.
pub type Conn<N> = Connection<KeyCursor, N, TotalCount, EmptyFields>;

/// The Relay page arguments of a list field, as the client gave them.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    /// Both directions (`first/after/last/before`).
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        Self {
            first,
            after,
            last,
            before,
        }
    }

    /// Forward only (`first/after`).
    pub fn forward(first: Option<i32>, after: Option<String>) -> Self {
        Self::new(first, after, None, None)
    }

    /// Check the arguments: cursors decode, sizes are within bounds.
    pub fn page(self) -> AppResult<Page> {
        let decode = |name: &str, c: Option<String>| -> AppResult<Option<Key>> {
            c.map(|c| {
                KeyCursor::decode_cursor(&c)
                    .map(|k| k.0)
                    .map_err(|e| AppError::validation(name, e))
            })
            .transpose()
        };
        let after = decode("after", self.after)?;
        let before = decode("before", self.before)?;
        Page::new(self.first, after, self.last, before)
            .map_err(|(f, e)| AppError::validation(f, e.0))
    }
}

/// Query cost of a list field: its page size times what each item costs.
pub fn cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let n = first
        .or(last)
        .map_or(DEFAULT_PAGE, |n| n.clamp(0, 100) as usize);
    1 + n.max(1) * child_complexity
}

/// Did the query ask for `totalCount`? Counting is a query of its own.
fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// Every list field: check the page arguments, fetch the page (asking for the
/// whole list's count only when the query selects `totalCount`), and build the
/// connection, each item's cursor from `key`.
pub async fn query<R, N, E, F, Fut>(
    ctx: &Context<'_>,
    args: PageArgs,
    fetch: F,
    key: impl Fn(&R) -> Key,
    node: impl Fn(R) -> N,
) -> Result<Conn<N>>
where
    N: OutputType,
    E: Into<async_graphql::Error>,
    F: FnOnce(Page, bool) -> Fut,
    Fut: Future<Output = std::result::Result<PageOf<R>, E>>,
{
    let page = args.page()?;
    let rows = fetch(page, wants_total(ctx)).await.map_err(Into::into)?;
    Ok(build(rows, &page, key, node))
}

/// Build a connection from one page of rows.
fn build<R, N: OutputType>(
    rows: PageOf<R>,
    page: &Page,
    key: impl Fn(&R) -> Key,
    node: impl Fn(R) -> N,
) -> Conn<N> {
    let (has_previous, has_next) = if page.from_end {
        (rows.more, page.before.is_some())
    } else {
        (page.after.is_some(), rows.more)
    };
    let mut conn = Connection::with_additional_fields(
        has_previous,
        has_next,
        TotalCount {
            total_count: rows.total.unwrap_or(0),
        },
    );
    conn.edges.extend(
        rows.items
            .into_iter()
            .map(|r| Edge::new(KeyCursor(key(&r)), node(r))),
    );
    conn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let c = KeyCursor((17, 4)).encode_cursor();
        assert_eq!(KeyCursor::decode_cursor(&c), Ok(KeyCursor((17, 4))));
        assert!(KeyCursor::decode_cursor("junk").is_err());
        assert!(PageArgs::new(Some(5), Some("junk".into()), None, None)
            .page()
            .is_err());
        assert!(PageArgs::new(Some(500), None, None, None).page().is_err());
    }
}
