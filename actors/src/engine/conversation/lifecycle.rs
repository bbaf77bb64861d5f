//! Status changes after assignment (seed 003 5.2, 5.6, 5.7): resolve,
//! transfer, close, reopen on a customer's message, and the customer's
//! identity and contact details.
use super::*;
use crate::engine::answer_now;

impl ConversationActor {
    pub(super) fn require_manage(&self, caller: &Caller) -> EngineResult<()> {
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

#[derive(Message)]
#[rtype(result = "EngineResult<ConversationView>")]
pub struct Resolve {
    pub caller: Caller,
}

impl Handler<Resolve> for ConversationActor {
    type Result = AtomicResponse<Self, EngineResult<ConversationView>>;

    fn handle(&mut self, msg: Resolve, _: &mut Context<Self>) -> Self::Result {
        match self.may_resolve(&msg.caller) {
            Ok(next) => AtomicResponse::new(self.resolve(&msg.caller, next)),
            Err(e) => answer_now(Err(e)),
        }
    }
}

impl ConversationActor {
    /// Whether `caller` may resolve it now: the status it would go to.
    pub(super) fn may_resolve(&self, caller: &Caller) -> EngineResult<St> {
        self.require_manage(caller)?;
        self.check(Ev::Resolve)
    }

    /// Resolve (checked by `may_resolve`), with whatever else changed on
    /// the row, in one write.
    pub(super) fn resolve(
        &mut self,
        caller: &Caller,
        next: St,
    ) -> LocalBoxActorFuture<Self, EngineResult<ConversationView>> {
        let old = self.rec.status;
        let now = self.now();
        let by = caller.user_id().or(self.rec.assigned_agent_id);
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
        self.commit_change(old, vec![m], events)
            .map(move |res, act, _| {
                res?;
                act.project.addr.do_send(Released {
                    conversation_id: id,
                });
                Ok(act.view())
            })
            .boxed_local()
    }
}

impl ConversationActor {
    /// From `agent_active` back to the end of the queue, saying why in a
    /// system message; the agent's slot is freed by the project.
    fn back_to_queue(
        &mut self,
        text: String,
        metadata: Value,
    ) -> AtomicResponse<Self, EngineResult<ConversationView>> {
        let old = self.rec.status;
        let next = match self.check(Ev::TransferToQueue) {
            Ok(s) => s,
            Err(e) => return answer_now(Err(e)),
        };
        let now = self.now();
        let id = self.rec.id;
        self.rec.status = next;
        self.rec.assigned_agent_id = None;
        self.rec.claimed_at = None;
        self.rec.queue_entered_at = Some(now);
        let m = self.system_message(text, metadata);
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
}

/// The assigned agent left the project (or stopped being an agent): the
/// conversation goes back to the queue with a system message saying so.
/// Nothing happens when it is no longer theirs.
#[derive(Message)]
#[rtype(result = "EngineResult<ConversationView>")]
pub struct AgentRemoved {
    pub user_id: UserId,
}

impl Handler<AgentRemoved> for ConversationActor {
    type Result = AtomicResponse<Self, EngineResult<ConversationView>>;

    fn handle(&mut self, msg: AgentRemoved, _: &mut Context<Self>) -> Self::Result {
        if self.rec.assigned_agent_id != Some(msg.user_id) || self.rec.status != St::AgentActive {
            return answer_now(Ok(self.view()));
        }
        self.back_to_queue(
            "Your agent is no longer available; you are back in the queue".into(),
            json!({ "event": "agent_removed", "agent_id": msg.user_id }),
        )
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
            return answer_now(Err(e));
        }
        let old = self.rec.status;
        let id = self.rec.id;
        match msg.to {
            None => self.back_to_queue(
                "Transferred back to the queue".into(),
                json!({ "event": "transferred", "to": null }),
            ),
            Some(to) => {
                if let Err(e) = self.check(Ev::TransferToAgent) {
                    return answer_now(Err(e));
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
        match self.may_close(&msg.caller) {
            Ok(next) => AtomicResponse::new(self.close(&msg.caller, next)),
            Err(e) => answer_now(Err(e)),
        }
    }
}

impl ConversationActor {
    /// Whether `caller` may close it now: the status it would go to.
    pub(super) fn may_close(&self, caller: &Caller) -> EngineResult<St> {
        if self.require_view(caller).is_err() || matches!(caller, Caller::Bot { .. }) {
            return Err(EngineError::NotFound("conversation not found".into()));
        }
        // Staff close what is theirs or no one's (spam in the queue); another
        // agent's live conversation needs an admin (docs/protocol.md section 3).
        if let Caller::Staff(_) = caller {
            if self.rec.assigned_agent_id.is_some() && !self.may_manage(caller) {
                return Err(EngineError::Forbidden(
                    "only the assigned agent or a project admin can close this conversation".into(),
                ));
            }
        }
        self.check(Ev::Close)
    }

    /// Close (checked by `may_close`), with whatever else changed on the
    /// row, in one write.
    pub(super) fn close(
        &mut self,
        caller: &Caller,
        next: St,
    ) -> LocalBoxActorFuture<Self, EngineResult<ConversationView>> {
        let old = self.rec.status;
        let now = self.now();
        self.rec.status = next;
        self.rec.closed_at = Some(now);
        let by = match caller {
            Caller::Customer { .. } => "customer",
            Caller::Staff(_) => "agent",
            _ => "system",
        };
        let m = self.system_message(
            "The conversation was closed".into(),
            json!({ "event": "closed", "by": by }),
        );
        self.commit_change(old, vec![m], vec![])
            .map(move |res, act, _| {
                res?;
                act.left_status(old);
                Ok(act.view())
            })
            .boxed_local()
    }
}

/// A customer wrote in a resolved conversation: back to its agent if they
/// have room, otherwise to the queue.
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct Reopen;

impl Handler<Reopen> for ConversationActor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, _: Reopen, _: &mut Context<Self>) -> Self::Result {
        if self.check(Ev::CustomerReply).is_err() {
            return answer_now(());
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
        AtomicResponse::new(Box::pin(self.save_row().map(|res, act, _| {
            let view = res?;
            act.tell_staff_updated(&view);
            Ok(view)
        })))
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
