//! What every request handler can reach.

use crate::ai::KnowledgeResponder;
use crate::email::EmailProvider;
use crate::error::ApiResult;
use crate::http::client_addr::IpRange;
use crate::limits::{LimitKind, RateLimiter};
use crate::passwords::Passwords;
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
    /// The rate limits' buckets (seed 003 8.3; see `limits.rs`).
    pub limits: Arc<RateLimiter>,
    /// Where email goes: the built-in outbox or a webhook (see `email.rs`).
    pub email: Arc<dyn EmailProvider>,
    /// The password hashing threads (see `passwords.rs`).
    pub passwords: Arc<Passwords>,
    /// `SWITCHBOARD_TRUSTED_PROXIES` (see `http/client_addr.rs`).
    pub trusted_proxies: Arc<[IpRange]>,
    /// Live sockets by credential, closed when it is revoked (see
    /// `ws/revoke.rs`).
    pub sockets: Arc<crate::ws::revoke::Sockets>,
    /// The projects' allowed origins, checked on widget credentials (see
    /// `origins.rs`).
    pub origins: Arc<crate::origins::OriginGate>,
}

impl AppState {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.engine.clock().now()
    }

    /// Take one request of `kind` for `key`, or answer 429 RATE_LIMITED.
    pub fn rate_limit(&self, kind: LimitKind, key: &str) -> ApiResult<()> {
        Ok(self.limits.check(kind, key, self.now())?)
    }
}
