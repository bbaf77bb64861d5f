//! The admin console (`/admin`) and the invitation page (`/invite/:token`)
//! in real headless Chromium against the real server, from an empty
//! database: everything an owner does to go from nothing to a live widget,
//! with no REST call by hand. What the pages change is checked through the
//! API; screenshots of each section go to `screenshots/`.

#[path = "common/browser.rs"]
#[allow(dead_code)] // each test binary uses its own part of the client
mod browser;
mod common;

use browser::{Browser, DESKTOP, PHONE};
use common::*;
use serde_json::{json, Value};

const ENTER: &str = "\u{E007}";

/// Click the section's button in the admin's navigation and wait for it.
async fn open_section(b: &Browser, name: &str, panel: &str) {
    let nav = b.find(&format!("nav.sections [data-section={name}]")).await;
    b.click(&nav).await;
    b.wait_visible(panel).await;
}

/// Type `text` into the field `css` after emptying it.
async fn fill(b: &Browser, css: &str, text: &str) {
    let field = b.wait_visible(css).await;
    b.clear(&field).await;
    b.type_into(&field, text).await;
}

/// Set a checkbox to `on` as a person would (a click when it differs).
async fn check(b: &Browser, css: &str, on: bool) {
    let input = b.find(css).await;
    let now = b
        .eval(&format!("return document.querySelector({css:?}).checked;"))
        .await;
    if now != json!(on) {
        b.click(&input).await;
    }
}

async fn value_of(b: &Browser, css: &str) -> String {
    let v = b
        .eval(&format!("return document.querySelector({css:?}).value;"))
        .await;
    v.as_str().unwrap_or_default().to_string()
}

/// The value of the field `css` once the page has filled it (bounded):
/// sections load their data after they show.
async fn filled_value(b: &Browser, css: &str) -> String {
    let deadline = std::time::Instant::now() + ASYNC_BOUND;
    loop {
        let v = value_of(b, css).await;
        if !v.is_empty() {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "{css} stays empty");
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The admin's project named `name`, as the API lists it.
async fn project_named(app: &TestApp, name: &str) -> Value {
    let (st, list) = app.get("/api/projects", app.admin_token()).await;
    assert_eq!(st, 200, "{list}");
    list["items"]
        .as_array()
        .expect("a list of projects")
        .iter()
        .find(|p| p["name"] == json!(name))
        .unwrap_or_else(|| panic!("no project {name}: {list}"))
        .clone()
}

#[actix_rt::test]
async fn an_owner_goes_from_an_empty_install_to_a_live_widget_in_the_browser() {
    let app = TestApp::start().await;
    let admin = Browser::start().await;

    // Log in and create the first project.
    admin
        .log_in(&app.url("/admin"), ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    admin.wait_visible("#no-projects").await;
    fill(&admin, "#new-project-name", &format!("Acme Support{ENTER}")).await;
    admin
        .wait_text("#projects-status", "Created Acme Support")
        .await;
    let secret = value_of(&admin, "#new-secret-value").await;
    assert!(
        secret.starts_with("sk_"),
        "the secret key is shown once: {secret}"
    );
    let project = project_named(&app, "Acme Support").await;
    let pid = s(&project["id"]);
    admin.screenshots("admin-projects").await;

    // Handoff on, with the keyword "refund"; no agent yet: the owner warning.
    open_section(&admin, "handoff", "#handoff-form").await;
    check(&admin, "#h-enabled", true).await;
    check(&admin, "#h-kw-enabled", true).await;
    fill(&admin, "#h-keyword", &format!("refund{ENTER}")).await;
    admin.wait_text("#h-keywords .chip", "refund").await;
    let save = admin.find("#h-save").await;
    admin.click(&save).await;
    admin.wait_text("#h-status", "Saved").await;
    admin.wait_visible("#owner-warning").await;
    admin.screenshots("admin-handoff").await;
    let (st, settings) = app
        .get(
            &format!("/api/projects/{pid}/handoff-settings"),
            app.admin_token(),
        )
        .await;
    assert_eq!(st, 200, "{settings}");
    assert_eq!(settings["enabled"], json!(true));
    assert!(
        settings["auto_triggers"]["keywords"]
            .as_array()
            .expect("a list of keywords")
            .contains(&json!("refund")),
        "{settings}"
    );

    // Business hours in Paris that include now (Monday 10:00 UTC is 11:00 there).
    open_section(&admin, "hours", "#hours-form").await;
    check(&admin, "#bh-enabled", true).await;
    fill(&admin, "#bh-timezone", "Europe/Paris").await;
    let monday = admin.find("#bh-monday-start").await;
    admin.click(&monday).await; // the time zone field's change fires on leaving it
    admin.wait_text("#bh-preview", "Open now").await;
    admin.wait_text("#bh-preview", "Europe/Paris").await;
    let save = admin.find("#bh-save").await;
    admin.click(&save).await;
    admin.wait_text("#bh-status", "Saved").await;
    admin.screenshots("admin-hours").await;
    let (_, settings) = app
        .get(
            &format!("/api/projects/{pid}/handoff-settings"),
            app.admin_token(),
        )
        .await;
    assert_eq!(settings["timezone"], json!("Europe/Paris"));
    assert_eq!(settings["business_hours_enabled"], json!(true));

    // A knowledge entry, and the AI's answer to a customer's words.
    open_section(&admin, "knowledge", "#kb-form").await;
    fill(&admin, "#kb-question", "How do I reset my password?").await;
    fill(
        &admin,
        "#kb-answer",
        "Use the reset link on the login page.",
    )
    .await;
    let save = admin.find("#kb-save").await;
    admin.click(&save).await;
    admin
        .wait_text("#kb-list li", "How do I reset my password?")
        .await;
    fill(
        &admin,
        "#kb-try-question",
        &format!("reset my password{ENTER}"),
    )
    .await;
    admin.wait_text("#kb-try-answer", "reset link").await;
    admin.wait_text("#kb-try-confidence", "Confidence").await;
    admin.screenshots("admin-knowledge").await;

    // Invite the first agent; the page shows the link.
    open_section(&admin, "team", "#invite-form").await;
    fill(&admin, "#inv-email", "ana@example.com").await;
    fill(&admin, "#inv-name", "Ana").await;
    admin.select_option("#inv-role", "Agent").await;
    let email = admin.find("#inv-email").await;
    admin.type_into(&email, ENTER).await;
    admin.wait_visible("#invite-link").await;
    let link = value_of(&admin, "#invite-link").await;
    assert!(link.contains("/invite/sbi_"), "{link}");
    admin.wait_text("#team-list tr", "ana@example.com").await;
    admin.screenshots("admin-team").await;

    // Every section fits a phone: nothing scrolls sideways.
    admin.resize(PHONE).await;
    for (name, panel) in [
        ("projects", "#sec-projects"),
        ("handoff", "#handoff-form"),
        ("hours", "#hours-form"),
        ("knowledge", "#kb-form"),
        ("team", "#invite-form"),
        ("widget", "#widget-form"),
        ("keys", "#sec-keys"),
        ("billing", "#billing-form"),
        ("profile", "#profile-form"),
    ] {
        open_section(&admin, name, panel).await;
        assert!(
            !admin.overflows_horizontally().await,
            "the {name} section scrolls sideways on a phone"
        );
    }
    admin.resize(DESKTOP).await;

    // The agent, in a browser of their own, accepts and lands on the dashboard.
    let agent = Browser::start().await;
    agent.goto(&link).await;
    agent.wait_text("#title", "Join Acme Support").await;
    assert_eq!(value_of(&agent, "#inv-name").await, "Ana");
    fill(&agent, "#inv-password", &format!("agent-password-9{ENTER}")).await;
    agent.wait_visible("#dash").await;
    assert!(
        !agent
            .eval("return location.href;")
            .await
            .to_string()
            .contains("sbi_"),
        "the token left the address"
    );
    agent.select_option("#status", "Online").await;
    let token = app.login("ana@example.com", "agent-password-9").await;
    let deadline = std::time::Instant::now() + ASYNC_BOUND;
    loop {
        let (_, agents) = app
            .get(&format!("/api/projects/{pid}/agents"), &token)
            .await;
        if agents.to_string().contains("\"online\"") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never online: {agents}"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // A customer types the keyword; the conversation reaches the agent.
    let customer = Browser::start().await;
    let input = customer
        .open_widget(&app.url(&format!("/widget/demo?key={}", s(&project["public_key"]))))
        .await;
    customer
        .type_into(&input, &format!("I want a refund{ENTER}"))
        .await;
    // (The widget names the agent only after a button handoff: issue 18.)
    customer
        .wait_text(".sbw-status", "You are chatting with")
        .await;
    agent.click_text(".list button", "agent active").await;
    agent.wait_text(".log .msg", "I want a refund").await;

    customer.quit().await;
    agent.quit().await;
    admin.quit().await;
}

#[actix_rt::test]
async fn a_used_or_unknown_invitation_says_so_in_a_sentence() {
    let app = TestApp::start().await;
    let b = Browser::start().await;
    b.goto(&app.url("/invite/sbi_not-a-real-token")).await;
    b.wait_text("#status", "expired, was revoked or was already used")
        .await;
    assert!(
        b.find_all("#new-account:not([hidden]), #existing-account:not([hidden])")
            .await
            .is_empty(),
        "no form for a dead invitation"
    );
    b.quit().await;
}

/// The text beside the field the server named, waiting for it.
async fn field_error(b: &Browser, scope: &str, field: &str, needle: &str) {
    b.wait_text(&format!("{scope} [data-field=\"{field}\"]"), needle)
        .await;
}

#[actix_rt::test]
async fn each_settings_field_the_server_refuses_shows_its_reason_beside_it() {
    let (app, project) = TestApp::with_handoff().await;
    let before = app.settings(&project).await;
    let b = Browser::start().await;
    b.log_in(&app.url("/admin#handoff"), ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    b.wait_visible("#handoff-form").await;

    // Keyword trigger on with no keyword, a chat limit of 0, a day-long-plus timeout.
    check(&b, "#h-kw-enabled", true).await;
    while let Some(x) = b.find_all("#h-keywords .chip button").await.first() {
        b.click(x).await;
    }
    fill(&b, "#h-max-chats", "0").await;
    fill(&b, "#h-inactivity", "2000").await;
    let save = b.find("#h-save").await;
    b.click(&save).await;
    field_error(
        &b,
        "#handoff-form",
        "auto_triggers.keywords",
        "At least one keyword",
    )
    .await;
    field_error(
        &b,
        "#handoff-form",
        "default_max_concurrent_chats",
        "between 1 and 50",
    )
    .await;
    field_error(
        &b,
        "#handoff-form",
        "inactivity_timeout_minutes",
        "between 1 and 1440",
    )
    .await;
    b.screenshots("admin-handoff-errors").await;
    // Cancel puts the saved values back and clears the reasons.
    let cancel = b.find("#h-cancel").await;
    b.click(&cancel).await;
    assert_eq!(value_of(&b, "#h-max-chats").await, "5");
    assert!(
        b.find_all("#handoff-form [data-field]:not(:empty)")
            .await
            .is_empty(),
        "the reasons go with Cancel"
    );

    // An unknown time zone and a Monday that ends before it starts.
    open_section(&b, "hours", "#hours-form").await;
    fill(&b, "#bh-timezone", "Mars/Olympus").await;
    b.eval(
        "const e = document.getElementById('bh-monday-end'); e.value = '08:00'; \
         e.dispatchEvent(new Event('change')); return null;",
    )
    .await;
    let save = b.find("#bh-save").await;
    b.click(&save).await;
    field_error(&b, "#hours-form", "timezone", "not a known IANA time zone").await;
    field_error(
        &b,
        "#hours-form",
        "business_hours.monday.end",
        "later than its start",
    )
    .await;
    b.wait_text("#bh-preview", "Fix the marked fields").await;
    b.screenshots("admin-hours-errors").await;

    assert_eq!(
        app.settings(&project).await,
        before,
        "a refused save changes nothing"
    );
    b.quit().await;
}

#[actix_rt::test]
async fn rotating_the_secret_key_in_the_page_refuses_the_old_one() {
    let (app, project) = TestApp::with_handoff().await;
    let with = |secret: String| {
        let path = format!("/api/projects/{}/users/nobody/sessions", project.id);
        let app = &app;
        async move { app.get(&path, &secret).await.0 }
    };
    assert_eq!(with(project.secret_key.clone()).await, 200);
    let b = Browser::start().await;
    b.log_in(&app.url("/admin#keys"), ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    b.wait_visible("#sec-keys").await;
    b.wait_text("#sec-keys .hint", "shown once").await;
    assert_eq!(filled_value(&b, "#key-public").await, project.public_key);

    // Asked in the page first; Cancel rotates nothing.
    let rotate = b.find("#rotate-secret").await;
    b.click(&rotate).await;
    b.click_text(".confirm button", "Cancel").await;
    assert_eq!(with(project.secret_key.clone()).await, 200);
    b.click(&rotate).await;
    b.screenshots("admin-keys-confirm").await;
    b.click_text(".confirm button", "Rotate").await;
    b.wait_visible("#key-secret-new").await;
    b.wait_text("#keys-status", "no longer works").await;
    let fresh = value_of(&b, "#key-secret").await;
    assert!(
        fresh.starts_with("sk_") && fresh != project.secret_key,
        "{fresh}"
    );
    assert_eq!(
        with(project.secret_key.clone()).await,
        401,
        "the old key is refused"
    );
    assert_eq!(with(fresh).await, 200);
    b.screenshots("admin-keys").await;

    // Billing: the solver's share, refused beside the field when out of range.
    open_section(&b, "billing", "#billing-form").await;
    fill(&b, "#bill-share", &format!("150{ENTER}")).await;
    field_error(
        &b,
        "#billing-form",
        "solver_share_percent",
        "between 0 and 100",
    )
    .await;
    fill(&b, "#bill-share", &format!("70{ENTER}")).await;
    b.wait_text("#bill-status", "Saved").await;
    let (_, billing) = app
        .get(
            &format!("/api/projects/{}/billing", project.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(billing["solver_share_percent"], json!(70));
    b.screenshots("admin-billing").await;
    b.quit().await;
}

#[actix_rt::test]
async fn removing_an_agent_with_an_active_chat_requeues_it_and_logs_their_dashboard_out() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    let (id, _) = app.assigned_conversation(&project, "v-1", &ana).await;
    let dashboard = Browser::start().await;
    dashboard
        .log_in(&app.url("/dashboard"), &ana.email, AGENT_PASSWORD)
        .await;
    dashboard.wait_visible("#dash").await;
    dashboard.wait_text("#list button", "agent active").await;

    let admin = Browser::start().await;
    admin
        .log_in(&app.url("/admin#team"), ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    admin.wait_text("#team-list td", &ana.email).await;
    let remove = admin
        .wait_visible(&format!(
            "#team-list button[aria-label=\"Remove {}\"]",
            ana.email
        ))
        .await;
    admin.click(&remove).await;
    admin
        .wait_text(".confirm p", "open chats go back to the queue")
        .await;
    admin.screenshots("admin-team-remove").await;
    admin.click_text(".confirm button", "Remove").await;
    admin.wait_text("#team-status", "Removed Ana").await;
    // The list reloads after the answer: wait (bounded) for her row to go.
    let deadline = std::time::Instant::now() + ASYNC_BOUND;
    loop {
        let team = admin
            .eval("return document.getElementById('team-list').textContent;")
            .await;
        if !team.to_string().contains(&ana.email) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "she is still listed: {team}"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Her dashboard is logged out with a sentence; the chat waits in the queue.
    dashboard.wait_visible("#login").await;
    dashboard
        .wait_text("#login-err", "no longer an agent of")
        .await;
    assert!(!shown_dash(&dashboard).await, "the dashboard is hidden");
    let conv = app.conversation(&id, app.admin_token()).await;
    assert_eq!(conv["status"], json!("waiting"), "{conv}");
    dashboard.quit().await;
    admin.quit().await;
}

async fn shown_dash(b: &Browser) -> bool {
    b.eval("return !document.getElementById('dash').hidden;")
        .await
        .as_bool()
        .unwrap_or(true)
}

#[actix_rt::test]
async fn the_widget_section_sets_the_look_and_the_sites_that_may_use_it() {
    let (app, project) = TestApp::with_handoff().await;
    app.add_knowledge(&project, "Do you ship abroad?", "We ship to 30 countries.")
        .await;
    let port = app.addr.port();
    let allowed = format!("http://localhost:{port}");
    let b = Browser::start().await;
    b.log_in(&app.url("/admin#widget"), ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    b.wait_visible("#widget-form").await;
    let snippet = filled_value(&b, "#w-snippet").await;
    assert!(snippet.contains(&project.public_key), "{snippet}");

    fill(&b, "#w-origin", &format!("{allowed}{ENTER}")).await;
    b.wait_text("#w-origins .chip", &allowed).await;
    fill(&b, "#w-title", "Acme help").await;
    fill(&b, "#w-greeting", "Hello from Acme!").await;
    b.eval(
        "const c = document.getElementById('w-accent'); c.value = '#aa3300'; \
         c.dispatchEvent(new Event('input')); return null;",
    )
    .await;
    b.wait_text("#pv-title", "Acme help").await;
    let colour = b
        .eval("return getComputedStyle(document.getElementById('pv-launch')).backgroundColor;")
        .await;
    assert_eq!(
        colour,
        json!("rgb(170, 51, 0)"),
        "the preview follows the form"
    );
    // A site that is not an origin is refused beside the list.
    fill(&b, "#w-origin", &format!("shop.example.com{ENTER}")).await;
    let save = b.find("#w-save").await;
    b.click(&save).await;
    b.wait_text("#w-origin-errors", "shop.example.com: must start with http")
        .await;
    let bad = b
        .find("#w-origins button[aria-label=\"Remove site shop.example.com\"]")
        .await;
    b.click(&bad).await;
    b.click(&save).await;
    b.wait_text("#w-status", "Saved").await;
    b.screenshots("admin-widget").await;
    let (_, w) = app
        .get(
            &format!("/api/projects/{}/widget", project.id),
            app.admin_token(),
        )
        .await;
    assert_eq!(w["allowed_origins"], json!([allowed]));
    assert_eq!(w["appearance"]["accent_color"], json!("#aa3300"));

    // The widget on a site that is not on the list cannot start a chat...
    let elsewhere = Browser::start().await;
    let input = elsewhere
        .open_widget(&format!(
            "http://127.0.0.1:{port}/widget/demo?key={}",
            project.public_key
        ))
        .await;
    elsewhere
        .type_into(&input, &format!("Do you ship abroad?{ENTER}"))
        .await;
    elsewhere
        .wait_text(
            ".sbw-msg.customer",
            "not sent: this project's widget may not be used from",
        )
        .await;
    // ...and on the allowed one it looks as set and answers.
    let site = Browser::start().await;
    let input = site
        .open_widget(&format!("{allowed}/widget/demo?key={}", project.public_key))
        .await;
    site.wait_text(".sbw-panel h2", "Acme help").await;
    site.wait_text(".sbw-greeting", "Hello from Acme!").await;
    site.type_into(&input, &format!("Do you ship abroad?{ENTER}"))
        .await;
    site.wait_text(".sbw-msg.ai", "30 countries").await;
    site.screenshots("widget-custom-look").await;
    elsewhere.quit().await;
    site.quit().await;
    b.quit().await;
}

#[actix_rt::test]
async fn an_agent_sees_only_their_own_profile_and_keeps_it() {
    let (app, project, ana) = TestApp::with_agent_online().await;
    app.enable_handoff(&project, |s| s["show_human_button"] = json!(true))
        .await;
    let b = Browser::start().await;
    b.log_in(&app.url("/admin#handoff"), &ana.email, AGENT_PASSWORD)
        .await;
    b.wait_visible("#profile-form").await;
    b.wait_visible("#agent-only").await;
    let shown: Vec<Value> = b
        .eval(
            "return Array.from(document.querySelectorAll('nav.sections button')) \
             .filter(x => !x.hidden).map(x => x.dataset.section);",
        )
        .await
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        shown,
        [json!("profile")],
        "an agent administers nothing here"
    );
    let handoff_shown = b
        .eval("return !document.getElementById('sec-handoff').hidden;")
        .await;
    assert_eq!(handoff_shown, json!(false), "#handoff is not hers to open");

    fill(&b, "#p-name", "Ana Silva").await;
    fill(&b, "#p-avatar", "http://plain.example.com/a.png").await;
    let save = b.find("#profile-form button[type=submit]").await;
    b.click(&save).await;
    field_error(&b, "#profile-form", "avatar_url", "https://").await;
    let face = "https://cdn.example.com/ana.png";
    fill(&b, "#p-avatar", face).await;
    b.click(&save).await;
    b.wait_text("#p-status", "Saved").await;
    b.wait_text("#me", "Ana Silva").await;
    let view = app.agent_view(&project, &ana).await;
    assert_eq!(
        (view["name"].clone(), view["avatar_url"].clone()),
        (json!("Ana Silva"), json!(face))
    );
    // The dashboard shows her face beside her name (the tab keeps her token)...
    b.goto(&app.url("/dashboard")).await;
    b.wait_text("#team li", "Ana Silva (you)").await;
    b.wait_visible(&format!("#team img[src=\"{face}\"]")).await;
    // ...and a customer sees it in the widget's header once she answers.
    // (A confident answer first, so the AI does not hand off by itself.)
    app.add_knowledge(&project, "Do you ship abroad?", "We ship to 30 countries.")
        .await;
    let customer = Browser::start().await;
    let input = customer
        .open_widget(&app.url(&format!("/widget/demo?key={}", project.public_key)))
        .await;
    customer
        .type_into(&input, &format!("Do you ship abroad?{ENTER}"))
        .await;
    customer.wait_text(".sbw-msg.ai", "30 countries").await;
    let human = customer.wait_visible(".sbw-human").await;
    customer.click(&human).await;
    customer
        .wait_text(".sbw-status", "You are chatting with Ana Silva")
        .await;
    customer
        .wait_visible(&format!(".sbw-head img.sbw-face[src=\"{face}\"]"))
        .await;
    customer.quit().await;
    b.goto(&app.url("/admin#profile")).await;
    b.wait_visible("#profile-form").await;

    // A wrong current password is said beside it; the right one changes it.
    fill(&b, "#pw-current", "not-my-password").await;
    fill(&b, "#pw-new", "a-new-password-2").await;
    let change = b.find("#password-form button[type=submit]").await;
    b.click(&change).await;
    field_error(
        &b,
        "#password-form",
        "current_password",
        "not your current password",
    )
    .await;
    fill(&b, "#pw-current", AGENT_PASSWORD).await;
    b.click(&change).await;
    b.wait_text("#pw-status", "other sessions are logged out")
        .await;
    b.screenshots("admin-profile").await;
    assert_eq!(
        app.get("/api/auth/me", &ana.token).await.0,
        401,
        "her other session ended"
    );
    app.login(&ana.email, "a-new-password-2").await;
    b.quit().await;
}
