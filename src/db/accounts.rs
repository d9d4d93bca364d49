//! Storage of organizations, users, questions and rapporteur assignments.

use chrono::{DateTime, Utc};

use super::sql::{finish_page, Arg, Sql};
use super::Conn;
use crate::domain::accounts::{OrganizationKind, Region};
use crate::domain::page::Page;
use crate::error::AppResult;

/// An organization as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrganizationRow {
    pub id: i64,
    pub name: String,
    pub short_name: String,
    pub kind: OrganizationKind,
    pub country_code: Option<String>,
    pub region: Option<Region>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! org_cols {
    () => {
        "id, name, short_name, kind, country_code, region, created_at, updated_at"
    };
}

/// A user as stored, without the password hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub organization_id: i64,
    pub roles: i64,
    pub active: bool,
    pub password_version: i64,
    /// Bumped by each deactivation; tokens carry it, so older tokens stop working.
    pub token_epoch: i64,
    pub external_subject: Option<String>,
    /// Until when the secretariat's temporary password works (only to choose
    /// a new one); `None` when the password is the user's own.
    pub password_temporary_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! user_cols {
    () => {
        "id, email, display_name, organization_id, roles, active, password_version, \
         token_epoch, external_subject, password_temporary_until, created_at, updated_at"
    };
}
pub(crate) use user_cols;

/// A question as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuestionRow {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub study_group: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! question_cols {
    () => {
        "id, code, title, study_group, created_at, updated_at"
    };
}

/// A new organization, already validated.
pub struct NewOrganization<'a> {
    pub name: &'a str,
    pub short_name: &'a str,
    pub short_name_key: String,
    pub kind: &'a str,
    pub country_code: Option<&'a str>,
    pub region: Option<&'a str>,
}

/// Changed fields of an organization; `None` leaves a field alone.
#[derive(Default)]
pub struct OrganizationChanges {
    pub name: Option<String>,
    pub short_name: Option<(String, String)>,
    pub kind: Option<OrganizationKind>,
    pub country_code: Option<Option<String>>,
    pub region: Option<Option<String>>,
}

pub async fn insert_organization(
    c: &mut Conn<'_>,
    org: NewOrganization<'_>,
    now: DateTime<Utc>,
) -> AppResult<OrganizationRow> {
    Sql::new(concat!(
        "INSERT INTO organizations (name, short_name, short_name_key, kind, country_code, region, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ",
        org_cols!()
    ))
    .arg(org.name)
    .arg(org.short_name)
    .arg(org.short_name_key)
    .arg(org.kind)
    .arg(org.country_code)
    .arg(org.region)
    .arg(now)
    .fetch_one(c)
    .await
}

pub async fn update_organization(
    c: &mut Conn<'_>,
    id: i64,
    ch: OrganizationChanges,
    now: DateTime<Utc>,
) -> AppResult<Option<OrganizationRow>> {
    let mut sql = Sql::new("UPDATE organizations SET updated_at = ");
    sql.bind(now);
    if let Some(v) = ch.name {
        sql.push(", name = ").bind(v);
    }
    if let Some((v, key)) = ch.short_name {
        sql.push(", short_name = ").bind(v);
        sql.push(", short_name_key = ").bind(key);
    }
    if let Some(v) = ch.kind {
        sql.push(", kind = ").bind(v);
    }
    if let Some(v) = ch.country_code {
        sql.push(", country_code = ").bind(v);
    }
    if let Some(v) = ch.region {
        sql.push(", region = ").bind(v);
    }
    sql.push(" WHERE id = ").bind(id);
    sql.push(concat!(" RETURNING ", org_cols!()));
    sql.fetch_optional(c).await
}

pub async fn organizations_by_ids(
    c: &mut Conn<'_>,
    ids: &[i64],
) -> AppResult<Vec<OrganizationRow>> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        org_cols!(),
        " FROM organizations WHERE id IN "
    ));
    sql.bind_list(ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

/// The organizations that have comments in a cycle.
pub async fn organizations_of_cycle(
    c: &mut Conn<'_>,
    cycle_id: i64,
) -> AppResult<Vec<OrganizationRow>> {
    Sql::new(concat!(
        "SELECT ",
        org_cols!(),
        " FROM organizations WHERE id IN (SELECT organization_id FROM comments WHERE cycle_id = $1)"
    ))
    .arg(cycle_id)
    .fetch_all(c)
    .await
}

pub async fn organization_by_id(c: &mut Conn<'_>, id: i64) -> AppResult<Option<OrganizationRow>> {
    Sql::new(concat!(
        "SELECT ",
        org_cols!(),
        " FROM organizations WHERE id = $1"
    ))
    .arg(id)
    .fetch_optional(c)
    .await
}

pub async fn organization_by_short_name(
    c: &mut Conn<'_>,
    short_name: &str,
) -> AppResult<Option<OrganizationRow>> {
    Sql::new(concat!(
        "SELECT ",
        org_cols!(),
        " FROM organizations WHERE short_name_key = $1"
    ))
    .arg(short_name.to_lowercase())
    .fetch_optional(c)
    .await
}

/// Filters on the organizations list.
#[derive(Debug, Default, Clone)]
pub struct OrganizationFilter {
    pub kind: Option<OrganizationKind>,
    pub region: Option<Region>,
}

fn organization_where(sql: &mut Sql, f: &OrganizationFilter) {
    sql.push(" WHERE 1 = 1");
    if let Some(kind) = &f.kind {
        sql.push(" AND kind = ").bind(*kind);
    }
    if let Some(region) = &f.region {
        sql.push(" AND region = ").bind(*region);
    }
}

pub async fn list_organizations(
    c: &mut Conn<'_>,
    f: &OrganizationFilter,
    page: &Page,
) -> AppResult<(Vec<OrganizationRow>, bool)> {
    let mut sql = Sql::new(concat!("SELECT ", org_cols!(), " FROM organizations"));
    organization_where(&mut sql, f);
    sql.page("id", page);
    Ok(finish_page(sql.fetch_all(c).await?, page))
}

pub async fn count_organizations(c: &mut Conn<'_>, f: &OrganizationFilter) -> AppResult<i64> {
    let mut sql = Sql::new("SELECT COUNT(*) FROM organizations");
    organization_where(&mut sql, f);
    sql.fetch_i64(c).await
}

/// A new user, already validated.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub email_key: String,
    pub display_name: &'a str,
    pub organization_id: i64,
    pub roles: i64,
    pub password_hash: Option<String>,
    pub external_subject: Option<&'a str>,
}

pub async fn insert_user(
    c: &mut Conn<'_>,
    u: NewUser<'_>,
    now: DateTime<Utc>,
) -> AppResult<UserRow> {
    Sql::new(concat!(
        "INSERT INTO users (email, email_key, display_name, organization_id, roles, active, \
         password_hash, external_subject, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING ",
        user_cols!()
    ))
    .arg(u.email)
    .arg(u.email_key)
    .arg(u.display_name)
    .arg(u.organization_id)
    .arg(u.roles)
    .arg(true)
    .arg(u.password_hash)
    .arg(u.external_subject)
    .arg(now)
    .fetch_one(c)
    .await
}

/// Changed fields of a user; `None` leaves a field alone.
#[derive(Default)]
pub struct UserChanges {
    pub email: Option<(String, String)>,
    pub display_name: Option<String>,
    pub organization_id: Option<i64>,
    pub roles: Option<i64>,
    pub active: Option<bool>,
    /// End every token issued so far (see [`UserRow::token_epoch`]).
    pub end_tokens: bool,
    pub external_subject: Option<Option<String>>,
}

pub async fn update_user(
    c: &mut Conn<'_>,
    id: i64,
    ch: UserChanges,
    now: DateTime<Utc>,
) -> AppResult<Option<UserRow>> {
    let mut sql = Sql::new("UPDATE users SET updated_at = ");
    sql.bind(now);
    if let Some((email, key)) = ch.email {
        sql.push(", email = ").bind(email);
        sql.push(", email_key = ").bind(key);
    }
    if let Some(v) = ch.display_name {
        sql.push(", display_name = ").bind(v);
    }
    if let Some(v) = ch.organization_id {
        sql.push(", organization_id = ").bind(v);
    }
    if let Some(v) = ch.roles {
        sql.push(", roles = ").bind(v);
    }
    if let Some(v) = ch.active {
        sql.push(", active = ").bind(v);
    }
    if ch.end_tokens {
        sql.push(", token_epoch = token_epoch + 1");
    }
    if let Some(v) = ch.external_subject {
        sql.push(", external_subject = ").bind(v);
    }
    sql.push(" WHERE id = ").bind(id);
    sql.push(concat!(" RETURNING ", user_cols!()));
    sql.fetch_optional(c).await
}

pub async fn user_by_id(c: &mut Conn<'_>, id: i64) -> AppResult<Option<UserRow>> {
    Sql::new(concat!(
        "SELECT ",
        user_cols!(),
        " FROM users WHERE id = $1"
    ))
    .arg(id)
    .fetch_optional(c)
    .await
}

pub async fn users_by_ids(c: &mut Conn<'_>, ids: &[i64]) -> AppResult<Vec<UserRow>> {
    let mut sql = Sql::new(concat!("SELECT ", user_cols!(), " FROM users WHERE id IN "));
    sql.bind_list(ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

pub async fn user_by_email_key(c: &mut Conn<'_>, email_key: &str) -> AppResult<Option<UserRow>> {
    Sql::new(concat!(
        "SELECT ",
        user_cols!(),
        " FROM users WHERE email_key = $1"
    ))
    .arg(email_key)
    .fetch_optional(c)
    .await
}

pub async fn user_by_external_subject(c: &mut Conn<'_>, sub: &str) -> AppResult<Option<UserRow>> {
    Sql::new(concat!(
        "SELECT ",
        user_cols!(),
        " FROM users WHERE external_subject = $1"
    ))
    .arg(sub)
    .fetch_optional(c)
    .await
}

/// Filters on the users list.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub organization_id: Option<i64>,
    pub active: Option<bool>,
}

fn user_where(sql: &mut Sql, f: &UserFilter) {
    sql.push(" WHERE 1 = 1");
    if let Some(org) = f.organization_id {
        sql.push(" AND organization_id = ").bind(org);
    }
    if let Some(active) = f.active {
        sql.push(" AND active = ").bind(active);
    }
}

pub async fn list_users(
    c: &mut Conn<'_>,
    f: &UserFilter,
    page: &Page,
) -> AppResult<(Vec<UserRow>, bool)> {
    let mut sql = Sql::new(concat!("SELECT ", user_cols!(), " FROM users"));
    user_where(&mut sql, f);
    sql.page("id", page);
    Ok(finish_page(sql.fetch_all(c).await?, page))
}

pub async fn count_users(c: &mut Conn<'_>, f: &UserFilter) -> AppResult<i64> {
    let mut sql = Sql::new("SELECT COUNT(*) FROM users");
    user_where(&mut sql, f);
    sql.fetch_i64(c).await
}

pub async fn insert_question(
    c: &mut Conn<'_>,
    code: &str,
    title: &str,
    study_group: i64,
    now: DateTime<Utc>,
) -> AppResult<QuestionRow> {
    Sql::new(concat!(
        "INSERT INTO questions (code, title, study_group, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING ",
        question_cols!()
    ))
    .arg(code)
    .arg(title)
    .arg(study_group)
    .arg(now)
    .fetch_one(c)
    .await
}

pub async fn update_question(
    c: &mut Conn<'_>,
    id: i64,
    code: Option<(String, i64)>,
    title: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<Option<QuestionRow>> {
    let mut sql = Sql::new("UPDATE questions SET updated_at = ");
    sql.bind(now);
    if let Some((code, group)) = code {
        sql.push(", code = ").bind(code);
        sql.push(", study_group = ").bind(group);
    }
    if let Some(title) = title {
        sql.push(", title = ").bind(title);
    }
    sql.push(" WHERE id = ").bind(id);
    sql.push(concat!(" RETURNING ", question_cols!()));
    sql.fetch_optional(c).await
}

pub async fn questions_by_ids(c: &mut Conn<'_>, ids: &[i64]) -> AppResult<Vec<QuestionRow>> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        question_cols!(),
        " FROM questions WHERE id IN "
    ));
    sql.bind_list(ids.iter().map(|i| Arg::I64(*i)));
    sql.fetch_all(c).await
}

pub async fn question_by_id(c: &mut Conn<'_>, id: i64) -> AppResult<Option<QuestionRow>> {
    Sql::new(concat!(
        "SELECT ",
        question_cols!(),
        " FROM questions WHERE id = $1"
    ))
    .arg(id)
    .fetch_optional(c)
    .await
}

pub async fn question_by_code(c: &mut Conn<'_>, code: &str) -> AppResult<Option<QuestionRow>> {
    Sql::new(concat!(
        "SELECT ",
        question_cols!(),
        " FROM questions WHERE code = $1"
    ))
    .arg(code)
    .fetch_optional(c)
    .await
}

pub async fn list_questions(c: &mut Conn<'_>, page: &Page) -> AppResult<(Vec<QuestionRow>, bool)> {
    let mut sql = Sql::new(concat!(
        "SELECT ",
        question_cols!(),
        " FROM questions WHERE 1 = 1"
    ));
    sql.page("id", page);
    Ok(finish_page(sql.fetch_all(c).await?, page))
}

pub async fn count_questions(c: &mut Conn<'_>) -> AppResult<i64> {
    Sql::new("SELECT COUNT(*) FROM questions")
        .fetch_i64(c)
        .await
}

/// Make `user_id` a rapporteur of `question_id`; `false` if already one.
pub async fn assign_rapporteur(
    c: &mut Conn<'_>,
    question_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let n = Sql::new(
        "INSERT INTO question_rapporteurs (question_id, user_id, assigned_at) VALUES ($1, $2, $3) \
         ON CONFLICT (question_id, user_id) DO NOTHING",
    )
    .arg(question_id)
    .arg(user_id)
    .arg(now)
    .execute(c)
    .await?;
    Ok(n > 0)
}

/// `false` if the user was not a rapporteur of the question.
pub async fn unassign_rapporteur(
    c: &mut Conn<'_>,
    question_id: i64,
    user_id: i64,
) -> AppResult<bool> {
    let n = Sql::new("DELETE FROM question_rapporteurs WHERE question_id = $1 AND user_id = $2")
        .arg(question_id)
        .arg(user_id)
        .execute(c)
        .await?;
    Ok(n > 0)
}

/// The questions each of `user_ids` is a rapporteur of: `(user_id, question_id)` pairs.
pub async fn rapporteur_questions(
    c: &mut Conn<'_>,
    user_ids: &[i64],
) -> AppResult<Vec<(i64, i64)>> {
    let mut sql =
        Sql::new("SELECT user_id, question_id FROM question_rapporteurs WHERE user_id IN ");
    sql.bind_list(user_ids.iter().map(|i| Arg::I64(*i)));
    sql.push(" ORDER BY question_id");
    sql.fetch_all(c).await
}

/// The rapporteurs of each of `question_ids`: `(question_id, user_id)` pairs.
pub async fn question_rapporteurs(
    c: &mut Conn<'_>,
    question_ids: &[i64],
) -> AppResult<Vec<(i64, i64)>> {
    let mut sql =
        Sql::new("SELECT question_id, user_id FROM question_rapporteurs WHERE question_id IN ");
    sql.bind_list(question_ids.iter().map(|i| Arg::I64(*i)));
    sql.push(" ORDER BY assigned_at, user_id");
    sql.fetch_all(c).await
}

/// How many accounts and organizations are not among these (the demo's).
pub async fn others_than(
    c: &mut Conn<'_>,
    email_keys: &[&str],
    orgs: &[&str],
) -> AppResult<(i64, i64)> {
    let mut sql = Sql::new("SELECT (SELECT COUNT(*) FROM users WHERE email_key NOT IN ");
    sql.bind_list(email_keys.iter().map(|e| Arg::from(*e)));
    sql.push("), (SELECT COUNT(*) FROM organizations WHERE short_name NOT IN ");
    sql.bind_list(orgs.iter().map(|o| Arg::from(*o)));
    sql.push(")");
    sql.fetch_one(c).await
}
