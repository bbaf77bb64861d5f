//! Rotating a project's keys (admins): the public key the widget embeds
//! and the secret key its servers use. The old key stops working at once:
//! requests are checked against the stored key every time, and sockets a
//! server opened with the old secret are closed. A new secret is shown
//! only in this answer (only its hash is kept). The identity-verification
//! secret rotates at `POST /api/projects/:id/identity-secret`.

use crate::auth::{self as a, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::json;
use switchboard_actors::ids::ProjectId;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/projects/{id}/public-key",
        web::post().to(rotate_public),
    )
    .route(
        "/api/projects/{id}/secret-key",
        web::post().to(rotate_secret),
    );
}

fn not_found() -> ApiError {
    ApiError::not_found("project not found")
}

async fn rotate_public(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
) -> ApiResult<HttpResponse> {
    auth.admin_of(*id)?;
    let fresh = a::new_token(a::PUBLIC_KEY_PREFIX);
    if !state.db.set_public_key(*id, &fresh, state.now()).await? {
        return Err(not_found());
    }
    Ok(HttpResponse::Ok().json(json!({ "public_key": fresh })))
}

async fn rotate_secret(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
) -> ApiResult<HttpResponse> {
    auth.admin_of(*id)?;
    let old = state.db.project(*id).await?.ok_or_else(not_found)?;
    let fresh = a::new_token(a::SECRET_KEY_PREFIX);
    if !state
        .db
        .set_secret_key_hash(*id, &a::hash_token(&fresh), state.now())
        .await?
    {
        return Err(not_found());
    }
    state.sockets.revoke_token(&old.secret_key_hash);
    Ok(HttpResponse::Ok().json(json!({ "secret_key": fresh })))
}
