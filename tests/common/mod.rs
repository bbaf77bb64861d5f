//! Shared harness of the black-box tests: a real Switchboard server on
//! 127.0.0.1:0 over a fresh database, driven by a `ManualClock`, with an
//! HTTP client and real WebSocket clients.
//!
//! The backend comes from the environment, so the same tests run on both:
//! `SWITCHBOARD_TEST_BACKEND=sqlite` (the default) gives every test a fresh
//! SQLite file in a temp dir; `SWITCHBOARD_TEST_BACKEND=postgres` with
//! `SWITCHBOARD_TEST_PG_URL=postgres://user@host:port/db` (a superuser's URL)
//! gives every test a fresh PostgreSQL database cloned from a migrated
//! template (see [`TestDb`]).
//!
//! Every helper that sets the stage asserts its own success, so a test body
//! only states what it is about. Helpers that exercise the thing under test
//! return `(status, json)` and leave the judgement to the test.
//!
//! By job: `server` (the [`TestApp`]: start, attach, restart, the clock),
//! `http` (requests and login), `ws` (the [`Ws`] client), `db` and `pg`
//! (the database under test; `pg` is shared with the store's unit tests),
//! `fixtures` (projects, members, agents), `conversations` (the widget's
//! conversations and waiting for their effects), `identity` (a customer's
//! identity and its proof), `sessions` (billable sessions),
//! `webhooks` (a local webhook server), `assertions` (JSON helpers and the
//! error contract). The page tests add `browser.rs` as a module of their
//! own. Everything is re-exported here, so a test says `use common::*`.
#![allow(dead_code)]

mod assertions;
mod conversations;
mod db;
mod fixtures;
mod http;
mod identity;
mod pg;
mod server;
mod sessions;
mod webhooks;
mod ws;

// Each test binary uses a part of these.
#[allow(unused_imports)]
pub use {
    assertions::*, db::*, fixtures::*, http::*, identity::*, pg::*, server::*, webhooks::*, ws::*,
};

use std::time::Duration as StdDuration;
/// For pg.rs, which the store's unit tests include too.
use switchboard::config::redact_password;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-1";
/// The password every member made by [`TestApp::add_member`] accepts.
pub const AGENT_PASSWORD: &str = "agent-password-1";
/// Bound for effects that happen asynchronously in real time (the AI
/// answer, queue processing after a command). Domain time never waits on
/// this: it is driven by the ManualClock.
pub const ASYNC_BOUND: StdDuration = StdDuration::from_secs(5);
/// How long to listen to make sure that something does NOT arrive.
pub const QUIET: StdDuration = StdDuration::from_millis(300);
