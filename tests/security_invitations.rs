//! Security regressions of staff identity (issue 14, item 15, and the
//! invitation part of item 3), black-box against the real server:
//! invitations expire 7 days after they were made (on the ManualClock) and
//! can be revoked while pending, both then refused like an unknown token;
//! creating projects is an instance-level permission that its holders
//! grant and take back; an account made by accepting an invitation joins
//! no other project until it proves its email with a code mailed to it;
//! accepting an invitation for an existing account needs that account's
//! login and never looks at a password.
#![allow(clippy::unwrap_used)]

mod common;

use awc::http::Method;
use chrono::Duration;
use common::*;
use serde_json::{json, Value};
use switchboard::limits::RateLimits;
use switchboard::providers::WebhookUrls;
use switchboard_actors::clock::ManualClock;

const PASSWORD: &str = "chosen-password-1";

/// Invite `email` to `project` as `role`: `(member, invite_token)`.
async fn invite(
    app: &TestApp,
    admin: &str,
    project: &str,
    email: &str,
    role: &str,
) -> (Value, String) {
    let (status, body) = app
        .post(
            &format!("/api/projects/{project}/members"),
            admin,
            json!({ "email": email, "name": "Invitee", "role": role }),
        )
        .await;
    assert_eq!(status, 201, "invite {email}: {body}");
    (body["member"].clone(), s(&body["invite_token"]))
}

/// POST /api/invitations/accept as `auth` with `password` in the body.
async fn accept(app: &TestApp, auth: Auth<'_>, token: &str, password: &str) -> (u16, Value) {
    app.call(
        Method::POST,
        "/api/invitations/accept",
        auth,
        Some(json!({ "token": token, "password": password })),
    )
    .await
}

/// What an unknown invitation token answers: every refused token must
/// answer exactly this.
async fn unknown_token_answer(app: &TestApp) -> (u16, Value) {
    let answer = accept(app, Auth::None, "sbi_no-such-invitation", PASSWORD).await;
    assert_error(&answer, 404, "NOT_FOUND");
    answer
}

/// The project's member or invitation of `email`, as its admin `admin`
/// sees it.
async fn member_as(app: &TestApp, admin: &str, project: &str, email: &str) -> Option<Value> {
    let (status, body) = app
        .get(&format!("/api/projects/{project}/members"), admin)
        .await;
    assert_eq!(status, 200, "members: {body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == json!(email))
        .cloned()
}

/// The same, as the test admin (whose token lives 12 hours of the Clock).
async fn member(app: &TestApp, project: &str, email: &str) -> Option<Value> {
    member_as(app, app.admin_token(), project, email).await
}

async fn me(app: &TestApp, token: &str) -> Value {
    let (status, body) = app.get("/api/auth/me", token).await;
    assert_eq!(status, 200, "me: {body}");
    body
}

fn project_ids(me: &Value) -> Vec<String> {
    me["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| s(&p["id"]))
        .collect()
}

async fn login_status(app: &TestApp, email: &str, password: &str) -> u16 {
    app.call(
        Method::POST,
        "/api/auth/login",
        Auth::None,
        Some(json!({ "email": email, "password": password })),
    )
    .await
    .0
}

/// A member made through an invitation to `project`, as an [`Agent`].
async fn new_member(app: &TestApp, project: &Project, email: &str, role: &str) -> Agent {
    let (_, token) = invite(app, app.admin_token(), &project.id, email, role).await;
    let (status, body) = accept(app, Auth::None, &token, PASSWORD).await;
    assert_eq!(status, 200, "accept {email}: {body}");
    Agent {
        user_id: s(&body["user"]["id"]),
        name: email.into(),
        email: email.into(),
        token: s(&body["token"]),
    }
}

#[actix_rt::test]
async fn an_invitation_expires_seven_days_after_it_was_made() {
    let app = TestApp::start().await;
    let project = app.create_project("Shop").await;
    let unknown = unknown_token_answer(&app).await;
    let (made, early) = invite(
        &app,
        app.admin_token(),
        &project.id,
        "early@x.test",
        "agent",
    )
    .await;
    let (_, late) = invite(&app, app.admin_token(), &project.id, "late@x.test", "agent").await;
    // 6 days 23 hours later the invitation is still good.
    app.advance(Duration::hours(6 * 24 + 23)).await;
    let (status, body) = accept(&app, Auth::None, &early, PASSWORD).await;
    assert_eq!(status, 200, "accepted at 6 d 23 h: {body}");
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let listed = member_as(&app, &admin, &project.id, "late@x.test")
        .await
        .unwrap();
    assert_eq!(listed["status"], json!("pending"), "{listed}");

    // At 7 days it is refused exactly like an unknown token, and nothing
    // changed: no account, the invitation still unaccepted, now "expired".
    app.advance(Duration::hours(1)).await;
    assert_eq!(accept(&app, Auth::None, &late, PASSWORD).await, unknown);
    app.advance(Duration::days(30)).await;
    assert_eq!(accept(&app, Auth::None, &late, PASSWORD).await, unknown);
    assert_eq!(login_status(&app, "late@x.test", PASSWORD).await, 401);
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let listed = member_as(&app, &admin, &project.id, "late@x.test")
        .await
        .unwrap();
    assert_eq!(made["status"], json!("pending"), "{made}");
    assert_eq!(
        made["expires_at"],
        json!("2026-11-23T10:00:00.000Z"),
        "{made}"
    );
    assert_eq!(listed["status"], json!("expired"), "{listed}");
    assert_eq!(listed["user_id"], Value::Null, "{listed}");
    assert_eq!(listed["accepted_at"], Value::Null, "{listed}");
    let accepted = member_as(&app, &admin, &project.id, "early@x.test")
        .await
        .unwrap();
    assert_eq!(accepted["status"], json!("active"), "{accepted}");
    assert_eq!(accepted["expires_at"], Value::Null, "{accepted}");

    // The email can be invited again; the new invitation has its own 7 days
    // and the old token stays dead.
    let (again, fresh) = invite(&app, &admin, &project.id, "late@x.test", "agent").await;
    assert_eq!(again["status"], json!("pending"), "{again}");
    assert_eq!(accept(&app, Auth::None, &late, PASSWORD).await, unknown);
    let (status, body) = accept(&app, Auth::None, &fresh, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(login_status(&app, "late@x.test", PASSWORD).await, 200);
}

#[actix_rt::test]
async fn a_revoked_invitation_is_refused_like_an_unknown_one() {
    let app = TestApp::start().await;
    let project = app.create_project("Shop").await;
    let unknown = unknown_token_answer(&app).await;
    let agent = app.add_agent(&project, "Ana", 3).await;
    let (pending, token) =
        invite(&app, app.admin_token(), &project.id, "gone@x.test", "admin").await;
    let path = format!("/api/projects/{}/members/{}", project.id, s(&pending["id"]));

    // Only the project's admins revoke.
    assert_error(&app.delete(&path, &agent.token).await, 403, "FORBIDDEN");
    let (status, body) = app.delete(&path, app.admin_token()).await;
    assert_eq!(status, 204, "revoke: {body}");
    assert_eq!(accept(&app, Auth::None, &token, PASSWORD).await, unknown);
    assert_eq!(login_status(&app, "gone@x.test", PASSWORD).await, 401);
    assert!(member(&app, &project.id, "gone@x.test").await.is_none());
    assert_error(
        &app.delete(&path, app.admin_token()).await,
        404,
        "NOT_FOUND",
    );

    // The same call removes an accepted member (tests/team.rs has the
    // rest): gone from the team, and from the project at once.
    let ana = member(&app, &project.id, &agent.email).await.unwrap();
    let ana_path = format!("/api/projects/{}/members/{}", project.id, s(&ana["id"]));
    let (status, body) = app.delete(&ana_path, app.admin_token()).await;
    assert_eq!(status, 204, "remove: {body}");
    assert!(member(&app, &project.id, &agent.email).await.is_none());
    let (status, _) = app
        .get(&format!("/api/projects/{}", project.id), &agent.token)
        .await;
    assert_eq!(status, 404);

    // The email can be invited again, and that invitation works.
    let (_, again) = invite(&app, app.admin_token(), &project.id, "gone@x.test", "agent").await;
    assert_eq!(accept(&app, Auth::None, &token, PASSWORD).await, unknown);
    let (status, body) = accept(&app, Auth::None, &again, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
}

#[actix_rt::test]
async fn another_projects_member_id_is_not_found() {
    let app = TestApp::start().await;
    let a = app.create_project("A").await;
    let b = app.create_project("B").await;
    let (of_b, token_b) = invite(&app, app.admin_token(), &b.id, "bee@x.test", "agent").await;
    let b_member = s(&of_b["id"]);

    // The admin of both asks through A for B's invitation: 404, kept.
    assert_error(
        &app.delete(
            &format!("/api/projects/{}/members/{b_member}", a.id),
            app.admin_token(),
        )
        .await,
        404,
        "NOT_FOUND",
    );
    // An admin of A only cannot reach B at all.
    let a_admin = app.add_member(&a, "Adam", "admin", None).await;
    assert_error(
        &app.delete(
            &format!("/api/projects/{}/members/{b_member}", b.id),
            &a_admin.token,
        )
        .await,
        404,
        "NOT_FOUND",
    );
    assert_error(
        &app.delete(
            &format!("/api/projects/{}/members/{b_member}", a.id),
            &a_admin.token,
        )
        .await,
        404,
        "NOT_FOUND",
    );
    // Unknown and malformed ids.
    for id in [uuid::Uuid::new_v4().to_string(), "not-a-uuid".into()] {
        assert_error(
            &app.delete(
                &format!("/api/projects/{}/members/{id}", a.id),
                app.admin_token(),
            )
            .await,
            404,
            "NOT_FOUND",
        );
    }
    assert_eq!(
        member(&app, &b.id, "bee@x.test").await.unwrap()["status"],
        json!("pending")
    );
    // Through its own project the same id is revoked: the 404s above were
    // about the project, not a missing endpoint.
    let (status, body) = app
        .delete(
            &format!("/api/projects/{}/members/{b_member}", b.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let unknown = unknown_token_answer(&app).await;
    assert_eq!(accept(&app, Auth::None, &token_b, PASSWORD).await, unknown);
}

#[actix_rt::test]
async fn only_holders_of_the_instance_permission_create_projects() {
    let app = TestApp::start().await;
    let project = app.create_project("Shop").await;
    let agent = app.add_agent(&project, "Ana", 3).await;
    let admin = app.add_member(&project, "Pat", "admin", None).await;
    let create = |token: String| {
        let app = &app;
        async move {
            app.post("/api/projects", &token, json!({ "name": "Mine" }))
                .await
        }
    };

    // An agent and a project admin may not; nothing is created.
    for who in [&agent, &admin] {
        let before = me(&app, &who.token).await;
        assert_error(&create(who.token.clone()).await, 403, "FORBIDDEN");
        let mine = me(&app, &who.token).await;
        assert_eq!(mine["projects"], before["projects"]);
        assert_eq!(mine["can_create_projects"], json!(false), "{mine}");
        assert_eq!(mine["email_verified"], json!(false), "{mine}");
    }
    // The bootstrap admin holds the permission, and its email is proven.
    let boss = me(&app, app.admin_token()).await;
    assert_eq!(boss["can_create_projects"], json!(true), "{boss}");
    assert_eq!(boss["user"]["can_create_projects"], json!(true), "{boss}");
    assert_eq!(boss["email_verified"], json!(true), "{boss}");

    // Non-holders manage nothing; unknown accounts are 404; an account
    // whose email is unproven cannot be granted it.
    let grant = |email: &str, allowed: bool| json!({ "email": email, "allowed": allowed });
    assert_error(
        &app.put(
            "/api/instance/project-creators",
            &admin.token,
            grant(&agent.email, true),
        )
        .await,
        403,
        "FORBIDDEN",
    );
    assert_error(
        &app.get("/api/instance/project-creators", &admin.token)
            .await,
        403,
        "FORBIDDEN",
    );
    assert_error(
        &app.put(
            "/api/instance/project-creators",
            app.admin_token(),
            grant("nobody@x.test", true),
        )
        .await,
        404,
        "NOT_FOUND",
    );
    assert_error(
        &app.put(
            "/api/instance/project-creators",
            app.admin_token(),
            grant(&agent.email, true),
        )
        .await,
        400,
        "INVALID_TRANSITION",
    );
    assert_error(&create(agent.token.clone()).await, 403, "FORBIDDEN");

    // Granted (after proving the email), the agent creates projects.
    app.grant_project_creation(&agent).await;
    assert_eq!(
        me(&app, &agent.token).await["can_create_projects"],
        json!(true)
    );
    let (status, body) = create(agent.token.clone()).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .get("/api/instance/project-creators", app.admin_token())
        .await;
    assert_eq!(status, 200, "{body}");
    let holders: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| s(&u["email"]))
        .collect();
    assert_eq!(holders, vec![ADMIN_EMAIL.to_string(), agent.email.clone()]);

    // Taken back, it cannot any more; nobody takes back their own.
    let (status, body) = app
        .put(
            "/api/instance/project-creators",
            app.admin_token(),
            grant(&agent.email, false),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["can_create_projects"], json!(false), "{body}");
    assert_error(&create(agent.token.clone()).await, 403, "FORBIDDEN");
    assert_eq!(
        me(&app, &agent.token).await["can_create_projects"],
        json!(false)
    );
    assert_error(
        &app.put(
            "/api/instance/project-creators",
            app.admin_token(),
            grant(ADMIN_EMAIL, false),
        )
        .await,
        400,
        "INVALID_TRANSITION",
    );
    let (status, body) = create(app.admin_token().to_string()).await;
    assert_eq!(status, 201, "{body}");
}

/// The attack of item 15: an admin of project A invites victim@x (an
/// address nobody uses here) and accepts it as a new account with a
/// password of their choice. Later project B invites the real victim@x.
/// The squatted account cannot join B; once the address is proven with
/// the code mailed to it, it can.
#[actix_rt::test]
async fn an_account_made_through_an_invitation_joins_no_other_project_until_proven() {
    let app = TestApp::start().await;
    let a = app.create_project("A").await;
    let mallory = app.add_member(&a, "Mallory", "admin", None).await;
    let (_, squat) = invite(&app, &mallory.token, &a.id, "victim@x.test", "agent").await;
    let (status, body) = accept(&app, Auth::None, &squat, "mallorys-password").await;
    assert_eq!(status, 200, "{body}");
    let squatted = body["user"].clone();
    let victim = Agent {
        user_id: s(&body["user"]["id"]),
        name: "victim".into(),
        email: "victim@x.test".into(),
        token: s(&body["token"]),
    };

    let b = app.create_project("B").await;
    let (_, join_b) = invite(&app, app.admin_token(), &b.id, "victim@x.test", "admin").await;
    let refused = accept(
        &app,
        Auth::Bearer(&victim.token),
        &join_b,
        "mallorys-password",
    )
    .await;
    assert_error(&refused, 403, "FORBIDDEN");
    let message = s(&refused.1["message"]);
    assert!(
        message.contains("/api/auth/email-verification"),
        "the refusal says how to prove the email: {message}"
    );
    assert_eq!(
        project_ids(&me(&app, &victim.token).await),
        vec![a.id.clone()]
    );
    assert_eq!(
        member(&app, &b.id, "victim@x.test").await.unwrap()["status"],
        json!("pending")
    );
    assert_eq!(squatted["email_verified"], json!(false), "{squatted}");

    // The code goes to the address, for no project: A's admin cannot read
    // it in A's outbox, nor in the instance's.
    let (status, body) = app
        .post("/api/auth/email-verification", &victim.token, json!({}))
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["email"], json!("victim@x.test"), "{body}");
    assert_eq!(
        body["expires_at"],
        json!("2026-11-16T10:10:00.000Z"),
        "{body}"
    );
    let (status, outbox) = app
        .get(&format!("/api/projects/{}/emails", a.id), &mallory.token)
        .await;
    assert_eq!(status, 200, "{outbox}");
    let codes: Vec<&Value> = outbox["items"]
        .as_array()
        .expect("emails")
        .iter()
        .filter(|m| m["kind"] == json!("staff_email_code"))
        .collect();
    assert!(codes.is_empty(), "only the invitations A sent: {outbox}");
    assert_error(
        &app.get("/api/instance/emails", &mallory.token).await,
        403,
        "FORBIDDEN",
    );
    // A guess is not a proof.
    assert_error(
        &app.post(
            "/api/auth/email-verification/confirm",
            &victim.token,
            json!({ "code": "000000" }),
        )
        .await,
        422,
        "VALIDATION_FAILED",
    );
    let still = accept(&app, Auth::Bearer(&victim.token), &join_b, "").await;
    assert_error(&still, 403, "FORBIDDEN");

    // Whoever reads victim@x's mail proves it; then the account joins B.
    let code = app.staff_email_code("victim@x.test").await;
    let (status, body) = app
        .post(
            "/api/auth/email-verification/confirm",
            &victim.token,
            json!({ "code": code }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email_verified"], json!(true), "{body}");
    assert_eq!(me(&app, &victim.token).await["email_verified"], json!(true));
    let (status, body) = accept(&app, Auth::Bearer(&victim.token), &join_b, "").await;
    assert_eq!(status, 200, "{body}");
    let mut joined = project_ids(&me(&app, &victim.token).await);
    joined.sort();
    let mut want = vec![a.id.clone(), b.id.clone()];
    want.sort();
    assert_eq!(joined, want);
    // Proven once: a second ask is refused, the used code is gone.
    assert_error(
        &app.post("/api/auth/email-verification", &victim.token, json!({}))
            .await,
        400,
        "INVALID_TRANSITION",
    );
}

#[actix_rt::test]
async fn an_email_code_expires_counts_wrong_tries_and_is_used_once() {
    let app = TestApp::start().await;
    let project = app.create_project("Shop").await;
    let sam = new_member(&app, &project, "sam@x.test", "agent").await;
    let ask = || app.post("/api/auth/email-verification", &sam.token, json!({}));
    let confirm = |code: String| {
        app.post(
            "/api/auth/email-verification/confirm",
            &sam.token,
            json!({ "code": code }),
        )
    };
    let wrong = |code: &str| {
        let n: u32 = code.parse().unwrap();
        format!("{:06}", (n + 1) % 1_000_000)
    };

    // No code asked yet; malformed codes.
    assert_error(&confirm("123456".into()).await, 422, "VALIDATION_FAILED");
    assert_error(&confirm("12ab56".into()).await, 422, "VALIDATION_FAILED");

    // Ten minutes on the Clock, then dead.
    assert_eq!(ask().await.0, 202);
    let code = app.staff_email_code(&sam.email).await;
    app.advance(Duration::minutes(10)).await;
    assert_error(&confirm(code.clone()).await, 422, "VALIDATION_FAILED");
    assert_eq!(me(&app, &sam.token).await["email_verified"], json!(false));

    // Five wrong tries kill a code, even for the right one after them.
    assert_eq!(ask().await.0, 202);
    let code = app.staff_email_code(&sam.email).await;
    for _ in 0..5 {
        assert_error(&confirm(wrong(&code)).await, 422, "VALIDATION_FAILED");
    }
    let (_, body) = confirm(code.clone()).await;
    assert!(
        s(&body["fields"]["code"]).contains("too many"),
        "exhausted: {body}"
    );
    assert_eq!(me(&app, &sam.token).await["email_verified"], json!(false));

    // A new code replaces the old; four wrong tries leave it good; used once.
    assert_eq!(ask().await.0, 202);
    let code = app.staff_email_code(&sam.email).await;
    for _ in 0..4 {
        assert_error(&confirm(wrong(&code)).await, 422, "VALIDATION_FAILED");
    }
    let (status, body) = confirm(code.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_error(&confirm(code).await, 400, "INVALID_TRANSITION");

    // Another account's code proves nothing for this one.
    let tom = new_member(&app, &project, "tom@x.test", "agent").await;
    assert_eq!(
        app.post("/api/auth/email-verification", &tom.token, json!({}))
            .await
            .0,
        202
    );
    let toms = app.staff_email_code(&tom.email).await;
    let other = new_member(&app, &project, "una@x.test", "agent").await;
    assert_eq!(
        app.post("/api/auth/email-verification", &other.token, json!({}))
            .await
            .0,
        202
    );
    assert_error(
        &app.post(
            "/api/auth/email-verification/confirm",
            &other.token,
            json!({ "code": toms }),
        )
        .await,
        422,
        "VALIDATION_FAILED",
    );
    assert_eq!(me(&app, &other.token).await["email_verified"], json!(false));
}

#[actix_rt::test]
async fn sending_email_codes_is_rate_limited_per_account() {
    let limits = RateLimits {
        identity_codes: 3,
        ..RateLimits::OFF
    };
    let app =
        TestApp::start_with_config(ManualClock::at_default(), |c| c.rate_limits = limits).await;
    let project = app.create_project("Shop").await;
    let sam = new_member(&app, &project, "sam@x.test", "agent").await;
    let ask = || {
        app.call_with_header(
            Method::POST,
            "/api/auth/email-verification",
            Auth::Bearer(&sam.token),
            Some(json!({})),
            "retry-after",
        )
    };
    for _ in 0..3 {
        assert_eq!(ask().await.0, 202);
    }
    let (status, retry_after, body) = ask().await;
    assert_eq!(
        (status, &body["error"]),
        (429, &json!("RATE_LIMITED")),
        "{body}"
    );
    assert!(retry_after.is_some(), "{body}");
    // Another account has its own allowance.
    let tom = new_member(&app, &project, "tom@x.test", "agent").await;
    let (status, body) = app
        .post("/api/auth/email-verification", &tom.token, json!({}))
        .await;
    assert_eq!(status, 202, "{body}");
    // The refill follows the Clock.
    app.advance(Duration::minutes(10)).await;
    assert_eq!(ask().await.0, 202);
}

#[actix_rt::test]
async fn a_staff_code_goes_through_the_email_webhook_for_no_project() {
    let (base, seen) = webhook_server().await;
    let app = TestApp::start_with_config(ManualClock::at_default(), |c| {
        c.webhooks = WebhookUrls {
            email: Some(format!("{base}/ok/email")),
            ..WebhookUrls::default()
        }
    })
    .await;
    let project = app.create_project("Shop").await;
    let sam = new_member(&app, &project, "sam@x.test", "agent").await;
    let (status, body) = app
        .post("/api/auth/email-verification", &sam.token, json!({}))
        .await;
    assert_eq!(status, 202, "{body}");
    let (_, mail) = seen.lock().unwrap().pop().unwrap();
    assert_fields(
        &mail,
        &json!({
            "type": "email", "project_id": null, "to": "sam@x.test",
            "kind": "staff_email_code",
        }),
    );
    let text = s(&mail["body"]);
    let code = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .to_string();
    let (status, body) = app
        .post(
            "/api/auth/email-verification/confirm",
            &sam.token,
            json!({ "code": code }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Nothing was kept in the built-in outboxes.
    let (_, outbox) = app.get("/api/instance/emails", app.admin_token()).await;
    assert_eq!(outbox["items"], json!([]), "{outbox}");
}

/// Item 3: an invitation for an email that has an account is accepted by
/// that account, logged in, and the body's password is never checked.
#[actix_rt::test]
async fn an_invitation_for_an_existing_account_needs_its_login_never_its_password() {
    let app = TestApp::start().await;
    let p1 = app.create_project("One").await;
    let p2 = app.create_project("Two").await;
    let carol = new_member(&app, &p1, "carol@x.test", "agent").await;
    app.prove_email(&carol).await;
    let dave = new_member(&app, &p1, "dave@x.test", "agent").await;
    let (_, token) = invite(&app, app.admin_token(), &p2.id, "carol@x.test", "agent").await;

    // Without a login: 401, with her right password or a wrong one alike.
    let right = accept(&app, Auth::None, &token, PASSWORD).await;
    assert_error(&right, 401, "UNAUTHORIZED");
    assert_eq!(
        accept(&app, Auth::None, &token, "wrong-password-9").await,
        right
    );
    // Logged in as another account: 403, whatever the body says.
    let other = accept(&app, Auth::Bearer(&dave.token), &token, PASSWORD).await;
    assert_error(&other, 403, "FORBIDDEN");
    assert_eq!(
        accept(&app, Auth::Bearer(&dave.token), &token, "wrong-password-9").await,
        other
    );
    assert_eq!(
        project_ids(&me(&app, &dave.token).await),
        vec![p1.id.clone()]
    );
    assert_eq!(
        project_ids(&me(&app, &carol.token).await),
        vec![p1.id.clone()]
    );
    assert_eq!(
        member(&app, &p2.id, "carol@x.test").await.unwrap()["status"],
        json!("pending")
    );

    // Logged in as Carol, a wrong password in the body changes nothing:
    // she joins, and her password is what it was.
    let (status, body) = accept(&app, Auth::Bearer(&carol.token), &token, "wrong-password-9").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(s(&body["user"]["id"]), carol.user_id);
    let mut joined = project_ids(&me(&app, &carol.token).await);
    joined.sort();
    let mut want = vec![p1.id.clone(), p2.id.clone()];
    want.sort();
    assert_eq!(joined, want);
    assert_eq!(login_status(&app, "carol@x.test", PASSWORD).await, 200);
    assert_eq!(
        login_status(&app, "carol@x.test", "wrong-password-9").await,
        401
    );
    // The used token is refused like an unknown one.
    let unknown = unknown_token_answer(&app).await;
    assert_eq!(
        accept(&app, Auth::Bearer(&carol.token), &token, PASSWORD).await,
        unknown
    );
}

#[actix_rt::test]
async fn the_demo_admin_creates_projects_and_the_demo_agents_do_not() {
    let app = TestApp::start_with_config(ManualClock::at_default(), |c| c.demo = true).await;
    let admin = app
        .login(
            switchboard::demo::DEMO_ADMIN,
            switchboard::demo::DEMO_PASSWORD,
        )
        .await;
    let alice = app
        .login(
            switchboard::demo::DEMO_AGENTS[0].0,
            switchboard::demo::DEMO_PASSWORD,
        )
        .await;
    let theirs = me(&app, &admin).await;
    assert_eq!(theirs["can_create_projects"], json!(true), "{theirs}");
    let hers = me(&app, &alice).await;
    assert_eq!(hers["can_create_projects"], json!(false), "{hers}");
    // The operator made both accounts: their emails count as proven.
    assert_eq!(hers["email_verified"], json!(true), "{hers}");
    let (status, body) = app
        .post("/api/projects", &admin, json!({ "name": "Second shop" }))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_error(
        &app.post("/api/projects", &alice, json!({ "name": "Mine" }))
            .await,
        403,
        "FORBIDDEN",
    );
}
