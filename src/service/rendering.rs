//! A revision's blocks as sanitised HTML for the browser workspace. Revisions
//! never change, so each is rendered once (all its blocks together, off the
//! runtime's workers: a 2 MiB draft is CPU work) and kept in a cache bounded
//! by the bytes of its HTML; concurrent requests for one revision wait for
//! one rendering. Same pattern as the diffs' cache (`modules::DiffCache`).

use std::future::Future;
use std::sync::Arc;

use crate::domain::document::{html, BlockKind};
use crate::error::AppError;

pub struct HtmlCache(quick_cache::sync::Cache<i64, Arc<Vec<String>>, HtmlWeight>);

#[derive(Clone)]
pub struct HtmlWeight;

impl quick_cache::Weighter<i64, Arc<Vec<String>>> for HtmlWeight {
    fn weight(&self, _key: &i64, blocks: &Arc<Vec<String>>) -> u64 {
        (64 + blocks.iter().map(|b| b.len() + 24).sum::<usize>()) as u64
    }
}

impl HtmlCache {
    pub fn new(max_bytes: u64) -> Self {
        Self(quick_cache::sync::Cache::with_weighter(
            1_000, max_bytes, HtmlWeight,
        ))
    }

    /// The HTML of every block of a revision, in block order. `sources`
    /// (each block's kind and Markdown) is only awaited when the revision is
    /// not rendered yet.
    pub async fn of_revision<E>(
        &self,
        revision_id: i64,
        sources: impl Future<Output = Result<Vec<(BlockKind, String)>, E>>,
    ) -> Result<Arc<Vec<String>>, E>
    where
        E: From<AppError>,
    {
        if let Some(hit) = self.0.get(&revision_id) {
            return Ok(hit);
        }
        self.0
            .get_or_insert_async(&revision_id, async move {
                let sources = sources.await?;
                tokio::task::spawn_blocking(move || {
                    Arc::new(
                        sources
                            .iter()
                            .map(|(kind, md)| html::block_html(*kind, md))
                            .collect(),
                    )
                })
                .await
                .map_err(|e| E::from(AppError::internal(e)))
            })
            .await
    }
}
