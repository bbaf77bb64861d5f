//! The agent dashboard (`/dashboard`, seed 003 5.7) in real headless
//! Chromium against the real server: the queue, transfer to a named agent,
//! tags, mark as spam, the customer's whole history, the keyboard and a
//! phone-sized window. What the page shows is checked in the page; what it
//! changed is checked through the API. Screenshots go to `screenshots/`.

#[path = "common/browser.rs"]
mod browser;
mod common;

use browser::{Browser, PHONE};
use common::*;
use serde_json::{json, Value};

const ARROW_LEFT: &str = "\u{E012}";
const ARROW_RIGHT: &str = "\u{E014}";
const ENTER: &str = "\u{E007}";

/// Counts the tones the page plays: wraps WebAudio's oscillator before the
/// page first needs one.
const TONE_SPY: &str = "window.__tones = 0; \
    const Real = window.AudioContext; \
    window.AudioContext = function () { \
        const c = new Real(); const make = c.createOscillator.bind(c); \
        c.createOscillator = function () { window.__tones += 1; return make(); }; \
        return c; }; \
    return null;";

/// Every input, select and textarea on the page that has no label.
const UNLABELLED: &str = "return Array.from(document.querySelectorAll('input, select, textarea')) \
    .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label')) \
    .map(e => e.id || e.outerHTML);";

/// Log `agent` in and wait for the inbox.
async fn log_in(b: &Browser, app: &TestApp, agent: &Agent) {
    b.log_in(&app.url("/dashboard"), &agent.email, AGENT_PASSWORD)
        .await;
    b.wait_visible("#dash").await;
    b.wait_visible("#status").await;
    assert!(
        !shown(b, "#login").await,
        "the login form stays after login"
    );
}

/// Wait (bounded) until the server reports `agent`'s status as `status`.
async fn wait_agent_status(app: &TestApp, project: &Project, agent: &Agent, status: &str) {
    let deadline = std::time::Instant::now() + ASYNC_BOUND;
    while app.agent_view(project, agent).await["status"] != json!(status) {
        assert!(
            std::time::Instant::now() < deadline,
            "{} never became {status}",
            agent.name
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A conversation handed off by the button with the customer's name and
/// email, answered `agent_active` by `agent`: `(id, customer_token)`.
async fn named_chat(
    app: &TestApp,
    project: &Project,
    visitor: &str,
    name: &str,
    agent: &Agent,
) -> (String, String) {
    let (conv, token) = app.new_conversation(project, visitor).await;
    let id = s(&conv["id"]);
    let email = format!("{visitor}@example.com");
    let (st, body) = app
        .post(
            &format!("/api/conversations/{id}/handoff"),
            &token,
            json!({ "reason": "button_click", "customer_email": email, "customer_name": name }),
        )
        .await;
    assert_eq!(st, 200, "handoff: {body}");
    assert_eq!(
        body["assigned_agent"]["id"],
        json!(agent.user_id),
        "handoff: {body}"
    );
    (id, token)
}

/// The texts of every element matching `css`, in page order, read at one
/// instant (live lists redraw between WebDriver calls).
async fn texts(b: &Browser, css: &str) -> Vec<String> {
    let script = format!(
        "return Array.from(document.querySelectorAll({})).map(e => e.innerText);",
        json!(css)
    );
    match b.eval(&script).await {
        Value::Array(a) => a.iter().map(s).collect(),
        other => panic!("texts of {css:?}: {other}"),
    }
}

/// Whether the first element matching `css` is on screen (not hidden).
async fn shown(b: &Browser, css: &str) -> bool {
    let script = format!(
        "const e = document.querySelector({}); return !!e && e.getClientRects().length > 0;",
        json!(css)
    );
    b.eval(&script).await == json!(true)
}

async fn focused_id(b: &Browser) -> Value {
    b.eval("return document.activeElement && document.activeElement.id;")
        .await
}

/// Ana's only slot is taken, so a customer who asks for a human waits in
/// the queue; Ana sees them there with their waiting time, cannot claim
/// (the server's reason is shown in the page), frees her slot, and the
/// queue gives her the customer, which the widget shows.
#[actix_rt::test]
async fn a_waiting_customer_shows_in_the_queue_and_reaches_the_agent_when_a_slot_frees() {
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
    let ana = app.add_agent(&project, "Ana", 1).await;
    app.set_status(&ana, &project, "online").await;
    let (early, _) = named_chat(&app, &project, "early", "Early Bird", &ana).await;

    let agent = Browser::start().await;
    log_in(&agent, &app, &ana).await;
    agent.eval(TONE_SPY).await;
    agent.wait_text("#count", "1/1 chats").await;
    agent.click_text("[role=tab]", "Queue").await;
    agent.wait_text("#list", "Nothing here").await;

    // The customer asks the AI, then a human, and waits: Ana is full.
    let customer = Browser::start().await;
    let input = customer
        .open_widget(&app.url(&format!("/widget/demo?key={}", project.public_key)))
        .await;
    customer
        .type_into(&input, &format!("How long does shipping take?{ENTER}"))
        .await;
    customer.wait_text(".sbw-msg.ai", "3 to 5 days").await;
    let human = customer.wait_visible(".sbw-human").await;
    customer.click(&human).await;
    customer
        .wait_text(".sbw-status", "You are number 1 in line")
        .await;

    // Ana is told at once: announced, shown, and a tone.
    agent
        .wait_text("#cue[role=status]", "New conversation waiting")
        .await;
    assert_eq!(
        agent.title().await,
        "(!) Switchboard: agent dashboard",
        "the tab's title does not show the new chat"
    );
    let tones = agent.eval("return window.__tones;").await;
    assert!(
        tones.as_u64().unwrap_or(0) >= 1,
        "no tone for the new conversation: {tones}"
    );
    agent.wait_text("#list button", "waiting < 1 min").await;
    let (st, waiting) = app
        .get(
            &format!(
                "/api/conversations?project_id={}&status=waiting",
                project.id
            ),
            &ana.token,
        )
        .await;
    assert_eq!(st, 200, "{waiting}");
    assert_eq!(waiting["items"].as_array().map(Vec::len), Some(1));
    let asked = s(&waiting["items"][0]["id"]);

    // Three minutes on the server's clock, another customer queues behind:
    // the queue is oldest first, each with its own waiting time.
    app.advance(chrono::Duration::minutes(3)).await;
    app.heartbeat(&ana, &project).await;
    app.waiting_conversation(&project, "second", 2).await;
    agent.wait_text("#list button", "waiting 3 min").await;
    agent.wait_text("#queue-count", "(2)").await;
    let waits = texts(&agent, "#list button small:first-of-type").await;
    assert_eq!(waits, ["waiting 3 min", "waiting < 1 min"], "queue order");
    agent.screenshots("dashboard-queue").await;

    // Claiming is refused while her slot is taken; the page says why.
    agent.click_text("#list button", "waiting 3 min").await;
    agent.wait_text(".view-head button", "Claim").await;
    assert_eq!(focused_id(&agent).await, json!("composer"));
    agent.click_text(".view-head button", "Claim").await;
    agent
        .wait_text("#view-err[role=alert]", "you already have 1 of 1 chats")
        .await;

    // She resolves her earlier chat: the queue's oldest customer is hers.
    agent.click_text("[role=tab]", "Mine").await;
    agent.click_text("#list button", "Early Bird").await;
    agent.click_text(".view-head button", "Resolve").await;
    customer
        .wait_text(".sbw-status", "You are chatting with Ana")
        .await;
    agent.wait_text("#cue", "New chat assigned").await;
    agent.wait_text("#list button", "Visitor").await;
    agent.wait_text("#count", "1/1 chats").await;
    let conv = app
        .wait_for_status(&asked, &ana.token, "agent_active")
        .await;
    assert_eq!(conv["assigned_agent_id"], json!(ana.user_id), "{conv}");
    let conv = app.conversation(&early, &ana.token).await;
    assert_eq!(conv["status"], json!("resolved"), "{conv}");
    agent.screenshots("dashboard-queue-taken").await;
    agent.quit().await;
    customer.quit().await;
}

/// Ana transfers a chat to Ben by name (refused while Ben is offline, with
/// the server's reason in the page); Ben gets it under Mine, tags it, and
/// marks the customer as spam, which flags them and closes the chat.
#[actix_rt::test]
async fn an_agent_transfers_a_chat_by_name_and_the_next_tags_it_and_marks_it_as_spam() {
    let (app, project) = TestApp::with_handoff().await;
    let ana = app.add_agent(&project, "Ana", 2).await;
    let ben = app.add_agent(&project, "Ben", 2).await;
    app.set_status(&ana, &project, "online").await;
    let (conv, _) = named_chat(&app, &project, "carla", "Carla Cruz", &ana).await;
    let customer_id = s(&app.conversation(&conv, &ana.token).await["customer_id"]);

    let a = Browser::start().await;
    log_in(&a, &app, &ana).await;
    a.click_text("#list button", "Carla Cruz").await;
    a.wait_visible("#transfer-to").await;
    assert_eq!(focused_id(&a).await, json!("composer"));
    assert_eq!(
        a.eval(UNLABELLED).await,
        json!([]),
        "inputs without a label"
    );

    // Ben is offline: the server refuses, and the page says so inline.
    a.wait_text("#transfer-to option", "Ben · offline · 0/2 chats")
        .await;
    a.select_option("#transfer-to", "Ben").await;
    a.click_text("#transfer-form button", "Transfer").await;
    a.wait_text("#view-err[role=alert]", "Ben is offline").await;
    a.screenshots("dashboard-transfer-refused").await;

    // Ben logs in and goes online; Ana's list of agents follows live.
    let b = Browser::start().await;
    log_in(&b, &app, &ben).await;
    b.select_option("#status", "Online").await;
    wait_agent_status(&app, &project, &ben, "online").await;
    a.wait_text("#transfer-to option", "Ben · online · 0/2 chats")
        .await;
    a.select_option("#transfer-to", "Ben").await;
    a.click_text("#transfer-form button", "Transfer").await;
    a.wait_text("#conv-status", "agent active · Ben").await;
    let view = app.conversation(&conv, &ana.token).await;
    assert_eq!(view["assigned_agent_id"], json!(ben.user_id), "{view}");
    assert_eq!(view["status"], json!("agent_active"), "{view}");
    assert!(
        a.find_all("#transfer-to").await.is_empty(),
        "Ana can still transfer a chat that is no longer hers"
    );

    // Ben has it under Mine, live.
    b.wait_text("#cue", "New chat assigned").await;
    b.click_text("#list button", "Carla Cruz").await;
    b.wait_visible("#tag-input").await;
    assert_eq!(focused_id(&b).await, json!("composer"));

    // Two tags (Enter, then the Add button), then one removed.
    let tag = b.find("#tag-input").await;
    b.type_into(&tag, &format!("Billing{ENTER}")).await;
    b.wait_text("#tags .chip", "billing").await;
    let tag = b.find("#tag-input").await;
    b.type_into(&tag, "refund").await;
    b.click_text("#tag-form button", "Add").await;
    b.wait_text("#tags .chip", "refund").await;
    assert_eq!(
        app.conversation(&conv, &ben.token).await["tags"],
        json!(["billing", "refund"])
    );
    let remove = b.find("button[aria-label='Remove tag billing']").await;
    b.click(&remove).await;
    let deadline = std::time::Instant::now() + ASYNC_BOUND;
    while texts(&b, "#tags .chip span").await != ["refund"] {
        assert!(
            std::time::Instant::now() < deadline,
            "the billing chip stays"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.conversation(&conv, &ben.token).await["tags"],
        json!(["refund"])
    );

    // A tag the server refuses: its reason, inline; nothing saved.
    let tag = b.find("#tag-input").await;
    b.type_into(&tag, &format!("{}{ENTER}", "x".repeat(51)))
        .await;
    b.wait_text(
        "#view-err[role=alert]",
        "each tag must be 1 to 50 characters",
    )
    .await;
    assert_eq!(
        app.conversation(&conv, &ben.token).await["tags"],
        json!(["refund"])
    );
    b.clear(&tag).await;
    b.screenshots("dashboard-tags").await;

    // Mark as spam: a confirmation in the page (which Cancel takes back),
    // then flagged and closed.
    assert!(
        !shown(&b, "#spam-confirm").await,
        "asks before Mark as spam"
    );
    b.click_text(".view-head button", "Mark as spam").await;
    b.wait_visible("#spam-confirm").await;
    assert_eq!(focused_id(&b).await, json!("spam-no"));
    let cancel = b.find("#spam-no").await;
    b.click(&cancel).await;
    assert!(
        !shown(&b, "#spam-confirm").await,
        "Cancel leaves the question"
    );
    assert_eq!(
        app.conversation(&conv, &ben.token).await["status"],
        json!("agent_active")
    );
    // Escape takes it back too, to the button that asked.
    b.click_text(".view-head button", "Mark as spam").await;
    b.wait_visible("#spam-confirm").await;
    b.keys("\u{E00C}").await;
    assert!(
        !shown(&b, "#spam-confirm").await,
        "Escape leaves the question"
    );
    assert_eq!(focused_id(&b).await, json!("spam-ask"));
    b.click_text(".view-head button", "Mark as spam").await;
    b.wait_visible("#spam-confirm").await;
    b.screenshots("dashboard-spam-confirm").await;
    let yes = b.find("#spam-yes").await;
    b.click(&yes).await;
    b.wait_text("#flag", "Flagged: spam").await;
    b.wait_text("#conv-status", "closed").await;
    let (st, customer) = app
        .get(
            &format!("/api/projects/{}/customers/{customer_id}", project.id),
            &ben.token,
        )
        .await;
    assert_eq!(st, 200, "{customer}");
    assert_eq!(
        (
            customer["is_flagged"].clone(),
            customer["flag_reason"].clone()
        ),
        (json!(true), json!("spam")),
        "{customer}"
    );
    let view = app.conversation(&conv, &ben.token).await;
    assert_eq!(view["status"], json!("closed"), "{view}");
    b.wait_text("#count", "0/2 chats").await;
    b.screenshots("dashboard-spam").await;
    a.quit().await;
    b.quit().await;
}

/// The context panel lists the customer's latest chats; "View all" pages
/// through the whole history and any of it opens. The tabs follow the
/// arrow keys with a visible focus, and the page uses no browser dialogs.
#[actix_rt::test]
async fn the_context_panel_pages_through_the_whole_history_and_the_tabs_follow_the_keyboard() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let mut older = Vec::new();
    for _ in 0..21 {
        let (conv, _) = app.new_conversation(&project, "hana").await;
        older.push(s(&conv["id"]));
    }
    let (conv, _) = named_chat(&app, &project, "hana", "Hana Ito", &ana).await;

    let b = Browser::start().await;
    log_in(&b, &app, &ana).await;
    b.click_text("#list button", "Hana Ito").await;
    b.wait_visible("#history-all").await;
    assert_eq!(b.find_all("#history button").await.len(), 5);
    let all = b.find("#history-all").await;
    b.click(&all).await;
    b.wait_visible("#history-more").await;
    assert_eq!(b.find_all("#history button").await.len(), 20);
    let more = b.find("#history-more").await;
    b.click(&more).await;
    let deadline = std::time::Instant::now() + ASYNC_BOUND;
    while b.find_all("#history button").await.len() != 22 {
        assert!(
            std::time::Instant::now() < deadline,
            "the second page never came"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        b.find_all("#history-more").await.is_empty(),
        "\"Load more\" after the last page"
    );
    let mut ids = Vec::new();
    for e in b.find_all("#history button").await {
        ids.push(b.attribute(&e, "data-id").await.unwrap_or_default());
    }
    let mut expected = older.clone();
    expected.push(conv.clone());
    let mut sorted = ids.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected, "the history is every chat once");
    b.screenshots("dashboard-history").await;

    // An older chat opens from the history (still the AI's).
    let last = ids
        .iter()
        .rev()
        .find(|id| **id != conv)
        .cloned()
        .unwrap_or_default();
    let item = b.find(&format!("#history button[data-id='{last}']")).await;
    b.click(&item).await;
    b.wait_text("#conv-status", "ai active").await;
    let view = b.find("#view").await;
    assert_eq!(b.attribute(&view, "data-id").await, Some(last.clone()));

    // Tabs: arrow keys move between All, Mine and Queue, with a visible focus.
    b.eval("document.getElementById('tab-mine').focus(); return null;")
        .await;
    b.keys(ARROW_RIGHT).await;
    let state = "const a = document.activeElement; \
        return [a.id, a.getAttribute('aria-selected'), a.tabIndex, getComputedStyle(a).outlineStyle !== 'none'];";
    assert_eq!(b.eval(state).await, json!(["tab-queue", "true", 0, true]));
    b.keys(ARROW_RIGHT).await;
    assert_eq!(b.eval(state).await, json!(["tab-all", "true", 0, true]));
    b.keys(ARROW_LEFT).await;
    assert_eq!(b.eval(state).await, json!(["tab-queue", "true", 0, true]));
    let selected = texts(&b, "[role=tab][aria-selected=true]").await;
    assert_eq!(selected.len(), 1, "{selected:?}");
    b.wait_text("#list", "Nothing here").await;
    assert_eq!(
        b.eval(UNLABELLED).await,
        json!([]),
        "inputs without a label"
    );

    // The page's script has no browser dialogs.
    let source = b
        .eval("return fetch('/assets/dashboard.js').then(r => r.text());")
        .await;
    let source = source.as_str().unwrap_or_default();
    assert!(
        source.contains("openConversation"),
        "not the dashboard script"
    );
    for dialog in ["alert(", "confirm(", "prompt("] {
        assert!(!source.contains(dialog), "the dashboard calls {dialog}");
    }
    b.quit().await;
}

/// On a phone the list comes first, then the conversation with a way
/// back; nothing scrolls sideways, and a reply goes out.
#[actix_rt::test]
async fn on_a_phone_the_agent_opens_a_conversation_from_the_list_and_answers() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (conv, token) = named_chat(&app, &project, "dana", "Dana Diaz", &ana).await;
    let (st, body) = app
        .post_message(&conv, &token, "My parcel is late, can you check?")
        .await;
    assert_eq!(st, 201, "{body}");

    let b = Browser::start().await;
    b.resize(PHONE).await;
    log_in(&b, &app, &ana).await;
    b.wait_text("#list button", "Dana Diaz").await;
    assert!(
        !b.overflows_horizontally().await,
        "the list scrolls sideways on a phone"
    );
    assert!(!shown(&b, "#view").await, "the empty view takes room");

    b.click_text("#list button", "Dana Diaz").await;
    let composer = b.wait_visible("#composer").await;
    b.wait_text(".msg.customer", "parcel is late").await;
    let title = b.find("#conv-title").await;
    assert_eq!(b.text(&title).await, "Dana Diaz");
    assert!(!shown(&b, "nav.side").await, "the list stays over the chat");
    assert!(
        !b.overflows_horizontally().await,
        "the conversation scrolls sideways on a phone"
    );
    assert_eq!(focused_id(&b).await, json!("composer"));
    b.type_into(&composer, &format!("Checking it now, Dana.{ENTER}"))
        .await;
    b.wait_text(".msg.agent", "Checking it now").await;
    let reply = app.wait_for_sender(&conv, &ana.token, "agent", 0).await;
    assert_eq!(reply["content"], json!("Checking it now, Dana."), "{reply}");
    b.screenshots("dashboard-phone-chat").await;

    // Back to the list (screenshots left the window at desktop size).
    b.resize(PHONE).await;
    let back = b.wait_visible("#back").await;
    b.click(&back).await;
    b.wait_visible("#list button").await;
    assert_eq!(
        b.eval("return document.activeElement.getAttribute('data-id');")
            .await,
        json!(conv),
        "the keyboard is not back on the chat in the list"
    );
    assert!(!b.overflows_horizontally().await);
    b.screenshots("dashboard-phone-list").await;
    b.quit().await;
}
