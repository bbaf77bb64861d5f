//! Billable expert sessions live (seeds 000 and 001), black box: the
//! session chat over REST and WebSocket with replay, the join token's
//! scope and the customer's rating, tier warnings on the clock, a restart
//! with a running timer, SMS limits, calls, screen share and signalling.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Duration;
use common::*;
use serde_json::{json, Value};
use switchboard_actors::clock::Clock;

#[actix_rt::test]
async fn session_chat_with_seqs_replay_and_idempotent_sends() {
    let (app, _, solver, id, token) = TestApp::with_session().await;
    let channel = format!("session:{id}");
    let mut solver_ws = app.ws(&solver.token).await;
    assert_eq!(
        solver_ws.subscribe(&channel, None).await["last_seq"],
        json!(0)
    );
    let mut customer_ws = app.ws(&token).await;
    customer_ws.subscribe(&channel, None).await;

    // Customer over WebSocket, with a retry of the same client_msg_id.
    let op =
        json!({ "op": "send_message", "session_id": id, "content": "hi!", "client_msg_id": "c-1" });
    let first = customer_ws.op_ok(op.clone()).await;
    let retry = customer_ws.op_ok(op).await;
    assert_eq!(first["seq"], json!(1));
    assert_eq!(retry["id"], first["id"]);
    assert_eq!(first["sender_type"], json!("customer"));
    // Solver over REST.
    let (st, m2) = app
        .session_post(
            &id,
            "messages",
            &solver.token,
            json!({ "content": "Hello Walk In", "client_msg_id": "s-1" }),
        )
        .await;
    assert_eq!(st, 201, "{m2}");
    assert_eq!(
        (m2["seq"].clone(), m2["sender_type"].clone()),
        (json!(2), json!("solver"))
    );
    let events = solver_ws.collect_events(&channel, "message", 2).await;
    assert_eq!(
        events
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2]
    );

    // Typing is relayed, not stored.
    solver_ws
        .op_ok(json!({ "op": "typing", "session_id": id, "is_typing": true }))
        .await;
    let typing = customer_ws.expect_event("typing").await;
    assert_eq!(typing["data"]["user_type"], json!("solver"));

    // Missed while away: replay after_seq yields exactly those.
    customer_ws.close().await;
    for i in 3..=5 {
        let (st, _) = app
            .session_post(
                &id,
                "messages",
                &solver.token,
                json!({ "content": format!("m{i}") }),
            )
            .await;
        assert_eq!(st, 201);
    }
    let mut back = app.ws(&token).await;
    let reply = back.subscribe(&channel, Some(2)).await;
    assert_eq!(reply["last_seq"], json!(5));
    let replayed = back.collect_events(&channel, "message", 3).await;
    assert_eq!(
        replayed
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
    assert!(back.drained_none("message").await);
    let (st, page) = app
        .get(&format!("/api/sessions/{id}/messages?after_seq=1"), &token)
        .await;
    assert_eq!(st, 200);
    assert_eq!(seqs(page["items"].as_array().unwrap()), vec![2, 3, 4, 5]);
    let bad = app
        .session_post(&id, "messages", &token, json!({ "content": "  " }))
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED");
}

#[actix_rt::test]
async fn join_token_opens_only_its_session() {
    let (app, project, solver) = TestApp::with_solver().await;
    let (mine, token) = app.adhoc_session(&project, &solver).await;
    let (other, _) = app.adhoc_session(&project, &solver).await;
    let id = s(&mine["id"]);
    let other_id = s(&other["id"]);

    let own = app.session(&id, &token).await;
    assert_eq!(own["id"], json!(id));
    assert!(own.get("notes").is_none(), "notes are the solver's: {own}");
    assert_error(
        &app.get(&format!("/api/sessions/{other_id}"), &token).await,
        404,
        "NOT_FOUND",
    );
    assert_error(
        &app.get(&format!("/api/sessions/{other_id}/messages"), &token)
            .await,
        404,
        "NOT_FOUND",
    );
    let (conv, _) = app.new_conversation(&project, "visitor-9").await;
    assert_error(
        &app.get(&format!("/api/conversations/{}", s(&conv["id"])), &token)
            .await,
        404,
        "NOT_FOUND",
    );
    for path in [
        format!("/api/tickets?project_id={}", project.id),
        "/api/sessions".to_string(),
        "/api/solvers/me/stats".to_string(),
        format!("/api/projects/{}/agents", project.id),
    ] {
        assert_error(&app.get(&path, &token).await, 403, "FORBIDDEN");
    }
    // The customer may not drive the session.
    assert_error(
        &app.session_status(&id, &token, "active").await,
        403,
        "FORBIDDEN",
    );
    assert_error(&app.session_notes(&id, &token, "x").await, 403, "FORBIDDEN");
    assert_error(
        &app.complete_session(&id, &token, "quick").await,
        403,
        "FORBIDDEN",
    );
    // A wrong or made-up token is no token.
    let fake = format!("{}x", token);
    assert_error(
        &app.get(&format!("/api/sessions/{id}"), &fake).await,
        401,
        "UNAUTHORIZED",
    );
    // Another solver of the project: forbidden; another tenant: not found.
    let colleague = app.add_agent(&project, "Col", 3).await;
    assert_error(
        &app.get(&format!("/api/sessions/{id}"), &colleague.token)
            .await,
        403,
        "FORBIDDEN",
    );
    let elsewhere = app.create_project("Elsewhere").await;
    let stranger = app.add_agent(&elsewhere, "Str", 3).await;
    assert_error(
        &app.get(&format!("/api/sessions/{id}"), &stranger.token)
            .await,
        404,
        "NOT_FOUND",
    );

    // WebSocket: its own channel only.
    let mut ws = app.ws(&token).await;
    ws.subscribe(&format!("session:{id}"), None).await;
    for channel in [
        format!("session:{other_id}"),
        format!("conversation:{}", s(&conv["id"])),
        format!("project:{}:agents", project.id),
    ] {
        let reply = ws
            .send_op(json!({ "op": "subscribe", "channel": channel }))
            .await;
        assert_eq!(reply["error"], json!("FORBIDDEN"), "{channel}: {reply}");
    }
    let reply = ws
        .send_op(json!({ "op": "session_control", "session_id": id, "action": "start" }))
        .await;
    assert_eq!(reply["error"], json!("FORBIDDEN"), "{reply}");

    // Rating: the joined customer, once completed, 1..5, once.
    app.session_status_ok(&id, &solver.token, "active").await;
    let early = app
        .session_post(&id, "rating", &token, json!({ "rating": 5 }))
        .await;
    assert_error(&early, 400, "INVALID_TRANSITION");
    let (st, _) = app.complete_session(&id, &solver.token, "quick").await;
    assert_eq!(st, 200);
    let by_solver = app
        .session_post(&id, "rating", &solver.token, json!({ "rating": 5 }))
        .await;
    assert_error(&by_solver, 403, "FORBIDDEN");
    let bad = app
        .session_post(&id, "rating", &token, json!({ "rating": 6 }))
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED");
    let (st, rated) = app
        .session_post(
            &id,
            "rating",
            &token,
            json!({ "rating": 4, "comment": "quick and kind" }),
        )
        .await;
    assert_eq!((st, rated["rating"].clone()), (200, json!(4)), "{rated}");
    let twice = app
        .session_post(&id, "rating", &token, json!({ "rating": 1 }))
        .await;
    assert_error(&twice, 400, "INVALID_TRANSITION");
    let (_, stats) = app.get("/api/solvers/me/stats", &solver.token).await;
    assert_eq!(stats["average_rating"], json!(4.0));
    // The token outlives its session by 7 days, then expires.
    app.advance(Duration::days(7) - Duration::seconds(1)).await;
    assert_eq!(app.session(&id, &token).await["status"], json!("completed"));
    app.advance(Duration::seconds(1)).await;
    assert_error(
        &app.get(&format!("/api/sessions/{id}"), &token).await,
        401,
        "UNAUTHORIZED",
    );
}

#[actix_rt::test]
async fn tier_warnings_fire_on_the_clock_and_timer_events_carry_server_time() {
    let (app, _, solver, id, token) = TestApp::with_session().await;
    let channel = format!("session:{id}");
    let mut customer = app.ws(&token).await;
    customer.subscribe(&channel, None).await;

    let reply = start_over_ws(&app, &id, &solver).await;
    assert_eq!(reply["status"], json!("active"));
    let ev = customer.expect_event("session_status").await;
    assert_eq!(ev["data"]["status"], json!("active"));
    assert_eq!(ev["data"]["elapsed_seconds"], json!(0));
    let at = app.clock.now();
    assert_eq!(
        ev["data"]["timestamp"],
        json!(switchboard_actors::wire_time::format(&at))
    );

    // Standard: 45 min included; approaching at 36:00, exceeded at 45:01.
    app.advance(Duration::seconds(36 * 60 - 1)).await;
    assert!(customer.drained_none("tier_warning").await);
    app.advance(Duration::seconds(1)).await;
    let w = customer.expect_event("tier_warning").await;
    assert_fields(
        &w["data"],
        &json!({ "level": "approaching", "elapsed_seconds": 2160, "tier_limit_seconds": 2700 }),
    );
    app.advance(Duration::seconds(9 * 60)).await; // 45:00
    assert!(customer.drained_none("tier_warning").await);
    app.advance(Duration::seconds(1)).await; // 45:01
    let w = customer.expect_event("tier_warning").await;
    assert_fields(
        &w["data"],
        &json!({ "level": "exceeded", "elapsed_seconds": 2701 }),
    );
    app.advance(Duration::minutes(5)).await;
    assert!(customer.drained_none("tier_warning").await);

    // Sync persists the running timer and tells the customer.
    let (st, synced) = app
        .session_post(&id, "sync", &solver.token, json!({}))
        .await;
    assert_eq!(st, 200, "{synced}");
    assert_eq!(synced["elapsed_seconds"], json!(2701 + 300));
    assert_eq!(synced["duration_seconds"], json!(2701 + 300));
    let ev = customer.expect_event("session_status").await;
    assert_eq!(ev["data"]["elapsed_seconds"], json!(3001));
}

/// The solver starts the timer over WebSocket (`session_control`).
async fn start_over_ws(app: &TestApp, id: &str, solver: &Agent) -> Value {
    let mut ws = app.ws(&solver.token).await;
    ws.op_ok(json!({ "op": "session_control", "session_id": id, "action": "start" }))
        .await
}

#[actix_rt::test]
async fn a_restart_continues_a_running_timer_and_rearms_warnings() {
    let (mut app, _, solver, id, token) = TestApp::with_session().await;
    app.session_status_ok(&id, &solver.token, "active").await;
    app.advance(Duration::minutes(10)).await;
    let (st, _) = app
        .session_post(
            &id,
            "messages",
            &token,
            json!({ "content": "still there?" }),
        )
        .await;
    assert_eq!(st, 201);

    app.restart().await;
    app.advance(Duration::minutes(5)).await;
    let after = app.session(&id, &solver.token).await;
    assert_eq!(after["status"], json!("active"));
    assert_eq!(after["elapsed_seconds"], json!(900));
    assert_eq!(after["last_seq"], json!(1));

    // The approaching warning (36:00 on standard) is armed again.
    let mut customer = app.ws(&token).await;
    customer.subscribe(&format!("session:{id}"), None).await;
    app.advance(Duration::minutes(21)).await;
    let w = customer.expect_event("tier_warning").await;
    assert_eq!(w["data"]["level"], json!("approaching"));
    assert_eq!(w["data"]["elapsed_seconds"], json!(2160));
    // And is not sent again after another restart.
    app.restart().await;
    let mut customer = app.ws(&token).await;
    customer.subscribe(&format!("session:{id}"), None).await;
    app.advance(Duration::minutes(1)).await;
    assert!(customer.drained_none("tier_warning").await);
    // Chat seqs continue.
    let (_, m) = app
        .session_post(&id, "messages", &token, json!({ "content": "back" }))
        .await;
    assert_eq!(m["seq"], json!(2));
    let (st, done) = app.complete_session(&id, &solver.token, "standard").await;
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["session"]["elapsed_seconds"], json!(37 * 60));
}

#[actix_rt::test]
async fn sms_rules_and_limits() {
    let (app, project, solver, id, token) = TestApp::with_session().await;
    let path = format!("/api/sessions/{id}/sms");
    let before = app
        .post(&path, &solver.token, json!({ "message": "hello" }))
        .await;
    assert_error(&before, 400, "INVALID_TRANSITION");
    app.session_status_ok(&id, &solver.token, "active").await;
    assert_error(
        &app.post(&path, &solver.token, json!({ "message": "   " }))
            .await,
        422,
        "VALIDATION_FAILED",
    );
    let long = "x".repeat(1001);
    let res = app
        .post(&path, &solver.token, json!({ "message": long }))
        .await;
    assert_invalid_field(&res, "message");
    assert_error(
        &app.post(&path, &token, json!({ "message": "hi" })).await,
        403,
        "FORBIDDEN",
    );
    let mut ws = app.ws(&solver.token).await;
    ws.subscribe(&format!("session:{id}"), None).await;
    // 1000 characters is fine (an emoji counts as one).
    let max = format!("{}🙂", "y".repeat(999));
    for i in 1..=10 {
        let body = if i == 1 {
            max.clone()
        } else {
            format!("update {i}")
        };
        let (st, sent) = app
            .post(&path, &solver.token, json!({ "message": body }))
            .await;
        assert_eq!(st, 201, "sms {i}: {sent}");
        assert_eq!(sent["sms_count"], json!(i));
        assert_eq!(sent["sms_remaining"], json!(10 - i));
    }
    let ev = ws.expect_event("sms_sent").await;
    assert_eq!(ev["data"]["sms_count"], json!(1));
    let eleventh = app
        .post(&path, &solver.token, json!({ "message": "one more" }))
        .await;
    assert_error(&eleventh, 400, "INVALID_TRANSITION");
    assert_eq!(
        app.session(&id, &solver.token).await["sms_count"],
        json!(10)
    );
    let (st, templates) = app.get("/api/sms/templates", &solver.token).await;
    assert_eq!(st, 200);
    assert!(templates["items"].as_array().unwrap().len() >= 3);

    // No phone on the ticket: refused.
    let (st, nophone) = app
        .post(
            "/api/sessions",
            &solver.token,
            json!({ "project_id": project.id, "adhoc": { "customer_name": "No Phone" } }),
        )
        .await;
    assert_eq!(st, 201);
    let nid = s(&nophone["id"]);
    app.session_status_ok(&nid, &solver.token, "active").await;
    let res = app
        .session_post(&nid, "sms", &solver.token, json!({ "message": "hi" }))
        .await;
    assert_error(&res, 400, "INVALID_TRANSITION");
    // Customer info editing gives the session a phone.
    let (st, t) = app
        .patch(
            &format!("/api/tickets/{}/customer-info", s(&nophone["ticket_id"])),
            &solver.token,
            json!({ "customer_phone": "+1 555 0142" }),
        )
        .await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["customer_phone"], json!("+1 555 0142"));
    let (st, _) = app
        .session_post(&nid, "sms", &solver.token, json!({ "message": "hi" }))
        .await;
    assert_eq!(st, 201);
}

#[actix_rt::test]
async fn calls_screen_share_and_signalling() {
    let (app, _, solver, id, token) = TestApp::with_session().await;
    let channel = format!("session:{id}");
    let share = app
        .session_post(
            &id,
            "screen-share",
            &solver.token,
            json!({ "solver_peer_id": "solver_1" }),
        )
        .await;
    assert_error(&share, 400, "INVALID_TRANSITION");
    let call = app
        .session_post(&id, "call", &solver.token, json!({}))
        .await;
    assert_error(&call, 400, "INVALID_TRANSITION");
    app.session_status_ok(&id, &solver.token, "active").await;

    let mut solver_ws = app.ws(&solver.token).await;
    solver_ws.subscribe(&channel, None).await;
    let mut customer = app.ws(&token).await;
    customer.subscribe(&channel, None).await;

    // Call: the built-in provider connects at once; hang-up records the duration.
    let (st, c) = app
        .session_post(&id, "call", &solver.token, json!({}))
        .await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["call"]["state"], json!("active"));
    let states: Vec<Value> = solver_ws
        .collect_events(&channel, "call_state", 4)
        .await
        .iter()
        .map(|e| e["data"]["state"].clone())
        .collect();
    assert_eq!(
        states,
        vec![
            json!("connecting"),
            json!("initiating"),
            json!("ringing"),
            json!("active")
        ]
    );
    let twice = app
        .session_post(&id, "call", &solver.token, json!({}))
        .await;
    assert_error(&twice, 400, "INVALID_TRANSITION");
    app.advance(Duration::seconds(125)).await;
    let (st, h) = app
        .session_post(&id, "call/hangup", &solver.token, json!({}))
        .await;
    assert_eq!(st, 200, "{h}");
    assert_eq!(h["call"]["state"], json!("ended"));
    assert_eq!(h["call"]["duration_seconds"], json!(125));
    assert_eq!(
        app.session(&id, &solver.token).await["call"]["duration_seconds"],
        json!(125)
    );

    // Screen share: request, the customer's answer over WebSocket.
    let (st, _) = app
        .session_post(
            &id,
            "screen-share",
            &solver.token,
            json!({ "solver_peer_id": "solver_1" }),
        )
        .await;
    assert_eq!(st, 200);
    let req = customer.expect_event("screen_share_requested").await;
    assert_eq!(req["data"]["solver_peer_id"], json!("solver_1"));
    customer
        .op_ok(json!({ "op": "screen_share_answer", "session_id": id, "accepted": true, "peer_id": "cust_1" }))
        .await;
    let ans = solver_ws.expect_event("screen_share_answer").await;
    assert_fields(
        &ans["data"],
        &json!({ "accepted": true, "peer_id": "cust_1" }),
    );

    // Signalling relay, to the other side only.
    customer
        .op_ok(json!({ "op": "signal", "session_id": id, "to": "solver", "payload": { "type": "offer", "sdp": "v=0" } }))
        .await;
    let sig = solver_ws.expect_event("signal").await;
    assert_fields(
        &sig["data"],
        &json!({ "from": "customer", "payload": { "type": "offer", "sdp": "v=0" } }),
    );
    assert!(customer.drained_none("signal").await);
    let reply = customer
        .send_op(json!({ "op": "signal", "session_id": id, "to": "customer", "payload": {} }))
        .await;
    assert_eq!(reply["error"], json!("VALIDATION_FAILED"), "{reply}");
}
