//! Writes of customers: inserting and updating a customer, and the steps of
//! a merge (moving conversations and tokens, deleting the merged row).

use super::records::*;
use crate::store::conn::{all_rows, statement_fn, with_conn, DbConn};
use crate::store::conversations::queries::CONVERSATION_CLOSED;
use crate::store::error::ResultExt;
use crate::store::schema::{auth_tokens, conversations, customers};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use switchboard_actors::ports::StoreResult;

statement_fn!(pub fn insert_customer(DbCustomer) inserts into customers);

/// Replaces every column of the customer's row but its id.
pub async fn update_customer(conn: &mut DbConn, row: &DbCustomer) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::update(customers::table.find(&row.id))
        .set(row)
        .execute(c)
        .await
        .store()
        .map(drop))
}

/// Moves every conversation of `from` to `to`; returns their ids, oldest
/// first.
pub(crate) async fn move_conversations(
    conn: &mut DbConn,
    from: &str,
    to: &str,
) -> StoreResult<Vec<String>> {
    let ids: Vec<String> = all_rows!(
        conn,
        conversations::table
            .filter(conversations::customer_id.eq(from))
            .order((conversations::created_at.asc(), conversations::id.asc()))
            .select(conversations::id)
    )?;
    with_conn!(conn, |c| diesel::update(
        conversations::table.filter(conversations::customer_id.eq(from))
    )
    .set(conversations::customer_id.eq(to))
    .execute(c)
    .await
    .store())?;
    Ok(ids)
}

/// Customer tokens remember the customer they were issued for; after a
/// merge they point at the survivor.
pub(crate) async fn retarget_tokens(conn: &mut DbConn, from: &str, to: &str) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::update(
        auth_tokens::table.filter(auth_tokens::customer_id.eq(from))
    )
    .set(auth_tokens::customer_id.eq(to))
    .execute(c)
    .await
    .store()
    .map(drop))
}

pub(crate) async fn delete_customer(conn: &mut DbConn, id: &str) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::delete(customers::table.find(id))
        .execute(c)
        .await
        .store()
        .map(drop))
}

/// Writes the customer's email (and name, when known) into its closed
/// conversations.
pub(crate) async fn name_closed_conversations(
    conn: &mut DbConn,
    row: &DbCustomer,
) -> StoreResult<()> {
    let closed = || {
        conversations::table
            .filter(conversations::customer_id.eq(&row.id))
            .filter(conversations::status.eq(CONVERSATION_CLOSED))
    };
    let email = (
        conversations::customer_email.eq(&row.email),
        conversations::customer_email_verified.eq(row.email_verified),
    );
    match &row.name {
        Some(name) => with_conn!(conn, |c| diesel::update(closed())
            .set((email, conversations::customer_name.eq(name)))
            .execute(c)
            .await
            .store()
            .map(drop)),
        None => with_conn!(conn, |c| diesel::update(closed())
            .set(email)
            .execute(c)
            .await
            .store()
            .map(drop)),
    }
}
