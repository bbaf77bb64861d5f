//! The engine's [`Store`] port on [`Db`]: loading snapshots at start and on
//! demand (pooled connections), and `commit`, which applies a group of
//! [`WriteOp`]s in one transaction on the writer's own connection.

use super::queries as q;
use super::records::agent_record;
use super::writes;
use crate::store::accounts::queries::{project, project_ids};
use crate::store::batch::RowBatch;
use crate::store::convert::{convert_all, ts};
use crate::store::db::{detached, Db};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use switchboard_actors::domain::settings::HandoffSettings;
use switchboard_actors::ids::{ConversationId, ProjectId};
use switchboard_actors::ports::{
    AgentRecord, ConversationRecord, MessageIndex, MessageRecord, ProjectSnapshot, SenderType,
    Store, StoreResult, WriteOp,
};

#[async_trait]
impl Store for Db {
    async fn list_project_ids(&self) -> StoreResult<Vec<ProjectId>> {
        self.pooled(async move |c| {
            project_ids(c)
                .await?
                .iter()
                .map(|id| {
                    id.parse().map_err(|e| {
                        crate::store::error::corrupt("projects.id", format!("{id:?}: {e}"))
                    })
                })
                .collect()
        })
        .await
    }

    async fn load_project(&self, id: ProjectId) -> StoreResult<Option<ProjectSnapshot>> {
        let db = self.clone();
        detached(async move {
            let mut conn = db.conn().await?;
            let key = id.to_string();
            let Some(project) = project(&mut conn, &key).await? else {
                return Ok(None);
            };
            let settings = match q::settings(&mut conn, &key).await? {
                Some(row) => HandoffSettings::try_from(row)?,
                None => HandoffSettings::default(),
            };
            Ok(Some(ProjectSnapshot {
                id,
                name: project.name,
                settings,
            }))
        })
        .await
    }

    async fn load_agents(&self, project_id: ProjectId) -> StoreResult<Vec<AgentRecord>> {
        self.pooled(async move |c| {
            q::agents(c, &project_id.to_string())
                .await?
                .into_iter()
                .map(agent_record)
                .collect()
        })
        .await
    }

    async fn load_live_conversations(
        &self,
        project_id: ProjectId,
    ) -> StoreResult<Vec<ConversationRecord>> {
        self.pooled(async move |c| {
            convert_all(q::live_conversations(c, &project_id.to_string()).await?)
        })
        .await
    }

    async fn load_conversation(
        &self,
        id: ConversationId,
    ) -> StoreResult<Option<ConversationRecord>> {
        self.pooled(async move |c| {
            q::conversation(c, &id.to_string())
                .await?
                .map(ConversationRecord::try_from)
                .transpose()
        })
        .await
    }

    async fn rate_closed_conversation(
        &self,
        id: ConversationId,
        rating: i32,
        feedback: Option<String>,
    ) -> StoreResult<bool> {
        self.pooled(async move |c| {
            let n =
                writes::rate_closed_conversation(c, &id.to_string(), rating, feedback.as_deref())
                    .await?;
            Ok(n == 1)
        })
        .await
    }

    async fn load_messages(
        &self,
        conversation_id: ConversationId,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<MessageRecord>> {
        self.pooled(async move |c| {
            if limit <= 0 {
                return Ok(Vec::new());
            }
            convert_all(q::messages_after(c, &conversation_id.to_string(), after_seq, limit).await?)
        })
        .await
    }

    async fn load_recent_messages(
        &self,
        conversation_id: ConversationId,
        limit: i64,
    ) -> StoreResult<Vec<MessageRecord>> {
        self.pooled(async move |c| {
            if limit <= 0 {
                return Ok(Vec::new());
            }
            let mut rows = q::messages_newest(c, &conversation_id.to_string(), limit).await?;
            rows.reverse();
            convert_all(rows)
        })
        .await
    }

    async fn load_message_index(
        &self,
        conversation_id: ConversationId,
    ) -> StoreResult<MessageIndex> {
        let db = self.clone();
        detached(async move {
            let id = conversation_id.to_string();
            let mut conn = db.conn().await?;
            let client_ids = q::message_client_ids(&mut conn, &id)
                .await?
                .into_iter()
                .filter_map(|(c, seq)| c.map(|c| (c, seq)))
                .collect();
            let ai = SenderType::Ai.as_str();
            let ai_messages = q::count_messages_by_sender(&mut conn, &id, ai).await?;
            Ok(MessageIndex {
                client_ids,
                ai_messages,
            })
        })
        .await
    }

    async fn last_seq(&self, conversation_id: ConversationId) -> StoreResult<i64> {
        self.pooled(async move |c| {
            Ok(q::max_seq(c, &conversation_id.to_string())
                .await?
                .unwrap_or(0))
        })
        .await
    }

    async fn find_message_by_client_id(
        &self,
        conversation_id: ConversationId,
        client_msg_id: &str,
    ) -> StoreResult<Option<MessageRecord>> {
        let client_msg_id = client_msg_id.to_string();
        self.pooled(async move |c| {
            q::message_by_client_id(c, &conversation_id.to_string(), &client_msg_id)
                .await?
                .map(MessageRecord::try_from)
                .transpose()
        })
        .await
    }

    async fn avg_handling_minutes(
        &self,
        project_id: ProjectId,
        since: DateTime<Utc>,
    ) -> StoreResult<Option<f64>> {
        self.pooled(async move |c| {
            let pairs = q::handling_times(c, &project_id.to_string(), ts(since)).await?;
            let minutes: Vec<f64> = pairs
                .into_iter()
                .filter_map(|(claimed, resolved)| Some((claimed?, resolved?)))
                .map(|(claimed, resolved)| {
                    (resolved - claimed).num_milliseconds() as f64 / 60_000.0
                })
                .collect();
            if minutes.is_empty() {
                return Ok(None);
            }
            Ok(Some(minutes.iter().sum::<f64>() / minutes.len() as f64))
        })
        .await
    }

    async fn commit(&self, ops: Vec<WriteOp>) -> StoreResult<()> {
        let db = self.clone();
        detached(async move {
            let batch = RowBatch::from_ops(ops, Utc::now())?;
            if batch.is_empty() {
                return Ok(());
            }
            batch.commit(&mut *db.writer().await?).await
        })
        .await
    }
}
