//! Billable sessions' writes: the stored form of the engine's session
//! write ops (applied in the group commit) and the HTTP side's mutations
//! (ticket creation, the one-winner claim, opening a session).

use super::records::*;
use crate::store::conn::{statement_fn, with_conn, DbConn};
use crate::store::error::ResultExt;
use crate::store::schema::{payments, session_messages, session_sms, sessions, tickets};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use futures::future::BoxFuture;
use switchboard_actors::domain::ticket::TicketStatus;
use switchboard_actors::ports::{StoreResult, WriteOp};

/// A billable-session row ready to be written in the group commit's
/// transaction: the stored form of one of the engine's session
/// [`WriteOp`]s. The ops themselves are listed once, in the engine's
/// `WriteOp`; [`stored_write`] maps each to its row, and each row type
/// knows its one statement.
pub trait SessionWrite: Send + Sync {
    fn apply<'a>(&'a self, c: &'a mut DbConn) -> BoxFuture<'a, StoreResult<()>>;
}

/// The stored form of a billable-session op, converted before the
/// transaction opens (a value that cannot be stored fails the batch
/// first); `None` for any other op.
pub fn stored_write(op: &WriteOp) -> Option<StoreResult<Box<dyn SessionWrite>>> {
    fn boxed(row: impl SessionWrite + 'static) -> Box<dyn SessionWrite> {
        Box::new(row)
    }
    Some(match op {
        WriteOp::PutTicket(t) => Ok(boxed(DbTicket::from_record(t))),
        WriteOp::PutSession(s) => DbSession::from_record(s).map(boxed),
        WriteOp::InsertSessionMessage(m) => Ok(boxed(DbSessionMessage::from_record(m))),
        WriteOp::InsertSms(s) => Ok(boxed(DbSms::from_record(s))),
        WriteOp::PutPayment(p) => DbPayment::from_record(p).map(boxed),
        _ => return None,
    })
}

/// Each session row's statement in the group commit.
macro_rules! session_writes {
    ($($row:ty => $statement:ident),+ $(,)?) => {$(
        impl SessionWrite for $row {
            fn apply<'a>(&'a self, c: &'a mut DbConn) -> BoxFuture<'a, StoreResult<()>> {
                Box::pin($statement(c, self))
            }
        }
    )+};
}

session_writes!(
    DbTicket => upsert_ticket,
    DbSession => upsert_session,
    DbSessionMessage => insert_session_message,
    DbSms => insert_sms,
    DbPayment => upsert_payment,
);

statement_fn!(pub fn upsert_ticket(DbTicket) upserts into tickets on id);

statement_fn!(pub fn upsert_session(DbSession) upserts into sessions on id);

statement_fn!(pub fn insert_session_message(DbSessionMessage) inserts into session_messages);

statement_fn!(pub fn insert_sms(DbSms) inserts into session_sms);

statement_fn!(pub fn upsert_payment(DbPayment) upserts into payments on id);

statement_fn!(pub fn insert_ticket(DbTicket) inserts into tickets);

/// The claim: open -> claimed by `solver`, only if still open. Answers the
/// rows changed (1 for the one winner, 0 for everyone else).
pub async fn claim_ticket(
    conn: &mut DbConn,
    id: &str,
    solver: &str,
    at: NaiveDateTime,
) -> StoreResult<usize> {
    with_conn!(conn, |c| diesel::update(
        tickets::table
            .filter(tickets::id.eq(id))
            .filter(tickets::status.eq(TicketStatus::Open.as_str()))
    )
    .set((
        tickets::status.eq(TicketStatus::Claimed.as_str()),
        tickets::solver_id.eq(solver),
        tickets::claimed_at.eq(at),
        tickets::updated_at.eq(at),
    ))
    .execute(c)
    .await
    .store())
}

/// claimed (by `solver`) -> in_progress, only from claimed.
pub async fn start_ticket_session(
    conn: &mut DbConn,
    id: &str,
    solver: &str,
    at: NaiveDateTime,
) -> StoreResult<usize> {
    with_conn!(conn, |c| diesel::update(
        tickets::table
            .filter(tickets::id.eq(id))
            .filter(tickets::status.eq(TicketStatus::Claimed.as_str()))
            .filter(tickets::solver_id.eq(solver))
    )
    .set((
        tickets::status.eq(TicketStatus::InProgress.as_str()),
        tickets::updated_at.eq(at),
    ))
    .execute(c)
    .await
    .store())
}

/// Customer info of a ticket that has no live session (those go through
/// the session's actor). Answers the rows changed.
pub async fn update_idle_ticket_customer(conn: &mut DbConn, row: &DbTicket) -> StoreResult<usize> {
    with_conn!(conn, |c| diesel::update(
        tickets::table
            .filter(tickets::id.eq(&row.id))
            .filter(tickets::status.ne(TicketStatus::InProgress.as_str()))
    )
    .set((
        tickets::customer_name.eq(&row.customer_name),
        tickets::customer_phone.eq(&row.customer_phone),
        tickets::customer_email.eq(&row.customer_email),
        tickets::updated_at.eq(row.updated_at),
    ))
    .execute(c)
    .await
    .store())
}

statement_fn!(pub fn insert_session(DbSession) inserts into sessions);
