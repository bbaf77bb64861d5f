//! Writes of accounts and projects, each statement once over [`DbConn`].

use super::queries::*;
use super::records::*;
use crate::store::conn::{statement_fn, with_conn, DbConn};
use crate::store::error::ResultExt;
use crate::store::schema::{auth_tokens, knowledge_entries, project_members, projects, users};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use switchboard_actors::ports::StoreResult;

statement_fn!(pub fn insert_user(DbUser) inserts into users);

/// One UPDATE of a project's row by id, setting the given columns and
/// `updated_at`; how many rows changed (0: no such project).
macro_rules! update_project {
    ($conn:expr, $id:expr, $at:expr, $($set:expr),+ $(,)?) => {
        with_conn!($conn, |c| diesel::update(projects::table.find($id))
            .set(($($set,)+ projects::updated_at.eq($at)))
            .execute(c)
            .await
            .store())
    };
}

statement_fn!(pub fn insert_token(DbToken) inserts into auth_tokens);

pub async fn delete_token(conn: &mut DbConn, hash: &str) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::delete(auth_tokens::table.find(hash))
        .execute(c)
        .await
        .store()
        .map(drop))
}

/// Changes a user's name and avatar; returns how many rows changed.
pub async fn set_profile(
    conn: &mut DbConn,
    user: &str,
    name: &str,
    avatar_url: Option<&str>,
    at: NaiveDateTime,
) -> StoreResult<usize> {
    with_conn!(conn, |c| diesel::update(users::table.find(user))
        .set((
            users::name.eq(name),
            users::avatar_url.eq(avatar_url),
            users::updated_at.eq(at),
        ))
        .execute(c)
        .await
        .store())
}

/// Replaces a user's password hash and ends every staff token of theirs
/// but `keep` (the session that changed it), in one transaction.
pub async fn set_password(
    conn: &mut DbConn,
    user: &str,
    hash: &str,
    keep: &str,
    at: NaiveDateTime,
) -> StoreResult<usize> {
    let (user, hash, keep) = (user.to_string(), hash.to_string(), keep.to_string());
    conn.transaction(async move |conn| {
        let n = with_conn!(conn, |c| diesel::update(users::table.find(&user))
            .set((users::password_hash.eq(&hash), users::updated_at.eq(at)))
            .execute(c)
            .await
            .store())?;
        with_conn!(conn, |c| diesel::delete(
            auth_tokens::table
                .filter(auth_tokens::user_id.eq(&user))
                .filter(auth_tokens::token_hash.ne(&keep))
        )
        .execute(c)
        .await
        .store())?;
        Ok(n)
    })
    .await
}

statement_fn!(pub fn insert_project(DbProject) inserts into projects);

statement_fn!(pub fn insert_member(DbMember) inserts into project_members);

/// Turns a pending invitation into an active membership of `user`. Returns
/// how many rows changed (0: no such pending invitation).
pub async fn activate_member(
    conn: &mut DbConn,
    member: &str,
    user: &str,
    at: NaiveDateTime,
) -> StoreResult<usize> {
    with_conn!(conn, |c| diesel::update(
        project_members::table
            .find(member)
            .filter(project_members::status.eq(STATUS_PENDING))
    )
    .set((
        project_members::status.eq(STATUS_ACTIVE),
        project_members::user_id.eq(Some(user)),
        project_members::accepted_at.eq(Some(at)),
        project_members::invite_token_hash.eq(None::<String>),
        project_members::updated_at.eq(at),
    ))
    .execute(c)
    .await
    .store())
}

/// Gives a pending invitation a new token and a new start of its time;
/// returns how many rows changed (0: not a pending invitation there).
pub async fn renew_invitation(
    conn: &mut DbConn,
    project: &str,
    member: &str,
    token_hash: &str,
    at: NaiveDateTime,
) -> StoreResult<usize> {
    with_conn!(conn, |c| diesel::update(
        project_members::table
            .find(member)
            .filter(project_members::project_id.eq(project))
            .filter(project_members::status.eq(STATUS_PENDING))
    )
    .set((
        project_members::invite_token_hash.eq(Some(token_hash)),
        project_members::invited_at.eq(at),
        project_members::updated_at.eq(at),
    ))
    .execute(c)
    .await
    .store())
}

/// Sets an active member's role; returns how many rows changed.
pub async fn set_member_role(
    conn: &mut DbConn,
    project: &str,
    member: &str,
    role: &str,
    at: NaiveDateTime,
) -> StoreResult<usize> {
    with_conn!(conn, |c| diesel::update(
        project_members::table
            .find(member)
            .filter(project_members::project_id.eq(project))
            .filter(project_members::status.eq(STATUS_ACTIVE))
    )
    .set((
        project_members::role.eq(role),
        project_members::updated_at.eq(at),
    ))
    .execute(c)
    .await
    .store())
}

/// Sets the member's chat limit; returns how many rows changed.
pub async fn set_member_max(
    conn: &mut DbConn,
    project: &str,
    user: &str,
    max: i32,
    at: NaiveDateTime,
) -> StoreResult<usize> {
    with_conn!(conn, |c| diesel::update(
        project_members::table
            .filter(project_members::project_id.eq(project))
            .filter(project_members::user_id.eq(user))
    )
    .set((
        project_members::max_concurrent_chats.eq(max),
        project_members::updated_at.eq(at),
    ))
    .execute(c)
    .await
    .store())
}

statement_fn!(pub fn insert_knowledge(DbKnowledge) inserts into knowledge_entries);

/// Changes a project's name; returns how many rows changed (0: no such project).
pub async fn rename_project(
    conn: &mut DbConn,
    id: &str,
    name: &str,
    at: NaiveDateTime,
) -> StoreResult<usize> {
    update_project!(conn, id, at, projects::name.eq(name))
}

/// Replaces a project's public key; returns how many rows changed.
pub async fn set_public_key(
    conn: &mut DbConn,
    id: &str,
    key: &str,
    at: NaiveDateTime,
) -> StoreResult<usize> {
    update_project!(conn, id, at, projects::public_key.eq(key))
}

/// Replaces the hash of a project's secret key; returns how many rows changed.
pub async fn set_secret_key_hash(
    conn: &mut DbConn,
    id: &str,
    hash: &str,
    at: NaiveDateTime,
) -> StoreResult<usize> {
    update_project!(conn, id, at, projects::secret_key_hash.eq(hash))
}

/// Replaces a project's widget appearance and allowed origins (both JSON
/// text); returns how many rows changed.
pub async fn set_widget(
    conn: &mut DbConn,
    id: &str,
    appearance: &str,
    origins: &str,
    at: NaiveDateTime,
) -> StoreResult<usize> {
    update_project!(
        conn,
        id,
        at,
        projects::widget_appearance.eq(appearance),
        projects::allowed_origins.eq(origins)
    )
}

/// Changes an entry's question and answer; returns how many rows changed
/// (0: no such entry in that project).
pub async fn update_knowledge(
    conn: &mut DbConn,
    project: &str,
    id: &str,
    question: &str,
    answer: &str,
) -> StoreResult<usize> {
    with_conn!(conn, |c| diesel::update(
        knowledge_entries::table
            .find(id)
            .filter(knowledge_entries::project_id.eq(project))
    )
    .set((
        knowledge_entries::question.eq(question),
        knowledge_entries::answer.eq(answer),
    ))
    .execute(c)
    .await
    .store())
}

/// Returns how many rows went (0 or 1).
pub async fn delete_knowledge(conn: &mut DbConn, project: &str, id: &str) -> StoreResult<usize> {
    with_conn!(conn, |c| diesel::delete(
        knowledge_entries::table
            .find(id)
            .filter(knowledge_entries::project_id.eq(project))
    )
    .execute(c)
    .await
    .store())
}
