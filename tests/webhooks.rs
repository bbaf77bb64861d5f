//! The HTTP webhook providers of billable sessions (SMS, call, payment),
//! driven through the real server against a local webhook server started in
//! the test: what is posted, what an answer changes, and that a failing
//! provider answers `PROVIDER_FAILED` and changes nothing. The email
//! provider (built-in outbox or webhook) as the server configures it. Also
//! the config variables that name them.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Duration;
use common::*;
use serde_json::{json, Value};
use std::sync::Arc;
use switchboard::config::Config;
use switchboard::email::{self, EmailMessage, KIND_OFFLINE_CONFIRMATION};
use switchboard::providers::WebhookUrls;
use switchboard_actors::clock::{ManualClock, SharedClock};

async fn app_with(base: &str, mode: &str) -> TestApp {
    let urls = WebhookUrls {
        sms: Some(format!("{base}/{mode}/sms")),
        call: Some(format!("{base}/{mode}/call")),
        payment: Some(format!("{base}/{mode}/payment")),
        email: None,
    };
    TestApp::start_with_config(ManualClock::at_default(), |c| c.webhooks = urls).await
}

/// An active ad hoc session with a customer phone: `(id, solver token,
/// the project's secret key)`.
async fn active_session(app: &TestApp) -> (String, String, String) {
    let project = app.create_project("Hooks").await;
    let solver = app.add_agent(&project, "Sol", 3).await;
    let (st, sess) = app
        .post(
            "/api/sessions",
            &solver.token,
            json!({
                "project_id": project.id,
                "adhoc": {
                    "customer_name": "Ada", "customer_phone": "+1 555 0100",
                    "customer_email": "ada@example.com",
                },
            }),
        )
        .await;
    assert_eq!(st, 201, "{sess}");
    let id = s(&sess["id"]);
    let (st, body) = app
        .post(
            &format!("/api/sessions/{id}/status"),
            &solver.token,
            json!({ "status": "active" }),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    (id, solver.token, project.secret_key)
}

#[actix_rt::test]
async fn webhook_providers_post_to_the_configured_urls() {
    let (base, seen) = webhook_server().await;
    let app = app_with(&base, "ok").await;
    let (id, token, secret) = active_session(&app).await;

    let (st, sms) = app
        .post(
            &format!("/api/sessions/{id}/sms"),
            &token,
            json!({ "message": "  On my way  " }),
        )
        .await;
    assert_eq!(st, 201, "{sms}");
    assert_eq!(sms["sms"]["provider_ref"], json!("ext-1"));

    let (st, call) = app
        .post(&format!("/api/sessions/{id}/call"), &token, json!({}))
        .await;
    assert_eq!(st, 200, "{call}");
    // Placed: the provider reports the rest of the call itself.
    assert_eq!(call["call"]["state"], json!("initiating"));
    // The provider reports progress with the project's secret key; the
    // solver cannot.
    let events = format!("/api/sessions/{id}/call/events");
    let res = app
        .post(&events, &token, json!({ "event": "ringing" }))
        .await;
    assert_error(&res, 403, "FORBIDDEN");
    for (event, state) in [("ringing", "ringing"), ("answered", "active")] {
        let (st, body) = app.post(&events, &secret, json!({ "event": event })).await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["call"]["state"], json!(state));
    }
    let res = app
        .post(&events, &secret, json!({ "event": "answered" }))
        .await;
    assert_error(&res, 400, "INVALID_TRANSITION");
    app.advance(Duration::seconds(42)).await;
    let (st, hung) = app
        .post(
            &format!("/api/sessions/{id}/call/hangup"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{hung}");
    assert_eq!(hung["call"]["state"], json!("ended"));
    assert_eq!(hung["call"]["duration_seconds"], json!(42));

    app.advance(Duration::seconds(50 * 60 - 42)).await;
    let (st, done) = app
        .post(
            &format!("/api/sessions/{id}/complete"),
            &token,
            json!({ "tier": "standard" }),
        )
        .await;
    assert_eq!(st, 200, "{done}");
    assert_eq!(
        done["payment"]["payment_url"],
        json!("https://pay.example/abc")
    );
    assert_eq!(done["payment"]["provider_ref"], json!("ext-1"));
    assert_eq!(done["payment"]["provider"], json!("webhook"));

    let seen = seen.lock().unwrap().clone();
    let kinds: Vec<&str> = seen.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, vec!["sms", "call", "call", "payment"]);
    assert_eq!(
        seen[0].1,
        json!({ "type": "sms", "session_id": id, "to": "+1 555 0100", "body": "On my way" })
    );
    assert_eq!(
        seen[1].1,
        json!({ "type": "call", "session_id": id, "to": "+1 555 0100" })
    );
    assert_eq!(
        seen[2].1,
        json!({ "type": "hangup", "session_id": id, "call_id": "ext-1" })
    );
    // 50 min on standard: 129.00 + 5 x 2.50.
    assert_fields(
        &seen[3].1,
        &json!({
            "type": "payment_request", "session_id": id, "amount": 14150,
            "customer_email": "ada@example.com", "currency": "usd",
        }),
    );
    assert_eq!(seen[3].1["payment_id"], done["payment"]["id"]);
}

#[actix_rt::test]
async fn a_failing_provider_answers_provider_failed_and_changes_nothing() {
    let (base, seen) = webhook_server().await;
    let app = app_with(&base, "fail").await;
    let (id, token, _) = active_session(&app).await;

    let sms = app
        .post(
            &format!("/api/sessions/{id}/sms"),
            &token,
            json!({ "message": "hi" }),
        )
        .await;
    assert_error(&sms, 502, "PROVIDER_FAILED");
    let call = app
        .post(&format!("/api/sessions/{id}/call"), &token, json!({}))
        .await;
    assert_error(&call, 502, "PROVIDER_FAILED");
    app.advance(Duration::minutes(10)).await;
    let done = app
        .post(
            &format!("/api/sessions/{id}/complete"),
            &token,
            json!({ "tier": "quick" }),
        )
        .await;
    assert_error(&done, 502, "PROVIDER_FAILED");

    let (st, after) = app.get(&format!("/api/sessions/{id}"), &token).await;
    assert_eq!(st, 200);
    assert_fields(
        &after,
        &json!({
            "status": "active", "sms_count": 0, "pricing": null, "elapsed_seconds": 600,
            "timer_running": true, "ended_at": null,
        }),
    );
    assert_eq!(after["call"]["state"], json!("idle"));
    assert_eq!(after["ticket"]["status"], json!("in_progress"));
    assert_eq!(
        seen.lock().unwrap().len(),
        3,
        "each provider was asked once"
    );
    // The session still completes once the provider is back: here, cancel.
    let (st, _) = app
        .post(&format!("/api/sessions/{id}/cancel"), &token, json!({}))
        .await;
    assert_eq!(st, 200);
}

#[test]
fn webhook_variables_must_be_http_urls() {
    let lookup = |name: &'static str, value: &'static str| {
        move |k: &str| (k == name).then(|| value.to_string())
    };
    let ok = Config::from_lookup(
        lookup("SWITCHBOARD_SMS_WEBHOOK_URL", "https://hooks.example/sms"),
        false,
    )
    .unwrap();
    assert_eq!(
        ok.webhooks.sms.as_deref(),
        Some("https://hooks.example/sms")
    );
    assert_eq!(ok.webhooks.payment, None);
    for var in [
        "SWITCHBOARD_SMS_WEBHOOK_URL",
        "SWITCHBOARD_CALL_WEBHOOK_URL",
        "SWITCHBOARD_PAYMENT_WEBHOOK_URL",
        "SWITCHBOARD_EMAIL_WEBHOOK_URL",
    ] {
        let err = Config::from_lookup(lookup(var, "ftp://nope"), false).unwrap_err();
        assert_eq!(err.variable, var);
        assert!(err.to_string().starts_with(var), "{err}");
    }
}

fn email_to(project: &Project, to: &str) -> EmailMessage {
    EmailMessage {
        project_id: Some(project.id.parse().unwrap()),
        to: to.into(),
        subject: "We got your message".into(),
        body: "We will answer by email.".into(),
        kind: KIND_OFFLINE_CONFIRMATION.into(),
    }
}

fn email_config(url: Option<String>) -> Config {
    Config::from_lookup(
        move |k| {
            (k == "SWITCHBOARD_EMAIL_WEBHOOK_URL")
                .then(|| url.clone())
                .flatten()
        },
        false,
    )
    .unwrap()
}

#[actix_rt::test]
async fn the_email_webhook_posts_each_email_and_a_failure_is_an_error() {
    let (base, seen) = webhook_server().await;
    let app = TestApp::start().await;
    let project = app.create_project("Mail").await;
    let clock: SharedClock = Arc::new(app.clock.clone());

    let ok = email::from_config(
        &email_config(Some(format!("{base}/ok/email"))),
        app.db(),
        clock.clone(),
    );
    let reference = ok.send(&email_to(&project, "ada@example.com")).await;
    assert_eq!(reference.as_deref(), Ok("ext-1"));
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].0, "email");
        assert_eq!(
            seen[0].1,
            json!({
                "type": "email", "project_id": project.id, "to": "ada@example.com",
                "subject": "We got your message", "body": "We will answer by email.",
                "kind": "offline_confirmation",
            })
        );
    }

    let failing = email::from_config(
        &email_config(Some(format!("{base}/fail/email"))),
        app.db(),
        clock.clone(),
    );
    let err = failing
        .send(&email_to(&project, "bob@example.com"))
        .await
        .unwrap_err();
    assert!(err.contains("503"), "{err}");
    assert_eq!(seen.lock().unwrap().len(), 2, "the failing hook was asked");

    // Nothing listens on a port just freed: unreachable is a failure too.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/email", free.local_addr().unwrap());
    drop(free);
    let unreachable = email::from_config(&email_config(Some(dead)), app.db(), clock);
    assert!(unreachable
        .send(&email_to(&project, "cy@example.com"))
        .await
        .is_err());

    // A webhook keeps nothing in the built-in outbox.
    let (st, body) = app
        .get(
            &format!("/api/projects/{}/emails", project.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["items"], json!([]));
}

#[actix_rt::test]
async fn without_a_webhook_email_goes_to_the_outbox_the_admin_reads() {
    let app = TestApp::start().await;
    let project = app.create_project("Mail").await;
    let outbox = email::from_config(
        &email_config(None),
        app.db(),
        Arc::new(app.clock.clone()) as SharedClock,
    );
    let reference = outbox
        .send(&email_to(&project, "ada@example.com"))
        .await
        .unwrap();
    assert!(reference.starts_with("outbox-"), "{reference}");

    let path = format!("/api/projects/{}/emails", project.id);
    let (st, body) = app.get(&path, app.admin_token()).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["next_cursor"], Value::Null);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{body}");
    assert_eq!(format!("outbox-{}", s(&items[0]["id"])), reference);
    assert_fields(
        &items[0],
        &json!({
            "project_id": project.id, "to": "ada@example.com",
            "subject": "We got your message", "body": "We will answer by email.",
            "kind": "offline_confirmation", "created_at": "2026-11-16T10:00:00.000Z",
        }),
    );
    // Agents of the project may not read it.
    let ana = app.add_agent(&project, "Ana", 3).await;
    assert_error(&app.get(&path, &ana.token).await, 403, "FORBIDDEN");
}
