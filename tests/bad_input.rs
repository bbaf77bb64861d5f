//! Bad input of every kind gets the contract's error (docs/protocol.md sections
//! 1 and 4) and changes nothing: each refusal is followed by a read that
//! shows the state as it was.

mod common;

use awc::http::Method;
use chrono::Duration;
use common::*;
use serde_json::{json, Value};

#[actix_rt::test]
async fn malformed_json_is_a_bad_request_and_changes_nothing() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    let settings = app.settings(&project).await;

    let res = app
        .call_raw(
            Method::POST,
            &format!("/api/conversations/{id}/messages"),
            Auth::Bearer(&customer),
            r#"{"content": "hello"#,
        )
        .await;
    assert_error(&res, 400, "BAD_REQUEST");
    let res = app
        .call_raw(
            Method::PUT,
            &format!("/api/projects/{}/handoff-settings", project.id),
            Auth::Bearer(app.admin_token()),
            "{enabled: true}",
        )
        .await;
    assert_error(&res, 400, "BAD_REQUEST");
    let res = app
        .call_raw(
            Method::POST,
            "/api/widget/conversations",
            Auth::ProjectKey(&project.public_key),
            "visitor_id=v2",
        )
        .await;
    assert_error(&res, 400, "BAD_REQUEST");
    let res = app
        .call_raw(Method::POST, "/api/auth/login", Auth::None, "[")
        .await;
    assert_error(&res, 400, "BAD_REQUEST");

    assert_eq!(app.get_messages(&id, &customer).await, Vec::<Value>::new());
    assert_eq!(app.conversation(&id, &customer).await["last_seq"], json!(0));
    assert_eq!(app.settings(&project).await, settings);
}

#[actix_rt::test]
async fn wrong_types_are_a_bad_request_and_change_nothing() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let ana = app.add_agent(&project, "Ana", 2).await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    let settings = app.settings(&project).await;
    let agent_before = app.agent_view(&project, &ana).await;

    let res = app
        .post(
            &format!("/api/conversations/{id}/messages"),
            &customer,
            json!({ "content": 42 }),
        )
        .await;
    assert_error(&res, 400, "BAD_REQUEST");
    let mut wrong = settings.clone();
    wrong["enabled"] = json!("yes");
    let res = app
        .put(
            &format!("/api/projects/{}/handoff-settings", project.id),
            app.admin_token(),
            wrong,
        )
        .await;
    assert_error(&res, 400, "BAD_REQUEST");
    let res = app
        .put(
            "/api/agent/status",
            &ana.token,
            json!({ "project_id": project.id, "status": 1 }),
        )
        .await;
    assert_error(&res, 400, "BAD_REQUEST");
    let res = app
        .patch(
            &format!("/api/projects/{}/agents/{}", project.id, ana.user_id),
            app.admin_token(),
            json!({ "max_concurrent_chats": "ten" }),
        )
        .await;
    assert_error(&res, 400, "BAD_REQUEST");

    assert_eq!(app.get_messages(&id, &customer).await, Vec::<Value>::new());
    assert_eq!(app.settings(&project).await, settings);
    let agent_after = app.agent_view(&project, &ana).await;
    assert_eq!(agent_after["status"], json!("offline"));
    assert_eq!(agent_after["max_concurrent_chats"], json!(2));
    assert_eq!(agent_after, agent_before);
}

#[actix_rt::test]
async fn invalid_settings_answer_422_naming_each_field_and_change_nothing() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let before = app.settings(&project).await;

    let mut bad = before.clone();
    bad["enabled"] = json!(true);
    bad["auto_triggers"]["low_confidence_threshold"] = json!(1.5);
    bad["timezone"] = json!("Mars/Olympus_Mons");
    bad["business_hours"]["monday"]["start"] = json!("25:00");
    bad["default_max_concurrent_chats"] = json!(0);
    let res = app
        .put(
            &format!("/api/projects/{}/handoff-settings", project.id),
            app.admin_token(),
            bad,
        )
        .await;
    assert_error(&res, 422, "VALIDATION_FAILED");
    let mut fields: Vec<&String> = res.1["fields"]
        .as_object()
        .unwrap_or_else(|| panic!("no fields: {}", res.1))
        .keys()
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "auto_triggers.low_confidence_threshold",
            "business_hours.monday.start",
            "default_max_concurrent_chats",
            "timezone"
        ]
    );

    // start after end on one day.
    let mut bad = before.clone();
    bad["business_hours"]["tuesday"]["start"] = json!("18:00");
    bad["business_hours"]["tuesday"]["end"] = json!("09:00");
    let res = app
        .put(
            &format!("/api/projects/{}/handoff-settings", project.id),
            app.admin_token(),
            bad,
        )
        .await;
    assert_error(&res, 422, "VALIDATION_FAILED");
    let fields = res.1["fields"].as_object().expect("fields");
    assert!(
        !fields.is_empty()
            && fields
                .keys()
                .all(|k| k.starts_with("business_hours.tuesday")),
        "fields: {fields:?}"
    );

    assert_eq!(app.settings(&project).await, before);
}

#[actix_rt::test]
async fn unknown_ops_and_bad_json_on_the_socket_get_error_replies_and_it_stays_open() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    let (_other, _) = app.new_conversation(&project, "visitor-2").await;
    let other = s(&_other["id"]);
    let mut ws = app.ws(&customer).await;

    let reply = ws.send_op(json!({ "op": "dance", "ref": "x-1" })).await;
    assert_eq!(reply["type"], json!("reply"));
    assert_eq!(reply["ref"], json!("x-1"));
    assert_eq!(reply["ok"], json!(false));
    assert_eq!(reply["error"], json!("BAD_REQUEST"));
    assert!(reply["message"].is_string(), "{reply}");

    ws.send_text("{\"op\": \"ping\", ".to_string()).await;
    let reply = ws.reply_to(&Value::Null).await;
    assert_eq!(reply["ok"], json!(false), "{reply}");
    assert_eq!(reply["error"], json!("BAD_REQUEST"));

    // Channels this customer may not hear.
    for channel in [
        format!("conversation:{other}"),
        format!("project:{}:agents", project.id),
        "nonsense".to_string(),
    ] {
        let reply = ws
            .send_op(json!({ "op": "subscribe", "channel": channel }))
            .await;
        assert_eq!(reply["ok"], json!(false), "{reply}");
        assert_eq!(reply["error"], json!("FORBIDDEN"), "{reply}");
    }

    // Still open and working.
    let reply = ws.send_op(json!({ "op": "ping", "ref": "p" })).await;
    assert_eq!(reply["ok"], json!(true), "{reply}");
    assert_eq!(reply["data"], json!({ "pong": true }));
    assert_eq!(app.get_messages(&id, &customer).await, Vec::<Value>::new());
}

#[actix_rt::test]
async fn wrong_types_in_a_socket_op_are_a_bad_request_and_change_nothing() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    let mut ws = app.ws(&customer).await;

    for op in [
        json!({ "op": "send_message", "conversation_id": id, "content": ["x"], "client_msg_id": "b-1" }),
        json!({ "op": "send_message", "conversation_id": 7, "content": "x", "client_msg_id": "b-2" }),
        json!({ "op": "subscribe", "channel": 12 }),
        json!({ "op": "typing", "conversation_id": id, "is_typing": "yes" }),
    ] {
        let reply = ws.send_op(op.clone()).await;
        assert_eq!(reply["ok"], json!(false), "{op} -> {reply}");
        assert_eq!(reply["error"], json!("BAD_REQUEST"), "{op} -> {reply}");
    }
    let reply = ws.send_op(json!({ "op": "ping" })).await;
    assert_eq!(reply["ok"], json!(true), "{reply}");
    assert_eq!(app.get_messages(&id, &customer).await, Vec::<Value>::new());
}

#[actix_rt::test]
async fn a_frame_over_64_kib_gets_an_error_frame_then_close_1009() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    let mut ws = app.ws(&customer).await;

    let op = json!({
        "op": "send_message",
        "ref": "big",
        "conversation_id": id,
        "content": "x".repeat(70 * 1024),
        "client_msg_id": "big-1"
    });
    ws.send_text(op.to_string()).await;

    let error = match ws.recv(ASYNC_BOUND).await {
        Some(Incoming::Json(v)) => v,
        other => panic!("expected an error frame, got {other:?}"),
    };
    assert_eq!(error["error"], json!("PAYLOAD_TOO_LARGE"), "{error}");
    match ws.recv(ASYNC_BOUND).await {
        Some(Incoming::Close(Some(reason))) => {
            assert_eq!(u16::from(reason.code), 1009, "{reason:?}")
        }
        other => panic!("expected close 1009, got {other:?}"),
    }

    assert_eq!(app.get_messages(&id, &customer).await, Vec::<Value>::new());
    // A new socket works.
    let mut ws = app.ws(&customer).await;
    let reply = ws.send_op(json!({ "op": "ping" })).await;
    assert_eq!(reply["ok"], json!(true), "{reply}");
}

#[actix_rt::test]
async fn refused_transitions_answer_invalid_transition_and_change_nothing() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 1).await;
    app.set_status(&ana, &project, "online").await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    let before = app.conversation(&id, &customer).await;

    // ai_active: nothing to claim, resolve or transfer.
    app.clock.advance(Duration::seconds(1));
    assert_error(&app.claim(&id, &ana.token).await, 400, "INVALID_TRANSITION");
    assert_error(
        &app.resolve(&id, app.admin_token()).await,
        400,
        "INVALID_TRANSITION",
    );
    assert_error(
        &app.transfer(&id, app.admin_token(), None).await,
        400,
        "INVALID_TRANSITION",
    );
    let after = app.conversation(&id, &customer).await;
    assert_eq!(after, before);
    assert_eq!(app.chat_counts(&project, &[&ana]).await, [0]);

    // waiting: not resolvable.
    app.assigned_conversation(&project, "visitor-0", &ana).await;
    let (wid, wtoken) = app.waiting_conversation(&project, "visitor-2", 1).await;
    let wbefore = app.conversation(&wid, &wtoken).await;
    assert_error(
        &app.resolve(&wid, app.admin_token()).await,
        400,
        "INVALID_TRANSITION",
    );
    assert_eq!(app.conversation(&wid, &wtoken).await, wbefore);

    // closed: terminal.
    let (status, body) = app.close(&id, &customer).await;
    assert_eq!(status, 200, "{body}");
    let closed = app.conversation(&id, &customer).await;
    assert_eq!(closed["status"], json!("closed"));
    let msgs = app.get_messages(&id, &customer).await;
    app.clock.advance(Duration::seconds(1));
    assert_error(&app.close(&id, &customer).await, 400, "INVALID_TRANSITION");
    assert_error(
        &app.post_message(&id, &customer, "anyone?").await,
        400,
        "INVALID_TRANSITION",
    );
    assert_error(
        &app.handoff(&id, &customer, "button_click").await,
        400,
        "INVALID_TRANSITION",
    );
    assert_error(&app.claim(&id, &ana.token).await, 400, "INVALID_TRANSITION");
    assert_eq!(app.conversation(&id, &customer).await, closed);
    assert_eq!(app.get_messages(&id, &customer).await, msgs);
    assert_eq!(app.chat_counts(&project, &[&ana]).await, [1]);
}

#[actix_rt::test]
async fn another_projects_ids_answer_not_found_and_change_nothing() {
    let app = TestApp::start().await;
    let mine = app.create_project("Mine").await;
    let theirs = app.create_project("Theirs").await;
    app.enable_handoff(&mine, |_| {}).await;
    let settings = app.enable_handoff(&theirs, |_| {}).await;
    let me = app.add_agent(&mine, "Me", 3).await;
    app.set_status(&me, &mine, "online").await;
    let (my_conv, my_customer) = app.new_conversation(&mine, "my-visitor").await;
    let my_conv = s(&my_conv["id"]);
    let them = app.add_agent(&theirs, "Them", 1).await;
    app.set_status(&them, &theirs, "online").await;
    app.assigned_conversation(&theirs, "v0", &them).await;
    let (conv, customer) = app.waiting_conversation(&theirs, "v1", 1).await;
    let before = app.conversation(&conv, &customer).await;
    let msgs_before = app.get_messages(&conv, &customer).await;
    let agents_before = app.agents(&theirs).await;

    let p = &theirs.id;
    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/conversations/{conv}"), None),
        (
            Method::GET,
            format!("/api/conversations/{conv}/messages"),
            None,
        ),
        (
            Method::POST,
            format!("/api/conversations/{conv}/claim"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/conversations/{conv}/messages"),
            Some(json!({ "content": "hi" })),
        ),
        (
            Method::POST,
            format!("/api/conversations/{conv}/notes"),
            Some(json!({ "content": "hi" })),
        ),
        (
            Method::POST,
            format!("/api/conversations/{conv}/close"),
            Some(json!({})),
        ),
        (Method::GET, format!("/api/projects/{p}/agents"), None),
        (
            Method::GET,
            format!("/api/projects/{p}/handoff-settings"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/projects/{p}/handoff-settings"),
            Some(json!({ "enabled": false })),
        ),
        (
            Method::PATCH,
            format!("/api/projects/{p}/agents/{}", them.user_id),
            Some(json!({ "max_concurrent_chats": 9 })),
        ),
        (
            Method::PUT,
            "/api/agent/status".to_string(),
            Some(json!({ "project_id": p, "status": "online" })),
        ),
    ];
    for (method, path, body) in attempts {
        let res = app
            .call(method.clone(), &path, Auth::Bearer(&me.token), body)
            .await;
        assert_error(&res, 404, "NOT_FOUND");
    }
    // A customer of one conversation cannot reach another one.
    for path in [
        format!("/api/conversations/{conv}"),
        format!("/api/conversations/{conv}/messages"),
    ] {
        assert_error(&app.get(&path, &my_customer).await, 404, "NOT_FOUND");
    }
    assert_error(
        &app.post_message(&conv, &my_customer, "hi").await,
        404,
        "NOT_FOUND",
    );
    assert_error(
        &app.post_message(&my_conv, &customer, "hi").await,
        404,
        "NOT_FOUND",
    );
    // Unknown ids alike.
    let nobody = "00000000-0000-4000-8000-000000000000";
    assert_error(
        &app.get(&format!("/api/conversations/{nobody}"), &me.token)
            .await,
        404,
        "NOT_FOUND",
    );
    assert_error(&app.claim(nobody, &me.token).await, 404, "NOT_FOUND");

    assert_eq!(app.conversation(&conv, &customer).await, before);
    assert_eq!(app.get_messages(&conv, &customer).await, msgs_before);
    assert_eq!(app.agents(&theirs).await, agents_before);
    assert_eq!(app.settings(&theirs).await, settings);
    assert_eq!(
        app.get_messages(&my_conv, &my_customer).await,
        Vec::<Value>::new()
    );
    assert_eq!(app.chat_counts(&mine, &[&me]).await, [0]);
}

#[actix_rt::test]
async fn acting_without_the_role_is_forbidden_and_changes_nothing() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let settings = app.enable_handoff(&project, |_| {}).await;
    let ana = app.add_agent(&project, "Ana", 2).await;
    let ben = app.add_agent(&project, "Ben", 2).await;
    app.set_status(&ana, &project, "online").await;
    let (id, customer) = app.assigned_conversation(&project, "v1", &ana).await;
    let before = app.conversation(&id, &customer).await;
    let msgs = app.get_messages(&id, &customer).await;
    let p = &project.id;

    // An agent is not an admin.
    let mut edited = settings.clone();
    edited["enabled"] = json!(false);
    assert_error(
        &app.put(
            &format!("/api/projects/{p}/handoff-settings"),
            &ana.token,
            edited,
        )
        .await,
        403,
        "FORBIDDEN",
    );
    assert_error(
        &app.patch(
            &format!("/api/projects/{p}/agents/{}", ana.user_id),
            &ana.token,
            json!({ "max_concurrent_chats": 50 }),
        )
        .await,
        403,
        "FORBIDDEN",
    );
    assert_error(
        &app.post(
            &format!("/api/projects/{p}/knowledge"),
            &ana.token,
            json!({ "question": "q", "answer": "a" }),
        )
        .await,
        403,
        "FORBIDDEN",
    );
    assert_error(
        &app.post(
            &format!("/api/projects/{p}/members"),
            &ana.token,
            json!({ "email": "x@example.com", "name": "X", "role": "admin" }),
        )
        .await,
        403,
        "FORBIDDEN",
    );
    // Another agent of the project does not hold this chat.
    assert_error(
        &app.post_message(&id, &ben.token, "hi").await,
        403,
        "FORBIDDEN",
    );
    assert_error(&app.resolve(&id, &ben.token).await, 403, "FORBIDDEN");
    assert_error(&app.transfer(&id, &ben.token, None).await, 403, "FORBIDDEN");
    // A customer is not an agent.
    assert_error(&app.claim(&id, &customer).await, 403, "FORBIDDEN");
    assert_error(&app.resolve(&id, &customer).await, 403, "FORBIDDEN");

    assert_eq!(app.settings(&project).await, settings);
    let view = app.agent_view(&project, &ana).await;
    assert_eq!(view["max_concurrent_chats"], json!(2));
    assert_eq!(view["current_chat_count"], json!(1));
    assert_eq!(app.conversation(&id, &customer).await, before);
    assert_eq!(app.get_messages(&id, &customer).await, msgs);
    let (status, kb) = app
        .get(&format!("/api/projects/{p}/knowledge"), app.admin_token())
        .await;
    assert_eq!(status, 200, "{kb}");
    let entries = kb
        .as_array()
        .or_else(|| kb["items"].as_array())
        .unwrap_or_else(|| panic!("knowledge list: {kb}"));
    assert!(entries.is_empty(), "{kb}");
}

#[actix_rt::test]
async fn missing_and_bad_tokens_are_unauthorized_and_change_nothing() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let ana = app.add_agent(&project, "Ana", 2).await;
    let agents_path = format!("/api/projects/{}/agents", project.id);
    let view_before = app.agent_view(&project, &ana).await;

    assert_error(
        &app.call(Method::GET, &agents_path, Auth::None, None).await,
        401,
        "UNAUTHORIZED",
    );
    assert_error(
        &app.get(&agents_path, "not-a-token").await,
        401,
        "UNAUTHORIZED",
    );
    assert_error(
        &app.call(
            Method::POST,
            "/api/widget/conversations",
            Auth::None,
            Some(json!({ "visitor_id": "v" })),
        )
        .await,
        401,
        "UNAUTHORIZED",
    );
    assert_error(
        &app.call(
            Method::POST,
            "/api/widget/conversations",
            Auth::ProjectKey("pk_not_a_key"),
            Some(json!({ "visitor_id": "v" })),
        )
        .await,
        401,
        "UNAUTHORIZED",
    );
    assert_error(
        &app.put(
            "/api/agent/status",
            "not-a-token",
            json!({ "project_id": project.id, "status": "online" }),
        )
        .await,
        401,
        "UNAUTHORIZED",
    );

    // A failed login does not say which part was wrong.
    let wrong_password = app
        .call(
            Method::POST,
            "/api/auth/login",
            Auth::None,
            Some(json!({ "email": ana.email, "password": "wrong-password" })),
        )
        .await;
    let unknown_user = app
        .call(
            Method::POST,
            "/api/auth/login",
            Auth::None,
            Some(json!({ "email": "nobody@example.com", "password": "wrong-password" })),
        )
        .await;
    assert_error(&wrong_password, 401, "UNAUTHORIZED");
    assert_error(&unknown_user, 401, "UNAUTHORIZED");
    assert_eq!(wrong_password.1, unknown_user.1);

    // A revoked token is refused, over HTTP and WebSocket.
    let token = app.login(&ana.email, "agent-password-1").await;
    let (status, body) = app.post("/api/auth/logout", &token, json!({})).await;
    assert!(status == 200 || status == 204, "logout: {status} {body}");
    assert_error(
        &app.put(
            "/api/agent/status",
            &token,
            json!({ "project_id": project.id, "status": "online" }),
        )
        .await,
        401,
        "UNAUTHORIZED",
    );
    match app.try_ws(&token).await {
        Err(e) => assert_eq!(e, "status 401"),
        Ok(_) => panic!("websocket accepted a revoked token"),
    }
    match app.try_ws("not-a-token").await {
        Err(e) => assert_eq!(e, "status 401"),
        Ok(_) => panic!("websocket accepted a bad token"),
    }

    // Nothing happened.
    let view = app.agent_view(&project, &ana).await;
    assert_eq!(view["status"], json!("offline"));
    assert_eq!(view, view_before);
}

#[actix_rt::test]
async fn an_expired_staff_token_is_unauthorized() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let ana = app.add_agent(&project, "Ana", 2).await;

    // Staff tokens live 12 hours.
    app.clock.advance(Duration::hours(11));
    app.set_status(&ana, &project, "online").await;
    app.set_status(&ana, &project, "offline").await;
    app.clock.advance(Duration::hours(1) + Duration::minutes(1));
    assert_error(
        &app.put(
            "/api/agent/status",
            &ana.token,
            json!({ "project_id": project.id, "status": "online" }),
        )
        .await,
        401,
        "UNAUTHORIZED",
    );
    assert_error(
        &app.get(
            &format!("/api/projects/{}/agents", project.id),
            app.admin_token(),
        )
        .await,
        401,
        "UNAUTHORIZED",
    );
    match app.try_ws(&ana.token).await {
        Err(e) => assert_eq!(e, "status 401"),
        Ok(_) => panic!("websocket accepted an expired token"),
    }

    // Nothing happened: a fresh login sees Ana still offline.
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, agents) = app
        .get(&format!("/api/projects/{}/agents", project.id), &admin)
        .await;
    assert_eq!(status, 200, "{agents}");
    let view = agents
        .as_array()
        .and_then(|a| a.iter().find(|v| v["user_id"] == json!(ana.user_id)))
        .unwrap_or_else(|| panic!("ana not listed: {agents}"))
        .clone();
    assert_eq!(view["status"], json!("offline"));
    assert_eq!(view["last_seen_at"], json!("2026-11-16T21:00:00.000Z"));
}
