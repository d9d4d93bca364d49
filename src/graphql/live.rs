//! Subscriptions (over graphql-transport-ws, see `http::ws`): what happens in a
//! review cycle or on a module, as it happens, filtered per subscriber by the
//! visibility rules of every other read path.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, Result, Subscription, ID};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast;

use super::context::CtxExt;
use super::ids::decode_id;
use super::loaders::Loaders;
use super::types::{ReviewEvent, ReviewEventKind};
use crate::auth::AuthUser;
use crate::domain::cycle::CycleStatus as Status;
use crate::domain::events::EventKind;
use crate::domain::ids::NodeKind;
use crate::error::AppError;
use crate::live::{Delivered, Signal};
use crate::state::AppState;

/// Which events a subscription wants.
#[derive(Clone, Copy)]
enum Target {
    Cycle { id: i64, module_id: i64 },
    Module { id: i64 },
}

impl Target {
    fn wants(self, d: &Delivered) -> bool {
        let e = &d.event;
        match self {
            Target::Cycle { id, module_id } => {
                e.cycle_id == Some(id)
                    || (e.kind == EventKind::RevisionPublished && e.module_id == module_id)
            }
            Target::Module { id } => e.module_id == id,
        }
    }
}

struct Feed {
    rx: broadcast::Receiver<Signal>,
    state: AppState,
    user: AuthUser,
    loaders: Arc<Loaders>,
    target: Target,
    /// The last status told per cycle: a change is told once, whether the
    /// clock or a mutation (or both, on several paths) announced it.
    statuses: HashMap<i64, Status>,
    ended: bool,
}

const MISSED: &str = "live events may have been missed (the server fell behind or lost its \
                      database connection): subscribe again and reload";

impl Feed {
    async fn next(&mut self) -> Option<Result<ReviewEvent>> {
        if self.ended {
            return None;
        }
        loop {
            let d = match self.rx.recv().await {
                Ok(Signal::Event(d)) => d,
                Ok(Signal::Gap) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    self.ended = true;
                    return Some(Err(AppError::Unavailable(MISSED.into()).into()));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            let Some(kind) = ReviewEventKind::of(d.event.kind) else {
                continue;
            };
            let now = self.state.clock.now();
            if !self.target.wants(&d) || !d.visible_to(&self.user, now) {
                continue;
            }
            let status = d.cycle_status(now);
            if kind == ReviewEventKind::CycleStatusChanged {
                let (Some(cycle), Some(s)) = (&d.cycle, status) else {
                    continue;
                };
                if self.statuses.insert(cycle.id, s) == Some(s) {
                    continue;
                }
            }
            self.loaders.reset();
            self.loaders.prime(&d).await;
            return Some(Ok(ReviewEvent {
                kind,
                delivered: d,
                status,
            }));
        }
    }
}

fn feed(
    ctx: &Context<'_>,
    target: Target,
    statuses: HashMap<i64, Status>,
) -> Result<impl Stream<Item = Result<ReviewEvent>>> {
    let state = ctx.state()?.clone();
    let feed = Feed {
        rx: state.live.subscribe(),
        user: ctx.user()?.clone(),
        loaders: ctx.request()?.loaders.clone(),
        state,
        target,
        statuses,
        ended: false,
    };
    Ok(stream::unfold(feed, |mut f| async move {
        f.next().await.map(|item| (item, f))
    }))
}

/// The roots of the subscriptions.
#[derive(Default)]
pub struct Subscription;

/// Live updates, over WebSocket (graphql-transport-ws) at /graphql.
#[Subscription]
impl Subscription {
    /// Everything that happens in one review cycle, as you may see it: comments
    /// of a SEALED cycle reach other organizations only after the close,
    /// dispositions reach members only after the close, drafts only their author.
    /// Also the module's new revisions. Requires a signed-in connection.
    async fn cycle_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The review cycle.")] cycle_id: ID,
    ) -> Result<impl Stream<Item = Result<ReviewEvent>>> {
        ctx.user()?;
        let id = decode_id("cycleId", &cycle_id, NodeKind::ReviewCycle)?;
        let cycle = ctx
            .loaders()?
            .cycles
            .load_one(id)
            .await?
            .ok_or_else(|| AppError::not_found("review cycle"))?;
        let now = ctx.state()?.clock.now();
        let statuses = HashMap::from([(cycle.id, cycle.period().status(now))]);
        feed(
            ctx,
            Target::Cycle {
                id,
                module_id: cycle.module_id,
            },
            statuses,
        )
    }

    /// Everything that happens on one module: its revisions, and the events of
    /// all its review cycles (with the same visibility as `cycleEvents`).
    async fn module_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The module.")] module_id: ID,
    ) -> Result<impl Stream<Item = Result<ReviewEvent>>> {
        ctx.user()?;
        let id = decode_id("moduleId", &module_id, NodeKind::Module)?;
        ctx.loaders()?
            .modules
            .load_one(id)
            .await?
            .ok_or_else(|| AppError::not_found("module"))?;
        let now = ctx.state()?.clock.now();
        let cycles = ctx.loaders()?.cycles_of_module.load_one(id).await?;
        let statuses = cycles
            .unwrap_or_default()
            .iter()
            .map(|c| (c.id, c.period().status(now)))
            .collect();
        feed(ctx, Target::Module { id }, statuses)
    }
}
