//! SessionActor: one per billable session (seeds 000 and 001). It owns the
//! session's status machine and timer, its notes, tier warnings, the session
//! chat (seq'd, durable before acknowledged, replayed after `after_seq`,
//! idempotent by `client_msg_id`), the SMS count, call and screen-share
//! state, and the ticket while the session lives; it is the only publisher
//! on `session:<id>`.
//!
//! Changes of state run atomically (the actor takes no other message while
//! its write is in flight) on a copy of the record, which replaces the
//! actor's own only once the write is durable: a refused or failed change
//! changes nothing. Chat messages are pipelined like a conversation's:
//! they take their seq on arrival and are broadcast and acknowledged in seq
//! order once durable.
//!
//! [`Sessions`] is the registry: it restores every live session on start
//! (so running timers and tier warnings re-arm), loads others lazily, and
//! ticks them all (tests drive a manual clock, then tick).

use super::caller::Caller;
use super::error::{EngineError, EngineResult};
use super::events::{event_frame, replay_page, Audience, Subscribed, Subscriber, Subscribers};
use super::supervisor::Engine;
use super::MAILBOX_CAPACITY;
use crate::domain::communication::{
    validate_sms, CallEvent, CommunicationError, ScreenShare, ScreenShareEvent, SessionComms,
    SMS_MAX_PER_SESSION,
};
use crate::domain::pricing::{self, recommended_tier, Tier};
use crate::domain::session::{self as dom, next_warning, SessionAction, SessionStatus};
use crate::domain::ticket::TicketStatus;
use crate::ids::{PaymentId, SessionId, SessionMessageId, SmsId, UserId};
use crate::ports::{StoreResult, WriteOp};
use crate::providers::{CallProgress, CallRequest, PaymentRequest, Providers, SmsRequest};
use crate::session_ports::{
    PaymentRecord, SessionMessageRecord, SessionRecord, SessionSender, SessionStore, SmsRecord,
    TicketRecord,
};
use actix::fut::LocalBoxActorFuture;
use actix::prelude::*;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Durable chat messages kept in memory for replay; older ones are read back.
pub const LOG_CAPACITY: usize = 256;
/// Longest chat message, in characters.
pub const MAX_CONTENT_CHARS: usize = 10_000;
/// Longest notes, in characters.
pub const MAX_NOTES_CHARS: usize = 50_000;
/// Longest `client_msg_id`.
pub const MAX_CLIENT_MSG_ID: usize = 100;
/// Largest signalling payload relayed (bytes of its JSON).
pub const MAX_SIGNAL_BYTES: usize = 32 * 1024;
/// A completed or cancelled session's actor stops after this long unused
/// with no subscriber; the next use reloads it from the store.
pub const PASSIVATE_AFTER_MINUTES: i64 = 10;

type Waiter = oneshot::Sender<EngineResult<Arc<SessionMessageRecord>>>;

struct Pending {
    msg: Arc<SessionMessageRecord>,
    result: Option<Result<(), EngineError>>,
    waiters: Vec<Waiter>,
}

/// How a caller stands towards the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// The session's solver (or the engine itself).
    Solver,
    /// An admin of the session's project: may look, not act.
    Admin,
    /// The customer holding the join token.
    Guest,
}

pub struct SessionActor {
    engine: Engine,
    store: Arc<dyn SessionStore>,
    providers: Providers,
    rec: SessionRecord,
    ticket: TicketRecord,
    channel: String,
    next_seq: i64,
    durable_seq: i64,
    log: VecDeque<Arc<SessionMessageRecord>>,
    client_ids: HashMap<String, i64>,
    pending: BTreeMap<i64, Pending>,
    subs: Subscribers,
    screen_share: ScreenShare,
    /// The provider's reference of the current call, for the hang-up.
    call_ref: Option<String>,
    /// A write failed: seqs may be burnt, so the actor reloads from storage.
    failed: bool,
    /// Last time a caller asked anything (for passivation once finished).
    touched_at: std::cell::Cell<DateTime<Utc>>,
    /// The registry, told when the actor stops.
    registry: std::sync::Weak<SessionsInner>,
}

fn field_error(field: &str, problem: &str) -> EngineError {
    EngineError::Validation(BTreeMap::from([(field.to_string(), problem.to_string())]))
}

fn comm_error(e: CommunicationError) -> EngineError {
    match e.field() {
        Some(f) if !matches!(e, CommunicationError::NoCustomerPhone) => {
            field_error(f, &e.to_string())
        }
        _ => EngineError::InvalidTransition(e.to_string()),
    }
}

fn not_found() -> EngineError {
    EngineError::NotFound("session not found".into())
}

impl SessionActor {
    pub fn new(
        engine: Engine,
        store: Arc<dyn SessionStore>,
        providers: Providers,
        rec: SessionRecord,
        ticket: TicketRecord,
        history: Vec<SessionMessageRecord>,
    ) -> Self {
        let durable_seq = history.last().map(|m| m.seq).unwrap_or(0);
        let client_ids = history
            .iter()
            .filter_map(|m| m.client_msg_id.clone().map(|c| (c, m.seq)))
            .collect();
        let skip = history.len().saturating_sub(LOG_CAPACITY);
        let log = history.into_iter().skip(skip).map(Arc::new).collect();
        SessionActor {
            channel: format!("session:{}", rec.id),
            engine,
            store,
            providers,
            rec,
            ticket,
            next_seq: durable_seq + 1,
            durable_seq,
            log,
            client_ids,
            pending: BTreeMap::new(),
            subs: Subscribers::default(),
            screen_share: ScreenShare::new(),
            call_ref: None,
            failed: false,
            touched_at: std::cell::Cell::new(DateTime::<Utc>::MIN_UTC),
            registry: std::sync::Weak::new(),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.engine.clock().now()
    }

    fn who(&self, caller: &Caller) -> EngineResult<Who> {
        self.touched_at.set(self.now());
        match caller {
            Caller::System => Ok(Who::Solver),
            Caller::Staff(s) if s.user_id == self.rec.solver_id => Ok(Who::Solver),
            Caller::Staff(_) if caller.is_admin_of(self.rec.project_id) => Ok(Who::Admin),
            Caller::Staff(_) if caller.is_staff_of(self.rec.project_id) => Err(
                EngineError::Forbidden("only the session's solver may use this session".into()),
            ),
            Caller::SessionGuest { session_id, .. } if *session_id == self.rec.id => Ok(Who::Guest),
            _ => Err(not_found()),
        }
    }

    /// The solver only (admins and the customer may not act).
    fn require_solver(&self, caller: &Caller) -> EngineResult<()> {
        match self.who(caller)? {
            Who::Solver => Ok(()),
            Who::Admin => Err(EngineError::Forbidden(
                "only the session's solver may change it".into(),
            )),
            Who::Guest => Err(EngineError::Forbidden(
                "the customer may not change the session".into(),
            )),
        }
    }

    fn require_guest(&self, caller: &Caller) -> EngineResult<()> {
        match self.who(caller)? {
            Who::Guest => Ok(()),
            _ => Err(EngineError::Forbidden(
                "only the customer who joined the session may do this".into(),
            )),
        }
    }

    fn comms(&self) -> SessionComms {
        SessionComms::new(
            self.rec.status,
            &self.rec.timer,
            self.ticket
                .customer_phone
                .as_deref()
                .is_some_and(|p| !p.trim().is_empty()),
        )
    }

    /// The session as `who` sees it, at `now`.
    fn view(&self, who: Who) -> Value {
        let now = self.now();
        let r = &self.rec;
        let elapsed = r.timer.elapsed_seconds(now);
        let mut pricing = json!(r.pricing);
        if who == Who::Guest {
            if let Some(p) = pricing.as_object_mut() {
                p.remove("solver_earnings");
                p.remove("platform_fee");
            }
        }
        let t = &self.ticket;
        let mut v = json!({
            "id": r.id,
            "project_id": r.project_id,
            "ticket_id": r.ticket_id,
            "solver_id": r.solver_id,
            "status": r.status,
            "elapsed_seconds": elapsed,
            "duration_seconds": r.timer.duration_seconds,
            "timer_running": r.timer.is_running(),
            "timer_started_at": r.timer.timer_started_at.map(|t| crate::wire_time::format(&t)),
            "started_at": r.timer.started_at.map(|t| crate::wire_time::format(&t)),
            "ended_at": r.timer.ended_at.map(|t| crate::wire_time::format(&t)),
            "tier": r.tier,
            "tier_limit_seconds": r.tier.included_seconds(),
            "recommended_tier": recommended_tier(elapsed),
            "tier_warning": r.tier_warning,
            "pricing": pricing,
            "sms_count": r.sms_count,
            "sms_remaining": SMS_MAX_PER_SESSION.saturating_sub(r.sms_count),
            "call": {
                "state": r.call.state,
                "talk_seconds": r.call.talk_seconds(now),
                "duration_seconds": r.call.duration_seconds,
            },
            "screen_share": { "state": self.screen_share.state },
            "rating": r.rating,
            "rating_comment": r.rating_comment,
            "cancel_reason": r.cancel_reason,
            "last_seq": self.durable_seq,
            "created_at": crate::wire_time::format(&r.created_at),
            "updated_at": crate::wire_time::format(&r.updated_at),
            "timestamp": crate::wire_time::format(&now),
            "ticket": {
                "id": t.id,
                "status": t.status,
                "customer_name": t.customer_name,
                "customer_phone": t.customer_phone,
                "customer_email": t.customer_email,
                "description": t.description,
                "urgency": t.urgency,
            },
        });
        if who != Who::Guest {
            v["notes"] = json!(r.notes);
            v["notes_saved_at"] = json!(r.notes_saved_at.map(|t| crate::wire_time::format(&t)));
        }
        v
    }

    fn publish(&mut self, event: &str, data: Value) {
        let frame = event_frame(&self.channel, event, None, &data, self.now());
        self.subs.publish_all(&self.channel, &frame);
    }

    fn publish_staff(&mut self, event: &str, data: Value) {
        let frame = event_frame(&self.channel, event, None, &data, self.now());
        self.subs
            .publish(&self.channel, &frame, |a| a == Audience::Staff);
    }

    fn status_event(&self) -> Value {
        let now = self.now();
        json!({
            "session_id": self.rec.id,
            "status": self.rec.status,
            "elapsed_seconds": self.rec.timer.elapsed_seconds(now),
            "timer_running": self.rec.timer.is_running(),
            "tier": self.rec.tier,
            "tier_limit_seconds": self.rec.tier.included_seconds(),
            "timestamp": crate::wire_time::format(&now),
        })
    }

    fn message_frame(&self, m: &SessionMessageRecord) -> Arc<str> {
        event_frame(&self.channel, "message", Some(m.seq), m, m.created_at)
    }

    fn new_message(
        &mut self,
        sender_type: SessionSender,
        sender_id: Option<UserId>,
        content: String,
        client_msg_id: Option<String>,
    ) -> Arc<SessionMessageRecord> {
        let seq = self.next_seq;
        self.next_seq += 1;
        Arc::new(SessionMessageRecord {
            id: SessionMessageId::new(),
            session_id: self.rec.id,
            seq,
            sender_type,
            sender_id,
            content,
            client_msg_id,
            created_at: self.now(),
        })
    }

    /// Register messages as pending and start one commit holding them and
    /// `extra` ops. The caller hands the write's result to `on_written`.
    fn append(
        &mut self,
        msgs: Vec<(Arc<SessionMessageRecord>, Option<Waiter>)>,
        extra: Vec<WriteOp>,
    ) -> (
        Vec<i64>,
        impl std::future::Future<Output = StoreResult<()>> + 'static,
    ) {
        let mut ops = Vec::with_capacity(msgs.len() + extra.len());
        let mut seqs = Vec::with_capacity(msgs.len());
        for (msg, waiter) in msgs {
            seqs.push(msg.seq);
            if let Some(c) = &msg.client_msg_id {
                self.client_ids.insert(c.clone(), msg.seq);
            }
            ops.push(WriteOp::InsertSessionMessage(Box::new((*msg).clone())));
            self.pending.insert(
                msg.seq,
                Pending {
                    msg,
                    result: None,
                    waiters: waiter.into_iter().collect(),
                },
            );
        }
        ops.extend(extra);
        (seqs, self.engine.writer().write(ops))
    }

    fn on_written(&mut self, seqs: &[i64], res: &StoreResult<()>, ctx: &mut Context<Self>) {
        for s in seqs {
            if let Some(p) = self.pending.get_mut(s) {
                p.result = Some(res.clone().map_err(EngineError::from));
            }
        }
        if res.is_err() && !seqs.is_empty() {
            self.failed = true;
        }
        self.flush(ctx);
    }

    /// Broadcast and acknowledge, in seq order, every durable message with
    /// no undecided message before it.
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
                    let frame = self.message_frame(&msg);
                    self.subs.publish_all(&self.channel, &frame);
                    self.log.push_back(msg.clone());
                    while self.log.len() > LOG_CAPACITY {
                        self.log.pop_front();
                    }
                    for w in p.waiters {
                        let _ = w.send(Ok(msg.clone()));
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
        if self.failed && self.pending.is_empty() {
            ctx.stop();
        }
    }

    /// Commit a changed snapshot (and ticket, and extra ops, and an optional
    /// system chat message) in one write; once durable the actor adopts it
    /// and publishes `events`. On failure nothing changes.
    fn commit_change(
        &mut self,
        next: SessionRecord,
        ticket: Option<TicketRecord>,
        extra: Vec<WriteOp>,
        system_message: Option<String>,
        events: Vec<(&'static str, Value)>,
    ) -> LocalBoxActorFuture<Self, EngineResult<()>> {
        let mut ops = vec![WriteOp::PutSession(Box::new(next.clone()))];
        if let Some(t) = &ticket {
            ops.push(WriteOp::PutTicket(Box::new(t.clone())));
        }
        ops.extend(extra);
        let msgs = system_message
            .map(|text| {
                let m = self.new_message(SessionSender::System, None, text, None);
                vec![(m, None)]
            })
            .unwrap_or_default();
        let (seqs, write) = self.append(msgs, ops);
        write
            .into_actor(self)
            .map(move |res, act, ctx| {
                if res.is_ok() {
                    act.rec = next;
                    if let Some(t) = ticket {
                        act.ticket = t;
                    }
                }
                act.on_written(&seqs, &res, ctx);
                res.map_err(EngineError::from)?;
                for (event, data) in events {
                    if event == "notes_saved" {
                        act.publish_staff(event, data);
                    } else {
                        act.publish(event, data);
                    }
                }
                Ok(())
            })
            .boxed_local()
    }

    /// A status move with its timer effect (seed 000 VALID_TRANSITIONS,
    /// cancel from any live state). Complete prices the session on `tier`
    /// and asks the payment provider for a payment request first.
    fn control(
        &mut self,
        action: SessionAction,
        tier: Option<Tier>,
        reason: Option<String>,
    ) -> LocalBoxActorFuture<Self, EngineResult<Value>> {
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
                        let payment_json = json!(payment);
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
                            v["payment"] = payment_json;
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
    fn check_warnings(&mut self) -> LocalBoxActorFuture<Self, ()> {
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

impl Actor for SessionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX_CAPACITY);
        let interval = self.engine.config().tick_interval;
        ctx.run_interval(interval, |_, ctx| ctx.notify(TickSession));
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        for (_, p) in std::mem::take(&mut self.pending) {
            for w in p.waiters {
                let _ = w.send(Err(EngineError::Unavailable));
            }
        }
        if let Some(registry) = self.registry.upgrade() {
            let mut map = lock(&registry.actors);
            if map.get(&self.rec.id) == Some(&ctx.address()) {
                map.remove(&self.rec.id);
            }
        }
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
            && self.pending.is_empty()
            && idle >= chrono::Duration::minutes(PASSIVATE_AFTER_MINUTES)
        {
            ctx.stop();
            return AtomicResponse::new(fut::ready(()).boxed_local());
        }
        AtomicResponse::new(self.check_warnings())
    }
}

/// The session as the caller may see it (live `elapsed_seconds`).
#[derive(Message)]
#[rtype(result = "EngineResult<Value>")]
pub struct GetSession {
    pub caller: Caller,
}

impl Handler<GetSession> for SessionActor {
    type Result = EngineResult<Value>;

    fn handle(&mut self, msg: GetSession, _: &mut Context<Self>) -> Self::Result {
        let who = self.who(&msg.caller)?;
        Ok(self.view(who))
    }
}

/// A status move: `start`, `pause`, `resume`, `complete` (with the final
/// tier; the session's tier when none) or `cancel`.
#[derive(Message)]
#[rtype(result = "EngineResult<Value>")]
pub struct ControlSession {
    pub caller: Caller,
    pub action: SessionAction,
    pub tier: Option<Tier>,
    pub reason: Option<String>,
}

impl Handler<ControlSession> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<Value>>;

    fn handle(&mut self, msg: ControlSession, _: &mut Context<Self>) -> Self::Result {
        if let Err(e) = self.require_solver(&msg.caller) {
            return AtomicResponse::new(fut::ready(Err(e)).boxed_local());
        }
        AtomicResponse::new(self.control(msg.action, msg.tier, msg.reason))
    }
}

/// Persist the running timer now (seed 000 `syncTimer`).
#[derive(Message)]
#[rtype(result = "EngineResult<Value>")]
pub struct SyncTimer {
    pub caller: Caller,
}

impl Handler<SyncTimer> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<Value>>;

    fn handle(&mut self, msg: SyncTimer, _: &mut Context<Self>) -> Self::Result {
        if let Err(e) = self.require_solver(&msg.caller) {
            return AtomicResponse::new(fut::ready(Err(e)).boxed_local());
        }
        if !self.rec.timer.is_running() {
            let status = self.status_event();
            self.publish("session_status", status);
            return AtomicResponse::new(fut::ready(Ok(self.view(Who::Solver))).boxed_local());
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
#[rtype(result = "EngineResult<Value>")]
pub struct SaveNotes {
    pub caller: Caller,
    pub notes: String,
}

impl Handler<SaveNotes> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<Value>>;

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
            return AtomicResponse::new(fut::ready(Err(e)).boxed_local());
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
                    Ok(json!({
                        "save_status": "saved",
                        "notes": act.rec.notes,
                        "notes_saved_at": crate::wire_time::format(&now),
                    }))
                })
                .boxed_local(),
        )
    }
}

/// Post to the session chat (the solver or the joined customer). Answers
/// once durable; a repeated `client_msg_id` answers the first message.
#[derive(Message)]
#[rtype(result = "EngineResult<Arc<SessionMessageRecord>>")]
pub struct PostSessionMessage {
    pub caller: Caller,
    pub content: String,
    pub client_msg_id: Option<String>,
}

impl Handler<PostSessionMessage> for SessionActor {
    type Result = ResponseFuture<EngineResult<Arc<SessionMessageRecord>>>;

    fn handle(&mut self, msg: PostSessionMessage, ctx: &mut Context<Self>) -> Self::Result {
        match self.accept_message(msg, ctx) {
            Ok(rx) => rx,
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }
}

impl SessionActor {
    fn accept_message(
        &mut self,
        msg: PostSessionMessage,
        ctx: &mut Context<Self>,
    ) -> EngineResult<ResponseFuture<EngineResult<Arc<SessionMessageRecord>>>> {
        let (sender, sender_id) = match self.who(&msg.caller)? {
            Who::Solver => (SessionSender::Solver, msg.caller.user_id()),
            Who::Guest => (SessionSender::Customer, None),
            Who::Admin => {
                return Err(EngineError::Forbidden(
                    "only the session's solver and customer write in its chat".into(),
                ))
            }
        };
        if let Some(c) = &msg.client_msg_id {
            if c.is_empty() || c.len() > MAX_CLIENT_MSG_ID {
                return Err(field_error(
                    "client_msg_id",
                    &format!("must be 1 to {MAX_CLIENT_MSG_ID} characters"),
                ));
            }
            if let Some(seq) = self.client_ids.get(c).copied() {
                return Ok(self.existing_message(seq));
            }
        }
        let content = msg.content.trim().to_string();
        if content.is_empty() {
            return Err(field_error("content", "must not be empty"));
        }
        if content.chars().count() > MAX_CONTENT_CHARS {
            return Err(field_error(
                "content",
                &format!("must be at most {MAX_CONTENT_CHARS} characters"),
            ));
        }
        if self.rec.status.is_terminal() {
            return Err(EngineError::InvalidTransition(format!(
                "the session is {}; its chat is closed",
                self.rec.status.label()
            )));
        }
        let record = self.new_message(sender, sender_id, content, msg.client_msg_id);
        let (tx, rx) = oneshot::channel();
        let (seqs, write) = self.append(vec![(record, Some(tx))], Vec::new());
        ctx.spawn(
            write
                .into_actor(self)
                .map(move |res, act, ctx| act.on_written(&seqs, &res, ctx)),
        );
        Ok(Box::pin(async move {
            rx.await.unwrap_or(Err(EngineError::Unavailable))
        }))
    }

    fn existing_message(
        &mut self,
        seq: i64,
    ) -> ResponseFuture<EngineResult<Arc<SessionMessageRecord>>> {
        if let Some(p) = self.pending.get_mut(&seq) {
            let (tx, rx) = oneshot::channel();
            p.waiters.push(tx);
            return Box::pin(async move { rx.await.unwrap_or(Err(EngineError::Unavailable)) });
        }
        if let Some(m) = self.log.iter().find(|m| m.seq == seq) {
            let m = m.clone();
            return Box::pin(async move { Ok(m) });
        }
        let store = self.store.clone();
        let id = self.rec.id;
        Box::pin(async move {
            store
                .load_session_messages(id, seq - 1, 1)
                .await?
                .into_iter()
                .next()
                .map(Arc::new)
                .ok_or_else(|| EngineError::NotFound("message not found".into()))
        })
    }
}

/// Chat history, ascending by seq, after `after_seq` (at most `limit`).
#[derive(Message)]
#[rtype(result = "EngineResult<Vec<Arc<SessionMessageRecord>>>")]
pub struct SessionMessages {
    pub caller: Caller,
    pub after_seq: i64,
    pub limit: i64,
}

impl Handler<SessionMessages> for SessionActor {
    type Result = ResponseFuture<EngineResult<Vec<Arc<SessionMessageRecord>>>>;

    fn handle(&mut self, msg: SessionMessages, _: &mut Context<Self>) -> Self::Result {
        if let Err(e) = self.who(&msg.caller) {
            return Box::pin(async move { Err(e) });
        }
        let (store, id, upto) = (self.store.clone(), self.rec.id, self.durable_seq);
        let after = msg.after_seq;
        let limit = msg.limit.min(upto - after).max(0);
        Box::pin(async move {
            Ok(store
                .load_session_messages(id, after, limit)
                .await?
                .into_iter()
                .map(Arc::new)
                .collect())
        })
    }
}

/// Typing indicator of the solver or the customer (ephemeral).
#[derive(Message)]
#[rtype(result = "EngineResult<()>")]
pub struct SessionTyping {
    pub caller: Caller,
    pub is_typing: bool,
}

impl Handler<SessionTyping> for SessionActor {
    type Result = EngineResult<()>;

    fn handle(&mut self, msg: SessionTyping, _: &mut Context<Self>) -> Self::Result {
        let user_type = match self.who(&msg.caller)? {
            Who::Solver => "solver",
            Who::Guest => "customer",
            Who::Admin => return Err(EngineError::Forbidden("only participants type".into())),
        };
        self.publish(
            "typing",
            json!({ "session_id": self.rec.id, "user_type": user_type, "is_typing": msg.is_typing }),
        );
        Ok(())
    }
}

/// Subscribe a connection to `session:<id>`. With `after_seq`, the durable
/// chat messages after it are replayed first, one page at most
/// ([`replay_page`]), through the connection's bounded mailbox; when more
/// remain the connection is not made live and asks again from
/// `replayed_to`.
#[derive(Message)]
#[rtype(result = "EngineResult<Subscribed>")]
pub struct SubscribeSession {
    pub caller: Caller,
    pub subscriber: Subscriber,
    pub after_seq: Option<i64>,
}

impl Handler<SubscribeSession> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<Subscribed>>;

    fn handle(&mut self, msg: SubscribeSession, _: &mut Context<Self>) -> Self::Result {
        let who = match self.who(&msg.caller) {
            Ok(w) => w,
            Err(e) => return AtomicResponse::new(fut::ready(Err(e)).boxed_local()),
        };
        let mut sub = msg.subscriber;
        sub.audience = if who == Who::Guest {
            Audience::Customer
        } else {
            Audience::Staff
        };
        let Some(after) = msg.after_seq else {
            self.subs.insert(sub);
            return AtomicResponse::new(
                fut::ready(Ok(Subscribed {
                    last_seq: self.durable_seq,
                    replayed_to: None,
                    more: false,
                }))
                .boxed_local(),
            );
        };
        let (upto, more) = replay_page(after, self.durable_seq);
        let covered = self
            .log
            .front()
            .map_or(upto <= after, |m| m.seq <= after + 1);
        let load: LocalBoxActorFuture<Self, EngineResult<Vec<Arc<SessionMessageRecord>>>> =
            if covered {
                let msgs = self
                    .log
                    .iter()
                    .filter(|m| m.seq > after && m.seq <= upto)
                    .cloned()
                    .collect();
                fut::ready(Ok(msgs)).boxed_local()
            } else {
                let store = self.store.clone();
                let id = self.rec.id;
                async move { store.load_session_messages(id, after, upto - after).await }
                    .into_actor(self)
                    .map(|res, _, _| {
                        res.map(|v| v.into_iter().map(Arc::new).collect())
                            .map_err(EngineError::from)
                    })
                    .boxed_local()
            };
        AtomicResponse::new(
            load.map(move |res, act, _| {
                let msgs = res?;
                // Already live (a resubscribe): off while it catches up.
                act.subs.remove(sub.id);
                let frames = msgs
                    .iter()
                    .filter(|m| m.seq <= upto)
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
            })
            .boxed_local(),
        )
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct UnsubscribeSession {
    pub subscriber_id: u64,
}

impl Handler<UnsubscribeSession> for SessionActor {
    type Result = ();

    fn handle(&mut self, msg: UnsubscribeSession, _: &mut Context<Self>) {
        self.subs.remove(msg.subscriber_id);
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
                return AtomicResponse::new(
                    fut::ready(Err(EngineError::Forbidden(
                        "the customer may not edit the ticket".into(),
                    )))
                    .boxed_local(),
                )
            }
            Err(e) => return AtomicResponse::new(fut::ready(Err(e)).boxed_local()),
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

/// Send an SMS to the customer through the SMS provider (1..1000
/// characters, at most 10 per session, only once the timer has started).
#[derive(Message)]
#[rtype(result = "EngineResult<Value>")]
pub struct SendSms {
    pub caller: Caller,
    pub message: String,
}

impl Handler<SendSms> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<Value>>;

    fn handle(&mut self, msg: SendSms, _: &mut Context<Self>) -> Self::Result {
        let checked = self.require_solver(&msg.caller).and_then(|()| {
            validate_sms(&msg.message, &self.comms(), self.rec.sms_count)
                .map(str::to_string)
                .map_err(comm_error)
        });
        let body = match checked {
            Ok(b) => b,
            Err(e) => return AtomicResponse::new(fut::ready(Err(e)).boxed_local()),
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
                    let answer = json!({ "sms": sms, "sms_count": next.sms_count, "sms_remaining": remaining });
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
#[rtype(result = "EngineResult<Value>")]
pub struct CallControl {
    pub caller: Caller,
    pub hang_up: bool,
}

impl Handler<CallControl> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<Value>>;

    fn handle(&mut self, msg: CallControl, _: &mut Context<Self>) -> Self::Result {
        if let Err(e) = self.require_solver(&msg.caller) {
            return AtomicResponse::new(fut::ready(Err(e)).boxed_local());
        }
        let now = self.now();
        if msg.hang_up {
            let call = match self.rec.call.apply(CallEvent::Hangup, now) {
                Ok(c) => c,
                Err(e) => return AtomicResponse::new(fut::ready(Err(comm_error(e))).boxed_local()),
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
                            .map(move |res, _, _| res.map(|()| json!({ "call": call })))
                            .boxed_local()
                    })
                    .boxed_local(),
            );
        }
        let dialed = match self.rec.call.dial(&self.comms(), now) {
            Ok(c) => c,
            Err(e) => return AtomicResponse::new(fut::ready(Err(comm_error(e))).boxed_local()),
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
                        .map(move |res, _, _| res.map(|()| json!({ "call": call })))
                        .boxed_local()
                })
                .boxed_local(),
        )
    }
}

/// The solver asks the customer to share their screen.
#[derive(Message)]
#[rtype(result = "EngineResult<Value>")]
pub struct RequestScreenShare {
    pub caller: Caller,
    pub solver_peer_id: String,
}

impl Handler<RequestScreenShare> for SessionActor {
    type Result = EngineResult<Value>;

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
        Ok(json!({ "screen_share": next }))
    }
}

/// The customer answers a screen-share request.
#[derive(Message)]
#[rtype(result = "EngineResult<Value>")]
pub struct AnswerScreenShare {
    pub caller: Caller,
    pub accepted: bool,
    pub peer_id: Option<String>,
}

impl Handler<AnswerScreenShare> for SessionActor {
    type Result = EngineResult<Value>;

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
        Ok(json!({ "screen_share": next }))
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

/// The joined customer rates the completed session (1..5, once).
#[derive(Message)]
#[rtype(result = "EngineResult<Value>")]
pub struct RateSession {
    pub caller: Caller,
    pub rating: i64,
    pub comment: Option<String>,
}

impl Handler<RateSession> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<Value>>;

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
            Err(e) => return AtomicResponse::new(fut::ready(Err(e)).boxed_local()),
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
                    Ok(json!({ "rating": act.rec.rating, "comment": act.rec.rating_comment }))
                })
                .boxed_local(),
        )
    }
}

// ---------------------------------------------------------------- the registry

struct SessionsInner {
    engine: Engine,
    store: Arc<dyn SessionStore>,
    providers: Providers,
    arbiter: Arbiter,
    actors: Mutex<HashMap<SessionId, Addr<SessionActor>>>,
    /// Serializes loads so one id never gets two actors.
    load_lock: tokio::sync::Mutex<()>,
}

/// The registry of session actors. Cheap to clone.
#[derive(Clone)]
pub struct Sessions(Arc<SessionsInner>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Sessions {
    /// Start the registry and restore every live session (running timers and
    /// tier warnings re-arm from the stored times). Inside an actix system.
    pub async fn start(
        engine: Engine,
        store: Arc<dyn SessionStore>,
        providers: Providers,
    ) -> EngineResult<Sessions> {
        let sessions = Sessions(Arc::new(SessionsInner {
            engine,
            store,
            providers,
            arbiter: Arbiter::new(),
            actors: Mutex::new(HashMap::new()),
            load_lock: tokio::sync::Mutex::new(()),
        }));
        for id in sessions.0.store.live_session_ids().await? {
            sessions.get(id).await?;
        }
        Ok(sessions)
    }

    pub fn providers(&self) -> &Providers {
        &self.0.providers
    }

    /// The session's actor, loading it if needed; NotFound when no such session.
    pub async fn get(&self, id: SessionId) -> EngineResult<Addr<SessionActor>> {
        if let Some(a) = lock(&self.0.actors).get(&id) {
            if a.connected() {
                return Ok(a.clone());
            }
        }
        let _guard = self.0.load_lock.lock().await;
        if let Some(a) = lock(&self.0.actors).get(&id) {
            if a.connected() {
                return Ok(a.clone());
            }
        }
        let (rec, ticket) = self.0.store.load_session(id).await?.ok_or_else(not_found)?;
        let history = self.0.store.load_session_messages(id, 0, i64::MAX).await?;
        Ok(self.spawn(rec, ticket, history))
    }

    fn spawn(
        &self,
        rec: SessionRecord,
        ticket: TicketRecord,
        history: Vec<SessionMessageRecord>,
    ) -> Addr<SessionActor> {
        let id = rec.id;
        let (engine, store, providers) = (
            self.0.engine.clone(),
            self.0.store.clone(),
            self.0.providers.clone(),
        );
        let registry = Arc::downgrade(&self.0);
        let addr = SessionActor::start_in_arbiter(&self.0.arbiter.handle(), move |_| {
            let mut actor = SessionActor::new(engine, store, providers, rec, ticket, history);
            actor.registry = registry;
            actor
        });
        lock(&self.0.actors).insert(id, addr.clone());
        addr
    }

    /// Start the actor of a session the caller has just stored (or the one
    /// a concurrent load already started).
    pub async fn started(&self, rec: SessionRecord, ticket: TicketRecord) -> Addr<SessionActor> {
        let _guard = self.0.load_lock.lock().await;
        if let Some(a) = self.loaded(rec.id) {
            return a;
        }
        self.spawn(rec, ticket, Vec::new())
    }

    /// The live actor of an already loaded session, if any.
    pub fn loaded(&self, id: SessionId) -> Option<Addr<SessionActor>> {
        lock(&self.0.actors)
            .get(&id)
            .filter(|a| a.connected())
            .cloned()
    }

    /// Make every session look at the clock now (tests advance a manual
    /// clock, then tick).
    pub async fn tick_all(&self) {
        let actors: Vec<_> = lock(&self.0.actors).values().cloned().collect();
        for a in actors {
            let _ = a.send(TickSession).await;
        }
    }

    pub fn shutdown(&self) {
        self.0.arbiter.stop();
    }
}

/// Move to `status` by the seed's VALID_TRANSITIONS (`POST .../status`):
/// `active` starts or resumes, `paused` pauses, `completed` completes on
/// the session's current tier, `cancelled` cancels.
#[derive(Message)]
#[rtype(result = "EngineResult<Value>")]
pub struct SetSessionStatus {
    pub caller: Caller,
    pub status: SessionStatus,
}

impl Handler<SetSessionStatus> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<Value>>;

    fn handle(&mut self, msg: SetSessionStatus, _: &mut Context<Self>) -> Self::Result {
        if let Err(e) = self.require_solver(&msg.caller) {
            return AtomicResponse::new(fut::ready(Err(e)).boxed_local());
        }
        let Some(action) = SessionAction::toward(self.rec.status, msg.status) else {
            return AtomicResponse::new(
                fut::ready(Err(EngineError::InvalidTransition(format!(
                    "a session that is {} cannot go back to not started",
                    self.rec.status.label()
                ))))
                .boxed_local(),
            );
        };
        AtomicResponse::new(self.control(action, None, None))
    }
}

/// The call provider reports how the call went on (`connected`, `ringing`,
/// `answered`, `ended`, `failed`): the project's integration (its secret
/// key) or the engine itself.
#[derive(Message)]
#[rtype(result = "EngineResult<Value>")]
pub struct ReportCallEvent {
    pub caller: Caller,
    pub event: CallEvent,
}

impl Handler<ReportCallEvent> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<Value>>;

    fn handle(&mut self, msg: ReportCallEvent, _: &mut Context<Self>) -> Self::Result {
        let allowed = match &msg.caller {
            Caller::Bot { project_id } => *project_id == self.rec.project_id,
            Caller::System => true,
            other => match self.who(other) {
                Ok(_) => return AtomicResponse::new(
                    fut::ready(Err(EngineError::Forbidden(
                        "call progress is reported by the call provider (the project's secret key)"
                            .into(),
                    )))
                    .boxed_local(),
                ),
                Err(e) => return AtomicResponse::new(fut::ready(Err(e)).boxed_local()),
            },
        };
        if !allowed {
            return AtomicResponse::new(fut::ready(Err(not_found())).boxed_local());
        }
        let now = self.now();
        let call = match self.rec.call.apply(msg.event, now) {
            Ok(c) => c,
            Err(e) => return AtomicResponse::new(fut::ready(Err(comm_error(e))).boxed_local()),
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
                .map(move |res, _, _| res.map(|()| json!({ "call": call })))
                .boxed_local(),
        )
    }
}
