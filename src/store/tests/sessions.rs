//! Store tests of billable sessions (`store/sessions/`), on both backends
//! through the parent's `on_both_backends!`: round trips through the group
//! commit, the queue order, the one-winner claim under concurrency, opening
//! a session, the solver's list and stats, and chat seq uniqueness.

use super::*;
use crate::store::sessions::SessionListFilter;
use switchboard_actors::domain::communication::{Call, CallState};
use switchboard_actors::domain::pricing::{price, Tier};
use switchboard_actors::domain::session::{SessionStatus, SessionTimer, TierWarning};
use switchboard_actors::domain::ticket::{TicketStatus, Urgency};
use switchboard_actors::ids::{PaymentId, SessionId, SessionMessageId, SmsId, TicketId};
use switchboard_actors::session_ports::{
    PaymentRecord, SessionMessageRecord, SessionRecord, SessionSender, SessionStore, SmsRecord,
    TicketRecord,
};

fn ticket(project: ProjectId, at: DateTime<Utc>) -> TicketRecord {
    TicketRecord {
        id: TicketId::new(),
        project_id: project,
        customer_name: "Ada".into(),
        customer_phone: Some("+15550100".into()),
        customer_email: Some("ada@example.com".into()),
        description: "printer on fire".into(),
        urgency: Urgency::High,
        status: TicketStatus::Open,
        solver_id: None,
        claimed_at: None,
        created_at: at,
        updated_at: at,
    }
}

fn session(t: &TicketRecord, solver: UserId, at: DateTime<Utc>) -> SessionRecord {
    SessionRecord {
        id: SessionId::new(),
        project_id: t.project_id,
        ticket_id: t.id,
        solver_id: solver,
        status: SessionStatus::NotStarted,
        timer: SessionTimer::new(),
        tier: Tier::Standard,
        notes: String::new(),
        notes_saved_at: None,
        access_token_hash: format!("hash-{}", Uuid::new_v4()),
        pricing: None,
        tier_warning: None,
        sms_count: 0,
        call: Call::new(),
        rating: None,
        rating_comment: None,
        cancel_reason: None,
        created_at: at,
        updated_at: at,
        solver_share_percent: switchboard_actors::domain::pricing::DEFAULT_SOLVER_SHARE_PERCENT,
    }
}

async fn sessions_round_trip_through_commit(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    let mut tk = ticket(p.id, t(10));
    db.insert_ticket(&tk).await.unwrap();
    assert_eq!(db.ticket(tk.id).await.unwrap().unwrap(), tk);

    assert!(db.claim_ticket(tk.id, owner.id, t(11)).await.unwrap());
    let mut s = session(&tk, owner.id, t(12));
    db.open_session(&s).await.unwrap();
    tk.status = TicketStatus::InProgress;
    tk.solver_id = Some(owner.id);
    tk.claimed_at = Some(t(11));
    tk.updated_at = t(12);
    let (got_s, got_t) = db.load_session(s.id).await.unwrap().unwrap();
    assert_eq!((got_s, got_t), (s.clone(), tk.clone()));
    assert_eq!(db.live_session_ids().await.unwrap(), vec![s.id]);

    // Every column changed, through the writer's ops.
    s.status = SessionStatus::Completed;
    s.timer = SessionTimer {
        duration_seconds: 1_500,
        timer_started_at: None,
        started_at: Some(t(20)),
        ended_at: Some(t(1_600)),
    };
    s.tier = Tier::Quick;
    s.notes = "fixed it".into();
    s.notes_saved_at = Some(t(30));
    s.pricing = Some(price(Tier::Quick, 1_500, 65));
    s.tier_warning = Some(TierWarning::Exceeded);
    s.sms_count = 3;
    // The call is kept as JSON with wire times (milliseconds, as the
    // engine's clock gives them).
    let ms = |secs: i64| Some(DateTime::from_timestamp_millis(t(secs).timestamp_millis()).unwrap());
    s.call = Call {
        state: CallState::Ended,
        dialed_at: ms(40),
        answered_at: ms(41),
        ended_at: ms(100),
        duration_seconds: 59,
    };
    s.rating = Some(5);
    s.rating_comment = Some("great".into());
    s.updated_at = t(1_600);
    tk.status = TicketStatus::Completed;
    tk.updated_at = t(1_600);
    let m = SessionMessageRecord {
        id: SessionMessageId::new(),
        session_id: s.id,
        seq: 1,
        sender_type: SessionSender::Solver,
        sender_id: Some(owner.id),
        content: "hello".into(),
        client_msg_id: Some("c-1".into()),
        created_at: t(50),
    };
    let sms = SmsRecord {
        id: SmsId::new(),
        session_id: s.id,
        to_phone: "+15550100".into(),
        body: "hi".into(),
        provider_ref: Some("ref".into()),
        created_at: t(60),
    };
    let pay = PaymentRecord {
        id: PaymentId::new(),
        session_id: s.id,
        amount: 8_400,
        status: "pending".into(),
        payment_url: "/pay/x".into(),
        provider: "builtin".into(),
        provider_ref: None,
        created_at: t(1_600),
    };
    db.commit(vec![
        WriteOp::PutSession(Box::new(s.clone())),
        WriteOp::PutTicket(Box::new(tk.clone())),
        WriteOp::InsertSessionMessage(Box::new(m.clone())),
        WriteOp::InsertSms(Box::new(sms.clone())),
        WriteOp::PutPayment(Box::new(pay.clone())),
    ])
    .await
    .unwrap();
    let (got_s, got_t) = db.load_session(s.id).await.unwrap().unwrap();
    assert_eq!((got_s, got_t), (s.clone(), tk));
    assert_eq!(
        db.load_session_messages(s.id, 0, 10).await.unwrap(),
        vec![m.clone()]
    );
    assert_eq!(db.session_sms(s.id).await.unwrap(), vec![sms]);
    assert_eq!(db.payment(pay.id).await.unwrap(), Some(pay.clone()));
    assert_eq!(db.payment_of_session(s.id).await.unwrap(), Some(pay));
    assert!(db.live_session_ids().await.unwrap().is_empty());

    // A second message with the same seq, or the same client id, fails the
    // whole batch.
    let dup = SessionMessageRecord {
        id: SessionMessageId::new(),
        seq: 2,
        ..m.clone()
    };
    assert!(db
        .commit(vec![WriteOp::InsertSessionMessage(Box::new(dup))])
        .await
        .is_err());
    let same_seq = SessionMessageRecord {
        id: SessionMessageId::new(),
        client_msg_id: None,
        ..m
    };
    assert!(db
        .commit(vec![WriteOp::InsertSessionMessage(Box::new(same_seq))])
        .await
        .is_err());
    assert_eq!(
        db.load_session_messages(s.id, 0, 10).await.unwrap().len(),
        1
    );

    let stats = db.solver_stats(owner.id).await.unwrap();
    assert_eq!(stats.total_sessions, 1);
    assert_eq!(
        stats.total_earnings,
        price(Tier::Quick, 1_500, 65).solver_earnings
    );
    assert_eq!(stats.average_rating, Some(5.0));
}

async fn ticket_queue_is_oldest_first_and_claims_have_one_winner(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    let newer = ticket(p.id, t(30));
    let older = ticket(p.id, t(10));
    let middle = ticket(p.id, t(20));
    for tk in [&newer, &older, &middle] {
        db.insert_ticket(tk).await.unwrap();
    }
    let queue = db
        .ticket_queue(p.id, TicketStatus::Open, None, 10)
        .await
        .unwrap();
    let ids: Vec<_> = queue.iter().map(|t| t.id).collect();
    assert_eq!(ids, vec![older.id, middle.id, newer.id]);
    let rest = db
        .ticket_queue(
            p.id,
            TicketStatus::Open,
            Some((older.created_at, older.id)),
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![middle.id, newer.id]
    );

    let agents: Vec<UserRow> = {
        let mut v = Vec::new();
        for _ in 0..8 {
            v.push(agent_member(&db, &p).await);
        }
        v
    };
    let tasks: Vec<_> = agents
        .iter()
        .map(|a| {
            let (db, id, solver) = (db.clone(), older.id, a.id);
            tokio::spawn(async move { db.claim_ticket(id, solver, t(40)).await.unwrap() })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        if task.await.unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
    let claimed = db.ticket(older.id).await.unwrap().unwrap();
    assert_eq!(claimed.status, TicketStatus::Claimed);
    assert!(agents.iter().any(|a| Some(a.id) == claimed.solver_id));
    let queue = db
        .ticket_queue(p.id, TicketStatus::Open, None, 10)
        .await
        .unwrap();
    assert_eq!(queue.len(), 2);

    // Only the claiming solver opens a session, once.
    let other = if claimed.solver_id == Some(owner.id) {
        agents[0].id
    } else {
        owner.id
    };
    let wrong = session(&claimed, other, t(50));
    assert!(matches!(
        db.open_session(&wrong).await,
        Err(StoreError::Conflict(_))
    ));
    let right = session(&claimed, claimed.solver_id.unwrap(), t(50));
    db.open_session(&right).await.unwrap();
    let again = session(&claimed, claimed.solver_id.unwrap(), t(51));
    assert!(db.open_session(&again).await.is_err());
    assert!(db.load_session(wrong.id).await.unwrap().is_none());
    assert!(db.load_session(again.id).await.unwrap().is_none());
}

async fn solver_sessions_page_newest_first(db: Db) {
    let (owner, p) = owner_and_project(&db).await;
    let mut made = Vec::new();
    for i in 0..5 {
        let tk = TicketRecord {
            status: TicketStatus::InProgress,
            solver_id: Some(owner.id),
            ..ticket(p.id, t(i))
        };
        let mut s = session(&tk, owner.id, t(100 + i));
        if i % 2 == 0 {
            s.status = SessionStatus::Cancelled;
        }
        db.open_adhoc_session(&tk, &s).await.unwrap();
        made.push(s);
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = db
            .list_sessions(&SessionListFilter {
                solver_id: owner.id,
                status: None,
                cursor,
                limit: 2,
            })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        cursor = page.last().map(|(s, _)| (s.created_at, s.id));
        seen.extend(page.into_iter().map(|(s, _)| s.id));
    }
    let want: Vec<_> = made.iter().rev().map(|s| s.id).collect();
    assert_eq!(seen, want);
    let cancelled = db
        .list_sessions(&SessionListFilter {
            solver_id: owner.id,
            status: Some(SessionStatus::Cancelled),
            cursor: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(cancelled.len(), 3);
    let (sid, pid, _, ended) = db
        .session_by_token_hash(&made[1].access_token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((sid, pid, ended), (made[1].id, p.id, None));
    assert!(db.session_by_token_hash("nope").await.unwrap().is_none());
}

on_both_backends! {
    "multi_thread": [
        sessions_round_trip_through_commit,
        ticket_queue_is_oldest_first_and_claims_have_one_winner,
        solver_sessions_page_newest_first,
    ],
}
