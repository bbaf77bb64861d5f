//! Switchboard's server: configuration, the HTTP and WebSocket surface of
//! docs/protocol.md, authentication, the diesel store behind the engine's Store
//! port, the built-in AI responder and demo data. The engine itself (domain,
//! actors, ports) is the `switchboard-actors` crate.
//!
//! Architecture: docs/architecture.md; the wire contract: docs/protocol.md.
//! Citations like "seed 003 5.1.4" name a requirement seed and section,
//! digested in docs/requirements.md.

pub mod ai;
pub mod appearance;
pub mod auth;
pub mod config;
pub mod demo;
pub mod email;
pub mod error;
pub mod http;
pub mod limits;
pub mod ops;
pub mod origins;
pub mod pages;
pub mod passwords;
pub mod providers;
pub mod server;
pub mod state;
pub mod store;
pub mod ws;
