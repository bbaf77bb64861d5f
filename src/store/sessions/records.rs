//! Billable sessions' records: one diesel row per table (`tickets`,
//! `sessions`, `session_messages`, `session_sms`, `payments`) with its
//! conversions to and from the engine's records, and the HTTP side's
//! session records.

use crate::store::convert::{parse_id, to_i64, to_u64, ts, ts_opt, utc, utc_opt};
use crate::store::error::corrupt;
use crate::store::schema::{payments, session_messages, session_sms, sessions, tickets};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use switchboard_actors::domain::communication::Call;
use switchboard_actors::domain::pricing::{Pricing, Tier};
use switchboard_actors::domain::session::{SessionStatus, SessionTimer, TierWarning};
use switchboard_actors::domain::ticket::{TicketStatus, Urgency};
use switchboard_actors::ids::{SessionId, UserId};
use switchboard_actors::ports::{StoreError, StoreResult};
use switchboard_actors::session_ports::{
    PaymentRecord, SessionMessageRecord, SessionRecord, SessionSender, SmsRecord, TicketRecord,
};

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
