//! Live chat's reads, each statement once over [`DbConn`] with
//! [`with_conn!`]: conversations, messages, agents and settings.

use super::records::*;
use crate::store::accounts::queries::{ROLE_AGENT, STATUS_ACTIVE};
use crate::store::accounts::records::{DbMember, DbUser};
use crate::store::conn::{all_rows, first_row, older_than, with_conn, DbConn};
use crate::store::error::ResultExt;
use crate::store::schema::{
    agent_availability, conversations, handoff_settings, messages, project_members, users,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use switchboard_actors::ports::StoreResult;

pub const CONVERSATION_CLOSED: &str = "closed";

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>);

/// How many conversations a text search takes from the message index
/// (per project), before the list's own filters and order.
pub const SEARCH_MATCH_LIMIT: i64 = 1_000;

#[derive(QueryableByName)]
struct MatchedId {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

/// The words of a search, as both indexes tokenize them: runs of letters
/// and digits, lower case; at most 8.
pub fn search_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .take(8)
        .collect()
}

/// Ids of the project's conversations with a message holding a word that
/// starts with `word` (at most [`SEARCH_MATCH_LIMIT`]), from the search
/// index: FTS5 on SQLite, the GIN index of `to_tsvector('simple',
/// content)` on PostgreSQL (migration 000019). `word` comes from
/// [`search_words`], so it holds no syntax of either query language.
pub async fn conversations_with_word(
    conn: &mut DbConn,
    project: &str,
    word: &str,
) -> StoreResult<Vec<String>> {
    let (sql, query) = match conn {
        DbConn::Sqlite(_) => (
            "SELECT DISTINCT messages_fts.conversation_id AS id FROM messages_fts \
             JOIN conversations c ON c.id = messages_fts.conversation_id \
             WHERE messages_fts MATCH ? AND c.project_id = ? LIMIT ?",
            format!("content : \"{word}\"*"),
        ),
        DbConn::Pg(_) => (
            "SELECT DISTINCT m.conversation_id AS id FROM messages m \
             JOIN conversations c ON c.id = m.conversation_id \
             WHERE to_tsvector('simple', m.content) @@ to_tsquery('simple', ?) \
             AND c.project_id = ? LIMIT ?",
            format!("{word}:*"),
        ),
    };
    let sql = conn.placeholders(sql).into_owned();
    let rows: Vec<MatchedId> = with_conn!(conn, |c| diesel::sql_query(&sql)
        .bind::<diesel::sql_types::Text, _>(&query)
        .bind::<diesel::sql_types::Text, _>(project)
        .bind::<diesel::sql_types::BigInt, _>(SEARCH_MATCH_LIMIT)
        .load(c)
        .await
        .store())?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// `text` as a LIKE pattern for "contains", its wildcards escaped with `\`.
pub fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub async fn settings(conn: &mut DbConn, project: &str) -> StoreResult<Option<DbSettings>> {
    first_row!(
        conn,
        handoff_settings::table
            .filter(handoff_settings::project_id.eq(project))
            .select(DbSettings::as_select())
    )
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

pub async fn conversation(conn: &mut DbConn, id: &str) -> StoreResult<Option<DbConversation>> {
    first_row!(
        conn,
        conversations::table
            .find(id)
            .select(DbConversation::as_select())
    )
}

pub async fn live_conversations(
    conn: &mut DbConn,
    project: &str,
) -> StoreResult<Vec<DbConversation>> {
    all_rows!(
        conn,
        conversations::table
            .filter(conversations::project_id.eq(project))
            .filter(conversations::status.ne(CONVERSATION_CLOSED))
            .order((conversations::created_at.asc(), conversations::id.asc()))
            .select(DbConversation::as_select())
    )
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
        if let Some((ids, like)) = &q.matching {
            query = query.filter(
                conversations::id
                    .eq_any(ids)
                    .or(lower(conversations::customer_name)
                        .like(like)
                        .escape('\\')
                        .assume_not_null())
                    .or(lower(conversations::customer_email)
                        .like(like)
                        .escape('\\')
                        .assume_not_null()),
            );
        }
        if let Some(tag) = &q.tag_like {
            query = query.filter(conversations::tags.like(tag).escape('\\'));
        }
        if let Some((at, id)) = &q.cursor {
            query = query.filter(older_than!(
                conversations::last_message_at,
                conversations::id,
                at,
                id
            ));
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
    all_rows!(
        conn,
        conversations::table
            .filter(conversations::project_id.eq(project))
            .filter(conversations::resolved_at.ge(since))
            .filter(conversations::claimed_at.is_not_null())
            .select((conversations::claimed_at, conversations::resolved_at))
    )
}

/// Messages with seq > `after`, ascending, at most `limit`.
pub async fn messages_after(
    conn: &mut DbConn,
    conversation: &str,
    after: i64,
    limit: i64,
) -> StoreResult<Vec<DbMessage>> {
    all_rows!(
        conn,
        messages::table
            .filter(messages::conversation_id.eq(conversation))
            .filter(messages::seq.gt(after))
            .order(messages::seq.asc())
            .limit(limit)
            .select(DbMessage::as_select())
    )
}

/// The newest `limit` messages, newest first.
pub async fn messages_newest(
    conn: &mut DbConn,
    conversation: &str,
    limit: i64,
) -> StoreResult<Vec<DbMessage>> {
    all_rows!(
        conn,
        messages::table
            .filter(messages::conversation_id.eq(conversation))
            .order(messages::seq.desc())
            .limit(limit)
            .select(DbMessage::as_select())
    )
}

/// The newest message someone wrote that the customer also sees (no
/// internal note, no system line).
pub async fn last_public_message(
    conn: &mut DbConn,
    conversation: &str,
) -> StoreResult<Option<DbMessage>> {
    first_row!(
        conn,
        messages::table
            .filter(messages::conversation_id.eq(conversation))
            .filter(messages::internal.eq(false))
            .filter(messages::sender_type.ne("system"))
            .order(messages::seq.desc())
            .select(DbMessage::as_select())
    )
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
    all_rows!(
        conn,
        messages::table
            .filter(messages::conversation_id.eq(conversation))
            .filter(messages::client_msg_id.is_not_null())
            .select((messages::client_msg_id, messages::seq))
    )
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
    first_row!(
        conn,
        messages::table
            .filter(messages::conversation_id.eq(conversation))
            .filter(messages::client_msg_id.eq(client_msg_id))
            .select(DbMessage::as_select())
    )
}
