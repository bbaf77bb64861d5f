//! Setting the stage: projects, their settings and knowledge, members and
//! agents (invited, accepted, proven), agent status, ad hoc sessions. Each
//! helper asserts its own success.

use super::{s, Auth, TestApp, AGENT_PASSWORD};
use awc::http::Method;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub public_key: String,
    pub secret_key: String,
}

#[derive(Debug, Clone)]
pub struct Agent {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub token: String,
}

impl TestApp {
    /// A fresh server with the project "Acme", handoff on in its default
    /// settings, and no agents yet.
    pub async fn with_handoff() -> (TestApp, Project) {
        let app = TestApp::start().await;
        let project = app.create_project("Acme").await;
        app.enable_handoff(&project, |_| {}).await;
        (app, project)
    }

    /// A fresh server with the project "Acme", handoff on, and its agent
    /// "Ana" (2 chats) online: where most conversation tests start.
    pub async fn with_agent_online() -> (TestApp, Project, Agent) {
        let (app, project) = TestApp::with_handoff().await;
        let ana = app.add_agent(&project, "Ana", 2).await;
        app.set_status(&ana, &project, "online").await;
        (app, project, ana)
    }

    /// The project "Acme" with handoff on business hours in Tokyo (closed
    /// at the clock's default instant, Monday 19:00 there), then `edit`.
    pub async fn project_closed_in_tokyo(&self, edit: impl FnOnce(&mut Value)) -> Project {
        let project = self.create_project("Acme").await;
        self.enable_handoff(&project, |s| {
            s["business_hours_enabled"] = json!(true);
            s["timezone"] = json!("Asia/Tokyo");
            edit(s);
        })
        .await;
        project
    }

    pub async fn create_project(&self, name: &str) -> Project {
        let (status, body) = self
            .post("/api/projects", &self.admin, json!({ "name": name }))
            .await;
        assert_eq!(status, 201, "create project: {body}");
        Project {
            id: s(&body["id"]),
            name: s(&body["name"]),
            public_key: s(&body["public_key"]),
            secret_key: s(&body["secret_key"]),
        }
    }

    pub async fn settings(&self, project: &Project) -> Value {
        let path = format!("/api/projects/{}/handoff-settings", project.id);
        self.get_ok(&path, &self.admin, "get handoff settings")
            .await
    }

    /// GET the settings, set `enabled: true`, let `edit` change the rest,
    /// PUT the whole object back. Returns what the server stored.
    pub async fn enable_handoff(&self, project: &Project, edit: impl FnOnce(&mut Value)) -> Value {
        let mut settings = self.settings(project).await;
        settings["enabled"] = json!(true);
        edit(&mut settings);
        let (status, body) = self
            .put(
                &format!("/api/projects/{}/handoff-settings", project.id),
                &self.admin,
                settings,
            )
            .await;
        assert_eq!(status, 200, "put handoff settings: {body}");
        assert_eq!(body["enabled"], json!(true), "settings after put: {body}");
        body
    }

    pub async fn add_knowledge(&self, project: &Project, question: &str, answer: &str) -> Value {
        let (status, body) = self
            .post(
                &format!("/api/projects/{}/knowledge", project.id),
                &self.admin,
                json!({ "question": question, "answer": answer }),
            )
            .await;
        assert!(
            status == 201 || status == 200,
            "add knowledge: {status} {body}"
        );
        body
    }

    /// Invite an agent (role `agent`) and accept the invitation.
    pub async fn add_agent(&self, project: &Project, name: &str, max: u32) -> Agent {
        self.add_member(project, name, "agent", Some(max)).await
    }

    pub async fn add_member(
        &self,
        project: &Project,
        name: &str,
        role: &str,
        max: Option<u32>,
    ) -> Agent {
        let email = format!(
            "{}-{}@example.com",
            name.to_lowercase().replace(' ', "."),
            self.unique()
        );
        let mut invite = json!({ "email": email, "name": name, "role": role });
        if let Some(max) = max {
            invite["max_concurrent_chats"] = json!(max);
        }
        let (status, body) = self
            .post(
                &format!("/api/projects/{}/members", project.id),
                &self.admin,
                invite,
            )
            .await;
        assert_eq!(status, 201, "invite {name}: {body}");
        let invite_token = s(&body["invite_token"]);
        let (status, body) = self
            .call(
                Method::POST,
                "/api/invitations/accept",
                Auth::None,
                Some(json!({ "token": invite_token, "password": AGENT_PASSWORD })),
            )
            .await;
        assert_eq!(status, 200, "accept invitation of {name}: {body}");
        Agent {
            user_id: s(&body["user"]["id"]),
            name: name.to_string(),
            email,
            token: s(&body["token"]),
        }
    }

    /// The code of the newest staff email-proof mail to `email`, read as
    /// the test admin from the instance outbox (where the built-in email
    /// provider keeps email of no project).
    pub async fn staff_email_code(&self, email: &str) -> String {
        let body = self
            .get_ok("/api/instance/emails", &self.admin, "instance outbox")
            .await;
        let mail = body["items"]
            .as_array()
            .expect("outbox items")
            .iter()
            .find(|m| m["to"] == json!(email) && m["kind"] == json!("staff_email_code"))
            .unwrap_or_else(|| panic!("no code mailed to {email}: {body}"))
            .clone();
        let text = s(&mail["body"]);
        text.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or_else(|| panic!("no 6-digit code in {text:?}"))
            .to_string()
    }

    /// Prove `member`'s email as its owner would: ask for a code, read it
    /// where the mail went, confirm it.
    pub async fn prove_email(&self, member: &Agent) {
        let (status, body) = self
            .post("/api/auth/email-verification", &member.token, json!({}))
            .await;
        assert_eq!(status, 202, "ask for a code for {}: {body}", member.email);
        let code = self.staff_email_code(&member.email).await;
        let (status, body) = self
            .post(
                "/api/auth/email-verification/confirm",
                &member.token,
                json!({ "code": code }),
            )
            .await;
        assert_eq!(status, 200, "confirm the code of {}: {body}", member.email);
        assert_eq!(body["user"]["email_verified"], json!(true), "{body}");
    }

    /// Let `member` create projects: the test admin (the bootstrap admin,
    /// who holds the instance's permission) grants it, after `member`
    /// proved its email, which granting needs.
    pub async fn grant_project_creation(&self, member: &Agent) {
        self.prove_email(member).await;
        let (status, body) = self
            .put(
                "/api/instance/project-creators",
                &self.admin,
                json!({ "email": member.email, "allowed": true }),
            )
            .await;
        assert_eq!(
            status, 200,
            "grant project creation to {}: {body}",
            member.email
        );
        assert_eq!(body["can_create_projects"], json!(true), "{body}");
    }

    pub async fn set_status(&self, agent: &Agent, project: &Project, status: &str) -> Value {
        let (code, body) = self
            .put(
                "/api/agent/status",
                &agent.token,
                json!({ "project_id": project.id, "status": status }),
            )
            .await;
        assert_eq!(code, 200, "set {} {status}: {body}", agent.name);
        assert_eq!(body["status"], json!(status), "agent view: {body}");
        body
    }

    pub async fn heartbeat(&self, agent: &Agent, project: &Project) {
        let (code, body) = self
            .post(
                "/api/agent/heartbeat",
                &agent.token,
                json!({ "project_id": project.id }),
            )
            .await;
        assert_eq!(code, 204, "heartbeat of {}: {body}", agent.name);
    }

    pub async fn agents(&self, project: &Project) -> Vec<Value> {
        let path = format!("/api/projects/{}/agents", project.id);
        self.get_ok(&path, &self.admin, "list agents")
            .await
            .as_array()
            .expect("agents array")
            .clone()
    }

    pub async fn agent_view(&self, project: &Project, agent: &Agent) -> Value {
        self.agents(project)
            .await
            .into_iter()
            .find(|a| a["user_id"] == json!(agent.user_id))
            .unwrap_or_else(|| panic!("{} is not in the agents list", agent.name))
    }

    /// `current_chat_count` of each agent, in the order given.
    pub async fn chat_counts(&self, project: &Project, agents: &[&Agent]) -> Vec<i64> {
        let list = self.agents(project).await;
        agents
            .iter()
            .map(|a| {
                list.iter()
                    .find(|v| v["user_id"] == json!(a.user_id))
                    .and_then(|v| v["current_chat_count"].as_i64())
                    .unwrap_or_else(|| panic!("no count for {}", a.name))
            })
            .collect()
    }

    /// An ad hoc billable session of `solver`: `(session, access_token)`.
    pub async fn adhoc_session(&self, project: &Project, solver: &Agent) -> (Value, String) {
        let (st, body) = self
            .post(
                "/api/sessions",
                &solver.token,
                json!({
                    "project_id": project.id,
                    "adhoc": { "customer_name": "Walk In", "customer_phone": "+1 555 0199" },
                }),
            )
            .await;
        assert_eq!(st, 201, "ad hoc session: {body}");
        let token = s(&body["access_token"]);
        (body, token)
    }
}
