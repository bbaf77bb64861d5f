//! PostgreSQL test databases, one module for both kinds of tests: the
//! black-box tests (a `mod` of tests/common, under [`super::db`]) and the
//! store's unit tests (src/store/tests.rs includes this file by `#[path]`).
//!
//! The two see the crate under different names (`switchboard::` and
//! `crate::`), so this file names no path of it: the module that includes
//! it provides `redact_password` (switchboard's `config::redact_password`).
//! It uses only crates both may: diesel-async, uuid, actix-rt.
#![allow(dead_code)]

use super::redact_password;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use std::time::Duration as StdDuration;

/// `SWITCHBOARD_TEST_BACKEND`: which store the black-box tests run on
/// (`sqlite`, the default, or `postgres`).
pub const BACKEND_VAR: &str = "SWITCHBOARD_TEST_BACKEND";
/// `SWITCHBOARD_TEST_PG_URL`: a PostgreSQL superuser's URL (any database of
/// the cluster); test databases are created and dropped through it.
pub const PG_URL_VAR: &str = "SWITCHBOARD_TEST_PG_URL";
/// Bound for dropping a test database.
const DROP_BOUND: StdDuration = StdDuration::from_secs(20);

/// `SWITCHBOARD_TEST_PG_URL` (trimmed), unless it is unset or blank.
pub fn pg_url_from_env() -> Option<String> {
    std::env::var(PG_URL_VAR)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// `url` with its database (the path) replaced by `database` (query kept).
pub fn pg_url_with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url
        .split_once("://")
        .unwrap_or_else(|| panic!("{PG_URL_VAR}: not a URL"));
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = main.split_once('/').map_or(main, |(a, _)| a);
    format!("{scheme}://{authority}/{database}{query}")
}

/// A connection to `url`; panics, naming the URL without its password, when
/// there is none.
pub async fn pg_connect(url: &str) -> AsyncPgConnection {
    match AsyncPgConnection::establish(url).await {
        Ok(c) => c,
        Err(e) => panic!(
            "{PG_URL_VAR}: cannot connect to {}: {e}",
            redact_password(url)
        ),
    }
}

/// Runs `sql` (one or more statements); panics on failure.
pub async fn pg_exec(conn: &mut AsyncPgConnection, sql: &str) {
    if let Err(e) = conn.batch_execute(sql).await {
        panic!("{sql}: {e}");
    }
}

/// A database of its own for one test, `<prefix><random>` on the server of
/// the superuser URL `admin_url`, dropped (with any connections still open
/// to it) when this guard is. With [`PgDatabase::keep_on_failure`] a failed
/// test keeps it, named on stderr, for a look.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
    keep_on_failure: bool,
}

impl PgDatabase {
    /// A new, empty database.
    pub async fn create(admin_url: &str, prefix: &str) -> PgDatabase {
        let db = PgDatabase::named(admin_url, prefix);
        let mut conn = pg_connect(admin_url).await;
        pg_exec(&mut conn, &format!("CREATE DATABASE {}", db.name)).await;
        db
    }

    /// A new database cloned from `template`, holding the advisory lock
    /// `lock` shared while it clones (whoever rebuilds the template holds
    /// it exclusively).
    pub async fn clone_of(admin_url: &str, prefix: &str, template: &str, lock: i64) -> PgDatabase {
        let db = PgDatabase::named(admin_url, prefix);
        let mut conn = pg_connect(admin_url).await;
        pg_exec(
            &mut conn,
            &format!("SELECT pg_advisory_lock_shared({lock})"),
        )
        .await;
        pg_exec(
            &mut conn,
            &format!("CREATE DATABASE {} TEMPLATE {template}", db.name),
        )
        .await;
        pg_exec(
            &mut conn,
            &format!("SELECT pg_advisory_unlock_shared({lock})"),
        )
        .await;
        db
    }

    fn named(admin_url: &str, prefix: &str) -> PgDatabase {
        let name = format!("{prefix}{}", uuid::Uuid::new_v4().simple());
        PgDatabase {
            url: pg_url_with_database(admin_url, &name),
            admin_url: admin_url.to_string(),
            name,
            keep_on_failure: false,
        }
    }

    /// Keep the database when the test fails (is panicking at the drop).
    pub fn keep_on_failure(mut self) -> PgDatabase {
        self.keep_on_failure = true;
        self
    }

    /// The URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        if self.keep_on_failure && std::thread::panicking() {
            eprintln!("test failed: keeping its database {name} for a look");
            return;
        }
        // Drop is synchronous and may run inside the test's runtime (or
        // while a failed test unwinds), so the drop runs on a thread and
        // runtime of its own, bounded. FORCE ends the connections still
        // open to it (e.g. the pool of a server that was not stopped).
        let admin_url = self.admin_url.clone();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let res = actix_rt::System::new().block_on(async move {
                let mut conn = AsyncPgConnection::establish(&admin_url)
                    .await
                    .map_err(|e| e.to_string())?;
                conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .map_err(|e| format!("drop database {name}: {e}"))
            });
            let _ = done_tx.send(res);
        });
        match done_rx.recv_timeout(DROP_BOUND) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("cleanup: {e}"),
            Err(_) => eprintln!(
                "cleanup: dropping the test database {} timed out",
                self.name
            ),
        }
    }
}
