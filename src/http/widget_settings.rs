//! The widget's settings (issue 16): how it looks (title, greeting, accent
//! colour, position, language) and the sites it may be used from, edited
//! by admins and read by the widget itself with the public key. See
//! `appearance.rs` for the document and its checks, `origins.rs` for how
//! the list is enforced.

use crate::appearance::{parse_origin, Appearance, MAX_ORIGINS};
use crate::auth::{ProjectKey, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use switchboard_actors::ids::ProjectId;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/projects/{id}/widget", web::get().to(get))
        .route("/api/projects/{id}/widget", web::put().to(put))
        .route("/api/widget/config", web::get().to(config));
}

/// The stored appearance; a document that no longer reads (it cannot be
/// written that way) falls back to the defaults rather than break the widget.
async fn appearance(state: &AppState, project: ProjectId) -> ApiResult<Appearance> {
    let text = state
        .db
        .widget_appearance(project)
        .await?
        .ok_or_else(|| ApiError::not_found("project not found"))?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

/// `<script>` to paste into a site, pointing at this server as the
/// request reached it.
fn snippet(req: &HttpRequest, public_key: &str) -> String {
    let info = req.connection_info();
    format!(
        r#"<script src="{}://{}/widget.js" data-project-key="{public_key}" async></script>"#,
        info.scheme(),
        info.host()
    )
}

async fn get(
    state: web::Data<AppState>,
    auth: StaffAuth,
    req: HttpRequest,
    id: web::Path<ProjectId>,
) -> ApiResult<HttpResponse> {
    auth.member_of(*id)?;
    let project = state
        .db
        .project(*id)
        .await?
        .ok_or_else(|| ApiError::not_found("project not found"))?;
    Ok(HttpResponse::Ok().json(json!({
        "appearance": appearance(&state, *id).await?,
        "allowed_origins": project.allowed_origins,
        "public_key": project.public_key,
        "snippet": snippet(&req, &project.public_key),
    })))
}

#[derive(Deserialize)]
struct Put {
    appearance: Option<Value>,
    allowed_origins: Option<Vec<String>>,
}

/// Replaces the appearance and/or the allowed origins; every problem of
/// both is answered at once (`appearance.<field>`, `allowed_origins.<i>`),
/// and nothing is saved unless all is well.
async fn put(
    state: web::Data<AppState>,
    auth: StaffAuth,
    req: HttpRequest,
    id: web::Path<ProjectId>,
    body: web::Json<Put>,
) -> ApiResult<HttpResponse> {
    let project = *id;
    auth.admin_of(project)?;
    let current = state
        .db
        .project(project)
        .await?
        .ok_or_else(|| ApiError::not_found("project not found"))?;
    let mut fields = BTreeMap::new();
    let look = match body.appearance.clone() {
        Some(v) => serde_json::from_value::<Appearance>(v)
            .map_err(|e| ApiError::bad_request(format!("invalid appearance: {e}")))?
            .normalized(),
        None => appearance(&state, project).await?,
    };
    if let Err(errors) = look.validate() {
        fields.extend(
            errors
                .into_iter()
                .map(|(k, v)| (format!("appearance.{k}"), v)),
        );
    }
    let origins = match &body.allowed_origins {
        Some(list) => {
            if list.len() > MAX_ORIGINS {
                fields.insert(
                    "allowed_origins".into(),
                    format!("must list at most {MAX_ORIGINS} origins"),
                );
            }
            let mut parsed = Vec::new();
            for (i, o) in list.iter().enumerate() {
                match parse_origin(o) {
                    Ok(o) if !parsed.contains(&o) => parsed.push(o),
                    Ok(_) => {}
                    Err(why) => {
                        fields.insert(format!("allowed_origins.{i}"), why.to_string());
                    }
                }
            }
            parsed
        }
        None => current.allowed_origins.clone(),
    };
    if !fields.is_empty() {
        return Err(ApiError::validation(fields));
    }
    let text = serde_json::to_string(&look).map_err(ApiError::internal)?;
    if !state
        .db
        .set_widget(project, text, &origins, state.now())
        .await?
    {
        return Err(ApiError::not_found("project not found"));
    }
    state.origins.forget(project);
    Ok(HttpResponse::Ok().json(json!({
        "appearance": look,
        "allowed_origins": origins,
        "public_key": current.public_key,
        "snippet": snippet(&req, &current.public_key),
    })))
}

/// What the widget needs to look as the project wants (public key).
async fn config(state: web::Data<AppState>, key: ProjectKey) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(json!({ "appearance": appearance(&state, key.0.id).await? })))
}
