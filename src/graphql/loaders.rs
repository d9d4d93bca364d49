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
    ($row:ty, $fetch:path, $field:ident) => {
        impl RowById for $row {
            fn loader(l: &Loaders) -> &DataLoader<ById<Self>, HashMapCache> {
                &l.$field
            }
        }

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

/// Rows that one of the request's loaders finds by id.
pub trait RowById: Sized + Clone + Send + Sync + 'static {
    /// The loader.
    fn loader(l: &Loaders) -> &DataLoader<ById<Self>, HashMapCache>;
}

by_id_loader!(OrganizationRow, store::organizations_by_ids, organizations);
by_id_loader!(UserRow, store::users_by_ids, users);
by_id_loader!(QuestionRow, store::questions_by_ids, questions);
by_id_loader!(KitRow, modules::kits_by_ids, kits);
by_id_loader!(ModuleRow, modules::modules_by_ids, modules);
by_id_loader!(RevisionRow, modules::revisions_by_ids, revisions);
by_id_loader!(CycleRow, cycles::by_ids, cycles);
by_id_loader!(CommentRow, comments::by_ids, comments);
by_id_loader!(ReplyRow, comments::replies_by_ids, replies);
by_id_loader!(NotificationRow, notifications::by_ids, notifications);
by_id_loader!(AuditRow, audit::by_ids, audit_events);

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
        let mut c = pooled.conn();
        let mut map = HashMap::new();
        for k in keys {
            if let Some(u) = cycles::late_until(&mut c, *k, self.organization_id)
                .await
                .map_err(Arc::new)?
            {
                map.insert(*k, u);
            }
        }
        Ok(map)
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

macro_rules! children_loader {
    ($row:ty, $fetch:path, $parent:ident) => {
        impl Loader<i64> for ChildrenOf<$row> {
            type Value = Vec<$row>;
            type Error = Arc<AppError>;
            async fn load(&self, keys: &[i64]) -> LoadResult<Vec<$row>> {
                let mut pooled = self.db.read().await.map_err(Arc::new)?;
                let rows = $fetch(&mut pooled.conn(), keys).await.map_err(Arc::new)?;
                let mut map: HashMap<i64, Vec<$row>> =
                    keys.iter().map(|k| (*k, Vec::new())).collect();
                for r in rows {
                    map.entry(r.$parent).or_default().push(r);
                }
                Ok(map)
            }
        }
    };
}

children_loader!(KitRow, modules::kits_of_questions, question_id);
children_loader!(ModuleRow, modules::modules_of_kits, kit_id);
children_loader!(SectionRow, modules::sections_of, revision_id);
children_loader!(BlockRow, modules::blocks_of, revision_id);
children_loader!(CycleRow, cycles::of_modules, module_id);
children_loader!(ReplyRow, comments::replies_of, comment_id);
children_loader!(EditRow, comments::edits_of, comment_id);
children_loader!(ChangeRow, consolidation::changes_of, comment_id);

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
        let mut c = pooled.conn();
        let mut map = HashMap::new();
        for k in keys {
            if let Some(md) = modules::revision_markdown(&mut c, *k)
                .await
                .map_err(Arc::new)?
            {
                map.insert(*k, Arc::new(md));
            }
        }
        Ok(map)
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

/// Group `(key, value)` pairs by key, with an empty list for keys without any.
fn group(keys: &[i64], pairs: Vec<(i64, i64)>) -> HashMap<i64, Vec<i64>> {
    let mut map: HashMap<i64, Vec<i64>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for (k, v) in pairs {
        map.entry(k).or_default().push(v);
    }
    map
}

/// Load a row that a foreign key points to: its absence is a broken invariant (INTERNAL).
async fn required<L>(
    loader: &DataLoader<L, HashMapCache>,
    id: i64,
    what: &str,
) -> Result<L::Value, AppError>
where
    L: Loader<i64, Error = Arc<AppError>>,
{
    loader
        .load_one(id)
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("loading {what} {id}: {e}")))?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("{what} {id} is missing")))
}

fn loader<K, L>(l: L) -> DataLoader<L, HashMapCache>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    DataLoader::with_cache(l, tokio::spawn, HashMapCache::default())
}

/// The loaders of one request.
pub struct Loaders {
    pub organizations: DataLoader<ById<OrganizationRow>, HashMapCache>,
    pub users: DataLoader<ById<UserRow>, HashMapCache>,
    pub questions: DataLoader<ById<QuestionRow>, HashMapCache>,
    pub rapporteurs_of_question: DataLoader<RapporteursOfQuestion, HashMapCache>,
    pub questions_of_rapporteur: DataLoader<QuestionsOfRapporteur, HashMapCache>,
    pub kits: DataLoader<ById<KitRow>, HashMapCache>,
    pub modules: DataLoader<ById<ModuleRow>, HashMapCache>,
    pub revisions: DataLoader<ById<RevisionRow>, HashMapCache>,
    pub kits_of_question: DataLoader<ChildrenOf<KitRow>, HashMapCache>,
    pub modules_of_kit: DataLoader<ChildrenOf<ModuleRow>, HashMapCache>,
    pub sections_of_revision: DataLoader<ChildrenOf<SectionRow>, HashMapCache>,
    pub blocks_of_revision: DataLoader<ChildrenOf<BlockRow>, HashMapCache>,
    pub markdown_of_revision: DataLoader<MarkdownOf, HashMapCache>,
    pub cycles: DataLoader<ById<CycleRow>, HashMapCache>,
    pub cycles_of_module: DataLoader<ChildrenOf<CycleRow>, HashMapCache>,
    pub comments: DataLoader<ById<CommentRow>, HashMapCache>,
    pub replies: DataLoader<ById<ReplyRow>, HashMapCache>,
    pub replies_of_comment: DataLoader<ChildrenOf<ReplyRow>, HashMapCache>,
    pub edits_of_comment: DataLoader<ChildrenOf<EditRow>, HashMapCache>,
    pub late_grant: DataLoader<LateGrantOf, HashMapCache>,
    pub dispositions: DataLoader<DispositionOf, HashMapCache>,
    pub disposition_changes: DataLoader<ChildrenOf<ChangeRow>, HashMapCache>,
    pub addressed_in: DataLoader<AddressedIn, HashMapCache>,
    pub carried_in: DataLoader<CarriedIn, HashMapCache>,
    pub notifications: DataLoader<ById<NotificationRow>, HashMapCache>,
    pub audit_events: DataLoader<ById<AuditRow>, HashMapCache>,
}

impl Loaders {
    /// `viewer_org`: the viewer's organization (0 when anonymous), for late grants.
    pub fn new(db: &Db, viewer_org: i64) -> Self {
        Self {
            organizations: loader(ById::new(db.clone())),
            users: loader(ById::new(db.clone())),
            questions: loader(ById::new(db.clone())),
            rapporteurs_of_question: loader(RapporteursOfQuestion(db.clone())),
            questions_of_rapporteur: loader(QuestionsOfRapporteur(db.clone())),
            kits: loader(ById::new(db.clone())),
            modules: loader(ById::new(db.clone())),
            revisions: loader(ById::new(db.clone())),
            kits_of_question: loader(ChildrenOf::new(db.clone())),
            modules_of_kit: loader(ChildrenOf::new(db.clone())),
            sections_of_revision: loader(ChildrenOf::new(db.clone())),
            blocks_of_revision: loader(ChildrenOf::new(db.clone())),
            markdown_of_revision: loader(MarkdownOf(db.clone())),
            cycles: loader(ById::new(db.clone())),
            cycles_of_module: loader(ChildrenOf::new(db.clone())),
            comments: loader(ById::new(db.clone())),
            replies: loader(ById::new(db.clone())),
            replies_of_comment: loader(ChildrenOf::new(db.clone())),
            edits_of_comment: loader(ChildrenOf::new(db.clone())),
            late_grant: loader(LateGrantOf {
                db: db.clone(),
                organization_id: viewer_org,
            }),
            dispositions: loader(DispositionOf(db.clone())),
            disposition_changes: loader(ChildrenOf::new(db.clone())),
            addressed_in: loader(AddressedIn(db.clone())),
            carried_in: loader(CarriedIn(db.clone())),
            notifications: loader(ById::new(db.clone())),
            audit_events: loader(ById::new(db.clone())),
        }
    }

    /// Load the row a foreign key points to: its absence is a broken invariant (INTERNAL).
    pub async fn required<R: RowById>(&self, id: i64, what: &str) -> Result<R, AppError>
    where
        ById<R>: Loader<i64, Value = R, Error = Arc<AppError>>,
    {
        required(R::loader(self), id, what).await
    }

    /// Forget everything loaded so far: a subscription resolves each event
    /// with fresh rows, not with what it read at an earlier event.
    pub fn reset(&self) {
        self.organizations.clear::<i64>();
        self.users.clear::<i64>();
        self.questions.clear::<i64>();
        self.rapporteurs_of_question.clear::<i64>();
        self.questions_of_rapporteur.clear::<i64>();
        self.kits.clear::<i64>();
        self.modules.clear::<i64>();
        self.revisions.clear::<i64>();
        self.kits_of_question.clear::<i64>();
        self.modules_of_kit.clear::<i64>();
        self.sections_of_revision.clear::<i64>();
        self.blocks_of_revision.clear::<i64>();
        self.markdown_of_revision.clear::<i64>();
        self.cycles.clear::<i64>();
        self.cycles_of_module.clear::<i64>();
        self.comments.clear::<i64>();
        self.replies.clear::<i64>();
        self.replies_of_comment.clear::<i64>();
        self.edits_of_comment.clear::<i64>();
        self.late_grant.clear::<i64>();
        self.dispositions.clear::<i64>();
        self.disposition_changes.clear::<i64>();
        self.addressed_in.clear::<i64>();
        self.carried_in.clear::<(i64, i64)>();
        self.notifications.clear::<i64>();
        self.audit_events.clear::<i64>();
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
