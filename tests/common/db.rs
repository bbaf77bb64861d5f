//! The database under test: SQLite or PostgreSQL, as the environment says
//! ([`BACKEND_VAR`], [`PG_URL_VAR`]). A PostgreSQL test database is a clone
//! of a template migrated once per change of `migrations/`.

use super::pg::{
    pg_connect, pg_exec, pg_url_from_env, pg_url_with_database, PgDatabase, BACKEND_VAR, PG_URL_VAR,
};
use diesel_async::RunQueryDsl;
use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;
use switchboard::config::DatabaseUrl;
use tempfile::TempDir;

/// The migrated database every PostgreSQL test database is cloned from.
pub const PG_TEMPLATE: &str = "switchboard_template";
/// Advisory lock of the template: exclusive while it is checked or built,
/// shared while it is cloned, so parallel test processes never see a
/// half-built template and never drop one that is being cloned.
const PG_TEMPLATE_LOCK: i64 = 0x5357_4254_4d50; // "SWBTMP"
/// Bound for `switchboard migrate` on the template.
const MIGRATE_BOUND: StdDuration = StdDuration::from_secs(120);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    /// With the superuser's URL.
    Postgres(String),
}

impl Backend {
    /// The backend the environment selects (SQLite unless told otherwise).
    pub fn from_env() -> Backend {
        let backend = std::env::var(BACKEND_VAR).ok();
        match backend.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None | Some("sqlite") => Backend::Sqlite,
            Some("postgres") | Some("postgresql") => match pg_url_from_env() {
                Some(url) => Backend::Postgres(url),
                None => panic!(
                    "{BACKEND_VAR}=postgres needs {PG_URL_VAR}, e.g. postgres://postgres@127.0.0.1:5432/postgres"
                ),
            },
            Some(other) => panic!("{BACKEND_VAR}={other:?}: expected sqlite or postgres"),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// A fresh, empty, migrated database of the selected backend, for one test.
/// SQLite: a file in a temp dir (removed with it). PostgreSQL: a database
/// `sb_t_<random>` created with `TEMPLATE switchboard_template`, dropped
/// when this value is dropped (kept, and named on stderr, when the test
/// failed, so it can be looked at).
pub struct TestDb {
    url: DatabaseUrl,
    kind: TestDbKind,
}

enum TestDbKind {
    Sqlite { _dir: TempDir },
    Postgres { _db: PgDatabase },
}

impl TestDb {
    pub async fn fresh() -> TestDb {
        match Backend::from_env() {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("switchboard.db");
                TestDb {
                    url: DatabaseUrl::Sqlite(path),
                    kind: TestDbKind::Sqlite { _dir: dir },
                }
            }
            Backend::Postgres(admin_url) => {
                ensure_pg_template(&admin_url).await;
                let db = PgDatabase::clone_of(&admin_url, "sb_t_", PG_TEMPLATE, PG_TEMPLATE_LOCK)
                    .await
                    .keep_on_failure();
                TestDb {
                    url: DatabaseUrl::Postgres(db.url().to_string()),
                    kind: TestDbKind::Postgres { _db: db },
                }
            }
        }
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The value of `DATABASE_URL` for the binary.
    pub fn env_value(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self.kind {
            TestDbKind::Sqlite { .. } => "sqlite",
            TestDbKind::Postgres { .. } => "postgres",
        }
    }
}

/// Make sure `switchboard_template` exists and was migrated from the
/// migrations now in the tree; once per test process.
async fn ensure_pg_template(admin_url: &str) {
    static READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    READY.get_or_init(|| build_pg_template(admin_url)).await;
}

/// Under the exclusive advisory lock: when the template is missing or was
/// built from other migrations (its comment holds a fingerprint of
/// `migrations/`), build it as `switchboard_template_build` with
/// `switchboard migrate` (a subprocess, so no connection to it stays open,
/// as `CREATE DATABASE ... TEMPLATE` requires), then rename it into place.
/// The lock is the session's: it goes with the connection even on a panic.
async fn build_pg_template(admin_url: &str) {
    let mut conn = pg_connect(admin_url).await;
    pg_exec(
        &mut conn,
        &format!("SELECT pg_advisory_lock({PG_TEMPLATE_LOCK})"),
    )
    .await;
    let want = migrations_fingerprint();
    let have: Option<String> = diesel::select(diesel::dsl::sql::<
        diesel::sql_types::Nullable<diesel::sql_types::Text>,
    >(&format!(
        "(SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{PG_TEMPLATE}')"
    )))
    .get_result(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("look for {PG_TEMPLATE}: {e}"));
    if have.as_deref() != Some(want.as_str()) {
        let build = format!("{PG_TEMPLATE}_build");
        pg_exec(
            &mut conn,
            &format!("DROP DATABASE IF EXISTS {build} WITH (FORCE)"),
        )
        .await;
        pg_exec(&mut conn, &format!("CREATE DATABASE {build}")).await;
        run_migrate(&pg_url_with_database(admin_url, &build)).await;
        pg_exec(
            &mut conn,
            &format!("COMMENT ON DATABASE {build} IS '{want}'"),
        )
        .await;
        pg_exec(
            &mut conn,
            &format!("DROP DATABASE IF EXISTS {PG_TEMPLATE} WITH (FORCE)"),
        )
        .await;
        pg_exec(
            &mut conn,
            &format!("ALTER DATABASE {build} RENAME TO {PG_TEMPLATE}"),
        )
        .await;
    }
    pg_exec(
        &mut conn,
        &format!("SELECT pg_advisory_unlock({PG_TEMPLATE_LOCK})"),
    )
    .await;
}

/// `switchboard migrate` on `url`, bounded; panics with its output on
/// failure.
async fn run_migrate(url: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("migrate")
        .env("DATABASE_URL", url)
        .env_remove("SWITCHBOARD_ADMIN_EMAIL")
        .env_remove("SWITCHBOARD_ADMIN_PASSWORD")
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("spawn switchboard migrate");
    let deadline = std::time::Instant::now() + MIGRATE_BOUND;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for switchboard migrate") {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        actix_rt::time::sleep(StdDuration::from_millis(20)).await;
    };
    if status.is_some_and(|s| s.success()) {
        return;
    }
    let out = std::fs::read_to_string(&out_path).unwrap_or_default();
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    panic!(
        "switchboard migrate on {} {}\nstdout:\n{out}\nstderr:\n{err}",
        switchboard::config::redact_password(url),
        match status {
            Some(s) => format!("failed: {s}"),
            None => format!("did not finish within {MIGRATE_BOUND:?}"),
        }
    );
}

/// A digest of every file under `migrations/` (paths and contents).
fn migrations_fingerprint() -> String {
    use sha2::{Digest, Sha256};
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, files);
            } else {
                files.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut hash = Sha256::new();
    for f in files {
        let rel = f.strip_prefix(&root).unwrap_or(&f);
        hash.update(rel.to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update(std::fs::read(&f).unwrap_or_else(|e| panic!("read {}: {e}", f.display())));
        hash.update([0]);
    }
    format!("migrations sha256 {}", hex::encode(hash.finalize()))
}
