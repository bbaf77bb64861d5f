//! The solver workspace (`/solver`) and the customer's side of a billable
//! session (`/join`, `/pay`) in real headless Chromium: a solver claims a
//! ticket, runs the timer with Space, writes notes that save, completes
//! on a tier and sees the price; the customer pays and rates. Screenshots
//! at desktop and phone widths go to `screenshots/`.

#[path = "common/browser.rs"]
#[allow(dead_code)] // each test binary uses its own part of the client
mod browser;
mod common;

use browser::{Browser, PHONE};
use common::*;
use serde_json::{json, Value};

/// Log `agent` into the solver workspace.
async fn log_in(b: &Browser, app: &TestApp, agent: &Agent) {
    b.log_in(&app.url("/solver"), &agent.email, AGENT_PASSWORD)
        .await;
    b.wait_visible("#nav").await;
}

/// Press Space with nothing focused, as a solver does over the page.
async fn space(b: &Browser) {
    b.eval("document.activeElement && document.activeElement.blur(); return null;")
        .await;
    b.keys(" ").await;
}

async fn session(app: &TestApp, id: &str, token: &str) -> Value {
    let (st, v) = app.get(&format!("/api/sessions/{id}"), token).await;
    assert_eq!(st, 200, "{v}");
    v
}

async fn new_ticket(app: &TestApp, project: &Project, token: &str, name: &str) -> Value {
    let (st, t) = app
        .post(
            "/api/tickets",
            token,
            json!({
                "project_id": project.id,
                "customer_name": name,
                "customer_phone": "+1 555 0100",
                "description": "My router drops the connection every evening",
                "urgency": "high",
            }),
        )
        .await;
    assert_eq!(st, 201, "{t}");
    t
}

#[actix_rt::test]
async fn a_solver_claims_a_ticket_times_it_with_space_writes_notes_and_completes_on_a_tier() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let sol = app.add_agent(&project, "Sol", 2).await;
    new_ticket(&app, &project, &sol.token, "Maria Lopez").await;

    let b = Browser::start().await;
    log_in(&b, &app, &sol).await;
    b.wait_text("#tickets .ticket", "Maria Lopez").await;
    b.wait_text("#tickets .ticket", "router drops").await;
    b.screenshots("solver-queue").await;
    b.click_text("#tickets button", "Claim").await;

    // The workspace opens on the new session, not started.
    b.wait_text("#s-customer", "Maria Lopez").await;
    b.wait_text("#s-status", "Not started").await;
    let join = b.wait_text("#join-url", "/join/").await;
    let join_url = b.text(&join).await;
    let id = b
        .eval("return location.hash.split('/').pop();")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        session(&app, &id, &sol.token).await["status"],
        "not_started"
    );
    let call = b.find("#call").await;
    assert!(
        b.attribute(&call, "disabled").await.is_some(),
        "Call works before the session started"
    );

    // Space starts the timer.
    space(&b).await;
    b.wait_text("#s-status", "Active").await;
    assert_eq!(session(&app, &id, &sol.token).await["status"], "active");
    assert!(
        b.attribute(&call, "disabled").await.is_none(),
        "Call stays disabled once started"
    );

    // 37 minutes of the standard tier's 45: past 80 %, the clock is orange.
    app.advance(chrono::Duration::minutes(37)).await;
    space(&b).await;
    b.wait_text("#s-status", "Paused").await;
    b.wait_text("#clock", "37:00").await;
    let clock = b.find("#clock").await;
    assert_eq!(
        b.attribute(&clock, "data-level").await.as_deref(),
        Some("warn")
    );

    // Notes save on Ctrl+S ...
    let notes = b.find("#notes").await;
    b.type_into(&notes, "Reset the router.").await;
    b.wait_text("#save-state", "Unsaved").await;
    b.type_into(&notes, "\u{E009}s\u{E000}").await;
    b.wait_text("#save-state", "Saved").await;
    assert_eq!(
        session(&app, &id, &sol.token).await["notes"],
        "Reset the router."
    );
    // ... and on their own once typing stops.
    b.type_into(&notes, " Updated the firmware.").await;
    b.wait_text("#save-state", "Unsaved").await;
    b.wait_text("#save-state", "Saved").await;
    assert_eq!(
        session(&app, &id, &sol.token).await["notes"],
        "Reset the router. Updated the firmware."
    );

    // Past the limit the clock is red.
    space(&b).await;
    b.wait_text("#s-status", "Active").await;
    app.advance(chrono::Duration::minutes(9)).await;
    space(&b).await;
    b.wait_text("#s-status", "Paused").await;
    b.wait_text("#clock", "46:00").await;
    assert_eq!(
        b.attribute(&clock, "data-level").await.as_deref(),
        Some("over")
    );
    b.screenshots("solver-session").await;

    // Complete: 46 minutes recommends Deep Dive; the solver picks Standard
    // and sees its one minute of overage in the total.
    b.click_text("#complete", "Complete").await;
    b.wait_text("#tiers .tier", "Recommended").await;
    let rec = b.wait_text("#tiers .tier", "Recommended").await;
    assert!(
        b.text(&rec).await.contains("Deep Dive"),
        "{}",
        b.text(&rec).await
    );
    b.wait_text("#m-total", "$219.00").await;
    let standard = b.find("#tiers input[value='standard']").await;
    b.click(&standard).await;
    b.wait_text("#tiers .tier", "Overage: 1 min").await;
    b.wait_text("#m-total", "$131.50").await;
    b.screenshots("solver-complete").await;
    b.click_text("#m-next", "Complete session").await;
    b.wait_text("#c-total", "$131.50").await;
    b.click_text("#c-yes", "Yes, complete session").await;
    b.wait_text("#d-total", "$131.50").await;
    b.wait_text("#d-tier", "Standard Solve").await;
    let done = session(&app, &id, &sol.token).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["tier"], "standard", "{done}");
    assert_eq!(done["pricing"]["total_charged"], 13150, "{done}");
    let earn = b.find("#d-earn").await;
    let cents = done["pricing"]["solver_earnings"].as_u64().unwrap_or(0);
    assert_eq!(
        b.text(&earn).await,
        format!("${}.{:02}", cents / 100, cents % 100)
    );

    // The customer's page shows the total and the payment link, and takes a
    // rating.
    let customer = Browser::start().await;
    customer.goto(&join_url).await;
    customer.wait_text("#total", "$131.50").await;
    let pay = customer.wait_visible("#pay").await;
    let five = customer.find("#rate input[value='5']").await;
    customer.click(&five).await;
    let comment = customer.find("#comment").await;
    customer.type_into(&comment, "Fixed in no time").await;
    customer.click_text("#rate button", "Send rating").await;
    customer.wait_text("#thanks", "Thank you").await;
    customer.screenshots("join-completed").await;
    let rated = session(&app, &id, &sol.token).await;
    assert_eq!(rated["rating"], 5, "{rated}");
    let href = customer.attribute(&pay, "href").await.unwrap_or_default();
    assert!(href.contains("/pay/"), "{href}");
    // The built-in provider's link is relative to the server.
    let href = if href.starts_with('/') {
        app.url(&href)
    } else {
        href
    };
    customer.goto(&href).await;
    customer.wait_text("#amount", "$131.50").await;
    customer.wait_text("#status", "Pending").await;
    customer.screenshots("pay").await;
    customer.quit().await;

    // The session is in My Sessions, with its earnings and rating.
    b.goto(&app.url("/solver#/sessions")).await;
    b.wait_text("#session-list .scard", "Maria Lopez").await;
    b.wait_text("#session-list .scard", "Completed").await;
    b.wait_text("#session-list .scard", "5★").await;
    b.quit().await;
}

#[actix_rt::test]
async fn my_sessions_filter_and_load_more_and_the_workspace_stacks_on_a_phone() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let sol = app.add_agent(&project, "Sol", 2).await;
    // 23 sessions: one page of 20 and three more.
    let mut ids = Vec::new();
    for i in 0..23 {
        let (st, v) = app
            .post(
                "/api/sessions",
                &sol.token,
                json!({ "project_id": project.id, "adhoc": { "customer_name": format!("Walk In {i:02}") } }),
            )
            .await;
        assert_eq!(st, 201, "{v}");
        ids.push(v["id"].as_str().unwrap_or_default().to_string());
    }
    let (st, v) = app
        .post(
            &format!("/api/sessions/{}/status", ids[0]),
            &sol.token,
            json!({ "status": "active" }),
        )
        .await;
    assert_eq!(st, 200, "{v}");

    let b = Browser::start().await;
    log_in(&b, &app, &sol).await;
    b.goto(&app.url("/solver#/sessions")).await;
    b.wait_text("#session-list .scard", "Walk In 22").await;
    assert_eq!(b.find_all("#session-list .scard").await.len(), 20);
    b.click_text("#more", "Load more").await;
    b.wait_text("#session-list .scard", "Walk In 00").await;
    assert_eq!(b.find_all("#session-list .scard").await.len(), 23);
    let more = b.find("#more").await;
    assert_eq!(b.attribute(&more, "hidden").await.as_deref(), Some("true"));
    b.screenshots("solver-sessions").await;

    // The filter asks the server: only the active one.
    b.eval("const f = document.getElementById('filter'); f.value = 'active'; f.dispatchEvent(new Event('change')); return null;")
        .await;
    b.wait_text("#session-list .scard", "Active").await;
    let deadline = std::time::Instant::now() + ASYNC_BOUND;
    while b.find_all("#session-list .scard").await.len() != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the filter kept other sessions"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    b.wait_text("#session-list .scard", "Walk In 00").await;
    b.eval("const f = document.getElementById('filter'); f.value = 'cancelled'; f.dispatchEvent(new Event('change')); return null;")
        .await;
    b.wait_text("#session-list li", "No sessions match").await;

    // On a phone the workspace is one column with the timer on top, and
    // nothing scrolls sideways.
    b.resize(PHONE).await;
    b.goto(&app.url(&format!("/solver#/session/{}", ids[0])))
        .await;
    b.wait_text("#s-customer", "Walk In 00").await;
    b.wait_text("#s-status", "Active").await;
    assert!(
        !b.overflows_horizontally().await,
        "the workspace scrolls sideways"
    );
    let tops = b
        .eval("return ['.timer', '#s-customer', '#log', '#notes'].map(s => document.querySelector(s).getBoundingClientRect().top);")
        .await;
    let tops: Vec<f64> = tops
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    assert!(
        tops.len() == 4 && tops.windows(2).all(|w| w[0] < w[1]),
        "timer, customer, chat and notes are not stacked in that order: {tops:?}"
    );
    // Scrolled down to the notes, the timer is still in sight.
    let top = b
        .eval("document.getElementById('notes').scrollIntoView(); return document.querySelector('.timer').getBoundingClientRect().top;")
        .await;
    assert!(
        top.as_f64().is_some_and(|t| (-1.0..50.0).contains(&t)),
        "the timer left the screen: {top}"
    );
    b.quit().await;
}
