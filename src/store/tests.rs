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
//! each creates `sb_store_<random>` and drops it at the end (tests/common/pg.rs,
//! shared with the black-box tests). Without it they print that they are
//! skipped and pass.

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

/// PostgreSQL test databases, one module with the black-box tests' harness.
#[path = "../../tests/common/pg.rs"]
mod testdb;
/// For `testdb`.
use crate::config::redact_password;
use testdb::{pg_url_from_env, pg_url_with_database, PgDatabase};

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
    let pg = empty_postgres(test).await?;
    let db = Db::open_postgres(pg.url()).await.unwrap();
    assert_eq!(db.backend(), "postgres");
    Some((pg, db))
}

/// `SWITCHBOARD_TEST_PG_URL`, or None after saying that `test` is skipped.
fn pg_admin_url(test: &str) -> Option<String> {
    let url = pg_url_from_env();
    if url.is_none() {
        eprintln!("{test}: skipped (set SWITCHBOARD_TEST_PG_URL to run it on PostgreSQL)");
    }
    url
}

/// An empty database `sb_store_<random>` of its own for one test, dropped
/// (with any connections still open to it) when the guard is, failed test
/// or not; None when PostgreSQL tests are skipped.
async fn empty_postgres(test: &str) -> Option<PgDatabase> {
    Some(PgDatabase::create(&pg_admin_url(test)?, "sb_store_").await)
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

/// The customer of `visitor` of `project`, seen at `at` with no context.
async fn customer_of(db: &Db, project: ProjectId, visitor: &str, at: DateTime<Utc>) -> CustomerRow {
    db.touch_customer(project, visitor, at, &CustomerContext::default())
        .await
        .unwrap()
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
    let visitor = format!("v-{}", Uuid::new_v4());
    ConversationRecord {
        last_message_at,
        ..ConversationRecord::new_with_ai(
            project,
            visitor,
            None,
            "widget".into(),
            json!({}),
            t(100),
        )
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

// ---------------------------------------------------------------- on both backends

/// Declares each behaviour test of a topic module twice: `sqlite::<name>` on a fresh
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

/// Migrations (each down undoes its up), schema.rs against the migrated
/// database, opening a store and the errors of connecting, per backend.
mod migrate;

/// Commits (atomicity, upserts, touches), cancellation and backend parity,
/// on both backends.
mod commit;

/// Round trips of every record and the read queries, on both backends.
mod round_trips;

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
