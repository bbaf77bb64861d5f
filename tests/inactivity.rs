//! No conversation stuck or silently abandoned (seed 003 5.12, 9.1, 9.2):
//! customer presence and its timeouts, the inactivity warning and
//! auto-close, abandoned waiting conversations, day-old open and resolved
//! conversations, and an agent who goes away mid-chat. Every timeout runs on
//! the ManualClock; `tick` makes the server look at it.

mod common;

use chrono::Duration;
use common::*;
use serde_json::{json, Value};

/// Move the clock by `by`, keeping `agents` fresh (a heartbeat at the new
/// time), then let the server look at the clock.
async fn pass(app: &TestApp, project: &Project, agents: &[&Agent], by: Duration) {
    app.clock.advance(by);
    for a in agents {
        app.heartbeat(a, project).await;
    }
    app.tick().await;
}

async fn presence(ws: &mut Ws, conv: &str, status: &str) {
    ws.op_ok(json!({ "op": "presence", "conversation_id": conv, "status": status }))
        .await;
}

/// Poll the conversation (as staff) until `check` holds (bounded).
async fn wait_until(app: &TestApp, id: &str, token: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + ASYNC_BOUND;
    loop {
        let conv = app.conversation(id, token).await;
        if check(&conv) {
            return conv;
        }
        if std::time::Instant::now() > deadline {
            panic!("condition never held: {conv}");
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

fn system_events(msgs: &[Value]) -> Vec<String> {
    msgs.iter()
        .filter(|m| m["sender_type"] == json!("system"))
        .filter_map(|m| m["metadata"]["event"].as_str().map(str::to_string))
        .collect()
}

#[actix_rt::test]
async fn an_idle_customer_is_warned_then_closed_and_the_agent_takes_the_next_chat() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 1).await;
    app.set_status(&ana, &project, "online").await;
    let (a, a_customer) = app.assigned_conversation(&project, "visitor-a", &ana).await;
    let (b, _) = app.waiting_conversation(&project, "visitor-b", 1).await;

    let mut agent_ws = app.ws(&ana.token).await;
    agent_ws
        .subscribe(&format!("agent:{}", ana.user_id), None)
        .await;
    let mut customer_ws = app.ws(&a_customer).await;
    customer_ws
        .subscribe(&format!("conversation:{a}"), None)
        .await;
    presence(&mut customer_ws, &a, "idle").await;
    assert_eq!(
        agent_ws.expect_event("customer_presence_update").await["data"]["status"],
        json!("idle")
    );

    // Four minutes of silence: nothing yet.
    pass(&app, &project, &[&ana], Duration::minutes(4)).await;
    presence(&mut customer_ws, &a, "idle").await; // idle heartbeats are not activity
    let conv = app.conversation(&a, &ana.token).await;
    assert_eq!(conv["auto_close_warning_sent_at"], Value::Null, "{conv}");

    // Five minutes since the customer was last active: the warning.
    pass(&app, &project, &[&ana], Duration::minutes(1)).await;
    let warning = customer_ws.expect_event("inactivity_warning").await;
    assert_eq!(warning["data"]["active"], json!(true), "{warning}");
    assert_eq!(
        warning["data"]["closes_at"],
        json!("2026-11-16T10:10:00.000Z")
    );
    let msgs = app.wait_for_messages(&a, &a_customer, 3).await;
    let last = msgs.last().expect("a message");
    assert_eq!(last["metadata"]["event"], json!("inactivity_warning"));
    assert!(
        s(&last["content"]).starts_with("Are you still there?"),
        "{last}"
    );

    // Five more minutes without an answer: closed, the slot freed, and the
    // waiting conversation goes to Ana.
    presence(&mut customer_ws, &a, "offline").await;
    pass(&app, &project, &[&ana], Duration::minutes(5)).await;
    let closed = app.wait_for_status(&a, &ana.token, "closed").await;
    assert_eq!(
        closed["metadata"]["close_reason"],
        json!("customer_inactive")
    );
    let auto = agent_ws.expect_event("conversation_auto_closed").await;
    assert_eq!(
        auto["data"],
        json!({ "conversation_id": a, "reason": "customer_inactive" })
    );
    let on_conv = customer_ws.expect_event("conversation_auto_closed").await;
    assert_eq!(on_conv["data"]["reason"], json!("customer_inactive"));
    let msgs = app.get_messages(&a, &a_customer).await;
    assert_eq!(
        system_events(&msgs).last().map(String::as_str),
        Some("auto_closed")
    );
    app.wait_for_status(&b, &ana.token, "agent_active").await;
    assert_eq!(app.chat_counts(&project, &[&ana]).await, vec![1]);
}

#[actix_rt::test]
async fn an_answer_withdraws_the_warning_and_restarts_the_count() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    app.enable_handoff(&project, |s| {
        s["inactivity_timeout_minutes"] = json!(10);
        s["auto_close_after_warning_minutes"] = json!(3);
    })
    .await;
    let ana = app.add_agent(&project, "Ana", 2).await;
    app.set_status(&ana, &project, "online").await;
    let (a, customer) = app.assigned_conversation(&project, "visitor-a", &ana).await;
    let mut ws = app.ws(&customer).await;
    ws.subscribe(&format!("conversation:{a}"), None).await;

    // The configured ten minutes, in steps the agent's heartbeat survives.
    for _ in 0..2 {
        pass(&app, &project, &[&ana], Duration::minutes(5)).await;
    }
    let warning = ws.expect_event("inactivity_warning").await;
    assert_eq!(
        warning["data"]["closes_at"],
        json!("2026-11-16T10:13:00.000Z")
    );

    // The customer answers: the warning is withdrawn.
    app.say(&a, &customer, "still here, sorry").await;
    let cleared = ws.expect_event("inactivity_warning").await;
    assert_eq!(cleared["data"], json!({ "active": false }));
    let conv = app.conversation(&a, &ana.token).await;
    assert_eq!(conv["auto_close_warning_sent_at"], Value::Null, "{conv}");

    // Past the old deadline: still open; the count restarted at the answer.
    pass(&app, &project, &[&ana], Duration::minutes(5)).await;
    let conv = app.conversation(&a, &ana.token).await;
    assert_eq!(conv["status"], json!("agent_active"));
    assert_eq!(conv["auto_close_warning_sent_at"], Value::Null);

    // Pressing "I'm still here" (presence online) also withdraws a warning.
    pass(&app, &project, &[&ana], Duration::minutes(5)).await;
    let again = ws.expect_event("inactivity_warning").await;
    assert_eq!(again["data"]["active"], json!(true));
    presence(&mut ws, &a, "online").await;
    assert_eq!(
        ws.expect_event("inactivity_warning").await["data"],
        json!({ "active": false })
    );
    pass(&app, &project, &[&ana], Duration::minutes(4)).await;
    assert_eq!(
        app.conversation(&a, &ana.token).await["status"],
        json!("agent_active")
    );
}

#[actix_rt::test]
async fn without_warnings_the_chat_closes_after_both_periods_silently() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    app.enable_handoff(&project, |s| s["send_inactivity_warning"] = json!(false))
        .await;
    let ana = app.add_agent(&project, "Ana", 2).await;
    app.set_status(&ana, &project, "online").await;
    let (a, customer) = app.assigned_conversation(&project, "visitor-a", &ana).await;
    pass(&app, &project, &[&ana], Duration::minutes(5)).await;
    pass(&app, &project, &[&ana], Duration::minutes(4)).await;
    assert_eq!(
        app.conversation(&a, &ana.token).await["status"],
        json!("agent_active")
    );
    pass(&app, &project, &[&ana], Duration::minutes(1)).await;
    app.wait_for_status(&a, &ana.token, "closed").await;
    let events = system_events(&app.get_messages(&a, &customer).await);
    assert!(
        !events.contains(&"inactivity_warning".to_string()),
        "{events:?}"
    );
    assert_eq!(events.last().map(String::as_str), Some("auto_closed"));
}

#[actix_rt::test]
async fn presence_reaches_staff_and_the_agent_and_times_out() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (a, customer) = app.assigned_conversation(&project, "visitor-a", &ana).await;
    let mut staff = app.ws(&ana.token).await;
    staff.subscribe(&format!("conversation:{a}"), None).await;
    staff
        .subscribe(&format!("agent:{}", ana.user_id), None)
        .await;
    let mut widget = app.ws(&customer).await;

    presence(&mut widget, &a, "typing").await;
    let e = staff.expect_event("customer_presence").await;
    assert_eq!(e["data"]["status"], json!("typing"));
    let u = staff.expect_event("customer_presence_update").await;
    assert_eq!(
        (
            u["data"]["conversation_id"].clone(),
            u["data"]["status"].clone()
        ),
        (json!(a), json!("typing"))
    );
    // Typing ends by itself after 3 s without a keystroke.
    app.advance(Duration::seconds(3)).await;
    assert_eq!(
        staff.expect_event("customer_presence").await["data"]["status"],
        json!("online")
    );
    // The same status again is a heartbeat, not news.
    presence(&mut widget, &a, "online").await;
    // No heartbeat for 30 s: the customer left.
    app.advance(Duration::seconds(29)).await;
    assert!(staff.drained_none("customer_presence").await);
    app.advance(Duration::seconds(1)).await;
    let left = staff.expect_event("customer_presence").await;
    assert_eq!(left["data"]["status"], json!("offline"));
    assert_eq!(
        left["data"]["last_seen_at"],
        json!("2026-11-16T10:00:03.000Z")
    );
    let conv = app.conversation(&a, &ana.token).await;
    assert_eq!(conv["customer_presence"], json!("offline"));

    // Bad values are refused; staff do not report a customer's presence.
    let bad = widget
        .send_op(json!({ "op": "presence", "conversation_id": a, "status": "asleep" }))
        .await;
    assert_eq!(bad["error"], json!("VALIDATION_FAILED"), "{bad}");
    let (st, body) = app
        .post(
            &format!("/api/conversations/{a}/presence"),
            &ana.token,
            json!({ "status": "online" }),
        )
        .await;
    assert_eq!(st, 403, "{body}");
    // REST works for widgets without a socket.
    let (st, _) = app
        .post(
            &format!("/api/conversations/{a}/presence"),
            &customer,
            json!({ "status": "background" }),
        )
        .await;
    assert_eq!(st, 204);
    let conv = wait_until(&app, &a, &ana.token, |c| {
        c["customer_presence"] == json!("background")
    })
    .await;
    assert_eq!(conv["status"], json!("agent_active"));
}

#[actix_rt::test]
async fn a_waiting_conversation_closes_30_minutes_after_its_customer_left() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 1).await;
    app.set_status(&ana, &project, "online").await;
    // Ana stays online but her heartbeat goes stale: handoff is available,
    // nobody is eligible, so both conversations wait.
    app.advance(Duration::minutes(6)).await;
    let (gone, _) = app.waiting_conversation(&project, "visitor-gone", 1).await;
    let (here, here_token) = app.waiting_conversation(&project, "visitor-here", 2).await;
    let mut staff = app.ws(app.admin_token()).await;
    staff
        .subscribe(&format!("project:{}:agents", project.id), None)
        .await;
    let mut widget = app.ws(&here_token).await;

    app.advance(Duration::minutes(29)).await;
    presence(&mut widget, &here, "online").await;
    assert_eq!(
        app.conversation(&gone, app.admin_token()).await["status"],
        json!("waiting")
    );
    app.advance(Duration::minutes(1)).await;
    let closed = app
        .wait_for_status(&gone, app.admin_token(), "closed")
        .await;
    assert_eq!(closed["metadata"]["close_reason"], json!("abandoned"));
    let queue = staff.expect_event("queue_updated").await;
    assert_eq!(queue["data"]["waiting_count"], json!(1));
    assert_eq!(
        app.conversation(&here, &here_token).await["queue_position"],
        json!(1)
    );

    // The other customer went quiet at minute 35 (now 36): closed at 65.
    app.advance(Duration::minutes(28)).await;
    assert_eq!(
        app.conversation(&here, &here_token).await["status"],
        json!("waiting")
    );
    app.advance(Duration::minutes(1)).await;
    app.wait_for_status(&here, &here_token, "closed").await;
}

#[actix_rt::test]
async fn open_conversations_close_after_a_day_without_activity() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (quiet, quiet_token) = app.new_conversation(&project, "visitor-quiet").await;
    let quiet = s(&quiet["id"]);
    let (busy, busy_token) = app.new_conversation(&project, "visitor-busy").await;
    let busy = s(&busy["id"]);

    app.advance(Duration::hours(12)).await;
    let said = app.say(&busy, &busy_token, "hello again").await;
    // The AI's answer lands before the clock moves on.
    app.wait_for_sender(&busy, &busy_token, "ai", said["seq"].as_i64().unwrap_or(0))
        .await;
    app.advance(Duration::hours(12)).await;
    app.wait_for_status(&quiet, &quiet_token, "closed").await;
    // The close reason is staff information (a day on: a fresh login).
    let staff = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let closed = app.conversation(&quiet, &staff).await;
    assert_eq!(closed["metadata"]["close_reason"], json!("no_activity"));
    assert_eq!(closed["closed_at"], json!("2026-11-17T10:00:00.000Z"));
    assert_eq!(
        app.conversation(&busy, &busy_token).await["status"],
        json!("ai_active")
    );
    app.advance(Duration::hours(12)).await;
    app.wait_for_status(&busy, &busy_token, "closed").await;
}

#[actix_rt::test]
async fn a_resolved_conversation_closes_a_day_after_its_resolution() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (a, customer) = app.assigned_conversation(&project, "visitor-a", &ana).await;
    app.say(&a, &customer, "thanks!").await;
    let (st, body) = app.resolve(&a, &ana.token).await;
    assert_eq!(st, 200, "{body}");

    app.advance(Duration::hours(23)).await;
    assert_eq!(
        app.conversation(&a, &customer).await["status"],
        json!("resolved")
    );
    app.advance(Duration::hours(1)).await;
    app.wait_for_status(&a, &customer, "closed").await;
    // The close reason is staff information (a day on: a fresh login).
    let staff = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let closed = app.conversation(&a, &staff).await;
    assert_eq!(
        closed["metadata"]["close_reason"],
        json!("resolved_timeout")
    );
    assert_eq!(closed["resolved_by"], json!(ana.user_id));
}

#[actix_rt::test]
async fn an_agent_who_drops_is_announced_and_after_ten_minutes_the_chat_moves_on() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    // The manual clock jumps minutes at a time, faster than the widget's
    // heartbeats: a long inactivity timeout keeps the customer's silence
    // out of this story.
    app.enable_handoff(&project, |s| s["inactivity_timeout_minutes"] = json!(60))
        .await;
    let ana = app.add_agent(&project, "Ana", 2).await;
    app.set_status(&ana, &project, "online").await;
    let (a, customer) = app.assigned_conversation(&project, "visitor-a", &ana).await;
    let bo = app.add_agent(&project, "Bo", 2).await;
    app.set_status(&bo, &project, "online").await;
    let mut widget = app.ws(&customer).await;
    widget.subscribe(&format!("conversation:{a}"), None).await;
    presence(&mut widget, &a, "online").await;

    // Ana's heartbeats stop; Bo's go on; the customer stays.
    pass(&app, &project, &[&bo], Duration::minutes(5)).await;
    presence(&mut widget, &a, "online").await;
    pass(&app, &project, &[&bo], Duration::seconds(1)).await;
    let msgs = app.wait_for_messages(&a, &customer, 3).await;
    let gone = msgs.last().expect("a message");
    assert_eq!(
        gone["metadata"]["event"],
        json!("agent_disconnected"),
        "{msgs:#?}"
    );
    assert_eq!(
        s(&gone["content"]),
        "Agent disconnected. Waiting for reconnection..."
    );
    // Still Ana's: she may come back.
    assert_eq!(
        app.conversation(&a, &customer).await["assigned_agent_id"],
        json!(ana.user_id)
    );

    for _ in 0..2 {
        pass(&app, &project, &[&bo], Duration::minutes(5)).await;
        presence(&mut widget, &a, "online").await;
    }
    let conv = wait_until(&app, &a, &customer, |c| {
        c["assigned_agent_id"] == json!(bo.user_id)
    })
    .await;
    assert_eq!(conv["status"], json!("agent_active"));
    let events = system_events(&app.get_messages(&a, &customer).await);
    assert_eq!(
        events[events.len() - 2..],
        ["requeued".to_string(), "agent_joined".to_string()]
    );
    assert_eq!(app.chat_counts(&project, &[&ana, &bo]).await, vec![0, 1]);
}

#[actix_rt::test]
async fn an_agent_who_comes_back_in_time_keeps_the_chat() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (a, customer) = app.assigned_conversation(&project, "visitor-a", &ana).await;
    let mut widget = app.ws(&customer).await;
    presence(&mut widget, &a, "online").await;

    app.set_status(&ana, &project, "offline").await;
    let msgs = app.wait_for_messages(&a, &customer, 3).await;
    assert_eq!(
        msgs.last().expect("a message")["metadata"]["event"],
        json!("agent_disconnected")
    );
    app.advance(Duration::minutes(9)).await;
    presence(&mut widget, &a, "online").await;
    app.set_status(&ana, &project, "online").await;
    let msgs = app.wait_for_messages(&a, &customer, 4).await;
    assert_eq!(
        msgs.last().expect("a message")["metadata"]["event"],
        json!("agent_reconnected")
    );
    pass(&app, &project, &[&ana], Duration::minutes(2)).await;
    let conv = app.conversation(&a, &customer).await;
    assert_eq!(
        (conv["status"].clone(), conv["assigned_agent_id"].clone()),
        (json!("agent_active"), json!(ana.user_id))
    );
}

#[actix_rt::test]
async fn availability_changes_reach_widgets_as_agents_come_and_go() {
    let (app, project) = TestApp::with_handoff().await;
    let (_conv, customer) = app.new_conversation(&project, "visitor-a").await;
    let mut widget = app.ws(&customer).await;
    widget
        .subscribe(&format!("project:{}:widget", project.id), None)
        .await;

    let ana = app.add_agent(&project, "Ana", 2).await;
    let e = widget.expect_event("availability_changed").await;
    assert_eq!(
        e["data"],
        json!({ "available": false, "reason": "all_offline", "show_button": false, "show_offline_form": false })
    );
    app.set_status(&ana, &project, "online").await;
    let e = widget.expect_event("availability_changed").await;
    assert_eq!(e["data"]["available"], json!(true), "{e}");
    // The event carries exactly what the widget's GET answers.
    assert_eq!(e["data"], app.availability(&project).await);
    app.set_status(&ana, &project, "offline").await;
    let e = widget.expect_event("availability_changed").await;
    assert_eq!(e["data"]["reason"], json!("all_offline"));
    // The same answer twice is not news.
    app.set_status(&ana, &project, "offline").await;
    assert!(widget.drained_none("availability_changed").await);
}

#[actix_rt::test]
async fn a_warning_survives_a_restart_and_the_close_still_comes() {
    let (mut app, project, ana) = TestApp::with_agent_online().await;
    let (a, customer) = app.assigned_conversation(&project, "visitor-a", &ana).await;
    pass(&app, &project, &[&ana], Duration::minutes(5)).await;
    let warned = wait_until(&app, &a, &customer, |c| {
        !c["auto_close_warning_sent_at"].is_null()
    })
    .await;
    assert_eq!(
        warned["auto_close_warning_sent_at"],
        json!("2026-11-16T10:05:00.000Z")
    );

    app.restart().await;
    pass(&app, &project, &[&ana], Duration::minutes(4)).await;
    assert_eq!(
        app.conversation(&a, &customer).await["status"],
        json!("agent_active")
    );
    pass(&app, &project, &[&ana], Duration::minutes(1)).await;
    // The close reason is staff information.
    let closed = app.wait_for_status(&a, app.admin_token(), "closed").await;
    assert_eq!(
        closed["metadata"]["close_reason"],
        json!("customer_inactive")
    );
    // One warning in all: the restart did not send another.
    let warnings = system_events(&app.get_messages(&a, &customer).await)
        .into_iter()
        .filter(|e| e == "inactivity_warning")
        .count();
    assert_eq!(warnings, 1);
    assert_eq!(app.chat_counts(&project, &[&ana]).await, vec![0]);
}
