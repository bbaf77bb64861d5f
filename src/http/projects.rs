//! Projects (create, list, read, rename) and billing terms. Members and
//! invitations are in `team.rs`, handoff settings in `settings.rs`, the
//! knowledge base in `knowledge.rs`.
//!
//! Creating a project needs the instance's permission (`can_create_projects`,
//! see `http/instance.rs`).

use crate::auth::{self as a, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::http::validate;
use crate::state::AppState;
use crate::store::ProjectRow;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_actors::domain::settings::HandoffSettings;
use switchboard_actors::engine::Role;
use switchboard_actors::ids::ProjectId;
use switchboard_actors::wire_time;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/projects", web::post().to(create))
        .route("/api/projects", web::get().to(list))
        .route("/api/projects/{id}", web::get().to(get))
        .route("/api/projects/{id}", web::patch().to(rename))
        .route("/api/projects/{id}/billing", web::get().to(billing))
        .route("/api/projects/{id}/billing", web::put().to(set_billing));
}

fn project_json(p: &ProjectRow) -> Value {
    json!({
        "id": p.id, "name": p.name, "public_key": p.public_key,
        "allowed_origins": p.allowed_origins,
        "created_at": wire_time::format(&p.created_at),
    })
}

#[derive(Deserialize)]
struct CreateProject {
    name: String,
}

/// Create a project; the caller becomes its admin. The secret key is shown
/// only in this answer.
pub async fn create_project(
    state: &AppState,
    owner: &crate::store::UserRow,
    name: &str,
) -> ApiResult<(ProjectRow, String)> {
    let name = validate::text("name", name, 1, 100)?;
    let now = state.now();
    let secret = a::new_token(a::SECRET_KEY_PREFIX);
    let project = ProjectRow {
        id: ProjectId::new(),
        name,
        public_key: a::new_token(a::PUBLIC_KEY_PREFIX),
        secret_key_hash: a::hash_token(&secret),
        allowed_origins: Vec::new(),
        owner_id: owner.id,
        created_at: now,
        updated_at: now,
    };
    state
        .db
        .create_project(
            &project,
            &HandoffSettings::default(),
            &owner.email,
            &owner.name,
        )
        .await?;
    state.engine.project(project.id).await?;
    Ok((project, secret))
}

/// Only holders of the instance's permission create projects: otherwise
/// any staff account could make a project and invite (and so create an
/// account for) any address.
async fn create(
    state: web::Data<AppState>,
    auth: StaffAuth,
    body: web::Json<CreateProject>,
) -> ApiResult<HttpResponse> {
    let owner = state
        .db
        .user_by_id(auth.1.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))?;
    if !owner.can_create_projects {
        return Err(ApiError::forbidden(
            "creating projects needs the instance's permission; ask an instance admin \
             to grant it (PUT /api/instance/project-creators)",
        ));
    }
    let (project, secret) = create_project(&state, &owner, &body.name).await?;
    let mut body = project_json(&project);
    body["secret_key"] = json!(secret);
    Ok(HttpResponse::Created().json(body))
}

async fn list(state: web::Data<AppState>, auth: StaffAuth) -> ApiResult<HttpResponse> {
    let items: Vec<Value> = state
        .db
        .projects_of_user(auth.1.user_id)
        .await?
        .iter()
        .map(|(p, role)| {
            let mut j = project_json(p);
            j["role"] = json!(role.as_str());
            j
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": null })))
}

async fn get(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
) -> ApiResult<HttpResponse> {
    let role = auth.member_of(*id)?;
    let mut j = project_answer(&state, *id, role).await?;
    // Admins only: host sites sign their users' emails with it (user_hash).
    if role == Role::Admin {
        j["identity_secret"] = json!(crate::http::identity::secret_for_admin(&state, *id).await?);
    }
    Ok(HttpResponse::Ok().json(j))
}

/// The stored project as a member with `role` sees it.
async fn project_answer(state: &AppState, id: ProjectId, role: Role) -> ApiResult<Value> {
    let p = state
        .db
        .project(id)
        .await?
        .ok_or_else(|| ApiError::not_found("project not found"))?;
    let mut j = project_json(&p);
    j["role"] = json!(role.as_str());
    Ok(j)
}

#[derive(Deserialize)]
struct Rename {
    name: String,
}

/// Rename a project (admins). The answer is the project as `get` shows it
/// to a member.
async fn rename(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
    body: web::Json<Rename>,
) -> ApiResult<HttpResponse> {
    auth.admin_of(*id)?;
    let name = validate::text("name", &body.name, 1, 100)?;
    if !state.db.rename_project(*id, &name, state.now()).await? {
        return Err(ApiError::not_found("project not found"));
    }
    Ok(HttpResponse::Ok().json(project_answer(&state, *id, Role::Admin).await?))
}

/// Billing terms of the project's billable sessions: the solver's share of
/// each session's price (seed 000: 65 %). A session keeps the share it was
/// created with.
async fn billing(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
) -> ApiResult<HttpResponse> {
    auth.member_of(*id)?;
    let share = state.db.solver_share_percent(*id).await?;
    Ok(HttpResponse::Ok().json(json!({ "solver_share_percent": share })))
}

#[derive(Deserialize)]
struct Billing {
    solver_share_percent: i64,
}

async fn set_billing(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
    body: web::Json<Billing>,
) -> ApiResult<HttpResponse> {
    auth.admin_of(*id)?;
    let share = u32::try_from(body.solver_share_percent)
        .ok()
        .filter(|p| *p <= 100)
        .ok_or_else(|| ApiError::field("solver_share_percent", "must be between 0 and 100"))?;
    state
        .db
        .set_solver_share_percent(*id, share, state.now())
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "solver_share_percent": share })))
}
