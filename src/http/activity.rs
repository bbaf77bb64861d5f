//! The activity explorer over REST (seed 002; docs/protocol.md "Activity
//! explorer"): an integration holding the project's secret key records a
//! user's sessions, the AI tool calls made in them and support requests;
//! the project's staff (and the integration) read them: a user's sessions
//! with fresh counts, search, each session's items, details, and an export
//! as CSV or JSON streamed page by page so a large one never sits in memory.
//!
//! Another project's ids answer 404, as ids that do not exist.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::http::cursor::{self, PageQuery};
use crate::http::tickets::Problems;
use crate::http::validate;
use crate::state::AppState;
use crate::store::activity::{ActivitySession, SessionSummary, SupportRequest, ToolCall};
use crate::store::Db;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::VecDeque;
use switchboard_actors::engine::Caller;
use switchboard_actors::ids::{ActivitySessionId, ProjectId, SupportRequestId, ToolCallId};

/// Each of a tool call's input and output, and a support request's context,
/// as stored (JSON text): larger is refused with 413.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
const MAX_NAME_CHARS: usize = 200;
const MAX_TITLE_CHARS: usize = 500;
const MAX_SUMMARY_CHARS: usize = 2000;
/// Rows read per round trip while exporting.
const EXPORT_PAGE: i64 = 100;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/activity/sessions", web::post().to(create_session))
        .route("/api/activity/sessions/{id}", web::get().to(get_session))
        .route(
            "/api/activity/sessions/{id}/tool-calls",
            web::post().to(create_tool_call),
        )
        .route(
            "/api/activity/sessions/{id}/tool-calls",
            web::get().to(list_tool_calls),
        )
        .route(
            "/api/activity/sessions/{id}/support-requests",
            web::get().to(list_support_requests),
        )
        .route("/api/tool-calls/{id}", web::get().to(get_tool_call))
        .route(
            "/api/support-requests",
            web::post().to(create_support_request),
        )
        .route(
            "/api/support-requests/{id}",
            web::get().to(get_support_request),
        )
        .route(
            "/api/support-requests/{id}",
            web::patch().to(update_support_request),
        )
        .route(
            "/api/projects/{id}/users/{user_id}/sessions",
            web::get().to(user_sessions),
        )
        .route(
            "/api/projects/{id}/users/{user_id}/sessions/export",
            web::get().to(export),
        );
}

/// The project an integration records for: only a secret key records.
fn recorder(auth: &Auth) -> ApiResult<ProjectId> {
    match &auth.0 {
        Caller::Bot { project_id } => Ok(*project_id),
        _ => Err(ApiError::forbidden(
            "recording activity needs the project's secret key",
        )),
    }
}

/// Whether the caller may read `project`'s activity: its staff, or its
/// integration.
fn can_read(auth: &Auth, project: ProjectId) -> bool {
    match &auth.0 {
        Caller::Staff(s) => s.memberships.contains_key(&project),
        Caller::Bot { project_id } => *project_id == project,
        _ => false,
    }
}

fn readable<T>(
    auth: &Auth,
    item: Option<T>,
    project: impl Fn(&T) -> ProjectId,
    what: &str,
) -> ApiResult<T> {
    item.filter(|i| can_read(auth, project(i)))
        .ok_or_else(|| ApiError::not_found(format!("{what} not found")))
}

/// A JSON payload as it will be stored, or 413 when it is too large.
fn bounded(field: &str, v: &Value) -> ApiResult<()> {
    let n = v.to_string().len();
    if n > MAX_PAYLOAD_BYTES {
        return Err(ApiError::too_large(format!(
            "{field} is {n} bytes of JSON; at most {MAX_PAYLOAD_BYTES}"
        )));
    }
    Ok(())
}

fn optional_text(p: &mut Problems, field: &str, v: Option<&str>, max: usize) -> Option<String> {
    match v.map(str::trim) {
        None | Some("") => None,
        Some(s) => p.check(validate::text(field, s, 1, max)),
    }
}

async fn session_of(
    state: &AppState,
    auth: &Auth,
    id: ActivitySessionId,
) -> ApiResult<SessionSummary> {
    let s = state.db.activity_session(id).await?;
    readable(auth, s, |s| s.session.project_id, "session")
}

// ---------------------------------------------------------------- recording

#[derive(Deserialize)]
struct NewSession {
    user_id: String,
    server_name: String,
    server_slug: String,
    title: Option<String>,
}

async fn create_session(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<NewSession>,
) -> ApiResult<HttpResponse> {
    let project = recorder(&auth)?;
    let mut p = Problems::default();
    let user_id = p.check(validate::text("user_id", &body.user_id, 1, MAX_NAME_CHARS));
    let server_name = p.check(validate::text(
        "server_name",
        &body.server_name,
        1,
        MAX_NAME_CHARS,
    ));
    let server_slug = p.check(validate::text(
        "server_slug",
        &body.server_slug,
        1,
        MAX_NAME_CHARS,
    ));
    let title = optional_text(&mut p, "title", body.title.as_deref(), MAX_TITLE_CHARS);
    p.done()?;
    let (Some(user_id), Some(server_name), Some(server_slug)) = (user_id, server_name, server_slug)
    else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let session = ActivitySession {
        id: ActivitySessionId::new(),
        project_id: project,
        user_id,
        server_name,
        server_slug,
        title,
        connected_at: state.now(),
    };
    state.db.insert_activity_session(&session).await?;
    let summary = SessionSummary {
        session,
        tool_call_count: 0,
        support_ticket_count: 0,
    };
    Ok(HttpResponse::Created().json(summary))
}

#[derive(Deserialize)]
struct NewToolCall {
    tool_name: String,
    #[serde(default)]
    input: Value,
    #[serde(default)]
    output: Value,
}

async fn create_tool_call(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<ActivitySessionId>,
    body: web::Json<NewToolCall>,
) -> ApiResult<HttpResponse> {
    let project = recorder(&auth)?;
    let body = body.into_inner();
    bounded("input", &body.input)?;
    bounded("output", &body.output)?;
    let tool_name = validate::text("tool_name", &body.tool_name, 1, MAX_NAME_CHARS)?;
    let session = session_of(&state, &auth, *id).await?;
    let call = ToolCall {
        id: ToolCallId::new(),
        project_id: project,
        activity_session_id: session.session.id,
        tool_name,
        input: body.input,
        output: body.output,
        created_at: state.now(),
    };
    state.db.insert_tool_call(&call).await?;
    Ok(HttpResponse::Created().json(call))
}

#[derive(Deserialize)]
struct NewSupportRequest {
    activity_session_id: Option<ActivitySessionId>,
    user_id: Option<String>,
    title: String,
    concise_summary: Option<String>,
    context: Option<String>,
}

async fn create_support_request(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<NewSupportRequest>,
) -> ApiResult<HttpResponse> {
    let project = recorder(&auth)?;
    if let Some(c) = &body.context {
        if c.len() > MAX_PAYLOAD_BYTES {
            return Err(ApiError::too_large(format!(
                "context is {} bytes; at most {MAX_PAYLOAD_BYTES}",
                c.len()
            )));
        }
    }
    let mut p = Problems::default();
    let title = p.check(validate::text("title", &body.title, 1, MAX_TITLE_CHARS));
    let summary = optional_text(
        &mut p,
        "concise_summary",
        body.concise_summary.as_deref(),
        MAX_SUMMARY_CHARS,
    );
    let user_id = optional_text(&mut p, "user_id", body.user_id.as_deref(), MAX_NAME_CHARS);
    p.done()?;
    let title = title.ok_or_else(|| ApiError::internal("validated title missing"))?;
    // From a session: that session's user, and the session must be ours.
    let (session, user_id) = match body.activity_session_id {
        Some(sid) => {
            let s = session_of(&state, &auth, sid).await?;
            (Some(sid), Some(user_id.unwrap_or(s.session.user_id)))
        }
        None => (None, user_id),
    };
    let request = SupportRequest {
        id: SupportRequestId::new(),
        project_id: project,
        activity_session_id: session,
        user_id,
        title,
        concise_summary: summary,
        context: body.context.clone().filter(|c| !c.trim().is_empty()),
        status: "open".into(),
        resolved_at: None,
        created_at: state.now(),
    };
    state.db.insert_support_request(&request).await?;
    Ok(HttpResponse::Created().json(request))
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
}

async fn update_support_request(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SupportRequestId>,
    body: web::Json<StatusBody>,
) -> ApiResult<HttpResponse> {
    let status = match body.status.as_str() {
        "open" => "open",
        "resolved" => "resolved",
        _ => return Err(ApiError::field("status", "must be open or resolved")),
    };
    let current = state.db.support_request(*id).await?;
    readable(&auth, current, |r| r.project_id, "support request")?;
    let updated = state
        .db
        .set_support_request_status(*id, status, state.now())
        .await?
        .ok_or_else(|| ApiError::not_found("support request not found"))?;
    Ok(HttpResponse::Ok().json(updated))
}

// ---------------------------------------------------------------- reading

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

type ItemCursor = (chrono::DateTime<chrono::Utc>, String);

fn decode_cursor(c: Option<&str>) -> ApiResult<Option<ItemCursor>> {
    c.map(cursor::decode::<String>).transpose()
}

async fn user_sessions(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(ProjectId, String)>,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let (project, user) = path.into_inner();
    if !can_read(&auth, project) {
        return Err(ApiError::not_found("project not found"));
    }
    let limit = validate::limit(q.limit)?;
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if search.is_some_and(|s| s.chars().count() > MAX_NAME_CHARS) {
        return Err(ApiError::field("q", "must be at most 200 characters"));
    }
    let after = decode_cursor(q.cursor.as_deref())?;
    let mut rows = state
        .db
        .user_sessions(project, &user, search, after, limit + 1)
        .await?;
    let next = cursor::page(&mut rows, limit, |s| (s.session.connected_at, s.session.id));
    Ok(HttpResponse::Ok().json(json!({ "user_id": user, "items": rows, "next_cursor": next })))
}

async fn get_session(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<ActivitySessionId>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(session_of(&state, &auth, *id).await?))
}

async fn list_tool_calls(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<ActivitySessionId>,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let session = session_of(&state, &auth, *id).await?.session.id;
    let fetch = |after, n| state.db.session_tool_calls(session, after, n);
    cursor::list(&q, fetch, |t| (t.created_at, t.id)).await
}

async fn list_support_requests(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<ActivitySessionId>,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let session = session_of(&state, &auth, *id).await?.session.id;
    let fetch = |after, n| state.db.session_support_requests(session, after, n);
    cursor::list(&q, fetch, |r| (r.created_at, r.id)).await
}

async fn get_tool_call(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<ToolCallId>,
) -> ApiResult<HttpResponse> {
    let call = state.db.tool_call(*id).await?;
    Ok(HttpResponse::Ok().json(readable(&auth, call, |c| c.project_id, "tool call")?))
}

async fn get_support_request(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SupportRequestId>,
) -> ApiResult<HttpResponse> {
    let r = state.db.support_request(*id).await?;
    Ok(HttpResponse::Ok().json(readable(&auth, r, |r| r.project_id, "support request")?))
}

// ---------------------------------------------------------------- export

#[derive(Deserialize)]
struct ExportQuery {
    format: Option<String>,
    q: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Csv,
    Json,
}

async fn export(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(ProjectId, String)>,
    q: web::Query<ExportQuery>,
) -> ApiResult<HttpResponse> {
    let (project, user) = path.into_inner();
    if !can_read(&auth, project) {
        return Err(ApiError::not_found("project not found"));
    }
    let format = match q.format.as_deref().unwrap_or("json") {
        "csv" => Format::Csv,
        "json" => Format::Json,
        _ => return Err(ApiError::field("format", "must be csv or json")),
    };
    let (ext, mime) = match format {
        Format::Csv => ("csv", "text/csv; charset=utf-8"),
        Format::Json => ("json", "application/json"),
    };
    // The file name carries the user id only as far as it is plain.
    let safe: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let export = Export {
        db: state.db.clone(),
        project,
        user,
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        format,
        sessions: VecDeque::new(),
        cursor: None,
        more: true,
        step: Step::Start,
        first_session: true,
    };
    let body = futures::stream::unfold(export, |mut e| async move {
        match e.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok::<_, actix_web::Error>(web::Bytes::from(chunk)), e)),
            Ok(None) => None,
            Err(err) => {
                // The status is long sent: end the body early (the client
                // sees a truncated file) and say why in the log.
                tracing::warn!(error = %err, "activity export failed");
                e.step = Step::Done;
                Some((
                    Err(actix_web::error::ErrorInternalServerError(err.to_string())),
                    e,
                ))
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"activity-{safe}.{ext}\""),
        ))
        .streaming(body))
}

enum Step {
    Start,
    NextSession,
    Tools {
        session: SessionSummary,
        after: Option<ItemCursor>,
        any: bool,
    },
    Requests {
        session: SessionSummary,
        after: Option<ItemCursor>,
        any: bool,
    },
    Done,
}

/// The export's position: one page of rows per chunk.
struct Export {
    db: Db,
    project: ProjectId,
    user: String,
    q: Option<String>,
    format: Format,
    sessions: VecDeque<SessionSummary>,
    cursor: Option<ItemCursor>,
    more: bool,
    step: Step,
    first_session: bool,
}

const CSV_HEADER: &str = "session_id,session_title,server_name,server_slug,connected_at,\
tool_call_count,support_ticket_count,item_type,item_id,item_created_at,item_name,input,output,\
summary,context,status\r\n";

impl Export {
    /// The next piece of the file, `None` at its end.
    async fn next_chunk(
        &mut self,
    ) -> Result<Option<String>, switchboard_actors::ports::StoreError> {
        let csv = self.format == Format::Csv;
        match std::mem::replace(&mut self.step, Step::Done) {
            Step::Start => {
                self.step = Step::NextSession;
                Ok(Some(if csv {
                    CSV_HEADER.to_string()
                } else {
                    format!("{{\"user_id\":{},\"sessions\":[", json!(self.user))
                }))
            }
            Step::NextSession => {
                if self.sessions.is_empty() && self.more {
                    let page = self
                        .db
                        .user_sessions(
                            self.project,
                            &self.user,
                            self.q.as_deref(),
                            self.cursor.clone(),
                            EXPORT_PAGE,
                        )
                        .await?;
                    self.more = page.len() as i64 == EXPORT_PAGE;
                    if let Some(last) = page.last() {
                        self.cursor =
                            Some((last.session.connected_at, last.session.id.to_string()));
                    }
                    self.sessions.extend(page);
                }
                let Some(session) = self.sessions.pop_front() else {
                    return Ok(Some(if csv { String::new() } else { "]}".into() }));
                };
                let mut out = String::new();
                if !csv {
                    if !self.first_session {
                        out.push(',');
                    }
                    // The session's fields, then its items as two arrays.
                    let mut head = json!(session).to_string();
                    head.pop();
                    out.push_str(&head);
                    out.push_str(",\"tool_calls\":[");
                }
                self.first_session = false;
                self.step = Step::Tools {
                    session,
                    after: None,
                    any: false,
                };
                Ok(Some(out))
            }
            Step::Tools {
                session,
                after,
                any,
            } => {
                let rows = self
                    .db
                    .session_tool_calls_full(session.session.id, after, EXPORT_PAGE)
                    .await?;
                let mut out = String::new();
                if rows.is_empty() {
                    if !csv {
                        out.push_str("],\"support_requests\":[");
                    }
                    self.step = Step::Requests {
                        session,
                        after: None,
                        any,
                    };
                    return Ok(Some(out));
                }
                for (i, t) in rows.iter().enumerate() {
                    if csv {
                        csv_row(
                            &mut out,
                            &session,
                            &[
                                "tool_call",
                                &t.id.to_string(),
                                &switchboard_actors::wire_time::format(&t.created_at),
                                &t.tool_name,
                                &t.input.to_string(),
                                &t.output.to_string(),
                                "",
                                "",
                                "",
                            ],
                        );
                    } else {
                        if any || i > 0 {
                            out.push(',');
                        }
                        out.push_str(&json!(t).to_string());
                    }
                }
                let last = rows.last().map(|t| (t.created_at, t.id.to_string()));
                self.step = Step::Tools {
                    session,
                    after: last,
                    any: true,
                };
                Ok(Some(out))
            }
            Step::Requests {
                session,
                after,
                any,
            } => {
                let rows = self
                    .db
                    .session_support_requests(session.session.id, after.clone(), EXPORT_PAGE)
                    .await?;
                let mut out = String::new();
                if rows.is_empty() {
                    if csv {
                        // A session without items still gets its row.
                        if !any {
                            csv_row(&mut out, &session, &["", "", "", "", "", "", "", "", ""]);
                        }
                    } else {
                        out.push_str("]}");
                    }
                    self.step = Step::NextSession;
                    return Ok(Some(out));
                }
                let first_request = after.is_none();
                for (i, r) in rows.iter().enumerate() {
                    if csv {
                        csv_row(
                            &mut out,
                            &session,
                            &[
                                "support_request",
                                &r.id.to_string(),
                                &switchboard_actors::wire_time::format(&r.created_at),
                                &r.title,
                                "",
                                "",
                                r.concise_summary.as_deref().unwrap_or(""),
                                r.context.as_deref().unwrap_or(""),
                                &r.status,
                            ],
                        );
                    } else {
                        if !(first_request && i == 0) {
                            out.push(',');
                        }
                        out.push_str(&json!(r).to_string());
                    }
                }
                let last = rows.last().map(|r| (r.created_at, r.id.to_string()));
                self.step = Step::Requests {
                    session,
                    after: last,
                    any: true,
                };
                Ok(Some(out))
            }
            Step::Done => Ok(None),
        }
    }
}

/// One CSV line: the session's columns, then the item's.
fn csv_row(out: &mut String, s: &SessionSummary, item: &[&str]) {
    let session = [
        s.session.id.to_string(),
        s.session.title.clone().unwrap_or_default(),
        s.session.server_name.clone(),
        s.session.server_slug.clone(),
        switchboard_actors::wire_time::format(&s.session.connected_at),
        s.tool_call_count.to_string(),
        s.support_ticket_count.to_string(),
    ];
    let fields = session
        .iter()
        .map(String::as_str)
        .chain(item.iter().copied());
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, f);
    }
    out.push_str("\r\n");
}

/// RFC 4180 quoting; a field a spreadsheet would run as a formula gets a
/// leading `'`. Spreadsheets in locales whose list separator is `;` split
/// unquoted fields there (`x;=1+1` would put a formula in a cell of its
/// own), so a field with a delimiter of either kind, or a tab, is quoted.
fn csv_field(out: &mut String, f: &str) {
    let formula = f.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = formula || f.contains([',', ';', '\t', '"', '\n', '\r']);
    if !quote {
        out.push_str(f);
        return;
    }
    out.push('"');
    if formula {
        out.push('\'');
    }
    out.push_str(&f.replace('"', "\"\""));
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_when_they_must_be() {
        let cell = |f: &str| {
            let mut s = String::new();
            csv_field(&mut s, f);
            s
        };
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("=SUM(A1)"), "\"'=SUM(A1)\"");
        assert_eq!(cell("x;=1+1"), "\"x;=1+1\"");
        assert_eq!(cell("a\tb"), "\"a\tb\"");
        assert_eq!(cell(""), "");
    }
}
