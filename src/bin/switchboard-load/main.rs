//! switchboard-load: the load harness (issue 4). Two drivers:
//! - `actors` drives the engine (`switchboard-actors`) directly, no HTTP,
//!   on an in-memory store, an SQLite file or PostgreSQL;
//! - `ws` drives a running server (started here as a subprocess unless
//!   `--url` is given) with real WebSocket clients on loopback.
//!
//! Every run ends by checking the invariants (no acknowledged message lost
//! or doubled in the store or at any receiver, gap-free seqs, agent counts
//! equal to their active conversations) and exits non-zero if one broke.
//! Figures go to stdout as a table and, with `--json <file>`, as JSON.

mod actors_driver;
mod args;
mod report;
mod stats;
mod ws_driver;

use args::Args;

const USAGE: &str = "usage:
  switchboard-load actors chat     [--conversations N] [--rate MSGS_PER_S] [--seconds S] [--agents A] [--in-flight F] [--tick-ms T]
                                   [--settle-seconds S] [--arbiters A] [--store memory|sqlite:<path>|postgres://...] [--json FILE]
  switchboard-load actors handoff  [--conversations K] [--agents M] [--capacity C] [--timeout-seconds S] [--arbiters A] [--store ...] [--json FILE]
  switchboard-load ws chat         [--conversations N] [--rate R] [--seconds S] [--agents A] [--capacity C] [--max-in-flight F]
                                   [--url http://host:port --admin-email E --admin-password P | --database-url URL] [--json FILE]
  switchboard-load ws connections  [--connections C] [--seconds S] [--sources K] [--ping-seconds P] [--conversations M]
                                   [--url ... [--server-pid PID] | --database-url URL] [--json FILE]";

fn main() {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    // RUST_LOG=switchboard_actors=debug shows each group commit's size and time.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let system = actix::System::new();
    let result = system.block_on(async move {
        match args.driver.as_str() {
            "actors" => actors_driver::run(&args).await,
            "ws" => ws_driver::run(&args).await,
            other => Err(format!("unknown driver {other:?}")),
        }
        .map(|r| (r, args))
    });
    match result {
        Ok((report, args)) => {
            report.print_table();
            if let Some(path) = args.get("json") {
                match serde_json::to_string_pretty(&report) {
                    Ok(s) => {
                        if let Err(e) = std::fs::write(path, s) {
                            eprintln!("cannot write {path}: {e}");
                            std::process::exit(1);
                        }
                    }
                    Err(e) => {
                        eprintln!("cannot serialize the report: {e}");
                        std::process::exit(1);
                    }
                }
            }
            std::process::exit(if report.all_ok() { 0 } else { 3 });
        }
        Err(e) => {
            eprintln!("switchboard-load: {e}");
            std::process::exit(1);
        }
    }
}
