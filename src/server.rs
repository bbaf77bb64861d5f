//! Starting and stopping the whole server: store (migrations on open),
//! first-admin bootstrap, engine restore, HTTP + WebSocket listener.

use crate::ai::KnowledgeResponder;
use crate::config::{Config, DatabaseUrl};
use crate::state::AppState;
use crate::store::{Db, UserRow};
use actix_web::{web, App, HttpServer};
use std::net::SocketAddr;
use std::sync::Arc;
use switchboard_actors::clock::SharedClock;
use switchboard_actors::engine::session::Sessions;
use switchboard_actors::engine::{Engine, EngineConfig};
use switchboard_actors::ids::UserId;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("DATABASE_URL: {0}")]
    Database(String),
    #[error("SWITCHBOARD_BIND: {0}")]
    Bind(std::io::Error),
    #[error("{0}")]
    Other(String),
}

pub struct RunningServer {
    pub addr: SocketAddr,
    pub engine: Engine,
    pub sessions: Sessions,
    pub db: Db,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Open the configured database, applying pending migrations.
pub async fn open_store(config: &Config) -> Result<Db, StartError> {
    match &config.database {
        DatabaseUrl::Sqlite(path) => Db::open_sqlite(path).await,
        DatabaseUrl::Postgres(url) => Db::open_postgres(url).await,
    }
    .map_err(|e| {
        StartError::Database(format!(
            "cannot open {}: {}",
            config.database.redacted(),
            crate::config::redact_password(&e.to_string())
        ))
    })
}

/// Start everything inside the current actix system. Returns once the
/// listener is bound and every live conversation is restored.
pub async fn start(config: Config, clock: SharedClock) -> Result<RunningServer, StartError> {
    let db = open_store(&config).await?;
    let passwords = Arc::new(crate::passwords::Passwords::start(config.password_hashers));
    bootstrap_admin(&db, &config, &clock, &passwords).await?;
    let ai = Arc::new(KnowledgeResponder::new(db.clone()));
    let email = crate::email::from_config(&config, db.clone(), clock.clone());
    let engine = Engine::start(
        Arc::new(db.clone()),
        clock,
        ai.clone(),
        EngineConfig::default(),
    )
    .await
    .map_err(|e| StartError::Other(format!("restoring state failed: {e}")))?;
    let sessions = Sessions::start(
        engine.clone(),
        Arc::new(db.clone()),
        crate::providers::from_config(&config),
    )
    .await
    .map_err(|e| StartError::Other(format!("restoring sessions failed: {e}")))?;
    let state = AppState {
        db: db.clone(),
        engine: engine.clone(),
        sessions: sessions.clone(),
        ai,
        token_ttl: config.token_ttl,
        limits: Arc::new(crate::limits::RateLimiter::new(config.rate_limits)),
        email,
        passwords,
        trusted_proxies: config.trusted_proxies.clone().into(),
        sockets: Arc::default(),
        origins: Arc::default(),
    };
    if config.demo {
        crate::demo::seed(&state)
            .await
            .map_err(|e| StartError::Other(format!("demo data: {e}")))?;
    }
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(actix_web::middleware::from_fn(
                crate::http::cors::middleware,
            ))
            // No response is sniffed into another type (a JSON answer that
            // echoes input must never run as a script or page).
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add(("x-content-type-options", "nosniff")),
            )
            .wrap(tracing_actix())
            .configure(crate::http::configure)
    })
    .workers(config.workers)
    .disable_signals()
    .shutdown_timeout(5)
    .bind(config.bind)
    .map_err(StartError::Bind)?;
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| StartError::Other("no address bound".into()))?;
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    tracing::info!(%addr, "switchboard listening");
    Ok(RunningServer {
        addr,
        engine,
        sessions,
        db,
        handle,
        task,
    })
}

/// The access log: the request line with credentials redacted (see
/// `http/redact.rs`), the status and the time taken.
fn tracing_actix() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new("%{request}xi %s %Dms")
        .custom_request_replace("request", crate::http::redact::request_line)
        .log_target("switchboard::http")
}

async fn bootstrap_admin(
    db: &Db,
    config: &Config,
    clock: &SharedClock,
    passwords: &crate::passwords::Passwords,
) -> Result<(), StartError> {
    let Some(admin) = &config.admin else {
        return Ok(());
    };
    let n = db
        .count_users()
        .await
        .map_err(|e| StartError::Database(e.to_string()))?;
    if n > 0 {
        return Ok(());
    }
    let hash = passwords
        .hash(admin.password.clone())
        .await
        .map_err(|e| StartError::Other(e.to_string()))?;
    let now = clock.now();
    db.insert_user(&UserRow {
        id: UserId::new(),
        email: admin.email.clone(),
        name: "Admin".into(),
        password_hash: hash,
        avatar_url: None,
        created_at: now,
        updated_at: now,
        // The operator configured this account: it holds the instance's
        // permission to create projects, and its email counts as proven.
        can_create_projects: true,
        email_verified: true,
    })
    .await
    .map_err(|e| StartError::Database(e.to_string()))?;
    tracing::info!(email = %admin.email, "created the first admin");
    Ok(())
}

impl RunningServer {
    /// Graceful stop: no new requests, in-flight ones finish, everything
    /// acknowledged is flushed, then the actors stop.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
        if let Err(e) = self.engine.flush().await {
            tracing::error!(error = %e, "flush on shutdown failed");
        }
        self.engine.shutdown();
        self.sessions.shutdown();
    }

    /// Run until SIGTERM or Ctrl-C, then stop gracefully.
    pub async fn run_until_signal(self) {
        wait_for_signal().await;
        tracing::info!("shutting down");
        self.stop().await;
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
