//! Handoff and assignment (seed 003 5.1, 5.4, 5.5): what follows a durable
//! message (keyword trigger, the AI turn, low confidence), a customer's or
//! the AI's handoff request, the project's assignment and queue position.
use super::*;
use crate::engine::answer_now;

impl ConversationActor {
    pub(super) fn after_durable(
        &mut self,
        msg: &MessageRecord,
        after: After,
        ctx: &mut Context<Self>,
    ) {
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
                // The assigned agent hears of it even with another
                // conversation open (the dashboard's unread count and
                // notification, issue 17).
                St::AgentActive => {
                    if let Some(agent) = self.rec.assigned_agent_id {
                        let preview: String = msg.content.chars().take(140).collect();
                        self.engine.agent(agent).do_send(NotifyAgent {
                            event: "customer_message",
                            data: json!({
                                "conversation_id": self.rec.id,
                                "seq": msg.seq,
                                "preview": preview,
                                "customer_name": self.rec.customer_name,
                                "created_at": crate::wire_time::format(&msg.created_at),
                            }),
                        });
                    }
                }
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

    pub(super) fn ai_turn(&mut self, question: String, ctx: &mut Context<Self>) {
        // Counted so an idle check never passivates with an answer coming.
        self.ai_turns += 1;
        let mut history: Vec<AiTurn> = self
            .log
            .recent()
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

    pub(super) fn last_customer_text(&self) -> Option<String> {
        self.log
            .recent()
            .rev()
            .find(|m| m.sender_type == SenderType::Customer)
            .map(|m| m.content.clone())
    }

    pub(super) fn notify_assigned(&self, agent: UserId) {
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
    pub(super) fn apply_assignment(
        &mut self,
        agent: &AgentInfo,
        at: DateTime<Utc>,
    ) -> Arc<MessageRecord> {
        self.rec.status = St::AgentActive;
        self.rec.assigned_agent_id = Some(agent.id);
        self.rec.claimed_at = Some(at);
        self.agent_gone_at = None;
        self.system_message(
            format!("{} joined the conversation", display_name(agent)),
            json!({ "event": "agent_joined", "agent_id": agent.id }),
        )
    }

    pub(super) fn agent_assigned_event(&self, agent: &AgentInfo) -> (&'static str, Value) {
        (
            "agent_assigned",
            json!({ "conversation_id": self.rec.id, "agent": agent }),
        )
    }

    /// The handoff itself (seed 003 5.4.2): ask the project, then apply.
    pub(super) fn handoff(
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
                // Why, in the log itself: the dashboard's marker says it.
                let mut msgs = vec![act.system_message(
                    "Connecting you with a human agent".into(),
                    json!({
                        "event": "handoff_triggered", "reason": reason,
                        "keyword": act.rec.trigger_keyword,
                        "confidence": act.rec.ai_confidence_at_handoff,
                    }),
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

    pub(super) fn last_ai_confidence(&self) -> Option<f64> {
        self.log
            .recent()
            .rev()
            .find(|m| m.sender_type == SenderType::Ai)
            .and_then(|m| m.metadata.get("confidence"))
            .and_then(Value::as_f64)
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
pub(super) struct AutoHandoff {
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
            return answer_now(Err(e));
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
