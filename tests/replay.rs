//! Replay after `after_seq` in bounded pages (docs/protocol.md section 4,
//! guarantee 5.2), black box: a conversation of 2,400 messages (seeded
//! through the store, then the server restarted on it) subscribed from 0
//! answers one page of 200 and `more: true` without joining the live
//! channel; following the pages yields every message once, in seq order,
//! with internal notes withheld from the customer, then live events. The
//! same for a closed conversation and for a billable session's chat. A
//! socket that subscribes and stops reading cannot make the server hold
//! more than the page it asked for.
#![allow(clippy::unwrap_used)]

mod common;
mod raw_ws;

use common::*;
use raw_ws::*;
use serde_json::{json, Value};
use switchboard_actors::clock::Clock;
use switchboard_actors::ids::{ConversationId, MessageId, SessionId, SessionMessageId};
use switchboard_actors::ports::{MessageRecord, SenderType, Store, WriteOp};
use switchboard_actors::session_ports::{SessionMessageRecord, SessionSender};
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Messages in the seeded chats.
const HISTORY: i64 = 2_400;
/// Seqs per page (the server's `REPLAY_PAGE`).
const PAGE: i64 = 200;

/// The memory test takes it for writing, every other test for reading, so
/// the growth it reads is its own.
static MEMORY: RwLock<()> = RwLock::const_new(());

async fn shared() -> RwLockReadGuard<'static, ()> {
    MEMORY.read().await
}

async fn exclusive() -> RwLockWriteGuard<'static, ()> {
    MEMORY.write().await
}

/// Seeded internal notes: every seventh seq.
fn is_note(seq: i64) -> bool {
    seq <= HISTORY && seq % 7 == 0
}

fn message_seqs(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .map(|e| e["seq"].as_i64().expect("a message event has a seq"))
        .collect()
}

struct LongChat {
    app: TestApp,
    id: String,
    channel: String,
    agent: Agent,
    customer: String,
}

/// A conversation assigned to an agent (its handoff and agent-joined
/// messages are seqs 1 and 2), with seqs 3..=2400 seeded through the store
/// (`content_len` bytes each, every seventh an internal note), and the
/// server restarted so the conversation is read back from storage.
async fn long_chat(content_len: usize) -> LongChat {
    let (mut app, project) = TestApp::with_handoff().await;
    let agent = app.add_agent(&project, "Ana", 3).await;
    app.set_status(&agent, &project, "online").await;
    let (id, customer) = app
        .assigned_conversation(&project, "visitor-1", &agent)
        .await;
    let last = app.conversation(&id, &customer).await["last_seq"]
        .as_i64()
        .unwrap();
    assert_eq!(last, 2);
    let conversation_id: ConversationId = id.parse().unwrap();
    let agent_id = agent.user_id.parse().unwrap();
    let now = app.clock.now();
    let ops = (last + 1..=HISTORY)
        .map(|seq| {
            let customer_turn = seq % 2 == 1 && !is_note(seq);
            let mut content = format!("message {seq} ");
            content.extend(std::iter::repeat_n(
                'x',
                content_len.saturating_sub(content.len()),
            ));
            WriteOp::InsertMessage(Box::new(MessageRecord {
                id: MessageId::new(),
                conversation_id,
                seq,
                sender_type: if customer_turn {
                    SenderType::Customer
                } else {
                    SenderType::Agent
                },
                sender_id: (!customer_turn).then_some(agent_id),
                content,
                metadata: json!({}),
                client_msg_id: None,
                internal: is_note(seq),
                created_at: now,
            }))
        })
        .collect();
    app.db().commit(ops).await.expect("seed the history");
    app.restart().await;
    LongChat {
        app,
        channel: format!("conversation:{id}"),
        id,
        agent,
        customer,
    }
}

/// Subscribe from `after` and follow the pages to the end: each page must
/// bring exactly the seqs `visible` admits in its range, in order. Returns
/// every replayed seq and the replies.
async fn follow_pages(
    ws: &mut Ws,
    channel: &str,
    mut after: i64,
    visible: impl Fn(i64) -> bool,
) -> (Vec<i64>, Vec<Value>) {
    let (mut seen, mut replies) = (Vec::new(), Vec::new());
    loop {
        let reply = ws.subscribe(channel, Some(after)).await;
        let to = reply["replayed_to"]
            .as_i64()
            .unwrap_or_else(|| panic!("no replayed_to: {reply}"));
        let expected: Vec<i64> = (after + 1..=to).filter(|s| visible(*s)).collect();
        let page = message_seqs(&ws.collect_events(channel, "message", expected.len()).await);
        assert_eq!(page, expected, "the page after {after}: {reply}");
        seen.extend(page);
        replies.push(reply.clone());
        if reply["more"] == json!(false) {
            return (seen, replies);
        }
        assert_eq!(reply["more"], json!(true), "{reply}");
        assert_eq!(to, after + PAGE, "a page is {PAGE} seqs: {reply}");
        after = to;
    }
}

#[actix_rt::test]
async fn a_long_conversation_replays_in_pages_then_goes_live() {
    let _g = shared().await;
    let LongChat {
        app,
        id,
        channel,
        agent,
        ..
    } = long_chat(40).await;
    let mut ws = app.ws(&agent.token).await;

    // From 0: one page, and not live.
    let first = ws.subscribe(&channel, Some(0)).await;
    assert_eq!(
        first,
        json!({ "channel": channel, "last_seq": HISTORY, "replayed_to": PAGE, "more": true })
    );
    let page = ws.collect_events(&channel, "message", PAGE as usize).await;
    assert_eq!(message_seqs(&page), (1..=PAGE).collect::<Vec<_>>());
    assert_eq!(page[6]["data"]["internal"], json!(true), "staff see notes");
    // A message sent while the socket catches up waits for its turn.
    let during = app.say(&id, &agent.token, "while you catch up").await;
    assert_eq!(during["seq"], json!(HISTORY + 1));
    assert_eq!(ws.drain().await, Vec::<Value>::new(), "more than one page");

    // The rest, page by page; the last one brings the message sent meanwhile.
    let (rest, replies) = follow_pages(&mut ws, &channel, PAGE, |_| true).await;
    assert_eq!(rest, (PAGE + 1..=HISTORY + 1).collect::<Vec<_>>());
    assert_eq!(replies.len(), 12);
    assert_eq!(
        replies.last().unwrap(),
        &json!({ "channel": channel, "last_seq": HISTORY + 1, "replayed_to": HISTORY + 1, "more": false })
    );

    // Then live, each event once.
    app.say(&id, &agent.token, "live").await;
    let live = ws.collect_events(&channel, "message", 1).await;
    assert_eq!(message_seqs(&live), [HISTORY + 2]);
    assert_eq!(ws.drain().await, Vec::<Value>::new());
}

#[actix_rt::test]
async fn a_customers_pages_leave_out_internal_notes() {
    let _g = shared().await;
    let LongChat {
        app,
        id,
        channel,
        agent,
        customer,
    } = long_chat(40).await;
    let mut ws = app.ws(&customer).await;
    let (seen, replies) = follow_pages(&mut ws, &channel, 0, |s| !is_note(s)).await;
    assert_eq!(
        seen,
        (1..=HISTORY).filter(|s| !is_note(*s)).collect::<Vec<_>>()
    );
    // Pages are counted in seqs, notes included, so both audiences page alike.
    let tos: Vec<Value> = replies.iter().map(|r| r["replayed_to"].clone()).collect();
    assert_eq!(tos, (1..=12).map(|k| json!(k * PAGE)).collect::<Vec<_>>());
    // Live: a note stays withheld, a message comes.
    app.note(&id, &agent.token, "not for the customer").await;
    app.say(&id, &agent.token, "for the customer").await;
    let live = ws.collect_events(&channel, "message", 1).await;
    assert_eq!(message_seqs(&live), [HISTORY + 2]);
    assert_eq!(ws.drain().await, Vec::<Value>::new());
}

#[actix_rt::test]
async fn a_closed_conversation_replays_in_pages_too() {
    let _g = shared().await;
    let LongChat {
        app,
        id,
        channel,
        agent,
        customer,
    } = long_chat(40).await;
    let (st, body) = app.close(&id, &customer).await;
    assert_eq!(st, 200, "{body}");
    let last = app.conversation(&id, &customer).await["last_seq"]
        .as_i64()
        .unwrap();
    assert!(last > HISTORY, "closing adds a system message");

    let mut ws = app.ws(&agent.token).await;
    let first = ws.subscribe(&channel, Some(0)).await;
    assert_eq!(
        first,
        json!({ "channel": channel, "last_seq": last, "replayed_to": PAGE, "more": true })
    );
    let page = ws.collect_events(&channel, "message", PAGE as usize).await;
    assert_eq!(message_seqs(&page), (1..=PAGE).collect::<Vec<_>>());
    assert_eq!(ws.drain().await, Vec::<Value>::new(), "more than one page");
    let (rest, _) = follow_pages(&mut ws, &channel, PAGE, |_| true).await;
    assert_eq!(rest, (PAGE + 1..=last).collect::<Vec<_>>());

    let mut cws = app.ws(&customer).await;
    let (seen, _) = follow_pages(&mut cws, &channel, 0, |s| !is_note(s)).await;
    assert_eq!(
        seen,
        (1..=last).filter(|s| !is_note(*s)).collect::<Vec<_>>()
    );
}

#[actix_rt::test]
async fn a_session_chat_replays_in_pages_then_goes_live() {
    let _g = shared().await;
    let mut app = TestApp::start().await;
    let project = app.create_project("Fixers").await;
    let solver = app.add_agent(&project, "Sol", 3).await;
    let (sess, _) = app.adhoc_session(&project, &solver).await;
    let id = s(&sess["id"]);
    let join = s(&sess["access_token"]);
    let session_id: SessionId = id.parse().unwrap();
    let solver_id = solver.user_id.parse().unwrap();
    let now = app.clock.now();
    let ops = (1..=HISTORY)
        .map(|seq| {
            WriteOp::InsertSessionMessage(Box::new(SessionMessageRecord {
                id: SessionMessageId::new(),
                session_id,
                seq,
                sender_type: if seq % 2 == 0 {
                    SessionSender::Solver
                } else {
                    SessionSender::Customer
                },
                sender_id: (seq % 2 == 0).then_some(solver_id),
                content: format!("message {seq}"),
                client_msg_id: None,
                created_at: now,
            }))
        })
        .collect();
    app.db().commit(ops).await.expect("seed the session chat");
    app.restart().await;
    let channel = format!("session:{id}");

    for token in [&solver.token, &join] {
        let mut ws = app.ws(token).await;
        let first = ws.subscribe(&channel, Some(0)).await;
        assert_eq!(
            first,
            json!({ "channel": channel, "last_seq": HISTORY, "replayed_to": PAGE, "more": true })
        );
        let page = ws.collect_events(&channel, "message", PAGE as usize).await;
        assert_eq!(message_seqs(&page), (1..=PAGE).collect::<Vec<_>>());
        assert_eq!(ws.drain().await, Vec::<Value>::new(), "more than one page");
        let (rest, replies) = follow_pages(&mut ws, &channel, PAGE, |_| true).await;
        assert_eq!(rest, (PAGE + 1..=HISTORY).collect::<Vec<_>>());
        assert_eq!(replies.len(), 11);
    }

    // Both are live now: a new message reaches each once.
    let mut a = app.ws(&solver.token).await;
    let mut b = app.ws(&join).await;
    a.subscribe(&channel, Some(HISTORY - 10)).await;
    b.subscribe(&channel, Some(HISTORY)).await;
    assert_eq!(
        message_seqs(&a.collect_events(&channel, "message", 10).await),
        (HISTORY - 9..=HISTORY).collect::<Vec<_>>()
    );
    let (st, m) = app
        .post(
            &format!("/api/sessions/{id}/messages"),
            &join,
            json!({ "content": "still there?", "client_msg_id": "c-live" }),
        )
        .await;
    assert_eq!(st, 201, "{m}");
    for ws in [&mut a, &mut b] {
        let live = ws.collect_events(&channel, "message", 1).await;
        assert_eq!(message_seqs(&live), [HISTORY + 1]);
        assert_eq!(ws.drain().await, Vec::<Value>::new());
    }
}

/// Three sockets subscribe from 0 to a conversation of 2,400 messages of
/// 10,000 characters (24 MB) and stop reading once the replay has begun.
/// Each can make the server hold at most the page it asked for (200
/// messages, 2 MB): the process's heap grows by less than six pages (the
/// three asked for, and room for the store's page cache and the
/// allocator), where whole histories would be three times 24 MB. Before
/// the pages it grew by 109 MB here.
#[actix_rt::test]
async fn a_subscriber_that_stops_reading_holds_at_most_one_page() {
    let _alone = exclusive().await;
    const CONTENT: usize = 10_000;
    let page_bytes = PAGE as u64 * CONTENT as u64;
    let LongChat {
        app,
        channel,
        customer,
        ..
    } = long_chat(CONTENT).await;
    let mut sockets = Vec::new();
    for _ in 0..3 {
        sockets.push(RawWs::connect(app.addr, &customer).await);
    }
    let before = rss_anon();
    let subscribe = json!({ "op": "subscribe", "ref": "s", "channel": channel, "after_seq": 0 });
    for ws in &mut sockets {
        ws.send(&frame(FIN | TEXT, subscribe.to_string().as_bytes()))
            .await;
        // The replay has begun; from here on nothing is read.
        ws.reader.read_at_least(64).await;
    }
    let held = rss_anon().saturating_sub(before);
    assert!(
        held < 6 * page_bytes,
        "three stalled subscribers made the process hold {held} bytes \
         (a page is {page_bytes})"
    );
    drop(sockets);
}
