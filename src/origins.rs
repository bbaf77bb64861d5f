//! The allowed-origins gate (issue 16): a browser on a site that is not on
//! a project's non-empty list may not use that project's widget. Judged on
//! the request's `Origin` header wherever a widget credential is presented:
//! the public key (`ProjectKey`), a customer token over REST (`Auth`) and
//! over the WebSocket. The lists are cached per project and dropped when an
//! admin changes one, so a widget request costs no extra query.

use crate::appearance::origin_allowed;
use crate::error::{ApiError, ApiResult};
use crate::store::Db;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use switchboard_actors::ids::ProjectId;

#[derive(Default)]
pub struct OriginGate {
    lists: Mutex<HashMap<ProjectId, Arc<[String]>>>,
}

pub fn refused(origin: &str) -> ApiError {
    ApiError::forbidden(format!(
        "this project's widget may not be used from {origin}; add it to the allowed origins"
    ))
}

impl OriginGate {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ProjectId, Arc<[String]>>> {
        self.lists.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refuses `origin` (when the request has one) for `project`.
    pub async fn check(&self, db: &Db, project: ProjectId, origin: Option<&str>) -> ApiResult<()> {
        let Some(origin) = origin else {
            return Ok(());
        };
        let cached = self.lock().get(&project).cloned();
        let list = match cached {
            Some(list) => list,
            None => {
                let row = db
                    .project(project)
                    .await?
                    .ok_or_else(|| ApiError::not_found("project not found"))?;
                let list: Arc<[String]> = row.allowed_origins.into();
                self.lock().insert(project, list.clone());
                list
            }
        };
        if origin_allowed(&list, origin) {
            Ok(())
        } else {
            Err(refused(origin))
        }
    }

    /// The project's list changed (or the project went).
    pub fn forget(&self, project: ProjectId) {
        self.lock().remove(&project);
    }
}

/// The `Origin` header of a request, when it has a readable one.
pub fn of_request(req: &actix_web::HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| *o != "null")
        .map(str::to_string)
}
