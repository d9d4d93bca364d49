//! Per-request DataLoaders: one batched query per kind of object, whatever the
//! number of items in a page. Created for each request, never shared between
//! viewers (a schema-wide loader would cache across users).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};

use crate::db::accounts::{self as store, OrganizationRow, QuestionRow, UserRow};
use crate::db::audit::{self as audit, AuditRow};
use crate::db::comments::{self as comments, CommentRow, EditRow, ReplyRow};
use crate::db::consolidation::{self as consolidation, CarriedRow, ChangeRow, DispositionRow};
use crate::db::cycles::{self as cycles, CycleRow};
use crate::db::modules::{self as modules, BlockRow, KitRow, ModuleRow, RevisionRow, SectionRow};
use crate::db::notifications::{self as notifications, NotificationRow};
use crate::db::Db;
use crate::error::AppError;
use crate::state::AppState;

type LoadResult<V> = Result<HashMap<i64, V>, Arc<AppError>>;

/// Until when failed sign-ins locked each user's account (locks that are
/// over included: the reader compares with its clock).
pub struct SignInLockOf(Db);

impl Loader<i64> for SignInLockOf {
    type Value = chrono::DateTime<chrono::Utc>;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[i64]) -> LoadResult<chrono::DateTime<chrono::Utc>> {
        let mut pooled = self.0.read().await.map_err(Arc::new)?;
        let locks = crate::db::credentials::sign_in_locks(
            &mut pooled.conn(),
            keys,
            crate::domain::throttle::ACCOUNT_KEY_PREFIX,
        )
        .await
        .map_err(Arc::new)?;
        Ok(locks.into_iter().collect())
    }
}

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

/// Rows that one of the request's loaders finds by id.
pub trait RowById: Sized + Clone + Send + Sync + 'static {
    /// The loader.
    fn loader(l: &Loaders) -> &DataLoader<ById<Self>, HashMapCache>;
}

/// The viewer's organization's late-submission grant in each cycle.
pub struct LateGrantOf {
    db: Db,
    organization_id: i64,
}

impl Loader<i64> for LateGrantOf {
    type Value = chrono::DateTime<chrono::Utc>;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[i64]) -> LoadResult<chrono::DateTime<chrono::Utc>> {
        let mut pooled = self.db.read().await.map_err(Arc::new)?;
        let grants = cycles::late_grants_of_org(&mut pooled.conn(), keys, self.organization_id)
            .await
            .map_err(Arc::new)?;
        Ok(grants.into_iter().collect())
    }
}

/// Rows grouped under a parent id, in the order the query gives.
pub struct ChildrenOf<T> {
    db: Db,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<T> ChildrenOf<T> {
    fn new(db: Db) -> Self {
        Self {
            db,
            _t: std::marker::PhantomData,
        }
    }
}

/// Each comment's disposition.
pub struct DispositionOf(Db);

impl Loader<i64> for DispositionOf {
    type Value = DispositionRow;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[i64]) -> LoadResult<DispositionRow> {
        let mut pooled = self.0.read().await.map_err(Arc::new)?;
        let rows = consolidation::dispositions_of(&mut pooled.conn(), keys)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (r.comment_id, r)).collect())
    }
}

/// The revisions (ids, oldest first) that addressed each comment.
pub struct AddressedIn(Db);

impl Loader<i64> for AddressedIn {
    type Value = Vec<i64>;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[i64]) -> LoadResult<Vec<i64>> {
        let mut pooled = self.0.read().await.map_err(Arc::new)?;
        let pairs = consolidation::addressed_in(&mut pooled.conn(), keys)
            .await
            .map_err(Arc::new)?;
        Ok(group(keys, pairs))
    }
}

/// A comment's projection into a later revision, keyed by (revision, comment).
pub struct CarriedIn(Db);

impl Loader<(i64, i64)> for CarriedIn {
    type Value = CarriedRow;
    type Error = Arc<AppError>;
    async fn load(
        &self,
        keys: &[(i64, i64)],
    ) -> Result<HashMap<(i64, i64), CarriedRow>, Arc<AppError>> {
        let mut by_revision: HashMap<i64, Vec<i64>> = HashMap::new();
        for (r, c) in keys {
            by_revision.entry(*r).or_default().push(*c);
        }
        let mut pooled = self.0.read().await.map_err(Arc::new)?;
        let mut conn = pooled.conn();
        let mut map = HashMap::new();
        for (r, comments) in by_revision {
            for row in consolidation::carried_of(&mut conn, r, &comments)
                .await
                .map_err(Arc::new)?
            {
                map.insert((row.revision_id, row.comment_id), row);
            }
        }
        Ok(map)
    }
}

/// A revision's Markdown source, shared by every block that shows its slice.
pub struct MarkdownOf(Db);

impl Loader<i64> for MarkdownOf {
    type Value = Arc<String>;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[i64]) -> LoadResult<Arc<String>> {
        let mut pooled = self.0.read().await.map_err(Arc::new)?;
        let sources = modules::revision_markdowns(&mut pooled.conn(), keys)
            .await
            .map_err(Arc::new)?;
        Ok(sources
            .into_iter()
            .map(|(id, md)| (id, Arc::new(md)))
            .collect())
    }
}

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

/// Everything a loader of lists holds under `key` (empty when nothing).
pub async fn all_of<K, L, T>(
    loader: &DataLoader<L, HashMapCache>,
    key: K,
) -> Result<Vec<T>, Arc<AppError>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    L: Loader<K, Value = Vec<T>, Error = Arc<AppError>>,
{
    Ok(loader.load_one(key).await?.unwrap_or_default())
}

/// Group `(key, value)` pairs by key, with an empty list for keys without any.
fn group(keys: &[i64], pairs: Vec<(i64, i64)>) -> HashMap<i64, Vec<i64>> {
    let mut map: HashMap<i64, Vec<i64>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for (k, v) in pairs {
        map.entry(k).or_default().push(v);
    }
    map
}

/// Declares every loader of a request once: the struct field, its loader
/// and how it is made, and so `Loaders::new` and `Loaders::reset`. Loaders
/// by id also get their batched query and their `RowById` link; loaders of
/// children their grouping by parent.
macro_rules! loaders {
    (
        $db:ident, $org:ident;
        by_id {
            $( $(#[$bd:meta])* $bf:ident: $brow:ty = $bfetch:path, )*
        }
        children {
            $( $(#[$cd:meta])* $cf:ident: $crow:ty = $cfetch:path, by $parent:ident, )*
        }
        others {
            $( $(#[$od:meta])* $of:ident: $okey:ty => $oloader:ty = $omake:expr, )*
        }
    ) => {
        $(
            impl Loader<i64> for ById<$brow> {
                type Value = $brow;
                type Error = Arc<AppError>;
                async fn load(&self, keys: &[i64]) -> LoadResult<$brow> {
                    let mut pooled = self.db.read().await.map_err(Arc::new)?;
                    let rows = $bfetch(&mut pooled.conn(), keys).await.map_err(Arc::new)?;
                    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
                }
            }

            impl RowById for $brow {
                fn loader(l: &Loaders) -> &DataLoader<ById<Self>, HashMapCache> {
                    &l.$bf
                }
            }
        )*

        $(
            impl Loader<i64> for ChildrenOf<$crow> {
                type Value = Vec<$crow>;
                type Error = Arc<AppError>;
                async fn load(&self, keys: &[i64]) -> LoadResult<Vec<$crow>> {
                    let mut pooled = self.db.read().await.map_err(Arc::new)?;
                    let rows = $cfetch(&mut pooled.conn(), keys).await.map_err(Arc::new)?;
                    let mut map: HashMap<i64, Vec<$crow>> =
                        keys.iter().map(|k| (*k, Vec::new())).collect();
                    for r in rows {
                        map.entry(r.$parent).or_default().push(r);
                    }
                    Ok(map)
                }
            }
        )*

        /// The loaders of one request.
        pub struct Loaders {
            $( $(#[$bd])* pub $bf: DataLoader<ById<$brow>, HashMapCache>, )*
            $( $(#[$cd])* pub $cf: DataLoader<ChildrenOf<$crow>, HashMapCache>, )*
            $( $(#[$od])* pub $of: DataLoader<$oloader, HashMapCache>, )*
        }

        impl Loaders {
            /// The loaders of a request by a viewer of organization `viewer_org`
            /// (0 when anonymous), for late grants.
            pub fn new(state: &AppState, $org: i64) -> Self {
                let $db = &state.db;
                Self {
                    $( $bf: loader(ById::new($db.clone())), )*
                    $( $cf: loader(ChildrenOf::new($db.clone())), )*
                    $( $of: loader($omake), )*
                }
            }

            /// Forget everything loaded so far: a subscription resolves each event
            /// with fresh rows, not with what it read at an earlier event.
            pub fn reset(&self) {
                $( self.$bf.clear::<i64>(); )*
                $( self.$cf.clear::<i64>(); )*
                $( self.$of.clear::<$okey>(); )*
            }
        }
    };
}

loaders! {
    db, viewer_org;
    by_id {
        organizations: OrganizationRow = store::organizations_by_ids,
        users: UserRow = store::users_by_ids,
        questions: QuestionRow = store::questions_by_ids,
        kits: KitRow = modules::kits_by_ids,
        modules: ModuleRow = modules::modules_by_ids,
        revisions: RevisionRow = modules::revisions_by_ids,
        cycles: CycleRow = cycles::by_ids,
        comments: CommentRow = comments::by_ids,
        replies: ReplyRow = comments::replies_by_ids,
        notifications: NotificationRow = notifications::by_ids,
        audit_events: AuditRow = audit::by_ids,
    }
    children {
        kits_of_question: KitRow = modules::kits_of_questions, by question_id,
        modules_of_kit: ModuleRow = modules::modules_of_kits, by kit_id,
        sections_of_revision: SectionRow = modules::sections_of, by revision_id,
        blocks_of_revision: BlockRow = modules::blocks_of, by revision_id,
        cycles_of_module: CycleRow = cycles::of_modules, by module_id,
        replies_of_comment: ReplyRow = comments::replies_of, by comment_id,
        edits_of_comment: EditRow = comments::edits_of, by comment_id,
        disposition_changes: ChangeRow = consolidation::changes_of, by comment_id,
    }
    others {
        rapporteurs_of_question: i64 => RapporteursOfQuestion = RapporteursOfQuestion(db.clone()),
        questions_of_rapporteur: i64 => QuestionsOfRapporteur = QuestionsOfRapporteur(db.clone()),
        markdown_of_revision: i64 => MarkdownOf = MarkdownOf(db.clone()),
        late_grant: i64 => LateGrantOf = LateGrantOf {
            db: db.clone(),
            organization_id: viewer_org,
        },
        dispositions: i64 => DispositionOf = DispositionOf(db.clone()),
        sign_in_locks: i64 => SignInLockOf = SignInLockOf(db.clone()),
        addressed_in: i64 => AddressedIn = AddressedIn(db.clone()),
        carried_in: (i64, i64) => CarriedIn = CarriedIn(db.clone()),
    }
}

fn loader<K, L>(l: L) -> DataLoader<L, HashMapCache>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    DataLoader::with_cache(l, tokio::spawn, HashMapCache::default())
}

impl Loaders {
    /// Load the row a foreign key points to: its absence is a broken invariant (INTERNAL).
    pub async fn required<R: RowById>(&self, id: i64, what: &str) -> Result<R, AppError>
    where
        ById<R>: Loader<i64, Value = R, Error = Arc<AppError>>,
    {
        R::loader(self)
            .load_one(id)
            .await
            .map_err(|e| AppError::internal(anyhow::anyhow!("loading {what} {id}: {e}")))?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("{what} {id} is missing")))
    }

    /// Seed the caches with the rows a live event already carries, so the
    /// usual selections of 1,000 subscribers cost no query each.
    pub async fn prime(&self, d: &crate::live::Delivered) {
        if let Some(m) = &d.module {
            self.modules.feed_one(m.id, m.clone()).await;
        }
        if let Some(c) = &d.cycle {
            self.cycles.feed_one(c.id, c.clone()).await;
        }
        if let Some(c) = &d.comment {
            self.comments.feed_one(c.id, c.clone()).await;
        }
        if let Some(r) = &d.reply {
            self.replies.feed_one(r.id, r.clone()).await;
        }
        if let Some(r) = &d.revision {
            self.revisions.feed_one(r.id, r.clone()).await;
        }
        if let Some(u) = &d.author {
            self.users.feed_one(u.id, u.clone()).await;
        }
        if let Some(o) = &d.organization {
            self.organizations.feed_one(o.id, o.clone()).await;
        }
    }
}
