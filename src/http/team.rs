//! A project's team (seed 003 4.1, 6.2.6): members and invitations. Admins
//! invite by email (an invitation is good for [`INVITATION_DAYS`] days from
//! `invited_at` on the server's Clock), list the team, revoke a pending
//! invitation, change a member's role or chat limit, and remove a member.
//!
//! A member who stops being an agent (removed, or made an admin) leaves the
//! project's ledger at once and their active conversations go back to the
//! queue with a system message; a change of rights closes the member's live
//! sockets (4001), so they reconnect with what they may do now. A project
//! always keeps at least one admin.

use crate::auth::{self as a, StaffAuth};
use crate::email::{EmailMessage, KIND_INVITATION};
use crate::error::{ApiError, ApiResult};
use crate::http::settings::project_settings;
use crate::http::validate;
use crate::state::AppState;
use crate::store::{MemberRole, MemberRow, MemberStatus, Revoked};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_actors::engine::conversation::AgentRemoved;
use switchboard_actors::engine::project::{AgentJoined, AgentLeft, UpdateAgent};
use switchboard_actors::engine::ConversationRef;
use switchboard_actors::ids::{ProjectId, UserId};
use switchboard_actors::ports::AgentRecord;
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
struct Invite {
    email: String,
    name: Option<String>,
    role: String,
    max_concurrent_chats: Option<u32>,
}

async fn invite(
    state: web::Data<AppState>,
    auth: StaffAuth,
    req: HttpRequest,
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
    let settings = project_settings(&state, project).await?;
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
    let email_sent = send_invitation(&state, &req, &member, &token).await;
    Ok(HttpResponse::Created().json(json!({
        "member": member_json(&member, now),
        "invite_token": token,
        "invite_url": invite_url(&req, &token),
        "email_sent": email_sent,
    })))
}

/// The page an invitation's holder opens, at this server as the request
/// reached it.
fn invite_url(req: &HttpRequest, token: &str) -> String {
    let info = req.connection_info();
    format!("{}://{}/invite/{token}", info.scheme(), info.host())
}

/// Mails the invitation through the email provider; whether it went (the
/// admin can always copy the link instead).
async fn send_invitation(state: &AppState, req: &HttpRequest, m: &MemberRow, token: &str) -> bool {
    let project = match state.db.project(m.project_id).await {
        Ok(Some(p)) => p.name,
        _ => return false,
    };
    let role = if m.role == MemberRole::Admin {
        "an admin"
    } else {
        "an agent"
    };
    let mail = EmailMessage {
        project_id: Some(m.project_id),
        to: m.email.clone(),
        subject: format!("You are invited to {project} on Switchboard"),
        body: format!(
            "You are invited to join {project} as {role}.\n\nOpen this link within {INVITATION_DAYS} days to accept:\n{}\n\nIf you did not expect this, ignore this email.",
            invite_url(req, token)
        ),
        kind: KIND_INVITATION.into(),
    };
    match state.email.send(&mail).await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(project = %m.project_id, error = %e, "invitation email not sent");
            false
        }
    }
}

/// A pending invitation again (expired or not): a new link (the old one
/// stops working), seven days from now, mailed again.
async fn resend(
    state: web::Data<AppState>,
    auth: StaffAuth,
    req: HttpRequest,
    path: web::Path<(ProjectId, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (project, id) = path.into_inner();
    auth.admin_of(project)?;
    let token = a::new_token(a::INVITE_PREFIX);
    let now = state.now();
    if !state
        .db
        .renew_invitation(project, id, &a::hash_token(&token), now)
        .await?
    {
        // 404 for no such member of the project; else it has accepted.
        member(&state, project, id).await?;
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_TRANSITION",
            "only a pending invitation can be sent again; this member has accepted",
        ));
    }
    let m = member(&state, project, id).await?;
    let email_sent = send_invitation(&state, &req, &m, &token).await;
    Ok(HttpResponse::Ok().json(json!({
        "member": member_json(&m, now),
        "invite_token": token,
        "invite_url": invite_url(&req, &token),
        "email_sent": email_sent,
    })))
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

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/projects/{id}/members", web::post().to(invite))
        .route("/api/projects/{id}/members", web::get().to(members))
        .route(
            "/api/projects/{id}/members/{member_id}",
            web::delete().to(remove),
        )
        .route(
            "/api/projects/{id}/members/{member_id}",
            web::patch().to(change),
        )
        .route(
            "/api/projects/{id}/members/{member_id}/resend",
            web::post().to(resend),
        );
}

/// The member `id` of `project` (404 for another project's).
async fn member(state: &AppState, project: ProjectId, id: Uuid) -> ApiResult<MemberRow> {
    state
        .db
        .members(project)
        .await?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or_else(|| ApiError::not_found("member not found"))
}

/// Refuses to take the last admin's rights away.
async fn keep_an_admin(state: &AppState, project: ProjectId, leaving: &MemberRow) -> ApiResult<()> {
    if leaving.role != MemberRole::Admin || leaving.status != MemberStatus::Active {
        return Ok(());
    }
    let admins = state
        .db
        .members(project)
        .await?
        .iter()
        .filter(|m| m.role == MemberRole::Admin && m.status == MemberStatus::Active)
        .count();
    if admins <= 1 {
        return Err(ApiError::conflict(
            "LAST_ADMIN",
            "a project keeps at least one admin; make someone else an admin first",
        ));
    }
    Ok(())
}

/// `user` stops being one of the project's agents: out of the ledger, the
/// conversations they answered back to the queue (each with a system
/// message), and their sockets closed so they reconnect with their new
/// rights.
async fn agent_leaves(
    state: &AppState,
    project: ProjectId,
    user: UserId,
    leaves_project: bool,
) -> ApiResult<usize> {
    let handle = state.engine.project(project).await?;
    let held = handle
        .addr
        .send(AgentLeft {
            user_id: user,
            leaves_project,
        })
        .await??;
    state.sockets.revoke_user(user);
    for conversation in &held {
        if let ConversationRef::Live(addr) = state.engine.conversation(*conversation).await? {
            addr.send(AgentRemoved { user_id: user }).await??;
        }
    }
    Ok(held.len())
}

/// Revokes a pending invitation (expired or not: its token is refused
/// from now on like an unknown one), or removes an active member. 204.
async fn remove(
    state: web::Data<AppState>,
    auth: StaffAuth,
    path: web::Path<(ProjectId, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (project, id) = path.into_inner();
    auth.admin_of(project)?;
    match state.db.revoke_invitation(project, id).await? {
        Revoked::Revoked => return Ok(HttpResponse::NoContent().finish()),
        Revoked::NotFound => return Err(ApiError::not_found("member not found")),
        Revoked::NotPending => {}
    }
    let m = member(&state, project, id).await?;
    keep_an_admin(&state, project, &m).await?;
    let user = m
        .user_id
        .ok_or_else(|| ApiError::internal("an accepted member without a user"))?;
    agent_leaves(&state, project, user, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct Change {
    role: Option<String>,
    max_concurrent_chats: Option<u32>,
}

/// Changes an active member's role (`agent` or `admin`) and an agent's
/// chat limit; answers the member.
async fn change(
    state: web::Data<AppState>,
    auth: StaffAuth,
    path: web::Path<(ProjectId, Uuid)>,
    body: web::Json<Change>,
) -> ApiResult<HttpResponse> {
    let (project, id) = path.into_inner();
    auth.admin_of(project)?;
    let role = body
        .role
        .as_deref()
        .map(|r| {
            MemberRole::parse(r)
                .ok_or_else(|| ApiError::field("role", "must be \"agent\" or \"admin\""))
        })
        .transpose()?;
    if body
        .max_concurrent_chats
        .is_some_and(|m| !(1..=50).contains(&m))
    {
        return Err(ApiError::field(
            "max_concurrent_chats",
            "must be between 1 and 50",
        ));
    }
    let m = member(&state, project, id).await?;
    if m.status != MemberStatus::Active {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_TRANSITION",
            "only an accepted member's role or limit can change; revoke the invitation and invite again",
        ));
    }
    let user = m
        .user_id
        .ok_or_else(|| ApiError::internal("an accepted member without a user"))?;
    let role = role.filter(|r| *r != m.role);
    let agent_after = role.unwrap_or(m.role) == MemberRole::Agent;
    if body.max_concurrent_chats.is_some() && !agent_after {
        return Err(ApiError::field(
            "max_concurrent_chats",
            "only agents take chats",
        ));
    }
    if role == Some(MemberRole::Agent) {
        keep_an_admin(&state, project, &m).await?;
    }
    let now = state.now();
    let handle = state.engine.project(project).await?;
    // The limit first: a limit the agent's open chats exceed is refused
    // before anything else changes.
    if let (Some(max), None) = (body.max_concurrent_chats, role) {
        handle
            .addr
            .send(UpdateAgent {
                user_id: user,
                max_concurrent_chats: Some(max),
                ..Default::default()
            })
            .await??;
        state.db.set_agent_max(project, user, max).await?;
    }
    if let Some(role) = role {
        state.db.set_member_role(project, id, role, now).await?;
        match role {
            MemberRole::Admin => {
                agent_leaves(&state, project, user, false).await?;
            }
            MemberRole::Agent => {
                let u = state
                    .db
                    .user_by_id(user)
                    .await?
                    .ok_or_else(|| ApiError::not_found("member not found"))?;
                let max = body.max_concurrent_chats.unwrap_or(m.max_concurrent_chats);
                if max != m.max_concurrent_chats {
                    state.db.set_agent_max(project, user, max).await?;
                }
                let record =
                    AgentRecord::new_offline(project, user, u.name, u.avatar_url, max, now);
                handle.addr.send(AgentJoined { record }).await?;
                state.sockets.revoke_user(user);
            }
        }
    }
    let m = member(&state, project, id).await?;
    Ok(HttpResponse::Ok().json(member_json(&m, now)))
}
