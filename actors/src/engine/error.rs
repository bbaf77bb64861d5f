//! What the engine answers when it refuses. The server maps each variant to
//! the contract's error code and HTTP status.

use crate::ports::StoreError;
use std::collections::BTreeMap;

#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    InvalidTransition(String),
    #[error("This conversation was claimed by another agent")]
    AlreadyClaimed,
    #[error("{0}")]
    NoCapacity(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("validation failed")]
    Validation(BTreeMap<String, String>),
    #[error("storage failed: {0}")]
    Store(StoreError),
    /// An outside provider (SMS, call, payment) refused or failed; nothing
    /// was changed.
    #[error("{0}")]
    ProviderFailed(String),
    /// The owning actor stopped (shutdown or crash); the caller may retry.
    #[error("the engine is unavailable")]
    Unavailable,
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => EngineError::NotFound("not found".into()),
            other => EngineError::Store(other),
        }
    }
}

impl From<actix::MailboxError> for EngineError {
    fn from(_: actix::MailboxError) -> Self {
        EngineError::Unavailable
    }
}

pub type EngineResult<T> = Result<T, EngineError>;
