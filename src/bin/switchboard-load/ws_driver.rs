//! The `ws` driver: real WebSocket clients on loopback against a real
//! server, either one already running (`--url http://host:port` with
//! `--admin-email` and `--admin-password`) or the `switchboard` binary next
//! to this one, started here on 127.0.0.1:0 over a fresh SQLite file (or
//! `--database-url`) and stopped at the end.
//!
//! Everything is set up through the public API (admin login, a project with
//! handoff enabled, invited agents online, widget conversations), so a run
//! measures exactly what a deployment serves.
//!
//! Scenarios: `chat` (customers and agents chatting at a total rate) and
//! `connections` (many mostly idle connections: memory per connection and
//! CPU at rest). See each module for its options and figures.

#[path = "ws_api.rs"]
mod api;
#[path = "ws_chat.rs"]
mod chat;
#[path = "ws_connections.rs"]
mod connections;
#[path = "ws_server.rs"]
mod server;
#[path = "ws_socket.rs"]
mod socket;

use crate::args::Args;
use crate::report::Report;

pub async fn run(args: &Args) -> Result<Report, String> {
    match args.scenario.as_str() {
        "chat" | "connections" => {}
        other => {
            return Err(format!(
                "the ws driver has no scenario {other:?} (chat or connections)"
            ))
        }
    }
    let mut server = server::Server::from_args(args).await?;
    let result = match args.scenario.as_str() {
        "chat" => chat::run(args, &server).await,
        _ => connections::run(args, &server).await,
    };
    server.stop().await;
    result
}

/// Log in as the admin; on failure, say why that may be.
async fn admin_login(api: &api::Api, server: &server::Server) -> Result<String, String> {
    api.login(&server.admin_email, &server.admin_password)
        .await
        .map_err(|e| {
            format!(
                "admin login as {} failed: {e} (the server creates its first admin only on an \
                 empty database: on one with users, give --admin-email and --admin-password \
                 of an existing admin)",
                server.admin_email
            )
        })
}

/// Run `f` over `items` with at most `limit` in flight; the first error
/// wins. Results come back in the order of `items`.
async fn bounded<T, R, F, Fut>(items: Vec<T>, limit: usize, f: F) -> Result<Vec<R>, String>
where
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = Result<R, String>>,
{
    use futures::StreamExt;
    let mut out: Vec<(usize, R)> = Vec::with_capacity(items.len());
    let mut stream = futures::stream::iter(items.into_iter().enumerate())
        .map(|(i, t)| {
            let fut = f(t);
            async move { fut.await.map(|r| (i, r)) }
        })
        .buffer_unordered(limit.max(1));
    while let Some(r) = stream.next().await {
        out.push(r?);
    }
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, r)| r).collect())
}
