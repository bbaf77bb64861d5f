//! `switchboard [serve] [--demo]`: run the server (docs/protocol.md section 0).

use std::sync::Arc;
use switchboard::config::Config;
use switchboard_actors::clock::SystemClock;

const USAGE: &str = "usage: switchboard [serve] [--demo] | switchboard migrate\n\n\
serve (the default) runs the server; migrate applies pending migrations to DATABASE_URL and exits.\n\n\
Environment: SWITCHBOARD_BIND (default 127.0.0.1:8080), DATABASE_URL (default sqlite://data/switchboard.db),\n\
SWITCHBOARD_ADMIN_EMAIL + SWITCHBOARD_ADMIN_PASSWORD (first admin on an empty database),\n\
SWITCHBOARD_TOKEN_TTL_HOURS (default 12), SWITCHBOARD_WORKERS (default 2), RUST_LOG.";

fn main() {
    let mut demo = false;
    let mut migrate_only = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "serve" => {}
            "migrate" => migrate_only = true,
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
    if migrate_only {
        let code = system.block_on(async move {
            match switchboard::server::open_store(&config).await {
                Ok(_) => {
                    println!("migrations applied to {}", config.database.redacted());
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
