//! The `actors` driver: drives the engine (`switchboard-actors`) directly,
//! with no HTTP, the way our users' own load harnesses will: a project with
//! agents is seeded in the chosen store (in memory, an SQLite file or
//! PostgreSQL), the engine is started on it, and the scenario talks to the
//! actors with their messages.
//!
//! Scenarios:
//! - `chat`: N conversations in `agent_active`, customers and their agents
//!   sending at a total rate R for S seconds; every conversation has two
//!   probe subscribers (customer and staff audience) that time what they
//!   receive. Figures: acknowledged (durable) and delivered messages per
//!   second, ack and delivery latency percentiles.
//! - `handoff`: K conversations with the AI ask for a human at once, served
//!   by M agents of capacity C; when M * C < K agents resolve conversations as
//!   they get them until all K were served. Figures: assignments per second,
//!   time to drain the queue, handoff answer latency.
//!
//! Threads: the engine runs its actors on its own arbiters and its
//! group-commit writer on the main system thread (as the server does); the
//! senders run on a "clients" arbiter and the probes on a "probes" arbiter,
//! so the measuring side does not sit on the writer's thread.
//!
//! Every run ends with the invariant checks (see `checks`).

mod chat;
mod checks;
mod handoff;
mod probe;
mod sys;
mod world;

use crate::args::Args;
use crate::report::Report;

pub async fn run(args: &Args) -> Result<Report, String> {
    let store = world::StoreKind::parse(args.get("store").unwrap_or("memory"))?;
    match args.scenario.as_str() {
        "chat" => chat::run(args, &store).await,
        "handoff" => handoff::run(args, &store).await,
        other => Err(format!(
            "unknown scenario {other:?} for the actors driver (chat or handoff)"
        )),
    }
}
