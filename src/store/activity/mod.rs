//! The activity explorer's store (seed 002): activity sessions, their tool
//! calls and support requests; recording them, and the explorer's reads.
//! Laid out as every area of the store: `records`, `queries` (reads),
//! `writes`, and here the operations on [`Db`].
//!
//! Counts are never stored: each page of sessions carries `COUNT(*)`
//! subqueries over `tool_calls` and `support_requests`, answered from
//! their `(activity_session_id, created_at, id)` indexes (seed 002 2.1);
//! the store tests seed a large data set and check that each read walks an
//! index.

mod queries;
mod records;
mod writes;

pub use queries::{
    full_tool_calls_sql, session_sql, support_requests_sql, tool_calls_sql, user_sessions_sql,
    Cursor, Param, Statement,
};
pub use records::{ActivitySession, SessionSummary, SupportRequest, ToolCall, ToolCallSummary};

use crate::store::conn::{first_row, with_conn, DbConn};
use crate::store::convert::ts;
use crate::store::db::{detached, Db};
use crate::store::error::ResultExt;
use crate::store::schema::{activity_sessions, support_requests, tool_calls};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use diesel_async::RunQueryDsl;
use queries::*;
use records::*;
use switchboard_actors::ids::{ActivitySessionId, ProjectId, SupportRequestId, ToolCallId};
use switchboard_actors::ports::StoreResult;
use writes::*;

impl Db {
    pub async fn insert_activity_session(&self, s: &ActivitySession) -> StoreResult<()> {
        self.insert_activity_sessions(std::slice::from_ref(s)).await
    }

    /// Many sessions in one transaction (seeding large data sets).
    pub async fn insert_activity_sessions(&self, s: &[ActivitySession]) -> StoreResult<()> {
        let rows: Vec<DbActivitySession> = s.iter().map(DbActivitySession::from).collect();
        insert_rows!(self, activity_sessions::table, rows)
    }

    /// Records a tool call; its payloads are stored as JSON text.
    pub async fn insert_tool_call(&self, t: &ToolCall) -> StoreResult<()> {
        self.insert_tool_calls(std::slice::from_ref(t)).await
    }

    /// Many tool calls in one transaction.
    pub async fn insert_tool_calls(&self, calls: &[ToolCall]) -> StoreResult<()> {
        let rows: Vec<DbToolCall> = calls.iter().map(DbToolCall::from).collect();
        insert_rows!(self, tool_calls::table, rows)
    }

    pub async fn insert_support_request(&self, r: &SupportRequest) -> StoreResult<()> {
        self.insert_support_requests(std::slice::from_ref(r)).await
    }

    /// Many support requests in one transaction.
    pub async fn insert_support_requests(&self, r: &[SupportRequest]) -> StoreResult<()> {
        let rows: Vec<DbSupportRequest> = r.iter().map(DbSupportRequest::from).collect();
        insert_rows!(self, support_requests::table, rows)
    }

    /// Sets a support request's status (`resolved_at` with it); `None`
    /// when there is no such request.
    pub async fn set_support_request_status(
        &self,
        id: SupportRequestId,
        status: &'static str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<SupportRequest>> {
        let db = self.clone();
        let resolved_at = (status == "resolved").then(|| ts(at));
        detached(async move {
            let conn = &mut *db.conn().await?;
            let n = update_support_request_status(conn, id, status, resolved_at).await?;
            if n == 0 {
                return Ok(None);
            }
            support_request_of(conn, id).await
        })
        .await
    }

    /// A session with its counts.
    pub async fn activity_session(
        &self,
        id: ActivitySessionId,
    ) -> StoreResult<Option<SessionSummary>> {
        self.pooled(async move |c| {
            let conn = c;
            let rows = load_statement!(conn, &session_sql(id), DbSessionSummary)?;
            rows.into_iter()
                .next()
                .map(SessionSummary::try_from)
                .transpose()
        })
        .await
    }

    /// A user's sessions with fresh counts, newest first (see
    /// [`user_sessions_sql`]).
    pub async fn user_sessions(
        &self,
        project: ProjectId,
        user: &str,
        q: Option<&str>,
        cursor: Option<Cursor>,
        limit: i64,
    ) -> StoreResult<Vec<SessionSummary>> {
        fetch!(self, user_sessions_sql(project, user, q, cursor.as_ref(), limit), DbSessionSummary => SessionSummary)
    }

    /// A session's tool calls newest first, without payloads.
    pub async fn session_tool_calls(
        &self,
        session: ActivitySessionId,
        cursor: Option<Cursor>,
        limit: i64,
    ) -> StoreResult<Vec<ToolCallSummary>> {
        fetch!(self, tool_calls_sql(session, cursor.as_ref(), limit), DbToolCallSummary => ToolCallSummary)
    }

    /// A session's tool calls newest first, whole.
    pub async fn session_tool_calls_full(
        &self,
        session: ActivitySessionId,
        cursor: Option<Cursor>,
        limit: i64,
    ) -> StoreResult<Vec<ToolCall>> {
        fetch!(self, full_tool_calls_sql(session, cursor.as_ref(), limit), DbToolCall => ToolCall)
    }

    /// A session's support requests newest first.
    pub async fn session_support_requests(
        &self,
        session: ActivitySessionId,
        cursor: Option<Cursor>,
        limit: i64,
    ) -> StoreResult<Vec<SupportRequest>> {
        fetch!(self, support_requests_sql(session, cursor.as_ref(), limit), DbSupportRequest => SupportRequest)
    }

    /// One tool call.
    pub async fn tool_call(&self, id: ToolCallId) -> StoreResult<Option<ToolCall>> {
        self.pooled(async move |c| {
            let conn = c;
            let row: Option<DbToolCall> = first_row!(
                conn,
                tool_calls::table
                    .filter(tool_calls::id.eq(id.to_string()))
                    .select(DbToolCall::as_select())
            )?;
            row.map(ToolCall::try_from).transpose()
        })
        .await
    }

    /// One support request.
    pub async fn support_request(
        &self,
        id: SupportRequestId,
    ) -> StoreResult<Option<SupportRequest>> {
        self.pooled(async move |c| support_request_of(c, id).await)
            .await
    }

    /// The plan the backend chooses for `st`, one line per step (tests and
    /// diagnostics: which index each of the explorer's reads walks).
    pub async fn explain(&self, st: &Statement) -> StoreResult<Vec<String>> {
        let db = self.clone();
        let st = st.clone();
        detached(async move {
            let conn = &mut *db.conn().await?;
            let plan = Statement {
                sql: format!("{}{}", conn.explain_prefix(), st.sql),
                params: st.params,
            };
            Ok(match conn {
                DbConn::Sqlite(_) => load_statement!(conn, &plan, SqlitePlanRow)?
                    .into_iter()
                    .map(|r| r.detail)
                    .collect(),
                DbConn::Pg(_) => load_statement!(conn, &plan, PgPlanRow)?
                    .into_iter()
                    .map(|r| r.plan)
                    .collect(),
            })
        })
        .await
    }

    /// Refreshes the planner's statistics (after a bulk load).
    pub async fn analyze(&self) -> StoreResult<()> {
        self.pooled(async move |c| {
            let conn = c;
            with_conn!(conn, |c| diesel::sql_query("ANALYZE")
                .execute(c)
                .await
                .store()
                .map(drop))
        })
        .await
    }
}
