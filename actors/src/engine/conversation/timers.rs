//! The conversation's timeouts (seed 003 5.12 and 9.1, 9.2): customer
//! presence, the inactivity warning and auto-close, abandoned and stale
//! conversations, and an agent who went away. The rules are in
//! `domain::inactivity`; here the actor keeps one wake-up armed for the
//! next deadline and applies what falls due. Every deadline reads the
//! Clock; `CheckTimers` (sent by `Engine::tick_all`) lets tests run hours in
//! milliseconds. The same wake-up also comes at the end of the idle period,
//! when the conversation may passivate (passivation.rs).

use super::{ConversationActor, St};
use crate::domain::conversation::ConversationEvent as Ev;
use crate::domain::inactivity::{self, CloseReason, CustomerPresence, Due, Facts, Timeouts};
use crate::engine::agent::NotifyAgent;
use crate::engine::caller::Caller;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::project::Enqueue;
use crate::engine::supervisor::read_settings;
use actix::fut::LocalBoxActorFuture;
use actix::prelude::*;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// Slack added to a wake-up so the clock has surely passed the deadline.
const WAKE_SLACK: std::time::Duration = std::time::Duration::from_millis(20);

impl ConversationActor {
    pub(super) fn facts(&self) -> Facts {
        let r = &self.rec;
        // When the conversation entered its status: the customer's silence
        // counts from there at the earliest.
        let entered = match r.status {
            St::Waiting => r.queue_entered_at,
            St::AgentActive => r.claimed_at,
            _ => None,
        }
        .unwrap_or(r.created_at);
        Facts {
            status: r.status,
            presence: r.customer_presence,
            presence_at: self.presence_at,
            customer_active_at: r.customer_last_seen_at.unwrap_or(entered).max(entered),
            last_activity_at: r.last_message_at,
            warning_sent_at: r.auto_close_warning_sent_at,
            resolved_at: r.resolved_at,
            agent_gone_at: self.agent_gone_at,
            offline_form: r.metadata.get("offline_form").is_some(),
        }
    }

    pub(super) fn timeouts(&self) -> Timeouts {
        Timeouts::of(&read_settings(&self.project.settings))
    }

    /// Keep one wake-up armed for the earliest deadline: a timeout, or
    /// the end of the idle period. Every change arms, so a passivating
    /// conversation that takes work here is live again first.
    pub(super) fn arm(&mut self, ctx: &mut Context<Self>) {
        if self.passivating {
            self.unpassivate(ctx);
        }
        let timeout = inactivity::next_deadline(&self.facts(), &self.timeouts());
        let next = match (timeout, self.idle_deadline()) {
            (Some(t), Some(i)) => Some(t.min(i)),
            (t, i) => t.or(i),
        };
        match (next, self.wake.as_ref()) {
            (None, Some(_)) => {
                if let Some((_, h)) = self.wake.take() {
                    ctx.cancel_future(h);
                }
            }
            // Armed for earlier and still ahead: it will come. One already
            // behind the clock (a manual clock moved past it) is replaced.
            (Some(at), Some((armed, _))) if *armed <= at && *armed > self.now() => {}
            (Some(at), _) => {
                if let Some((_, h)) = self.wake.take() {
                    ctx.cancel_future(h);
                }
                let wait = (at - self.now()).to_std().unwrap_or_default() + WAKE_SLACK;
                let h = ctx.run_later(wait, |act, ctx| {
                    act.wake = None;
                    let then = act.on_clock(ctx);
                    ctx.spawn(then);
                });
                self.wake = Some((at, h));
            }
            (None, None) => {}
        }
    }

    /// Look at the clock: apply what is due, then leave memory if idle.
    /// Resolves once a passivation is decided.
    fn on_clock(&mut self, ctx: &mut Context<Self>) -> LocalBoxActorFuture<Self, ()> {
        self.check_timers(ctx);
        self.passivate_if_idle(ctx)
    }

    /// Apply every timeout due now, earliest first.
    fn check_timers(&mut self, ctx: &mut Context<Self>) {
        let timeouts = self.timeouts();
        // Presence changes apply at once; a change that writes ends the
        // round (the next one starts once it is durable).
        loop {
            let now = self.now();
            match inactivity::due(&self.facts(), &timeouts, now) {
                None => break,
                Some(Due::Presence(p)) => self.set_presence(p, now, false, ctx),
                Some(Due::Warn) => {
                    self.warn(&timeouts, now, ctx);
                    return;
                }
                Some(Due::Close(reason)) => {
                    self.auto_close(reason, ctx);
                    return;
                }
                Some(Due::Requeue) => {
                    self.requeue_without_agent(ctx);
                    return;
                }
            }
        }
        self.arm(ctx);
    }

    /// Record what the widget says (or what its silence means).
    fn set_presence(
        &mut self,
        p: CustomerPresence,
        now: DateTime<Utc>,
        signalled: bool,
        ctx: &mut Context<Self>,
    ) {
        let changed = self.rec.customer_presence != p;
        self.rec.customer_presence = p;
        if signalled {
            self.presence_at = Some(now);
        }
        if p.is_active() {
            self.rec.customer_last_seen_at = Some(now);
        }
        if changed || p.is_active() {
            self.rec.updated_at = self.rec.updated_at.max(now);
            self.snapshot_dirty = true;
            self.schedule_snapshot(ctx);
        }
        if changed {
            let data = json!({
                "status": p,
                "last_seen_at": self.rec.customer_last_seen_at.map(|t| crate::wire_time::format(&t)),
                "timestamp": crate::wire_time::format(&now),
            });
            self.publish("customer_presence", data.clone());
            if let Some(agent) = self.rec.assigned_agent_id {
                let mut data = data;
                data["conversation_id"] = json!(self.rec.id);
                self.engine.agent(agent).do_send(NotifyAgent {
                    event: "customer_presence_update",
                    data,
                });
            }
        }
    }

    /// The customer is back: withdraw the warning. True when there was one
    /// (the caller writes the snapshot).
    pub(super) fn clear_warning(&mut self) -> bool {
        if self.rec.auto_close_warning_sent_at.take().is_none() {
            return false;
        }
        self.publish("inactivity_warning", json!({ "active": false }));
        true
    }

    /// Seed 003 5.12.5: "Are you still there?"
    fn warn(&mut self, t: &Timeouts, now: DateTime<Utc>, ctx: &mut Context<Self>) {
        let minutes = t.after_warning.num_minutes();
        let closes_at = crate::wire_time::format(&(now + t.after_warning));
        self.rec.auto_close_warning_sent_at = Some(now);
        let m = self.system_message(
            format!(
                "Are you still there? This chat will close in {minutes} minutes if we don't hear from you."
            ),
            json!({ "event": "inactivity_warning", "closes_at": closes_at }),
        );
        let events = vec![(
            "inactivity_warning",
            json!({ "active": true, "closes_at": closes_at }),
        )];
        let old = self.rec.status;
        ctx.wait(self.commit_change(old, vec![m], events).map(|res, act, ctx| {
            if let Err(e) = res {
                tracing::warn!(conversation = %act.rec.id, error = %e, "inactivity warning failed");
            }
            act.arm(ctx);
        }));
    }

    /// Close by itself: a system message, `closed`, the agent told, the
    /// slot or queue place given back.
    fn auto_close(&mut self, reason: CloseReason, ctx: &mut Context<Self>) {
        let old = self.rec.status;
        let Ok(next) = self.check(Ev::InactivityTimeout) else {
            return;
        };
        let now = self.now();
        self.rec.status = next;
        self.rec.closed_at = Some(now);
        if !self.rec.metadata.is_object() {
            self.rec.metadata = json!({});
        }
        self.rec.metadata["close_reason"] = json!(reason.as_str());
        let m = self.system_message(
            reason.message().into(),
            json!({ "event": "auto_closed", "reason": reason.as_str() }),
        );
        let id = self.rec.id;
        let data = json!({ "conversation_id": id, "reason": reason.as_str() });
        let events = vec![("conversation_auto_closed", data.clone())];
        let agent = self.rec.assigned_agent_id;
        ctx.wait(
            self.commit_change(old, vec![m], events)
                .map(move |res, act, _| {
                    if let Err(e) = res {
                        tracing::warn!(conversation = %id, error = %e, "auto-close failed");
                        return;
                    }
                    act.left_status(old);
                    if let (Some(agent), St::AgentActive) = (agent, old) {
                        act.engine.agent(agent).do_send(NotifyAgent {
                            event: "conversation_auto_closed",
                            data,
                        });
                    }
                }),
        );
    }

    /// Seed 003 9.1: the agent has been gone too long; someone else may
    /// take the customer.
    fn requeue_without_agent(&mut self, ctx: &mut Context<Self>) {
        let old = self.rec.status;
        let Ok(next) = self.check(Ev::TransferToQueue) else {
            return;
        };
        let now = self.now();
        self.rec.status = next;
        self.rec.assigned_agent_id = None;
        self.rec.claimed_at = None;
        self.rec.queue_entered_at = Some(now);
        self.agent_gone_at = None;
        let m = self.system_message(
            "Your agent has not come back; connecting you with another agent".into(),
            json!({ "event": "requeued", "reason": "agent_gone" }),
        );
        let preview = self.preview();
        let id = self.rec.id;
        ctx.wait(
            self.commit_change(old, vec![m], vec![])
                .map(move |res, act, _| match res {
                    Ok(()) => act.project.addr.do_send(Enqueue {
                        conversation_id: id,
                        entered_at: now,
                        preview,
                    }),
                    Err(e) => tracing::warn!(conversation = %id, error = %e, "requeue failed"),
                }),
        );
    }

    /// A system message with no status change, e.g. the agent came and went.
    fn announce(&mut self, content: &str, metadata: Value, ctx: &mut Context<Self>) {
        let m = self.system_message(content.into(), metadata);
        let old = self.rec.status;
        ctx.wait(self.commit_change(old, vec![m], vec![]).map(|res, act, ctx| {
            if let Err(e) = res {
                tracing::warn!(conversation = %act.rec.id, error = %e, "announcement failed");
            }
            act.arm(ctx);
        }));
    }
}

/// Look at the clock now (tests advance a manual clock, then tick). The
/// answer comes once the due timeouts are applied and, for an idle
/// conversation, once it has left the registry.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CheckTimers;

impl Handler<CheckTimers> for ConversationActor {
    type Result = ResponseActFuture<Self, ()>;
    fn handle(&mut self, _: CheckTimers, ctx: &mut Context<Self>) -> Self::Result {
        self.on_clock(ctx)
    }
}

/// The widget's presence signal (seed 003 5.12.3), from its customer.
#[derive(Message)]
#[rtype(result = "EngineResult<()>")]
pub struct CustomerPresenceUpdate {
    pub caller: Caller,
    pub status: CustomerPresence,
}

impl Handler<CustomerPresenceUpdate> for ConversationActor {
    type Result = EngineResult<()>;
    fn handle(&mut self, msg: CustomerPresenceUpdate, ctx: &mut Context<Self>) -> Self::Result {
        self.require_view(&msg.caller)?;
        if !matches!(msg.caller, Caller::Customer { .. }) {
            return Err(EngineError::Forbidden(
                "only the customer reports their presence".into(),
            ));
        }
        let now = self.now();
        self.set_presence(msg.status, now, true, ctx);
        if msg.status.is_active() && self.clear_warning() {
            let old = self.rec.status;
            ctx.wait(self.commit_change(old, vec![], vec![]).map(|res, act, _| {
                if let Err(e) = res {
                    tracing::warn!(conversation = %act.rec.id, error = %e, "warning not cleared");
                }
            }));
        }
        self.arm(ctx);
        Ok(())
    }
}

/// From the project: the assigned agent went away (offline, or their
/// heartbeats stopped) or came back (seed 003 9.1).
#[derive(Message)]
#[rtype(result = "()")]
pub struct AgentAway {
    pub agent: crate::ids::UserId,
    pub away: bool,
}

impl Handler<AgentAway> for ConversationActor {
    type Result = ();
    fn handle(&mut self, msg: AgentAway, ctx: &mut Context<Self>) {
        if self.rec.status != St::AgentActive || self.rec.assigned_agent_id != Some(msg.agent) {
            return;
        }
        match (msg.away, self.agent_gone_at) {
            (true, None) => {
                self.agent_gone_at = Some(self.now());
                self.announce(
                    "Agent disconnected. Waiting for reconnection...",
                    json!({ "event": "agent_disconnected", "agent_id": msg.agent }),
                    ctx,
                );
            }
            (false, Some(_)) => {
                self.agent_gone_at = None;
                self.announce(
                    "Your agent is back",
                    json!({ "event": "agent_reconnected", "agent_id": msg.agent }),
                    ctx,
                );
            }
            _ => {}
        }
    }
}
