//! The public HTTP API as the ws driver uses it for setup and for the
//! end-of-run checks (docs/protocol.md sections 2 and 3).

use awc::http::Method;
use serde_json::{json, Value};
use std::time::Duration;

pub struct Api {
    client: awc::Client,
    pub base: String,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub public_key: String,
}

#[derive(Debug, Clone)]
pub struct Agent {
    pub user_id: String,
    pub token: String,
}

#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    ProjectKey(&'a str),
}

/// One stored message, as far as the checks read it.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub seq: i64,
    pub client_msg_id: Option<String>,
    pub content: String,
    pub sender_type: String,
    pub internal: bool,
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

impl Api {
    pub fn new(base: &str) -> Api {
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(120))
            .finish();
        Api {
            client,
            base: base.trim_end_matches('/').to_string(),
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        req = match auth {
            Auth::None => req,
            Auth::Bearer(t) => req.insert_header(("Authorization", format!("Bearer {t}"))),
            Auth::ProjectKey(k) => req.insert_header(("X-Project-Key", k.to_string())),
        };
        let sent = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        };
        let mut resp = sent.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .body()
            .limit(64 << 20)
            .await
            .map_err(|e| format!("{method} {path}: reading the body: {e}"))?;
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok((status, v))
    }

    /// A call that must answer `want`; the error names the call and the body.
    pub async fn expect(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<&Value>,
        want: u16,
    ) -> Result<Value, String> {
        let (status, v) = self.call(method.clone(), path, auth, body).await?;
        if status != want {
            return Err(format!(
                "{method} {path}: expected {want}, got {status}: {v}"
            ));
        }
        Ok(v)
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<String, String> {
        let v = self
            .expect(
                Method::POST,
                "/api/auth/login",
                Auth::None,
                Some(&json!({ "email": email, "password": password })),
                200,
            )
            .await?;
        Ok(s(&v["token"]))
    }

    /// A project with handoff enabled (GET the settings, PUT them back with
    /// `enabled: true`).
    pub async fn project_with_handoff(&self, admin: &str, name: &str) -> Result<Project, String> {
        let v = self
            .expect(
                Method::POST,
                "/api/projects",
                Auth::Bearer(admin),
                Some(&json!({ "name": name })),
                201,
            )
            .await?;
        let p = Project {
            id: s(&v["id"]),
            public_key: s(&v["public_key"]),
        };
        let path = format!("/api/projects/{}/handoff-settings", p.id);
        let mut settings = self
            .expect(Method::GET, &path, Auth::Bearer(admin), None, 200)
            .await?;
        settings["enabled"] = json!(true);
        let stored = self
            .expect(
                Method::PUT,
                &path,
                Auth::Bearer(admin),
                Some(&settings),
                200,
            )
            .await?;
        if stored["enabled"] != json!(true) {
            return Err(format!("handoff settings did not take: {stored}"));
        }
        Ok(p)
    }

    /// Invite an agent, accept the invitation, and go online.
    pub async fn online_agent(
        &self,
        admin: &str,
        project: &Project,
        email: &str,
        max_chats: u32,
    ) -> Result<Agent, String> {
        let v = self
            .expect(
                Method::POST,
                &format!("/api/projects/{}/members", project.id),
                Auth::Bearer(admin),
                Some(&json!({
                    "email": email, "name": email.split('@').next().unwrap_or("agent"),
                    "role": "agent", "max_concurrent_chats": max_chats
                })),
                201,
            )
            .await?;
        let invite = s(&v["invite_token"]);
        let v = self
            .expect(
                Method::POST,
                "/api/invitations/accept",
                Auth::None,
                Some(&json!({ "token": invite, "password": "load-agent-password" })),
                200,
            )
            .await?;
        let agent = Agent {
            user_id: s(&v["user"]["id"]),
            token: s(&v["token"]),
        };
        self.expect(
            Method::PUT,
            "/api/agent/status",
            Auth::Bearer(&agent.token),
            Some(&json!({ "project_id": project.id, "status": "online" })),
            200,
        )
        .await?;
        Ok(agent)
    }

    /// A widget conversation: `(conversation id, customer token)`.
    pub async fn widget_conversation(
        &self,
        project: &Project,
        visitor: &str,
    ) -> Result<(String, String), String> {
        let v = self
            .expect(
                Method::POST,
                "/api/widget/conversations",
                Auth::ProjectKey(&project.public_key),
                Some(&json!({ "visitor_id": visitor })),
                201,
            )
            .await?;
        Ok((s(&v["conversation"]["id"]), s(&v["customer_token"])))
    }

    /// Hand off by the button; the whole answer.
    pub async fn handoff(&self, conversation: &str, customer: &str) -> Result<Value, String> {
        self.expect(
            Method::POST,
            &format!("/api/conversations/{conversation}/handoff"),
            Auth::Bearer(customer),
            Some(&json!({ "reason": "button_click" })),
            200,
        )
        .await
    }

    /// Every message `token` may see, ascending by seq, following the
    /// cursor 100 at a time.
    pub async fn messages(
        &self,
        conversation: &str,
        token: &str,
    ) -> Result<Vec<StoredMessage>, String> {
        let mut out = Vec::new();
        let mut path = format!("/api/conversations/{conversation}/messages?after_seq=0&limit=100");
        for _ in 0..1_000_000 {
            let v = self
                .expect(Method::GET, &path, Auth::Bearer(token), None, 200)
                .await?;
            let items = v["items"]
                .as_array()
                .ok_or_else(|| format!("messages page without items: {v}"))?;
            for m in items {
                out.push(StoredMessage {
                    seq: m["seq"].as_i64().unwrap_or(-1),
                    client_msg_id: m["client_msg_id"].as_str().map(String::from),
                    content: s(&m["content"]),
                    sender_type: s(&m["sender_type"]),
                    internal: m["internal"].as_bool().unwrap_or(false),
                });
            }
            match v["next_cursor"].as_str() {
                Some(c) if !items.is_empty() => {
                    path =
                        format!("/api/conversations/{conversation}/messages?limit=100&cursor={c}");
                }
                _ => return Ok(out),
            }
        }
        Err(format!("the messages of {conversation} never ended"))
    }

    /// `GET /api/projects/:id/agents`.
    pub async fn agents(&self, admin: &str, project: &Project) -> Result<Vec<Value>, String> {
        let v = self
            .expect(
                Method::GET,
                &format!("/api/projects/{}/agents", project.id),
                Auth::Bearer(admin),
                None,
                200,
            )
            .await?;
        v.as_array()
            .cloned()
            .ok_or_else(|| format!("agents: not a list: {v}"))
    }

    /// Every conversation of the project in `status` (all pages).
    /// Every conversation of `status`, read once traffic has settled: the
    /// list is ordered by last activity, which the server writes up to two
    /// seconds after a message, and a conversation that moves to the front
    /// while the pages are read is skipped. Reads until two listings agree.
    pub async fn settled_conversations(
        &self,
        admin: &str,
        project: &Project,
        status: &str,
    ) -> Result<Vec<Value>, String> {
        let ids = |v: &[Value]| {
            let mut ids: Vec<String> = v.iter().map(|c| c["id"].to_string()).collect();
            ids.sort();
            ids
        };
        let mut last = self.conversations(admin, project, status).await?;
        for _ in 0..20 {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            let again = self.conversations(admin, project, status).await?;
            if ids(&again) == ids(&last) {
                return Ok(again);
            }
            last = again;
        }
        Err("the conversation list did not settle in 10 s".into())
    }

    pub async fn conversations(
        &self,
        admin: &str,
        project: &Project,
        status: &str,
    ) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..1_000_000 {
            let mut path = format!(
                "/api/conversations?project_id={}&status={status}&limit=100",
                project.id
            );
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let v = self
                .expect(Method::GET, &path, Auth::Bearer(admin), None, 200)
                .await?;
            let items = v["items"]
                .as_array()
                .ok_or_else(|| format!("conversations page without items: {v}"))?;
            out.extend(items.iter().cloned());
            match v["next_cursor"].as_str() {
                Some(c) if !items.is_empty() => cursor = Some(c.to_string()),
                _ => return Ok(out),
            }
        }
        Err("the conversation list never ended".into())
    }
}
