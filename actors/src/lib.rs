//! Switchboard's engine. `domain` holds pure state machines (no actix, no I/O);
//! `engine` holds the actors that own live state; `ports` are the seams to the
//! outside (store, clock, AI responder).
//!
//! Architecture: docs/architecture.md. Citations like "seed 003 5.1.4"
//! name a requirement seed and section, digested in docs/requirements.md.

pub mod clock;
pub mod domain;
pub mod engine;
pub mod ids;
pub mod memory_sessions;
pub mod memory_store;
pub mod ports;
pub mod providers;
pub mod session_ports;
pub mod string_enum;
pub mod wire_time;
