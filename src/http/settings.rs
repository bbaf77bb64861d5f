//! A project's handoff settings (seed 003 5.1.2 with the timeouts of
//! 5.12.6): read, replace, and preview the business hours a document would
//! give before it is saved (the admin console's "open now / next opening"),
//! plus the time zone names the server accepts.

use crate::auth::StaffAuth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};
use std::sync::{Arc, OnceLock};
use switchboard_actors::domain::business_hours::{describe_local, is_open, next_opening};
use switchboard_actors::domain::settings::HandoffSettings;
use switchboard_actors::engine::project::{GetSettings, UpdateSettings};
use switchboard_actors::engine::EngineError;
use switchboard_actors::ids::ProjectId;
use switchboard_actors::wire_time;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/projects/{id}/handoff-settings",
        web::get().to(get_settings),
    )
    .route(
        "/api/projects/{id}/handoff-settings",
        web::put().to(put_settings),
    )
    .route(
        "/api/projects/{id}/handoff-settings/preview",
        web::post().to(preview),
    )
    .route("/api/timezones", web::get().to(timezones));
}

pub async fn project_settings(
    state: &AppState,
    project: ProjectId,
) -> ApiResult<Arc<HandoffSettings>> {
    let handle = state.engine.project(project).await?;
    Ok(handle.addr.send(GetSettings).await?)
}

/// A settings document from a request body: a wrong type is a 400 that
/// names it, as for any other body.
fn parse(body: Value) -> ApiResult<HandoffSettings> {
    serde_json::from_value(body)
        .map_err(|e| ApiError::bad_request(format!("invalid settings: {e}")))
}

async fn get_settings(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
) -> ApiResult<HttpResponse> {
    auth.member_of(*id)?;
    let s = project_settings(&state, *id).await?;
    Ok(HttpResponse::Ok().json(&*s))
}

async fn put_settings(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
    body: web::Json<Value>,
) -> ApiResult<HttpResponse> {
    auth.admin_of(*id)?;
    let settings = parse(body.into_inner())?;
    let handle = state.engine.project(*id).await?;
    let saved = handle.addr.send(UpdateSettings { settings }).await??;
    Ok(HttpResponse::Ok().json(&*saved))
}

/// What the business hours of a settings document say now, on the
/// server's Clock and in the document's time zone; nothing is saved. The
/// document is validated as a save would (422 with `fields`).
async fn preview(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
    body: web::Json<Value>,
) -> ApiResult<HttpResponse> {
    auth.admin_of(*id)?;
    let settings = parse(body.into_inner())?.normalized();
    settings
        .validate()
        .map_err(|fields| ApiError::from(EngineError::Validation(fields)))?;
    let now = state.now();
    let next = next_opening(&settings, now);
    Ok(HttpResponse::Ok().json(json!({
        "timezone": settings.timezone,
        "business_hours_enabled": settings.business_hours_enabled,
        "local_time": describe_local(&settings, now),
        "open_now": is_open(&settings, now),
        "next_opening_at": next.as_ref().map(wire_time::format),
        "next_opening_local": next.map(|at| describe_local(&settings, at)),
    })))
}

/// Every IANA time zone name the settings accept, sorted.
async fn timezones() -> HttpResponse {
    static NAMES: OnceLock<Value> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let mut names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
        names.sort_unstable();
        json!({ "items": names })
    });
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=86400"))
        .json(names)
}
