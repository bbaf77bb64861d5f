//! The customer's satisfaction rating: 1 to 5 with optional feedback, once
//! per conversation, only once it is resolved or closed.

mod common;

use common::*;
use serde_json::json;

async fn rate(
    app: &TestApp,
    id: &str,
    token: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    app.post(&format!("/api/conversations/{id}/rating"), token, body)
        .await
}

#[actix_rt::test]
async fn a_resolved_conversation_is_rated_once() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (a, customer) = app.assigned_conversation(&project, "visitor-a", &ana).await;
    let mut agent_ws = app.ws(&ana.token).await;
    agent_ws
        .subscribe(&format!("agent:{}", ana.user_id), None)
        .await;

    // Not before it is resolved.
    let early = rate(&app, &a, &customer, json!({ "rating": 5 })).await;
    assert_error(&early, 400, "INVALID_TRANSITION");

    let (st, body) = app.resolve(&a, &ana.token).await;
    assert_eq!(st, 200, "{body}");
    // Wrong values change nothing.
    assert_error(
        &rate(&app, &a, &customer, json!({ "rating": 6 })).await,
        422,
        "VALIDATION_FAILED",
    );
    assert_error(
        &rate(&app, &a, &customer, json!({ "rating": 0 })).await,
        422,
        "VALIDATION_FAILED",
    );
    assert_error(
        &rate(&app, &a, &customer, json!({ "rating": "5" })).await,
        400,
        "BAD_REQUEST",
    );
    let long = "x".repeat(2001);
    assert_error(
        &rate(
            &app,
            &a,
            &customer,
            json!({ "rating": 4, "feedback": long }),
        )
        .await,
        422,
        "VALIDATION_FAILED",
    );
    // Only the conversation's own customer rates.
    assert_error(
        &rate(&app, &a, &ana.token, json!({ "rating": 5 })).await,
        403,
        "FORBIDDEN",
    );
    let (_other, other_customer) = app.new_conversation(&project, "visitor-b").await;
    assert_error(
        &rate(&app, &a, &other_customer, json!({ "rating": 1 })).await,
        404,
        "NOT_FOUND",
    );
    assert_eq!(
        app.conversation(&a, &customer).await["satisfaction_rating"],
        json!(null)
    );

    let (st, body) = rate(
        &app,
        &a,
        &customer,
        json!({ "rating": 4, "feedback": "  quick and kind " }),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        body,
        json!({ "conversation_id": a, "satisfaction_rating": 4, "satisfaction_feedback": "quick and kind" })
    );
    let rated = agent_ws.expect_event("conversation_rated").await;
    assert_eq!(rated["data"], json!({ "conversation_id": a, "rating": 4 }));
    assert_error(
        &rate(&app, &a, &customer, json!({ "rating": 5 })).await,
        400,
        "INVALID_TRANSITION",
    );

    // The rating survives the conversation's close.
    let (st, _) = app.close(&a, &customer).await;
    assert_eq!(st, 200);
    let conv = app.conversation(&a, &ana.token).await;
    assert_eq!(
        (conv["status"].clone(), conv["satisfaction_rating"].clone()),
        (json!("closed"), json!(4))
    );
    assert_error(
        &rate(&app, &a, &customer, json!({ "rating": 1 })).await,
        400,
        "INVALID_TRANSITION",
    );
}

#[actix_rt::test]
async fn a_closed_conversation_is_rated_once_even_when_two_ratings_race() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (conv, customer) = app.new_conversation(&project, "visitor-a").await;
    let id = s(&conv["id"]);
    app.say(&id, &customer, "never mind").await;
    let (st, _) = app.close(&id, &customer).await;
    assert_eq!(st, 200);

    let (one, two) = futures_util::join!(
        rate(&app, &id, &customer, json!({ "rating": 2 })),
        rate(
            &app,
            &id,
            &customer,
            json!({ "rating": 5, "feedback": "ok" })
        ),
    );
    let mut statuses = [one.0, two.0];
    statuses.sort();
    assert_eq!(statuses, [200, 400], "{one:?} {two:?}");
    let winner = if one.0 == 200 { &one.1 } else { &two.1 };
    let stored = app.conversation(&id, &customer).await;
    assert_eq!(
        stored["satisfaction_rating"], winner["satisfaction_rating"],
        "{stored}"
    );
    assert_error(
        &rate(&app, &id, &customer, json!({ "rating": 9 })).await,
        422,
        "VALIDATION_FAILED",
    );
}
