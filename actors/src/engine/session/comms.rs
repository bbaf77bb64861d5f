//! Communication during a session (seeds 000 and 001): SMS, calls through
//! the telephony provider, screen-share requests and answers, and the
//! WebRTC signalling relayed between the solver and the customer.
use super::*;
use crate::engine::answer_now;

pub(super) fn comm_error(e: CommunicationError) -> EngineError {
    match e.field() {
        Some(f) if !matches!(e, CommunicationError::NoCustomerPhone) => {
            field_error(f, &e.to_string())
        }
        _ => EngineError::InvalidTransition(e.to_string()),
    }
}

/// Send an SMS to the customer through the SMS provider (1..1000
/// characters, at most 10 per session, only once the timer has started).
#[derive(Message)]
#[rtype(result = "EngineResult<SmsSent>")]
pub struct SendSms {
    pub caller: Caller,
    pub message: String,
}

impl Handler<SendSms> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<SmsSent>>;

    fn handle(&mut self, msg: SendSms, _: &mut Context<Self>) -> Self::Result {
        let checked = self.require_solver(&msg.caller).and_then(|()| {
            validate_sms(&msg.message, &self.comms(), self.rec.sms_count)
                .map(str::to_string)
                .map_err(comm_error)
        });
        let body = match checked {
            Ok(b) => b,
            Err(e) => return answer_now(Err(e)),
        };
        let to = self.ticket.customer_phone.clone().unwrap_or_default();
        let req = SmsRequest {
            session_id: self.rec.id,
            to: to.clone(),
            body: body.clone(),
        };
        let provider = self.providers.sms.clone();
        AtomicResponse::new(
            async move { provider.send_sms(&req).await }
                .into_actor(self)
                .then(move |res, act, _| {
                    let provider_ref = match res {
                        Ok(r) => r,
                        Err(e) => {
                            tracing::warn!(session = %act.rec.id, error = %e, "SMS provider failed");
                            return fut::ready(Err(EngineError::ProviderFailed(format!(
                                "the SMS provider failed: {e}"
                            ))))
                            .boxed_local();
                        }
                    };
                    let now = act.now();
                    let sms = SmsRecord {
                        id: SmsId::new(),
                        session_id: act.rec.id,
                        to_phone: to,
                        body,
                        provider_ref: Some(provider_ref),
                        created_at: now,
                    };
                    let mut next = act.rec.clone();
                    next.sms_count += 1;
                    next.updated_at = now;
                    let remaining = SMS_MAX_PER_SESSION.saturating_sub(next.sms_count);
                    let data = json!({
                        "session_id": act.rec.id,
                        "sms_id": sms.id,
                        "sms_count": next.sms_count,
                        "sms_remaining": remaining,
                    });
                    let answer = SmsSent {
                        sms: sms.clone(),
                        sms_count: next.sms_count,
                        sms_remaining: remaining,
                    };
                    act.commit_change(
                        next,
                        None,
                        vec![WriteOp::InsertSms(Box::new(sms))],
                        None,
                        vec![("sms_sent", data)],
                    )
                    .map(move |res, _, _| res.map(|()| answer))
                    .boxed_local()
                })
                .boxed_local(),
        )
    }
}

/// Place a call to the customer, or hang it up (seed 000 call states).
#[derive(Message)]
#[rtype(result = "EngineResult<CallAnswer>")]
pub struct CallControl {
    pub caller: Caller,
    pub hang_up: bool,
}

impl Handler<CallControl> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<CallAnswer>>;

    fn handle(&mut self, msg: CallControl, _: &mut Context<Self>) -> Self::Result {
        if let Err(e) = self.require_solver(&msg.caller) {
            return answer_now(Err(e));
        }
        let now = self.now();
        if msg.hang_up {
            let call = match self.rec.call.apply(CallEvent::Hangup, now) {
                Ok(c) => c,
                Err(e) => return answer_now(Err(comm_error(e))),
            };
            let provider = self.providers.call.clone();
            let (sid, call_ref) = (self.rec.id, self.call_ref.clone().unwrap_or_default());
            return AtomicResponse::new(
                async move { provider.hang_up(sid, &call_ref).await }
                    .into_actor(self)
                    .then(move |res, act, _| {
                        if let Err(e) = res {
                            return fut::ready(Err(EngineError::ProviderFailed(format!(
                                "the call provider failed: {e}"
                            ))))
                            .boxed_local();
                        }
                        let mut next = act.rec.clone();
                        next.call = call;
                        next.updated_at = now;
                        let data = json!({
                            "session_id": act.rec.id,
                            "state": call.state,
                            "duration_seconds": call.duration_seconds,
                        });
                        act.commit_change(next, None, Vec::new(), None, vec![("call_state", data)])
                            .map(move |res, _, _| res.map(|()| CallAnswer { call }))
                            .boxed_local()
                    })
                    .boxed_local(),
            );
        }
        let dialed = match self.rec.call.dial(&self.comms(), now) {
            Ok(c) => c,
            Err(e) => return answer_now(Err(comm_error(e))),
        };
        let req = CallRequest {
            session_id: self.rec.id,
            to: self.ticket.customer_phone.clone().unwrap_or_default(),
        };
        let provider = self.providers.call.clone();
        AtomicResponse::new(
            async move { provider.place_call(&req).await }
                .into_actor(self)
                .then(move |res, act, _| {
                    let (call_ref, progress) = match res {
                        Ok(x) => x,
                        Err(e) => {
                            return fut::ready(Err(EngineError::ProviderFailed(format!(
                                "the call provider failed: {e}"
                            ))))
                            .boxed_local();
                        }
                    };
                    // The states the call went through, each told as it is reached.
                    let mut steps = vec![dialed];
                    let mut events = vec![CallEvent::Connected];
                    if progress == CallProgress::Answered {
                        events.extend([CallEvent::Ringing, CallEvent::Answered]);
                    }
                    let mut call = dialed;
                    for ev in events {
                        match call.apply(ev, now) {
                            Ok(c) => {
                                call = c;
                                steps.push(c);
                            }
                            Err(e) => return fut::ready(Err(comm_error(e))).boxed_local(),
                        }
                    }
                    let mut next = act.rec.clone();
                    next.call = call;
                    next.updated_at = now;
                    let sid = act.rec.id;
                    let events = steps
                        .iter()
                        .map(|c| ("call_state", json!({ "session_id": sid, "state": c.state })))
                        .collect();
                    act.call_ref = Some(call_ref);
                    act.commit_change(next, None, Vec::new(), None, events)
                        .map(move |res, _, _| res.map(|()| CallAnswer { call }))
                        .boxed_local()
                })
                .boxed_local(),
        )
    }
}

/// The solver asks the customer to share their screen.
#[derive(Message)]
#[rtype(result = "EngineResult<ScreenShareAnswer>")]
pub struct RequestScreenShare {
    pub caller: Caller,
    pub solver_peer_id: String,
}

impl Handler<RequestScreenShare> for SessionActor {
    type Result = EngineResult<ScreenShareAnswer>;

    fn handle(&mut self, msg: RequestScreenShare, _: &mut Context<Self>) -> Self::Result {
        self.require_solver(&msg.caller)?;
        let now = self.now();
        let next = self
            .screen_share
            .request(&self.comms(), msg.solver_peer_id, now)
            .map_err(comm_error)?;
        self.screen_share = next.clone();
        self.publish(
            "screen_share_requested",
            json!({ "session_id": self.rec.id, "solver_peer_id": next.solver_peer_id }),
        );
        Ok(ScreenShareAnswer { screen_share: next })
    }
}

/// The customer answers a screen-share request.
#[derive(Message)]
#[rtype(result = "EngineResult<ScreenShareAnswer>")]
pub struct AnswerScreenShare {
    pub caller: Caller,
    pub accepted: bool,
    pub peer_id: Option<String>,
}

impl Handler<AnswerScreenShare> for SessionActor {
    type Result = EngineResult<ScreenShareAnswer>;

    fn handle(&mut self, msg: AnswerScreenShare, _: &mut Context<Self>) -> Self::Result {
        self.require_guest(&msg.caller)?;
        let next = self
            .screen_share
            .apply(
                ScreenShareEvent::Answer {
                    accepted: msg.accepted,
                    customer_peer_id: msg.peer_id,
                },
                self.now(),
            )
            .map_err(comm_error)?;
        self.screen_share = next.clone();
        self.publish(
            "screen_share_answer",
            json!({
                "session_id": self.rec.id,
                "accepted": msg.accepted,
                "peer_id": next.customer_peer_id,
            }),
        );
        Ok(ScreenShareAnswer { screen_share: next })
    }
}

/// Relay a WebRTC signalling payload (offer, answer, candidate) between the
/// solver and the customer.
#[derive(Message)]
#[rtype(result = "EngineResult<()>")]
pub struct RelaySignal {
    pub caller: Caller,
    /// "solver" or "customer".
    pub to: String,
    pub payload: Value,
}

impl Handler<RelaySignal> for SessionActor {
    type Result = EngineResult<()>;

    fn handle(&mut self, msg: RelaySignal, _: &mut Context<Self>) -> Self::Result {
        let from = match self.who(&msg.caller)? {
            Who::Solver => "solver",
            Who::Guest => "customer",
            Who::Admin => return Err(EngineError::Forbidden("only participants signal".into())),
        };
        let audience = match (from, msg.to.as_str()) {
            ("solver", "customer") => Audience::Customer,
            ("customer", "solver") => Audience::Staff,
            _ => {
                return Err(field_error(
                    "to",
                    "must be the other side: solver or customer",
                ))
            }
        };
        if msg.payload.to_string().len() > MAX_SIGNAL_BYTES {
            return Err(field_error("payload", "is larger than 32 KiB"));
        }
        if self.rec.status.is_terminal() {
            return Err(EngineError::InvalidTransition(format!(
                "the session is {}",
                self.rec.status.label()
            )));
        }
        let data = json!({ "session_id": self.rec.id, "from": from, "to": msg.to, "payload": msg.payload });
        let frame = event_frame(&self.channel, "signal", None, &data, self.now());
        self.subs.publish(&self.channel, &frame, |a| a == audience);
        Ok(())
    }
}

/// The call provider reports how the call went on (`connected`, `ringing`,
/// `answered`, `ended`, `failed`): the project's integration (its secret
/// key) or the engine itself.
#[derive(Message)]
#[rtype(result = "EngineResult<CallAnswer>")]
pub struct ReportCallEvent {
    pub caller: Caller,
    pub event: CallEvent,
}

impl Handler<ReportCallEvent> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<CallAnswer>>;

    fn handle(&mut self, msg: ReportCallEvent, _: &mut Context<Self>) -> Self::Result {
        let allowed =
            match &msg.caller {
                Caller::Bot { project_id } => *project_id == self.rec.project_id,
                Caller::System => true,
                other => match self.who(other) {
                    Ok(_) => return answer_now(Err(EngineError::Forbidden(
                        "call progress is reported by the call provider (the project's secret key)"
                            .into(),
                    ))),
                    Err(e) => return answer_now(Err(e)),
                },
            };
        if !allowed {
            return answer_now(Err(not_found()));
        }
        let now = self.now();
        let call = match self.rec.call.apply(msg.event, now) {
            Ok(c) => c,
            Err(e) => return answer_now(Err(comm_error(e))),
        };
        let mut next = self.rec.clone();
        next.call = call;
        next.updated_at = now;
        let data = json!({
            "session_id": self.rec.id,
            "state": call.state,
            "duration_seconds": call.duration_seconds,
        });
        AtomicResponse::new(
            self.commit_change(next, None, Vec::new(), None, vec![("call_state", data)])
                .map(move |res, _, _| res.map(|()| CallAnswer { call }))
                .boxed_local(),
        )
    }
}
