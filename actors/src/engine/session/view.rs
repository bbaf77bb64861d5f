//! What the session actor answers: typed views of its state, serialized as
//! the REST and WebSocket answers (docs/protocol.md, billable sessions). A
//! guest (the customer holding the join link) sees no earnings, fees or
//! notes.
use super::*;
use crate::domain::communication::{Call, CallState, ScreenShare, ScreenShareState};
use crate::domain::pricing::Pricing;
use crate::domain::session::TierWarning;
use crate::domain::ticket::Urgency;
use crate::ids::{ProjectId, TicketId};
use crate::session_ports::PaymentRecord;
use serde::Serialize;

/// A session as one caller may read it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub id: SessionId,
    pub project_id: ProjectId,
    pub ticket_id: TicketId,
    pub solver_id: UserId,
    pub status: SessionStatus,
    pub elapsed_seconds: u64,
    pub duration_seconds: u64,
    pub timer_running: bool,
    #[serde(with = "crate::wire_time::option")]
    pub timer_started_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::wire_time::option")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::wire_time::option")]
    pub ended_at: Option<DateTime<Utc>>,
    pub tier: Tier,
    pub tier_limit_seconds: u64,
    pub recommended_tier: Tier,
    pub tier_warning: Option<TierWarning>,
    pub pricing: Option<PricingView>,
    pub sms_count: u32,
    pub sms_remaining: u32,
    pub call: CallView,
    pub screen_share: ScreenShareView,
    pub rating: Option<i32>,
    pub rating_comment: Option<String>,
    pub cancel_reason: Option<String>,
    pub last_seq: i64,
    #[serde(with = "crate::wire_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::wire_time")]
    pub updated_at: DateTime<Utc>,
    /// The server's time of the answer, for the client's timer display.
    #[serde(with = "crate::wire_time")]
    pub timestamp: DateTime<Utc>,
    pub ticket: TicketView,
    /// The solver's notes (staff only).
    #[serde(flatten)]
    pub notes: Option<NotesView>,
    /// The payment request made at completion (in the answer to complete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentRecord>,
}

/// The price of a completed session; the split is staff only.
#[derive(Debug, Clone, Serialize)]
pub struct PricingView {
    pub base_price: u64,
    pub overage_minutes: u64,
    pub overage_amount: u64,
    pub total_charged: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solver_earnings: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_fee: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CallView {
    pub state: CallState,
    pub talk_seconds: u64,
    pub duration_seconds: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScreenShareView {
    pub state: ScreenShareState,
}

/// The session's ticket as the session shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TicketView {
    pub id: TicketId,
    pub status: TicketStatus,
    pub customer_name: String,
    pub customer_phone: Option<String>,
    pub customer_email: Option<String>,
    pub description: String,
    pub urgency: Urgency,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotesView {
    pub notes: String,
    #[serde(with = "crate::wire_time::option")]
    pub notes_saved_at: Option<DateTime<Utc>>,
}

/// The answer to saving notes.
#[derive(Debug, Clone, Serialize)]
pub struct NotesSaved {
    pub save_status: &'static str,
    pub notes: String,
    #[serde(with = "crate::wire_time")]
    pub notes_saved_at: DateTime<Utc>,
}

/// The answer to rating a session.
#[derive(Debug, Clone, Serialize)]
pub struct SessionRating {
    pub rating: Option<i32>,
    pub comment: Option<String>,
}

/// The answer to sending an SMS.
#[derive(Debug, Clone, Serialize)]
pub struct SmsSent {
    pub sms: SmsRecord,
    pub sms_count: u32,
    pub sms_remaining: u32,
}

/// The answer to a call action or a provider's call report.
#[derive(Debug, Clone, Serialize)]
pub struct CallAnswer {
    pub call: Call,
}

/// The answer to a screen-share request or answer.
#[derive(Debug, Clone, Serialize)]
pub struct ScreenShareAnswer {
    pub screen_share: ScreenShare,
}

impl PricingView {
    fn of(p: &Pricing, staff: bool) -> PricingView {
        PricingView {
            base_price: p.base_price,
            overage_minutes: p.overage_minutes,
            overage_amount: p.overage_amount,
            total_charged: p.total_charged,
            solver_earnings: staff.then_some(p.solver_earnings),
            platform_fee: staff.then_some(p.platform_fee),
        }
    }
}

impl SessionActor {
    pub(super) fn view(&self, who: Who) -> SessionView {
        let now = self.now();
        let r = &self.rec;
        let t = &self.ticket;
        let elapsed = r.timer.elapsed_seconds(now);
        let staff = who != Who::Guest;
        SessionView {
            id: r.id,
            project_id: r.project_id,
            ticket_id: r.ticket_id,
            solver_id: r.solver_id,
            status: r.status,
            elapsed_seconds: elapsed,
            duration_seconds: r.timer.duration_seconds,
            timer_running: r.timer.is_running(),
            timer_started_at: r.timer.timer_started_at,
            started_at: r.timer.started_at,
            ended_at: r.timer.ended_at,
            tier: r.tier,
            tier_limit_seconds: r.tier.included_seconds(),
            recommended_tier: recommended_tier(elapsed),
            tier_warning: r.tier_warning,
            pricing: r.pricing.as_ref().map(|p| PricingView::of(p, staff)),
            sms_count: r.sms_count,
            sms_remaining: SMS_MAX_PER_SESSION.saturating_sub(r.sms_count),
            call: CallView {
                state: r.call.state,
                talk_seconds: r.call.talk_seconds(now),
                duration_seconds: r.call.duration_seconds,
            },
            screen_share: ScreenShareView {
                state: self.screen_share.state,
            },
            rating: r.rating,
            rating_comment: r.rating_comment.clone(),
            cancel_reason: r.cancel_reason.clone(),
            last_seq: self.log.durable_seq(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            timestamp: now,
            ticket: TicketView {
                id: t.id,
                status: t.status,
                customer_name: t.customer_name.clone(),
                customer_phone: t.customer_phone.clone(),
                customer_email: t.customer_email.clone(),
                description: t.description.clone(),
                urgency: t.urgency,
            },
            notes: staff.then(|| NotesView {
                notes: r.notes.clone(),
                notes_saved_at: r.notes_saved_at,
            }),
            payment: None,
        }
    }
}
