//! Commits on both backends: a batch is all or nothing, upserts, touches
//! only move times forward; calls dropped midway leave the store usable;
//! the backends agree on times and concurrent touches.

use super::*;

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
    let customer = customer_of(&db, p.id, "visitor-1", t(90)).await;

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
    let row = crate::store::conversations::queries::settings(&mut conn, &p.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.created_at, crate::store::convert::ts(p.created_at));
    assert_eq!(row.updated_at, crate::store::convert::ts(t(600)));
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
            tokio::spawn(async move { customer_of(&db, p.id, "same-visitor", t(i)).await.id })
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

on_both_backends! {
    "multi_thread": [
        commit_is_all_or_nothing,
        commit_fails_on_a_broken_reference_and_writes_nothing,
        touches_only_move_activity_times_forward,
        message_index_covers_the_whole_history,
        put_ops_upsert,
        times_keep_microseconds,
        concurrent_touches_make_one_customer,
    ],
    // As actix runs its workers and actors.
    "current_thread": [dropped_calls_leave_the_pool_and_the_writer_usable],
}
