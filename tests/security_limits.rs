//! Security regression suite, limits (issue 14 items 3, 8, 9, 12): logins
//! throttled per account and per client address before any password is
//! hashed, password hashing bounded in memory, `X-Forwarded-For` believed
//! only from listed proxies, new conversations and tickets per client
//! address, a joined customer's session chat and signalling, typing and
//! presence; `bearer` in any case. Every refusal is 429 RATE_LIMITED with a
//! Retry-After (over WebSocket an error reply with `retry_after`) and
//! changes nothing.

mod common;

use awc::http::Method;
use chrono::Duration;
use common::*;
use serde_json::{json, Value};
use switchboard::limits::{LimitKind, RateLimits};
use switchboard_actors::clock::ManualClock;

/// A server with every limit off but `kinds` at the given rates.
async fn start_with(kinds: &[(LimitKind, u32)]) -> TestApp {
    let limits = kinds
        .iter()
        .fold(RateLimits::OFF, |l, (k, n)| l.with(*k, *n));
    TestApp::start_with_config(ManualClock::at_default(), move |c| c.rate_limits = limits).await
}

#[actix_rt::test]
async fn wrong_passwords_for_one_account_are_throttled_before_the_right_one_gets_in() {
    let app = start_with(&[(LimitKind::LoginAccount, 5)]).await;
    let project = app.create_project("Acme").await;
    let agent = app.add_agent(&project, "Alice", 2).await;
    for i in 0..5 {
        let (status, body) = app
            .login_attempt(&agent.email, &format!("guess-{i}"), None)
            .await;
        assert_eq!(status, 401, "{body}");
    }
    // The sixth attempt, even with the right password, waits.
    let (status, body) = app.login_attempt(&agent.email, AGENT_PASSWORD, None).await;
    assert_eq!(status, 429, "{body}");
    // The account's email in another case is the same account.
    let (status, _) = app
        .login_attempt(&agent.email.to_uppercase(), AGENT_PASSWORD, None)
        .await;
    assert_eq!(status, 429);
    // Another account is not held up by it.
    let (status, body) = app.login_attempt(ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    assert_eq!(status, 200, "{body}");
    // 5 a minute: one attempt back every 12 s.
    app.clock.advance(Duration::seconds(12));
    let (status, body) = app.login_attempt(&agent.email, AGENT_PASSWORD, None).await;
    assert_eq!(status, 200, "{body}");
}

#[actix_rt::test]
async fn one_address_cannot_spread_guesses_over_many_accounts() {
    let app = start_with(&[(LimitKind::AuthAddress, 20)]).await;
    // The harness's own admin login took one of the 20.
    for i in 0..19 {
        let (status, body) = app
            .login_attempt(&format!("nobody-{i}@example.com"), "x", None)
            .await;
        assert_eq!(status, 401, "attempt {i}: {body}");
    }
    let (status, body) = app.login_attempt(ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    assert_eq!(status, 429, "{body}");
    // A client cannot pick a fresh address: the header counts only from a
    // listed proxy.
    let (status, _) = app
        .login_attempt(ADMIN_EMAIL, ADMIN_PASSWORD, Some("203.0.113.7"))
        .await;
    assert_eq!(status, 429);
    // Accepting an invitation is guessing too, and shares the bucket.
    let (status, _, body) = app
        .call_with_headers(
            Method::POST,
            "/api/invitations/accept",
            Auth::None,
            Some(json!({ "token": "sbi_guess", "password": "long-enough-1" })),
            &[],
        )
        .await;
    assert_eq!(status, 429, "{body}");
}

#[actix_rt::test]
async fn behind_a_listed_proxy_each_forwarded_client_has_its_own_bucket() {
    let limits = RateLimits::OFF.with(LimitKind::AuthAddress, 2);
    let app = TestApp::start_with_config(ManualClock::at_default(), move |c| {
        c.rate_limits = limits;
        c.trusted_proxies =
            switchboard::http::client_addr::parse_proxies("127.0.0.1").expect("an address");
    })
    .await;
    // The harness's admin login came straight from 127.0.0.1 (the proxy).
    for _ in 0..2 {
        let (status, _) = app
            .login_attempt("x@example.com", "x", Some("198.51.100.1"))
            .await;
        assert_eq!(status, 401);
    }
    let (status, _) = app
        .login_attempt("x@example.com", "x", Some("198.51.100.1"))
        .await;
    assert_eq!(status, 429);
    // The next client behind the same proxy is someone else; an address the
    // client wrote to the left of it is not believed.
    let (status, _) = app
        .login_attempt("x@example.com", "x", Some("198.51.100.1, 198.51.100.2"))
        .await;
    assert_eq!(status, 401);
}

#[actix_rt::test]
async fn the_bearer_scheme_is_case_insensitive_and_logout_revokes() {
    let app = TestApp::start().await;
    let token = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, _, body) = app
        .call_with_headers(
            Method::POST,
            "/api/auth/logout",
            Auth::None,
            None,
            &[("authorization", &format!("bearer {token}"))],
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = app.get("/api/auth/me", &token).await;
    assert_eq!(status, 401, "the token still works after logout: {body}");
    let other = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, _, body) = app
        .call_with_headers(
            Method::GET,
            "/api/auth/me",
            Auth::None,
            None,
            &[("authorization", &format!("BEARER {other}"))],
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn create_conversation(app: &TestApp, project: &Project, from: Option<&str>) -> (u16, Value) {
    let headers: Vec<(&str, &str)> = from.map(|a| ("x-forwarded-for", a)).into_iter().collect();
    let (status, _, body) = app
        .call_with_headers(
            Method::POST,
            "/api/widget/conversations",
            Auth::ProjectKey(&project.public_key),
            Some(json!({})),
            &headers,
        )
        .await;
    (status, body)
}

#[actix_rt::test]
async fn new_conversations_and_tickets_are_limited_per_client_address() {
    let app = start_with(&[
        (LimitKind::ConversationCreate, 3),
        (LimitKind::TicketCreate, 2),
    ])
    .await;
    let project = app.create_project("Acme").await;
    for _ in 0..3 {
        let (status, body) = create_conversation(&app, &project, Some("198.51.100.9")).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = create_conversation(&app, &project, Some("198.51.100.10")).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], json!("RATE_LIMITED"));
    let (status, list) = app
        .get(
            &format!("/api/conversations?project_id={}&limit=100", project.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(3), "{list}");

    let ticket = || {
        app.post_ticket(
            &project,
            json!({
                "project_id": project.id,
                "customer_name": "Ada",
                "customer_phone": "+1 555 0100",
                "description": "The printer prints blank pages",
                "urgency": "low",
            }),
        )
    };
    for _ in 0..2 {
        let (status, body) = ticket().await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = ticket().await;
    assert_eq!(status, 429, "{body}");
    // Staff are not counted in the address's bucket.
    let (status, body) = app
        .post(
            "/api/tickets",
            app.admin_token(),
            json!({
                "project_id": project.id,
                "customer_name": "Bob",
                "customer_phone": "+1 555 0101",
                "description": "Wi-Fi drops",
                "urgency": "low",
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

fn assert_ws_limited(reply: &Value) {
    assert_eq!(reply["ok"], json!(false), "{reply}");
    assert_eq!(reply["error"], json!("RATE_LIMITED"), "{reply}");
    assert!(
        reply["retry_after"].as_u64().is_some_and(|s| s >= 1),
        "{reply}"
    );
}

#[actix_rt::test]
async fn a_customers_typing_and_presence_are_throttled() {
    let app = start_with(&[(LimitKind::Typing, 5)]).await;
    let project = app.create_project("Acme").await;
    app.enable_handoff(&project, |_| {}).await;
    let agent = app.add_agent(&project, "Alice", 2).await;
    app.set_status(&agent, &project, "online").await;
    app.heartbeat(&agent, &project).await;
    let (conv, token) = app
        .assigned_conversation(&project, "v-typing", &agent)
        .await;
    let mut agent_ws = app.ws(&agent.token).await;
    agent_ws
        .subscribe(&format!("conversation:{conv}"), None)
        .await;
    let mut ws = app.ws(&token).await;
    for i in 0..4 {
        let data = ws
            .op_ok(json!({ "op": "typing", "conversation_id": conv, "is_typing": i % 2 == 0 }))
            .await;
        assert_eq!(data, json!({}));
    }
    let reply = ws
        .send_op(json!({ "op": "presence", "conversation_id": conv, "status": "online" }))
        .await;
    assert_eq!(reply["ok"], json!(true), "{reply}");
    let reply = ws
        .send_op(json!({ "op": "typing", "conversation_id": conv, "is_typing": true }))
        .await;
    assert_ws_limited(&reply);
    // REST presence shares the bucket.
    let (status, body) = app
        .post(
            &format!("/api/conversations/{conv}/presence"),
            &token,
            json!({ "status": "idle" }),
        )
        .await;
    assert_eq!(status, 429, "{body}");
    // The agent saw the four typing events and no more.
    let typing: Vec<Value> = agent_ws
        .drain()
        .await
        .into_iter()
        .filter(|e| e["event"] == json!("typing"))
        .collect();
    assert_eq!(typing.len(), 4, "{typing:#?}");
}

#[actix_rt::test]
async fn a_joined_customers_chat_and_signalling_are_throttled() {
    let app = start_with(&[(LimitKind::SessionMessage, 3), (LimitKind::Signal, 4)]).await;
    let project = app.create_project("Fixers").await;
    let solver = app.add_agent(&project, "Sol", 3).await;
    let (session, _) = app.adhoc_session(&project, &solver).await;
    let id = s(&session["id"]);
    let guest = s(&session["access_token"]);
    let mut solver_ws = app.ws(&solver.token).await;
    let data = solver_ws
        .op_ok(json!({ "op": "session_control", "session_id": id, "action": "start" }))
        .await;
    assert_eq!(data["status"], json!("active"), "{data}");
    let mut ws = app.ws(&guest).await;
    for i in 0..3 {
        let data = ws
            .op_ok(json!({ "op": "send_message", "session_id": id, "content": format!("m{i}"), "client_msg_id": format!("c{i}") }))
            .await;
        assert_eq!(data["seq"], json!(i + 1), "{data}");
    }
    let reply = ws
        .send_op(json!({ "op": "send_message", "session_id": id, "content": "m3", "client_msg_id": "c3" }))
        .await;
    assert_ws_limited(&reply);
    let (status, body) = app
        .post(
            &format!("/api/sessions/{id}/messages"),
            &guest,
            json!({ "content": "over REST" }),
        )
        .await;
    assert_eq!(status, 429, "{body}");
    let (status, msgs) = app
        .get(&format!("/api/sessions/{id}/messages"), &solver.token)
        .await;
    assert_eq!(status, 200, "{msgs}");
    assert_eq!(msgs["items"].as_array().map(Vec::len), Some(3), "{msgs}");

    for _ in 0..4 {
        ws.op_ok(json!({ "op": "signal", "session_id": id, "to": "solver", "payload": { "candidate": "x" } }))
            .await;
    }
    let reply = ws
        .send_op(json!({ "op": "signal", "session_id": id, "to": "solver", "payload": { "candidate": "x" } }))
        .await;
    assert_ws_limited(&reply);
}
