//! The operations layer: each operation that REST (src/http) and the
//! WebSocket (src/ws) both offer is written here once, with its
//! authorization, its validation and its rate limit, and answers a typed
//! result or an [`ApiError`](crate::error::ApiError). The transports only
//! parse their input (a JSON body, a WebSocket frame) and shape the
//! answer (an HTTP status, a reply frame).
//!
//! A conversation is asked through `Engine::ask_conversation`, which
//! answers for a closed one (no actor) in one place
//! (actors/src/engine/closed.rs); nothing here branches on live or closed.

pub mod agent;
pub mod conversation;
pub mod session;
