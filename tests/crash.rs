//! The server as production runs it: the real binary in a subprocess, on
//! the backend the suite runs on (see `common::TestDb`).
//!
//! A SIGKILL while customers and an agent are sending loses no acknowledged
//! message, duplicates none and leaves no gap in the seqs (docs/protocol.md
//! section 5); the agent's chat count agrees with its conversations after
//! the restart. A bad DATABASE_URL stops the start with one line naming the
//! variable, never a panic.

mod common;

use common::*;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::rc::Rc;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// Bound for the binary to print its listening line (a start after a kill
/// includes the recovery).
const START_BOUND: Duration = Duration::from_secs(60);
/// Bound for a bad start to end.
const FAIL_BOUND: Duration = Duration::from_secs(60);
/// Bound for any one socket to answer while the server is up.
const STALL: Duration = Duration::from_secs(15);
/// Sends each socket keeps in flight.
const WINDOW: usize = 4;
/// Acknowledged messages before the first conversation is resolved.
const RESOLVE_AT: usize = 60;
/// How long this client stops reading just before the kill, so the
/// server has committed messages whose replies are never read.
const PAUSE_BEFORE_KILL: Duration = Duration::from_millis(10);
/// Acknowledged messages before the kill...
const KILL_AT: usize = 240;
/// ...or this long after the traffic began, whichever comes first.
const KILL_AFTER: Duration = Duration::from_secs(30);

// ----- the binary as a subprocess -------------------------------------------------

/// `switchboard serve` on 127.0.0.1:0 over `db`; SIGKILLed and reaped when
/// dropped. Its output is kept, and shown when the test fails.
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    output: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    fn spawn(db: &TestDb) -> ServerProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("serve")
            .env("SWITCHBOARD_BIND", "127.0.0.1:0")
            .env("DATABASE_URL", db.env_value())
            .env("SWITCHBOARD_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("SWITCHBOARD_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn")
            // Its traffic sends many messages per visitor at once; the rate
            // limits are tested in tests/limits.rs.
            .env("SWITCHBOARD_RATE_LIMIT_WIDGET_MESSAGES", "0")
            .env("SWITCHBOARD_RATE_LIMIT_DASHBOARD", "0")
            .env("SWITCHBOARD_RATE_LIMIT_HEARTBEATS", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn switchboard serve");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().expect("child stdout");
        let err = child.stderr.take().expect("child stderr");
        keep_lines(out, "stdout", output.clone(), Some(tx));
        let err_reader = keep_lines(err, "stderr", output.clone(), None);
        match rx.recv_timeout(START_BOUND) {
            Ok(addr) => ServerProcess {
                child,
                addr,
                output,
            },
            Err(e) => {
                let _ = child.kill();
                let status = child.wait();
                let _ = err_reader.join();
                let lines = output.lock().map(|o| o.join("\n")).unwrap_or_default();
                panic!(
                    "switchboard serve did not start ({}; {status:?}); output:\n{lines}",
                    match e {
                        mpsc::RecvTimeoutError::Timeout =>
                            format!("nothing within {START_BOUND:?}"),
                        mpsc::RecvTimeoutError::Disconnected => "it exited".to_string(),
                    }
                );
            }
        }
    }

    /// SIGKILL (what `Child::kill` sends on unix) and reap.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        let status = self.child.wait().expect("reap the server");
        assert!(!status.success(), "killed server exited {status}");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let lines = self.output.lock().map(|o| o.join("\n")).unwrap_or_default();
            eprintln!("server output:\n{lines}");
        }
    }
}

/// Read `from` line by line into `into` on a thread; the first listening
/// line's address goes to `listening`.
fn keep_lines(
    from: impl Read + Send + 'static,
    name: &'static str,
    into: Arc<Mutex<Vec<String>>>,
    listening: Option<mpsc::Sender<SocketAddr>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut listening = listening;
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix("Switchboard listening on http://") {
                if let (Some(tx), Ok(addr)) = (listening.take(), rest.trim().parse()) {
                    let _ = tx.send(addr);
                }
            }
            if let Ok(mut out) = into.lock() {
                out.push(format!("[{name}] {line}"));
            }
        }
    })
}

// ----- traffic ----------------------------------------------------------------------

/// One `send_message` written to a socket.
#[derive(Debug, Clone)]
struct Sent {
    conversation_id: String,
    client_msg_id: String,
    content: String,
    /// The token that sent it (for a retry over REST).
    token: String,
}

/// What every socket did, shared by the senders (one thread, so RefCell).
#[derive(Default)]
struct Traffic {
    sent: Vec<Sent>,
    /// Index into `sent` and the reply's `data`.
    acked: Vec<(usize, Value)>,
    /// Index into `sent` and the refusing reply.
    refused: Vec<(usize, Value)>,
    /// Refusals in a conversation nobody had asked to resolve yet.
    unexpected: Vec<String>,
    /// Conversations whose resolve was sent.
    resolving: HashSet<String>,
    /// Sockets that stopped before the kill, and why.
    ended_early: Vec<String>,
    killed: bool,
}

struct Sender {
    ws: Ws,
    name: String,
    conversation_id: String,
    token: String,
}

/// Keep `WINDOW` sends in flight until the socket ends (the kill), the
/// server refuses one (the conversation was resolved) or nothing answers
/// within `STALL`.
async fn send_until_the_end(mut s: Sender, traffic: Rc<RefCell<Traffic>>) {
    let mut in_flight: HashMap<String, usize> = HashMap::new();
    let mut n = 0usize;
    let mut refused = false;
    loop {
        while !refused && in_flight.len() < WINDOW {
            n += 1;
            let sent = Sent {
                conversation_id: s.conversation_id.clone(),
                client_msg_id: format!("{}-{n}", s.name),
                content: format!("{} says {n}", s.name),
                token: s.token.clone(),
            };
            let r = format!("{}-r{n}", s.name);
            let op = json!({
                "op": "send_message",
                "ref": r,
                "conversation_id": sent.conversation_id,
                "content": sent.content,
                "client_msg_id": sent.client_msg_id,
            });
            let idx = {
                let mut t = traffic.borrow_mut();
                t.sent.push(sent);
                t.sent.len() - 1
            };
            if let Err(e) = s.ws.try_send_text(op.to_string()).await {
                let mut t = traffic.borrow_mut();
                if !t.killed {
                    t.ended_early.push(format!("{}: send failed: {e}", s.name));
                }
                return;
            }
            in_flight.insert(r, idx);
        }
        if in_flight.is_empty() {
            return;
        }
        match s.ws.recv(STALL).await {
            Some(Incoming::Json(v)) if v["type"] == json!("reply") => {
                let r = s_or_null(&v["ref"]);
                let Some(idx) = in_flight.remove(&r) else {
                    traffic
                        .borrow_mut()
                        .unexpected
                        .push(format!("{}: reply to an unknown ref: {v}", s.name));
                    continue;
                };
                let mut t = traffic.borrow_mut();
                if v["ok"] == json!(true) {
                    t.acked.push((idx, v["data"].clone()));
                } else {
                    if !t.resolving.contains(&s.conversation_id) {
                        t.unexpected.push(format!("{}: refused: {v}", s.name));
                    }
                    t.refused.push((idx, v));
                    refused = true;
                }
            }
            Some(Incoming::Json(_event)) => {}
            other => {
                let mut t = traffic.borrow_mut();
                if !t.killed {
                    t.ended_early.push(format!("{}: {other:?}", s.name));
                }
                return;
            }
        }
    }
}

fn s_or_null(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

/// Every message of each conversation, by the admin.
async fn all_messages(app: &TestApp, conversations: &[String]) -> BTreeMap<String, Vec<Value>> {
    let mut out = BTreeMap::new();
    for id in conversations {
        out.insert(id.clone(), app.get_messages(id, app.admin_token()).await);
    }
    out
}

/// Seqs 1..N without a gap, each `client_msg_id` once, and every
/// acknowledged message there exactly as it was acknowledged. Returns how
/// many of `maybe` (sent, never answered) made it.
fn assert_durable(
    msgs: &BTreeMap<String, Vec<Value>>,
    acked: &[(Sent, Value)],
    maybe: &[Sent],
) -> usize {
    for (id, list) in msgs {
        let n = list.len() as i64;
        assert_eq!(
            seqs(list),
            (1..=n).collect::<Vec<_>>(),
            "seqs of conversation {id}"
        );
        let mut seen = HashSet::new();
        for m in list {
            if let Some(c) = m["client_msg_id"].as_str() {
                assert!(seen.insert(c), "{c} stored twice in {id}: {list:#?}");
            }
        }
    }
    let find = |sent: &Sent| -> Vec<&Value> {
        msgs[&sent.conversation_id]
            .iter()
            .filter(|m| m["client_msg_id"] == json!(sent.client_msg_id))
            .collect()
    };
    for (sent, data) in acked {
        let found = find(sent);
        assert_eq!(
            found.len(),
            1,
            "acknowledged {} found {} times",
            sent.client_msg_id,
            found.len()
        );
        assert_eq!(
            found[0], data,
            "acknowledged {} changed",
            sent.client_msg_id
        );
        assert_eq!(found[0]["content"], json!(sent.content));
    }
    let mut made_it = 0;
    for sent in maybe {
        let found = find(sent);
        if let Some(m) = found.first() {
            assert_eq!(m["content"], json!(sent.content), "{m}");
            made_it += 1;
        }
    }
    made_it
}

/// The agent's `current_chat_count` is the number of its `agent_active`
/// conversations, within its limit, and the waiting ones are queued 1..k.
async fn assert_counts_agree(
    app: &TestApp,
    project: &Project,
    agent: &Agent,
    conversations: &[String],
    max: i64,
) -> (i64, usize) {
    let mut active = 0;
    let mut positions = Vec::new();
    for id in conversations {
        let c = app.conversation(id, app.admin_token()).await;
        if c["status"] == json!("agent_active") {
            assert_eq!(c["assigned_agent_id"], json!(agent.user_id), "{c}");
            active += 1;
        }
        if c["status"] == json!("waiting") {
            positions.push(c["queue_position"].as_i64().expect("queue_position"));
        }
        let last = app.get_messages(id, app.admin_token()).await;
        assert_eq!(
            c["last_seq"],
            json!(last.len()),
            "last_seq of {id} against its messages"
        );
    }
    positions.sort_unstable();
    assert_eq!(
        positions,
        (1..=positions.len() as i64).collect::<Vec<_>>(),
        "queue positions"
    );
    let count = app.agent_view(project, agent).await["current_chat_count"]
        .as_i64()
        .expect("current_chat_count");
    assert_eq!(count, active, "current_chat_count against agent_active");
    assert!(count <= max, "{count} chats over the limit {max}");
    (count, positions.len())
}

#[actix_rt::test]
async fn a_sigkill_while_customers_send_loses_no_acknowledged_message() {
    let db = TestDb::fresh().await;
    let mut server = ServerProcess::spawn(&db);
    let mut app = TestApp::attach(server.addr).await;
    let project = app.create_project("Crash").await;
    app.enable_handoff(&project, |_| {}).await;
    let ana = app.add_agent(&project, "Ana", 4).await;
    app.set_status(&ana, &project, "online").await;

    // Four live chats with Ana and one waiting for her.
    let mut convs: Vec<(String, String)> = Vec::new();
    for i in 0..4 {
        convs.push(
            app.assigned_conversation(&project, &format!("v{i}"), &ana)
                .await,
        );
    }
    convs.push(app.waiting_conversation(&project, "v4", 1).await);
    let ids: Vec<String> = convs.iter().map(|(id, _)| id.clone()).collect();

    // Nine sockets: every customer, and Ana once per live chat.
    let traffic = Rc::new(RefCell::new(Traffic::default()));
    let mut senders = Vec::new();
    for (i, (id, token)) in convs.iter().enumerate() {
        senders.push(Sender {
            ws: app.ws(token).await,
            name: format!("customer{i}"),
            conversation_id: id.clone(),
            token: token.clone(),
        });
        if i < 4 {
            senders.push(Sender {
                ws: app.ws(&ana.token).await,
                name: format!("ana{i}"),
                conversation_id: id.clone(),
                token: ana.token.clone(),
            });
        }
    }
    let mut control = app.ws(&ana.token).await;
    let tasks: Vec<_> = senders
        .into_iter()
        .map(|s| actix_rt::spawn(send_until_the_end(s, traffic.clone())))
        .collect();

    // Mid-traffic, Ana resolves the first chat (the waiting one comes to
    // her); at the kill, the resolve of the second is on its way.
    let began = Instant::now();
    let mut resolved_first = false;
    loop {
        let acked = traffic.borrow().acked.len();
        if !resolved_first && acked >= RESOLVE_AT {
            traffic.borrow_mut().resolving.insert(ids[0].clone());
            let (status, body) = app.resolve(&ids[0], &ana.token).await;
            assert_eq!(status, 200, "resolve mid-traffic: {body}");
            resolved_first = true;
        }
        if acked >= KILL_AT || began.elapsed() > KILL_AFTER {
            break;
        }
        {
            let t = traffic.borrow();
            assert!(
                t.ended_early.is_empty(),
                "before the kill: {:?}",
                t.ended_early
            );
        }
        actix_rt::time::sleep(Duration::from_millis(2)).await;
    }
    traffic.borrow_mut().resolving.insert(ids[1].clone());
    control
        .try_send_text(
            json!({ "op": "resolve", "conversation_id": ids[1], "ref": "x" }).to_string(),
        )
        .await
        .expect("send the resolve");
    let (sent_at_kill, acked_at_kill, refused_at_kill) = {
        let mut t = traffic.borrow_mut();
        t.killed = true;
        (t.sent.len(), t.acked.len(), t.refused.len())
    };
    // Hold this client still for a moment (the server works on what is in
    // flight, its replies wait unread), then kill.
    std::thread::sleep(PAUSE_BEFORE_KILL);
    let traffic_ran = began.elapsed();
    server.kill();
    let in_flight = sent_at_kill - acked_at_kill - refused_at_kill;

    for task in tasks {
        actix_rt::time::timeout(STALL, task)
            .await
            .expect("a sender outlived the server")
            .expect("sender task");
    }
    drop(control);
    let Ok(t) = Rc::try_unwrap(traffic).map(RefCell::into_inner) else {
        panic!("a sender still holds the traffic");
    };
    assert!(
        t.ended_early.is_empty(),
        "before the kill: {:?}",
        t.ended_early
    );
    assert!(t.unexpected.is_empty(), "{:#?}", t.unexpected);
    assert!(
        acked_at_kill >= 20,
        "only {acked_at_kill} messages acknowledged in {traffic_ran:?}"
    );
    assert!(in_flight > 0, "nothing was in flight at the kill");
    let acked: Vec<(Sent, Value)> = t
        .acked
        .iter()
        .map(|(i, data)| (t.sent[*i].clone(), data.clone()))
        .collect();
    for (sent, data) in &acked {
        assert_eq!(
            data["conversation_id"],
            json!(sent.conversation_id),
            "{data}"
        );
        assert_eq!(data["client_msg_id"], json!(sent.client_msg_id), "{data}");
        assert_eq!(data["content"], json!(sent.content), "{data}");
    }
    let answered: HashSet<usize> = t
        .acked
        .iter()
        .map(|(i, _)| *i)
        .chain(t.refused.iter().map(|(i, _)| *i))
        .collect();
    let unanswered: Vec<Sent> = (0..t.sent.len())
        .filter(|i| !answered.contains(i))
        .map(|i| t.sent[i].clone())
        .collect();

    // Up again on the same database.
    let server = ServerProcess::spawn(&db);
    app.addr = server.addr;
    let msgs = all_messages(&app, &ids).await;
    let made_it = assert_durable(&msgs, &acked, &unanswered);
    let (count, waiting) = assert_counts_agree(&app, &project, &ana, &ids, 4).await;
    println!(
        "crash on {}: {} sends over {traffic_ran:?}, {} acknowledged, \
         {} refused, killed with {in_flight} in flight; after the restart every acknowledged \
         message found once, {made_it} of {} unanswered ones stored too, {} messages in all, \
         Ana has {count} chats, {waiting} waiting",
        db.backend_name(),
        t.sent.len(),
        acked.len(),
        t.refused.len(),
        unanswered.len(),
        msgs.values().map(Vec::len).sum::<usize>(),
    );

    // Clients retry what was never answered, where they still may send (a
    // customer in a live or waiting chat, Ana in hers): a message that was
    // stored comes back as it was, one that was not lands now; either way
    // once, and the conversations go on from their last seq.
    let mut retried = 0;
    for sent in &unanswered {
        let c = app
            .conversation(&sent.conversation_id, app.admin_token())
            .await;
        let may_send = if sent.token == ana.token {
            c["status"] == json!("agent_active") && c["assigned_agent_id"] == json!(ana.user_id)
        } else {
            c["status"] == json!("agent_active") || c["status"] == json!("waiting")
        };
        if !may_send {
            continue;
        }
        let (code, body) = app
            .post_message_with_id(
                &sent.conversation_id,
                &sent.token,
                &sent.content,
                &sent.client_msg_id,
            )
            .await;
        assert!(
            code == 200 || code == 201,
            "retry {}: {code} {body}",
            sent.client_msg_id
        );
        assert_eq!(body["content"], json!(sent.content), "{body}");
        if let Some(stored) = msgs[&sent.conversation_id]
            .iter()
            .find(|m| m["client_msg_id"] == json!(sent.client_msg_id))
        {
            assert_eq!(&body, stored, "a retry of a stored message");
        }
        retried += 1;
    }
    println!("{retried} unanswered sends retried over REST after the restart");
    let (id, token) = &convs[2];
    let before = app.get_messages(id, token).await.len() as i64;
    assert_eq!(
        app.say(id, token, "still there?").await["seq"],
        json!(before + 1)
    );
    let msgs = all_messages(&app, &ids).await;
    assert_durable(&msgs, &acked, &unanswered);
    assert_counts_agree(&app, &project, &ana, &ids, 4).await;
}

// ----- a bad DATABASE_URL ---------------------------------------------------------------

struct Ended {
    status: ExitStatus,
    took: Duration,
    stdout: String,
    stderr: String,
}

/// Run `switchboard serve` with `database_url`, which must not start.
async fn start_with(database_url: &str) -> Ended {
    let dir = tempfile::tempdir().expect("temp dir");
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let began = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("serve")
        .current_dir(dir.path())
        .env("SWITCHBOARD_BIND", "127.0.0.1:0")
        .env("DATABASE_URL", database_url)
        .env("SWITCHBOARD_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("SWITCHBOARD_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("spawn switchboard serve");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    loop {
        if let Some(status) = child.try_wait().expect("wait for the server") {
            return Ended {
                status,
                took: began.elapsed(),
                stdout: read(&out_path),
                stderr: read(&err_path),
            };
        }
        if began.elapsed() > FAIL_BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "DATABASE_URL={database_url}: still running after {FAIL_BOUND:?}\nstdout:\n{}\nstderr:\n{}",
                read(&out_path),
                read(&err_path)
            );
        }
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Non-zero exit, stderr exactly one line `DATABASE_URL: ...`, no panic, no
/// listening line, and `secret` (a password) nowhere.
fn assert_refused(url: &str, ended: &Ended, secret: Option<&str>) -> String {
    let all = format!("stdout:\n{}\nstderr:\n{}", ended.stdout, ended.stderr);
    assert!(
        !ended.status.success(),
        "DATABASE_URL={url} exited {}; {all}",
        ended.status
    );
    assert!(
        !all.contains("panicked"),
        "DATABASE_URL={url} panicked; {all}"
    );
    assert!(
        !ended.stdout.contains("Switchboard listening"),
        "DATABASE_URL={url} started; {all}"
    );
    let lines: Vec<&str> = ended.stderr.trim_end().lines().collect();
    assert_eq!(lines.len(), 1, "DATABASE_URL={url}: not one line; {all}");
    assert!(
        lines[0].starts_with("DATABASE_URL: "),
        "DATABASE_URL={url}: the line does not name the variable; {all}"
    );
    if let Some(secret) = secret {
        assert!(
            !all.contains(secret),
            "DATABASE_URL={url}: password shown; {all}"
        );
    }
    lines[0].to_string()
}

#[actix_rt::test]
async fn an_unknown_scheme_stops_the_start_with_one_line() {
    let url = "mysql://x";
    let ended = start_with(url).await;
    let line = assert_refused(url, &ended, None);
    assert!(line.contains("mysql"), "{line}");
}

#[actix_rt::test]
async fn an_unreachable_postgres_stops_the_start_with_one_line() {
    for (url, secret) in [
        ("postgres://nobody@127.0.0.1:1/none", None),
        (
            "postgres://nobody:hunter2-secret@127.0.0.1:1/none",
            Some("hunter2-secret"),
        ),
    ] {
        let ended = start_with(url).await;
        let line = assert_refused(url, &ended, secret);
        println!(
            "DATABASE_URL={url}: exit {} after {:?}: {line}",
            ended.status, ended.took
        );
    }
}

/// On PostgreSQL (the suite's server is at hand): a database that does not
/// exist is a bad DATABASE_URL too.
#[actix_rt::test]
async fn a_missing_postgres_database_stops_the_start_with_one_line() {
    let Backend::Postgres(admin_url) = Backend::from_env() else {
        return;
    };
    let url = pg_url_with_database(&admin_url, "sb_no_such_database");
    let ended = start_with(&url).await;
    let line = assert_refused(&url, &ended, None);
    println!(
        "DATABASE_URL={url}: exit {} after {:?}: {line}",
        ended.status, ended.took
    );
}
