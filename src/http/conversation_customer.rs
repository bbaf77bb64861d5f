//! What a conversation's customer does besides chatting (seed 003 5.8.4,
//! 5.12): presence signals, the offline form and the satisfaction rating.

use crate::auth::Auth;
use crate::email::{EmailMessage, KIND_OFFLINE_CONFIRMATION};
use crate::error::{ApiError, ApiResult};
use crate::http::identity::contact_name;
use crate::http::validate;
use crate::limits::LimitKind;
use crate::ops::conversation::{self as ops, view_body, view_of};
use crate::state::AppState;
use crate::store::LeadRecord;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use switchboard_actors::domain::business_hours;
use switchboard_actors::engine::conversation::OfflineForm;
use switchboard_actors::engine::project::GetSettings;
use switchboard_actors::engine::Caller;
use switchboard_actors::ids::{ConversationId, LeadId, ProjectId};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/conversations/{id}/presence", web::post().to(presence))
        .route(
            "/api/conversations/{id}/offline-form",
            web::post().to(offline_form),
        )
        .route("/api/conversations/{id}/rating", web::post().to(rating));
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
    ops::presence(&state, auth.0, *id, &body.status).await?;
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
    let name = contact_name("name", body.name.as_deref())?;
    let view = view_of(&state, &auth.0, *id).await?;
    let project = view.project_id;
    // The actor takes it once per conversation; the email is contact
    // information on it (unverified), never linked to a customer.
    let form = OfflineForm {
        caller: auth.0.clone(),
        email: email.clone(),
        name: name.clone(),
        // As sent: the actor checks the characters before it trims.
        message: body.message.clone(),
    };
    let view = state.engine.ask_conversation(view.id, form).await?;
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
    let view = ops::rate(&state, auth.0, *id, body.rating, body.feedback).await?;
    Ok(HttpResponse::Ok().json(json!({
        "conversation_id": view.id,
        "satisfaction_rating": view.satisfaction_rating,
        "satisfaction_feedback": view.satisfaction_feedback,
    })))
}
