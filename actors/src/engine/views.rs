//! Wire shapes of engine state, shared by events and the HTTP layer so a
//! conversation looks the same whichever way it reaches a client.

use crate::domain::conversation::ConversationStatus;
use crate::domain::inactivity::CustomerPresence;
use crate::ids::{ConversationId, CustomerId, ProjectId, UserId};
use crate::ports::ConversationRecord;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AgentInfo {
    pub id: UserId,
    pub name: String,
    pub avatar_url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AiContext {
    pub handoff_reason: Option<String>,
    pub trigger_keyword: Option<String>,
    pub ai_confidence_at_handoff: Option<f64>,
    pub ai_messages_before_handoff: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConversationView {
    pub id: ConversationId,
    pub project_id: ProjectId,
    pub status: ConversationStatus,
    pub customer_id: Option<CustomerId>,
    pub visitor_id: String,
    pub customer_email: Option<String>,
    /// False when `customer_email` is only what someone typed: contact
    /// information, not the customer's proven identity.
    pub customer_email_verified: bool,
    pub customer_name: Option<String>,
    pub assigned_agent_id: Option<UserId>,
    pub handoff_reason: Option<String>,
    #[serde(with = "crate::wire_time::option")]
    pub handoff_triggered_at: Option<DateTime<Utc>>,
    pub ai_confidence_at_handoff: Option<f64>,
    pub trigger_keyword: Option<String>,
    #[serde(with = "crate::wire_time::option")]
    pub queue_entered_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::wire_time::option")]
    pub claimed_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::wire_time::option")]
    pub first_response_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::wire_time::option")]
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<UserId>,
    #[serde(with = "crate::wire_time::option")]
    pub closed_at: Option<DateTime<Utc>>,
    pub satisfaction_rating: Option<i32>,
    pub satisfaction_feedback: Option<String>,
    pub customer_presence: CustomerPresence,
    #[serde(with = "crate::wire_time::option")]
    pub customer_last_seen_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::wire_time::option")]
    pub auto_close_warning_sent_at: Option<DateTime<Utc>>,
    pub source: String,
    pub metadata: Value,
    pub tags: Vec<String>,
    pub ai_context: AiContext,
    #[serde(with = "crate::wire_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::wire_time")]
    pub updated_at: DateTime<Utc>,
    #[serde(with = "crate::wire_time")]
    pub last_message_at: DateTime<Utc>,
    /// Only while waiting; computed, never stored (seed 003 5.4.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_wait_minutes: Option<Option<u32>>,
    /// The last durable message seq (absent in list items).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<i64>,
}

impl ConversationView {
    pub fn from_record(r: &ConversationRecord, last_seq: Option<i64>) -> Self {
        ConversationView {
            id: r.id,
            project_id: r.project_id,
            status: r.status,
            customer_id: r.customer_id,
            visitor_id: r.visitor_id.clone(),
            customer_email: r.customer_email.clone(),
            customer_email_verified: r.customer_email_verified,
            customer_name: r.customer_name.clone(),
            assigned_agent_id: r.assigned_agent_id,
            handoff_reason: r.handoff_reason.clone(),
            handoff_triggered_at: r.handoff_triggered_at,
            ai_confidence_at_handoff: r.ai_confidence_at_handoff,
            trigger_keyword: r.trigger_keyword.clone(),
            queue_entered_at: r.queue_entered_at,
            claimed_at: r.claimed_at,
            first_response_at: r.first_response_at,
            resolved_at: r.resolved_at,
            resolved_by: r.resolved_by,
            closed_at: r.closed_at,
            satisfaction_rating: r.satisfaction_rating,
            satisfaction_feedback: r.satisfaction_feedback.clone(),
            customer_presence: r.customer_presence,
            customer_last_seen_at: r.customer_last_seen_at,
            auto_close_warning_sent_at: r.auto_close_warning_sent_at,
            source: r.source.clone(),
            metadata: r.metadata.clone(),
            tags: r.tags.clone(),
            ai_context: AiContext {
                handoff_reason: r.handoff_reason.clone(),
                trigger_keyword: r.trigger_keyword.clone(),
                ai_confidence_at_handoff: r.ai_confidence_at_handoff,
                ai_messages_before_handoff: r.ai_messages_before_handoff,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_message_at: r.last_message_at,
            queue_position: None,
            estimated_wait_minutes: None,
            last_seq,
        }
    }
}

/// What a conversation's own customer sees of it. A whitelist, not the
/// staff view minus some fields: tags, metadata, the handoff and AI
/// context, internal ids and times stay with staff, and a field added to
/// [`ConversationView`] stays staff-only until someone adds it here.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerConversationView {
    pub id: ConversationId,
    pub project_id: ProjectId,
    pub status: ConversationStatus,
    /// The customer's own record (the id a proven identify answers too).
    pub customer_id: Option<CustomerId>,
    pub visitor_id: String,
    pub customer_email: Option<String>,
    pub customer_email_verified: bool,
    pub customer_name: Option<String>,
    pub assigned_agent_id: Option<UserId>,
    #[serde(with = "crate::wire_time::option")]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::wire_time::option")]
    pub closed_at: Option<DateTime<Utc>>,
    pub satisfaction_rating: Option<i32>,
    pub satisfaction_feedback: Option<String>,
    /// The widget shows "Are you still there?" again after a reload.
    #[serde(with = "crate::wire_time::option")]
    pub auto_close_warning_sent_at: Option<DateTime<Utc>>,
    pub source: String,
    #[serde(with = "crate::wire_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::wire_time")]
    pub updated_at: DateTime<Utc>,
    #[serde(with = "crate::wire_time")]
    pub last_message_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_wait_minutes: Option<Option<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<i64>,
}

impl From<&ConversationView> for CustomerConversationView {
    fn from(v: &ConversationView) -> Self {
        CustomerConversationView {
            id: v.id,
            project_id: v.project_id,
            status: v.status,
            customer_id: v.customer_id,
            visitor_id: v.visitor_id.clone(),
            customer_email: v.customer_email.clone(),
            customer_email_verified: v.customer_email_verified,
            customer_name: v.customer_name.clone(),
            assigned_agent_id: v.assigned_agent_id,
            resolved_at: v.resolved_at,
            closed_at: v.closed_at,
            satisfaction_rating: v.satisfaction_rating,
            satisfaction_feedback: v.satisfaction_feedback.clone(),
            auto_close_warning_sent_at: v.auto_close_warning_sent_at,
            source: v.source.clone(),
            created_at: v.created_at,
            updated_at: v.updated_at,
            last_message_at: v.last_message_at,
            queue_position: v.queue_position,
            estimated_wait_minutes: v.estimated_wait_minutes,
            last_seq: v.last_seq,
        }
    }
}

/// The answer to a handoff request (seed 003 7.5, docs/protocol.md section 3).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum HandoffOutcome {
    AgentActive {
        assigned_agent: AgentInfo,
    },
    Waiting {
        queue_position: usize,
        estimated_wait_minutes: Option<u32>,
    },
    Offline {
        message: String,
        business_hours: OfflineHours,
    },
    Unavailable {
        reason: crate::domain::availability::UnavailableReason,
    },
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OfflineHours {
    pub timezone: String,
    /// RFC 3339 UTC of the next opening; null when no day is open.
    pub next_available: Option<String>,
    /// The same instant as the project's team reads it, e.g. "Monday 09:00".
    pub next_available_local: Option<String>,
}
