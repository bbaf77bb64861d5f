//! Agents: the team list with live capacity, per-agent limits, status and
//! heartbeats (seed 003 5.3, 7.4). The project actor owns all of it.

use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::ops::agent;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use switchboard_actors::engine::project::{ListAgents, UpdateAgent};
use switchboard_actors::ids::{ProjectId, UserId};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/projects/{id}/agents", web::get().to(list))
        .route(
            "/api/projects/{id}/agents/{user_id}",
            web::patch().to(patch),
        )
        .route("/api/agent/status", web::put().to(status))
        .route("/api/agent/heartbeat", web::post().to(heartbeat));
}

async fn list(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
) -> ApiResult<HttpResponse> {
    auth.member_of(*id)?;
    let project = state.engine.project(*id).await?;
    let agents = project.addr.send(ListAgents).await?;
    Ok(HttpResponse::Ok().json(agents))
}

#[derive(Deserialize)]
struct Patch {
    max_concurrent_chats: Option<u32>,
    auto_offline_enabled: Option<bool>,
    auto_offline_minutes: Option<u32>,
}

async fn patch(
    state: web::Data<AppState>,
    auth: StaffAuth,
    path: web::Path<(ProjectId, UserId)>,
    body: web::Json<Patch>,
) -> ApiResult<HttpResponse> {
    let (project, user) = path.into_inner();
    auth.admin_of(project)?;
    let handle = state.engine.project(project).await?;
    let view = handle
        .addr
        .send(UpdateAgent {
            user_id: user,
            max_concurrent_chats: body.max_concurrent_chats,
            auto_offline_enabled: body.auto_offline_enabled,
            auto_offline_minutes: body.auto_offline_minutes,
        })
        .await??;
    if let Some(max) = body.max_concurrent_chats {
        state.db.set_agent_max(project, user, max).await?;
    }
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize)]
struct StatusBody {
    project_id: ProjectId,
    status: String,
}

async fn status(
    state: web::Data<AppState>,
    auth: StaffAuth,
    body: web::Json<StatusBody>,
) -> ApiResult<HttpResponse> {
    let view = agent::set_status(&state, &auth, body.project_id, &body.status).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize)]
struct HeartbeatBody {
    project_id: ProjectId,
}

async fn heartbeat(
    state: web::Data<AppState>,
    auth: StaffAuth,
    body: web::Json<HeartbeatBody>,
) -> ApiResult<HttpResponse> {
    agent::heartbeat(&state, &auth, body.project_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
