//! The dashboard's summaries: an agent's figures for today (seed 003 5.7.6)
//! in the project's time zone, and the owner's availability view with the
//! "no agents" warning (seed 003 5.10.5).
//! CSAT is the mean of the customers' ratings of the agent's chats
//! resolved today.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::*;
use serde_json::json;

/// A customer asks for a human; the (only online) agent gets it, answers
/// after `answer_after`, and resolves it; the customer rates it when
/// `rating` is given.
async fn handled(
    app: &TestApp,
    project: &Project,
    agent: &Agent,
    answer_after: Duration,
    rating: Option<i64>,
) {
    let visitor = format!("visitor-{}", uuid::Uuid::new_v4());
    let (conv, customer) = app.new_conversation(project, &visitor).await;
    let id = s(&conv["id"]);
    app.say(&id, &customer, "Can I talk to a human please?")
        .await;
    let conv = app.wait_for_status(&id, &customer, "agent_active").await;
    assert_eq!(conv["assigned_agent_id"], json!(agent.user_id));
    app.advance(answer_after).await;
    app.say(&id, &agent.token, "Hi, how can I help?").await;
    let (status, body) = app.resolve(&id, &agent.token).await;
    assert_eq!(status, 200, "resolve: {body}");
    if let Some(r) = rating {
        let (status, body) = app
            .post(
                &format!("/api/conversations/{id}/rating"),
                &customer,
                json!({ "rating": r }),
            )
            .await;
        assert_eq!(status, 200, "rating: {body}");
    }
}

#[actix_rt::test]
async fn an_agents_today_counts_their_resolved_chats_and_first_responses() {
    let start = Utc.with_ymd_and_hms(2026, 11, 16, 9, 58, 0).unwrap();
    let app = TestApp::start_at(start).await;
    let project = app.create_project("Acme").await;
    app.enable_handoff(&project, |_| {}).await;
    let ana = app.add_agent(&project, "Ana", 3).await;
    let bob = app.add_agent(&project, "Bob", 3).await;
    app.set_status(&ana, &project, "online").await;
    let path = format!("/api/agent/stats?project_id={}", project.id);

    let (status, body) = app.get(&path, &ana.token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "date": "2026-11-16", "timezone": "UTC", "resolved": 0,
            "avg_first_response_seconds": null, "csat": null, "ratings": 0,
        })
    );

    // Before 10:00 UTC: answered in 45 s and 15 s.
    handled(&app, &project, &ana, Duration::seconds(45), Some(5)).await;
    handled(&app, &project, &ana, Duration::seconds(15), Some(4)).await;
    app.advance(Duration::minutes(2)).await;
    app.heartbeat(&ana, &project).await;
    // After 10:00 UTC: answered in 60 s.
    handled(&app, &project, &ana, Duration::seconds(60), None).await;

    let (status, body) = app.get(&path, &ana.token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "date": "2026-11-16", "timezone": "UTC", "resolved": 3,
            "avg_first_response_seconds": 40.0, "csat": 4.5, "ratings": 2,
        })
    );
    // Bob handled nothing.
    let (status, body) = app.get(&path, &bob.token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resolved"], json!(0));
    assert_eq!(body["avg_first_response_seconds"], json!(null));

    // On Kiritimati (UTC+14) a new day began at 10:00 UTC: only the last
    // chat is today's.
    app.enable_handoff(&project, |s| s["timezone"] = json!("Pacific/Kiritimati"))
        .await;
    let (status, body) = app.get(&path, &ana.token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "date": "2026-11-17", "timezone": "Pacific/Kiritimati", "resolved": 1,
            "avg_first_response_seconds": 60.0, "csat": null, "ratings": 0,
        })
    );
    // The next day starts from zero (a new login: tokens last 12 hours).
    app.advance(Duration::days(1)).await;
    let token = app.login(&ana.email, "agent-password-1").await;
    let (status, body) = app.get(&path, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["date"], json!("2026-11-18"));
    assert_eq!(body["resolved"], json!(0));
}

#[actix_rt::test]
async fn stats_are_for_members_of_the_project() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let other = app.create_project("Other").await;
    let ana = app.add_agent(&project, "Ana", 3).await;
    assert_error(
        &app.get(
            &format!("/api/agent/stats?project_id={}", other.id),
            &ana.token,
        )
        .await,
        404,
        "NOT_FOUND",
    );
    assert_error(
        &app.get("/api/agent/stats", &ana.token).await,
        400,
        "BAD_REQUEST",
    );
    // The admin (a member) gets figures too: zeros.
    let (status, body) = app
        .get(
            &format!("/api/agent/stats?project_id={}", project.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resolved"], json!(0));
}

#[actix_rt::test]
async fn the_owner_is_warned_when_handoff_is_on_and_there_are_no_agents() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let path = format!("/api/projects/{}/availability", project.id);

    // Handoff off: no warning (nothing is promised to customers).
    let (status, body) = app.get(&path, app.admin_token()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["available"], json!(false), "{body}");
    assert_eq!(body["reason"], json!("disabled"), "{body}");
    assert_eq!(body["agents_total"], json!(0));
    assert_eq!(body["owner_warning"], json!(null));

    // On, and no agents: the warning, and the widget's own answer.
    app.enable_handoff(&project, |_| {}).await;
    let (status, body) = app.get(&path, app.admin_token()).await;
    assert_eq!(status, 200, "{body}");
    let widget = app.availability(&project).await;
    for k in ["available", "reason", "show_button", "show_offline_form"] {
        assert_eq!(body[k], widget[k], "{k}: {body} vs {widget}");
    }
    assert_eq!(body["reason"], json!("no_agents"), "{body}");
    assert_eq!(
        (&body["agents_total"], &body["agents_online"]),
        (&json!(0), &json!(0))
    );
    assert_eq!(body["owner_warning"]["code"], json!("no_agents"), "{body}");
    let message = body["owner_warning"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("no agents"), "{body}");

    // An agent (offline): no warning; online: available.
    let ana = app.add_agent(&project, "Ana", 3).await;
    let (_, body) = app.get(&path, &ana.token).await;
    assert_eq!(body["owner_warning"], json!(null), "{body}");
    assert_eq!(
        (&body["agents_total"], &body["agents_online"]),
        (&json!(1), &json!(0))
    );
    assert_eq!(body["reason"], json!("all_offline"), "{body}");
    app.set_status(&ana, &project, "online").await;
    let (_, body) = app.get(&path, &ana.token).await;
    assert_eq!(body["available"], json!(true), "{body}");
    assert_eq!(body["agents_online"], json!(1), "{body}");

    // Someone else's project: not found.
    let other = app.create_project("Other").await;
    assert_error(
        &app.get(
            &format!("/api/projects/{}/availability", other.id),
            &ana.token,
        )
        .await,
        404,
        "NOT_FOUND",
    );
}
