//! [`Sessions`]: the registry of session actors. It restores every live
//! session on start (so running timers and tier warnings re-arm), loads
//! others lazily, and ticks them all (tests drive a manual clock, then
//! tick).
use super::*;

pub(super) struct SessionsInner {
    engine: Engine,
    store: Arc<dyn SessionStore>,
    providers: Providers,
    arbiter: Arbiter,
    pub(super) actors: Mutex<HashMap<SessionId, Addr<SessionActor>>>,
    /// Serializes loads so one id never gets two actors.
    load_lock: tokio::sync::Mutex<()>,
}

/// The registry of session actors. Cheap to clone.
#[derive(Clone)]
pub struct Sessions(Arc<SessionsInner>);

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
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
