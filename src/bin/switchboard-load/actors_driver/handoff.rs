//! The handoff storm: K conversations with the AI ask for a human at once;
//! M agents of capacity C serve them. Every agent's channel has a probe, so
//! the driver hears each `conversation_assigned`; when M * C < K the agents
//! resolve each conversation as they get it, which frees the slot for the
//! next one in the queue, until all K were served.
//!
//! - handoff answer latency: the `CustomerHandoff` answer (agent_active, or
//!   waiting when every slot is taken) minus its send;
//! - time to drain: from the first send until the K-th assignment (the queue
//!   is empty then); assignments/s = K / time to drain.

use super::checks;
use super::probe::{AgentNote, AgentProbe};
use super::sys::{self, CpuMeter};
use super::world::{self, StoreKind};
use crate::args::Args;
use crate::report::Report;
use crate::stats::Samples;
use actix::prelude::*;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use switchboard_actors::domain::conversation::ConversationStatus;
use switchboard_actors::engine::agent::SubscribeAgent;
use switchboard_actors::engine::conversation::{ConversationActor, CustomerHandoff, Resolve};
use switchboard_actors::engine::events::{Audience, Subscriber};
use switchboard_actors::engine::views::HandoffOutcome;
use switchboard_actors::engine::{Caller, EngineConfig};
use switchboard_actors::ids::ConversationId;
use tokio::sync::mpsc::UnboundedReceiver;

pub async fn run(args: &Args, store: &StoreKind) -> Result<Report, String> {
    let k: usize = args.num("conversations", 1000)?;
    let m: usize = args.num("agents", 50)?;
    if k == 0 || m == 0 {
        return Err("--conversations and --agents must be > 0".into());
    }
    let cap: u32 = args.num("capacity", (k.div_ceil(m) + 1) as u32)?;
    let timeout: f64 = args.num("timeout-seconds", 120.0)?;
    let arbiters: usize = args.num("arbiters", EngineConfig::default().arbiters)?;
    if cap == 0 || arbiters == 0 || timeout <= 0.0 {
        return Err("--capacity, --arbiters and --timeout-seconds must be > 0".into());
    }
    let total_capacity = m as u64 * u64::from(cap);
    let resolving = total_capacity < k as u64;
    let mut report = Report::new(
        "actors",
        "handoff",
        &store.label(),
        json!({
            "conversations": k, "agents": m, "capacity": cap,
            "total_capacity": total_capacity, "agents_resolve": resolving,
            "arbiters": arbiters,
        }),
    );

    let setup = Instant::now();
    let config = EngineConfig {
        arbiters,
        ..EngineConfig::default()
    };
    let world = world::build(store, m, cap, config).await?;
    let probes_thread = Arbiter::new();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    for (i, seat) in world.seats.iter().enumerate() {
        let tx = tx.clone();
        let probe = AgentProbe::start_in_arbiter(&probes_thread.handle(), move |_| AgentProbe {
            seat: i,
            tx,
        });
        world
            .engine
            .agent(seat.user_id)
            .send(SubscribeAgent {
                subscriber: Subscriber {
                    id: world.engine.next_subscriber_id(),
                    deliver: probe.clone().recipient(),
                    evicted: probe.recipient(),
                    audience: Audience::Staff,
                },
            })
            .await
            .map_err(|e| format!("subscribe agent: {e}"))?;
    }
    drop(tx);
    let convs = world.create_conversations(k).await?;
    report.figure("setup_ms", ms(setup.elapsed()));

    let plan = StormPlan {
        targets: convs
            .iter()
            .map(|c| (c.addr.clone(), c.customer.clone()))
            .collect(),
        index: convs.iter().enumerate().map(|(i, c)| (c.id, i)).collect(),
        seats: world.seats.iter().map(|s| s.caller.clone()).collect(),
        resolving,
        timeout: Duration::from_secs_f64(timeout),
        notes: rx,
    };
    let cpu = CpuMeter::start();
    let clients_thread = Arbiter::new();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    clients_thread.spawn_fn(move || {
        actix::spawn(async move {
            let _ = done_tx.send(storm(plan).await);
        });
    });
    let log = done_rx
        .await
        .map_err(|_| "the handoff task ended without a result".to_string())?;
    let cpu_percent = cpu.percent();
    clients_thread.stop();
    probes_thread.stop();

    // --- figures
    let mut answer_latency = Samples::default();
    let mut served_latency = Samples::default();
    let mut outcomes: HashMap<&str, usize> = HashMap::new();
    let mut last_answer = log.start;
    let mut answer_errors = Vec::new();
    for (i, a) in log.answers.iter().enumerate() {
        match a {
            Some((at, Ok(kind))) => {
                *outcomes.entry(kind).or_default() += 1;
                answer_latency.push(at.saturating_duration_since(log.sent_at[i]));
                last_answer = last_answer.max(*at);
            }
            Some((_, Err(e))) => answer_errors.push(format!("conversation #{i}: {e}")),
            None => {}
        }
    }
    let mut last_assign = log.start;
    let mut served = 0usize;
    for (i, a) in log.assigned.iter().enumerate() {
        if let Some((_, at)) = a {
            served += 1;
            served_latency.push(at.saturating_duration_since(log.sent_at[i]));
            last_assign = last_assign.max(*at);
        }
    }
    let drain = last_assign.saturating_duration_since(log.start);
    report.figure("assignments", served);
    report.figure(
        "assignments_per_s",
        if drain.as_secs_f64() > 0.0 {
            (served as f64 / drain.as_secs_f64()).round()
        } else {
            0.0
        },
    );
    report.figure("time_to_drain_ms", ms(drain));
    report.figure(
        "time_to_answer_all_ms",
        ms(last_answer.saturating_duration_since(log.start)),
    );
    report.figure(
        "answered_agent_active",
        outcomes.get("agent_active").copied().unwrap_or(0),
    );
    report.figure(
        "answered_waiting",
        outcomes.get("waiting").copied().unwrap_or(0),
    );
    report.figure("handoff_answer_latency", answer_latency.summary());
    report.figure("time_to_served_latency", served_latency.summary());
    if resolving {
        report.figure("resolved", log.resolved);
    }
    if let Some(c) = cpu_percent {
        report.figure("cpu_percent_of_one_core", c);
    }
    if let Some(r) = sys::rss_mib() {
        report.figure("rss_mib", (r * 10.0).round() / 10.0);
    }

    // --- invariants
    let unanswered = log.answers.iter().filter(|a| a.is_none()).count();
    let unexpected: Vec<String> = outcomes
        .iter()
        .filter(|(kind, _)| !(**kind == "agent_active" || (resolving && **kind == "waiting")))
        .map(|(kind, n)| format!("{n} answered {kind}"))
        .collect();
    let ok = unanswered == 0 && answer_errors.is_empty() && unexpected.is_empty();
    report.check(
        "every_handoff_answered",
        ok,
        if ok {
            format!("{k} handoffs answered: {outcomes:?}")
        } else {
            format!(
                "{unanswered} unanswered, {} refused{}, {}",
                answer_errors.len(),
                answer_errors
                    .first()
                    .map(|e| format!(" (first: {e})"))
                    .unwrap_or_default(),
                unexpected.join(", ")
            )
        },
    );
    let ok = served == k
        && log.duplicates == 0
        && log.unknown == 0
        && log.evicted == 0
        && log.bad_frames == 0
        && !log.timed_out;
    report.check(
        "every_conversation_served_once",
        ok,
        format!(
            "{served} of {k} assigned; {} assigned twice, {} unknown, {} probe evictions, {} unreadable frames{}",
            log.duplicates,
            log.unknown,
            log.evicted,
            log.bad_frames,
            if log.timed_out { "; TIMED OUT" } else { "" }
        ),
    );
    if resolving {
        let ok = log.resolved == served && log.resolve_errors.is_empty();
        report.check(
            "every_served_conversation_resolved",
            ok,
            format!(
                "{} resolved, {} refused{}",
                log.resolved,
                log.resolve_errors.len(),
                log.resolve_errors
                    .first()
                    .map(|e| format!("; first: {e}"))
                    .unwrap_or_default()
            ),
        );
    }

    world
        .engine
        .flush()
        .await
        .map_err(|e| format!("flush: {e}"))?;
    let ids: Vec<ConversationId> = convs.iter().map(|c| c.id).collect();
    let logs = checks::load_logs(&world.store, &ids).await?;
    let (ok, detail) = checks::seqs_gap_free(&logs);
    report.check("seqs_gap_free", ok, detail);
    let views = checks::views(&convs).await;
    let (ok, detail) = checks::one_agent_each(&logs, &views);
    report.check("no_conversation_with_two_agents", ok, detail);
    // The agent told of the assignment is the one the store says joined.
    let mismatched = log
        .assigned
        .iter()
        .zip(&logs)
        .filter(|(a, stored)| match a {
            Some((seat, _)) => {
                let joined = checks::joined_agents(stored);
                joined.len() != 1 || joined[0] != world.seats[*seat].user_id.to_string()
            }
            None => false,
        })
        .count();
    report.check(
        "assignment_notices_match_store",
        mismatched == 0,
        format!("{mismatched} conversations announced to another agent than the one stored"),
    );
    let want = if resolving {
        ConversationStatus::Resolved
    } else {
        ConversationStatus::AgentActive
    };
    let off: Vec<String> = views
        .iter()
        .enumerate()
        .filter(|(_, v)| !matches!(v, Ok(v) if v.status == want))
        .map(|(i, v)| format!("#{i}: {:?}", v.as_ref().map(|v| v.status)))
        .collect();
    report.check(
        "final_status",
        off.is_empty(),
        format!(
            "{} of {k} {}{}",
            k - off.len(),
            want.as_str(),
            off.first()
                .map(|o| format!("; first other: {o}"))
                .unwrap_or_default()
        ),
    );
    let (ok, detail) = checks::queue_empty(&world).await;
    report.check("queue_drained", ok, detail);
    let (ok, detail) = checks::agent_counts(&world, &views).await;
    report.check("agent_counts_equal_active", ok, detail);
    world.engine.shutdown();
    Ok(report)
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

struct StormPlan {
    targets: Vec<(Addr<ConversationActor>, Caller)>,
    index: HashMap<ConversationId, usize>,
    seats: Vec<Caller>,
    resolving: bool,
    timeout: Duration,
    notes: UnboundedReceiver<AgentNote>,
}

type Answer = (Instant, Result<&'static str, String>);

struct StormLog {
    start: Instant,
    sent_at: Vec<Instant>,
    answers: Vec<Option<Answer>>,
    /// Per conversation: the seat told of it, and when.
    assigned: Vec<Option<(usize, Instant)>>,
    duplicates: usize,
    unknown: usize,
    evicted: usize,
    bad_frames: usize,
    resolved: usize,
    resolve_errors: Vec<String>,
    timed_out: bool,
}

fn outcome_kind(o: &HandoffOutcome) -> &'static str {
    match o {
        HandoffOutcome::AgentActive { .. } => "agent_active",
        HandoffOutcome::Waiting { .. } => "waiting",
        HandoffOutcome::Offline { .. } => "offline",
        HandoffOutcome::Unavailable { .. } => "unavailable",
    }
}

async fn storm(mut plan: StormPlan) -> StormLog {
    let k = plan.targets.len();
    let start = Instant::now();
    let deadline = tokio::time::Instant::from_std(start + plan.timeout);
    let mut sent_at = Vec::with_capacity(k);
    let mut handoffs = FuturesUnordered::new();
    for (i, (addr, customer)) in plan.targets.iter().enumerate() {
        sent_at.push(Instant::now());
        let req = addr.send(CustomerHandoff {
            caller: customer.clone(),
            reason: "button_click",
            customer_email: None,
            customer_name: None,
        });
        handoffs.push(async move { (i, req.await, Instant::now()) });
    }
    let mut log = StormLog {
        start,
        sent_at,
        answers: (0..k).map(|_| None).collect(),
        assigned: vec![None; k],
        duplicates: 0,
        unknown: 0,
        evicted: 0,
        bad_frames: 0,
        resolved: 0,
        resolve_errors: Vec::new(),
        timed_out: false,
    };
    let mut resolves = FuturesUnordered::new();
    let mut answered = 0usize;
    let mut served = 0usize;
    let mut notes_open = true;
    while answered < k || served < k || !resolves.is_empty() {
        tokio::select! {
            Some((i, res, at)) = handoffs.next(), if !handoffs.is_empty() => {
                let i: usize = i;
                answered += 1;
                let outcome = match res {
                    Ok(Ok(o)) => Ok(outcome_kind(&o)),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(format!("mailbox: {e}")),
                };
                log.answers[i] = Some((at, outcome));
            }
            note = plan.notes.recv(), if notes_open => match note {
                Some(AgentNote::Assigned { seat, conversation, at }) => {
                    let Some(&i) = plan.index.get(&conversation) else {
                        log.unknown += 1;
                        continue;
                    };
                    if log.assigned[i].is_some() {
                        log.duplicates += 1;
                        continue;
                    }
                    log.assigned[i] = Some((seat, at));
                    served += 1;
                    if plan.resolving {
                        let req = plan.targets[i].0.send(Resolve {
                            caller: plan.seats[seat].clone(),
                        });
                        resolves.push(async move { (i, req.await) });
                    }
                }
                Some(AgentNote::Evicted) => log.evicted += 1,
                Some(AgentNote::BadFrame) => log.bad_frames += 1,
                None => notes_open = false,
            },
            Some((i, res)) = resolves.next(), if !resolves.is_empty() => {
                let i: usize = i;
                match res {
                    Ok(Ok(_)) => log.resolved += 1,
                    Ok(Err(e)) => log.resolve_errors.push(format!("conversation #{i}: {e}")),
                    Err(e) => log.resolve_errors.push(format!("conversation #{i}: mailbox: {e}")),
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                log.timed_out = true;
                break;
            }
        }
    }
    log
}
