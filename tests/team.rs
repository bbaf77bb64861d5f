//! A project's team, black-box (issue 16): removing a member and changing a
//! member's role or chat limit. A member who stops being an agent leaves
//! the ledger at once, their active chats go back to the queue with a
//! system message, their live sockets close (4001), and they lose access
//! to the project from the next request; a project keeps one admin.

mod common;

use common::*;
use serde_json::{json, Value};

/// The member row of `email` in `project`, as its admins list it.
async fn member_id(app: &TestApp, project: &Project, email: &str) -> String {
    let (st, list) = app
        .get(
            &format!("/api/projects/{}/members", project.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(st, 200, "{list}");
    list["items"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["email"] == json!(email))
        .map(|m| s(&m["id"]))
        .unwrap_or_else(|| panic!("no member {email}: {list}"))
}

fn member_path(project: &Project, id: &str) -> String {
    format!("/api/projects/{}/members/{id}", project.id)
}

async fn agent_ids(app: &TestApp, project: &Project) -> Vec<String> {
    app.agents(project)
        .await
        .iter()
        .map(|a| s(&a["user_id"]))
        .collect()
}

/// The conversation's messages as staff read them.
async fn system_texts(app: &TestApp, id: &str) -> Vec<String> {
    let (_, page) = app
        .get(
            &format!("/api/conversations/{id}/messages"),
            app.admin_token(),
        )
        .await;
    page["items"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["sender_type"] == json!("system"))
        .map(|m| s(&m["content"]))
        .collect()
}

async fn close_code(ws: &mut Ws) -> Option<u16> {
    match ws.recv(ASYNC_BOUND).await {
        Some(Incoming::Close(Some(reason))) => Some(u16::from(reason.code)),
        _ => None,
    }
}

#[actix_rt::test]
async fn a_removed_agents_chat_goes_back_to_the_queue_and_they_lose_access_at_once() {
    let (mut app, project, ana) = TestApp::with_agent_online().await;
    let (id, _customer) = app.assigned_conversation(&project, "v-1", &ana).await;
    let mut socket = app.ws(&ana.token).await;
    socket
        .subscribe(&format!("agent:{}", ana.user_id), None)
        .await;

    let (st, body) = app
        .delete(
            &member_path(&project, &member_id(&app, &project, &ana.email).await),
            app.admin_token(),
        )
        .await;
    assert_eq!(st, 204, "{body}");

    let conv = app.conversation(&id, app.admin_token()).await;
    assert_eq!(conv["status"], json!("waiting"), "{conv}");
    assert_eq!(conv["assigned_agent_id"], Value::Null);
    assert!(
        system_texts(&app, &id)
            .await
            .iter()
            .any(|t| t.contains("no longer available")),
        "a system message says why"
    );
    assert!(!agent_ids(&app, &project).await.contains(&ana.user_id));
    assert_eq!(
        close_code(&mut socket).await,
        Some(4001),
        "the live socket closes"
    );
    let (st, _) = app
        .get(
            &format!("/api/conversations?project_id={}", project.id),
            &ana.token,
        )
        .await;
    assert_eq!(st, 404, "no access from the next request");
    let (st, _) = app
        .put(
            "/api/agent/status",
            &ana.token,
            json!({ "project_id": project.id, "status": "online" }),
        )
        .await;
    assert_eq!(st, 404);

    // The next agent online takes the chat from the queue.
    let bo = app.add_agent(&project, "Bo", 2).await;
    app.set_status(&bo, &project, "online").await;
    let conv = app.conversation(&id, app.admin_token()).await;
    assert_eq!(conv["assigned_agent_id"], json!(bo.user_id), "{conv}");

    // Stored: a restart does not bring her back.
    app.restart().await;
    assert!(!agent_ids(&app, &project).await.contains(&ana.user_id));
    let counts = app.chat_counts(&project, &[&bo]).await;
    assert_eq!(counts, [1]);
}

#[actix_rt::test]
async fn an_agent_made_admin_leaves_the_ledger_and_an_admin_made_agent_joins_it() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (id, _) = app.assigned_conversation(&project, "v-1", &ana).await;
    let ana_member = member_id(&app, &project, &ana.email).await;

    let (st, m) = app
        .patch(
            &member_path(&project, &ana_member),
            app.admin_token(),
            json!({ "role": "admin" }),
        )
        .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(m["role"], json!("admin"));
    assert!(!agent_ids(&app, &project).await.contains(&ana.user_id));
    assert_eq!(
        app.conversation(&id, app.admin_token()).await["status"],
        json!("waiting")
    );
    // Her new rights hold from the next request.
    let (st, _) = app
        .get(&format!("/api/projects/{}/members", project.id), &ana.token)
        .await;
    assert_eq!(st, 200, "an admin lists the team");

    // Back to agent, with a limit: in the ledger, offline, nothing assigned.
    let (st, m) = app
        .patch(
            &member_path(&project, &ana_member),
            app.admin_token(),
            json!({ "role": "agent", "max_concurrent_chats": 4 }),
        )
        .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(
        (m["role"].clone(), m["max_concurrent_chats"].clone()),
        (json!("agent"), json!(4))
    );
    let view = app.agent_view(&project, &ana).await;
    assert_eq!(
        (view["status"].clone(), view["max_concurrent_chats"].clone()),
        (json!("offline"), json!(4))
    );
    app.set_status(&ana, &project, "online").await;
    let conv = app.conversation(&id, app.admin_token()).await;
    assert_eq!(
        conv["assigned_agent_id"],
        json!(ana.user_id),
        "the queue drains to her again"
    );

    // The limit alone.
    let (st, m) = app
        .patch(
            &member_path(&project, &ana_member),
            app.admin_token(),
            json!({ "max_concurrent_chats": 2 }),
        )
        .await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(
        app.agent_view(&project, &ana).await["max_concurrent_chats"],
        json!(2)
    );
}

#[actix_rt::test]
async fn team_changes_are_for_admins_of_the_project_and_keep_an_admin() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let other = app.create_project("Other").await;
    let olga = app.add_member(&other, "Olga", "admin", None).await;
    let ana_member = member_id(&app, &project, &ana.email).await;
    let admin_member = member_id(&app, &project, ADMIN_EMAIL).await;
    let path = member_path(&project, &ana_member);

    let refusals = [
        (
            ana.token.as_str(),
            json!({ "role": "admin" }),
            403,
            "FORBIDDEN",
        ),
        (
            olga.token.as_str(),
            json!({ "role": "admin" }),
            404,
            "NOT_FOUND",
        ),
        (
            app.admin_token(),
            json!({ "role": "owner" }),
            422,
            "VALIDATION_FAILED",
        ),
        (
            app.admin_token(),
            json!({ "max_concurrent_chats": 0 }),
            422,
            "VALIDATION_FAILED",
        ),
        (
            app.admin_token(),
            json!({ "max_concurrent_chats": 51 }),
            422,
            "VALIDATION_FAILED",
        ),
        (app.admin_token(), json!({ "role": 7 }), 400, "BAD_REQUEST"),
    ];
    for (token, body, status, code) in refusals {
        let (st, answer) = app.patch(&path, token, body.clone()).await;
        assert_eq!(
            (st, s(&answer["error"])),
            (status, code.to_string()),
            "{body}: {answer}"
        );
    }
    assert_eq!(app.delete(&path, &ana.token).await.0, 403);
    assert_eq!(app.delete(&path, &olga.token).await.0, 404);
    let theirs = member_path(&other, &ana_member);
    assert_eq!(
        app.delete(&theirs, app.admin_token()).await.0,
        404,
        "another project's path"
    );
    assert!(
        agent_ids(&app, &project).await.contains(&ana.user_id),
        "nothing changed"
    );

    // The only admin stays one.
    let (st, body) = app
        .delete(&member_path(&project, &admin_member), app.admin_token())
        .await;
    assert_eq!(
        (st, s(&body["error"])),
        (409, "LAST_ADMIN".to_string()),
        "{body}"
    );
    let (st, body) = app
        .patch(
            &member_path(&project, &admin_member),
            app.admin_token(),
            json!({ "role": "agent" }),
        )
        .await;
    assert_eq!(
        (st, s(&body["error"])),
        (409, "LAST_ADMIN".to_string()),
        "{body}"
    );
    // An admin takes no chats.
    let (st, body) = app
        .patch(
            &member_path(&project, &admin_member),
            app.admin_token(),
            json!({ "max_concurrent_chats": 3 }),
        )
        .await;
    assert_eq!(st, 422, "{body}");
    // With a second admin, the first may go.
    let (st, _) = app
        .patch(&path, app.admin_token(), json!({ "role": "admin" }))
        .await;
    assert_eq!(st, 200);
    let (st, body) = app
        .delete(&member_path(&project, &admin_member), &ana.token)
        .await;
    assert_eq!(st, 204, "{body}");
}

#[actix_rt::test]
async fn an_invitation_is_mailed_and_sent_again_with_a_new_link() {
    let (app, project) = TestApp::with_handoff().await;
    let (st, invited) = app
        .post(
            &format!("/api/projects/{}/members", project.id),
            app.admin_token(),
            json!({ "email": "cy@example.com", "role": "agent" }),
        )
        .await;
    assert_eq!(st, 201, "{invited}");
    assert_eq!(invited["email_sent"], json!(true));
    let first = s(&invited["invite_token"]);
    assert!(s(&invited["invite_url"]).ends_with(&format!("/invite/{first}")));
    let (_, outbox) = app
        .get(
            &format!("/api/projects/{}/emails", project.id),
            app.admin_token(),
        )
        .await;
    let mails: Vec<&Value> = outbox["items"]
        .as_array()
        .expect("emails")
        .iter()
        .filter(|m| m["kind"] == json!("invitation") && m["to"] == json!("cy@example.com"))
        .collect();
    assert_eq!(mails.len(), 1, "{outbox}");
    assert!(s(&mails[0]["body"]).contains(&format!("/invite/{first}")));

    // Sent again a few hours later: a new link, seven days from now.
    app.advance(chrono::Duration::hours(5)).await;
    let id = s(&invited["member"]["id"]);
    let path = format!("{}/resend", member_path(&project, &id));
    let (st, again) = app.post(&path, app.admin_token(), json!({})).await;
    assert_eq!(st, 200, "{again}");
    assert_eq!(again["member"]["status"], json!("pending"));
    let until = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(&s(&v["member"]["expires_at"])).expect("a time")
    };
    assert_eq!(until(&again) - until(&invited), chrono::Duration::hours(5));
    let second = s(&again["invite_token"]);
    assert_ne!(second, first);
    let lookup = |token: String| {
        let app = &app;
        async move {
            app.call(
                awc::http::Method::POST,
                "/api/invitations/lookup",
                Auth::None,
                Some(json!({ "token": token })),
            )
            .await
            .0
        }
    };
    assert_eq!(lookup(first).await, 404, "the old link is dead");
    assert_eq!(lookup(second.clone()).await, 200);

    // Only a pending invitation, only by the project's admins.
    let ana = app.add_agent(&project, "Ana", 2).await;
    assert_eq!(app.post(&path, &ana.token, json!({})).await.0, 403);
    let ana_member = member_id(&app, &project, &ana.email).await;
    let (st, body) = app
        .post(
            &format!("{}/resend", member_path(&project, &ana_member)),
            app.admin_token(),
            json!({}),
        )
        .await;
    assert_eq!(
        (st, s(&body["error"])),
        (400, "INVALID_TRANSITION".to_string()),
        "{body}"
    );
    let missing = format!(
        "{}/resend",
        member_path(&project, &uuid::Uuid::new_v4().to_string())
    );
    assert_eq!(
        app.post(&missing, app.admin_token(), json!({})).await.0,
        404
    );
    assert_eq!(lookup(second).await, 200, "refusals change nothing");
}
