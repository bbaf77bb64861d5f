//! `PATCH /api/conversations/:id` (seed 003 7.2), black box against the
//! real server: staff edit tags, the customer's contact details and the
//! status the state machine allows; everything asked is checked before
//! anything changes; other staff watching see the edit and the customer
//! does not.

mod common;

use common::*;
use serde_json::{json, Value};

async fn edit(app: &TestApp, id: &str, token: &str, body: Value) -> (u16, Value) {
    app.patch(&format!("/api/conversations/{id}"), token, body)
        .await
}

#[actix_rt::test]
async fn an_agent_edits_tags_and_contact_details_and_other_staff_see_it_live() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (id, customer) = app.assigned_conversation(&project, "visitor-1", &ana).await;
    let mut staff_ws = app.ws(app.admin_token()).await;
    staff_ws
        .subscribe(&format!("conversation:{id}"), None)
        .await;
    let mut customer_ws = app.ws(&customer).await;
    customer_ws
        .subscribe(&format!("conversation:{id}"), None)
        .await;
    staff_ws.drain().await;
    customer_ws.drain().await;

    let (st, view) = edit(
        &app,
        &id,
        &ana.token,
        json!({ "tags": [" Billing ", "billing", "VIP"], "customer_name": "Dana Scully",
                "customer_email": "dana@example.com" }),
    )
    .await;
    assert_eq!(st, 200, "{view}");
    assert_eq!(view["tags"], json!(["billing", "vip"]));
    assert_eq!(view["customer_name"], json!("Dana Scully"));
    assert_eq!(view["customer_email"], json!("dana@example.com"));
    // Typed by staff, not proven by the customer: contact information.
    assert_eq!(view["customer_email_verified"], json!(false));
    assert_eq!(view["status"], json!("agent_active"));

    let stored = app.conversation(&id, app.admin_token()).await;
    assert_eq!(stored["tags"], json!(["billing", "vip"]));
    assert_eq!(stored["customer_name"], json!("Dana Scully"));

    let event = staff_ws.expect_event("conversation_updated").await;
    assert_eq!(
        event["data"]["conversation"]["tags"],
        json!(["billing", "vip"])
    );
    assert!(
        customer_ws.drained_none("conversation_updated").await,
        "the customer must not see staff edits"
    );
}

#[actix_rt::test]
async fn a_bad_field_changes_nothing() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (id, _) = app.assigned_conversation(&project, "visitor-1", &ana).await;
    let before = app.conversation(&id, &ana.token).await;

    let cases = [
        (
            json!({ "tags": ["ok"], "customer_email": "not-an-email" }),
            "customer_email",
        ),
        (json!({ "tags": ["ok"], "status": "waiting" }), "status"),
        (json!({ "tags": ["ok", "x".repeat(51)] }), "tags"),
        (
            json!({ "customer_name": "Ok", "tags": ["ok"], "status": "open" }),
            "status",
        ),
    ];
    for (body, field) in cases {
        let res = edit(&app, &id, &ana.token, body.clone()).await;
        assert_invalid_field(&res, field);
    }
    let res = edit(&app, &id, &ana.token, json!({ "tags": "billing" })).await;
    assert_eq!(res.0, 400, "{res:?}");
    let res = edit(&app, &id, &ana.token, json!({})).await;
    assert_error(&res, 400, "BAD_REQUEST");

    let after = app.conversation(&id, &ana.token).await;
    for key in [
        "tags",
        "customer_name",
        "customer_email",
        "status",
        "updated_at",
    ] {
        assert_eq!(after[key], before[key], "{key} changed");
    }
}

#[actix_rt::test]
async fn a_status_edit_follows_the_state_machine_and_a_refused_one_changes_nothing() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    // The AI still has it: resolving is not a transition it allows, and the
    // tags asked with it are not kept.
    let (conv, _) = app.new_conversation(&project, "visitor-ai").await;
    let ai = s(&conv["id"]);
    let res = edit(
        &app,
        &ai,
        app.admin_token(),
        json!({ "tags": ["x"], "status": "resolved" }),
    )
    .await;
    assert_error(&res, 400, "INVALID_TRANSITION");
    assert_eq!(
        app.conversation(&ai, app.admin_token()).await["tags"],
        json!([])
    );

    let (id, customer) = app.assigned_conversation(&project, "visitor-1", &ana).await;
    let (st, view) = edit(
        &app,
        &id,
        &ana.token,
        json!({ "tags": ["done"], "status": "resolved" }),
    )
    .await;
    assert_eq!(st, 200, "{view}");
    assert_eq!(view["status"], json!("resolved"));
    assert_eq!(view["tags"], json!(["done"]));
    assert_eq!(view["resolved_by"], json!(ana.user_id));
    // Resolving freed the agent's slot, as the resolve operation does.
    assert_eq!(app.chat_counts(&project, &[&ana]).await, vec![0]);
    // The customer sees the resolution (and may rate), as after /resolve.
    let msgs = app.get_messages(&id, &customer).await;
    assert!(
        msgs.iter()
            .any(|m| m["metadata"]["event"] == json!("resolved")),
        "{msgs:?}"
    );

    let (st, view) = edit(&app, &id, &ana.token, json!({ "status": "closed" })).await;
    assert_eq!(st, 200, "{view}");
    assert_eq!(view["status"], json!("closed"));
    // Closed is final: no edit reaches it.
    let res = edit(&app, &id, &ana.token, json!({ "tags": ["later"] })).await;
    assert_error(&res, 400, "INVALID_TRANSITION");
}

#[actix_rt::test]
async fn only_the_projects_staff_edit_and_a_proven_email_stays() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (id, customer) = app.assigned_conversation(&project, "visitor-1", &ana).await;
    let elsewhere = app.create_project("Elsewhere").await;
    let olga = app.add_agent(&elsewhere, "Olga", 3).await;

    let res = edit(&app, &id, &olga.token, json!({ "tags": ["mine"] })).await;
    assert_error(&res, 404, "NOT_FOUND");
    let res = edit(&app, &id, &customer, json!({ "tags": ["mine"] })).await;
    assert!(res.0 == 401 || res.0 == 403, "{res:?}");
    let res = edit(
        &app,
        &uuid::Uuid::new_v4().to_string(),
        &ana.token,
        json!({ "tags": ["x"] }),
    )
    .await;
    assert_error(&res, 404, "NOT_FOUND");

    // Another agent of the project may tag it but not resolve another
    // agent's live chat.
    let ben = app.add_agent(&project, "Ben", 3).await;
    let (st, _) = edit(&app, &id, &ben.token, json!({ "tags": ["seen"] })).await;
    assert_eq!(st, 200);
    let res = edit(&app, &id, &ben.token, json!({ "status": "resolved" })).await;
    assert_error(&res, 403, "FORBIDDEN");

    // A proven email is the customer's identity, not an editable field.
    let (st, body) = app
        .identify_proven(&project, &customer, "real@example.com", None)
        .await;
    assert_eq!(st, 200, "{body}");
    let res = edit(
        &app,
        &id,
        &ana.token,
        json!({ "customer_email": "other@example.com", "tags": ["t"] }),
    )
    .await;
    assert_invalid_field(&res, "customer_email");
    let view = app.conversation(&id, &ana.token).await;
    assert_eq!(view["customer_email"], json!("real@example.com"));
    assert_eq!(view["customer_email_verified"], json!(true));
    assert_eq!(view["tags"], json!(["seen"]));
}
