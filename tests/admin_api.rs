//! The REST endpoints the admin console needs (issue 16), black-box on the
//! real server: project rename, knowledge edit and "try it", the business
//! hours preview, time zone names, and the invitation lookup. Each checks
//! who may call it (admin, agent, another project's admin), bad input (422
//! with `fields`) and that a refusal changes nothing.

mod common;

use awc::http::Method;
use common::*;
use serde_json::{json, Value};

/// Two projects with an admin each (the test admin owns "Acme"; "Other"
/// has an admin of its own) and an agent of Acme.
struct World {
    app: TestApp,
    acme: Project,
    other: Project,
    other_admin: Agent,
    agent: Agent,
}

async fn world() -> World {
    let (app, acme) = TestApp::with_handoff().await;
    let agent = app.add_agent(&acme, "Ana", 2).await;
    let other = app.create_project("Other").await;
    let other_admin = app.add_member(&other, "Olga", "admin", None).await;
    World {
        app,
        acme,
        other,
        other_admin,
        agent,
    }
}

async fn project_name(app: &TestApp, project: &Project) -> Value {
    let (st, body) = app
        .get(&format!("/api/projects/{}", project.id), app.admin_token())
        .await;
    assert_eq!(st, 200, "{body}");
    body["name"].clone()
}

#[actix_rt::test]
async fn an_admin_renames_a_project_and_nobody_else_can() {
    let w = world().await;
    let path = format!("/api/projects/{}", w.acme.id);

    let (st, body) = w
        .app
        .patch(
            &path,
            w.app.admin_token(),
            json!({ "name": "  Acme Help " }),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["name"], json!("Acme Help"));
    assert_eq!(body["role"], json!("admin"));
    assert_eq!(body["id"], json!(w.acme.id));

    let refusals = [
        (
            &w.agent.token,
            json!({ "name": "Agent's" }),
            403,
            "FORBIDDEN",
        ),
        (
            &w.other_admin.token,
            json!({ "name": "Theirs" }),
            404,
            "NOT_FOUND",
        ),
        (
            &w.app.admin_token().to_string(),
            json!({ "name": "" }),
            422,
            "VALIDATION_FAILED",
        ),
        (
            &w.app.admin_token().to_string(),
            json!({ "name": "x".repeat(101) }),
            422,
            "VALIDATION_FAILED",
        ),
        (
            &w.app.admin_token().to_string(),
            json!({ "name": 5 }),
            400,
            "BAD_REQUEST",
        ),
    ];
    for (token, body, status, code) in refusals {
        let (st, answer) = w.app.patch(&path, token, body.clone()).await;
        assert_eq!(
            (st, s(&answer["error"])),
            (status, code.to_string()),
            "{body}: {answer}"
        );
        if status == 422 {
            assert!(answer["fields"]["name"].is_string(), "{answer}");
        }
    }
    assert_eq!(project_name(&w.app, &w.acme).await, json!("Acme Help"));
    let (st, _) = w
        .app
        .patch(
            &format!("/api/projects/{}", uuid::Uuid::new_v4()),
            w.app.admin_token(),
            json!({ "name": "Nobody's" }),
        )
        .await;
    assert_eq!(st, 404);
}

#[actix_rt::test]
async fn an_admin_edits_a_knowledge_entry_and_the_ai_answers_with_it() {
    let w = world().await;
    let entry = w
        .app
        .add_knowledge(&w.acme, "Do you ship abroad?", "We ship to 30 countries.")
        .await;
    let path = format!("/api/projects/{}/knowledge/{}", w.acme.id, s(&entry["id"]));
    let try_path = format!("/api/projects/{}/knowledge/try", w.acme.id);

    let (st, edited) = w
        .app
        .put(
            &path,
            w.app.admin_token(),
            json!({ "question": "Do you ship abroad?", "answer": "We ship to 45 countries." }),
        )
        .await;
    assert_eq!(st, 200, "{edited}");
    assert_eq!(edited["answer"], json!("We ship to 45 countries."));
    assert_eq!(edited["id"], entry["id"]);

    // The responder forgets its cached entries: the next answer is the new one.
    let (st, tried) = w
        .app
        .post(
            &try_path,
            w.app.admin_token(),
            json!({ "question": "do you ship abroad" }),
        )
        .await;
    assert_eq!(st, 200, "{tried}");
    assert_eq!(tried["answer"], json!("We ship to 45 countries."));
    let confidence = tried["confidence"].as_f64().expect("a confidence");
    assert!(confidence > 0.0 && confidence <= 1.0, "{tried}");
    assert_eq!(
        tried["would_hand_off"],
        json!(confidence < tried["threshold"].as_f64().expect("the threshold")),
        "{tried}"
    );

    // An unknown question: the fallback, with no confidence, hands off.
    let (_, unknown) = w
        .app
        .post(
            &try_path,
            w.app.admin_token(),
            json!({ "question": "qwerty zxcvb" }),
        )
        .await;
    assert_eq!(unknown["confidence"], json!(0.0), "{unknown}");
    assert_eq!(unknown["would_hand_off"], json!(true), "{unknown}");

    // Refusals change nothing.
    let (st, both) = w
        .app
        .put(
            &path,
            w.app.admin_token(),
            json!({ "question": " ", "answer": "" }),
        )
        .await;
    assert_eq!(st, 422, "{both}");
    assert!(
        both["fields"]["question"].is_string() && both["fields"]["answer"].is_string(),
        "{both}"
    );
    let new = json!({ "question": "Q", "answer": "A" });
    let (st, _) = w.app.put(&path, &w.agent.token, new.clone()).await;
    assert_eq!(st, 403);
    let (st, _) = w.app.put(&path, &w.other_admin.token, new.clone()).await;
    assert_eq!(st, 404);
    let theirs = format!("/api/projects/{}/knowledge/{}", w.other.id, s(&entry["id"]));
    let (st, _) = w.app.put(&theirs, w.app.admin_token(), new.clone()).await;
    assert_eq!(st, 404, "an entry is found only in its own project");
    let (st, _) = w
        .app
        .post(&try_path, &w.agent.token, json!({ "question": "hi" }))
        .await;
    assert_eq!(st, 403);
    let (st, body) = w
        .app
        .post(&try_path, w.app.admin_token(), json!({ "question": "" }))
        .await;
    assert_eq!(st, 422, "{body}");
    let (_, list) = w
        .app
        .get(
            &format!("/api/projects/{}/knowledge", w.acme.id),
            w.app.admin_token(),
        )
        .await;
    assert_eq!(
        list["items"][0]["answer"],
        json!("We ship to 45 countries."),
        "{list}"
    );
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
}

#[actix_rt::test]
async fn the_business_hours_preview_reads_the_form_not_the_saved_settings() {
    // Monday 2026-11-16 10:00 UTC on the test clock.
    let w = world().await;
    let path = format!("/api/projects/{}/handoff-settings/preview", w.acme.id);
    let mut doc = w.app.settings(&w.acme).await;
    doc["business_hours_enabled"] = json!(true);
    doc["timezone"] = json!("Asia/Tokyo"); // 19:00 there: closed

    let (st, closed) = w.app.post(&path, w.app.admin_token(), doc.clone()).await;
    assert_eq!(st, 200, "{closed}");
    assert_eq!(closed["open_now"], json!(false));
    assert_eq!(closed["local_time"], json!("Monday 19:00"));
    assert_eq!(closed["next_opening_local"], json!("Tuesday 09:00"));
    assert_eq!(closed["next_opening_at"], json!("2026-11-17T00:00:00.000Z"));

    doc["timezone"] = json!("Europe/Paris"); // 11:00 there: open
    let (_, open) = w.app.post(&path, w.app.admin_token(), doc.clone()).await;
    assert_eq!(open["open_now"], json!(true), "{open}");
    assert_eq!(open["local_time"], json!("Monday 11:00"));

    // Nothing was saved.
    assert_eq!(w.app.settings(&w.acme).await["timezone"], json!("UTC"));

    doc["timezone"] = json!("Mars/Olympus");
    doc["business_hours"]["monday"]["start"] = json!("25:00");
    let (st, bad) = w.app.post(&path, w.app.admin_token(), doc.clone()).await;
    assert_eq!(st, 422, "{bad}");
    assert!(bad["fields"]["timezone"].is_string(), "{bad}");
    assert!(
        bad["fields"]["business_hours.monday.start"].is_string(),
        "{bad}"
    );
    let (st, _) = w.app.post(&path, &w.agent.token, json!({})).await;
    assert_eq!(st, 403);
    let (st, _) = w.app.post(&path, &w.other_admin.token, json!({})).await;
    assert_eq!(st, 404);
    let (st, _) = w
        .app
        .post(&path, w.app.admin_token(), json!({ "enabled": "yes" }))
        .await;
    assert_eq!(st, 400);
}

#[actix_rt::test]
async fn the_time_zones_are_the_names_the_settings_accept() {
    let app = TestApp::start().await;
    let (st, zones) = app
        .call(Method::GET, "/api/timezones", Auth::None, None)
        .await;
    assert_eq!(st, 200, "{zones}");
    let names: Vec<&str> = zones["items"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(names.len() > 300, "{}", names.len());
    assert!(names.contains(&"Europe/Paris") && names.contains(&"America/Argentina/Buenos_Aires"));
    assert!(names.windows(2).all(|p| p[0] < p[1]), "sorted, each once");
}

#[actix_rt::test]
async fn an_invitation_is_looked_up_by_its_holder_until_it_is_used_or_revoked() {
    let w = world().await;
    let lookup = |token: &str| {
        w.app.call(
            Method::POST,
            "/api/invitations/lookup",
            Auth::None,
            Some(json!({ "token": token })),
        )
    };
    let (st, invited) = w
        .app
        .post(
            &format!("/api/projects/{}/members", w.acme.id),
            w.app.admin_token(),
            json!({ "email": "bo@example.com", "name": "Bo", "role": "agent" }),
        )
        .await;
    assert_eq!(st, 201, "{invited}");
    let token = s(&invited["invite_token"]);

    let (st, seen) = lookup(&token).await;
    assert_eq!(st, 200, "{seen}");
    assert_eq!(seen["project_name"], json!("Acme"));
    assert_eq!(seen["email"], json!("bo@example.com"));
    assert_eq!(seen["name"], json!("Bo"));
    assert_eq!(seen["role"], json!("agent"));
    assert_eq!(seen["account_exists"], json!(false));
    assert_eq!(seen["expires_at"], invited["member"]["expires_at"]);

    // An email that has an account: the page asks to log in.
    let (st, existing) = w
        .app
        .post(
            &format!("/api/projects/{}/members", w.other.id),
            w.app.admin_token(),
            json!({ "email": w.agent.email, "role": "agent" }),
        )
        .await;
    assert_eq!(st, 201, "{existing}");
    let (_, seen) = lookup(&s(&existing["invite_token"])).await;
    assert_eq!(seen["account_exists"], json!(true), "{seen}");

    // Used, revoked, unknown, expired: one answer.
    let (st, _) = w
        .app
        .call(
            Method::POST,
            "/api/invitations/accept",
            Auth::None,
            Some(json!({ "token": token, "password": AGENT_PASSWORD })),
        )
        .await;
    assert_eq!(st, 200);
    let (st, used) = lookup(&token).await;
    assert_eq!(
        (st, s(&used["error"])),
        (404, "NOT_FOUND".to_string()),
        "{used}"
    );
    let member = s(&existing["member"]["id"]);
    let (st, _) = w
        .app
        .delete(
            &format!("/api/projects/{}/members/{member}", w.other.id),
            w.app.admin_token(),
        )
        .await;
    assert_eq!(st, 204);
    let (st, _) = lookup(&s(&existing["invite_token"])).await;
    assert_eq!(st, 404, "revoked");
    let (st, _) = lookup("sbi_nothing").await;
    assert_eq!(st, 404);
    let (_, late) = w
        .app
        .post(
            &format!("/api/projects/{}/members", w.acme.id),
            w.app.admin_token(),
            json!({ "email": "late@example.com", "role": "agent" }),
        )
        .await;
    w.app.advance(chrono::Duration::days(8)).await;
    let (st, _) = lookup(&s(&late["invite_token"])).await;
    assert_eq!(st, 404, "expired");
    let (st, body) = w
        .app
        .call(
            Method::POST,
            "/api/invitations/lookup",
            Auth::None,
            Some(json!({})),
        )
        .await;
    assert_eq!(st, 400, "{body}");
}

/// The code the server closed `ws` with, if it did.
async fn close_code(ws: &mut Ws) -> Option<u16> {
    match ws.recv(ASYNC_BOUND).await {
        Some(Incoming::Close(Some(reason))) => Some(u16::from(reason.code)),
        _ => None,
    }
}

/// What the project's server-side integration gets with `secret`.
async fn with_secret(app: &TestApp, project: &Project, secret: &str) -> u16 {
    let path = format!("/api/projects/{}/users/nobody/sessions", project.id);
    app.get(&path, secret).await.0
}

async fn with_public_key(app: &TestApp, key: &str) -> u16 {
    app.call(
        Method::GET,
        "/api/widget/availability",
        Auth::ProjectKey(key),
        None,
    )
    .await
    .0
}

#[actix_rt::test]
async fn rotating_a_key_refuses_the_old_one_at_once() {
    let w = world().await;
    let (app, acme) = (&w.app, &w.acme);
    assert_eq!(with_secret(app, acme, &acme.secret_key).await, 200);
    assert_eq!(with_public_key(app, &acme.public_key).await, 200);

    // A server's socket opened with the secret key closes with its rotation.
    let mut socket = app.ws(&acme.secret_key).await;
    let (st, rotated) = app
        .post(
            &format!("/api/projects/{}/secret-key", acme.id),
            app.admin_token(),
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{rotated}");
    let secret = s(&rotated["secret_key"]);
    assert!(secret.starts_with("sk_") && secret != acme.secret_key);
    assert_eq!(with_secret(app, acme, &acme.secret_key).await, 401);
    assert_eq!(with_secret(app, acme, &secret).await, 200);
    assert_eq!(close_code(&mut socket).await, Some(4001));

    let (st, rotated) = app
        .post(
            &format!("/api/projects/{}/public-key", acme.id),
            app.admin_token(),
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{rotated}");
    let public = s(&rotated["public_key"]);
    assert_eq!(with_public_key(app, &acme.public_key).await, 401);
    assert_eq!(with_public_key(app, &public).await, 200);
    let (_, shown) = app
        .get(&format!("/api/projects/{}", acme.id), app.admin_token())
        .await;
    assert_eq!(shown["public_key"], json!(public));

    // Only the project's admins rotate; a refusal rotates nothing.
    for which in ["secret-key", "public-key"] {
        let path = format!("/api/projects/{}/{which}", acme.id);
        assert_eq!(app.post(&path, &w.agent.token, json!({})).await.0, 403);
        assert_eq!(
            app.post(&path, &w.other_admin.token, json!({})).await.0,
            404
        );
    }
    assert_eq!(with_secret(app, acme, &secret).await, 200);
    assert_eq!(with_public_key(app, &public).await, 200);
    let nobody = format!("/api/projects/{}/secret-key", uuid::Uuid::new_v4());
    assert_eq!(app.post(&nobody, app.admin_token(), json!({})).await.0, 404);
}

#[actix_rt::test]
async fn a_staff_user_keeps_their_own_profile_and_password() {
    let w = world().await;
    let app = &w.app;
    let ana = &w.agent;
    let (st, me) = app
        .patch(
            "/api/auth/me",
            &ana.token,
            json!({ "name": "Ana Silva", "avatar_url": "https://cdn.example.com/ana.png" }),
        )
        .await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["user"]["name"], json!("Ana Silva"));
    // The team sees it at once.
    let view = app.agent_view(&w.acme, ana).await;
    assert_eq!(view["name"], json!("Ana Silva"));
    assert_eq!(view["avatar_url"], json!("https://cdn.example.com/ana.png"));
    // Removing the avatar; refusals change nothing.
    let (_, me) = app
        .patch("/api/auth/me", &ana.token, json!({ "avatar_url": null }))
        .await;
    assert_eq!(me["user"]["avatar_url"], Value::Null, "{me}");
    let (st, bad) = app
        .patch(
            "/api/auth/me",
            &ana.token,
            json!({ "name": "", "avatar_url": "javascript:alert(1)" }),
        )
        .await;
    assert_eq!(st, 422, "{bad}");
    assert!(bad["fields"]["name"].is_string() && bad["fields"]["avatar_url"].is_string());
    let (_, me) = app.get("/api/auth/me", &ana.token).await;
    assert_eq!(me["user"]["name"], json!("Ana Silva"));
    assert_eq!(
        app.patch("/api/auth/me", &w.acme.secret_key, json!({ "name": "Bot" }))
            .await
            .0,
        403
    );

    // A password change needs the current one and ends her other sessions.
    let other_session = app.login(&ana.email, AGENT_PASSWORD).await;
    let mut other_socket = app.ws(&other_session).await;
    let mut this_socket = app.ws(&ana.token).await;
    let change = |current: &str, new: &str| {
        app.post(
            "/api/auth/password",
            &ana.token,
            json!({ "current_password": current, "new_password": new }),
        )
    };
    let (st, wrong) = change("not-it-at-all", "a-new-password-2").await;
    assert_eq!(st, 422, "{wrong}");
    assert!(wrong["fields"]["current_password"].is_string());
    let (st, short) = change(AGENT_PASSWORD, "short").await;
    assert_eq!(st, 422, "{short}");
    assert!(short["fields"]["new_password"].is_string());
    assert_eq!(
        app.get("/api/auth/me", &other_session).await.0,
        200,
        "refusals end nothing"
    );
    let (st, body) = change(AGENT_PASSWORD, "a-new-password-2").await;
    assert_eq!(st, 204, "{body}");
    assert_eq!(app.get("/api/auth/me", &other_session).await.0, 401);
    assert_eq!(close_code(&mut other_socket).await, Some(4001));
    assert_eq!(
        app.get("/api/auth/me", &ana.token).await.0,
        200,
        "this session stays"
    );
    this_socket
        .op_ok(json!({ "op": "subscribe", "channel": format!("agent:{}", ana.user_id) }))
        .await;
    assert_eq!(
        app.login_attempt(&ana.email, AGENT_PASSWORD, None).await.0,
        401
    );
    app.login(&ana.email, "a-new-password-2").await;
}
