//! `ws chat`: N widget conversations handed off to agents (all
//! `agent_active`), every customer with a WebSocket of its own and every
//! agent with one socket subscribed to all of its conversations; customers
//! and agents take turns sending `send_message` ops at a total rate R for S
//! seconds, open loop (no send waits for a reply; at most
//! `--max-in-flight` unanswered).
//!
//! Options: `--conversations N` (100), `--rate R` msgs/s (1000),
//! `--seconds S` (5), `--agents A` (enough for N at 80 % of `--capacity`),
//! `--capacity C` max chats per agent (50, the API's maximum),
//! `--max-in-flight F` (max(R, 1000)), `--drain-seconds D` (30: how long to
//! wait for the last acks and deliveries), `--setup-concurrency` (32).
//!
//! Figures: messages sent, acknowledged and delivered, their rates, the ack
//! latency (send -> ok reply) and the delivery latency (send -> the
//! `message` event carrying that client_msg_id on the other side's socket),
//! CPU of the server and of the harness. Checks: see [`check`].

use super::api::{Agent, Api, Project, StoredMessage};
use super::server::{self, Server};
use super::socket::{Handler, In, Sock};
use crate::args::Args;
use crate::report::Report;
use crate::stats::Samples;
use serde_json::json;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

const OP_TIMEOUT: Duration = Duration::from_secs(60);

struct Conv {
    id: String,
    token: String,
    agent: usize,
}

struct Sent {
    conv: u32,
    from_customer: bool,
    sent_at: Instant,
    /// The seq of the ok reply; 0 until then.
    ack_seq: i64,
    answered: bool,
    /// How many times the other side's socket got it.
    delivered: u32,
}

#[derive(Clone, Copy)]
enum Role {
    Customer,
    Agent,
}

struct SockLog {
    role: Role,
    /// Per conversation: the seqs of the `message` events, in arrival order.
    received: HashMap<u32, Vec<i64>>,
}

struct State {
    run: String,
    sent: Vec<Sent>,
    conv_by_channel: HashMap<String, u32>,
    socks: Vec<SockLog>,
    ack: Samples,
    delivery: Samples,
    acked: u64,
    errors: u64,
    first_error: Option<String>,
    delivered: u64,
    /// Replies whose ref is no message of ours, or came twice.
    stray_replies: u64,
    last_ack: Option<Instant>,
    last_delivery: Option<Instant>,
}

fn content_of(k: u64) -> String {
    format!("load message {k}, a line of ordinary chat length")
}

fn parse_k(run: &str, client_msg_id: &str) -> Option<usize> {
    client_msg_id
        .strip_prefix(run)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

fn on_frame(st: &mut State, sock: usize, f: &In<'_>, now: Instant) {
    match f.kind.as_ref() {
        "reply" => {
            let Some(m) = f.r.and_then(|k| st.sent.get_mut(k as usize)) else {
                st.stray_replies += 1;
                return;
            };
            if m.answered {
                st.stray_replies += 1;
                return;
            }
            m.answered = true;
            let seq = f.data.as_ref().and_then(|d| d.seq);
            match (f.ok, seq) {
                (Some(true), Some(seq)) => {
                    m.ack_seq = seq;
                    st.acked += 1;
                    st.ack.push(now - m.sent_at);
                    st.last_ack = Some(now);
                }
                _ => {
                    st.errors += 1;
                    if st.first_error.is_none() {
                        st.first_error = Some(format!(
                            "{} {}",
                            f.error.as_deref().unwrap_or("reply without a seq"),
                            f.message.as_deref().unwrap_or("")
                        ));
                    }
                }
            }
        }
        "event" if f.event.as_deref() == Some("message") => {
            let Some(conv) = f
                .channel
                .as_deref()
                .and_then(|c| st.conv_by_channel.get(c).copied())
            else {
                return;
            };
            let data = f.data.as_ref();
            let seq = f.seq.or_else(|| data.and_then(|d| d.seq)).unwrap_or(-1);
            let Some(log) = st.socks.get_mut(sock) else {
                return;
            };
            let role = log.role;
            log.received.entry(conv).or_default().push(seq);
            let k = data
                .and_then(|d| d.client_msg_id.as_deref())
                .and_then(|c| parse_k(&st.run, c));
            if let Some(m) = k.and_then(|k| st.sent.get_mut(k)) {
                let other_side = match role {
                    Role::Customer => !m.from_customer,
                    Role::Agent => m.from_customer,
                };
                if other_side && m.conv == conv {
                    m.delivered += 1;
                    if m.delivered == 1 {
                        st.delivered += 1;
                        st.delivery.push(now - m.sent_at);
                        st.last_delivery = Some(now);
                    }
                }
            }
        }
        _ => {}
    }
}

pub async fn run(args: &Args, server: &Server) -> Result<Report, String> {
    let n: usize = args.num("conversations", 100)?;
    let rate: f64 = args.num("rate", 1000.0)?;
    let seconds: f64 = args.num("seconds", 5.0)?;
    let capacity: u32 = args.num("capacity", 50)?;
    if n == 0 || rate <= 0.0 || seconds <= 0.0 {
        return Err("--conversations, --rate and --seconds must be above 0".into());
    }
    if !(1..=50).contains(&capacity) {
        return Err("--capacity must be 1..=50 (the API's limit)".into());
    }
    let default_agents = (n * 5).div_ceil(capacity as usize * 4).max(1);
    let agents_n: usize = args.num("agents", default_agents)?;
    if agents_n == 0 || agents_n * (capacity as usize) < n {
        return Err(format!(
            "{agents_n} agents of capacity {capacity} cannot hold {n} conversations"
        ));
    }
    let max_in_flight: u64 = args.num("max-in-flight", (rate as u64).max(1000))?;
    let drain = Duration::from_secs_f64(args.num("drain-seconds", 30.0)?);
    let conc: usize = args.num("setup-concurrency", 32)?;
    let mut report = Report::new(
        "ws",
        "chat",
        &server.store,
        json!({
            "conversations": n, "rate": rate, "seconds": seconds, "agents": agents_n,
            "capacity": capacity, "max_in_flight": max_in_flight, "url": server.base,
        }),
    );

    // ----- setup through the public API -----------------------------------
    let setup_start = Instant::now();
    let api = Api::new(&server.base);
    let admin = super::admin_login(&api, server).await?;
    let run = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
    let project = api
        .project_with_handoff(&admin, &format!("load chat {run}"))
        .await?;
    let agents: Vec<Agent> = super::bounded((0..agents_n).collect(), 8, |i| {
        let (api, admin, project, run) = (&api, &admin, &project, &run);
        async move {
            api.online_agent(
                admin,
                project,
                &format!("load-agent-{run}-{i}@example.com"),
                capacity,
            )
            .await
        }
    })
    .await?;
    let agent_index: HashMap<String, usize> = agents
        .iter()
        .enumerate()
        .map(|(i, a)| (a.user_id.clone(), i))
        .collect();
    let convs: Vec<Conv> = super::bounded((0..n).collect(), conc, |c| {
        let (api, project, run, agent_index) = (&api, &project, &run, &agent_index);
        async move {
            let (id, token) = api
                .widget_conversation(project, &format!("load-visitor-{run}-{c}"))
                .await?;
            let h = api.handoff(&id, &token).await?;
            if h["status"] != json!("agent_active") {
                return Err(format!(
                    "the handoff of conversation {c} was not assigned: {h}"
                ));
            }
            let agent = h["assigned_agent"]["id"]
                .as_str()
                .and_then(|u| agent_index.get(u).copied())
                .ok_or_else(|| format!("handoff assigned to an agent not of this run: {h}"))?;
            Ok(Conv { id, token, agent })
        }
    })
    .await?;

    let state = Rc::new(RefCell::new(State {
        run: run.clone(),
        sent: Vec::new(),
        conv_by_channel: convs
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("conversation:{}", c.id), i as u32))
            .collect(),
        socks: (0..n + agents_n)
            .map(|i| SockLog {
                role: if i < n { Role::Customer } else { Role::Agent },
                received: HashMap::new(),
            })
            .collect(),
        ack: Samples::default(),
        delivery: Samples::default(),
        acked: 0,
        errors: 0,
        first_error: None,
        delivered: 0,
        stray_replies: 0,
        last_ack: None,
        last_delivery: None,
    }));
    let handler: Handler = {
        let st = state.clone();
        Rc::new(move |sock: usize, f: &In<'_>, now: Instant| {
            on_frame(&mut st.borrow_mut(), sock, f, now)
        })
    };
    let ws_client = awc::Client::builder()
        .connector(
            awc::Connector::new()
                .limit(0)
                .timeout(Duration::from_secs(30)),
        )
        .timeout(Duration::from_secs(30))
        .finish();
    let mut socks: Vec<Sock> = super::bounded((0..n).collect(), conc, |c| {
        let (ws_client, convs, handler) = (&ws_client, &convs, handler.clone());
        let ws_base = server.ws_base.as_str();
        async move {
            let s = Sock::connect(ws_client, ws_base, &convs[c].token, c, Some(handler)).await?;
            s.subscribe(
                &format!("conversation:{}", convs[c].id),
                Some(0),
                OP_TIMEOUT,
            )
            .await?;
            Ok(s)
        }
    })
    .await?;
    let agent_socks: Vec<Sock> = super::bounded((0..agents_n).collect(), conc, |a| {
        let (ws_client, convs, agents, handler) = (&ws_client, &convs, &agents, handler.clone());
        let ws_base = server.ws_base.as_str();
        async move {
            let s =
                Sock::connect(ws_client, ws_base, &agents[a].token, n + a, Some(handler)).await?;
            for c in convs.iter().filter(|c| c.agent == a) {
                s.subscribe(&format!("conversation:{}", c.id), Some(0), OP_TIMEOUT)
                    .await?;
            }
            Ok(s)
        }
    })
    .await?;
    socks.extend(agent_socks);
    let setup_s = setup_start.elapsed().as_secs_f64();

    // ----- the load ----------------------------------------------------------
    let tck = server::clock_ticks_per_s();
    let server_ticks0 = server::cpu_ticks(server.pid);
    let own_ticks0 = server::cpu_ticks(None);
    let threads0 = server.pid.map(server::thread_ticks).unwrap_or_default();
    let total = (rate * seconds).round() as u64;
    let window = Duration::from_secs_f64(seconds);
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let t0 = Instant::now();
    let mut k: u64 = 0;
    let mut capped_ticks: u64 = 0;
    loop {
        tick.tick().await;
        let elapsed = t0.elapsed();
        let due = ((elapsed.as_secs_f64() * rate) as u64).min(total);
        {
            let mut st = state.borrow_mut();
            let answered = st.acked + st.errors;
            if k < due && k - answered >= max_in_flight {
                capped_ticks += 1;
            }
            while k < due && k - answered < max_in_flight {
                let c = (k % n as u64) as usize;
                let from_customer = (k / n as u64) % 2 == 0;
                let conv = &convs[c];
                let idx = if from_customer { c } else { n + conv.agent };
                let text = format!(
                    r#"{{"op":"send_message","ref":{k},"conversation_id":"{}","content":"{}","client_msg_id":"{run}-{k}"}}"#,
                    conv.id,
                    content_of(k)
                );
                st.sent.push(Sent {
                    conv: c as u32,
                    from_customer,
                    sent_at: Instant::now(),
                    ack_seq: 0,
                    answered: false,
                    delivered: 0,
                });
                if !socks[idx].send_text(text) {
                    // The socket is gone: answered as an error now.
                    if let Some(m) = st.sent.last_mut() {
                        m.answered = true;
                    }
                    st.errors += 1;
                    if st.first_error.is_none() {
                        st.first_error = Some(format!("socket {idx} closed before a send"));
                    }
                }
                k += 1;
            }
        }
        if k >= total || elapsed >= window {
            break;
        }
    }
    let send_window = t0.elapsed();
    let drain_deadline = Instant::now() + drain;
    while Instant::now() < drain_deadline {
        {
            let st = state.borrow();
            if st.acked + st.errors >= k && st.delivered >= st.acked {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let load_wall = t0.elapsed();
    let server_cpu =
        server::cpu_percent(server_ticks0, server::cpu_ticks(server.pid), load_wall, tck);
    let own_cpu = server::cpu_percent(own_ticks0, server::cpu_ticks(None), load_wall, tck);
    let threads1 = server.pid.map(server::thread_ticks).unwrap_or_default();

    {
        let mut st = state.borrow_mut();
        let acked = st.acked;
        let delivered = st.delivered;
        let per_s = |count: u64, last: Option<Instant>| -> f64 {
            match last {
                Some(l) if l > t0 => count as f64 / (l - t0).as_secs_f64(),
                _ => 0.0,
            }
        };
        report.figure("conversations", n);
        report.figure("agents", agents_n);
        report.figure("sockets", socks.len());
        report.figure("setup_s", round3(setup_s));
        report.figure("target_messages", total);
        report.figure("messages_sent", k);
        report.figure("acked", acked);
        report.figure("errors", st.errors);
        report.figure("unanswered", k - acked - st.errors);
        report.figure("elapsed_s", round3(send_window.as_secs_f64()));
        report.figure(
            "send_rate_per_s",
            round1(k as f64 / send_window.as_secs_f64()),
        );
        report.figure("acked_per_s", round1(per_s(acked, st.last_ack)));
        report.figure("delivered", delivered);
        report.figure(
            "delivered_per_s",
            round1(per_s(delivered, st.last_delivery)),
        );
        report.figure("in_flight_cap_hit_ms", capped_ticks);
        let ack = st.ack.summary();
        let delivery = st.delivery.summary();
        report.figure("ack_latency", ack);
        report.figure("delivery_latency", delivery);
        report.figure("server_cpu_percent", server_cpu.map(round1));
        report.figure("harness_cpu_percent", own_cpu.map(round1));
        report.figure(
            "server_busiest_threads_percent",
            server::busiest_threads(&threads0, &threads1, load_wall, tck, 6),
        );
        report.figure("server_rss_bytes", server::rss_bytes(server.pid));
    }

    check(
        &mut report,
        &api,
        &admin,
        &project,
        &agents,
        &convs,
        &socks,
        &state,
        capacity,
    )
    .await?;
    for s in &socks {
        s.close();
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
async fn check(
    report: &mut Report,
    api: &Api,
    admin: &str,
    project: &Project,
    agents: &[Agent],
    convs: &[Conv],
    socks: &[Sock],
    state: &Rc<RefCell<State>>,
    capacity: u32,
) -> Result<(), String> {
    let n = convs.len();
    // Every send answered ok.
    {
        let st = state.borrow();
        let sent = st.sent.len() as u64;
        let unanswered = sent - st.acked - st.errors;
        report.check(
            "every send acknowledged",
            st.errors == 0 && unanswered == 0 && st.stray_replies == 0,
            format!(
                "{} of {sent} ok, {} refused, {unanswered} unanswered, {} stray replies{}",
                st.acked,
                st.errors,
                st.stray_replies,
                st.first_error
                    .as_ref()
                    .map(|e| format!("; first: {e}"))
                    .unwrap_or_default()
            ),
        );
    }

    // The store, as staff see it.
    let stored: Vec<Vec<StoredMessage>> = super::bounded((0..n).collect(), 16, |c| async move {
        api.messages(&convs[c].id, admin).await
    })
    .await?;

    // Every acknowledged message exactly once, with its content, at its seq.
    {
        let st = state.borrow();
        let mut count = vec![0u32; st.sent.len()];
        let mut wrong = Vec::new();
        let mut unacked_stored = 0u64;
        for (c, msgs) in stored.iter().enumerate() {
            for m in msgs {
                let Some(k) = m
                    .client_msg_id
                    .as_deref()
                    .and_then(|id| parse_k(&st.run, id))
                else {
                    continue;
                };
                let Some(s) = st.sent.get(k) else {
                    wrong.push(format!("unknown message {k} stored"));
                    continue;
                };
                count[k] += 1;
                let sender = if s.from_customer { "customer" } else { "agent" };
                if s.conv as usize != c
                    || m.content != content_of(k as u64)
                    || m.sender_type != sender
                    || (s.ack_seq > 0 && m.seq != s.ack_seq)
                {
                    wrong.push(format!(
                        "message {k}: stored in conversation {c} at seq {} as {:?} by {}, sent to {} acked at seq {}",
                        m.seq, m.content, m.sender_type, s.conv, s.ack_seq
                    ));
                }
                if s.ack_seq == 0 {
                    unacked_stored += 1;
                }
            }
        }
        let acked: Vec<usize> = (0..st.sent.len())
            .filter(|k| st.sent[*k].ack_seq > 0)
            .collect();
        let missing = acked.iter().filter(|k| count[**k] == 0).count();
        let doubled = count.iter().filter(|c| **c > 1).count();
        report.check(
            "acked messages stored once",
            missing == 0 && doubled == 0 && wrong.is_empty(),
            format!(
                "{} acked: {missing} missing, {doubled} stored more than once, {} wrong; \
                 {unacked_stored} stored without an ack{}",
                acked.len(),
                wrong.len(),
                wrong
                    .first()
                    .map(|w| format!("; first: {w}"))
                    .unwrap_or_default()
            ),
        );
    }

    // Seqs 1..len per conversation.
    {
        let mut bad = Vec::new();
        let mut total = 0usize;
        for (c, msgs) in stored.iter().enumerate() {
            total += msgs.len();
            if let Some((i, m)) = msgs
                .iter()
                .enumerate()
                .find(|(i, m)| m.seq != *i as i64 + 1)
            {
                bad.push(format!("conversation {c}: position {i} has seq {}", m.seq));
            }
        }
        report.check(
            "seqs gap-free",
            bad.is_empty(),
            format!(
                "{n} conversations, {total} messages; {} with a gap{}",
                bad.len(),
                bad.first()
                    .map(|b| format!("; first: {b}"))
                    .unwrap_or_default()
            ),
        );
    }

    // Every socket got every message of its conversations once, in seq
    // order (customers: every message but internal notes). Bounded wait for
    // the last ones still on their way.
    let staff_view: Vec<Vec<i64>> = stored
        .iter()
        .map(|msgs| msgs.iter().map(|m| m.seq).collect())
        .collect();
    let customer_view: Vec<Vec<i64>> = stored
        .iter()
        .map(|msgs| msgs.iter().filter(|m| !m.internal).map(|m| m.seq).collect())
        .collect();
    let expected = |c: usize, role: Role| -> &Vec<i64> {
        match role {
            Role::Agent => &staff_view[c],
            Role::Customer => &customer_view[c],
        }
    };
    let followed: Vec<Vec<usize>> = (0..socks.len())
        .map(|i| socket_convs(i, n, convs))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let complete = {
            let st = state.borrow();
            st.socks.iter().enumerate().all(|(i, log)| {
                followed[i].iter().all(|c| {
                    let want = expected(*c, log.role);
                    let got = log.received.get(&(*c as u32)).map(Vec::len).unwrap_or(0);
                    got >= want.len()
                })
            })
        };
        if complete || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A moment more so that a duplicate on its way would be seen.
    tokio::time::sleep(Duration::from_millis(200)).await;
    {
        let st = state.borrow();
        let mut bad = Vec::new();
        let mut pairs = 0usize;
        for (i, log) in st.socks.iter().enumerate() {
            for &c in &followed[i] {
                pairs += 1;
                let want = expected(c, log.role);
                let empty = Vec::new();
                let got = log.received.get(&(c as u32)).unwrap_or(&empty);
                if got != want {
                    let first_diff = got
                        .iter()
                        .zip(want.iter())
                        .position(|(a, b)| a != b)
                        .unwrap_or(got.len().min(want.len()));
                    bad.push(format!(
                        "socket {i} conversation {c}: got {} events, expected {}; first difference at {first_diff} (got {:?}, expected {:?})",
                        got.len(),
                        want.len(),
                        got.get(first_diff),
                        want.get(first_diff)
                    ));
                }
            }
        }
        report.check(
            "sockets got every message once in order",
            bad.is_empty(),
            format!(
                "{pairs} (socket, conversation) pairs; {} differ{}",
                bad.len(),
                bad.first()
                    .map(|b| format!("; first: {b}"))
                    .unwrap_or_default()
            ),
        );
    }
    {
        let mut ended = Vec::new();
        let mut unparsed = 0u64;
        let mut first_unparsed = None;
        for s in socks {
            if let Some(why) = s.ended() {
                ended.push(format!("socket {}: {why}", s.idx));
            }
            let (u, first) = s.unparsed();
            unparsed += u;
            if first_unparsed.is_none() {
                first_unparsed = first;
            }
        }
        report.check(
            "sockets stayed open",
            ended.is_empty() && unparsed == 0,
            format!(
                "{} sockets, {} ended, {unparsed} frames not understood{}{}",
                socks.len(),
                ended.len(),
                ended
                    .first()
                    .map(|e| format!("; first: {e}"))
                    .unwrap_or_default(),
                first_unparsed
                    .map(|u| format!("; first frame not understood: {u}"))
                    .unwrap_or_default()
            ),
        );
    }

    // Agents' counts equal their agent_active conversations, within max.
    {
        let list = api.agents(admin, project).await?;
        let active = api
            .settled_conversations(admin, project, "agent_active")
            .await?;
        let mut per_agent: HashMap<String, i64> = HashMap::new();
        for c in &active {
            if let Some(a) = c["assigned_agent_id"].as_str() {
                *per_agent.entry(a.to_string()).or_default() += 1;
            }
        }
        let mut bad = Vec::new();
        for a in agents {
            let Some(v) = list
                .iter()
                .find(|v| v["user_id"].as_str() == Some(&a.user_id))
            else {
                bad.push(format!("agent {} is not listed", a.user_id));
                continue;
            };
            let count = v["current_chat_count"].as_i64().unwrap_or(-1);
            let max = v["max_concurrent_chats"].as_i64().unwrap_or(-1);
            let active = per_agent.get(&a.user_id).copied().unwrap_or(0);
            if count != active || count > max || max != i64::from(capacity) {
                bad.push(format!(
                    "agent {}: current_chat_count {count}, agent_active conversations {active}, max {max}",
                    a.user_id
                ));
            }
        }
        report.check(
            "agent counts equal active conversations",
            bad.is_empty() && active.len() == n,
            format!(
                "{} agents, {} agent_active conversations (of {n}); {} wrong{}",
                agents.len(),
                active.len(),
                bad.len(),
                bad.first()
                    .map(|b| format!("; first: {b}"))
                    .unwrap_or_default()
            ),
        );
    }
    Ok(())
}

/// The conversations socket `i` follows: its own for a customer, all of the
/// agent's for an agent.
fn socket_convs(i: usize, n: usize, convs: &[Conv]) -> Vec<usize> {
    if i < n {
        vec![i]
    } else {
        (0..n).filter(|c| convs[*c].agent == i - n).collect()
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
