//! Restart of the server on the same database file (docs/architecture.md invariant 5,
//! docs/protocol.md section 5.1): every acknowledged message, the conversations,
//! the queue order and the agents' statuses and counts are intact, and work
//! goes on from there.

mod common;

use chrono::Duration;
use common::*;
use serde_json::{json, Value};

const RESET_Q: &str = "How do I reset my password?";
const RESET_A: &str = "Open Settings, choose Security, then press Reset password.";

/// The facts about an agent that must survive a restart.
fn agent_facts(list: &[Value]) -> Vec<Value> {
    let mut facts: Vec<Value> = list
        .iter()
        .map(|a| {
            json!({
                "user_id": a["user_id"],
                "status": a["status"],
                "current_chat_count": a["current_chat_count"],
                "max_concurrent_chats": a["max_concurrent_chats"],
                "last_seen_at": a["last_seen_at"],
                "last_assigned_at": a["last_assigned_at"],
            })
        })
        .collect();
    facts.sort_by_key(|f| f["user_id"].to_string());
    facts
}

/// The facts about a conversation that must survive a restart.
fn conversation_facts(c: &Value) -> Value {
    json!({
        "id": c["id"],
        "status": c["status"],
        "assigned_agent_id": c["assigned_agent_id"],
        "handoff_reason": c["handoff_reason"],
        "queue_entered_at": c["queue_entered_at"],
        "claimed_at": c["claimed_at"],
        "queue_position": c["queue_position"],
        "last_seq": c["last_seq"],
        "tags": c["tags"],
    })
}

#[actix_rt::test]
async fn a_restart_mid_conversation_loses_nothing_and_work_goes_on() {
    let (mut app, project) = TestApp::with_handoff().await;
    app.add_knowledge(&project, RESET_Q, RESET_A).await;
    let ana = app.add_agent(&project, "Ana", 1).await;
    let ben = app.add_agent(&project, "Ben", 2).await;
    let cy = app.add_agent(&project, "Cy", 2).await; // stays offline
    app.set_status(&ana, &project, "online").await;
    app.set_status(&ben, &project, "away").await;

    // A live chat with some history, an internal note and tags.
    let (c1, t1) = app.assigned_conversation(&project, "v1", &ana).await;
    for i in 0..3 {
        app.say(&c1, &t1, &format!("customer says {i}")).await;
        app.say(&c1, &ana.token, &format!("ana says {i}")).await;
    }
    app.note(&c1, &ana.token, "refund approved").await;
    let (status, body) = app
        .put(
            &format!("/api/conversations/{c1}/tags"),
            &ana.token,
            json!({ "tags": ["billing", "vip"] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Two waiting, in order.
    app.clock.advance(Duration::seconds(1));
    let (c2, t2) = app.waiting_conversation(&project, "v2", 1).await;
    app.clock.advance(Duration::seconds(1));
    let (c3, t3) = app.waiting_conversation(&project, "v3", 2).await;
    // One still with the AI.
    let (c4, t4) = app.new_conversation(&project, "v4").await;
    let c4 = s(&c4["id"]);
    app.say(&c4, &t4, "how do I reset my password").await;
    app.wait_for_sender(&c4, &t4, "ai", 0).await;

    let convs = [(&c1, &t1), (&c2, &t2), (&c3, &t3), (&c4, &t4)];
    let mut before = Vec::new();
    for (id, token) in convs {
        before.push((
            conversation_facts(&app.conversation(id, token).await),
            app.get_messages(id, &ana.token).await,
        ));
    }
    let agents_before = agent_facts(&app.agents(&project).await);
    assert_eq!(before[0].1.len(), 2 + 6 + 1);

    app.restart().await;

    // Everything as it was, byte for byte where it was acknowledged.
    for ((id, token), (facts, msgs)) in convs.iter().zip(&before) {
        assert_eq!(
            &conversation_facts(&app.conversation(id, token).await),
            facts
        );
        assert_eq!(&app.get_messages(id, &ana.token).await, msgs);
    }
    assert_eq!(agent_facts(&app.agents(&project).await), agents_before);
    let statuses: Vec<Value> = [&ana, &ben, &cy]
        .iter()
        .map(|a| {
            agents_before
                .iter()
                .find(|f| f["user_id"] == json!(a.user_id))
                .expect("listed")["status"]
                .clone()
        })
        .collect();
    assert_eq!(statuses, [json!("online"), json!("away"), json!("offline")]);

    // Work goes on: the next seq follows, the queue is served in order,
    // a new handoff joins the end of the queue, the AI still answers.
    let next = app.say(&c1, &t1, "are you still there?").await;
    assert_eq!(next["seq"], json!(10));
    app.clock.advance(Duration::seconds(1));
    let (_c5, _t5) = app.waiting_conversation(&project, "v5", 3).await;
    assert_eq!(app.resolve(&c1, &ana.token).await.0, 200);
    let conv = app.wait_for_status(&c2, &t2, "agent_active").await;
    assert_eq!(conv["assigned_agent_id"], json!(ana.user_id));
    assert_eq!(app.conversation(&c3, &t3).await["queue_position"], json!(1));
    assert_eq!(
        app.chat_counts(&project, &[&ana, &ben, &cy]).await,
        [1, 0, 0]
    );
    app.say(&c4, &t4, "how can I reset my password").await;
    let answer = app.wait_for_sender(&c4, &t4, "ai", 3).await;
    assert_eq!(answer["seq"], json!(4));
    assert_eq!(answer["content"], json!(RESET_A));
}

#[actix_rt::test]
async fn messages_acknowledged_over_the_socket_survive_an_immediate_restart() {
    let (mut app, project, ana) = TestApp::with_agent_online().await;
    let (id, customer) = app.assigned_conversation(&project, "v1", &ana).await;
    let channel = format!("conversation:{id}");

    // Twenty sends pipelined from two sockets, without waiting in between.
    let mut cws = app.ws(&customer).await;
    let mut aws = app.ws(&ana.token).await;
    for i in 0..10 {
        cws.send_text(
            json!({
                "op": "send_message",
                "ref": format!("c{i}"),
                "conversation_id": id,
                "content": format!("customer {i}"),
                "client_msg_id": format!("c-{i}")
            })
            .to_string(),
        )
        .await;
        aws.send_text(
            json!({
                "op": "send_message",
                "ref": format!("a{i}"),
                "conversation_id": id,
                "content": format!("agent {i}"),
                "client_msg_id": format!("a-{i}")
            })
            .to_string(),
        )
        .await;
    }
    let mut acked: Vec<Value> = Vec::new();
    for reply in cws
        .replies(10)
        .await
        .into_iter()
        .chain(aws.replies(10).await)
    {
        assert_eq!(reply["ok"], json!(true), "{reply}");
        acked.push(reply["data"].clone());
    }
    acked.sort_by_key(|m| m["seq"].as_i64());
    assert_eq!(seqs(&acked), (3..=22).collect::<Vec<_>>());
    drop(cws);
    drop(aws);

    app.restart().await;

    let msgs = app.get_messages(&id, &ana.token).await;
    assert_eq!(seqs(&msgs), (1..=22).collect::<Vec<_>>());
    assert_eq!(&msgs[2..], &acked[..]);

    // A reconnect after seq 2 replays exactly the twenty.
    let mut cws = app.ws(&customer).await;
    let sub = cws.subscribe(&channel, Some(2)).await;
    assert_eq!(sub["last_seq"], json!(22));
    let replay = cws.collect_events(&channel, "message", 20).await;
    let data: Vec<Value> = replay.iter().map(|e| e["data"].clone()).collect();
    assert_eq!(data, acked);
    assert_eq!(
        cws.drain()
            .await
            .iter()
            .filter(|e| e["event"] == json!("message"))
            .count(),
        0
    );

    // Retries after the restart still find the first message.
    let (_, retry) = app
        .post_message_with_id(&id, &customer, "customer 0", "c-0")
        .await;
    assert_eq!(
        retry,
        *acked
            .iter()
            .find(|m| m["client_msg_id"] == json!("c-0"))
            .expect("c-0")
    );
    assert_eq!(app.say(&id, &customer, "done").await["seq"], json!(23));
}
