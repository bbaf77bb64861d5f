//! The instance's own permission (issue 14 item 15): who may create
//! projects. Creating a project makes its creator an admin who can invite
//! any address, and accepting an invitation for an address nobody used
//! makes an account with it; so this is not every staff account's. The
//! bootstrap admin (`SWITCHBOARD_ADMIN_EMAIL`) and the demo admin hold it,
//! and holders grant it to, or take it back from, an existing account:
//!
//! - `GET /api/instance/project-creators`: the holders;
//! - `PUT /api/instance/project-creators {email, allowed}`: grant or take
//!   back. Granting needs an account whose email is proven (else a holder
//!   could be led to empower whoever first accepted an invitation for that
//!   address); nobody takes back their own, so an instance always keeps a
//!   holder;
//! - `GET /api/instance/emails`: the built-in outbox of email that belongs
//!   to no project (staff accounts' codes), for relaying them when no
//!   email webhook is set.
//!
//! Anyone else gets 403 FORBIDDEN.

use crate::auth::StaffAuth;
use crate::error::{ApiError, ApiResult};
use crate::http::auth::user_json;
use crate::http::cursor::{self, PageQuery};
use crate::http::validate;
use crate::state::AppState;
use crate::store::UserRow;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/instance/project-creators",
        web::get().to(project_creators),
    )
    .route(
        "/api/instance/project-creators",
        web::put().to(set_project_creator),
    )
    .route("/api/instance/emails", web::get().to(emails));
}

/// The caller's account if it holds the permission, else 403.
async fn holder(state: &AppState, auth: &StaffAuth) -> ApiResult<UserRow> {
    let user = state
        .db
        .user_by_id(auth.1.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))?;
    if !user.can_create_projects {
        return Err(ApiError::forbidden(
            "only accounts that may create projects manage this",
        ));
    }
    Ok(user)
}

fn creator_json(u: &UserRow) -> Value {
    json!({ "id": u.id, "email": u.email, "name": u.name, "email_verified": u.email_verified })
}

async fn project_creators(state: web::Data<AppState>, auth: StaffAuth) -> ApiResult<HttpResponse> {
    holder(&state, &auth).await?;
    let items: Vec<Value> = state
        .db
        .project_creators()
        .await?
        .iter()
        .map(creator_json)
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": null })))
}

#[derive(Deserialize)]
struct SetCreator {
    email: String,
    allowed: bool,
}

fn refused(message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "INVALID_TRANSITION", message)
}

async fn set_project_creator(
    state: web::Data<AppState>,
    auth: StaffAuth,
    body: web::Json<SetCreator>,
) -> ApiResult<HttpResponse> {
    let me = holder(&state, &auth).await?;
    let email = validate::email("email", &body.email)?;
    let mut target = state
        .db
        .user_by_email(&email)
        .await?
        .ok_or_else(|| ApiError::not_found("no account has this email"))?;
    if body.allowed && !target.email_verified {
        return Err(refused(
            "this account has not proven its email: it must first confirm the code of \
             POST /api/auth/email-verification",
        ));
    }
    if !body.allowed && target.id == me.id {
        return Err(refused(
            "nobody takes back their own permission (an instance keeps a holder); \
             ask another holder",
        ));
    }
    if target.can_create_projects != body.allowed {
        state
            .db
            .set_can_create_projects(target.id, body.allowed, state.now())
            .await?;
        target.can_create_projects = body.allowed;
    }
    Ok(HttpResponse::Ok().json(json!({
        "user": user_json(&target),
        "can_create_projects": target.can_create_projects,
    })))
}

async fn emails(
    state: web::Data<AppState>,
    auth: StaffAuth,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    holder(&state, &auth).await?;
    let fetch = |after, n| state.db.list_instance_emails(after, n);
    cursor::list(&q, fetch, |e| (e.created_at, e.id)).await
}
