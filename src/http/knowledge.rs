//! The knowledge base the built-in responder answers from: list, add,
//! edit and delete a project's entries, and "try it", which asks the
//! project's AI responder a question as a customer would, so an admin can
//! see the answer and its confidence against the handoff threshold.

use crate::auth::StaffAuth;
use crate::error::{ApiError, ApiResult};
use crate::http::settings::project_settings;
use crate::http::validate;
use crate::state::AppState;
use crate::store::KnowledgeRow;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_actors::ids::{KnowledgeId, ProjectId};
use switchboard_actors::ports::AiResponder;
use switchboard_actors::wire_time;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/projects/{id}/knowledge", web::get().to(knowledge))
        .route(
            "/api/projects/{id}/knowledge",
            web::post().to(add_knowledge),
        )
        .route(
            "/api/projects/{id}/knowledge/try",
            web::post().to(try_question),
        )
        .route(
            "/api/projects/{id}/knowledge/{entry_id}",
            web::put().to(edit_knowledge),
        )
        .route(
            "/api/projects/{id}/knowledge/{entry_id}",
            web::delete().to(delete_knowledge),
        );
}

fn knowledge_json(k: &KnowledgeRow) -> Value {
    json!({
        "id": k.id, "project_id": k.project_id, "question": k.question, "answer": k.answer,
        "created_at": wire_time::format(&k.created_at),
    })
}

async fn knowledge(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
) -> ApiResult<HttpResponse> {
    auth.member_of(*id)?;
    let items: Vec<Value> = state
        .db
        .knowledge(*id)
        .await?
        .iter()
        .map(knowledge_json)
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": null })))
}

#[derive(Deserialize)]
struct NewKnowledge {
    question: String,
    answer: String,
}

async fn add_knowledge(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
    body: web::Json<NewKnowledge>,
) -> ApiResult<HttpResponse> {
    auth.admin_of(*id)?;
    let (question, answer) = entry_text(&body)?;
    let entry = KnowledgeRow {
        id: KnowledgeId::new(),
        project_id: *id,
        question,
        answer,
        created_at: state.now(),
    };
    state.db.insert_knowledge(&entry).await?;
    state.ai.invalidate(*id);
    Ok(HttpResponse::Created().json(knowledge_json(&entry)))
}

async fn delete_knowledge(
    state: web::Data<AppState>,
    auth: StaffAuth,
    path: web::Path<(ProjectId, KnowledgeId)>,
) -> ApiResult<HttpResponse> {
    let (project, entry) = path.into_inner();
    auth.admin_of(project)?;
    if !state.db.delete_knowledge(project, entry).await? {
        return Err(ApiError::not_found("knowledge entry not found"));
    }
    state.ai.invalidate(project);
    Ok(HttpResponse::NoContent().finish())
}

/// A question and an answer, checked as an entry is stored.
fn entry_text(body: &NewKnowledge) -> ApiResult<(String, String)> {
    let question = validate::text("question", &body.question, 1, 1000);
    let answer = validate::text("answer", &body.answer, 1, 10_000);
    match (question, answer) {
        (Ok(q), Ok(a)) => Ok((q, a)),
        (q, a) => Err(validate::fields([q.err(), a.err()])),
    }
}

async fn edit_knowledge(
    state: web::Data<AppState>,
    auth: StaffAuth,
    path: web::Path<(ProjectId, KnowledgeId)>,
    body: web::Json<NewKnowledge>,
) -> ApiResult<HttpResponse> {
    let (project, id) = path.into_inner();
    auth.admin_of(project)?;
    let (question, answer) = entry_text(&body)?;
    let existing = state
        .db
        .knowledge(project)
        .await?
        .into_iter()
        .find(|k| k.id == id)
        .ok_or_else(|| ApiError::not_found("knowledge entry not found"))?;
    let entry = KnowledgeRow {
        question,
        answer,
        ..existing
    };
    if !state.db.update_knowledge(&entry).await? {
        return Err(ApiError::not_found("knowledge entry not found"));
    }
    state.ai.invalidate(project);
    Ok(HttpResponse::Ok().json(knowledge_json(&entry)))
}

#[derive(Deserialize)]
struct TryQuestion {
    question: String,
}

/// The responder's answer to `question` with no history, its confidence,
/// and whether the project's low-confidence trigger would hand off on it.
/// Nothing is stored.
async fn try_question(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
    body: web::Json<TryQuestion>,
) -> ApiResult<HttpResponse> {
    auth.admin_of(*id)?;
    let question = validate::text("question", &body.question, 1, 1000)?;
    let settings = project_settings(&state, *id).await?;
    let reply = state
        .ai
        .respond(*id, &[], &question)
        .await
        .map_err(|e| ApiError::unavailable(format!("the AI responder failed: {e}")))?;
    let triggers = &settings.auto_triggers;
    let would_hand_off = settings.enabled
        && triggers.low_confidence_enabled
        && reply.confidence < triggers.low_confidence_threshold;
    Ok(HttpResponse::Ok().json(json!({
        "answer": reply.content,
        "confidence": reply.confidence,
        "threshold": triggers.low_confidence_threshold,
        "would_hand_off": would_hand_off,
        "source": reply.metadata.get("source").cloned().unwrap_or(Value::Null),
    })))
}
