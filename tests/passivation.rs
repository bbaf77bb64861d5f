//! Idle AI conversations leave memory (issue 14 item 8) and come back on
//! their next use, through the real server on either store: a burst of
//! widget conversations nobody continues costs a table entry each after
//! the idle period, not a live actor for a day, and a customer who returns
//! finds everything as they left it (REST, WebSocket replay, seqs, the AI).

mod common;

use chrono::Duration;
use common::*;
use serde_json::json;
use switchboard_actors::engine::conversation::PASSIVATE_AFTER;

/// Let the server look at the clock until `n` conversations are passivated.
/// An AI answer is stored a moment before its actor has finished with it
/// (and a busy conversation does not passivate), so one look right after
/// the answer may come too early; the bound is ASYNC_BOUND.
async fn until_passivated(app: &TestApp, n: usize) {
    let deadline = std::time::Instant::now() + ASYNC_BOUND;
    loop {
        app.tick().await;
        let counts = app.engine().conversation_counts();
        if counts.passivated == n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never {n} passivated: {counts:?}"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[actix_rt::test]
async fn abandoned_widget_conversations_leave_memory_and_come_back_whole() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let mut chats = Vec::new();
    for i in 0..20 {
        let (conv, token) = app.new_conversation(&project, &format!("v-{i}")).await;
        let id = s(&conv["id"]);
        app.say(&id, &token, "hello").await;
        // The AI's answer is message 2.
        app.wait_for_messages(&id, &token, 2).await;
        chats.push((id, token));
    }
    let counts = app.engine().conversation_counts();
    assert_eq!((counts.live, counts.passivated), (20, 0), "{counts:?}");

    app.advance(PASSIVATE_AFTER - Duration::seconds(1)).await;
    assert_eq!(app.engine().conversation_counts().live, 20);
    app.clock.advance(Duration::seconds(1));
    until_passivated(&app, 20).await;
    assert_eq!(app.engine().conversation_counts().live, 0);

    // A returning customer: REST reads and writes as before, seqs go on.
    let (id, token) = &chats[0];
    let conv = app.conversation(id, token).await;
    assert_eq!(conv["status"], json!("ai_active"));
    let (code, again) = app.post_message(id, token, "are you there?").await;
    assert_eq!(code, 201, "{again}");
    assert_eq!(again["seq"], json!(3));
    let messages = app.wait_for_messages(id, token, 4).await;
    let seqs: Vec<i64> = messages
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    assert_eq!(app.engine().conversation_counts().live, 1);

    // Another over the WebSocket: the replay holds what it had.
    let (id, token) = &chats[1];
    let mut ws = app.ws(token).await;
    let sub = ws.subscribe(&format!("conversation:{id}"), Some(0)).await;
    let replayed = ws
        .collect_events(&format!("conversation:{id}"), "message", 2)
        .await;
    assert_eq!(replayed.len(), 2, "subscribe {sub}: {replayed:?}");
    assert_eq!(replayed[0]["data"]["content"], json!("hello"));
    // Watched now: it stays however long the customer reads.
    // The first, unwatched since its REST use, goes again.
    app.clock.advance(PASSIVATE_AFTER * 2);
    until_passivated(&app, 19).await;
    assert_eq!(app.engine().conversation_counts().live, 1);
    drop(ws);

    // The agent's view lists every one, in memory or not.
    let (code, list) = app
        .get(
            &format!("/api/conversations?project_id={}&limit=100", project.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(code, 200, "{list}");
    let listed = list["items"]
        .as_array()
        .or(list.as_array())
        .map(Vec::len)
        .unwrap_or(0);
    assert_eq!(listed, 20, "{list}");
}

/// A passivated conversation still closes a day after its last activity:
/// the engine reloads it when its next timeout falls due.
#[actix_rt::test]
async fn a_passivated_conversation_still_closes_on_time() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (conv, token) = app.new_conversation(&project, "v").await;
    let id = s(&conv["id"]);
    app.say(&id, &token, "hello").await;
    app.wait_for_messages(&id, &token, 2).await;
    app.clock.advance(PASSIVATE_AFTER);
    until_passivated(&app, 1).await;

    app.advance(Duration::hours(24)).await;
    // A day on, staff sign in again (their token expired meanwhile).
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let closed = app.wait_for_status(&id, &admin, "closed").await;
    assert_eq!(closed["status"], json!("closed"), "{closed}");
    let counts = app.engine().conversation_counts();
    assert_eq!((counts.live, counts.passivated), (0, 0), "{counts:?}");
}
