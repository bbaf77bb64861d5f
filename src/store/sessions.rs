//! Billable sessions in the store (seeds 000 and 001): the rows of
//! `tickets`, `sessions`, `session_messages`, `session_sms` and `payments`
//! with their conversions, every query on them (written once over
//! [`DbConn`] with `with_conn!`), the engine's [`SessionStore`] port, the
//! session write ops of the group commit, and the operations the HTTP side
//! runs directly (ticket creation, the queue, the one-winner claim, opening
//! a session, my-sessions list, solver stats).
//!
//! Kept in its own file, apart from `queries.rs`/`rows.rs`, so the
//! live-chat store can change independently.

use super::conn::{with_conn, DbConn};
use super::db::{detached, Db};
use super::error::{corrupt, ResultExt};
use super::rows::ts;
use super::schema::{payments, projects, session_messages, session_sms, sessions, tickets};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::str::FromStr;
use switchboard_actors::domain::communication::Call;
use switchboard_actors::domain::pricing::{Pricing, Tier};
use switchboard_actors::domain::session::{SessionStatus, SessionTimer, TierWarning};
use switchboard_actors::domain::ticket::{TicketStatus, Urgency};
use switchboard_actors::ids::{PaymentId, ProjectId, SessionId, TicketId, UserId};
use switchboard_actors::ports::{StoreError, StoreResult, WriteOp};
use switchboard_actors::session_ports::{
    PaymentRecord, SessionMessageRecord, SessionRecord, SessionSender, SessionStore, SmsRecord,
    TicketRecord,
};

// ---------------------------------------------------------------- helpers

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

fn utc_opt(t: Option<NaiveDateTime>) -> Option<DateTime<Utc>> {
    t.map(utc)
}

fn ts_opt(t: Option<DateTime<Utc>>) -> Option<NaiveDateTime> {
    t.map(ts)
}

fn parse_id<T: FromStr>(what: &str, s: &str) -> StoreResult<T>
where
    T::Err: std::fmt::Display,
{
    T::from_str(s).map_err(|e| corrupt(what, format!("{s:?}: {e}")))
}

fn to_i64(what: &str, v: u64) -> StoreResult<i64> {
    i64::try_from(v).map_err(|_| StoreError::Backend(format!("{what} out of range: {v}")))
}

fn to_u64(what: &str, v: i64) -> StoreResult<u64> {
    u64::try_from(v).map_err(|_| corrupt(what, v))
}

pub const LIVE_SESSION_STATUSES: [&str; 3] = ["not_started", "active", "paused"];

// ---------------------------------------------------------------- rows

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tickets)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbTicket {
    pub id: String,
    pub project_id: String,
    pub customer_name: String,
    pub customer_phone: Option<String>,
    pub customer_email: Option<String>,
    pub description: String,
    pub urgency: String,
    pub status: String,
    pub solver_id: Option<String>,
    pub claimed_at: Option<NaiveDateTime>,
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl DbTicket {
    pub fn from_record(t: &TicketRecord) -> Self {
        Self {
            id: t.id.to_string(),
            project_id: t.project_id.to_string(),
            customer_name: t.customer_name.clone(),
            customer_phone: t.customer_phone.clone(),
            customer_email: t.customer_email.clone(),
            description: t.description.clone(),
            urgency: t.urgency.as_str().to_string(),
            status: t.status.as_str().to_string(),
            solver_id: t.solver_id.map(|u| u.to_string()),
            claimed_at: ts_opt(t.claimed_at),
            created_at: ts(t.created_at),
            updated_at: ts(t.updated_at),
        }
    }
}

impl TryFrom<DbTicket> for TicketRecord {
    type Error = StoreError;
    fn try_from(r: DbTicket) -> StoreResult<Self> {
        Ok(Self {
            id: parse_id("tickets.id", &r.id)?,
            project_id: parse_id("tickets.project_id", &r.project_id)?,
            urgency: Urgency::parse(&r.urgency)
                .ok_or_else(|| corrupt("tickets.urgency", &r.urgency))?,
            status: TicketStatus::parse(&r.status)
                .ok_or_else(|| corrupt("tickets.status", &r.status))?,
            solver_id: r
                .solver_id
                .as_deref()
                .map(|s| parse_id("tickets.solver_id", s))
                .transpose()?,
            customer_name: r.customer_name,
            customer_phone: r.customer_phone,
            customer_email: r.customer_email,
            description: r.description,
            claimed_at: utc_opt(r.claimed_at),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sessions)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbSession {
    pub id: String,
    pub project_id: String,
    pub ticket_id: String,
    pub solver_id: String,
    pub status: String,
    pub duration_seconds: i64,
    pub timer_started_at: Option<NaiveDateTime>,
    pub started_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub tier: String,
    pub notes: String,
    pub notes_saved_at: Option<NaiveDateTime>,
    #[diesel(skip_update)]
    pub access_token_hash: String,
    pub base_price: Option<i64>,
    pub overage_minutes: Option<i64>,
    pub overage_amount: Option<i64>,
    pub total_charged: Option<i64>,
    pub solver_earnings: Option<i64>,
    pub platform_fee: Option<i64>,
    pub tier_warning: Option<String>,
    pub sms_count: i32,
    pub call_info: String,
    pub rating: Option<i32>,
    pub rating_comment: Option<String>,
    pub cancel_reason: Option<String>,
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    #[diesel(skip_update)]
    pub solver_share_percent: i32,
}

impl DbSession {
    pub fn from_record(s: &SessionRecord) -> StoreResult<Self> {
        let p = s.pricing;
        let money = |f: fn(&Pricing) -> u64, what: &str| -> StoreResult<Option<i64>> {
            p.as_ref().map(|p| to_i64(what, f(p))).transpose()
        };
        Ok(Self {
            id: s.id.to_string(),
            project_id: s.project_id.to_string(),
            ticket_id: s.ticket_id.to_string(),
            solver_id: s.solver_id.to_string(),
            status: s.status.as_str().to_string(),
            duration_seconds: to_i64("sessions.duration_seconds", s.timer.duration_seconds)?,
            timer_started_at: ts_opt(s.timer.timer_started_at),
            started_at: ts_opt(s.timer.started_at),
            ended_at: ts_opt(s.timer.ended_at),
            tier: s.tier.as_str().to_string(),
            notes: s.notes.clone(),
            notes_saved_at: ts_opt(s.notes_saved_at),
            access_token_hash: s.access_token_hash.clone(),
            base_price: money(|p| p.base_price, "base_price")?,
            overage_minutes: money(|p| p.overage_minutes, "overage_minutes")?,
            overage_amount: money(|p| p.overage_amount, "overage_amount")?,
            total_charged: money(|p| p.total_charged, "total_charged")?,
            solver_earnings: money(|p| p.solver_earnings, "solver_earnings")?,
            platform_fee: money(|p| p.platform_fee, "platform_fee")?,
            tier_warning: s.tier_warning.map(|w| w.as_str().to_string()),
            sms_count: i32::try_from(s.sms_count)
                .map_err(|_| StoreError::Backend("sms_count out of range".into()))?,
            call_info: serde_json::to_string(&s.call)
                .map_err(|e| StoreError::Backend(format!("encode call: {e}")))?,
            rating: s.rating,
            rating_comment: s.rating_comment.clone(),
            cancel_reason: s.cancel_reason.clone(),
            created_at: ts(s.created_at),
            updated_at: ts(s.updated_at),
            solver_share_percent: i32::try_from(s.solver_share_percent)
                .map_err(|_| StoreError::Backend("solver_share_percent out of range".into()))?,
        })
    }
}

impl TryFrom<DbSession> for SessionRecord {
    type Error = StoreError;
    fn try_from(r: DbSession) -> StoreResult<Self> {
        let pricing = match (
            r.base_price,
            r.overage_minutes,
            r.overage_amount,
            r.total_charged,
            r.solver_earnings,
            r.platform_fee,
        ) {
            (Some(b), Some(m), Some(a), Some(t), Some(e), Some(f)) => Some(Pricing {
                base_price: to_u64("sessions.base_price", b)?,
                overage_minutes: to_u64("sessions.overage_minutes", m)?,
                overage_amount: to_u64("sessions.overage_amount", a)?,
                total_charged: to_u64("sessions.total_charged", t)?,
                solver_earnings: to_u64("sessions.solver_earnings", e)?,
                platform_fee: to_u64("sessions.platform_fee", f)?,
            }),
            _ => None,
        };
        Ok(Self {
            id: parse_id("sessions.id", &r.id)?,
            project_id: parse_id("sessions.project_id", &r.project_id)?,
            ticket_id: parse_id("sessions.ticket_id", &r.ticket_id)?,
            solver_id: parse_id("sessions.solver_id", &r.solver_id)?,
            status: SessionStatus::parse(&r.status)
                .ok_or_else(|| corrupt("sessions.status", &r.status))?,
            timer: SessionTimer {
                duration_seconds: to_u64("sessions.duration_seconds", r.duration_seconds)?,
                timer_started_at: utc_opt(r.timer_started_at),
                started_at: utc_opt(r.started_at),
                ended_at: utc_opt(r.ended_at),
            },
            tier: Tier::parse(&r.tier).ok_or_else(|| corrupt("sessions.tier", &r.tier))?,
            notes: r.notes,
            notes_saved_at: utc_opt(r.notes_saved_at),
            access_token_hash: r.access_token_hash,
            pricing,
            tier_warning: r
                .tier_warning
                .as_deref()
                .map(|w| TierWarning::parse(w).ok_or_else(|| corrupt("sessions.tier_warning", w)))
                .transpose()?,
            sms_count: u32::try_from(r.sms_count)
                .map_err(|_| corrupt("sessions.sms_count", r.sms_count))?,
            call: serde_json::from_str::<Call>(&r.call_info)
                .map_err(|e| corrupt("sessions.call_info", e))?,
            rating: r.rating,
            rating_comment: r.rating_comment,
            cancel_reason: r.cancel_reason,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            solver_share_percent: u32::try_from(r.solver_share_percent)
                .map_err(|_| corrupt("sessions.solver_share_percent", r.solver_share_percent))?,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = session_messages)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbSessionMessage {
    pub id: String,
    pub session_id: String,
    pub seq: i64,
    pub sender_type: String,
    pub sender_id: Option<String>,
    pub content: String,
    pub client_msg_id: Option<String>,
    pub created_at: NaiveDateTime,
}

impl DbSessionMessage {
    pub fn from_record(m: &SessionMessageRecord) -> Self {
        Self {
            id: m.id.to_string(),
            session_id: m.session_id.to_string(),
            seq: m.seq,
            sender_type: m.sender_type.as_str().to_string(),
            sender_id: m.sender_id.map(|u| u.to_string()),
            content: m.content.clone(),
            client_msg_id: m.client_msg_id.clone(),
            created_at: ts(m.created_at),
        }
    }
}

impl TryFrom<DbSessionMessage> for SessionMessageRecord {
    type Error = StoreError;
    fn try_from(r: DbSessionMessage) -> StoreResult<Self> {
        Ok(Self {
            id: parse_id("session_messages.id", &r.id)?,
            session_id: parse_id("session_messages.session_id", &r.session_id)?,
            seq: r.seq,
            sender_type: SessionSender::parse(&r.sender_type)
                .ok_or_else(|| corrupt("session_messages.sender_type", &r.sender_type))?,
            sender_id: r
                .sender_id
                .as_deref()
                .map(|s| parse_id("session_messages.sender_id", s))
                .transpose()?,
            content: r.content,
            client_msg_id: r.client_msg_id,
            created_at: utc(r.created_at),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = session_sms)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbSms {
    pub id: String,
    pub session_id: String,
    pub to_phone: String,
    pub body: String,
    pub provider_ref: Option<String>,
    pub created_at: NaiveDateTime,
}

impl DbSms {
    pub fn from_record(s: &SmsRecord) -> Self {
        Self {
            id: s.id.to_string(),
            session_id: s.session_id.to_string(),
            to_phone: s.to_phone.clone(),
            body: s.body.clone(),
            provider_ref: s.provider_ref.clone(),
            created_at: ts(s.created_at),
        }
    }
}

impl TryFrom<DbSms> for SmsRecord {
    type Error = StoreError;
    fn try_from(r: DbSms) -> StoreResult<Self> {
        Ok(Self {
            id: parse_id("session_sms.id", &r.id)?,
            session_id: parse_id("session_sms.session_id", &r.session_id)?,
            to_phone: r.to_phone,
            body: r.body,
            provider_ref: r.provider_ref,
            created_at: utc(r.created_at),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = payments)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbPayment {
    pub id: String,
    pub session_id: String,
    pub amount: i64,
    pub status: String,
    pub payment_url: String,
    pub provider: String,
    pub provider_ref: Option<String>,
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
}

impl DbPayment {
    pub fn from_record(p: &PaymentRecord) -> StoreResult<Self> {
        Ok(Self {
            id: p.id.to_string(),
            session_id: p.session_id.to_string(),
            amount: to_i64("payments.amount", p.amount)?,
            status: p.status.clone(),
            payment_url: p.payment_url.clone(),
            provider: p.provider.clone(),
            provider_ref: p.provider_ref.clone(),
            created_at: ts(p.created_at),
        })
    }
}

impl TryFrom<DbPayment> for PaymentRecord {
    type Error = StoreError;
    fn try_from(r: DbPayment) -> StoreResult<Self> {
        Ok(Self {
            id: parse_id("payments.id", &r.id)?,
            session_id: parse_id("payments.session_id", &r.session_id)?,
            amount: to_u64("payments.amount", r.amount)?,
            status: r.status,
            payment_url: r.payment_url,
            provider: r.provider,
            provider_ref: r.provider_ref,
            created_at: utc(r.created_at),
        })
    }
}

// ---------------------------------------------------------------- write ops

/// A session write op in stored form (converted before the transaction).
pub enum SessionRowOp {
    Ticket(DbTicket),
    Session(Box<DbSession>),
    Message(DbSessionMessage),
    Sms(DbSms),
    Payment(DbPayment),
}

impl SessionRowOp {
    /// The stored form of a session op; `None` for any other op.
    pub fn from_op(op: &WriteOp) -> Option<StoreResult<SessionRowOp>> {
        Some(match op {
            WriteOp::PutTicket(t) => Ok(SessionRowOp::Ticket(DbTicket::from_record(t))),
            WriteOp::PutSession(s) => {
                DbSession::from_record(s).map(|r| SessionRowOp::Session(Box::new(r)))
            }
            WriteOp::InsertSessionMessage(m) => {
                Ok(SessionRowOp::Message(DbSessionMessage::from_record(m)))
            }
            WriteOp::InsertSms(s) => Ok(SessionRowOp::Sms(DbSms::from_record(s))),
            WriteOp::PutPayment(p) => DbPayment::from_record(p).map(SessionRowOp::Payment),
            _ => return None,
        })
    }

    pub async fn apply(&self, c: &mut DbConn) -> StoreResult<()> {
        match self {
            SessionRowOp::Ticket(r) => upsert_ticket(c, r).await,
            SessionRowOp::Session(r) => upsert_session(c, r).await,
            SessionRowOp::Message(r) => insert_session_message(c, r).await,
            SessionRowOp::Sms(r) => insert_sms(c, r).await,
            SessionRowOp::Payment(r) => upsert_payment(c, r).await,
        }
    }
}

// ---------------------------------------------------------------- queries

pub async fn upsert_ticket(conn: &mut DbConn, row: &DbTicket) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::insert_into(tickets::table)
        .values(row)
        .on_conflict(tickets::id)
        .do_update()
        .set(row)
        .execute(c)
        .await
        .store()
        .map(drop))
}

pub async fn upsert_session(conn: &mut DbConn, row: &DbSession) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::insert_into(sessions::table)
        .values(row)
        .on_conflict(sessions::id)
        .do_update()
        .set(row)
        .execute(c)
        .await
        .store()
        .map(drop))
}

pub async fn insert_session_message(conn: &mut DbConn, row: &DbSessionMessage) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::insert_into(session_messages::table)
        .values(row)
        .execute(c)
        .await
        .store()
        .map(drop))
}

pub async fn insert_sms(conn: &mut DbConn, row: &DbSms) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::insert_into(session_sms::table)
        .values(row)
        .execute(c)
        .await
        .store()
        .map(drop))
}

pub async fn upsert_payment(conn: &mut DbConn, row: &DbPayment) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::insert_into(payments::table)
        .values(row)
        .on_conflict(payments::id)
        .do_update()
        .set(row)
        .execute(c)
        .await
        .store()
        .map(drop))
}

pub async fn insert_ticket(conn: &mut DbConn, row: &DbTicket) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::insert_into(tickets::table)
        .values(row)
        .execute(c)
        .await
        .store()
        .map(drop))
}

pub async fn ticket(conn: &mut DbConn, id: &str) -> StoreResult<Option<DbTicket>> {
    with_conn!(conn, |c| tickets::table
        .find(id)
        .select(DbTicket::as_select())
        .first(c)
        .await
        .optional()
        .store())
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

pub async fn insert_session(conn: &mut DbConn, row: &DbSession) -> StoreResult<()> {
    with_conn!(conn, |c| diesel::insert_into(sessions::table)
        .values(row)
        .execute(c)
        .await
        .store()
        .map(drop))
}

pub async fn session_with_ticket(
    conn: &mut DbConn,
    id: &str,
) -> StoreResult<Option<(DbSession, DbTicket)>> {
    with_conn!(conn, |c| sessions::table
        .inner_join(tickets::table)
        .filter(sessions::id.eq(id))
        .select((DbSession::as_select(), DbTicket::as_select()))
        .first(c)
        .await
        .optional()
        .store())
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
    with_conn!(conn, |c| session_messages::table
        .filter(session_messages::session_id.eq(session))
        .filter(session_messages::seq.gt(after_seq))
        .order(session_messages::seq.asc())
        .limit(limit)
        .select(DbSessionMessage::as_select())
        .load(c)
        .await
        .store())
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
            q = q.filter(
                sessions::created_at.lt(*at).or(sessions::created_at
                    .eq(*at)
                    .and(sessions::id.lt(id.clone()))),
            );
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
    with_conn!(conn, |c| session_sms::table
        .filter(session_sms::session_id.eq(session))
        .order((session_sms::created_at.asc(), session_sms::id.asc()))
        .select(DbSms::as_select())
        .load(c)
        .await
        .store())
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
    with_conn!(conn, |c| payments::table
        .find(id)
        .select(DbPayment::as_select())
        .first(c)
        .await
        .optional()
        .store())
}

pub async fn payment_of_session(
    conn: &mut DbConn,
    session: &str,
) -> StoreResult<Option<DbPayment>> {
    with_conn!(conn, |c| payments::table
        .filter(payments::session_id.eq(session))
        .order(payments::created_at.desc())
        .select(DbPayment::as_select())
        .first(c)
        .await
        .optional()
        .store())
}

// ---------------------------------------------------------------- the engine's port

#[async_trait]
impl SessionStore for Db {
    async fn live_session_ids(&self) -> StoreResult<Vec<SessionId>> {
        let db = self.clone();
        detached(async move {
            live_session_ids(&mut *db.conn().await?)
                .await?
                .iter()
                .map(|id| parse_id("sessions.id", id))
                .collect()
        })
        .await
    }

    async fn load_session(
        &self,
        id: SessionId,
    ) -> StoreResult<Option<(SessionRecord, TicketRecord)>> {
        let db = self.clone();
        detached(async move {
            match session_with_ticket(&mut *db.conn().await?, &id.to_string()).await? {
                Some((s, t)) => Ok(Some((s.try_into()?, t.try_into()?))),
                None => Ok(None),
            }
        })
        .await
    }

    async fn load_session_messages(
        &self,
        id: SessionId,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<SessionMessageRecord>> {
        let db = self.clone();
        detached(async move {
            if limit <= 0 {
                return Ok(Vec::new());
            }
            session_messages_after(&mut *db.conn().await?, &id.to_string(), after_seq, limit)
                .await?
                .into_iter()
                .map(SessionMessageRecord::try_from)
                .collect()
        })
        .await
    }
}

// ---------------------------------------------------------------- the HTTP side

/// A solver's totals (`GET /api/solvers/me/stats`), computed from the
/// completed sessions so they can never drift from them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SolverStats {
    pub total_sessions: u64,
    pub total_earnings: u64,
    pub average_rating: Option<f64>,
}

/// The session-list filter of `GET /api/sessions`.
#[derive(Debug, Clone)]
pub struct SessionListFilter {
    pub solver_id: UserId,
    pub status: Option<SessionStatus>,
    pub cursor: Option<(DateTime<Utc>, SessionId)>,
    pub limit: i64,
}

impl Db {
    /// The project's solver share (percent), `NotFound` for no such project.
    pub async fn solver_share_percent(&self, project: ProjectId) -> StoreResult<u32> {
        let db = self.clone();
        detached(async move {
            let v: i32 = with_conn!(&mut *db.conn().await?, |c| projects::table
                .find(project.to_string())
                .select(projects::solver_share_percent)
                .first(c)
                .await
                .store())?;
            u32::try_from(v).map_err(|_| corrupt("projects.solver_share_percent", v))
        })
        .await
    }

    /// Sets the share for sessions created from now on.
    pub async fn set_solver_share_percent(
        &self,
        project: ProjectId,
        percent: u32,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let db = self.clone();
        let value = i32::try_from(percent)
            .map_err(|_| StoreError::Backend("solver_share_percent out of range".into()))?;
        detached(async move {
            let n = with_conn!(&mut *db.conn().await?, |c| diesel::update(
                projects::table.find(project.to_string())
            )
            .set((
                projects::solver_share_percent.eq(value),
                projects::updated_at.eq(ts(at)),
            ))
            .execute(c)
            .await
            .store())?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    pub async fn insert_ticket(&self, t: &TicketRecord) -> StoreResult<()> {
        let (db, row) = (self.clone(), DbTicket::from_record(t));
        detached(async move { insert_ticket(&mut *db.conn().await?, &row).await }).await
    }

    pub async fn ticket(&self, id: TicketId) -> StoreResult<Option<TicketRecord>> {
        let db = self.clone();
        detached(async move {
            ticket(&mut *db.conn().await?, &id.to_string())
                .await?
                .map(TicketRecord::try_from)
                .transpose()
        })
        .await
    }

    /// Oldest first, after the cursor `(created_at, id)` of the last one seen.
    pub async fn ticket_queue(
        &self,
        project: ProjectId,
        status: TicketStatus,
        after: Option<(DateTime<Utc>, TicketId)>,
        limit: i64,
    ) -> StoreResult<Vec<TicketRecord>> {
        let db = self.clone();
        detached(async move {
            tickets_by_status(
                &mut *db.conn().await?,
                &project.to_string(),
                status.as_str(),
                after.map(|(at, id)| (ts(at), id.to_string())),
                limit,
            )
            .await?
            .into_iter()
            .map(TicketRecord::try_from)
            .collect()
        })
        .await
    }

    /// True for the one caller whose claim moved the ticket from open.
    pub async fn claim_ticket(
        &self,
        id: TicketId,
        solver: UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let db = self.clone();
        detached(async move {
            let n = claim_ticket(
                &mut *db.conn().await?,
                &id.to_string(),
                &solver.to_string(),
                ts(at),
            )
            .await?;
            Ok(n == 1)
        })
        .await
    }

    /// Customer info of a ticket with no live session; false when the
    /// ticket is in progress (its session's actor owns it then).
    pub async fn update_idle_ticket_customer(&self, t: &TicketRecord) -> StoreResult<bool> {
        let (db, row) = (self.clone(), DbTicket::from_record(t));
        detached(async move {
            Ok(update_idle_ticket_customer(&mut *db.conn().await?, &row).await? == 1)
        })
        .await
    }

    /// In one transaction: the ticket claimed by the session's solver moves
    /// to in_progress and the session is inserted. `Conflict` when the
    /// ticket is no longer claimed by that solver.
    pub async fn open_session(&self, s: &SessionRecord) -> StoreResult<()> {
        let (db, row) = (self.clone(), DbSession::from_record(s)?);
        detached(async move {
            db.conn()
                .await?
                .transaction(async move |c| {
                    let n = start_ticket_session(c, &row.ticket_id, &row.solver_id, row.created_at)
                        .await?;
                    if n != 1 {
                        return Err(StoreError::Conflict(
                            "the ticket is not claimed by this solver".into(),
                        ));
                    }
                    insert_session(c, &row).await
                })
                .await
        })
        .await
    }

    /// In one transaction: an ad hoc ticket (already in progress) and its
    /// session.
    pub async fn open_adhoc_session(&self, t: &TicketRecord, s: &SessionRecord) -> StoreResult<()> {
        let (db, ticket_row, row) = (
            self.clone(),
            DbTicket::from_record(t),
            DbSession::from_record(s)?,
        );
        detached(async move {
            db.conn()
                .await?
                .transaction(async move |c| {
                    insert_ticket(c, &ticket_row).await?;
                    insert_session(c, &row).await
                })
                .await
        })
        .await
    }

    /// The session a join token opens: `(session, project, stored hash,
    /// ended_at)`.
    pub async fn session_by_token_hash(
        &self,
        hash: &str,
    ) -> StoreResult<Option<(SessionId, ProjectId, String, Option<DateTime<Utc>>)>> {
        let (db, hash) = (self.clone(), hash.to_string());
        detached(async move {
            match session_by_token_hash(&mut *db.conn().await?, &hash).await? {
                Some((s, p, h, ended)) => Ok(Some((
                    parse_id("sessions.id", &s)?,
                    parse_id("sessions.project_id", &p)?,
                    h,
                    utc_opt(ended),
                ))),
                None => Ok(None),
            }
        })
        .await
    }

    pub async fn list_sessions(
        &self,
        f: &SessionListFilter,
    ) -> StoreResult<Vec<(SessionRecord, TicketRecord)>> {
        let (db, f) = (self.clone(), f.clone());
        detached(async move {
            let rows = sessions_of_solver(
                &mut *db.conn().await?,
                &f.solver_id.to_string(),
                f.status.map(|s| s.as_str()),
                f.cursor.map(|(at, id)| (ts(at), id.to_string())),
                f.limit,
            )
            .await?;
            rows.into_iter()
                .map(|(s, t)| Ok((s.try_into()?, t.try_into()?)))
                .collect()
        })
        .await
    }

    pub async fn solver_stats(&self, solver: UserId) -> StoreResult<SolverStats> {
        let db = self.clone();
        detached(async move {
            let rows = completed_figures(&mut *db.conn().await?, &solver.to_string()).await?;
            let total_earnings = rows
                .iter()
                .filter_map(|(e, _)| *e)
                .map(|e| u64::try_from(e).unwrap_or(0))
                .sum();
            let ratings: Vec<i32> = rows.iter().filter_map(|(_, r)| *r).collect();
            let average_rating = (!ratings.is_empty())
                .then(|| f64::from(ratings.iter().sum::<i32>()) / ratings.len() as f64);
            Ok(SolverStats {
                total_sessions: rows.len() as u64,
                total_earnings,
                average_rating,
            })
        })
        .await
    }

    /// The (newest) session opened from a ticket.
    pub async fn session_of_ticket(&self, ticket: TicketId) -> StoreResult<Option<SessionId>> {
        let db = self.clone();
        detached(async move {
            session_of_ticket(&mut *db.conn().await?, &ticket.to_string())
                .await?
                .map(|s| parse_id("sessions.id", &s))
                .transpose()
        })
        .await
    }

    pub async fn session_sms(&self, session: SessionId) -> StoreResult<Vec<SmsRecord>> {
        let db = self.clone();
        detached(async move {
            sms_of_session(&mut *db.conn().await?, &session.to_string())
                .await?
                .into_iter()
                .map(SmsRecord::try_from)
                .collect()
        })
        .await
    }

    pub async fn payment(&self, id: PaymentId) -> StoreResult<Option<PaymentRecord>> {
        let db = self.clone();
        detached(async move {
            payment(&mut *db.conn().await?, &id.to_string())
                .await?
                .map(PaymentRecord::try_from)
                .transpose()
        })
        .await
    }

    pub async fn payment_of_session(
        &self,
        session: SessionId,
    ) -> StoreResult<Option<PaymentRecord>> {
        let db = self.clone();
        detached(async move {
            payment_of_session(&mut *db.conn().await?, &session.to_string())
                .await?
                .map(PaymentRecord::try_from)
                .transpose()
        })
        .await
    }
}
