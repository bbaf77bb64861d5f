//! Tickets of billable sessions, black box: who may create them (staff of
//! the project, or the project key), validation with named fields, the
//! queue's scope, customer-info editing by the claiming solver only, and
//! malformed input.
#![allow(clippy::unwrap_used)]

mod common;

use awc::http::Method;
use common::*;
use serde_json::json;

fn ticket_body(project: &Project) -> serde_json::Value {
    json!({
        "project_id": project.id,
        "customer_name": "Ada",
        "description": "The app crashes at start",
        "urgency": "urgent",
    })
}

#[actix_rt::test]
async fn tickets_are_created_by_staff_or_with_the_project_key() {
    let app = TestApp::start().await;
    let project = app.create_project("Fixers").await;
    let other = app.create_project("Other").await;
    let solver = app.add_agent(&project, "Sol", 3).await;

    let (st, t) = app
        .post("/api/tickets", &solver.token, ticket_body(&project))
        .await;
    assert_eq!(st, 201, "{t}");
    assert_fields(
        &t,
        &json!({ "status": "open", "urgency": "urgent", "customer_phone": null, "solver_id": null, "waiting_seconds": 0 }),
    );
    // Another project's key, no credentials, a widget customer's token.
    let res = app.post_ticket(&other, ticket_body(&project)).await;
    assert_error(&res, 403, "FORBIDDEN");
    let res = app
        .call(
            Method::POST,
            "/api/tickets",
            Auth::None,
            Some(ticket_body(&project)),
        )
        .await;
    assert_error(&res, 401, "UNAUTHORIZED");
    let (_, customer) = app.new_conversation(&project, "visitor-1").await;
    let res = app
        .post("/api/tickets", &customer, ticket_body(&project))
        .await;
    assert_error(&res, 403, "FORBIDDEN");
    // Staff of another tenant: the project is not found.
    let stranger = app.add_agent(&other, "Str", 3).await;
    let res = app
        .post("/api/tickets", &stranger.token, ticket_body(&project))
        .await;
    assert_error(&res, 404, "NOT_FOUND");
    let res = app
        .get(&format!("/api/tickets/{}", s(&t["id"])), &stranger.token)
        .await;
    assert_error(&res, 404, "NOT_FOUND");
    let res = app
        .post(
            &format!("/api/tickets/{}/claim", s(&t["id"])),
            &stranger.token,
            json!({}),
        )
        .await;
    assert_error(&res, 404, "NOT_FOUND");
    let res = app
        .get(
            &format!("/api/tickets?project_id={}", project.id),
            &stranger.token,
        )
        .await;
    assert_error(&res, 404, "NOT_FOUND");

    // Validation names every bad field.
    let res = app
        .post_ticket(
            &project,
            json!({
                "project_id": project.id,
                "customer_name": "",
                "customer_phone": "call me",
                "customer_email": "not-an-email",
                "description": "",
                "urgency": "asap",
            }),
        )
        .await;
    assert_error(&res, 422, "VALIDATION_FAILED");
    let fields = res.1["fields"].as_object().unwrap();
    let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "customer_email",
            "customer_name",
            "customer_phone",
            "description",
            "urgency"
        ]
    );
    let res = app
        .call_raw(
            Method::POST,
            "/api/tickets",
            Auth::ProjectKey(&project.public_key),
            "{\"project_id\": ",
        )
        .await;
    assert_error(&res, 400, "BAD_REQUEST");
    let (st, q) = app
        .get(
            &format!("/api/tickets?project_id={}", project.id),
            &solver.token,
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(
        q["items"].as_array().unwrap().len(),
        1,
        "nothing refused was stored"
    );
}

#[actix_rt::test]
async fn customer_info_is_edited_by_the_claiming_solver() {
    let app = TestApp::start().await;
    let project = app.create_project("Fixers").await;
    let sol = app.add_agent(&project, "Sol", 3).await;
    let col = app.add_agent(&project, "Col", 3).await;
    let (_, t) = app
        .post("/api/tickets", &sol.token, ticket_body(&project))
        .await;
    let id = s(&t["id"]);
    let path = format!("/api/tickets/{id}/customer-info");

    // Open: any staff member of the project may fix it.
    let (st, body) = app
        .patch(
            &path,
            &col.token,
            json!({ "customer_email": "Ada@Example.com" }),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["customer_email"], json!("ada@example.com"));
    assert_eq!(body["customer_name"], json!("Ada"), "fields not given stay");

    let (st, _) = app
        .post(&format!("/api/tickets/{id}/claim"), &sol.token, json!({}))
        .await;
    assert_eq!(st, 200);
    let res = app
        .patch(&path, &col.token, json!({ "customer_name": "Eve" }))
        .await;
    assert_error(&res, 403, "FORBIDDEN");
    let res = app
        .patch(&path, &sol.token, json!({ "customer_phone": "12" }))
        .await;
    assert_error(&res, 422, "VALIDATION_FAILED");
    let (st, body) = app
        .patch(
            &path,
            &sol.token,
            json!({ "customer_name": "Ada Lovelace", "customer_phone": "+44 20 7946 0000" }),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let (_, got) = app.get(&format!("/api/tickets/{id}"), &sol.token).await;
    assert_fields(
        &got,
        &json!({
            "customer_name": "Ada Lovelace", "customer_phone": "+44 20 7946 0000",
            "customer_email": "ada@example.com", "status": "claimed",
        }),
    );

    // Once the session is open, the session sees the edit at once.
    let (st, sess) = app
        .post("/api/sessions", &sol.token, json!({ "ticket_id": id }))
        .await;
    assert_eq!(st, 201, "{sess}");
    let (st, _) = app
        .patch(&path, &sol.token, json!({ "customer_name": "Ada L." }))
        .await;
    assert_eq!(st, 200);
    let (_, view) = app
        .get(&format!("/api/sessions/{}", s(&sess["id"])), &sol.token)
        .await;
    assert_eq!(view["ticket"]["customer_name"], json!("Ada L."));
    let (_, got) = app.get(&format!("/api/tickets/{id}"), &sol.token).await;
    assert_eq!(got["customer_name"], json!("Ada L."));
}
