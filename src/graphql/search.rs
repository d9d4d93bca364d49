//! `searchComments`: full text over the comments you may see.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, ID};

use super::connection::{self, Conn, PageArgs};
use super::context::CtxExt;
use super::ids::decode_id;
use super::types::{CommentSearchHit, CommentType, DispositionKind};
use crate::domain::ids::NodeKind;
use crate::domain::page::PageOf;
use crate::domain::search::Query;
use crate::error::AppError;
use crate::service::records::{CommentFilter, SearchFilter};
use crate::service::search::{self as service, Scope};

/// The deepest a search pages (results past it are not worth ranking).
const MAX_OFFSET: i64 = 10_000;

/// Limits of a search.
#[derive(InputObject, Default)]
pub struct CommentSearchFilter {
    /// Only this review cycle's comments.
    pub cycle_id: Option<ID>,
    /// Only the comments on this module's revisions.
    pub module_id: Option<ID>,
    /// Only comments of this type.
    #[graphql(name = "type")]
    pub comment_type: Option<CommentType>,
    /// Only this organization's comments.
    pub organization_id: Option<ID>,
    /// Only comments with this disposition (where you may see dispositions:
    /// as a rapporteur of the question, or once the cycle has closed).
    pub disposition: Option<DispositionKind>,
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Find comments by their words (body, proposed change, replies), best
    /// first. Case and accents do not matter (« etat » finds « État »), and
    /// English and French words match their other forms (« consultations »,
    /// « consultation »). Every word must match; operators and punctuation are
    /// ignored. At most 256 characters and 12 words. Only the comments you may
    /// see are searched, as everywhere else.
    #[graphql(complexity = "connection::cost(first, None, child_complexity)")]
    async fn search_comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The words to look for.")] query: String,
        #[graphql(desc = "Only the comments that match.")] filter: Option<CommentSearchFilter>,
        #[graphql(desc = "Page size (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
    ) -> Result<Conn<CommentSearchHit>> {
        let user = ctx.user()?;
        let q = Arc::new(Query::parse(&query).map_err(|e| AppError::validation("query", e.0))?);
        let f = filter.unwrap_or_default();
        let scope = Scope {
            cycle_id: f
                .cycle_id
                .map(|id| decode_id("filter.cycleId", &id, NodeKind::ReviewCycle))
                .transpose()?,
            module_id: f
                .module_id
                .map(|id| decode_id("filter.moduleId", &id, NodeKind::Module))
                .transpose()?,
            filter: SearchFilter {
                comments: CommentFilter {
                    comment_type: f.comment_type.map(Into::into),
                    organization_id: f
                        .organization_id
                        .map(|id| decode_id("filter.organizationId", &id, NodeKind::Organization))
                        .transpose()?,
                    ..Default::default()
                },
                disposition: f.disposition.map(Into::into),
            },
        };
        let (state, words): (_, &Query) = (ctx.state()?, &q);
        connection::query(
            ctx,
            PageArgs::forward(first, after),
            |page, total| async move {
                // Search pages by position (ranks have no stable key): a cursor holds
                // the position of its result, which only this field hands out.
                let offset = match page.after {
                    None => 0,
                    Some((pos, _)) => pos
                        .checked_add(1)
                        .filter(|o| (1..=MAX_OFFSET).contains(o))
                        .ok_or_else(|| AppError::validation("after", "not a valid cursor"))?,
                };
                let found =
                    service::search(state, user, words, &scope, offset, page.limit as i64, total)
                        .await?;
                let hits = found
                    .hits
                    .into_iter()
                    .enumerate()
                    .map(|(i, (row, score))| (offset + i as i64, row, score))
                    .collect();
                Ok::<_, AppError>(PageOf::new((hits, found.more), found.total))
            },
            |(pos, row, _)| (*pos, row.id),
            |(_, row, score)| CommentSearchHit {
                row,
                score,
                query: q.clone(),
            },
        )
        .await
    }
}
