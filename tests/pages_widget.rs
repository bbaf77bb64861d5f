//! The customer widget in real headless Chromium, beyond the happy path of
//! tests/pages.rs: the offline form outside business hours, and a dropped
//! connection that resyncs with `after_seq` so nothing is missed or
//! doubled.

#[path = "common/browser.rs"]
#[allow(dead_code)] // each test binary uses its own part of the client
mod browser;
mod common;

use browser::Browser;
use common::*;
use serde_json::json;

async fn open_widget(app: &TestApp, project: &Project) -> Browser {
    let b = Browser::start().await;
    b.open_widget(&app.url(&format!("/widget/demo?key={}", project.public_key)))
        .await;
    b
}

#[actix_rt::test]
async fn outside_business_hours_the_widget_takes_a_message_for_the_team() {
    // Monday 10:00 UTC is 19:00 in Tokyo: the team is closed.
    let app = TestApp::start().await;
    let project = app
        .project_closed_in_tokyo(|s| {
            s["show_human_button"] = json!(true);
        })
        .await;
    app.add_agent(&project, "Ana", 2).await;

    let b = open_widget(&app, &project).await;
    let input = b.find("#sbw-input").await;
    b.type_into(&input, "Can someone call me back?\u{E007}")
        .await;
    b.wait_text(".sbw-msg.customer", "call me back").await;
    b.wait_visible(".sbw-offline").await;
    assert!(
        b.find_all(".sbw-human:not([hidden])").await.is_empty(),
        "Talk to a human is offered while the team is closed"
    );
    b.screenshots("widget-offline").await;

    // An email the browser lets through but the server refuses: its words
    // show and nothing is kept.
    let email = b.find(".sbw-offline input[name='email']").await;
    let message = b.find(".sbw-offline textarea[name='message']").await;
    b.type_into(&email, "jo@example").await;
    b.type_into(&message, "Please call me about my order").await;
    b.eval("document.querySelector('.sbw-offline').requestSubmit(); return null;")
        .await;
    b.wait_text(".sbw-offline .sbw-err", "must be an email address")
        .await;
    let (st, leads) = app
        .get(
            &format!("/api/projects/{}/leads", project.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(st, 200, "{leads}");
    assert_eq!(leads["items"].as_array().map(Vec::len), Some(0), "{leads}");

    b.type_into(&email, ".com").await;
    b.click(&b.find(".sbw-offline button[type='submit']").await)
        .await;
    let deadline = std::time::Instant::now() + ASYNC_BOUND;
    while !b.find_all(".sbw-offline").await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "the form stayed");
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (st, leads) = app
        .get(
            &format!("/api/projects/{}/leads", project.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(st, 200, "{leads}");
    assert_eq!(leads["items"][0]["email"], "jo@example.com", "{leads}");
    let conv = s(&leads["items"][0]["conversation_id"]);
    let c = app.conversation(&conv, app.admin_token()).await;
    assert_eq!(c["status"], "waiting", "{c}");
    let msgs = app.get_messages(&conv, app.admin_token()).await;
    assert!(
        msgs.iter()
            .any(|m| m["content"] == "Please call me about my order"),
        "{msgs:?}"
    );
    b.quit().await;
}

#[actix_rt::test]
async fn a_dropped_connection_resyncs_without_missing_or_doubling_a_message() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    app.enable_handoff(&project, |s| s["show_human_button"] = json!(true))
        .await;
    app.add_knowledge(&project, "Do you ship abroad?", "We ship to 30 countries.")
        .await;
    let ana = app.add_agent(&project, "Ana", 2).await;
    app.set_status(&ana, &project, "online").await;

    let b = open_widget(&app, &project).await;
    let input = b.find("#sbw-input").await;
    b.type_into(&input, "Do you ship abroad?\u{E007}").await;
    b.wait_text(".sbw-msg.ai", "30 countries").await;
    let human = b.wait_visible(".sbw-human").await;
    b.click(&human).await;
    b.wait_text(".sbw-status", "You are chatting with Ana")
        .await;
    let (st, list) = app
        .get(
            &format!(
                "/api/conversations?project_id={}&assigned_to=me",
                project.id
            ),
            &ana.token,
        )
        .await;
    assert_eq!(st, 200, "{list}");
    let conv = s(&list["items"][0]["id"]);
    app.say(&conv, &ana.token, "first").await;
    b.wait_text(".sbw-msg.agent", "first").await;

    // Cut the socket at the widget's next frame, and keep reconnects away
    // from the server until the agent has written twice more.
    b.eval(
        "const Real = window.WebSocket; window.__block = true;
         window.WebSocket = function (u) { return new Real(window.__block ? u.replace(/\\/\\/[^\\/]+/, '//127.0.0.1:9') : u); };
         const send = Real.prototype.send;
         Real.prototype.send = function (d) { if (!window.__cut) { window.__cut = true; this.close(); return; } return send.call(this, d); };
         return null;",
    )
    .await;
    b.type_into(&input, "x").await;
    let deadline = std::time::Instant::now() + ASYNC_BOUND;
    while b.eval("return window.__cut === true;").await != json!(true) {
        assert!(
            std::time::Instant::now() < deadline,
            "the socket was not cut"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    app.say(&conv, &ana.token, "second").await;
    app.say(&conv, &ana.token, "third").await;
    b.eval("window.__block = false; return null;").await;

    // The widget comes back and shows each message once, in order.
    b.wait_text(".sbw-msg.agent", "third").await;
    app.say(&conv, &ana.token, "fourth").await;
    b.wait_text(".sbw-msg.agent", "fourth").await;
    let mut seen = Vec::new();
    for e in b.find_all(".sbw-msg.agent").await {
        seen.push(b.text(&e).await);
    }
    let seen: Vec<&str> = seen
        .iter()
        .map(|t| t.rsplit('\n').next().unwrap_or_default())
        .collect();
    assert_eq!(seen, ["first", "second", "third", "fourth"]);
    b.quit().await;
}

#[actix_rt::test]
async fn the_widget_keeps_the_visitor_the_server_issued_and_comes_back_with_it() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let b = open_widget(&app, &project).await;
    let input = b.find("#sbw-input").await;
    b.type_into(&input, "Hello there\u{E007}").await;
    // The bubble shows at once as pending; the conversation (and with it
    // the visitor the server issued) exists once the server has it.
    b.wait_text(".sbw-msg.customer:not(.pending)", "Hello there")
        .await;
    let store = format!("sb_{}_", project.public_key);
    let kept = b
        .eval(&format!(
            "return [localStorage.getItem({v}), localStorage.getItem({s}), document.cookie];",
            v = json!(format!("{store}visitor")),
            s = json!(format!("{store}visitor_secret")),
        ))
        .await;
    let (st, list) = app
        .get(
            &format!("/api/conversations?project_id={}", project.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(st, 200, "{list}");
    let first = list["items"][0].clone();
    // The id is the server's, the secret is kept beside it, and neither
    // goes into a cookie (which the host site's server would receive).
    assert_eq!(kept[0], first["visitor_id"], "{kept}");
    assert!(s(&kept[1]).starts_with("sbv_"), "{kept}");
    assert!(!s(&kept[2]).contains("sb_visitor"), "{kept}");

    // Closed by the team: the next message starts a new conversation of
    // the same visitor, which only its secret allows.
    let (st, body) = app.close(&s(&first["id"]), app.admin_token()).await;
    assert_eq!(st, 200, "{body}");
    b.wait_text(".sbw-status", "closed").await;
    b.type_into(&input, "One more thing\u{E007}").await;
    let deadline = std::time::Instant::now() + ASYNC_BOUND;
    let second = loop {
        let (_, list) = app
            .get(
                &format!("/api/conversations?project_id={}", project.id),
                app.admin_token(),
            )
            .await;
        let items = list["items"].as_array().cloned().unwrap_or_default();
        if let Some(c) = items.into_iter().find(|c| c["id"] != first["id"]) {
            break c;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no second conversation"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(second["visitor_id"], first["visitor_id"]);
    assert_eq!(second["customer_id"], first["customer_id"]);
    b.quit().await;
}
