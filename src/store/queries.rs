//! Query functions: every statement the store runs, each written once over
//! [`DbConn`] with [`with_conn!`]. They take and return database rows
//! (`rows.rs`) and run the same alone on a pooled connection or inside a
//! transaction. Upserts (`ON CONFLICT ... DO UPDATE`) are gathered at the
//! end of the file: diesel writes them the same for SQLite and PostgreSQL,
//! so they too are one copy. Where the backends do differ, the fork is in
//! `conn.rs`.

use super::batch::{upsert_agent, upsert_settings};
use super::conn::{with_conn, DbConn};
use super::error::ResultExt;
use super::rows::{
    AgentJoin, DbAgent, DbConversation, DbCustomer, DbKnowledge, DbMember, DbMessage, DbProject,
    DbSettings, DbToken, DbUser,
};
use super::schema::{
    agent_availability, auth_tokens, conversations, customers, handoff_settings, knowledge_entries,
    messages, project_members, projects, users,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use switchboard_actors::ports::StoreResult;

/// Stored names of the enums the queries filter on.
pub const STATUS_ACTIVE: &str = "active";
pub const STATUS_PENDING: &str = "pending";
pub const ROLE_AGENT: &str = "agent";
pub const CONVERSATION_CLOSED: &str = "closed";

// ---------------------------------------------------------------- users

pub async fn count_users(conn: &mut DbConn) -> StoreResult<i64> {
    with_conn!(conn, |c| users::table
        .count()
        .get_result::<i64>(c)
        .await
        .store())
}

pub async fn insert_user(conn: &mut DbConn, row: &DbUser) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::insert_into(users::table)
        .values(row)
        .execute(c)
        .await
        .store()
        .map(drop))
}

pub async fn user_by_email(conn: &mut DbConn, email: &str) -> StoreResult<Option<DbUser>> {
    with_conn!(conn, |c| users::table
        .filter(users::email.eq(email))
        .select(DbUser::as_select())
        .first(c)
        .await
        .optional()
        .store())
}

pub async fn user_by_id(conn: &mut DbConn, id: &str) -> StoreResult<Option<DbUser>> {
    with_conn!(conn, |c| users::table
        .find(id)
        .select(DbUser::as_select())
        .first(c)
        .await
        .optional()
        .store())
}

// ---------------------------------------------------------------- tokens

pub async fn insert_token(conn: &mut DbConn, row: &DbToken) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::insert_into(auth_tokens::table)
        .values(row)
        .execute(c)
        .await
        .store()
        .map(drop))
}

pub async fn token(conn: &mut DbConn, hash: &str) -> StoreResult<Option<DbToken>> {
    with_conn!(conn, |c| auth_tokens::table
        .find(hash)
        .select(DbToken::as_select())
        .first(c)
        .await
        .optional()
        .store())
}

pub async fn delete_token(conn: &mut DbConn, hash: &str) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::delete(auth_tokens::table.find(hash))
        .execute(c)
        .await
        .store()
        .map(drop))
}

// ---------------------------------------------------------------- projects

pub async fn insert_project(conn: &mut DbConn, row: &DbProject) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::insert_into(projects::table)
        .values(row)
        .execute(c)
        .await
        .store()
        .map(drop))
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
    with_conn!(conn, |c| projects::table
        .find(id)
        .select(DbProject::as_select())
        .first(c)
        .await
        .optional()
        .store())
}

pub async fn project_by_public_key(conn: &mut DbConn, key: &str) -> StoreResult<Option<DbProject>> {
    with_conn!(conn, |c| projects::table
        .filter(projects::public_key.eq(key))
        .select(DbProject::as_select())
        .first(c)
        .await
        .optional()
        .store())
}

pub async fn project_by_secret_hash(
    conn: &mut DbConn,
    hash: &str,
) -> StoreResult<Option<DbProject>> {
    with_conn!(conn, |c| projects::table
        .filter(projects::secret_key_hash.eq(hash))
        .select(DbProject::as_select())
        .first(c)
        .await
        .optional()
        .store())
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

// ---------------------------------------------------------------- settings

pub async fn settings(conn: &mut DbConn, project: &str) -> StoreResult<Option<DbSettings>> {
    with_conn!(conn, |c| handoff_settings::table
        .filter(handoff_settings::project_id.eq(project))
        .select(DbSettings::as_select())
        .first(c)
        .await
        .optional()
        .store())
}

// ---------------------------------------------------------------- members

pub async fn insert_member(conn: &mut DbConn, row: &DbMember) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::insert_into(project_members::table)
        .values(row)
        .execute(c)
        .await
        .store()
        .map(drop))
}

/// The active membership of `user` in `project`.
pub async fn membership(
    conn: &mut DbConn,
    project: &str,
    user: &str,
) -> StoreResult<Option<DbMember>> {
    with_conn!(conn, |c| project_members::table
        .filter(project_members::project_id.eq(project))
        .filter(project_members::user_id.eq(user))
        .filter(project_members::status.eq(STATUS_ACTIVE))
        .select(DbMember::as_select())
        .first(c)
        .await
        .optional()
        .store())
}

/// The pending invitation with this token hash.
pub async fn member_by_invite_hash(conn: &mut DbConn, hash: &str) -> StoreResult<Option<DbMember>> {
    with_conn!(conn, |c| project_members::table
        .filter(project_members::invite_token_hash.eq(hash))
        .filter(project_members::status.eq(STATUS_PENDING))
        .select(DbMember::as_select())
        .first(c)
        .await
        .optional()
        .store())
}

/// Every membership row of the project (any status), oldest first.
pub async fn members(conn: &mut DbConn, project: &str) -> StoreResult<Vec<DbMember>> {
    with_conn!(conn, |c| project_members::table
        .filter(project_members::project_id.eq(project))
        .order((project_members::created_at.asc(), project_members::id.asc()))
        .select(DbMember::as_select())
        .load(c)
        .await
        .store())
}

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

/// Active members with role agent, their user, and their ledger row if any.
pub async fn agents(conn: &mut DbConn, project: &str) -> StoreResult<Vec<AgentJoin>> {
    with_conn!(conn, |c| project_members::table
        .inner_join(users::table.on(project_members::user_id.eq(users::id.nullable())))
        .left_join(
            agent_availability::table.on(agent_availability::user_id
                .eq(users::id)
                .and(agent_availability::project_id.eq(project_members::project_id))),
        )
        .filter(project_members::project_id.eq(project))
        .filter(project_members::role.eq(ROLE_AGENT))
        .filter(project_members::status.eq(STATUS_ACTIVE))
        .order((project_members::created_at.asc(), project_members::id.asc()))
        .select((
            DbMember::as_select(),
            DbUser::as_select(),
            Option::<DbAgent>::as_select(),
        ))
        .load::<AgentJoin>(c)
        .await
        .store())
}

// ---------------------------------------------------------------- knowledge

pub async fn knowledge(conn: &mut DbConn, project: &str) -> StoreResult<Vec<DbKnowledge>> {
    with_conn!(conn, |c| knowledge_entries::table
        .filter(knowledge_entries::project_id.eq(project))
        .order((
            knowledge_entries::created_at.asc(),
            knowledge_entries::id.asc()
        ))
        .select(DbKnowledge::as_select())
        .load(c)
        .await
        .store())
}

pub async fn insert_knowledge(conn: &mut DbConn, row: &DbKnowledge) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::insert_into(knowledge_entries::table)
        .values(row)
        .execute(c)
        .await
        .store()
        .map(drop))
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

// ---------------------------------------------------------------- customers

pub async fn customer(
    conn: &mut DbConn,
    project: &str,
    id: &str,
) -> StoreResult<Option<DbCustomer>> {
    with_conn!(conn, |c| customers::table
        .find(id)
        .filter(customers::project_id.eq(project))
        .select(DbCustomer::as_select())
        .first(c)
        .await
        .optional()
        .store())
}

pub async fn customer_by_visitor(
    conn: &mut DbConn,
    project: &str,
    visitor: &str,
) -> StoreResult<Option<DbCustomer>> {
    with_conn!(conn, |c| customers::table
        .filter(customers::project_id.eq(project))
        .filter(customers::visitor_id.eq(visitor))
        .select(DbCustomer::as_select())
        .first(c)
        .await
        .optional()
        .store())
}

/// Customers whose merged visitor ids (a JSON array in text) may contain
/// `pattern`, a LIKE pattern with `\` as escape. Candidates only: the
/// caller decodes the array to confirm.
pub async fn customers_merged_like(
    conn: &mut DbConn,
    project: &str,
    pattern: &str,
) -> StoreResult<Vec<DbCustomer>> {
    with_conn!(conn, |c| customers::table
        .filter(customers::project_id.eq(project))
        .filter(customers::merged_visitor_ids.like(pattern).escape('\\'))
        .order((customers::created_at.asc(), customers::id.asc()))
        .select(DbCustomer::as_select())
        .load(c)
        .await
        .store())
}

pub async fn insert_customer(conn: &mut DbConn, row: &DbCustomer) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::insert_into(customers::table)
        .values(row)
        .execute(c)
        .await
        .store()
        .map(drop))
}

/// Replaces every column of the customer's row but its id.
pub async fn update_customer(conn: &mut DbConn, row: &DbCustomer) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::update(customers::table.find(&row.id))
        .set(row)
        .execute(c)
        .await
        .store()
        .map(drop))
}

// ---------------------------------------------------------------- conversations

pub async fn conversation(conn: &mut DbConn, id: &str) -> StoreResult<Option<DbConversation>> {
    with_conn!(conn, |c| conversations::table
        .find(id)
        .select(DbConversation::as_select())
        .first(c)
        .await
        .optional()
        .store())
}

/// Every conversation of the project that is not closed, oldest first.
/// Rates a closed conversation unless it was rated before; the number of
/// rows changed (0 or 1).
pub async fn rate_closed_conversation(
    conn: &mut DbConn,
    id: &str,
    rating: i32,
    feedback: Option<&str>,
) -> StoreResult<usize> {
    with_conn!(conn, |c| diesel::update(
        conversations::table
            .find(id)
            .filter(conversations::status.eq("closed"))
            .filter(conversations::satisfaction_rating.is_null()),
    )
    .set((
        conversations::satisfaction_rating.eq(rating),
        conversations::satisfaction_feedback.eq(feedback),
    ))
    .execute(c)
    .await
    .store())
}

pub async fn live_conversations(
    conn: &mut DbConn,
    project: &str,
) -> StoreResult<Vec<DbConversation>> {
    with_conn!(conn, |c| conversations::table
        .filter(conversations::project_id.eq(project))
        .filter(conversations::status.ne(CONVERSATION_CLOSED))
        .order((conversations::created_at.asc(), conversations::id.asc()))
        .select(DbConversation::as_select())
        .load(c)
        .await
        .store())
}

/// The list query in stored form (see `ConversationFilter`).
pub struct ListQuery {
    pub project_ids: Vec<String>,
    pub status: Option<String>,
    pub assigned_to: Option<String>,
    pub customer_id: Option<String>,
    pub cursor: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// Newest `last_message_at` first, ties by id descending; keyset
/// pagination strictly after `cursor`.
pub async fn list_conversations(
    conn: &mut DbConn,
    q: &ListQuery,
) -> StoreResult<Vec<DbConversation>> {
    with_conn!(conn, |c| {
        let mut query = conversations::table
            .filter(conversations::project_id.eq_any(&q.project_ids))
            .select(DbConversation::as_select())
            .order((
                conversations::last_message_at.desc(),
                conversations::id.desc(),
            ))
            .limit(q.limit)
            .into_boxed();
        if let Some(status) = &q.status {
            query = query.filter(conversations::status.eq(status));
        }
        if let Some(agent) = &q.assigned_to {
            query = query.filter(conversations::assigned_agent_id.eq(agent));
        }
        if let Some(customer) = &q.customer_id {
            query = query.filter(conversations::customer_id.eq(customer));
        }
        if let Some((at, id)) = &q.cursor {
            query = query.filter(
                conversations::last_message_at
                    .lt(*at)
                    .or(conversations::last_message_at
                        .eq(*at)
                        .and(conversations::id.lt(id))),
            );
        }
        query.load(c).await.store()
    })
}

/// `(claimed_at, resolved_at)` of the project's conversations resolved at
/// or after `since` that had been claimed.
pub async fn handling_times(
    conn: &mut DbConn,
    project: &str,
    since: NaiveDateTime,
) -> StoreResult<Vec<(Option<NaiveDateTime>, Option<NaiveDateTime>)>> {
    with_conn!(conn, |c| conversations::table
        .filter(conversations::project_id.eq(project))
        .filter(conversations::resolved_at.ge(since))
        .filter(conversations::claimed_at.is_not_null())
        .select((conversations::claimed_at, conversations::resolved_at))
        .load(c)
        .await
        .store())
}

// ---------------------------------------------------------------- messages

/// Messages with seq > `after`, ascending, at most `limit`.
pub async fn messages_after(
    conn: &mut DbConn,
    conversation: &str,
    after: i64,
    limit: i64,
) -> StoreResult<Vec<DbMessage>> {
    with_conn!(conn, |c| messages::table
        .filter(messages::conversation_id.eq(conversation))
        .filter(messages::seq.gt(after))
        .order(messages::seq.asc())
        .limit(limit)
        .select(DbMessage::as_select())
        .load(c)
        .await
        .store())
}

/// The newest `limit` messages, newest first.
pub async fn messages_newest(
    conn: &mut DbConn,
    conversation: &str,
    limit: i64,
) -> StoreResult<Vec<DbMessage>> {
    with_conn!(conn, |c| messages::table
        .filter(messages::conversation_id.eq(conversation))
        .order(messages::seq.desc())
        .limit(limit)
        .select(DbMessage::as_select())
        .load(c)
        .await
        .store())
}

pub async fn max_seq(conn: &mut DbConn, conversation: &str) -> StoreResult<Option<i64>> {
    with_conn!(conn, |c| messages::table
        .filter(messages::conversation_id.eq(conversation))
        .select(diesel::dsl::max(messages::seq))
        .get_result::<Option<i64>>(c)
        .await
        .store())
}

/// Every (client_msg_id, seq) of a conversation's messages that has one.
pub async fn message_client_ids(
    conn: &mut DbConn,
    conversation: &str,
) -> StoreResult<Vec<(Option<String>, i64)>> {
    with_conn!(conn, |c| messages::table
        .filter(messages::conversation_id.eq(conversation))
        .filter(messages::client_msg_id.is_not_null())
        .select((messages::client_msg_id, messages::seq))
        .load(c)
        .await
        .store())
}

/// How many of a conversation's messages have the given sender type.
pub async fn count_messages_by_sender(
    conn: &mut DbConn,
    conversation: &str,
    sender_type: &str,
) -> StoreResult<i64> {
    with_conn!(conn, |c| messages::table
        .filter(messages::conversation_id.eq(conversation))
        .filter(messages::sender_type.eq(sender_type))
        .count()
        .get_result(c)
        .await
        .store())
}

pub async fn message_by_client_id(
    conn: &mut DbConn,
    conversation: &str,
    client_msg_id: &str,
) -> StoreResult<Option<DbMessage>> {
    with_conn!(conn, |c| messages::table
        .filter(messages::conversation_id.eq(conversation))
        .filter(messages::client_msg_id.eq(client_msg_id))
        .select(DbMessage::as_select())
        .first(c)
        .await
        .optional()
        .store())
}

// ---------------------------------------------------------------- upserts
//
// `ON CONFLICT (...) DO UPDATE SET ...` is spelled the same on SQLite and
// PostgreSQL through diesel (the store tests run them on both); should a
// backend ever need different SQL, these are the functions that grow a
// second arm.

/// Inserts the project's settings row or replaces its settings.
pub async fn upsert_settings(conn: &mut DbConn, row: &DbSettings) -> StoreResult<()> {
    with_conn!(conn, |c| upsert_settings!(row)
        .execute(c)
        .await
        .store()
        .map(drop))
}

/// Inserts the agent's ledger row or replaces it (keeping `created_at`).
pub async fn upsert_agent(conn: &mut DbConn, row: &DbAgent) -> StoreResult<()> {
    with_conn!(conn, |c| upsert_agent!(row)
        .execute(c)
        .await
        .store()
        .map(drop))
}
