//! The admin's lists of leads (`GET /api/projects/:id/leads`): newest
//! first, paged by an opaque cursor, for the project's admins only. No
//! endpoint captures leads yet (the offline form builds on this), so the
//! test writes them through the server's store.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Duration;
use common::*;
use serde_json::{json, Value};
use switchboard::store::LeadRecord;
use switchboard_actors::ids::{ConversationId, LeadId};

#[actix_rt::test]
async fn leads_page_newest_first_for_admins_only() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let other = app.create_project("Other").await;
    let db = app.db();
    let conv = ConversationId::new();
    let start = switchboard_actors::clock::Clock::now(&app.clock);
    for n in 0..5 {
        db.insert_lead(&LeadRecord {
            id: LeadId::new(),
            project_id: project.id.parse().unwrap(),
            conversation_id: (n == 4).then_some(conv),
            email: format!("lead{n}@example.com"),
            name: (n == 4).then(|| "Ada".to_string()),
            message: format!("question {n}"),
            created_at: start + Duration::minutes(n),
        })
        .await
        .unwrap();
    }

    let path = format!("/api/projects/{}/leads", project.id);
    let (st, page) = app.get(&format!("{path}?limit=2"), app.admin_token()).await;
    assert_eq!(st, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_fields(
        &items[0],
        &json!({
            "project_id": project.id, "conversation_id": conv.to_string(),
            "email": "lead4@example.com", "name": "Ada", "message": "question 4",
            "created_at": "2026-11-16T10:04:00.000Z",
        }),
    );
    assert_eq!(items[1]["conversation_id"], Value::Null);
    let mut emails: Vec<String> = items.iter().map(|l| s(&l["email"])).collect();
    let mut cursor = page["next_cursor"].clone();
    while let Some(c) = cursor.as_str() {
        let (st, page) = app
            .get(&format!("{path}?limit=2&cursor={c}"), app.admin_token())
            .await;
        assert_eq!(st, 200, "{page}");
        emails.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| s(&l["email"])),
        );
        cursor = page["next_cursor"].clone();
    }
    let want: Vec<String> = (0..5)
        .rev()
        .map(|n| format!("lead{n}@example.com"))
        .collect();
    assert_eq!(emails, want);

    // Another project's list is its own (and empty).
    let (st, body) = app
        .get(
            &format!("/api/projects/{}/leads", other.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body, json!({ "items": [], "next_cursor": null }));

    let ana = app.add_agent(&project, "Ana", 3).await;
    assert_error(&app.get(&path, &ana.token).await, 403, "FORBIDDEN");
    assert_error(
        &app.get(&format!("/api/projects/{}/leads", other.id), &ana.token)
            .await,
        404,
        "NOT_FOUND",
    );
    assert_error(
        &app.get(&format!("{path}?cursor=nonsense"), app.admin_token())
            .await,
        422,
        "VALIDATION_FAILED",
    );
}
