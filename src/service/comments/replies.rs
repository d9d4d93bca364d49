//! Replies in a submitted comment's thread.

use super::*;

async fn reply_recorded(
    c: &mut Conn<'_>,
    user: &AuthUser,
    comment: &CommentRow,
    reply: &ReplyRow,
    action: AuditAction,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let verb = action.verb();
    let summary = format!(
        "reply {verb} on comment {}",
        comment.number.unwrap_or_default()
    );
    audit::record(
        c,
        Actor::User(user),
        Change::new(action, NodeKind::Reply, reply.id, summary).in_cycle(comment.cycle_id),
        now,
    )
    .await?;
    search::reindex_rows(c, std::slice::from_ref(comment)).await
}

fn reply_body(raw: &str) -> AppResult<String> {
    rules::body(raw, "body").map_err(|e| AppError::validation("body", e.0))
}

/// Reply to a submitted comment the user can see.
#[tracing::instrument(skip_all, fields(comment_id))]
pub async fn add_reply(
    state: &AppState,
    user: &AuthUser,
    comment_id: i64,
    body: &str,
    key: Option<&IdempotencyKey>,
) -> AppResult<ReplyRow> {
    let body = reply_body(body)?;
    let now = state.clock.now();
    let key = Use::new(key, "addReply", &(comment_id, &body));
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    if let Claim::Replay(ids) = idempotency::claim(&mut c, user.id, key.as_ref(), now).await? {
        let row = store::reply_by_id(&mut c, idempotency::single(&ids)?)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("a replayed reply is gone")))?;
        tx.commit().await?;
        return Ok(row);
    }
    let (comment, cycle) = visible_comment(&mut c, user, comment_id, now).await?;
    if comment.state == CommentState::Draft {
        return Err(AppError::validation(
            "commentId",
            "a draft has no thread until it is submitted",
        ));
    }
    if cycle.period().status(now) == CycleStatus::Consolidated {
        return Err(AppError::CycleClosed(
            "the review cycle is consolidated".into(),
        ));
    }
    let row = store::insert_reply(
        &mut c,
        comment.id,
        user.id,
        user.organization_id,
        &body,
        now,
    )
    .await?;
    reply_recorded(&mut c, user, &comment, &row, AuditAction::ReplyAdded, now).await?;
    idempotency::settle(&mut c, user.id, key.as_ref(), &[row.id]).await?;
    tx.emit(Event::reply(
        cycle.module_id,
        cycle.id,
        comment.id,
        row.id,
        now,
    ));
    tx.commit().await?;
    Ok(row)
}

/// Edit (with a body) or withdraw (without) one's own reply.
#[tracing::instrument(skip_all, fields(reply_id))]
pub async fn change_reply(
    state: &AppState,
    user: &AuthUser,
    reply_id: i64,
    body: Option<&str>,
) -> AppResult<ReplyRow> {
    let body = body.map(reply_body).transpose()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let reply = store::reply_by_id(&mut c, reply_id)
        .await?
        .ok_or_else(|| AppError::not_found("reply"))?;
    // Seeing the reply needs seeing its comment.
    let (comment, _) = visible_comment(&mut c, user, reply.comment_id, now)
        .await
        .map_err(|_| AppError::not_found("reply"))?;
    if reply.author_id != user.id {
        return Err(AppError::forbidden("only its author may change a reply"));
    }
    if reply.state != ReplyState::Active {
        return Err(AppError::Conflict("the reply is withdrawn".into()));
    }
    let row = match body {
        Some(b) => store::update_reply(&mut c, reply_id, Some(&b), None, now).await?,
        None => {
            store::update_reply(&mut c, reply_id, None, Some(ReplyState::Withdrawn), now).await?
        }
    };
    let action = if row.state == ReplyState::Active {
        AuditAction::ReplyEdited
    } else {
        AuditAction::ReplyWithdrawn
    };
    reply_recorded(&mut c, user, &comment, &row, action, now).await?;
    tx.commit().await?;
    Ok(row)
}
