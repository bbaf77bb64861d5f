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
//!
//! Layout: this file holds the actor's state and what every handler uses;
//! `control.rs` the lifecycle and timer, `chat.rs` the chat and its
//! durable log, `comms.rs` SMS, calls and screen share, `registry.rs` the
//! registry.

use super::caller::Caller;
use super::error::{EngineError, EngineResult};
use super::events::{event_frame, Audience, Subscribed, Subscriber, Subscribers};
use super::log::{self, DurableLog, LogOwner};
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
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

mod chat;
mod comms;
mod control;
mod registry;
mod view;

pub use chat::{
    PostSessionMessage, SessionMessages, SessionTyping, SubscribeSession, UnsubscribeSession,
};
pub use comms::{
    AnswerScreenShare, CallControl, RelaySignal, ReportCallEvent, RequestScreenShare, SendSms,
};
pub use control::{
    ControlSession, GetSession, RateSession, SaveNotes, SetSessionStatus, SyncTimer, TickSession,
    UpdateCustomerInfo,
};
pub use registry::Sessions;
use registry::{lock, SessionsInner};
pub use view::{
    CallAnswer, CallView, NotesSaved, NotesView, PricingView, ScreenShareAnswer, ScreenShareView,
    SessionRating, SessionView, SmsSent, TicketView,
};

pub use super::log::LOG_CAPACITY;
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
    log: DurableLog<SessionMessageRecord, ()>,
    subs: Subscribers,
    screen_share: ScreenShare,
    /// The provider's reference of the current call, for the hang-up.
    call_ref: Option<String>,
    /// Last time a caller asked anything (for passivation once finished).
    touched_at: std::cell::Cell<DateTime<Utc>>,
    /// The registry, told when the actor stops.
    registry: std::sync::Weak<SessionsInner>,
}

fn field_error(field: &str, problem: &str) -> EngineError {
    EngineError::Validation(BTreeMap::from([(field.to_string(), problem.to_string())]))
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
        let client_ids = history
            .iter()
            .filter_map(|m| m.client_msg_id.clone().map(|c| (c, m.seq)))
            .collect();
        let log = DurableLog::restore(history, client_ids);
        SessionActor {
            channel: format!("session:{}", rec.id),
            engine,
            store,
            providers,
            rec,
            ticket,
            log,
            subs: Subscribers::default(),
            screen_share: ScreenShare::new(),
            call_ref: None,
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
}

impl Actor for SessionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX_CAPACITY);
        let interval = self.engine.config().tick_interval;
        ctx.run_interval(interval, |_, ctx| ctx.notify(TickSession));
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        self.log.abandon();
        if let Some(registry) = self.registry.upgrade() {
            let mut map = lock(&registry.actors);
            if map.get(&self.rec.id) == Some(&ctx.address()) {
                map.remove(&self.rec.id);
            }
        }
    }
}
