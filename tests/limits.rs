//! Rate limits (seed 003 8.3): widget message sends per visitor, dashboard
//! calls per staff user, heartbeats per agent; 429 RATE_LIMITED with a
//! Retry-After over REST, an error reply with `retry_after` over WebSocket,
//! refills driven by the ManualClock, and nothing changed by a refused
//! request. The other test files run with the limits off (see
//! `common::test_config`); these turn on the seed's defaults.

mod common;

use awc::http::Method;
use chrono::Duration;
use common::*;
use serde_json::{json, Value};
use switchboard::limits::RateLimits;
use switchboard_actors::clock::ManualClock;

async fn start_limited(limits: RateLimits) -> TestApp {
    TestApp::start_with_config(ManualClock::at_default(), |c| c.rate_limits = limits).await
}

/// POST a customer message: `(status, Retry-After, body)`.
async fn send(
    app: &TestApp,
    conv: &str,
    token: &str,
    content: &str,
) -> (u16, Option<String>, Value) {
    app.call_with_header(
        Method::POST,
        &format!("/api/conversations/{conv}/messages"),
        Auth::Bearer(token),
        Some(json!({ "content": content, "client_msg_id": content })),
        "retry-after",
    )
    .await
}

fn assert_limited(res: &(u16, Option<String>, Value), retry_after: &str) {
    let (status, header, body) = res;
    assert_eq!(*status, 429, "expected 429: {body}");
    assert_eq!(body["error"], json!("RATE_LIMITED"), "{body}");
    assert_eq!(header.as_deref(), Some(retry_after), "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("per minute"), "{body}");
}

/// POST a heartbeat: `(status, Retry-After, body)`.
async fn beat(app: &TestApp, project: &Project, token: &str) -> (u16, Option<String>, Value) {
    app.call_with_header(
        Method::POST,
        "/api/agent/heartbeat",
        Auth::Bearer(token),
        Some(json!({ "project_id": project.id })),
        "retry-after",
    )
    .await
}

fn customer_contents(msgs: &[Value]) -> Vec<String> {
    msgs.iter()
        .filter(|m| m["sender_type"] == json!("customer"))
        .map(|m| s(&m["content"]))
        .collect()
}

#[actix_rt::test]
async fn a_visitor_sends_ten_messages_a_minute_then_waits() {
    let app = start_limited(RateLimits::default()).await;
    let project = app.create_project("Acme").await;
    let (conv, token) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    for i in 1..=10 {
        let (status, _, body) = send(&app, &id, &token, &format!("m{i}")).await;
        assert_eq!(status, 201, "message {i}: {body}");
    }
    // 10/minute is one token every 6 s: the 11th waits 6 s.
    assert_limited(&send(&app, &id, &token, "refused-1").await, "6");

    // The refused message was never stored (nor is it, a moment later).
    actix_rt::time::sleep(QUIET).await;
    let msgs = app.get_messages(&id, &token).await;
    let expected: Vec<String> = (1..=10).map(|i| format!("m{i}")).collect();
    assert_eq!(customer_contents(&msgs), expected);

    // The limit is the visitor's, not the conversation's: a second
    // conversation of the same visitor is limited too...
    let (conv_b, token_b) = app.new_conversation(&project, "visitor-1").await;
    assert_limited(
        &send(&app, &s(&conv_b["id"]), &token_b, "refused-2").await,
        "6",
    );
    // ...and another visitor is not.
    let (conv2, token2) = app.new_conversation(&project, "visitor-2").await;
    let (status, _, body) = send(&app, &s(&conv2["id"]), &token2, "other").await;
    assert_eq!(status, 201, "{body}");

    // Refill: 5 s on, one second is left (rounded up); at 6 s one token.
    app.advance(Duration::seconds(5)).await;
    assert_limited(&send(&app, &id, &token, "refused-3").await, "1");
    app.advance(Duration::seconds(1)).await;
    let (status, _, body) = send(&app, &id, &token, "m11").await;
    assert_eq!(status, 201, "after the refill: {body}");
    assert_limited(&send(&app, &id, &token, "refused-4").await, "6");

    let msgs = app.get_messages(&id, &token).await;
    let contents = customer_contents(&msgs);
    assert_eq!(contents.len(), 11, "{contents:?}");
    assert!(contents.iter().all(|c| !c.starts_with("refused")));
}

#[actix_rt::test]
async fn a_limited_websocket_send_gets_an_error_reply_and_the_socket_stays_open() {
    let app = start_limited(RateLimits::default()).await;
    let project = app.create_project("Acme").await;
    let (conv, token) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    let mut ws = app.ws(&token).await;
    let op = |n: &str| json!({ "op": "send_message", "conversation_id": id, "content": n, "client_msg_id": n });
    for i in 1..=10 {
        ws.op_ok(op(&format!("m{i}"))).await;
    }
    let reply = ws
        .send_op(json!({
            "op": "send_message", "ref": "over", "conversation_id": id,
            "content": "refused", "client_msg_id": "refused",
        }))
        .await;
    assert_eq!(reply["type"], json!("reply"), "{reply}");
    assert_eq!(reply["ref"], json!("over"), "{reply}");
    assert_eq!(reply["ok"], json!(false), "{reply}");
    assert_eq!(reply["error"], json!("RATE_LIMITED"), "{reply}");
    assert_eq!(reply["retry_after"], json!(6), "{reply}");
    assert!(reply["message"].as_str().is_some_and(|m| !m.is_empty()));

    // Still open and answering.
    assert_eq!(ws.op_ok(json!({ "op": "ping" })).await["pong"], json!(true));
    // REST and WebSocket share the visitor's bucket.
    assert_limited(&send(&app, &id, &token, "refused-rest").await, "6");

    app.advance(Duration::seconds(6)).await;
    ws.op_ok(op("m11")).await;
    let msgs = app.get_messages(&id, &token).await;
    let contents = customer_contents(&msgs);
    assert_eq!(contents.len(), 11, "{contents:?}");
    assert!(contents.iter().all(|c| !c.starts_with("refused")));
}

#[actix_rt::test]
async fn a_staff_user_makes_a_hundred_dashboard_calls_a_minute() {
    let app = start_limited(RateLimits::default()).await;
    let project = app.create_project("Acme").await;
    // A fresh user: nothing has used the agent's token yet.
    let ana = app.add_agent(&project, "Ana", 3).await;
    for i in 1..=100 {
        let (status, body) = app.get("/api/auth/me", &ana.token).await;
        assert_eq!(status, 200, "call {i}: {body}");
    }
    // 100/minute is one token every 0.6 s: Retry-After rounds up to 1.
    let res = app
        .call_with_header(
            Method::GET,
            "/api/auth/me",
            Auth::Bearer(&ana.token),
            None,
            "retry-after",
        )
        .await;
    assert_limited(&res, "1");

    // A refused call changes nothing: the status stays offline.
    let res = app
        .call_with_header(
            Method::PUT,
            "/api/agent/status",
            Auth::Bearer(&ana.token),
            Some(json!({ "project_id": project.id, "status": "online" })),
            "retry-after",
        )
        .await;
    assert_limited(&res, "1");
    // The admin is another user with a bucket of its own.
    assert_eq!(
        app.agent_view(&project, &ana).await["status"],
        json!("offline")
    );
    let (status, body) = app.get("/api/auth/me", app.admin_token()).await;
    assert_eq!(status, 200, "{body}");

    // One second refills 1.67 calls: one goes through, the next waits.
    app.advance(Duration::seconds(1)).await;
    app.set_status(&ana, &project, "online").await;
    let (status, body) = app.get("/api/auth/me", &ana.token).await;
    assert_error(&(status, body), 429, "RATE_LIMITED");
}

#[actix_rt::test]
async fn an_agent_beats_twice_a_minute_with_one_to_spare() {
    let app = start_limited(RateLimits::default()).await;
    let project = app.create_project("Acme").await;
    let ana = app.add_agent(&project, "Ana", 3).await;
    let bob = app.add_agent(&project, "Bob", 3).await;
    app.set_status(&ana, &project, "online").await;
    // Burst of 3 (2/minute plus the slack), then one every 30 s.
    for i in 1..=3 {
        let (status, _, body) = beat(&app, &project, &ana.token).await;
        assert_eq!(status, 204, "heartbeat {i}: {body}");
    }
    assert_limited(&beat(&app, &project, &ana.token).await, "30");
    // Bob's heartbeats are his own.
    app.heartbeat(&bob, &project).await;

    // Over WebSocket the same bucket answers an error reply, and the
    // socket stays usable for other ops.
    let mut ws = app.ws(&ana.token).await;
    let reply = ws
        .send_op(json!({ "op": "heartbeat", "project_id": project.id }))
        .await;
    assert_eq!(reply["ok"], json!(false), "{reply}");
    assert_eq!(reply["error"], json!("RATE_LIMITED"), "{reply}");
    assert_eq!(reply["retry_after"], json!(30), "{reply}");
    let view = ws
        .op_ok(json!({ "op": "set_status", "project_id": project.id, "status": "away" }))
        .await;
    assert_eq!(view["status"], json!("away"), "{view}");

    app.advance(Duration::seconds(30)).await;
    ws.op_ok(json!({ "op": "heartbeat", "project_id": project.id }))
        .await;
    assert_limited(&beat(&app, &project, &ana.token).await, "30");
}

#[actix_rt::test]
async fn a_limit_of_zero_is_off() {
    let app = start_limited(RateLimits {
        widget_messages: 0,
        ..RateLimits::default()
    })
    .await;
    let project = app.create_project("Acme").await;
    let (conv, token) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    for i in 1..=25 {
        let (status, _, body) = send(&app, &id, &token, &format!("m{i}")).await;
        assert_eq!(status, 201, "message {i}: {body}");
    }
}
