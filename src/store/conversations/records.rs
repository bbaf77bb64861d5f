//! Live chat's rows: conversations, messages, the agents' ledger and the
//! handoff settings, with the conversions to and from the engine's records.

use crate::store::accounts::records::{DbMember, DbUser};
use crate::store::convert::{
    from_json, id_opt, json_text, opt_string, parse_id as id, to_i32, to_u32, ts, ts_opt, utc,
    utc_opt,
};
use crate::store::error::corrupt;
use crate::store::schema::{agent_availability, conversations, handoff_settings, messages};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use switchboard_actors::domain::agents::AgentStatus;
use switchboard_actors::domain::conversation::ConversationStatus;
use switchboard_actors::domain::inactivity::CustomerPresence;
use switchboard_actors::domain::settings::{HandoffSettings, TriggerMode};
use switchboard_actors::ids::{ConversationId, CustomerId, MessageId, ProjectId, UserId};
use switchboard_actors::ports::{
    AgentRecord, ConversationRecord, MessageRecord, SenderType, StoreError, StoreResult,
};
use uuid::Uuid;

/// Upserted by project: on conflict every setting is replaced, the row's
/// id, project and creation time are kept.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = handoff_settings)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbSettings {
    pub id: String,
    #[diesel(skip_update)]
    pub project_id: String,
    pub enabled: bool,
    pub trigger_mode: String,
    pub show_human_button: bool,
    pub auto_triggers: String,
    pub business_hours_enabled: bool,
    pub timezone: String,
    pub business_hours: String,
    pub default_max_concurrent_chats: i32,
    pub inactivity_timeout_minutes: i32,
    pub auto_close_after_warning_minutes: i32,
    pub session_keep_alive_minutes: i32,
    pub send_inactivity_warning: bool,
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl DbSettings {
    /// A row for `project` holding `s`, written at `at`.
    pub fn new(project: ProjectId, s: &HandoffSettings, at: DateTime<Utc>) -> StoreResult<Self> {
        Ok(Self {
            id: Uuid::new_v4().to_string(),
            project_id: project.to_string(),
            enabled: s.enabled,
            trigger_mode: s.trigger_mode.as_str().to_string(),
            show_human_button: s.show_human_button,
            auto_triggers: json_text("handoff_settings.auto_triggers", &s.auto_triggers)?,
            business_hours_enabled: s.business_hours_enabled,
            timezone: s.timezone.clone(),
            business_hours: json_text("handoff_settings.business_hours", &s.business_hours)?,
            default_max_concurrent_chats: to_i32(
                "default_max_concurrent_chats",
                s.default_max_concurrent_chats,
            )?,
            inactivity_timeout_minutes: to_i32(
                "inactivity_timeout_minutes",
                s.inactivity_timeout_minutes,
            )?,
            auto_close_after_warning_minutes: to_i32(
                "auto_close_after_warning_minutes",
                s.auto_close_after_warning_minutes,
            )?,
            session_keep_alive_minutes: to_i32(
                "session_keep_alive_minutes",
                s.session_keep_alive_minutes,
            )?,
            send_inactivity_warning: s.send_inactivity_warning,
            created_at: ts(at),
            updated_at: ts(at),
        })
    }
}

impl TryFrom<DbSettings> for HandoffSettings {
    type Error = StoreError;
    fn try_from(r: DbSettings) -> StoreResult<Self> {
        let trigger_mode: TriggerMode =
            serde_json::from_value(serde_json::Value::String(r.trigger_mode.clone()))
                .map_err(|_| corrupt("handoff_settings.trigger_mode", &r.trigger_mode))?;
        Ok(Self {
            enabled: r.enabled,
            trigger_mode,
            show_human_button: r.show_human_button,
            auto_triggers: from_json("handoff_settings.auto_triggers", &r.auto_triggers)?,
            business_hours_enabled: r.business_hours_enabled,
            timezone: r.timezone,
            business_hours: from_json("handoff_settings.business_hours", &r.business_hours)?,
            default_max_concurrent_chats: to_u32(
                "handoff_settings.default_max_concurrent_chats",
                r.default_max_concurrent_chats,
            )?,
            inactivity_timeout_minutes: to_u32(
                "handoff_settings.inactivity_timeout_minutes",
                r.inactivity_timeout_minutes,
            )?,
            auto_close_after_warning_minutes: to_u32(
                "handoff_settings.auto_close_after_warning_minutes",
                r.auto_close_after_warning_minutes,
            )?,
            session_keep_alive_minutes: to_u32(
                "handoff_settings.session_keep_alive_minutes",
                r.session_keep_alive_minutes,
            )?,
            send_inactivity_warning: r.send_inactivity_warning,
        })
    }
}

/// The capacity ledger row; upserted by (user, project), keeping its
/// creation time.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = agent_availability)]
#[diesel(primary_key(user_id, project_id))]
#[diesel(treat_none_as_null = true)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbAgent {
    pub user_id: String,
    pub project_id: String,
    pub status: String,
    pub max_concurrent_chats: i32,
    pub current_chat_count: i32,
    pub last_seen_at: NaiveDateTime,
    pub last_assigned_at: Option<NaiveDateTime>,
    pub status_changed_at: NaiveDateTime,
    pub auto_offline_enabled: bool,
    pub auto_offline_minutes: i32,
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl DbAgent {
    /// The ledger row of `a`, written at `now` (bookkeeping only).
    pub fn from_record(a: &AgentRecord, now: DateTime<Utc>) -> StoreResult<Self> {
        Ok(Self {
            user_id: a.user_id.to_string(),
            project_id: a.project_id.to_string(),
            status: a.status.as_str().to_string(),
            max_concurrent_chats: to_i32("max_concurrent_chats", a.max_concurrent_chats)?,
            current_chat_count: to_i32("current_chat_count", a.current_chat_count)?,
            last_seen_at: ts(a.last_seen_at),
            last_assigned_at: ts_opt(a.last_assigned_at),
            status_changed_at: ts(a.status_changed_at),
            auto_offline_enabled: a.auto_offline_enabled,
            auto_offline_minutes: to_i32("auto_offline_minutes", a.auto_offline_minutes)?,
            created_at: ts(now),
            updated_at: ts(now),
        })
    }
}

/// Seed 003 6.2.2 defaults for a member who has no ledger row yet.
pub(crate) const DEFAULT_AUTO_OFFLINE_ENABLED: bool = true;

pub(crate) const DEFAULT_AUTO_OFFLINE_MINUTES: u32 = 30;

/// One row of the agents query: the membership, the user, and the ledger
/// row when there is one.
pub type AgentJoin = (DbMember, DbUser, Option<DbAgent>);

/// Builds the engine's ledger entry from a joined row. A member without a
/// ledger row is offline, with the member's max, last seen when they joined.
pub fn agent_record((member, user, ledger): AgentJoin) -> StoreResult<AgentRecord> {
    let project_id: ProjectId = id("project_members.project_id", &member.project_id)?;
    let user_id: UserId = id("users.id", &user.id)?;
    match ledger {
        Some(a) => Ok(AgentRecord {
            project_id,
            user_id,
            name: user.name,
            avatar_url: user.avatar_url,
            status: AgentStatus::parse(&a.status)
                .ok_or_else(|| corrupt("agent_availability.status", &a.status))?,
            max_concurrent_chats: to_u32(
                "agent_availability.max_concurrent_chats",
                a.max_concurrent_chats,
            )?,
            current_chat_count: to_u32(
                "agent_availability.current_chat_count",
                a.current_chat_count,
            )?,
            last_seen_at: utc(a.last_seen_at),
            last_assigned_at: utc_opt(a.last_assigned_at),
            status_changed_at: utc(a.status_changed_at),
            auto_offline_enabled: a.auto_offline_enabled,
            auto_offline_minutes: to_u32(
                "agent_availability.auto_offline_minutes",
                a.auto_offline_minutes,
            )?,
        }),
        None => {
            let joined = utc(member.accepted_at.unwrap_or(member.created_at));
            Ok(AgentRecord {
                project_id,
                user_id,
                name: user.name,
                avatar_url: user.avatar_url,
                status: AgentStatus::Offline,
                max_concurrent_chats: to_u32(
                    "project_members.max_concurrent_chats",
                    member.max_concurrent_chats,
                )?,
                current_chat_count: 0,
                last_seen_at: joined,
                last_assigned_at: None,
                status_changed_at: joined,
                auto_offline_enabled: DEFAULT_AUTO_OFFLINE_ENABLED,
                auto_offline_minutes: DEFAULT_AUTO_OFFLINE_MINUTES,
            })
        }
    }
}

/// The engine's snapshot of a conversation, upserted whole by id (all but
/// `customer_id`, see `ConversationConflict`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = conversations)]
#[diesel(treat_none_as_null = true)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbConversation {
    pub id: String,
    pub project_id: String,
    pub customer_id: Option<String>,
    pub visitor_id: String,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    pub status: String,
    pub assigned_agent_id: Option<String>,
    pub handoff_reason: Option<String>,
    pub handoff_triggered_at: Option<NaiveDateTime>,
    pub ai_confidence_at_handoff: Option<f64>,
    pub trigger_keyword: Option<String>,
    pub ai_messages_before_handoff: i64,
    pub queue_entered_at: Option<NaiveDateTime>,
    pub claimed_at: Option<NaiveDateTime>,
    pub first_response_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    pub resolved_by: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
    pub satisfaction_rating: Option<i32>,
    pub satisfaction_feedback: Option<String>,
    pub customer_presence: String,
    pub customer_last_seen_at: Option<NaiveDateTime>,
    pub auto_close_warning_sent_at: Option<NaiveDateTime>,
    pub source: String,
    pub metadata: String,
    pub tags: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_message_at: NaiveDateTime,
    pub customer_email_verified: bool,
}

impl DbConversation {
    pub fn from_record(c: &ConversationRecord) -> StoreResult<Self> {
        Ok(Self {
            id: c.id.to_string(),
            project_id: c.project_id.to_string(),
            customer_id: opt_string(c.customer_id),
            visitor_id: c.visitor_id.clone(),
            customer_email: c.customer_email.clone(),
            customer_name: c.customer_name.clone(),
            status: c.status.as_str().to_string(),
            assigned_agent_id: opt_string(c.assigned_agent_id),
            handoff_reason: c.handoff_reason.clone(),
            handoff_triggered_at: ts_opt(c.handoff_triggered_at),
            ai_confidence_at_handoff: c.ai_confidence_at_handoff,
            trigger_keyword: c.trigger_keyword.clone(),
            ai_messages_before_handoff: c.ai_messages_before_handoff,
            queue_entered_at: ts_opt(c.queue_entered_at),
            claimed_at: ts_opt(c.claimed_at),
            first_response_at: ts_opt(c.first_response_at),
            resolved_at: ts_opt(c.resolved_at),
            resolved_by: opt_string(c.resolved_by),
            closed_at: ts_opt(c.closed_at),
            satisfaction_rating: c.satisfaction_rating,
            satisfaction_feedback: c.satisfaction_feedback.clone(),
            customer_presence: c.customer_presence.as_str().to_string(),
            customer_last_seen_at: ts_opt(c.customer_last_seen_at),
            auto_close_warning_sent_at: ts_opt(c.auto_close_warning_sent_at),
            source: c.source.clone(),
            metadata: json_text("conversations.metadata", &c.metadata)?,
            tags: json_text("conversations.tags", &c.tags)?,
            created_at: ts(c.created_at),
            updated_at: ts(c.updated_at),
            last_message_at: ts(c.last_message_at),
            customer_email_verified: c.customer_email_verified,
        })
    }
}

impl TryFrom<DbConversation> for ConversationRecord {
    type Error = StoreError;
    fn try_from(r: DbConversation) -> StoreResult<Self> {
        Ok(Self {
            id: id::<ConversationId>("conversations.id", &r.id)?,
            project_id: id("conversations.project_id", &r.project_id)?,
            customer_id: id_opt::<CustomerId>(
                "conversations.customer_id",
                r.customer_id.as_deref(),
            )?,
            status: ConversationStatus::parse(&r.status)
                .ok_or_else(|| corrupt("conversations.status", &r.status))?,
            assigned_agent_id: id_opt(
                "conversations.assigned_agent_id",
                r.assigned_agent_id.as_deref(),
            )?,
            resolved_by: id_opt("conversations.resolved_by", r.resolved_by.as_deref())?,
            metadata: from_json("conversations.metadata", &r.metadata)?,
            tags: from_json("conversations.tags", &r.tags)?,
            visitor_id: r.visitor_id,
            customer_email: r.customer_email,
            customer_email_verified: r.customer_email_verified,
            customer_name: r.customer_name,
            handoff_reason: r.handoff_reason,
            handoff_triggered_at: utc_opt(r.handoff_triggered_at),
            ai_confidence_at_handoff: r.ai_confidence_at_handoff,
            trigger_keyword: r.trigger_keyword,
            ai_messages_before_handoff: r.ai_messages_before_handoff,
            queue_entered_at: utc_opt(r.queue_entered_at),
            claimed_at: utc_opt(r.claimed_at),
            first_response_at: utc_opt(r.first_response_at),
            resolved_at: utc_opt(r.resolved_at),
            closed_at: utc_opt(r.closed_at),
            satisfaction_rating: r.satisfaction_rating,
            satisfaction_feedback: r.satisfaction_feedback,
            customer_presence: CustomerPresence::parse(&r.customer_presence)
                .ok_or_else(|| corrupt("conversations.customer_presence", &r.customer_presence))?,
            customer_last_seen_at: utc_opt(r.customer_last_seen_at),
            auto_close_warning_sent_at: utc_opt(r.auto_close_warning_sent_at),
            source: r.source,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            last_message_at: utc(r.last_message_at),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbMessage {
    pub id: String,
    pub conversation_id: String,
    pub seq: i64,
    pub sender_type: String,
    pub sender_id: Option<String>,
    pub content: String,
    pub metadata: String,
    pub client_msg_id: Option<String>,
    pub internal: bool,
    pub created_at: NaiveDateTime,
}

impl DbMessage {
    pub fn from_record(m: &MessageRecord) -> StoreResult<Self> {
        Ok(Self {
            id: m.id.to_string(),
            conversation_id: m.conversation_id.to_string(),
            seq: m.seq,
            sender_type: m.sender_type.as_str().to_string(),
            sender_id: opt_string(m.sender_id),
            content: m.content.clone(),
            metadata: json_text("messages.metadata", &m.metadata)?,
            client_msg_id: m.client_msg_id.clone(),
            internal: m.internal,
            created_at: ts(m.created_at),
        })
    }
}

impl TryFrom<DbMessage> for MessageRecord {
    type Error = StoreError;
    fn try_from(r: DbMessage) -> StoreResult<Self> {
        Ok(Self {
            id: id::<MessageId>("messages.id", &r.id)?,
            conversation_id: id("messages.conversation_id", &r.conversation_id)?,
            sender_type: SenderType::parse(&r.sender_type)
                .ok_or_else(|| corrupt("messages.sender_type", &r.sender_type))?,
            sender_id: id_opt("messages.sender_id", r.sender_id.as_deref())?,
            metadata: from_json("messages.metadata", &r.metadata)?,
            seq: r.seq,
            content: r.content,
            client_msg_id: r.client_msg_id,
            internal: r.internal,
            created_at: utc(r.created_at),
        })
    }
}

/// The list query in stored form (see `ConversationFilter`).
pub struct ListQuery {
    pub project_ids: Vec<String>,
    pub status: Option<String>,
    pub assigned_to: Option<String>,
    pub customer_id: Option<String>,
    /// Only these ids, or a customer name or email containing `like`
    /// (the search's `q`, see `ConversationFilter::text`).
    pub matching: Option<(Vec<String>, String)>,
    /// A LIKE pattern over the stored tags' JSON.
    pub tag_like: Option<String>,
    pub cursor: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// The dashboard's conversation list query. Results come newest
/// `last_message_at` first; pass the last row's `(last_message_at, id)` as
/// `cursor` to get the next page.
#[derive(Debug, Clone)]
pub struct ConversationFilter {
    /// Projects to list from; empty yields nothing.
    pub project_ids: Vec<ProjectId>,
    pub status: Option<ConversationStatus>,
    pub assigned_to: Option<UserId>,
    pub customer_id: Option<CustomerId>,
    /// Search: conversations with a message whose words start with each
    /// word of this text, or whose customer name or email contains it.
    pub text: Option<String>,
    /// Only conversations with this tag (as stored: lower case).
    pub tag: Option<String>,
    /// Rows strictly after this position in the ordering.
    pub cursor: Option<(DateTime<Utc>, ConversationId)>,
    pub limit: i64,
}
