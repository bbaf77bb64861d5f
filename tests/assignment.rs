//! Assignment and the queue (seed 003 5.3-5.5): balanced order and its
//! tie-breaks, the FIFO queue and its positions, claim races, capacity,
//! transfer, resolve/reopen/close, and heartbeat freshness on the clock.

mod common;

use chrono::Duration;
use common::*;
use futures_util::future::join_all;
use serde_json::{json, Value};

#[actix_rt::test]
async fn balanced_assignment_prefers_free_slots_then_the_longest_idle_agent() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 3).await;
    let ben = app.add_agent(&project, "Ben", 2).await;
    let cy = app.add_agent(&project, "Cy", 1).await;
    for a in [&ana, &ben, &cy] {
        app.set_status(a, &project, "online").await;
    }

    // free slots (last assigned):   Ana      Ben      Cy
    // 1 -> Ana (most free)           3 (-)    2 (-)    1 (-)
    // 2 -> Ben (tie, never assigned) 2 (t1)   2 (-)    1 (-)
    // 3 -> Ana (most free)           2 (t1)   1 (t2)   1 (-)
    // 4 -> Cy  (tie, never assigned) 1 (t3)   1 (t2)   1 (-)
    // 5 -> Ben (tie, oldest)         1 (t3)   1 (t2)   0
    // 6 -> Ana                       1 (t3)   0        0
    let expected = [&ana, &ben, &ana, &cy, &ben, &ana];
    for (i, agent) in expected.iter().enumerate() {
        app.clock.advance(Duration::seconds(1));
        app.assigned_conversation(&project, &format!("visitor-{i}"), agent)
            .await;
    }
    app.clock.advance(Duration::seconds(1));
    app.waiting_conversation(&project, "visitor-last", 1).await;

    assert_eq!(
        app.chat_counts(&project, &[&ana, &ben, &cy]).await,
        [3, 2, 1]
    );
    for (agent, last) in [(&ana, "10:00:06"), (&ben, "10:00:05"), (&cy, "10:00:04")] {
        let view = app.agent_view(&project, agent).await;
        assert_eq!(view["available_slots"], json!(0), "{view}");
        assert_eq!(
            view["last_assigned_at"],
            json!(format!("2026-11-16T{last}.000Z")),
            "{view}"
        );
    }
}

#[actix_rt::test]
async fn full_ties_go_to_the_smallest_user_id() {
    let (app, project) = TestApp::with_handoff().await;
    let p = app.add_agent(&project, "Pat", 1).await;
    let q = app.add_agent(&project, "Quinn", 1).await;
    app.set_status(&p, &project, "online").await;
    app.set_status(&q, &project, "online").await;
    let (first, second) = if p.user_id < q.user_id {
        (&p, &q)
    } else {
        (&q, &p)
    };

    // Both never assigned, same free slots: the smaller id first.
    let (c1, _) = app.assigned_conversation(&project, "v1", first).await;
    let (c2, _) = app.assigned_conversation(&project, "v2", second).await;

    // Both now assigned at the same instant; free them both.
    app.clock.advance(Duration::seconds(1));
    assert_eq!(app.resolve(&c2, &second.token).await.0, 200);
    assert_eq!(app.resolve(&c1, &first.token).await.0, 200);
    assert_eq!(app.chat_counts(&project, &[first, second]).await, [0, 0]);

    // Same free slots, same last_assigned_at: the smaller id again.
    app.clock.advance(Duration::seconds(1));
    app.assigned_conversation(&project, "v3", first).await;
}

async fn position(app: &TestApp, id: &str, token: &str) -> Value {
    let conv = app.conversation(id, token).await;
    assert_eq!(conv["status"], json!("waiting"), "{conv}");
    let wait = &conv["estimated_wait_minutes"];
    assert!(
        wait.is_null() || wait.as_u64().is_some_and(|m| m >= 1),
        "estimated_wait_minutes {wait}"
    );
    conv["queue_position"].clone()
}

#[actix_rt::test]
async fn queue_is_first_in_first_out_and_positions_close_up_as_agents_free_up() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 1).await;
    let ben = app.add_agent(&project, "Ben", 1).await;
    app.set_status(&ana, &project, "online").await;
    let (c0, _) = app.assigned_conversation(&project, "v0", &ana).await;

    // Created in the order 1, 2, 3 but handed off in the order 3, 1, 2:
    // the queue follows queue_entered_at.
    let (c1, t1) = app.new_conversation(&project, "v1").await;
    let (c2, t2) = app.new_conversation(&project, "v2").await;
    let (c3, t3) = app.new_conversation(&project, "v3").await;
    let (c1, c2, c3) = (s(&c1["id"]), s(&c2["id"]), s(&c3["id"]));
    for (i, (id, token)) in [(&c3, &t3), (&c1, &t1), (&c2, &t2)].into_iter().enumerate() {
        app.clock.advance(Duration::seconds(1));
        let (status, body) = app.handoff(id, token, "button_click").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], json!("waiting"));
        assert_eq!(body["queue_position"], json!(i + 1));
    }
    assert_eq!(
        [
            position(&app, &c3, &t3).await,
            position(&app, &c1, &t1).await,
            position(&app, &c2, &t2).await
        ],
        [json!(1), json!(2), json!(3)]
    );

    // The customer of the last one hears its position move.
    let mut ws = app.ws(&t2).await;
    let channel = format!("conversation:{c2}");
    let sub = ws.subscribe(&channel, None).await;
    assert_eq!(sub["channel"], json!(channel));

    // Ana frees her slot: the oldest entry (c3) is hers.
    assert_eq!(app.resolve(&c0, &ana.token).await.0, 200);
    let conv = app.wait_for_status(&c3, &t3, "agent_active").await;
    assert_eq!(conv["assigned_agent_id"], json!(ana.user_id));
    assert_eq!(position(&app, &c1, &t1).await, json!(1));
    assert_eq!(position(&app, &c2, &t2).await, json!(2));
    let ev = ws.expect_event("queue_position").await;
    assert_eq!(ev["data"]["queue_position"], json!(2), "{ev}");

    // Ben comes online: the queue is processed, c1 is his.
    app.set_status(&ben, &project, "online").await;
    let conv = app.wait_for_status(&c1, &t1, "agent_active").await;
    assert_eq!(conv["assigned_agent_id"], json!(ben.user_id));
    assert_eq!(position(&app, &c2, &t2).await, json!(1));
    let ev = ws.expect_event("queue_position").await;
    assert_eq!(ev["data"]["queue_position"], json!(1), "{ev}");

    // Ana finishes c3: c2, the last one, is hers.
    assert_eq!(app.resolve(&c3, &ana.token).await.0, 200);
    let conv = app.wait_for_status(&c2, &t2, "agent_active").await;
    assert_eq!(conv["assigned_agent_id"], json!(ana.user_id));
    assert_eq!(app.chat_counts(&project, &[&ana, &ben]).await, [1, 1]);
}

#[actix_rt::test]
async fn twenty_agents_claiming_one_conversation_have_exactly_one_winner() {
    let (app, project) = TestApp::with_handoff().await;

    // Twenty claimers go online, then their heartbeats go stale: online and
    // free (so they may claim) but not eligible for automatic assignment
    // (so the conversation stays in the queue for them to fight over).
    let mut claimers = Vec::new();
    for i in 0..20 {
        let a = app.add_agent(&project, &format!("Claimer {i}"), 1).await;
        app.set_status(&a, &project, "online").await;
        claimers.push(a);
    }
    app.clock.advance(Duration::minutes(6));

    // A fresh agent holds one chat at her max, so the next handoff waits.
    let holder = app.add_agent(&project, "Holder", 1).await;
    app.set_status(&holder, &project, "online").await;
    app.assigned_conversation(&project, "v0", &holder).await;
    let (id, customer) = app.waiting_conversation(&project, "v1", 1).await;

    let results = join_all(claimers.iter().map(|a| app.claim(&id, &a.token))).await;

    let winners: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.0 == 200)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(winners.len(), 1, "winners: {results:#?}");
    let winner = &claimers[winners[0]];
    let (_, body) = &results[winners[0]];
    assert_eq!(body["success"], json!(true));
    assert_eq!(body["conversation"]["id"], json!(id));
    assert_eq!(body["conversation"]["status"], json!("agent_active"));
    assert_eq!(
        body["conversation"]["assigned_agent_id"],
        json!(winner.user_id)
    );
    for (i, (status, body)) in results.iter().enumerate() {
        if i == winners[0] {
            continue;
        }
        assert_eq!(*status, 409, "{body}");
        assert_eq!(body["success"], json!(false), "{body}");
        assert_eq!(body["error"], json!("ALREADY_CLAIMED"), "{body}");
        assert!(body["message"].is_string(), "{body}");
    }

    let conv = app.conversation(&id, &customer).await;
    assert_eq!(conv["status"], json!("agent_active"));
    assert_eq!(conv["assigned_agent_id"], json!(winner.user_id));
    let joined = app
        .get_messages(&id, &customer)
        .await
        .iter()
        .filter(|m| m["sender_type"] == json!("system"))
        .count();
    assert_eq!(joined, 2, "one handoff and exactly one join message");

    let agents = app.agents(&project).await;
    for a in &claimers {
        let view = agents
            .iter()
            .find(|v| v["user_id"] == json!(a.user_id))
            .expect("claimer listed");
        let expected = if a.user_id == winner.user_id { 1 } else { 0 };
        assert_eq!(view["current_chat_count"], json!(expected), "{view}");
    }
    assert_eq!(app.chat_counts(&project, &[&holder]).await, [1]);
}

#[actix_rt::test]
async fn an_agent_at_max_gets_nothing_more() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    app.assigned_conversation(&project, "v1", &ana).await;
    app.assigned_conversation(&project, "v2", &ana).await;
    let (id, customer) = app.waiting_conversation(&project, "v3", 1).await;

    // Not by claim...
    let (status, body) = app.claim(&id, &ana.token).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["success"], json!(false));
    assert_eq!(body["error"], json!("NO_CAPACITY"));
    // ...nor by heartbeat or the periodic queue processing.
    app.heartbeat(&ana, &project).await;
    app.advance(Duration::seconds(10)).await;
    app.advance(Duration::seconds(10)).await;
    let conv = app.conversation(&id, &customer).await;
    assert_eq!(conv["status"], json!("waiting"));
    assert_eq!(conv["assigned_agent_id"], json!(null));
    assert_eq!(conv["queue_position"], json!(1));
    let view = app.agent_view(&project, &ana).await;
    assert_eq!(view["current_chat_count"], json!(2));
    assert_eq!(view["max_concurrent_chats"], json!(2));
    assert_eq!(view["available_slots"], json!(0));

    // Raising her max makes room; the queue is served at the latest by the
    // periodic processing.
    let (status, body) = app
        .patch(
            &format!("/api/projects/{}/agents/{}", project.id, ana.user_id),
            app.admin_token(),
            json!({ "max_concurrent_chats": 3 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["max_concurrent_chats"], json!(3), "{body}");
    app.advance(Duration::seconds(10)).await;
    let conv = app.wait_for_status(&id, &customer, "agent_active").await;
    assert_eq!(conv["assigned_agent_id"], json!(ana.user_id));
    let view = app.agent_view(&project, &ana).await;
    assert_eq!(view["current_chat_count"], json!(3));
    assert_eq!(view["available_slots"], json!(0));
}

#[actix_rt::test]
async fn transfer_back_to_the_queue_and_to_another_agent() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 1).await;
    let ben = app.add_agent(&project, "Ben", 1).await;
    app.set_status(&ana, &project, "online").await;
    let (id, customer) = app.assigned_conversation(&project, "v1", &ana).await;
    let seq_before = app.conversation(&id, &customer).await["last_seq"]
        .as_i64()
        .expect("last_seq");

    // Ana steps away and releases the chat to the queue; nobody can take it.
    app.set_status(&ana, &project, "away").await;
    app.clock.advance(Duration::seconds(5));
    let (status, body) = app.transfer(&id, &ana.token, None).await;
    assert_eq!(status, 200, "{body}");
    let conv = app.conversation(&id, &customer).await;
    assert_eq!(conv["status"], json!("waiting"));
    assert_eq!(conv["assigned_agent_id"], json!(null));
    assert_eq!(conv["queue_position"], json!(1));
    assert_eq!(app.chat_counts(&project, &[&ana, &ben]).await, [0, 0]);

    // Ben comes online and gets it from the queue.
    app.set_status(&ben, &project, "online").await;
    let conv = app.wait_for_status(&id, &customer, "agent_active").await;
    assert_eq!(conv["assigned_agent_id"], json!(ben.user_id));
    assert_eq!(app.chat_counts(&project, &[&ana, &ben]).await, [0, 1]);

    // Ben hands it straight to Ana, who is back.
    app.set_status(&ana, &project, "online").await;
    let (status, body) = app.transfer(&id, &ben.token, Some(&ana.user_id)).await;
    assert_eq!(status, 200, "{body}");
    let conv = app.conversation(&id, &customer).await;
    assert_eq!(conv["status"], json!("agent_active"));
    assert_eq!(conv["assigned_agent_id"], json!(ana.user_id));
    assert_eq!(app.chat_counts(&project, &[&ana, &ben]).await, [1, 0]);

    // Ben no longer holds it: he may not transfer it again.
    let res = app.transfer(&id, &ben.token, None).await;
    assert_error(&res, 403, "FORBIDDEN");

    // Every step left a system message; the log stays gap-free.
    let msgs = app.get_messages(&id, &ana.token).await;
    let n = msgs.len() as i64;
    assert_eq!(seqs(&msgs), (1..=n).collect::<Vec<_>>());
    assert!(n >= seq_before + 2, "transfers wrote no system messages");
    assert!(msgs[seq_before as usize..]
        .iter()
        .all(|m| m["sender_type"] == json!("system")));

    // An admin may put it back in the queue as well.
    app.set_status(&ana, &project, "away").await;
    app.set_status(&ben, &project, "away").await;
    let (status, body) = app.transfer(&id, app.admin_token(), None).await;
    assert_eq!(status, 200, "{body}");
    let conv = app.conversation(&id, &customer).await;
    assert_eq!(conv["status"], json!("waiting"));
    assert_eq!(app.chat_counts(&project, &[&ana, &ben]).await, [0, 0]);
}

#[actix_rt::test]
async fn resolve_then_a_customer_reply_reopens_to_the_same_agent_then_close() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (id, customer) = app.assigned_conversation(&project, "v1", &ana).await;
    app.say(&id, &ana.token, "Hello, I'm Ana. How can I help?")
        .await;

    app.clock.advance(Duration::minutes(3));
    let (status, body) = app.resolve(&id, &ana.token).await;
    assert_eq!(status, 200, "{body}");
    let conv = app.conversation(&id, &customer).await;
    assert_eq!(conv["status"], json!("resolved"));
    assert_eq!(conv["resolved_at"], json!("2026-11-16T10:03:00.000Z"));
    assert_eq!(app.chat_counts(&project, &[&ana]).await, [0]);

    // The customer writes again: back to Ana, who has a free slot.
    let reply = app.say(&id, &customer, "Sorry, one more thing").await;
    assert_eq!(reply["sender_type"], json!("customer"));
    let conv = app.wait_for_status(&id, &customer, "agent_active").await;
    assert_eq!(conv["assigned_agent_id"], json!(ana.user_id));
    assert_eq!(app.chat_counts(&project, &[&ana]).await, [1]);

    // The customer closes: terminal, the slot is free again.
    let (status, body) = app.close(&id, &customer).await;
    assert_eq!(status, 200, "{body}");
    let conv = app.conversation(&id, &customer).await;
    assert_eq!(conv["status"], json!("closed"));
    assert_eq!(app.chat_counts(&project, &[&ana]).await, [0]);

    let msgs = app.get_messages(&id, &customer).await;
    let n = msgs.len() as i64;
    assert_eq!(seqs(&msgs), (1..=n).collect::<Vec<_>>());
    let res = app.post_message(&id, &customer, "hello?").await;
    assert_error(&res, 400, "INVALID_TRANSITION");
    let res = app.resolve(&id, &ana.token).await;
    assert_error(&res, 400, "INVALID_TRANSITION");
    assert_eq!(app.get_messages(&id, &customer).await, msgs);
    assert_eq!(
        app.conversation(&id, &customer).await["status"],
        json!("closed")
    );
}

#[actix_rt::test]
async fn a_reply_to_a_resolved_chat_waits_in_the_queue_when_its_agent_is_full() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 1).await;
    app.set_status(&ana, &project, "online").await;
    let (c1, t1) = app.assigned_conversation(&project, "v1", &ana).await;
    assert_eq!(app.resolve(&c1, &ana.token).await.0, 200);
    app.assigned_conversation(&project, "v2", &ana).await;

    app.say(&c1, &t1, "It broke again").await;
    let conv = app.wait_for_status(&c1, &t1, "waiting").await;
    assert_eq!(conv["queue_position"], json!(1));
    assert_eq!(conv["assigned_agent_id"], json!(null));
    assert_eq!(app.chat_counts(&project, &[&ana]).await, [1]);
}

#[actix_rt::test]
async fn a_stale_heartbeat_makes_an_agent_ineligible_until_it_beats_again() {
    let (app, project) = TestApp::with_handoff().await;
    // Ana has far more room than Ben: fresh, she would always win.
    let ana = app.add_agent(&project, "Ana", 5).await;
    let ben = app.add_agent(&project, "Ben", 1).await;
    app.set_status(&ana, &project, "online").await;
    app.set_status(&ben, &project, "online").await;

    app.clock.advance(Duration::minutes(4));
    app.heartbeat(&ben, &project).await;
    app.clock.advance(Duration::minutes(2));
    // Now Ana was last seen 6 minutes ago, Ben 2 minutes ago.
    let view = app.agent_view(&project, &ana).await;
    assert_eq!(view["last_seen_at"], json!("2026-11-16T10:00:00.000Z"));
    assert_eq!(view["status"], json!("online"));
    let view = app.agent_view(&project, &ben).await;
    assert_eq!(view["last_seen_at"], json!("2026-11-16T10:04:00.000Z"));

    app.assigned_conversation(&project, "v1", &ben).await;
    let (id, customer) = app.waiting_conversation(&project, "v2", 1).await;
    assert_eq!(app.chat_counts(&project, &[&ana, &ben]).await, [0, 1]);

    // Ana's heartbeat makes her fresh and serves the queue.
    app.heartbeat(&ana, &project).await;
    let conv = app.wait_for_status(&id, &customer, "agent_active").await;
    assert_eq!(conv["assigned_agent_id"], json!(ana.user_id));
    assert_eq!(app.chat_counts(&project, &[&ana, &ben]).await, [1, 1]);
    let view = app.agent_view(&project, &ana).await;
    assert_eq!(view["last_seen_at"], json!("2026-11-16T10:06:00.000Z"));
}
