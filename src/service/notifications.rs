//! A user's notifications, and the modules they follow. Notifications are
//! written by `modules::create_revision`, in the revision's transaction.

use super::audit::{self, Change};
use super::Actor;
use crate::auth::AuthUser;
use crate::db::modules as modules_store;
use crate::db::notifications as store;
use crate::domain::audit::AuditAction;
use crate::domain::ids::NodeKind;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The most ids one `markNotificationsRead` may name.
pub const MAX_MARK: usize = 500;

/// Mark some (or all, with `None`) of the user's notifications read; returns
/// how many changed. Ids of other users' notifications are NOT_FOUND.
pub async fn mark_read(state: &AppState, user: &AuthUser, ids: Option<&[i64]>) -> AppResult<u64> {
    if let Some(ids) = ids {
        if ids.len() > MAX_MARK {
            return Err(AppError::validation(
                "ids",
                format!("at most {MAX_MARK} ids at once"),
            ));
        }
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    if let Some(ids) = ids {
        let found = store::by_ids(&mut c, ids).await?;
        let mine = |id: &i64| found.iter().any(|n| n.id == *id && n.user_id == user.id);
        if !ids.iter().all(mine) {
            return Err(AppError::not_found("notification"));
        }
    }
    let changed = store::mark_read(&mut c, user.id, ids, now).await?;
    if changed > 0 {
        let summary = match changed {
            1 => "1 notification marked read".to_owned(),
            n => format!("{n} notifications marked read"),
        };
        let change = Change::new(
            AuditAction::NotificationsRead,
            NodeKind::User,
            user.id,
            summary,
        );
        audit::record(&mut c, Actor::User(user), change, now).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Follow (or stop following) a module: a follower is told of each new revision.
pub async fn set_following(
    state: &AppState,
    user: &AuthUser,
    module_id: i64,
    follow: bool,
) -> AppResult<()> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let module = modules_store::module_by_id(&mut c, module_id)
        .await?
        .ok_or_else(|| AppError::not_found("module"))?;
    if follow {
        store::follow(&mut c, user.id, module.id, now).await?;
    } else {
        store::unfollow(&mut c, user.id, module.id).await?;
    }
    let (action, verb) = if follow {
        (AuditAction::ModuleFollowed, "followed")
    } else {
        (AuditAction::ModuleUnfollowed, "stopped following")
    };
    audit::record(
        &mut c,
        Actor::User(user),
        Change::new(
            action,
            NodeKind::Module,
            module.id,
            format!("{verb} module \"{}\"", module.title),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
