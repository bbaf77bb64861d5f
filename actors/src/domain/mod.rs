//! The pure domain layer: state machines, settings, matching and scheduling
//! rules of seed 003, with no actix, no I/O and no clock of their own (every
//! function that needs "now" takes it as an argument).

pub mod agents;
pub mod availability;
pub mod business_hours;
pub mod communication;
pub mod conversation;
pub mod inactivity;
pub mod keywords;
pub mod pricing;
pub mod queue;
pub mod session;
pub mod settings;
pub mod text;
pub mod ticket;
