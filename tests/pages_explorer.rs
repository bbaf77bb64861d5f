//! The activity explorer (`/explorer`, seed 002) in real headless
//! Chromium: a user's sessions with their counts, a session's tool calls
//! and support tickets, a tool call's JSON, a ticket resolved, search,
//! the keyboard between panes, both exports, and one pane at a time on a
//! phone. Screenshots go to `screenshots/`.

#[path = "common/browser.rs"]
#[allow(dead_code)] // each test binary uses its own part of the client
mod browser;
mod common;

use browser::{Browser, PHONE};
use common::*;
use serde_json::{json, Value};
use std::time::Duration as StdDuration;

const ADA: &str = "ada@example.com";

async fn record(app: &TestApp, project: &Project, path: &str, body: Value) -> Value {
    let (st, v) = app.post(path, &project.secret_key, body).await;
    assert_eq!(st, 201, "{path}: {v}");
    v
}

async fn new_session(
    app: &TestApp,
    p: &Project,
    user: &str,
    server: &str,
    title: Option<&str>,
) -> String {
    let v = record(
        app,
        p,
        "/api/activity/sessions",
        json!({ "user_id": user, "server_name": server, "server_slug": server.to_lowercase().replace(' ', "-"), "title": title }),
    )
    .await;
    s(&v["id"])
}

async fn tool_call(
    app: &TestApp,
    p: &Project,
    session: &str,
    name: &str,
    input: Value,
    output: Value,
) {
    record(
        app,
        p,
        &format!("/api/activity/sessions/{session}/tool-calls"),
        json!({ "tool_name": name, "input": input, "output": output }),
    )
    .await;
    app.advance(chrono::Duration::seconds(5)).await;
}

/// Wait (bounded) until `script` returns something other than null.
async fn wait_eval(b: &Browser, script: &str) -> Value {
    let deadline = std::time::Instant::now() + StdDuration::from_secs(10);
    loop {
        let v = b.eval(script).await;
        if !v.is_null() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never non-null: {script}"
        );
        actix_rt::time::sleep(StdDuration::from_millis(50)).await;
    }
}

/// Which pane holds the focus: 0 sessions, 1 session, 2 item, -1 none.
async fn focused_pane(b: &Browser) -> i64 {
    b.eval(
        "var a = document.activeElement; \
         return ['p-sessions','p-session','p-item'].findIndex(function (id) { return document.getElementById(id).contains(a); });",
    )
    .await
    .as_i64()
    .unwrap_or(-9)
}

async fn focused_text(b: &Browser) -> String {
    b.eval("return document.activeElement ? document.activeElement.innerText : '';")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn displayed(b: &Browser, css: &str) -> bool {
    let e = b.find(css).await;
    b.eval(&format!(
        "var e = document.querySelector({css:?}); return !!e && e.getClientRects().length > 0 && getComputedStyle(e).display !== 'none';"
    ))
    .await
    .as_bool()
    .unwrap_or_else(|| panic!("{css} ({e}) has no display"))
}

#[actix_rt::test]
async fn an_agent_explores_a_users_sessions_items_search_keys_exports_and_a_phone() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let agent = app.add_agent(&project, "Eve", 2).await;

    // Ada: an empty session, one with three tool calls, one (untitled)
    // with a tool call and a support request; newest last.
    new_session(&app, &project, ADA, "Docs MCP", Some("Empty start")).await;
    app.advance(chrono::Duration::minutes(1)).await;
    let refunds = new_session(&app, &project, ADA, "Billing MCP", Some("Refund questions")).await;
    tool_call(
        &app,
        &project,
        &refunds,
        "lookup_invoice",
        json!({ "invoice": { "id": "INV-42", "lines": [{ "sku": "A1", "qty": 2 }] } }),
        json!({ "status": "paid", "amount": { "cents": 1250, "currency": "EUR" } }),
    )
    .await;
    tool_call(
        &app,
        &project,
        &refunds,
        "search_docs",
        json!({ "query": "refund policy" }),
        json!(["Refunds within 30 days"]),
    )
    .await;
    tool_call(
        &app,
        &project,
        &refunds,
        "issue_refund",
        json!({ "invoice": "INV-42" }),
        json!({ "ok": true }),
    )
    .await;
    app.advance(chrono::Duration::minutes(1)).await;
    let parcel = new_session(&app, &project, ADA, "Shipping MCP", None).await;
    tool_call(
        &app,
        &project,
        &parcel,
        "track_parcel",
        json!({ "parcel": "P-7" }),
        json!({ "state": "lost" }),
    )
    .await;
    let ticket = record(
        &app,
        &project,
        "/api/support-requests",
        json!({ "activity_session_id": parcel, "title": "Parcel never arrived", "concise_summary": "P-7 is lost", "context": "Tracked twice.\nStill lost." }),
    )
    .await;
    let ticket_id = s(&ticket["id"]);
    // Someone else's session must not show.
    new_session(
        &app,
        &project,
        "bob@example.com",
        "Docs MCP",
        Some("Bob's secret session"),
    )
    .await;

    let b = Browser::start().await;
    let user = ADA.replace('@', "%40");
    b.log_in(
        &app.url(&format!("/explorer?project={}&user={user}", project.id)),
        &agent.email,
        AGENT_PASSWORD,
    )
    .await;

    // The sessions, newest first, with their counts.
    b.wait_text("#sessions-h", "Sessions (3 shown)").await;
    b.wait_text("#who", ADA).await;
    let cards: Vec<String> = serde_json::from_value(
        b.eval("return Array.from(document.querySelectorAll('#sessions .item')).map(function (e) { return e.innerText; });")
            .await,
    )
    .unwrap_or_default();
    assert_eq!(cards.len(), 3, "{cards:?}");
    assert!(cards[0].contains("Shipping MCP"), "{cards:?}");
    assert!(
        cards[0].contains("1 tool call") && cards[0].contains("1 support ticket"),
        "{cards:?}"
    );
    assert!(
        cards[1].contains("Refund questions") && cards[1].contains("Billing MCP"),
        "{cards:?}"
    );
    assert!(
        cards[1].contains("3 tool calls") && cards[1].contains("0 support tickets"),
        "{cards:?}"
    );
    assert!(cards[2].contains("Empty start"), "{cards:?}");
    assert!(
        cards[2].contains("0 tool calls") && cards[2].contains("0 support tickets"),
        "{cards:?}"
    );
    assert!(!cards.iter().any(|c| c.contains("Bob")), "{cards:?}");
    b.wait_text("#session-empty", "Select a session to view details")
        .await;

    // A session's tool calls; one of them in full, its JSON pretty-printed.
    b.click_text("#sessions .item", "Refund questions").await;
    b.wait_text("#tools-h", "Tool calls (3)").await;
    b.wait_text("#tickets-h", "Support tickets (0)").await;
    b.wait_text("#tickets", "No support tickets").await;
    let current = b.wait_text("#sessions .item", "Refund questions").await;
    assert_eq!(
        b.attribute(&current, "aria-current").await.as_deref(),
        Some("true")
    );
    let tools: Vec<String> = serde_json::from_value(
        wait_eval(&b, "var n = document.querySelectorAll('#tools .item'); return n.length === 3 ? Array.from(n).map(function (e) { return e.querySelector('.t').textContent; }) : null;").await,
    )
    .unwrap_or_default();
    assert_eq!(
        tools,
        ["issue_refund", "search_docs", "lookup_invoice"],
        "newest first"
    );
    b.click_text("#tools .item", "lookup_invoice").await;
    b.wait_text("#item-input", "INV-42").await;
    let input = b
        .eval("return document.getElementById('item-input').textContent;")
        .await;
    let input = input.as_str().unwrap_or_default();
    assert!(
        input.contains("\n  \"invoice\": {\n    \"id\": \"INV-42\""),
        "{input}"
    );
    assert!(input.contains("\n        \"qty\": 2"), "{input}");
    let output = b
        .eval("return document.getElementById('item-output').textContent;")
        .await;
    assert!(
        output
            .as_str()
            .unwrap_or_default()
            .contains("\n    \"cents\": 1250"),
        "{output}"
    );
    b.wait_text("#item-h", "lookup_invoice").await;
    b.screenshots("explorer-tool-call").await;

    // The support ticket, marked resolved.
    b.click_text("#sessions .item", "Shipping MCP").await;
    b.wait_text("#tickets-h", "Support tickets (1)").await;
    b.wait_text("#item-empty", "Select a tool call").await;
    b.click_text("#tickets .item", "Parcel never arrived").await;
    b.wait_text("#item-context", "Still lost.").await;
    b.wait_text("#item", "P-7 is lost").await;
    b.wait_text("#item-status", "open").await;
    b.click_text("#resolve", "Mark resolved").await;
    b.wait_text("#item-status", "resolved").await;
    b.wait_text("#resolve", "Reopen").await;
    b.wait_text("#tickets .item", "resolved").await;
    let (st, r) = app
        .get(&format!("/api/support-requests/{ticket_id}"), &agent.token)
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["status"], "resolved", "{r}");
    assert!(r["resolved_at"].is_string(), "{r}");
    b.screenshots("explorer-ticket").await;

    // Search by a tool name narrows the list to its session.
    let q = b.find("#q").await;
    b.type_into(&q, "issue_refund").await;
    b.wait_text("#sessions-h", "Sessions (1 shown)").await;
    b.wait_text("#sessions .item", "Refund questions").await;
    b.clear(&q).await;
    b.type_into(&q, "nothing-like-this").await;
    b.wait_text("#sessions", "No sessions match").await;
    b.clear(&q).await;
    b.type_into(&q, " ").await;
    b.wait_text("#sessions-h", "Sessions (3 shown)").await;

    // The keyboard: down the list, Enter opens, right and left between panes.
    b.eval("document.querySelector('#sessions .item').focus(); return null;")
        .await;
    b.keys("\u{E015}").await; // ArrowDown
    assert!(
        focused_text(&b).await.contains("Refund questions"),
        "{}",
        focused_text(&b).await
    );
    b.keys("\u{E007}").await; // Enter
    b.wait_text("#tools-h", "Tool calls (3)").await;
    wait_eval(
        &b,
        "return document.querySelectorAll('#tools .item').length === 3 ? true : null;",
    )
    .await;
    b.keys("\u{E014}").await; // ArrowRight
    assert_eq!(focused_pane(&b).await, 1);
    assert!(
        focused_text(&b).await.contains("issue_refund"),
        "{}",
        focused_text(&b).await
    );
    b.keys("\u{E015}\u{E007}").await;
    b.wait_text("#item-h", "search_docs").await;
    b.keys("\u{E014}").await;
    assert_eq!(focused_pane(&b).await, 2);
    b.keys("\u{E012}").await; // ArrowLeft
    assert_eq!(focused_pane(&b).await, 1);
    assert!(
        focused_text(&b).await.contains("search_docs"),
        "the selected call keeps the focus"
    );
    b.keys("\u{E012}").await;
    assert_eq!(focused_pane(&b).await, 0);
    assert!(focused_text(&b).await.contains("Refund questions"));

    // Both exports, caught as the Blob the browser is handed.
    b.eval(
        "window.__exports = []; var make = URL.createObjectURL; \
         URL.createObjectURL = function (blob) { blob.text().then(function (t) { window.__exports.push(t); }); return make.call(URL, blob); }; \
         return null;",
    )
    .await;
    b.click_text("#export-csv", "Export CSV").await;
    b.wait_text("#export-state", "Downloaded activity-ada@example.com.csv")
        .await;
    let csv = wait_eval(
        &b,
        "return window.__exports.length ? window.__exports[0] : null;",
    )
    .await;
    let csv = csv.as_str().unwrap_or_default();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(
        lines[0].starts_with("session_id,session_title,server_name"),
        "{csv}"
    );
    // A row per item, and one for the empty session.
    assert_eq!(lines.len(), 1 + 1 + 3 + 2, "{csv}");
    assert!(
        csv.contains("lookup_invoice")
            && csv.contains("Parcel never arrived")
            && !csv.contains("Bob"),
        "{csv}"
    );
    b.click_text("#export-json", "Export JSON").await;
    b.wait_text("#export-state", "Downloaded activity-ada@example.com.json")
        .await;
    let text = wait_eval(
        &b,
        "return window.__exports.length > 1 ? window.__exports[1] : null;",
    )
    .await;
    let export: Value = serde_json::from_str(text.as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(export["user_id"], ADA);
    let sessions = export["sessions"].as_array().cloned().unwrap_or_default();
    assert_eq!(sessions.len(), 3, "{export}");
    assert_eq!(
        sessions[1]["tool_calls"].as_array().map(Vec::len),
        Some(3),
        "{export}"
    );
    assert_eq!(
        sessions[0]["support_requests"][0]["status"], "resolved",
        "{export}"
    );

    // A phone: one pane at a time, back buttons and Escape, nothing sideways.
    b.resize(PHONE).await;
    b.goto(&app.url(&format!("/explorer?project={}&user={user}", project.id)))
        .await;
    b.wait_text("#sessions-h", "Sessions (3 shown)").await;
    assert!(displayed(&b, "#p-sessions").await);
    assert!(!displayed(&b, "#p-session").await);
    assert!(!displayed(&b, "#p-item").await);
    assert!(!b.overflows_horizontally().await);
    b.screenshot("explorer-phone-sessions").await;
    b.click_text("#sessions .item", "Refund questions").await;
    b.wait_text("#tools-h", "Tool calls (3)").await;
    assert!(!displayed(&b, "#p-sessions").await);
    assert!(displayed(&b, "#p-session").await);
    b.wait_visible("#back-sessions").await;
    b.click_text("#tools .item", "lookup_invoice").await;
    b.wait_text("#item-input", "INV-42").await;
    assert!(!displayed(&b, "#p-session").await);
    assert!(displayed(&b, "#p-item").await);
    assert!(
        !b.overflows_horizontally().await,
        "the JSON scrolls inside its box"
    );
    b.screenshot("explorer-phone-item").await;
    b.keys("\u{E00C}").await; // Escape
    b.wait_visible("#p-session").await;
    assert!(!displayed(&b, "#p-item").await);
    assert!(!b.overflows_horizontally().await);
    b.screenshot("explorer-phone-session").await;
    b.click_text("#back-sessions", "Sessions").await;
    b.wait_visible("#p-sessions").await;
    assert!(!displayed(&b, "#p-session").await);
    b.quit().await;
}

#[actix_rt::test]
async fn the_explorer_picks_a_user_pages_sessions_retries_a_failed_pane_and_folds_on_a_tablet() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let agent = app.add_agent(&project, "Eve", 2).await;
    const MANY: &str = "many@example.com";
    // 23 sessions: a page of 20 and three more; the newest has items.
    let mut newest = String::new();
    for i in 0..23 {
        newest = new_session(
            &app,
            &project,
            MANY,
            "Docs MCP",
            Some(&format!("Visit {i:02}")),
        )
        .await;
        app.advance(chrono::Duration::minutes(1)).await;
    }
    tool_call(
        &app,
        &project,
        &newest,
        "search_docs",
        json!({ "query": "pricing" }),
        json!([]),
    )
    .await;
    record(
        &app,
        &project,
        "/api/support-requests",
        json!({ "activity_session_id": newest, "title": "Pricing unclear" }),
    )
    .await;

    // Without a user in the address, the page asks for one.
    let b = Browser::start().await;
    b.log_in(&app.url("/explorer"), &agent.email, AGENT_PASSWORD)
        .await;
    let user = b.wait_visible("#user").await;
    b.wait_text("#project option", "Acme").await;
    b.type_into(&user, &format!("{MANY}\u{E007}")).await;
    b.wait_text("#who", MANY).await;
    let url = b.eval("return location.search;").await;
    assert_eq!(
        url.as_str().unwrap_or_default(),
        format!("?project={}&user=many%40example.com", project.id)
    );

    // A page of 20, then Load more.
    b.wait_text("#sessions-h", "Sessions (20 shown)").await;
    b.wait_text("#sessions .item", "Visit 22").await;
    b.click_text("#sessions-more", "Load more").await;
    b.wait_text("#sessions-h", "Sessions (23 shown)").await;
    b.wait_text("#sessions .item", "Visit 00").await;
    assert!(!displayed(&b, "#sessions-more").await, "no more to load");

    // A request that fails shows its error in its own part of the pane,
    // with Retry; the rest of the pane loads.
    b.eval(
        "var f = window.fetch, failed = false; \
         window.fetch = function (u) { if (!failed && String(u).indexOf('/tool-calls') >= 0) { failed = true; return Promise.reject(new TypeError('Failed to fetch')); } return f.apply(this, arguments); }; \
         return null;",
    )
    .await;
    b.click_text("#sessions .item", "Visit 22").await;
    b.wait_text("#tools-state", "Failed to fetch").await;
    b.wait_text("#tickets .item", "Pricing unclear").await;
    b.screenshots("explorer-error").await;
    b.click_text("#tools-state button", "Retry").await;
    b.wait_text("#tools .item", "search_docs").await;
    b.wait_text("#tools-h", "Tool calls (1)").await;
    assert_eq!(b.text(&b.find("#tools-state").await).await, "");

    // A tablet: the sessions beside either the session or the item.
    b.resize((1000, 800)).await;
    assert!(displayed(&b, "#p-sessions").await);
    assert!(displayed(&b, "#p-session").await);
    assert!(!displayed(&b, "#p-item").await);
    b.click_text("#tools .item", "search_docs").await;
    b.wait_text("#item-input", "pricing").await;
    assert!(displayed(&b, "#p-sessions").await);
    assert!(!displayed(&b, "#p-session").await);
    assert!(displayed(&b, "#p-item").await);
    b.wait_visible("#back-session").await;
    assert!(!b.overflows_horizontally().await);
    b.screenshot("explorer-tablet-item").await;
    b.keys("\u{E00C}").await; // Escape
    b.wait_visible("#p-session").await;
    assert!(!displayed(&b, "#p-item").await);
    assert_eq!(
        focused_pane(&b).await,
        1,
        "back on the session, at its call"
    );
    assert!(focused_text(&b).await.contains("search_docs"));
    b.quit().await;
}

#[actix_rt::test]
async fn the_dashboards_customer_panel_links_to_the_customers_activity() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    app.assigned_conversation(&project, "visitor-77", &ana)
        .await;
    new_session(
        &app,
        &project,
        "visitor-77",
        "Widget MCP",
        Some("Asked about plans"),
    )
    .await;

    let b = Browser::start().await;
    b.log_in(&app.url("/dashboard"), &ana.email, AGENT_PASSWORD)
        .await;
    b.click_text("#list button", "visitor").await;
    let link = b.wait_visible("#activity-link").await;
    assert_eq!(
        b.attribute(&link, "href").await.as_deref(),
        Some(format!("/explorer?project={}&user=visitor-77", project.id).as_str())
    );
    b.click(&link).await;
    // The same staff login carries over.
    b.wait_text("#who", "visitor-77").await;
    b.wait_text("#sessions .item", "Asked about plans").await;
    b.wait_text("#sessions-h", "Sessions (1 shown)").await;
    b.quit().await;
}
