//! What a conversation's customer does besides chatting (seed 003 5.8.4,
//! 5.12): presence signals, the offline form and the satisfaction rating.

use crate::auth::Auth;
use crate::email::{EmailMessage, KIND_OFFLINE_CONFIRMATION};
use crate::error::{ApiError, ApiResult};
use crate::http::conversations::{view_body, view_of};
use crate::http::identity::contact_name;
use crate::http::validate;
use crate::limits::LimitKind;
use crate::state::AppState;
use crate::store::LeadRecord;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use switchboard_actors::domain::business_hours;
use switchboard_actors::domain::inactivity::CustomerPresence;
use switchboard_actors::engine::conversation::{
    validate_rating, CustomerPresenceUpdate, OfflineForm, RateConversation,
};
use switchboard_actors::engine::project::GetSettings;
use switchboard_actors::engine::{Caller, ConversationRef, EngineError};
use switchboard_actors::ids::{ConversationId, LeadId, ProjectId};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/conversations/{id}/presence", web::post().to(presence))
        .route(
            "/api/conversations/{id}/offline-form",
            web::post().to(offline_form),
        )
        .route("/api/conversations/{id}/rating", web::post().to(rating));
}

fn not_found() -> ApiError {
    ApiError::not_found("conversation not found")
}

fn closed() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::BAD_REQUEST,
        "INVALID_TRANSITION",
        "the conversation is closed",
    )
}

pub fn parse_presence(s: &str) -> ApiResult<CustomerPresence> {
    CustomerPresence::parse(s).ok_or_else(|| {
        ApiError::field(
            "status",
            "must be online, idle, typing, offline or background",
        )
    })
}

/// The widget's presence signal; shared by REST and WebSocket.
pub async fn report_presence(
    state: &AppState,
    caller: Caller,
    id: ConversationId,
    status: CustomerPresence,
) -> ApiResult<()> {
    match state.engine.conversation(id).await {
        Ok(ConversationRef::Live(a)) => {
            Ok(a.send(CustomerPresenceUpdate { caller, status }).await??)
        }
        Ok(ConversationRef::Closed(rec)) if caller.can_view(rec.project_id, &rec.visitor_id) => {
            Err(closed())
        }
        Ok(ConversationRef::Closed(_)) | Err(EngineError::NotFound(_)) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct PresenceBody {
    status: String,
}

async fn presence(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<ConversationId>,
    body: web::Json<PresenceBody>,
) -> ApiResult<HttpResponse> {
    let status = parse_presence(&body.status)?;
    state.rate_limit(
        crate::limits::LimitKind::Typing,
        &crate::limits::caller_key(&auth.0),
    )?;
    report_presence(&state, auth.0, *id, status).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct OfflineFormBody {
    email: String,
    name: Option<String>,
    message: String,
}

async fn offline_form(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<ConversationId>,
    body: web::Json<OfflineFormBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let Caller::Customer {
        project_id,
        visitor_id,
    } = &auth.0
    else {
        return Err(ApiError::forbidden(
            "only the customer fills in the offline form",
        ));
    };
    // The form is a message (and sends an email): it counts against the
    // visitor's message limit like any send, before anything is looked at.
    state.rate_limit(
        LimitKind::WidgetMessage,
        &format!("{project_id}:{visitor_id}"),
    )?;
    let email = validate::email("email", &body.email)?;
    let name = body
        .name
        .as_deref()
        .map(|n| contact_name("name", n))
        .transpose()?;
    let view = view_of(&state, &auth.0, *id).await?;
    let addr = match state.engine.conversation(view.id).await? {
        ConversationRef::Live(a) => a,
        ConversationRef::Closed(_) => return Err(closed()),
    };
    let project = view.project_id;
    // The actor takes it once per conversation; the email is contact
    // information on it (unverified), never linked to a customer.
    let view = addr
        .send(OfflineForm {
            caller: auth.0.clone(),
            email: email.clone(),
            name: name.clone(),
            // As sent: the actor checks the characters before it trims.
            message: body.message.clone(),
        })
        .await??;
    let message = body.message.trim().to_string();
    let now = state.now();
    state
        .db
        .insert_lead(&LeadRecord {
            id: LeadId::new(),
            project_id: project,
            conversation_id: Some(view.id),
            email: email.clone(),
            name: name.clone(),
            message: message.clone(),
            created_at: now,
        })
        .await?;
    let opening = next_opening_text(&state, project, now).await?;
    // Nothing the sender wrote goes into the email (no name, no message):
    // the address is unproven, so the form must not be a way to mail
    // someone a text of one's choosing.
    let confirmation = EmailMessage {
        project_id: Some(project),
        to: email,
        subject: "We received your message".into(),
        body: format!(
            "Hello,\n\nthanks for your message: our team is offline right now. \
             We will answer {opening}, in the chat and by email.\n\n\
             If you did not write to us, ignore this email.\n"
        ),
        kind: KIND_OFFLINE_CONFIRMATION.into(),
    };
    // The form is taken and stored either way; a failed confirmation is
    // logged and reported, not an error to the customer.
    let confirmation_sent = match state.email.send(&confirmation).await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(conversation = %view.id, error = %e, "offline confirmation not sent");
            false
        }
    };
    let view = view_of(&state, &Caller::System, view.id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": view.status,
        "conversation": view_body(&auth.0, &view),
        "confirmation_sent": confirmation_sent,
        "message": format!("Thanks! We will get back to you {opening}."),
    })))
}

/// "when we open on Tuesday 09:00 (Asia/Tokyo)", or "as soon as we can".
async fn next_opening_text(
    state: &AppState,
    project: ProjectId,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<String> {
    let settings = state
        .engine
        .project(project)
        .await?
        .addr
        .send(GetSettings)
        .await?;
    Ok(match business_hours::next_opening(&settings, now) {
        Some(at) if settings.business_hours_enabled && at > now => format!(
            "when we open on {} ({})",
            business_hours::describe_local(&settings, at),
            settings.timezone
        ),
        _ => "as soon as we can".into(),
    })
}

#[derive(Deserialize)]
struct RatingBody {
    rating: i64,
    feedback: Option<String>,
}

async fn rating(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<ConversationId>,
    body: web::Json<RatingBody>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    if !matches!(auth.0, Caller::Customer { .. }) {
        return Err(ApiError::forbidden(
            "only the customer rates a conversation",
        ));
    }
    let view = match state.engine.conversation(*id).await {
        Ok(ConversationRef::Live(a)) => {
            a.send(RateConversation {
                caller: auth.0,
                rating: body.rating,
                feedback: body.feedback,
            })
            .await??
        }
        Ok(ConversationRef::Closed(rec)) => {
            if !auth.0.can_view(rec.project_id, &rec.visitor_id) {
                return Err(not_found());
            }
            let feedback = validate_rating(body.rating, body.feedback)?;
            // Closed conversations have no actor: one conditional update
            // lets exactly one rating in.
            if !state
                .db
                .rate_closed_conversation(*id, body.rating as i32, feedback.as_deref())
                .await?
            {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::BAD_REQUEST,
                    "INVALID_TRANSITION",
                    "the conversation was already rated",
                ));
            }
            view_of(&state, &auth.0, *id).await?
        }
        Err(EngineError::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    Ok(HttpResponse::Ok().json(json!({
        "conversation_id": view.id,
        "satisfaction_rating": view.satisfaction_rating,
        "satisfaction_feedback": view.satisfaction_feedback,
    })))
}
