//! Shared harness of the black-box tests: a real Switchboard server on
//! 127.0.0.1:0 over a fresh database, driven by a `ManualClock`, with an
//! HTTP client and real WebSocket clients.
//!
//! The backend comes from the environment, so the same tests run on both:
//! `SWITCHBOARD_TEST_BACKEND=sqlite` (the default) gives every test a fresh
//! SQLite file in a temp dir; `SWITCHBOARD_TEST_BACKEND=postgres` with
//! `SWITCHBOARD_TEST_PG_URL=postgres://user@host:port/db` (a superuser's URL)
//! gives every test a fresh PostgreSQL database cloned from a migrated
//! template (see [`TestDb`]).
//!
//! Every helper that sets the stage asserts its own success, so a test body
//! only states what it is about. Helpers that exercise the thing under test
//! return `(status, json)` and leave the judgement to the test.
#![allow(dead_code)]

use awc::error::WsProtocolError;
use awc::http::Method;
use awc::ws::{CloseReason, Frame, Message};
use awc::Client;
use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration as StdDuration;
use switchboard::config::{Config, DatabaseUrl};
use switchboard::server::{start, RunningServer};
use switchboard_actors::clock::{ManualClock, SharedClock};
use tempfile::TempDir;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-1";
/// The password every member made by [`TestApp::add_member`] accepts.
pub const AGENT_PASSWORD: &str = "agent-password-1";
/// Bound for effects that happen asynchronously in real time (the AI
/// answer, queue processing after a command). Domain time never waits on
/// this: it is driven by the ManualClock.
pub const ASYNC_BOUND: StdDuration = StdDuration::from_secs(5);
/// How long to listen to make sure that something does NOT arrive.
pub const QUIET: StdDuration = StdDuration::from_millis(300);

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

/// How a request authenticates.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    ProjectKey(&'a str),
}

pub struct TestApp {
    pub clock: ManualClock,
    /// The in-process server; `None` for an app attached to a server that
    /// runs elsewhere (a subprocess).
    server: Option<RunningServer>,
    pub addr: SocketAddr,
    /// Declared after `server`, so the server is dropped first.
    db: Option<TestDb>,
    client: Client,
    admin: String,
    counter: Cell<u32>,
    /// Each visitor's secret, by (project id, visitor id), as the server
    /// issued it: a visitor comes back with it, as the widget does.
    visitor_secrets: RefCell<HashMap<(String, String), String>>,
}

/// The test config on `url`, with the rate limits off: the clock is frozen
/// unless a test moves it, so no bucket ever refills, and the tests send far
/// more than 10 messages per visitor (or 100 requests per admin) at one
/// instant. tests/limits.rs turns them on with `start_with_config`.
pub fn test_config(url: DatabaseUrl) -> Config {
    let mut config = Config::for_tests_on(url);
    config.rate_limits = switchboard::limits::RateLimits::OFF;
    config
}

impl TestApp {
    /// A fresh server at the ManualClock's default instant
    /// (Monday 2026-11-16 10:00:00 UTC).
    pub async fn start() -> Self {
        Self::start_with_clock(ManualClock::at_default()).await
    }

    /// A fresh server whose clock starts at `at`.
    pub async fn start_at(at: DateTime<Utc>) -> Self {
        Self::start_with_clock(ManualClock::new(at)).await
    }

    async fn start_with_clock(clock: ManualClock) -> Self {
        Self::start_with_config(clock, |_| {}).await
    }

    /// A fresh server whose test config `edit` changes first (e.g. webhook
    /// URLs, rate limits). `restart` goes back to the plain test config.
    pub async fn start_with_config(clock: ManualClock, edit: impl FnOnce(&mut Config)) -> Self {
        let db = TestDb::fresh().await;
        let mut config = test_config(db.url().clone());
        edit(&mut config);
        let server = match start(config, Arc::new(clock.clone()) as SharedClock).await {
            Ok(server) => server,
            Err(e) => panic!("server starts on {}: {e}", db.url().redacted()),
        };
        Self::with_parts(clock, server.addr, Some(server), Some(db)).await
    }

    /// An app that drives a server running elsewhere (a subprocess) at
    /// `addr`, logged in as the test admin. `tick`, `advance` and `restart`
    /// are not available on it; the server's clock is its own.
    pub async fn attach(addr: SocketAddr) -> Self {
        Self::with_parts(ManualClock::at_default(), addr, None, None).await
    }

    async fn with_parts(
        clock: ManualClock,
        addr: SocketAddr,
        server: Option<RunningServer>,
        db: Option<TestDb>,
    ) -> Self {
        let client = Client::builder()
            .timeout(StdDuration::from_secs(60))
            .finish();
        let mut app = TestApp {
            clock,
            addr,
            server,
            db,
            client,
            admin: String::new(),
            counter: Cell::new(0),
            visitor_secrets: RefCell::new(HashMap::new()),
        };
        app.admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        app
    }

    fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("server running")
    }

    /// The in-process server's engine, to watch what it holds in memory.
    pub fn engine(&self) -> &switchboard_actors::engine::Engine {
        &self.server().engine
    }

    /// The in-process server's store, to set the stage where no endpoint
    /// writes what a test reads (e.g. leads).
    pub fn db(&self) -> switchboard::store::Db {
        self.server().db.clone()
    }

    /// Stop the server gracefully and start it again on the same database
    /// and the same clock. The port changes; tokens stay valid.
    pub async fn restart(&mut self) {
        let server = self.server.take().expect("server running");
        server.stop().await;
        let url = self
            .db
            .as_ref()
            .expect("an in-process server")
            .url()
            .clone();
        let server = match start(
            test_config(url.clone()),
            Arc::new(self.clock.clone()) as SharedClock,
        )
        .await
        {
            Ok(server) => server,
            Err(e) => panic!("server restarts on {}: {e}", url.redacted()),
        };
        self.addr = server.addr;
        self.server = Some(server);
    }

    /// Make every project look at the (manual) clock now.
    pub async fn tick(&self) {
        self.server().engine.tick_all().await;
        self.server().sessions.tick_all().await;
    }

    /// Move the clock, then let every project see it.
    pub async fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.tick().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn admin_token(&self) -> &str {
        &self.admin
    }

    fn unique(&self) -> u32 {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        n
    }

    // ----- raw HTTP -------------------------------------------------------

    fn request(&self, method: Method, path: &str, auth: Auth<'_>) -> awc::ClientRequest {
        let req = self.client.request(method, self.url(path));
        match auth {
            Auth::None => req,
            Auth::Bearer(t) => req.insert_header(("Authorization", format!("Bearer {t}"))),
            Auth::ProjectKey(k) => req.insert_header(("X-Project-Key", k.to_string())),
        }
    }

    async fn finish(send: awc::SendClientRequest) -> (u16, Value) {
        let (status, _, body) = Self::finish_with_headers(send).await;
        (status, body)
    }

    /// The status, the response's headers and its body (JSON, or the text
    /// when it is not JSON; Null when empty).
    async fn finish_with_headers(
        send: awc::SendClientRequest,
    ) -> (u16, awc::http::header::HeaderMap, Value) {
        let mut resp = match send.await {
            Ok(r) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.body().limit(16 << 20).await.expect("response body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        (status, headers, body)
    }

    /// One request with an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, _, body) = self.call_with_headers(method, path, auth, body, &[]).await;
        (status, body)
    }

    /// One request with an optional JSON body; also returns the value of
    /// the response header `header` (e.g. `Retry-After`).
    pub async fn call_with_header(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
        header: &str,
    ) -> (u16, Option<String>, Value) {
        let (status, headers, body) = self.call_with_headers(method, path, auth, body, &[]).await;
        let value = headers
            .get(header)
            .map(|v| v.to_str().expect("header text").to_string());
        (status, value, body)
    }

    /// One request with extra headers; returns the status, the response's
    /// headers and its body.
    pub async fn call_with_headers(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, awc::http::header::HeaderMap, Value) {
        let mut req = self.request(method, path, auth);
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        let send = match body {
            Some(b) => req.send_json(&b),
            None => req.send(),
        };
        Self::finish_with_headers(send).await
    }

    /// One request with a raw body sent as `application/json`, for
    /// malformed input.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        raw: &str,
    ) -> (u16, Value) {
        let res = self
            .request(method, path, auth)
            .content_type("application/json")
            .send_body(raw.to_string());
        Self::finish(res).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Method::GET, path, Auth::Bearer(token), None)
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Auth::Bearer(token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, Auth::Bearer(token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(Method::PATCH, path, Auth::Bearer(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, Auth::Bearer(token), None)
            .await
    }

    // ----- identity and projects -------------------------------------------

    pub async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/auth/login",
                Auth::None,
                Some(json!({ "email": email, "password": password })),
            )
            .await;
        assert_eq!(status, 200, "login of {email}: {body}");
        body["token"].as_str().expect("login token").to_string()
    }

    /// A login that may fail, from client address `from` (sent as
    /// X-Forwarded-For): `(status, body)`. A 429 must carry Retry-After.
    pub async fn login_attempt(
        &self,
        email: &str,
        password: &str,
        from: Option<&str>,
    ) -> (u16, Value) {
        let headers: Vec<(&str, &str)> = from.map(|a| ("x-forwarded-for", a)).into_iter().collect();
        let (status, h, body) = self
            .call_with_headers(
                Method::POST,
                "/api/auth/login",
                Auth::None,
                Some(json!({ "email": email, "password": password })),
                &headers,
            )
            .await;
        if status == 429 {
            assert_eq!(body["error"], json!("RATE_LIMITED"), "{body}");
            let retry = h
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            assert!(
                retry.is_some_and(|s| s >= 1),
                "429 without Retry-After: {body}"
            );
        }
        (status, body)
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
        let (status, body) = self
            .get(
                &format!("/api/projects/{}/handoff-settings", project.id),
                &self.admin,
            )
            .await;
        assert_eq!(status, 200, "get handoff settings: {body}");
        body
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
        let (status, body) = self.get("/api/instance/emails", &self.admin).await;
        assert_eq!(status, 200, "instance outbox: {body}");
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
        let (status, body) = self
            .get(&format!("/api/projects/{}/agents", project.id), &self.admin)
            .await;
        assert_eq!(status, 200, "list agents: {body}");
        body.as_array().expect("agents array").clone()
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

    // ----- widget and conversations ----------------------------------------

    /// A new conversation from the widget: `(conversation, customer_token)`.
    /// The visitor id is the host site's own; the first conversation of a
    /// visitor keeps the secret the server issues it, and later ones show
    /// it, as the widget does.
    pub async fn new_conversation(&self, project: &Project, visitor: &str) -> (Value, String) {
        let key = (project.id.clone(), visitor.to_string());
        let mut request = json!({ "visitor_id": visitor });
        if let Some(secret) = self.visitor_secrets.borrow().get(&key) {
            request["visitor_secret"] = json!(secret);
        }
        let (status, body) = self
            .call(
                Method::POST,
                "/api/widget/conversations",
                Auth::ProjectKey(&project.public_key),
                Some(request),
            )
            .await;
        assert_eq!(status, 201, "new conversation: {body}");
        if let Some(secret) = body["visitor_secret"].as_str() {
            self.visitor_secrets
                .borrow_mut()
                .insert(key, secret.to_string());
        }
        let token = s(&body["customer_token"]);
        (body["conversation"].clone(), token)
    }

    /// The secret the server issued `visitor` of `project`, if any.
    pub fn visitor_secret(&self, project: &Project, visitor: &str) -> Option<String> {
        self.visitor_secrets
            .borrow()
            .get(&(project.id.clone(), visitor.to_string()))
            .cloned()
    }

    pub async fn availability(&self, project: &Project) -> Value {
        let (status, body) = self
            .call(
                Method::GET,
                "/api/widget/availability",
                Auth::ProjectKey(&project.public_key),
                None,
            )
            .await;
        assert_eq!(status, 200, "availability: {body}");
        body
    }

    /// GET the conversation; asserts 200.
    pub async fn conversation(&self, id: &str, token: &str) -> Value {
        let (status, body) = self.get(&format!("/api/conversations/{id}"), token).await;
        assert_eq!(status, 200, "get conversation: {body}");
        body
    }

    pub async fn post_message(&self, conv_id: &str, token: &str, content: &str) -> (u16, Value) {
        self.post(
            &format!("/api/conversations/{conv_id}/messages"),
            token,
            json!({ "content": content }),
        )
        .await
    }

    pub async fn post_message_with_id(
        &self,
        conv_id: &str,
        token: &str,
        content: &str,
        client_msg_id: &str,
    ) -> (u16, Value) {
        self.post(
            &format!("/api/conversations/{conv_id}/messages"),
            token,
            json!({ "content": content, "client_msg_id": client_msg_id }),
        )
        .await
    }

    /// Post a message and assert it was accepted (201).
    pub async fn say(&self, conv_id: &str, token: &str, content: &str) -> Value {
        let (status, body) = self.post_message(conv_id, token, content).await;
        assert_eq!(status, 201, "post message {content:?}: {body}");
        body
    }

    /// Every message the token may see, ascending by seq (follows pages).
    pub async fn get_messages(&self, conv_id: &str, token: &str) -> Vec<Value> {
        self.get_messages_after(conv_id, token, 0).await
    }

    pub async fn get_messages_after(&self, conv_id: &str, token: &str, after: i64) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        let mut after = after;
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let mut path =
                format!("/api/conversations/{conv_id}/messages?after_seq={after}&limit=100");
            if let Some(c) = &cursor {
                path = format!("/api/conversations/{conv_id}/messages?limit=100&cursor={c}");
            }
            let (status, body) = self.get(&path, token).await;
            assert_eq!(status, 200, "get messages: {body}");
            let (items, next) = match &body {
                Value::Array(items) => (items.clone(), None),
                Value::Object(o) => (
                    o.get("items")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_else(|| panic!("messages page without items: {body}")),
                    o.get("next_cursor")
                        .and_then(Value::as_str)
                        .map(String::from),
                ),
                _ => panic!("messages: unexpected body {body}"),
            };
            let n = items.len();
            if let Some(last) = items.last() {
                after = last["seq"].as_i64().expect("seq");
            }
            out.extend(items);
            match next {
                Some(c) if n > 0 => cursor = Some(c),
                _ if n == 100 && cursor.is_none() => {}
                _ => return out,
            }
        }
        panic!("messages never ended");
    }

    pub async fn handoff(&self, conv_id: &str, customer_token: &str, reason: &str) -> (u16, Value) {
        self.post(
            &format!("/api/conversations/{conv_id}/handoff"),
            customer_token,
            json!({ "reason": reason }),
        )
        .await
    }

    pub async fn claim(&self, conv_id: &str, agent_token: &str) -> (u16, Value) {
        self.post(
            &format!("/api/conversations/{conv_id}/claim"),
            agent_token,
            json!({}),
        )
        .await
    }

    pub async fn resolve(&self, conv_id: &str, token: &str) -> (u16, Value) {
        self.post(
            &format!("/api/conversations/{conv_id}/resolve"),
            token,
            json!({}),
        )
        .await
    }

    pub async fn close(&self, conv_id: &str, token: &str) -> (u16, Value) {
        self.post(
            &format!("/api/conversations/{conv_id}/close"),
            token,
            json!({}),
        )
        .await
    }

    /// Transfer to `to` (an agent's user id) or, with `None`, back to the queue.
    pub async fn transfer(&self, conv_id: &str, token: &str, to: Option<&str>) -> (u16, Value) {
        self.post(
            &format!("/api/conversations/{conv_id}/transfer"),
            token,
            json!({ "to_agent_id": to }),
        )
        .await
    }

    pub async fn note(&self, conv_id: &str, token: &str, content: &str) -> Value {
        let (status, body) = self
            .post(
                &format!("/api/conversations/{conv_id}/notes"),
                token,
                json!({ "content": content }),
            )
            .await;
        assert_eq!(status, 201, "note: {body}");
        body
    }

    /// A conversation handed off by the button and answered `agent_active`
    /// by `agent`: `(conversation_id, customer_token)`.
    pub async fn assigned_conversation(
        &self,
        project: &Project,
        visitor: &str,
        agent: &Agent,
    ) -> (String, String) {
        let (conv, token) = self.new_conversation(project, visitor).await;
        let id = s(&conv["id"]);
        let (status, body) = self.handoff(&id, &token, "button_click").await;
        assert_eq!(status, 200, "handoff: {body}");
        assert_eq!(body["status"], json!("agent_active"), "handoff: {body}");
        assert_eq!(
            body["assigned_agent"]["id"],
            json!(agent.user_id),
            "handoff went to the wrong agent: {body}"
        );
        (id, token)
    }

    /// A conversation handed off by the button that had to wait.
    pub async fn waiting_conversation(
        &self,
        project: &Project,
        visitor: &str,
        expected_position: i64,
    ) -> (String, String) {
        let (conv, token) = self.new_conversation(project, visitor).await;
        let id = s(&conv["id"]);
        let (status, body) = self.handoff(&id, &token, "button_click").await;
        assert_eq!(status, 200, "handoff: {body}");
        assert_eq!(body["status"], json!("waiting"), "handoff: {body}");
        assert_eq!(
            body["queue_position"],
            json!(expected_position),
            "handoff: {body}"
        );
        (id, token)
    }

    // ----- waiting for asynchronous effects -----------------------------------

    /// Poll the conversation until its status is `status` (bounded).
    pub async fn wait_for_status(&self, conv_id: &str, token: &str, status: &str) -> Value {
        let deadline = std::time::Instant::now() + ASYNC_BOUND;
        loop {
            let conv = self.conversation(conv_id, token).await;
            if conv["status"] == json!(status) {
                return conv;
            }
            if std::time::Instant::now() > deadline {
                panic!("conversation never became {status}: {conv}");
            }
            actix_rt::time::sleep(StdDuration::from_millis(10)).await;
        }
    }

    /// Poll the messages until there are at least `n` (bounded).
    pub async fn wait_for_messages(&self, conv_id: &str, token: &str, n: usize) -> Vec<Value> {
        let deadline = std::time::Instant::now() + ASYNC_BOUND;
        loop {
            let msgs = self.get_messages(conv_id, token).await;
            if msgs.len() >= n {
                return msgs;
            }
            if std::time::Instant::now() > deadline {
                panic!("expected {n} messages, have {}: {msgs:#?}", msgs.len());
            }
            actix_rt::time::sleep(StdDuration::from_millis(10)).await;
        }
    }

    /// Poll until a message with `sender_type` exists after seq `after`.
    pub async fn wait_for_sender(
        &self,
        conv_id: &str,
        token: &str,
        sender_type: &str,
        after: i64,
    ) -> Value {
        let deadline = std::time::Instant::now() + ASYNC_BOUND;
        loop {
            let msgs = self.get_messages_after(conv_id, token, after).await;
            if let Some(m) = msgs.iter().find(|m| m["sender_type"] == json!(sender_type)) {
                return m.clone();
            }
            if std::time::Instant::now() > deadline {
                panic!("no {sender_type} message after seq {after}: {msgs:#?}");
            }
            actix_rt::time::sleep(StdDuration::from_millis(10)).await;
        }
    }

    // ----- WebSocket ---------------------------------------------------------

    pub async fn ws(&self, token: &str) -> Ws {
        match self.try_ws(token).await {
            Ok(ws) => ws,
            Err(e) => panic!("websocket connect failed: {e}"),
        }
    }

    /// Connect without a token in the URL (the first frame must be `auth`).
    pub async fn ws_unauthenticated(&self) -> Ws {
        self.ws_at(format!("ws://{}/ws", self.addr))
            .await
            .unwrap_or_else(|e| panic!("websocket connect failed: {e}"))
    }

    /// Connect; on refusal the error names the HTTP status.
    pub async fn try_ws(&self, token: &str) -> Result<Ws, String> {
        self.ws_at(format!("ws://{}/ws?token={}", self.addr, url_encode(token)))
            .await
    }

    async fn ws_at(&self, url: String) -> Result<Ws, String> {
        match self.client.ws(url).max_frame_size(1 << 22).connect().await {
            Ok((_resp, conn)) => Ok(Ws {
                conn: Box::new(conn),
                events: VecDeque::new(),
                next_ref: 0,
            }),
            Err(awc::error::WsClientError::InvalidResponseStatus(st)) => {
                Err(format!("status {}", st.as_u16()))
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

/// What came in on a WebSocket.
#[derive(Debug)]
pub enum Incoming {
    Json(Value),
    Close(Option<CloseReason>),
    /// The stream ended (or errored) without a close frame.
    Ended,
}

/// The client half of a WebSocket as awc frames it (its concrete type is
/// not nameable without another dependency).
pub trait WsConn:
    Stream<Item = Result<Frame, WsProtocolError>> + Sink<Message, Error = WsProtocolError> + Unpin
{
}

impl<T> WsConn for T where
    T: Stream<Item = Result<Frame, WsProtocolError>>
        + Sink<Message, Error = WsProtocolError>
        + Unpin
{
}

/// A WebSocket client speaking docs/protocol.md section 4. Events that arrive
/// while waiting for a reply are kept, in order, for `next_event`.
pub struct Ws {
    conn: Box<dyn WsConn>,
    events: VecDeque<Value>,
    next_ref: u64,
}

impl Ws {
    pub async fn send_text(&mut self, text: String) {
        self.conn
            .send(Message::Text(text.into()))
            .await
            .expect("ws send");
    }

    /// Send a text frame; an error (the server went away) is returned.
    pub async fn try_send_text(&mut self, text: String) -> Result<(), WsProtocolError> {
        self.conn.send(Message::Text(text.into())).await
    }

    /// The next frame of any kind, answering pings; `None` on timeout.
    pub async fn recv(&mut self, within: StdDuration) -> Option<Incoming> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let next = actix_rt::time::timeout(left, self.conn.next()).await;
            match next {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) => return Some(Incoming::Ended),
                Ok(Some(Ok(frame))) => match frame {
                    Frame::Text(bytes) => {
                        let v: Value = serde_json::from_slice(&bytes)
                            .unwrap_or_else(|e| panic!("server sent non-JSON text {bytes:?}: {e}"));
                        return Some(Incoming::Json(v));
                    }
                    Frame::Ping(b) => {
                        let _ = self.conn.send(Message::Pong(b)).await;
                    }
                    Frame::Pong(_) => {}
                    Frame::Close(reason) => return Some(Incoming::Close(reason)),
                    Frame::Binary(b) => panic!("server sent a binary frame: {b:?}"),
                    Frame::Continuation(_) => panic!("server sent a continuation frame"),
                },
            }
        }
    }

    /// Send an op (a `ref` is added when missing) and return its reply
    /// frame; events that arrive first are kept for `next_event`.
    pub async fn send_op(&mut self, mut op: Value) -> Value {
        if op.get("ref").is_none() {
            self.next_ref += 1;
            op["ref"] = json!(format!("r{}", self.next_ref));
        }
        let r = op["ref"].clone();
        self.send_text(op.to_string()).await;
        self.reply_to(&r).await
    }

    /// Wait for the reply whose `ref` is `r` (any reply when `r` is null).
    pub async fn reply_to(&mut self, r: &Value) -> Value {
        loop {
            match self.recv(ASYNC_BOUND).await {
                Some(Incoming::Json(v)) if v["type"] == json!("reply") => {
                    if r.is_null() || v["ref"] == *r {
                        return v;
                    }
                    panic!(
                        "reply to another ref {} while waiting for {r}: {v}",
                        v["ref"]
                    );
                }
                Some(Incoming::Json(v)) => self.events.push_back(v),
                other => panic!("no reply to {r}: {other:?}"),
            }
        }
    }

    /// The next `n` replies, whatever their refs, in arrival order.
    pub async fn replies(&mut self, n: usize) -> Vec<Value> {
        let mut out = Vec::new();
        while out.len() < n {
            match self.recv(ASYNC_BOUND).await {
                Some(Incoming::Json(v)) if v["type"] == json!("reply") => out.push(v),
                Some(Incoming::Json(v)) => self.events.push_back(v),
                other => panic!("expected {n} replies, got {out:#?} then {other:?}"),
            }
        }
        out
    }

    /// The reply must be ok; returns its `data`.
    pub async fn op_ok(&mut self, op: Value) -> Value {
        let reply = self.send_op(op.clone()).await;
        assert_eq!(reply["ok"], json!(true), "op {op} failed: {reply}");
        reply["data"].clone()
    }

    /// Subscribe; returns the reply's `data` (`{channel, last_seq}`).
    pub async fn subscribe(&mut self, channel: &str, after_seq: Option<i64>) -> Value {
        let mut op = json!({ "op": "subscribe", "channel": channel });
        if let Some(a) = after_seq {
            op["after_seq"] = json!(a);
        }
        self.op_ok(op).await
    }

    /// The next event frame, or `None` when nothing comes within `within`.
    pub async fn next_event(&mut self, within: StdDuration) -> Option<Value> {
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        match self.recv(within).await {
            None => None,
            Some(Incoming::Json(v)) if v["type"] == json!("event") => Some(v),
            Some(Incoming::Json(v)) => panic!("unexpected frame while waiting for an event: {v}"),
            Some(other) => panic!("socket ended while waiting for an event: {other:?}"),
        }
    }

    /// Skip events until one named `name` arrives (bounded); returns it.
    pub async fn expect_event(&mut self, name: &str) -> Value {
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + ASYNC_BOUND;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.next_event(left).await {
                Some(e) if e["event"] == json!(name) => return e,
                Some(e) => seen.push(e),
                None => panic!("no {name} event; saw {seen:#?}"),
            }
        }
    }

    /// The next `n` events named `name` on `channel`, skipping others.
    pub async fn collect_events(&mut self, channel: &str, name: &str, n: usize) -> Vec<Value> {
        let mut out = Vec::new();
        let deadline = std::time::Instant::now() + ASYNC_BOUND;
        while out.len() < n {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.next_event(left).await {
                Some(e) if e["event"] == json!(name) && e["channel"] == json!(channel) => {
                    out.push(e)
                }
                Some(_) => {}
                None => panic!("expected {n} {name} events on {channel}, got {out:#?}"),
            }
        }
        out
    }

    /// Every event that arrives until the socket is quiet for `QUIET`.
    pub async fn drain(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(e) = self.next_event(QUIET).await {
            out.push(e);
        }
        out
    }

    pub async fn close(mut self) {
        let _ = self.conn.send(Message::Close(None)).await;
    }
}

// ----- identity proof ------------------------------------------------------------

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
        let (status, body) = self
            .get(&format!("/api/projects/{}", project.id), &self.admin)
            .await;
        assert_eq!(status, 200, "get project: {body}");
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

// ----- small JSON helpers ------------------------------------------------------

/// A JSON string as an owned String (panics on anything else).
pub fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
        .to_string()
}

pub fn seqs(msgs: &[Value]) -> Vec<i64> {
    msgs.iter()
        .map(|m| m["seq"].as_i64().unwrap_or_else(|| panic!("no seq in {m}")))
        .collect()
}

pub fn sender_types(msgs: &[Value]) -> Vec<String> {
    msgs.iter().map(|m| s(&m["sender_type"])).collect()
}

/// Assert an error answer of the contract: status, `error` code, and a
/// human `message`.
pub fn assert_error(res: &(u16, Value), status: u16, code: &str) {
    let (st, body) = res;
    assert_eq!(
        (*st, &body["error"]),
        (status, &json!(code)),
        "expected {status} {code}, got {st} {body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "error without a message: {body}"
    );
}

/// Every key of `expected` is in `actual` with exactly that value.
pub fn assert_fields(actual: &Value, expected: &Value) {
    let exp = expected.as_object().expect("expected an object");
    for (k, v) in exp {
        assert_eq!(&actual[k], v, "field {k} of {actual}");
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ----- the database under test ---------------------------------------------------

/// `SWITCHBOARD_TEST_BACKEND`: which store the tests run on.
pub const BACKEND_VAR: &str = "SWITCHBOARD_TEST_BACKEND";
/// `SWITCHBOARD_TEST_PG_URL`: a PostgreSQL superuser's URL (any database of
/// the cluster); test databases are created and dropped through it.
pub const PG_URL_VAR: &str = "SWITCHBOARD_TEST_PG_URL";
/// The migrated database every PostgreSQL test database is cloned from.
pub const PG_TEMPLATE: &str = "switchboard_template";
/// Advisory lock of the template: exclusive while it is checked or built,
/// shared while it is cloned, so parallel test processes never see a
/// half-built template and never drop one that is being cloned.
const PG_TEMPLATE_LOCK: i64 = 0x5357_4254_4d50; // "SWBTMP"
/// Bound for `switchboard migrate` on the template.
const MIGRATE_BOUND: StdDuration = StdDuration::from_secs(120);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    /// With the superuser's URL.
    Postgres(String),
}

impl Backend {
    /// The backend the environment selects (SQLite unless told otherwise).
    pub fn from_env() -> Backend {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        match var(BACKEND_VAR).as_deref().map(str::trim) {
            None | Some("sqlite") => Backend::Sqlite,
            Some("postgres") | Some("postgresql") => match var(PG_URL_VAR) {
                Some(url) => Backend::Postgres(url.trim().to_string()),
                None => panic!(
                    "{BACKEND_VAR}=postgres needs {PG_URL_VAR}, e.g. postgres://postgres@127.0.0.1:5432/postgres"
                ),
            },
            Some(other) => panic!("{BACKEND_VAR}={other:?}: expected sqlite or postgres"),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// A fresh, empty, migrated database of the selected backend, for one test.
/// SQLite: a file in a temp dir (removed with it). PostgreSQL: a database
/// `sb_t_<random>` created with `TEMPLATE switchboard_template`, dropped
/// when this value is dropped (kept, and named on stderr, when the test
/// failed, so it can be looked at).
pub struct TestDb {
    url: DatabaseUrl,
    kind: TestDbKind,
}

enum TestDbKind {
    Sqlite { _dir: TempDir },
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn fresh() -> TestDb {
        match Backend::from_env() {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("switchboard.db");
                TestDb {
                    url: DatabaseUrl::Sqlite(path),
                    kind: TestDbKind::Sqlite { _dir: dir },
                }
            }
            Backend::Postgres(admin_url) => {
                ensure_pg_template(&admin_url).await;
                let name = format!("sb_t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = pg_connect(&admin_url).await;
                pg_exec(
                    &mut conn,
                    &format!("SELECT pg_advisory_lock_shared({PG_TEMPLATE_LOCK})"),
                )
                .await;
                pg_exec(
                    &mut conn,
                    &format!("CREATE DATABASE {name} TEMPLATE {PG_TEMPLATE}"),
                )
                .await;
                pg_exec(
                    &mut conn,
                    &format!("SELECT pg_advisory_unlock_shared({PG_TEMPLATE_LOCK})"),
                )
                .await;
                TestDb {
                    url: DatabaseUrl::Postgres(pg_url_with_database(&admin_url, &name)),
                    kind: TestDbKind::Postgres { admin_url, name },
                }
            }
        }
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The value of `DATABASE_URL` for the binary.
    pub fn env_value(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self.kind {
            TestDbKind::Sqlite { .. } => "sqlite",
            TestDbKind::Postgres { .. } => "postgres",
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let TestDbKind::Postgres { admin_url, name } = &self.kind else {
            return;
        };
        if std::thread::panicking() {
            eprintln!("test failed: keeping its database {name} for a look");
            return;
        }
        // Drop is synchronous and may run inside the test's runtime, so the
        // drop runs on a thread of its own, bounded. FORCE ends the pool
        // connections of a server that was not stopped.
        let (admin_url, name) = (admin_url.clone(), name.clone());
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let res = actix_rt::System::new().block_on(async move {
                let mut conn = AsyncPgConnection::establish(&admin_url)
                    .await
                    .map_err(|e| e.to_string())?;
                conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .map_err(|e| format!("drop database {name}: {e}"))
            });
            let _ = done_tx.send(res);
        });
        match done_rx.recv_timeout(StdDuration::from_secs(20)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("cleanup: {e}"),
            Err(_) => eprintln!("cleanup: dropping a test database timed out"),
        }
    }
}

async fn pg_connect(url: &str) -> AsyncPgConnection {
    match AsyncPgConnection::establish(url).await {
        Ok(c) => c,
        Err(e) => panic!(
            "{PG_URL_VAR}: cannot connect to {}: {e}",
            switchboard::config::redact_password(url)
        ),
    }
}

async fn pg_exec(conn: &mut AsyncPgConnection, sql: &str) {
    if let Err(e) = conn.batch_execute(sql).await {
        panic!("{sql}: {e}");
    }
}

/// `url` with its database replaced by `database` (query kept).
pub fn pg_url_with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url
        .split_once("://")
        .unwrap_or_else(|| panic!("{PG_URL_VAR}: not a URL"));
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = main.split_once('/').map_or(main, |(a, _)| a);
    format!("{scheme}://{authority}/{database}{query}")
}

/// Make sure `switchboard_template` exists and was migrated from the
/// migrations now in the tree; once per test process.
async fn ensure_pg_template(admin_url: &str) {
    static READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    READY.get_or_init(|| build_pg_template(admin_url)).await;
}

/// Under the exclusive advisory lock: when the template is missing or was
/// built from other migrations (its comment holds a fingerprint of
/// `migrations/`), build it as `switchboard_template_build` with
/// `switchboard migrate` (a subprocess, so no connection to it stays open,
/// as `CREATE DATABASE ... TEMPLATE` requires), then rename it into place.
/// The lock is the session's: it goes with the connection even on a panic.
async fn build_pg_template(admin_url: &str) {
    let mut conn = pg_connect(admin_url).await;
    pg_exec(
        &mut conn,
        &format!("SELECT pg_advisory_lock({PG_TEMPLATE_LOCK})"),
    )
    .await;
    let want = migrations_fingerprint();
    let have: Option<String> = diesel::select(diesel::dsl::sql::<
        diesel::sql_types::Nullable<diesel::sql_types::Text>,
    >(&format!(
        "(SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{PG_TEMPLATE}')"
    )))
    .get_result(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("look for {PG_TEMPLATE}: {e}"));
    if have.as_deref() != Some(want.as_str()) {
        let build = format!("{PG_TEMPLATE}_build");
        pg_exec(
            &mut conn,
            &format!("DROP DATABASE IF EXISTS {build} WITH (FORCE)"),
        )
        .await;
        pg_exec(&mut conn, &format!("CREATE DATABASE {build}")).await;
        run_migrate(&pg_url_with_database(admin_url, &build)).await;
        pg_exec(
            &mut conn,
            &format!("COMMENT ON DATABASE {build} IS '{want}'"),
        )
        .await;
        pg_exec(
            &mut conn,
            &format!("DROP DATABASE IF EXISTS {PG_TEMPLATE} WITH (FORCE)"),
        )
        .await;
        pg_exec(
            &mut conn,
            &format!("ALTER DATABASE {build} RENAME TO {PG_TEMPLATE}"),
        )
        .await;
    }
    pg_exec(
        &mut conn,
        &format!("SELECT pg_advisory_unlock({PG_TEMPLATE_LOCK})"),
    )
    .await;
}

/// `switchboard migrate` on `url`, bounded; panics with its output on
/// failure.
async fn run_migrate(url: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("migrate")
        .env("DATABASE_URL", url)
        .env_remove("SWITCHBOARD_ADMIN_EMAIL")
        .env_remove("SWITCHBOARD_ADMIN_PASSWORD")
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("spawn switchboard migrate");
    let deadline = std::time::Instant::now() + MIGRATE_BOUND;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for switchboard migrate") {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        actix_rt::time::sleep(StdDuration::from_millis(20)).await;
    };
    if status.is_some_and(|s| s.success()) {
        return;
    }
    let out = std::fs::read_to_string(&out_path).unwrap_or_default();
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    panic!(
        "switchboard migrate on {} {}\nstdout:\n{out}\nstderr:\n{err}",
        switchboard::config::redact_password(url),
        match status {
            Some(s) => format!("failed: {s}"),
            None => format!("did not finish within {MIGRATE_BOUND:?}"),
        }
    );
}

/// A digest of every file under `migrations/` (paths and contents).
fn migrations_fingerprint() -> String {
    use sha2::{Digest, Sha256};
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, files);
            } else {
                files.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut hash = Sha256::new();
    for f in files {
        let rel = f.strip_prefix(&root).unwrap_or(&f);
        hash.update(rel.to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update(std::fs::read(&f).unwrap_or_else(|e| panic!("read {}: {e}", f.display())));
        hash.update([0]);
    }
    format!("migrations sha256 {}", hex::encode(hash.finalize()))
}
