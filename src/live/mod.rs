//! Live updates: committed events, from this instance or (on PostgreSQL, by
//! `LISTEN`) from every instance, and the clock's own cycle openings and
//! closings, loaded once per instance and fanned out to the subscribers.
//!
//! Events carry ids only. The dispatcher loads the rows they name in one batch
//! (so 1,000 subscribers cost one set of reads, not 1,000) and each subscriber
//! decides with the same rules as every read path whether it may see them.
//! Whatever has queued up while a batch was loading is the next batch: under
//! a stream of commits the dispatcher runs one set of reads per batch, not
//! per commit, and does not fall behind. Its reads, the clock watch's and
//! `LISTEN` use connections of their own ([`crate::db::Db::background`]):
//! requests waiting for the request pool never delay live delivery.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::auth::AuthUser;
use crate::clock::SharedClock;
use crate::db::accounts::{self as accounts_store, OrganizationRow, UserRow};
use crate::db::comments::{self as comments_store, CommentRow, ReplyRow};
use crate::db::cycles::{self as cycles_store, CycleRow};
use crate::db::modules::{self as modules_store, ModuleRow, RevisionRow};
use crate::db::Db;
use crate::db::EVENTS_CHANNEL;
use crate::domain::cycle::CycleStatus;
use crate::domain::events::{decode_batch, Event, EventKind};
use crate::domain::visibility;
use crate::error::AppResult;

/// How often the clock is checked for cycles opening or closing.
const TICK: Duration = Duration::from_millis(250);
/// Events waiting for a slow subscriber before it is told it missed some.
const BUFFER: usize = 8192;
/// The dispatcher stops taking queued inputs into a batch once it holds this
/// many events (one input, such as an import on SQLite, may bring more).
const BATCH: usize = 256;

/// An event with the rows it names, as this instance read them.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub event: Event,
    pub module: Option<ModuleRow>,
    pub cycle: Option<CycleRow>,
    /// The question of the cycle's (or the module's) kit.
    pub question_id: Option<i64>,
    pub comment: Option<CommentRow>,
    pub reply: Option<ReplyRow>,
    pub revision: Option<RevisionRow>,
    pub author: Option<UserRow>,
    pub organization: Option<OrganizationRow>,
    /// The cycle's late grants: `(organization_id, until)`.
    pub late_grants: Vec<(i64, DateTime<Utc>)>,
}

impl Delivered {
    /// The cycle's status at `now`.
    pub fn cycle_status(&self, now: DateTime<Utc>) -> Option<CycleStatus> {
        self.cycle.as_ref().map(|c| c.period().status(now))
    }

    /// May `user` receive this event at `now`? The rules of every read path:
    /// comments (and their replies) by the cycle's scope, dispositions only
    /// to managers until the cycle closes; cycle and revision news to all.
    pub fn visible_to(&self, user: &AuthUser, now: DateTime<Utc>) -> bool {
        match self.event.kind {
            EventKind::AccountChanged => false,
            EventKind::CycleStatusChanged => self.cycle.is_some(),
            EventKind::RevisionPublished => self.revision.is_some(),
            kind => {
                let (Some(cycle), Some(comment), Some(q)) =
                    (&self.cycle, &self.comment, self.question_id)
                else {
                    return false;
                };
                let late = self
                    .late_grants
                    .iter()
                    .find(|(org, _)| *org == user.organization_id)
                    .map(|(_, until)| *until);
                let manages = user.manages_question(q);
                let scope =
                    visibility::cycle_scope(cycle.visibility, &cycle.period(), manages, late, now);
                let seen = visibility::visible(
                    scope,
                    comment.state,
                    user.id,
                    user.organization_id,
                    comment.author_id,
                    comment.organization_id,
                );
                seen && (kind != EventKind::DispositionSet
                    || visibility::dispositions_visible(cycle.period().status(now), manages))
            }
        }
    }
}

/// What subscribers receive.
#[derive(Debug, Clone)]
pub enum Signal {
    Event(Arc<Delivered>),
    /// Events may have been missed (the database connection dropped): every
    /// subscription ends with an error, and clients subscribe again.
    Gap,
}

/// The fan-out point of one server instance.
#[derive(Clone)]
pub struct Hub {
    signals: broadcast::Sender<Signal>,
    /// Users whose account changed: their connections check it again.
    accounts: broadcast::Sender<i64>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

enum Input {
    Events(Arc<Vec<Event>>),
    Gap,
}

impl Hub {
    pub fn new() -> Self {
        Self {
            signals: broadcast::channel(BUFFER).0,
            accounts: broadcast::channel(256).0,
        }
    }

    /// Receive every signal from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Signal> {
        self.signals.subscribe()
    }

    /// Receive the ids of users whose account changes from now on.
    pub fn subscribe_accounts(&self) -> broadcast::Receiver<i64> {
        self.accounts.subscribe()
    }

    /// Start the dispatcher, the clock watch and (on PostgreSQL) the listener.
    /// Returns once events can no longer be missed: on PostgreSQL, after
    /// `LISTEN` is in place.
    pub async fn start(&self, db: &Db, clock: SharedClock) -> anyhow::Result<Vec<JoinHandle<()>>> {
        let (tx, rx) = mpsc::channel::<Input>(1024);
        let mut tasks = Vec::new();
        if let Some(pool) = db.listen_pool() {
            let listener = open_listener(pool).await?;
            tasks.push(tokio::spawn(listen(pool.clone(), listener, tx.clone())));
        } else {
            tasks.push(tokio::spawn(forward_local(
                db.committed_events(),
                tx.clone(),
            )));
        }
        tasks.push(tokio::spawn(watch_clock(db.clone(), clock, tx)));
        tasks.push(tokio::spawn(dispatch(db.clone(), self.clone(), rx)));
        Ok(tasks)
    }
}

/// SQLite: events committed by this process.
async fn forward_local(mut rx: broadcast::Receiver<Arc<Vec<Event>>>, tx: mpsc::Sender<Input>) {
    loop {
        let input = match rx.recv().await {
            Ok(events) => Input::Events(events),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "live updates fell behind");
                Input::Gap
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if tx.send(input).await.is_err() {
            return;
        }
    }
}

/// A connection that `LISTEN`s for events.
async fn open_listener(pool: &sqlx::PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(EVENTS_CHANNEL).await?;
    Ok(listener)
}

/// PostgreSQL: events committed by any instance.
async fn listen(pool: sqlx::PgPool, mut listener: PgListener, tx: mpsc::Sender<Input>) {
    loop {
        let input = match listener.try_recv().await {
            Ok(Some(n)) => match decode_batch(n.payload()) {
                Ok(events) => Input::Events(Arc::new(events)),
                Err(e) => {
                    tracing::warn!(error = %e, "ignoring a malformed event payload");
                    continue;
                }
            },
            // The connection dropped and `LISTEN` is back on a new one.
            Ok(None) => {
                tracing::warn!("the LISTEN connection dropped and was reopened");
                Input::Gap
            }
            Err(sqlx::Error::PoolClosed) => return,
            // The connection dropped and no new one could be had (within the
            // background pool's short timeout): subscribers are told now,
            // and again once `LISTEN` is back, as whoever subscribed in
            // between may have missed events.
            Err(e) => {
                tracing::warn!(error = %e, "LISTEN failed; retrying");
                if tx.send(Input::Gap).await.is_err() {
                    return;
                }
                // On a new connection: the old one may be broken for good.
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    match open_listener(&pool).await {
                        Ok(l) => {
                            listener = l;
                            break;
                        }
                        Err(sqlx::Error::PoolClosed) => return,
                        Err(e) => tracing::debug!(error = %e, "LISTEN still failing"),
                    }
                }
                tracing::info!("LISTEN is back");
                Input::Gap
            }
        };
        if tx.send(input).await.is_err() {
            return;
        }
    }
}

/// Cycles open and close by the clock, with no write to announce it: each
/// instance watches the clock itself (and tells its own subscribers only).
async fn watch_clock(db: Db, clock: SharedClock, tx: mpsc::Sender<Input>) {
    let mut last = clock.now();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = clock.now();
        if now <= last {
            last = now;
            continue;
        }
        let turned = match db.background().await {
            Ok(mut pooled) => cycles_store::turning_between(&mut pooled.conn(), last, now).await,
            Err(e) => Err(e),
        };
        match turned {
            Ok(cycles) => {
                last = now;
                if cycles.is_empty() {
                    continue;
                }
                let events = cycles
                    .iter()
                    .map(|c| Event::cycle_status(c.module_id, c.id, now))
                    .collect();
                if tx.send(Input::Events(Arc::new(events))).await.is_err() {
                    return;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot check cycle deadlines"),
        }
    }
}

/// Fan out every input in order: the events of one input and of whatever
/// else is already queued behind it (up to [`BATCH`] events) are loaded
/// together, and a gap among them keeps its place.
async fn dispatch(db: Db, hub: Hub, mut rx: mpsc::Receiver<Input>) {
    let mut batch: Vec<Event> = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(input) = next.take() {
            match input {
                Input::Gap => {
                    // What came before the gap goes out before it (or is
                    // itself told as a gap, when it cannot be loaded).
                    if !deliver(&db, &hub, &mut batch).await {
                        let _ = hub.signals.send(Signal::Gap);
                    }
                }
                Input::Events(events) => {
                    for e in events.iter() {
                        if e.kind == EventKind::AccountChanged {
                            if let Some(u) = e.user_id {
                                let _ = hub.accounts.send(u);
                            }
                        } else {
                            batch.push(e.clone());
                        }
                    }
                }
            }
            if batch.len() < BATCH {
                next = rx.try_recv().ok();
            }
        }
        deliver(&db, &hub, &mut batch).await;
    }
}

/// Load the batch's rows and send its events in order (emptying it). A batch
/// that cannot be loaded is a gap: subscribers are told so, and this returns
/// true.
async fn deliver(db: &Db, hub: &Hub, batch: &mut Vec<Event>) -> bool {
    if batch.is_empty() {
        return false;
    }
    if hub.signals.receiver_count() == 0 {
        batch.clear();
        return false;
    }
    let loaded = load(db, batch).await;
    batch.clear();
    match loaded {
        Ok(delivered) => {
            let now = chrono::Utc::now();
            for d in delivered {
                let lag = (now - d.event.at).num_microseconds().unwrap_or(0).max(0);
                metrics::histogram!("kitreview_live_event_lag_seconds").record(lag as f64 / 1e6);
                metrics::counter!("kitreview_live_events_total").increment(1);
                let _ = hub.signals.send(Signal::Event(Arc::new(d)));
            }
            false
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot load live events");
            let _ = hub.signals.send(Signal::Gap);
            true
        }
    }
}

fn index<T>(rows: Vec<T>, id: impl Fn(&T) -> i64) -> HashMap<i64, T> {
    rows.into_iter().map(|r| (id(&r), r)).collect()
}

fn ids(events: &[Event], f: impl Fn(&Event) -> Option<i64>) -> Vec<i64> {
    let mut v: Vec<i64> = events.iter().filter_map(f).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The rows a batch of events names, in a fixed number of queries.
async fn load(db: &Db, events: &[Event]) -> AppResult<Vec<Delivered>> {
    let events: Vec<Event> = events
        .iter()
        .filter(|e| e.kind != EventKind::AccountChanged)
        .cloned()
        .collect();
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut pooled = db.background().await?;
    let c = &mut pooled.conn();
    let comments = index(
        comments_store::by_ids(c, &ids(&events, |e| e.comment_id)).await?,
        |r| r.id,
    );
    let replies = index(
        comments_store::replies_by_ids(c, &ids(&events, |e| e.reply_id)).await?,
        |r| r.id,
    );
    let revisions = index(
        modules_store::revisions_by_ids(c, &ids(&events, |e| e.revision_id)).await?,
        |r| r.id,
    );
    let cycle_ids = ids(&events, |e| e.cycle_id);
    let cycles = index(cycles_store::by_ids(c, &cycle_ids).await?, |r| r.id);
    let question_of_cycle: HashMap<i64, i64> = cycles_store::questions_of(c, &cycle_ids)
        .await?
        .into_iter()
        .collect();
    let mut late_grants: HashMap<i64, Vec<(i64, DateTime<Utc>)>> = HashMap::new();
    // Grants matter only in SEALED cycles (see `domain::visibility`).
    let sealed: Vec<i64> = cycles
        .values()
        .filter(|cy| cy.visibility == crate::domain::cycle::Visibility::Sealed)
        .map(|cy| cy.id)
        .collect();
    for (cycle, org, until) in cycles_store::late_grants_of(c, &sealed).await? {
        late_grants.entry(cycle).or_default().push((org, until));
    }
    let modules = index(
        modules_store::modules_by_ids(c, &ids(&events, |e| Some(e.module_id))).await?,
        |r| r.id,
    );
    let kits = index(
        modules_store::kits_by_ids(c, &modules.values().map(|m| m.kit_id).collect::<Vec<_>>())
            .await?,
        |r| r.id,
    );
    let authors = index(
        accounts_store::users_by_ids(
            c,
            &comments.values().map(|r| r.author_id).collect::<Vec<_>>(),
        )
        .await?,
        |r| r.id,
    );
    let orgs = index(
        accounts_store::organizations_by_ids(
            c,
            &comments
                .values()
                .map(|r| r.organization_id)
                .collect::<Vec<_>>(),
        )
        .await?,
        |r| r.id,
    );
    Ok(events
        .into_iter()
        .map(|event| {
            let comment = event.comment_id.and_then(|i| comments.get(&i).cloned());
            let module = modules.get(&event.module_id).cloned();
            let question_id = event
                .cycle_id
                .and_then(|i| question_of_cycle.get(&i).copied())
                .or_else(|| {
                    module
                        .as_ref()
                        .and_then(|m| kits.get(&m.kit_id))
                        .map(|k| k.question_id)
                });
            Delivered {
                late_grants: event
                    .cycle_id
                    .and_then(|i| late_grants.get(&i).cloned())
                    .unwrap_or_default(),
                module,
                cycle: event.cycle_id.and_then(|i| cycles.get(&i).cloned()),
                question_id,
                reply: event.reply_id.and_then(|i| replies.get(&i).cloned()),
                revision: event.revision_id.and_then(|i| revisions.get(&i).cloned()),
                author: comment
                    .as_ref()
                    .and_then(|r| authors.get(&r.author_id).cloned()),
                organization: comment
                    .as_ref()
                    .and_then(|r| orgs.get(&r.organization_id).cloned()),
                comment,
                event,
            }
        })
        .collect())
}
