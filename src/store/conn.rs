//! Connections. Owns [`DbConn`], the one enum over the backends' async
//! connections that every query function runs on; the [`with_conn!`] macro
//! that runs one query body on whichever variant a connection is (each
//! query is written once and compiled once per backend); opening a
//! connection with its per-connection settings; the bb8 manager of the
//! pool; and transactions over a `DbConn`.
//!
//! The places where SQLite and PostgreSQL need different SQL or handling
//! are all here, each `match` on the variant with a comment saying why:
//! opening a connection (pragmas and a file path vs. a server with a
//! connect timeout), [`DbConn::is_broken`] (a closed socket), beginning a
//! transaction (`BEGIN IMMEDIATE` vs. `BEGIN`), [`DbConn::serialize_on`]
//! (the writer lock vs. an advisory lock), [`DbConn::lock_row`] (the
//! writer lock vs. `FOR UPDATE`), [`DbConn::seconds_between_sql`]
//! (Julian days vs. intervals), and [`DbConn::placeholders`] /
//! [`DbConn::explain_prefix`] (`?` vs. `$n`, and how to ask for a plan).

use super::error::ResultExt;
use diesel::SqliteConnection;
use diesel_async::pooled_connection::PoolableConnection;
use diesel_async::sync_connection_wrapper::{SpawnBlocking, SyncConnectionWrapper};
use diesel_async::{
    AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection, TransactionManager,
};
use std::future::Future;
use std::time::Duration;
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
/// the switch to WAL itself waits for a lock. The page cache (32 MiB) and a
/// memory map (256 MiB, shared by every connection through the OS) keep the
/// hot index pages of the message log in memory: with SQLite's 2 MiB
/// default, the group commit spent most of its time re-reading pages.
pub const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; \
     PRAGMA cache_size = -32768; \
     PRAGMA mmap_size = 268435456;";

/// How long opening a PostgreSQL connection may take (TCP connect, TLS-less
/// startup, authentication) before it counts as unreachable.
pub const PG_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection to one of the supported backends.
pub enum DbConn {
    Sqlite(SqliteConn),
    /// diesel-async's native PostgreSQL connection (tokio-postgres; its
    /// socket is driven by a task on the runtime that opened it). Boxed: it
    /// is many times the size of the SQLite variant.
    Pg(Box<AsyncPgConnection>),
}

/// Runs `$body` with `$c` bound to the backend connection inside `$conn`
/// (a `&mut DbConn`). The body is written once and compiled once per
/// backend.
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::conn::DbConn::Sqlite($c) => $body,
            $crate::store::conn::DbConn::Pg(boxed) => {
                let $c: &mut diesel_async::AsyncPgConnection = &mut **boxed;
                $body
            }
        }
    };
}
pub(crate) use with_conn;

/// The first row of `$query`, if any (`.first(c)`), on either backend.
macro_rules! first_row {
    ($conn:expr, $query:expr) => {{
        use diesel::OptionalExtension as _;
        $crate::store::conn::with_conn!($conn, |c| $crate::store::error::ResultExt::store(
            diesel_async::RunQueryDsl::first($query, c).await.optional()
        ))
    }};
}
pub(crate) use first_row;

/// Every row of `$query` (`.load(c)`), on either backend.
macro_rules! all_rows {
    ($conn:expr, $query:expr) => {
        $crate::store::conn::with_conn!($conn, |c| $crate::store::error::ResultExt::store(
            diesel_async::RunQueryDsl::load($query, c).await
        ))
    };
}
pub(crate) use all_rows;

/// The rows strictly older than a keyset cursor `(at, id)` (a `&(_, String)`)
/// of a newest-first page ordered by `($at_column DESC, $id_column DESC)`.
macro_rules! older_than {
    ($at_column:expr, $id_column:expr, $at:ident, $id:ident) => {
        $at_column
            .lt(*$at)
            .or($at_column.eq(*$at).and($id_column.lt($id.clone())))
    };
}
pub(crate) use older_than;

/// Defines a write function of one row, `async fn NAME(conn, row) ->
/// StoreResult<()>`: `inserts into TABLE` is `INSERT`, `upserts into TABLE
/// on KEY` is `INSERT ... ON CONFLICT (KEY) DO UPDATE SET` every column of
/// the row. The many tables written this way share the one statement shape.
macro_rules! statement_fn {
    ($vis:vis fn $name:ident($row:ty) inserts into $table:ident) => {
        $crate::store::conn::statement_fn!(@fn $vis $name $row, |row| diesel::insert_into($table::table).values(row));
    };
    ($vis:vis fn $name:ident($row:ty) upserts into $table:ident on $key:ident) => {
        $crate::store::conn::statement_fn!(@fn $vis $name $row, |row| diesel::insert_into($table::table)
            .values(row)
            .on_conflict($table::$key)
            .do_update()
            .set(row));
    };
    ($vis:vis fn $name:ident($row:ty) upserts into $table:ident on ($($key:ident),+)) => {
        $crate::store::conn::statement_fn!(@fn $vis $name $row, |row| diesel::insert_into($table::table)
            .values(row)
            .on_conflict(($($table::$key),+))
            .do_update()
            .set(row));
    };
    (@fn $vis:vis $name:ident $row:ty, |$r:ident| $statement:expr) => {
        $vis async fn $name(
            conn: &mut $crate::store::conn::DbConn,
            $r: &$row,
        ) -> switchboard_actors::ports::StoreResult<()> {
            use $crate::store::error::ResultExt as _;
            use diesel_async::RunQueryDsl as _;
            $crate::store::conn::with_conn!(conn, |c| $statement.execute(c).await.store().map(drop))
        }
    };
}
pub(crate) use statement_fn;

/// Where connections go; kept by the pool manager and by the writer so it
/// can reconnect.
#[derive(Clone)]
pub enum Target {
    /// A SQLite database file.
    Sqlite { path: String },
    /// A PostgreSQL server: `postgres://user:password@host:port/database`.
    Postgres { url: String },
}

impl std::fmt::Debug for Target {
    /// Never shows a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            Target::Postgres { url } => f
                .debug_struct("Postgres")
                .field("server", &pg_server(url))
                .finish(),
        }
    }
}

/// `host:port/database` of a PostgreSQL URL: what a message may show.
fn pg_server(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    rest.split_once('?').map_or(rest, |(server, _)| server)
}

/// One line for a failed PostgreSQL connect: tokio-postgres' messages can
/// span lines (DETAIL, HINT) and start with diesel's wrapper text.
fn pg_connect_error(e: &diesel::ConnectionError) -> String {
    let text = match e {
        diesel::ConnectionError::CouldntSetupConfiguration(inner) => inner.to_string(),
        other => other.to_string(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Opens a PostgreSQL connection, giving up after [`PG_CONNECT_TIMEOUT`].
/// Errors are one line, start with "cannot connect to the PostgreSQL
/// server: " and never show the password.
pub async fn establish_pg(url: &str) -> StoreResult<AsyncPgConnection> {
    let failed = |reason: String| {
        StoreError::Backend(format!("cannot connect to the PostgreSQL server: {reason}"))
    };
    match tokio::time::timeout(PG_CONNECT_TIMEOUT, AsyncPgConnection::establish(url)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => {
            let reason = pg_connect_error(&e);
            if reason == "error connecting to server" {
                if let Some(reason) = probe_tcp(url).await {
                    return Err(failed(reason));
                }
            }
            Err(failed(reason))
        }
        Err(_) => Err(failed(format!(
            "no answer from {} within {} s",
            pg_server(url),
            PG_CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

/// Why the server of `url` cannot be reached over TCP ("connection
/// refused", an unknown host...). diesel-async keeps only tokio-postgres'
/// "error connecting to server" of a failed connect and drops the OS error
/// behind it, so for a URL naming one host this probe finds it again.
/// None when the URL names no single TCP host (a socket, several hosts) or
/// the probe connects.
async fn probe_tcp(url: &str) -> Option<String> {
    let authority = pg_server(url).split('/').next().unwrap_or_default();
    if authority.is_empty() || authority.contains(',') || authority.contains('%') {
        return None;
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, rest) = v6.split_once(']')?;
            (host, rest.strip_prefix(':').unwrap_or("5432"))
        }
        None => authority.rsplit_once(':').unwrap_or((authority, "5432")),
    };
    let (host, port) = (host.to_string(), port.parse::<u16>().ok()?);
    tokio::task::spawn_blocking(move || {
        use std::net::ToSocketAddrs;
        let addrs = match (host.as_str(), port).to_socket_addrs() {
            Ok(addrs) => addrs.collect::<Vec<_>>(),
            Err(e) => return Some(format!("{host}:{port}: {e}")),
        };
        let mut last = None;
        for addr in addrs {
            match std::net::TcpStream::connect_timeout(&addr, PG_CONNECT_TIMEOUT) {
                Ok(_) => return None,
                Err(e) => last = Some(format!("{host}:{port}: {e}")),
            }
        }
        last
    })
    .await
    .ok()
    .flatten()
}

impl DbConn {
    /// Opens a connection and applies the backend's session settings.
    /// Forks: SQLite opens a file and needs its pragmas on every
    /// connection; PostgreSQL reaches a server, which may not answer (hence
    /// the timeout), and diesel-async already sets the session's time zone
    /// (UTC) and encoding.
    pub async fn establish(target: &Target) -> StoreResult<DbConn> {
        match target {
            Target::Sqlite { path } => {
                let mut c = SqliteConn::establish(path)
                    .await
                    .map_err(|e| StoreError::Backend(format!("open {path}: {e}")))?;
                c.batch_execute(SQLITE_PRAGMAS).await.store()?;
                Ok(DbConn::Sqlite(c))
            }
            Target::Postgres { url } => Ok(DbConn::Pg(Box::new(establish_pg(url).await?))),
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
    ///
    /// Fork: a PostgreSQL connection can also be dead on its own (the
    /// server restarted or the network dropped it), which its closed socket
    /// tells; a SQLite file connection cannot.
    pub fn is_broken(&mut self) -> bool {
        match self {
            DbConn::Sqlite(c) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                <SqliteConn as AsyncConnection>::TransactionManager::is_broken_transaction_manager(
                    c,
                )
            }))
            .unwrap_or(true),
            DbConn::Pg(c) => PoolableConnection::is_broken(&mut **c),
        }
    }

    /// SQL for `later - earlier` in seconds, as a double, for two
    /// timestamp columns of the queried table (for aggregates such as the
    /// average first response time).
    ///
    /// Fork: SQLite keeps timestamps as text and has no interval type, so
    /// the difference of their Julian day numbers times 86400; PostgreSQL
    /// subtracts to an interval and takes its seconds.
    /// `sql` written with `?` placeholders, as this backend takes them:
    /// SQLite reads `?`, PostgreSQL numbers them (`$1`, `$2`, ...). The SQL
    /// must hold no `?` other than placeholders.
    pub fn placeholders<'a>(&self, sql: &'a str) -> std::borrow::Cow<'a, str> {
        match self {
            DbConn::Sqlite(_) => std::borrow::Cow::Borrowed(sql),
            DbConn::Pg(_) => {
                let mut out = String::with_capacity(sql.len() + 16);
                let mut n = 0;
                for ch in sql.chars() {
                    if ch == '?' {
                        n += 1;
                        out.push('$');
                        out.push_str(&n.to_string());
                    } else {
                        out.push(ch);
                    }
                }
                std::borrow::Cow::Owned(out)
            }
        }
    }

    /// How the backend asks for a statement's plan: SQLite's `EXPLAIN
    /// QUERY PLAN` (one row per step, in `detail`) or PostgreSQL's
    /// `EXPLAIN` (one row per line, in `QUERY PLAN`).
    pub fn explain_prefix(&self) -> &'static str {
        match self {
            DbConn::Sqlite(_) => "EXPLAIN QUERY PLAN ",
            DbConn::Pg(_) => "EXPLAIN ",
        }
    }

    pub fn seconds_between_sql(&self, later: &str, earlier: &str) -> String {
        match self {
            DbConn::Sqlite(_) => {
                format!("((julianday({later}) - julianday({earlier})) * 86400.0)")
            }
            DbConn::Pg(_) => format!("EXTRACT(EPOCH FROM ({later} - {earlier}))::double precision"),
        }
    }

    /// Opens a write transaction.
    ///
    /// Fork: SQLite takes the write lock up front (`BEGIN IMMEDIATE`), so a
    /// transaction that reads before it writes waits for the lock at its
    /// start (busy_timeout) instead of failing when it upgrades. PostgreSQL
    /// has row locks and no such upgrade; a plain `BEGIN` (read committed).
    /// Transactions that read and then write rows another transaction may
    /// write too take [`DbConn::serialize_on`] first.
    async fn begin(&mut self) -> StoreResult<()> {
        match self {
            DbConn::Sqlite(c) => c
                .spawn_blocking(|inner| {
                    diesel::connection::AnsiTransactionManager::begin_transaction_sql(
                        inner,
                        "BEGIN IMMEDIATE",
                    )
                })
                .await
                .store(),
            DbConn::Pg(c) => {
                diesel_async::AnsiTransactionManager::begin_transaction_sql(&mut **c, "BEGIN")
                    .await
                    .store()
            }
        }
    }

    /// Inside a transaction: waits until no other transaction that called
    /// this with the same `key` is open, and keeps others out until this
    /// one ends. For read-then-write transactions (find a row, insert it if
    /// missing) that must not interleave.
    ///
    /// Fork: on SQLite every write transaction already holds the database's
    /// one write lock from its `BEGIN IMMEDIATE`, so there is nothing to do.
    /// On PostgreSQL, a transaction-scoped advisory lock on a 64-bit hash
    /// of `key` (released by COMMIT or ROLLBACK).
    pub async fn serialize_on(&mut self, key: &str) -> StoreResult<()> {
        match self {
            DbConn::Sqlite(_) => Ok(()),
            DbConn::Pg(c) => {
                use diesel::sql_types::BigInt;
                diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                    .bind::<BigInt, _>(lock_id(key))
                    .execute(&mut **c)
                    .await
                    .store()
                    .map(drop)
            }
        }
    }

    /// Inside a transaction: locks the row of `table` with this `id` until
    /// the transaction ends, so no other transaction can add a row that
    /// references it meanwhile (before deleting it, say).
    ///
    /// Fork: SQLite's `BEGIN IMMEDIATE` already keeps every other writer
    /// out, so there is nothing to do. PostgreSQL checks a new reference
    /// under a key-share lock of the referenced row, which `FOR UPDATE`
    /// conflicts with: such an insert waits for this transaction, then
    /// fails if the row is gone.
    pub async fn lock_row(&mut self, table: &'static str, id: &str) -> StoreResult<()> {
        match self {
            DbConn::Sqlite(_) => Ok(()),
            DbConn::Pg(c) => {
                use diesel::sql_types::Text;
                diesel::sql_query(format!("SELECT 1 FROM {table} WHERE id = $1 FOR UPDATE"))
                    .bind::<Text, _>(id)
                    .execute(&mut **c)
                    .await
                    .store()
                    .map(drop)
            }
        }
    }

    async fn commit_transaction(&mut self) -> StoreResult<()> {
        with_conn!(self, |c| commit(c).await)
    }

    async fn rollback_transaction(&mut self) -> StoreResult<()> {
        with_conn!(self, |c| rollback(c).await)
    }

    /// True while the connection's transaction manager has a transaction
    /// open (false when it is in an error state: a rollback cannot help).
    fn in_transaction(&mut self) -> bool {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            with_conn!(&mut *self, |c| open_depth(c))
        }))
        .unwrap_or(false)
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
                    // A failed COMMIT can leave SQLite's transaction open;
                    // PostgreSQL's ends it (diesel has already noted that).
                    if self.in_transaction() {
                        if let Err(rollback) = self.rollback_transaction().await {
                            tracing::warn!(error = %rollback, "rollback after failed commit");
                        }
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

async fn commit<C: AsyncConnection>(c: &mut C) -> StoreResult<()> {
    C::TransactionManager::commit_transaction(c).await.store()
}

async fn rollback<C: AsyncConnection>(c: &mut C) -> StoreResult<()> {
    C::TransactionManager::rollback_transaction(c).await.store()
}

fn open_depth<C: AsyncConnection>(c: &mut C) -> bool {
    matches!(
        C::TransactionManager::transaction_manager_status_mut(c).transaction_depth(),
        Ok(Some(_))
    )
}

/// A stable 64-bit advisory lock id for `key` (the first 8 bytes of its
/// sha256), the same in every process that shares the database.
pub fn lock_id(key: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
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
