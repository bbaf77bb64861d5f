//! Reads of customers and of their conversations' history.

use super::records::*;
use crate::store::conn::{all_rows, first_row, older_than, with_conn, DbConn};
use crate::store::conversations::queries::CONVERSATION_CLOSED;
use crate::store::error::ResultExt;
use crate::store::schema::{conversations, customers, messages};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use switchboard_actors::ports::StoreResult;

pub async fn customer(
    conn: &mut DbConn,
    project: &str,
    id: &str,
) -> StoreResult<Option<DbCustomer>> {
    first_row!(
        conn,
        customers::table
            .find(id)
            .filter(customers::project_id.eq(project))
            .select(DbCustomer::as_select())
    )
}

pub async fn customer_by_visitor(
    conn: &mut DbConn,
    project: &str,
    visitor: &str,
) -> StoreResult<Option<DbCustomer>> {
    first_row!(
        conn,
        customers::table
            .filter(customers::project_id.eq(project))
            .filter(customers::visitor_id.eq(visitor))
            .select(DbCustomer::as_select())
    )
}

/// Customers whose merged visitor ids (a JSON array in text) may contain
/// `pattern`, a LIKE pattern with `\` as escape. Candidates only: the
/// caller decodes the array to confirm.
pub async fn customers_merged_like(
    conn: &mut DbConn,
    project: &str,
    pattern: &str,
) -> StoreResult<Vec<DbCustomer>> {
    all_rows!(
        conn,
        customers::table
            .filter(customers::project_id.eq(project))
            .filter(customers::merged_visitor_ids.like(pattern).escape('\\'))
            .order((customers::created_at.asc(), customers::id.asc()))
            .select(DbCustomer::as_select())
    )
}

pub(crate) async fn customer_by_email(
    conn: &mut DbConn,
    project: &str,
    email: &str,
) -> StoreResult<Option<DbCustomer>> {
    first_row!(
        conn,
        customers::table
            .filter(customers::project_id.eq(project))
            .filter(customers::email.eq(email))
            .select(DbCustomer::as_select())
    )
}

/// The customer's conversations that are not closed, oldest first.
pub(crate) async fn open_conversations(
    conn: &mut DbConn,
    customer: &str,
) -> StoreResult<Vec<String>> {
    all_rows!(
        conn,
        conversations::table
            .filter(conversations::customer_id.eq(customer))
            .filter(conversations::status.ne(CONVERSATION_CLOSED))
            .order((conversations::created_at.asc(), conversations::id.asc()))
            .select(conversations::id)
    )
}

pub(crate) async fn history_page(
    conn: &mut DbConn,
    customer: &str,
    cursor: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<HistoryRow>> {
    with_conn!(conn, |c| {
        let mut query = conversations::table
            .filter(conversations::customer_id.eq(customer))
            .order((conversations::created_at.desc(), conversations::id.desc()))
            .limit(limit)
            .select((
                conversations::id,
                conversations::status,
                (
                    conversations::created_at,
                    conversations::last_message_at,
                    conversations::resolved_at,
                    conversations::closed_at,
                ),
                conversations::satisfaction_rating,
                conversations::customer_email,
                conversations::customer_email_verified,
            ))
            .into_boxed();
        if let Some((at, id)) = &cursor {
            query = query.filter(older_than!(
                conversations::created_at,
                conversations::id,
                at,
                id
            ));
        }
        query.load::<HistoryRow>(c).await.store()
    })
}

/// `(conversation id, content)` of the first customer message of each of
/// `ids` that has one. Two statements whatever the page size: the lowest
/// customer seq per conversation, then those messages (a seq may match in
/// several conversations; the pairs are checked here).
pub(crate) async fn first_customer_messages(
    conn: &mut DbConn,
    ids: &[String],
) -> StoreResult<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let firsts: Vec<(String, Option<i64>)> = all_rows!(
        conn,
        messages::table
            .filter(messages::conversation_id.eq_any(ids))
            .filter(messages::sender_type.eq("customer"))
            .filter(messages::internal.eq(false))
            .group_by(messages::conversation_id)
            .select((messages::conversation_id, diesel::dsl::min(messages::seq)))
    )?;
    let firsts: Vec<(String, i64)> = firsts
        .into_iter()
        .filter_map(|(id, seq)| seq.map(|s| (id, s)))
        .collect();
    if firsts.is_empty() {
        return Ok(Vec::new());
    }
    let with_ids: Vec<&String> = firsts.iter().map(|(id, _)| id).collect();
    let seqs: Vec<i64> = firsts.iter().map(|(_, s)| *s).collect();
    let rows: Vec<(String, i64, String)> = all_rows!(
        conn,
        messages::table
            .filter(messages::conversation_id.eq_any(&with_ids))
            .filter(messages::seq.eq_any(&seqs))
            .select((messages::conversation_id, messages::seq, messages::content))
    )?;
    Ok(rows
        .into_iter()
        .filter(|(id, seq, _)| firsts.contains(&(id.clone(), *seq)))
        .map(|(id, _, content)| (id, content))
        .collect())
}
