//! An in-memory Store: the engine with no database, for engine tests and for
//! load harnesses that measure the actors alone. Same contract as the diesel
//! store: `commit` is all or nothing, message seqs and client ids are unique.

use crate::domain::conversation::ConversationStatus;
use crate::ids::{ConversationId, ProjectId};
use crate::ports::{
    AgentRecord, ConversationRecord, MessageIndex, MessageRecord, ProjectSnapshot, SenderType,
    Store, StoreError, StoreResult, WriteOp,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

#[derive(Default)]
struct Data {
    projects: BTreeMap<ProjectId, ProjectSnapshot>,
    agents: BTreeMap<(ProjectId, crate::ids::UserId), AgentRecord>,
    conversations: HashMap<ConversationId, ConversationRecord>,
    messages: HashMap<ConversationId, BTreeMap<i64, MessageRecord>>,
    sessions: crate::memory_sessions::SessionTables,
}

#[derive(Default)]
pub struct MemoryStore {
    data: Mutex<Data>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn data(&self) -> std::sync::MutexGuard<'_, Data> {
        match self.data.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Seed a project (the server does this through its own tables).
    pub fn put_project(&self, p: ProjectSnapshot) {
        self.data().projects.insert(p.id, p);
    }

    pub fn put_agent(&self, a: AgentRecord) {
        self.data().agents.insert((a.project_id, a.user_id), a);
    }

    /// Every stored message of a conversation, ascending (for invariant checks).
    pub fn messages_of(&self, id: ConversationId) -> Vec<MessageRecord> {
        self.data()
            .messages
            .get(&id)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Overwrite a conversation's row (tests: a row as a crash left it).
    pub fn put_conversation(&self, c: ConversationRecord) {
        self.data().conversations.insert(c.id, c);
    }

    /// Runs `f` on the billable-session tables (see `memory_sessions.rs`).
    pub fn with_sessions<R>(
        &self,
        f: impl FnOnce(&mut crate::memory_sessions::SessionTables) -> R,
    ) -> R {
        f(&mut self.data().sessions)
    }

    pub fn conversations(&self) -> Vec<ConversationRecord> {
        self.data().conversations.values().cloned().collect()
    }
}

/// Refuse the whole batch if any op would break a constraint, so that
/// applying it afterwards cannot fail half way.
fn check(d: &Data, ops: &[WriteOp]) -> StoreResult<()> {
    let mut seqs = std::collections::HashSet::new();
    let mut client_ids = std::collections::HashSet::new();
    for op in ops {
        match op {
            WriteOp::InsertMessage(m) => {
                let log = d.messages.get(&m.conversation_id);
                if log.is_some_and(|l| l.contains_key(&m.seq))
                    || !seqs.insert((m.conversation_id, m.seq))
                {
                    return Err(StoreError::Conflict(format!("seq {} exists", m.seq)));
                }
                if let Some(c) = &m.client_msg_id {
                    let taken = log
                        .is_some_and(|l| l.values().any(|x| x.client_msg_id.as_ref() == Some(c)));
                    if taken || !client_ids.insert((m.conversation_id, c.clone())) {
                        return Err(StoreError::Conflict(format!("client_msg_id {c} exists")));
                    }
                }
            }
            WriteOp::PutAgent(a) if a.current_chat_count > a.max_concurrent_chats => {
                return Err(StoreError::Conflict("chat count above max".into()));
            }
            WriteOp::PutSettings { project_id, .. } if !d.projects.contains_key(project_id) => {
                return Err(StoreError::NotFound);
            }
            other => d.sessions.check(other, ops)?,
        }
    }
    Ok(())
}

fn apply(d: &mut Data, op: WriteOp) {
    if d.sessions.apply(&op) {
        return;
    }
    match op {
        WriteOp::PutConversation(c) => {
            d.conversations.insert(c.id, *c);
        }
        WriteOp::InsertMessage(m) => {
            d.messages
                .entry(m.conversation_id)
                .or_default()
                .insert(m.seq, *m);
        }
        WriteOp::TouchConversation {
            id,
            last_message_at,
            updated_at,
            customer_presence,
            customer_last_seen_at,
        } => {
            if let Some(c) = d.conversations.get_mut(&id) {
                if c.updated_at <= updated_at && c.last_message_at <= last_message_at {
                    c.last_message_at = last_message_at;
                    c.updated_at = updated_at;
                    c.customer_presence = customer_presence;
                    c.customer_last_seen_at = customer_last_seen_at;
                }
            }
        }
        WriteOp::PutAgent(a) => {
            d.agents.insert((a.project_id, a.user_id), *a);
        }
        WriteOp::RemoveAgent {
            project_id,
            user_id,
            ..
        } => {
            d.agents.remove(&(project_id, user_id));
        }
        WriteOp::PutSettings {
            project_id,
            settings,
            ..
        } => {
            if let Some(p) = d.projects.get_mut(&project_id) {
                p.settings = *settings;
            }
        }
        // Applied above by the session tables.
        WriteOp::PutTicket(_)
        | WriteOp::PutSession(_)
        | WriteOp::InsertSessionMessage(_)
        | WriteOp::InsertSms(_)
        | WriteOp::PutPayment(_) => {}
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn list_project_ids(&self) -> StoreResult<Vec<ProjectId>> {
        Ok(self.data().projects.keys().copied().collect())
    }

    async fn load_project(&self, id: ProjectId) -> StoreResult<Option<ProjectSnapshot>> {
        Ok(self.data().projects.get(&id).cloned())
    }

    async fn load_agents(&self, project_id: ProjectId) -> StoreResult<Vec<AgentRecord>> {
        Ok(self
            .data()
            .agents
            .values()
            .filter(|a| a.project_id == project_id)
            .cloned()
            .collect())
    }

    async fn load_live_conversations(
        &self,
        project_id: ProjectId,
    ) -> StoreResult<Vec<ConversationRecord>> {
        Ok(self
            .data()
            .conversations
            .values()
            .filter(|c| c.project_id == project_id && c.status != ConversationStatus::Closed)
            .cloned()
            .collect())
    }

    async fn load_conversation(
        &self,
        id: ConversationId,
    ) -> StoreResult<Option<ConversationRecord>> {
        Ok(self.data().conversations.get(&id).cloned())
    }

    async fn rate_closed_conversation(
        &self,
        id: ConversationId,
        rating: i32,
        feedback: Option<String>,
    ) -> StoreResult<bool> {
        let mut d = self.data();
        let Some(c) = d.conversations.get_mut(&id) else {
            return Ok(false);
        };
        if c.status != ConversationStatus::Closed || c.satisfaction_rating.is_some() {
            return Ok(false);
        }
        c.satisfaction_rating = Some(rating);
        c.satisfaction_feedback = feedback;
        Ok(true)
    }

    async fn load_messages(
        &self,
        conversation_id: ConversationId,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<MessageRecord>> {
        let d = self.data();
        Ok(d.messages
            .get(&conversation_id)
            .map(|m| {
                m.range(after_seq + 1..)
                    .take(limit.max(0) as usize)
                    .map(|(_, v)| v.clone())
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn load_message_index(
        &self,
        conversation_id: ConversationId,
    ) -> StoreResult<MessageIndex> {
        let d = self.data();
        let mut index = MessageIndex::default();
        for m in d
            .messages
            .get(&conversation_id)
            .into_iter()
            .flat_map(|m| m.values())
        {
            if let Some(c) = &m.client_msg_id {
                index.client_ids.push((c.clone(), m.seq));
            }
            if m.sender_type == SenderType::Ai {
                index.ai_messages += 1;
            }
        }
        Ok(index)
    }

    async fn load_recent_messages(
        &self,
        conversation_id: ConversationId,
        limit: i64,
    ) -> StoreResult<Vec<MessageRecord>> {
        let d = self.data();
        let mut v: Vec<MessageRecord> = d
            .messages
            .get(&conversation_id)
            .map(|m| {
                m.values()
                    .rev()
                    .take(limit.max(0) as usize)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        v.reverse();
        Ok(v)
    }

    async fn last_seq(&self, conversation_id: ConversationId) -> StoreResult<i64> {
        Ok(self
            .data()
            .messages
            .get(&conversation_id)
            .and_then(|m| m.keys().next_back().copied())
            .unwrap_or(0))
    }

    async fn find_message_by_client_id(
        &self,
        conversation_id: ConversationId,
        client_msg_id: &str,
    ) -> StoreResult<Option<MessageRecord>> {
        Ok(self.data().messages.get(&conversation_id).and_then(|m| {
            m.values()
                .find(|x| x.client_msg_id.as_deref() == Some(client_msg_id))
                .cloned()
        }))
    }

    async fn avg_handling_minutes(
        &self,
        project_id: ProjectId,
        since: DateTime<Utc>,
    ) -> StoreResult<Option<f64>> {
        let d = self.data();
        let spans: Vec<f64> = d
            .conversations
            .values()
            .filter(|c| c.project_id == project_id)
            .filter_map(|c| match (c.claimed_at, c.resolved_at) {
                (Some(a), Some(b)) if b >= since => {
                    Some((b - a).num_milliseconds() as f64 / 60_000.0)
                }
                _ => None,
            })
            .collect();
        Ok((!spans.is_empty()).then(|| spans.iter().sum::<f64>() / spans.len() as f64))
    }

    async fn commit(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        let mut d = self.data();
        check(&d, &ops)?;
        for op in ops {
            apply(&mut d, op);
        }
        Ok(())
    }
}
