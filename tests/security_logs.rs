//! Security regression suite, logs (issue 14 item 5): no credential in
//! any log line at any level. This binary installs a subscriber at TRACE
//! that keeps every line (the server's own `tracing` events and the access
//! log, which actix writes through `log`), drives requests that carry each
//! kind of credential in the places the contract allows, and looks for
//! them in what was logged.

mod common;

use awc::http::Method;
use common::*;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("the only subscriber of this test binary");
        logs
    })
}

fn logged() -> String {
    let bytes = captured().0.lock().unwrap_or_else(|p| p.into_inner());
    String::from_utf8_lossy(&bytes).into_owned()
}

#[actix_rt::test]
async fn no_credential_reaches_the_log() {
    captured();
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let staff = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (conv, customer) = app.new_conversation(&project, "v-logs").await;
    let id = s(&conv["id"]);
    // A URL token on the WebSocket (the contract still accepts it) ...
    let mut ws = app.ws(&customer).await;
    ws.subscribe(&format!("conversation:{id}"), None).await;
    let mut ws_staff = app.ws(&staff).await;
    ws_staff.op_ok(json!({ "op": "ping" })).await;
    // ... a project key in a page's address and a header, a secret key,
    // a join link's token, a bearer header.
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/widget/demo?key={}", project.public_key),
            Auth::None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .post(
            "/api/activity/sessions",
            &project.secret_key,
            json!({ "user_id": "u1", "server_name": "Files", "server_slug": "files" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let solver = app.add_agent(&project, "Sol", 2).await;
    let (session, _) = app.adhoc_session(&project, &solver).await;
    let access = s(&session["access_token"]);
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/join/{}?token={access}", s(&session["id"])),
            Auth::None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .get(&format!("/api/sessions/{}", s(&session["id"])), &access)
        .await;
    assert_eq!(status, 200);
    // A wrong password is a credential too.
    let (status, _) = app
        .call(
            Method::POST,
            "/api/auth/login",
            Auth::None,
            Some(json!({ "email": ADMIN_EMAIL, "password": "Hunter2-not-it" })),
        )
        .await;
    assert_eq!(status, 401);
    ws.close().await;
    ws_staff.close().await;
    actix_rt::time::sleep(QUIET).await;

    let logs = logged();
    // The access log did run (so the search below searched something).
    assert!(logs.contains("GET /ws?token="), "no access log lines");
    assert!(logs.contains("/join/"), "no access log lines");
    let secrets = [
        ("staff token", staff.as_str()),
        ("customer token", customer.as_str()),
        ("public key", project.public_key.as_str()),
        ("secret key", project.secret_key.as_str()),
        ("join token", access.as_str()),
        ("agent token", solver.token.as_str()),
        ("admin password", ADMIN_PASSWORD),
        ("agent password", AGENT_PASSWORD),
        ("wrong password", "Hunter2-not-it"),
    ];
    for (what, secret) in secrets {
        if let Some(at) = logs.find(secret) {
            let line = logs[..at].rsplit('\n').next().unwrap_or_default();
            panic!("the {what} is in the log: {line}{secret}…");
        }
    }
}
