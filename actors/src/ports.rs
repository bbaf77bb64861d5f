//! Ports: the engine's seams to the outside world. The engine never sees SQL or
//! HTTP; the server implements these traits (diesel store, built-in AI
//! responder) and tests or load harnesses may bring their own.

use crate::domain::agents::AgentStatus;
use crate::domain::conversation::ConversationStatus;
use crate::domain::inactivity::CustomerPresence;
use crate::domain::settings::HandoffSettings;
use crate::ids::{ConversationId, CustomerId, MessageId, ProjectId, UserId};
use crate::string_enum;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What the engine needs of a project to run its queue.
#[derive(Debug, Clone)]
pub struct ProjectSnapshot {
    pub id: ProjectId,
    pub name: String,
    pub settings: HandoffSettings,
}

/// One agent's row of a project's capacity ledger (seed 003 5.3.3). The chat
/// count is not trusted from storage: the project recounts it from its
/// `agent_active` conversations when it loads, so the ledger cannot drift.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub name: String,
    pub avatar_url: Option<String>,
    pub status: AgentStatus,
    pub max_concurrent_chats: u32,
    pub current_chat_count: u32,
    pub last_seen_at: DateTime<Utc>,
    pub last_assigned_at: Option<DateTime<Utc>>,
    pub status_changed_at: DateTime<Utc>,
    pub auto_offline_enabled: bool,
    pub auto_offline_minutes: u32,
}

impl AgentRecord {
    /// A member who just became an agent: offline, nothing assigned yet.
    pub fn new_offline(
        project_id: ProjectId,
        user_id: UserId,
        name: String,
        avatar_url: Option<String>,
        max_concurrent_chats: u32,
        now: DateTime<Utc>,
    ) -> Self {
        AgentRecord {
            project_id,
            user_id,
            name,
            avatar_url,
            status: AgentStatus::Offline,
            max_concurrent_chats,
            current_chat_count: 0,
            last_seen_at: now,
            last_assigned_at: None,
            status_changed_at: now,
            auto_offline_enabled: true,
            auto_offline_minutes: DEFAULT_AUTO_OFFLINE_MINUTES,
        }
    }
}

/// Seed 003 5.3.3: agents go offline after this long without a heartbeat.
pub const DEFAULT_AUTO_OFFLINE_MINUTES: u32 = 30;

string_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum SenderType: serde {
        Customer = "customer",
        Ai = "ai",
        Agent = "agent",
        System = "system",
    }
}

/// A durable message. Internal notes share the conversation's seq space (so
/// staff see one gap-free log) and are withheld from customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub sender_type: SenderType,
    pub sender_id: Option<UserId>,
    pub content: String,
    pub metadata: Value,
    pub client_msg_id: Option<String>,
    pub internal: bool,
    #[serde(with = "crate::wire_time")]
    pub created_at: DateTime<Utc>,
}

/// The stored snapshot of a conversation (seed 003 5.2.5 and 6.2.3).
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRecord {
    pub id: ConversationId,
    pub project_id: ProjectId,
    pub customer_id: Option<CustomerId>,
    pub visitor_id: String,
    pub customer_email: Option<String>,
    /// `customer_email` is the customer's proven email; false when it is
    /// only what someone typed (contact information, never an identity).
    pub customer_email_verified: bool,
    pub customer_name: Option<String>,
    pub status: ConversationStatus,
    pub assigned_agent_id: Option<UserId>,
    pub handoff_reason: Option<String>,
    pub handoff_triggered_at: Option<DateTime<Utc>>,
    pub ai_confidence_at_handoff: Option<f64>,
    pub trigger_keyword: Option<String>,
    pub ai_messages_before_handoff: i64,
    pub queue_entered_at: Option<DateTime<Utc>>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<UserId>,
    pub closed_at: Option<DateTime<Utc>>,
    pub satisfaction_rating: Option<i32>,
    pub satisfaction_feedback: Option<String>,
    /// Seed 003 5.12: what the widget last said of its customer.
    pub customer_presence: CustomerPresence,
    /// The last time the customer was active (a message, online, typing).
    pub customer_last_seen_at: Option<DateTime<Utc>>,
    /// When "are you still there?" was sent; cleared when the customer answers.
    pub auto_close_warning_sent_at: Option<DateTime<Utc>>,
    pub source: String,
    pub metadata: Value,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
}

impl ConversationRecord {
    /// A conversation as the widget starts it: with the AI, nothing else yet.
    pub fn new_with_ai(
        project_id: ProjectId,
        visitor_id: String,
        customer_id: Option<CustomerId>,
        source: String,
        metadata: Value,
        now: DateTime<Utc>,
    ) -> Self {
        ConversationRecord {
            id: ConversationId::new(),
            project_id,
            customer_id,
            visitor_id,
            customer_email: None,
            customer_email_verified: false,
            customer_name: None,
            status: ConversationStatus::AiActive,
            assigned_agent_id: None,
            handoff_reason: None,
            handoff_triggered_at: None,
            ai_confidence_at_handoff: None,
            trigger_keyword: None,
            ai_messages_before_handoff: 0,
            queue_entered_at: None,
            claimed_at: None,
            first_response_at: None,
            resolved_at: None,
            resolved_by: None,
            closed_at: None,
            satisfaction_rating: None,
            satisfaction_feedback: None,
            customer_presence: CustomerPresence::Offline,
            customer_last_seen_at: None,
            auto_close_warning_sent_at: None,
            source,
            metadata,
            tags: Vec::new(),
            created_at: now,
            updated_at: now,
            last_message_at: now,
        }
    }
}

/// One write of the engine. The writer commits many of them in one
/// transaction (group commit).
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// Insert or replace the conversation's row.
    PutConversation(Box<ConversationRecord>),
    InsertMessage(Box<MessageRecord>),
    /// Move a conversation's activity times forward with the customer's
    /// presence (the lazy write of ordinary messages and presence
    /// heartbeats); never moves them back.
    TouchConversation {
        id: ConversationId,
        last_message_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        customer_presence: CustomerPresence,
        customer_last_seen_at: Option<DateTime<Utc>>,
    },
    /// Insert or replace an agent's ledger row (status, max, last seen...).
    PutAgent(Box<AgentRecord>),
    /// An agent leaves the ledger (after any ledger write queued before,
    /// so none brings the row back); with `leaves_project` their
    /// membership goes too.
    RemoveAgent {
        project_id: ProjectId,
        user_id: UserId,
        leaves_project: bool,
    },
    PutSettings {
        project_id: ProjectId,
        settings: Box<HandoffSettings>,
        at: DateTime<Utc>,
    },
    /// Billable sessions (seed 000): insert or replace a ticket's row.
    PutTicket(Box<crate::session_ports::TicketRecord>),
    /// Insert or replace a session's snapshot row.
    PutSession(Box<crate::session_ports::SessionRecord>),
    InsertSessionMessage(Box<crate::session_ports::SessionMessageRecord>),
    InsertSms(Box<crate::session_ports::SmsRecord>),
    PutPayment(Box<crate::session_ports::PaymentRecord>),
}

/// See [`Store::load_message_index`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageIndex {
    pub client_ids: Vec<(String, i64)>,
    pub ai_messages: i64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Every project, so the supervisor can restore their queues on start.
    async fn list_project_ids(&self) -> StoreResult<Vec<ProjectId>>;
    async fn load_project(&self, id: ProjectId) -> StoreResult<Option<ProjectSnapshot>>;
    /// The project's members with role `agent`, with their ledger rows (a
    /// member without a row yet gets an offline one).
    async fn load_agents(&self, project_id: ProjectId) -> StoreResult<Vec<AgentRecord>>;
    /// Every conversation of the project that is not closed.
    async fn load_live_conversations(
        &self,
        project_id: ProjectId,
    ) -> StoreResult<Vec<ConversationRecord>>;
    async fn load_conversation(
        &self,
        id: ConversationId,
    ) -> StoreResult<Option<ConversationRecord>>;
    /// Messages with seq > after_seq, ascending, at most `limit`.
    async fn load_messages(
        &self,
        conversation_id: ConversationId,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<MessageRecord>>;
    /// The newest `limit` messages, ascending.
    async fn load_recent_messages(
        &self,
        conversation_id: ConversationId,
        limit: i64,
    ) -> StoreResult<Vec<MessageRecord>>;
    /// What a conversation's actor needs of its whole history besides its
    /// recent log: every client_msg_id with its seq, and the AI messages.
    async fn load_message_index(
        &self,
        conversation_id: ConversationId,
    ) -> StoreResult<MessageIndex>;
    async fn last_seq(&self, conversation_id: ConversationId) -> StoreResult<i64>;
    async fn find_message_by_client_id(
        &self,
        conversation_id: ConversationId,
        client_msg_id: &str,
    ) -> StoreResult<Option<MessageRecord>>;
    /// Average minutes from claim to resolution over conversations resolved
    /// since `since`; None when there are none.
    async fn avg_handling_minutes(
        &self,
        project_id: ProjectId,
        since: DateTime<Utc>,
    ) -> StoreResult<Option<f64>>;
    /// Rates a closed conversation (it has no actor to decide): one
    /// conditional update, so exactly one rating gets in. False when the
    /// conversation is not closed or was rated already.
    async fn rate_closed_conversation(
        &self,
        id: ConversationId,
        rating: i32,
        feedback: Option<String>,
    ) -> StoreResult<bool>;
    /// Apply all ops in one transaction: all or nothing.
    async fn commit(&self, ops: Vec<WriteOp>) -> StoreResult<()>;
}

/// One turn of conversation history as the AI sees it.
#[derive(Debug, Clone)]
pub struct AiTurn {
    pub sender_type: SenderType,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AiReply {
    pub content: String,
    /// 0..1; below the project's threshold a handoff may follow.
    pub confidence: f64,
    pub metadata: Value,
}

#[async_trait]
pub trait AiResponder: Send + Sync + 'static {
    async fn respond(
        &self,
        project_id: ProjectId,
        history: &[AiTurn],
        question: &str,
    ) -> Result<AiReply, String>;
}
