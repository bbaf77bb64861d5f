//! Conversation search (issue 17): `GET /api/conversations?q=&tag=` by
//! words of any message (the store's text index: FTS5 on SQLite, a GIN
//! index on PostgreSQL), the customer's name or email, a tag and the
//! status, within the caller's projects, paginated; black box.

mod common;

use common::*;
use serde_json::{json, Value};

async fn search(app: &TestApp, token: &str, query: &str) -> (u16, Value) {
    app.get(&format!("/api/conversations?{query}"), token).await
}

async fn found(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let (st, body) = search(app, token, query).await;
    assert_eq!(st, 200, "{query}: {body}");
    let mut ids: Vec<String> = body["items"]
        .as_array()
        .map(|a| a.iter().map(|c| s(&c["id"])).collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[actix_rt::test]
async fn search_finds_conversations_by_message_words_name_email_and_tag() {
    let (mut app, project, ana) = TestApp::with_agent_online().await;
    let p = format!("project_id={}", project.id);
    let (a, a_token) = app.assigned_conversation(&project, "visitor-a", &ana).await;
    for text in [
        "Hello there",
        "It is about my order",
        "The parcel never arrived",
    ] {
        app.say(&a, &a_token, text).await;
    }
    let (b, _) = app.new_conversation(&project, "visitor-b").await;
    let b = s(&b["id"]);
    app.say(
        &b,
        &app.new_conversation(&project, "visitor-b").await.1,
        "refund please",
    )
    .await;
    let (st, body) = app
        .patch(
            &format!("/api/conversations/{b}"),
            app.admin_token(),
            json!({ "customer_name": "Dana Scully", "customer_email": "dana@fbi.example",
                    "tags": ["vip", "100%_sure"] }),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    // Another tenant's conversation with the same word is never found.
    let elsewhere = app.create_project("Elsewhere").await;
    let olga = app.add_agent(&elsewhere, "Olga", 3).await;
    let (c, c_token) = app.new_conversation(&elsewhere, "visitor-c").await;
    app.say(&s(&c["id"]), &c_token, "my parcel too").await;

    let admin = app.admin_token().to_string();
    // A word of the third message, whole or its start, any case.
    assert_eq!(
        found(&app, &ana.token, &format!("{p}&q=parcel")).await,
        vec![a.clone()]
    );
    assert_eq!(
        found(&app, &ana.token, &format!("{p}&q=PARC")).await,
        vec![a.clone()]
    );
    // Every word must be there, in any message of the conversation.
    assert_eq!(
        found(&app, &ana.token, &format!("{p}&q=order%20parcel")).await,
        vec![a.clone()]
    );
    assert!(found(&app, &ana.token, &format!("{p}&q=order%20refund"))
        .await
        .is_empty());
    // The customer's name and email, as contained text.
    assert_eq!(
        found(&app, &ana.token, &format!("{p}&q=scully")).await,
        vec![b.clone()]
    );
    assert_eq!(
        found(&app, &ana.token, &format!("{p}&q=fbi.example")).await,
        vec![b.clone()]
    );
    // A tag, alone or with the text, and the status.
    assert_eq!(
        found(&app, &ana.token, &format!("{p}&tag=VIP")).await,
        vec![b.clone()]
    );
    assert_eq!(
        found(&app, &ana.token, &format!("{p}&tag=100%25_sure")).await,
        vec![b.clone()]
    );
    assert!(found(&app, &ana.token, &format!("{p}&tag=100%25"))
        .await
        .is_empty());
    assert!(found(&app, &ana.token, &format!("{p}&q=parcel&tag=vip"))
        .await
        .is_empty());
    assert_eq!(
        found(
            &app,
            &ana.token,
            &format!("{p}&q=parcel&status=agent_active")
        )
        .await,
        vec![a.clone()]
    );
    // Without a project: all of the caller's projects, and only theirs.
    assert_eq!(found(&app, &ana.token, "q=parcel").await, vec![a.clone()]);
    assert_eq!(found(&app, &olga.token, "q=parcel").await, [s(&c["id"])]);
    assert_eq!(
        found(&app, &admin, "q=parcel").await,
        sorted(vec![a.clone(), s(&c["id"])])
    );
    // Query syntax of either index is only text.
    for q in [
        "%22parcel",
        "parcel*",
        "parcel%20OR%20refund",
        "NEAR(parcel)",
        "a%3A*%20%26%20!b",
        "%25",
    ] {
        let (st, body) = search(&app, &ana.token, &format!("{p}&q={q}")).await;
        assert_eq!(st, 200, "{q}: {body}");
    }
    let res = search(&app, &ana.token, &format!("{p}&q={}", "x".repeat(201))).await;
    assert_invalid_field(&res, "q");

    // Each item previews its newest message, never an internal note.
    app.note(&a, &ana.token, "internal: refund approved").await;
    let (_, body) = search(&app, &ana.token, &format!("{p}&q=parcel")).await;
    assert_eq!(
        body["items"][0]["last_message"]["content"],
        json!("The parcel never arrived"),
        "{body}"
    );
    assert_eq!(
        body["items"][0]["last_message"]["sender_type"],
        json!("customer")
    );

    // A message written now is found at once, and after a restart.
    app.say(&a, &a_token, "Also a broken umbrella").await;
    assert_eq!(
        found(&app, &ana.token, &format!("{p}&q=umbrella")).await,
        vec![a.clone()]
    );
    app.restart().await;
    assert_eq!(
        found(&app, &ana.token, &format!("{p}&q=umbrella")).await,
        vec![a.clone()]
    );
}

#[actix_rt::test]
async fn search_results_come_in_pages() {
    let (app, project) = TestApp::with_handoff().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let (conv, token) = app
            .new_conversation(&project, &format!("visitor-{i}"))
            .await;
        let id = s(&conv["id"]);
        app.say(&id, &token, &format!("shipment number {i}")).await;
        ids.push(id);
    }
    let (other, token) = app.new_conversation(&project, "visitor-x").await;
    app.say(&s(&other["id"]), &token, "unrelated").await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = format!("project_id={}&q=shipment&limit=2", project.id);
        if let Some(c) = &cursor {
            q.push_str(&format!("&cursor={c}"));
        }
        let (st, body) = search(&app, app.admin_token(), &q).await;
        assert_eq!(st, 200, "{body}");
        let page = body["items"].as_array().cloned().unwrap_or_default();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|c| s(&c["id"])));
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(sorted(seen), sorted(ids));
}
