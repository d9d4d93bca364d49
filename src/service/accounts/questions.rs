//! Questions (study-group work items) and their rapporteurs.

use super::*;

fn question_code(raw: &str, study_group: Option<i64>) -> AppResult<QuestionCode> {
    let code = field("code", QuestionCode::parse(raw))?;
    if let Some(g) = study_group {
        if g != code.study_group() {
            return Err(AppError::validation(
                "studyGroup",
                format!(
                    "the code {} names study group {}, not {g}",
                    code.as_str(),
                    code.study_group()
                ),
            ));
        }
    }
    Ok(code)
}

#[tracing::instrument(skip_all)]
pub async fn create_question(
    state: &AppState,
    actor: Actor<'_>,
    code: &str,
    title: &str,
    study_group: Option<i64>,
) -> AppResult<QuestionRow> {
    actor.require_secretariat()?;
    let code = question_code(code, study_group)?;
    let title = field("title", Title::parse(title))?;
    let mut tx = state.db.begin().await?;
    let row = store::insert_question(
        &mut tx.conn(),
        code.as_str(),
        title.as_str(),
        code.study_group(),
        state.clock.now(),
    )
    .await;
    let row = conflict_on_unique(row, || format!("question {} already exists", code.as_str()))?;
    audited(
        &mut tx,
        actor,
        AuditAction::QuestionCreated,
        (NodeKind::Question, row.id),
        Some(row.id),
        format!("question {} created", row.code),
        None,
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

#[tracing::instrument(skip_all, fields(question_id = id))]
pub async fn update_question(
    state: &AppState,
    actor: Actor<'_>,
    id: i64,
    code: Option<&str>,
    title: Option<&str>,
) -> AppResult<QuestionRow> {
    actor.require_secretariat()?;
    let code = code.map(|c| question_code(c, None)).transpose()?;
    let title = title.map(|t| field("title", Title::parse(t))).transpose()?;
    let mut tx = state.db.begin().await?;
    let row = store::update_question(
        &mut tx.conn(),
        id,
        code.as_ref()
            .map(|c| (c.as_str().to_owned(), c.study_group())),
        title.map(|t| t.as_str().to_owned()),
        state.clock.now(),
    )
    .await;
    let row = conflict_on_unique(row, || "another question already has this code".into())?
        .ok_or_else(|| AppError::not_found("question"))?;
    audited(
        &mut tx,
        actor,
        AuditAction::QuestionUpdated,
        (NodeKind::Question, row.id),
        Some(row.id),
        format!("question {} updated", row.code),
        None,
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Make a user a rapporteur of a question (adding the RAPPORTEUR role if missing).
#[tracing::instrument(skip_all, fields(question_id, user_id))]
pub async fn assign_rapporteur(
    state: &AppState,
    actor: Actor<'_>,
    question_id: i64,
    user_id: i64,
) -> AppResult<(QuestionRow, UserRow)> {
    actor.require_secretariat()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let question = store::question_by_id(&mut c, question_id)
        .await?
        .ok_or_else(|| AppError::not_found("question"))?;
    let mut user = store::user_by_id(&mut c, user_id)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    if !user.active {
        return Err(AppError::validation(
            "userId",
            "a deactivated user cannot be a rapporteur",
        ));
    }
    let roles = RoleSet::from_bits(user.roles);
    if !roles.contains(Role::Rapporteur) {
        user = store::update_user(
            &mut c,
            user_id,
            UserChanges {
                roles: Some(roles.with(Role::Rapporteur).bits()),
                ..Default::default()
            },
            now,
        )
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    }
    store::assign_rapporteur(&mut c, question_id, user_id, now).await?;
    audited(
        &mut tx,
        actor,
        AuditAction::RapporteurAssigned,
        (NodeKind::User, user.id),
        Some(question.id),
        format!(
            "{} made a rapporteur of question {}",
            user.email, question.code
        ),
        Some(user.id),
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok((question, user))
}

#[tracing::instrument(skip_all, fields(question_id, user_id))]
pub async fn unassign_rapporteur(
    state: &AppState,
    actor: Actor<'_>,
    question_id: i64,
    user_id: i64,
) -> AppResult<(QuestionRow, UserRow)> {
    actor.require_secretariat()?;
    let mut tx = state.db.begin().await?;
    let mut c = tx.conn();
    let question = store::question_by_id(&mut c, question_id)
        .await?
        .ok_or_else(|| AppError::not_found("question"))?;
    let user = store::user_by_id(&mut c, user_id)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    if !store::unassign_rapporteur(&mut c, question_id, user_id).await? {
        return Err(AppError::validation(
            "userId",
            "this user is not a rapporteur of this question",
        ));
    }
    audited(
        &mut tx,
        actor,
        AuditAction::RapporteurUnassigned,
        (NodeKind::User, user.id),
        Some(question.id),
        format!(
            "{} no longer a rapporteur of question {}",
            user.email, question.code
        ),
        Some(user.id),
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok((question, user))
}
