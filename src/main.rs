//! `switchboard [serve] [--demo]`: run the server (PROTOCOL.md section 0).

use std::sync::Arc;
use switchboard::config::Config;
use switchboard_actors::clock::SystemClock;

const USAGE: &str = "usage: switchboard [serve] [--demo]\n\n\
Environment: SWITCHBOARD_BIND (default 127.0.0.1:8080), DATABASE_URL (default sqlite://data/switchboard.db),\n\
SWITCHBOARD_ADMIN_EMAIL + SWITCHBOARD_ADMIN_PASSWORD (first admin on an empty database),\n\
SWITCHBOARD_TOKEN_TTL_HOURS (default 12), SWITCHBOARD_WORKERS (default 2), RUST_LOG.";

fn main() {
    let mut demo = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "serve" => {}
            "--demo" => demo = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => {
                eprintln!("unknown argument {other:?}\n{USAGE}");
                std::process::exit(2);
            }
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = match Config::from_env(demo) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let system = actix::System::new();
    let code = system.block_on(async move {
        match switchboard::server::start(config, Arc::new(SystemClock)).await {
            Ok(server) => {
                println!("Switchboard listening on http://{}", server.addr);
                server.run_until_signal().await;
                0
            }
            Err(e) => {
                eprintln!("{e}");
                1
            }
        }
    });
    std::process::exit(code);
}
