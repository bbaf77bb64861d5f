//! A customer's identity: proof as a host site gives it (HMAC-SHA256
//! `user_hash`), identifying from the widget, one-time codes by email, and
//! the staff's view of the customer.

use super::{s, Auth, Project, TestApp};
use awc::http::Method;
use serde_json::{json, Value};

/// HMAC-SHA256 (RFC 2104) of `message` under `key`, in hex: what a host
/// site's server computes as `user_hash`. Written here from the RFC, not
/// taken from the server, so tests check the server against it.
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    const BLOCK: usize = 64;
    let mut k = if key.len() > BLOCK {
        Sha256::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(BLOCK, 0);
    let inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner_hash = Sha256::new()
        .chain_update(&inner)
        .chain_update(message)
        .finalize();
    let outer_hash = Sha256::new()
        .chain_update(&outer)
        .chain_update(inner_hash)
        .finalize();
    hex::encode(outer_hash)
}

/// The `user_hash` proving `email` under a project's identity secret.
pub fn user_hash(secret: &str, email: &str) -> String {
    hmac_sha256_hex(secret.as_bytes(), email.as_bytes())
}

impl TestApp {
    /// The project's identity secret, as its admin reads it.
    pub async fn identity_secret(&self, project: &Project) -> String {
        let path = format!("/api/projects/{}", project.id);
        let body = self.get_ok(&path, &self.admin, "get project").await;
        s(&body["identity_secret"])
    }

    /// Identify with proof (the host site's `user_hash`): `(status, body)`.
    pub async fn identify_proven(
        &self,
        project: &Project,
        token: &str,
        email: &str,
        name: Option<&str>,
    ) -> (u16, Value) {
        let secret = self.identity_secret(project).await;
        let mut body = json!({ "email": email, "user_hash": user_hash(&secret, email) });
        if let Some(name) = name {
            body["name"] = json!(name);
        }
        self.post("/api/widget/identify", token, body).await
    }
}

/// A customer's identity as the widget and the staff see it: opening a
/// visit, identifying, one-time codes and the project's outbox.
impl TestApp {
    /// POST /api/widget/conversations with the project key and `body`:
    /// `(status, body)`, for the visit's own checks.
    pub async fn start_visit(&self, project: &Project, body: Value) -> (u16, Value) {
        self.call(
            Method::POST,
            "/api/widget/conversations",
            Auth::ProjectKey(&project.public_key),
            Some(body),
        )
        .await
    }

    /// POST /api/widget/identify as the customer of `token`.
    pub async fn identify(&self, token: &str, body: Value) -> (u16, Value) {
        self.post("/api/widget/identify", token, body).await
    }

    /// Ask for a one-time code mailed to `email`, as the customer of `token`.
    pub async fn ask_identity_code(&self, token: &str, email: &str) -> (u16, Value) {
        self.post(
            "/api/widget/identify/code",
            token,
            json!({ "email": email }),
        )
        .await
    }

    /// The staff's customer panel, as the test admin reads it; asserts 200.
    pub async fn customer_panel(&self, project: &Project, customer: &str) -> Value {
        let path = format!("/api/projects/{}/customers/{customer}", project.id);
        self.get_ok(&path, &self.admin, "customer panel").await
    }

    /// How many conversations the project has, as staff list them.
    pub async fn conversation_count(&self, project: &Project) -> usize {
        let path = format!("/api/conversations?project_id={}&limit=100", project.id);
        let body = self.get_ok(&path, &self.admin, "list conversations").await;
        body["items"].as_array().map_or(0, Vec::len)
    }

    /// The project's built-in outbox, oldest first.
    pub async fn project_outbox(&self, project: &Project) -> Vec<Value> {
        let path = format!("/api/projects/{}/emails", project.id);
        let body = self.get_ok(&path, &self.admin, "project outbox").await;
        // What went to customers: the team's own invitations are not that.
        let mut items: Vec<Value> = body["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|m| m["kind"] != json!("invitation"))
            .collect();
        items.reverse();
        items
    }

    /// The six-digit code of the newest identity-code email to `to`.
    pub async fn identity_code_sent_to(&self, project: &Project, to: &str) -> String {
        let mail = self
            .project_outbox(project)
            .await
            .into_iter()
            .rev()
            .find(|m| m["to"] == json!(to) && m["kind"] == json!("identity_code"))
            .unwrap_or_else(|| panic!("no identity code was sent to {to}"));
        let body = s(&mail["body"]);
        body.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or_else(|| panic!("no six-digit code in {body:?}"))
            .to_string()
    }
}
