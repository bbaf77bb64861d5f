//! The billable-session tables of the in-memory store (`memory_store.rs`):
//! tickets, sessions, their chat, SMS and payments, with the same contract
//! as the diesel store (chat seqs and client ids unique per session).

use crate::ids::{PaymentId, SessionId, SmsId, TicketId};
use crate::memory_store::MemoryStore;
use crate::ports::{StoreError, StoreResult, WriteOp};
use crate::session_ports::{
    PaymentRecord, SessionMessageRecord, SessionRecord, SessionStore, SmsRecord, TicketRecord,
};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};

#[derive(Default)]
pub struct SessionTables {
    pub tickets: HashMap<TicketId, TicketRecord>,
    pub sessions: HashMap<SessionId, SessionRecord>,
    pub messages: HashMap<SessionId, BTreeMap<i64, SessionMessageRecord>>,
    pub sms: HashMap<SmsId, SmsRecord>,
    pub payments: HashMap<PaymentId, PaymentRecord>,
}

impl SessionTables {
    /// Refuses an op of `batch` that would break a constraint (before
    /// anything applies): a session's ticket must exist or come in the batch.
    pub fn check(&self, op: &WriteOp, batch: &[WriteOp]) -> StoreResult<()> {
        match op {
            WriteOp::InsertSessionMessage(m) => {
                let log = self.messages.get(&m.session_id);
                if log.is_some_and(|l| l.contains_key(&m.seq)) {
                    return Err(StoreError::Conflict(format!("seq {} exists", m.seq)));
                }
                if let Some(c) = &m.client_msg_id {
                    if log.is_some_and(|l| l.values().any(|x| x.client_msg_id.as_ref() == Some(c)))
                    {
                        return Err(StoreError::Conflict(format!("client_msg_id {c} exists")));
                    }
                }
                Ok(())
            }
            WriteOp::PutSession(s)
                if !self.tickets.contains_key(&s.ticket_id)
                    && !batch
                        .iter()
                        .any(|o| matches!(o, WriteOp::PutTicket(t) if t.id == s.ticket_id)) =>
            {
                Err(StoreError::NotFound)
            }
            _ => Ok(()),
        }
    }

    /// Applies one of the session ops; false for any other op.
    pub fn apply(&mut self, op: &WriteOp) -> bool {
        match op {
            WriteOp::PutTicket(t) => {
                self.tickets.insert(t.id, (**t).clone());
            }
            WriteOp::PutSession(s) => {
                self.sessions.insert(s.id, (**s).clone());
            }
            WriteOp::InsertSessionMessage(m) => {
                self.messages
                    .entry(m.session_id)
                    .or_default()
                    .insert(m.seq, (**m).clone());
            }
            WriteOp::InsertSms(s) => {
                self.sms.insert(s.id, (**s).clone());
            }
            WriteOp::PutPayment(p) => {
                self.payments.insert(p.id, (**p).clone());
            }
            _ => return false,
        }
        true
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn live_session_ids(&self) -> StoreResult<Vec<SessionId>> {
        Ok(self.with_sessions(|t| {
            t.sessions
                .values()
                .filter(|s| !s.status.is_terminal())
                .map(|s| s.id)
                .collect()
        }))
    }

    async fn load_session(
        &self,
        id: SessionId,
    ) -> StoreResult<Option<(SessionRecord, TicketRecord)>> {
        Ok(self.with_sessions(|t| {
            let s = t.sessions.get(&id)?;
            let ticket = t.tickets.get(&s.ticket_id)?;
            Some((s.clone(), ticket.clone()))
        }))
    }

    async fn load_session_messages(
        &self,
        id: SessionId,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<SessionMessageRecord>> {
        let limit = usize::try_from(limit.max(0)).unwrap_or(usize::MAX);
        Ok(self.with_sessions(|t| {
            t.messages
                .get(&id)
                .map(|l| {
                    l.range(after_seq + 1..)
                        .take(limit)
                        .map(|(_, m)| m.clone())
                        .collect()
                })
                .unwrap_or_default()
        }))
    }
}
