//! The supervisor: the registry from id to actor address. It starts an actor
//! by loading its snapshot, restores every live project and conversation on
//! start, and forgets an actor when it stops so the next use reloads it from
//! its last durable state.

use super::agent::AgentActor;
use super::conversation::{CheckTimers, ConversationActor, FlushSnapshot, LOG_CAPACITY};
use super::error::{EngineError, EngineResult};
use super::project::{ProjectActor, Tick};
use super::writer::Writer;
use crate::clock::SharedClock;
use crate::domain::settings::HandoffSettings;
use crate::ids::{ConversationId, ProjectId, UserId};
use crate::ports::{AiResponder, ConversationRecord, MessageIndex, Store, WriteOp};
use actix::prelude::*;
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

struct Inner {
    store: Arc<dyn Store>,
    clock: SharedClock,
    ai: Arc<dyn AiResponder>,
    writer: Writer,
    config: EngineConfig,
    arbiters: Vec<Arbiter>,
    next_arbiter: AtomicUsize,
    next_subscriber: AtomicU64,
    projects: Mutex<HashMap<ProjectId, ProjectHandle>>,
    conversations: Mutex<HashMap<ConversationId, Addr<ConversationActor>>>,
    agents: Mutex<HashMap<UserId, Addr<AgentActor>>>,
    /// Serializes loads so one id never gets two actors.
    load_lock: tokio::sync::Mutex<()>,
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
            projects: Mutex::new(HashMap::new()),
            conversations: Mutex::new(HashMap::new()),
            agents: Mutex::new(HashMap::new()),
            load_lock: tokio::sync::Mutex::new(()),
        }));
        let ids = engine.0.store.list_project_ids().await?;
        for id in ids {
            engine.project(id).await?;
        }
        Ok(engine)
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
        let mut map = lock(&self.0.conversations);
        // `create_conversation` does not take the load lock: it may have
        // started this conversation's actor while the loads above ran.
        if let Some(a) = map.get(&id) {
            return Ok(a.clone());
        }
        let addr = ConversationActor::start_in_arbiter(&self.arbiter(), move |_| {
            ConversationActor::new(engine, rec, project, recent, index)
        });
        map.insert(id, addr.clone());
        Ok(addr)
    }

    /// Find a conversation: its live actor, or its stored record once closed.
    pub async fn conversation(&self, id: ConversationId) -> EngineResult<ConversationRef> {
        if let Some(a) = lock(&self.0.conversations).get(&id) {
            return Ok(ConversationRef::Live(a.clone()));
        }
        let rec = self
            .0
            .store
            .load_conversation(id)
            .await?
            .ok_or_else(|| EngineError::NotFound("conversation not found".into()))?;
        if rec.status.is_terminal() {
            return Ok(ConversationRef::Closed(Box::new(rec)));
        }
        let project = self.project(rec.project_id).await?;
        let _guard = self.0.load_lock.lock().await;
        if let Some(a) = lock(&self.0.conversations).get(&id) {
            return Ok(ConversationRef::Live(a.clone()));
        }
        // Reload from the store: the record may have moved on since the read above.
        let rec = self
            .0
            .store
            .load_conversation(id)
            .await?
            .ok_or_else(|| EngineError::NotFound("conversation not found".into()))?;
        if rec.status.is_terminal() {
            return Ok(ConversationRef::Closed(Box::new(rec)));
        }
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
        let mut map = lock(&self.0.conversations);
        // Once the row is stored, a lookup (an identify telling the
        // customer's conversations, say) may load it and start its actor
        // before this line; two actors for one conversation must not be.
        if let Some(a) = map.get(&id) {
            return Ok(a.clone());
        }
        let addr = ConversationActor::start_in_arbiter(&self.arbiter(), move |_| {
            ConversationActor::new(engine, rec, project, Vec::new(), MessageIndex::default())
        });
        map.insert(id, addr.clone());
        Ok(addr)
    }

    pub(crate) fn forget_conversation(&self, id: ConversationId, addr: &Addr<ConversationActor>) {
        let mut map = lock(&self.0.conversations);
        if map.get(&id) == Some(addr) {
            map.remove(&id);
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
    pub async fn tick_all(&self) {
        let projects: Vec<_> = lock(&self.0.projects).values().cloned().collect();
        for p in projects {
            let _ = p.addr.send(Tick).await;
        }
        let live: Vec<_> = lock(&self.0.conversations).values().cloned().collect();
        futures::future::join_all(live.iter().map(|a| a.send(CheckTimers))).await;
    }

    /// Everything acknowledged is durable once this returns, and every
    /// conversation's row holds its latest activity times.
    pub async fn flush(&self) -> EngineResult<()> {
        let live: Vec<_> = lock(&self.0.conversations).values().cloned().collect();
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
        for a in &self.0.arbiters {
            a.stop();
        }
    }
}
