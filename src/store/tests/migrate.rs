//! Per backend: each migration's down undoes its up, schema.rs matches the
//! migrated database (from one description of the expected schema),
//! opening a store (pragmas, reopening, concurrent opens) and the one-line
//! errors of connecting to PostgreSQL.

use super::*;

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

/// SQLite's message search index (migration 000019): an FTS5 virtual
/// table and its shadow tables, which no query reaches through schema.rs.
fn is_search_index(name: &str) -> bool {
    name.starts_with("messages_fts")
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
const TABLES: [&str; 25] = [
    "activity_sessions",
    "agent_availability",
    "auth_tokens",
    "canned_responses",
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
        .filter(|o| o.kind == "table" && !is_search_index(&o.name))
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
    let Some(pg) = empty_postgres("postgres_each_migration_down_undoes_its_up").await else {
        return;
    };
    with_pg_sync(pg.url(), |conn| {
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
    // Up to just before 000015, whatever comes after it.
    let pending = conn.pending_migrations(migrations()).unwrap();
    let at = pending
        .iter()
        .position(|m| {
            m.name()
                .to_string()
                .ends_with("000015_invitations_and_creators")
        })
        .expect("migration 000015 exists");
    for _ in 0..at {
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
    let Some(pg) = empty_postgres("postgres_migration_000015_keeps_an_instance_working").await
    else {
        return;
    };
    with_pg_sync(pg.url(), |conn| {
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
        declared_shape!(canned_responses),
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
        .filter(|o| o.kind == "table" && !is_search_index(&o.name))
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
    let shapes = with_pg_sync(pg.url(), pg_shapes).await;
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
        empty_postgres("postgres_reopening_keeps_data_and_skips_applied_migrations").await
    else {
        return;
    };
    reopening_keeps_data_and_skips_applied_migrations(async || {
        Db::open_postgres(pg.url()).await.unwrap()
    })
    .await;
}

/// Servers starting together on one new database: the migrations are
/// applied once (under the advisory lock), every one opens.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_concurrent_opens_migrate_once() {
    let Some(pg) = empty_postgres("postgres_concurrent_opens_migrate_once").await else {
        return;
    };
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = pg.url().to_string();
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
