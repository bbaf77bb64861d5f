//! Security regressions of what a widget's customer sends and sees (issue
//! 14, items 7, 10 and 17), black box against the real server:
//!
//! - the offline form is taken once per conversation and its confirmation
//!   echoes nothing the sender wrote;
//! - a customer sees a whitelisted view of its conversation, no staff
//!   fields;
//! - message content refuses control and bidi override characters, and a
//!   customer's metadata is kept to known keys.

mod common;

use common::*;
use serde_json::{json, Value};
use switchboard::limits::RateLimits;
use switchboard_actors::clock::ManualClock;

// ----- item 7: the offline form ---------------------------------------------------

async fn closed_project(app: &TestApp) -> Project {
    let project = app.project_closed_in_tokyo(|_| {}).await;
    app.add_agent(&project, "Ana", 2).await;
    project
}

#[actix_rt::test]
async fn the_offline_form_is_taken_once_and_its_email_echoes_nothing() {
    let app = TestApp::start().await;
    let project = closed_project(&app).await;
    let (conv, token) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    let (st, body) = app
        .offline_form(
            &id,
            &token,
            json!({ "email": "target@example.com", "name": "Click evil.example",
                    "message": "Your account is locked: visit evil.example" }),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let messages = app.get_messages(&id, app.admin_token()).await.len();

    for _ in 0..3 {
        let res = app
            .offline_form(
                &id,
                &token,
                json!({ "email": "other@example.com", "message": "again" }),
            )
            .await;
        assert_error(&res, 400, "INVALID_TRANSITION");
    }
    assert_eq!(
        app.get_messages(&id, app.admin_token()).await.len(),
        messages
    );
    let mails = app.project_outbox(&project).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let (st, leads) = app
        .get(
            &format!("/api/projects/{}/leads", project.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(leads["items"].as_array().map(Vec::len), Some(1), "{leads}");
    let seen = app.conversation(&id, app.admin_token()).await;
    assert_eq!(seen["customer_email"], json!("target@example.com"));

    // The confirmation carries none of the sender's words.
    let mail = &mails[0];
    let text = format!("{} {}", mail["subject"], mail["body"]);
    for echoed in ["evil.example", "Click", "locked"] {
        assert!(
            !text.contains(echoed),
            "the email echoes {echoed:?}: {mail}"
        );
    }
}

#[actix_rt::test]
async fn the_offline_form_counts_as_a_widget_message() {
    let app = TestApp::start_with_config(ManualClock::at_default(), |c| {
        c.rate_limits = RateLimits {
            widget_messages: 2,
            ..RateLimits::OFF
        }
    })
    .await;
    let project = closed_project(&app).await;
    let (conv, token) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    app.say(&id, &token, "one").await;
    app.say(&id, &token, "two").await;
    let (st, body) = app
        .offline_form(
            &id,
            &token,
            json!({ "email": "jo@example.com", "message": "three" }),
        )
        .await;
    assert_eq!(
        (st, body["error"].clone()),
        (429, json!("RATE_LIMITED")),
        "{body}"
    );
    assert!(app.project_outbox(&project).await.is_empty());
    assert_eq!(
        app.conversation(&id, app.admin_token()).await["status"],
        json!("ai_active")
    );
}

// ----- item 10: the customer's view -------------------------------------------------

/// Every key a customer may see of its conversation.
const CUSTOMER_FIELDS: &[&str] = &[
    "id",
    "project_id",
    "status",
    "customer_id",
    "visitor_id",
    "customer_email",
    "customer_email_verified",
    "customer_name",
    "assigned_agent_id",
    "resolved_at",
    "closed_at",
    "satisfaction_rating",
    "satisfaction_feedback",
    "auto_close_warning_sent_at",
    "source",
    "created_at",
    "updated_at",
    "last_message_at",
    "queue_position",
    "estimated_wait_minutes",
    "last_seq",
];

fn assert_customer_view(view: &Value, secrets: &[&str]) {
    let keys: Vec<&String> = view
        .as_object()
        .unwrap_or_else(|| panic!("a view: {view}"))
        .keys()
        .collect();
    for k in keys {
        assert!(
            CUSTOMER_FIELDS.contains(&k.as_str()),
            "the customer sees {k}: {view}"
        );
    }
    let text = view.to_string();
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "the customer sees {secret:?}: {view}"
        );
    }
}

#[actix_rt::test]
async fn a_customer_sees_its_conversation_without_staff_fields() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 3).await;
    app.set_status(&ana, &project, "online").await;
    let (created, token) = app.new_conversation(&project, "visitor-1").await;
    assert_customer_view(&created, &[]);
    let id = s(&created["id"]);
    let (st, _) = app.handoff(&id, &token, "button_click").await;
    assert_eq!(st, 200);
    let (st, _) = app
        .put(
            &format!("/api/conversations/{id}/tags"),
            &ana.token,
            json!({ "tags": ["chargeback-risk"] }),
        )
        .await;
    assert_eq!(st, 200);
    app.note(&id, &ana.token, "suspected fraud ring").await;
    let staff = app.conversation(&id, app.admin_token()).await;
    let (st, _) = app
        .patch(
            &format!(
                "/api/projects/{}/customers/{}",
                project.id,
                s(&staff["customer_id"])
            ),
            &ana.token,
            json!({ "is_flagged": true, "flag_reason": "fraud ring",
                    "internal_notes": "do not refund" }),
        )
        .await;
    assert_eq!(st, 200);
    let secrets = [
        "chargeback-risk",
        "fraud",
        "do not refund",
        "handoff_reason",
    ];

    let mut ws = app.ws(&token).await;
    ws.subscribe(&format!("conversation:{id}"), Some(0)).await;
    let view = app.conversation(&id, &token).await;
    assert_customer_view(&view, &secrets);
    assert_eq!(view["status"], json!("agent_active"));
    // Staff still see it all.
    assert_eq!(staff["tags"], json!(["chargeback-risk"]));
    assert_eq!(staff["ai_context"]["handoff_reason"], json!("button_click"));

    // What the customer hears meanwhile carries none of it either.
    app.say(&id, &ana.token, "Hello").await;
    let (st, closed) = app.close(&id, &token).await;
    assert_eq!(st, 200, "{closed}");
    assert_customer_view(&closed, &secrets);
    for e in ws.drain().await {
        let text = e.to_string();
        for secret in &secrets {
            assert!(!text.contains(secret), "event {e} carries {secret:?}");
        }
    }
    // A closed conversation (no actor) answers the same shape.
    assert_customer_view(&app.conversation(&id, &token).await, &secrets);
}

// ----- item 17: message content and metadata ------------------------------------------

const REFUSED_TEXT: &[&str] = &[
    "nul \u{0} byte",
    "bell \u{7}",
    "escape \u{1b}[31m",
    "delete \u{7f}",
    "c1 \u{85}",
    "override \u{202E}gnp.exe",
    "embedding \u{202A}x",
    "isolate \u{2066}x\u{2069}",
];

#[actix_rt::test]
async fn control_and_bidi_characters_are_refused_over_rest_and_websocket() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let solver = app.add_agent(&project, "Sol", 3).await;
    let (conv, token) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    let (session, _) = app.adhoc_session(&project, &solver).await;
    let sid = s(&session["id"]);
    let guest = s(&session["access_token"]);
    let mut customer_ws = app.ws(&token).await;
    let mut guest_ws = app.ws(&guest).await;

    for text in REFUSED_TEXT {
        let res = app.post_message(&id, &token, text).await;
        assert_error(&res, 422, "VALIDATION_FAILED");
        assert!(
            res.1["fields"]["content"].is_string(),
            "{text:?}: {}",
            res.1
        );
        let res = app
            .post(
                &format!("/api/sessions/{sid}/messages"),
                &solver.token,
                json!({ "content": text }),
            )
            .await;
        assert_error(&res, 422, "VALIDATION_FAILED");
        assert!(
            res.1["fields"]["content"].is_string(),
            "{text:?}: {}",
            res.1
        );
        let reply = customer_ws
            .send_op(json!({ "op": "send_message", "conversation_id": id,
                             "content": text, "client_msg_id": "c" }))
            .await;
        assert_eq!(
            (&reply["ok"], &reply["error"]),
            (&json!(false), &json!("VALIDATION_FAILED")),
            "{text:?}: {reply}"
        );
        let reply = guest_ws
            .send_op(json!({ "op": "send_message", "session_id": sid,
                             "content": text, "client_msg_id": "c" }))
            .await;
        assert_eq!(
            (&reply["ok"], &reply["error"]),
            (&json!(false), &json!("VALIDATION_FAILED")),
            "{text:?}: {reply}"
        );
    }
    // Nothing was stored; ordinary whitespace and other scripts still are.
    assert!(app.get_messages(&id, &token).await.is_empty());
    let ok = "line one\nline two\r\n\ttabbed, עברית and 中文";
    assert_eq!(app.say(&id, &token, ok).await["content"], json!(ok));
    let (st, body) = app
        .post(
            &format!("/api/sessions/{sid}/messages"),
            &solver.token,
            json!({ "content": ok }),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    let (st, msgs) = app
        .get(&format!("/api/sessions/{sid}/messages"), &solver.token)
        .await;
    assert_eq!(st, 200);
    assert_eq!(msgs["items"].as_array().map(Vec::len), Some(1), "{msgs}");
}

#[actix_rt::test]
async fn a_customers_metadata_is_kept_to_known_keys() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;

    // Conversation metadata: the widget's context keys only.
    let res = app
        .start_visit(
            &project,
            json!({ "metadata": { "browser": "Firefox", "sender_type": "agent" } }),
        )
        .await;
    assert_invalid_field(&res, "metadata.sender_type");
    let res = app
        .start_visit(
            &project,
            json!({ "metadata": { "page_url": "x".repeat(2049) } }),
        )
        .await;
    assert_invalid_field(&res, "metadata.page_url");
    let context = json!({
        "browser": "Firefox", "device": "Desktop", "os": "Linux",
        "page_url": "https://shop.example/cart", "page_title": "Cart",
        "referrer": null, "timezone": "Europe/Berlin", "language": "de-DE",
        "screen_resolution": "1920x1080",
    });
    let (st, body) = app
        .start_visit(&project, json!({ "metadata": context }))
        .await;
    assert_eq!(st, 201, "{body}");
    let id = s(&body["conversation"]["id"]);
    let token = s(&body["customer_token"]);
    let staff = app.conversation(&id, app.admin_token()).await;
    assert_eq!(staff["metadata"]["page_title"], json!("Cart"), "{staff}");

    // Message metadata from a customer: the audit's forged sender refused.
    let path = format!("/api/conversations/{id}/messages");
    let res = app
        .post(
            &path,
            &token,
            json!({ "content": "hi", "metadata": { "sender_type": "agent", "confidence": 5 } }),
        )
        .await;
    assert_error(&res, 422, "VALIDATION_FAILED");
    let fields = &res.1["fields"];
    assert!(
        fields["metadata.sender_type"].is_string() || fields["metadata.confidence"].is_string(),
        "{}",
        res.1
    );
    let mut ws = app.ws(&token).await;
    let reply = ws
        .send_op(
            json!({ "op": "send_message", "conversation_id": id, "content": "hi",
                         "client_msg_id": "w1", "metadata": { "confidence": 1 } }),
        )
        .await;
    assert_eq!(reply["error"], json!("VALIDATION_FAILED"), "{reply}");
    assert!(app.get_messages(&id, &token).await.is_empty());
    let (st, m) = app
        .post(
            &path,
            &token,
            json!({ "content": "hi", "metadata": { "page_url": "https://shop.example/cart" } }),
        )
        .await;
    assert_eq!(st, 201, "{m}");
    assert_eq!(
        m["metadata"],
        json!({ "page_url": "https://shop.example/cart" })
    );

    // A bot keeps its confidence.
    let (st, m) = app
        .post(
            &path,
            &project.secret_key,
            json!({ "content": "An answer", "metadata": { "confidence": 0.9 } }),
        )
        .await;
    assert_eq!(st, 201, "{m}");
    assert_eq!(m["sender_type"], json!("ai"));
    assert_eq!(m["metadata"]["confidence"], json!(0.9));
}
