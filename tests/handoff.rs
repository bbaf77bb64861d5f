//! Handoff from the AI to a human (seed 003 5.1, 5.8, 5.10, 7.5): the three
//! ways in (keyword, low AI confidence, the customer's button), the refusals
//! with their exact answer bodies, and a second handoff being refused.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::*;
use serde_json::json;

const RESET_Q: &str = "How do I reset my password?";
const RESET_A: &str = "Open Settings, choose Security, then press Reset password.";

#[actix_rt::test]
async fn keyword_hands_off_immediately_and_assigns_the_online_agent() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 3).await;
    app.set_status(&ana, &project, "online").await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);
    assert_eq!(conv["status"], json!("ai_active"));

    let msg = app
        .say(&id, &customer, "Can I talk to a HUMAN please?")
        .await;
    assert_eq!(msg["seq"], json!(1));
    assert_eq!(msg["sender_type"], json!("customer"));

    let conv = app
        .wait_for_status(&id, app.admin_token(), "agent_active")
        .await;
    assert_eq!(conv["assigned_agent_id"], json!(ana.user_id));
    assert_eq!(conv["handoff_reason"], json!("keyword"));
    assert_eq!(conv["trigger_keyword"], json!("human"));
    assert_eq!(conv["ai_context"]["handoff_reason"], json!("keyword"));
    assert_eq!(conv["ai_context"]["trigger_keyword"], json!("human"));

    // Immediately: no AI answer in between, only the handoff and the
    // agent-joined system messages after the customer's message.
    let msgs = app.get_messages(&id, &customer).await;
    assert_eq!(sender_types(&msgs), ["customer", "system", "system"]);
    assert_eq!(seqs(&msgs), [1, 2, 3]);
    assert_eq!(conv["last_seq"], json!(3));
    assert_eq!(app.chat_counts(&project, &[&ana]).await, [1]);
}

#[actix_rt::test]
async fn keywords_match_whole_words_only() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    // Without the confidence trigger, only a keyword could hand off.
    app.enable_handoff(&project, |s| {
        s["auto_triggers"]["low_confidence_enabled"] = json!(false);
    })
    .await;
    let ana = app.add_agent(&project, "Ana", 3).await;
    app.set_status(&ana, &project, "online").await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);

    app.say(&id, &customer, "Is the humane society open on weekends?")
        .await;
    let answer = app.wait_for_sender(&id, &customer, "ai", 0).await;
    assert_eq!(answer["seq"], json!(2));
    let conv = app.conversation(&id, app.admin_token()).await;
    assert_eq!(conv["status"], json!("ai_active"));
    assert_eq!(conv["handoff_reason"], json!(null));

    // A phrase keyword, in other case, inside a sentence.
    app.say(&id, &customer, "Please let me SPEAK TO SOMEONE now")
        .await;
    let conv = app
        .wait_for_status(&id, app.admin_token(), "agent_active")
        .await;
    assert_eq!(conv["handoff_reason"], json!("keyword"));
    assert_eq!(conv["trigger_keyword"], json!("speak to someone"));
    assert_eq!(conv["assigned_agent_id"], json!(ana.user_id));
}

#[actix_rt::test]
async fn a_confident_answer_from_the_knowledge_base_keeps_the_ai_in_charge() {
    let (app, project) = TestApp::with_handoff().await;
    app.add_knowledge(&project, RESET_Q, RESET_A).await;
    let ana = app.add_agent(&project, "Ana", 3).await;
    app.set_status(&ana, &project, "online").await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);

    app.say(&id, &customer, "how do I reset my password").await;
    let answer = app.wait_for_sender(&id, &customer, "ai", 0).await;
    assert_eq!(answer["seq"], json!(2));
    assert_eq!(answer["content"], json!(RESET_A));
    let confidence = answer["metadata"]["confidence"]
        .as_f64()
        .expect("confidence");
    assert!(confidence >= 0.8, "confidence {confidence}");

    // A second turn proves the first one did not hand off behind our back.
    app.say(&id, &customer, "how can I reset my password").await;
    let second = app.wait_for_sender(&id, &customer, "ai", 3).await;
    assert_eq!(second["seq"], json!(4));
    assert_eq!(second["content"], json!(RESET_A));
    let conv = app.conversation(&id, app.admin_token()).await;
    assert_eq!(conv["status"], json!("ai_active"));
    assert_eq!(conv["assigned_agent_id"], json!(null));
    assert_eq!(app.chat_counts(&project, &[&ana]).await, [0]);
}

#[actix_rt::test]
async fn low_confidence_answer_hands_off_with_its_confidence() {
    let (app, project) = TestApp::with_handoff().await;
    app.add_knowledge(&project, RESET_Q, RESET_A).await;
    let ana = app.add_agent(&project, "Ana", 3).await;
    app.set_status(&ana, &project, "online").await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);

    app.say(
        &id,
        &customer,
        "Which volcanoes erupted on Jupiter's moon Io?",
    )
    .await;
    let conv = app
        .wait_for_status(&id, app.admin_token(), "agent_active")
        .await;
    let msgs = app.get_messages(&id, &customer).await;
    assert_eq!(sender_types(&msgs), ["customer", "ai", "system", "system"]);
    assert_eq!(seqs(&msgs), [1, 2, 3, 4]);
    let confidence = msgs[1]["metadata"]["confidence"]
        .as_f64()
        .expect("confidence");
    assert!(confidence < 0.3, "confidence {confidence}");

    assert_eq!(conv["handoff_reason"], json!("low_confidence"));
    assert_eq!(conv["trigger_keyword"], json!(null));
    assert_eq!(conv["ai_confidence_at_handoff"], json!(confidence));
    assert_eq!(
        conv["ai_context"]["ai_confidence_at_handoff"],
        json!(confidence)
    );
    assert_eq!(conv["assigned_agent_id"], json!(ana.user_id));
    assert_eq!(app.chat_counts(&project, &[&ana]).await, [1]);
}

#[actix_rt::test]
async fn button_handoff_assigns_an_available_agent() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);

    let res = app.handoff(&id, &customer, "button_click").await;
    assert_eq!(res.0, 200, "{}", res.1);
    assert_eq!(
        res.1,
        json!({
            "status": "agent_active",
            "assigned_agent": { "id": ana.user_id, "name": "Ana", "avatar_url": null }
        })
    );
    let conv = app.conversation(&id, app.admin_token()).await;
    assert_eq!(conv["status"], json!("agent_active"));
    assert_eq!(conv["handoff_reason"], json!("button_click"));
    assert_eq!(conv["assigned_agent_id"], json!(ana.user_id));
    assert_eq!(conv["claimed_at"], json!("2026-11-16T10:00:00.000Z"));
    let view = app.agent_view(&project, &ana).await;
    assert_eq!(view["current_chat_count"], json!(1));
    assert_eq!(view["available_slots"], json!(1));
    assert_eq!(view["last_assigned_at"], json!("2026-11-16T10:00:00.000Z"));
}

#[actix_rt::test]
async fn customer_request_waits_in_the_queue_when_every_agent_is_full() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 1).await;
    app.set_status(&ana, &project, "online").await;
    app.assigned_conversation(&project, "visitor-1", &ana).await;

    let (conv, customer) = app.new_conversation(&project, "visitor-2").await;
    let id = s(&conv["id"]);
    let (status, body) = app
        .post(
            &format!("/api/conversations/{id}/handoff"),
            &customer,
            json!({
                "reason": "customer_request",
                "customer_email": "john@example.com",
                "customer_name": "John"
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], json!("waiting"));
    assert_eq!(body["queue_position"], json!(1));
    let wait = &body["estimated_wait_minutes"];
    assert!(
        wait.is_null() || wait.as_u64().is_some_and(|m| m >= 1),
        "estimated_wait_minutes {wait}"
    );

    let conv = app.conversation(&id, app.admin_token()).await;
    assert_eq!(conv["status"], json!("waiting"));
    assert_eq!(conv["handoff_reason"], json!("customer_request"));
    assert_eq!(conv["customer_email"], json!("john@example.com"));
    assert_eq!(conv["customer_name"], json!("John"));
    assert_eq!(conv["queue_position"], json!(1));
    assert_eq!(conv["assigned_agent_id"], json!(null));
    assert_eq!(conv["queue_entered_at"], json!("2026-11-16T10:00:00.000Z"));
    assert_eq!(app.chat_counts(&project, &[&ana]).await, [1]);
}

/// The refusals leave the conversation with the AI and write nothing.
async fn assert_still_with_ai(app: &TestApp, id: &str, customer: &str) {
    let conv = app.conversation(id, app.admin_token()).await;
    assert_eq!(conv["status"], json!("ai_active"));
    assert_eq!(conv["handoff_reason"], json!(null));
    assert_eq!(conv["queue_entered_at"], json!(null));
    assert_eq!(conv["assigned_agent_id"], json!(null));
    assert_eq!(conv["last_seq"], json!(0));
    assert_eq!(
        app.get_messages(id, customer).await,
        Vec::<serde_json::Value>::new()
    );
}

#[actix_rt::test]
async fn handoff_is_refused_while_disabled() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    // The default settings: handoff disabled, even with an agent online.
    assert_eq!(app.settings(&project).await["enabled"], json!(false));
    let ana = app.add_agent(&project, "Ana", 2).await;
    app.set_status(&ana, &project, "online").await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);

    assert_eq!(
        app.availability(&project).await,
        json!({ "available": false, "reason": "disabled", "show_button": false, "show_offline_form": false })
    );
    let res = app.handoff(&id, &customer, "button_click").await;
    assert_eq!(
        res,
        (
            200,
            json!({ "status": "unavailable", "reason": "disabled" })
        )
    );
    assert_still_with_ai(&app, &id, &customer).await;
    assert_eq!(app.chat_counts(&project, &[&ana]).await, [0]);
}

#[actix_rt::test]
async fn handoff_is_refused_without_agents() {
    let (app, project) = TestApp::with_handoff().await;
    // An admin member is not an agent (seed 003 4.1).
    app.add_member(&project, "Boss", "admin", None).await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);

    assert_eq!(
        app.availability(&project).await,
        json!({ "available": false, "reason": "no_agents", "show_button": false, "show_offline_form": false })
    );
    let res = app.handoff(&id, &customer, "button_click").await;
    assert_eq!(
        res,
        (
            200,
            json!({ "status": "unavailable", "reason": "no_agents" })
        )
    );
    assert_still_with_ai(&app, &id, &customer).await;
}

#[actix_rt::test]
async fn handoff_is_refused_when_every_agent_is_offline_or_away() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 2).await; // offline from the start
    let ben = app.add_agent(&project, "Ben", 2).await;
    app.set_status(&ben, &project, "away").await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);

    assert_eq!(
        app.availability(&project).await,
        json!({ "available": false, "reason": "all_offline", "show_button": false, "show_offline_form": false })
    );
    let res = app.handoff(&id, &customer, "customer_request").await;
    assert_eq!(
        res,
        (
            200,
            json!({ "status": "unavailable", "reason": "all_offline" })
        )
    );
    assert_still_with_ai(&app, &id, &customer).await;
    assert_eq!(app.chat_counts(&project, &[&ana, &ben]).await, [0, 0]);

    // The same request succeeds once someone comes online.
    app.set_status(&ana, &project, "online").await;
    let res = app.handoff(&id, &customer, "customer_request").await;
    assert_eq!(res.0, 200, "{}", res.1);
    assert_eq!(res.1["status"], json!("agent_active"));
    assert_eq!(res.1["assigned_agent"]["id"], json!(ana.user_id));
}

#[actix_rt::test]
async fn handoff_before_opening_in_new_york_answers_offline_with_the_next_opening() {
    // Monday 2026-11-16 10:00 UTC is 05:00 in New York (EST, UTC-5).
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    app.enable_handoff(&project, |s| {
        s["business_hours_enabled"] = json!(true);
        s["timezone"] = json!("America/New_York");
    })
    .await;
    let ana = app.add_agent(&project, "Ana", 2).await;
    app.set_status(&ana, &project, "online").await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);

    assert_eq!(
        app.availability(&project).await,
        json!({ "available": false, "reason": "outside_hours", "show_button": false, "show_offline_form": true })
    );
    let (status, body) = app.handoff(&id, &customer, "button_click").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], json!("offline"));
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message: {body}"
    );
    assert_eq!(
        body["business_hours"],
        json!({
            "timezone": "America/New_York",
            "next_available": "2026-11-16T14:00:00.000Z",
            "next_available_local": "Monday 09:00"
        })
    );
    assert_still_with_ai(&app, &id, &customer).await;

    // 09:30 in New York: open. The agent refreshes its presence first.
    app.advance(Duration::minutes(270)).await;
    app.set_status(&ana, &project, "online").await;
    let res = app.handoff(&id, &customer, "button_click").await;
    assert_eq!(res.0, 200, "{}", res.1);
    assert_eq!(res.1["status"], json!("agent_active"));
    assert_eq!(res.1["assigned_agent"]["id"], json!(ana.user_id));
}

#[actix_rt::test]
async fn handoff_after_closing_in_tokyo_points_to_tomorrow_morning() {
    // Monday 10:00 UTC is 19:00 in Tokyo (UTC+9): closed until Tuesday 09:00,
    // which is Tuesday 00:00 UTC.
    let app = TestApp::start().await;
    let project = app.project_closed_in_tokyo(|_| {}).await;
    let ana = app.add_agent(&project, "Ana", 2).await;
    app.set_status(&ana, &project, "online").await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);

    let (status, body) = app.handoff(&id, &customer, "button_click").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], json!("offline"));
    assert_eq!(
        body["business_hours"],
        json!({
            "timezone": "Asia/Tokyo",
            "next_available": "2026-11-17T00:00:00.000Z",
            "next_available_local": "Tuesday 09:00"
        })
    );
    assert_still_with_ai(&app, &id, &customer).await;
}

#[actix_rt::test]
async fn handoff_on_a_closed_saturday_in_paris_points_to_monday() {
    // Saturday 2026-11-21 12:00 UTC is 13:00 in Paris (CET); Saturday and
    // Sunday are closed by default, so the next opening is Monday 09:00 CET.
    let app = TestApp::start_at(
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
            .single()
            .expect("time"),
    )
    .await;
    let project = app.create_project("Acme").await;
    app.enable_handoff(&project, |s| {
        s["business_hours_enabled"] = json!(true);
        s["timezone"] = json!("Europe/Paris");
    })
    .await;
    let ana = app.add_agent(&project, "Ana", 2).await;
    app.set_status(&ana, &project, "online").await;
    let (conv, customer) = app.new_conversation(&project, "visitor-1").await;
    let id = s(&conv["id"]);

    let (status, body) = app.handoff(&id, &customer, "button_click").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], json!("offline"));
    assert_eq!(
        body["business_hours"],
        json!({
            "timezone": "Europe/Paris",
            "next_available": "2026-11-23T08:00:00.000Z",
            "next_available_local": "Monday 09:00"
        })
    );
    assert_still_with_ai(&app, &id, &customer).await;
}

#[actix_rt::test]
async fn a_second_handoff_is_an_invalid_transition_and_changes_nothing() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 1).await;
    app.set_status(&ana, &project, "online").await;

    // Once assigned...
    let (active, active_customer) = app.assigned_conversation(&project, "visitor-1", &ana).await;
    // ...and once waiting.
    let (waiting, waiting_customer) = app.waiting_conversation(&project, "visitor-2", 1).await;

    for (id, customer) in [(&active, &active_customer), (&waiting, &waiting_customer)] {
        let before = app.conversation(id, app.admin_token()).await;
        let msgs_before = app.get_messages(id, customer).await;
        app.clock.advance(Duration::seconds(30));
        let res = app.handoff(id, customer, "button_click").await;
        assert_error(&res, 400, "INVALID_TRANSITION");
        let after = app.conversation(id, app.admin_token()).await;
        for field in [
            "status",
            "assigned_agent_id",
            "handoff_reason",
            "queue_entered_at",
            "claimed_at",
            "last_seq",
            "updated_at",
        ] {
            assert_eq!(after[field], before[field], "{field} changed");
        }
        assert_eq!(app.get_messages(id, customer).await, msgs_before);
    }
    assert_eq!(
        app.conversation(&waiting, &waiting_customer).await["queue_position"],
        json!(1)
    );
    assert_eq!(app.chat_counts(&project, &[&ana]).await, [1]);
}
