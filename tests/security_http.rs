//! Security regression suite, HTTP (issue 14 items 11, 14, 16): security
//! headers on pages and answers, who may close a conversation, and CSV
//! cells a spreadsheet would run as formulas.

mod common;

use awc::http::Method;
use common::*;
use serde_json::{json, Value};

async fn headers_of(app: &TestApp, path: &str) -> awc::http::header::HeaderMap {
    let (status, headers, _) = app
        .call_with_headers(Method::GET, path, Auth::None, None, &[])
        .await;
    assert_eq!(status, 200, "GET {path}");
    headers
}

fn header<'a>(h: &'a awc::http::header::HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

#[actix_rt::test]
async fn pages_forbid_framing_and_inline_script_and_answers_are_not_sniffed() {
    let app = TestApp::start().await;
    for path in [
        "/",
        "/dashboard",
        "/solver",
        "/explorer",
        "/join/00000000-0000-0000-0000-000000000000",
    ] {
        let h = headers_of(&app, path).await;
        let csp = header(&h, "content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-eval"), "{path}: {csp}");
        let script_src = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or_default();
        assert!(!script_src.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(header(&h, "referrer-policy"), "no-referrer", "{path}");
        assert_eq!(header(&h, "x-content-type-options"), "nosniff", "{path}");
    }
    // A customer's site may frame its own page with the widget.
    let h = headers_of(&app, "/widget/demo").await;
    assert!(!header(&h, "content-security-policy").contains("frame-ancestors"));
    // JSON answers and scripts are never sniffed into something else.
    for path in ["/healthz", "/widget.js", "/assets/dashboard.js"] {
        let h = headers_of(&app, path).await;
        assert_eq!(header(&h, "x-content-type-options"), "nosniff", "{path}");
    }
}

#[actix_rt::test]
async fn an_agent_closes_their_own_or_unassigned_conversations_only() {
    let (app, project) = TestApp::with_handoff().await;
    let alice = app.add_agent(&project, "Alice", 1).await;
    let bob = app.add_agent(&project, "Bob", 1).await;
    app.set_status(&alice, &project, "online").await;
    app.heartbeat(&alice, &project).await;
    let (alices, _) = app.assigned_conversation(&project, "v-a", &alice).await;

    // Bob cannot close Alice's live chat; nothing changes.
    let (status, body) = app.close(&alices, &bob.token).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], json!("FORBIDDEN"), "{body}");
    let view = app.conversation(&alices, app.admin_token()).await;
    assert_eq!(view["status"], json!("agent_active"), "{view}");
    assert_eq!(app.chat_counts(&project, &[&alice]).await, vec![1]);

    // Spam waiting in the queue (assigned to no one) any agent may close.
    let (spam, _) = app.waiting_conversation(&project, "v-spam", 1).await;
    let (status, body) = app.close(&spam, &bob.token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], json!("closed"), "{body}");

    // Alice closes her own; an admin could have too.
    let (status, body) = app.close(&alices, &alice.token).await;
    assert_eq!(status, 200, "{body}");
    let (another, _) = {
        app.set_status(&alice, &project, "online").await;
        app.assigned_conversation(&project, "v-b", &alice).await
    };
    let (status, body) = app.close(&another, app.admin_token()).await;
    assert_eq!(status, 200, "{body}");
}

#[actix_rt::test]
async fn csv_cells_with_a_delimiter_of_either_locale_are_quoted() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (status, body) = app
        .post(
            "/api/activity/sessions",
            &project.secret_key,
            json!({
                "user_id": "user-csv",
                "server_name": "Files",
                "server_slug": "files",
                "title": "x;=1+1",
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, csv) = app
        .get(
            &format!(
                "/api/projects/{}/users/user-csv/sessions/export?format=csv",
                project.id
            ),
            app.admin_token(),
        )
        .await;
    assert_eq!(status, 200, "{csv}");
    let Value::String(csv) = csv else {
        panic!("CSV expected, got {csv}")
    };
    assert!(csv.contains(",\"x;=1+1\","), "{csv}");
    assert!(!csv.contains(",x;=1+1,"), "{csv}");
}
