//! The records of billable sessions (seeds 000 and 001) and the store port
//! their actors load from: tickets, sessions with their timer, pricing and
//! communication state, the session chat, SMS and payment requests.
//!
//! Kept apart from `ports.rs` so the live-chat port stays as it is; the
//! writes go through the same group-commit writer as `WriteOp` variants
//! (`PutTicket`, `PutSession`, `InsertSessionMessage`, `InsertSms`,
//! `PutPayment`).

use crate::domain::communication::Call;
use crate::domain::pricing::{Pricing, Tier};
use crate::domain::session::{SessionStatus, SessionTimer, TierWarning};
use crate::domain::ticket::{TicketStatus, Urgency};
use crate::ids::{PaymentId, ProjectId, SessionId, SessionMessageId, SmsId, TicketId, UserId};
use crate::ports::StoreResult;
use crate::string_enum;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A support ticket: what the customer needs, and who took it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketRecord {
    pub id: TicketId,
    pub project_id: ProjectId,
    pub customer_name: String,
    pub customer_phone: Option<String>,
    pub customer_email: Option<String>,
    pub description: String,
    pub urgency: Urgency,
    pub status: TicketStatus,
    /// The solver who claimed it.
    pub solver_id: Option<UserId>,
    #[serde(with = "crate::wire_time::option")]
    pub claimed_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::wire_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::wire_time")]
    pub updated_at: DateTime<Utc>,
}

/// The stored snapshot of a billable session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub project_id: ProjectId,
    pub ticket_id: TicketId,
    pub solver_id: UserId,
    pub status: SessionStatus,
    /// Accumulated seconds, the running span's start, first start, end.
    pub timer: SessionTimer,
    /// `standard` until the solver picks the final tier at completion.
    pub tier: Tier,
    pub notes: String,
    pub notes_saved_at: Option<DateTime<Utc>>,
    /// sha256 of the customer's join token; the token itself is never stored.
    pub access_token_hash: String,
    /// Set at completion.
    pub pricing: Option<Pricing>,
    /// The most severe tier warning already sent, so a restart does not
    /// send it twice.
    pub tier_warning: Option<TierWarning>,
    /// SMS the provider accepted for this session.
    pub sms_count: u32,
    /// The current or last call, with its recorded duration.
    pub call: Call,
    pub rating: Option<i32>,
    pub rating_comment: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The solver's share of the price, the project's when the session
    /// was created (seed 000: 65 % by default).
    pub solver_share_percent: u32,
}

string_enum! {
    /// Who wrote a session chat message.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum SessionSender: serde {
        Solver = "solver",
        Customer = "customer",
        System = "system",
    }
}

/// A durable message of a session's chat, with its gap-free seq.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionMessageRecord {
    pub id: SessionMessageId,
    pub session_id: SessionId,
    pub seq: i64,
    pub sender_type: SessionSender,
    pub sender_id: Option<UserId>,
    pub content: String,
    pub client_msg_id: Option<String>,
    #[serde(with = "crate::wire_time")]
    pub created_at: DateTime<Utc>,
}

/// One SMS the provider accepted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SmsRecord {
    pub id: SmsId,
    pub session_id: SessionId,
    pub to_phone: String,
    pub body: String,
    pub provider_ref: Option<String>,
    #[serde(with = "crate::wire_time")]
    pub created_at: DateTime<Utc>,
}

/// A payment request made at completion (status `pending` until a payment
/// provider reports otherwise).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaymentRecord {
    pub id: PaymentId,
    pub session_id: SessionId,
    pub amount: u64,
    pub status: String,
    pub payment_url: String,
    pub provider: String,
    pub provider_ref: Option<String>,
    #[serde(with = "crate::wire_time")]
    pub created_at: DateTime<Utc>,
}

/// What the session actors read from storage.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Every session that is not completed or cancelled, so timers re-arm
    /// after a restart.
    async fn live_session_ids(&self) -> StoreResult<Vec<SessionId>>;
    /// A session with its ticket.
    async fn load_session(
        &self,
        id: SessionId,
    ) -> StoreResult<Option<(SessionRecord, TicketRecord)>>;
    /// Chat messages with seq > after_seq, ascending, at most `limit`.
    async fn load_session_messages(
        &self,
        id: SessionId,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<SessionMessageRecord>>;
}
