//! The one error type of the HTTP layer. Each variant has its contract code
//! and status (docs/protocol.md section 1); internal errors answer a generic body
//! and keep the cause for the log only.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use std::collections::BTreeMap;
use switchboard_actors::engine::EngineError;
use switchboard_actors::ports::StoreError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Option<BTreeMap<String, String>>,
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            fields: None,
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// An outside service the request needs did not answer (503 UNAVAILABLE).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", message)
    }

    pub fn validation(fields: BTreeMap<String, String>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            describe_fields(&fields),
        );
        e.fields = Some(fields);
        e
    }

    pub fn field(name: &str, problem: &str) -> Self {
        Self::validation(BTreeMap::from([(name.to_string(), problem.to_string())]))
    }

    /// A server fault: logged with its cause, answered without it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "Something went wrong on our side; please retry",
        )
    }

    pub fn body(&self) -> serde_json::Value {
        let mut body = json!({ "error": self.code, "message": self.message });
        if let Some(f) = &self.fields {
            body["fields"] = json!(f);
        }
        body
    }
}

fn describe_fields(fields: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!("Invalid input: {}", parts.join("; "))
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut b = HttpResponse::build(self.status);
        if let Some(s) = self.retry_after {
            b.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        b.json(self.body())
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NotFound(m) => ApiError::not_found(m),
            EngineError::Forbidden(m) => ApiError::forbidden(m),
            EngineError::InvalidTransition(m) => {
                ApiError::new(StatusCode::BAD_REQUEST, "INVALID_TRANSITION", m)
            }
            EngineError::AlreadyClaimed => ApiError::conflict(
                "ALREADY_CLAIMED",
                "This conversation was claimed by another agent",
            ),
            EngineError::NoCapacity(m) => ApiError::conflict("NO_CAPACITY", m),
            EngineError::BadRequest(m) => ApiError::bad_request(m),
            EngineError::Validation(f) => ApiError::validation(f),
            EngineError::Store(e) => ApiError::internal(e),
            EngineError::Unavailable => ApiError::internal("engine actor unavailable"),
            EngineError::ProviderFailed(m) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "PROVIDER_FAILED", m)
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("not found"),
            other => ApiError::internal(other),
        }
    }
}

impl From<actix::MailboxError> for ApiError {
    fn from(e: actix::MailboxError) -> Self {
        ApiError::internal(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
