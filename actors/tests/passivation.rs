//! Passivation driven through the engine (no HTTP): the in-memory store, a
//! manual clock and a scripted AI. Idle `ai_active` conversations leave
//! memory after `PASSIVATE_AFTER`, keep only a due time, come back on their
//! next use with their log, seqs and retries, and still close on time;
//! watched, waiting and agent conversations stay.
#![allow(clippy::unwrap_used)]

mod common;

use actix::prelude::*;
use chrono::{DateTime, Duration, Utc};
use common::*;
use serde_json::json;
use std::sync::{Arc, Mutex};
use switchboard_actors::clock::Clock;
use switchboard_actors::domain::conversation::ConversationStatus;
use switchboard_actors::engine::conversation::{
    CheckTimers, ConversationActor, PostMessage, SubscribeConversation, UnsubscribeConversation,
    PASSIVATE_AFTER,
};
use switchboard_actors::engine::events::{Audience, Deliver, Evicted, Subscriber};
use switchboard_actors::engine::project::Heartbeat;
use switchboard_actors::ids::ConversationId;
use switchboard_actors::ports::{MessageRecord, SenderType};

/// A project with handoff on and one agent (offline) who takes one chat.
async fn one_agent_world() -> World {
    world(&[("a", 1)]).await.0
}

/// Poll (bounded, real time) until `check` holds: for what happens after
/// an answer, like an AI reply or an actor being dropped.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..500 {
        if check() {
            return;
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("never happened: {what}");
}

impl World {
    async fn actor(&self, id: ConversationId) -> Addr<ConversationActor> {
        self.engine.live_conversation(id).await.unwrap().unwrap()
    }

    fn messages(&self, id: ConversationId) -> Vec<MessageRecord> {
        self.store.messages_of(id)
    }

    /// Wait for the AI's answer to land as message `seq`.
    async fn wait_for_seq(&self, id: ConversationId, seq: i64) {
        eventually("the AI answers", || {
            self.messages(id).last().map(|m| m.seq) == Some(seq)
        })
        .await;
    }

    /// Move the clock, keep the agent's heartbeat fresh, look at the clock.
    async fn pass(&self, by: Duration) {
        self.clock.advance(by);
        let p = self.engine.project(self.project).await.unwrap();
        p.addr
            .send(Heartbeat {
                user_id: self.agents[0],
            })
            .await
            .unwrap()
            .unwrap();
        self.engine.tick_all().await;
    }

    /// Every ConversationActor value is gone but `n` (the registry drops
    /// its address at once; the actor itself stops right after).
    async fn actors_in_memory(&self, n: usize) {
        let engine = self.engine.clone();
        eventually(&format!("{n} conversation actors in memory"), || {
            engine.conversation_counts().actors == n
        })
        .await;
    }
}

/// A WebSocket connection's stand-in: it takes frames and keeps them.
struct Probe(Arc<Mutex<Vec<String>>>);

impl Actor for Probe {
    type Context = Context<Self>;
}

impl Handler<Deliver> for Probe {
    type Result = ();
    fn handle(&mut self, msg: Deliver, _: &mut Context<Self>) {
        let mut seen = self.0.lock().unwrap();
        seen.extend(msg.frames.iter().map(|f| f.to_string()));
    }
}

impl Handler<Evicted> for Probe {
    type Result = ();
    fn handle(&mut self, _: Evicted, _: &mut Context<Self>) {}
}

const WATCHER: u64 = 7_000_001;

async fn watch(w: &World, id: ConversationId, visitor: &str) -> Addr<Probe> {
    let probe = Probe(Arc::new(Mutex::new(Vec::new()))).start();
    w.actor(id)
        .await
        .send(SubscribeConversation {
            caller: w.customer(visitor),
            subscriber: Subscriber {
                id: WATCHER,
                deliver: probe.clone().recipient(),
                evicted: probe.clone().recipient(),
                audience: Audience::Customer,
            },
            after_seq: None,
        })
        .await
        .unwrap()
        .unwrap();
    probe
}

#[actix_rt::test]
async fn idle_ai_conversations_leave_memory_and_watched_waiting_and_agent_ones_stay() {
    let w = one_agent_world().await;
    w.online(w.agents[0]).await;
    let mut idle = Vec::new();
    for i in 0..30 {
        idle.push(w.conversation(&format!("idle-{i}")).await);
    }
    let watched = w.conversation("watched").await;
    let _probe = watch(&w, watched, "watched").await;
    let with_agent = w.conversation("with-agent").await;
    w.handoff(with_agent, "with-agent").await;
    let waiting = w.conversation("waiting").await;
    w.handoff(waiting, "waiting").await;
    assert_eq!(w.status(with_agent).await, ConversationStatus::AgentActive);
    assert_eq!(w.status(waiting).await, ConversationStatus::Waiting);
    assert_eq!(w.engine.live_conversations(), 33);
    w.actors_in_memory(33).await;

    // Not yet idle long enough.
    w.pass(PASSIVATE_AFTER - Duration::seconds(1)).await;
    assert_eq!(w.engine.live_conversations(), 33);
    assert_eq!(w.engine.conversation_counts().passivated, 0);

    w.pass(Duration::seconds(1)).await;
    // Out of the registry as the tick answers...
    assert_eq!(w.engine.live_conversations(), 3);
    // ...and out of memory right after: only the due times stay.
    w.actors_in_memory(3).await;
    let counts = w.engine.conversation_counts();
    assert_eq!((counts.live, counts.passivated), (3, 30), "{counts:?}");
    for id in &idle {
        assert!(w.engine.is_passivated(*id));
        // Nothing changed in the store: it is still with the AI.
        assert_eq!(w.stored(*id).status, ConversationStatus::AiActive);
    }
    for id in [watched, with_agent, waiting] {
        assert!(!w.engine.is_passivated(id));
    }

    // The watcher leaves: idle from then on, it goes a full period later.
    w.actor(watched)
        .await
        .send(UnsubscribeConversation {
            subscriber_id: WATCHER,
        })
        .await
        .unwrap();
    w.pass(PASSIVATE_AFTER - Duration::seconds(1)).await;
    assert_eq!(w.engine.live_conversations(), 3);
    w.pass(Duration::seconds(1)).await;
    // The watched one passivated and the agent's one closed (below): only
    // the waiting one is left in memory.
    w.actors_in_memory(1).await;
    assert!(w.engine.is_passivated(watched));
    // Still with a human: waiting, or assigned once the agent's chat
    // below closed and freed its capacity.
    assert!(matches!(
        w.status(waiting).await,
        ConversationStatus::Waiting | ConversationStatus::AgentActive
    ));
    assert!(!w.engine.is_passivated(waiting));
    // The agent's customer said nothing for ten minutes: warned at five,
    // closed now by its own timers (it never passivated).
    let agent_chat = w.stored(with_agent);
    assert_eq!(agent_chat.status, ConversationStatus::Closed);
    assert_eq!(
        agent_chat.metadata["close_reason"],
        json!("customer_inactive")
    );
}

#[actix_rt::test]
async fn a_passivated_conversation_comes_back_with_its_log_seqs_and_retries() {
    let w = one_agent_world().await;
    let c = w.conversation("v").await;
    let first = w.send(c, "v", "hello", "c-1").await;
    assert_eq!(first.seq, 1);
    w.wait_for_seq(c, 2).await;

    w.pass(PASSIVATE_AFTER).await;
    w.actors_in_memory(0).await;
    assert!(w.engine.is_passivated(c));

    // The retry of a message sent before: the first message, nothing new.
    let again = w.send(c, "v", "hello", "c-1").await;
    assert_eq!((again.id, again.seq), (first.id, first.seq));
    assert!(!w.engine.is_passivated(c));
    assert_eq!(w.engine.conversation_counts().actors, 1);
    // The next message takes the next seq, and the AI answers it.
    let next = w.send(c, "v", "and then?", "c-2").await;
    assert_eq!(next.seq, 3);
    w.wait_for_seq(c, 4).await;
    let log = w.messages(c);
    let seqs: Vec<i64> = log.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    let senders: Vec<SenderType> = log.iter().map(|m| m.sender_type).collect();
    assert_eq!(
        senders,
        vec![
            SenderType::Customer,
            SenderType::Ai,
            SenderType::Customer,
            SenderType::Ai
        ]
    );
    assert_eq!(log[3].content, "echo: and then?");
}

#[actix_rt::test]
async fn a_passivated_conversation_still_closes_a_day_after_its_last_activity() {
    let w = one_agent_world().await;
    let t0 = w.clock.now();
    let c = w.conversation("v").await;
    w.pass(PASSIVATE_AFTER).await;
    w.actors_in_memory(0).await;
    assert!(w.engine.is_passivated(c));

    // A minute before the close: still passivated, nothing written.
    w.pass(Duration::hours(24) - PASSIVATE_AFTER - Duration::minutes(1))
        .await;
    assert!(w.engine.is_passivated(c));
    assert_eq!(w.engine.live_conversations(), 0);
    assert_eq!(w.stored(c).status, ConversationStatus::AiActive);
    assert!(w.messages(c).is_empty());

    // On the dot: the tick reloads it and it closes itself.
    w.pass(Duration::minutes(1)).await;
    let row = w.stored(c);
    assert_eq!(row.status, ConversationStatus::Closed);
    assert_eq!(row.closed_at, Some(t0 + Duration::hours(24)));
    assert_eq!(row.metadata["close_reason"], json!("no_activity"));
    let log = w.messages(c);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].metadata["event"], json!("auto_closed"));
    let counts = w.engine.conversation_counts();
    assert_eq!((counts.live, counts.passivated), (0, 0), "{counts:?}");
    w.actors_in_memory(0).await;
}

/// A message already in the mailbox when the conversation passivates is
/// answered by the old actor, with the next seq, and the conversation is
/// live again; no second actor is loaded.
#[actix_rt::test]
async fn a_message_queued_behind_the_passivation_is_answered_by_the_old_actor() {
    let w = one_agent_world().await;
    let c = w.conversation("v").await;
    let actor = w.actor(c).await;
    w.clock.advance(PASSIVATE_AFTER);
    // Both are in the mailbox before the first is handled: the look at
    // the clock passivates it, the message is next in line.
    let tick = actor.send(CheckTimers);
    let message = actor.send(PostMessage {
        caller: w.customer("v"),
        content: "still there?".into(),
        client_msg_id: Some("late".into()),
        metadata: json!({}),
    });
    tick.await.unwrap();
    let m = message.await.unwrap().unwrap();
    assert_eq!(m.seq, 1);
    w.wait_for_seq(c, 2).await;
    let counts = w.engine.conversation_counts();
    assert_eq!(
        (
            counts.live,
            counts.retiring,
            counts.passivated,
            counts.actors
        ),
        (1, 0, 0, 1),
        "{counts:?}"
    );
    assert_eq!(w.actor(c).await, actor);
    assert_eq!(w.messages(c)[1].content, "echo: still there?");
}

/// Uses racing the look at the clock that passivates: whichever wins,
/// every message is taken once, seqs stay gap-free, one actor remains.
#[actix_rt::test]
async fn uses_racing_the_passivation_lose_nothing() {
    let w = one_agent_world().await;
    let c = w.conversation("v").await;
    w.clock.advance(PASSIVATE_AFTER);
    let w = &w;
    let uses = futures::future::join_all(
        (0..10).map(|i| async move { w.send(c, "v", &format!("m{i}"), &format!("c-{i}")).await }),
    );
    let (_, sent) = futures::future::join(w.engine.tick_all(), uses).await;
    w.wait_for_seq(c, 20).await;
    let seqs: Vec<i64> = w.messages(c).iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    let mut customer: Vec<i64> = sent.iter().map(|m| m.seq).collect();
    customer.sort_unstable();
    customer.dedup();
    assert_eq!(customer.len(), 10);
    w.actors_in_memory(1).await;
}

/// Many uses of a passivated conversation at once: one actor is loaded,
/// every message is taken, seqs stay gap-free.
#[actix_rt::test]
async fn concurrent_uses_of_a_passivated_conversation_load_one_actor() {
    let w = one_agent_world().await;
    let c = w.conversation("v").await;
    w.pass(PASSIVATE_AFTER).await;
    w.actors_in_memory(0).await;

    let w = &w;
    let sent = futures::future::join_all(
        (0..20).map(|i| async move { w.send(c, "v", &format!("m{i}"), &format!("c-{i}")).await }),
    )
    .await;
    assert_eq!(w.engine.conversation_counts().actors, 1);
    // 20 questions and 20 answers.
    w.wait_for_seq(c, 40).await;
    let seqs: Vec<i64> = w.messages(c).iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
    let mut customer: Vec<i64> = sent.iter().map(|m| m.seq).collect();
    customer.sort_unstable();
    customer.dedup();
    assert_eq!(customer.len(), 20);
}

#[actix_rt::test]
async fn a_restart_with_passivated_conversations_loses_nothing() {
    let w = one_agent_world().await;
    let mut convs = Vec::new();
    for i in 0..5 {
        let visitor = format!("v{i}");
        let c = w.conversation(&visitor).await;
        w.send(c, &visitor, "hello", "c-1").await;
        w.wait_for_seq(c, 2).await;
        convs.push((c, visitor));
    }
    w.pass(PASSIVATE_AFTER).await;
    w.actors_in_memory(0).await;
    assert_eq!(w.engine.conversation_counts().passivated, 5);
    w.engine.flush().await.unwrap();
    w.engine.shutdown();

    let w = w.restarted().await;
    // Restored as at any start: live, with their logs.
    assert_eq!(w.engine.live_conversations(), 5);
    for (c, visitor) in &convs {
        let again = w.send(*c, visitor, "hello", "c-1").await;
        assert_eq!(again.seq, 1);
        let next = w.send(*c, visitor, "more", "c-2").await;
        assert_eq!(next.seq, 3);
        w.wait_for_seq(*c, 4).await;
    }
    // And they leave memory again once idle.
    w.pass(PASSIVATE_AFTER).await;
    w.actors_in_memory(0).await;
    assert_eq!(w.engine.conversation_counts().passivated, 5);
}

/// What a passivated conversation costs: no actor, one entry in the
/// passivated table (id and due time).
#[actix_rt::test]
async fn a_passivated_conversation_costs_a_table_entry() {
    let w = one_agent_world().await;
    let n = 2_000;
    for i in 0..n {
        w.conversation(&format!("v{i}")).await;
    }
    w.pass(PASSIVATE_AFTER).await;
    w.actors_in_memory(0).await;
    let counts = w.engine.conversation_counts();
    assert_eq!((counts.live, counts.passivated), (0, n), "{counts:?}");
    let per = counts.passivated_bytes / n;
    println!(
        "{n} passivated conversations: {} bytes of table, {per} bytes each (entry {} bytes)",
        counts.passivated_bytes,
        std::mem::size_of::<(ConversationId, Option<DateTime<Utc>>)>()
    );
    assert!(per <= 64, "{per} bytes per passivated conversation");
}
