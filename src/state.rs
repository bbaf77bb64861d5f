//! What every request handler can reach.

use crate::ai::KnowledgeResponder;
use crate::store::Db;
use std::sync::Arc;
use switchboard_actors::engine::session::Sessions;
use switchboard_actors::engine::Engine;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub engine: Engine,
    /// The billable sessions' actors (see `engine/session.rs`).
    pub sessions: Sessions,
    pub ai: Arc<KnowledgeResponder>,
    pub token_ttl: chrono::Duration,
}

impl AppState {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.engine.clock().now()
    }
}
