//! HTTP routes by area (docs/protocol.md section 3). Handlers parse and
//! authenticate, then ask the engine's actors or the store; they hold no
//! state of their own.

pub mod activity;
pub mod agents;
pub mod auth;
pub mod canned;
pub mod client_addr;
pub mod conversation_customer;
pub mod conversations;
pub mod cors;
pub mod cursor;
pub mod customers;
pub mod dashboard;
pub mod email_verification;
pub mod identity;
pub mod instance;
pub mod keys;
pub mod knowledge;
pub mod leads;
pub mod metadata;
pub mod one_time_code;
pub mod profile;
pub mod projects;
pub mod redact;
pub mod sessions;
pub mod settings;
pub mod team;
pub mod tickets;
pub mod validate;
pub mod widget;
pub mod widget_settings;

use crate::error::ApiError;
use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

/// Largest JSON body accepted anywhere (messages are far smaller).
pub const MAX_JSON_BYTES: usize = 256 * 1024;

fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            ApiError::too_large(format!("the body is larger than {limit} bytes"))
        }
        JsonPayloadError::ContentType => {
            ApiError::bad_request("expected Content-Type: application/json")
        }
        JsonPayloadError::Deserialize(e) => ApiError::bad_request(format!("invalid JSON: {e}")),
        other => ApiError::bad_request(format!("invalid body: {other}")),
    };
    api.into()
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request(format!("invalid query string: {err}")).into()
}

fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::not_found(format!("no such resource ({err})")).into()
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({"error": "NOT_FOUND", "message": "no such endpoint"}))
}

async fn healthz(state: web::Data<crate::state::AppState>) -> Result<HttpResponse, ApiError> {
    state.db.ping().await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ok"})))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(MAX_JSON_BYTES)
            .content_type_required(false)
            .error_handler(json_error),
    )
    .app_data(web::QueryConfig::default().error_handler(query_error))
    .app_data(web::PathConfig::default().error_handler(path_error))
    .route("/healthz", web::get().to(healthz))
    .configure(auth::routes)
    .configure(profile::routes)
    .configure(email_verification::routes)
    .configure(instance::routes)
    .configure(projects::routes)
    .configure(team::routes)
    .configure(agents::routes)
    .configure(leads::routes)
    .configure(dashboard::routes)
    .configure(widget::routes)
    .configure(widget_settings::routes)
    .configure(conversations::routes)
    .configure(conversation_customer::routes)
    .configure(customers::routes)
    .configure(identity::routes)
    .configure(tickets::routes)
    .configure(sessions::routes)
    .configure(settings::routes)
    .configure(knowledge::routes)
    .configure(canned::routes)
    .configure(keys::routes)
    .configure(activity::routes)
    .configure(crate::pages::routes)
    .route("/ws", web::get().to(crate::ws::connect))
    .default_service(web::route().to(not_found));
}
