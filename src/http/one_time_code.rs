//! The one-time codes mailed to prove an email, a visitor's
//! (`/api/widget/identify/code`) or an account's
//! (`/api/auth/email-verification`): both are made, mailed and read back
//! by these rules.

use crate::email::EmailMessage;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::json;
use switchboard_actors::wire_time;

/// How long a one-time code is good for.
pub const CODE_TTL_MINUTES: i64 = 10;
/// Wrong codes tried before a code is dead (a new one must be asked for).
pub const CODE_MAX_ATTEMPTS: i32 = 5;

/// A fresh six-digit code and when it expires.
pub fn fresh(now: DateTime<Utc>) -> (String, DateTime<Utc>) {
    let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32));
    (code, now + chrono::Duration::minutes(CODE_TTL_MINUTES))
}

/// The code as presented, trimmed; 422 on `code` unless it is six digits.
pub fn presented(code: &str) -> ApiResult<&str> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::field(
            "code",
            "must be the 6 digits sent by email",
        ));
    }
    Ok(code)
}

/// Mails the code: 202 with where it went and until when, or 502 when the
/// provider failed (`not_sent` logs why, with what the caller knows).
pub async fn mail(
    state: &AppState,
    mail: &EmailMessage,
    expires_at: DateTime<Utc>,
    not_sent: impl FnOnce(&str),
) -> ApiResult<HttpResponse> {
    if let Err(e) = state.email.send(mail).await {
        not_sent(&e);
        return Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "PROVIDER_FAILED",
            "the code could not be sent; try again later",
        ));
    }
    Ok(HttpResponse::Accepted().json(json!({
        "sent": true,
        "email": mail.to,
        "expires_at": wire_time::format(&expires_at),
    })))
}
