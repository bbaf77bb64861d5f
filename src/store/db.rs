//! [`Db`]: the store's handle. Owns opening a database (SQLite: folders;
//! both: migrations, the pool, the writer connection) and the operations the
//! server's HTTP side needs (users, tokens, projects, members, knowledge,
//! customers, the conversation list). Each operation converts records to
//! rows, runs query functions on a pooled connection, and converts back.
//! The engine's port is implemented in `port.rs`.

use super::conn::{establish_pg, lock_id, DbConn, DbManager, Target, SQLITE_PRAGMAS};
use super::customers;
use super::migrations::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use super::queries as q;
use super::records::{
    ConversationFilter, CustomerContext, CustomerRow, KnowledgeRow, MemberRole, MemberRow,
    MemberStatus, ProjectRow, TokenRow, UserRow,
};
use super::rows::{
    convert_all, ts, DbAgent, DbCustomer, DbKnowledge, DbMember, DbProject, DbSettings, DbToken,
    DbUser,
};
use chrono::{DateTime, Utc};
use diesel::{Connection, SqliteConnection};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_migrations::MigrationHarness;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use switchboard_actors::domain::settings::HandoffSettings;
use switchboard_actors::ids::{ConversationId, CustomerId, KnowledgeId, ProjectId, UserId};
use switchboard_actors::ports::{AgentRecord, ConversationRecord, StoreError, StoreResult};
use tokio::sync::Mutex;
use uuid::Uuid;

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

            let target = Target::Sqlite { path: path_str };
            let pool = bb8::Pool::builder()
                .max_size(POOL_SIZE)
                .connection_timeout(POOL_TIMEOUT)
                // A local file does not drop connections; skip the extra round
                // trip per checkout. Broken ones are still discarded on return.
                .test_on_check_out(false)
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
            let target = Target::Postgres { url };
            let pool = bb8::Pool::builder()
                .max_size(PG_POOL_SIZE)
                .connection_timeout(POOL_TIMEOUT)
                // A server connection can die while idle (server restart,
                // network); one round trip per checkout finds out first.
                .test_on_check_out(true)
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
        })
        .await
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

    pub async fn ping(&self) -> StoreResult<()> {
        let db = self.clone();
        detached(async move { db.conn().await?.ping().await }).await
    }

    // ------------------------------------------------------------ users and tokens

    pub async fn count_users(&self) -> StoreResult<i64> {
        let db = self.clone();
        detached(async move { q::count_users(&mut *db.conn().await?).await }).await
    }

    /// `Conflict` when the email is taken.
    pub async fn insert_user(&self, u: &UserRow) -> StoreResult<()> {
        let (db, u) = (self.clone(), u.clone());
        detached(async move { q::insert_user(&mut *db.conn().await?, &DbUser::from(&u)).await })
            .await
    }

    /// Case-insensitive: emails are stored lowercase.
    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
        let (db, email) = (self.clone(), email.to_string());
        detached(async move {
            let email = email.to_lowercase();
            q::user_by_email(&mut *db.conn().await?, &email)
                .await?
                .map(UserRow::try_from)
                .transpose()
        })
        .await
    }

    pub async fn user_by_id(&self, id: UserId) -> StoreResult<Option<UserRow>> {
        let db = self.clone();
        detached(async move {
            q::user_by_id(&mut *db.conn().await?, &id.to_string())
                .await?
                .map(UserRow::try_from)
                .transpose()
        })
        .await
    }

    pub async fn insert_token(&self, t: &TokenRow) -> StoreResult<()> {
        let (db, t) = (self.clone(), t.clone());
        detached(async move { q::insert_token(&mut *db.conn().await?, &DbToken::from(&t)).await })
            .await
    }

    /// The token with this hash, expired or not (the caller checks
    /// `expires_at`).
    pub async fn token(&self, hash: &str) -> StoreResult<Option<TokenRow>> {
        let (db, hash) = (self.clone(), hash.to_string());
        detached(async move {
            q::token(&mut *db.conn().await?, &hash)
                .await?
                .map(TokenRow::try_from)
                .transpose()
        })
        .await
    }

    /// Deleting a token that does not exist is not an error.
    pub async fn delete_token(&self, hash: &str) -> StoreResult<()> {
        let (db, hash) = (self.clone(), hash.to_string());
        detached(async move { q::delete_token(&mut *db.conn().await?, &hash).await }).await
    }

    // ------------------------------------------------------------ projects

    /// In one transaction: the project, its settings row, and its owner as
    /// an active admin member (limit from the settings' default).
    pub async fn create_project(
        &self,
        p: &ProjectRow,
        settings: &HandoffSettings,
        owner_email: &str,
        owner_name: &str,
    ) -> StoreResult<()> {
        let (db, p, settings, owner_email, owner_name) = (
            self.clone(),
            p.clone(),
            settings.clone(),
            owner_email.to_string(),
            owner_name.to_string(),
        );
        detached(async move {
            let project = DbProject::from_row(&p)?;
            let settings_row = DbSettings::new(p.id, &settings, p.created_at)?;
            let owner = DbMember::from_row(&MemberRow {
                id: Uuid::new_v4(),
                project_id: p.id,
                user_id: Some(p.owner_id),
                email: owner_email,
                name: Some(owner_name),
                role: MemberRole::Admin,
                status: MemberStatus::Active,
                invited_by: p.owner_id,
                invited_at: p.created_at,
                accepted_at: Some(p.created_at),
                invite_token_hash: None,
                max_concurrent_chats: settings.default_max_concurrent_chats,
                created_at: p.created_at,
                updated_at: p.created_at,
            })?;
            db.conn()
                .await?
                .transaction(async move |c| {
                    q::insert_project(c, &project).await?;
                    q::upsert_settings(c, &settings_row).await?;
                    q::insert_member(c, &owner).await
                })
                .await
        })
        .await
    }

    pub async fn project(&self, id: ProjectId) -> StoreResult<Option<ProjectRow>> {
        let db = self.clone();
        detached(async move {
            q::project(&mut *db.conn().await?, &id.to_string())
                .await?
                .map(ProjectRow::try_from)
                .transpose()
        })
        .await
    }

    pub async fn project_by_public_key(&self, key: &str) -> StoreResult<Option<ProjectRow>> {
        let (db, key) = (self.clone(), key.to_string());
        detached(async move {
            q::project_by_public_key(&mut *db.conn().await?, &key)
                .await?
                .map(ProjectRow::try_from)
                .transpose()
        })
        .await
    }

    pub async fn project_by_secret_hash(&self, hash: &str) -> StoreResult<Option<ProjectRow>> {
        let (db, hash) = (self.clone(), hash.to_string());
        detached(async move {
            q::project_by_secret_hash(&mut *db.conn().await?, &hash)
                .await?
                .map(ProjectRow::try_from)
                .transpose()
        })
        .await
    }

    /// The projects where `user` is an active member, with the member's
    /// role name (`MemberRole::as_str`), oldest project first.
    pub async fn projects_of_user(&self, user: UserId) -> StoreResult<Vec<(ProjectRow, String)>> {
        let db = self.clone();
        detached(async move {
            q::projects_of_user(&mut *db.conn().await?, &user.to_string())
                .await?
                .into_iter()
                .map(|(p, role)| Ok((ProjectRow::try_from(p)?, role)))
                .collect()
        })
        .await
    }

    // ------------------------------------------------------------ members

    /// The active membership of `user` in `project`.
    pub async fn membership(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> StoreResult<Option<MemberRow>> {
        let db = self.clone();
        detached(async move {
            q::membership(
                &mut *db.conn().await?,
                &project.to_string(),
                &user.to_string(),
            )
            .await?
            .map(MemberRow::try_from)
            .transpose()
        })
        .await
    }

    /// `Conflict` when the project already has a member with this email
    /// (or the invite hash is taken).
    pub async fn insert_member(&self, m: &MemberRow) -> StoreResult<()> {
        let (db, m) = (self.clone(), m.clone());
        detached(
            async move { q::insert_member(&mut *db.conn().await?, &DbMember::from_row(&m)?).await },
        )
        .await
    }

    /// The pending invitation with this token hash.
    pub async fn member_by_invite_hash(&self, hash: &str) -> StoreResult<Option<MemberRow>> {
        let (db, hash) = (self.clone(), hash.to_string());
        detached(async move {
            q::member_by_invite_hash(&mut *db.conn().await?, &hash)
                .await?
                .map(MemberRow::try_from)
                .transpose()
        })
        .await
    }

    /// In one transaction: inserts `user` when `create_user`, turns the
    /// pending invitation `member_id` into an active membership of that user
    /// (accepted now, invite hash cleared), and writes the agent's ledger
    /// row when given. `NotFound` when the invitation is not pending;
    /// `Conflict` when a new user's email is taken.
    pub async fn accept_invite(
        &self,
        member_id: Uuid,
        user: &UserRow,
        create_user: bool,
        agent: Option<&AgentRecord>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (db, user, agent) = (self.clone(), user.clone(), agent.cloned());
        detached(async move {
            let new_user = create_user.then(|| DbUser::from(&user));
            let user_id = user.id.to_string();
            let member_id = member_id.to_string();
            let ledger = agent
                .as_ref()
                .map(|a| DbAgent::from_record(a, at))
                .transpose()?;
            let at = ts(at);
            db.conn()
                .await?
                .transaction(async move |c| {
                    if let Some(u) = &new_user {
                        q::insert_user(c, u).await?;
                    }
                    if q::activate_member(c, &member_id, &user_id, at).await? == 0 {
                        return Err(StoreError::NotFound);
                    }
                    if let Some(a) = &ledger {
                        q::upsert_agent(c, a).await?;
                    }
                    Ok(())
                })
                .await
        })
        .await
    }

    /// Every membership row of the project, whatever its status, oldest
    /// first.
    pub async fn members(&self, project: ProjectId) -> StoreResult<Vec<MemberRow>> {
        let db = self.clone();
        detached(async move {
            convert_all(q::members(&mut *db.conn().await?, &project.to_string()).await?)
        })
        .await
    }

    /// Sets the member's `max_concurrent_chats`. `NotFound` when `user` is
    /// not a member of `project`.
    pub async fn set_agent_max(
        &self,
        project: ProjectId,
        user: UserId,
        max: u32,
    ) -> StoreResult<()> {
        let db = self.clone();
        detached(async move {
            let max = i32::try_from(max).map_err(|_| {
                StoreError::Backend(format!("max_concurrent_chats out of range: {max}"))
            })?;
            let changed = q::set_member_max(
                &mut *db.conn().await?,
                &project.to_string(),
                &user.to_string(),
                max,
                ts(Utc::now()),
            )
            .await?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    // ------------------------------------------------------------ knowledge

    /// The project's knowledge base, oldest entry first.
    pub async fn knowledge(&self, project: ProjectId) -> StoreResult<Vec<KnowledgeRow>> {
        let db = self.clone();
        detached(async move {
            convert_all(q::knowledge(&mut *db.conn().await?, &project.to_string()).await?)
        })
        .await
    }

    pub async fn insert_knowledge(&self, k: &KnowledgeRow) -> StoreResult<()> {
        let (db, k) = (self.clone(), k.clone());
        detached(async move {
            q::insert_knowledge(&mut *db.conn().await?, &DbKnowledge::from(&k)).await
        })
        .await
    }

    /// True when the entry existed in that project and is gone.
    pub async fn delete_knowledge(&self, project: ProjectId, id: KnowledgeId) -> StoreResult<bool> {
        let db = self.clone();
        detached(async move {
            let n = q::delete_knowledge(
                &mut *db.conn().await?,
                &project.to_string(),
                &id.to_string(),
            )
            .await?;
            Ok(n > 0)
        })
        .await
    }

    // ------------------------------------------------------------ customers

    /// Records a visit that starts a conversation: finds the project's
    /// customer by visitor id (or by a merged visitor id), or creates one;
    /// sets `last_seen_at`, the context fields given (a `None` keeps the
    /// stored value) and adds one to `total_conversations`. Returns the row
    /// as stored.
    pub async fn touch_customer(
        &self,
        project: ProjectId,
        visitor_id: &str,
        at: DateTime<Utc>,
        ctx: &CustomerContext,
    ) -> StoreResult<CustomerRow> {
        let (db, visitor_id, ctx) = (self.clone(), visitor_id.to_string(), ctx.clone());
        detached(async move {
            let project = project.to_string();
            let row = db
                .conn()
                .await?
                .transaction(async move |c| {
                    // Find-or-create must not interleave with another touch
                    // of the project's customers (the same visitor twice at
                    // once would make two rows or lose a count) nor with a
                    // merge (see customers.rs).
                    c.serialize_on(&customers::serialize_key(&project)).await?;
                    let at = ts(at);
                    match customers::customer_of_visitor(c, &project, &visitor_id).await? {
                        Some(mut row) => {
                            row.last_seen_at = at;
                            row.updated_at = at;
                            row.total_conversations = row.total_conversations.saturating_add(1);
                            apply_context(&mut row, ctx);
                            q::update_customer(c, &row).await?;
                            Ok(row)
                        }
                        None => {
                            let mut row = customers::new_customer(&project, &visitor_id, at);
                            row.total_conversations = 1;
                            apply_context(&mut row, ctx);
                            q::insert_customer(c, &row).await?;
                            Ok(row)
                        }
                    }
                })
                .await?;
            CustomerRow::try_from(row)
        })
        .await
    }

    pub async fn customer(
        &self,
        project: ProjectId,
        id: CustomerId,
    ) -> StoreResult<Option<CustomerRow>> {
        let db = self.clone();
        detached(async move {
            q::customer(
                &mut *db.conn().await?,
                &project.to_string(),
                &id.to_string(),
            )
            .await?
            .map(CustomerRow::try_from)
            .transpose()
        })
        .await
    }

    // ------------------------------------------------------------ conversations (read side)

    /// Rates a closed conversation (they have no actor); false when it was
    /// rated already or is not closed.
    pub async fn rate_closed_conversation(
        &self,
        id: ConversationId,
        rating: i32,
        feedback: Option<&str>,
    ) -> StoreResult<bool> {
        let (db, feedback) = (self.clone(), feedback.map(str::to_string));
        detached(async move {
            let n = q::rate_closed_conversation(
                &mut *db.conn().await?,
                &id.to_string(),
                rating,
                feedback.as_deref(),
            )
            .await?;
            Ok(n == 1)
        })
        .await
    }

    /// The dashboard list: newest `last_message_at` first (ties by id
    /// descending), strictly after `f.cursor`, at most `f.limit` rows.
    pub async fn list_conversations(
        &self,
        f: &ConversationFilter,
    ) -> StoreResult<Vec<ConversationRecord>> {
        let (db, f) = (self.clone(), f.clone());
        detached(async move {
            if f.project_ids.is_empty() || f.limit <= 0 {
                return Ok(Vec::new());
            }
            let query = q::ListQuery {
                project_ids: f.project_ids.iter().map(|p| p.to_string()).collect(),
                status: f.status.map(|s| s.as_str().to_string()),
                assigned_to: f.assigned_to.map(|u| u.to_string()),
                customer_id: f.customer_id.map(|c| c.to_string()),
                cursor: f.cursor.map(|(at, id)| (ts(at), id.to_string())),
                limit: f.limit,
            };
            convert_all(q::list_conversations(&mut *db.conn().await?, &query).await?)
        })
        .await
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

fn apply_context(row: &mut DbCustomer, ctx: CustomerContext) {
    fn set(slot: &mut Option<String>, value: Option<String>) {
        if value.is_some() {
            *slot = value;
        }
    }
    set(&mut row.last_browser, ctx.browser);
    set(&mut row.last_device, ctx.device);
    set(&mut row.last_os, ctx.os);
    set(&mut row.last_page_url, ctx.page_url);
    set(&mut row.last_referrer, ctx.referrer);
    set(&mut row.last_timezone, ctx.timezone);
    set(&mut row.last_language, ctx.language);
}
