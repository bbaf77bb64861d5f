//! A staff user's own profile (issue 16): name and avatar (shown to the
//! team, in `agent_assigned` and in the widget's header), and a password
//! change that asks for the current password and ends every other session
//! of the user (their tokens stop working and their sockets close).

use crate::auth::{self as a, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::http::auth::user_json;
use crate::http::validate;
use crate::limits::LimitKind;
use crate::state::AppState;
use crate::store::UserRow;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use switchboard_actors::engine::project::AgentProfile;
use switchboard_actors::engine::Role;
use switchboard_actors::ids::UserId;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/auth/me", web::patch().to(update))
        .route("/api/auth/password", web::post().to(change_password));
}

/// The caller's own account (gone: the token no longer stands for anyone).
async fn me(state: &AppState, id: UserId) -> ApiResult<UserRow> {
    state
        .db
        .user_by_id(id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))
}

#[derive(Deserialize)]
struct Update {
    name: Option<String>,
    /// `null` or `""` removes the avatar.
    #[serde(default, with = "double_option")]
    avatar_url: Option<Option<String>>,
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent.
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Ok(Some(Option::deserialize(d)?))
    }
}

/// An avatar is an https address (what the pages' content policy loads);
/// nothing else (no `javascript:`, `data:` or plain http) reaches a page.
fn avatar(url: &str) -> ApiResult<Option<String>> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let ok = url.starts_with("https://")
        && url.len() > "https://".len()
        && url.len() <= 500
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<');
    if !ok {
        return Err(ApiError::field(
            "avatar_url",
            "must be an https:// address of at most 500 characters",
        ));
    }
    Ok(Some(url.to_string()))
}

async fn update(
    state: web::Data<AppState>,
    auth: StaffAuth,
    body: web::Json<Update>,
) -> ApiResult<HttpResponse> {
    let user = me(&state, auth.1.user_id).await?;
    let name = body
        .name
        .as_deref()
        .map(|n| validate::text("name", n, 1, 100));
    let pic = body
        .avatar_url
        .clone()
        .map(|u| avatar(u.as_deref().unwrap_or("")));
    let (name, pic) = match (name, pic) {
        (Some(Err(n)), Some(Err(p))) => return Err(validate::fields([Some(n), Some(p)])),
        (n, p) => (n.transpose()?, p.transpose()?),
    };
    let name = name.unwrap_or(user.name.clone());
    let pic = pic.unwrap_or(user.avatar_url.clone());
    state
        .db
        .set_profile(user.id, &name, pic.as_deref(), state.now())
        .await?;
    for (project, role) in &auth.1.memberships {
        if *role == Role::Agent {
            let handle = state.engine.project(*project).await?;
            handle.addr.do_send(AgentProfile {
                user_id: user.id,
                name: name.clone(),
                avatar_url: pic.clone(),
            });
        }
    }
    let user = me(&state, user.id).await?;
    Ok(HttpResponse::Ok().json(json!({ "user": user_json(&user) })))
}

#[derive(Deserialize)]
struct NewPassword {
    current_password: String,
    new_password: String,
}

/// Proof first (the current password, limited as logins are), then the
/// new one; every other session of the user ends.
async fn change_password(
    state: web::Data<AppState>,
    auth: StaffAuth,
    req: HttpRequest,
    body: web::Json<NewPassword>,
) -> ApiResult<HttpResponse> {
    let user = me(&state, auth.1.user_id).await?;
    state.rate_limit(LimitKind::LoginAccount, &user.email)?;
    validate::password("new_password", &body.new_password)?;
    let right = state
        .passwords
        .verify(body.current_password.clone(), user.password_hash.clone())
        .await?;
    if !right {
        return Err(ApiError::field(
            "current_password",
            "is not your current password",
        ));
    }
    let hash = state.passwords.hash(body.new_password.clone()).await?;
    let keep = a::bearer(&req)
        .map(|t| a::hash_token(&t))
        .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))?;
    state
        .db
        .set_password(user.id, &hash, &keep, state.now())
        .await?;
    state.sockets.revoke_user_except(user.id, &keep);
    Ok(HttpResponse::NoContent().finish())
}
