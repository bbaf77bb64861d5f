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
//!
//! Layout: this file holds the actor's state, its writes and what every
//! handler uses; `messages.rs` posting, notes, typing, subscribing and the
//! durable log (../log.rs), `handoff.rs` what follows a message, handoff
//! and assignment, `lifecycle.rs` resolve, transfer, close, reopen and
//! edits, `customer.rs` the offline form and rating, `timers.rs` the
//! timeouts, `passivation.rs` idle actors leaving memory.

use super::agent::NotifyAgent;
use super::caller::Caller;
use super::error::{EngineError, EngineResult};
use super::events::{event_frame, Audience, Subscribed, Subscriber, Subscribers};
use super::log::{self, DurableLog, LogOwner};
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
mod edit;
mod handoff;
mod lifecycle;
mod messages;
mod passivation;
mod timers;

pub use customer::{validate_rating, OfflineForm, RateConversation, MAX_FEEDBACK_CHARS};
pub use edit::{EditConversation, EditStatus};
pub use handoff::{Assign, CustomerHandoff, QueuePositionChanged};
use lifecycle::Reopen;
pub use lifecycle::{
    AgentRemoved, Close, GetConversation, LinkCustomer, Resolve, SetContact, Transfer,
};
use messages::{field_error, validate_content};
pub use messages::{PostMessage, PostNote, SubscribeConversation, Typing, UnsubscribeConversation};
pub use passivation::PASSIVATE_AFTER;
pub use timers::{AgentAway, CheckTimers, CustomerPresenceUpdate};

use actix::fut::LocalBoxActorFuture;
use actix::prelude::*;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::oneshot;

pub use super::log::LOG_CAPACITY;
/// Longest message content, in characters.
pub const MAX_CONTENT_CHARS: usize = 10_000;
/// How much history the AI sees.
const AI_HISTORY: usize = 20;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 50;
/// How long a changed activity time waits before it is written (plus up
/// to a second of spread).
pub const SNAPSHOT_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// What happens once a message is durable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum After {
    Nothing,
    /// A customer spoke: keyword trigger, AI answer, or reopen.
    CustomerTurn,
    /// An AI answer: low confidence may hand off.
    AiAnswer {
        confidence: Option<f64>,
    },
}

pub struct ConversationActor {
    engine: Engine,
    rec: ConversationRecord,
    project: ProjectHandle,
    channel: String,
    log: DurableLog<MessageRecord, After>,
    ai_messages: i64,
    subs: Subscribers,
    last_queue_position: Option<(usize, Option<u32>)>,
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
        let ai_messages = index.ai_messages;
        let log = DurableLog::restore(recent, index.client_ids.into_iter().collect());
        ConversationActor {
            channel: format!("conversation:{}", rec.id),
            engine,
            rec,
            project,
            log,
            ai_messages,
            subs: Subscribers::default(),
            last_queue_position: None,
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
        if !self.snapshot_dirty || self.log.failed() {
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
        let mut v = ConversationView::from_record(&self.rec, Some(self.log.durable_seq()));
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

    fn new_message(
        &mut self,
        sender_type: SenderType,
        sender_id: Option<UserId>,
        content: String,
        metadata: Value,
        client_msg_id: Option<String>,
        internal: bool,
    ) -> Arc<MessageRecord> {
        let seq = self.log.allocate();
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
        msgs: Vec<(
            Arc<MessageRecord>,
            After,
            Option<log::Waiter<MessageRecord>>,
        )>,
        snapshot: bool,
    ) -> (
        Vec<i64>,
        impl std::future::Future<Output = StoreResult<()>> + 'static,
    ) {
        let mut ops = Vec::with_capacity(msgs.len() + 1);
        let mut seqs = Vec::with_capacity(msgs.len());
        for (msg, after, waiter) in msgs {
            seqs.push(msg.seq);
            ops.push(WriteOp::InsertMessage(Box::new((*msg).clone())));
            self.log.stage(msg, after, waiter);
        }
        if snapshot {
            ops.push(WriteOp::PutConversation(Box::new(self.rec.clone())));
            self.snapshot_dirty = false;
        } else {
            self.snapshot_dirty = true;
        }
        (seqs, self.engine.writer().write(ops))
    }

    /// Tells the project the conversation left `old` (closed or resolved):
    /// out of the queue, or its agent's chat freed.
    fn left_status(&self, old: St) {
        let conversation_id = self.rec.id;
        match old {
            St::Waiting => self.project.addr.do_send(LeftQueue { conversation_id }),
            St::AgentActive => self.project.addr.do_send(Released { conversation_id }),
            _ => {}
        }
    }

    fn maybe_stop(&mut self, ctx: &mut Context<Self>) {
        if !self.log.is_settled() {
            return;
        }
        if self.log.failed() {
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

    fn preview(&self) -> Value {
        json!({
            "conversation": self.view(),
            "customer_name": self.rec.customer_name,
            "preview": self.last_customer_text(),
        })
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
        self.log.abandon();
        self.engine
            .forget_conversation(self.rec.id, self.incarnation);
    }
}
