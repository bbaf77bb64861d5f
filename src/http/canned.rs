//! Canned responses (issue 17): the project's own, which its admins
//! manage in /admin, and each staff member's personal ones. A response is
//! a shortcode and a text that may hold the variables of [`VARIABLES`];
//! the dashboard's composer fills them in when the agent inserts it.

use crate::auth::StaffAuth;
use crate::error::{ApiError, ApiResult};
use crate::http::validate;
use crate::state::AppState;
use crate::store::canned::CannedResponse;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use switchboard_actors::ids::{CannedResponseId, ProjectId};
use switchboard_actors::ports::StoreError;

/// What a response's text may refer to, as `{{customer.name}}`.
pub const VARIABLES: [&str; 3] = ["customer.name", "customer.email", "agent.name"];
/// The project's responses, and each member's own, at most.
pub const MAX_PROJECT_RESPONSES: i64 = 500;
pub const MAX_PERSONAL_RESPONSES: i64 = 100;
const MAX_SHORTCODE_CHARS: usize = 32;
const MAX_CONTENT_CHARS: usize = 5_000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    let path = "/api/projects/{id}/canned-responses";
    let one = "/api/projects/{id}/canned-responses/{response_id}";
    cfg.route(path, web::get().to(list))
        .route(path, web::post().to(add))
        .route(one, web::patch().to(edit))
        .route(one, web::delete().to(delete));
}

async fn list(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
) -> ApiResult<HttpResponse> {
    auth.member_of(*id)?;
    let items = state.db.canned_responses(*id, auth.1.user_id).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items, "variables": VARIABLES })))
}

#[derive(Deserialize)]
struct NewResponse {
    shortcode: String,
    content: String,
    /// "personal" (the default) or "project" (admins).
    scope: Option<String>,
}

/// A shortcode as stored: without a leading `/`, lower case, letters,
/// digits, `-` and `_`.
fn shortcode(s: &str) -> ApiResult<String> {
    let code = s.trim().trim_start_matches('/').to_lowercase();
    let n = code.chars().count();
    let ok = (1..=MAX_SHORTCODE_CHARS).contains(&n)
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(code)
    } else {
        Err(ApiError::field(
            "shortcode",
            &format!("must be 1 to {MAX_SHORTCODE_CHARS} letters, digits, - or _"),
        ))
    }
}

/// The text, with only known variables.
fn content(s: &str) -> ApiResult<String> {
    let text = validate::text("content", s, 1, MAX_CONTENT_CHARS)?;
    if let Some(problem) = switchboard_actors::domain::text::problem(&text) {
        return Err(ApiError::field("content", problem));
    }
    let mut rest = text.as_str();
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        if !VARIABLES.contains(&name) {
            return Err(ApiError::field(
                "content",
                &format!(
                    "{{{{{name}}}}} is not a variable; use {}",
                    VARIABLES.map(|v| format!("{{{{{v}}}}}")).join(", ")
                ),
            ));
        }
        rest = &after[end + 2..];
    }
    Ok(text)
}

/// Both fields checked together, so the form shows each problem.
fn checked(code: &str, text: &str) -> ApiResult<(String, String)> {
    match (shortcode(code), content(text)) {
        (Ok(c), Ok(t)) => Ok((c, t)),
        (c, t) => Err(validate::fields([c.err(), t.err()])),
    }
}

fn taken(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::field(
            "shortcode",
            "is already used by another response of the same scope",
        ),
        e => e.into(),
    }
}

async fn add(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
    body: web::Json<NewResponse>,
) -> ApiResult<HttpResponse> {
    let project = *id;
    auth.member_of(project)?;
    let owner = match body.scope.as_deref() {
        None | Some("personal") => Some(auth.1.user_id),
        Some("project") => {
            auth.admin_of(project)?;
            None
        }
        Some(_) => {
            return Err(ApiError::field(
                "scope",
                "must be \"personal\" or \"project\"",
            ))
        }
    };
    let (code, text) = checked(&body.shortcode, &body.content)?;
    let max = match owner {
        Some(_) => MAX_PERSONAL_RESPONSES,
        None => MAX_PROJECT_RESPONSES,
    };
    if state.db.count_canned_responses(project, owner).await? >= max {
        return Err(ApiError::conflict(
            "LIMIT_REACHED",
            format!("at most {max} canned responses here; delete one first"),
        ));
    }
    let now = state.now();
    let r = CannedResponse {
        id: CannedResponseId::new(),
        project_id: project,
        owner_id: owner,
        shortcode: code,
        content: text,
        created_at: now,
        updated_at: now,
    };
    state.db.insert_canned_response(&r).await.map_err(taken)?;
    Ok(HttpResponse::Created().json(r))
}

/// The response if `auth` may change it: their own, or the project's for
/// its admins. Someone else's personal response does not exist for them.
async fn changeable(
    state: &AppState,
    auth: &StaffAuth,
    project: ProjectId,
    id: CannedResponseId,
) -> ApiResult<CannedResponse> {
    auth.member_of(project)?;
    let r = state
        .db
        .canned_responses(project, auth.1.user_id)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ApiError::not_found("canned response not found"))?;
    if r.owner_id.is_none() {
        auth.admin_of(project)?;
    }
    Ok(r)
}

#[derive(Deserialize)]
struct ResponseEdit {
    shortcode: Option<String>,
    content: Option<String>,
}

async fn edit(
    state: web::Data<AppState>,
    auth: StaffAuth,
    path: web::Path<(ProjectId, CannedResponseId)>,
    body: web::Json<ResponseEdit>,
) -> ApiResult<HttpResponse> {
    let (project, id) = path.into_inner();
    let r = changeable(&state, &auth, project, id).await?;
    let (code, text) = checked(
        body.shortcode.as_deref().unwrap_or(&r.shortcode),
        body.content.as_deref().unwrap_or(&r.content),
    )?;
    let r = CannedResponse {
        shortcode: code,
        content: text,
        updated_at: state.now(),
        ..r
    };
    if !state.db.update_canned_response(&r).await.map_err(taken)? {
        return Err(ApiError::not_found("canned response not found"));
    }
    Ok(HttpResponse::Ok().json(r))
}

async fn delete(
    state: web::Data<AppState>,
    auth: StaffAuth,
    path: web::Path<(ProjectId, CannedResponseId)>,
) -> ApiResult<HttpResponse> {
    let (project, id) = path.into_inner();
    changeable(&state, &auth, project, id).await?;
    if !state.db.delete_canned_response(project, id).await? {
        return Err(ApiError::not_found("canned response not found"));
    }
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn shortcodes_are_kept_simple() {
        assert_eq!(shortcode(" /Refund ").unwrap(), "refund");
        assert_eq!(shortcode("thanks_2-you").unwrap(), "thanks_2-you");
        for bad in ["", "/", "two words", "ümlaut", &"x".repeat(33)] {
            assert!(shortcode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_known_variables_are_accepted() {
        assert!(content("Hi {{customer.name}}, I am {{ agent.name }}.").is_ok());
        assert!(content("Braces alone { } and {{ unclosed are text").is_ok());
        let e = content("Hi {{customer.phone}}").unwrap_err();
        assert!(e.message.contains("customer.phone"), "{}", e.message);
    }
}
