//! Billable sessions (seeds 000 and 001) over REST: opening a session from
//! a claimed ticket or ad hoc (with the customer's join token), reading it
//! with its live timer, status moves, notes, timer sync, completion with
//! pricing and a payment request, cancellation, the session chat, SMS,
//! calls, screen share, ratings, my-sessions list and solver stats, and the
//! payment link and join pages. Every change goes to the session's actor.

use crate::auth::{self as a, Auth, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::http::cursor;
use crate::http::tickets::CustomerFields;
use crate::http::validate;
use crate::ops::session::{self as ops, actor};
use crate::state::AppState;
use crate::store::sessions::SessionListFilter;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_actors::domain::communication::{Call, CallEvent, SMS_TEMPLATES};
use switchboard_actors::domain::pricing::Tier;
use switchboard_actors::domain::session::{SessionAction, SessionStatus, SessionTimer};
use switchboard_actors::domain::ticket::TicketStatus;
use switchboard_actors::engine::session::{
    CallControl, GetSession, RateSession, ReportCallEvent, RequestScreenShare, SaveNotes, SendSms,
    SessionActor, SessionMessages, SetSessionStatus, SyncTimer,
};
use switchboard_actors::engine::EngineResult;
use switchboard_actors::ids::{PaymentId, ProjectId, SessionId, TicketId};
use switchboard_actors::session_ports::{SessionMessageRecord, SessionRecord, TicketRecord};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/sessions", web::post().to(create))
        .route("/api/sessions", web::get().to(list))
        .route("/api/sessions/{id}", web::get().to(get))
        .route("/api/sessions/{id}/status", web::post().to(status))
        .route("/api/sessions/{id}/notes", web::put().to(notes))
        .route("/api/sessions/{id}/sync", web::post().to(sync))
        .route("/api/sessions/{id}/complete", web::post().to(complete))
        .route("/api/sessions/{id}/cancel", web::post().to(cancel))
        .route("/api/sessions/{id}/messages", web::get().to(messages))
        .route("/api/sessions/{id}/messages", web::post().to(post_message))
        .route("/api/sessions/{id}/sms", web::post().to(sms))
        .route("/api/sms/templates", web::get().to(sms_templates))
        .route("/api/sessions/{id}/call", web::post().to(call))
        .route("/api/sessions/{id}/call/hangup", web::post().to(hangup))
        .route("/api/sessions/{id}/call/events", web::post().to(call_event))
        .route(
            "/api/sessions/{id}/screen-share",
            web::post().to(screen_share),
        )
        .route(
            "/api/sessions/{id}/screen-share/answer",
            web::post().to(screen_share_answer),
        )
        .route("/api/sessions/{id}/rating", web::post().to(rating))
        .route("/api/solvers/me/stats", web::get().to(stats))
        .route("/pay/{id}", web::get().to(pay_page));
}

/// Asks the session's actor and answers what it says (200, JSON).
async fn ask<M, T>(state: &AppState, id: SessionId, msg: M) -> ApiResult<HttpResponse>
where
    M: actix::Message<Result = EngineResult<T>> + Send + 'static,
    T: serde::Serialize + Send + 'static,
    SessionActor: actix::Handler<M>,
    <SessionActor as actix::Actor>::Context: actix::dev::ToEnvelope<SessionActor, M>,
{
    let v = actor(state, id).await?.send(msg).await??;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize)]
struct NewSession {
    ticket_id: Option<TicketId>,
    project_id: Option<ProjectId>,
    adhoc: Option<CustomerFields>,
}

/// A session from the caller's claimed ticket, or ad hoc (creating its
/// ticket). Answers the session with its `access_token` and `join_url`.
async fn create(
    state: web::Data<AppState>,
    auth: StaffAuth,
    body: web::Json<NewSession>,
) -> ApiResult<HttpResponse> {
    let now = state.now();
    let solver = auth.1.user_id;
    let token = a::new_token(a::SESSION_PREFIX);
    let make = |ticket: &TicketRecord, solver_share_percent: u32| SessionRecord {
        id: SessionId::new(),
        project_id: ticket.project_id,
        ticket_id: ticket.id,
        solver_id: solver,
        status: SessionStatus::NotStarted,
        timer: SessionTimer::new(),
        tier: Tier::default(),
        notes: String::new(),
        notes_saved_at: None,
        access_token_hash: a::hash_token(&token),
        pricing: None,
        tier_warning: None,
        sms_count: 0,
        call: Call::new(),
        rating: None,
        rating_comment: None,
        cancel_reason: None,
        created_at: now,
        updated_at: now,
        solver_share_percent,
    };
    let (rec, ticket) = match (&body.ticket_id, &body.project_id, &body.adhoc) {
        (Some(ticket_id), None, None) => {
            let t = state
                .db
                .ticket(*ticket_id)
                .await?
                .filter(|t| auth.0.is_staff_of(t.project_id))
                .ok_or_else(|| ApiError::not_found("ticket not found"))?;
            match (t.status, t.solver_id) {
                (TicketStatus::Claimed, Some(s)) if s == solver => {}
                (TicketStatus::Claimed, _) => {
                    return Err(ApiError::forbidden(
                        "the ticket is claimed by another solver",
                    ))
                }
                (status, _) => {
                    return Err(invalid(format!(
                        "a session starts from a ticket you claimed; this ticket is {}",
                        status.label()
                    )))
                }
            }
            let rec = make(&t, state.db.solver_share_percent(t.project_id).await?);
            match state.db.open_session(&rec).await {
                Ok(()) => {}
                Err(switchboard_actors::ports::StoreError::Conflict(_)) => {
                    return Err(invalid(
                        "the ticket is no longer claimed by you (a session was already opened)",
                    ))
                }
                Err(e) => return Err(e.into()),
            }
            let ticket = TicketRecord {
                status: TicketStatus::InProgress,
                updated_at: now,
                ..t
            };
            (rec, ticket)
        }
        (None, Some(project_id), Some(fields)) => {
            auth.member_of(*project_id)?;
            let c = fields.validate(false)?;
            let ticket = TicketRecord {
                id: TicketId::new(),
                project_id: *project_id,
                customer_name: c.name,
                customer_phone: c.phone,
                customer_email: c.email,
                description: c.description,
                urgency: c.urgency,
                status: TicketStatus::InProgress,
                solver_id: Some(solver),
                claimed_at: Some(now),
                created_at: now,
                updated_at: now,
            };
            let rec = make(&ticket, state.db.solver_share_percent(*project_id).await?);
            state.db.open_adhoc_session(&ticket, &rec).await?;
            (rec, ticket)
        }
        _ => {
            return Err(ApiError::field(
                "ticket_id",
                "give either ticket_id, or project_id with adhoc customer info",
            ))
        }
    };
    let id = rec.id;
    let addr = state.sessions.started(rec, ticket).await;
    let mut v = json!(addr.send(GetSession { caller: auth.0 }).await??);
    v["access_token"] = json!(token);
    v["join_url"] = json!(format!("/join/{id}?token={token}"));
    Ok(HttpResponse::Created().json(v))
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::BAD_REQUEST,
        "INVALID_TRANSITION",
        message,
    )
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// My sessions: newest first, cursor-paginated, filter by status.
async fn list(
    state: web::Data<AppState>,
    auth: StaffAuth,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let limit = validate::limit(q.limit)?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            SessionStatus::parse(s).ok_or_else(|| {
                ApiError::field(
                    "status",
                    "must be not_started, active, paused, completed or cancelled",
                )
            })
        })
        .transpose()?;
    let cursor = q.cursor.as_deref().map(cursor::decode).transpose()?;
    let mut rows = state
        .db
        .list_sessions(&SessionListFilter {
            solver_id: auth.1.user_id,
            status,
            cursor,
            limit: limit + 1,
        })
        .await?;
    let now = state.now();
    let next = cursor::page(&mut rows, limit, |(s, _)| (s.created_at, s.id));
    let items: Vec<Value> = rows
        .iter()
        .map(|(s, t)| {
            json!({
                "id": s.id,
                "ticket_id": s.ticket_id,
                "project_id": s.project_id,
                "status": s.status,
                "customer_name": t.customer_name,
                "description": t.description,
                "tier": s.tier,
                "tier_label": s.tier.label(),
                "duration_seconds": s.timer.elapsed_seconds(now),
                "earnings": s.pricing.map(|p| p.solver_earnings),
                "total_charged": s.pricing.map(|p| p.total_charged),
                "rating": s.rating,
                "created_at": switchboard_actors::wire_time::format(&s.created_at),
                "started_at": s.timer.started_at.map(|t| switchboard_actors::wire_time::format(&t)),
                "ended_at": s.timer.ended_at.map(|t| switchboard_actors::wire_time::format(&t)),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": next })))
}

async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SessionId>,
) -> ApiResult<HttpResponse> {
    let view = actor(&state, *id)
        .await?
        .send(GetSession { caller: auth.0 })
        .await??;
    let mut v = json!(view);
    // A completed session shows its payment request, so the customer's page
    // can offer the link again after a reload.
    if v["status"] == json!("completed") {
        if let Some(p) = state.db.payment_of_session(*id).await? {
            v["payment"] = json!({
                "id": p.id,
                "amount": p.amount,
                "status": p.status,
                "payment_url": p.payment_url,
            });
        }
    }
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
}

async fn status(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SessionId>,
    body: web::Json<StatusBody>,
) -> ApiResult<HttpResponse> {
    let target = SessionStatus::parse(&body.status)
        .filter(|s| *s != SessionStatus::NotStarted && *s != SessionStatus::Cancelled)
        .ok_or_else(|| ApiError::field("status", "must be active, paused or completed"))?;
    ask(
        &state,
        *id,
        SetSessionStatus {
            caller: auth.0,
            status: target,
        },
    )
    .await
}

#[derive(Deserialize)]
struct NotesBody {
    notes: String,
}

async fn notes(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SessionId>,
    body: web::Json<NotesBody>,
) -> ApiResult<HttpResponse> {
    ask(
        &state,
        *id,
        SaveNotes {
            caller: auth.0,
            notes: body.into_inner().notes,
        },
    )
    .await
}

async fn sync(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SessionId>,
) -> ApiResult<HttpResponse> {
    ask(&state, *id, SyncTimer { caller: auth.0 }).await
}

#[derive(Deserialize)]
struct CompleteBody {
    tier: Option<String>,
}

async fn complete(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SessionId>,
    body: web::Json<CompleteBody>,
) -> ApiResult<HttpResponse> {
    let tier = body
        .tier
        .as_deref()
        .ok_or_else(|| ApiError::field("tier", "is required: quick, standard or extended"))?;
    let v = ops::complete(&state, auth.0, *id, Some(tier)).await?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize, Default)]
struct CancelBody {
    reason: Option<String>,
}

async fn cancel(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SessionId>,
    body: Option<web::Json<CancelBody>>,
) -> ApiResult<HttpResponse> {
    let reason = body.and_then(|b| b.into_inner().reason);
    let v = ops::control(&state, auth.0, *id, SessionAction::Cancel, reason).await?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize)]
struct MessagesQuery {
    after_seq: Option<i64>,
    limit: Option<i64>,
}

async fn messages(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SessionId>,
    q: web::Query<MessagesQuery>,
) -> ApiResult<HttpResponse> {
    let limit = validate::limit(q.limit)?;
    let after = cursor::after_seq(q.after_seq)?;
    let rows = actor(&state, *id)
        .await?
        .send(SessionMessages {
            caller: auth.0,
            after_seq: after,
            limit,
        })
        .await??;
    let next = cursor::next_seq(&rows, limit, |m| m.seq);
    let items: Vec<&SessionMessageRecord> = rows.iter().map(|m| &**m).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": next })))
}

async fn post_message(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SessionId>,
    body: web::Json<ops::NewSessionMessage>,
) -> ApiResult<HttpResponse> {
    let m = ops::send_message(&state, auth.0, *id, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(&*m))
}

#[derive(Deserialize)]
struct SmsBody {
    message: String,
}

async fn sms(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SessionId>,
    body: web::Json<SmsBody>,
) -> ApiResult<HttpResponse> {
    let v = actor(&state, *id)
        .await?
        .send(SendSms {
            caller: auth.0,
            message: body.into_inner().message,
        })
        .await??;
    Ok(HttpResponse::Created().json(v))
}

async fn sms_templates(_auth: StaffAuth) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(json!({ "items": SMS_TEMPLATES })))
}

async fn call(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SessionId>,
) -> ApiResult<HttpResponse> {
    ask(
        &state,
        *id,
        CallControl {
            caller: auth.0,
            hang_up: false,
        },
    )
    .await
}

async fn hangup(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SessionId>,
) -> ApiResult<HttpResponse> {
    ask(
        &state,
        *id,
        CallControl {
            caller: auth.0,
            hang_up: true,
        },
    )
    .await
}

#[derive(Deserialize)]
struct CallEventBody {
    event: String,
}

/// The call provider's progress report (project secret key).
async fn call_event(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SessionId>,
    body: web::Json<CallEventBody>,
) -> ApiResult<HttpResponse> {
    let event = match body.event.as_str() {
        "connected" => CallEvent::Connected,
        "ringing" => CallEvent::Ringing,
        "answered" => CallEvent::Answered,
        "ended" => CallEvent::Hangup,
        "failed" => CallEvent::Fail,
        _ => {
            return Err(ApiError::field(
                "event",
                "must be connected, ringing, answered, ended or failed",
            ))
        }
    };
    ask(
        &state,
        *id,
        ReportCallEvent {
            caller: auth.0,
            event,
        },
    )
    .await
}

#[derive(Deserialize)]
struct ScreenShareBody {
    solver_peer_id: String,
}

async fn screen_share(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SessionId>,
    body: web::Json<ScreenShareBody>,
) -> ApiResult<HttpResponse> {
    ask(
        &state,
        *id,
        RequestScreenShare {
            caller: auth.0,
            solver_peer_id: body.into_inner().solver_peer_id,
        },
    )
    .await
}

#[derive(Deserialize)]
struct AnswerBody {
    accepted: bool,
    peer_id: Option<String>,
}

async fn screen_share_answer(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SessionId>,
    body: web::Json<AnswerBody>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let v = ops::answer_screen_share(&state, auth.0, *id, b.accepted, b.peer_id).await?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize)]
struct RatingBody {
    rating: i64,
    comment: Option<String>,
}

async fn rating(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<SessionId>,
    body: web::Json<RatingBody>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    ask(
        &state,
        *id,
        RateSession {
            caller: auth.0,
            rating: b.rating,
            comment: b.comment,
        },
    )
    .await
}

async fn stats(state: web::Data<AppState>, auth: StaffAuth) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(state.db.solver_stats(auth.1.user_id).await?))
}

/// The built-in payment provider's link: the payment request as JSON.
/// The built-in provider's payment link: a page for a browser (it says what
/// is owed; no card is taken by the built-in provider), JSON otherwise.
async fn pay_page(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    id: web::Path<PaymentId>,
) -> ApiResult<HttpResponse> {
    let p = state
        .db
        .payment(*id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment not found"))?;
    let wants_html = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html {
        return Ok(crate::pages::pay_page(&p));
    }
    Ok(HttpResponse::Ok().json(json!({
        "id": p.id,
        "session_id": p.session_id,
        "amount": p.amount,
        "currency": "usd",
        "status": p.status,
        "created_at": switchboard_actors::wire_time::format(&p.created_at),
    })))
}
