//! Session actors driven directly (no HTTP) on the in-memory store with a
//! manual clock: the timer across pause, resume and a reload from storage,
//! refused moves that change nothing, the chat's seqs and idempotency, the
//! join token's caller, and a failing payment provider.
#![allow(clippy::unwrap_used)]

mod common;

use async_trait::async_trait;
use chrono::Duration;
use common::NoAi;
use serde_json::json;
use std::sync::Arc;
use switchboard_actors::clock::{Clock, ManualClock, SharedClock};
use switchboard_actors::domain::communication::Call;
use switchboard_actors::domain::pricing::Tier;
use switchboard_actors::domain::session::{SessionAction, SessionStatus, SessionTimer};
use switchboard_actors::domain::ticket::{TicketStatus, Urgency};
use switchboard_actors::engine::session::{
    ControlSession, GetSession, PostSessionMessage, Sessions, TickSession,
};
use switchboard_actors::engine::{Caller, Engine, EngineConfig, EngineError};
use switchboard_actors::ids::{ProjectId, SessionId, TicketId, UserId};
use switchboard_actors::memory_store::MemoryStore;
use switchboard_actors::ports::{Store, WriteOp};
use switchboard_actors::providers::{PaymentLink, PaymentProvider, PaymentRequest, Providers};
use switchboard_actors::session_ports::{SessionRecord, TicketRecord};

struct FailingPayments;

#[async_trait]
impl PaymentProvider for FailingPayments {
    fn name(&self) -> &'static str {
        "failing"
    }
    async fn request_payment(&self, _: &PaymentRequest) -> Result<PaymentLink, String> {
        Err("card network down".into())
    }
}

/// A stored session in progress with its ticket.
async fn stored_session(store: &MemoryStore, clock: &ManualClock) -> SessionId {
    let now = clock.now();
    let ticket = TicketRecord {
        id: TicketId::new(),
        project_id: ProjectId::new(),
        customer_name: "Ada".into(),
        customer_phone: Some("+15550100".into()),
        customer_email: None,
        description: "help".into(),
        urgency: Urgency::Normal,
        status: TicketStatus::InProgress,
        solver_id: None,
        claimed_at: None,
        created_at: now,
        updated_at: now,
    };
    let session = SessionRecord {
        id: SessionId::new(),
        project_id: ticket.project_id,
        ticket_id: ticket.id,
        solver_id: UserId::new(),
        status: SessionStatus::NotStarted,
        timer: SessionTimer::new(),
        tier: Tier::Standard,
        notes: String::new(),
        notes_saved_at: None,
        access_token_hash: "h".into(),
        pricing: None,
        tier_warning: None,
        sms_count: 0,
        call: Call::new(),
        rating: None,
        rating_comment: None,
        cancel_reason: None,
        created_at: now,
        updated_at: now,
        solver_share_percent: switchboard_actors::domain::pricing::DEFAULT_SOLVER_SHARE_PERCENT,
    };
    let id = session.id;
    store
        .commit(vec![
            WriteOp::PutTicket(Box::new(ticket)),
            WriteOp::PutSession(Box::new(session)),
        ])
        .await
        .unwrap();
    id
}

async fn start(store: &Arc<MemoryStore>, clock: &ManualClock, providers: Providers) -> Sessions {
    let engine = Engine::start(
        store.clone(),
        Arc::new(clock.clone()) as SharedClock,
        Arc::new(NoAi),
        EngineConfig::default(),
    )
    .await
    .unwrap();
    Sessions::start(engine, store.clone(), providers)
        .await
        .unwrap()
}

async fn control(
    sessions: &Sessions,
    id: SessionId,
    action: SessionAction,
) -> Result<serde_json::Value, EngineError> {
    sessions
        .get(id)
        .await
        .unwrap()
        .send(ControlSession {
            caller: Caller::System,
            action,
            tier: Some(Tier::Quick),
            reason: None,
        })
        .await
        .unwrap()
        .map(|view| serde_json::to_value(view).unwrap())
}

async fn elapsed(sessions: &Sessions, id: SessionId) -> serde_json::Value {
    sessions
        .get(id)
        .await
        .unwrap()
        .send(GetSession {
            caller: Caller::System,
        })
        .await
        .unwrap()
        .map(|view| json!(view.elapsed_seconds))
        .unwrap()
}

#[actix_rt::test]
async fn session_timer_is_exact_across_pause_resume_and_a_reload() {
    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::at_default();
    let id = stored_session(&store, &clock).await;
    let sessions = start(&store, &clock, Providers::builtin()).await;

    control(&sessions, id, SessionAction::Start).await.unwrap();
    clock.advance(Duration::milliseconds(90_500));
    assert_eq!(elapsed(&sessions, id).await, json!(90));
    control(&sessions, id, SessionAction::Pause).await.unwrap();
    clock.advance(Duration::hours(2));
    assert_eq!(elapsed(&sessions, id).await, json!(90));
    control(&sessions, id, SessionAction::Resume).await.unwrap();
    clock.advance(Duration::seconds(30));
    assert_eq!(elapsed(&sessions, id).await, json!(120));

    // A second engine on the same store restores the running timer.
    sessions.shutdown();
    let again = start(&store, &clock, Providers::builtin()).await;
    clock.advance(Duration::seconds(60));
    assert_eq!(elapsed(&again, id).await, json!(180));
    let done = control(&again, id, SessionAction::Complete).await.unwrap();
    assert_eq!(done["status"], json!("completed"));
    assert_eq!(done["pricing"]["total_charged"], json!(6900));
    let (stored, ticket) = store.with_sessions(|t| {
        let s = t.sessions.get(&id).cloned().unwrap();
        let tk = t.tickets.get(&s.ticket_id).cloned().unwrap();
        (s, tk)
    });
    assert_eq!(stored.timer.duration_seconds, 180);
    assert_eq!(stored.timer.timer_started_at, None);
    assert_eq!(ticket.status, TicketStatus::Completed);
    assert_eq!(store.with_sessions(|t| t.payments.len()), 1);
}

#[actix_rt::test]
async fn refused_moves_and_a_failing_payment_provider_change_nothing() {
    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::at_default();
    let id = stored_session(&store, &clock).await;
    let providers = Providers {
        payment: Arc::new(FailingPayments),
        ..Providers::builtin()
    };
    let sessions = start(&store, &clock, providers).await;
    for action in [
        SessionAction::Pause,
        SessionAction::Resume,
        SessionAction::Complete,
    ] {
        let err = control(&sessions, id, action).await.unwrap_err();
        assert!(
            matches!(err, EngineError::InvalidTransition(_)),
            "{action}: {err:?}"
        );
    }
    control(&sessions, id, SessionAction::Start).await.unwrap();
    clock.advance(Duration::minutes(3));
    let before = store.with_sessions(|t| t.sessions.get(&id).cloned().unwrap());
    let err = control(&sessions, id, SessionAction::Complete)
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::ProviderFailed(_)), "{err:?}");
    let after = store.with_sessions(|t| t.sessions.get(&id).cloned().unwrap());
    assert_eq!(before, after);
    assert_eq!(store.with_sessions(|t| t.payments.len()), 0);
    assert_eq!(elapsed(&sessions, id).await, json!(180));
    // A tick with nothing due writes nothing.
    sessions
        .get(id)
        .await
        .unwrap()
        .send(TickSession)
        .await
        .unwrap();
    assert_eq!(
        store.with_sessions(|t| t.sessions.get(&id).cloned().unwrap()),
        after
    );
}

#[actix_rt::test]
async fn chat_seqs_idempotency_and_the_join_token_caller() {
    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::at_default();
    let id = stored_session(&store, &clock).await;
    let other = stored_session(&store, &clock).await;
    let sessions = start(&store, &clock, Providers::builtin()).await;
    let project = store.with_sessions(|t| t.sessions.get(&id).unwrap().project_id);
    let guest = Caller::SessionGuest {
        project_id: project,
        session_id: id,
    };
    let addr = sessions.get(id).await.unwrap();
    let post = |content: &str, client: Option<&str>| PostSessionMessage {
        caller: guest.clone(),
        content: content.into(),
        client_msg_id: client.map(str::to_string),
    };
    let a = addr.send(post("one", Some("c-1"))).await.unwrap().unwrap();
    let b = addr.send(post("two", None)).await.unwrap().unwrap();
    let a2 = addr
        .send(post("one again", Some("c-1")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.seq, b.seq), (1, 2));
    assert_eq!(a2.id, a.id);
    let stored = store.with_sessions(|t| t.messages.get(&id).map(|m| m.len()));
    assert_eq!(stored, Some(2));
    // The guest of one session is nobody to another.
    let err = sessions
        .get(other)
        .await
        .unwrap()
        .send(GetSession { caller: guest })
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, EngineError::NotFound(_)), "{err:?}");
}

#[actix_rt::test]
async fn finished_sessions_passivate_and_reload_on_use() {
    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::at_default();
    let id = stored_session(&store, &clock).await;
    let sessions = start(&store, &clock, Providers::builtin()).await;
    control(&sessions, id, SessionAction::Start).await.unwrap();
    clock.advance(Duration::minutes(5));
    control(&sessions, id, SessionAction::Complete)
        .await
        .unwrap();

    // A finished session stays loaded while used, and stops once idle 10 min.
    clock.advance(Duration::minutes(9));
    sessions.tick_all().await;
    assert!(sessions.loaded(id).is_some());
    clock.advance(Duration::minutes(1));
    sessions.tick_all().await;
    for _ in 0..100 {
        if sessions.loaded(id).is_none() {
            break;
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(sessions.loaded(id).is_none(), "still loaded");
    // The next use reloads it from the store, unchanged.
    assert_eq!(elapsed(&sessions, id).await, json!(300));
    assert!(sessions.loaded(id).is_some());
}
