//! Connections. Owns [`DbConn`], the one enum over the backends' async
//! connections that every query function runs on; the [`with_conn!`] macro
//! that runs one query body on whichever variant a connection is (so adding
//! PostgreSQL adds a match arm, not a second copy of the queries); opening a
//! connection with its per-connection settings; the bb8 manager of the
//! pool; and transactions over a `DbConn`.

use super::error::ResultExt;
use diesel::connection::AnsiTransactionManager;
use diesel::SqliteConnection;
use diesel_async::sync_connection_wrapper::{SpawnBlocking, SyncConnectionWrapper};
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection, TransactionManager};
use std::future::Future;
use switchboard_actors::ports::{StoreError, StoreResult};

/// SQLite through diesel's sync connection, run on tokio's blocking pool.
pub type SqliteConn = SyncConnectionWrapper<SqliteConnection, Detached>;

/// Runs each blocking SQLite call on the current runtime's blocking pool.
/// diesel-async's own spawner waits for the call in `Drop` when its future is
/// cancelled, with `block_in_place`, which panics on the current-thread
/// runtimes actix runs every worker and actor on. Here a cancelled future
/// just stops waiting: the call finishes on its thread with the connection
/// locked. `Db` runs every operation as its own task so that does not
/// happen; should it still, [`DbConn::is_broken`] counts the still-shared
/// connection as broken and the pool discards it.
pub struct Detached;

impl SpawnBlocking for Detached {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> futures::future::BoxFuture<'a, Result<R, Box<dyn std::error::Error + Send + Sync + 'static>>>
    where
        R: Send + 'static,
    {
        let handle = tokio::task::spawn_blocking(task);
        Box::pin(async move {
            handle
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync + 'static>)
        })
    }

    fn get_runtime() -> Self {
        Detached
    }
}

/// Set on every SQLite connection: WAL so readers never block the writer,
/// FULL sync so an acknowledged commit survives power loss, foreign keys
/// enforced (SQLite leaves them off by default), and a 10 s wait for a lock
/// instead of an immediate "database is locked". busy_timeout comes first so
/// the switch to WAL itself waits for a lock.
pub const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON;";

/// A connection to one of the supported backends.
pub enum DbConn {
    Sqlite(SqliteConn),
}

/// Runs `$body` with `$c` bound to the backend connection inside `$conn`
/// (a `&mut DbConn`). The body is written once and compiled once per
/// backend.
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::conn::DbConn::Sqlite($c) => $body,
        }
    };
}
pub(crate) use with_conn;

/// Where connections go; kept by the pool manager and by the writer so it
/// can reconnect.
#[derive(Debug, Clone)]
pub enum Target {
    /// A SQLite database file.
    Sqlite { path: String },
}

impl DbConn {
    /// Opens a connection and applies the backend's session settings.
    pub async fn establish(target: &Target) -> StoreResult<DbConn> {
        match target {
            Target::Sqlite { path } => {
                let mut c = SqliteConn::establish(path)
                    .await
                    .map_err(|e| StoreError::Backend(format!("open {path}: {e}")))?;
                c.batch_execute(SQLITE_PRAGMAS).await.store()?;
                Ok(DbConn::Sqlite(c))
            }
        }
    }

    /// A trivial round trip.
    pub async fn ping(&mut self) -> StoreResult<()> {
        use diesel::sql_types::Integer;
        use diesel::IntoSql;
        with_conn!(self, |c| diesel::select(1_i32.into_sql::<Integer>())
            .get_result::<i32>(c)
            .await
            .store()
            .map(|_| ()))
    }

    /// True when the connection holds an open (leaked) transaction or its
    /// transaction manager is in an error state, or when a cancelled call
    /// still holds it: it must not be reused. Never panics: diesel-async's
    /// check panics ("Cannot access shared transaction state") on a
    /// connection a blocking call still shares, which here counts as broken.
    pub fn is_broken(&mut self) -> bool {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            with_conn!(&mut *self, |c| {
                <SqliteConn as AsyncConnection>::TransactionManager::is_broken_transaction_manager(
                    c,
                )
            })
        }))
        .unwrap_or(true)
    }

    /// Opens a write transaction. SQLite takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes
    /// waits for the lock at its start (busy_timeout) instead of failing
    /// when it upgrades; PostgreSQL will use a plain `BEGIN`.
    async fn begin(&mut self) -> StoreResult<()> {
        match self {
            DbConn::Sqlite(c) => c
                .spawn_blocking(|inner| {
                    AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
                })
                .await
                .store(),
        }
    }

    async fn commit_transaction(&mut self) -> StoreResult<()> {
        with_conn!(self, |c| {
            <SqliteConn as AsyncConnection>::TransactionManager::commit_transaction(c)
                .await
                .store()
        })
    }

    async fn rollback_transaction(&mut self) -> StoreResult<()> {
        with_conn!(self, |c| {
            <SqliteConn as AsyncConnection>::TransactionManager::rollback_transaction(c)
                .await
                .store()
        })
    }

    /// Runs `f` in one transaction: commits when it returns `Ok`, rolls back
    /// when it returns `Err` (or when the commit itself fails). Query
    /// functions take `&mut DbConn`, so the same functions run alone on a
    /// pooled connection or together inside a transaction.
    pub async fn transaction<R, F>(&mut self, f: F) -> StoreResult<R>
    where
        for<'r> F: AsyncFnOnce(&'r mut DbConn) -> StoreResult<R>
            + AsyncFunc<&'r mut DbConn, StoreResult<R>, Fut: Send>
            + Send,
        R: Send,
    {
        self.begin().await?;
        match f(&mut *self).await {
            Ok(value) => match self.commit_transaction().await {
                Ok(()) => Ok(value),
                Err(e) => {
                    // A failed COMMIT leaves SQLite's transaction open.
                    if let Err(rollback) = self.rollback_transaction().await {
                        tracing::warn!(error = %rollback, "rollback after failed commit");
                    }
                    Err(e)
                }
            },
            Err(e) => {
                if let Err(rollback) = self.rollback_transaction().await {
                    tracing::warn!(error = %rollback, "rollback failed");
                }
                Err(e)
            }
        }
    }
}

/// An async closure whose future type can be named, so its `Send`-ness can
/// be required (diesel-async's own helper is private).
pub trait AsyncFunc<T, R>:
    AsyncFnOnce(T) -> R + FnOnce(T) -> <Self as AsyncFunc<T, R>>::Fut
{
    type Fut: Future<Output = R>;
}

impl<F, T, Fut, R> AsyncFunc<T, R> for F
where
    F: AsyncFnOnce(T) -> R + FnOnce(T) -> Fut,
    Fut: Future<Output = R>,
{
    type Fut = Fut;
}

/// bb8 manager of [`DbConn`]s: every new connection gets its session
/// settings; one with a leaked transaction is dropped, not reused.
pub struct DbManager {
    pub target: Target,
}

impl bb8::ManageConnection for DbManager {
    type Connection = DbConn;
    type Error = StoreError;

    async fn connect(&self) -> Result<DbConn, StoreError> {
        DbConn::establish(&self.target).await
    }

    async fn is_valid(&self, conn: &mut DbConn) -> Result<(), StoreError> {
        conn.ping().await
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}
