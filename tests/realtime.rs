//! The WebSocket of docs/protocol.md section 4 with real clients: subscribe,
//! live events both ways, typing, gap-free seqs, exact replay after a
//! reconnect, idempotent sends, and the agent-side ops.

mod common;

use chrono::Duration;
use common::*;
use serde_json::{json, Value};

const RESET_Q: &str = "How do I reset my password?";
const RESET_A: &str = "Open Settings, choose Security, then press Reset password.";

/// A project with handoff on and one online agent, and a conversation
/// assigned to that agent.
async fn live_chat(app: &TestApp) -> (Project, Agent, String, String) {
    let project = app.create_project("Acme").await;
    app.enable_handoff(&project, |_| {}).await;
    let ana = app.add_agent(&project, "Ana", 3).await;
    app.set_status(&ana, &project, "online").await;
    let (id, customer) = app.assigned_conversation(&project, "visitor-1", &ana).await;
    (project, ana, id, customer)
}

fn message_seqs(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .filter(|e| e["event"] == json!("message"))
        .map(|e| e["seq"].as_i64().expect("message event without seq"))
        .collect()
}

#[actix_rt::test]
async fn messages_flow_live_both_ways() {
    let app = TestApp::start().await;
    let (_project, ana, id, customer) = live_chat(&app).await;
    let channel = format!("conversation:{id}");
    let last = app.conversation(&id, &customer).await["last_seq"]
        .as_i64()
        .expect("last_seq");
    assert_eq!(last, 2, "handoff and agent-joined system messages");

    let mut cws = app.ws(&customer).await;
    let mut aws = app.ws(&ana.token).await;
    assert_eq!(
        cws.subscribe(&channel, Some(last)).await,
        json!({ "channel": channel, "last_seq": last, "replayed_to": last, "more": false })
    );
    assert_eq!(
        aws.subscribe(&channel, Some(last)).await,
        json!({ "channel": channel, "last_seq": last, "replayed_to": last, "more": false })
    );

    // Customer -> agent over the socket.
    let sent = cws
        .op_ok(json!({
            "op": "send_message",
            "conversation_id": id,
            "content": "Hello from the widget",
            "client_msg_id": "w-1"
        }))
        .await;
    assert_eq!(sent["seq"], json!(last + 1));
    assert_eq!(sent["sender_type"], json!("customer"));
    assert_eq!(sent["content"], json!("Hello from the widget"));
    assert_eq!(sent["client_msg_id"], json!("w-1"));
    let ev = aws.expect_event("message").await;
    assert_eq!(ev["type"], json!("event"));
    assert_eq!(ev["channel"], json!(channel));
    assert_eq!(ev["seq"], json!(last + 1));
    assert_eq!(ev["data"], sent);
    assert!(ev["ts"].is_string(), "{ev}");

    // Agent -> customer over REST.
    let rest = app.say(&id, &ana.token, "Hi, Ana here").await;
    assert_eq!(rest["seq"], json!(last + 2));
    assert_eq!(rest["sender_type"], json!("agent"));
    assert_eq!(rest["sender_id"], json!(ana.user_id));
    let ev = cws.collect_events(&channel, "message", 2).await;
    assert_eq!(message_seqs(&ev), [last + 1, last + 2]);
    assert_eq!(ev[1]["data"], rest);

    // Agent -> customer over the socket.
    let sent = aws
        .op_ok(json!({
            "op": "send_message",
            "conversation_id": id,
            "content": "What seems to be the problem?",
            "client_msg_id": "a-1"
        }))
        .await;
    assert_eq!(sent["seq"], json!(last + 3));
    assert_eq!(sent["sender_type"], json!("agent"));
    let ev = cws.expect_event("message").await;
    assert_eq!(ev["seq"], json!(last + 3));
    assert_eq!(
        ev["data"]["content"],
        json!("What seems to be the problem?")
    );

    // Each durable event exactly once.
    let ev = aws.collect_events(&channel, "message", 2).await;
    assert_eq!(message_seqs(&ev), [last + 2, last + 3]);
    assert_eq!(message_seqs(&cws.drain().await), Vec::<i64>::new());
    assert_eq!(message_seqs(&aws.drain().await), Vec::<i64>::new());
}

#[actix_rt::test]
async fn typing_reaches_the_other_side_and_takes_no_seq() {
    let app = TestApp::start().await;
    let (_project, ana, id, customer) = live_chat(&app).await;
    let channel = format!("conversation:{id}");
    let mut cws = app.ws(&customer).await;
    let mut aws = app.ws(&ana.token).await;
    cws.subscribe(&channel, Some(2)).await;
    aws.subscribe(&channel, Some(2)).await;

    aws.op_ok(json!({ "op": "typing", "conversation_id": id, "is_typing": true }))
        .await;
    let ev = cws.expect_event("typing").await;
    assert_eq!(ev["channel"], json!(channel));
    assert!(
        ev.get("seq").is_none_or(Value::is_null),
        "typing has a seq: {ev}"
    );
    assert_eq!(ev["data"]["is_typing"], json!(true));

    // (The agent's socket may hear its own typing echoed; skip that.)
    aws.drain().await;
    cws.op_ok(json!({ "op": "typing", "conversation_id": id, "is_typing": false }))
        .await;
    let ev = aws.expect_event("typing").await;
    assert_eq!(ev["data"]["is_typing"], json!(false));

    // Ephemeral: nothing stored, the next message takes the next seq.
    assert_eq!(app.conversation(&id, &customer).await["last_seq"], json!(2));
    assert_eq!(app.say(&id, &customer, "hi").await["seq"], json!(3));
}

#[actix_rt::test]
async fn seqs_are_gap_free_and_a_reconnect_replays_exactly_the_missed_events() {
    let app = TestApp::start().await;
    let (_project, ana, id, customer) = live_chat(&app).await;
    let channel = format!("conversation:{id}");

    // From 0: the whole history, then live.
    let mut cws = app.ws(&customer).await;
    let sub = cws.subscribe(&channel, Some(0)).await;
    assert_eq!(sub["last_seq"], json!(2));
    let replay = cws.collect_events(&channel, "message", 2).await;
    assert_eq!(message_seqs(&replay), [1, 2]);

    for i in 0..3 {
        cws.op_ok(json!({
            "op": "send_message",
            "conversation_id": id,
            "content": format!("customer {i}"),
            "client_msg_id": format!("c-{i}")
        }))
        .await;
        app.say(&id, &ana.token, &format!("agent {i}")).await;
    }
    let live = cws.collect_events(&channel, "message", 6).await;
    assert_eq!(message_seqs(&live), [3, 4, 5, 6, 7, 8]);
    assert_eq!(message_seqs(&cws.drain().await), Vec::<i64>::new());
    cws.close().await;

    // While the customer is away: two agent messages, an internal note,
    // another agent message and one customer message from another tab.
    app.say(&id, &ana.token, "missed 1").await;
    app.say(&id, &ana.token, "missed 2").await;
    let note = app.note(&id, &ana.token, "customer seems upset").await;
    assert_eq!(note["seq"], json!(11));
    assert_eq!(note["internal"], json!(true));
    app.say(&id, &ana.token, "missed 3").await;
    app.say(&id, &customer, "from my phone").await;

    // Reconnect after seq 8: exactly 9, 10, 12, 13 (11 is staff-only).
    let mut cws = app.ws(&customer).await;
    let sub = cws.subscribe(&channel, Some(8)).await;
    assert_eq!(
        sub,
        json!({ "channel": channel, "last_seq": 13, "replayed_to": 13, "more": false })
    );
    let replay = cws.collect_events(&channel, "message", 4).await;
    assert_eq!(message_seqs(&replay), [9, 10, 12, 13]);
    assert_eq!(
        replay
            .iter()
            .map(|e| e["data"]["content"].clone())
            .collect::<Vec<_>>(),
        [
            json!("missed 1"),
            json!("missed 2"),
            json!("missed 3"),
            json!("from my phone")
        ]
    );
    assert_eq!(message_seqs(&cws.drain().await), Vec::<i64>::new());

    // Then live again, once.
    app.say(&id, &ana.token, "welcome back").await;
    let live = cws.collect_events(&channel, "message", 1).await;
    assert_eq!(message_seqs(&live), [14]);
    assert_eq!(message_seqs(&cws.drain().await), Vec::<i64>::new());

    // Staff replay from 0 sees every seq, the note included, with no gap.
    let mut aws = app.ws(&ana.token).await;
    let sub = aws.subscribe(&channel, Some(0)).await;
    assert_eq!(sub["last_seq"], json!(14));
    let all = aws.collect_events(&channel, "message", 14).await;
    assert_eq!(message_seqs(&all), (1..=14).collect::<Vec<_>>());
    assert_eq!(all[10]["data"]["internal"], json!(true));
    assert_eq!(message_seqs(&aws.drain().await), Vec::<i64>::new());

    // REST agrees: staff see 1..=14, the customer all but the note.
    let staff = app.get_messages(&id, &ana.token).await;
    assert_eq!(seqs(&staff), (1..=14).collect::<Vec<_>>());
    let mine = app.get_messages(&id, &customer).await;
    let mut expected: Vec<i64> = (1..=14).collect();
    expected.retain(|s| *s != 11);
    assert_eq!(seqs(&mine), expected);
    assert!(mine.iter().all(|m| m["internal"] == json!(false)));
}

#[actix_rt::test]
async fn client_msg_id_makes_sends_idempotent_over_rest_and_websocket() {
    let app = TestApp::start().await;
    let (_project, ana, id, customer) = live_chat(&app).await;
    let channel = format!("conversation:{id}");
    let mut aws = app.ws(&ana.token).await;
    aws.subscribe(&channel, Some(2)).await;
    let mut cws = app.ws(&customer).await;
    cws.subscribe(&channel, Some(2)).await;

    let (st1, first) = app
        .post_message_with_id(&id, &customer, "my order is late", "retry-1")
        .await;
    assert_eq!(st1, 201, "{first}");
    assert_eq!(first["seq"], json!(3));
    let (st2, again) = app
        .post_message_with_id(&id, &customer, "my order is late", "retry-1")
        .await;
    assert!(st2 == 200 || st2 == 201, "{st2} {again}");
    assert_eq!(again, first);
    // A retry returns the first message, even if the body differs.
    let (_, edited) = app
        .post_message_with_id(&id, &customer, "my order is VERY late", "retry-1")
        .await;
    assert_eq!(edited, first);
    let over_ws = cws
        .op_ok(json!({
            "op": "send_message",
            "conversation_id": id,
            "content": "my order is late",
            "client_msg_id": "retry-1"
        }))
        .await;
    assert_eq!(over_ws, first);

    // New over WS, retried over WS and over REST.
    let op = json!({
        "op": "send_message",
        "conversation_id": id,
        "content": "order 1234",
        "client_msg_id": "retry-2"
    });
    let second = cws.op_ok(op.clone()).await;
    assert_eq!(second["seq"], json!(4));
    assert_eq!(cws.op_ok(op).await, second);
    let (_, over_rest) = app
        .post_message_with_id(&id, &customer, "order 1234", "retry-2")
        .await;
    assert_eq!(over_rest, second);

    // No seq was spent on retries; each message was told once.
    assert_eq!(app.say(&id, &customer, "thanks").await["seq"], json!(5));
    let msgs = app.get_messages(&id, &ana.token).await;
    assert_eq!(seqs(&msgs), [1, 2, 3, 4, 5]);
    let told = aws.collect_events(&channel, "message", 3).await;
    assert_eq!(message_seqs(&told), [3, 4, 5]);
    assert_eq!(message_seqs(&aws.drain().await), Vec::<i64>::new());
}

#[actix_rt::test]
async fn a_retried_question_is_answered_by_the_ai_once() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await; // handoff disabled: AI only
    app.add_knowledge(&project, RESET_Q, RESET_A).await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    let channel = format!("conversation:{id}");
    let mut cws = app.ws(&customer).await;
    cws.subscribe(&channel, Some(0)).await;

    let op = json!({
        "op": "send_message",
        "conversation_id": id,
        "content": "how do I reset my password",
        "client_msg_id": "q-1"
    });
    let question = cws.op_ok(op.clone()).await;
    assert_eq!(question["seq"], json!(1));
    let answer = cws.collect_events(&channel, "message", 2).await;
    assert_eq!(message_seqs(&answer), [1, 2]);
    assert_eq!(answer[1]["data"]["sender_type"], json!("ai"));
    assert_eq!(answer[1]["data"]["content"], json!(RESET_A));
    assert_eq!(cws.op_ok(op).await, question);

    // The next question's answer comes right after it: no second answer
    // to the retried one slipped in between.
    cws.op_ok(json!({
        "op": "send_message",
        "conversation_id": id,
        "content": "how can I reset my password",
        "client_msg_id": "q-2"
    }))
    .await;
    let next = cws.collect_events(&channel, "message", 2).await;
    assert_eq!(message_seqs(&next), [3, 4]);
    let msgs = app.get_messages(&id, &customer).await;
    assert_eq!(sender_types(&msgs), ["customer", "ai", "customer", "ai"]);
}

#[actix_rt::test]
async fn ping_answers_pong() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (_conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let mut ws = app.ws(&customer).await;
    let reply = ws.send_op(json!({ "op": "ping", "ref": "p-1" })).await;
    assert_eq!(
        reply,
        json!({ "type": "reply", "ref": "p-1", "ok": true, "data": { "pong": true } })
    );
}

#[actix_rt::test]
async fn the_agent_hears_of_assignments_and_queue_changes() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 1).await;
    let mut aws = app.ws(&ana.token).await;
    let me = format!("agent:{}", ana.user_id);
    let team = format!("project:{}:agents", project.id);
    aws.subscribe(&me, None).await;
    aws.subscribe(&team, None).await;

    // Status over the socket.
    let view = aws
        .op_ok(json!({ "op": "set_status", "project_id": project.id, "status": "online" }))
        .await;
    assert_eq!(view["status"], json!("online"));
    aws.op_ok(json!({ "op": "heartbeat", "project_id": project.id }))
        .await;

    let (c1, _) = app.assigned_conversation(&project, "v1", &ana).await;
    let ev = aws.expect_event("conversation_assigned").await;
    assert_eq!(ev["channel"], json!(me));
    assert_eq!(ev["data"]["conversation_id"], json!(c1));

    // Ana is full: the next one waits and the team hears the queue grow.
    app.waiting_conversation(&project, "v2", 1).await;
    let ev = aws.expect_event("queue_updated").await;
    assert_eq!(ev["channel"], json!(team));
    assert_eq!(ev["data"]["waiting_count"], json!(1));
}

#[actix_rt::test]
async fn an_agent_claims_transfers_and_resolves_over_the_socket() {
    let (app, project) = TestApp::with_handoff().await;
    // Xena is online but stale, so only a claim brings her a chat.
    let xena = app.add_agent(&project, "Xena", 1).await;
    app.set_status(&xena, &project, "online").await;
    app.clock.advance(Duration::minutes(6));
    let holder = app.add_agent(&project, "Holder", 1).await;
    app.set_status(&holder, &project, "online").await;
    app.assigned_conversation(&project, "v0", &holder).await;
    let (id, customer) = app.waiting_conversation(&project, "v1", 1).await;

    let mut xws = app.ws(&xena.token).await;
    let claimed = xws
        .op_ok(json!({ "op": "claim", "conversation_id": id }))
        .await;
    assert_eq!(claimed["success"], json!(true), "{claimed}");
    let conv = app.conversation(&id, &customer).await;
    assert_eq!(conv["status"], json!("agent_active"));
    assert_eq!(conv["assigned_agent_id"], json!(xena.user_id));
    assert_eq!(app.chat_counts(&project, &[&xena, &holder]).await, [1, 1]);

    // She steps away (keeping the chat) and releases it to the queue;
    // nobody eligible takes it.
    xws.op_ok(json!({ "op": "set_status", "project_id": project.id, "status": "away" }))
        .await;
    xws.op_ok(json!({ "op": "transfer", "conversation_id": id, "to_agent_id": null }))
        .await;
    let conv = app.conversation(&id, &customer).await;
    assert_eq!(conv["status"], json!("waiting"));
    assert_eq!(conv["queue_position"], json!(1));
    assert_eq!(app.chat_counts(&project, &[&xena, &holder]).await, [0, 1]);

    // Back online over the socket: the queue is served, to her.
    xws.op_ok(json!({ "op": "set_status", "project_id": project.id, "status": "online" }))
        .await;
    let conv = app.wait_for_status(&id, &customer, "agent_active").await;
    assert_eq!(conv["assigned_agent_id"], json!(xena.user_id));
    assert_eq!(app.chat_counts(&project, &[&xena, &holder]).await, [1, 1]);

    xws.op_ok(json!({ "op": "resolve", "conversation_id": id }))
        .await;
    let conv = app.conversation(&id, &customer).await;
    assert_eq!(conv["status"], json!("resolved"));
    assert_eq!(app.chat_counts(&project, &[&xena, &holder]).await, [0, 1]);
}
