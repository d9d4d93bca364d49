//! Per-request DataLoaders: one batched query per kind of object, whatever the
//! number of items in a page. Created for each request, never shared between
//! viewers (a schema-wide loader would cache across users).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};

use crate::db::accounts::{self as store, OrganizationRow, QuestionRow, UserRow};
use crate::db::Db;
use crate::error::AppError;

type LoadResult<V> = Result<HashMap<i64, V>, Arc<AppError>>;

/// Loads rows by id with one query.
pub struct ById<T> {
    db: Db,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<T> ById<T> {
    fn new(db: Db) -> Self {
        Self {
            db,
            _t: std::marker::PhantomData,
        }
    }
}

macro_rules! by_id_loader {
    ($row:ty, $fetch:path) => {
        impl Loader<i64> for ById<$row> {
            type Value = $row;
            type Error = Arc<AppError>;
            async fn load(&self, keys: &[i64]) -> LoadResult<$row> {
                let mut pooled = self.db.read().await.map_err(Arc::new)?;
                let rows = $fetch(&mut pooled.conn(), keys).await.map_err(Arc::new)?;
                Ok(rows.into_iter().map(|r| (r.id, r)).collect())
            }
        }
    };
}

by_id_loader!(OrganizationRow, store::organizations_by_ids);
by_id_loader!(UserRow, store::users_by_ids);
by_id_loader!(QuestionRow, store::questions_by_ids);

/// The rapporteurs (user ids) of each question.
pub struct RapporteursOfQuestion(Db);

impl Loader<i64> for RapporteursOfQuestion {
    type Value = Vec<i64>;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[i64]) -> LoadResult<Vec<i64>> {
        let mut pooled = self.0.read().await.map_err(Arc::new)?;
        let pairs = store::question_rapporteurs(&mut pooled.conn(), keys)
            .await
            .map_err(Arc::new)?;
        Ok(group(keys, pairs))
    }
}

/// The questions (ids) each user is a rapporteur of.
pub struct QuestionsOfRapporteur(Db);

impl Loader<i64> for QuestionsOfRapporteur {
    type Value = Vec<i64>;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[i64]) -> LoadResult<Vec<i64>> {
        let mut pooled = self.0.read().await.map_err(Arc::new)?;
        let pairs = store::rapporteur_questions(&mut pooled.conn(), keys)
            .await
            .map_err(Arc::new)?;
        Ok(group(keys, pairs))
    }
}

/// Group `(key, value)` pairs by key, with an empty list for keys without any.
fn group(keys: &[i64], pairs: Vec<(i64, i64)>) -> HashMap<i64, Vec<i64>> {
    let mut map: HashMap<i64, Vec<i64>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for (k, v) in pairs {
        map.entry(k).or_default().push(v);
    }
    map
}

fn loader<L: Loader<i64>>(l: L) -> DataLoader<L, HashMapCache> {
    DataLoader::with_cache(l, tokio::spawn, HashMapCache::default())
}

/// The loaders of one request.
pub struct Loaders {
    pub organizations: DataLoader<ById<OrganizationRow>, HashMapCache>,
    pub users: DataLoader<ById<UserRow>, HashMapCache>,
    pub questions: DataLoader<ById<QuestionRow>, HashMapCache>,
    pub rapporteurs_of_question: DataLoader<RapporteursOfQuestion, HashMapCache>,
    pub questions_of_rapporteur: DataLoader<QuestionsOfRapporteur, HashMapCache>,
}

impl Loaders {
    pub fn new(db: &Db) -> Self {
        Self {
            organizations: loader(ById::new(db.clone())),
            users: loader(ById::new(db.clone())),
            questions: loader(ById::new(db.clone())),
            rapporteurs_of_question: loader(RapporteursOfQuestion(db.clone())),
            questions_of_rapporteur: loader(QuestionsOfRapporteur(db.clone())),
        }
    }
}
