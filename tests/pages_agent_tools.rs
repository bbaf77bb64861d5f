//! The agent's daily tools on `/dashboard` (issue 17) in real headless
//! Chromium: the composer's Reply and Internal note modes (a note never
//! reaches the customer, checked in the widget's page and on the
//! customer's own WebSocket), timestamps and the handoff marker in the
//! log, and Close from the header after a confirmation in the page.

#[path = "common/browser.rs"]
#[allow(dead_code)] // each test binary uses its own part of the client
mod browser;
mod common;

use browser::Browser;
use common::*;
use serde_json::{json, Value};

const ENTER: &str = "\u{E007}";

/// The agent's dashboard, logged in.
async fn dashboard(app: &TestApp, agent: &Agent) -> Browser {
    let b = Browser::start().await;
    b.log_in(&app.url("/dashboard"), &agent.email, AGENT_PASSWORD)
        .await;
    b
}

/// A customer in the widget who wrote `text`, which holds the handoff
/// `keyword`, and is now chatting with an agent.
async fn handed_off_in_widget(
    app: &TestApp,
    project: &Project,
    keyword: &str,
    text: &str,
) -> Browser {
    app.enable_handoff(project, |s| {
        s["auto_triggers"]["keywords"] = json!([keyword]);
    })
    .await;
    let customer = Browser::start().await;
    let input = customer
        .open_widget(&app.url(&format!("/widget/demo?key={}", project.public_key)))
        .await;
    customer.type_into(&input, &format!("{text}{ENTER}")).await;
    customer
        .wait_text(".sbw-status", "You are chatting with")
        .await;
    customer
}

/// Type into the composer and send with Enter.
async fn compose(b: &Browser, text: &str) {
    let composer = b.wait_visible("#composer").await;
    b.type_into(&composer, &format!("{text}{ENTER}")).await;
}

#[actix_rt::test]
async fn an_agent_notes_replies_and_closes_and_the_customer_never_sees_the_note() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    // The customer hands off with a keyword in the widget.
    let customer = handed_off_in_widget(&app, &project, "refund", "I want a refund").await;
    let key = format!("sb_{}_", project.public_key);
    let stored = |k: &str| format!("return localStorage.getItem('{key}{k}');");
    let id = customer.eval(&stored("conv")).await;
    let token = customer.eval(&stored("token")).await;
    let (id, token) = (s(&id), s(&token));
    let mut customer_socket = app.ws(&token).await;
    customer_socket
        .subscribe(&format!("conversation:{id}"), None)
        .await;

    // The agent opens it: the marker says why, every message has a time.
    let b = dashboard(&app, &ana).await;
    b.click_text(".list button", "agent active").await;
    b.wait_text(".msg.handoff", "Handed off: keyword 'refund'")
        .await;
    let times = b
        .eval("return Array.from(document.querySelectorAll('#log .msg')).map(m => !!m.querySelector('time.when'));")
        .await;
    assert!(
        times
            .as_array()
            .is_some_and(|t| !t.is_empty() && t.iter().all(|x| x == &json!(true))),
        "every message shows its time: {times}"
    );

    // An internal note: switch with Ctrl+/ and send.
    // (WebDriver holds Ctrl from \u{E009} until \u{E000} releases it.)
    let composer = b.wait_visible("#composer").await;
    b.type_into(&composer, "\u{E009}/\u{E000}").await;
    b.wait_text("#composer-send", "Add note").await;
    compose(&b, "Customer sounds upset; check order 42").await;
    b.wait_text(".msg.internal", "check order 42").await;
    b.screenshots("dashboard-note").await;
    // Back to Reply with the button, and answer the customer.
    b.click_text(".modes button", "Reply").await;
    b.wait_text("#composer-send", "Send").await;
    compose(&b, "I can help with that refund").await;
    b.wait_text(".msg.agent", "help with that refund").await;
    // Its delivery state once the server has it.
    b.wait_text(".msg.agent time.when", "Sent").await;
    assert!(
        b.find_all(".msg.pending").await.is_empty(),
        "nothing is left pending"
    );

    // The customer sees the reply and never the note, in the page and live.
    customer
        .wait_text(".sbw-msg.agent", "help with that refund")
        .await;
    let page = customer
        .eval("return document.querySelector('.sbw-log').textContent;")
        .await;
    assert!(
        !s(&page).contains("order 42"),
        "the widget shows the note: {page}"
    );
    let mut seen: Vec<Value> = Vec::new();
    while let Some(e) = customer_socket
        .next_event(std::time::Duration::from_millis(500))
        .await
    {
        seen.push(e);
    }
    assert!(
        seen.iter()
            .any(|e| e["data"]["content"] == json!("I can help with that refund")),
        "the reply came live: {seen:?}"
    );
    assert!(
        !seen.iter().any(|e| e.to_string().contains("order 42")),
        "the note reached the customer's socket: {seen:?}"
    );

    // Close from the header, asked in the page first.
    b.click_text(".view-head button", "Close").await;
    b.wait_visible("#close-confirm").await;
    b.screenshots("dashboard-close-confirm").await;
    let no = b.find("#close-no").await;
    b.click(&no).await;
    assert_eq!(
        app.conversation(&id, app.admin_token()).await["status"],
        json!("agent_active"),
        "Cancel closes nothing"
    );
    b.click_text(".view-head button", "Close").await;
    let yes = b.wait_visible("#close-yes").await;
    b.click(&yes).await;
    b.wait_text("#view", "This conversation is closed.").await;
    assert_eq!(
        app.conversation(&id, app.admin_token()).await["status"],
        json!("closed")
    );
    customer
        .wait_text(".sbw-status", "This conversation is closed")
        .await;
    customer.quit().await;
    b.quit().await;
}

#[actix_rt::test]
async fn the_agent_sees_how_long_ago_the_customer_was_active_and_when_the_chat_will_close() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (id, customer) = app.assigned_conversation(&project, "v-quiet", &ana).await;
    let b = dashboard(&app, &ana).await;
    b.click_text(".list button", "agent active").await;
    b.wait_visible("#composer").await;

    // Three minutes after her last activity the customer's page goes idle.
    let presence = |status: &'static str| {
        let (app, path, customer) = (
            &app,
            format!("/api/conversations/{id}/presence"),
            customer.clone(),
        );
        async move {
            app.post(&path, &customer, json!({ "status": status }))
                .await
        }
    };
    let (st, body) = presence("online").await;
    assert!(st == 200 || st == 204, "{st} {body}");
    b.wait_text("#presence", "Online").await;
    app.advance(chrono::Duration::minutes(3)).await;
    let (st, body) = presence("idle").await;
    assert!(st == 200 || st == 204, "{st} {body}");
    b.wait_text("#presence", "Idle · last active 3 min ago")
        .await;

    // Past the inactivity timeout the customer is asked; the banner says when it closes.
    app.advance(chrono::Duration::minutes(3)).await;
    b.wait_text("#autoclose", "this chat will close in 5 min")
        .await;
    b.screenshots("dashboard-auto-close-banner").await;
    b.quit().await;
}

/// Seed 003 5.7.4: the header shows the customer's email with Copy; the
/// agent edits the name and email there (one PATCH of the conversation),
/// the inbox follows, and a bad email is refused in the page.
#[actix_rt::test]
async fn an_agent_edits_the_customers_contact_details_from_the_header() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (id, _) = app.assigned_conversation(&project, "visitor-1", &ana).await;

    let b = dashboard(&app, &ana).await;
    b.click_text(".list button", "agent active").await;
    b.click(&b.wait_visible("#contact-edit").await).await;
    let name = b.wait_visible("#contact-name").await;
    b.type_into(&name, "Dana Scully").await;
    let email = b.find("#contact-email").await;
    b.type_into(&email, "dana@").await;
    b.click(&b.find("#contact-save").await).await;
    b.wait_text("#view-err", "customer_email").await;
    // Nothing was saved: the whole edit is refused.
    assert_eq!(
        app.conversation(&id, &ana.token).await["customer_name"],
        Value::Null
    );

    b.type_into(&email, "example.com").await;
    b.click(&b.find("#contact-save").await).await;
    b.wait_text("#conv-title", "Dana Scully").await;
    b.wait_text("#contact-shown", "dana@example.com (unverified)")
        .await;
    b.wait_text(".list button", "Dana Scully").await;
    let stored = app.conversation(&id, &ana.token).await;
    assert_eq!(stored["customer_name"], json!("Dana Scully"));
    assert_eq!(stored["customer_email"], json!("dana@example.com"));
    assert_eq!(stored["customer_email_verified"], json!(false));

    // Copy: headless Chromium may refuse the clipboard; either way the
    // button says what happened.
    b.click(&b.wait_visible("#copy-email").await).await;
    let mut said = String::new();
    for _ in 0..200 {
        said = b.text(&b.find("#copy-email").await).await;
        if said != "Copy" {
            break;
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        said == "Copied" || said == "Select and copy",
        "the Copy button answers: {said:?}"
    );
    b.screenshots("dashboard-contact").await;
    b.quit().await;
}

/// Canned responses: an admin adds the team's `/refund` in /admin; the
/// agent types `/ref` in the composer, picks it with Enter, and the
/// customer gets the text with the customer's and the agent's names
/// filled in. The agent also keeps a personal one from the dashboard.
#[actix_rt::test]
async fn an_agent_inserts_a_canned_response_with_the_customers_name_filled() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (id, customer) = app.assigned_conversation(&project, "visitor-1", &ana).await;
    let (st, body) = app
        .patch(
            &format!("/api/conversations/{id}"),
            &ana.token,
            json!({ "customer_name": "Dana" }),
        )
        .await;
    assert_eq!(st, 200, "{body}");

    let admin = Browser::start().await;
    admin
        .log_in(&app.url("/admin#canned"), ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    let code = admin.wait_visible("#cr-shortcode").await;
    admin.type_into(&code, "refund").await;
    let text = admin.find("#cr-content").await;
    admin
        .type_into(
            &text,
            "Hi {{customer.name}}, your refund is on its way. {{agent.name}}",
        )
        .await;
    admin.click(&admin.find("#cr-save").await).await;
    admin.wait_text("#cr-list", "/refund").await;
    // An unknown variable is refused beside the field.
    admin.type_into(&code, "bad").await;
    admin.type_into(&text, "Hi {{customer.phone}}").await;
    admin.click(&admin.find("#cr-save").await).await;
    admin
        .wait_text("#cr-form [data-field=content]", "customer.phone")
        .await;
    admin.screenshots("admin-canned").await;
    admin.quit().await;

    let b = dashboard(&app, &ana).await;
    // A personal one, from the header's Responses dialog.
    b.click(&b.wait_visible("#responses-open").await).await;
    let mine = b.wait_visible("#response-shortcode").await;
    b.type_into(&mine, "thanks").await;
    b.type_into(
        &b.find("#response-content").await,
        "Thanks, {{customer.name}}!",
    )
    .await;
    b.click(&b.find("#response-add").await).await;
    b.wait_text("#my-responses", "/thanks").await;
    b.click(&b.find("#responses-close").await).await;

    b.click_text(".list button", "Dana").await;
    let composer = b.wait_visible("#composer").await;
    b.type_into(&composer, "/ref").await;
    b.wait_text("#canned-list [role=option]", "/refund").await;
    b.screenshots("dashboard-canned").await;
    b.type_into(&composer, ENTER).await;
    let filled = b
        .eval("return document.getElementById('composer').value;")
        .await;
    assert_eq!(
        filled,
        json!("Hi Dana, your refund is on its way. Ana"),
        "the composer holds the filled text"
    );
    b.type_into(&composer, ENTER).await;
    b.wait_text(".msg.agent", "your refund is on its way").await;
    let msgs = app.get_messages(&id, &customer).await;
    assert!(
        msgs.iter()
            .any(|m| m["content"] == json!("Hi Dana, your refund is on its way. Ana")),
        "the customer got the filled text: {msgs:?}"
    );

    // The personal one is there too, by its shortcode.
    b.type_into(&composer, "/than").await;
    b.wait_text("#canned-list [role=option]", "Thanks, Dana!")
        .await;
    b.quit().await;
}

/// Search from the dashboard: a word of a conversation's third message
/// finds it among others, `tag:` narrows by tag, Escape clears.
#[actix_rt::test]
async fn search_finds_a_conversation_by_a_word_of_its_third_message() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (id, token) = app.assigned_conversation(&project, "visitor-1", &ana).await;
    for text in ["Hi", "It is about my order", "The parcel never arrived"] {
        app.say(&id, &token, text).await;
    }
    for i in 0..3 {
        let (conv, t) = app.new_conversation(&project, &format!("other-{i}")).await;
        app.say(&s(&conv["id"]), &t, "Just browsing").await;
    }
    let (st, body) = app
        .patch(
            &format!("/api/conversations/{id}"),
            &ana.token,
            json!({ "customer_name": "Dana", "tags": ["shipping"] }),
        )
        .await;
    assert_eq!(st, 200, "{body}");

    let b = dashboard(&app, &ana).await;
    let search = b.wait_visible("#search").await;
    b.type_into(&search, &format!("parcel{ENTER}")).await;
    // The results, not the Mine tab drawn before them (a low-confidence
    // answer may have handed another chat to Ana meanwhile).
    b.wait_text("#list[data-showing=search] button", "Dana")
        .await;
    let items = b
        .eval("return Array.from(document.querySelectorAll('#list button[data-id]')).map(b => b.getAttribute('data-id'));")
        .await;
    let texts = b
        .eval("return document.getElementById('list').innerText;")
        .await;
    assert_eq!(
        items,
        json!([id]),
        "only the conversation with the word: {texts}"
    );
    b.screenshots("dashboard-search").await;
    b.click_text("#list button", "Dana").await;
    b.wait_text(".msg.customer", "parcel never arrived").await;

    b.clear(&search).await;
    b.type_into(&search, &format!("tag:nothing{ENTER}")).await;
    b.wait_text("#list .note", "No conversation matches").await;
    b.type_into(&search, "\u{E00C}").await;
    b.wait_text("#list button", "agent active").await;
    b.quit().await;
}

/// While the agent's tab is hidden (a second tab in front), a customer
/// message in their conversation creates a browser notification (the
/// story records the page's `Notification` calls: headless Chromium shows
/// none), the title counts it, and the inbox shows it as unread until the
/// agent opens the conversation.
#[actix_rt::test]
async fn a_hidden_dashboard_notifies_and_counts_unread_messages_in_its_title() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (id, token) = app.assigned_conversation(&project, "visitor-1", &ana).await;

    let b = dashboard(&app, &ana).await;
    b.wait_text(".list button", "agent active").await;
    // Notifications allowed; each one recorded instead of shown.
    b.eval(
        "window.__notes = []; window.__vis = [];
         window.Notification = function (title, o) { window.__notes.push({ title: title, body: o && o.body }); };
         window.Notification.permission = 'granted';
         document.addEventListener('visibilitychange', function () { window.__vis.push(document.visibilityState); });",
    )
    .await;
    let dashboard = b.window().await;
    b.new_tab().await;
    b.goto(&app.url("/")).await;

    // A second socket on Ana's channel sees the events the page gets from
    // the same fan-out.
    let mut watcher = app.ws(&ana.token).await;
    watcher
        .subscribe(&format!("agent:{}", ana.user_id), None)
        .await;
    app.say(&id, &token, "Are you still there?").await;
    app.say(&id, &token, "Hello?").await;
    let events = watcher
        .collect_events(&format!("agent:{}", ana.user_id), "customer_message", 2)
        .await;
    assert_eq!(events[1]["data"]["preview"], json!("Hello?"));
    // The page's socket got them in the same fan-out; let its handler run
    // before the tab comes back to the front.
    actix_rt::time::sleep(std::time::Duration::from_millis(300)).await;
    b.switch_to(&dashboard).await;

    let vis = b.eval("return window.__vis;").await;
    assert_eq!(
        vis.get(0),
        Some(&json!("hidden")),
        "the tab was hidden: {vis}"
    );
    let notes = b.eval("return window.__notes;").await;
    let bodies: Vec<String> = notes
        .as_array()
        .map(|a| a.iter().map(|n| s(&n["body"])).collect())
        .unwrap_or_default();
    assert_eq!(bodies, ["Are you still there?", "Hello?"], "{notes}");
    assert!(
        s(&notes[0]["title"]).contains("wrote"),
        "the notification says who wrote: {notes}"
    );
    let title = b.title().await;
    assert!(
        title.starts_with("(2) "),
        "the title counts unread: {title}"
    );
    b.wait_text(".list button .unread", "2").await;
    // The inbox previews the newest message.
    b.wait_text(".list button .preview", "Hello?").await;

    // Opening the conversation reads it.
    b.click_text(".list button", "agent active").await;
    b.wait_text(".msg.customer", "Hello?").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while b.title().await.starts_with('(') {
        assert!(
            std::time::Instant::now() < deadline,
            "the title keeps a count"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    b.quit().await;
}

/// Without a mouse: `?` lists the shortcuts; j moves through the list,
/// Enter opens, r focuses the composer, Enter sends, Esc leaves the
/// composer, e resolves.
#[actix_rt::test]
async fn an_agent_works_a_chat_from_the_keyboard() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (id, customer) = app.assigned_conversation(&project, "visitor-1", &ana).await;
    app.say(&id, &customer, "Can you help?").await;

    let b = dashboard(&app, &ana).await;
    b.wait_text(".list button", "agent active").await;
    b.eval("document.activeElement.blur();").await;
    b.keys("?").await;
    b.wait_visible("#keys-help").await;
    b.wait_text("#keys-help", "Resolve the open conversation")
        .await;
    b.screenshots("dashboard-keys").await;
    b.keys("\u{E00C}").await;
    b.keys("j").await;
    let focused = b
        .eval("return document.activeElement.getAttribute('data-id');")
        .await;
    assert_eq!(focused, json!(id), "j focuses the first conversation");
    b.keys(ENTER).await;
    b.wait_text(".msg.customer", "Can you help?").await;
    b.eval("document.activeElement.blur();").await;
    b.keys("r").await;
    let composer = b.eval("return document.activeElement.id;").await;
    assert_eq!(composer, json!("composer"));
    b.keys(&format!("Sure{ENTER}")).await;
    b.wait_text(".msg.agent", "Sure").await;
    b.keys("\u{E00C}e").await;
    b.wait_text("#conv-status", "resolved").await;
    assert_eq!(
        app.conversation(&id, &ana.token).await["status"],
        json!("resolved")
    );
    b.quit().await;
}

/// Seed 003 5.11.6 in the customer panel: flag with a reason, the team's
/// notes about the customer, both kept on the customer record.
#[actix_rt::test]
async fn an_agent_flags_a_customer_and_keeps_notes_about_them() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (id, _) = app.assigned_conversation(&project, "visitor-1", &ana).await;

    let b = dashboard(&app, &ana).await;
    b.click_text(".list button", "agent active").await;
    b.click(&b.wait_visible("#flag-ask").await).await;
    let reason = b.wait_visible("#flag-reason").await;
    b.type_into(&reason, &format!("Asked for a refund three times{ENTER}"))
        .await;
    b.wait_text("#flag", "Flagged: Asked for a refund three times")
        .await;
    let notes = b.wait_visible("#customer-notes").await;
    b.type_into(&notes, "Prefers email. Order 42.").await;
    b.click(&b.find("#notes-save").await).await;
    b.wait_text("#customer-saved", "Notes saved.").await;
    b.screenshots("dashboard-customer-panel").await;

    let view = app.conversation(&id, &ana.token).await;
    let customer = &view["customer"];
    assert_eq!(customer["is_flagged"], json!(true), "{view}");
    assert_eq!(
        customer["flag_reason"],
        json!("Asked for a refund three times")
    );
    assert_eq!(
        customer["internal_notes"],
        json!("Prefers email. Order 42.")
    );

    b.click(&b.wait_visible("#unflag").await).await;
    b.wait_text("#customer-saved", "Flag removed.").await;
    let view = app.conversation(&id, &ana.token).await;
    assert_eq!(view["customer"]["is_flagged"], json!(false));
    assert_eq!(
        view["customer"]["internal_notes"],
        json!("Prefers email. Order 42."),
        "unflagging keeps the notes"
    );
    b.quit().await;
}

/// "Request email": the widget asks the customer, who answers in the
/// widget; the agent's header shows it as unverified contact information
/// at once (the edit reaches staff live), and nothing links a customer.
#[actix_rt::test]
async fn an_agent_requests_the_customers_email_through_the_widget() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let customer = handed_off_in_widget(&app, &project, "human", "A human please").await;

    let b = dashboard(&app, &ana).await;
    b.click_text(".list button", "agent active").await;
    b.click(&b.wait_visible("#request-email").await).await;
    b.wait_text("#view-note", "Asked the customer for their email")
        .await;

    let email = customer.wait_visible(".sbw-email input").await;
    customer.type_into(&email, "dana@example.com").await;
    customer
        .click_text(".sbw-email button", "Send my email")
        .await;
    customer
        .wait_text(".sbw-msg.system", "we will write to dana@example.com")
        .await;
    customer.screenshots("widget-email-request").await;

    b.wait_text("#contact-shown", "dana@example.com (unverified)")
        .await;
    customer.quit().await;
    b.quit().await;
}
