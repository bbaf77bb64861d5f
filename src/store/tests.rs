//! Store tests. The behaviour tests (commit atomicity and upserts, round
//! trips of every record, the read queries, concurrency, cancellation) are
//! each written once as an `async fn(Db)` and run twice, by the
//! `on_both_backends!` list at the end: `sqlite::<name>` on a fresh SQLite
//! file in a temp folder, `postgres::<name>` on a fresh PostgreSQL database.
//! Then, per backend, the migrations (each down undoes its up) and the
//! check that schema.rs matches the migrated database, from one
//! description of the expected schema.
//!
//! The PostgreSQL tests need `SWITCHBOARD_TEST_PG_URL`, a URL of a server
//! where the user may create databases (`postgres://postgres@127.0.0.1/postgres`);
//! each creates `sb_store_<random>` and drops it at the end. Without it they
//! print that they are skipped and pass.

#![allow(clippy::unwrap_used)]

use super::conn::with_conn;
use super::migrations::Schema;
use super::*;
use chrono::{DateTime, Duration, Utc};
use diesel::connection::SimpleConnection;
use diesel::sql_types::{Bool, Integer, Text};
use diesel::SqliteConnection;
use diesel::{Connection, QueryDsl, QueryableByName};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::AsyncPgConnection;
use diesel_async::RunQueryDsl as _;
use diesel_migrations::MigrationHarness;
use serde_json::json;
use switchboard_actors::domain::agents::AgentStatus;
use switchboard_actors::domain::conversation::ConversationStatus;
use switchboard_actors::domain::inactivity::CustomerPresence;
use switchboard_actors::domain::settings::{HandoffSettings, TriggerMode};
use switchboard_actors::ids::{
    ConversationId, CustomerId, KnowledgeId, MessageId, ProjectId, UserId,
};
use switchboard_actors::ports::{
    AgentRecord, ConversationRecord, MessageRecord, SenderType, Store, StoreError, WriteOp,
};
use uuid::Uuid;

// ---------------------------------------------------------------- backends

/// A fresh SQLite store in a temp folder (kept while the folder lives).
async fn fresh_sqlite() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    // A missing parent folder is created.
    let db = Db::open_sqlite(&dir.path().join("nested/data/test.db"))
        .await
        .unwrap();
    assert_eq!(db.backend(), "sqlite");
    (dir, db)
}

/// A fresh PostgreSQL store on its own database (dropped with the
/// returned guard), or None when PostgreSQL tests are skipped.
async fn fresh_postgres(test: &str) -> Option<(PgDatabase, Db)> {
    let pg = PgDatabase::create(test).await?;
    let db = Db::open_postgres(&pg.url).await.unwrap();
    assert_eq!(db.backend(), "postgres");
    Some((pg, db))
}

/// `SWITCHBOARD_TEST_PG_URL`, or None after saying that `test` is skipped.
fn pg_admin_url(test: &str) -> Option<String> {
    match std::env::var("SWITCHBOARD_TEST_PG_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!("{test}: skipped (set SWITCHBOARD_TEST_PG_URL to run it on PostgreSQL)");
            None
        }
    }
}

/// `url` with its database (the path) replaced by `database`.
fn pg_url_with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, format!("?{query}")),
        None => (rest, String::new()),
    };
    let authority = rest
        .split_once('/')
        .map_or(rest, |(authority, _)| authority);
    format!("{scheme}://{authority}/{database}{query}")
}

async fn pg_execute(url: &str, sql: &str) {
    let mut c = super::conn::establish_pg(url).await.unwrap();
    diesel_async::SimpleAsyncConnection::batch_execute(&mut c, sql)
        .await
        .unwrap();
}

/// An empty database of its own for one test, dropped (with any
/// connections still open to it) when this guard is, failed test or not.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    async fn create(test: &str) -> Option<PgDatabase> {
        let admin_url = pg_admin_url(test)?;
        let name = format!("sb_store_{}", Uuid::new_v4().simple());
        pg_execute(&admin_url, &format!("CREATE DATABASE {name}")).await;
        let url = pg_url_with_database(&admin_url, &name);
        Some(PgDatabase {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // A thread and runtime of its own: this runs inside the test's
        // runtime, or while a failed test unwinds.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(pg_execute(
                &admin_url,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ));
        })
        .join();
        if dropped.is_err() {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}

/// diesel's sync `Connection` over the async PostgreSQL one, for the
/// migration harness; used on a blocking thread of a multi-thread runtime.
type PgSync = AsyncConnectionWrapper<AsyncPgConnection>;

/// Runs `f` with a sync connection to `url`, on a blocking thread.
async fn with_pg_sync<R: Send + 'static>(
    url: &str,
    f: impl FnOnce(&mut PgSync) -> R + Send + 'static,
) -> R {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let mut conn = PgSync::establish(&url).unwrap();
        f(&mut conn)
    })
    .await
    .unwrap()
}

// ---------------------------------------------------------------- fixtures

/// A fixed instant plus `secs`, with microseconds (what the store keeps).
fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + secs, 123_456_000).unwrap()
}

fn user(email: &str) -> UserRow {
    UserRow {
        id: UserId::new(),
        email: email.to_string(),
        name: format!("Name of {email}"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        avatar_url: Some("https://example.com/a.png".into()),
        created_at: t(0),
        updated_at: t(1),
        can_create_projects: false,
        email_verified: false,
    }
}

fn project_row(owner: UserId) -> ProjectRow {
    let id = ProjectId::new();
    ProjectRow {
        id,
        name: "Acme".into(),
        public_key: format!("pk_{id}"),
        secret_key_hash: format!("sk_hash_{id}"),
        allowed_origins: vec!["https://acme.test".into(), "http://localhost:3000".into()],
        owner_id: owner,
        created_at: t(10),
        updated_at: t(11),
    }
}

/// A user who owns a fresh project.
async fn owner_and_project(db: &Db) -> (UserRow, ProjectRow) {
    let owner = user(&format!("owner-{}@acme.test", Uuid::new_v4()));
    db.insert_user(&owner).await.unwrap();
    let p = project_row(owner.id);
    db.create_project(&p, &HandoffSettings::default(), &owner.email, &owner.name)
        .await
        .unwrap();
    (owner, p)
}

fn invitation(project: ProjectId, inviter: UserId, email: &str, role: MemberRole) -> MemberRow {
    MemberRow {
        id: Uuid::new_v4(),
        project_id: project,
        user_id: None,
        email: email.to_string(),
        name: Some("Invitee".into()),
        role,
        status: MemberStatus::Pending,
        invited_by: inviter,
        invited_at: t(20),
        accepted_at: None,
        invite_token_hash: Some(format!("invite-{}", Uuid::new_v4())),
        max_concurrent_chats: 4,
        created_at: t(20),
        updated_at: t(20),
    }
}

/// An agent member of `project`, accepted at t(30), with no ledger row.
async fn agent_member(db: &Db, project: &ProjectRow) -> UserRow {
    let agent = user(&format!("agent-{}@acme.test", Uuid::new_v4()));
    let inv = invitation(
        project.id,
        project.owner_id,
        &agent.email,
        MemberRole::Agent,
    );
    db.insert_member(&inv).await.unwrap();
    db.accept_invite(inv.id, &agent, true, None, t(30))
        .await
        .unwrap();
    agent
}

fn conversation(project: ProjectId, last_message_at: DateTime<Utc>) -> ConversationRecord {
    ConversationRecord {
        id: ConversationId::new(),
        project_id: project,
        customer_id: None,
        visitor_id: format!("v-{}", Uuid::new_v4()),
        customer_email: None,
        customer_email_verified: false,
        customer_name: None,
        status: ConversationStatus::AiActive,
        assigned_agent_id: None,
        handoff_reason: None,
        handoff_triggered_at: None,
        ai_confidence_at_handoff: None,
        trigger_keyword: None,
        ai_messages_before_handoff: 0,
        queue_entered_at: None,
        claimed_at: None,
        first_response_at: None,
        resolved_at: None,
        resolved_by: None,
        closed_at: None,
        satisfaction_rating: None,
        satisfaction_feedback: None,
        customer_presence: CustomerPresence::Offline,
        customer_last_seen_at: None,
        auto_close_warning_sent_at: None,
        source: "widget".into(),
        metadata: json!({}),
        tags: vec![],
        created_at: t(100),
        updated_at: t(100),
        last_message_at,
    }
}

/// A conversation with every optional field set.
fn full_conversation(
    project: ProjectId,
    customer: CustomerId,
    agent: UserId,
) -> ConversationRecord {
    ConversationRecord {
        customer_id: Some(customer),
        customer_email: Some("jane@customer.test".into()),
        customer_email_verified: true,
        customer_name: Some("Jane".into()),
        status: ConversationStatus::Resolved,
        assigned_agent_id: Some(agent),
        handoff_reason: Some("keyword".into()),
        handoff_triggered_at: Some(t(110)),
        ai_confidence_at_handoff: Some(0.42),
        trigger_keyword: Some("human".into()),
        ai_messages_before_handoff: 3,
        queue_entered_at: Some(t(111)),
        claimed_at: Some(t(120)),
        first_response_at: Some(t(125)),
        resolved_at: Some(t(300)),
        resolved_by: Some(agent),
        closed_at: Some(t(400)),
        satisfaction_rating: Some(5),
        satisfaction_feedback: Some("great \"help\" ✓".into()),
        customer_presence: CustomerPresence::Idle,
        customer_last_seen_at: Some(t(290)),
        auto_close_warning_sent_at: Some(t(295)),
        source: "api".into(),
        metadata: json!({"page": "/pricing", "nested": {"n": 1, "list": [1, 2]}}),
        tags: vec!["billing".into(), "vip".into()],
        updated_at: t(401),
        ..conversation(project, t(402))
    }
}

fn message(conv: ConversationId, seq: i64) -> MessageRecord {
    MessageRecord {
        id: MessageId::new(),
        conversation_id: conv,
        seq,
        sender_type: SenderType::Customer,
        sender_id: None,
        content: format!("message {seq}"),
        metadata: json!({}),
        client_msg_id: None,
        internal: false,
        created_at: t(200 + seq),
    }
}

fn agent_record(project: ProjectId, user: &UserRow) -> AgentRecord {
    AgentRecord {
        project_id: project,
        user_id: user.id,
        name: user.name.clone(),
        avatar_url: user.avatar_url.clone(),
        status: AgentStatus::Online,
        max_concurrent_chats: 3,
        current_chat_count: 2,
        last_seen_at: t(500),
        last_assigned_at: Some(t(490)),
        status_changed_at: t(480),
        auto_offline_enabled: false,
        auto_offline_minutes: 45,
    }
}

fn put_conv(c: &ConversationRecord) -> WriteOp {
    WriteOp::PutConversation(Box::new(c.clone()))
}

fn put_msg(m: &MessageRecord) -> WriteOp {
    WriteOp::InsertMessage(Box::new(m.clone()))
}

// ---------------------------------------------------------------- migrations and schema

#[derive(QueryableByName, Debug, PartialEq)]
struct SchemaObject {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

/// Every table and index of a SQLite database but diesel's bookkeeping.
fn sqlite_objects(conn: &mut SqliteConnection) -> Vec<SchemaObject> {
    let query = diesel::sql_query(
        "SELECT type AS kind, name, COALESCE(sql, '') AS sql FROM sqlite_master \
         WHERE name NOT LIKE '__diesel%' AND name NOT LIKE 'sqlite_%' ORDER BY type, name",
    );
    diesel::RunQueryDsl::load(query, conn).unwrap()
}

/// Every table (with its columns, types, nullability and defaults), index
/// and constraint of the PostgreSQL database's current schema but
/// diesel's bookkeeping.
fn pg_objects(conn: &mut PgSync) -> Vec<SchemaObject> {
    let query = diesel::sql_query(
        "SELECT 'table' AS kind, c.relname::text AS name, \
           COALESCE((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) \
                || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END \
                || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), ''), \
                ', ' ORDER BY a.attnum) \
              FROM pg_attribute a \
              LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') AS sql \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind = 'r' \
           AND c.relname NOT LIKE '\\_\\_diesel%' \
         UNION ALL \
         SELECT 'index', indexname::text, indexdef FROM pg_indexes \
         WHERE schemaname = current_schema() AND tablename NOT LIKE '\\_\\_diesel%' \
         UNION ALL \
         SELECT 'constraint', c.relname || '.' || con.conname, pg_get_constraintdef(con.oid) \
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relname NOT LIKE '\\_\\_diesel%' \
         ORDER BY 1, 2",
    );
    diesel::RunQueryDsl::load(query, conn).unwrap()
}

/// The tables schema.rs declares, in its (alphabetical) order.
const TABLES: [&str; 24] = [
    "activity_sessions",
    "agent_availability",
    "auth_tokens",
    "conversations",
    "customers",
    "handoff_settings",
    "identity_codes",
    "instance_emails",
    "knowledge_entries",
    "leads",
    "messages",
    "outbound_emails",
    "payments",
    "project_members",
    "projects",
    "session_messages",
    "session_sms",
    "sessions",
    "staff_email_codes",
    "support_requests",
    "tickets",
    "tool_calls",
    "users",
    "visitors",
];

/// One body for both backends: applies the migrations one at a time, each
/// up, down (the schema as before), up again; then all down (none of our
/// tables left) and all up.
fn check_each_down_undoes_its_up<C, B>(
    conn: &mut C,
    migrations: fn() -> Schema,
    objects: fn(&mut C) -> Vec<SchemaObject>,
) where
    C: MigrationHarness<B>,
    B: diesel::backend::Backend + 'static,
{
    let total = conn.pending_migrations(migrations()).unwrap().len();
    assert!(total >= 4);
    for _ in 0..total {
        let before = objects(conn);
        conn.run_next_migration(migrations()).unwrap();
        let after_up = objects(conn);
        assert_ne!(before, after_up, "a migration changed nothing");
        conn.revert_last_migration(migrations()).unwrap();
        assert_eq!(before, objects(conn), "down did not undo up");
        conn.run_next_migration(migrations()).unwrap();
        assert_eq!(after_up, objects(conn));
    }

    conn.revert_all_migrations(migrations()).unwrap();
    assert_eq!(objects(conn), vec![]);
    conn.run_pending_migrations(migrations()).unwrap();
    let tables: Vec<String> = objects(conn)
        .into_iter()
        .filter(|o| o.kind == "table")
        .map(|o| o.name)
        .collect();
    assert_eq!(tables, TABLES);
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_each_migration_down_undoes_its_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    conn.batch_execute("PRAGMA foreign_keys = ON;").unwrap();
    check_each_down_undoes_its_up(&mut conn, || SQLITE_MIGRATIONS, sqlite_objects);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_each_migration_down_undoes_its_up() {
    let Some(pg) = PgDatabase::create("postgres_each_migration_down_undoes_its_up").await else {
        return;
    };
    with_pg_sync(&pg.url, |conn| {
        check_each_down_undoes_its_up(conn, || POSTGRES_MIGRATIONS, pg_objects)
    })
    .await;
}

/// Accounts as migration 000015 leaves them: `(email, can_create_projects,
/// email_verified)`, by email.
type UserFlags = Vec<(String, bool, bool)>;

#[derive(QueryableByName, Debug)]
struct UserFlagsRow {
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Bool)]
    can_create_projects: bool,
    #[diesel(sql_type = Bool)]
    email_verified: bool,
}

const USER_FLAGS_SQL: &str =
    "SELECT email, can_create_projects, email_verified FROM users ORDER BY email";

fn flags(rows: Vec<UserFlagsRow>) -> UserFlags {
    rows.into_iter()
        .map(|r| (r.email, r.can_create_projects, r.email_verified))
        .collect()
}

fn sqlite_user_flags(conn: &mut SqliteConnection) -> UserFlags {
    flags(diesel::RunQueryDsl::load(diesel::sql_query(USER_FLAGS_SQL), conn).unwrap())
}

fn pg_user_flags(conn: &mut PgSync) -> UserFlags {
    flags(diesel::RunQueryDsl::load(diesel::sql_query(USER_FLAGS_SQL), conn).unwrap())
}

/// Migration 000015 on an instance that has accounts: the first account
/// (the bootstrap admin) and every project owner keep creating projects,
/// the first account's email counts as proven, everyone else starts
/// without either. One body for both backends.
fn check_000015_keeps_an_instance_working<C, B>(
    conn: &mut C,
    migrations: fn() -> Schema,
    user_flags: fn(&mut C) -> UserFlags,
) where
    C: MigrationHarness<B> + SimpleConnection,
    B: diesel::backend::Backend + 'static,
{
    let pending = conn.pending_migrations(migrations()).unwrap();
    let last = pending.last().unwrap().name().to_string();
    assert!(
        last.ends_with("000015_invitations_and_creators"),
        "the last migration is {last}: move this test along"
    );
    for _ in 1..pending.len() {
        conn.run_next_migration(migrations()).unwrap();
    }
    conn.batch_execute(
        "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES \
           ('u-boot', 'boot@acme.test', 'Boot', 'x', '2026-01-01 00:00:00', '2026-01-01 00:00:00'), \
           ('u-owner', 'owner@acme.test', 'Owner', 'x', '2026-01-02 00:00:00', '2026-01-02 00:00:00'), \
           ('u-agent', 'agent@acme.test', 'Agent', 'x', '2026-01-03 00:00:00', '2026-01-03 00:00:00'); \
         INSERT INTO projects (id, name, public_key, secret_key_hash, owner_id, created_at, updated_at) \
           VALUES ('p-1', 'Acme', 'pk_1', 'sk_1', 'u-owner', '2026-01-02 00:00:00', '2026-01-02 00:00:00');",
    )
    .unwrap();
    conn.run_next_migration(migrations()).unwrap();
    let s = |e: &str| e.to_string();
    assert_eq!(
        user_flags(conn),
        vec![
            (s("agent@acme.test"), false, false),
            (s("boot@acme.test"), true, true),
            (s("owner@acme.test"), true, false),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_migration_000015_keeps_an_instance_working() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    conn.batch_execute("PRAGMA foreign_keys = ON;").unwrap();
    check_000015_keeps_an_instance_working(&mut conn, || SQLITE_MIGRATIONS, sqlite_user_flags);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_migration_000015_keeps_an_instance_working() {
    let Some(pg) = PgDatabase::create("postgres_migration_000015_keeps_an_instance_working").await
    else {
        return;
    };
    with_pg_sync(&pg.url, |conn| {
        check_000015_keeps_an_instance_working(conn, || POSTGRES_MIGRATIONS, pg_user_flags)
    })
    .await;
}

/// A table as the check compares it: column names in order with their
/// diesel types (`Nullable<..>` when nullable), and the primary key's
/// columns in order.
#[derive(Debug, PartialEq)]
struct TableShape {
    name: String,
    columns: Vec<(String, String)>,
    primary_key: Vec<String>,
}

/// `(Text, Nullable<Text>, ...)` from the type name of a table's SQL type.
fn split_sql_types(type_name: &str) -> Vec<String> {
    let inner = type_name
        .trim()
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap();
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for ch in inner.chars() {
        match ch {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out.into_iter()
        .map(|s| s.trim().replace("diesel::sql_types::", ""))
        .collect()
}

/// The column names of `SELECT `t`.`a`, `t`.`b` FROM ...` as diesel
/// writes it for SQLite.
fn selected_names(table: &str, select: &str) -> Vec<String> {
    let prefix = format!("`{table}`.`");
    select
        .split(", ")
        .map(|part| {
            let start = part.find(&prefix).unwrap() + prefix.len();
            let rest = &part[start..];
            rest[..rest.find('`').unwrap()].to_string()
        })
        .collect()
}

/// The shape of one table as schema.rs declares it.
macro_rules! declared_shape {
    ($table:ident) => {{
        use diesel::query_builder::AsQuery;
        use schema::$table as tbl;
        let name = stringify!($table);
        let columns = diesel::debug_query::<diesel::sqlite::Sqlite, _>(
            &tbl::table.select(tbl::all_columns).as_query(),
        )
        .to_string();
        let key = diesel::debug_query::<diesel::sqlite::Sqlite, _>(
            &tbl::table
                .select(diesel::Table::primary_key(&tbl::table))
                .as_query(),
        )
        .to_string();
        TableShape {
            name: name.to_string(),
            columns: selected_names(name, &columns)
                .into_iter()
                .zip(split_sql_types(std::any::type_name::<tbl::SqlType>()))
                .collect(),
            primary_key: selected_names(name, &key),
        }
    }};
}

/// The one description of the expected schema: schema.rs, table by table.
/// Both backends' migrated databases must match it.
fn declared_schema() -> Vec<TableShape> {
    let shapes = vec![
        declared_shape!(activity_sessions),
        declared_shape!(agent_availability),
        declared_shape!(auth_tokens),
        declared_shape!(conversations),
        declared_shape!(customers),
        declared_shape!(handoff_settings),
        declared_shape!(identity_codes),
        declared_shape!(instance_emails),
        declared_shape!(knowledge_entries),
        declared_shape!(leads),
        declared_shape!(messages),
        declared_shape!(outbound_emails),
        declared_shape!(payments),
        declared_shape!(project_members),
        declared_shape!(projects),
        declared_shape!(session_messages),
        declared_shape!(session_sms),
        declared_shape!(sessions),
        declared_shape!(staff_email_codes),
        declared_shape!(support_requests),
        declared_shape!(tickets),
        declared_shape!(tool_calls),
        declared_shape!(users),
        declared_shape!(visitors),
    ];
    let names: Vec<&str> = shapes.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, TABLES, "TABLES and declared_schema disagree");
    shapes
}

/// The diesel type print-schema gives a column of this SQL type, on
/// either backend (SQLite's declared type, PostgreSQL's
/// information_schema data_type).
fn diesel_type(column: &str, sql_type: &str, nullable: bool) -> String {
    let base = match sql_type.to_ascii_lowercase().as_str() {
        "text" => "Text",
        "integer" => "Integer",
        "bigint" => "BigInt",
        "boolean" => "Bool",
        "timestamp" | "timestamp without time zone" => "Timestamp",
        "double precision" => "Double",
        other => panic!("column {column} has unexpected type {other}"),
    };
    if nullable {
        format!("Nullable<{base}>")
    } else {
        base.to_string()
    }
}

/// Asserts that the migrated database has exactly schema.rs's tables,
/// each with the same shape.
fn assert_matches_declared(actual: Vec<TableShape>) {
    let declared = declared_schema();
    let names: Vec<&str> = actual.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, TABLES, "tables of the migrated database");
    for (want, got) in declared.iter().zip(&actual) {
        assert_eq!(want, got, "schema.rs vs the migrated {}", want.name);
    }
}

#[derive(QueryableByName, Debug)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    r#type: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

fn sqlite_shapes(conn: &mut SqliteConnection) -> Vec<TableShape> {
    sqlite_objects(conn)
        .into_iter()
        .filter(|o| o.kind == "table")
        .map(|table| {
            let columns: Vec<SqliteColumn> = diesel::RunQueryDsl::load(
                diesel::sql_query(format!("PRAGMA table_info({})", table.name)),
                conn,
            )
            .unwrap();
            let mut key: Vec<(i32, String)> = columns
                .iter()
                .filter(|c| c.pk > 0)
                .map(|c| (c.pk, c.name.clone()))
                .collect();
            key.sort();
            TableShape {
                columns: columns
                    .iter()
                    .map(|c| {
                        (
                            c.name.clone(),
                            diesel_type(&c.name, &c.r#type, c.notnull == 0),
                        )
                    })
                    .collect(),
                primary_key: key.into_iter().map(|(_, n)| n).collect(),
                name: table.name,
            }
        })
        .collect()
}

#[derive(QueryableByName, Debug)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

#[derive(QueryableByName, Debug)]
struct PgName {
    #[diesel(sql_type = Text)]
    name: String,
}

fn pg_shapes(conn: &mut PgSync) -> Vec<TableShape> {
    let tables: Vec<PgName> = diesel::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
               AND table_name NOT LIKE '\\_\\_diesel%' ORDER BY 1",
        ),
        conn,
    )
    .unwrap();
    tables
        .into_iter()
        .map(|table| {
            let columns: Vec<PgColumn> = diesel::RunQueryDsl::load(
                diesel::sql_query(
                    "SELECT column_name::text AS name, data_type::text AS data_type, \
                       is_nullable = 'YES' AS nullable \
                     FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = $1 \
                     ORDER BY ordinal_position",
                )
                .bind::<Text, _>(&table.name),
                conn,
            )
            .unwrap();
            let key: Vec<PgName> = diesel::RunQueryDsl::load(
                diesel::sql_query(
                    "SELECT k.column_name::text AS name \
                     FROM information_schema.table_constraints t \
                     JOIN information_schema.key_column_usage k \
                       ON k.constraint_schema = t.constraint_schema \
                      AND k.constraint_name = t.constraint_name \
                     WHERE t.constraint_type = 'PRIMARY KEY' \
                       AND t.table_schema = current_schema() AND t.table_name = $1 \
                     ORDER BY k.ordinal_position",
                )
                .bind::<Text, _>(&table.name),
                conn,
            )
            .unwrap();
            TableShape {
                columns: columns
                    .iter()
                    .map(|c| {
                        (
                            c.name.clone(),
                            diesel_type(&c.name, &c.data_type, c.nullable),
                        )
                    })
                    .collect(),
                primary_key: key.into_iter().map(|k| k.name).collect(),
                name: table.name,
            }
        })
        .collect()
}

/// schema.rs is hand-kept; this is the check that it matches the SQLite
/// migrations (names, order, types, nullability, primary keys).
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_schema_rs_matches_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    assert_matches_declared(sqlite_shapes(&mut conn));
}

/// The same check against the PostgreSQL migrations, through the store's
/// own migration step (`Db::open_postgres`).
#[tokio::test(flavor = "multi_thread")]
async fn postgres_schema_rs_matches_migrations() {
    let Some((pg, _db)) = fresh_postgres("postgres_schema_rs_matches_migrations").await else {
        return;
    };
    let shapes = with_pg_sync(&pg.url, pg_shapes).await;
    assert_matches_declared(shapes);
}

#[derive(QueryableByName)]
struct PragmaText {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

#[derive(QueryableByName)]
struct PragmaInt {
    #[diesel(sql_type = Integer)]
    v: i32,
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_connections_have_the_pragmas() {
    let (_dir, db) = fresh_sqlite().await;
    let mut conn = db.conn().await.unwrap();
    let c: &mut DbConn = &mut conn;
    let mode: PragmaText = with_conn!(c, |c| diesel::sql_query("PRAGMA journal_mode")
        .get_result(c)
        .await
        .unwrap());
    assert_eq!(mode.journal_mode, "wal");
    for (pragma, expected) in [
        ("SELECT foreign_keys AS v FROM pragma_foreign_keys", 1),
        ("SELECT synchronous AS v FROM pragma_synchronous", 2),
        ("SELECT timeout AS v FROM pragma_busy_timeout", 10_000),
    ] {
        let got: PragmaInt = with_conn!(c, |c| diesel::sql_query(pragma)
            .get_result(c)
            .await
            .unwrap());
        assert_eq!(got.v, expected, "{pragma}");
    }
    drop(conn);
    // The writer connection too.
    let mut w = db.writer().await.unwrap();
    let c: &mut DbConn = &mut w;
    let fk: PragmaInt = with_conn!(c, |c| diesel::sql_query(
        "SELECT foreign_keys AS v FROM pragma_foreign_keys"
    )
    .get_result(c)
    .await
    .unwrap());
    assert_eq!(fk.v, 1);
}

/// One body: a store opened again on the same database keeps its data and
/// finds no migration to apply.
async fn reopening_keeps_data_and_skips_applied_migrations(open: impl AsyncFn() -> Db) {
    let u = user("keep@acme.test");
    {
        let db = open().await;
        db.insert_user(&u).await.unwrap();
    }
    let db = open().await;
    assert_eq!(db.user_by_id(u.id).await.unwrap(), Some(u));
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_reopening_keeps_data_and_skips_applied_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    reopening_keeps_data_and_skips_applied_migrations(async || {
        Db::open_sqlite(&path).await.unwrap()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_reopening_keeps_data_and_skips_applied_migrations() {
    let Some(pg) =
        PgDatabase::create("postgres_reopening_keeps_data_and_skips_applied_migrations").await
    else {
        return;
    };
    reopening_keeps_data_and_skips_applied_migrations(async || {
        Db::open_postgres(&pg.url).await.unwrap()
    })
    .await;
}

/// Servers starting together on one new database: the migrations are
/// applied once (under the advisory lock), every one opens.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_concurrent_opens_migrate_once() {
    let Some(pg) = PgDatabase::create("postgres_concurrent_opens_migrate_once").await else {
        return;
    };
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = pg.url.clone();
            tokio::spawn(async move { Db::open_postgres(&url).await.map(|db| db.backend()) })
        })
        .collect();
    for open in opens {
        assert_eq!(open.await.unwrap().unwrap(), "postgres");
    }
}

/// The message of a failed open, which must be one line without the
/// password.
async fn open_postgres_error(url: &str) -> String {
    match Db::open_postgres(url).await {
        Ok(_) => panic!("{url} opened"),
        Err(StoreError::Backend(message)) => {
            assert!(!message.contains('\n'), "{message:?}");
            assert!(!message.contains("s3cret"), "{message:?}");
            assert!(
                message.starts_with("cannot connect to the PostgreSQL server: "),
                "{message:?}"
            );
            message
        }
        Err(other) => panic!("{other:?}"),
    }
}

/// Nothing listens on port 1: refused at once. On a current-thread
/// runtime, as actix runs.
#[tokio::test(flavor = "current_thread")]
async fn postgres_refused_connection_is_one_line() {
    let started = std::time::Instant::now();
    let message = open_postgres_error("postgres://switchboard:s3cret@127.0.0.1:1/none").await;
    assert!(message.contains("refused"), "{message}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// A server that accepts but never answers: given up after the connect
/// timeout, not hung.
#[tokio::test(flavor = "current_thread")]
async fn postgres_silent_server_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept() {
            held.push(socket);
        }
    });
    let started = std::time::Instant::now();
    let message = open_postgres_error(&format!("postgres://u:s3cret@127.0.0.1:{port}/db")).await;
    assert!(message.contains("no answer"), "{message}");
    let took = started.elapsed();
    assert!(took >= std::time::Duration::from_secs(4), "{took:?}");
    assert!(took < std::time::Duration::from_secs(15), "{took:?}");
}

/// Refused logins and missing databases on a real server.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_bad_role_or_database_is_one_line() {
    let Some(admin) = pg_admin_url("postgres_bad_role_or_database_is_one_line") else {
        return;
    };
    let missing_db = pg_url_with_database(&admin, "sb_store_does_not_exist");
    let message = open_postgres_error(&missing_db).await;
    assert!(message.contains("does not exist"), "{message}");

    let (scheme, rest) = admin.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let message = open_postgres_error(&format!("{scheme}://nobody_here:s3cret@{host}")).await;
    assert!(message.contains("nobody_here"), "{message}");
}

// ---------------------------------------------------------------- commit

async fn commit_is_all_or_nothing(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let conv = conversation(p.id, t(100));
    db.commit(vec![put_conv(&conv), put_msg(&message(conv.id, 1))])
        .await
        .unwrap();

    // A batch whose last op repeats a seq fails whole.
    let mut changed = conv.clone();
    changed.status = ConversationStatus::Waiting;
    changed.queue_entered_at = Some(t(150));
    let other = conversation(p.id, t(101));
    let err = db
        .commit(vec![
            put_conv(&changed),
            put_conv(&other),
            put_msg(&message(conv.id, 2)),
            put_msg(&message(conv.id, 3)),
            put_msg(&message(conv.id, 2)),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    assert_eq!(
        db.load_conversation(conv.id).await.unwrap(),
        Some(conv.clone())
    );
    assert_eq!(db.load_conversation(other.id).await.unwrap(), None);
    assert_eq!(db.last_seq(conv.id).await.unwrap(), 1);

    // The writer is usable after a failed batch.
    db.commit(vec![put_msg(&message(conv.id, 2))])
        .await
        .unwrap();
    assert_eq!(db.last_seq(conv.id).await.unwrap(), 2);
    // An empty batch is a no-op.
    db.commit(vec![]).await.unwrap();
}

async fn commit_fails_on_a_broken_reference_and_writes_nothing(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let conv = conversation(p.id, t(100));
    // A message of a conversation that does not exist: foreign keys are on.
    let err = db
        .commit(vec![
            put_conv(&conv),
            put_msg(&message(ConversationId::new(), 1)),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert_eq!(db.load_conversation(conv.id).await.unwrap(), None);
}

fn touch(c: &ConversationRecord, at: DateTime<Utc>) -> WriteOp {
    WriteOp::TouchConversation {
        id: c.id,
        last_message_at: at,
        updated_at: at,
        customer_presence: CustomerPresence::Online,
        customer_last_seen_at: Some(at),
    }
}

/// A touch moves the activity times forward only: an older one (from
/// before a whole-row write in the same or an earlier batch) changes
/// nothing; several in one batch end at the newest.
async fn touches_only_move_activity_times_forward(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let conv = conversation(p.id, t(100));
    db.commit(vec![put_conv(&conv)]).await.unwrap();

    db.commit(vec![touch(&conv, t(300)), touch(&conv, t(200))])
        .await
        .unwrap();
    let row = db.load_conversation(conv.id).await.unwrap().unwrap();
    assert_eq!((row.last_message_at, row.updated_at), (t(300), t(300)));
    // the presence travels with the newest touch of the batch
    assert_eq!(
        (row.customer_presence, row.customer_last_seen_at),
        (CustomerPresence::Online, Some(t(300)))
    );

    db.commit(vec![touch(&conv, t(250))]).await.unwrap();
    let row = db.load_conversation(conv.id).await.unwrap().unwrap();
    assert_eq!(row.last_message_at, t(300));

    // a whole row written after an older touch in the same batch wins
    let mut resolved = row.clone();
    resolved.status = ConversationStatus::Waiting;
    resolved.queue_entered_at = Some(t(400));
    resolved.last_message_at = t(400);
    resolved.updated_at = t(400);
    db.commit(vec![touch(&conv, t(350)), put_conv(&resolved)])
        .await
        .unwrap();
    assert_eq!(
        db.load_conversation(conv.id).await.unwrap(),
        Some(resolved.clone())
    );
    // and a newer touch after the whole row moves the times on
    db.commit(vec![put_conv(&resolved), touch(&conv, t(500))])
        .await
        .unwrap();
    let row = db.load_conversation(conv.id).await.unwrap().unwrap();
    assert_eq!(
        (row.status, row.last_message_at),
        (ConversationStatus::Waiting, t(500))
    );
}

/// The index a restored conversation starts from: every client_msg_id
/// (old ones too, beyond the recent log) and the count of AI messages.
async fn message_index_covers_the_whole_history(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let conv = conversation(p.id, t(100));
    let other = conversation(p.id, t(100));
    let mut ops = vec![put_conv(&conv), put_conv(&other)];
    for seq in 1..=6 {
        let mut m = message(conv.id, seq);
        if seq % 2 == 0 {
            m.client_msg_id = Some(format!("c{seq}"));
        }
        if seq > 4 {
            m.sender_type = SenderType::Ai;
        }
        ops.push(put_msg(&m));
    }
    let mut elsewhere = message(other.id, 1);
    elsewhere.client_msg_id = Some("c9".into());
    elsewhere.sender_type = SenderType::Ai;
    ops.push(put_msg(&elsewhere));
    db.commit(ops).await.unwrap();

    let mut index = db.load_message_index(conv.id).await.unwrap();
    index.client_ids.sort();
    assert_eq!(
        index.client_ids,
        vec![("c2".into(), 2), ("c4".into(), 4), ("c6".into(), 6)]
    );
    assert_eq!(index.ai_messages, 2);
    let empty = db.load_message_index(ConversationId::new()).await.unwrap();
    assert_eq!(empty, Default::default());
}

async fn put_ops_upsert(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    let customer = db
        .touch_customer(p.id, "visitor-1", t(90), &CustomerContext::default())
        .await
        .unwrap();

    // Conversation: inserted, then replaced whole (options back to None too).
    let full = full_conversation(p.id, customer.id, owner.id);
    db.commit(vec![put_conv(&full)]).await.unwrap();
    assert_eq!(
        db.load_conversation(full.id).await.unwrap(),
        Some(full.clone())
    );
    let reopened = ConversationRecord {
        id: full.id,
        status: ConversationStatus::AiActive,
        ..conversation(p.id, t(999))
    };
    db.commit(vec![put_conv(&reopened), put_conv(&reopened)])
        .await
        .unwrap();
    // All but customer_id, which after creation only a customer merge
    // moves (store/customers.rs).
    assert_eq!(
        db.load_conversation(full.id).await.unwrap(),
        Some(ConversationRecord {
            customer_id: Some(customer.id),
            ..reopened.clone()
        })
    );

    // Agent ledger: inserted, then replaced.
    let agent = agent_member(&db, &p).await;
    let mut a = agent_record(p.id, &agent);
    db.commit(vec![WriteOp::PutAgent(Box::new(a.clone()))])
        .await
        .unwrap();
    a.status = AgentStatus::Away;
    a.current_chat_count = 0;
    a.max_concurrent_chats = 7;
    a.last_assigned_at = None;
    db.commit(vec![WriteOp::PutAgent(Box::new(a.clone()))])
        .await
        .unwrap();
    assert_eq!(db.load_agents(p.id).await.unwrap(), vec![a.clone()]);

    // The ledger keeps its CHECK: more chats than the limit is refused.
    let mut over = a.clone();
    over.current_chat_count = 8;
    assert!(db
        .commit(vec![WriteOp::PutAgent(Box::new(over))])
        .await
        .is_err());
    assert_eq!(db.load_agents(p.id).await.unwrap(), vec![a]);

    // Settings: the project's row is replaced, its creation time kept.
    let s = HandoffSettings {
        enabled: true,
        default_max_concurrent_chats: 9,
        ..HandoffSettings::default()
    };
    db.commit(vec![WriteOp::PutSettings {
        project_id: p.id,
        settings: Box::new(s.clone()),
        at: t(600),
    }])
    .await
    .unwrap();
    let snap = db.load_project(p.id).await.unwrap().unwrap();
    assert_eq!(snap.settings, s);
    let mut conn = db.conn().await.unwrap();
    let row = super::queries::settings(&mut conn, &p.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.created_at, super::rows::ts(p.created_at));
    assert_eq!(row.updated_at, super::rows::ts(t(600)));
}

// ---------------------------------------------------------------- round trips

async fn users_and_tokens_round_trip(db: Db) {
    assert_eq!(db.count_users().await.unwrap(), 0);
    let u = user("Mixed.Case@Acme.Test");
    db.insert_user(&u).await.unwrap();
    assert_eq!(db.count_users().await.unwrap(), 1);
    let stored = UserRow {
        email: "mixed.case@acme.test".into(),
        ..u.clone()
    };
    assert_eq!(db.user_by_id(u.id).await.unwrap(), Some(stored.clone()));
    assert_eq!(
        db.user_by_email("MIXED.case@acme.test").await.unwrap(),
        Some(stored)
    );
    assert_eq!(db.user_by_email("nobody@acme.test").await.unwrap(), None);
    assert_eq!(db.user_by_id(UserId::new()).await.unwrap(), None);

    // Duplicate email (any case) is a conflict.
    let dup = UserRow {
        id: UserId::new(),
        ..user("mixed.case@ACME.test")
    };
    assert!(matches!(
        db.insert_user(&dup).await,
        Err(StoreError::Conflict(_))
    ));

    let staff = TokenRow {
        token_hash: "a".repeat(64),
        kind: TokenKind::Staff,
        user_id: Some(u.id),
        project_id: None,
        visitor_id: None,
        customer_id: None,
        expires_at: t(86_400),
        created_at: t(5),
    };
    let customer = TokenRow {
        token_hash: "b".repeat(64),
        kind: TokenKind::Customer,
        user_id: None,
        project_id: Some(ProjectId::new()),
        visitor_id: Some("visitor-9".into()),
        customer_id: Some(CustomerId::new()),
        expires_at: t(86_400),
        created_at: t(6),
    };
    db.insert_token(&staff).await.unwrap();
    db.insert_token(&customer).await.unwrap();
    assert_eq!(
        db.token(&staff.token_hash).await.unwrap(),
        Some(staff.clone())
    );
    assert_eq!(
        db.token(&customer.token_hash).await.unwrap(),
        Some(customer.clone())
    );
    assert!(matches!(
        db.insert_token(&staff).await,
        Err(StoreError::Conflict(_))
    ));
    db.delete_token(&staff.token_hash).await.unwrap();
    db.delete_token(&staff.token_hash).await.unwrap();
    assert_eq!(db.token(&staff.token_hash).await.unwrap(), None);
    assert!(db.token(&customer.token_hash).await.unwrap().is_some());
}

async fn projects_round_trip(db: Db) {
    let owner = user("owner@acme.test");
    db.insert_user(&owner).await.unwrap();
    let p = project_row(owner.id);
    let settings = HandoffSettings {
        default_max_concurrent_chats: 6,
        ..HandoffSettings::default()
    };
    db.create_project(&p, &settings, "Owner@Acme.test", "The Owner")
        .await
        .unwrap();

    assert_eq!(db.project(p.id).await.unwrap(), Some(p.clone()));
    assert_eq!(
        db.project_by_public_key(&p.public_key).await.unwrap(),
        Some(p.clone())
    );
    assert_eq!(
        db.project_by_secret_hash(&p.secret_key_hash).await.unwrap(),
        Some(p.clone())
    );
    assert_eq!(db.project_by_public_key("nope").await.unwrap(), None);
    assert_eq!(db.project(ProjectId::new()).await.unwrap(), None);
    assert_eq!(
        db.projects_of_user(owner.id).await.unwrap(),
        vec![(p.clone(), "admin".to_string())]
    );
    assert_eq!(db.list_project_ids().await.unwrap(), vec![p.id]);
    let snap = db.load_project(p.id).await.unwrap().unwrap();
    assert_eq!((snap.id, snap.name.as_str()), (p.id, "Acme"));
    assert_eq!(snap.settings, settings);

    // The owner is an active admin member.
    let m = db.membership(p.id, owner.id).await.unwrap().unwrap();
    assert_eq!(m.role, MemberRole::Admin);
    assert_eq!(m.status, MemberStatus::Active);
    assert_eq!(m.email, "owner@acme.test");
    assert_eq!(m.name.as_deref(), Some("The Owner"));
    assert_eq!(m.max_concurrent_chats, 6);
    assert_eq!(m.accepted_at, Some(p.created_at));

    // The whole creation is one transaction: a taken public key leaves no
    // trace of the second project.
    let mut clash = project_row(owner.id);
    clash.public_key = p.public_key.clone();
    assert!(matches!(
        db.create_project(&clash, &settings, &owner.email, &owner.name)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(db.list_project_ids().await.unwrap(), vec![p.id]);
    assert_eq!(db.members(clash.id).await.unwrap(), vec![]);
}

async fn handoff_settings_round_trip_with_every_field_changed(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let mut s = HandoffSettings {
        enabled: true,
        trigger_mode: TriggerMode::Manual,
        show_human_button: true,
        business_hours_enabled: true,
        timezone: "Europe/Berlin".into(),
        default_max_concurrent_chats: 12,
        inactivity_timeout_minutes: 7,
        auto_close_after_warning_minutes: 8,
        session_keep_alive_minutes: 30,
        send_inactivity_warning: false,
        ..HandoffSettings::default()
    };
    s.auto_triggers.low_confidence_enabled = false;
    s.auto_triggers.low_confidence_threshold = 0.35;
    s.auto_triggers.keywords_enabled = false;
    s.auto_triggers.keywords = vec!["operator".into(), "mensch \"echt\"".into()];
    s.business_hours.monday.start = "08:30".into();
    s.business_hours.friday.enabled = false;
    s.business_hours.sunday.enabled = true;
    s.business_hours.sunday.end = "12:00".into();
    assert_ne!(s, HandoffSettings::default());
    db.commit(vec![WriteOp::PutSettings {
        project_id: p.id,
        settings: Box::new(s.clone()),
        at: t(50),
    }])
    .await
    .unwrap();
    assert_eq!(db.load_project(p.id).await.unwrap().unwrap().settings, s);
    assert!(db.load_project(ProjectId::new()).await.unwrap().is_none());
}

async fn members_and_invitations(db: Db) {
    let (owner, p) = owner_and_project(&db).await;

    let inv = invitation(p.id, owner.id, "New.Agent@acme.test", MemberRole::Agent);
    db.insert_member(&inv).await.unwrap();
    let stored = MemberRow {
        email: "new.agent@acme.test".into(),
        ..inv.clone()
    };
    let hash = inv.invite_token_hash.clone().unwrap();
    assert_eq!(
        db.member_by_invite_hash(&hash).await.unwrap(),
        Some(stored.clone())
    );
    // Same email in the same project again: conflict.
    let again = MemberRow {
        id: Uuid::new_v4(),
        invite_token_hash: Some("other".into()),
        ..invitation(p.id, owner.id, "new.agent@ACME.test", MemberRole::Admin)
    };
    assert!(matches!(
        db.insert_member(&again).await,
        Err(StoreError::Conflict(_))
    ));

    // Accepting: new user, member active, hash cleared, ledger row written.
    let agent = user("new.agent@acme.test");
    let ledger = AgentRecord {
        max_concurrent_chats: 4,
        current_chat_count: 0,
        status: AgentStatus::Offline,
        ..agent_record(p.id, &agent)
    };
    db.accept_invite(inv.id, &agent, true, Some(&ledger), t(40))
        .await
        .unwrap();
    assert_eq!(db.user_by_id(agent.id).await.unwrap(), Some(agent.clone()));
    assert_eq!(db.member_by_invite_hash(&hash).await.unwrap(), None);
    let m = db.membership(p.id, agent.id).await.unwrap().unwrap();
    assert_eq!(
        m,
        MemberRow {
            user_id: Some(agent.id),
            status: MemberStatus::Active,
            accepted_at: Some(t(40)),
            invite_token_hash: None,
            updated_at: t(40),
            ..stored.clone()
        }
    );
    assert_eq!(db.load_agents(p.id).await.unwrap(), vec![ledger]);
    // A second accept finds no pending invitation.
    assert!(matches!(
        db.accept_invite(inv.id, &agent, false, None, t(41)).await,
        Err(StoreError::NotFound)
    ));

    // Accepting with an email that is taken rolls everything back.
    let inv2 = invitation(p.id, owner.id, "second@acme.test", MemberRole::Agent);
    db.insert_member(&inv2).await.unwrap();
    let taken = UserRow {
        id: UserId::new(),
        ..user(&owner.email)
    };
    assert!(matches!(
        db.accept_invite(inv2.id, &taken, true, None, t(42)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        db.member_by_invite_hash(inv2.invite_token_hash.as_deref().unwrap())
            .await
            .unwrap()
            .map(|m| m.status),
        Some(MemberStatus::Pending)
    );

    // An existing user accepting.
    let existing = user("second@acme.test");
    db.insert_user(&existing).await.unwrap();
    db.accept_invite(inv2.id, &existing, false, None, t(43))
        .await
        .unwrap();
    assert!(db.membership(p.id, existing.id).await.unwrap().is_some());

    let all = db.members(p.id).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].user_id, Some(owner.id));
    assert_eq!(
        db.projects_of_user(agent.id).await.unwrap(),
        vec![(p.clone(), "agent".to_string())]
    );

    db.set_agent_max(p.id, agent.id, 11).await.unwrap();
    assert_eq!(
        db.membership(p.id, agent.id)
            .await
            .unwrap()
            .unwrap()
            .max_concurrent_chats,
        11
    );
    assert!(matches!(
        db.set_agent_max(p.id, UserId::new(), 3).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(db.membership(p.id, UserId::new()).await.unwrap(), None);
}

async fn load_agents_for_a_member_without_a_ledger_row(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    let agent = agent_member(&db, &p).await;
    // The owner is an admin, not an agent: not listed.
    assert_eq!(
        db.load_agents(p.id).await.unwrap(),
        vec![AgentRecord {
            project_id: p.id,
            user_id: agent.id,
            name: agent.name.clone(),
            avatar_url: agent.avatar_url.clone(),
            status: AgentStatus::Offline,
            max_concurrent_chats: 4,
            current_chat_count: 0,
            last_seen_at: t(30),
            last_assigned_at: None,
            status_changed_at: t(30),
            auto_offline_enabled: true,
            auto_offline_minutes: 30,
        }]
    );
    assert!(db
        .load_agents(p.id)
        .await
        .unwrap()
        .iter()
        .all(|a| a.user_id != owner.id));
    // A pending invitation is not an agent yet.
    db.insert_member(&invitation(
        p.id,
        owner.id,
        "later@acme.test",
        MemberRole::Agent,
    ))
    .await
    .unwrap();
    assert_eq!(db.load_agents(p.id).await.unwrap().len(), 1);
}

async fn knowledge_round_trip(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let (_owner2, p2) = owner_and_project(&db).await;
    let k1 = KnowledgeRow {
        id: KnowledgeId::new(),
        project_id: p.id,
        question: "How do I reset my password?".into(),
        answer: "Use the link on the sign-in page.".into(),
        created_at: t(2),
    };
    let k0 = KnowledgeRow {
        id: KnowledgeId::new(),
        question: "Refunds?".into(),
        answer: "Within 30 days.".into(),
        created_at: t(1),
        ..k1.clone()
    };
    db.insert_knowledge(&k1).await.unwrap();
    db.insert_knowledge(&k0).await.unwrap();
    assert_eq!(
        db.knowledge(p.id).await.unwrap(),
        vec![k0.clone(), k1.clone()]
    );
    assert_eq!(db.knowledge(p2.id).await.unwrap(), vec![]);
    // Deleting needs the right project.
    assert!(!db.delete_knowledge(p2.id, k0.id).await.unwrap());
    assert!(db.delete_knowledge(p.id, k0.id).await.unwrap());
    assert!(!db.delete_knowledge(p.id, k0.id).await.unwrap());
    assert_eq!(db.knowledge(p.id).await.unwrap(), vec![k1]);
}

async fn customers_are_touched_and_found_by_merged_visitor_ids(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    let ctx = CustomerContext {
        browser: Some("Firefox".into()),
        device: Some("desktop".into()),
        os: Some("Linux".into()),
        page_url: Some("https://acme.test/pricing".into()),
        referrer: Some("https://search.test".into()),
        timezone: Some("Europe/Paris".into()),
        language: Some("fr-FR".into()),
    };
    let first = db.touch_customer(p.id, "v_1%", t(1), &ctx).await.unwrap();
    assert_eq!(first.visitor_id, "v_1%");
    assert_eq!(first.total_conversations, 1);
    assert_eq!((first.first_seen_at, first.last_seen_at), (t(1), t(1)));
    assert_eq!(first.last_browser.as_deref(), Some("Firefox"));
    assert_eq!(first.last_language.as_deref(), Some("fr-FR"));
    assert_eq!(
        db.customer(p.id, first.id).await.unwrap(),
        Some(first.clone())
    );

    // Again: same row, counted, seen later, None keeps the old context.
    let partial = CustomerContext {
        page_url: Some("https://acme.test/docs".into()),
        ..CustomerContext::default()
    };
    let second = db
        .touch_customer(p.id, "v_1%", t(5), &partial)
        .await
        .unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.total_conversations, 2);
    assert_eq!((second.first_seen_at, second.last_seen_at), (t(1), t(5)));
    assert_eq!(
        second.last_page_url.as_deref(),
        Some("https://acme.test/docs")
    );
    assert_eq!(second.last_browser.as_deref(), Some("Firefox"));

    // A customer with every field set, found through a merged visitor id.
    let full = CustomerRow {
        id: CustomerId::new(),
        project_id: p.id,
        visitor_id: "v-main".into(),
        email: Some("jane@customer.test".into()),
        email_verified: true,
        name: Some("Jane".into()),
        merged_visitor_ids: vec!["v-phone".into(), "v-tablet".into()],
        first_seen_at: t(0),
        last_seen_at: t(3),
        total_conversations: 4,
        last_browser: Some("Safari".into()),
        last_device: Some("mobile".into()),
        last_os: Some("iOS".into()),
        last_page_url: Some("https://acme.test/".into()),
        last_location: Some("Lyon, France".into()),
        last_timezone: Some("Europe/Paris".into()),
        last_language: Some("fr".into()),
        last_referrer: Some("https://ref.test".into()),
        is_flagged: true,
        flag_reason: Some("abuse".into()),
        flagged_at: Some(t(2)),
        flagged_by: Some(owner.id),
        internal_notes: Some("prefers email".into()),
        created_at: t(0),
        updated_at: t(3),
    };
    {
        let mut conn = db.conn().await.unwrap();
        super::queries::insert_customer(
            &mut conn,
            &super::rows::DbCustomer::from_row(&full).unwrap(),
        )
        .await
        .unwrap();
    }
    assert_eq!(
        db.customer(p.id, full.id).await.unwrap(),
        Some(full.clone())
    );
    // "v-pho" is a prefix of a merged id, not one of them: a new customer.
    let other = db
        .touch_customer(p.id, "v-pho", t(6), &CustomerContext::default())
        .await
        .unwrap();
    assert_ne!(other.id, full.id);
    let merged = db
        .touch_customer(p.id, "v-tablet", t(7), &CustomerContext::default())
        .await
        .unwrap();
    assert_eq!(
        merged,
        CustomerRow {
            last_seen_at: t(7),
            updated_at: t(7),
            total_conversations: 5,
            ..full.clone()
        }
    );
    // Another project's customer is not visible.
    let (_o2, p2) = owner_and_project(&db).await;
    assert_eq!(db.customer(p2.id, full.id).await.unwrap(), None);
    let elsewhere = db
        .touch_customer(p2.id, "v-tablet", t(8), &CustomerContext::default())
        .await
        .unwrap();
    assert_ne!(elsewhere.id, full.id);
}

async fn conversations_and_messages_round_trip(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    let customer = db
        .touch_customer(p.id, "visitor-1", t(90), &CustomerContext::default())
        .await
        .unwrap();
    let full = full_conversation(p.id, customer.id, owner.id);
    let live = conversation(p.id, t(100));
    let closed = ConversationRecord {
        status: ConversationStatus::Closed,
        closed_at: Some(t(101)),
        ..conversation(p.id, t(101))
    };
    let msg = MessageRecord {
        sender_type: SenderType::Agent,
        sender_id: Some(owner.id),
        content: "Hello — how can I help? 👋".into(),
        metadata: json!({"confidence": 0.85, "sources": ["faq:1"]}),
        client_msg_id: Some("client-1".into()),
        internal: true,
        ..message(full.id, 1)
    };
    db.commit(vec![
        put_conv(&full),
        put_conv(&live),
        put_conv(&closed),
        put_msg(&msg),
    ])
    .await
    .unwrap();
    assert_eq!(
        db.load_conversation(full.id).await.unwrap(),
        Some(full.clone())
    );
    assert_eq!(
        db.load_conversation(ConversationId::new()).await.unwrap(),
        None
    );
    let mut live_ids: Vec<ConversationId> = db
        .load_live_conversations(p.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    live_ids.sort();
    let mut expected = vec![full.id, live.id];
    expected.sort();
    assert_eq!(live_ids, expected);
    assert_eq!(db.load_messages(full.id, 0, 10).await.unwrap(), vec![msg]);
}

async fn messages_by_seq_and_client_id(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let a = conversation(p.id, t(100));
    let b = conversation(p.id, t(100));
    assert_eq!(db.last_seq(a.id).await.unwrap(), 0);
    let mut ops = vec![put_conv(&a), put_conv(&b)];
    let msgs: Vec<MessageRecord> = (1..=5)
        .map(|seq| MessageRecord {
            client_msg_id: (seq % 2 == 1).then(|| format!("c-{seq}")),
            ..message(a.id, seq)
        })
        .collect();
    ops.extend(msgs.iter().map(put_msg));
    // The same client id in another conversation is fine.
    let in_b = MessageRecord {
        client_msg_id: Some("c-1".into()),
        ..message(b.id, 1)
    };
    ops.push(put_msg(&in_b));
    db.commit(ops).await.unwrap();

    assert_eq!(db.last_seq(a.id).await.unwrap(), 5);
    assert_eq!(db.load_messages(a.id, 0, 100).await.unwrap(), msgs);
    assert_eq!(
        db.load_messages(a.id, 2, 2).await.unwrap(),
        msgs[2..4].to_vec()
    );
    assert_eq!(db.load_messages(a.id, 5, 10).await.unwrap(), vec![]);
    assert_eq!(
        db.load_recent_messages(a.id, 2).await.unwrap(),
        msgs[3..].to_vec()
    );
    assert_eq!(db.load_recent_messages(a.id, 50).await.unwrap(), msgs);

    assert_eq!(
        db.find_message_by_client_id(a.id, "c-3").await.unwrap(),
        Some(msgs[2].clone())
    );
    assert_eq!(
        db.find_message_by_client_id(b.id, "c-1").await.unwrap(),
        Some(in_b)
    );
    assert_eq!(
        db.find_message_by_client_id(a.id, "c-2").await.unwrap(),
        None
    );
    // A repeated client id in the same conversation is a conflict.
    let dup = MessageRecord {
        client_msg_id: Some("c-3".into()),
        ..message(a.id, 6)
    };
    assert!(matches!(
        db.commit(vec![put_msg(&dup)]).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn list_conversations_pages_newest_first(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    let (_owner2, p2) = owner_and_project(&db).await;
    let customer = db
        .touch_customer(p.id, "visitor-1", t(90), &CustomerContext::default())
        .await
        .unwrap();
    // Seven conversations; three share one last_message_at (ties by id).
    let mut convs: Vec<ConversationRecord> = [5, 1, 3, 3, 3, 7, 2]
        .into_iter()
        .map(|s| conversation(p.id, t(1000 + s)))
        .collect();
    convs[1].status = ConversationStatus::Waiting;
    convs[2].assigned_agent_id = Some(owner.id);
    convs[2].status = ConversationStatus::AgentActive;
    convs[3].customer_id = Some(customer.id);
    let foreign = conversation(p2.id, t(2000));
    let mut ops: Vec<WriteOp> = convs.iter().map(put_conv).collect();
    ops.push(put_conv(&foreign));
    db.commit(ops).await.unwrap();

    let mut expected = convs.clone();
    expected.sort_by(|x, y| {
        (y.last_message_at, y.id.to_string()).cmp(&(x.last_message_at, x.id.to_string()))
    });

    let mut filter = ConversationFilter {
        project_ids: vec![p.id],
        status: None,
        assigned_to: None,
        customer_id: None,
        cursor: None,
        limit: 3,
    };
    let mut pages = Vec::new();
    loop {
        let page = db.list_conversations(&filter).await.unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        filter.cursor = Some((last.last_message_at, last.id));
        pages.push(page.len());
        expected
            .iter()
            .skip(pages.iter().sum::<usize>() - page.len())
            .zip(&page)
            .for_each(|(e, g)| assert_eq!(e, g));
    }
    assert_eq!(pages, vec![3, 3, 1]);

    let only = |f: ConversationFilter| {
        let db = db.clone();
        async move {
            db.list_conversations(&f)
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        }
    };
    let base = ConversationFilter {
        cursor: None,
        limit: 50,
        ..filter.clone()
    };
    assert_eq!(
        only(ConversationFilter {
            status: Some(ConversationStatus::Waiting),
            ..base.clone()
        })
        .await,
        vec![convs[1].id]
    );
    assert_eq!(
        only(ConversationFilter {
            assigned_to: Some(owner.id),
            ..base.clone()
        })
        .await,
        vec![convs[2].id]
    );
    assert_eq!(
        only(ConversationFilter {
            customer_id: Some(customer.id),
            ..base.clone()
        })
        .await,
        vec![convs[3].id]
    );
    assert_eq!(
        only(ConversationFilter {
            project_ids: vec![p.id, p2.id],
            ..base.clone()
        })
        .await
        .len(),
        8
    );
    assert_eq!(
        only(ConversationFilter {
            project_ids: vec![],
            ..base.clone()
        })
        .await,
        vec![]
    );
}

async fn average_handling_time(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    assert_eq!(db.avg_handling_minutes(p.id, t(0)).await.unwrap(), None);
    let handled = |claimed: i64, resolved: i64| ConversationRecord {
        status: ConversationStatus::Resolved,
        assigned_agent_id: Some(owner.id),
        claimed_at: Some(t(claimed)),
        resolved_at: Some(t(resolved)),
        ..conversation(p.id, t(resolved))
    };
    let unclaimed = ConversationRecord {
        resolved_at: Some(t(5000)),
        ..conversation(p.id, t(5000))
    };
    db.commit(vec![
        put_conv(&handled(1000, 1600)), // 10 min
        put_conv(&handled(2000, 3800)), // 30 min
        put_conv(&handled(0, 60)),      // before `since`
        put_conv(&unclaimed),           // never claimed
    ])
    .await
    .unwrap();
    let avg = db
        .avg_handling_minutes(p.id, t(100))
        .await
        .unwrap()
        .unwrap();
    assert!((avg - 20.0).abs() < 1e-9, "{avg}");
    assert_eq!(
        db.avg_handling_minutes(p.id, t(100) + Duration::days(1))
            .await
            .unwrap(),
        None
    );
}

async fn concurrent_commits_and_http_writes_do_not_lock_each_other_out(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let conv = conversation(p.id, t(i));
            let mut ops = vec![put_conv(&conv)];
            ops.extend((1..=20).map(|s| put_msg(&message(conv.id, s))));
            db.commit(ops).await.unwrap();
            db.touch_customer(p.id, &format!("v{i}"), t(i), &CustomerContext::default())
                .await
                .unwrap();
            db.insert_knowledge(&KnowledgeRow {
                id: KnowledgeId::new(),
                project_id: p.id,
                question: format!("q{i}"),
                answer: "a".into(),
                created_at: t(i),
            })
            .await
            .unwrap();
            conv.id
        }));
    }
    for task in tasks {
        let id = task.await.unwrap();
        assert_eq!(db.last_seq(id).await.unwrap(), 20);
    }
    assert_eq!(db.knowledge(p.id).await.unwrap().len(), 8);
}

// ---------------------------------------------------------------- cancellation

/// Counts the panics raised on the calling thread from now on, caught ones
/// included (the hook sees a panic before any `catch_unwind` does).
fn count_panics_on_this_thread() -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let me = std::thread::current().id();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == me {
            seen.fetch_add(1, Ordering::SeqCst);
        }
        previous(info);
    }));
    count
}

/// A call dropped mid-query (actix drops a handler when its client goes
/// away or another extractor fails; an actor stops) leaves the pool and the
/// writer usable: the query finishes in its own task and its connection
/// goes back idle, with no panic anywhere. On a current-thread runtime, as
/// actix runs.
async fn dropped_calls_leave_the_pool_and_the_writer_usable(db: Db) {
    let panics = count_panics_on_this_thread();
    let (_owner, p) = owner_and_project(&db).await;
    let conv = conversation(p.id, t(100));
    let users = db.count_users().await.unwrap();

    // Each call is polled once (so its query is under way) and dropped.
    for i in 0..4 {
        let mut read = std::pin::pin!(db.count_users());
        assert!(futures::poll!(&mut read).is_pending());
        let (visitor, ctx) = (format!("v{i}"), CustomerContext::default());
        let mut transaction = std::pin::pin!(db.touch_customer(p.id, &visitor, t(i), &ctx));
        assert!(futures::poll!(&mut transaction).is_pending());
        let mut commit = std::pin::pin!(db.commit(vec![put_conv(&conv)]));
        assert!(futures::poll!(&mut commit).is_pending());
    }

    for _ in 0..20 {
        assert_eq!(db.count_users().await.unwrap(), users);
    }
    let other = conversation(p.id, t(101));
    db.commit(vec![put_conv(&other)]).await.unwrap();
    assert_eq!(db.load_conversation(other.id).await.unwrap(), Some(other));
    assert_eq!(
        std::sync::atomic::AtomicUsize::load(&panics, std::sync::atomic::Ordering::SeqCst),
        0,
        "a panic was raised (and maybe caught) on the test thread"
    );
    // The dropped commits ran to completion all the same.
    assert_eq!(db.load_conversation(conv.id).await.unwrap(), Some(conv));
}

// ---------------------------------------------------------------- backend parity

/// Times keep microseconds and drop the rest, on both backends alike
/// (PostgreSQL keeps microseconds; the store truncates before writing).
async fn times_keep_microseconds(db: Db) {
    let precise = DateTime::from_timestamp(1_800_000_000, 123_456_789).unwrap();
    let u = UserRow {
        created_at: precise,
        updated_at: precise,
        ..user("precise@acme.test")
    };
    db.insert_user(&u).await.unwrap();
    let stored = db.user_by_id(u.id).await.unwrap().unwrap();
    let micros = DateTime::from_timestamp(1_800_000_000, 123_456_000).unwrap();
    assert_eq!((stored.created_at, stored.updated_at), (micros, micros));
}

/// Visits of one visitor at the same moment find or create one customer
/// and count every visit (SQLite: one writer at a time; PostgreSQL: the
/// transaction's advisory lock).
async fn concurrent_touches_make_one_customer(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.touch_customer(p.id, "same-visitor", t(i), &CustomerContext::default())
                    .await
                    .unwrap()
                    .id
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let customer = db.customer(p.id, ids[0]).await.unwrap().unwrap();
    assert_eq!(customer.total_conversations, 12);
}

// ---------------------------------------------------------------- on both backends

/// Declares each behaviour test above twice: `sqlite::<name>` on a fresh
/// SQLite file, `postgres::<name>` on a fresh PostgreSQL database (skipped
/// without `SWITCHBOARD_TEST_PG_URL`), on a runtime of the given flavor.
macro_rules! on_both_backends {
    ($($flavor:tt: [$($name:ident),* $(,)?]),* $(,)?) => {
        mod sqlite {
            $($(
                #[tokio::test(flavor = $flavor)]
                async fn $name() {
                    let (_dir, db) = super::fresh_sqlite().await;
                    super::$name(db).await;
                }
            )*)*
        }
        mod postgres {
            $($(
                #[tokio::test(flavor = $flavor)]
                async fn $name() {
                    let Some((_pg, db)) = super::fresh_postgres(stringify!($name)).await else {
                        return;
                    };
                    super::$name(db).await;
                }
            )*)*
        }
    };
}

on_both_backends! {
    "multi_thread": [
        commit_is_all_or_nothing,
        commit_fails_on_a_broken_reference_and_writes_nothing,
        touches_only_move_activity_times_forward,
        message_index_covers_the_whole_history,
        put_ops_upsert,
        users_and_tokens_round_trip,
        projects_round_trip,
        handoff_settings_round_trip_with_every_field_changed,
        members_and_invitations,
        load_agents_for_a_member_without_a_ledger_row,
        knowledge_round_trip,
        customers_are_touched_and_found_by_merged_visitor_ids,
        conversations_and_messages_round_trip,
        messages_by_seq_and_client_id,
        list_conversations_pages_newest_first,
        average_handling_time,
        concurrent_commits_and_http_writes_do_not_lock_each_other_out,
        times_keep_microseconds,
        concurrent_touches_make_one_customer,
    ],
    // As actix runs its workers and actors.
    "current_thread": [dropped_calls_leave_the_pool_and_the_writer_usable],
}

/// Customer identity's store tests, on both backends.
mod customers;

/// Visitor secrets, one-time codes and identity secrets, on both backends.
mod identity;

/// Billable sessions' store tests, on both backends.
mod sessions;

/// Leads and the email outbox, on both backends.
mod leads;

/// An agent's day, on both backends.
mod stats;

/// The activity explorer, on both backends (counts, and index use on a
/// large data set).
mod activity;
