//! Billable expert sessions (seeds 000 and 001), black box: tickets and
//! the one-winner claim, the session workflow with its timer on the manual
//! clock, every refused transition, the pricing table, notes, cancellation,
//! my-sessions list and stats. The session's live side (chat, the join
//! token, warnings, SMS, calls) is in sessions_live.rs.
#![allow(clippy::unwrap_used)]

mod common;

use awc::http::Method;
use chrono::Duration;
use common::*;
use serde_json::json;

#[actix_rt::test]
async fn whole_workflow_from_ticket_to_payment() {
    let (app, project, solver) = TestApp::with_solver().await;
    let older = app.customer_ticket(&project, "Ada").await;
    app.clock.advance(Duration::seconds(90));
    let newer = app.customer_ticket(&project, "Bob").await;
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
    let started = app.session_status_ok(&id, &solver.token, "active").await;
    assert_eq!(started["status"], json!("active"));
    assert!(started["started_at"].is_string());
    app.advance(Duration::minutes(10)).await;
    assert_eq!(
        app.session(&id, &solver.token).await["elapsed_seconds"],
        json!(600)
    );
    let paused = app.session_status_ok(&id, &solver.token, "paused").await;
    assert_eq!(paused["elapsed_seconds"], json!(600));
    app.advance(Duration::minutes(5)).await;
    assert_eq!(
        app.session(&id, &solver.token).await["elapsed_seconds"],
        json!(600)
    );
    app.session_status_ok(&id, &solver.token, "active").await;
    app.advance(Duration::minutes(15)).await;

    // Notes with save status.
    let (st, saved) = app
        .session_notes(&id, &solver.token, "reset the spooler")
        .await;
    assert_eq!(st, 200, "{saved}");
    assert_eq!(saved["save_status"], json!("saved"));
    assert_eq!(
        app.session(&id, &solver.token).await["notes"],
        json!("reset the spooler")
    );

    // Complete on quick: 25:00 is 5 overage minutes at 3.00.
    let (st, done) = app.complete_session(&id, &solver.token, "quick").await;
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
        &app.session_status(&id, &solver.token, "active").await,
        400,
        "INVALID_TRANSITION",
    );
    let notes = app.session_notes(&id, &solver.token, "late").await;
    assert_error(&notes, 400, "INVALID_TRANSITION");
    let after = app.session(&id, &solver.token).await;
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
    let (app, project, _) = TestApp::with_solver().await;
    let mut solvers = Vec::new();
    for i in 0..20 {
        solvers.push(app.add_agent(&project, &format!("S{i}"), 3).await);
    }
    let ticket = app.customer_ticket(&project, "Ada").await;
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

#[actix_rt::test]
async fn every_invalid_transition_is_refused_and_changes_nothing() {
    let (app, project, solver) = TestApp::with_solver().await;
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
            let id = app.session_in(&project, &solver, from).await;
            let before = app.session(&id, &solver.token).await;
            let res = match mv {
                "complete" => app.complete_session(&id, &solver.token, "standard").await,
                "cancel" => {
                    app.session_post(&id, "cancel", &solver.token, json!({}))
                        .await
                }
                target => app.session_status(&id, &solver.token, target).await,
            };
            if allowed(from, mv) {
                assert_eq!(res.0, 200, "{from} -> {mv}: {}", res.1);
                continue;
            }
            refused += 1;
            assert_error(&res, 400, "INVALID_TRANSITION");
            let after = app.session(&id, &solver.token).await;
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
    let id = app.session_in(&project, &solver, "active").await;
    let res = app.session_status(&id, &solver.token, "not_started").await;
    assert_error(&res, 422, "VALIDATION_FAILED");
}

#[actix_rt::test]
async fn completion_prices_by_the_seed_table() {
    let (app, project, solver) = TestApp::with_solver().await;
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
        app.session_status_ok(&id, &solver.token, "active").await;
        app.advance(Duration::seconds(elapsed)).await;
        let (st, done) = app.complete_session(&id, &solver.token, tier).await;
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
    let bad = app
        .complete_session(
            &app.session_in(&project, &solver, "active").await,
            &solver.token,
            "huge",
        )
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED");
    let id = app.session_in(&project, &solver, "active").await;
    let missing = app
        .session_post(&id, "complete", &solver.token, json!({}))
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
    let (app, project, solver) = TestApp::with_solver().await;
    let path = format!("/api/projects/{}/billing", project.id);
    let (st, terms) = app.get(&path, &solver.token).await;
    assert_eq!((st, terms), (200, json!({ "solver_share_percent": 65 })));
    let before = app.session_in(&project, &solver, "active").await;

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

    let after = app.session_in(&project, &solver, "active").await;
    app.advance(Duration::seconds(600)).await;
    // 12900 cents: 65 % for the session created before, 70 % after
    let (_, old) = app
        .complete_session(&before, &solver.token, "standard")
        .await;
    assert_eq!(old["pricing"]["solver_earnings"], json!(8385));
    let (_, new) = app
        .complete_session(&after, &solver.token, "standard")
        .await;
    assert_eq!(new["pricing"]["solver_earnings"], json!(9030));
    assert_eq!(new["pricing"]["platform_fee"], json!(3870));
}

#[actix_rt::test]
async fn cancellation_tells_the_customer_and_charges_nothing() {
    let (app, _, solver, id, token) = TestApp::with_session().await;
    let mut customer = app.ws(&token).await;
    customer.subscribe(&format!("session:{id}"), None).await;
    app.session_status_ok(&id, &solver.token, "active").await;
    app.advance(Duration::minutes(3)).await;
    let (st, body) = app
        .session_post(
            &id,
            "cancel",
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
async fn my_sessions_newest_first_with_filter_and_cursor() {
    let (app, project, solver) = TestApp::with_solver().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let (sess, _) = app.adhoc_session(&project, &solver).await;
        let id = s(&sess["id"]);
        if i % 2 == 0 {
            app.session_status_ok(&id, &solver.token, "active").await;
            app.advance(Duration::minutes(30)).await;
            let (st, _) = app.complete_session(&id, &solver.token, "quick").await;
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
    let (app, project, solver, id, _) = TestApp::with_session().await;
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
    let res = app.session_notes(&id, &solver.token, &long).await;
    assert_error(&res, 422, "VALIDATION_FAILED");
    // Nothing above changed the session.
    let after = app.session(&id, &solver.token).await;
    assert_fields(
        &after,
        &json!({ "status": "not_started", "notes": "", "notes_saved_at": null }),
    );
}
