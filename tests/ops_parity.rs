//! REST and WebSocket run one operations layer (src/ops): the same
//! operation over either transport must have the same outcome and the same
//! error code. Each row of the tables below runs one operation as one
//! caller on one kind of target twice, on a fresh target each time (an
//! operation changes what it acts on), once as a REST call and once as a
//! WebSocket op, and compares `(ok, error code)`; where the row names the
//! expected outcome, both must also be that.

mod common;

use awc::http::Method;
use common::*;
use serde_json::{json, Value};

/// Who calls.
#[derive(Clone, Copy, Debug)]
enum Who {
    /// The conversation's own customer (or the session's joined customer).
    Customer,
    /// The project's agent (assigned to the conversation, solver of the session).
    Agent,
    /// An agent of another project.
    OtherTenant,
}

/// What the operation acts on.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// A conversation assigned to the agent (`agent_active`).
    Assigned,
    /// A conversation the AI still handles (`ai_active`).
    AiActive,
    /// A conversation its customer closed (no live actor).
    Closed,
    /// An id nobody has.
    Missing,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    SendMessage,
    Presence,
    Claim,
    Resolve,
    Transfer,
    Edit,
    BadEdit,
    SetStatus,
    BadStatus,
    Heartbeat,
}

/// The outcome both transports must give: `"ok"`, an error code, or `"="`
/// for "whatever it is, the same on both".
type Expect = &'static str;

struct World {
    project: Project,
    agent: Agent,
    other: Agent,
}

async fn world(app: &TestApp) -> World {
    let project = app.create_project("Acme").await;
    app.enable_handoff(&project, |_| {}).await;
    let agent = app.add_agent(&project, "Ana", 50).await;
    app.set_status(&agent, &project, "online").await;
    let elsewhere = app.create_project("Elsewhere").await;
    let other = app.add_agent(&elsewhere, "Olga", 5).await;
    World {
        project,
        agent,
        other,
    }
}

/// A fresh target: `(conversation id, its customer's token)`.
async fn target(app: &TestApp, w: &World, t: Target) -> (String, String) {
    let visitor = format!("visitor-{}", uuid::Uuid::new_v4());
    match t {
        Target::Assigned => {
            app.assigned_conversation(&w.project, &visitor, &w.agent)
                .await
        }
        Target::AiActive => {
            let (conv, token) = app.new_conversation(&w.project, &visitor).await;
            (s(&conv["id"]), token)
        }
        Target::Closed => {
            let (id, token) = app
                .assigned_conversation(&w.project, &visitor, &w.agent)
                .await;
            let (st, body) = app.close(&id, &token).await;
            assert_eq!(st, 200, "close: {body}");
            (id, token)
        }
        Target::Missing => {
            let (_, token) = app.new_conversation(&w.project, &visitor).await;
            (uuid::Uuid::new_v4().to_string(), token)
        }
    }
}

/// The REST request and the WebSocket op of `op` on conversation `id`.
fn requests(op: Op, w: &World, id: &str) -> ((Method, String, Value), Value) {
    let n = uuid::Uuid::new_v4().to_string();
    let conv = |path: &str| format!("/api/conversations/{id}/{path}");
    match op {
        Op::SendMessage => (
            (
                Method::POST,
                conv("messages"),
                json!({ "content": "hello", "client_msg_id": n }),
            ),
            json!({ "op": "send_message", "conversation_id": id, "content": "hello", "client_msg_id": n }),
        ),
        Op::Presence => (
            (Method::POST, conv("presence"), json!({ "status": "idle" })),
            json!({ "op": "presence", "conversation_id": id, "status": "idle" }),
        ),
        Op::Claim => (
            (Method::POST, conv("claim"), json!({})),
            json!({ "op": "claim", "conversation_id": id }),
        ),
        Op::Resolve => (
            (Method::POST, conv("resolve"), json!({})),
            json!({ "op": "resolve", "conversation_id": id }),
        ),
        Op::Transfer => (
            (
                Method::POST,
                conv("transfer"),
                json!({ "to_agent_id": null }),
            ),
            json!({ "op": "transfer", "conversation_id": id, "to_agent_id": null }),
        ),
        Op::Edit | Op::BadEdit => {
            let email = if matches!(op, Op::Edit) {
                "dana@example.com"
            } else {
                "dana"
            };
            let edit = json!({ "tags": ["vip"], "customer_email": email });
            let mut frame = edit.clone();
            frame["op"] = json!("update_conversation");
            frame["conversation_id"] = json!(id);
            (
                (Method::PATCH, format!("/api/conversations/{id}"), edit),
                frame,
            )
        }
        Op::SetStatus | Op::BadStatus => {
            let status = if matches!(op, Op::SetStatus) {
                "online"
            } else {
                "asleep"
            };
            (
                (
                    Method::PUT,
                    "/api/agent/status".into(),
                    json!({ "project_id": w.project.id, "status": status }),
                ),
                json!({ "op": "set_status", "project_id": w.project.id, "status": status }),
            )
        }
        Op::Heartbeat => (
            (
                Method::POST,
                "/api/agent/heartbeat".into(),
                json!({ "project_id": w.project.id }),
            ),
            json!({ "op": "heartbeat", "project_id": w.project.id }),
        ),
    }
}

/// `(ok, error code)` of a REST answer.
fn rest_outcome(status: u16, body: &Value) -> (bool, String) {
    if (200..300).contains(&status) {
        (true, String::new())
    } else {
        (false, body["error"].as_str().unwrap_or("?").to_string())
    }
}

/// `(ok, error code)` of a WebSocket reply.
fn ws_outcome(reply: &Value) -> (bool, String) {
    if reply["ok"] == json!(true) {
        (true, String::new())
    } else {
        (false, reply["error"].as_str().unwrap_or("?").to_string())
    }
}

fn token<'a>(w: &'a World, who: Who, customer: &'a str) -> &'a str {
    match who {
        Who::Customer => customer,
        Who::Agent => &w.agent.token,
        Who::OtherTenant => &w.other.token,
    }
}

fn check(
    name: &str,
    expect: Expect,
    rest: (bool, String),
    ws: (bool, String),
    detail: impl std::fmt::Display,
) -> Option<String> {
    let mut problems = Vec::new();
    if rest != ws {
        problems.push(format!("REST {rest:?} but WebSocket {ws:?}"));
    }
    let want = match expect {
        "=" => None,
        "ok" => Some((true, String::new())),
        code => Some((false, code.to_string())),
    };
    if let Some(want) = want {
        if rest != want {
            problems.push(format!("REST {rest:?}, expected {expect}"));
        }
        if ws != want {
            problems.push(format!("WebSocket {ws:?}, expected {expect}"));
        }
    }
    (!problems.is_empty()).then(|| format!("{name}: {} ({detail})", problems.join("; ")))
}

#[actix_rt::test]
async fn conversation_and_agent_ops_answer_alike_over_rest_and_websocket() {
    use Op::*;
    use Target::*;
    use Who::*;
    let app = TestApp::start().await;
    let w = world(&app).await;
    let table: &[(Op, Target, Who, Expect)] = &[
        (SendMessage, Assigned, Customer, "ok"),
        (SendMessage, Assigned, Agent, "ok"),
        (SendMessage, AiActive, Agent, "FORBIDDEN"),
        (SendMessage, Assigned, OtherTenant, "NOT_FOUND"),
        (SendMessage, Closed, Customer, "INVALID_TRANSITION"),
        (SendMessage, Closed, Agent, "INVALID_TRANSITION"),
        (SendMessage, Closed, OtherTenant, "NOT_FOUND"),
        (SendMessage, Missing, Customer, "NOT_FOUND"),
        (Presence, Assigned, Customer, "ok"),
        (Presence, Closed, Customer, "INVALID_TRANSITION"),
        (Presence, Assigned, OtherTenant, "NOT_FOUND"),
        (Presence, Missing, Customer, "NOT_FOUND"),
        (Claim, AiActive, Agent, "="),
        (Claim, Assigned, Agent, "="),
        (Claim, Assigned, Customer, "FORBIDDEN"),
        (Claim, Assigned, OtherTenant, "NOT_FOUND"),
        (Claim, Closed, Agent, "="),
        (Claim, Missing, Agent, "NOT_FOUND"),
        (Resolve, Assigned, Agent, "ok"),
        (Resolve, AiActive, Agent, "="),
        (Resolve, Assigned, Customer, "FORBIDDEN"),
        (Resolve, Assigned, OtherTenant, "NOT_FOUND"),
        (Resolve, Closed, Agent, "INVALID_TRANSITION"),
        (Resolve, Closed, OtherTenant, "NOT_FOUND"),
        (Resolve, Missing, Agent, "NOT_FOUND"),
        (Transfer, Assigned, Agent, "ok"),
        (Transfer, Assigned, Customer, "FORBIDDEN"),
        (Transfer, Assigned, OtherTenant, "NOT_FOUND"),
        (Transfer, Closed, Agent, "INVALID_TRANSITION"),
        (Transfer, Closed, OtherTenant, "NOT_FOUND"),
        (Transfer, Missing, Agent, "NOT_FOUND"),
        (Edit, Assigned, Agent, "ok"),
        (Edit, AiActive, Agent, "ok"),
        (Edit, Assigned, Customer, "FORBIDDEN"),
        (Edit, Assigned, OtherTenant, "NOT_FOUND"),
        (Edit, Closed, Agent, "INVALID_TRANSITION"),
        (Edit, Closed, OtherTenant, "NOT_FOUND"),
        (Edit, Missing, Agent, "NOT_FOUND"),
        (BadEdit, Assigned, Agent, "VALIDATION_FAILED"),
        (SetStatus, AiActive, Agent, "ok"),
        (SetStatus, AiActive, Customer, "FORBIDDEN"),
        (SetStatus, AiActive, OtherTenant, "NOT_FOUND"),
        (BadStatus, AiActive, Agent, "VALIDATION_FAILED"),
        (Heartbeat, AiActive, Agent, "ok"),
        (Heartbeat, AiActive, Customer, "FORBIDDEN"),
        (Heartbeat, AiActive, OtherTenant, "NOT_FOUND"),
    ];
    let mut failures = Vec::new();
    for &(op, t, who, expect) in table {
        let name = format!("{op:?} on {t:?} as {who:?}");
        // REST on one fresh target...
        let (id, customer) = target(&app, &w, t).await;
        let ((method, path, body), _) = requests(op, &w, &id);
        let (status, rest_body) = app
            .call(
                method,
                &path,
                Auth::Bearer(token(&w, who, &customer)),
                Some(body),
            )
            .await;
        let rest = rest_outcome(status, &rest_body);
        // ...and the WebSocket on another just like it.
        let (id, customer) = target(&app, &w, t).await;
        let (_, frame) = requests(op, &w, &id);
        let mut ws = app.ws(token(&w, who, &customer)).await;
        let reply = ws.send_op(frame).await;
        ws.close().await;
        let outcome = ws_outcome(&reply);
        if let Some(p) = check(
            &name,
            expect,
            rest,
            outcome,
            format_args!("{status} {rest_body} / {reply}"),
        ) {
            failures.push(p);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[actix_rt::test]
async fn typing_on_a_closed_conversation_is_refused_as_every_other_change_is() {
    let app = TestApp::start().await;
    let w = world(&app).await;
    let (id, customer) = target(&app, &w, Target::Closed).await;
    for token in [customer.as_str(), w.agent.token.as_str()] {
        let mut ws = app.ws(token).await;
        let reply = ws
            .send_op(json!({ "op": "typing", "conversation_id": id, "is_typing": true }))
            .await;
        assert_eq!(reply["error"], json!("INVALID_TRANSITION"), "{reply}");
        // A resolve of the same conversation is refused with the same code.
        let (st, body) = app.resolve(&id, &w.agent.token).await;
        assert_eq!((st, &body["error"]), (400, &json!("INVALID_TRANSITION")));
    }
    let mut ws = app.ws(&w.other.token).await;
    let reply = ws
        .send_op(json!({ "op": "typing", "conversation_id": id, "is_typing": true }))
        .await;
    assert_eq!(reply["error"], json!("NOT_FOUND"), "{reply}");
}

#[derive(Clone, Copy, Debug)]
enum SessionOp {
    SendMessage,
    Cancel,
    CancelWithEmptyReason,
    Complete,
    ScreenShareAnswer,
    /// REST moves the status (`POST .../status`), WebSocket names the action.
    Start,
    PauseBeforeStart,
}

#[actix_rt::test]
async fn session_ops_answer_alike_over_rest_and_websocket() {
    use SessionOp::*;
    use Who::*;
    let app = TestApp::start().await;
    let w = world(&app).await;
    let table: &[(SessionOp, Who, Expect)] = &[
        (SendMessage, Agent, "ok"),
        (SendMessage, Customer, "ok"),
        (SendMessage, OtherTenant, "="),
        (Cancel, Agent, "ok"),
        (Cancel, Customer, "="),
        (Cancel, OtherTenant, "="),
        (CancelWithEmptyReason, Agent, "VALIDATION_FAILED"),
        (Complete, Agent, "="),
        (Complete, OtherTenant, "="),
        (ScreenShareAnswer, Customer, "="),
        (ScreenShareAnswer, Agent, "="),
        (Start, Agent, "ok"),
        (Start, Customer, "="),
        (Start, OtherTenant, "="),
        (PauseBeforeStart, Agent, "INVALID_TRANSITION"),
    ];
    let mut failures = Vec::new();
    for &(op, who, expect) in table {
        let name = format!("session {op:?} as {who:?}");
        let mut outcomes = Vec::new();
        let mut details = Vec::new();
        for over_ws in [false, true] {
            let (session, customer) = app.adhoc_session(&w.project, &w.agent).await;
            let id = s(&session["id"]);
            let n = uuid::Uuid::new_v4().to_string();
            let (method, path, body, frame) = match op {
                SendMessage => (
                    Method::POST,
                    "messages",
                    json!({ "content": "hi", "client_msg_id": n }),
                    json!({ "op": "send_message", "session_id": id, "content": "hi", "client_msg_id": n }),
                ),
                Cancel => (
                    Method::POST,
                    "cancel",
                    json!({ "reason": "no show" }),
                    json!({ "op": "session_control", "session_id": id, "action": "cancel", "reason": "no show" }),
                ),
                CancelWithEmptyReason => (
                    Method::POST,
                    "cancel",
                    json!({ "reason": "" }),
                    json!({ "op": "session_control", "session_id": id, "action": "cancel", "reason": "" }),
                ),
                Complete => (
                    Method::POST,
                    "complete",
                    json!({ "tier": "quick" }),
                    json!({ "op": "session_control", "session_id": id, "action": "complete", "tier": "quick" }),
                ),
                Start => (
                    Method::POST,
                    "status",
                    json!({ "status": "active" }),
                    json!({ "op": "session_control", "session_id": id, "action": "start" }),
                ),
                PauseBeforeStart => (
                    Method::POST,
                    "status",
                    json!({ "status": "paused" }),
                    json!({ "op": "session_control", "session_id": id, "action": "pause" }),
                ),
                ScreenShareAnswer => (
                    Method::POST,
                    "screen-share/answer",
                    json!({ "accepted": true }),
                    json!({ "op": "screen_share_answer", "session_id": id, "accepted": true }),
                ),
            };
            let token = token(&w, who, &customer);
            if over_ws {
                let mut ws = app.ws(token).await;
                let reply = ws.send_op(frame).await;
                ws.close().await;
                outcomes.push(ws_outcome(&reply));
                details.push(reply.to_string());
            } else {
                let path = format!("/api/sessions/{id}/{path}");
                let (st, body) = app
                    .call(method, &path, Auth::Bearer(token), Some(body))
                    .await;
                outcomes.push(rest_outcome(st, &body));
                details.push(format!("{st} {body}"));
            }
        }
        let ws = outcomes.pop().expect("ws");
        let rest = outcomes.pop().expect("rest");
        if let Some(p) = check(&name, expect, rest, ws, details.join(" / ")) {
            failures.push(p);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Whether the messages of `id` seen over REST by `token` include a note.
async fn rest_sees_note(app: &TestApp, id: &str, token: &str) -> bool {
    let (st, page) = app
        .get(&format!("/api/conversations/{id}/messages"), token)
        .await;
    assert_eq!(st, 200, "{page}");
    page["items"]
        .as_array()
        .expect("messages")
        .iter()
        .any(|m| m["internal"] == json!(true))
}

/// Whether a replay from seq 0 to `token`'s socket brings a note.
async fn replay_sees_note(app: &TestApp, id: &str, token: &str) -> bool {
    let mut ws = app.ws(token).await;
    let channel = format!("conversation:{id}");
    let reply = ws.subscribe(&channel, Some(0)).await;
    assert_eq!(reply["more"], json!(false), "{reply}");
    let seen = ws.drain().await;
    ws.close().await;
    seen.iter()
        .any(|e| e["event"] == json!("message") && e["data"]["internal"] == json!(true))
}

#[actix_rt::test]
async fn internal_notes_reach_the_same_audience_live_replayed_closed_and_over_rest() {
    let (app, project, agent) = TestApp::with_agent_online().await;
    let (id, customer) = app.assigned_conversation(&project, "v-notes", &agent).await;
    app.note(&id, &agent.token, "for staff only").await;
    // The project's server (its secret key) is staff-side; the customer is not.
    let bot = project.secret_key.as_str();
    for (who, token, sees) in [
        ("bot", bot, true),
        ("agent", &agent.token, true),
        ("customer", &customer, false),
    ] {
        assert_eq!(
            rest_sees_note(&app, &id, token).await,
            sees,
            "{who} over REST, live"
        );
        assert_eq!(
            replay_sees_note(&app, &id, token).await,
            sees,
            "{who} in a live replay"
        );
    }
    let (st, body) = app.close(&id, &customer).await;
    assert_eq!(st, 200, "{body}");
    for (who, token, sees) in [
        ("bot", bot, true),
        ("agent", &agent.token, true),
        ("customer", &customer, false),
    ] {
        assert_eq!(
            rest_sees_note(&app, &id, token).await,
            sees,
            "{who} over REST, closed"
        );
        assert_eq!(
            replay_sees_note(&app, &id, token).await,
            sees,
            "{who} in a closed replay"
        );
    }
}
