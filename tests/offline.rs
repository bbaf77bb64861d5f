//! Outside business hours (seed 003 5.8.4, 9.5): the handoff answers
//! offline with the next opening in the project's timezone, and the offline
//! form leaves an email and a message that wait in the queue for the team.

mod common;

use chrono::Duration;
use common::*;
use serde_json::{json, Value};

#[actix_rt::test]
async fn the_offline_form_in_tokyo_waits_for_the_morning() {
    // Monday 10:00 UTC is 19:00 in Tokyo: closed until Tuesday 09:00 there
    // (Tuesday 00:00 UTC).
    let app = TestApp::start().await;
    let project = app.project_closed_in_tokyo(|_| {}).await;
    let ana = app.add_agent(&project, "Ana", 2).await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    let mut widget = app.ws(&customer).await;
    widget
        .subscribe(&format!("project:{}:widget", project.id), None)
        .await;

    let (st, body) = app.handoff(&id, &customer, "button_click").await;
    assert_eq!(
        (st, body["status"].clone()),
        (200, json!("offline")),
        "{body}"
    );
    assert_eq!(
        body["business_hours"]["next_available"],
        json!("2026-11-17T00:00:00.000Z")
    );

    // Bad input changes nothing.
    let bad = app
        .offline_form(
            &id,
            &customer,
            json!({ "email": "not-an-email", "message": "hi" }),
        )
        .await;
    assert_invalid_field(&bad, "email");
    let empty = app
        .offline_form(
            &id,
            &customer,
            json!({ "email": "jo@example.com", "message": "  " }),
        )
        .await;
    assert_error(&empty, 422, "VALIDATION_FAILED");
    let staff = app
        .offline_form(
            &id,
            &ana.token,
            json!({ "email": "jo@example.com", "message": "hi" }),
        )
        .await;
    assert_error(&staff, 403, "FORBIDDEN");
    assert_eq!(
        app.conversation(&id, &customer).await["status"],
        json!("ai_active")
    );

    let (st, body) = app
        .offline_form(
            &id,
            &customer,
            json!({ "email": "Jo@Example.com", "name": "Jo", "message": "My invoice is wrong" }),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["status"], json!("waiting"));
    let conv = &body["conversation"];
    assert_eq!(conv["customer_email"], json!("jo@example.com"));
    assert_eq!(conv["customer_name"], json!("Jo"));
    assert_eq!(conv["queue_position"], json!(1));
    let msgs = app.get_messages(&id, &customer).await;
    let tail: Vec<_> = msgs[msgs.len() - 2..]
        .iter()
        .map(|m| (s(&m["sender_type"]), s(&m["content"])))
        .collect();
    assert_eq!(tail[0], ("customer".into(), "My invoice is wrong".into()));
    assert_eq!(tail[1].0, "system");
    assert!(tail[1].1.contains("jo@example.com"), "{tail:?}");
    // The email is contact information on this conversation, unverified:
    // the visitor is not linked to any customer by it.
    let staff = app.conversation(&id, app.admin_token()).await;
    assert_eq!(staff["customer_email_verified"], json!(false), "{staff}");
    let (st, panel) = app
        .get(
            &format!(
                "/api/projects/{}/customers/{}",
                project.id,
                s(&staff["customer_id"])
            ),
            app.admin_token(),
        )
        .await;
    assert_eq!(st, 200, "{panel}");
    assert_eq!(
        (panel["email"].clone(), panel["identified"].clone()),
        (json!(null), json!(false))
    );

    assert_eq!(body["confirmation_sent"], json!(true), "{body}");
    assert_eq!(
        body["message"],
        json!("Thanks! We will get back to you when we open on Tuesday 09:00 (Asia/Tokyo).")
    );
    // A lead for the team, and the confirmation in the built-in outbox.
    let (st, leads) = app
        .get(
            &format!("/api/projects/{}/leads", project.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(st, 200, "{leads}");
    let lead = &leads["items"][0];
    assert_eq!(
        (
            lead["email"].clone(),
            lead["name"].clone(),
            lead["message"].clone(),
            lead["conversation_id"].clone()
        ),
        (
            json!("jo@example.com"),
            json!("Jo"),
            json!("My invoice is wrong"),
            json!(id)
        )
    );
    let (st, emails) = app
        .get(
            &format!("/api/projects/{}/emails", project.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(st, 200, "{emails}");
    // The team's own invitations are in the outbox too; one went to the customer.
    let to_customers: Vec<&Value> = emails["items"]
        .as_array()
        .expect("emails")
        .iter()
        .filter(|m| m["kind"] != json!("invitation"))
        .collect();
    assert_eq!(to_customers.len(), 1, "{emails}");
    let mail = to_customers[0];
    assert_eq!(mail["to"], json!("jo@example.com"), "{mail}");
    assert_eq!(mail["kind"], json!("offline_confirmation"));
    assert!(
        s(&mail["body"]).contains("Tuesday 09:00 (Asia/Tokyo)"),
        "{mail}"
    );

    // The night passes: the form's conversation is not abandoned.
    for _ in 0..13 {
        app.advance(Duration::hours(1)).await;
    }
    app.advance(Duration::minutes(59)).await;
    assert_eq!(
        app.conversation(&id, &customer).await["status"],
        json!("waiting")
    );
    // 09:00 in Tokyo: the widgets hear that the answer changed.
    app.advance(Duration::minutes(1)).await;
    let e = widget.expect_event("availability_changed").await;
    assert_eq!(e["data"]["reason"], json!("all_offline"), "{e}");
    // Ana starts her day (yesterday's token has expired) and gets the
    // waiting customer.
    let ana = Agent {
        token: app.login(&ana.email, "agent-password-1").await,
        ..ana
    };
    app.set_status(&ana, &project, "online").await;
    let conv = app.wait_for_status(&id, &customer, "agent_active").await;
    assert_eq!(conv["assigned_agent_id"], json!(ana.user_id));
}

#[actix_rt::test]
async fn the_offline_form_is_for_conversations_not_yet_with_an_agent() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (a, customer) = app.assigned_conversation(&project, "visitor-a", &ana).await;
    let res = app
        .offline_form(
            &a,
            &customer,
            json!({ "email": "a@example.com", "message": "hello" }),
        )
        .await;
    assert_error(&res, 400, "INVALID_TRANSITION");
    let (_, other) = app.new_conversation(&project, "visitor-b").await;
    let res = app
        .offline_form(
            &a,
            &other,
            json!({ "email": "a@example.com", "message": "hello" }),
        )
        .await;
    assert_error(&res, 404, "NOT_FOUND");
}
