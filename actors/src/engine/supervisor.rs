//! The supervisor: the registry from id to actor address. It starts an actor
//! by loading its snapshot, restores every live project and conversation on
//! start, and forgets an actor when it stops so the next use reloads it from
//! its last durable state.
//!
//! Passivation: an idle `ai_active` conversation (see
//! [`PASSIVATE_AFTER`]) leaves the registry and stops; what stays of it
//! here is its id and the due time of its next timeout, and the engine's
//! tick reloads it when that falls due, so its timeouts still fire. Any
//! other use reloads it through [`Engine::conversation`], exactly as the
//! start-up restore loads it. An actor on its way out is `retiring`: it
//! has left `live` but still answers what its mailbox holds, and a lookup
//! meanwhile takes it back instead of loading a second actor (see
//! engine/conversation/passivation.rs).

use super::agent::AgentActor;
use super::conversation::{
    CheckTimers, ConversationActor, FlushSnapshot, LOG_CAPACITY, PASSIVATE_AFTER,
};
use super::error::{EngineError, EngineResult};
use super::project::{ProjectActor, Tick};
use super::writer::Writer;
use crate::clock::SharedClock;
use crate::domain::settings::HandoffSettings;
use crate::ids::{ConversationId, ProjectId, UserId};
use crate::ports::{AiResponder, ConversationRecord, MessageIndex, Store, WriteOp};
use actix::prelude::*;
use actix::WeakAddr;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// A project's settings as its conversations read them: the project actor
/// replaces the Arc on every change; readers clone it without a message.
pub type SettingsCell = Arc<RwLock<Arc<HandoffSettings>>>;

pub fn read_settings(cell: &SettingsCell) -> Arc<HandoffSettings> {
    match cell.read() {
        Ok(g) => g.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

#[derive(Clone)]
pub struct ProjectHandle {
    pub addr: Addr<ProjectActor>,
    pub settings: SettingsCell,
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Threads that run the actors.
    pub arbiters: usize,
    /// How often actors look at the clock for due timers.
    pub tick_interval: std::time::Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            arbiters: 2,
            tick_interval: std::time::Duration::from_secs(1),
        }
    }
}

/// A conversation as the registry finds it.
pub enum ConversationRef {
    Live(Addr<ConversationActor>),
    /// Terminal: no actor; its state is read from the store.
    Closed(Box<ConversationRecord>),
}

/// A conversation's actor in the registry.
struct Live {
    addr: Addr<ConversationActor>,
    /// Which actor this is: a reload of the same conversation is another.
    incarnation: u64,
    /// The last lookup: every use from outside (REST, WebSocket, a
    /// project's assignment) finds the actor through the registry.
    used_at: DateTime<Utc>,
}

/// The conversations the engine knows outside the store.
#[derive(Default)]
struct Conversations {
    live: HashMap<ConversationId, Live>,
    /// Passivating: left `live`, stopping once it has answered what its
    /// mailbox held. Weak: the registry no longer keeps it.
    retiring: HashMap<ConversationId, (u64, WeakAddr<ConversationActor>)>,
    /// Passivated: no actor, only the due time of its next timeout (None:
    /// none pending). About 48 bytes per entry in the table (16 of id, 16
    /// of due time, the table's control byte and spare capacity).
    passivated: HashMap<ConversationId, Option<DateTime<Utc>>>,
}

impl Conversations {
    /// The actor for `id` if there is one, marked as used now; a retiring
    /// one is taken back (its `Leave` then finds it live) instead of
    /// loading a second actor for the same conversation.
    fn find(&mut self, id: ConversationId, now: DateTime<Utc>) -> Option<Addr<ConversationActor>> {
        if let Some(l) = self.live.get_mut(&id) {
            l.used_at = l.used_at.max(now);
            return Some(l.addr.clone());
        }
        let (incarnation, weak) = self.retiring.remove(&id)?;
        // The actor clears its entry under this lock before it stops, so
        // one still here is running; `connected` guards an abnormal stop.
        let addr = weak.upgrade().filter(|a| a.connected())?;
        self.live.insert(
            id,
            Live {
                addr: addr.clone(),
                incarnation,
                used_at: now,
            },
        );
        Some(addr)
    }

    /// A passivating actor that took work is live again, if it still is
    /// the one retiring (a lookup may have taken it back already).
    fn revive(
        &mut self,
        id: ConversationId,
        incarnation: u64,
        addr: impl FnOnce() -> Addr<ConversationActor>,
        now: DateTime<Utc>,
    ) -> bool {
        if self.retiring.get(&id).is_none_or(|r| r.0 != incarnation) {
            return false;
        }
        self.retiring.remove(&id);
        self.live.insert(
            id,
            Live {
                addr: addr(),
                incarnation,
                used_at: now,
            },
        );
        true
    }
}

/// How a passivating conversation's actor ends, decided under the
/// registry's lock when it has nothing left to do.
pub(crate) enum PassivationEnd {
    /// Out of memory: only its due time stays.
    Stop,
    /// Live again: a lookup took it back, or what it did while retiring
    /// left it busy.
    Stay,
}

/// How many conversations the engine holds, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConversationCounts {
    /// Actors in the registry.
    pub live: usize,
    /// Actors passivating: out of the registry, not yet stopped.
    pub retiring: usize,
    /// No actor: a due time each.
    pub passivated: usize,
    /// ConversationActor values in memory (live, retiring, or stopped and
    /// not yet dropped).
    pub actors: usize,
    /// Heap bytes of the passivated table: its buckets (id and due time
    /// each) and their control bytes.
    pub passivated_bytes: usize,
}

/// Bytes a hash table of `capacity` entries of `T` holds (hashbrown: a
/// power of two of buckets at 7/8 load, one control byte per bucket).
fn table_bytes<T>(capacity: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 8 {
        capacity + 1
    } else {
        capacity * 8 / 7
    }
    .next_power_of_two();
    buckets * std::mem::size_of::<T>() + buckets + 16
}

/// Give back most of a table's room once it is mostly empty (after a
/// burst passivates, say), keeping the shrink rare.
fn shrink<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>) {
    if map.capacity() > 64 && map.len() * 4 < map.capacity() {
        map.shrink_to(map.len() * 2);
    }
}

struct Inner {
    store: Arc<dyn Store>,
    clock: SharedClock,
    ai: Arc<dyn AiResponder>,
    writer: Writer,
    config: EngineConfig,
    arbiters: Vec<Arbiter>,
    next_arbiter: AtomicUsize,
    next_subscriber: AtomicU64,
    next_incarnation: AtomicU64,
    projects: Mutex<HashMap<ProjectId, ProjectHandle>>,
    conversations: Mutex<Conversations>,
    agents: Mutex<HashMap<UserId, Addr<AgentActor>>>,
    /// Serializes loads so one id never gets two actors.
    load_lock: tokio::sync::Mutex<()>,
    /// Set by `shutdown`: the due-time sweep ends.
    shut: std::sync::atomic::AtomicBool,
    /// ConversationActor values that exist (built and not yet dropped),
    /// whatever the registry says: what passivation really frees.
    conversation_actors: AtomicUsize,
}

#[derive(Clone)]
pub struct Engine(Arc<Inner>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Engine {
    /// Start the engine and restore every project with its live conversations.
    /// Must be called inside an actix system.
    pub async fn start(
        store: Arc<dyn Store>,
        clock: SharedClock,
        ai: Arc<dyn AiResponder>,
        config: EngineConfig,
    ) -> EngineResult<Engine> {
        let arbiters = (0..config.arbiters.max(1))
            .map(|_| Arbiter::new())
            .collect();
        let writer = Writer::spawn(store.clone());
        let engine = Engine(Arc::new(Inner {
            store,
            clock,
            ai,
            writer,
            config,
            arbiters,
            next_arbiter: AtomicUsize::new(0),
            next_subscriber: AtomicU64::new(1),
            next_incarnation: AtomicU64::new(1),
            projects: Mutex::new(HashMap::new()),
            conversations: Mutex::new(Conversations::default()),
            agents: Mutex::new(HashMap::new()),
            load_lock: tokio::sync::Mutex::new(()),
            shut: std::sync::atomic::AtomicBool::new(false),
            conversation_actors: AtomicUsize::new(0),
        }));
        let ids = engine.0.store.list_project_ids().await?;
        for id in ids {
            engine.project(id).await?;
        }
        engine.spawn_due_sweep();
        Ok(engine)
    }

    /// In production nothing calls `tick_all`: every tick interval this
    /// reloads the passivated conversations whose next timeout is due, so
    /// their timers run on time. It holds the engine weakly and ends with
    /// `shutdown`.
    fn spawn_due_sweep(&self) {
        let weak = Arc::downgrade(&self.0);
        let every = self.0.config.tick_interval;
        self.arbiter().spawn(async move {
            let mut interval = tokio::time::interval(every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                if inner.shut.load(Ordering::Relaxed) {
                    break;
                }
                Engine(inner).reload_due().await;
            }
        });
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.0.store
    }

    pub fn clock(&self) -> &SharedClock {
        &self.0.clock
    }

    pub fn ai(&self) -> &Arc<dyn AiResponder> {
        &self.0.ai
    }

    pub fn writer(&self) -> &Writer {
        &self.0.writer
    }

    pub fn config(&self) -> &EngineConfig {
        &self.0.config
    }

    pub fn next_subscriber_id(&self) -> u64 {
        self.0.next_subscriber.fetch_add(1, Ordering::Relaxed)
    }

    fn arbiter(&self) -> ArbiterHandle {
        let i = self.0.next_arbiter.fetch_add(1, Ordering::Relaxed) % self.0.arbiters.len();
        self.0.arbiters[i].handle()
    }

    /// The project's actor, loading it if needed. NotFound when no such project.
    pub async fn project(&self, id: ProjectId) -> EngineResult<ProjectHandle> {
        if let Some(h) = lock(&self.0.projects).get(&id) {
            return Ok(h.clone());
        }
        let _guard = self.0.load_lock.lock().await;
        if let Some(h) = lock(&self.0.projects).get(&id) {
            return Ok(h.clone());
        }
        let store = &self.0.store;
        let snapshot = store
            .load_project(id)
            .await?
            .ok_or_else(|| EngineError::NotFound("project not found".into()))?;
        let agents = store.load_agents(id).await?;
        let live = store.load_live_conversations(id).await?;
        let settings: SettingsCell = Arc::new(RwLock::new(Arc::new(snapshot.settings.clone())));
        let engine = self.clone();
        let cell = settings.clone();
        let live_for_project = live.clone();
        let addr = ProjectActor::start_in_arbiter(&self.arbiter(), move |_| {
            ProjectActor::new(engine, snapshot, cell, agents, &live_for_project)
        });
        let handle = ProjectHandle { addr, settings };
        lock(&self.0.projects).insert(id, handle.clone());
        for rec in live {
            self.start_conversation(rec, &handle).await?;
        }
        Ok(handle)
    }

    async fn start_conversation(
        &self,
        rec: ConversationRecord,
        project: &ProjectHandle,
    ) -> EngineResult<Addr<ConversationActor>> {
        let id = rec.id;
        // The recent log and an index of the rest, not the whole history:
        // start-up must not grow with a conversation's age.
        let recent = (self.0.store)
            .load_recent_messages(id, LOG_CAPACITY as i64)
            .await?;
        let index = self.0.store.load_message_index(id).await?;
        let engine = self.clone();
        let project = project.clone();
        // `create_conversation` does not take the load lock: it may have
        // started this conversation's actor while the loads above ran.
        Ok(self.find_or_start(id, move |incarnation, now| {
            ConversationActor::new(engine, rec, project, recent, index, incarnation, now)
        }))
    }

    /// The actor of `id` if one is live or retiring, else a new one built
    /// by `build` (given its incarnation and the time), registered under
    /// the same lock so one conversation never gets two actors.
    fn find_or_start(
        &self,
        id: ConversationId,
        build: impl FnOnce(u64, DateTime<Utc>) -> ConversationActor + Send + 'static,
    ) -> Addr<ConversationActor> {
        let now = self.0.clock.now();
        let mut reg = lock(&self.0.conversations);
        if let Some(a) = reg.find(id, now) {
            return a;
        }
        let incarnation = self.0.next_incarnation.fetch_add(1, Ordering::Relaxed);
        let addr =
            ConversationActor::start_in_arbiter(&self.arbiter(), move |_| build(incarnation, now));
        if reg.passivated.remove(&id).is_some() {
            shrink(&mut reg.passivated);
        }
        reg.live.insert(
            id,
            Live {
                addr: addr.clone(),
                incarnation,
                used_at: now,
            },
        );
        addr
    }

    /// The live (or retiring) actor of `id`, marked as used now.
    fn find_live(&self, id: ConversationId) -> Option<Addr<ConversationActor>> {
        let now = self.0.clock.now();
        lock(&self.0.conversations).find(id, now)
    }

    /// A conversation found closed needs no due time any more.
    fn drop_passivated(&self, id: ConversationId) {
        let mut reg = lock(&self.0.conversations);
        if reg.passivated.remove(&id).is_some() {
            shrink(&mut reg.passivated);
        }
    }

    /// The stored record of a conversation that is still open, or (as the
    /// error side) the answer for one that is closed.
    async fn load_open(
        &self,
        id: ConversationId,
    ) -> EngineResult<Result<ConversationRecord, ConversationRef>> {
        let rec = self
            .0
            .store
            .load_conversation(id)
            .await?
            .ok_or_else(|| EngineError::NotFound("conversation not found".into()))?;
        if rec.status.is_terminal() {
            self.drop_passivated(id);
            return Ok(Err(ConversationRef::Closed(Box::new(rec))));
        }
        Ok(Ok(rec))
    }

    /// Find a conversation: its live actor, or its stored record once closed.
    /// A passivated conversation is loaded again here, as at start-up.
    pub async fn conversation(&self, id: ConversationId) -> EngineResult<ConversationRef> {
        if let Some(a) = self.find_live(id) {
            return Ok(ConversationRef::Live(a));
        }
        let rec = match self.load_open(id).await? {
            Ok(rec) => rec,
            Err(closed) => return Ok(closed),
        };
        let project = self.project(rec.project_id).await?;
        let _guard = self.0.load_lock.lock().await;
        if let Some(a) = self.find_live(id) {
            return Ok(ConversationRef::Live(a));
        }
        // Reload from the store: the record may have moved on since the read above.
        let rec = match self.load_open(id).await? {
            Ok(rec) => rec,
            Err(closed) => return Ok(closed),
        };
        Ok(ConversationRef::Live(
            self.start_conversation(rec, &project).await?,
        ))
    }

    /// The live actor only (None once closed or unknown).
    pub async fn live_conversation(
        &self,
        id: ConversationId,
    ) -> EngineResult<Option<Addr<ConversationActor>>> {
        match self.conversation(id).await {
            Ok(ConversationRef::Live(a)) => Ok(Some(a)),
            Ok(ConversationRef::Closed(_)) => Ok(None),
            Err(EngineError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Create a conversation: durable first, then its actor.
    pub async fn create_conversation(
        &self,
        rec: ConversationRecord,
    ) -> EngineResult<Addr<ConversationActor>> {
        let project = self.project(rec.project_id).await?;
        self.0
            .writer
            .write(vec![WriteOp::PutConversation(Box::new(rec.clone()))])
            .await?;
        let id = rec.id;
        let engine = self.clone();
        // Once the row is stored, a lookup (an identify telling the
        // customer's conversations, say) may load it and start its actor
        // before this line; two actors for one conversation must not be.
        Ok(self.find_or_start(id, move |incarnation, now| {
            let (recent, index) = (Vec::new(), MessageIndex::default());
            ConversationActor::new(engine, rec, project, recent, index, incarnation, now)
        }))
    }

    /// The actor `incarnation` of `id` leaves the registry (it closed or
    /// stopped); a later one is left alone.
    pub(crate) fn forget_conversation(&self, id: ConversationId, incarnation: u64) {
        let mut reg = lock(&self.0.conversations);
        if reg
            .live
            .get(&id)
            .is_some_and(|l| l.incarnation == incarnation)
        {
            reg.live.remove(&id);
        }
        if reg.retiring.get(&id).is_some_and(|r| r.0 == incarnation) {
            reg.retiring.remove(&id);
        }
    }

    /// An idle conversation asks to leave memory. Refused (with when it
    /// was last looked up) while a lookup is more recent than the idle
    /// period: whoever looked it up may still be about to send to it. On
    /// success the registry keeps only a weak address until the actor's
    /// `Leave` (see `end_passivation`).
    pub(crate) fn begin_passivation(
        &self,
        id: ConversationId,
        incarnation: u64,
        weak: WeakAddr<ConversationActor>,
    ) -> Result<(), Option<DateTime<Utc>>> {
        let now = self.0.clock.now();
        let mut reg = lock(&self.0.conversations);
        let used_at = match reg.live.get(&id) {
            Some(l) if l.incarnation == incarnation => l.used_at,
            _ => return Err(None),
        };
        if now - used_at < PASSIVATE_AFTER {
            return Err(Some(used_at));
        }
        reg.live.remove(&id);
        shrink(&mut reg.live);
        reg.retiring.insert(id, (incarnation, weak));
        Ok(())
    }

    /// A passivating actor has answered what its mailbox held when it
    /// began. `quiet` says it is still idle and durable; `due` is its next
    /// timeout. Under the lock that lookups take, so a lookup either took
    /// it back before this (`Stay`) or, after it, loads from the store a
    /// conversation that has nothing left in flight.
    pub(crate) fn end_passivation(
        &self,
        id: ConversationId,
        incarnation: u64,
        quiet: bool,
        due: Option<DateTime<Utc>>,
        addr: impl FnOnce() -> Addr<ConversationActor>,
    ) -> PassivationEnd {
        let now = self.0.clock.now();
        let mut reg = lock(&self.0.conversations);
        let mine = reg.retiring.get(&id).is_some_and(|r| r.0 == incarnation);
        if mine && quiet {
            reg.retiring.remove(&id);
            shrink(&mut reg.retiring);
            reg.passivated.insert(id, due);
            return PassivationEnd::Stop;
        }
        // It took something while retiring that left it busy (work that
        // arms its timers takes it back itself; this is the guard for the
        // rest).
        if reg.revive(id, incarnation, addr, now) {
            return PassivationEnd::Stay;
        }
        match reg.live.get(&id) {
            // A lookup took it back between actix's check and this lock.
            Some(l) if l.incarnation == incarnation => PassivationEnd::Stay,
            Some(_) => {
                // Cannot be (a second actor loads only once this one is
                // out of `retiring`); if it were, the newer one owns the id.
                tracing::error!(conversation = %id, "a passivating actor found another in its place");
                PassivationEnd::Stop
            }
            None => PassivationEnd::Stop,
        }
    }

    /// A passivating actor that took work while retiring is live again.
    pub(crate) fn reregister(
        &self,
        id: ConversationId,
        incarnation: u64,
        addr: impl FnOnce() -> Addr<ConversationActor>,
    ) {
        let now = self.0.clock.now();
        lock(&self.0.conversations).revive(id, incarnation, addr, now);
    }

    /// Conversations with an actor in the registry (passivated ones have
    /// none); what tests and the load harness watch.
    pub fn live_conversations(&self) -> usize {
        lock(&self.0.conversations).live.len()
    }

    pub fn conversation_counts(&self) -> ConversationCounts {
        let reg = lock(&self.0.conversations);
        ConversationCounts {
            live: reg.live.len(),
            retiring: reg.retiring.len(),
            passivated: reg.passivated.len(),
            actors: self.0.conversation_actors.load(Ordering::Relaxed),
            passivated_bytes: table_bytes::<(ConversationId, Option<DateTime<Utc>>)>(
                reg.passivated.capacity(),
            ),
        }
    }

    /// Kept by each ConversationActor as it is built and dropped.
    pub(crate) fn count_conversation_actor(&self, built: bool) {
        if built {
            self.0.conversation_actors.fetch_add(1, Ordering::Relaxed);
        } else {
            self.0.conversation_actors.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Whether `id` is passivated (no actor, a due time kept).
    pub fn is_passivated(&self, id: ConversationId) -> bool {
        lock(&self.0.conversations).passivated.contains_key(&id)
    }

    /// Reload every passivated conversation whose next timeout is due, so
    /// its actor runs it (it looks at the clock as it starts). One that
    /// fails to load stays recorded and is tried on the next tick.
    pub async fn reload_due(&self) {
        let now = self.0.clock.now();
        let due: Vec<ConversationId> = lock(&self.0.conversations)
            .passivated
            .iter()
            .filter(|(_, at)| at.is_some_and(|at| at <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            match self.conversation(id).await {
                Ok(_) => {}
                Err(EngineError::NotFound(_)) => self.drop_passivated(id),
                Err(e) => {
                    tracing::warn!(conversation = %id, error = %e, "reloading a due conversation failed");
                }
            }
        }
    }

    pub(crate) fn forget_project(&self, id: ProjectId, addr: &Addr<ProjectActor>) {
        let mut map = lock(&self.0.projects);
        if map.get(&id).map(|h| &h.addr) == Some(addr) {
            map.remove(&id);
        }
    }

    /// The agent's actor (it holds no stored state, so it starts empty).
    pub fn agent(&self, user: UserId) -> Addr<AgentActor> {
        let mut map = lock(&self.0.agents);
        if let Some(a) = map.get(&user) {
            if a.connected() {
                return a.clone();
            }
        }
        let engine = self.clone();
        let addr =
            AgentActor::start_in_arbiter(&self.arbiter(), move |_| AgentActor::new(engine, user));
        map.insert(user, addr.clone());
        addr
    }

    /// Make every project look at the clock now (tests advance a manual
    /// clock, then tick, instead of waiting for the interval).
    /// Passivated conversations that are due are reloaded first; a
    /// conversation that has been idle long enough passivates before its
    /// `CheckTimers` answers.
    pub async fn tick_all(&self) {
        let projects: Vec<_> = lock(&self.0.projects).values().cloned().collect();
        for p in projects {
            let _ = p.addr.send(Tick).await;
        }
        self.reload_due().await;
        let live = self.live_addrs();
        futures::future::join_all(live.iter().map(|a| a.send(CheckTimers))).await;
    }

    fn live_addrs(&self) -> Vec<Addr<ConversationActor>> {
        lock(&self.0.conversations)
            .live
            .values()
            .map(|l| l.addr.clone())
            .collect()
    }

    /// Everything acknowledged is durable once this returns, and every
    /// conversation's row holds its latest activity times.
    /// (A passivated conversation was durable before it passivated.)
    pub async fn flush(&self) -> EngineResult<()> {
        let live = self.live_addrs();
        let snapshots = live.iter().map(|a| a.send(FlushSnapshot));
        for res in futures::future::join_all(snapshots).await {
            match res {
                Ok(Ok(())) | Err(_) => {} // an actor already stopped has nothing to write
                Ok(Err(e)) => return Err(e.into()),
            }
        }
        self.0.writer.flush().await.map_err(EngineError::from)
    }

    /// Stop every actor thread (after `flush`).
    pub fn shutdown(&self) {
        self.0.shut.store(true, Ordering::Relaxed);
        for a in &self.0.arbiters {
            a.stop();
        }
    }
}
