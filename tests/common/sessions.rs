//! Billable sessions: a project with a solver, customers' tickets, and a
//! session's requests (`/api/sessions/{id}/...`) as its solver or its
//! customer (the join token) makes them.

use super::{s, Agent, Auth, Project, TestApp};
use awc::http::Method;
use chrono::Duration;
use serde_json::{json, Value};

impl TestApp {
    /// A fresh server with the project "Fixers" and its solver "Sol" (an
    /// agent of 3 chats): where the session tests start.
    pub async fn with_solver() -> (TestApp, Project, Agent) {
        let app = TestApp::start().await;
        let project = app.create_project("Fixers").await;
        let solver = app.add_agent(&project, "Sol", 3).await;
        (app, project, solver)
    }

    /// POST a ticket with `project`'s public key, as a customer does.
    pub async fn post_ticket(&self, project: &Project, body: Value) -> (u16, Value) {
        self.call(
            Method::POST,
            "/api/tickets",
            Auth::ProjectKey(&project.public_key),
            Some(body),
        )
        .await
    }

    /// [`TestApp::with_solver`] and an ad hoc session of the solver, not
    /// started: `(app, project, solver, session id, the customer's token)`.
    pub async fn with_session() -> (TestApp, Project, Agent, String, String) {
        let (app, project, solver) = TestApp::with_solver().await;
        let (sess, token) = app.adhoc_session(&project, &solver).await;
        let id = s(&sess["id"]);
        (app, project, solver, id, token)
    }

    /// A ticket created by the customer with the project key.
    pub async fn customer_ticket(&self, project: &Project, name: &str) -> Value {
        let (st, body) = self
            .post_ticket(
                project,
                json!({
                    "project_id": project.id,
                    "customer_name": name,
                    "customer_phone": "+1 555 0100",
                    "customer_email": "ada@example.com",
                    "description": "My printer prints only blank pages",
                    "urgency": "high",
                }),
            )
            .await;
        assert_eq!(st, 201, "create ticket: {body}");
        body
    }

    /// POST `/api/sessions/{id}/{action}` with `body`: `(status, body)`.
    pub async fn session_post(
        &self,
        id: &str,
        action: &str,
        token: &str,
        body: Value,
    ) -> (u16, Value) {
        self.post(&format!("/api/sessions/{id}/{action}"), token, body)
            .await
    }

    /// Set the session's timer `status` (`active`, `paused`, ...).
    pub async fn session_status(&self, id: &str, token: &str, status: &str) -> (u16, Value) {
        self.session_post(id, "status", token, json!({ "status": status }))
            .await
    }

    /// Set the session's timer `status`; asserts 200 and returns the session.
    pub async fn session_status_ok(&self, id: &str, token: &str, status: &str) -> Value {
        let res = self.session_status(id, token, status).await;
        assert_eq!(res.0, 200, "status {status}: {}", res.1);
        res.1
    }

    /// GET the session; asserts 200.
    pub async fn session(&self, id: &str, token: &str) -> Value {
        self.get_ok(&format!("/api/sessions/{id}"), token, "get session")
            .await
    }

    /// PUT the session's notes: `(status, body)`.
    pub async fn session_notes(&self, id: &str, token: &str, notes: &str) -> (u16, Value) {
        self.put(
            &format!("/api/sessions/{id}/notes"),
            token,
            json!({ "notes": notes }),
        )
        .await
    }

    /// Complete the session on `tier`: `(status, body)`.
    pub async fn complete_session(&self, id: &str, token: &str, tier: &str) -> (u16, Value) {
        self.session_post(id, "complete", token, json!({ "tier": tier }))
            .await
    }

    /// An ad hoc session of `solver` brought to `status` (the timer ran
    /// 60 s when it started at all); returns its id.
    pub async fn session_in(&self, project: &Project, solver: &Agent, status: &str) -> String {
        let (sess, _) = self.adhoc_session(project, solver).await;
        let id = s(&sess["id"]);
        let steps: &[&str] = match status {
            "not_started" => &[],
            "active" => &["active"],
            "paused" => &["active", "paused"],
            "completed" => &["active", "completed"],
            _ => &[],
        };
        for step in steps {
            if *step == "active" {
                self.session_status_ok(&id, &solver.token, "active").await;
                self.advance(Duration::seconds(60)).await;
            } else {
                self.session_status_ok(&id, &solver.token, step).await;
            }
        }
        if status == "cancelled" {
            let (st, body) = self
                .session_post(&id, "cancel", &solver.token, json!({}))
                .await;
            assert_eq!(st, 200, "{body}");
        }
        id
    }
}
