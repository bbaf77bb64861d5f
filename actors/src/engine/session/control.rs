//! The session's lifecycle (seed 000): status moves with the timer, tier
//! warnings on the clock's tick, notes, the ticket's customer info, the
//! rating, and the view a caller reads.
use super::*;
use crate::engine::answer_now;

impl SessionActor {
    /// A status move with its timer effect (seed 000 VALID_TRANSITIONS,
    /// cancel from any live state). Complete prices the session on `tier`
    /// and asks the payment provider for a payment request first.
    pub(super) fn control(
        &mut self,
        action: SessionAction,
        tier: Option<Tier>,
        reason: Option<String>,
    ) -> LocalBoxActorFuture<Self, EngineResult<SessionView>> {
        let now = self.now();
        let (status, timer) = match dom::apply(self.rec.status, &self.rec.timer, action, now) {
            Ok(x) => x,
            Err(e) => {
                return fut::ready(Err(EngineError::InvalidTransition(e.to_string()))).boxed_local()
            }
        };
        let mut next = self.rec.clone();
        next.status = status;
        next.timer = timer;
        next.updated_at = now;
        match action {
            SessionAction::Complete => {
                let tier = tier.unwrap_or(self.rec.tier);
                next.tier = tier;
                let price =
                    pricing::price(tier, timer.duration_seconds, self.rec.solver_share_percent);
                next.pricing = Some(price);
                let mut ticket = self.ticket.clone();
                ticket.status = TicketStatus::with_session(status);
                ticket.updated_at = now;
                let payment_id = PaymentId::new();
                let req = PaymentRequest {
                    payment_id,
                    session_id: self.rec.id,
                    amount: price.total_charged,
                    description: format!(
                        "{} session ({} min)",
                        tier.label(),
                        timer.duration_seconds.div_ceil(60)
                    ),
                    customer_email: self.ticket.customer_email.clone(),
                };
                let provider = self.providers.payment.clone();
                async move { provider.request_payment(&req).await }
                    .into_actor(self)
                    .then(move |res, act, _| {
                        let link = match res {
                            Ok(link) => link,
                            Err(e) => {
                                tracing::warn!(session = %act.rec.id, error = %e, "payment provider failed");
                                return fut::ready(Err(EngineError::ProviderFailed(format!(
                                    "the payment provider failed: {e}"
                                ))))
                                .boxed_local();
                            }
                        };
                        let payment = PaymentRecord {
                            id: payment_id,
                            session_id: act.rec.id,
                            amount: price.total_charged,
                            status: "pending".into(),
                            payment_url: link.payment_url.clone(),
                            provider: act.providers.payment.name().to_string(),
                            provider_ref: link.provider_ref,
                            created_at: now,
                        };
                        let text = format!(
                            "The session is complete: {} for {}:{:02}, total {}.{:02}. Payment link: {}",
                            tier.label(),
                            timer.duration_seconds / 60,
                            timer.duration_seconds % 60,
                            price.total_charged / 100,
                            price.total_charged % 100,
                            link.payment_url
                        );
                        let completed = json!({
                            "session_id": act.rec.id,
                            "tier": tier,
                            "total_charged": price.total_charged,
                            "payment_url": link.payment_url,
                        });
                        let answer_payment = payment.clone();
                        act.commit_change(
                            next,
                            Some(ticket),
                            vec![WriteOp::PutPayment(Box::new(payment))],
                            Some(text),
                            vec![("session_completed", completed)],
                        )
                        .map(move |res, act, _| {
                            res?;
                            let status = act.status_event();
                            act.publish("session_status", status);
                            let mut v = act.view(Who::Solver);
                            v.payment = Some(answer_payment);
                            Ok(v)
                        })
                        .boxed_local()
                    })
                    .boxed_local()
            }
            SessionAction::Cancel => {
                next.cancel_reason = reason.clone();
                let mut ticket = self.ticket.clone();
                ticket.status = TicketStatus::with_session(status);
                ticket.updated_at = now;
                let text = match &reason {
                    Some(r) => format!("The session was cancelled: {r}. You will not be charged."),
                    None => "The session was cancelled. You will not be charged.".to_string(),
                };
                let data = json!({ "session_id": self.rec.id, "reason": reason });
                self.commit_change(
                    next,
                    Some(ticket),
                    Vec::new(),
                    Some(text),
                    vec![("session_cancelled", data)],
                )
                .map(|res, act, _| {
                    res?;
                    let status = act.status_event();
                    act.publish("session_status", status);
                    Ok(act.view(Who::Solver))
                })
                .boxed_local()
            }
            SessionAction::Start | SessionAction::Pause | SessionAction::Resume => self
                .commit_change(next, None, Vec::new(), None, Vec::new())
                .map(|res, act, _| {
                    res?;
                    let status = act.status_event();
                    act.publish("session_status", status);
                    Ok(act.view(Who::Solver))
                })
                .boxed_local(),
        }
    }

    /// Sends the next tier warning if its time has come.
    pub(super) fn check_warnings(&mut self) -> LocalBoxActorFuture<Self, ()> {
        if self.rec.status != SessionStatus::Active {
            return fut::ready(()).boxed_local();
        }
        let now = self.now();
        let elapsed = self.rec.timer.elapsed_seconds(now);
        let sent: Vec<_> = self.rec.tier_warning.into_iter().collect();
        let Some((level, 0)) = next_warning(self.rec.tier, elapsed, &sent) else {
            return fut::ready(()).boxed_local();
        };
        let mut next = self.rec.clone();
        next.tier_warning = Some(level);
        next.updated_at = now;
        let data = json!({
            "session_id": self.rec.id,
            "level": level,
            "elapsed_seconds": elapsed,
            "tier": self.rec.tier,
            "tier_limit_seconds": self.rec.tier.included_seconds(),
            "timestamp": crate::wire_time::format(&now),
        });
        self.commit_change(next, None, Vec::new(), None, vec![("tier_warning", data)])
            .map(|res, act, _| {
                if let Err(e) = res {
                    tracing::warn!(session = %act.rec.id, error = %e, "tier warning not saved");
                }
            })
            .boxed_local()
    }
}

/// Look at the clock: send a due tier warning.
#[derive(Message)]
#[rtype(result = "()")]
pub struct TickSession;

impl Handler<TickSession> for SessionActor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, _: TickSession, ctx: &mut Context<Self>) -> Self::Result {
        let idle = self.now() - self.touched_at.get().max(self.rec.updated_at);
        if self.rec.status.is_terminal()
            && self.subs.is_empty()
            && self.log.is_settled()
            && idle >= chrono::Duration::minutes(PASSIVATE_AFTER_MINUTES)
        {
            ctx.stop();
            return answer_now(());
        }
        AtomicResponse::new(self.check_warnings())
    }
}

/// The session as the caller may see it (live `elapsed_seconds`).
#[derive(Message)]
#[rtype(result = "EngineResult<SessionView>")]
pub struct GetSession {
    pub caller: Caller,
}

impl Handler<GetSession> for SessionActor {
    type Result = EngineResult<SessionView>;

    fn handle(&mut self, msg: GetSession, _: &mut Context<Self>) -> Self::Result {
        let who = self.who(&msg.caller)?;
        Ok(self.view(who))
    }
}

/// A status move: `start`, `pause`, `resume`, `complete` (with the final
/// tier; the session's tier when none) or `cancel`.
#[derive(Message)]
#[rtype(result = "EngineResult<SessionView>")]
pub struct ControlSession {
    pub caller: Caller,
    pub action: SessionAction,
    pub tier: Option<Tier>,
    pub reason: Option<String>,
}

impl Handler<ControlSession> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<SessionView>>;

    fn handle(&mut self, msg: ControlSession, _: &mut Context<Self>) -> Self::Result {
        if let Err(e) = self.require_solver(&msg.caller) {
            return answer_now(Err(e));
        }
        AtomicResponse::new(self.control(msg.action, msg.tier, msg.reason))
    }
}

/// Persist the running timer now (seed 000 `syncTimer`).
#[derive(Message)]
#[rtype(result = "EngineResult<SessionView>")]
pub struct SyncTimer {
    pub caller: Caller,
}

impl Handler<SyncTimer> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<SessionView>>;

    fn handle(&mut self, msg: SyncTimer, _: &mut Context<Self>) -> Self::Result {
        if let Err(e) = self.require_solver(&msg.caller) {
            return answer_now(Err(e));
        }
        if !self.rec.timer.is_running() {
            let status = self.status_event();
            self.publish("session_status", status);
            return answer_now(Ok(self.view(Who::Solver)));
        }
        let now = self.now();
        let mut next = self.rec.clone();
        next.timer = self.rec.timer.sync(now);
        next.updated_at = now;
        AtomicResponse::new(
            self.commit_change(next, None, Vec::new(), None, Vec::new())
                .map(|res, act, _| {
                    res?;
                    let status = act.status_event();
                    act.publish("session_status", status);
                    Ok(act.view(Who::Solver))
                })
                .boxed_local(),
        )
    }
}

/// Save the solver's notes; refused once the session is over.
#[derive(Message)]
#[rtype(result = "EngineResult<NotesSaved>")]
pub struct SaveNotes {
    pub caller: Caller,
    pub notes: String,
}

impl Handler<SaveNotes> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<NotesSaved>>;

    fn handle(&mut self, msg: SaveNotes, _: &mut Context<Self>) -> Self::Result {
        let check = || -> EngineResult<()> {
            self.require_solver(&msg.caller)?;
            if self.rec.status.is_terminal() {
                return Err(EngineError::InvalidTransition(format!(
                    "the session is {}; its notes are locked",
                    self.rec.status.label()
                )));
            }
            if msg.notes.chars().count() > MAX_NOTES_CHARS {
                return Err(field_error(
                    "notes",
                    &format!("must be at most {MAX_NOTES_CHARS} characters"),
                ));
            }
            Ok(())
        };
        if let Err(e) = check() {
            return answer_now(Err(e));
        }
        let now = self.now();
        let mut next = self.rec.clone();
        next.notes = msg.notes;
        next.notes_saved_at = Some(now);
        next.updated_at = now;
        let data = json!({
            "session_id": self.rec.id,
            "save_status": "saved",
            "notes_saved_at": crate::wire_time::format(&now),
        });
        AtomicResponse::new(
            self.commit_change(next, None, Vec::new(), None, vec![("notes_saved", data)])
                .map(move |res, act, _| {
                    res?;
                    Ok(NotesSaved {
                        save_status: "saved",
                        notes: act.rec.notes.clone(),
                        notes_saved_at: now,
                    })
                })
                .boxed_local(),
        )
    }
}

/// Edit the customer info of the session's ticket (seed 000
/// `updateCustomerInfo`): the solver or a project admin. `None` keeps a
/// field.
#[derive(Message)]
#[rtype(result = "EngineResult<TicketRecord>")]
pub struct UpdateCustomerInfo {
    pub caller: Caller,
    pub customer_name: Option<String>,
    pub customer_phone: Option<String>,
    pub customer_email: Option<String>,
}

impl Handler<UpdateCustomerInfo> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<TicketRecord>>;

    fn handle(&mut self, msg: UpdateCustomerInfo, _: &mut Context<Self>) -> Self::Result {
        match self.who(&msg.caller) {
            Ok(Who::Solver | Who::Admin) => {}
            Ok(Who::Guest) => {
                return answer_now(Err(EngineError::Forbidden(
                    "the customer may not edit the ticket".into(),
                )))
            }
            Err(e) => return answer_now(Err(e)),
        }
        let now = self.now();
        let mut ticket = self.ticket.clone();
        if let Some(n) = msg.customer_name {
            ticket.customer_name = n;
        }
        if let Some(p) = msg.customer_phone {
            ticket.customer_phone = Some(p);
        }
        if let Some(e) = msg.customer_email {
            ticket.customer_email = Some(e);
        }
        ticket.updated_at = now;
        let write = self
            .engine
            .writer()
            .write(vec![WriteOp::PutTicket(Box::new(ticket.clone()))]);
        AtomicResponse::new(
            write
                .into_actor(self)
                .map(move |res, act, _| {
                    res?;
                    act.ticket = ticket.clone();
                    let data = json!({ "session_id": act.rec.id, "ticket": ticket });
                    act.publish_staff("customer_info_updated", data);
                    Ok(ticket)
                })
                .boxed_local(),
        )
    }
}

/// The joined customer rates the completed session (1..5, once).
#[derive(Message)]
#[rtype(result = "EngineResult<SessionRating>")]
pub struct RateSession {
    pub caller: Caller,
    pub rating: i64,
    pub comment: Option<String>,
}

impl Handler<RateSession> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<SessionRating>>;

    fn handle(&mut self, msg: RateSession, _: &mut Context<Self>) -> Self::Result {
        let check = || -> EngineResult<i32> {
            self.require_guest(&msg.caller)?;
            if !(1..=5).contains(&msg.rating) {
                return Err(field_error("rating", "must be a whole number from 1 to 5"));
            }
            if msg
                .comment
                .as_ref()
                .is_some_and(|c| c.chars().count() > 2000)
            {
                return Err(field_error("comment", "must be at most 2000 characters"));
            }
            if self.rec.status != SessionStatus::Completed {
                return Err(EngineError::InvalidTransition(
                    "a session can be rated once it is completed".into(),
                ));
            }
            if self.rec.rating.is_some() {
                return Err(EngineError::InvalidTransition(
                    "this session is already rated".into(),
                ));
            }
            Ok(msg.rating as i32)
        };
        let rating = match check() {
            Ok(r) => r,
            Err(e) => return answer_now(Err(e)),
        };
        let mut next = self.rec.clone();
        next.rating = Some(rating);
        next.rating_comment = msg.comment.map(|c| c.trim().to_string());
        next.updated_at = self.now();
        let data = json!({ "session_id": self.rec.id, "rating": rating });
        AtomicResponse::new(
            self.commit_change(next, None, Vec::new(), None, vec![("session_rated", data)])
                .map(|res, act, _| {
                    res?;
                    Ok(SessionRating {
                        rating: act.rec.rating,
                        comment: act.rec.rating_comment.clone(),
                    })
                })
                .boxed_local(),
        )
    }
}

// ---------------------------------------------------------------- the registry

/// Move to `status` by the seed's VALID_TRANSITIONS (`POST .../status`):
/// `active` starts or resumes, `paused` pauses, `completed` completes on
/// the session's current tier, `cancelled` cancels.
#[derive(Message)]
#[rtype(result = "EngineResult<SessionView>")]
pub struct SetSessionStatus {
    pub caller: Caller,
    pub status: SessionStatus,
}

impl Handler<SetSessionStatus> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<SessionView>>;

    fn handle(&mut self, msg: SetSessionStatus, _: &mut Context<Self>) -> Self::Result {
        if let Err(e) = self.require_solver(&msg.caller) {
            return answer_now(Err(e));
        }
        let Some(action) = SessionAction::toward(self.rec.status, msg.status) else {
            return answer_now(Err(EngineError::InvalidTransition(format!(
                "a session that is {} cannot go back to not started",
                self.rec.status.label()
            ))));
        };
        AtomicResponse::new(self.control(action, None, None))
    }
}
