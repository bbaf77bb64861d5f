//! The pages follow a paged replay (docs/protocol.md section 4: a subscribe
//! replays at most 200 seqs and answers `more` until the socket is live),
//! in real headless Chromium: the widget that missed 450 messages while
//! its connection was down, the agent dashboard opening a conversation of
//! 450 messages, and the customer's page of a session chat of 450. Each
//! shows every message once, in order, then the next live one.

#[path = "common/browser.rs"]
#[allow(dead_code)] // each test binary uses its own part of the client
mod browser;
mod common;

use browser::Browser;
use common::*;
use serde_json::{json, Value};
use switchboard_actors::clock::Clock;
use switchboard_actors::ids::{ConversationId, MessageId, SessionId, SessionMessageId};
use switchboard_actors::ports::{MessageRecord, SenderType, Store, WriteOp};
use switchboard_actors::session_ports::{SessionMessageRecord, SessionSender};

/// Missed messages: more than two pages.
const MISSED: usize = 450;

/// Evaluate `script` until it returns `want` (bounded: pages update from
/// events and replies as they come).
async fn wait_eval(b: &Browser, script: &str, want: &Value) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let got = b.eval(script).await;
        if &got == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{script}\nwanted {want}\ngot {got}"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix} {i:03}")).collect()
}

#[actix_rt::test]
async fn the_widget_catches_up_on_450_missed_messages_page_by_page() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    app.enable_handoff(&project, |s| s["show_human_button"] = json!(true))
        .await;
    app.add_knowledge(&project, "Do you ship abroad?", "We ship to 30 countries.")
        .await;
    let ana = app.add_agent(&project, "Ana", 2).await;
    app.set_status(&ana, &project, "online").await;

    let b = Browser::start().await;
    let input = b
        .open_widget(&app.url(&format!("/widget/demo?key={}", project.public_key)))
        .await;
    b.type_into(&input, "Do you ship abroad?\u{E007}").await;
    b.wait_text(".sbw-msg.ai", "30 countries").await;
    let human = b.wait_visible(".sbw-human").await;
    b.click(&human).await;
    b.wait_text(".sbw-status", "You are chatting with Ana")
        .await;
    let (st, list) = app
        .get(
            &format!(
                "/api/conversations?project_id={}&assigned_to=me",
                project.id
            ),
            &ana.token,
        )
        .await;
    assert_eq!(st, 200, "{list}");
    let conv = s(&list["items"][0]["id"]);
    app.say(&conv, &ana.token, "first").await;
    b.wait_text(".sbw-msg.agent", "first").await;

    // Cut the socket at the widget's next frame and keep reconnects away
    // until the agent has written 450 messages.
    b.eval(
        "const Real = window.WebSocket; window.__block = true;
         window.WebSocket = function (u) { return new Real(window.__block ? u.replace(/\\/\\/[^\\/]+/, '//127.0.0.1:9') : u); };
         const send = Real.prototype.send;
         Real.prototype.send = function (d) { if (!window.__cut) { window.__cut = true; this.close(); return; } return send.call(this, d); };
         return null;",
    )
    .await;
    b.type_into(&input, "x").await;
    wait_eval(&b, "return window.__cut === true;", &json!(true)).await;
    let missed = numbered("missed", MISSED);
    for chunk in missed.chunks(50) {
        // Sent together: the conversation takes them in order of arrival.
        let sends = chunk.iter().map(|m| app.post_message(&conv, &ana.token, m));
        for (st, body) in futures_util::future::join_all(sends).await {
            assert_eq!(st, 201, "{body}");
        }
    }
    let order: Vec<String> = app
        .get_messages(&conv, &ana.token)
        .await
        .iter()
        .filter(|m| m["sender_type"] == json!("agent"))
        .map(|m| s(&m["content"]))
        .collect();
    // Back online: the widget reconnects at once, whatever its backoff has
    // grown to while the server was out of reach.
    b.eval("window.__block = false; window.dispatchEvent(new Event('online')); return null;")
        .await;

    // Back: every agent message once, in the order they were stored.
    let agent_texts = "return Array.from(document.querySelectorAll('.sbw-msg.agent'))
                       .map(e => e.innerText.split('\\n').pop());";
    wait_eval(&b, agent_texts, &json!(order)).await;
    app.say(&conv, &ana.token, "welcome back").await;
    let mut live = order.clone();
    live.push("welcome back".into());
    wait_eval(&b, agent_texts, &json!(live)).await;
    b.quit().await;
}

#[actix_rt::test]
async fn the_dashboard_opens_a_conversation_of_450_messages_and_follows_the_pages() {
    let (mut app, project, ana) = TestApp::with_agent_online().await;
    let (conv, token) = app.new_conversation(&project, "lena").await;
    let id = s(&conv["id"]);
    let (st, body) = app
        .post(
            &format!("/api/conversations/{id}/handoff"),
            &token,
            json!({ "reason": "button_click", "customer_name": "Lena Long" }),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let last = app.conversation(&id, &token).await["last_seq"]
        .as_i64()
        .unwrap_or_default();
    // The history, written straight to the store; the restarted server
    // reads it back.
    let conversation_id: ConversationId = id.parse().expect("conversation id");
    let now = app.clock.now();
    let ops = numbered("seeded", MISSED)
        .into_iter()
        .zip(last + 1..)
        .map(|(content, seq)| {
            WriteOp::InsertMessage(Box::new(MessageRecord {
                id: MessageId::new(),
                conversation_id,
                seq,
                sender_type: SenderType::Customer,
                sender_id: None,
                content,
                metadata: json!({}),
                client_msg_id: None,
                internal: false,
                created_at: now,
            }))
        })
        .collect();
    app.db().commit(ops).await.expect("seed the history");
    app.restart().await;
    let total = last + MISSED as i64;

    let b = Browser::start().await;
    b.log_in(&app.url("/dashboard"), &ana.email, AGENT_PASSWORD)
        .await;
    b.click_text("#list button", "Lena Long").await;
    // It reads the first 100 over REST, then replays the rest in pages.
    let seqs =
        "return Array.from(document.querySelectorAll('#log .msg')).map(e => +e.dataset.seq);";
    wait_eval(&b, seqs, &json!((1..=total).collect::<Vec<_>>())).await;
    app.say(&id, &ana.token, "Reading it all now").await;
    wait_eval(&b, seqs, &json!((1..=total + 1).collect::<Vec<_>>())).await;
    b.quit().await;
}

#[actix_rt::test]
async fn the_join_page_shows_a_session_chat_of_450_messages() {
    let mut app = TestApp::start().await;
    let project = app.create_project("Fixers").await;
    let solver = app.add_agent(&project, "Sol", 3).await;
    let (sess, _) = app.adhoc_session(&project, &solver).await;
    let id = s(&sess["id"]);
    let join = s(&sess["access_token"]);
    let session_id: SessionId = id.parse().expect("session id");
    let now = app.clock.now();
    let chat = numbered("seeded", MISSED);
    let ops = chat
        .iter()
        .zip(1..)
        .map(|(content, seq)| {
            WriteOp::InsertSessionMessage(Box::new(SessionMessageRecord {
                id: SessionMessageId::new(),
                session_id,
                seq,
                sender_type: SessionSender::Customer,
                sender_id: None,
                content: content.clone(),
                client_msg_id: None,
                created_at: now,
            }))
        })
        .collect();
    app.db().commit(ops).await.expect("seed the chat");
    app.restart().await;

    let b = Browser::start().await;
    b.goto(&app.url(&format!("/join/{id}?token={join}"))).await;
    let texts =
        "return Array.from(document.querySelectorAll('#log .msg')).map(e => e.textContent);";
    wait_eval(&b, texts, &json!(chat)).await;
    let (st, m) = app
        .post(
            &format!("/api/sessions/{id}/messages"),
            &solver.token,
            json!({ "content": "Hi, I have read it all" }),
        )
        .await;
    assert_eq!(st, 201, "{m}");
    let mut live = chat.clone();
    live.push("Hi, I have read it all".into());
    wait_eval(&b, texts, &json!(live)).await;
    b.quit().await;
}
