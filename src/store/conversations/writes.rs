//! Live chat's writes outside the group commit (`batch.rs` applies the
//! engine's ops): rating a closed conversation, and the settings and agent
//! upserts, written with the same statements as the batch's.
//!
//! `ON CONFLICT (...) DO UPDATE SET ...` is spelled the same on SQLite and
//! PostgreSQL through diesel (the store tests run them on both); should a
//! backend ever need different SQL, these are the functions that grow a
//! second arm.

use super::records::*;
use crate::store::batch::{upsert_agent, upsert_settings};
use crate::store::conn::{with_conn, DbConn};
use crate::store::error::ResultExt;
use crate::store::schema::{agent_availability, conversations, handoff_settings};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use switchboard_actors::ports::StoreResult;

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
