//! A project's leads (captured by the offline form, seed 003 5.8.4) and the
//! built-in email outbox, for the project's admins. Both are lists, newest
//! first, paged with the shared keyset cursor: `{items, next_cursor}`.

use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::http::cursor::{self, PageQuery};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use switchboard_actors::ids::ProjectId;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/projects/{id}/leads", web::get().to(leads))
        .route("/api/projects/{id}/emails", web::get().to(emails));
}

async fn leads(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    auth.admin_of(*id)?;
    let fetch = |after, n| state.db.list_leads(*id, after, n);
    cursor::list(&q, fetch, |l| (l.created_at, l.id)).await
}

async fn emails(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    auth.admin_of(*id)?;
    let fetch = |after, n| state.db.list_emails(*id, after, n);
    cursor::list(&q, fetch, |e| (e.created_at, e.id)).await
}
