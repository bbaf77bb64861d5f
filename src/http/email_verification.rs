//! Proving a staff account's email (issue 14 item 15). An account made by
//! accepting an invitation has an address nobody proved: the inviter typed
//! it and whoever held the token chose the password. Until it proves the
//! address, it joins no other project.
//!
//! `POST /api/auth/email-verification` mails six digits to the logged-in
//! account's email, valid [`CODE_TTL_MINUTES`] minutes on the Clock and
//! [`CODE_MAX_ATTEMPTS`] wrong tries, used once, stored only as a hash
//! bound to the account and the address; a new request replaces the
//! pending code. Sending is rate-limited per account
//! (`LimitKind::IdentityCode`). `POST /api/auth/email-verification/confirm
//! {code}` proves it.
//!
//! The email is sent for no project (`project_id: None`): with the
//! built-in outbox it lands in the instance outbox, which only holders of
//! the instance's permission read (`GET /api/instance/emails`), never in a
//! project's, where that project's admins would read it; an admin who made
//! the account by accepting their own invitation could otherwise prove an
//! address they do not own.

use crate::auth::{self as a, StaffAuth};
use crate::email::{EmailMessage, KIND_STAFF_EMAIL_CODE};
use crate::error::{ApiError, ApiResult};
use crate::http::auth::user_json;
use crate::http::one_time_code::{self, CODE_MAX_ATTEMPTS, CODE_TTL_MINUTES};
use crate::limits::LimitKind;
use crate::state::AppState;
use crate::store::{CodeCheck, StaffEmailCode, UserRow};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use switchboard_actors::ids::UserId;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/auth/email-verification", web::post().to(send_code))
        .route(
            "/api/auth/email-verification/confirm",
            web::post().to(confirm),
        );
}

/// The stored form of a code: bound to its account and address, so a
/// hash is useless for any other (and never equals a visitor's code hash).
fn code_hash(user: UserId, email: &str, code: &str) -> String {
    a::hash_token(&format!("staff-email\n{user}\n{email}\n{code}"))
}

async fn caller(state: &AppState, auth: &StaffAuth) -> ApiResult<UserRow> {
    state
        .db
        .user_by_id(auth.1.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))
}

fn already_proven() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "INVALID_TRANSITION",
        "this account's email is already proven",
    )
}

async fn send_code(state: web::Data<AppState>, auth: StaffAuth) -> ApiResult<HttpResponse> {
    let user = caller(&state, &auth).await?;
    if user.email_verified {
        return Err(already_proven());
    }
    state.rate_limit(LimitKind::IdentityCode, &format!("staff:{}", user.id))?;
    let now = state.now();
    let (code, expires_at) = one_time_code::fresh(now);
    state
        .db
        .put_staff_email_code(&StaffEmailCode::new(
            user.id,
            &user.email,
            code_hash(user.id, &user.email, &code),
            expires_at,
            now,
        ))
        .await?;
    let mail = EmailMessage {
        project_id: None,
        to: user.email.clone(),
        subject: "Confirm your email for Switchboard".into(),
        body: format!(
            "Your confirmation code is {code}.\n\nIt is valid for {CODE_TTL_MINUTES} minutes. \
             Enter it where you are logged in to Switchboard as {email}. If you did not ask \
             for it, someone may be using an account with your address: tell the person who \
             runs this Switchboard.\n",
            email = user.email,
        ),
        kind: KIND_STAFF_EMAIL_CODE.into(),
    };
    one_time_code::mail(&state, &mail, expires_at, |e| {
        tracing::warn!(user = %user.id, error = %e, "staff email code not sent");
    })
    .await
}

#[derive(Deserialize)]
struct Confirm {
    code: String,
}

async fn confirm(
    state: web::Data<AppState>,
    auth: StaffAuth,
    body: web::Json<Confirm>,
) -> ApiResult<HttpResponse> {
    let user = caller(&state, &auth).await?;
    if user.email_verified {
        return Err(already_proven());
    }
    let code = one_time_code::presented(&body.code)?;
    let check = state
        .db
        .confirm_staff_email_code(
            user.id,
            &user.email,
            &code_hash(user.id, &user.email, code),
            state.now(),
            CODE_MAX_ATTEMPTS,
            a::hashes_match,
        )
        .await?;
    let problem = match check {
        CodeCheck::Accepted => {
            let user = caller(&state, &auth).await?;
            return Ok(HttpResponse::Ok().json(json!({
                "email_verified": user.email_verified,
                "user": user_json(&user),
            })));
        }
        CodeCheck::Wrong => "is wrong",
        CodeCheck::NoCode => "was not sent to this account, or was used; ask for one",
        CodeCheck::Expired => "has expired; ask for a new one",
        CodeCheck::Exhausted => "was tried wrong too many times; ask for a new one",
    };
    Err(ApiError::field("code", problem))
}
