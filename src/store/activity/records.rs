//! The activity explorer's records (activity sessions, tool calls,
//! support requests, and their summaries with counts) and their database
//! rows, with the conversions between them.

use crate::store::convert::{parse_id, ts};
use crate::store::error::corrupt;
use crate::store::schema::{activity_sessions, support_requests, tool_calls};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use serde::Serialize;
use serde_json::Value;
use switchboard_actors::ids::{ActivitySessionId, ProjectId, SupportRequestId, ToolCallId};
use switchboard_actors::ports::{StoreError, StoreResult};

/// An activity session as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivitySession {
    pub id: ActivitySessionId,
    pub project_id: ProjectId,
    pub user_id: String,
    pub server_name: String,
    pub server_slug: String,
    pub title: Option<String>,
    #[serde(with = "switchboard_actors::wire_time")]
    pub connected_at: DateTime<Utc>,
}

/// A session as the explorer lists it: with its counts, computed fresh.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionSummary {
    #[serde(flatten)]
    pub session: ActivitySession,
    pub tool_call_count: i64,
    pub support_ticket_count: i64,
}

/// One AI tool call with its JSON input and output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCall {
    pub id: ToolCallId,
    pub project_id: ProjectId,
    pub activity_session_id: ActivitySessionId,
    pub tool_name: String,
    pub input: Value,
    pub output: Value,
    #[serde(with = "switchboard_actors::wire_time")]
    pub created_at: DateTime<Utc>,
}

/// A tool call in a session's list: no payloads (they can be large), only
/// their sizes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCallSummary {
    pub id: ToolCallId,
    pub activity_session_id: ActivitySessionId,
    pub tool_name: String,
    pub input_bytes: i64,
    pub output_bytes: i64,
    #[serde(with = "switchboard_actors::wire_time")]
    pub created_at: DateTime<Utc>,
}

/// A support request, maybe raised from a session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupportRequest {
    pub id: SupportRequestId,
    pub project_id: ProjectId,
    pub activity_session_id: Option<ActivitySessionId>,
    pub user_id: Option<String>,
    pub title: String,
    pub concise_summary: Option<String>,
    pub context: Option<String>,
    /// `open` or `resolved`.
    pub status: String,
    #[serde(with = "switchboard_actors::wire_time::option")]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(with = "switchboard_actors::wire_time")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, QueryableByName)]
#[diesel(table_name = activity_sessions)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
pub(super) struct DbActivitySession {
    id: String,
    project_id: String,
    user_id: String,
    server_name: String,
    server_slug: String,
    title: Option<String>,
    connected_at: NaiveDateTime,
}

impl From<&ActivitySession> for DbActivitySession {
    fn from(s: &ActivitySession) -> Self {
        Self {
            id: s.id.to_string(),
            project_id: s.project_id.to_string(),
            user_id: s.user_id.clone(),
            server_name: s.server_name.clone(),
            server_slug: s.server_slug.clone(),
            title: s.title.clone(),
            connected_at: ts(s.connected_at),
        }
    }
}

impl TryFrom<DbActivitySession> for ActivitySession {
    type Error = StoreError;
    fn try_from(r: DbActivitySession) -> StoreResult<Self> {
        Ok(Self {
            id: parse_id("activity_sessions.id", &r.id)?,
            project_id: parse_id("activity_sessions.project_id", &r.project_id)?,
            user_id: r.user_id,
            server_name: r.server_name,
            server_slug: r.server_slug,
            title: r.title,
            connected_at: r.connected_at.and_utc(),
        })
    }
}

/// A session row with its two counts (the explorer's list and detail).
#[derive(QueryableByName)]
pub(super) struct DbSessionSummary {
    #[diesel(embed)]
    session: DbActivitySession,
    #[diesel(sql_type = BigInt)]
    tool_call_count: i64,
    #[diesel(sql_type = BigInt)]
    support_ticket_count: i64,
}

impl TryFrom<DbSessionSummary> for SessionSummary {
    type Error = StoreError;
    fn try_from(r: DbSessionSummary) -> StoreResult<Self> {
        Ok(Self {
            session: r.session.try_into()?,
            tool_call_count: r.tool_call_count,
            support_ticket_count: r.support_ticket_count,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, QueryableByName)]
#[diesel(table_name = tool_calls)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
pub(super) struct DbToolCall {
    id: String,
    project_id: String,
    activity_session_id: String,
    tool_name: String,
    input: String,
    output: String,
    created_at: NaiveDateTime,
}

impl TryFrom<DbToolCall> for ToolCall {
    type Error = StoreError;
    fn try_from(r: DbToolCall) -> StoreResult<Self> {
        let json = |what: &str, s: &str| {
            serde_json::from_str(s).map_err(|e| corrupt(what, format!("not JSON: {e}")))
        };
        Ok(Self {
            id: parse_id("tool_calls.id", &r.id)?,
            project_id: parse_id("tool_calls.project_id", &r.project_id)?,
            activity_session_id: parse_id(
                "tool_calls.activity_session_id",
                &r.activity_session_id,
            )?,
            tool_name: r.tool_name,
            input: json("tool_calls.input", &r.input)?,
            output: json("tool_calls.output", &r.output)?,
            created_at: r.created_at.and_utc(),
        })
    }
}

#[derive(QueryableByName)]
pub(super) struct DbToolCallSummary {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    activity_session_id: String,
    #[diesel(sql_type = Text)]
    tool_name: String,
    #[diesel(sql_type = BigInt)]
    input_bytes: i64,
    #[diesel(sql_type = BigInt)]
    output_bytes: i64,
    #[diesel(sql_type = Timestamp)]
    created_at: NaiveDateTime,
}

impl TryFrom<DbToolCallSummary> for ToolCallSummary {
    type Error = StoreError;
    fn try_from(r: DbToolCallSummary) -> StoreResult<Self> {
        Ok(Self {
            id: parse_id("tool_calls.id", &r.id)?,
            activity_session_id: parse_id(
                "tool_calls.activity_session_id",
                &r.activity_session_id,
            )?,
            tool_name: r.tool_name,
            input_bytes: r.input_bytes,
            output_bytes: r.output_bytes,
            created_at: r.created_at.and_utc(),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, QueryableByName)]
#[diesel(table_name = support_requests)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
pub(super) struct DbSupportRequest {
    id: String,
    project_id: String,
    activity_session_id: Option<String>,
    user_id: Option<String>,
    title: String,
    concise_summary: Option<String>,
    context: Option<String>,
    status: String,
    resolved_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

impl From<&SupportRequest> for DbSupportRequest {
    fn from(r: &SupportRequest) -> Self {
        Self {
            id: r.id.to_string(),
            project_id: r.project_id.to_string(),
            activity_session_id: r.activity_session_id.map(|s| s.to_string()),
            user_id: r.user_id.clone(),
            title: r.title.clone(),
            concise_summary: r.concise_summary.clone(),
            context: r.context.clone(),
            status: r.status.clone(),
            resolved_at: r.resolved_at.map(ts),
            created_at: ts(r.created_at),
        }
    }
}

impl TryFrom<DbSupportRequest> for SupportRequest {
    type Error = StoreError;
    fn try_from(r: DbSupportRequest) -> StoreResult<Self> {
        Ok(Self {
            id: parse_id("support_requests.id", &r.id)?,
            project_id: parse_id("support_requests.project_id", &r.project_id)?,
            activity_session_id: r
                .activity_session_id
                .as_deref()
                .map(|s| parse_id("support_requests.activity_session_id", s))
                .transpose()?,
            user_id: r.user_id,
            title: r.title,
            concise_summary: r.concise_summary,
            context: r.context,
            status: r.status,
            resolved_at: r.resolved_at.map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
        })
    }
}

/// One line of a plan.
#[derive(QueryableByName)]
pub(super) struct SqlitePlanRow {
    #[diesel(sql_type = Text)]
    pub(super) detail: String,
}

#[derive(QueryableByName)]
pub(super) struct PgPlanRow {
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "QUERY PLAN")]
    pub(super) plan: String,
}

impl From<&ToolCall> for DbToolCall {
    fn from(t: &ToolCall) -> Self {
        Self {
            id: t.id.to_string(),
            project_id: t.project_id.to_string(),
            activity_session_id: t.activity_session_id.to_string(),
            tool_name: t.tool_name.clone(),
            input: t.input.to_string(),
            output: t.output.to_string(),
            created_at: ts(t.created_at),
        }
    }
}
