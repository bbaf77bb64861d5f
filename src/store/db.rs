//! [`Db`]: the store's handle. Owns opening a database (SQLite: folders;
//! both: migrations, the pool, the writer connection) and the way every
//! operation reaches it ([`Db::pooled`], the writer). The operations
//! themselves live with their area (`accounts/`, `conversations/`,
//! `customers/`, `sessions/`, `activity/`, ...), each converting records to
//! rows, running the area's statements and converting back; the engine's
//! ports are in `conversations/port.rs` and `sessions/port.rs`.

use crate::store::conn::{
    establish_pg, lock_id, AsyncFunc, DbConn, DbManager, Target, SQLITE_PRAGMAS,
};
use crate::store::migrations::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use diesel::{Connection, SqliteConnection};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_migrations::MigrationHarness;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use switchboard_actors::ports::{StoreError, StoreResult};
use tokio::sync::Mutex;

/// Connections in the read/HTTP pool. SQLite in WAL mode serves readers
/// concurrently; writers queue on the file lock (busy_timeout).
const POOL_SIZE: u32 = 8;

/// The same for PostgreSQL, kept small: every connection is a server
/// process, and several servers (nodes, or a parallel test suite) share
/// one PostgreSQL. The writer has its own connection on top.
const PG_POOL_SIZE: u32 = 4;

/// How long a caller waits for a pooled connection.
const POOL_TIMEOUT: Duration = Duration::from_secs(30);

pub type Pool = bb8::Pool<DbManager>;

type Pooled<'a> = bb8::PooledConnection<'a, DbManager>;

/// The store. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    target: Target,
    /// Reads and the HTTP side's writes.
    pool: Pool,
    /// The engine's group-commit writer's own connection (see `commit`).
    writer: Mutex<DbConn>,
}

impl Db {
    /// Opens (creating if needed) the SQLite database at `path`: creates
    /// the parent folder, applies pending migrations on a plain sync
    /// connection, then opens the pool and the writer connection.
    pub async fn open_sqlite(path: &Path) -> StoreResult<Db> {
        let path = path.to_path_buf();
        detached(async move {
            let path_str = path
                .to_str()
                .ok_or_else(|| {
                    StoreError::Backend(format!("database path is not UTF-8: {path:?}"))
                })?
                .to_string();
            let for_migrations = path.to_path_buf();
            tokio::task::spawn_blocking(move || migrate_sqlite(&for_migrations))
                .await
                .map_err(|e| StoreError::Backend(format!("migration task: {e}")))??;

            // A local file does not drop connections; skip the extra round
            // trip per checkout. Broken ones are still discarded on return.
            Db::connect(Target::Sqlite { path: path_str }, POOL_SIZE, false).await
        })
        .await
    }

    /// Opens the PostgreSQL database at `url` (which must exist): applies
    /// pending migrations (on a thread of their own, see
    /// `migrate_postgres`), then opens the pool and the writer connection.
    /// An unreachable server or refused login is a one-line
    /// `StoreError::Backend`, within a few seconds.
    pub async fn open_postgres(url: &str) -> StoreResult<Db> {
        let url = url.to_string();
        detached(async move {
            migrate_postgres(url.clone()).await?;
            // A server connection can die while idle (server restart,
            // network); one round trip per checkout finds out first.
            Db::connect(Target::Postgres { url }, PG_POOL_SIZE, true).await
        })
        .await
    }

    /// The pool and the writer connection of a migrated database, checked
    /// with one round trip.
    async fn connect(target: Target, pool_size: u32, test_on_check_out: bool) -> StoreResult<Db> {
        let pool = bb8::Pool::builder()
            .max_size(pool_size)
            .connection_timeout(POOL_TIMEOUT)
            .test_on_check_out(test_on_check_out)
            .build(DbManager {
                target: target.clone(),
            })
            .await?;
        let writer = DbConn::establish(&target).await?;
        let db = Db {
            inner: Arc::new(Inner {
                target,
                pool,
                writer: Mutex::new(writer),
            }),
        };
        db.ping().await?;
        Ok(db)
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self.inner.target {
            Target::Sqlite { .. } => "sqlite",
            Target::Postgres { .. } => "postgres",
        }
    }

    /// A connection from the pool.
    pub(super) async fn conn(&self) -> StoreResult<Pooled<'_>> {
        self.inner.pool.get().await.map_err(|e| match e {
            bb8::RunError::User(e) => e,
            bb8::RunError::TimedOut => {
                StoreError::Backend("timed out waiting for a database connection".into())
            }
        })
    }

    /// The writer connection, reopened first if a cancelled commit left it
    /// inside a transaction.
    pub(super) async fn writer(&self) -> StoreResult<tokio::sync::MutexGuard<'_, DbConn>> {
        let mut guard = self.inner.writer.lock().await;
        if guard.is_broken() {
            tracing::warn!("writer connection was left in a transaction; reopening it");
            *guard = DbConn::establish(&self.inner.target).await?;
        }
        Ok(guard)
    }

    /// Runs `f` on a pooled connection in its own task (see [`detached`]):
    /// the shape of every operation that does not go through the writer.
    pub(super) async fn pooled<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        for<'r> F: AsyncFnOnce(&'r mut DbConn) -> StoreResult<T>
            + AsyncFunc<&'r mut DbConn, StoreResult<T>, Fut: Send>
            + Send
            + 'static,
    {
        let pool = self.clone();
        detached(async move { f(&mut *pool.conn().await?).await }).await
    }

    pub async fn ping(&self) -> StoreResult<()> {
        let db = self.clone();
        detached(async move { db.conn().await?.ping().await }).await
    }
}

/// Runs one operation's whole body as its own tokio task and waits for it.
/// diesel-async's SQLite connection is not cancel-safe: a query future
/// dropped mid-flight (actix drops a handler when its client goes away or
/// another extractor fails, an actor stops) leaves the blocking call holding
/// the connection while the pool takes it back, and the pool's check of a
/// returned connection then panics. A spawned task runs to completion
/// whether or not its caller still waits, so connections go back to the
/// pool only when idle. `tokio::spawn` also works on the current-thread
/// runtimes actix runs its workers and actors on.
pub(super) async fn detached<T: Send + 'static>(
    fut: impl Future<Output = StoreResult<T>> + Send + 'static,
) -> StoreResult<T> {
    tokio::spawn(fut)
        .await
        .map_err(|e| StoreError::Backend(format!("store task failed: {e}")))?
}

/// Creates the folder, opens a plain sync connection, sets the pragmas and
/// runs the pending migrations. Sync on purpose: diesel's async migration
/// harness needs a multi-thread runtime.
fn migrate_sqlite(path: &Path) -> StoreResult<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| StoreError::Backend(format!("create {}: {e}", parent.display())))?;
    }
    let url = path
        .to_str()
        .ok_or_else(|| StoreError::Backend(format!("database path is not UTF-8: {path:?}")))?;
    let mut conn = SqliteConnection::establish(url)
        .map_err(|e| StoreError::Backend(format!("open {url}: {e}")))?;
    diesel::connection::SimpleConnection::batch_execute(&mut conn, SQLITE_PRAGMAS)
        .map_err(super::error::map_diesel)?;
    conn.run_pending_migrations(SQLITE_MIGRATIONS)
        .map_err(|e| StoreError::Backend(format!("migrations: {e}")))?;
    Ok(())
}

/// The session-level advisory lock every process takes around applying
/// PostgreSQL migrations, so servers starting together on one database
/// apply each migration once.
const PG_MIGRATION_LOCK: &str = "switchboard:migrations";

/// Applies pending PostgreSQL migrations. diesel's migration harness is
/// synchronous and diesel-async's bridge to it blocks on a tokio handle,
/// which needs a runtime whose workers keep driving the connection's
/// socket meanwhile: actix's current-thread runtimes cannot. So this runs
/// on a thread of its own with a small multi-thread runtime, and the
/// caller awaits the outcome without blocking its runtime.
async fn migrate_postgres(url: String) -> StoreResult<()> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("pg-migrations".into())
        .spawn(move || {
            let _ = tx.send(migrate_postgres_blocking(&url));
        })
        .map_err(|e| StoreError::Backend(format!("cannot start the migration thread: {e}")))?;
    rx.await
        .map_err(|_| StoreError::Backend("the migration thread ended without an answer".into()))?
}

fn migrate_postgres_blocking(url: &str) -> StoreResult<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("pg-migrations-io")
        .enable_all()
        .build()
        .map_err(|e| StoreError::Backend(format!("cannot start the migration runtime: {e}")))?;
    let conn = runtime.block_on(establish_pg(url))?;
    // The wrapper blocks on the handle of the runtime it is made in.
    let _in_runtime = runtime.enter();
    let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
    let lock = lock_id(PG_MIGRATION_LOCK);
    diesel::connection::SimpleConnection::batch_execute(
        &mut conn,
        &format!("SELECT pg_advisory_lock({lock})"),
    )
    .map_err(super::error::map_diesel)?;
    let applied = conn
        .run_pending_migrations(POSTGRES_MIGRATIONS)
        .map(drop)
        .map_err(|e| StoreError::Backend(format!("migrations: {e}")));
    // Closing the connection releases the lock too; this is the tidy way.
    let _ = diesel::connection::SimpleConnection::batch_execute(
        &mut conn,
        &format!("SELECT pg_advisory_unlock({lock})"),
    );
    drop(conn);
    applied
}
