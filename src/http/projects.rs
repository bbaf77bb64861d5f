//! Projects (create, list, read, rename), members and invitations, and
//! billing terms. Handoff settings are in `settings.rs`, the knowledge base
//! in `knowledge.rs`.
//!
//! Creating a project needs the instance's permission (`can_create_projects`,
//! see `http/instance.rs`). An invitation is good for [`INVITATION_DAYS`]
//! days from `invited_at` on the server's Clock and can be revoked while
//! pending; an expired or revoked token is refused like an unknown one.

use crate::auth::{self as a, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::http::validate;
use crate::state::AppState;
use crate::store::{MemberRole, MemberRow, MemberStatus, ProjectRow, Revoked};
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_actors::domain::settings::HandoffSettings;
use switchboard_actors::engine::Role;
use switchboard_actors::ids::ProjectId;
use switchboard_actors::wire_time;
use uuid::Uuid;

/// How long an invitation can be accepted, from its `invited_at`.
pub const INVITATION_DAYS: i64 = 7;

/// The instant an invitation made at `invited_at` stops being accepted.
pub fn invitation_expires_at(invited_at: DateTime<Utc>) -> DateTime<Utc> {
    invited_at + chrono::Duration::days(INVITATION_DAYS)
}

/// Whether a pending invitation made at `invited_at` is past its time.
pub fn invitation_expired(invited_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= invitation_expires_at(invited_at)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/projects", web::post().to(create))
        .route("/api/projects", web::get().to(list))
        .route("/api/projects/{id}", web::get().to(get))
        .route("/api/projects/{id}", web::patch().to(rename))
        .route("/api/projects/{id}/members", web::post().to(invite))
        .route("/api/projects/{id}/members", web::get().to(members))
        .route(
            "/api/projects/{id}/members/{member_id}",
            web::delete().to(revoke),
        )
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

/// A member or invitation as the API shows it at `now`: a pending
/// invitation past its time shows `status: "expired"` (it can no longer be
/// accepted; invite the email again, or revoke it), and every pending one
/// its `expires_at` (`null` otherwise).
fn member_json(m: &MemberRow, now: DateTime<Utc>) -> Value {
    let pending = m.status == MemberStatus::Pending;
    let status = if pending && invitation_expired(m.invited_at, now) {
        "expired"
    } else {
        m.status.as_str()
    };
    json!({
        "id": m.id, "project_id": m.project_id, "user_id": m.user_id, "email": m.email,
        "name": m.name, "role": m.role.as_str(), "status": status,
        "max_concurrent_chats": m.max_concurrent_chats,
        "invited_at": wire_time::format(&m.invited_at),
        "expires_at": pending.then(|| wire_time::format(&invitation_expires_at(m.invited_at))),
        "accepted_at": m.accepted_at.as_ref().map(wire_time::format),
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

#[derive(Deserialize)]
struct Invite {
    email: String,
    name: Option<String>,
    role: String,
    max_concurrent_chats: Option<u32>,
}

async fn invite(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
    body: web::Json<Invite>,
) -> ApiResult<HttpResponse> {
    let project = *id;
    auth.admin_of(project)?;
    let email = validate::email("email", &body.email)?;
    let role = MemberRole::parse(&body.role)
        .ok_or_else(|| ApiError::field("role", "must be \"agent\" or \"admin\""))?;
    let name = body
        .name
        .as_deref()
        .map(|n| validate::text("name", n, 1, 100))
        .transpose()?;
    let settings = crate::http::settings::project_settings(&state, project).await?;
    let max = body
        .max_concurrent_chats
        .unwrap_or(settings.default_max_concurrent_chats);
    if !(1..=50).contains(&max) {
        return Err(ApiError::field(
            "max_concurrent_chats",
            "must be between 1 and 50",
        ));
    }
    let token = a::new_token(a::INVITE_PREFIX);
    let now = state.now();
    let member = MemberRow {
        id: Uuid::new_v4(),
        project_id: project,
        user_id: None,
        email,
        name,
        role,
        status: MemberStatus::Pending,
        invited_by: auth.1.user_id,
        invited_at: now,
        accepted_at: None,
        invite_token_hash: Some(a::hash_token(&token)),
        max_concurrent_chats: max,
        created_at: now,
        updated_at: now,
    };
    // An expired invitation of the same email makes way for this one.
    let expired = now - chrono::Duration::days(INVITATION_DAYS);
    match state.db.insert_invitation(&member, expired).await {
        Ok(()) => {}
        Err(switchboard_actors::ports::StoreError::Conflict(_)) => {
            return Err(ApiError::field("email", "is already a member or invited"))
        }
        Err(e) => return Err(e.into()),
    }
    Ok(HttpResponse::Created()
        .json(json!({ "member": member_json(&member, now), "invite_token": token })))
}

async fn members(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
) -> ApiResult<HttpResponse> {
    auth.admin_of(*id)?;
    let now = state.now();
    let items: Vec<Value> = state
        .db
        .members(*id)
        .await?
        .iter()
        .map(|m| member_json(m, now))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": null })))
}

/// Revokes a pending invitation (expired or not): its token is refused
/// from now on like an unknown one. An accepted member is not removed
/// here (400 INVALID_TRANSITION); another project's member is 404.
async fn revoke(
    state: web::Data<AppState>,
    auth: StaffAuth,
    path: web::Path<(ProjectId, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (project, member) = path.into_inner();
    auth.admin_of(project)?;
    match state.db.revoke_invitation(project, member).await? {
        Revoked::Revoked => Ok(HttpResponse::NoContent().finish()),
        Revoked::NotFound => Err(ApiError::not_found("member not found")),
        Revoked::NotPending => Err(ApiError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            "INVALID_TRANSITION",
            "only a pending invitation can be revoked; this member has accepted",
        )),
    }
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
