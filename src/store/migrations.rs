//! The schema's migrations: one tree, `migrations/`, for both backends.
//!
//! Every migration is written in SQL that SQLite and PostgreSQL both accept
//! (the types of `schema.rs`: TEXT, INTEGER, BIGINT, BOOLEAN, DOUBLE
//! PRECISION, TIMESTAMP). Where a statement truly cannot be shared, the
//! migration's folder keeps its `up.sql`/`down.sql` for one backend and
//! holds the other backend's SQL beside them as `up.<backend>.sql` and
//! `down.<backend>.sql` (diesel reads only `up.sql` and `down.sql`, so the
//! extra files are ours); an entry in [`SQLITE_ONLY`] or [`POSTGRES_ONLY`]
//! then names the version and includes those files, and [`Schema`] runs
//! them in place of the shared ones on that backend. Versions, order and
//! the `__diesel_schema_migrations` bookkeeping stay the same on both, so
//! the schema-parity and down-undoes-up tests guard such a migration too.
//! Message search (000019) is one: FTS5 on SQLite, a GIN index on
//! PostgreSQL.

use diesel::backend::Backend;
use diesel::migration::{
    Migration, MigrationMetadata, MigrationName, MigrationSource, Result as MigrationResult,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations};

/// The shared tree, compiled in.
const SHARED: EmbeddedMigrations = embed_migrations!("migrations");

/// One backend's SQL for a migration whose shared SQL it cannot run.
#[derive(Debug, Clone, Copy)]
pub struct DialectSql {
    /// The migration's version as diesel reads it: the folder name before
    /// `_` without its dashes (`20261121000001`).
    pub version: &'static str,
    pub up: &'static str,
    pub down: &'static str,
}

/// Migrations SQLite runs in its own SQL (see the module comment).
pub const SQLITE_ONLY: &[DialectSql] = &[DialectSql {
    // Message search: FTS5 here, a GIN index on PostgreSQL.
    version: "20261205000019",
    up: include_str!("../../migrations/2026-12-05-000019_message_search/up.sqlite.sql"),
    down: include_str!("../../migrations/2026-12-05-000019_message_search/down.sqlite.sql"),
}];
/// Migrations PostgreSQL runs in its own SQL (see the module comment).
pub const POSTGRES_ONLY: &[DialectSql] = &[];

/// The migrations one backend applies: the shared tree, with that
/// backend's [`DialectSql`] in place of the shared SQL where it has some.
pub struct Schema {
    shared: EmbeddedMigrations,
    dialect: &'static [DialectSql],
}

impl Schema {
    pub const fn new(dialect: &'static [DialectSql]) -> Schema {
        Schema {
            shared: SHARED,
            dialect,
        }
    }
}

/// The SQLite schema.
pub const SQLITE_MIGRATIONS: Schema = Schema::new(SQLITE_ONLY);
/// The PostgreSQL schema.
pub const POSTGRES_MIGRATIONS: Schema = Schema::new(POSTGRES_ONLY);

impl<DB: Backend + 'static> MigrationSource<DB> for Schema {
    fn migrations(&self) -> MigrationResult<Vec<Box<dyn Migration<DB>>>> {
        let shared = MigrationSource::<DB>::migrations(&self.shared)?;
        Ok(shared
            .into_iter()
            .map(|m| {
                let version = m.name().version().to_string();
                match self.dialect.iter().find(|d| d.version == version) {
                    Some(sql) => Box::new(Dialect {
                        shared: m,
                        sql: *sql,
                    }) as Box<dyn Migration<DB>>,
                    None => m,
                }
            })
            .collect())
    }
}

/// A shared migration's name and metadata with one backend's SQL.
struct Dialect<DB: Backend> {
    shared: Box<dyn Migration<DB>>,
    sql: DialectSql,
}

impl<DB: Backend> Migration<DB> for Dialect<DB> {
    fn run(&self, conn: &mut dyn diesel::connection::BoxableConnection<DB>) -> MigrationResult<()> {
        conn.batch_execute(self.sql.up)?;
        Ok(())
    }

    fn revert(
        &self,
        conn: &mut dyn diesel::connection::BoxableConnection<DB>,
    ) -> MigrationResult<()> {
        conn.batch_execute(self.sql.down)?;
        Ok(())
    }

    fn metadata(&self) -> &dyn MigrationMetadata {
        self.shared.metadata()
    }

    fn name(&self) -> &dyn MigrationName {
        self.shared.name()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use diesel::sqlite::Sqlite;
    use diesel::{Connection, RunQueryDsl, SqliteConnection};
    use diesel_migrations::MigrationHarness;

    /// Every table as `name: CREATE statement`, so a migration that only
    /// adds a column shows as well as one that adds a table.
    fn tables(conn: &mut SqliteConnection) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Table {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
            #[diesel(sql_type = diesel::sql_types::Text)]
            sql: String,
        }
        diesel::sql_query("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .load::<Table>(conn)
            .unwrap()
            .into_iter()
            .map(|t| format!("{}: {}", t.name, t.sql))
            .collect()
    }

    fn has_marker(tables: &[String]) -> bool {
        tables.iter().any(|t| t.starts_with("dialect_marker:"))
    }

    /// A dialect entry whose version names no migration would silently
    /// leave the shared SQL in place.
    #[test]
    fn every_dialect_entry_names_a_shared_migration() {
        let shared = MigrationSource::<Sqlite>::migrations(&SHARED).unwrap();
        let versions: Vec<String> = shared
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
        for d in SQLITE_ONLY.iter().chain(POSTGRES_ONLY) {
            assert!(versions.iter().any(|v| v == d.version), "{}", d.version);
        }
    }

    /// The last shared migration, run with a dialect's SQL that adds a
    /// marker table: the marker appears on up and goes on down, under the
    /// shared version, and the other migrations are the shared ones.
    #[test]
    fn dialect_sql_replaces_the_shared_sql_of_its_version() {
        let shared = MigrationSource::<Sqlite>::migrations(&SHARED).unwrap();
        let last = shared.last().unwrap().name().version().to_string();
        let sql: &'static [DialectSql] = Box::leak(Box::new([DialectSql {
            version: Box::leak(last.clone().into_boxed_str()),
            up: "CREATE TABLE dialect_marker (id INTEGER PRIMARY KEY);",
            down: "DROP TABLE dialect_marker;",
        }]));
        let schema = Schema::new(sql);

        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        let applied = conn.run_pending_migrations(schema).unwrap();
        assert_eq!(applied.len(), shared.len());
        assert_eq!(applied.last().unwrap().to_string(), last);
        let after_up = tables(&mut conn);
        assert!(has_marker(&after_up));
        // The shared SQL of that migration did not run; with the shared
        // schema it does (a table or a column only it makes).
        let mut plain = SqliteConnection::establish(":memory:").unwrap();
        plain.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
        let shared_tables = tables(&mut plain);
        let only_shared: Vec<&String> = shared_tables
            .iter()
            .filter(|t| !after_up.contains(t))
            .collect();
        assert!(!only_shared.is_empty(), "the shared SQL ran too");
        assert!(!has_marker(&shared_tables));

        conn.revert_last_migration(Schema::new(sql)).unwrap();
        assert!(!has_marker(&tables(&mut conn)));
        assert!(conn
            .pending_migrations(Schema::new(sql))
            .unwrap()
            .iter()
            .any(|m| m.name().version().to_string() == last));
    }
}
