//! The project's queue and claims (seed 003 5.4, 5.5, invariants 1-3):
//! handoff requests, the FIFO queue, agents' claims and the assignment's
//! reservation of capacity, and releases.
use super::*;

/// What the project answers a conversation asking to hand off.
#[derive(Debug, Clone)]
pub enum HandoffDecision {
    /// Stay with the AI; the outcome says why.
    Refused(HandoffOutcome),
    Queued {
        entered_at: DateTime<Utc>,
        queue_position: usize,
        estimated_wait_minutes: Option<u32>,
    },
    Assigned {
        entered_at: DateTime<Utc>,
        agent: AgentInfo,
    },
}

#[derive(Message)]
#[rtype(result = "HandoffDecision")]
pub struct RequestHandoff {
    pub conversation_id: ConversationId,
    pub preview: Value,
}

impl Handler<RequestHandoff> for ProjectActor {
    type Result = MessageResult<RequestHandoff>;
    fn handle(&mut self, msg: RequestHandoff, ctx: &mut Context<Self>) -> Self::Result {
        let now = self.now();
        let availability = self.compute_availability(now);
        use crate::domain::availability::UnavailableReason as R;
        if !availability.available {
            return MessageResult(match availability.reason {
                Some(R::OutsideHours) => HandoffDecision::Refused(self.offline_answer(now)),
                Some(reason) => HandoffDecision::Refused(HandoffOutcome::Unavailable { reason }),
                None => HandoffDecision::Refused(HandoffOutcome::Unavailable {
                    reason: R::AllOffline,
                }),
            });
        }
        let id = msg.conversation_id;
        self.queue.push(id, now);
        self.publish(ProjectChannel::Agents, "new_conversation", msg.preview);
        if let Some(agent) = self.process_queue(ctx, Some(id)) {
            return MessageResult(HandoffDecision::Assigned {
                entered_at: now,
                agent,
            });
        }
        self.queue_changed(ctx);
        let position = self.queue.position(id).unwrap_or(self.queue.len());
        MessageResult(HandoffDecision::Queued {
            entered_at: now,
            queue_position: position,
            estimated_wait_minutes: self.estimate(position, now),
        })
    }
}

/// An agent claims a waiting conversation (seed 003 5.5.4). Exactly one of
/// any number of concurrent claims wins.
#[derive(Message)]
#[rtype(result = "EngineResult<AgentInfo>")]
pub struct Claim {
    pub conversation_id: ConversationId,
    pub agent_id: UserId,
}

impl Handler<Claim> for ProjectActor {
    type Result = ResponseActFuture<Self, EngineResult<AgentInfo>>;
    fn handle(&mut self, msg: Claim, _ctx: &mut Context<Self>) -> Self::Result {
        let conv = msg.conversation_id;
        let now = self.now();
        let check = (|| {
            let a = self.agents.get(&msg.agent_id).ok_or_else(|| {
                EngineError::Forbidden("only agents of this project can claim".into())
            })?;
            if self.active.contains_key(&conv) {
                return Err(EngineError::AlreadyClaimed);
            }
            if !self.queue.contains(conv) {
                return Err(EngineError::InvalidTransition(
                    "only a waiting conversation can be claimed".into(),
                ));
            }
            if a.status != AgentStatus::Online {
                return Err(EngineError::NoCapacity(format!(
                    "you are {}: go online to take chats",
                    a.status.as_str()
                )));
            }
            if a.current_chat_count >= a.max_concurrent_chats {
                return Err(EngineError::NoCapacity(format!(
                    "you already have {} of {} chats",
                    a.current_chat_count, a.max_concurrent_chats
                )));
            }
            Ok(())
        })();
        if let Err(e) = check {
            return Box::pin(fut::ready(Err(e)));
        }
        self.queue.remove(conv);
        if let Some(a) = self.agents.get_mut(&msg.agent_id) {
            a.last_seen_at = now;
        }
        let agent = self.reserve(conv, msg.agent_id, now);
        self.reserving.insert(conv);
        let engine = self.engine.clone();
        let agent_for_conv = agent.clone();
        let fut = async move {
            match engine.live_conversation(conv).await {
                Ok(Some(addr)) => addr
                    .send(Assign {
                        agent: agent_for_conv,
                        at: now,
                    })
                    .await
                    .map_err(EngineError::from)
                    .and_then(|r| r),
                Ok(None) => Err(EngineError::InvalidTransition(
                    "the conversation is closed".into(),
                )),
                Err(e) => Err(e),
            }
        };
        Box::pin(fut.into_actor(self).map(move |res, act, ctx| {
            act.reserving.remove(&conv);
            match res {
                Ok(()) => {
                    act.publish(
                        ProjectChannel::Agents,
                        "conversation_claimed",
                        json!({ "conversation_id": conv, "agent_id": agent.id }),
                    );
                    act.queue_changed(ctx);
                    Ok(agent)
                }
                Err(e) => {
                    act.release(conv);
                    act.queue_changed(ctx);
                    Err(e)
                }
            }
        }))
    }
}

/// Move a slot to `to` (transfer to a named agent, or a customer reopening a
/// resolved conversation with its agent). `from` gives its slot back.
#[derive(Message)]
#[rtype(result = "EngineResult<AgentInfo>")]
pub struct Reserve {
    pub conversation_id: ConversationId,
    pub to: UserId,
    /// Transfers require the receiver to be online; a reopen goes back to
    /// its agent whatever their status, if they have room.
    pub require_online: bool,
}

impl Handler<Reserve> for ProjectActor {
    type Result = EngineResult<AgentInfo>;
    fn handle(&mut self, msg: Reserve, ctx: &mut Context<Self>) -> Self::Result {
        let now = self.now();
        let conv = msg.conversation_id;
        let from = self.active.get(&conv).copied();
        let a = self
            .agents
            .get(&msg.to)
            .ok_or_else(|| EngineError::NotFound("no such agent in this project".into()))?;
        if from == Some(msg.to) {
            return Err(EngineError::InvalidTransition(
                "the conversation is already theirs".into(),
            ));
        }
        if msg.require_online && a.status != AgentStatus::Online {
            return Err(EngineError::NoCapacity(format!(
                "{} is {}",
                a.name,
                a.status.as_str()
            )));
        }
        if a.current_chat_count >= a.max_concurrent_chats {
            return Err(EngineError::NoCapacity(format!(
                "{} has no free slot",
                a.name
            )));
        }
        self.queue.remove(conv);
        self.release(conv);
        let info = self.reserve(conv, msg.to, now);
        if from.is_some() {
            self.process_queue(ctx, None);
        }
        Ok(info)
    }
}

/// The conversation left `agent_active` (resolved, closed): free its slot.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Released {
    pub conversation_id: ConversationId,
}

impl Handler<Released> for ProjectActor {
    type Result = ();
    fn handle(&mut self, msg: Released, ctx: &mut Context<Self>) {
        if self.release(msg.conversation_id).is_some() {
            self.process_queue(ctx, None);
        }
    }
}

/// The conversation (re-)enters the queue: transferred back, or reopened
/// while its agent has no room. Its slot, if any, is freed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Enqueue {
    pub conversation_id: ConversationId,
    pub entered_at: DateTime<Utc>,
    pub preview: Value,
}

impl Handler<Enqueue> for ProjectActor {
    type Result = ();
    fn handle(&mut self, msg: Enqueue, ctx: &mut Context<Self>) {
        self.release(msg.conversation_id);
        self.queue.push(msg.conversation_id, msg.entered_at);
        self.publish(ProjectChannel::Agents, "new_conversation", msg.preview);
        self.process_queue(ctx, None);
        self.queue_changed(ctx);
    }
}

/// The conversation was closed while waiting: take it out of the queue.
#[derive(Message)]
#[rtype(result = "()")]
pub struct LeftQueue {
    pub conversation_id: ConversationId,
}

impl Handler<LeftQueue> for ProjectActor {
    type Result = ();
    fn handle(&mut self, msg: LeftQueue, ctx: &mut Context<Self>) {
        if self.queue.remove(msg.conversation_id) {
            self.queue_changed(ctx);
        }
    }
}

#[derive(Message)]
#[rtype(result = "Option<(usize, Option<u32>)>")]
pub struct QueueInfo {
    pub conversation_id: ConversationId,
}

impl Handler<QueueInfo> for ProjectActor {
    type Result = Option<(usize, Option<u32>)>;
    fn handle(&mut self, msg: QueueInfo, _: &mut Context<Self>) -> Self::Result {
        let now = self.now();
        self.queue
            .position(msg.conversation_id)
            .map(|p| (p, self.estimate(p, now)))
    }
}
