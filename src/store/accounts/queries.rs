//! Reads of accounts and projects, each statement once over [`DbConn`] with
//! [`with_conn!`].

use super::records::*;
use crate::store::conn::{all_rows, first_row, with_conn, DbConn};
use crate::store::error::ResultExt;
use crate::store::schema::{auth_tokens, knowledge_entries, project_members, projects, users};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use switchboard_actors::ports::StoreResult;

/// Stored names of the enums the queries filter on.
pub const STATUS_ACTIVE: &str = "active";
pub const STATUS_PENDING: &str = "pending";
pub const ROLE_AGENT: &str = "agent";

pub async fn count_users(conn: &mut DbConn) -> StoreResult<i64> {
    with_conn!(conn, |c| users::table
        .count()
        .get_result::<i64>(c)
        .await
        .store())
}

pub async fn user_by_email(conn: &mut DbConn, email: &str) -> StoreResult<Option<DbUser>> {
    first_row!(
        conn,
        users::table
            .filter(users::email.eq(email))
            .select(DbUser::as_select())
    )
}

pub async fn user_by_id(conn: &mut DbConn, id: &str) -> StoreResult<Option<DbUser>> {
    first_row!(conn, users::table.find(id).select(DbUser::as_select()))
}

pub async fn token(conn: &mut DbConn, hash: &str) -> StoreResult<Option<DbToken>> {
    first_row!(
        conn,
        auth_tokens::table.find(hash).select(DbToken::as_select())
    )
}

pub async fn project_ids(conn: &mut DbConn) -> StoreResult<Vec<String>> {
    with_conn!(conn, |c| projects::table
        .select(projects::id)
        .order((projects::created_at.asc(), projects::id.asc()))
        .load::<String>(c)
        .await
        .store())
}

pub async fn project(conn: &mut DbConn, id: &str) -> StoreResult<Option<DbProject>> {
    first_row!(
        conn,
        projects::table.find(id).select(DbProject::as_select())
    )
}

pub async fn project_by_public_key(conn: &mut DbConn, key: &str) -> StoreResult<Option<DbProject>> {
    first_row!(
        conn,
        projects::table
            .filter(projects::public_key.eq(key))
            .select(DbProject::as_select())
    )
}

pub async fn project_by_secret_hash(
    conn: &mut DbConn,
    hash: &str,
) -> StoreResult<Option<DbProject>> {
    first_row!(
        conn,
        projects::table
            .filter(projects::secret_key_hash.eq(hash))
            .select(DbProject::as_select())
    )
}

/// The projects where `user` is an active member, with the member's role.
pub async fn projects_of_user(
    conn: &mut DbConn,
    user: &str,
) -> StoreResult<Vec<(DbProject, String)>> {
    with_conn!(conn, |c| projects::table
        .inner_join(project_members::table.on(project_members::project_id.eq(projects::id)))
        .filter(project_members::user_id.eq(user))
        .filter(project_members::status.eq(STATUS_ACTIVE))
        .order((projects::created_at.asc(), projects::id.asc()))
        .select((DbProject::as_select(), project_members::role))
        .load::<(DbProject, String)>(c)
        .await
        .store())
}

/// The active membership of `user` in `project`.
pub async fn membership(
    conn: &mut DbConn,
    project: &str,
    user: &str,
) -> StoreResult<Option<DbMember>> {
    first_row!(
        conn,
        project_members::table
            .filter(project_members::project_id.eq(project))
            .filter(project_members::user_id.eq(user))
            .filter(project_members::status.eq(STATUS_ACTIVE))
            .select(DbMember::as_select())
    )
}

/// The pending invitation with this token hash.
pub async fn member_by_invite_hash(conn: &mut DbConn, hash: &str) -> StoreResult<Option<DbMember>> {
    first_row!(
        conn,
        project_members::table
            .filter(project_members::invite_token_hash.eq(hash))
            .filter(project_members::status.eq(STATUS_PENDING))
            .select(DbMember::as_select())
    )
}

/// Every membership row of the project (any status), oldest first.
pub async fn members(conn: &mut DbConn, project: &str) -> StoreResult<Vec<DbMember>> {
    all_rows!(
        conn,
        project_members::table
            .filter(project_members::project_id.eq(project))
            .order((project_members::created_at.asc(), project_members::id.asc()))
            .select(DbMember::as_select())
    )
}

pub async fn knowledge(conn: &mut DbConn, project: &str) -> StoreResult<Vec<DbKnowledge>> {
    all_rows!(
        conn,
        knowledge_entries::table
            .filter(knowledge_entries::project_id.eq(project))
            .order((
                knowledge_entries::created_at.asc(),
                knowledge_entries::id.asc()
            ))
            .select(DbKnowledge::as_select())
    )
}

/// The project's widget appearance (JSON text), None for no such project.
pub async fn widget_appearance(conn: &mut DbConn, project: &str) -> StoreResult<Option<String>> {
    with_conn!(conn, |c| projects::table
        .find(project)
        .select(projects::widget_appearance)
        .first::<String>(c)
        .await
        .optional()
        .store())
}
