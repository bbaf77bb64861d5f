//! Passivation (docs/architecture.md "Passivation"): a
//! conversation with the AI that nobody watches, with nothing in flight and
//! no activity for [`PASSIVATE_AFTER`], leaves memory; its next use loads it
//! again from the store as the start-up restore does.
//!
//! Only `ai_active` conversations passivate: a waiting one is in its
//! project's queue and an agent's one in its capacity ledger, and both are
//! reached by id from there at any moment.
//!
//! How it leaves, without losing what races it:
//! 1. On a look at the clock (`CheckTimers`, or its own wake-up at the end
//!    of the idle period) an idle conversation writes its activity times
//!    and asks the registry to let it go (`Engine::begin_passivation`). The
//!    registry refuses while a lookup is more recent than the idle period:
//!    whoever looked it up may be about to send. Otherwise it keeps only a
//!    weak address, in `retiring`, and the actor sends itself `Leave`.
//! 2. Until `Leave` comes, the actor answers what its mailbox already held
//!    as a live conversation would; work that arms its timers (a message,
//!    a presence signal) puts it back in the registry, and a lookup
//!    meanwhile takes it back too, so a second actor is never loaded
//!    beside it.
//! 3. On `Leave`, under the registry's lock, it either is still idle and
//!    durable, leaves `retiring` for `passivated` (the due time of its next
//!    timeout, which the engine's tick reloads it for: `Engine::reload_due`)
//!    and stops; or it was taken back and stays. A lookup after that loads
//!    it from the store, where everything it acknowledged already is.
//!
//! What is left out: a sender that kept an address from before the idle
//! period, without a lookup since, and sends after `Leave` gets
//! `MailboxError::Closed`, as with a closed conversation. The server looks
//! a conversation up for every use (a WebSocket keeps one only while it is
//! subscribed, and a subscribed conversation does not passivate).

use super::{ConversationActor, St};
use crate::domain::inactivity::{self, CustomerPresence};
use crate::engine::supervisor::PassivationEnd;
use actix::fut::LocalBoxActorFuture;
use actix::prelude::*;
use chrono::{DateTime, Duration, Utc};

/// How long an `ai_active` conversation stays in memory with no activity:
/// no message, no presence signal, no lookup (REST, WebSocket, a project),
/// no subscriber. Five minutes keeps a customer who pauses to read the
/// answer in memory, and lets the thousands of abandoned widget
/// conversations a burst can open leave it well before their day-long
/// close.
pub const PASSIVATE_AFTER: Duration = Duration::minutes(5);

impl ConversationActor {
    /// The last activity the actor knows of (the registry adds lookups).
    fn active_at(&self) -> DateTime<Utc> {
        let r = &self.rec;
        [
            Some(self.used_at),
            Some(r.last_message_at),
            r.customer_last_seen_at,
            self.presence_at,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(self.used_at)
    }

    /// Nothing would be lost if the actor stopped now: with the AI, no
    /// subscriber, no write or answer in flight, no presence timeout
    /// pending (a fresh load would start the customer as offline too),
    /// everything durable.
    fn quiet(&self) -> bool {
        self.rec.status == St::AiActive
            && !self.retiring
            && !self.log.failed()
            && self.log.is_settled()
            && self.ai_turns == 0
            && self.subs.is_empty()
            && (self.rec.customer_presence == CustomerPresence::Offline
                || self.presence_at.is_none())
    }

    /// When the idle period ends (None: not a candidate now; whatever
    /// changes that arms again).
    pub(super) fn idle_deadline(&self) -> Option<DateTime<Utc>> {
        (!self.passivating && self.quiet()).then(|| self.active_at() + PASSIVATE_AFTER)
    }

    fn idle_now(&self) -> bool {
        self.idle_deadline().is_some_and(|at| at <= self.now())
    }

    /// Leave memory if idle; resolves once decided. The activity times
    /// are written first: a passivated conversation's row is up to date.
    pub(super) fn passivate_if_idle(
        &mut self,
        ctx: &mut Context<Self>,
    ) -> LocalBoxActorFuture<Self, ()> {
        // A connection that died without unsubscribing watches nothing.
        if self.subs.retain_connected() && self.subs.is_empty() {
            self.used_at = self.used_at.max(self.now());
        }
        if !self.idle_now() {
            return fut::ready(()).boxed_local();
        }
        if !self.snapshot_dirty {
            self.try_passivate(ctx);
            return fut::ready(()).boxed_local();
        }
        self.write_touch()
            .map(|res, act, ctx| match res {
                Ok(()) => act.try_passivate(ctx),
                Err(e) => {
                    tracing::warn!(conversation = %act.rec.id, error = %e, "snapshot write failed");
                    act.schedule_snapshot(ctx);
                }
            })
            .boxed_local()
    }

    fn try_passivate(&mut self, ctx: &mut Context<Self>) {
        // Checked again: the write above let other messages in.
        if !self.idle_now() || self.snapshot_dirty || self.touches_in_flight > 0 {
            return;
        }
        let weak = ctx.address().downgrade();
        match (self.engine).begin_passivation(self.rec.id, self.incarnation, weak) {
            Ok(()) => {
                self.passivating = true;
                // Nothing may keep it alive now: no wake-up, no lazy write
                // (there is nothing to write).
                if let Some((_, h)) = self.wake.take() {
                    ctx.cancel_future(h);
                }
                if let Some(h) = self.snapshot_timer.take() {
                    ctx.cancel_future(h);
                }
                self.snapshot_scheduled = false;
                ctx.address().do_send(Leave);
            }
            Err(Some(looked_up)) => {
                // Used through the registry lately: idle from then on.
                self.used_at = self.used_at.max(looked_up);
                self.arm(ctx);
            }
            // Not the registry's live actor (closing): nothing to do.
            Err(None) => {}
        }
    }

    /// Work came in while passivating (see `arm`): back in the registry.
    pub(super) fn unpassivate(&mut self, ctx: &mut Context<Self>) {
        self.passivating = false;
        self.used_at = self.used_at.max(self.now());
        (self.engine).reregister(self.rec.id, self.incarnation, || ctx.address());
    }

    /// The end of the passivation, after what its mailbox held when it
    /// began: out of memory if still idle, unless taken back meanwhile.
    fn leave(&mut self, ctx: &mut Context<Self>) {
        if !self.passivating {
            return; // taken back by work it took
        }
        let quiet = self.quiet() && !self.snapshot_dirty && self.touches_in_flight == 0;
        let due = inactivity::next_deadline(&self.facts(), &self.timeouts());
        let end = (self.engine)
            .end_passivation(self.rec.id, self.incarnation, quiet, due, || ctx.address());
        match end {
            PassivationEnd::Stop => ctx.stop(),
            PassivationEnd::Stay => {
                self.passivating = false;
                self.used_at = self.used_at.max(self.now());
                self.arm(ctx);
            }
        }
    }
}

/// Sent by a conversation to itself as it leaves the registry, so it goes
/// only after answering what its mailbox already held.
#[derive(Message)]
#[rtype(result = "()")]
struct Leave;

impl Handler<Leave> for ConversationActor {
    type Result = ();

    fn handle(&mut self, _: Leave, ctx: &mut Context<Self>) {
        self.leave(ctx);
    }
}
