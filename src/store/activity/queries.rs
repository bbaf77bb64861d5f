//! The explorer's reads, written once as SQL with `?` placeholders (see
//! [`DbConn::placeholders`]) so the exact statement the explorer runs can
//! also be asked for its plan ([`Db::explain`](crate::store::Db::explain)).

use super::records::*;
use crate::store::conn::{first_row, DbConn};
use crate::store::convert::ts;
use crate::store::schema::support_requests;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use switchboard_actors::ids::{ActivitySessionId, ProjectId, SupportRequestId};
use switchboard_actors::ports::StoreResult;

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
pub(super) fn like_pattern(q: &str) -> String {
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

pub(super) async fn support_request_of(
    conn: &mut DbConn,
    id: SupportRequestId,
) -> StoreResult<Option<SupportRequest>> {
    let row: Option<DbSupportRequest> = first_row!(
        conn,
        support_requests::table
            .filter(support_requests::id.eq(id.to_string()))
            .select(DbSupportRequest::as_select())
    )?;
    row.map(SupportRequest::try_from).transpose()
}
pub(super) use {fetch, load_statement};
