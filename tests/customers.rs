//! Customer identity (seed 003 5.11): the widget identifies its visitor by
//! a proven email (the host site's `user_hash` here; tests/security_identity.rs
//! covers codes and what an unproven email may not do), a second device
//! proving the same email merges both histories into one customer, the
//! staff's customer context panel with its history, flags and notes, and
//! the handoff's email kept as unverified contact information.

mod common;

use awc::http::Method;
use chrono::Duration;
use common::*;
use serde_json::{json, Value};
use switchboard_actors::clock::Clock;
use switchboard_actors::wire_time;

// ----- helpers of this file ---------------------------------------------------

/// Identify with proof (`user_hash`), asserting success; the widget's
/// `customer`.
async fn identify_ok(
    app: &TestApp,
    project: &Project,
    token: &str,
    email: &str,
    name: Option<&str>,
) -> Value {
    let (status, body) = app.identify_proven(project, token, email, name).await;
    assert_eq!(status, 200, "identify {email}: {body}");
    assert_eq!(body["verified"], json!(true), "{body}");
    body["customer"].clone()
}

fn customer_path(project: &Project, customer: &str) -> String {
    format!("/api/projects/{}/customers/{customer}", project.id)
}

/// The conversation as staff see it, with its `customer`.
async fn staff_conversation(app: &TestApp, id: &str) -> Value {
    app.conversation(id, app.admin_token()).await
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("expected a list, got {items}"))
        .iter()
        .map(|c| s(&c["id"]))
        .collect()
}

fn now_on_the_wire(app: &TestApp) -> String {
    wire_time::format(&app.clock.now())
}

// ----- identify ---------------------------------------------------------------

#[actix_rt::test]
async fn identify_links_the_email_to_the_visitor_and_its_conversation() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (conv, token) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    let customer_id = s(&conv["customer_id"]);
    app.say(&id, &token, "Where is my order?").await;

    let customer = identify_ok(&app, &project, &token, "  Ana@Example.COM ", Some(" Ana ")).await;
    // The widget sees who it is, not what staff wrote about it.
    assert_eq!(
        customer,
        json!({
            "id": customer_id, "visitor_id": "visitor-1", "email": "ana@example.com",
            "name": "Ana", "identified": true,
        })
    );

    // The live conversation took the identity into its view and columns.
    let detail = staff_conversation(&app, &id).await;
    assert_fields(
        &detail,
        &json!({
            "customer_id": customer_id, "customer_email": "ana@example.com",
            "customer_name": "Ana",
        }),
    );
    assert_fields(
        &detail["customer"],
        &json!({"id": customer_id, "email": "ana@example.com", "identified": true,
                "total_conversations": 1, "is_flagged": false}),
    );
    let recent = &detail["customer"]["recent_conversations"];
    assert_eq!(ids(recent), vec![id.clone()]);
    assert_eq!(recent[0]["preview"], json!("Where is my order?"));
    assert_eq!(recent[0]["status"], json!("ai_active"));
    let listed = app
        .get(
            &format!("/api/conversations?project_id={}", project.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(
        listed.1["items"][0]["customer_email"],
        json!("ana@example.com")
    );

    // Identifying again with the same email changes nothing but the name.
    let again = identify_ok(&app, &project, &token, "ana@example.com", Some("Ana B")).await;
    assert_eq!(
        (&again["id"], &again["name"]),
        (&json!(customer_id), &json!("Ana B"))
    );
    assert_eq!(
        staff_conversation(&app, &id).await["customer_name"],
        json!("Ana B")
    );
}

#[actix_rt::test]
async fn a_second_visitor_with_the_same_email_merges_both_histories() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (laptop_conv, laptop) = app.new_conversation(&project, "laptop").await;
    let laptop_id = s(&laptop_conv["id"]);
    let survivor = s(&laptop_conv["customer_id"]);
    app.say(&laptop_id, &laptop, "How do I integrate the API?")
        .await;
    identify_ok(&app, &project, &laptop, "dee@example.com", None).await;

    app.advance(Duration::hours(2)).await;
    let (phone_conv, phone) = app.new_conversation(&project, "phone").await;
    let phone_id = s(&phone_conv["id"]);
    let phone_customer = s(&phone_conv["customer_id"]);
    assert_ne!(phone_customer, survivor);
    app.say(&phone_id, &phone, "Billing question").await;

    let merged = identify_ok(&app, &project, &phone, "DEE@example.com", Some("Dee")).await;
    assert_eq!(merged["id"], json!(survivor));
    // The caller's own visitor id, not the other device's.
    assert_eq!(merged["visitor_id"], json!("phone"));

    let body = app.customer_panel(&project, &survivor).await;
    assert_fields(
        &body,
        &json!({
            "email": "dee@example.com", "name": "Dee", "identified": true,
            "visitor_id": "laptop", "merged_visitor_ids": ["phone"],
            "total_conversations": 2,
        }),
    );
    // Newest first, with each one's first customer message.
    assert_eq!(
        ids(&body["conversations"]["items"]),
        [phone_id.clone(), laptop_id.clone()]
    );
    assert_eq!(
        body["conversations"]["items"][0]["preview"],
        json!("Billing question")
    );
    assert_eq!(
        body["conversations"]["items"][1]["preview"],
        json!("How do I integrate the API?")
    );
    assert_eq!(body["conversations"]["next_cursor"], json!(null));
    // The phone's customer is gone; its live conversation moved.
    let (status, _) = app
        .get(&customer_path(&project, &phone_customer), app.admin_token())
        .await;
    assert_eq!(status, 404);
    let detail = staff_conversation(&app, &phone_id).await;
    assert_fields(
        &detail,
        &json!({"customer_id": survivor, "customer_email": "dee@example.com", "customer_name": "Dee"}),
    );
    assert_eq!(detail["customer"]["id"], json!(survivor));
    // The phone's customer token still works on its conversation.
    assert_eq!(
        app.conversation(&phone_id, &phone).await["id"],
        json!(phone_id)
    );

    // Later visits of either device land on the merged customer.
    app.advance(Duration::hours(1)).await;
    let (later, _) = app.new_conversation(&project, "laptop").await;
    assert_eq!(later["customer_id"], json!(survivor));
    assert_eq!(later["customer_email"], json!("dee@example.com"));
    let (from_phone, _) = app.new_conversation(&project, "phone").await;
    assert_eq!(from_phone["customer_id"], json!(survivor));
    let body = app.customer_panel(&project, &survivor).await;
    assert_eq!(body["total_conversations"], json!(4));
    assert_eq!(
        body["conversations"]["items"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(body["last_seen_at"], json!(now_on_the_wire(&app)));
}

#[actix_rt::test]
async fn concurrent_identifies_of_one_email_end_as_one_customer() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let mut tokens = Vec::new();
    let mut conversations = Vec::new();
    for i in 0..6 {
        let (conv, token) = app.new_conversation(&project, &format!("device-{i}")).await;
        conversations.push(s(&conv["id"]));
        tokens.push(token);
    }
    let secret = app.identity_secret(&project).await;
    let proven = json!({"email": "same@example.com",
                        "user_hash": user_hash(&secret, "same@example.com")});
    let answers =
        futures_util::future::join_all(tokens.iter().map(|t| app.identify(t, proven.clone())))
            .await;
    let customers: Vec<Value> = answers
        .into_iter()
        .map(|(status, body)| {
            assert_eq!(status, 200, "{body}");
            body["customer"]["id"].clone()
        })
        .collect();
    assert!(
        customers.iter().all(|c| *c == customers[0]),
        "{customers:?}"
    );
    let body = app.customer_panel(&project, &s(&customers[0])).await;
    assert_eq!(body["total_conversations"], json!(6));
    let mut listed = ids(&body["conversations"]["items"]);
    listed.sort();
    conversations.sort();
    assert_eq!(listed, conversations);
    assert_eq!(body["merged_visitor_ids"].as_array().map(Vec::len), Some(5));
    for id in &conversations {
        assert_eq!(
            staff_conversation(&app, id).await["customer_id"],
            customers[0]
        );
    }
}

/// A new conversation of a visitor whose customer an identify merges away
/// at the same moment still starts, and ends on the merged customer
/// whichever of the two the store saw first.
#[actix_rt::test]
async fn a_visit_during_an_identify_lands_on_the_merged_customer() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (laptop_conv, laptop) = app.new_conversation(&project, "laptop").await;
    let survivor = s(&laptop_conv["customer_id"]);
    identify_ok(&app, &project, &laptop, "eve@example.com", None).await;
    for i in 0..16 {
        let visitor = format!("phone-{i}");
        let (_first, token) = app.new_conversation(&project, &visitor).await;
        let (merged, (conv, _)) = futures_util::join!(
            identify_ok(&app, &project, &token, "eve@example.com", None),
            app.new_conversation(&project, &visitor),
        );
        assert_eq!(merged["id"], json!(survivor));
        let detail = staff_conversation(&app, &s(&conv["id"])).await;
        assert_fields(
            &detail,
            &json!({"customer_id": survivor, "customer_email": "eve@example.com"}),
        );
    }
    let body = app.customer_panel(&project, &survivor).await;
    assert_eq!(body["total_conversations"], json!(33));
    let all = format!(
        "{}/conversations?limit=100",
        customer_path(&project, &survivor)
    );
    let (status, listed) = app.get(&all, app.admin_token()).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(33));
}

#[actix_rt::test]
async fn identify_validates_and_is_for_customers_only() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (_conv, token) = app.new_conversation(&project, "visitor-1").await;
    let res = app.identify(&token, json!({"email": "not-an-email"})).await;
    assert_invalid_field(&res, "email");
    let res = app
        .identify(
            &token,
            json!({"email": "a@example.com", "name": "x".repeat(101)}),
        )
        .await;
    assert_invalid_field(&res, "name");
    assert_error(
        &app.identify(&token, json!({"name": "no email"})).await,
        400,
        "BAD_REQUEST",
    );
    assert_error(
        &app.identify(app.admin_token(), json!({"email": "a@example.com"}))
            .await,
        403,
        "FORBIDDEN",
    );
    assert_error(
        &app.call(
            Method::POST,
            "/api/widget/identify",
            Auth::None,
            Some(json!({"email": "a@example.com"})),
        )
        .await,
        401,
        "UNAUTHORIZED",
    );
    // Nothing was linked by the refusals.
    let (conv, _) = app.new_conversation(&project, "visitor-1").await;
    assert_eq!(conv["customer_email"], json!(null));
}

// ----- the staff's customer panel ------------------------------------------------

#[actix_rt::test]
async fn an_anonymous_visitor_shows_its_visit_and_no_identity() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/widget/conversations",
            Auth::ProjectKey(&project.public_key),
            Some(json!({
                "visitor_id": "anon-1",
                "metadata": {
                    "page_url": "https://acme.test/features", "browser": "Safari",
                    "device": "Mobile", "os": "iOS", "timezone": "Europe/London",
                    "language": "en-GB", "referrer": "https://search.test",
                },
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let customer = s(&body["conversation"]["customer_id"]);
    let seen = now_on_the_wire(&app);

    let body = app.customer_panel(&project, &customer).await;
    assert_fields(
        &body,
        &json!({
            "id": customer, "project_id": project.id, "visitor_id": "anon-1",
            "email": null, "name": null, "identified": false, "merged_visitor_ids": [],
            "first_seen_at": seen, "last_seen_at": seen, "total_conversations": 1,
            "last_page_url": "https://acme.test/features", "last_browser": "Safari",
            "last_device": "Mobile", "last_os": "iOS", "last_timezone": "Europe/London",
            "last_language": "en-GB", "last_referrer": "https://search.test",
            "last_location": null, "is_flagged": false, "flag_reason": null,
            "flagged_at": null, "flagged_by": null, "internal_notes": null,
        }),
    );
    assert_eq!(body["conversations"]["items"][0]["preview"], json!(null));
}

#[actix_rt::test]
async fn staff_flag_a_customer_and_keep_notes() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let ana = app.add_agent(&project, "Ana", 3).await;
    let (conv, token) = app.new_conversation(&project, "visitor-1").await;
    let customer = s(&conv["customer_id"]);
    let path = customer_path(&project, &customer);
    app.advance(Duration::minutes(5)).await;

    let (status, body) = app
        .patch(
            &path,
            &ana.token,
            json!({"is_flagged": true, "flag_reason": "abusive language",
                   "internal_notes": "Asked for a refund twice"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let flagged_at = now_on_the_wire(&app);
    assert_fields(
        &body,
        &json!({"is_flagged": true, "flag_reason": "abusive language",
                "flagged_by": ana.user_id, "flagged_at": flagged_at,
                "internal_notes": "Asked for a refund twice"}),
    );
    assert_fields(
        &app.customer_panel(&project, &customer).await,
        &json!({"is_flagged": true, "flag_reason": "abusive language",
                "internal_notes": "Asked for a refund twice"}),
    );
    assert_eq!(
        staff_conversation(&app, &s(&conv["id"])).await["customer"]["is_flagged"],
        json!(true)
    );
    // The widget never sees them.
    let own = identify_ok(&app, &project, &token, "v@example.com", None).await;
    assert_eq!(own.get("internal_notes"), None);
    assert_eq!(own.get("is_flagged"), None);

    // Notes alone keep the flag; null clears them; unflagging clears the
    // reason and who flagged.
    let (status, body) = app
        .patch(&path, app.admin_token(), json!({"internal_notes": null}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_fields(&body, &json!({"is_flagged": true, "internal_notes": null}));
    let (status, body) = app
        .patch(&path, app.admin_token(), json!({"is_flagged": false}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_fields(
        &body,
        &json!({"is_flagged": false, "flag_reason": null, "flagged_by": null, "flagged_at": null}),
    );

    // Bounds and shape.
    let res = app
        .patch(&path, &ana.token, json!({"flag_reason": "x".repeat(501)}))
        .await;
    assert_invalid_field(&res, "flag_reason");
    let res = app
        .patch(
            &path,
            &ana.token,
            json!({"internal_notes": "x".repeat(10_001)}),
        )
        .await;
    assert_invalid_field(&res, "internal_notes");
    assert_error(
        &app.patch(&path, &ana.token, json!({"is_flagged": "yes"}))
            .await,
        400,
        "BAD_REQUEST",
    );
    assert_error(
        &app.patch(&path, &token, json!({"is_flagged": true})).await,
        403,
        "FORBIDDEN",
    );
}

#[actix_rt::test]
async fn another_projects_customer_is_not_found() {
    let app = TestApp::start().await;
    let acme = app.create_project("Acme").await;
    let other = app.create_project("Other").await;
    let bob = app.add_agent(&other, "Bob", 3).await;
    let (conv, token) = app.new_conversation(&acme, "visitor-1").await;
    let customer = s(&conv["customer_id"]);

    // Bob is not a member of Acme; Acme's customer is not Other's.
    let admin = app.admin_token().to_string();
    for (path, who) in [
        (customer_path(&acme, &customer), &bob.token),
        (customer_path(&other, &customer), &bob.token),
        (customer_path(&other, &customer), &admin),
        (
            format!("{}/conversations", customer_path(&other, &customer)),
            &bob.token,
        ),
    ] {
        assert_error(&app.get(&path, who).await, 404, "NOT_FOUND");
    }
    assert_error(
        &app.patch(
            &customer_path(&other, &customer),
            &bob.token,
            json!({"is_flagged": true}),
        )
        .await,
        404,
        "NOT_FOUND",
    );
    let unknown = customer_path(&acme, "00000000-0000-4000-8000-000000000000");
    assert_error(
        &app.get(&unknown, app.admin_token()).await,
        404,
        "NOT_FOUND",
    );
    assert_error(
        &app.get(&customer_path(&acme, &customer), &token).await,
        403,
        "FORBIDDEN",
    );
    // Emails are per project: the same email in Other is another customer.
    let (_c, other_token) = app.new_conversation(&other, "visitor-1").await;
    let a = identify_ok(&app, &acme, &token, "same@example.com", None).await;
    let b = identify_ok(&app, &other, &other_token, "same@example.com", None).await;
    assert_ne!(a["id"], b["id"]);
}

#[actix_rt::test]
async fn view_all_pages_the_history_newest_first() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let mut made = Vec::new();
    let mut customer = String::new();
    for _ in 0..3 {
        let (conv, _) = app.new_conversation(&project, "visitor-1").await;
        customer = s(&conv["customer_id"]);
        made.push(s(&conv["id"]));
        app.advance(Duration::minutes(1)).await;
    }
    made.reverse();
    let all = format!("{}/conversations", customer_path(&project, &customer));
    let (status, first) = app.get(&format!("{all}?limit=2"), app.admin_token()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(ids(&first["items"]), made[..2]);
    let cursor = s(&first["next_cursor"]);
    let (status, rest) = app
        .get(&format!("{all}?limit=2&cursor={cursor}"), app.admin_token())
        .await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(ids(&rest["items"]), made[2..]);
    assert_eq!(rest["next_cursor"], json!(null));
    assert_error(
        &app.get(&format!("{all}?limit=0"), app.admin_token()).await,
        422,
        "VALIDATION_FAILED",
    );
    assert_error(
        &app.get(&format!("{all}?cursor=nope"), app.admin_token())
            .await,
        422,
        "VALIDATION_FAILED",
    );
}

// ----- the handoff's email ---------------------------------------------------------

/// The handoff's email is contact information on the conversation (shown
/// to agents as unverified), not an identity: it links the visitor to no
/// customer and merges nothing; a device that later proves the same email
/// becomes that email's customer on its own.
#[actix_rt::test]
async fn a_handoff_with_an_email_keeps_it_as_unverified_contact_information() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 3).await;
    app.set_status(&ana, &project, "online").await;
    let (conv, token) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    let customer = s(&conv["customer_id"]);

    let (status, body) = app
        .post(
            &format!("/api/conversations/{id}/handoff"),
            &token,
            json!({"reason": "button_click", "customer_email": "Zed@Example.com",
                   "customer_name": "Zed"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], json!("agent_active"));
    let body = app.customer_panel(&project, &customer).await;
    assert_fields(
        &body,
        &json!({"email": null, "name": null, "identified": false,
                "customer_email_verified": false}),
    );
    assert_eq!(
        body["conversations"]["items"][0]["customer_email"],
        json!("zed@example.com")
    );
    let detail = staff_conversation(&app, &id).await;
    assert_fields(
        &detail,
        &json!({"status": "agent_active", "customer_email": "zed@example.com",
                "customer_email_verified": false, "customer_name": "Zed",
                "customer_id": customer}),
    );

    // Another device proving the same email does not join this visitor's
    // customer: nothing proved that visitor owns it.
    let (_other, other_token) = app.new_conversation(&project, "visitor-2").await;
    let proven = identify_ok(&app, &project, &other_token, "zed@example.com", None).await;
    assert_ne!(proven["id"], json!(customer));
    assert_eq!(
        app.customer_panel(&project, &customer).await["total_conversations"],
        json!(1)
    );

    // A bad email is refused under the handoff's own field name, and the
    // handoff does not happen.
    let (c3, t3) = app.new_conversation(&project, "visitor-3").await;
    let res = app
        .post(
            &format!("/api/conversations/{}/handoff", s(&c3["id"])),
            &t3,
            json!({"reason": "button_click", "customer_email": "nope"}),
        )
        .await;
    assert_invalid_field(&res, "customer_email");
    assert_eq!(
        app.conversation(&s(&c3["id"]), &t3).await["status"],
        json!("ai_active")
    );
}
