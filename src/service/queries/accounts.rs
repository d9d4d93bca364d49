//! Organizations, users and questions, as lists and by name.

use super::count_if;
use crate::auth::AuthUser;
use crate::db::accounts as store;
use crate::domain::page::{Page, PageOf};
use crate::error::AppResult;
use crate::service::records::{
    OrganizationFilter, OrganizationRow, QuestionRow, UserFilter, UserRow,
};
use crate::state::AppState;

/// One page of the organizations, oldest first (any signed-in user may list them).
pub async fn organizations(
    state: &AppState,
    filter: &OrganizationFilter,
    page: &Page,
    with_total: bool,
) -> AppResult<PageOf<OrganizationRow>> {
    let mut pooled = state.db.read().await?;
    let c = &mut pooled.conn();
    let rows = store::list_organizations(c, filter, page).await?;
    let total = count_if(with_total, store::count_organizations(c, filter)).await?;
    Ok(PageOf::new(rows, total))
}

/// One organization by its short name (case-insensitive).
pub async fn organization_by_short_name(
    state: &AppState,
    short_name: &str,
) -> AppResult<Option<OrganizationRow>> {
    let mut pooled = state.db.read().await?;
    store::organization_by_short_name(&mut pooled.conn(), short_name).await
}

/// One page of the users, oldest first: the directory is the secretariat's.
pub async fn users(
    state: &AppState,
    viewer: &AuthUser,
    filter: &UserFilter,
    page: &Page,
    with_total: bool,
) -> AppResult<PageOf<UserRow>> {
    viewer.require_secretariat()?;
    let mut pooled = state.db.read().await?;
    let c = &mut pooled.conn();
    let rows = store::list_users(c, filter, page).await?;
    let total = count_if(with_total, store::count_users(c, filter)).await?;
    Ok(PageOf::new(rows, total))
}

/// One page of the questions, oldest first.
pub async fn questions(
    state: &AppState,
    page: &Page,
    with_total: bool,
) -> AppResult<PageOf<QuestionRow>> {
    let mut pooled = state.db.read().await?;
    let c = &mut pooled.conn();
    let rows = store::list_questions(c, page).await?;
    let total = count_if(with_total, store::count_questions(c)).await?;
    Ok(PageOf::new(rows, total))
}

/// One question by its code.
pub async fn question_by_code(state: &AppState, code: &str) -> AppResult<Option<QuestionRow>> {
    let mut pooled = state.db.read().await?;
    store::question_by_code(&mut pooled.conn(), code).await
}
