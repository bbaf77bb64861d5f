//! Security regressions of customer identity (issue 14, item 1), black
//! box against the real server:
//!
//! - a visitor id is not a credential: the server issues visitors an id
//!   and a secret, and a token for an existing visitor needs the secret;
//! - an email without proof is contact information on the conversation
//!   only (no merge, no link, nothing revealed about other customers);
//!   proof is a `user_hash` from the host site's server or a one-time code
//!   sent to the email.
//!
//! What a customer sends and sees (items 7, 10 and 17) is in
//! security_widget.rs.

mod common;

use awc::http::Method;
use chrono::Duration;
use common::*;
use serde_json::json;
use switchboard::limits::RateLimits;
use switchboard_actors::clock::ManualClock;

// ----- helpers of this file ---------------------------------------------------

#[test]
fn the_tests_hmac_matches_rfc_4231() {
    assert_eq!(
        hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

/// A victim with a verified email, a name and a live chat with Ana, who
/// has answered. Returns `(conversation, customer_token, customer_id)`.
async fn identified_victim(
    app: &TestApp,
    project: &Project,
    ana: &Agent,
    email: &str,
) -> (String, String, String) {
    let (conv, token) = app.assigned_conversation(project, "visitor-1", ana).await;
    let secret = app.identity_secret(project).await;
    let (st, body) = app
        .identify(
            &token,
            json!({ "email": email, "name": "Vera", "user_hash": user_hash(&secret, email) }),
        )
        .await;
    assert_eq!(st, 200, "the victim identifies: {body}");
    app.say(&conv, &token, "My card number ends in 4242").await;
    app.say(&conv, &ana.token, "Thanks Vera, your refund is on its way")
        .await;
    let customer = s(&app.conversation(&conv, app.admin_token()).await["customer_id"]);
    (conv, token, customer)
}

// ----- item 1: identity takeover -------------------------------------------------

/// The audit's scenario end to end: with only the public key, the victim's
/// email and the victim's visitor id, an attacker gets no token for the
/// victim's visitor, reads nothing, writes nothing, renames nobody, and
/// the identify answer tells nothing.
#[actix_rt::test]
async fn an_email_and_a_visitor_id_do_not_take_over_a_customer() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 3).await;
    app.set_status(&ana, &project, "online").await;
    let (conv, victim, victim_customer) =
        identified_victim(&app, &project, &ana, "vera@example.com").await;
    let conversations_before = app.conversation_count(&project).await;
    let panel_before = app.customer_panel(&project, &victim_customer).await;

    // A token for the victim's visitor needs its secret: none, a wrong one.
    for body in [
        json!({ "visitor_id": "visitor-1" }),
        json!({ "visitor_id": "visitor-1", "visitor_secret": "sbv_guess" }),
    ] {
        let res = app.start_visit(&project, body).await;
        assert_error(&res, 401, "UNAUTHORIZED");
        assert!(res.1.get("customer_token").is_none(), "{}", res.1);
    }
    assert_eq!(app.conversation_count(&project).await, conversations_before);

    // The attacker's own visitor, told the victim's email without proof.
    let (st, mine) = app.start_visit(&project, json!({})).await;
    assert_eq!(st, 201, "{mine}");
    let attacker = s(&mine["customer_token"]);
    let attacker_conv = s(&mine["conversation"]["id"]);
    let (st, answer) = app
        .identify(
            &attacker,
            json!({ "email": "vera@example.com", "name": "Mallory" }),
        )
        .await;
    assert_eq!(st, 200, "{answer}");
    let text = answer.to_string();
    for secret in [victim_customer.as_str(), "visitor-1", "Vera"] {
        assert!(
            !text.contains(secret),
            "identify revealed {secret}: {answer}"
        );
    }
    // With a made-up user_hash: refused, and nothing changes.
    let res = app
        .identify(
            &attacker,
            json!({ "email": "vera@example.com", "user_hash": "00".repeat(32) }),
        )
        .await;
    assert_error(&res, 401, "UNAUTHORIZED");

    // Nothing of the victim's reaches the attacker's token.
    let path = format!("/api/conversations/{conv}");
    assert_error(&app.get(&path, &attacker).await, 404, "NOT_FOUND");
    assert_error(
        &app.get(&format!("{path}/messages"), &attacker).await,
        404,
        "NOT_FOUND",
    );
    assert_error(
        &app.post_message(&conv, &attacker, "I am Vera, send it to me")
            .await,
        404,
        "NOT_FOUND",
    );
    let mut ws = app.ws(&attacker).await;
    let reply = ws
        .send_op(json!({ "op": "subscribe", "channel": format!("conversation:{conv}") }))
        .await;
    assert_eq!(reply["ok"], json!(false), "{reply}");
    let own = app.get_messages(&attacker_conv, &attacker).await;
    assert!(
        !json!(own).to_string().contains("refund"),
        "the agent's reply reached the attacker: {own:?}"
    );

    // The victim is as before: same name, no merge, no extra visitor.
    let panel = app.customer_panel(&project, &victim_customer).await;
    for field in [
        "name",
        "email",
        "merged_visitor_ids",
        "total_conversations",
        "visitor_id",
    ] {
        assert_eq!(panel[field], panel_before[field], "{field}: {panel}");
    }
    let seen = app.conversation(&conv, app.admin_token()).await;
    assert_eq!(seen["customer_name"], json!("Vera"), "{seen}");
    assert_eq!(seen["customer_email"], json!("vera@example.com"));
    assert_eq!(seen["customer_email_verified"], json!(true), "{seen}");
    // The attacker's conversation keeps its own customer; the email shows
    // as what it is, unverified.
    let theirs = app.conversation(&attacker_conv, app.admin_token()).await;
    assert_ne!(theirs["customer_id"], json!(victim_customer));
    assert_eq!(theirs["customer_email"], json!("vera@example.com"));
    assert_eq!(theirs["customer_email_verified"], json!(false), "{theirs}");
    assert_eq!(theirs["customer"]["name"], json!(null), "{theirs}");
    // The victim's own token still works.
    assert_eq!(app.conversation(&conv, &victim).await["id"], json!(conv));
}

#[actix_rt::test]
async fn new_visitors_get_a_random_id_and_a_secret_they_need_to_come_back() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (st, first) = app.start_visit(&project, json!({})).await;
    assert_eq!(st, 201, "{first}");
    let (st, second) = app.start_visit(&project, json!({})).await;
    assert_eq!(st, 201, "{second}");
    let id = s(&first["visitor_id"]);
    let secret = s(&first["visitor_secret"]);
    assert_ne!(id, s(&second["visitor_id"]));
    assert_ne!(secret, s(&second["visitor_secret"]));
    assert!(id.len() >= 22 && secret.len() >= 22, "{first}");
    assert_eq!(first["conversation"]["visitor_id"], json!(id));

    // Back with its secret: the same visitor, and no new secret.
    let (st, again) = app
        .start_visit(
            &project,
            json!({ "visitor_id": id, "visitor_secret": secret }),
        )
        .await;
    assert_eq!(st, 201, "{again}");
    assert_eq!(again["visitor_id"], json!(id));
    assert_eq!(again.get("visitor_secret"), None, "{again}");
    assert_eq!(
        again["conversation"]["customer_id"],
        first["conversation"]["customer_id"]
    );
    // Another visitor's secret does not open it.
    let res = app
        .start_visit(
            &project,
            json!({ "visitor_id": id, "visitor_secret": s(&second["visitor_secret"]) }),
        )
        .await;
    assert_error(&res, 401, "UNAUTHORIZED");

    // A host site's own id is taken for a visitor that does not exist yet,
    // and gets a secret like any new one.
    let (st, chosen) = app
        .start_visit(&project, json!({ "visitor_id": "crm-42" }))
        .await;
    assert_eq!(st, 201, "{chosen}");
    assert_eq!(chosen["visitor_id"], json!("crm-42"));
    assert!(chosen["visitor_secret"].is_string(), "{chosen}");
    let res = app
        .start_visit(&project, json!({ "visitor_id": "crm-42" }))
        .await;
    assert_error(&res, 401, "UNAUTHORIZED");
}

/// The handoff's and the offline form's emails are contact information on
/// that conversation: no link, no merge, and they say so to agents.
#[actix_rt::test]
async fn emails_in_the_handoff_and_the_offline_form_link_nobody() {
    // Monday 10:00 UTC is 19:00 in Tokyo: closed, so the form is offered.
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 3).await;
    app.set_status(&ana, &project, "online").await;
    let (_conv, _victim, victim_customer) =
        identified_victim(&app, &project, &ana, "vera@example.com").await;
    let before = app.customer_panel(&project, &victim_customer).await;

    let (c1, t1) = app.new_conversation(&project, "attacker-1").await;
    let id1 = s(&c1["id"]);
    let (st, body) = app
        .post(
            &format!("/api/conversations/{id1}/handoff"),
            &t1,
            json!({ "reason": "button_click", "customer_email": "Vera@example.com",
                    "customer_name": "Mallory" }),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let seen = app.conversation(&id1, app.admin_token()).await;
    assert_eq!(seen["customer_id"], c1["customer_id"]);
    assert_eq!(seen["customer_email"], json!("vera@example.com"));
    assert_eq!(seen["customer_email_verified"], json!(false), "{seen}");
    assert_eq!(seen["customer"]["email"], json!(null), "{seen}");

    app.enable_handoff(&project, |s| {
        s["business_hours_enabled"] = json!(true);
        s["timezone"] = json!("Asia/Tokyo");
    })
    .await;
    let (c2, t2) = app.new_conversation(&project, "attacker-2").await;
    let id2 = s(&c2["id"]);
    let (st, body) = app
        .offline_form(
            &id2,
            &t2,
            json!({ "email": "vera@example.com", "name": "Mallory", "message": "call me" }),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let seen = app.conversation(&id2, app.admin_token()).await;
    assert_eq!(seen["customer_id"], c2["customer_id"]);
    assert_eq!(seen["customer_email_verified"], json!(false), "{seen}");

    let after = app.customer_panel(&project, &victim_customer).await;
    for field in ["name", "merged_visitor_ids", "total_conversations"] {
        assert_eq!(after[field], before[field], "{field}: {after}");
    }
    // Each attacker keeps its own, unidentified customer.
    for c in [&c1, &c2] {
        let panel = app.customer_panel(&project, &s(&c["customer_id"])).await;
        assert_eq!(panel["email"], json!(null), "{panel}");
        assert_eq!(panel["identified"], json!(false), "{panel}");
        assert_eq!(panel["customer_email_verified"], json!(false), "{panel}");
    }
}

#[actix_rt::test]
async fn identify_without_proof_answers_the_same_whether_the_email_is_taken_or_not() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 3).await;
    app.set_status(&ana, &project, "online").await;
    identified_victim(&app, &project, &ana, "vera@example.com").await;

    let mut answers = Vec::new();
    for (visitor, email) in [("a-1", "vera@example.com"), ("a-2", "nobody@example.com")] {
        let (conv, token) = app.new_conversation(&project, visitor).await;
        let (st, body) = app
            .identify(&token, json!({ "email": email, "name": "Mo" }))
            .await;
        assert_eq!(st, 200, "{body}");
        // Only the caller's own ids and the email it sent may differ.
        let text = body
            .to_string()
            .replace(email, "<email>")
            .replace(&s(&conv["customer_id"]), "<own customer>")
            .replace(visitor, "<own visitor>");
        answers.push(text);
    }
    assert_eq!(answers[0], answers[1]);
}

// ----- item 1: proof by user_hash ----------------------------------------------------

#[actix_rt::test]
async fn a_user_hash_from_the_host_site_links_and_a_wrong_one_changes_nothing() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let agent = app.add_agent(&project, "Ana", 3).await;
    let secret = app.identity_secret(&project).await;
    assert!(secret.len() >= 32, "identity secret {secret:?}");
    // Agents never see it, nor does the public widget page.
    let (st, as_agent) = app
        .get(&format!("/api/projects/{}", project.id), &agent.token)
        .await;
    assert_eq!(st, 200, "{as_agent}");
    assert_eq!(as_agent.get("identity_secret"), None, "{as_agent}");
    let demo = app
        .call(
            Method::GET,
            &format!("/widget/demo?key={}", project.public_key),
            Auth::None,
            None,
        )
        .await;
    assert!(!demo.1.to_string().contains(&secret));

    let (laptop_conv, laptop) = app.new_conversation(&project, "laptop").await;
    let survivor = s(&laptop_conv["customer_id"]);
    let (st, body) = app
        .identify(
            &laptop,
            json!({ "email": "dee@example.com", "name": "Dee",
                "user_hash": user_hash(&secret, "dee@example.com") }),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["verified"], json!(true), "{body}");
    assert_eq!(body["customer"]["id"], json!(survivor), "{body}");

    // Another device, a wrong hash (the right one for another email): 401,
    // and its customer stays its own.
    let (phone_conv, phone) = app.new_conversation(&project, "phone").await;
    let phone_customer = s(&phone_conv["customer_id"]);
    let res = app
        .identify(
            &phone,
            json!({ "email": "dee@example.com",
                "user_hash": user_hash(&secret, "someone@example.com") }),
        )
        .await;
    assert_error(&res, 401, "UNAUTHORIZED");
    let phone_panel = app.customer_panel(&project, &phone_customer).await;
    assert_eq!(phone_panel["email"], json!(null), "{phone_panel}");
    assert_eq!(
        app.customer_panel(&project, &survivor).await["total_conversations"],
        json!(1)
    );

    // The right hash merges both histories, as identify always did.
    let (st, body) = app
        .identify(
            &phone,
            json!({ "email": "dee@example.com",
                "user_hash": user_hash(&secret, "dee@example.com") }),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["customer"]["id"], json!(survivor));
    assert_eq!(body["customer"]["name"], json!("Dee"));
    let panel = app.customer_panel(&project, &survivor).await;
    assert_fields(
        &panel,
        &json!({ "email": "dee@example.com", "identified": true,
                 "customer_email_verified": true, "merged_visitor_ids": ["phone"],
                 "total_conversations": 2 }),
    );
    let seen = app
        .conversation(&s(&phone_conv["id"]), app.admin_token())
        .await;
    assert_eq!(seen["customer_id"], json!(survivor));
    assert_eq!(seen["customer_email_verified"], json!(true), "{seen}");

    // Rotating the secret: the old hashes stop working, the new one works;
    // only admins rotate.
    let rotate = format!("/api/projects/{}/identity-secret", project.id);
    assert_error(
        &app.post(&rotate, &agent.token, json!({})).await,
        403,
        "FORBIDDEN",
    );
    let (st, rotated) = app.post(&rotate, app.admin_token(), json!({})).await;
    assert_eq!(st, 200, "{rotated}");
    let fresh = s(&rotated["identity_secret"]);
    assert_ne!(fresh, secret);
    assert_eq!(app.identity_secret(&project).await, fresh);
    let (_c, tablet) = app.new_conversation(&project, "tablet").await;
    let res = app.identify(&tablet,
        json!({ "email": "dee@example.com", "user_hash": user_hash(&secret, "dee@example.com") }),
    )
    .await;
    assert_error(&res, 401, "UNAUTHORIZED");
    let (st, body) = app.identify(&tablet,
        json!({ "email": "dee@example.com", "user_hash": user_hash(&fresh, "dee@example.com") }),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["customer"]["id"], json!(survivor));
}

// ----- item 1: proof by a one-time code --------------------------------------------

#[actix_rt::test]
async fn a_code_sent_to_the_email_proves_it_once() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (laptop_conv, laptop) = app.new_conversation(&project, "laptop").await;
    let survivor = s(&laptop_conv["customer_id"]);
    let secret = app.identity_secret(&project).await;
    let (st, _) = app.identify(&laptop,
        json!({ "email": "dee@example.com", "user_hash": user_hash(&secret, "dee@example.com") }),
    )
    .await;
    assert_eq!(st, 200);

    let (phone_conv, phone) = app.new_conversation(&project, "phone").await;
    let (st, body) = app.ask_identity_code(&phone, "Dee@Example.com").await;
    assert_eq!(st, 202, "{body}");
    let code = app.identity_code_sent_to(&project, "dee@example.com").await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let res = app
        .identify(&phone, json!({ "email": "dee@example.com", "code": wrong }))
        .await;
    assert_error(&res, 401, "UNAUTHORIZED");
    assert_eq!(
        app.conversation(&s(&phone_conv["id"]), app.admin_token())
            .await["customer_id"],
        phone_conv["customer_id"]
    );

    let (st, body) = app
        .identify(
            &phone,
            json!({ "email": "dee@example.com", "code": code, "name": "Dee" }),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["verified"], json!(true));
    assert_eq!(body["customer"]["id"], json!(survivor));
    assert_eq!(
        app.customer_panel(&project, &survivor).await["merged_visitor_ids"],
        json!(["phone"])
    );
    // Used once: the same code again is refused.
    let (_c, tablet) = app.new_conversation(&project, "tablet").await;
    let res = app
        .identify(&phone, json!({ "email": "dee@example.com", "code": code }))
        .await;
    assert_error(&res, 401, "UNAUTHORIZED");
    // And a code is the asking visitor's: another visitor cannot use it.
    let (st, _) = app.ask_identity_code(&phone, "dee@example.com").await;
    assert_eq!(st, 202);
    let code = app.identity_code_sent_to(&project, "dee@example.com").await;
    let res = app
        .identify(&tablet, json!({ "email": "dee@example.com", "code": code }))
        .await;
    assert_error(&res, 401, "UNAUTHORIZED");
    // The code's email says what it is and nothing else.
    let mail = app.project_outbox(&project).await.pop().expect("an email");
    assert_eq!(mail["subject"], json!("Your verification code"), "{mail}");
}

#[actix_rt::test]
async fn a_code_expires_after_ten_minutes() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (conv, token) = app.new_conversation(&project, "phone").await;
    let (st, body) = app.ask_identity_code(&token, "dee@example.com").await;
    assert_eq!(st, 202, "{body}");
    let code = app.identity_code_sent_to(&project, "dee@example.com").await;
    app.advance(Duration::minutes(10) + Duration::seconds(1))
        .await;
    let res = app
        .identify(&token, json!({ "email": "dee@example.com", "code": code }))
        .await;
    assert_error(&res, 401, "UNAUTHORIZED");
    let panel = app.customer_panel(&project, &s(&conv["customer_id"])).await;
    assert_eq!(panel["email"], json!(null), "{panel}");

    // A fresh code inside its ten minutes works.
    let (st, _) = app.ask_identity_code(&token, "dee@example.com").await;
    assert_eq!(st, 202);
    let code = app.identity_code_sent_to(&project, "dee@example.com").await;
    app.advance(Duration::minutes(9)).await;
    let (st, body) = app
        .identify(&token, json!({ "email": "dee@example.com", "code": code }))
        .await;
    assert_eq!(st, 200, "{body}");
}

#[actix_rt::test]
async fn five_wrong_codes_burn_the_code() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (conv, token) = app.new_conversation(&project, "phone").await;
    let (st, _) = app.ask_identity_code(&token, "dee@example.com").await;
    assert_eq!(st, 202);
    let code = app.identity_code_sent_to(&project, "dee@example.com").await;
    let wrong = if code == "123456" { "654321" } else { "123456" };
    for _ in 0..5 {
        let res = app
            .identify(&token, json!({ "email": "dee@example.com", "code": wrong }))
            .await;
        assert_error(&res, 401, "UNAUTHORIZED");
    }
    let res = app
        .identify(&token, json!({ "email": "dee@example.com", "code": code }))
        .await;
    assert_error(&res, 401, "UNAUTHORIZED");
    let panel = app.customer_panel(&project, &s(&conv["customer_id"])).await;
    assert_eq!(panel["email"], json!(null), "{panel}");
}

#[actix_rt::test]
async fn sending_codes_is_rate_limited_per_visitor() {
    let app = TestApp::start_with_config(ManualClock::at_default(), |c| {
        c.rate_limits = RateLimits {
            identity_codes: 3,
            ..RateLimits::OFF
        }
    })
    .await;
    let project = app.create_project("Acme").await;
    let (_c, token) = app.new_conversation(&project, "phone").await;
    for i in 0..3 {
        let (st, body) = app
            .ask_identity_code(&token, &format!("dee{i}@example.com"))
            .await;
        assert_eq!(st, 202, "{body}");
    }
    let (st, retry, body) = app
        .call_with_header(
            Method::POST,
            "/api/widget/identify/code",
            Auth::Bearer(&token),
            Some(json!({ "email": "dee9@example.com" })),
            "retry-after",
        )
        .await;
    assert_eq!(
        (st, body["error"].clone()),
        (429, json!("RATE_LIMITED")),
        "{body}"
    );
    assert!(retry.is_some(), "no Retry-After: {body}");
    assert_eq!(app.project_outbox(&project).await.len(), 3);
    // Another visitor has its own allowance; ten minutes refill this one.
    let (_c, other) = app.new_conversation(&project, "tablet").await;
    assert_eq!(app.ask_identity_code(&other, "ed@example.com").await.0, 202);
    app.advance(Duration::minutes(10)).await;
    assert_eq!(
        app.ask_identity_code(&token, "dee9@example.com").await.0,
        202
    );
}
