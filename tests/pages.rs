//! The server's pages in real headless Chromium (docs/protocol.md section 6):
//! what a person sees and can do with mouse, keyboard and a phone-sized
//! window. Screenshots at desktop and phone widths go to `screenshots/`.

#[path = "common/browser.rs"]
mod browser;
mod common;

use browser::{Browser, PHONE};
use common::*;
use serde_json::json;

#[actix_rt::test]
async fn the_front_page_leads_to_every_page_and_fits_a_phone() {
    let app = TestApp::start().await;
    let b = Browser::start().await;
    b.goto(&app.url("/")).await;
    assert_eq!(b.title().await, "Switchboard: real-time customer support");
    let h1 = b.find("h1").await;
    assert_eq!(b.text(&h1).await, "Switchboard");

    let mut links = Vec::new();
    for a in b.find_all(".card a").await {
        links.push((
            b.text(&a).await,
            b.attribute(&a, "href").await.unwrap_or_default(),
        ));
    }
    assert_eq!(
        links,
        [
            ("Open the dashboard".to_string(), "/dashboard".to_string()),
            ("Open the workspace".into(), "/solver".into()),
            ("Open the explorer".into(), "/explorer".into()),
            ("See the demo page".into(), "/widget/demo".into()),
        ]
    );

    // Keyboard: the first Tab lands on "Skip to content", which is then shown.
    b.keys("\u{E004}").await;
    let focused = b
        .eval("return [document.activeElement.textContent, document.activeElement.getBoundingClientRect().left >= 0];")
        .await;
    assert_eq!(focused, json!(["Skip to content", true]));

    // A phone: one column, nothing wider than the screen.
    b.resize(PHONE).await;
    assert!(
        !b.overflows_horizontally().await,
        "the page scrolls sideways on a phone"
    );
    let columns = b
        .eval("return getComputedStyle(document.querySelector('.cards')).gridTemplateColumns.split(' ').length;")
        .await;
    assert_eq!(columns, json!(1));
    b.eval("document.activeElement.blur(); return null;").await;
    b.screenshots("front").await;
    b.quit().await;
}

/// The customer's half of the live-chat story in the widget: the AI
/// answers, "Talk to a human" connects to an agent (driven over the API),
/// messages and typing go both ways, and the resolved chat is rated.
#[actix_rt::test]
async fn a_customer_asks_the_ai_talks_to_a_human_and_rates_the_chat() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    app.enable_handoff(&project, |s| s["show_human_button"] = json!(true))
        .await;
    app.add_knowledge(
        &project,
        "How long does shipping take?",
        "Shipping takes 3 to 5 days.",
    )
    .await;
    let ana = app.add_agent(&project, "Ana", 2).await;
    app.set_status(&ana, &project, "online").await;
    let mut agent_ws = app.ws(&ana.token).await;
    agent_ws
        .subscribe(&format!("agent:{}", ana.user_id), None)
        .await;

    let b = Browser::start().await;
    let input = b
        .open_widget(&app.url(&format!("/widget/demo?key={}", project.public_key)))
        .await;
    b.type_into(&input, "How long does shipping take?\u{E007}")
        .await;
    b.wait_text(".sbw-msg.customer", "How long does shipping take?")
        .await;
    b.wait_text(".sbw-msg.ai", "3 to 5 days").await;
    b.screenshots("widget-ai").await;

    // The button is there because Ana can answer; she gets the chat.
    let human = b.wait_visible(".sbw-human").await;
    b.click(&human).await;
    let assigned = agent_ws.expect_event("conversation_assigned").await;
    let conv = s(&assigned["data"]["conversation_id"]);
    b.wait_text(".sbw-status", "You are chatting with Ana")
        .await;
    let msgs = app.get_messages(&conv, &ana.token).await;
    assert!(
        msgs.iter().any(|m| m["sender_type"] == json!("ai")),
        "the agent sees the AI history: {msgs:#?}"
    );

    // Typing and messages both ways.
    let mut staff = app.ws(&ana.token).await;
    staff.subscribe(&format!("conversation:{conv}"), None).await;
    staff
        .op_ok(json!({ "op": "typing", "conversation_id": conv, "is_typing": true }))
        .await;
    b.wait_text(".sbw-typing", "Ana is typing").await;
    app.say(&conv, &ana.token, "Hi, I am Ana. Which order is it?")
        .await;
    b.wait_text(".sbw-msg.agent", "Which order is it?").await;
    let input = b.find("#sbw-input").await;
    b.type_into(&input, "Order 1234").await;
    // (Ana's own typing comes back to her first.)
    let mut typing = staff.expect_event("typing").await;
    while typing["data"]["user_type"] == json!("agent") {
        typing = staff.expect_event("typing").await;
    }
    assert_eq!(
        (
            typing["data"]["user_type"].clone(),
            typing["data"]["is_typing"].clone()
        ),
        (json!("customer"), json!(true))
    );
    b.type_into(&input, "\u{E007}").await;
    app.wait_for_sender(&conv, &ana.token, "customer", 4).await;
    let last = app.get_messages(&conv, &ana.token).await;
    assert_eq!(
        last.iter()
            .rev()
            .find(|m| m["sender_type"] == json!("customer"))
            .map(|m| m["content"].clone()),
        Some(json!("Order 1234"))
    );
    b.screenshots("widget-agent").await;

    // Resolved: the widget asks for a rating, and it is stored.
    let (st, body) = app.resolve(&conv, &ana.token).await;
    assert_eq!(st, 200, "{body}");
    let five = b.wait_visible(".sbw-rate button[data-rating='5']").await;
    b.click(&five).await;
    let submit = b.find(".sbw-rate button[type='submit']").await;
    b.screenshots("widget-rating").await;
    b.click(&submit).await;
    b.wait_text(".sbw-thanks", "Thank you").await;
    assert_eq!(
        app.conversation(&conv, &ana.token).await["satisfaction_rating"],
        json!(5)
    );
    b.quit().await;
}

/// The whole live-chat story in two browsers: a customer in the widget, an
/// agent in the dashboard.
#[actix_rt::test]
async fn an_agent_in_the_dashboard_takes_over_from_the_ai_and_the_customer_rates() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    app.enable_handoff(&project, |s| s["show_human_button"] = json!(true))
        .await;
    app.add_knowledge(
        &project,
        "How long does shipping take?",
        "Shipping takes 3 to 5 days.",
    )
    .await;
    let ana = app.add_agent(&project, "Ana", 3).await;

    // Ana logs in and goes online.
    let agent = Browser::start().await;
    agent
        .log_in(&app.url("/dashboard"), &ana.email, AGENT_PASSWORD)
        .await;
    agent.wait_visible("#dash").await;
    // Choosing an option of a closed <select> is not a click in headless
    // Chromium: pick it the way the browser reports a choice.
    agent.wait_visible("#status").await;
    agent
        .eval("const s = document.getElementById('status'); s.value = 'online'; s.dispatchEvent(new Event('change')); return null;")
        .await;
    let deadline = std::time::Instant::now() + ASYNC_BOUND;
    while app.agent_view(&project, &ana).await["status"] != json!("online") {
        assert!(
            std::time::Instant::now() < deadline,
            "Ana never went online"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    agent.wait_text("#count", "0/3 chats").await;
    agent.screenshots("dashboard-empty").await;

    // The customer asks the AI, then a human.
    let customer = Browser::start().await;
    let input = customer
        .open_widget(&app.url(&format!("/widget/demo?key={}", project.public_key)))
        .await;
    customer
        .type_into(&input, "How long does shipping take?\u{E007}")
        .await;
    customer.wait_text(".sbw-msg.ai", "3 to 5 days").await;
    let human = customer.wait_visible(".sbw-human").await;
    customer.click(&human).await;
    customer
        .wait_text(".sbw-status", "You are chatting with Ana")
        .await;

    // Ana sees it under Mine, with the AI's answer and its confidence.
    agent.click_text("#list button", "Visitor").await;
    agent.wait_text(".msg.ai", "3 to 5 days").await;
    agent.wait_text(".msg.ai .who", "confidence").await;
    agent.wait_text("#count", "1/3 chats").await;
    let composer = agent.wait_visible("#composer").await;
    agent
        .type_into(&composer, "Hi, I am Ana. Which order is it?\u{E007}")
        .await;
    customer
        .wait_text(".sbw-msg.agent", "Which order is it?")
        .await;

    // Typing shows on the other side, then the message arrives.
    let input = customer.find("#sbw-input").await;
    customer.type_into(&input, "Order 1234").await;
    agent.wait_text("#typing", "Customer is typing").await;
    customer.type_into(&input, "\u{E007}").await;
    agent.wait_text(".msg.customer", "Order 1234").await;
    agent.screenshots("dashboard-chat").await;

    // Ana resolves; the customer rates.
    agent.click_text(".view-head button", "Resolve").await;
    let four = customer
        .wait_visible(".sbw-rate button[data-rating='4']")
        .await;
    customer.click(&four).await;
    let submit = customer.find(".sbw-rate button[type='submit']").await;
    customer.click(&submit).await;
    customer.wait_text(".sbw-thanks", "Thank you").await;
    let convs = app
        .get(
            &format!(
                "/api/conversations?project_id={}&status=resolved",
                project.id
            ),
            &ana.token,
        )
        .await;
    assert_eq!(
        convs.1["items"][0]["satisfaction_rating"],
        json!(4),
        "{}",
        convs.1
    );
    agent.quit().await;
    customer.quit().await;
}

/// A customer joins a billable session by its link and sees the timer run,
/// then stop when the solver pauses; the chat works both ways.
#[actix_rt::test]
async fn a_customer_joins_a_session_and_sees_the_timer_pause_with_the_solver() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let sol = app.add_agent(&project, "Sol", 2).await;
    let (sess, _) = app.adhoc_session(&project, &sol).await;
    let id = s(&sess["id"]);

    let b = Browser::start().await;
    b.goto(&app.url(&s(&sess["join_url"]))).await;
    b.wait_text("#state", "Waiting for your expert").await;
    let set = |status: &'static str| {
        let (app, id, token) = (&app, id.clone(), sol.token.clone());
        async move {
            let (st, body) = app
                .post(
                    &format!("/api/sessions/{id}/status"),
                    &token,
                    json!({ "status": status }),
                )
                .await;
            assert_eq!(st, 200, "{status}: {body}");
        }
    };
    set("active").await;
    b.wait_text("#state", "In progress").await;
    // The page's clock runs while the session is active.
    let timer = b.find("#timer").await;
    let first = b.text(&timer).await;
    actix_rt::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_ne!(b.text(&timer).await, first, "the timer does not run");

    // 65 s of the solver's time, then a pause: the page shows 01:05 and stops.
    app.advance(chrono::Duration::seconds(65)).await;
    set("paused").await;
    b.wait_text("#state", "Paused").await;
    b.wait_text("#timer", "01:05").await;
    actix_rt::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(b.text(&timer).await, "01:05", "the timer runs while paused");
    b.screenshots("join-paused").await;

    // Chat both ways.
    let input = b.find("#text").await;
    b.type_into(&input, "Hello from the customer\u{E007}").await;
    b.wait_text(".msg.customer", "Hello from the customer")
        .await;
    let (st, body) = app
        .post(
            &format!("/api/sessions/{id}/messages"),
            &sol.token,
            json!({ "content": "Hi, I am Sol" }),
        )
        .await;
    assert_eq!(st, 201, "{body}");
    b.wait_text(".msg", "Hi, I am Sol").await;
    b.quit().await;
}
