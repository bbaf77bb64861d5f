//! The engine's [`SessionStore`] port on [`Db`].

use super::queries::*;
use crate::store::convert::parse_id;
use crate::store::db::Db;
use async_trait::async_trait;
use switchboard_actors::ids::SessionId;
use switchboard_actors::ports::StoreResult;
use switchboard_actors::session_ports::{
    SessionMessageRecord, SessionRecord, SessionStore, TicketRecord,
};

#[async_trait]
impl SessionStore for Db {
    async fn live_session_ids(&self) -> StoreResult<Vec<SessionId>> {
        self.pooled(async move |c| {
            live_session_ids(c)
                .await?
                .iter()
                .map(|id| parse_id("sessions.id", id))
                .collect()
        })
        .await
    }

    async fn load_session(
        &self,
        id: SessionId,
    ) -> StoreResult<Option<(SessionRecord, TicketRecord)>> {
        self.pooled(
            async move |c| match session_with_ticket(c, &id.to_string()).await? {
                Some((s, t)) => Ok(Some((s.try_into()?, t.try_into()?))),
                None => Ok(None),
            },
        )
        .await
    }

    async fn load_session_messages(
        &self,
        id: SessionId,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<SessionMessageRecord>> {
        self.pooled(async move |c| {
            if limit <= 0 {
                return Ok(Vec::new());
            }
            session_messages_after(c, &id.to_string(), after_seq, limit)
                .await?
                .into_iter()
                .map(SessionMessageRecord::try_from)
                .collect()
        })
        .await
    }
}
