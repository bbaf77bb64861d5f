//! The engine driven directly (no HTTP), as a load harness would: the
//! in-memory store, a manual clock and a scripted AI.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Duration;
use common::*;
use serde_json::json;
use switchboard_actors::domain::agents::AgentStatus;
use switchboard_actors::domain::conversation::ConversationStatus;
use switchboard_actors::engine::conversation::{GetConversation, PostMessage, Resolve};
use switchboard_actors::engine::project::{Claim, Heartbeat, ListAgents, SetAgentStatus};
use switchboard_actors::engine::views::HandoffOutcome;
use switchboard_actors::engine::{Caller, EngineError};
use switchboard_actors::ids::{ConversationId, UserId};

impl World {
    async fn counts(&self) -> Vec<(UserId, u32)> {
        let p = self.engine.project(self.project).await.unwrap();
        p.addr
            .send(ListAgents)
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.user_id, a.current_chat_count))
            .collect()
    }

    /// Assignments reach conversations asynchronously: wait (bounded) for it.
    async fn wait_status(
        &self,
        id: ConversationId,
        want: ConversationStatus,
    ) -> ConversationStatus {
        for _ in 0..200 {
            let s = self.status(id).await;
            if s == want {
                return s;
            }
            actix_rt::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        self.status(id).await
    }
}

#[actix_rt::test]
async fn twenty_concurrent_claims_have_exactly_one_winner() {
    let names: Vec<(String, u32)> = (0..20).map(|i| (format!("a{i}"), 3)).collect();
    let refs: Vec<(&str, u32)> = names.iter().map(|(n, m)| (n.as_str(), *m)).collect();
    let (w, agents) = world(&refs).await;
    // One agent online so the handoff queues rather than refusing... then
    // away, so nothing is auto-assigned and the claim race decides.
    w.online(agents[0]).await;
    let p = w.engine.project(w.project).await.unwrap();
    p.addr
        .send(SetAgentStatus {
            user_id: agents[0],
            status: AgentStatus::Away,
        })
        .await
        .unwrap()
        .unwrap();
    let conv = w.conversation("v").await;
    // away agents make handoff "all_offline": bring everyone online but at a
    // stale heartbeat so auto-assignment skips them, while claims still work.
    for a in &agents {
        w.online(*a).await;
    }
    w.clock.advance(Duration::minutes(6));
    let out = w.handoff(conv, "v").await;
    assert!(
        matches!(
            out,
            HandoffOutcome::Waiting {
                queue_position: 1,
                ..
            }
        ),
        "{out:?}"
    );
    let claims = agents.iter().map(|a| {
        p.addr.send(Claim {
            conversation_id: conv,
            agent_id: *a,
        })
    });
    let results = futures::future::join_all(claims).await;
    let wins = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    let lost = results
        .iter()
        .filter(|r| matches!(r, Ok(Err(EngineError::AlreadyClaimed))))
        .count();
    assert_eq!((wins, lost), (1, 19));
    let counts = w.counts().await;
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<u32>(), 1);
    assert_eq!(w.status(conv).await, ConversationStatus::AgentActive);
}

#[actix_rt::test]
async fn balanced_assignment_prefers_free_slots_then_longest_idle() {
    let (w, ids) = world(&[("small", 2), ("big", 3)]).await;
    let (small, big) = (ids[0], ids[1]);
    w.online(small).await;
    w.online(big).await;
    let mut got = Vec::new();
    for i in 0..4 {
        let v = format!("v{i}");
        let c = w.conversation(&v).await;
        match w.handoff(c, &v).await {
            HandoffOutcome::AgentActive { assigned_agent } => got.push(assigned_agent.id),
            other => panic!("{other:?}"),
        }
        w.clock.advance(Duration::seconds(1));
    }
    // big has 3 free > 2; then 2 vs 2: small never assigned goes first; then
    // 1 vs 2 -> big; then 1 vs 1: small was assigned longer ago.
    assert_eq!(got, vec![big, small, big, small]);
}

#[actix_rt::test]
async fn stale_heartbeat_makes_an_agent_ineligible_until_it_beats() {
    let (w, ids) = world(&[("a", 2)]).await;
    w.online(ids[0]).await;
    w.clock.advance(Duration::minutes(5) + Duration::seconds(1));
    let c = w.conversation("v").await;
    assert!(matches!(
        w.handoff(c, "v").await,
        HandoffOutcome::Waiting {
            queue_position: 1,
            ..
        }
    ));
    let p = w.engine.project(w.project).await.unwrap();
    p.addr
        .send(Heartbeat { user_id: ids[0] })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        w.wait_status(c, ConversationStatus::AgentActive).await,
        ConversationStatus::AgentActive
    );
    assert_eq!(w.counts().await, vec![(ids[0], 1)]);
}

#[actix_rt::test]
async fn queue_is_fifo_and_frees_up_as_agents_resolve() {
    let (w, ids) = world(&[("a", 1)]).await;
    w.online(ids[0]).await;
    let mut convs = Vec::new();
    for i in 0..3 {
        let v = format!("v{i}");
        let c = w.conversation(&v).await;
        w.handoff(c, &v).await;
        w.clock.advance(Duration::seconds(1));
        convs.push(c);
    }
    assert_eq!(w.status(convs[0]).await, ConversationStatus::AgentActive);
    assert_eq!(w.status(convs[1]).await, ConversationStatus::Waiting);
    let staff = Caller::System;
    let c0 = w.engine.live_conversation(convs[0]).await.unwrap().unwrap();
    c0.send(Resolve { caller: staff }).await.unwrap().unwrap();
    // freeing the slot hands the oldest waiting conversation over
    assert_eq!(
        w.wait_status(convs[1], ConversationStatus::AgentActive)
            .await,
        ConversationStatus::AgentActive
    );
    assert_eq!(w.status(convs[2]).await, ConversationStatus::Waiting);
    assert_eq!(w.counts().await, vec![(ids[0], 1)]);
}

#[actix_rt::test]
async fn restart_restores_messages_seqs_queue_and_counts() {
    let (w, ids) = world(&[("a", 1)]).await;
    w.online(ids[0]).await;
    let c1 = w.conversation("v1").await;
    let c2 = w.conversation("v2").await;
    for i in 0..5 {
        w.send(c1, "v1", &format!("hello {i}"), &format!("m{i}"))
            .await;
    }
    w.handoff(c1, "v1").await;
    w.handoff(c2, "v2").await;
    w.engine.flush().await.unwrap();
    w.engine.shutdown();

    let w2 = w.restarted().await;
    assert_eq!(w2.status(c1).await, ConversationStatus::AgentActive);
    assert_eq!(w2.status(c2).await, ConversationStatus::Waiting);
    assert_eq!(w2.counts().await, vec![(ids[0], 1)]);
    let seqs: Vec<i64> = w2.store.messages_of(c1).iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    // a retried send after the restart answers the first message
    let again = w2.send(c1, "v1", "hello 0", "m0").await;
    assert_eq!(again.seq, 1);
}

#[actix_rt::test]
async fn agents_without_heartbeats_go_offline_after_their_auto_offline_minutes() {
    let (w, ids) = world(&[("a", 2), ("b", 2)]).await;
    w.online(ids[0]).await;
    w.online(ids[1]).await;
    let p = w.engine.project(w.project).await.unwrap();
    // b keeps beating; a goes quiet.
    for _ in 0..6 {
        w.clock.advance(Duration::minutes(5));
        p.addr
            .send(Heartbeat { user_id: ids[1] })
            .await
            .unwrap()
            .unwrap();
        w.engine.tick_all().await;
    }
    let statuses = |list: Vec<switchboard_actors::engine::project::AgentView>| {
        list.into_iter()
            .map(|a| (a.user_id, a.status))
            .collect::<Vec<_>>()
    };
    // 30 minutes without a heartbeat: exactly the default limit.
    let now = statuses(p.addr.send(ListAgents).await.unwrap());
    assert!(now.contains(&(ids[0], AgentStatus::Offline)), "{now:?}");
    assert!(now.contains(&(ids[1], AgentStatus::Online)), "{now:?}");
}

impl World {
    async fn say(&self, id: ConversationId, visitor: &str, content: &str) {
        let c = self.engine.live_conversation(id).await.unwrap().unwrap();
        c.send(PostMessage {
            caller: self.customer(visitor),
            content: content.into(),
            client_msg_id: None,
            metadata: json!({}),
        })
        .await
        .unwrap()
        .unwrap();
    }
}

/// Activity times are written lazily, not with every message; the
/// engine's flush (run on shutdown) writes them.
#[actix_rt::test]
async fn flush_writes_the_activity_times_of_every_conversation() {
    let (w, ids) = world(&[("a", 1)]).await;
    w.online(ids[0]).await;
    // with an agent, so no AI answer races the assertions
    let c = w.conversation("v1").await;
    w.handoff(c, "v1").await;
    w.wait_status(c, ConversationStatus::AgentActive).await;
    let created = w.stored(c).last_message_at;
    w.clock.advance(Duration::minutes(3));
    w.say(c, "v1", "are you there?").await;
    let newest = w.store.messages_of(c).last().unwrap().created_at;
    assert!(newest > created);
    w.engine.flush().await.unwrap();
    let row = w.stored(c);
    assert_eq!(row.last_message_at, newest);
    assert_eq!(row.updated_at, newest);
}

/// After a crash the stored row may lag its newest messages: the restored
/// conversation takes its activity times from them.
#[actix_rt::test]
async fn restore_recovers_activity_times_from_the_newest_message() {
    let (w, ids) = world(&[("a", 1)]).await;
    w.online(ids[0]).await;
    // with an agent, so no AI answer races the assertions
    let c = w.conversation("v1").await;
    w.handoff(c, "v1").await;
    w.wait_status(c, ConversationStatus::AgentActive).await;
    let stale = w.stored(c);
    w.clock.advance(Duration::minutes(3));
    w.say(c, "v1", "hello").await;
    w.engine.flush().await.unwrap();
    let newest = w.store.messages_of(c).last().unwrap().created_at;
    w.engine.shutdown();
    // the crash: the row as it was before the message's lazy write
    w.store.put_conversation(stale.clone());
    let engine = start(&w.store, &w.clock).await;
    let live = engine.live_conversation(c).await.unwrap().unwrap();
    let view = live
        .send(GetConversation {
            caller: Caller::System,
        })
        .await
        .unwrap()
        .unwrap();
    assert!(newest > stale.last_message_at);
    assert_eq!(view.last_message_at, newest);
    engine.flush().await.unwrap();
    assert_eq!(w.stored(c).last_message_at, newest);
}

/// A restored conversation keeps only its recent log in memory, yet a
/// retried send older than that log is still recognised.
#[actix_rt::test]
async fn restart_recognises_retries_older_than_the_recent_log() {
    let (w, ids) = world(&[("a", 1)]).await;
    w.online(ids[0]).await;
    let c = w.conversation("v1").await;
    w.handoff(c, "v1").await;
    w.wait_status(c, ConversationStatus::AgentActive).await;
    let total = switchboard_actors::engine::conversation::LOG_CAPACITY + 20;
    for i in 0..total {
        w.send(c, "v1", &format!("hello {i}"), &format!("m{i}"))
            .await;
    }
    let first = w
        .store
        .messages_of(c)
        .into_iter()
        .find(|m| m.client_msg_id.as_deref() == Some("m0"))
        .unwrap();
    let last_seq = w.store.messages_of(c).last().unwrap().seq;
    w.engine.flush().await.unwrap();
    w.engine.shutdown();

    let w = w.restarted().await;
    let again = w.send(c, "v1", "hello 0", "m0").await;
    assert_eq!((again.seq, again.id), (first.seq, first.id));
    assert_eq!(w.store.messages_of(c).last().unwrap().seq, last_seq);
}
