//! The activity explorer's store (seed 002): activity sessions, their tool
//! calls and support requests; recording them, and the explorer's reads.
//!
//! The reads are written once as SQL with `?` placeholders (see
//! [`DbConn::placeholders`]) so the exact statement the explorer runs can
//! also be asked for its plan ([`Db::explain`]): the store tests seed a
//! large data set and check that each read walks an index. Counts are never
//! stored: each page of sessions carries `COUNT(*)` subqueries over
//! `tool_calls` and `support_requests`, answered from their
//! `(activity_session_id, created_at, id)` indexes (seed 002 2.1).

use super::conn::{with_conn, DbConn};
use super::db::{detached, Db};
use super::error::{corrupt, ResultExt};
use super::rows::ts;
use super::schema::{activity_sessions, support_requests, tool_calls};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use serde_json::Value;
use std::str::FromStr;
use switchboard_actors::ids::{ActivitySessionId, ProjectId, SupportRequestId, ToolCallId};
use switchboard_actors::ports::{StoreError, StoreResult};

fn parse_id<T: FromStr>(what: &str, s: &str) -> StoreResult<T>
where
    T::Err: std::fmt::Display,
{
    T::from_str(s).map_err(|e| corrupt(what, format!("{s:?}: {e}")))
}

// ---------------------------------------------------------------- records

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

// ---------------------------------------------------------------- rows

#[derive(Debug, Clone, Queryable, Selectable, Insertable, QueryableByName)]
#[diesel(table_name = activity_sessions)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
struct DbActivitySession {
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
struct DbSessionSummary {
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
struct DbToolCall {
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
struct DbToolCallSummary {
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
struct DbSupportRequest {
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
struct SqlitePlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PgPlanRow {
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "QUERY PLAN")]
    plan: String,
}

// ---------------------------------------------------------------- statements

/// A bound value of a statement.
#[derive(Debug, Clone)]
pub enum Param {
    Text(String),
    Time(NaiveDateTime),
    Int(i64),
}

/// A statement of the explorer with its values.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Param>,
}

/// A keyset position: strictly older than `(at, id)`.
pub type Cursor = (DateTime<Utc>, String);

const SESSION_COLUMNS: &str = "s.id, s.project_id, s.user_id, s.server_name, s.server_slug, \
     s.title, s.connected_at, \
     (SELECT COUNT(*) FROM tool_calls t WHERE t.activity_session_id = s.id) AS tool_call_count, \
     (SELECT COUNT(*) FROM support_requests r WHERE r.activity_session_id = s.id) AS support_ticket_count";

/// `%q%` in lower case with LIKE's wildcards escaped (by `\`).
fn like_pattern(q: &str) -> String {
    let mut p = String::from("%");
    for ch in q.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

fn keyset(sql: &mut String, params: &mut Vec<Param>, at: &str, id: &str, cursor: Option<&Cursor>) {
    if let Some((t, last)) = cursor {
        sql.push_str(&format!(" AND ({at} < ? OR ({at} = ? AND {id} < ?))"));
        params.extend([
            Param::Time(ts(*t)),
            Param::Time(ts(*t)),
            Param::Text(last.clone()),
        ]);
    }
}

/// A user's sessions newest first with their counts; with `q`, only those
/// whose title, server name, a tool call's name or a support request's
/// title contains it (case-insensitive).
pub fn user_sessions_sql(
    project: ProjectId,
    user: &str,
    q: Option<&str>,
    cursor: Option<&Cursor>,
    limit: i64,
) -> Statement {
    let mut sql = format!(
        "SELECT {SESSION_COLUMNS} FROM activity_sessions s \
         WHERE s.project_id = ? AND s.user_id = ?"
    );
    let mut params = vec![Param::Text(project.to_string()), Param::Text(user.into())];
    keyset(&mut sql, &mut params, "s.connected_at", "s.id", cursor);
    if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
        // The item matches are uncorrelated subqueries that start from the
        // user's sessions (by idx_activity_sessions_user) and walk each
        // session's items by their index: written as correlated EXISTS,
        // PostgreSQL may instead hash a scan of every project's tool calls.
        sql.push_str(
            " AND (lower(COALESCE(s.title, '')) LIKE ? ESCAPE '\\' \
             OR lower(s.server_name) LIKE ? ESCAPE '\\' \
             OR s.id IN (SELECT t2.activity_session_id FROM activity_sessions s2 \
                         JOIN tool_calls t2 ON t2.activity_session_id = s2.id \
                         WHERE s2.project_id = ? AND s2.user_id = ? \
                         AND lower(t2.tool_name) LIKE ? ESCAPE '\\') \
             OR s.id IN (SELECT r2.activity_session_id FROM activity_sessions s3 \
                         JOIN support_requests r2 ON r2.activity_session_id = s3.id \
                         WHERE s3.project_id = ? AND s3.user_id = ? \
                         AND lower(r2.title) LIKE ? ESCAPE '\\'))",
        );
        let p = Param::Text(like_pattern(q));
        let (proj, usr) = (Param::Text(project.to_string()), Param::Text(user.into()));
        params.extend([
            p.clone(),
            p.clone(),
            proj.clone(),
            usr.clone(),
            p.clone(),
            proj,
            usr,
            p,
        ]);
    }
    sql.push_str(" ORDER BY s.connected_at DESC, s.id DESC LIMIT ?");
    params.push(Param::Int(limit));
    Statement { sql, params }
}

/// One session with its counts.
pub fn session_sql(id: ActivitySessionId) -> Statement {
    Statement {
        sql: format!("SELECT {SESSION_COLUMNS} FROM activity_sessions s WHERE s.id = ?"),
        params: vec![Param::Text(id.to_string())],
    }
}

/// A session's tool calls newest first, without their payloads.
pub fn tool_calls_sql(
    session: ActivitySessionId,
    cursor: Option<&Cursor>,
    limit: i64,
) -> Statement {
    let mut sql = String::from(
        "SELECT id, activity_session_id, tool_name, \
         CAST(LENGTH(input) AS BIGINT) AS input_bytes, CAST(LENGTH(output) AS BIGINT) AS output_bytes, \
         created_at FROM tool_calls WHERE activity_session_id = ?",
    );
    let mut params = vec![Param::Text(session.to_string())];
    keyset(&mut sql, &mut params, "created_at", "id", cursor);
    sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT ?");
    params.push(Param::Int(limit));
    Statement { sql, params }
}

/// A session's tool calls newest first, whole (for the export).
pub fn full_tool_calls_sql(
    session: ActivitySessionId,
    cursor: Option<&Cursor>,
    limit: i64,
) -> Statement {
    let mut sql = String::from(
        "SELECT id, project_id, activity_session_id, tool_name, input, output, created_at \
         FROM tool_calls WHERE activity_session_id = ?",
    );
    let mut params = vec![Param::Text(session.to_string())];
    keyset(&mut sql, &mut params, "created_at", "id", cursor);
    sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT ?");
    params.push(Param::Int(limit));
    Statement { sql, params }
}

/// A session's support requests newest first.
pub fn support_requests_sql(
    session: ActivitySessionId,
    cursor: Option<&Cursor>,
    limit: i64,
) -> Statement {
    let mut sql = String::from(
        "SELECT id, project_id, activity_session_id, user_id, title, concise_summary, context, \
         status, resolved_at, created_at FROM support_requests WHERE activity_session_id = ?",
    );
    let mut params = vec![Param::Text(session.to_string())];
    keyset(&mut sql, &mut params, "created_at", "id", cursor);
    sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT ?");
    params.push(Param::Int(limit));
    Statement { sql, params }
}

/// Runs `st` and loads its rows as `R`.
macro_rules! load_statement {
    ($conn:expr, $st:expr, $row:ty) => {{
        let st: &Statement = $st;
        let conn: &mut DbConn = $conn;
        let sql = conn.placeholders(&st.sql).into_owned();
        with_conn!(conn, |c| {
            let mut q = diesel::sql_query(sql).into_boxed();
            for p in &st.params {
                q = match p {
                    Param::Text(s) => q.bind::<Text, _>(s.clone()),
                    Param::Time(t) => q.bind::<Timestamp, _>(*t),
                    Param::Int(n) => q.bind::<BigInt, _>(*n),
                };
            }
            q.load::<$row>(c).await.store()
        })
    }};
}

/// Runs `st` on a pooled connection in its own task and converts each
/// row to its record.
macro_rules! fetch {
    ($db:expr, $st:expr, $row:ty => $rec:ty) => {{
        let (db, st) = ($db.clone(), $st);
        detached(async move {
            let conn = &mut *db.conn().await?;
            load_statement!(conn, &st, $row)?
                .into_iter()
                .map(<$rec>::try_from)
                .collect()
        })
        .await
    }};
}

// ---------------------------------------------------------------- Db

/// Inserts `rows` into `table` in one transaction: SQLite (through the
/// sync wrapper) one row per statement, prepared once; PostgreSQL 500 rows
/// a statement (at most 10 values a row: inside its bind limit).
macro_rules! insert_rows {
    ($db:expr, $table:path, $rows:expr) => {{
        let (db, rows) = ($db.clone(), $rows);
        detached(async move {
            let conn = &mut *db.conn().await?;
            conn.transaction(async |conn: &mut DbConn| {
                match conn {
                    DbConn::Sqlite(c) => {
                        for row in &rows {
                            diesel::insert_into($table)
                                .values(row)
                                .execute(c)
                                .await
                                .store()?;
                        }
                    }
                    DbConn::Pg(c) => {
                        for chunk in rows.chunks(500) {
                            diesel::insert_into($table)
                                .values(chunk)
                                .execute(&mut **c)
                                .await
                                .store()?;
                        }
                    }
                }
                Ok(())
            })
            .await
        })
        .await
    }};
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
            let n = with_conn!(&mut *conn, |c| diesel::update(
                support_requests::table.filter(support_requests::id.eq(id.to_string()))
            )
            .set((
                support_requests::status.eq(status),
                support_requests::resolved_at.eq(resolved_at),
            ))
            .execute(c)
            .await
            .store())?;
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
        let db = self.clone();
        detached(async move {
            let conn = &mut *db.conn().await?;
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
        let db = self.clone();
        detached(async move {
            let conn = &mut *db.conn().await?;
            let row: Option<DbToolCall> = with_conn!(conn, |c| tool_calls::table
                .filter(tool_calls::id.eq(id.to_string()))
                .select(DbToolCall::as_select())
                .first(c)
                .await
                .optional()
                .store())?;
            row.map(ToolCall::try_from).transpose()
        })
        .await
    }

    /// One support request.
    pub async fn support_request(
        &self,
        id: SupportRequestId,
    ) -> StoreResult<Option<SupportRequest>> {
        let db = self.clone();
        detached(async move { support_request_of(&mut *db.conn().await?, id).await }).await
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
        let db = self.clone();
        detached(async move {
            let conn = &mut *db.conn().await?;
            with_conn!(conn, |c| diesel::sql_query("ANALYZE")
                .execute(c)
                .await
                .store()
                .map(drop))
        })
        .await
    }
}

async fn support_request_of(
    conn: &mut DbConn,
    id: SupportRequestId,
) -> StoreResult<Option<SupportRequest>> {
    let row: Option<DbSupportRequest> = with_conn!(conn, |c| support_requests::table
        .filter(support_requests::id.eq(id.to_string()))
        .select(DbSupportRequest::as_select())
        .first(c)
        .await
        .optional()
        .store())?;
    row.map(SupportRequest::try_from).transpose()
}
