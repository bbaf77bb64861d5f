//! The server under test: a real Switchboard on 127.0.0.1:0 over a fresh
//! database (see [`TestDb`]), driven by a `ManualClock`; start, attach,
//! restart, and moving the clock.

use super::db::TestDb;
use super::ADMIN_EMAIL;
use super::ADMIN_PASSWORD;
use awc::Client;
use chrono::{DateTime, Duration, Utc};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration as StdDuration;
use switchboard::config::{Config, DatabaseUrl};
use switchboard::server::{start, RunningServer};
use switchboard_actors::clock::{ManualClock, SharedClock};

pub struct TestApp {
    pub clock: ManualClock,
    /// The in-process server; `None` for an app attached to a server that
    /// runs elsewhere (a subprocess).
    pub(super) server: Option<RunningServer>,
    pub addr: SocketAddr,
    /// Declared after `server`, so the server is dropped first.
    pub(super) db: Option<TestDb>,
    pub(super) client: Client,
    pub(super) admin: String,
    pub(super) counter: Cell<u32>,
    /// Each visitor's secret, by (project id, visitor id), as the server
    /// issued it: a visitor comes back with it, as the widget does.
    pub(super) visitor_secrets: RefCell<HashMap<(String, String), String>>,
}

/// The test config on `url`, with the rate limits off: the clock is frozen
/// unless a test moves it, so no bucket ever refills, and the tests send far
/// more than 10 messages per visitor (or 100 requests per admin) at one
/// instant. tests/limits.rs turns them on with `start_with_config`.
pub fn test_config(url: DatabaseUrl) -> Config {
    let mut config = Config::for_tests_on(url);
    config.rate_limits = switchboard::limits::RateLimits::OFF;
    config
}

impl TestApp {
    /// A fresh server at the ManualClock's default instant
    /// (Monday 2026-11-16 10:00:00 UTC).
    pub async fn start() -> Self {
        Self::start_with_clock(ManualClock::at_default()).await
    }

    /// A fresh server whose clock starts at `at`.
    pub async fn start_at(at: DateTime<Utc>) -> Self {
        Self::start_with_clock(ManualClock::new(at)).await
    }

    async fn start_with_clock(clock: ManualClock) -> Self {
        Self::start_with_config(clock, |_| {}).await
    }

    /// A fresh server whose test config `edit` changes first (e.g. webhook
    /// URLs, rate limits). `restart` goes back to the plain test config.
    pub async fn start_with_config(clock: ManualClock, edit: impl FnOnce(&mut Config)) -> Self {
        let db = TestDb::fresh().await;
        let mut config = test_config(db.url().clone());
        edit(&mut config);
        let server = match start(config, Arc::new(clock.clone()) as SharedClock).await {
            Ok(server) => server,
            Err(e) => panic!("server starts on {}: {e}", db.url().redacted()),
        };
        Self::with_parts(clock, server.addr, Some(server), Some(db)).await
    }

    /// An app that drives a server running elsewhere (a subprocess) at
    /// `addr`, logged in as the test admin. `tick`, `advance` and `restart`
    /// are not available on it; the server's clock is its own.
    pub async fn attach(addr: SocketAddr) -> Self {
        Self::with_parts(ManualClock::at_default(), addr, None, None).await
    }

    async fn with_parts(
        clock: ManualClock,
        addr: SocketAddr,
        server: Option<RunningServer>,
        db: Option<TestDb>,
    ) -> Self {
        let client = Client::builder()
            .timeout(StdDuration::from_secs(60))
            .finish();
        let mut app = TestApp {
            clock,
            addr,
            server,
            db,
            client,
            admin: String::new(),
            counter: Cell::new(0),
            visitor_secrets: RefCell::new(HashMap::new()),
        };
        app.admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        app
    }

    pub(super) fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("server running")
    }

    /// The in-process server's engine, to watch what it holds in memory.
    pub fn engine(&self) -> &switchboard_actors::engine::Engine {
        &self.server().engine
    }

    /// The in-process server's store, to set the stage where no endpoint
    /// writes what a test reads (e.g. leads).
    pub fn db(&self) -> switchboard::store::Db {
        self.server().db.clone()
    }

    /// Stop the server gracefully and start it again on the same database
    /// and the same clock. The port changes; tokens stay valid.
    pub async fn restart(&mut self) {
        let server = self.server.take().expect("server running");
        server.stop().await;
        let url = self
            .db
            .as_ref()
            .expect("an in-process server")
            .url()
            .clone();
        let server = match start(
            test_config(url.clone()),
            Arc::new(self.clock.clone()) as SharedClock,
        )
        .await
        {
            Ok(server) => server,
            Err(e) => panic!("server restarts on {}: {e}", url.redacted()),
        };
        self.addr = server.addr;
        self.server = Some(server);
    }

    /// Make every project look at the (manual) clock now.
    pub async fn tick(&self) {
        self.server().engine.tick_all().await;
        self.server().sessions.tick_all().await;
    }

    /// Move the clock, then let every project see it.
    pub async fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.tick().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn admin_token(&self) -> &str {
        &self.admin
    }

    pub(super) fn unique(&self) -> u32 {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        n
    }
}
