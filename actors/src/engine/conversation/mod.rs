//! ConversationActor: one per live conversation. It owns the status machine
//! (seed 003 5.2), the message log and its next seq, handoff metadata and the
//! AI turn, and it is the only publisher on `conversation:<id>`.
//!
//! Messages take their seq when they arrive and are broadcast and
//! acknowledged only once durable, strictly in seq order, so every
//! subscriber sees a gap-free log and a replay after `after_seq` yields
//! exactly what was missed (docs/protocol.md section 5). Status changes run
//! atomically (the actor takes no other message meanwhile) and write the
//! snapshot and their system message in one commit.
//!
//! An ordinary message changes only the conversation's activity times
//! (`last_message_at`, `updated_at`). Those are written lazily, at most
//! once per [`SNAPSHOT_DELAY`] and on shutdown, instead of rewriting the
//! conversation's row with every message: the message insert alone is the
//! hot path. After a crash they are recovered from the newest message.

use super::agent::NotifyAgent;
use super::caller::Caller;
use super::error::{EngineError, EngineResult};
use super::events::{event_frame, replay_page, Audience, Subscribed, Subscriber, Subscribers};
use super::project::{Enqueue, HandoffDecision, LeftQueue, Released, RequestHandoff, Reserve};
use super::supervisor::{read_settings, Engine, ProjectHandle};
use super::views::{AgentInfo, ConversationView, HandoffOutcome};
use super::MAILBOX_CAPACITY;
use crate::domain::conversation::{transition, ConversationEvent as Ev, ConversationStatus as St};
use crate::domain::keywords::find_keyword;
use crate::ids::{CustomerId, MessageId, UserId};
use crate::ports::{
    AiTurn, ConversationRecord, MessageIndex, MessageRecord, SenderType, StoreResult, WriteOp,
};
mod customer;
mod passivation;
mod timers;

pub use customer::{validate_rating, OfflineForm, RateConversation, MAX_FEEDBACK_CHARS};
pub use passivation::PASSIVATE_AFTER;
pub use timers::{AgentAway, CheckTimers, CustomerPresenceUpdate};

use actix::fut::LocalBoxActorFuture;
use actix::prelude::*;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::oneshot;

/// Durable messages kept in memory for replay; older ones are read back.
pub const LOG_CAPACITY: usize = 256;
/// Longest message content, in characters.
pub const MAX_CONTENT_CHARS: usize = 10_000;
/// How much history the AI sees.
const AI_HISTORY: usize = 20;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 50;
/// How long a changed activity time waits before it is written (plus up
/// to a second of spread).
pub const SNAPSHOT_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

type Waiter = oneshot::Sender<EngineResult<Arc<MessageRecord>>>;

/// What happens once a message is durable.
#[derive(Debug, Clone, Copy, PartialEq)]
enum After {
    Nothing,
    /// A customer spoke: keyword trigger, AI answer, or reopen.
    CustomerTurn,
    /// An AI answer: low confidence may hand off.
    AiAnswer {
        confidence: Option<f64>,
    },
}

struct Pending {
    msg: Arc<MessageRecord>,
    after: After,
    result: Option<Result<(), EngineError>>,
    waiters: Vec<Waiter>,
}

pub struct ConversationActor {
    engine: Engine,
    rec: ConversationRecord,
    project: ProjectHandle,
    channel: String,
    next_seq: i64,
    durable_seq: i64,
    log: VecDeque<Arc<MessageRecord>>,
    /// Every client_msg_id this conversation has seen, with its seq.
    client_ids: HashMap<String, i64>,
    pending: BTreeMap<i64, Pending>,
    ai_messages: i64,
    subs: Subscribers,
    last_queue_position: Option<(usize, Option<u32>)>,
    /// A write failed: seqs may be burnt, so the actor reloads from storage.
    failed: bool,
    /// `rec` has changes (activity times only) not yet written.
    snapshot_dirty: bool,
    /// A lazy snapshot write is scheduled.
    snapshot_scheduled: bool,
    /// The customer's last presence signal of any kind (memory only: a
    /// restored conversation counts from its restore).
    presence_at: Option<DateTime<Utc>>,
    /// Since when the assigned agent is gone (seed 003 9.1; memory only).
    agent_gone_at: Option<DateTime<Utc>>,
    /// The wake-up armed for the next timeout.
    wake: Option<(DateTime<Utc>, SpawnHandle)>,
    /// Closed: forgotten by the registry, stopping once its mailbox drains.
    retiring: bool,
    /// Which actor of this conversation this is (the registry's key for
    /// it; a reload is another incarnation).
    incarnation: u64,
    /// The last use the actor itself saw (its load, a subscriber leaving,
    /// the registry's last lookup once told); with the last message and
    /// presence signal it says how long the conversation has been idle.
    used_at: DateTime<Utc>,
    /// AI answers being computed.
    ai_turns: u32,
    /// Lazy writes of the activity times not yet committed.
    touches_in_flight: u32,
    /// The scheduled lazy write, cancelled when the actor passivates.
    snapshot_timer: Option<SpawnHandle>,
    /// Out of the registry, stopping once nothing holds or feeds it
    /// (passivation.rs); any work taken meanwhile brings it back.
    passivating: bool,
}

impl ConversationActor {
    pub fn new(
        engine: Engine,
        mut rec: ConversationRecord,
        project: ProjectHandle,
        recent: Vec<MessageRecord>,
        index: MessageIndex,
        incarnation: u64,
        loaded_at: DateTime<Utc>,
    ) -> Self {
        // Activity times are written lazily: after a crash the newest
        // messages may be ahead of the stored row.
        let mut snapshot_dirty = false;
        if let Some(m) = recent.iter().rev().find(|m| !m.internal) {
            if m.created_at > rec.last_message_at {
                rec.last_message_at = m.created_at;
                snapshot_dirty = true;
            }
        }
        if let Some(m) = recent.last() {
            if m.created_at > rec.updated_at {
                rec.updated_at = m.created_at;
                snapshot_dirty = true;
            }
        }
        if let Some(m) = recent
            .iter()
            .rev()
            .find(|m| m.sender_type == SenderType::Customer)
        {
            if rec.customer_last_seen_at.is_none_or(|t| m.created_at > t) {
                rec.customer_last_seen_at = Some(m.created_at);
                snapshot_dirty = true;
            }
        }
        engine.count_conversation_actor(true);
        let durable_seq = recent.last().map(|m| m.seq).unwrap_or(0);
        let client_ids = index.client_ids.into_iter().collect();
        let ai_messages = index.ai_messages;
        let skip = recent.len().saturating_sub(LOG_CAPACITY);
        let log = recent.into_iter().skip(skip).map(Arc::new).collect();
        ConversationActor {
            channel: format!("conversation:{}", rec.id),
            engine,
            rec,
            project,
            next_seq: durable_seq + 1,
            durable_seq,
            log,
            client_ids,
            pending: BTreeMap::new(),
            ai_messages,
            subs: Subscribers::default(),
            last_queue_position: None,
            failed: false,
            snapshot_dirty,
            snapshot_scheduled: false,
            // A widget that was online reconnects and says so within the
            // offline timeout, or the customer counts as gone.
            presence_at: Some(loaded_at),
            agent_gone_at: None,
            wake: None,
            retiring: false,
            incarnation,
            used_at: loaded_at,
            ai_turns: 0,
            touches_in_flight: 0,
            snapshot_timer: None,
            passivating: false,
        }
    }

    /// Write the conversation's row now if it has unwritten changes.
    /// The lazy write of the activity times, if they changed: the timer's
    /// path (failures are retried later) and the engine's flush share it.
    fn write_touch(&mut self) -> LocalBoxActorFuture<Self, StoreResult<()>> {
        if !self.snapshot_dirty || self.failed {
            return fut::ready(Ok(())).boxed_local();
        }
        self.snapshot_dirty = false;
        self.touches_in_flight += 1;
        let write = self.engine.writer().write(vec![self.touch()]);
        write
            .into_actor(self)
            .map(|res, act, _| {
                act.touches_in_flight -= 1;
                if res.is_err() {
                    act.snapshot_dirty = true;
                }
                res
            })
            .boxed_local()
    }

    fn write_snapshot(&mut self, ctx: &mut Context<Self>) {
        ctx.spawn(self.write_touch().map(|res, act, ctx| {
            if let Err(e) = res {
                tracing::warn!(conversation = %act.rec.id, error = %e, "snapshot write failed");
                act.schedule_snapshot(ctx);
            }
        }));
    }

    /// The lazy write: only the activity times, which is all an ordinary
    /// message changes (anything else writes the whole row at once).
    fn touch(&self) -> WriteOp {
        WriteOp::TouchConversation {
            id: self.rec.id,
            last_message_at: self.rec.last_message_at,
            updated_at: self.rec.updated_at,
            customer_presence: self.rec.customer_presence,
            customer_last_seen_at: self.rec.customer_last_seen_at,
        }
    }

    fn schedule_snapshot(&mut self, ctx: &mut Context<Self>) {
        if self.snapshot_dirty && !self.snapshot_scheduled {
            self.snapshot_scheduled = true;
            // Spread over a second by id, so conversations busy since the
            // same moment do not all write in the same group commit.
            let spread = (self.rec.id.0.as_u128() % 1000) as u64;
            let delay = SNAPSHOT_DELAY + std::time::Duration::from_millis(spread);
            let h = ctx.run_later(delay, |act, ctx| {
                act.snapshot_scheduled = false;
                act.snapshot_timer = None;
                act.write_snapshot(ctx);
            });
            self.snapshot_timer = Some(h);
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.engine.clock().now()
    }

    fn view(&self) -> ConversationView {
        let mut v = ConversationView::from_record(&self.rec, Some(self.durable_seq));
        if self.rec.status == St::Waiting {
            if let Some((p, e)) = self.last_queue_position {
                v.queue_position = Some(p);
                v.estimated_wait_minutes = Some(e);
            }
        }
        v
    }

    fn publish(&mut self, event: &str, data: Value) {
        let frame = event_frame(&self.channel, event, None, &data, self.now());
        self.subs.publish_all(&self.channel, &frame);
    }

    fn message_frame(&self, m: &MessageRecord) -> Arc<str> {
        event_frame(&self.channel, "message", Some(m.seq), m, m.created_at)
    }

    fn new_message(
        &mut self,
        sender_type: SenderType,
        sender_id: Option<UserId>,
        content: String,
        metadata: Value,
        client_msg_id: Option<String>,
        internal: bool,
    ) -> Arc<MessageRecord> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let now = self.now();
        if !internal {
            self.rec.last_message_at = now;
        }
        self.rec.updated_at = now;
        Arc::new(MessageRecord {
            id: MessageId::new(),
            conversation_id: self.rec.id,
            seq,
            sender_type,
            sender_id,
            content,
            metadata,
            client_msg_id,
            internal,
            created_at: now,
        })
    }

    fn system_message(&mut self, content: String, metadata: Value) -> Arc<MessageRecord> {
        self.new_message(SenderType::System, None, content, metadata, None, false)
    }

    /// Register messages as pending and start one commit holding them and
    /// (when `snapshot`) the conversation's row. The caller drives the
    /// returned future and hands its result to `on_written`.
    fn append(
        &mut self,
        msgs: Vec<(Arc<MessageRecord>, After, Option<Waiter>)>,
        snapshot: bool,
    ) -> (
        Vec<i64>,
        impl std::future::Future<Output = StoreResult<()>> + 'static,
    ) {
        let mut ops = Vec::with_capacity(msgs.len() + 1);
        let mut seqs = Vec::with_capacity(msgs.len());
        for (msg, after, waiter) in msgs {
            seqs.push(msg.seq);
            if let Some(c) = &msg.client_msg_id {
                self.client_ids.insert(c.clone(), msg.seq);
            }
            ops.push(WriteOp::InsertMessage(Box::new((*msg).clone())));
            self.pending.insert(
                msg.seq,
                Pending {
                    msg,
                    after,
                    result: None,
                    waiters: waiter.into_iter().collect(),
                },
            );
        }
        if snapshot {
            ops.push(WriteOp::PutConversation(Box::new(self.rec.clone())));
            self.snapshot_dirty = false;
        } else {
            self.snapshot_dirty = true;
        }
        (seqs, self.engine.writer().write(ops))
    }

    fn on_written(&mut self, seqs: &[i64], res: &StoreResult<()>, ctx: &mut Context<Self>) {
        for s in seqs {
            if let Some(p) = self.pending.get_mut(s) {
                p.result = Some(res.clone().map_err(EngineError::from));
            }
        }
        if res.is_err() {
            self.failed = true;
        }
        self.flush(ctx);
        self.schedule_snapshot(ctx);
        self.arm(ctx);
    }

    /// Broadcast and acknowledge, in seq order, every message that is durable
    /// and has no undecided message before it.
    fn flush(&mut self, ctx: &mut Context<Self>) {
        while let Some(entry) = self.pending.first_entry() {
            if entry.get().result.is_none() {
                break;
            }
            let p = entry.remove();
            match p.result {
                Some(Ok(())) => {
                    let msg = p.msg;
                    self.durable_seq = msg.seq;
                    if msg.sender_type == SenderType::Ai {
                        self.ai_messages += 1;
                    }
                    let frame = self.message_frame(&msg);
                    if msg.internal {
                        self.subs
                            .publish(&self.channel, &frame, |a| a == Audience::Staff);
                    } else {
                        self.subs.publish_all(&self.channel, &frame);
                    }
                    self.log.push_back(msg.clone());
                    while self.log.len() > LOG_CAPACITY {
                        self.log.pop_front();
                    }
                    for w in p.waiters {
                        let _ = w.send(Ok(msg.clone()));
                    }
                    if !self.failed {
                        self.after_durable(&msg, p.after, ctx);
                    }
                }
                Some(Err(e)) => {
                    if let Some(c) = &p.msg.client_msg_id {
                        self.client_ids.remove(c);
                    }
                    for w in p.waiters {
                        let _ = w.send(Err(e.clone()));
                    }
                }
                None => {}
            }
        }
        self.maybe_stop(ctx);
    }

    fn maybe_stop(&mut self, ctx: &mut Context<Self>) {
        if !self.pending.is_empty() {
            return;
        }
        if self.failed {
            ctx.stop();
        } else if self.rec.status == St::Closed && !self.retiring {
            // New lookups find the stored record from now on; what already
            // waits in the mailbox is still answered (by a closed
            // conversation) before the actor stops, instead of being
            // dropped with a closed mailbox.
            self.retiring = true;
            self.engine
                .forget_conversation(self.rec.id, self.incarnation);
            ctx.address().do_send(Retire);
        }
    }

    fn after_durable(&mut self, msg: &MessageRecord, after: After, ctx: &mut Context<Self>) {
        match after {
            After::Nothing => {}
            After::CustomerTurn => match self.rec.status {
                St::AiActive => {
                    let settings = read_settings(&self.project.settings);
                    if settings.triggers_auto() && settings.auto_triggers.keywords_enabled {
                        if let Some(kw) =
                            find_keyword(&msg.content, &settings.auto_triggers.keywords)
                        {
                            ctx.notify(AutoHandoff {
                                reason: "keyword",
                                keyword: Some(kw),
                                confidence: None,
                                answer_if_refused: Some(msg.content.clone()),
                            });
                            return;
                        }
                    }
                    self.ai_turn(msg.content.clone(), ctx);
                }
                St::Resolved => ctx.notify(Reopen),
                _ => {}
            },
            After::AiAnswer { confidence } => {
                let settings = read_settings(&self.project.settings);
                let t = &settings.auto_triggers;
                if self.rec.status == St::AiActive
                    && settings.triggers_auto()
                    && t.low_confidence_enabled
                    && confidence.is_some_and(|c| c < t.low_confidence_threshold)
                {
                    ctx.notify(AutoHandoff {
                        reason: "low_confidence",
                        keyword: None,
                        confidence,
                        answer_if_refused: None,
                    });
                }
            }
        }
    }

    fn ai_turn(&mut self, question: String, ctx: &mut Context<Self>) {
        // Counted so an idle check never passivates with an answer coming.
        self.ai_turns += 1;
        let mut history: Vec<AiTurn> = self
            .log
            .iter()
            .rev()
            .filter(|m| !m.internal)
            .take(AI_HISTORY)
            .map(|m| AiTurn {
                sender_type: m.sender_type,
                content: m.content.clone(),
            })
            .collect();
        history.reverse();
        let ai = self.engine.ai().clone();
        let project = self.rec.project_id;
        let fut = async move { ai.respond(project, &history, &question).await };
        ctx.spawn(fut.into_actor(self).map(|res, act, ctx| {
            act.ai_turns -= 1;
            if act.rec.status != St::AiActive {
                return; // a human took over while the AI was thinking
            }
            match res {
                Ok(reply) => {
                    let mut metadata = reply.metadata;
                    if !metadata.is_object() {
                        metadata = json!({});
                    }
                    metadata["confidence"] = json!(reply.confidence);
                    let msg =
                        act.new_message(SenderType::Ai, None, reply.content, metadata, None, false);
                    let (seqs, write) = act.append(
                        vec![(
                            msg,
                            After::AiAnswer {
                                confidence: Some(reply.confidence),
                            },
                            None,
                        )],
                        false,
                    );
                    ctx.spawn(
                        write
                            .into_actor(act)
                            .map(move |res, act, ctx| act.on_written(&seqs, &res, ctx)),
                    );
                }
                Err(e) => {
                    tracing::warn!(conversation = %act.rec.id, error = %e, "AI responder failed");
                    ctx.notify(AutoHandoff {
                        reason: "low_confidence",
                        keyword: None,
                        confidence: Some(0.0),
                        answer_if_refused: None,
                    });
                }
            }
        }));
    }

    /// Commit a status change with its system messages; on success publish
    /// `status_changed` and the extra events.
    fn commit_change(
        &mut self,
        old: St,
        msgs: Vec<Arc<MessageRecord>>,
        events: Vec<(&'static str, Value)>,
    ) -> LocalBoxActorFuture<Self, EngineResult<()>> {
        let new = self.rec.status;
        let (seqs, write) = self.append(
            msgs.into_iter()
                .map(|m| (m, After::Nothing, None))
                .collect(),
            true,
        );
        write
            .into_actor(self)
            .map(move |res, act, ctx| {
                act.on_written(&seqs, &res, ctx);
                res.map_err(EngineError::from)?;
                if old != new {
                    act.publish(
                        "status_changed",
                        json!({ "old_status": old, "new_status": new }),
                    );
                }
                for (event, data) in events {
                    act.publish(event, data);
                }
                Ok(())
            })
            .boxed_local()
    }

    /// Write the row after a change that moves no status and adds no
    /// message (tags, identity, rating); answers the view once durable.
    fn save_row(&mut self) -> LocalBoxActorFuture<Self, EngineResult<ConversationView>> {
        self.rec.updated_at = self.now();
        let status = self.rec.status;
        self.commit_change(status, vec![], vec![])
            .map(|res, act, _| {
                res?;
                Ok(act.view())
            })
            .boxed_local()
    }

    fn check(&self, event: Ev) -> EngineResult<St> {
        transition(self.rec.status, event)
            .map_err(|e| EngineError::InvalidTransition(e.to_string()))
    }

    fn last_customer_text(&self) -> Option<String> {
        self.log
            .iter()
            .rev()
            .find(|m| m.sender_type == SenderType::Customer)
            .map(|m| m.content.clone())
    }

    fn preview(&self) -> Value {
        json!({
            "conversation": self.view(),
            "customer_name": self.rec.customer_name,
            "preview": self.last_customer_text(),
        })
    }

    fn notify_assigned(&self, agent: UserId) {
        let now = self.now();
        let waited = self
            .rec
            .queue_entered_at
            .map(|t| (now - t).num_seconds().max(0))
            .unwrap_or(0);
        self.engine.agent(agent).do_send(NotifyAgent {
            event: "conversation_assigned",
            data: json!({
                "conversation_id": self.rec.id,
                "customer_name": self.rec.customer_name,
                "preview": self.last_customer_text(),
                "waiting_time_seconds": waited,
            }),
        });
    }

    /// Apply an assignment to `agent` (from waiting, or a reopen).
    fn apply_assignment(&mut self, agent: &AgentInfo, at: DateTime<Utc>) -> Arc<MessageRecord> {
        self.rec.status = St::AgentActive;
        self.rec.assigned_agent_id = Some(agent.id);
        self.rec.claimed_at = Some(at);
        self.agent_gone_at = None;
        self.system_message(
            format!("{} joined the conversation", display_name(agent)),
            json!({ "event": "agent_joined", "agent_id": agent.id }),
        )
    }

    fn agent_assigned_event(&self, agent: &AgentInfo) -> (&'static str, Value) {
        (
            "agent_assigned",
            json!({ "conversation_id": self.rec.id, "agent": agent }),
        )
    }

    /// The handoff itself (seed 003 5.4.2): ask the project, then apply.
    fn handoff(
        &mut self,
        reason: &'static str,
        keyword: Option<String>,
        confidence: Option<f64>,
        customer_email: Option<String>,
        customer_name: Option<String>,
    ) -> LocalBoxActorFuture<Self, EngineResult<HandoffOutcome>> {
        if let Err(e) = self.check(Ev::Handoff) {
            return fut::ready(Err(e)).boxed_local();
        }
        self.set_contact(customer_email, customer_name);
        let request = RequestHandoff {
            conversation_id: self.rec.id,
            preview: self.preview(),
        };
        self.project
            .addr
            .send(request)
            .into_actor(self)
            .then(move |res, act, _ctx| {
                let decision = match res {
                    Ok(d) => d,
                    Err(e) => return fut::ready(Err(EngineError::from(e))).boxed_local(),
                };
                let old = act.rec.status;
                let (entered_at, agent, queued) = match decision {
                    HandoffDecision::Refused(outcome) => {
                        return fut::ready(Ok(outcome)).boxed_local();
                    }
                    HandoffDecision::Queued {
                        entered_at,
                        queue_position,
                        estimated_wait_minutes,
                    } => (
                        entered_at,
                        None,
                        Some((queue_position, estimated_wait_minutes)),
                    ),
                    HandoffDecision::Assigned { entered_at, agent } => {
                        (entered_at, Some(agent), None)
                    }
                };
                act.rec.status = St::Waiting;
                act.rec.handoff_reason = Some(reason.to_string());
                act.rec.handoff_triggered_at = Some(entered_at);
                act.rec.trigger_keyword = keyword;
                act.rec.ai_confidence_at_handoff = confidence.or_else(|| act.last_ai_confidence());
                act.rec.ai_messages_before_handoff = act.ai_messages;
                act.rec.queue_entered_at = Some(entered_at);
                act.last_queue_position = queued;
                let mut msgs = vec![act.system_message(
                    "Connecting you with a human agent".into(),
                    json!({ "event": "handoff_triggered", "reason": reason }),
                )];
                let mut events = Vec::new();
                if let Some(agent) = &agent {
                    act.publish(
                        "status_changed",
                        json!({ "old_status": old, "new_status": St::Waiting }),
                    );
                    msgs.push(act.apply_assignment(agent, entered_at));
                    events.push(act.agent_assigned_event(agent));
                } else if let Some((p, e)) = queued {
                    events.push((
                        "queue_position",
                        json!({ "queue_position": p, "estimated_wait_minutes": e }),
                    ));
                }
                let old_for_commit = if agent.is_some() { St::Waiting } else { old };
                let conv_id = act.rec.id;
                act.commit_change(old_for_commit, msgs, events)
                    .map(move |res, act, _| match res {
                        Ok(()) => Ok(match agent {
                            Some(agent) => {
                                act.notify_assigned(agent.id);
                                HandoffOutcome::AgentActive {
                                    assigned_agent: agent,
                                }
                            }
                            None => {
                                let (p, e) = queued.unwrap_or((1, None));
                                HandoffOutcome::Waiting {
                                    queue_position: p,
                                    estimated_wait_minutes: e,
                                }
                            }
                        }),
                        Err(e) => {
                            // The project booked us; give the booking back.
                            act.project.addr.do_send(LeftQueue {
                                conversation_id: conv_id,
                            });
                            act.project.addr.do_send(Released {
                                conversation_id: conv_id,
                            });
                            Err(e)
                        }
                    })
                    .boxed_local()
            })
            .boxed_local()
    }

    /// Contact details someone typed (identify without proof, the
    /// handoff, the offline form): shown to agents on this conversation,
    /// marked unverified, and never an identity (nothing links or merges
    /// on them). Giving the customer's proven email again keeps it proven.
    fn set_contact(&mut self, email: Option<String>, name: Option<String>) {
        if let Some(email) = email {
            if self.rec.customer_email.as_deref() != Some(email.as_str()) {
                self.rec.customer_email = Some(email);
                self.rec.customer_email_verified = false;
            }
        }
        if let Some(name) = name {
            self.rec.customer_name = Some(name);
        }
    }

    fn last_ai_confidence(&self) -> Option<f64> {
        self.log
            .iter()
            .rev()
            .find(|m| m.sender_type == SenderType::Ai)
            .and_then(|m| m.metadata.get("confidence"))
            .and_then(Value::as_f64)
    }

    /// The assigned agent, or an admin of the project.
    fn may_manage(&self, caller: &Caller) -> bool {
        match caller {
            Caller::System => true,
            Caller::Staff(s) => {
                caller.is_admin_of(self.rec.project_id)
                    || (caller.is_staff_of(self.rec.project_id)
                        && self.rec.assigned_agent_id == Some(s.user_id))
            }
            _ => false,
        }
    }

    fn require_view(&self, caller: &Caller) -> EngineResult<()> {
        if caller.can_view(self.rec.project_id, &self.rec.visitor_id) {
            Ok(())
        } else {
            Err(EngineError::NotFound("conversation not found".into()))
        }
    }
}

fn display_name(agent: &AgentInfo) -> &str {
    if agent.name.is_empty() {
        "An agent"
    } else {
        &agent.name
    }
}

impl Drop for ConversationActor {
    fn drop(&mut self) {
        self.engine.count_conversation_actor(false);
    }
}

/// Stop a closed conversation after what was queued before it.
#[derive(Message)]
#[rtype(result = "()")]
struct Retire;

impl Handler<Retire> for ConversationActor {
    type Result = ();
    fn handle(&mut self, _: Retire, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// Write the conversation's row now if it has unwritten changes; resolves
/// once durable (the engine's flush on shutdown).
#[derive(Message)]
#[rtype(result = "StoreResult<()>")]
pub struct FlushSnapshot;

impl Handler<FlushSnapshot> for ConversationActor {
    type Result = ResponseActFuture<Self, StoreResult<()>>;

    fn handle(&mut self, _: FlushSnapshot, _: &mut Context<Self>) -> Self::Result {
        self.write_touch()
    }
}

impl Actor for ConversationActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX_CAPACITY);
        self.schedule_snapshot(ctx); // activity times recovered on restore
        self.arm(ctx);
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        for (_, p) in std::mem::take(&mut self.pending) {
            for w in p.waiters {
                let _ = w.send(Err(EngineError::Unavailable));
            }
        }
        self.engine
            .forget_conversation(self.rec.id, self.incarnation);
    }
}

/// Post a message (customer, assigned agent, bot or system). Answers once
/// the message is durable; a repeated `client_msg_id` answers the first.
#[derive(Message)]
#[rtype(result = "EngineResult<Arc<MessageRecord>>")]
pub struct PostMessage {
    pub caller: Caller,
    pub content: String,
    pub client_msg_id: Option<String>,
    pub metadata: Value,
}

impl Handler<PostMessage> for ConversationActor {
    type Result = ResponseFuture<EngineResult<Arc<MessageRecord>>>;

    fn handle(&mut self, msg: PostMessage, ctx: &mut Context<Self>) -> Self::Result {
        match self.accept_message(msg, ctx) {
            Ok(rx) => rx,
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }
}

impl ConversationActor {
    fn accept_message(
        &mut self,
        msg: PostMessage,
        ctx: &mut Context<Self>,
    ) -> EngineResult<ResponseFuture<EngineResult<Arc<MessageRecord>>>> {
        self.require_view(&msg.caller)?;
        let content = validate_content(&msg.content)?;
        if let Some(c) = &msg.client_msg_id {
            if c.is_empty() || c.len() > 100 {
                return Err(field_error("client_msg_id", "must be 1 to 100 characters"));
            }
        }
        let status = self.rec.status;
        let (sender_type, sender_id, after) = match &msg.caller {
            Caller::Customer { .. } => {
                if status == St::Closed {
                    return Err(EngineError::InvalidTransition(
                        "the conversation is closed".into(),
                    ));
                }
                (SenderType::Customer, None, After::CustomerTurn)
            }
            Caller::Staff(s) => {
                if self.rec.assigned_agent_id != Some(s.user_id) {
                    return Err(EngineError::Forbidden(
                        "only the assigned agent can write to the customer; use a note".into(),
                    ));
                }
                if status != St::AgentActive {
                    return Err(EngineError::InvalidTransition(format!(
                        "the conversation is {}",
                        status.as_str()
                    )));
                }
                (SenderType::Agent, Some(s.user_id), After::Nothing)
            }
            Caller::Bot { .. } => {
                if !matches!(status, St::AiActive | St::Waiting) {
                    return Err(EngineError::InvalidTransition(format!(
                        "the AI cannot write while the conversation is {}",
                        status.as_str()
                    )));
                }
                let confidence = msg.metadata.get("confidence").and_then(Value::as_f64);
                if let Some(c) = confidence {
                    if !(0.0..=1.0).contains(&c) {
                        return Err(field_error(
                            "metadata.confidence",
                            "must be between 0 and 1",
                        ));
                    }
                }
                (SenderType::Ai, None, After::AiAnswer { confidence })
            }
            Caller::System => (SenderType::System, None, After::Nothing),
            Caller::SessionGuest { .. } => {
                return Err(EngineError::NotFound("conversation not found".into()))
            }
        };
        if let Some(c) = &msg.client_msg_id {
            if let Some(seq) = self.client_ids.get(c).copied() {
                return Ok(self.existing_message(seq));
            }
        }
        // The first response is written with its message; other messages
        // only move the activity times, which are written lazily.
        let first_response =
            sender_type == SenderType::Agent && self.rec.first_response_at.is_none();
        if first_response {
            self.rec.first_response_at = Some(self.now());
        }
        // A customer who writes is there: an inactivity warning is answered.
        let mut snapshot = first_response;
        if sender_type == SenderType::Customer {
            self.rec.customer_last_seen_at = Some(self.now());
            snapshot |= self.clear_warning();
        }
        let metadata = if msg.metadata.is_object() {
            msg.metadata
        } else {
            json!({})
        };
        let record = self.new_message(
            sender_type,
            sender_id,
            content,
            metadata,
            msg.client_msg_id,
            false,
        );
        let (tx, rx) = oneshot::channel();
        let (seqs, write) = self.append(vec![(record, after, Some(tx))], snapshot);
        ctx.spawn(
            write
                .into_actor(self)
                .map(move |res, act, ctx| act.on_written(&seqs, &res, ctx)),
        );
        Ok(Box::pin(async move {
            rx.await.unwrap_or(Err(EngineError::Unavailable))
        }))
    }

    /// The answer to a retried send: the first message, pending or durable.
    fn existing_message(&mut self, seq: i64) -> ResponseFuture<EngineResult<Arc<MessageRecord>>> {
        if let Some(p) = self.pending.get_mut(&seq) {
            let (tx, rx) = oneshot::channel();
            p.waiters.push(tx);
            return Box::pin(async move { rx.await.unwrap_or(Err(EngineError::Unavailable)) });
        }
        if let Some(m) = self.log.iter().find(|m| m.seq == seq) {
            let m = m.clone();
            return Box::pin(async move { Ok(m) });
        }
        let store = self.engine.store().clone();
        let id = self.rec.id;
        Box::pin(async move {
            store
                .load_messages(id, seq - 1, 1)
                .await?
                .into_iter()
                .next()
                .map(Arc::new)
                .ok_or_else(|| EngineError::NotFound("message not found".into()))
        })
    }
}

fn field_error(field: &str, problem: &str) -> EngineError {
    EngineError::Validation(BTreeMap::from([(field.to_string(), problem.to_string())]))
}

/// The one check of a message's text, for every way a conversation takes
/// one (REST and WebSocket sends, notes, the offline form): no control or
/// bidi override characters anywhere in what was sent
/// ([`crate::domain::text`]; checked before trimming, which would quietly
/// drop a trailing one that counts as white space, like U+0085), then
/// not empty and not too long once trimmed. Answers the trimmed text, or
/// the problem under `content`.
fn validate_content(raw: &str) -> EngineResult<String> {
    if let Some(problem) = crate::domain::text::problem(raw) {
        return Err(field_error("content", problem));
    }
    let content = raw.trim().to_string();
    if content.is_empty() {
        return Err(field_error("content", "must not be empty"));
    }
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(field_error(
            "content",
            &format!("must be at most {MAX_CONTENT_CHARS} characters"),
        ));
    }
    Ok(content)
}

/// An internal note: staff only, never shown to the customer.
#[derive(Message)]
#[rtype(result = "EngineResult<Arc<MessageRecord>>")]
pub struct PostNote {
    pub caller: Caller,
    pub content: String,
}

impl Handler<PostNote> for ConversationActor {
    type Result = ResponseFuture<EngineResult<Arc<MessageRecord>>>;

    fn handle(&mut self, msg: PostNote, ctx: &mut Context<Self>) -> Self::Result {
        let user = match &msg.caller {
            Caller::Staff(s) if msg.caller.is_staff_of(self.rec.project_id) => s.user_id,
            _ => {
                return Box::pin(async {
                    Err(EngineError::NotFound("conversation not found".into()))
                })
            }
        };
        let content = match validate_content(&msg.content) {
            Ok(c) => c,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let record = self.new_message(
            SenderType::Agent,
            Some(user),
            content,
            json!({}),
            None,
            true,
        );
        let (tx, rx) = oneshot::channel();
        let (seqs, write) = self.append(vec![(record, After::Nothing, Some(tx))], false);
        ctx.spawn(
            write
                .into_actor(self)
                .map(move |res, act, ctx| act.on_written(&seqs, &res, ctx)),
        );
        Box::pin(async move { rx.await.unwrap_or(Err(EngineError::Unavailable)) })
    }
}

/// The customer asks for a human (button or request).
#[derive(Message)]
#[rtype(result = "EngineResult<HandoffOutcome>")]
pub struct CustomerHandoff {
    pub caller: Caller,
    /// "button_click" or "customer_request".
    pub reason: &'static str,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
}

impl Handler<CustomerHandoff> for ConversationActor {
    type Result = AtomicResponse<Self, EngineResult<HandoffOutcome>>;

    fn handle(&mut self, msg: CustomerHandoff, _: &mut Context<Self>) -> Self::Result {
        let allowed = matches!(msg.caller, Caller::Customer { .. } | Caller::System)
            && self.require_view(&msg.caller).is_ok();
        if !allowed {
            return AtomicResponse::new(Box::pin(fut::ready(Err(EngineError::NotFound(
                "conversation not found".into(),
            )))));
        }
        AtomicResponse::new(self.handoff(
            msg.reason,
            None,
            None,
            msg.customer_email,
            msg.customer_name,
        ))
    }
}

/// A trigger fired inside the conversation (keyword, low confidence).
#[derive(Message)]
#[rtype(result = "()")]
struct AutoHandoff {
    reason: &'static str,
    keyword: Option<String>,
    confidence: Option<f64>,
    /// When the handoff is refused, the AI answers this instead.
    answer_if_refused: Option<String>,
}

impl Handler<AutoHandoff> for ConversationActor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, msg: AutoHandoff, _: &mut Context<Self>) -> Self::Result {
        let question = msg.answer_if_refused;
        let fut = self
            .handoff(msg.reason, msg.keyword, msg.confidence, None, None)
            .map(move |res, act, ctx| {
                let refused = matches!(
                    res,
                    Ok(HandoffOutcome::Offline { .. } | HandoffOutcome::Unavailable { .. })
                );
                if refused {
                    if let Some(q) = question {
                        act.ai_turn(q, ctx);
                    }
                }
            });
        AtomicResponse::new(Box::pin(fut))
    }
}

/// From the project: this waiting conversation is now `agent`'s.
#[derive(Message)]
#[rtype(result = "EngineResult<()>")]
pub struct Assign {
    pub agent: AgentInfo,
    pub at: DateTime<Utc>,
}

impl Handler<Assign> for ConversationActor {
    type Result = AtomicResponse<Self, EngineResult<()>>;

    fn handle(&mut self, msg: Assign, _: &mut Context<Self>) -> Self::Result {
        let old = self.rec.status;
        if let Err(e) = self.check(Ev::Claim) {
            return AtomicResponse::new(Box::pin(fut::ready(Err(e))));
        }
        self.last_queue_position = None;
        let m = self.apply_assignment(&msg.agent, msg.at);
        let events = vec![self.agent_assigned_event(&msg.agent)];
        let agent = msg.agent.id;
        AtomicResponse::new(Box::pin(self.commit_change(old, vec![m], events).map(
            move |res, act, _| {
                if res.is_ok() {
                    act.notify_assigned(agent);
                }
                res
            },
        )))
    }
}

#[derive(Message)]
#[rtype(result = "EngineResult<ConversationView>")]
pub struct Resolve {
    pub caller: Caller,
}

impl Handler<Resolve> for ConversationActor {
    type Result = AtomicResponse<Self, EngineResult<ConversationView>>;

    fn handle(&mut self, msg: Resolve, _: &mut Context<Self>) -> Self::Result {
        if let Err(e) = self.require_manage(&msg.caller) {
            return AtomicResponse::new(Box::pin(fut::ready(Err(e))));
        }
        let old = self.rec.status;
        let next = match self.check(Ev::Resolve) {
            Ok(s) => s,
            Err(e) => return AtomicResponse::new(Box::pin(fut::ready(Err(e)))),
        };
        let now = self.now();
        let by = msg.caller.user_id().or(self.rec.assigned_agent_id);
        self.rec.status = next;
        self.rec.resolved_at = Some(now);
        self.rec.resolved_by = by;
        let m = self.system_message(
            "The conversation was resolved".into(),
            json!({ "event": "resolved", "resolved_by": by }),
        );
        let events = vec![(
            "resolved",
            json!({ "resolved_by": by, "show_rating": true }),
        )];
        let id = self.rec.id;
        AtomicResponse::new(Box::pin(self.commit_change(old, vec![m], events).map(
            move |res, act, _| {
                res?;
                act.project.addr.do_send(Released {
                    conversation_id: id,
                });
                Ok(act.view())
            },
        )))
    }
}

impl ConversationActor {
    fn require_manage(&self, caller: &Caller) -> EngineResult<()> {
        self.require_view(caller)?;
        if self.may_manage(caller) {
            Ok(())
        } else {
            Err(EngineError::Forbidden(
                "only the assigned agent or a project admin can do this".into(),
            ))
        }
    }
}

/// Back to the queue (`to` absent) or to another agent.
#[derive(Message)]
#[rtype(result = "EngineResult<ConversationView>")]
pub struct Transfer {
    pub caller: Caller,
    pub to: Option<UserId>,
}

impl Handler<Transfer> for ConversationActor {
    type Result = AtomicResponse<Self, EngineResult<ConversationView>>;

    fn handle(&mut self, msg: Transfer, _: &mut Context<Self>) -> Self::Result {
        if let Err(e) = self.require_manage(&msg.caller) {
            return AtomicResponse::new(Box::pin(fut::ready(Err(e))));
        }
        let old = self.rec.status;
        let id = self.rec.id;
        match msg.to {
            None => {
                let next = match self.check(Ev::TransferToQueue) {
                    Ok(s) => s,
                    Err(e) => return AtomicResponse::new(Box::pin(fut::ready(Err(e)))),
                };
                let now = self.now();
                self.rec.status = next;
                self.rec.assigned_agent_id = None;
                self.rec.claimed_at = None;
                self.rec.queue_entered_at = Some(now);
                let m = self.system_message(
                    "Transferred back to the queue".into(),
                    json!({ "event": "transferred", "to": null }),
                );
                let preview = self.preview();
                AtomicResponse::new(Box::pin(self.commit_change(old, vec![m], vec![]).map(
                    move |res, act, _| {
                        res?;
                        act.project.addr.do_send(Enqueue {
                            conversation_id: id,
                            entered_at: now,
                            preview,
                        });
                        Ok(act.view())
                    },
                )))
            }
            Some(to) => {
                if let Err(e) = self.check(Ev::TransferToAgent) {
                    return AtomicResponse::new(Box::pin(fut::ready(Err(e))));
                }
                let fut = self
                    .project
                    .addr
                    .send(Reserve {
                        conversation_id: id,
                        to,
                        require_online: true,
                    })
                    .into_actor(self)
                    .then(move |res, act, _| {
                        let agent = match res.map_err(EngineError::from).and_then(|r| r) {
                            Ok(a) => a,
                            Err(e) => return fut::ready(Err(e)).boxed_local(),
                        };
                        let now = act.now();
                        act.rec.assigned_agent_id = Some(agent.id);
                        act.rec.claimed_at = Some(now);
                        act.agent_gone_at = None;
                        let m = act.system_message(
                            format!("Transferred to {}", display_name(&agent)),
                            json!({ "event": "transferred", "to": agent.id }),
                        );
                        let events = vec![act.agent_assigned_event(&agent)];
                        act.commit_change(old, vec![m], events)
                            .map(move |res, act, _| {
                                res?;
                                act.notify_assigned(agent.id);
                                Ok(act.view())
                            })
                            .boxed_local()
                    });
                AtomicResponse::new(Box::pin(fut))
            }
        }
    }
}

#[derive(Message)]
#[rtype(result = "EngineResult<ConversationView>")]
pub struct Close {
    pub caller: Caller,
}

impl Handler<Close> for ConversationActor {
    type Result = AtomicResponse<Self, EngineResult<ConversationView>>;

    fn handle(&mut self, msg: Close, _: &mut Context<Self>) -> Self::Result {
        let allowed =
            self.require_view(&msg.caller).is_ok() && !matches!(msg.caller, Caller::Bot { .. });
        if !allowed {
            return AtomicResponse::new(Box::pin(fut::ready(Err(EngineError::NotFound(
                "conversation not found".into(),
            )))));
        }
        // Staff close what is theirs or no one's (spam in the queue); another
        // agent's live conversation needs an admin (docs/protocol.md section 3).
        if let Caller::Staff(_) = &msg.caller {
            if self.rec.assigned_agent_id.is_some() && !self.may_manage(&msg.caller) {
                return AtomicResponse::new(Box::pin(fut::ready(Err(EngineError::Forbidden(
                    "only the assigned agent or a project admin can close this conversation".into(),
                )))));
            }
        }
        let old = self.rec.status;
        let next = match self.check(Ev::Close) {
            Ok(s) => s,
            Err(e) => return AtomicResponse::new(Box::pin(fut::ready(Err(e)))),
        };
        let now = self.now();
        self.rec.status = next;
        self.rec.closed_at = Some(now);
        let by = match &msg.caller {
            Caller::Customer { .. } => "customer",
            Caller::Staff(_) => "agent",
            _ => "system",
        };
        let m = self.system_message(
            "The conversation was closed".into(),
            json!({ "event": "closed", "by": by }),
        );
        let id = self.rec.id;
        AtomicResponse::new(Box::pin(self.commit_change(old, vec![m], vec![]).map(
            move |res, act, _| {
                res?;
                match old {
                    St::Waiting => act.project.addr.do_send(LeftQueue {
                        conversation_id: id,
                    }),
                    St::AgentActive => act.project.addr.do_send(Released {
                        conversation_id: id,
                    }),
                    _ => {}
                }
                Ok(act.view())
            },
        )))
    }
}

/// A customer wrote in a resolved conversation: back to its agent if they
/// have room, otherwise to the queue.
#[derive(Message)]
#[rtype(result = "()")]
struct Reopen;

impl Handler<Reopen> for ConversationActor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, _: Reopen, _: &mut Context<Self>) -> Self::Result {
        if self.check(Ev::CustomerReply).is_err() {
            return AtomicResponse::new(Box::pin(fut::ready(())));
        }
        let id = self.rec.id;
        let agent = self.rec.assigned_agent_id.or(self.rec.resolved_by);
        let reserve: LocalBoxActorFuture<Self, EngineResult<AgentInfo>> = match agent {
            Some(to) => self
                .project
                .addr
                .send(Reserve {
                    conversation_id: id,
                    to,
                    require_online: false,
                })
                .into_actor(self)
                .map(|res, _, _| res.map_err(EngineError::from).and_then(|r| r))
                .boxed_local(),
            None => fut::ready(Err(EngineError::NoCapacity("no agent".into()))).boxed_local(),
        };
        let fut = reserve.then(move |res, act, _| {
            let old = act.rec.status;
            let now = act.now();
            act.rec.resolved_at = None;
            match res {
                Ok(agent) => {
                    let mut m = act.apply_assignment(&agent, now);
                    Arc::make_mut(&mut m).content =
                        format!("Reopened: {} is back", display_name(&agent));
                    let events = vec![act.agent_assigned_event(&agent)];
                    act.commit_change(old, vec![m], events)
                        .map(move |res, act, _| {
                            if res.is_ok() {
                                act.notify_assigned(agent.id);
                            }
                        })
                        .boxed_local()
                }
                Err(_) => {
                    act.rec.status = St::Waiting;
                    act.rec.assigned_agent_id = None;
                    act.rec.claimed_at = None;
                    act.rec.queue_entered_at = Some(now);
                    let m = act.system_message(
                        "Reopened: connecting you with an agent".into(),
                        json!({ "event": "reopened" }),
                    );
                    let preview = act.preview();
                    act.commit_change(old, vec![m], vec![])
                        .map(move |res, act, _| {
                            if res.is_ok() {
                                act.project.addr.do_send(Enqueue {
                                    conversation_id: id,
                                    entered_at: now,
                                    preview,
                                });
                            }
                        })
                        .boxed_local()
                }
            }
        });
        AtomicResponse::new(Box::pin(fut))
    }
}

#[derive(Message)]
#[rtype(result = "EngineResult<ConversationView>")]
pub struct SetTags {
    pub caller: Caller,
    pub tags: Vec<String>,
}

impl Handler<SetTags> for ConversationActor {
    type Result = AtomicResponse<Self, EngineResult<ConversationView>>;

    fn handle(&mut self, msg: SetTags, _: &mut Context<Self>) -> Self::Result {
        if !msg.caller.is_staff_of(self.rec.project_id) {
            return AtomicResponse::new(Box::pin(fut::ready(Err(EngineError::NotFound(
                "conversation not found".into(),
            )))));
        }
        let mut tags: Vec<String> = Vec::new();
        for t in msg.tags {
            let t = t.trim().to_lowercase();
            if t.is_empty() || t.chars().count() > MAX_TAG_CHARS {
                return AtomicResponse::new(Box::pin(fut::ready(Err(field_error(
                    "tags",
                    &format!("each tag must be 1 to {MAX_TAG_CHARS} characters"),
                )))));
            }
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        if tags.len() > MAX_TAGS {
            return AtomicResponse::new(Box::pin(fut::ready(Err(field_error(
                "tags",
                &format!("at most {MAX_TAGS} tags"),
            )))));
        }
        self.rec.tags = tags;
        AtomicResponse::new(self.save_row())
    }
}

/// The conversation's customer changed or became known through a proven
/// identify (the host site's user_hash or a one-time code), possibly a
/// merge of two visitors. The store has already moved `customer_id`; the
/// actor takes the new identity into its view and writes its email and
/// name.
#[derive(Message)]
#[rtype(result = "EngineResult<ConversationView>")]
pub struct LinkCustomer {
    pub customer_id: CustomerId,
    pub email: Option<String>,
    /// Whether `email` is proven (customers linked before proof was
    /// required keep unproven emails).
    pub email_verified: bool,
    pub name: Option<String>,
}

impl Handler<LinkCustomer> for ConversationActor {
    type Result = AtomicResponse<Self, EngineResult<ConversationView>>;

    fn handle(&mut self, msg: LinkCustomer, _: &mut Context<Self>) -> Self::Result {
        self.rec.customer_id = Some(msg.customer_id);
        if msg.email.is_some() {
            self.rec.customer_email = msg.email;
            self.rec.customer_email_verified = msg.email_verified;
        }
        if msg.name.is_some() {
            self.rec.customer_name = msg.name;
        }
        AtomicResponse::new(self.save_row())
    }
}

/// The customer typed an email and maybe a name without proving the email
/// (identify without user_hash or code): contact information on this
/// conversation only, marked unverified (see `set_contact`).
#[derive(Message)]
#[rtype(result = "EngineResult<ConversationView>")]
pub struct SetContact {
    pub caller: Caller,
    pub email: String,
    pub name: Option<String>,
}

impl Handler<SetContact> for ConversationActor {
    type Result = AtomicResponse<Self, EngineResult<ConversationView>>;

    fn handle(&mut self, msg: SetContact, _: &mut Context<Self>) -> Self::Result {
        if !matches!(msg.caller, Caller::Customer { .. }) || self.require_view(&msg.caller).is_err()
        {
            return AtomicResponse::new(Box::pin(fut::ready(Err(EngineError::NotFound(
                "conversation not found".into(),
            )))));
        }
        self.set_contact(Some(msg.email), msg.name);
        AtomicResponse::new(self.save_row())
    }
}

#[derive(Message)]
#[rtype(result = "EngineResult<ConversationView>")]
pub struct GetConversation {
    pub caller: Caller,
}

impl Handler<GetConversation> for ConversationActor {
    type Result = EngineResult<ConversationView>;

    fn handle(&mut self, msg: GetConversation, _: &mut Context<Self>) -> Self::Result {
        self.require_view(&msg.caller)?;
        Ok(self.view())
    }
}

#[derive(Message)]
#[rtype(result = "EngineResult<()>")]
pub struct Typing {
    pub caller: Caller,
    pub is_typing: bool,
}

impl Handler<Typing> for ConversationActor {
    type Result = EngineResult<()>;

    fn handle(&mut self, msg: Typing, _: &mut Context<Self>) -> Self::Result {
        self.require_view(&msg.caller)?;
        let (user_type, user_id) = match &msg.caller {
            Caller::Customer { .. } => ("customer", None),
            Caller::Staff(s) => ("agent", Some(s.user_id)),
            _ => return Err(EngineError::BadRequest("only people type".into())),
        };
        self.publish(
            "typing",
            json!({ "user_type": user_type, "user_id": user_id, "is_typing": msg.is_typing }),
        );
        Ok(())
    }
}

/// From the project: the conversation's place in the queue moved.
#[derive(Message)]
#[rtype(result = "()")]
pub struct QueuePositionChanged {
    pub queue_position: usize,
    pub estimated_wait_minutes: Option<u32>,
}

impl Handler<QueuePositionChanged> for ConversationActor {
    type Result = ();

    fn handle(&mut self, msg: QueuePositionChanged, _: &mut Context<Self>) {
        if self.rec.status != St::Waiting {
            return;
        }
        let next = (msg.queue_position, msg.estimated_wait_minutes);
        if self.last_queue_position != Some(next) {
            self.last_queue_position = Some(next);
            self.publish(
                "queue_position",
                json!({
                    "queue_position": msg.queue_position,
                    "estimated_wait_minutes": msg.estimated_wait_minutes,
                }),
            );
        }
    }
}

/// Subscribe a connection. With `after_seq`, the durable messages after it
/// are replayed first, one page at most ([`replay_page`]), through the
/// connection's bounded mailbox; when more remain the connection is not
/// made live (live events would overtake the rest) and asks again from
/// `replayed_to`. A customer's replay leaves out internal notes.
#[derive(Message)]
#[rtype(result = "EngineResult<Subscribed>")]
pub struct SubscribeConversation {
    pub caller: Caller,
    pub subscriber: Subscriber,
    pub after_seq: Option<i64>,
}

impl Handler<SubscribeConversation> for ConversationActor {
    type Result = AtomicResponse<Self, EngineResult<Subscribed>>;

    fn handle(&mut self, msg: SubscribeConversation, _: &mut Context<Self>) -> Self::Result {
        if let Err(e) = self.require_view(&msg.caller) {
            return AtomicResponse::new(Box::pin(fut::ready(Err(e))));
        }
        let mut sub = msg.subscriber;
        sub.audience = match msg.caller {
            Caller::Customer { .. } => Audience::Customer,
            _ => Audience::Staff,
        };
        let Some(after) = msg.after_seq else {
            self.subs.insert(sub);
            return AtomicResponse::new(Box::pin(fut::ready(Ok(Subscribed {
                last_seq: self.durable_seq,
                replayed_to: None,
                more: false,
            }))));
        };
        let (upto, more) = replay_page(after, self.durable_seq);
        let covered = self
            .log
            .front()
            .map_or(upto <= after, |m| m.seq <= after + 1)
            || (self.log.front().map(|m| m.seq) == Some(1));
        let load: LocalBoxActorFuture<Self, EngineResult<Vec<Arc<MessageRecord>>>> = if covered {
            let msgs = self
                .log
                .iter()
                .filter(|m| m.seq > after && m.seq <= upto)
                .cloned()
                .collect();
            fut::ready(Ok(msgs)).boxed_local()
        } else {
            let store = self.engine.store().clone();
            let id = self.rec.id;
            async move { store.load_messages(id, after, upto - after).await }
                .into_actor(self)
                .map(|res, _, _| {
                    res.map(|v| v.into_iter().map(Arc::new).collect())
                        .map_err(EngineError::from)
                })
                .boxed_local()
        };
        AtomicResponse::new(Box::pin(load.map(move |res, act, _| {
            let msgs = res?;
            // Already live (a resubscribe): off while it catches up.
            act.subs.remove(sub.id);
            let frames = msgs
                .iter()
                .filter(|m| m.seq <= upto && (sub.audience == Audience::Staff || !m.internal))
                .map(|m| act.message_frame(m));
            if !sub.replay(frames) {
                sub.evict(&act.channel);
            } else if !more {
                act.subs.insert(sub);
            }
            Ok(Subscribed {
                last_seq: act.durable_seq,
                replayed_to: Some(upto),
                more,
            })
        })))
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct UnsubscribeConversation {
    pub subscriber_id: u64,
}

impl Handler<UnsubscribeConversation> for ConversationActor {
    type Result = ();

    fn handle(&mut self, msg: UnsubscribeConversation, ctx: &mut Context<Self>) {
        if self.subs.remove(msg.subscriber_id) && self.subs.is_empty() {
            // Watched until now: the idle period starts here.
            self.used_at = self.used_at.max(self.now());
            self.arm(ctx);
        }
    }
}
