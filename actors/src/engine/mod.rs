//! The actors that own Switchboard's live state (docs/architecture.md "Who owns which fact"): one
//! ProjectActor per project (queue, ledger, assignment), one
//! ConversationActor per live conversation (status, message log, AI turn),
//! one AgentActor per staff user (their channel), a supervisor registry, and
//! the group-commit writer through which all of them persist.

pub mod agent;
pub mod caller;
pub mod closed;
pub mod conversation;
pub mod error;
pub mod events;
pub mod log;
pub mod project;
pub mod session;
pub mod supervisor;
pub mod views;
pub mod writer;

pub use caller::{Caller, Role, Staff};
pub use closed::{closed_error, ConversationOp};
pub use error::{EngineError, EngineResult};
pub use supervisor::{ConversationRef, Engine, EngineConfig, ProjectHandle};

/// Requests an engine actor queues before senders wait (backpressure).
pub const MAILBOX_CAPACITY: usize = 4096;

/// An atomic handler's answer that needs no waiting: a refusal, or a value
/// the actor already holds. It still goes through `AtomicResponse` so the
/// handler has one result type for both paths.
pub(crate) fn answer_now<A: actix::Actor, T: 'static>(value: T) -> actix::AtomicResponse<A, T> {
    actix::AtomicResponse::new(Box::pin(actix::fut::ready(value)))
}
