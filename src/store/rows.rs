//! Database rows: one diesel struct per table (Queryable, Selectable,
//! Insertable, and AsChangeset where a row is upserted), with the
//! conversions to and from the port's records and the store's records.
//! This is the only place that knows how a value is stored: uuids as
//! lowercase text, JSON as text, enums by their snake_case names, times as
//! UTC `NaiveDateTime` truncated to microseconds (what PostgreSQL keeps, so
//! both backends give back the same value).

use super::error::corrupt;
use super::records::{
    CustomerRow, KnowledgeRow, MemberRole, MemberRow, MemberStatus, ProjectRow, TokenKind,
    TokenRow, UserRow,
};
use super::schema::{
    agent_availability, auth_tokens, conversations, customers, handoff_settings, knowledge_entries,
    messages, project_members, projects, users,
};
use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::str::FromStr;
use switchboard_actors::domain::agents::AgentStatus;
use switchboard_actors::domain::conversation::ConversationStatus;
use switchboard_actors::domain::inactivity::CustomerPresence;
use switchboard_actors::domain::settings::{HandoffSettings, TriggerMode};
use switchboard_actors::ids::{ConversationId, CustomerId, MessageId, ProjectId, UserId};
use switchboard_actors::ports::{
    AgentRecord, ConversationRecord, MessageRecord, SenderType, StoreError, StoreResult,
};
use uuid::Uuid;

// ---------------------------------------------------------------- helpers

/// A UTC instant as stored.
pub fn ts(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

pub(crate) fn ts_opt(t: Option<DateTime<Utc>>) -> Option<NaiveDateTime> {
    t.map(ts)
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

fn utc_opt(t: Option<NaiveDateTime>) -> Option<DateTime<Utc>> {
    t.map(utc)
}

/// Parses a stored id (a typed id or a bare uuid).
fn id<T: FromStr>(what: &str, s: &str) -> StoreResult<T>
where
    T::Err: std::fmt::Display,
{
    T::from_str(s).map_err(|e| corrupt(what, format!("{s:?}: {e}")))
}

fn id_opt<T: FromStr>(what: &str, s: Option<&str>) -> StoreResult<Option<T>>
where
    T::Err: std::fmt::Display,
{
    s.map(|s| id(what, s)).transpose()
}

fn opt_string<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|v| v.to_string())
}

pub fn json_text<T: Serialize + ?Sized>(what: &str, v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("encode {what}: {e}")))
}

fn from_json<T: DeserializeOwned>(what: &str, s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| corrupt(what, e))
}

fn to_i32(what: &str, v: u32) -> StoreResult<i32> {
    i32::try_from(v).map_err(|_| StoreError::Backend(format!("{what} out of range: {v}")))
}

fn to_u32(what: &str, v: i32) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| corrupt(what, v))
}

// ---------------------------------------------------------------- users

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbUser {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub avatar_url: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub can_create_projects: bool,
    pub email_verified: bool,
}

impl From<&UserRow> for DbUser {
    fn from(u: &UserRow) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.to_lowercase(),
            name: u.name.clone(),
            password_hash: u.password_hash.clone(),
            avatar_url: u.avatar_url.clone(),
            created_at: ts(u.created_at),
            updated_at: ts(u.updated_at),
            can_create_projects: u.can_create_projects,
            email_verified: u.email_verified,
        }
    }
}

impl TryFrom<DbUser> for UserRow {
    type Error = StoreError;
    fn try_from(r: DbUser) -> StoreResult<Self> {
        Ok(Self {
            id: id("users.id", &r.id)?,
            email: r.email,
            name: r.name,
            password_hash: r.password_hash,
            avatar_url: r.avatar_url,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            can_create_projects: r.can_create_projects,
            email_verified: r.email_verified,
        })
    }
}

// ---------------------------------------------------------------- tokens

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = auth_tokens)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbToken {
    pub token_hash: String,
    pub kind: String,
    pub user_id: Option<String>,
    pub project_id: Option<String>,
    pub visitor_id: Option<String>,
    pub customer_id: Option<String>,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

impl From<&TokenRow> for DbToken {
    fn from(t: &TokenRow) -> Self {
        Self {
            token_hash: t.token_hash.clone(),
            kind: t.kind.as_str().to_string(),
            user_id: opt_string(t.user_id),
            project_id: opt_string(t.project_id),
            visitor_id: t.visitor_id.clone(),
            customer_id: opt_string(t.customer_id),
            expires_at: ts(t.expires_at),
            created_at: ts(t.created_at),
        }
    }
}

impl TryFrom<DbToken> for TokenRow {
    type Error = StoreError;
    fn try_from(r: DbToken) -> StoreResult<Self> {
        Ok(Self {
            kind: TokenKind::parse(&r.kind).ok_or_else(|| corrupt("auth_tokens.kind", &r.kind))?,
            user_id: id_opt("auth_tokens.user_id", r.user_id.as_deref())?,
            project_id: id_opt("auth_tokens.project_id", r.project_id.as_deref())?,
            customer_id: id_opt("auth_tokens.customer_id", r.customer_id.as_deref())?,
            token_hash: r.token_hash,
            visitor_id: r.visitor_id,
            expires_at: utc(r.expires_at),
            created_at: utc(r.created_at),
        })
    }
}

// ---------------------------------------------------------------- projects

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = projects)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbProject {
    pub id: String,
    pub name: String,
    pub public_key: String,
    pub secret_key_hash: String,
    pub allowed_origins: String,
    pub owner_id: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl DbProject {
    pub fn from_row(p: &ProjectRow) -> StoreResult<Self> {
        Ok(Self {
            id: p.id.to_string(),
            name: p.name.clone(),
            public_key: p.public_key.clone(),
            secret_key_hash: p.secret_key_hash.clone(),
            allowed_origins: json_text("projects.allowed_origins", &p.allowed_origins)?,
            owner_id: p.owner_id.to_string(),
            created_at: ts(p.created_at),
            updated_at: ts(p.updated_at),
        })
    }
}

impl TryFrom<DbProject> for ProjectRow {
    type Error = StoreError;
    fn try_from(r: DbProject) -> StoreResult<Self> {
        Ok(Self {
            id: id("projects.id", &r.id)?,
            allowed_origins: from_json("projects.allowed_origins", &r.allowed_origins)?,
            owner_id: id("projects.owner_id", &r.owner_id)?,
            name: r.name,
            public_key: r.public_key,
            secret_key_hash: r.secret_key_hash,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

// ---------------------------------------------------------------- settings

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

// ---------------------------------------------------------------- members

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = project_members)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbMember {
    pub id: String,
    pub project_id: String,
    pub user_id: Option<String>,
    pub email: String,
    pub name: Option<String>,
    pub role: String,
    pub status: String,
    pub invited_by: String,
    pub invited_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub invite_token_hash: Option<String>,
    pub max_concurrent_chats: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl DbMember {
    pub fn from_row(m: &MemberRow) -> StoreResult<Self> {
        Ok(Self {
            id: m.id.to_string(),
            project_id: m.project_id.to_string(),
            user_id: opt_string(m.user_id),
            email: m.email.to_lowercase(),
            name: m.name.clone(),
            role: m.role.as_str().to_string(),
            status: m.status.as_str().to_string(),
            invited_by: m.invited_by.to_string(),
            invited_at: ts(m.invited_at),
            accepted_at: ts_opt(m.accepted_at),
            invite_token_hash: m.invite_token_hash.clone(),
            max_concurrent_chats: to_i32("max_concurrent_chats", m.max_concurrent_chats)?,
            created_at: ts(m.created_at),
            updated_at: ts(m.updated_at),
        })
    }
}

impl TryFrom<DbMember> for MemberRow {
    type Error = StoreError;
    fn try_from(r: DbMember) -> StoreResult<Self> {
        Ok(Self {
            id: id::<Uuid>("project_members.id", &r.id)?,
            project_id: id("project_members.project_id", &r.project_id)?,
            user_id: id_opt("project_members.user_id", r.user_id.as_deref())?,
            role: MemberRole::parse(&r.role)
                .ok_or_else(|| corrupt("project_members.role", &r.role))?,
            status: MemberStatus::parse(&r.status)
                .ok_or_else(|| corrupt("project_members.status", &r.status))?,
            invited_by: id("project_members.invited_by", &r.invited_by)?,
            max_concurrent_chats: to_u32(
                "project_members.max_concurrent_chats",
                r.max_concurrent_chats,
            )?,
            email: r.email,
            name: r.name,
            invited_at: utc(r.invited_at),
            accepted_at: utc_opt(r.accepted_at),
            invite_token_hash: r.invite_token_hash,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

// ---------------------------------------------------------------- agents

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
const DEFAULT_AUTO_OFFLINE_ENABLED: bool = true;
const DEFAULT_AUTO_OFFLINE_MINUTES: u32 = 30;

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

// ---------------------------------------------------------------- knowledge

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = knowledge_entries)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbKnowledge {
    pub id: String,
    pub project_id: String,
    pub question: String,
    pub answer: String,
    pub created_at: NaiveDateTime,
}

impl From<&KnowledgeRow> for DbKnowledge {
    fn from(k: &KnowledgeRow) -> Self {
        Self {
            id: k.id.to_string(),
            project_id: k.project_id.to_string(),
            question: k.question.clone(),
            answer: k.answer.clone(),
            created_at: ts(k.created_at),
        }
    }
}

impl TryFrom<DbKnowledge> for KnowledgeRow {
    type Error = StoreError;
    fn try_from(r: DbKnowledge) -> StoreResult<Self> {
        Ok(Self {
            id: id("knowledge_entries.id", &r.id)?,
            project_id: id("knowledge_entries.project_id", &r.project_id)?,
            question: r.question,
            answer: r.answer,
            created_at: utc(r.created_at),
        })
    }
}

// ---------------------------------------------------------------- customers

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = customers)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbCustomer {
    pub id: String,
    pub project_id: String,
    pub visitor_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub merged_visitor_ids: String,
    pub first_seen_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub total_conversations: i32,
    pub last_browser: Option<String>,
    pub last_device: Option<String>,
    pub last_os: Option<String>,
    pub last_page_url: Option<String>,
    pub last_location: Option<String>,
    pub last_timezone: Option<String>,
    pub last_language: Option<String>,
    pub last_referrer: Option<String>,
    pub is_flagged: bool,
    pub flag_reason: Option<String>,
    pub flagged_at: Option<NaiveDateTime>,
    pub flagged_by: Option<String>,
    pub internal_notes: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub email_verified: bool,
}

impl DbCustomer {
    pub fn from_row(c: &CustomerRow) -> StoreResult<Self> {
        Ok(Self {
            id: c.id.to_string(),
            project_id: c.project_id.to_string(),
            visitor_id: c.visitor_id.clone(),
            email: c.email.clone(),
            name: c.name.clone(),
            merged_visitor_ids: json_text("customers.merged_visitor_ids", &c.merged_visitor_ids)?,
            first_seen_at: ts(c.first_seen_at),
            last_seen_at: ts(c.last_seen_at),
            total_conversations: i32::try_from(c.total_conversations).map_err(|_| {
                StoreError::Backend(format!(
                    "total_conversations out of range: {}",
                    c.total_conversations
                ))
            })?,
            last_browser: c.last_browser.clone(),
            last_device: c.last_device.clone(),
            last_os: c.last_os.clone(),
            last_page_url: c.last_page_url.clone(),
            last_location: c.last_location.clone(),
            last_timezone: c.last_timezone.clone(),
            last_language: c.last_language.clone(),
            last_referrer: c.last_referrer.clone(),
            is_flagged: c.is_flagged,
            flag_reason: c.flag_reason.clone(),
            flagged_at: ts_opt(c.flagged_at),
            flagged_by: opt_string(c.flagged_by),
            internal_notes: c.internal_notes.clone(),
            created_at: ts(c.created_at),
            updated_at: ts(c.updated_at),
            email_verified: c.email_verified,
        })
    }
}

impl TryFrom<DbCustomer> for CustomerRow {
    type Error = StoreError;
    fn try_from(r: DbCustomer) -> StoreResult<Self> {
        Ok(Self {
            id: id("customers.id", &r.id)?,
            project_id: id("customers.project_id", &r.project_id)?,
            merged_visitor_ids: from_json("customers.merged_visitor_ids", &r.merged_visitor_ids)?,
            flagged_by: id_opt("customers.flagged_by", r.flagged_by.as_deref())?,
            visitor_id: r.visitor_id,
            email: r.email,
            name: r.name,
            first_seen_at: utc(r.first_seen_at),
            last_seen_at: utc(r.last_seen_at),
            total_conversations: i64::from(r.total_conversations),
            last_browser: r.last_browser,
            last_device: r.last_device,
            last_os: r.last_os,
            last_page_url: r.last_page_url,
            last_location: r.last_location,
            last_timezone: r.last_timezone,
            last_language: r.last_language,
            last_referrer: r.last_referrer,
            is_flagged: r.is_flagged,
            flag_reason: r.flag_reason,
            flagged_at: utc_opt(r.flagged_at),
            internal_notes: r.internal_notes,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            email_verified: r.email_verified,
        })
    }
}

// ---------------------------------------------------------------- conversations

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

// ---------------------------------------------------------------- messages

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

/// Converts a batch of rows, failing on the first that does not decode.
pub fn convert_all<R, T>(rows: Vec<R>) -> StoreResult<Vec<T>>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}
