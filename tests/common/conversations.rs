//! Conversations from the widget to an agent: opening one, messages,
//! handoff, claim, resolve, transfer, notes, and polling for what happens
//! asynchronously.

use super::{s, Agent, Auth, Project, TestApp, ASYNC_BOUND};
use awc::http::Method;
use serde_json::{json, Value};
use std::time::Duration as StdDuration;

impl TestApp {
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
        self.get_ok(
            &format!("/api/conversations/{id}"),
            token,
            "get conversation",
        )
        .await
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
            let body = self.get_ok(&path, token, "get messages").await;
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

    /// POST the offline form of conversation `id` as its customer.
    pub async fn offline_form(&self, id: &str, token: &str, body: Value) -> (u16, Value) {
        self.post(
            &format!("/api/conversations/{id}/offline-form"),
            token,
            body,
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
}
