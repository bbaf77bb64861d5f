//! Canned responses (issue 17), black box against the real server: the
//! project's own (admins manage them) and each agent's personal ones,
//! with authorization, shortcodes unique per scope and checked variables.

mod common;

use common::*;
use serde_json::{json, Value};

fn path(project: &Project) -> String {
    format!("/api/projects/{}/canned-responses", project.id)
}

async fn shortcodes(app: &TestApp, project: &Project, token: &str) -> Vec<String> {
    let body = app.get_ok(&path(project), token, "canned responses").await;
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| s(&r["shortcode"]))
        .collect()
}

#[actix_rt::test]
async fn the_project_and_each_agent_have_their_own_responses() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let ben = app.add_agent(&project, "Ben", 3).await;
    let admin = app.admin_token().to_string();

    let (st, shared) = app
        .post(
            &path(&project),
            &admin,
            json!({ "shortcode": "/Refund", "scope": "project",
                    "content": "Hi {{customer.name}}, your refund is on its way. {{agent.name}}" }),
        )
        .await;
    assert_eq!(st, 201, "{shared}");
    assert_eq!(shared["shortcode"], json!("refund"));
    assert_eq!(shared["owner_id"], Value::Null);

    // An agent adds personal ones, not the project's.
    let res = app
        .post(
            &path(&project),
            &ana.token,
            json!({ "shortcode": "hi", "content": "Hello!", "scope": "project" }),
        )
        .await;
    assert_error(&res, 403, "FORBIDDEN");
    let (st, mine) = app
        .post(
            &path(&project),
            &ana.token,
            json!({ "shortcode": "refund", "content": "My own refund text" }),
        )
        .await;
    assert_eq!(st, 201, "{mine}");
    assert_eq!(mine["owner_id"], json!(ana.user_id));

    assert_eq!(
        shortcodes(&app, &project, &ana.token).await,
        ["refund", "refund"]
    );
    // Ben sees the project's, not Ana's.
    assert_eq!(shortcodes(&app, &project, &ben.token).await, ["refund"]);
    let listed = app.get_ok(&path(&project), &ben.token, "list").await;
    assert_eq!(listed["items"][0]["id"], shared["id"]);
    assert!(
        listed["variables"]
            .as_array()
            .is_some_and(|v| v.contains(&json!("customer.name"))),
        "{listed}"
    );

    // Ana may not edit the project's, Ben may not see Ana's.
    let one = |r: &Value| format!("{}/{}", path(&project), s(&r["id"]));
    let res = app
        .patch(&one(&shared), &ana.token, json!({ "content": "changed" }))
        .await;
    assert_error(&res, 403, "FORBIDDEN");
    let res = app
        .patch(&one(&mine), &ben.token, json!({ "content": "changed" }))
        .await;
    assert_error(&res, 404, "NOT_FOUND");
    let res = app
        .call(
            awc::http::Method::DELETE,
            &one(&mine),
            Auth::Bearer(&ben.token),
            None,
        )
        .await;
    assert_error(&res, 404, "NOT_FOUND");

    let (st, edited) = app
        .patch(
            &one(&mine),
            &ana.token,
            json!({ "content": "Better text, {{customer.name}}" }),
        )
        .await;
    assert_eq!(st, 200, "{edited}");
    assert_eq!(edited["shortcode"], json!("refund"));
    assert_eq!(edited["content"], json!("Better text, {{customer.name}}"));
    let (st, _) = app
        .call(
            awc::http::Method::DELETE,
            &one(&mine),
            Auth::Bearer(&ana.token),
            None,
        )
        .await;
    assert_eq!(st, 204);
    assert_eq!(shortcodes(&app, &project, &ana.token).await, ["refund"]);
}

#[actix_rt::test]
async fn bad_responses_are_refused_and_change_nothing() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let add = |body: Value| {
        let app = &app;
        let p = path(&project);
        let t = ana.token.clone();
        async move { app.post(&p, &t, body).await }
    };
    let (st, _) = add(json!({ "shortcode": "thanks", "content": "Thanks!" })).await;
    assert_eq!(st, 201);
    // The same shortcode in the same scope.
    assert_invalid_field(
        &add(json!({ "shortcode": "Thanks", "content": "Again" })).await,
        "shortcode",
    );
    assert_invalid_field(
        &add(json!({ "shortcode": "two words", "content": "x" })).await,
        "shortcode",
    );
    assert_invalid_field(
        &add(json!({ "shortcode": "x", "content": "Hi {{customer.phone}}" })).await,
        "content",
    );
    assert_invalid_field(
        &add(json!({ "shortcode": "x", "content": "  " })).await,
        "content",
    );
    assert_invalid_field(
        &add(json!({ "shortcode": "x", "content": "x", "scope": "team" })).await,
        "scope",
    );
    let res = add(json!({ "shortcode": 5, "content": "x" })).await;
    assert_eq!(res.0, 400, "{res:?}");
    assert_eq!(shortcodes(&app, &project, &ana.token).await, ["thanks"]);

    // Renaming onto a taken shortcode is refused too.
    let (_, other) = add(json!({ "shortcode": "bye", "content": "Bye!" })).await;
    let res = app
        .patch(
            &format!("{}/{}", path(&project), s(&other["id"])),
            &ana.token,
            json!({ "shortcode": "thanks" }),
        )
        .await;
    assert_invalid_field(&res, "shortcode");
    assert_eq!(
        shortcodes(&app, &project, &ana.token).await,
        ["bye", "thanks"]
    );
}

#[actix_rt::test]
async fn another_tenant_sees_and_changes_nothing() {
    let (app, project, _ana) = TestApp::with_agent_online().await;
    let (st, shared) = app
        .post(
            &path(&project),
            app.admin_token(),
            json!({ "shortcode": "hello", "content": "Hello", "scope": "project" }),
        )
        .await;
    assert_eq!(st, 201);
    let elsewhere = app.create_project("Elsewhere").await;
    let olga = app.add_agent(&elsewhere, "Olga", 3).await;
    let res = app.get(&path(&project), &olga.token).await;
    assert_error(&res, 404, "NOT_FOUND");
    let res = app
        .post(
            &path(&project),
            &olga.token,
            json!({ "shortcode": "x", "content": "x" }),
        )
        .await;
    assert_error(&res, 404, "NOT_FOUND");
    // Through her own project's path, the id is not found either.
    let res = app
        .patch(
            &format!("{}/{}", path(&elsewhere), s(&shared["id"])),
            &olga.token,
            json!({ "content": "mine now" }),
        )
        .await;
    assert_error(&res, 404, "NOT_FOUND");
    // A customer's token is not staff.
    let (_, customer) = app.new_conversation(&project, "visitor-1").await;
    let res = app.get(&path(&project), &customer).await;
    assert!(res.0 == 401 || res.0 == 403, "{res:?}");
}
