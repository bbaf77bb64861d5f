//! Billable sessions' reads, each statement once over [`DbConn`] with
//! `with_conn!`.

use super::records::*;
use crate::store::conn::{all_rows, first_row, older_than, with_conn, DbConn};
use crate::store::error::ResultExt;
use crate::store::schema::{payments, session_messages, session_sms, sessions, tickets};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use switchboard_actors::domain::session::SessionStatus;
use switchboard_actors::ports::StoreResult;

pub const LIVE_SESSION_STATUSES: [&str; 3] = ["not_started", "active", "paused"];

pub async fn ticket(conn: &mut DbConn, id: &str) -> StoreResult<Option<DbTicket>> {
    first_row!(conn, tickets::table.find(id).select(DbTicket::as_select()))
}

/// The project's tickets in `status`, oldest first (ties by id), after a
/// keyset cursor `(created_at, id)`.
pub async fn tickets_by_status(
    conn: &mut DbConn,
    project: &str,
    status: &str,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<DbTicket>> {
    with_conn!(conn, |c| {
        let mut q = tickets::table
            .filter(tickets::project_id.eq(project))
            .filter(tickets::status.eq(status))
            .into_boxed();
        if let Some((at, id)) = &after {
            q = q.filter(
                tickets::created_at
                    .gt(*at)
                    .or(tickets::created_at.eq(*at).and(tickets::id.gt(id.clone()))),
            );
        }
        q.order((tickets::created_at.asc(), tickets::id.asc()))
            .limit(limit)
            .select(DbTicket::as_select())
            .load(c)
            .await
            .store()
    })
}

pub async fn session_with_ticket(
    conn: &mut DbConn,
    id: &str,
) -> StoreResult<Option<(DbSession, DbTicket)>> {
    first_row!(
        conn,
        sessions::table
            .inner_join(tickets::table)
            .filter(sessions::id.eq(id))
            .select((DbSession::as_select(), DbTicket::as_select()))
    )
}

pub async fn live_session_ids(conn: &mut DbConn) -> StoreResult<Vec<String>> {
    with_conn!(conn, |c| sessions::table
        .filter(sessions::status.eq_any(LIVE_SESSION_STATUSES))
        .order((sessions::created_at.asc(), sessions::id.asc()))
        .select(sessions::id)
        .load::<String>(c)
        .await
        .store())
}

pub async fn session_by_token_hash(
    conn: &mut DbConn,
    hash: &str,
) -> StoreResult<Option<(String, String, String, Option<NaiveDateTime>)>> {
    with_conn!(conn, |c| sessions::table
        .filter(sessions::access_token_hash.eq(hash))
        .select((
            sessions::id,
            sessions::project_id,
            sessions::access_token_hash,
            sessions::ended_at,
        ))
        .first::<(String, String, String, Option<NaiveDateTime>)>(c)
        .await
        .optional()
        .store())
}

pub async fn session_messages_after(
    conn: &mut DbConn,
    session: &str,
    after_seq: i64,
    limit: i64,
) -> StoreResult<Vec<DbSessionMessage>> {
    all_rows!(
        conn,
        session_messages::table
            .filter(session_messages::session_id.eq(session))
            .filter(session_messages::seq.gt(after_seq))
            .order(session_messages::seq.asc())
            .limit(limit)
            .select(DbSessionMessage::as_select())
    )
}

/// A solver's sessions with their tickets, newest first, after a keyset
/// cursor `(created_at, id)`.
pub async fn sessions_of_solver(
    conn: &mut DbConn,
    solver: &str,
    status: Option<&str>,
    cursor: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<(DbSession, DbTicket)>> {
    with_conn!(conn, |c| {
        let mut q = sessions::table
            .inner_join(tickets::table)
            .filter(sessions::solver_id.eq(solver))
            .into_boxed();
        if let Some(s) = status {
            q = q.filter(sessions::status.eq(s.to_string()));
        }
        if let Some((at, id)) = &cursor {
            q = q.filter(older_than!(sessions::created_at, sessions::id, at, id));
        }
        q.order((sessions::created_at.desc(), sessions::id.desc()))
            .limit(limit)
            .select((DbSession::as_select(), DbTicket::as_select()))
            .load(c)
            .await
            .store()
    })
}

/// (solver_earnings, rating) of every completed session of the solver.
pub async fn completed_figures(
    conn: &mut DbConn,
    solver: &str,
) -> StoreResult<Vec<(Option<i64>, Option<i32>)>> {
    with_conn!(conn, |c| sessions::table
        .filter(sessions::solver_id.eq(solver))
        .filter(sessions::status.eq(SessionStatus::Completed.as_str()))
        .select((sessions::solver_earnings, sessions::rating))
        .load::<(Option<i64>, Option<i32>)>(c)
        .await
        .store())
}

pub async fn sms_of_session(conn: &mut DbConn, session: &str) -> StoreResult<Vec<DbSms>> {
    all_rows!(
        conn,
        session_sms::table
            .filter(session_sms::session_id.eq(session))
            .order((session_sms::created_at.asc(), session_sms::id.asc()))
            .select(DbSms::as_select())
    )
}

pub async fn session_of_ticket(conn: &mut DbConn, ticket: &str) -> StoreResult<Option<String>> {
    with_conn!(conn, |c| sessions::table
        .filter(sessions::ticket_id.eq(ticket))
        .order(sessions::created_at.desc())
        .select(sessions::id)
        .first::<String>(c)
        .await
        .optional()
        .store())
}

pub async fn payment(conn: &mut DbConn, id: &str) -> StoreResult<Option<DbPayment>> {
    first_row!(
        conn,
        payments::table.find(id).select(DbPayment::as_select())
    )
}

pub async fn payment_of_session(
    conn: &mut DbConn,
    session: &str,
) -> StoreResult<Option<DbPayment>> {
    first_row!(
        conn,
        payments::table
            .filter(payments::session_id.eq(session))
            .order(payments::created_at.desc())
            .select(DbPayment::as_select())
    )
}
