//! ProjectActor: one per project. It owns the handoff settings, the FIFO
//! queue of waiting conversations and the capacity ledger of the project's
//! agents, and it alone decides assignments and claims, so a race between
//! agents is settled by mailbox order (invariant 1).
//!
//! The ledger's chat counts are never trusted from storage: they are rebuilt
//! from the `agent_active` conversations on load, and every change to them
//! happens here (invariant 2).

use super::conversation::{AgentAway, Assign, QueuePositionChanged};
use super::error::{EngineError, EngineResult};
use super::events::{event_frame, Subscriber, Subscribers};
use super::supervisor::{Engine, SettingsCell};
use super::views::{AgentInfo, HandoffOutcome, OfflineHours};
use super::MAILBOX_CAPACITY;
use crate::domain::agents::{pick_balanced, AgentCapacity, AgentStatus};
use crate::domain::availability::{check_availability, Availability};
use crate::domain::business_hours;
use crate::domain::conversation::ConversationStatus;
use crate::domain::queue::{estimate_wait_minutes, WaitQueue, DEFAULT_AVG_HANDLING_MINUTES};
use crate::domain::settings::HandoffSettings;
use crate::engine::answer_now;
use crate::ids::{ConversationId, ProjectId, UserId};
use crate::ports::{AgentRecord, ConversationRecord, ProjectSnapshot, WriteOp};
use actix::prelude::*;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

mod agents;
mod queue;

pub use agents::{
    AgentJoined, AgentLeft, AgentProfile, Heartbeat, ListAgents, SetAgentStatus, UpdateAgent,
};
pub use queue::{
    Claim, Enqueue, HandoffDecision, LeftQueue, QueueInfo, Released, RequestHandoff, Reserve,
};

/// The queue is processed at least this often even if nothing happens
/// (seed 003 5.4.4: a periodic fallback).
pub const QUEUE_FALLBACK_INTERVAL: Duration = Duration::seconds(10);
/// How far back handling times count for the wait estimate (seed 003 5.4.6).
pub const HANDLING_WINDOW: Duration = Duration::days(7);
pub const HANDLING_REFRESH: Duration = Duration::seconds(60);

pub struct ProjectActor {
    engine: Engine,
    id: ProjectId,
    name: String,
    settings: Arc<HandoffSettings>,
    settings_cell: SettingsCell,
    agents: BTreeMap<UserId, AgentRecord>,
    queue: WaitQueue,
    /// Who holds each `agent_active` conversation (and reservations in flight).
    active: HashMap<ConversationId, UserId>,
    /// Conversations assigned here whose actor has not yet confirmed.
    reserving: HashSet<ConversationId>,
    avg_handling_minutes: f64,
    handling_refreshed_at: Option<DateTime<Utc>>,
    last_processed_at: DateTime<Utc>,
    availability: Availability,
    /// Agents gone (offline, or heartbeats stopped) as their conversations
    /// were last told (seed 003 9.1).
    away: HashSet<UserId>,
    agents_channel: Subscribers,
    presence_channel: Subscribers,
    widget_channel: Subscribers,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgentView {
    pub user_id: UserId,
    pub name: String,
    pub avatar_url: Option<String>,
    pub status: AgentStatus,
    pub current_chat_count: u32,
    pub max_concurrent_chats: u32,
    pub available_slots: u32,
    #[serde(with = "crate::wire_time")]
    pub last_seen_at: DateTime<Utc>,
    #[serde(with = "crate::wire_time::option")]
    pub last_assigned_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::wire_time")]
    pub status_changed_at: DateTime<Utc>,
    pub auto_offline_enabled: bool,
    pub auto_offline_minutes: u32,
}

fn capacity(a: &AgentRecord) -> AgentCapacity {
    AgentCapacity {
        user_id: a.user_id,
        status: a.status,
        max_concurrent_chats: a.max_concurrent_chats,
        current_chat_count: a.current_chat_count,
        last_seen_at: a.last_seen_at,
        last_assigned_at: a.last_assigned_at,
    }
}

fn view(a: &AgentRecord) -> AgentView {
    AgentView {
        user_id: a.user_id,
        name: a.name.clone(),
        avatar_url: a.avatar_url.clone(),
        status: a.status,
        current_chat_count: a.current_chat_count,
        max_concurrent_chats: a.max_concurrent_chats,
        available_slots: a.max_concurrent_chats.saturating_sub(a.current_chat_count),
        last_seen_at: a.last_seen_at,
        last_assigned_at: a.last_assigned_at,
        status_changed_at: a.status_changed_at,
        auto_offline_enabled: a.auto_offline_enabled,
        auto_offline_minutes: a.auto_offline_minutes,
    }
}

fn info(a: &AgentRecord) -> AgentInfo {
    AgentInfo {
        id: a.user_id,
        name: a.name.clone(),
        avatar_url: a.avatar_url.clone(),
    }
}

impl ProjectActor {
    pub fn new(
        engine: Engine,
        snapshot: ProjectSnapshot,
        settings_cell: SettingsCell,
        agents: Vec<AgentRecord>,
        live: &[ConversationRecord],
    ) -> Self {
        let now = engine.clock().now();
        let mut ledger: BTreeMap<UserId, AgentRecord> = agents
            .into_iter()
            .map(|mut a| {
                a.current_chat_count = 0;
                (a.user_id, a)
            })
            .collect();
        let mut queue = WaitQueue::default();
        let mut active = HashMap::new();
        for c in live {
            match c.status {
                ConversationStatus::Waiting => {
                    queue.push(c.id, c.queue_entered_at.unwrap_or(c.created_at));
                }
                ConversationStatus::AgentActive => {
                    if let Some(agent) = c.assigned_agent_id {
                        active.insert(c.id, agent);
                        if let Some(a) = ledger.get_mut(&agent) {
                            a.current_chat_count += 1;
                        }
                    }
                }
                _ => {}
            }
        }
        let settings = Arc::new(snapshot.settings);
        let mut actor = ProjectActor {
            engine,
            id: snapshot.id,
            name: snapshot.name,
            settings,
            settings_cell,
            agents: ledger,
            queue,
            active,
            reserving: HashSet::new(),
            avg_handling_minutes: DEFAULT_AVG_HANDLING_MINUTES,
            handling_refreshed_at: None,
            last_processed_at: now,
            availability: Availability {
                available: false,
                reason: None,
                show_button: false,
                show_offline_form: false,
            },
            // Empty: after a restart the conversations of an agent who is
            // gone learn it again on the first tick.
            away: HashSet::new(),
            agents_channel: Subscribers::default(),
            presence_channel: Subscribers::default(),
            widget_channel: Subscribers::default(),
        };
        actor.availability = actor.compute_availability(now);
        actor
    }

    fn now(&self) -> DateTime<Utc> {
        self.engine.clock().now()
    }

    fn compute_availability(&self, now: DateTime<Utc>) -> Availability {
        let online = self
            .agents
            .values()
            .filter(|a| a.status == AgentStatus::Online)
            .count();
        check_availability(&self.settings, self.agents.len(), online, now)
    }

    fn agents_online(&self, now: DateTime<Utc>) -> usize {
        self.agents
            .values()
            .filter(|a| a.status == AgentStatus::Online && capacity(a).heartbeat_fresh(now))
            .count()
    }

    fn estimate(&self, position: usize, now: DateTime<Utc>) -> Option<u32> {
        estimate_wait_minutes(position, self.avg_handling_minutes, self.agents_online(now))
    }

    fn channel_name(&self, kind: ProjectChannel) -> String {
        match kind {
            ProjectChannel::Agents => format!("project:{}:agents", self.id),
            ProjectChannel::Presence => format!("presence:{}", self.id),
            ProjectChannel::Widget => format!("project:{}:widget", self.id),
        }
    }

    fn publish(&mut self, kind: ProjectChannel, event: &str, data: Value) {
        let channel = self.channel_name(kind);
        let frame = event_frame(&channel, event, None, &data, self.now());
        let subs = match kind {
            ProjectChannel::Agents => &mut self.agents_channel,
            ProjectChannel::Presence => &mut self.presence_channel,
            ProjectChannel::Widget => &mut self.widget_channel,
        };
        subs.publish_all(&channel, &frame);
    }

    fn persist_agent(&self, user: UserId) {
        if let Some(a) = self.agents.get(&user) {
            let write = self
                .engine
                .writer()
                .write(vec![WriteOp::PutAgent(Box::new(a.clone()))]);
            actix::spawn(async move {
                if let Err(e) = write.await {
                    tracing::warn!(error = %e, "agent ledger write failed");
                }
            });
        }
    }

    /// Re-evaluate the widget's availability answer; tell widgets if it moved.
    fn refresh_availability(&mut self) {
        let now = self.now();
        let next = self.compute_availability(now);
        if next != self.availability {
            self.availability = next.clone();
            self.publish(
                ProjectChannel::Widget,
                "availability_changed",
                serde_json::to_value(&next).unwrap_or(Value::Null),
            );
        }
    }

    /// Seed 003 5.4.4: while an eligible agent and a waiting conversation
    /// exist, give the oldest conversation to the best agent. `answering` is
    /// a conversation whose own handoff request is being answered: it learns
    /// of its agent from the reply instead of an `Assign`.
    fn process_queue(
        &mut self,
        ctx: &mut Context<Self>,
        answering: Option<ConversationId>,
    ) -> Option<AgentInfo> {
        let now = self.now();
        self.last_processed_at = now;
        let mut answered = None;
        let mut changed = false;
        while let Some(conv) = self.queue.front() {
            let Some(agent) = pick_balanced(
                self.agents
                    .values()
                    .map(capacity)
                    .collect::<Vec<_>>()
                    .iter(),
                now,
            ) else {
                break;
            };
            self.queue.pop_front();
            changed = true;
            let agent_info = self.reserve(conv, agent, now);
            if Some(conv) == answering {
                answered = Some(agent_info);
            } else {
                self.send_assign(conv, agent_info, now, ctx);
            }
        }
        if changed {
            self.queue_changed(ctx);
        }
        answered
    }

    /// Book a slot of `agent` for `conv`.
    fn reserve(&mut self, conv: ConversationId, agent: UserId, now: DateTime<Utc>) -> AgentInfo {
        self.active.insert(conv, agent);
        let a = self.agents.get_mut(&agent);
        let info = match a {
            Some(a) => {
                a.current_chat_count += 1;
                a.last_assigned_at = Some(now);
                info(a)
            }
            None => AgentInfo {
                id: agent,
                name: String::new(),
                avatar_url: None,
            },
        };
        self.persist_agent(agent);
        info
    }

    /// Give back the slot `conv` held, if any.
    fn release(&mut self, conv: ConversationId) -> Option<UserId> {
        let agent = self.active.remove(&conv)?;
        if let Some(a) = self.agents.get_mut(&agent) {
            a.current_chat_count = a.current_chat_count.saturating_sub(1);
        }
        self.persist_agent(agent);
        Some(agent)
    }

    /// Tell a conversation its agent; undo the reservation if it refuses
    /// (it was closed meanwhile).
    fn send_assign(
        &mut self,
        conv: ConversationId,
        agent: AgentInfo,
        at: DateTime<Utc>,
        ctx: &mut Context<Self>,
    ) {
        self.reserving.insert(conv);
        let engine = self.engine.clone();
        let fut = async move {
            match engine.live_conversation(conv).await {
                Ok(Some(addr)) => addr
                    .send(Assign { agent, at })
                    .await
                    .map_err(EngineError::from)
                    .and_then(|r| r),
                Ok(None) => Err(EngineError::NotFound("conversation closed".into())),
                Err(e) => Err(e),
            }
        };
        ctx.spawn(fut.into_actor(self).map(move |res, act, ctx| {
            act.reserving.remove(&conv);
            match res {
                Ok(()) => {}
                Err(e) => {
                    tracing::info!(conversation = %conv, error = %e, "assignment refused; slot returned");
                    act.release(conv);
                    act.process_queue(ctx, None);
                }
            }
        }));
    }

    fn queue_changed(&mut self, _ctx: &mut Context<Self>) {
        let waiting = self.queue.len();
        self.publish(
            ProjectChannel::Agents,
            "queue_updated",
            json!({ "waiting_count": waiting }),
        );
        let now = self.now();
        let engine = self.engine.clone();
        let updates: Vec<(ConversationId, usize, Option<u32>)> = self
            .queue
            .positions()
            .map(|(id, pos)| (id, pos, self.estimate(pos, now)))
            .collect();
        actix::spawn(async move {
            for (id, pos, est) in updates {
                if let Ok(Some(addr)) = engine.live_conversation(id).await {
                    addr.do_send(QueuePositionChanged {
                        queue_position: pos,
                        estimated_wait_minutes: est,
                    });
                }
            }
        });
    }

    fn agent_mut(&mut self, user: UserId) -> EngineResult<&mut AgentRecord> {
        self.agents
            .get_mut(&user)
            .ok_or_else(|| EngineError::Forbidden("you are not an agent of this project".into()))
    }

    fn set_status(
        &mut self,
        user: UserId,
        status: AgentStatus,
        ctx: &mut Context<Self>,
    ) -> EngineResult<AgentView> {
        let now = self.now();
        let a = self.agent_mut(user)?;
        let old = a.status;
        a.status = status;
        a.last_seen_at = now;
        if old != status {
            a.status_changed_at = now;
        }
        let v = view(a);
        self.persist_agent(user);
        if old != status {
            let presence = json!({
                "user_id": user, "name": v.name, "status": status,
                "current_chat_count": v.current_chat_count,
                "max_concurrent_chats": v.max_concurrent_chats,
            });
            let event = if status == AgentStatus::Offline {
                "leave"
            } else {
                "join"
            };
            self.publish(ProjectChannel::Presence, event, presence);
            self.refresh_availability();
        }
        self.update_away();
        if status == AgentStatus::Online {
            self.process_queue(ctx, None);
        }
        Ok(v)
    }

    /// Tell the conversations of each agent who went away or came back.
    fn update_away(&mut self) {
        let now = self.now();
        let mut flips = Vec::new();
        for a in self.agents.values() {
            let away = a.status == AgentStatus::Offline || !capacity(a).heartbeat_fresh(now);
            if away != self.away.contains(&a.user_id) {
                flips.push((a.user_id, away));
            }
        }
        for (user, away) in flips {
            if away {
                self.away.insert(user);
            } else {
                self.away.remove(&user);
            }
            let convs: Vec<ConversationId> = self
                .active
                .iter()
                .filter(|(c, a)| **a == user && !self.reserving.contains(c))
                .map(|(c, _)| *c)
                .collect();
            if convs.is_empty() {
                continue;
            }
            let engine = self.engine.clone();
            actix::spawn(async move {
                for id in convs {
                    if let Ok(Some(addr)) = engine.live_conversation(id).await {
                        addr.do_send(AgentAway { agent: user, away });
                    }
                }
            });
        }
    }

    fn presence_sync(&self) -> Value {
        let agents: Vec<Value> = self
            .agents
            .values()
            .filter(|a| a.status != AgentStatus::Offline)
            .map(|a| {
                json!({
                    "user_id": a.user_id, "name": a.name, "status": a.status,
                    "current_chat_count": a.current_chat_count,
                    "max_concurrent_chats": a.max_concurrent_chats,
                })
            })
            .collect();
        json!({ "agents": agents })
    }

    fn offline_answer(&self, now: DateTime<Utc>) -> HandoffOutcome {
        let next = business_hours::next_opening(&self.settings, now);
        HandoffOutcome::Offline {
            message: "Our team is currently offline. Leave your email and we will get back to you."
                .into(),
            business_hours: OfflineHours {
                timezone: self.settings.timezone.clone(),
                next_available: next.map(|t| crate::wire_time::format(&t)),
                next_available_local: next
                    .map(|t| business_hours::describe_local(&self.settings, t)),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectChannel {
    Agents,
    Presence,
    Widget,
}

impl Actor for ProjectActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX_CAPACITY);
        let interval = self.engine.config().tick_interval;
        ctx.run_interval(interval, |act, ctx| act.tick(ctx));
        self.refresh_handling(ctx);
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        self.engine.forget_project(self.id, &ctx.address());
    }
}

impl ProjectActor {
    fn tick(&mut self, ctx: &mut Context<Self>) {
        let now = self.now();
        // Auto-offline (seed 003 5.3.5): an agent whose heartbeats stopped.
        let stale: Vec<UserId> = self
            .agents
            .values()
            .filter(|a| {
                a.auto_offline_enabled
                    && a.status != AgentStatus::Offline
                    && now - a.last_seen_at >= Duration::minutes(i64::from(a.auto_offline_minutes))
            })
            .map(|a| a.user_id)
            .collect();
        for user in stale {
            let seen = self.agents.get(&user).map(|a| a.last_seen_at);
            let _ = self.set_status(user, AgentStatus::Offline, ctx);
            // Going offline by timeout must not count as being seen.
            if let (Some(a), Some(seen)) = (self.agents.get_mut(&user), seen) {
                a.last_seen_at = seen;
                self.persist_agent(user);
            }
        }
        if now - self.last_processed_at >= QUEUE_FALLBACK_INTERVAL {
            self.process_queue(ctx, None);
        }
        if self
            .handling_refreshed_at
            .is_none_or(|t| now - t >= HANDLING_REFRESH)
        {
            self.refresh_handling(ctx);
        }
        self.refresh_availability();
        self.update_away();
    }

    fn refresh_handling(&mut self, ctx: &mut Context<Self>) {
        let now = self.now();
        self.handling_refreshed_at = Some(now);
        let store = self.engine.store().clone();
        let id = self.id;
        let fut = async move { store.avg_handling_minutes(id, now - HANDLING_WINDOW).await };
        ctx.spawn(fut.into_actor(self).map(|res, act, _| {
            act.avg_handling_minutes = match res {
                Ok(Some(m)) if m > 0.0 => m,
                _ => DEFAULT_AVG_HANDLING_MINUTES,
            }
        }));
    }
}

/// Look at the clock now: auto-offline, fallback queue run, availability.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Tick;

impl Handler<Tick> for ProjectActor {
    type Result = ();
    fn handle(&mut self, _: Tick, ctx: &mut Context<Self>) {
        self.tick(ctx);
    }
}

#[derive(Message)]
#[rtype(result = "Availability")]
pub struct GetAvailability;

impl Handler<GetAvailability> for ProjectActor {
    type Result = MessageResult<GetAvailability>;
    fn handle(&mut self, _: GetAvailability, _: &mut Context<Self>) -> Self::Result {
        let now = self.now();
        MessageResult(self.compute_availability(now))
    }
}

#[derive(Message)]
#[rtype(result = "Arc<HandoffSettings>")]
pub struct GetSettings;

impl Handler<GetSettings> for ProjectActor {
    type Result = MessageResult<GetSettings>;
    fn handle(&mut self, _: GetSettings, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.settings.clone())
    }
}

/// Replace the settings: validated, durable, then applied.
#[derive(Message)]
#[rtype(result = "EngineResult<Arc<HandoffSettings>>")]
pub struct UpdateSettings {
    pub settings: HandoffSettings,
}

impl Handler<UpdateSettings> for ProjectActor {
    type Result = AtomicResponse<Self, EngineResult<Arc<HandoffSettings>>>;
    fn handle(&mut self, msg: UpdateSettings, _: &mut Context<Self>) -> Self::Result {
        let settings = msg.settings.normalized();
        if let Err(fields) = settings.validate() {
            return answer_now(Err(EngineError::Validation(fields)));
        }
        let write = self.engine.writer().write(vec![WriteOp::PutSettings {
            project_id: self.id,
            settings: Box::new(settings.clone()),
            at: self.now(),
        }]);
        AtomicResponse::new(Box::pin(write.into_actor(self).map(move |res, act, _| {
            res.map_err(EngineError::from)?;
            let settings = Arc::new(settings);
            act.settings = settings.clone();
            match act.settings_cell.write() {
                Ok(mut g) => *g = settings.clone(),
                Err(poisoned) => *poisoned.into_inner() = settings.clone(),
            }
            act.refresh_availability();
            Ok(settings)
        })))
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct SubscribeProject {
    pub channel: ProjectChannel,
    pub subscriber: Subscriber,
}

impl Handler<SubscribeProject> for ProjectActor {
    type Result = ();
    fn handle(&mut self, msg: SubscribeProject, _: &mut Context<Self>) {
        let sub = msg.subscriber;
        match msg.channel {
            ProjectChannel::Agents => self.agents_channel.insert(sub),
            ProjectChannel::Presence => {
                let channel = self.channel_name(ProjectChannel::Presence);
                let frame = event_frame(&channel, "sync", None, &self.presence_sync(), self.now());
                let _ = sub.deliver.try_send(super::events::Deliver {
                    frames: vec![frame],
                });
                self.presence_channel.insert(sub)
            }
            ProjectChannel::Widget => self.widget_channel.insert(sub),
        }
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct UnsubscribeProject {
    pub channel: ProjectChannel,
    pub subscriber_id: u64,
}

impl Handler<UnsubscribeProject> for ProjectActor {
    type Result = ();
    fn handle(&mut self, msg: UnsubscribeProject, _: &mut Context<Self>) {
        match msg.channel {
            ProjectChannel::Agents => self.agents_channel.remove(msg.subscriber_id),
            ProjectChannel::Presence => self.presence_channel.remove(msg.subscriber_id),
            ProjectChannel::Widget => self.widget_channel.remove(msg.subscriber_id),
        };
    }
}

/// The project's name and counts, for diagnostics and the load harness.
#[derive(Message)]
#[rtype(result = "ProjectStats")]
pub struct GetProjectStats;

#[derive(Debug, Clone, Serialize)]
pub struct ProjectStats {
    pub name: String,
    pub waiting: usize,
    pub active: usize,
    pub agents: usize,
}

impl Handler<GetProjectStats> for ProjectActor {
    type Result = MessageResult<GetProjectStats>;
    fn handle(&mut self, _: GetProjectStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(ProjectStats {
            name: self.name.clone(),
            waiting: self.queue.len(),
            active: self.active.len(),
            agents: self.agents.len(),
        })
    }
}
