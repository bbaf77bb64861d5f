//! Billable expert sessions (seeds 000 and 001), black box: tickets and
//! the one-winner claim, the session workflow with its timer on the manual
//! clock, every refused transition, the pricing table, notes, cancellation,
//! the session chat over REST and WebSocket with replay, the join token's
//! scope, tier warnings, a restart with a running timer, SMS limits, calls,
//! screen share and signalling, my-sessions list, ratings and stats.
#![allow(clippy::unwrap_used)]

mod common;

use awc::http::Method;
use chrono::Duration;
use common::*;
use serde_json::{json, Value};
use switchboard_actors::clock::Clock;

struct Setup {
    app: TestApp,
    project: Project,
    solver: Agent,
}

async fn setup() -> Setup {
    let app = TestApp::start().await;
    let project = app.create_project("Fixers").await;
    let solver = app.add_agent(&project, "Sol", 3).await;
    Setup {
        app,
        project,
        solver,
    }
}

/// A ticket created by the customer with the project key.
async fn customer_ticket(app: &TestApp, project: &Project, name: &str) -> Value {
    let (st, body) = app
        .call(
            Method::POST,
            "/api/tickets",
            Auth::ProjectKey(&project.public_key),
            Some(json!({
                "project_id": project.id,
                "customer_name": name,
                "customer_phone": "+1 555 0100",
                "customer_email": "ada@example.com",
                "description": "My printer prints only blank pages",
                "urgency": "high",
            })),
        )
        .await;
    assert_eq!(st, 201, "create ticket: {body}");
    body
}

async fn set_status(app: &TestApp, id: &str, token: &str, status: &str) -> (u16, Value) {
    app.post(
        &format!("/api/sessions/{id}/status"),
        token,
        json!({ "status": status }),
    )
    .await
}

async fn status_ok(app: &TestApp, id: &str, token: &str, status: &str) -> Value {
    let res = set_status(app, id, token, status).await;
    assert_eq!(res.0, 200, "status {status}: {}", res.1);
    res.1
}

async fn session(app: &TestApp, id: &str, token: &str) -> Value {
    let (st, body) = app.get(&format!("/api/sessions/{id}"), token).await;
    assert_eq!(st, 200, "get session: {body}");
    body
}

async fn complete(app: &TestApp, id: &str, token: &str, tier: &str) -> (u16, Value) {
    app.post(
        &format!("/api/sessions/{id}/complete"),
        token,
        json!({ "tier": tier }),
    )
    .await
}

#[actix_rt::test]
async fn whole_workflow_from_ticket_to_payment() {
    let Setup {
        app,
        project,
        solver,
    } = setup().await;
    let older = customer_ticket(&app, &project, "Ada").await;
    app.clock.advance(Duration::seconds(90));
    let newer = customer_ticket(&app, &project, "Bob").await;
    assert_eq!(older["status"], json!("open"));
    assert_eq!(older["urgency"], json!("high"));

    // The queue: oldest first, with waiting time.
    let (st, q) = app
        .get(
            &format!("/api/tickets?project_id={}&status=open", project.id),
            &solver.token,
        )
        .await;
    assert_eq!(st, 200, "{q}");
    let items = q["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], older["id"]);
    assert_eq!(items[0]["waiting_seconds"], json!(90));
    assert_eq!(items[1]["id"], newer["id"]);
    assert_eq!(items[1]["waiting_seconds"], json!(0));
    assert_eq!(q["next_cursor"], json!(null));
    // Cursor-paginated: one at a time gives the same order.
    let (_, p1) = app
        .get(
            &format!("/api/tickets?project_id={}&limit=1", project.id),
            &solver.token,
        )
        .await;
    assert_eq!(p1["items"][0]["id"], older["id"]);
    let cursor = s(&p1["next_cursor"]);
    let (_, p2) = app
        .get(
            &format!(
                "/api/tickets?project_id={}&limit=1&cursor={cursor}",
                project.id
            ),
            &solver.token,
        )
        .await;
    assert_eq!(p2["items"][0]["id"], newer["id"]);
    assert_eq!(p2["next_cursor"], json!(null));

    // Claim, then open the session: not_started, with the join link.
    let tid = s(&older["id"]);
    let (st, claimed) = app
        .post(
            &format!("/api/tickets/{tid}/claim"),
            &solver.token,
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{claimed}");
    assert_eq!(claimed["ticket"]["status"], json!("claimed"));
    assert_eq!(claimed["ticket"]["solver_id"], json!(solver.user_id));
    let (st, sess) = app
        .post("/api/sessions", &solver.token, json!({ "ticket_id": tid }))
        .await;
    assert_eq!(st, 201, "{sess}");
    let id = s(&sess["id"]);
    let token = s(&sess["access_token"]);
    assert!(
        token.starts_with("sbs_") && token.len() >= 4 + 22,
        "{token}"
    );
    assert_eq!(sess["join_url"], json!(format!("/join/{id}?token={token}")));
    assert_fields(
        &sess,
        &json!({
            "status": "not_started", "elapsed_seconds": 0, "tier": "standard",
            "tier_limit_seconds": 2700, "ticket_id": tid,
        }),
    );
    assert_eq!(sess["ticket"]["status"], json!("in_progress"));
    // A second session from the same ticket is refused.
    let again = app
        .post("/api/sessions", &solver.token, json!({ "ticket_id": tid }))
        .await;
    assert_error(&again, 400, "INVALID_TRANSITION");

    // The timer: 10 min, a 5 min pause, 15 min more.
    let started = status_ok(&app, &id, &solver.token, "active").await;
    assert_eq!(started["status"], json!("active"));
    assert!(started["started_at"].is_string());
    app.advance(Duration::minutes(10)).await;
    assert_eq!(
        session(&app, &id, &solver.token).await["elapsed_seconds"],
        json!(600)
    );
    let paused = status_ok(&app, &id, &solver.token, "paused").await;
    assert_eq!(paused["elapsed_seconds"], json!(600));
    app.advance(Duration::minutes(5)).await;
    assert_eq!(
        session(&app, &id, &solver.token).await["elapsed_seconds"],
        json!(600)
    );
    status_ok(&app, &id, &solver.token, "active").await;
    app.advance(Duration::minutes(15)).await;

    // Notes with save status.
    let (st, saved) = app
        .put(
            &format!("/api/sessions/{id}/notes"),
            &solver.token,
            json!({ "notes": "reset the spooler" }),
        )
        .await;
    assert_eq!(st, 200, "{saved}");
    assert_eq!(saved["save_status"], json!("saved"));
    assert_eq!(
        session(&app, &id, &solver.token).await["notes"],
        json!("reset the spooler")
    );

    // Complete on quick: 25:00 is 5 overage minutes at 3.00.
    let (st, done) = complete(&app, &id, &solver.token, "quick").await;
    assert_eq!(st, 200, "{done}");
    assert_eq!(
        done["pricing"],
        json!({
            "base_price": 6900, "overage_minutes": 5, "overage_amount": 1500,
            "total_charged": 8400, "solver_earnings": 5460, "platform_fee": 2940,
        })
    );
    assert_fields(
        &done["session"],
        &json!({ "status": "completed", "tier": "quick", "elapsed_seconds": 1500, "timer_running": false }),
    );
    assert_eq!(done["session"]["ticket"]["status"], json!("completed"));
    let pay_url = s(&done["payment"]["payment_url"]);
    assert!(pay_url.starts_with("/pay/"), "{pay_url}");
    assert_eq!(done["payment"]["status"], json!("pending"));
    let (st, pay) = app.get(&pay_url, &solver.token).await;
    assert_eq!(st, 200, "{pay}");
    assert_eq!(
        (pay["amount"].clone(), pay["status"].clone()),
        (json!(8400), json!("pending"))
    );

    // Locked: no timer or notes changes; time no longer counts.
    app.advance(Duration::minutes(30)).await;
    assert_error(
        &set_status(&app, &id, &solver.token, "active").await,
        400,
        "INVALID_TRANSITION",
    );
    let notes = app
        .put(
            &format!("/api/sessions/{id}/notes"),
            &solver.token,
            json!({ "notes": "late" }),
        )
        .await;
    assert_error(&notes, 400, "INVALID_TRANSITION");
    let after = session(&app, &id, &solver.token).await;
    assert_eq!(after["elapsed_seconds"], json!(1500));
    assert_eq!(after["notes"], json!("reset the spooler"));

    let (st, t) = app.get(&format!("/api/tickets/{tid}"), &solver.token).await;
    assert_eq!((st, t["status"].clone()), (200, json!("completed")));
    let (st, stats) = app.get("/api/solvers/me/stats", &solver.token).await;
    assert_eq!(st, 200);
    assert_eq!(
        stats,
        json!({ "total_sessions": 1, "total_earnings": 5460, "average_rating": null })
    );
}

#[actix_rt::test]
async fn twenty_concurrent_claims_have_exactly_one_winner() {
    let Setup { app, project, .. } = setup().await;
    let mut solvers = Vec::new();
    for i in 0..20 {
        solvers.push(app.add_agent(&project, &format!("S{i}"), 3).await);
    }
    let ticket = customer_ticket(&app, &project, "Ada").await;
    let path = format!("/api/tickets/{}/claim", s(&ticket["id"]));
    let results = futures_util::future::join_all(
        solvers.iter().map(|a| app.post(&path, &a.token, json!({}))),
    )
    .await;
    let winners: Vec<_> = results.iter().filter(|(st, _)| *st == 200).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (st, body) in results.iter().filter(|(st, _)| *st != 200) {
        assert_eq!(*st, 409, "{body}");
        assert_eq!(body["error"], json!("ALREADY_CLAIMED"));
        assert_eq!(body["success"], json!(false));
    }
    let winner = s(&winners[0].1["ticket"]["solver_id"]);
    let (_, t) = app
        .get(
            &format!("/api/tickets/{}", s(&ticket["id"])),
            &solvers[0].token,
        )
        .await;
    assert_eq!(t["solver_id"], json!(winner));
    // A loser cannot open a session from it.
    let loser = solvers.iter().find(|a| a.user_id != winner).unwrap();
    let res = app
        .post(
            "/api/sessions",
            &loser.token,
            json!({ "ticket_id": ticket["id"] }),
        )
        .await;
    assert_error(&res, 403, "FORBIDDEN");
}

/// A session of `solver` brought to `status` (the timer ran 60 s when it
/// started at all).
async fn session_in(app: &TestApp, project: &Project, solver: &Agent, status: &str) -> String {
    let (sess, _) = app.adhoc_session(project, solver).await;
    let id = s(&sess["id"]);
    let steps: &[&str] = match status {
        "not_started" => &[],
        "active" => &["active"],
        "paused" => &["active", "paused"],
        "completed" => &["active", "completed"],
        _ => &[],
    };
    for step in steps {
        if *step == "active" {
            status_ok(app, &id, &solver.token, "active").await;
            app.advance(Duration::seconds(60)).await;
        } else {
            status_ok(app, &id, &solver.token, step).await;
        }
    }
    if status == "cancelled" {
        let (st, body) = app
            .post(
                &format!("/api/sessions/{id}/cancel"),
                &solver.token,
                json!({}),
            )
            .await;
        assert_eq!(st, 200, "{body}");
    }
    id
}

#[actix_rt::test]
async fn every_invalid_transition_is_refused_and_changes_nothing() {
    let Setup {
        app,
        project,
        solver,
    } = setup().await;
    // (from, move, allowed): moves are /status targets, "complete" and "cancel".
    let allowed = |from: &str, mv: &str| -> bool {
        matches!(
            (from, mv),
            ("not_started", "active")
                | ("active", "paused")
                | ("active", "completed")
                | ("active", "complete")
                | ("paused", "active")
                | ("paused", "completed")
                | ("paused", "complete")
                | ("not_started" | "active" | "paused", "cancel")
        )
    };
    let mut refused = 0;
    for from in ["not_started", "active", "paused", "completed", "cancelled"] {
        for mv in ["active", "paused", "completed", "complete", "cancel"] {
            let id = session_in(&app, &project, &solver, from).await;
            let before = session(&app, &id, &solver.token).await;
            let res = match mv {
                "complete" => complete(&app, &id, &solver.token, "standard").await,
                "cancel" => {
                    app.post(
                        &format!("/api/sessions/{id}/cancel"),
                        &solver.token,
                        json!({}),
                    )
                    .await
                }
                target => set_status(&app, &id, &solver.token, target).await,
            };
            if allowed(from, mv) {
                assert_eq!(res.0, 200, "{from} -> {mv}: {}", res.1);
                continue;
            }
            refused += 1;
            assert_error(&res, 400, "INVALID_TRANSITION");
            let after = session(&app, &id, &solver.token).await;
            for key in [
                "status",
                "elapsed_seconds",
                "tier",
                "pricing",
                "ended_at",
                "started_at",
            ] {
                assert_eq!(after[key], before[key], "{from} -> {mv} changed {key}");
            }
        }
    }
    assert_eq!(refused, 25 - 10);
    // not_started is never a target.
    let id = session_in(&app, &project, &solver, "active").await;
    let res = set_status(&app, &id, &solver.token, "not_started").await;
    assert_error(&res, 422, "VALIDATION_FAILED");
}

#[actix_rt::test]
async fn completion_prices_by_the_seed_table() {
    let Setup {
        app,
        project,
        solver,
    } = setup().await;
    // (elapsed seconds, tier) -> (overage minutes, total, solver earnings, fee)
    let cases = [
        (1200, "quick", 0, 6900, 4485, 2415),
        (1201, "quick", 1, 7200, 4680, 2520),
        (1260, "quick", 1, 7200, 4680, 2520),
        (2700, "standard", 0, 12900, 8385, 4515),
        (2701, "standard", 1, 13150, 8547, 4603),
        (5400, "extended", 0, 21900, 14235, 7665),
        (5460, "extended", 1, 22100, 14365, 7735),
        (600, "extended", 0, 21900, 14235, 7665),
    ];
    for (elapsed, tier, over, total, earn, fee) in cases {
        let (sess, _) = app.adhoc_session(&project, &solver).await;
        let id = s(&sess["id"]);
        status_ok(&app, &id, &solver.token, "active").await;
        app.advance(Duration::seconds(elapsed)).await;
        let (st, done) = complete(&app, &id, &solver.token, tier).await;
        assert_eq!(st, 200, "{done}");
        let base = match tier {
            "quick" => 6900,
            "standard" => 12900,
            _ => 21900,
        };
        assert_eq!(
            done["pricing"],
            json!({
                "base_price": base,
                "overage_minutes": over,
                "overage_amount": total - base,
                "total_charged": total,
                "solver_earnings": earn,
                "platform_fee": fee,
            }),
            "{elapsed} s on {tier}"
        );
    }
    let bad = complete(
        &app,
        &session_in(&app, &project, &solver, "active").await,
        &solver.token,
        "huge",
    )
    .await;
    assert_error(&bad, 422, "VALIDATION_FAILED");
    let id = session_in(&app, &project, &solver, "active").await;
    let missing = app
        .post(
            &format!("/api/sessions/{id}/complete"),
            &solver.token,
            json!({}),
        )
        .await;
    assert_error(&missing, 422, "VALIDATION_FAILED");
    // Over WebSocket the tier may be left out: the session's tier (standard).
    let mut ws = app.ws(&solver.token).await;
    let done = ws
        .op_ok(json!({ "op": "session_control", "session_id": id, "action": "complete" }))
        .await;
    assert_eq!(done["session"]["tier"], json!("standard"));
    assert_eq!(done["pricing"]["total_charged"], json!(12900));
}

/// The solver's share is the project's (65 % unless an admin changes it);
/// a session keeps the share it was created with.
#[actix_rt::test]
async fn solver_share_is_set_per_project_and_kept_by_each_session() {
    let Setup {
        app,
        project,
        solver,
    } = setup().await;
    let path = format!("/api/projects/{}/billing", project.id);
    let (st, terms) = app.get(&path, &solver.token).await;
    assert_eq!((st, terms), (200, json!({ "solver_share_percent": 65 })));
    let before = session_in(&app, &project, &solver, "active").await;

    for bad in [json!(101), json!(-1)] {
        let res = app
            .put(
                &path,
                app.admin_token(),
                json!({ "solver_share_percent": bad }),
            )
            .await;
        assert_error(&res, 422, "VALIDATION_FAILED");
    }
    let res = app
        .put(
            &path,
            app.admin_token(),
            json!({ "solver_share_percent": "70" }),
        )
        .await;
    assert_error(&res, 400, "BAD_REQUEST");
    let res = app
        .put(&path, &solver.token, json!({ "solver_share_percent": 90 }))
        .await;
    assert_eq!(res.0, 403, "{}", res.1);
    let (st, terms) = app
        .put(
            &path,
            app.admin_token(),
            json!({ "solver_share_percent": 70 }),
        )
        .await;
    assert_eq!((st, terms), (200, json!({ "solver_share_percent": 70 })));

    let after = session_in(&app, &project, &solver, "active").await;
    app.advance(Duration::seconds(600)).await;
    // 12900 cents: 65 % for the session created before, 70 % after
    let (_, old) = complete(&app, &before, &solver.token, "standard").await;
    assert_eq!(old["pricing"]["solver_earnings"], json!(8385));
    let (_, new) = complete(&app, &after, &solver.token, "standard").await;
    assert_eq!(new["pricing"]["solver_earnings"], json!(9030));
    assert_eq!(new["pricing"]["platform_fee"], json!(3870));
}

#[actix_rt::test]
async fn cancellation_tells_the_customer_and_charges_nothing() {
    let Setup {
        app,
        project,
        solver,
    } = setup().await;
    let (sess, token) = app.adhoc_session(&project, &solver).await;
    let id = s(&sess["id"]);
    let mut customer = app.ws(&token).await;
    customer.subscribe(&format!("session:{id}"), None).await;
    status_ok(&app, &id, &solver.token, "active").await;
    app.advance(Duration::minutes(3)).await;
    let (st, body) = app
        .post(
            &format!("/api/sessions/{id}/cancel"),
            &solver.token,
            json!({ "reason": "customer unreachable" }),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_fields(
        &body,
        &json!({ "status": "cancelled", "pricing": null, "cancel_reason": "customer unreachable", "elapsed_seconds": 180 }),
    );
    assert_eq!(body["ticket"]["status"], json!("cancelled"));
    // The durable notice first, then the event.
    let msg = customer.expect_event("message").await;
    assert_eq!(msg["data"]["sender_type"], json!("system"));
    assert!(s(&msg["data"]["content"]).contains("not be charged"));
    let ev = customer.expect_event("session_cancelled").await;
    assert_eq!(ev["data"]["reason"], json!("customer unreachable"));
    let (st, stats) = app.get("/api/solvers/me/stats", &solver.token).await;
    assert_eq!((st, stats["total_sessions"].clone()), (200, json!(0)));
}

#[actix_rt::test]
async fn session_chat_with_seqs_replay_and_idempotent_sends() {
    let Setup {
        app,
        project,
        solver,
    } = setup().await;
    let (sess, token) = app.adhoc_session(&project, &solver).await;
    let id = s(&sess["id"]);
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
        .post(
            &format!("/api/sessions/{id}/messages"),
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
            .post(
                &format!("/api/sessions/{id}/messages"),
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
    assert!(back
        .drain()
        .await
        .iter()
        .all(|e| e["event"] != json!("message")));
    let (st, page) = app
        .get(&format!("/api/sessions/{id}/messages?after_seq=1"), &token)
        .await;
    assert_eq!(st, 200);
    assert_eq!(seqs(page["items"].as_array().unwrap()), vec![2, 3, 4, 5]);
    let bad = app
        .post(
            &format!("/api/sessions/{id}/messages"),
            &token,
            json!({ "content": "  " }),
        )
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED");
}

#[actix_rt::test]
async fn join_token_opens_only_its_session() {
    let Setup {
        app,
        project,
        solver,
    } = setup().await;
    let (mine, token) = app.adhoc_session(&project, &solver).await;
    let (other, _) = app.adhoc_session(&project, &solver).await;
    let id = s(&mine["id"]);
    let other_id = s(&other["id"]);

    let own = session(&app, &id, &token).await;
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
        &set_status(&app, &id, &token, "active").await,
        403,
        "FORBIDDEN",
    );
    assert_error(
        &app.put(
            &format!("/api/sessions/{id}/notes"),
            &token,
            json!({ "notes": "x" }),
        )
        .await,
        403,
        "FORBIDDEN",
    );
    assert_error(
        &complete(&app, &id, &token, "quick").await,
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
    status_ok(&app, &id, &solver.token, "active").await;
    let early = app
        .post(
            &format!("/api/sessions/{id}/rating"),
            &token,
            json!({ "rating": 5 }),
        )
        .await;
    assert_error(&early, 400, "INVALID_TRANSITION");
    let (st, _) = complete(&app, &id, &solver.token, "quick").await;
    assert_eq!(st, 200);
    let by_solver = app
        .post(
            &format!("/api/sessions/{id}/rating"),
            &solver.token,
            json!({ "rating": 5 }),
        )
        .await;
    assert_error(&by_solver, 403, "FORBIDDEN");
    let bad = app
        .post(
            &format!("/api/sessions/{id}/rating"),
            &token,
            json!({ "rating": 6 }),
        )
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED");
    let (st, rated) = app
        .post(
            &format!("/api/sessions/{id}/rating"),
            &token,
            json!({ "rating": 4, "comment": "quick and kind" }),
        )
        .await;
    assert_eq!((st, rated["rating"].clone()), (200, json!(4)), "{rated}");
    let twice = app
        .post(
            &format!("/api/sessions/{id}/rating"),
            &token,
            json!({ "rating": 1 }),
        )
        .await;
    assert_error(&twice, 400, "INVALID_TRANSITION");
    let (_, stats) = app.get("/api/solvers/me/stats", &solver.token).await;
    assert_eq!(stats["average_rating"], json!(4.0));
    // The token outlives its session by 7 days, then expires.
    app.advance(Duration::days(7) - Duration::seconds(1)).await;
    assert_eq!(
        session(&app, &id, &token).await["status"],
        json!("completed")
    );
    app.advance(Duration::seconds(1)).await;
    assert_error(
        &app.get(&format!("/api/sessions/{id}"), &token).await,
        401,
        "UNAUTHORIZED",
    );
}

#[actix_rt::test]
async fn tier_warnings_fire_on_the_clock_and_timer_events_carry_server_time() {
    let Setup {
        app,
        project,
        solver,
    } = setup().await;
    let (sess, token) = app.adhoc_session(&project, &solver).await;
    let id = s(&sess["id"]);
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
    assert!(customer
        .drain()
        .await
        .iter()
        .all(|e| e["event"] != json!("tier_warning")));
    app.advance(Duration::seconds(1)).await;
    let w = customer.expect_event("tier_warning").await;
    assert_fields(
        &w["data"],
        &json!({ "level": "approaching", "elapsed_seconds": 2160, "tier_limit_seconds": 2700 }),
    );
    app.advance(Duration::seconds(9 * 60)).await; // 45:00
    assert!(customer
        .drain()
        .await
        .iter()
        .all(|e| e["event"] != json!("tier_warning")));
    app.advance(Duration::seconds(1)).await; // 45:01
    let w = customer.expect_event("tier_warning").await;
    assert_fields(
        &w["data"],
        &json!({ "level": "exceeded", "elapsed_seconds": 2701 }),
    );
    app.advance(Duration::minutes(5)).await;
    assert!(customer
        .drain()
        .await
        .iter()
        .all(|e| e["event"] != json!("tier_warning")));

    // Sync persists the running timer and tells the customer.
    let (st, synced) = app
        .post(
            &format!("/api/sessions/{id}/sync"),
            &solver.token,
            json!({}),
        )
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
    let Setup {
        mut app,
        project,
        solver,
    } = setup().await;
    let (sess, token) = app.adhoc_session(&project, &solver).await;
    let id = s(&sess["id"]);
    status_ok(&app, &id, &solver.token, "active").await;
    app.advance(Duration::minutes(10)).await;
    let (st, _) = app
        .post(
            &format!("/api/sessions/{id}/messages"),
            &token,
            json!({ "content": "still there?" }),
        )
        .await;
    assert_eq!(st, 201);

    app.restart().await;
    app.advance(Duration::minutes(5)).await;
    let after = session(&app, &id, &solver.token).await;
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
    assert!(customer
        .drain()
        .await
        .iter()
        .all(|e| e["event"] != json!("tier_warning")));
    // Chat seqs continue.
    let (_, m) = app
        .post(
            &format!("/api/sessions/{id}/messages"),
            &token,
            json!({ "content": "back" }),
        )
        .await;
    assert_eq!(m["seq"], json!(2));
    let (st, done) = complete(&app, &id, &solver.token, "standard").await;
    assert_eq!(st, 200, "{done}");
    assert_eq!(done["session"]["elapsed_seconds"], json!(37 * 60));
}

#[actix_rt::test]
async fn sms_rules_and_limits() {
    let Setup {
        app,
        project,
        solver,
    } = setup().await;
    let (sess, token) = app.adhoc_session(&project, &solver).await;
    let id = s(&sess["id"]);
    let path = format!("/api/sessions/{id}/sms");
    let before = app
        .post(&path, &solver.token, json!({ "message": "hello" }))
        .await;
    assert_error(&before, 400, "INVALID_TRANSITION");
    status_ok(&app, &id, &solver.token, "active").await;
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
    assert_error(&res, 422, "VALIDATION_FAILED");
    assert!(res.1["fields"]["message"].is_string());
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
        session(&app, &id, &solver.token).await["sms_count"],
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
    status_ok(&app, &nid, &solver.token, "active").await;
    let res = app
        .post(
            &format!("/api/sessions/{nid}/sms"),
            &solver.token,
            json!({ "message": "hi" }),
        )
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
        .post(
            &format!("/api/sessions/{nid}/sms"),
            &solver.token,
            json!({ "message": "hi" }),
        )
        .await;
    assert_eq!(st, 201);
}

#[actix_rt::test]
async fn calls_screen_share_and_signalling() {
    let Setup {
        app,
        project,
        solver,
    } = setup().await;
    let (sess, token) = app.adhoc_session(&project, &solver).await;
    let id = s(&sess["id"]);
    let channel = format!("session:{id}");
    let share = app
        .post(
            &format!("/api/sessions/{id}/screen-share"),
            &solver.token,
            json!({ "solver_peer_id": "solver_1" }),
        )
        .await;
    assert_error(&share, 400, "INVALID_TRANSITION");
    let call = app
        .post(
            &format!("/api/sessions/{id}/call"),
            &solver.token,
            json!({}),
        )
        .await;
    assert_error(&call, 400, "INVALID_TRANSITION");
    status_ok(&app, &id, &solver.token, "active").await;

    let mut solver_ws = app.ws(&solver.token).await;
    solver_ws.subscribe(&channel, None).await;
    let mut customer = app.ws(&token).await;
    customer.subscribe(&channel, None).await;

    // Call: the built-in provider connects at once; hang-up records the duration.
    let (st, c) = app
        .post(
            &format!("/api/sessions/{id}/call"),
            &solver.token,
            json!({}),
        )
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
        .post(
            &format!("/api/sessions/{id}/call"),
            &solver.token,
            json!({}),
        )
        .await;
    assert_error(&twice, 400, "INVALID_TRANSITION");
    app.advance(Duration::seconds(125)).await;
    let (st, h) = app
        .post(
            &format!("/api/sessions/{id}/call/hangup"),
            &solver.token,
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{h}");
    assert_eq!(h["call"]["state"], json!("ended"));
    assert_eq!(h["call"]["duration_seconds"], json!(125));
    assert_eq!(
        session(&app, &id, &solver.token).await["call"]["duration_seconds"],
        json!(125)
    );

    // Screen share: request, the customer's answer over WebSocket.
    let (st, _) = app
        .post(
            &format!("/api/sessions/{id}/screen-share"),
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
    assert!(customer
        .drain()
        .await
        .iter()
        .all(|e| e["event"] != json!("signal")));
    let reply = customer
        .send_op(json!({ "op": "signal", "session_id": id, "to": "customer", "payload": {} }))
        .await;
    assert_eq!(reply["error"], json!("VALIDATION_FAILED"), "{reply}");
}

#[actix_rt::test]
async fn my_sessions_newest_first_with_filter_and_cursor() {
    let Setup {
        app,
        project,
        solver,
    } = setup().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let (sess, _) = app.adhoc_session(&project, &solver).await;
        let id = s(&sess["id"]);
        if i % 2 == 0 {
            status_ok(&app, &id, &solver.token, "active").await;
            app.advance(Duration::minutes(30)).await;
            let (st, _) = complete(&app, &id, &solver.token, "quick").await;
            assert_eq!(st, 200);
        }
        app.clock.advance(Duration::seconds(1));
        ids.push(id);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/sessions?limit=2&cursor={c}"),
            None => "/api/sessions?limit=2".to_string(),
        };
        let (st, page) = app.get(&path, &solver.token).await;
        assert_eq!(st, 200, "{page}");
        for item in page["items"].as_array().unwrap() {
            seen.push(s(&item["id"]));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);
    let (_, done) = app
        .get("/api/sessions?status=completed", &solver.token)
        .await;
    let items = done["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    // 30 min on quick: 69 + 10 x 3 = 99.00, the solver's 65 % is 64.35.
    assert_fields(
        &items[0],
        &json!({
            "customer_name": "Walk In", "tier": "quick", "duration_seconds": 1800,
            "earnings": 6435, "status": "completed", "rating": null,
        }),
    );
    let bad = app
        .get("/api/sessions?status=finished", &solver.token)
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED");
    let (_, stats) = app.get("/api/solvers/me/stats", &solver.token).await;
    assert_eq!(stats["total_sessions"], json!(3));
    assert_eq!(stats["total_earnings"], json!(3 * 6435));
}

#[actix_rt::test]
async fn malformed_input_and_unknown_sessions() {
    let Setup {
        app,
        project,
        solver,
    } = setup().await;
    let (sess, _) = app.adhoc_session(&project, &solver).await;
    let id = s(&sess["id"]);
    let res = app
        .call_raw(
            Method::POST,
            &format!("/api/sessions/{id}/status"),
            Auth::Bearer(&solver.token),
            "{\"status\": ",
        )
        .await;
    assert_error(&res, 400, "BAD_REQUEST");
    let res = app
        .call_raw(
            Method::PUT,
            &format!("/api/sessions/{id}/notes"),
            Auth::Bearer(&solver.token),
            "{\"notes\": 42}",
        )
        .await;
    assert_error(&res, 400, "BAD_REQUEST");
    let unknown = "00000000-0000-4000-8000-000000000000";
    assert_error(
        &app.get(&format!("/api/sessions/{unknown}"), &solver.token)
            .await,
        404,
        "NOT_FOUND",
    );
    assert_error(
        &app.get("/api/sessions/not-a-uuid", &solver.token).await,
        404,
        "NOT_FOUND",
    );
    // Neither a ticket nor ad hoc info, or both.
    let res = app.post("/api/sessions", &solver.token, json!({})).await;
    assert_error(&res, 422, "VALIDATION_FAILED");
    let res = app
        .post(
            "/api/sessions",
            &solver.token,
            json!({ "project_id": project.id, "adhoc": { "customer_name": "" } }),
        )
        .await;
    assert_error(&res, 422, "VALIDATION_FAILED");
    let long = "n".repeat(50_001);
    let res = app
        .put(
            &format!("/api/sessions/{id}/notes"),
            &solver.token,
            json!({ "notes": long }),
        )
        .await;
    assert_error(&res, 422, "VALIDATION_FAILED");
    // Nothing above changed the session.
    let after = session(&app, &id, &solver.token).await;
    assert_fields(
        &after,
        &json!({ "status": "not_started", "notes": "", "notes_saved_at": null }),
    );
}
