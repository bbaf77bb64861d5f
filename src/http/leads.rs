//! A project's leads (captured by the offline form, seed 003 5.8.4) and the
//! built-in email outbox, for the project's admins. Both are lists, newest
//! first, paged with the shared keyset cursor: `{items, next_cursor}`.

use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::http::{cursor, validate};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use switchboard_actors::ids::ProjectId;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/projects/{id}/leads", web::get().to(leads))
        .route("/api/projects/{id}/emails", web::get().to(emails));
}

#[derive(Deserialize)]
struct Page {
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn leads(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
    q: web::Query<Page>,
) -> ApiResult<HttpResponse> {
    auth.admin_of(*id)?;
    let limit = validate::limit(q.limit)?;
    let after = q.cursor.as_deref().map(cursor::decode).transpose()?;
    let mut items = state.db.list_leads(*id, after, limit + 1).await?;
    let next = cursor::page(&mut items, limit, |l| (l.created_at, l.id));
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": next })))
}

async fn emails(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
    q: web::Query<Page>,
) -> ApiResult<HttpResponse> {
    auth.admin_of(*id)?;
    let limit = validate::limit(q.limit)?;
    let after = q.cursor.as_deref().map(cursor::decode).transpose()?;
    let mut items = state.db.list_emails(*id, after, limit + 1).await?;
    let next = cursor::page(&mut items, limit, |e| (e.created_at, e.id));
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": next })))
}
