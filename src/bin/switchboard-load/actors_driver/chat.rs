//! The chat scenario: N conversations in `agent_active`, customers and their
//! agents sending at a total rate R for S seconds.
//!
//! Message k goes to conversation k mod N; rounds alternate customer and
//! agent (round k / N even: the customer). Its `client_msg_id` is `L<k>`.
//! Sends are paced by a tokio interval (each tick sends what is due by then)
//! and never wait for their acks; at most `--in-flight` are outstanding.
//!
//! - ack latency: the `PostMessage` answer (given once the message is
//!   durable) minus the send instant;
//! - delivery latency: receipt by the other side's probe (the staff probe
//!   for a customer's message, the customer probe for an agent's) minus the
//!   send instant.

use super::checks;
use super::probe::{self, ConvProbe, CountReceipts, ProbeLog, TakeLog};
use super::sys::{self, CpuMeter};
use super::world::{self, Conv, StoreKind, World};
use crate::args::Args;
use crate::report::Report;
use crate::stats::Samples;
use actix::prelude::*;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_actors::domain::conversation::ConversationStatus;
use switchboard_actors::engine::conversation::{
    ConversationActor, CustomerHandoff, PostMessage, SubscribeConversation,
};
use switchboard_actors::engine::events::{Audience, Subscriber};
use switchboard_actors::engine::views::HandoffOutcome;
use switchboard_actors::engine::{Caller, EngineConfig, EngineResult};
use switchboard_actors::ports::{MessageRecord, SenderType};
use tokio::time::MissedTickBehavior;

/// The content of message `k`, so the store can be checked against it.
fn content_of(k: usize, from_customer: bool) -> String {
    let who = if from_customer { "customer" } else { "agent" };
    format!("load message {k} from the {who}")
}

pub async fn run(args: &Args, store: &StoreKind) -> Result<Report, String> {
    let n: usize = args.num("conversations", 100)?;
    let rate: f64 = args.num("rate", 1000.0)?;
    let seconds: f64 = args.num("seconds", 5.0)?;
    let agents: usize = args.num("agents", n.div_ceil(5).max(1))?;
    let in_flight: usize = args.num("in-flight", 10_000)?;
    let tick_ms: u64 = args.num("tick-ms", 2)?;
    let settle: f64 = args.num("settle-seconds", 30.0)?;
    let arbiters: usize = args.num("arbiters", EngineConfig::default().arbiters)?;
    if n == 0 || agents == 0 || in_flight == 0 || tick_ms == 0 || arbiters == 0 {
        return Err(
            "--conversations, --agents, --in-flight, --tick-ms and --arbiters must be > 0".into(),
        );
    }
    if !(rate > 0.0 && seconds > 0.0 && settle >= 0.0) {
        return Err("--rate and --seconds must be > 0".into());
    }
    let max_chats = (n.div_ceil(agents).max(5)) as u32;
    let mut report = Report::new(
        "actors",
        "chat",
        &store.label(),
        json!({
            "conversations": n, "rate": rate, "seconds": seconds, "agents": agents,
            "max_chats_per_agent": max_chats, "in_flight": in_flight, "tick_ms": tick_ms,
            "arbiters": arbiters,
        }),
    );

    // --- setup: the world, N conversations handed off to agents, probes.
    let setup = Instant::now();
    let config = EngineConfig {
        arbiters,
        ..EngineConfig::default()
    };
    let world = world::build(store, agents, max_chats, config).await?;
    let convs = world.create_conversations(n).await?;
    let seats = hand_off_all(&world, &convs).await?;
    let before = checks::views(&convs).await;
    if let Some((i, v)) = before
        .iter()
        .enumerate()
        .find(|(_, v)| !matches!(v, Ok(v) if v.status == ConversationStatus::AgentActive))
    {
        return Err(format!(
            "setup: conversation #{i} is not agent_active: {:?}",
            v.as_ref().map(|v| v.status)
        ));
    }
    let probes_thread = Arbiter::new();
    let probes = subscribe_probes(&world, &convs, &seats, &probes_thread).await?;
    report.figure("setup_ms", ms(setup.elapsed()));

    // --- the run, on the clients thread.
    let plan = SendPlan {
        targets: convs
            .iter()
            .zip(&seats)
            .map(|(c, s)| Target {
                addr: c.addr.clone(),
                customer: c.customer.clone(),
                staff: world.seats[*s].caller.clone(),
            })
            .collect(),
        rate,
        duration: Duration::from_secs_f64(seconds),
        tick: Duration::from_millis(tick_ms),
        max_in_flight: in_flight,
        settle: Duration::from_secs_f64(settle),
    };
    let cpu = CpuMeter::start();
    let clients_thread = Arbiter::new();
    let (tx, rx) = tokio::sync::oneshot::channel();
    clients_thread.spawn_fn(move || {
        actix::spawn(async move {
            let _ = tx.send(send_loop(plan).await);
        });
    });
    let sent = rx
        .await
        .map_err(|_| "the sending task ended without a result".to_string())?;
    let cpu_percent = cpu.percent();
    clients_thread.stop();

    // --- read back: durable state, then what the probes saw.
    world
        .engine
        .flush()
        .await
        .map_err(|e| format!("flush: {e}"))?;
    let ids: Vec<_> = convs.iter().map(|c| c.id).collect();
    let logs = checks::load_logs(&world.store, &ids).await?;
    let expected: Vec<(Vec<i64>, Vec<i64>)> = logs
        .iter()
        .map(|log| {
            let customer = log.iter().filter(|m| !m.internal).map(|m| m.seq).collect();
            let staff = log.iter().map(|m| m.seq).collect();
            (customer, staff)
        })
        .collect();
    wait_for_probes(&probes, &expected, Duration::from_secs(5)).await;
    let mut taken = Vec::with_capacity(probes.len());
    for (c, s) in &probes {
        let c = c.send(TakeLog).await.map_err(|e| format!("probe: {e}"))?;
        let s = s.send(TakeLog).await.map_err(|e| format!("probe: {e}"))?;
        taken.push((c, s));
    }
    probes_thread.stop();

    figures(&mut report, &sent, &taken, n, rate, seconds, cpu_percent);
    check_sends(&mut report, &sent);
    check_store(&mut report, &sent, &logs);
    let (ok, detail) = checks::seqs_gap_free(&logs);
    report.check("seqs_gap_free", ok, detail);
    check_probes(&mut report, &taken, &logs, &expected);
    let after = checks::views(&convs).await;
    let (ok, detail) = checks::one_agent_each(&logs, &after);
    report.check("no_conversation_with_two_agents", ok, detail);
    let (ok, detail) = checks::agent_counts(&world, &after).await;
    report.check("agent_counts_equal_active", ok, detail);
    world.engine.shutdown();
    Ok(report)
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e3).round() / 1e3
}

/// Hand every conversation to an agent; answers each one's seat.
async fn hand_off_all(world: &World, convs: &[Conv]) -> Result<Vec<usize>, String> {
    let answers: Vec<Result<usize, String>> = futures::stream::iter(convs)
        .map(|c| {
            let req = c.addr.send(CustomerHandoff {
                caller: c.customer.clone(),
                reason: "button_click",
                customer_email: None,
                customer_name: None,
            });
            async move {
                match req.await {
                    Ok(Ok(HandoffOutcome::AgentActive { assigned_agent })) => world
                        .seat_of
                        .get(&assigned_agent.id)
                        .copied()
                        .ok_or_else(|| format!("unknown agent {}", assigned_agent.id)),
                    Ok(Ok(other)) => Err(format!("answered {other:?}")),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            }
        })
        .buffered(256)
        .collect()
        .await;
    answers
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.map_err(|e| format!("setup: handoff of conversation #{i}: {e}")))
        .collect()
}

type ProbePair = (Addr<ConvProbe>, Addr<ConvProbe>);

/// Two probes per conversation (customer and staff audience), subscribed
/// from seq 0 so each sees the whole log.
async fn subscribe_probes(
    world: &World,
    convs: &[Conv],
    seats: &[usize],
    thread: &Arbiter,
) -> Result<Vec<ProbePair>, String> {
    let pairs: Vec<ProbePair> = convs
        .iter()
        .map(|_| {
            (
                ConvProbe::start_in_arbiter(&thread.handle(), |_| ConvProbe::default()),
                ConvProbe::start_in_arbiter(&thread.handle(), |_| ConvProbe::default()),
            )
        })
        .collect();
    let mut subs = Vec::with_capacity(convs.len() * 2);
    for ((c, seat), (cp, sp)) in convs.iter().zip(seats).zip(&pairs) {
        subs.push((c.addr.clone(), c.customer.clone(), cp.clone()));
        subs.push((
            c.addr.clone(),
            world.seats[*seat].caller.clone(),
            sp.clone(),
        ));
    }
    let done: Vec<Result<(), String>> = futures::stream::iter(subs)
        .map(|(addr, caller, probe)| {
            let subscriber = Subscriber {
                id: world.engine.next_subscriber_id(),
                deliver: probe.clone().recipient(),
                evicted: probe.recipient(),
                // The engine sets the audience from the caller.
                audience: Audience::Customer,
            };
            async move {
                // The replay comes in pages; the probe is live after the last.
                let mut after = 0;
                loop {
                    let done = addr
                        .send(SubscribeConversation {
                            caller: caller.clone(),
                            subscriber: subscriber.clone(),
                            after_seq: Some(after),
                        })
                        .await
                        .map_err(|e| format!("subscribe: {e}"))?
                        .map_err(|e| format!("subscribe: {e}"))?;
                    match done.replayed_to {
                        Some(to) if done.more => after = to,
                        _ => return Ok(()),
                    }
                }
            }
        })
        .buffered(64)
        .collect()
        .await;
    done.into_iter().collect::<Result<Vec<()>, String>>()?;
    Ok(pairs)
}

/// Wait (bounded) until every probe holds at least what the store holds.
async fn wait_for_probes(probes: &[ProbePair], expected: &[(Vec<i64>, Vec<i64>)], limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let mut behind = false;
        for ((c, s), (ec, es)) in probes.iter().zip(expected) {
            let nc = c.send(CountReceipts).await.unwrap_or(0);
            let ns = s.send(CountReceipts).await.unwrap_or(0);
            if nc < ec.len() || ns < es.len() {
                behind = true;
                break;
            }
        }
        if !behind || Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Target {
    addr: Addr<ConversationActor>,
    customer: Caller,
    staff: Caller,
}

struct SendPlan {
    targets: Vec<Target>,
    rate: f64,
    duration: Duration,
    tick: Duration,
    max_in_flight: usize,
    /// How long to wait for outstanding acks after the window.
    settle: Duration,
}

type PostResult = Result<EngineResult<Arc<MessageRecord>>, MailboxError>;

enum Outcome {
    Pending,
    Acked { at: Instant, seq: i64 },
    Failed(String),
}

struct Sent {
    conv: usize,
    from_customer: bool,
    at: Instant,
    outcome: Outcome,
}

struct SendLog {
    log: Vec<Sent>,
    start: Instant,
    last_send: Instant,
    /// Ticks on which the in-flight bound held sends back.
    limit_hits: u64,
    max_in_flight_seen: usize,
}

async fn send_loop(plan: SendPlan) -> SendLog {
    let n = plan.targets.len();
    let expected = (plan.rate * plan.duration.as_secs_f64()).ceil() as usize;
    let mut log: Vec<Sent> = Vec::with_capacity(expected + 1);
    let mut inflight = FuturesUnordered::new();
    let start = Instant::now();
    let end = start + plan.duration;
    let give_up = tokio::time::Instant::from_std(end + plan.settle);
    let mut tick = tokio::time::interval(plan.tick);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut sending = true;
    let mut limit_hits = 0u64;
    let mut max_in_flight_seen = 0usize;
    let mut last_send = start;
    loop {
        tokio::select! {
            biased;
            Some((k, res, at)) = inflight.next(), if !inflight.is_empty() => {
                let (k, res): (usize, PostResult) = (k, res);
                log[k].outcome = match res {
                    Ok(Ok(m)) => Outcome::Acked { at, seq: m.seq },
                    Ok(Err(e)) => Outcome::Failed(e.to_string()),
                    Err(e) => Outcome::Failed(format!("mailbox: {e}")),
                };
            }
            _ = tick.tick(), if sending => {
                let now = Instant::now();
                let due = ((now.min(end) - start).as_secs_f64() * plan.rate) as usize;
                while log.len() < due {
                    if inflight.len() >= plan.max_in_flight {
                        limit_hits += 1;
                        break;
                    }
                    let k = log.len();
                    let conv = k % n;
                    let from_customer = (k / n) % 2 == 0;
                    let t = &plan.targets[conv];
                    let msg = PostMessage {
                        caller: if from_customer { t.customer.clone() } else { t.staff.clone() },
                        content: content_of(k, from_customer),
                        client_msg_id: Some(probe::client_msg_id(k as u64)),
                        metadata: json!({}),
                    };
                    let at = Instant::now();
                    let req = t.addr.send(msg);
                    log.push(Sent { conv, from_customer, at, outcome: Outcome::Pending });
                    last_send = at;
                    inflight.push(async move {
                        let res = req.await;
                        (k, res, Instant::now())
                    });
                }
                max_in_flight_seen = max_in_flight_seen.max(inflight.len());
                if now >= end {
                    sending = false;
                }
            }
            _ = tokio::time::sleep_until(give_up), if !sending => break,
        }
        if !sending && inflight.is_empty() {
            break;
        }
    }
    SendLog {
        log,
        start,
        last_send,
        limit_hits,
        max_in_flight_seen,
    }
}

fn per_s(count: usize, span: Duration) -> f64 {
    let s = span.as_secs_f64();
    if s > 0.0 {
        (count as f64 / s).round()
    } else {
        0.0
    }
}

fn figures(
    report: &mut Report,
    sent: &SendLog,
    taken: &[(ProbeLog, ProbeLog)],
    n: usize,
    rate: f64,
    seconds: f64,
    cpu_percent: Option<f64>,
) {
    let mut ack = Samples::default();
    let mut last_ack = sent.start;
    let mut acked = 0usize;
    let mut failed = 0usize;
    for s in &sent.log {
        match s.outcome {
            Outcome::Acked { at, .. } => {
                acked += 1;
                ack.push(at - s.at);
                last_ack = last_ack.max(at);
            }
            Outcome::Failed(_) => failed += 1,
            Outcome::Pending => {}
        }
    }
    let mut delivery = Samples::default();
    let mut last_delivery = sent.start;
    for (i, (customer, staff)) in taken.iter().enumerate() {
        for (probe, staff_side) in [(customer, false), (staff, true)] {
            for r in &probe.receipts {
                let Some(s) = r.key.and_then(|k| sent.log.get(k as usize)) else {
                    continue;
                };
                // The other side: the staff probe times the customer's messages.
                if s.conv == i && s.from_customer == staff_side {
                    delivery.push(r.at.saturating_duration_since(s.at));
                    last_delivery = last_delivery.max(r.at);
                }
            }
        }
    }
    let window = sent.last_send.saturating_duration_since(sent.start);
    report.figure("messages_target", (rate * seconds).floor());
    report.figure("messages_sent", sent.log.len());
    report.figure("send_window_s", secs(window));
    report.figure("sent_per_s", per_s(sent.log.len(), window));
    report.figure("acked", acked);
    report.figure("failed", failed);
    report.figure(
        "acked_per_s",
        per_s(acked, last_ack.saturating_duration_since(sent.start)),
    );
    let delivered = delivery.len();
    report.figure("delivered", delivered);
    report.figure(
        "delivered_per_s",
        per_s(
            delivered,
            last_delivery.saturating_duration_since(sent.start),
        ),
    );
    report.figure("ack_latency", ack.summary());
    report.figure("delivery_latency", delivery.summary());
    report.figure(
        "elapsed_s",
        secs(
            last_ack
                .max(last_delivery)
                .saturating_duration_since(sent.start),
        ),
    );
    report.figure("in_flight_max", sent.max_in_flight_seen);
    report.figure("in_flight_limit_hits", sent.limit_hits);
    report.figure("conversations", n);
    if let Some(c) = cpu_percent {
        report.figure("cpu_percent_of_one_core", c);
    }
    if let Some(r) = sys::rss_mib() {
        report.figure("rss_mib", (r * 10.0).round() / 10.0);
    }
}

fn check_sends(report: &mut Report, sent: &SendLog) {
    let mut pending = 0usize;
    let mut failed = Vec::new();
    for (k, s) in sent.log.iter().enumerate() {
        match &s.outcome {
            Outcome::Pending => pending += 1,
            Outcome::Failed(e) => failed.push(format!("message {k}: {e}")),
            Outcome::Acked { .. } => {}
        }
    }
    let ok = pending == 0 && failed.is_empty() && !sent.log.is_empty();
    let detail = if ok {
        format!("{} sent, all acknowledged", sent.log.len())
    } else {
        format!(
            "{} sent, {pending} unanswered, {} refused{}",
            sent.log.len(),
            failed.len(),
            failed
                .first()
                .map(|f| format!("; first: {f}"))
                .unwrap_or_default()
        )
    };
    report.check("every_send_acknowledged", ok, detail);
}

/// Every acknowledged message is stored exactly once, at its acked seq,
/// with its content and sender; no stored client_msg_id repeats.
fn check_store(report: &mut Report, sent: &SendLog, logs: &[Vec<MessageRecord>]) {
    let by_id: Vec<HashMap<&str, Vec<&MessageRecord>>> = logs
        .iter()
        .map(|log| {
            let mut m: HashMap<&str, Vec<&MessageRecord>> = HashMap::new();
            for r in log {
                if let Some(c) = &r.client_msg_id {
                    m.entry(c.as_str()).or_default().push(r);
                }
            }
            m
        })
        .collect();
    let repeated: usize = by_id
        .iter()
        .map(|m| m.values().filter(|v| v.len() > 1).count())
        .sum();
    let mut bad = Vec::new();
    let mut checked = 0usize;
    for (k, s) in sent.log.iter().enumerate() {
        let Outcome::Acked { seq, .. } = s.outcome else {
            continue;
        };
        checked += 1;
        let id = probe::client_msg_id(k as u64);
        let found = by_id[s.conv].get(id.as_str()).map_or(&[][..], |v| &v[..]);
        let want_sender = if s.from_customer {
            SenderType::Customer
        } else {
            SenderType::Agent
        };
        let problem = match found {
            [] => Some("missing".to_string()),
            [m] if m.seq != seq => Some(format!("acked seq {seq}, stored at {}", m.seq)),
            [m] if m.content != content_of(k, s.from_customer) => {
                Some(format!("content differs: {:?}", m.content))
            }
            [m] if m.sender_type != want_sender => Some(format!("sender {:?}", m.sender_type)),
            [_] => None,
            many => Some(format!("stored {} times", many.len())),
        };
        if let Some(p) = problem {
            bad.push(format!("message {k} (conversation #{}): {p}", s.conv));
        }
    }
    let ok = bad.is_empty() && repeated == 0;
    let detail = if ok {
        format!("{checked} acknowledged messages, each stored once with its seq and content")
    } else {
        format!(
            "{} acknowledged messages wrong, {repeated} client_msg_ids stored twice{}",
            bad.len(),
            bad.first()
                .map(|b| format!("; first: {b}"))
                .unwrap_or_default()
        )
    };
    report.check("acked_messages_stored_once", ok, detail);
}

/// Each probe received every durable message its audience may see exactly
/// once, in seq order, carrying the stored message's client_msg_id.
fn check_probes(
    report: &mut Report,
    taken: &[(ProbeLog, ProbeLog)],
    logs: &[Vec<MessageRecord>],
    expected: &[(Vec<i64>, Vec<i64>)],
) {
    let mut bad = Vec::new();
    let mut receipts = 0usize;
    for (i, ((c, s), (ec, es))) in taken.iter().zip(expected).enumerate() {
        for (name, probe, want) in [("customer", c, ec), ("staff", s, es)] {
            receipts += probe.receipts.len();
            let got: Vec<i64> = probe.receipts.iter().map(|r| r.seq).collect();
            let problem = if probe.evicted > 0 {
                Some(format!("evicted {} times", probe.evicted))
            } else if probe.bad_frames > 0 {
                Some(format!("{} unreadable frames", probe.bad_frames))
            } else if &got != want {
                let at = got
                    .iter()
                    .zip(want.iter())
                    .position(|(a, b)| a != b)
                    .unwrap_or(got.len().min(want.len()));
                Some(format!(
                    "received {} of {} messages; first difference at position {at}: got {:?}, want {:?}",
                    got.len(),
                    want.len(),
                    got.get(at),
                    want.get(at)
                ))
            } else {
                // Same seqs: each carries the stored message's client_msg_id.
                probe.receipts.iter().find_map(|r| {
                    let stored = logs[i]
                        .get((r.seq - 1) as usize)
                        .and_then(|m| m.client_msg_id.as_deref())
                        .and_then(probe::key_of);
                    (stored != r.key).then(|| {
                        format!("seq {} carried key {:?}, stored {:?}", r.seq, r.key, stored)
                    })
                })
            };
            if let Some(p) = problem {
                bad.push(format!("conversation #{i} {name} probe: {p}"));
            }
        }
    }
    let ok = bad.is_empty();
    let detail = if ok {
        format!(
            "{} probes, {receipts} receipts: every visible message once, in seq order",
            taken.len() * 2
        )
    } else {
        format!("{} probes wrong; first: {}", bad.len(), bad[0])
    };
    report.check("probes_got_each_message_once_in_order", ok, detail);
}
