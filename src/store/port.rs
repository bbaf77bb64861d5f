//! The engine's [`Store`] port on [`Db`]: loading snapshots at start and on
//! demand (pooled connections), and `commit`, which applies a group of
//! [`WriteOp`]s in one transaction on the writer's own connection.

use super::db::{detached, Db};
use super::queries as q;
use super::rows::{agent_record, convert_all, ts, DbAgent, DbConversation, DbMessage, DbSettings};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use switchboard_actors::domain::settings::HandoffSettings;
use switchboard_actors::ids::{ConversationId, ProjectId};
use switchboard_actors::ports::{
    AgentRecord, ConversationRecord, MessageRecord, ProjectSnapshot, Store, StoreError,
    StoreResult, WriteOp,
};

/// A write op in stored form, converted before the transaction opens so a
/// value that cannot be stored fails the batch without touching the file.
enum RowOp {
    Conversation(Box<DbConversation>),
    Message(DbMessage),
    Agent(DbAgent),
    Settings(DbSettings),
    /// Billable sessions' ops (see `sessions.rs`).
    Session(super::sessions::SessionRowOp),
}

impl RowOp {
    fn from_op(op: WriteOp, now: DateTime<Utc>) -> StoreResult<RowOp> {
        if let Some(row) = super::sessions::SessionRowOp::from_op(&op) {
            return row.map(RowOp::Session);
        }
        Ok(match op {
            WriteOp::PutConversation(c) => {
                RowOp::Conversation(Box::new(DbConversation::from_record(&c)?))
            }
            WriteOp::InsertMessage(m) => RowOp::Message(DbMessage::from_record(&m)?),
            WriteOp::PutAgent(a) => RowOp::Agent(DbAgent::from_record(&a, now)?),
            WriteOp::PutSettings {
                project_id,
                settings,
                at,
            } => RowOp::Settings(DbSettings::new(project_id, &settings, at)?),
            WriteOp::PutTicket(_)
            | WriteOp::PutSession(_)
            | WriteOp::InsertSessionMessage(_)
            | WriteOp::InsertSms(_)
            | WriteOp::PutPayment(_) => {
                return Err(StoreError::Backend("session op not converted".into()))
            }
        })
    }
}

#[async_trait]
impl Store for Db {
    async fn list_project_ids(&self) -> StoreResult<Vec<ProjectId>> {
        let db = self.clone();
        detached(async move {
            q::project_ids(&mut *db.conn().await?)
                .await?
                .iter()
                .map(|id| {
                    id.parse()
                        .map_err(|e| super::error::corrupt("projects.id", format!("{id:?}: {e}")))
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
            let Some(project) = q::project(&mut conn, &key).await? else {
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
        let db = self.clone();
        detached(async move {
            q::agents(&mut *db.conn().await?, &project_id.to_string())
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
        let db = self.clone();
        detached(async move {
            convert_all(
                q::live_conversations(&mut *db.conn().await?, &project_id.to_string()).await?,
            )
        })
        .await
    }

    async fn load_conversation(
        &self,
        id: ConversationId,
    ) -> StoreResult<Option<ConversationRecord>> {
        let db = self.clone();
        detached(async move {
            q::conversation(&mut *db.conn().await?, &id.to_string())
                .await?
                .map(ConversationRecord::try_from)
                .transpose()
        })
        .await
    }

    async fn load_messages(
        &self,
        conversation_id: ConversationId,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<MessageRecord>> {
        let db = self.clone();
        detached(async move {
            if limit <= 0 {
                return Ok(Vec::new());
            }
            convert_all(
                q::messages_after(
                    &mut *db.conn().await?,
                    &conversation_id.to_string(),
                    after_seq,
                    limit,
                )
                .await?,
            )
        })
        .await
    }

    async fn load_recent_messages(
        &self,
        conversation_id: ConversationId,
        limit: i64,
    ) -> StoreResult<Vec<MessageRecord>> {
        let db = self.clone();
        detached(async move {
            if limit <= 0 {
                return Ok(Vec::new());
            }
            let mut rows =
                q::messages_newest(&mut *db.conn().await?, &conversation_id.to_string(), limit)
                    .await?;
            rows.reverse();
            convert_all(rows)
        })
        .await
    }

    async fn last_seq(&self, conversation_id: ConversationId) -> StoreResult<i64> {
        let db = self.clone();
        detached(async move {
            Ok(
                q::max_seq(&mut *db.conn().await?, &conversation_id.to_string())
                    .await?
                    .unwrap_or(0),
            )
        })
        .await
    }

    async fn find_message_by_client_id(
        &self,
        conversation_id: ConversationId,
        client_msg_id: &str,
    ) -> StoreResult<Option<MessageRecord>> {
        let (db, client_msg_id) = (self.clone(), client_msg_id.to_string());
        detached(async move {
            q::message_by_client_id(
                &mut *db.conn().await?,
                &conversation_id.to_string(),
                &client_msg_id,
            )
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
        let db = self.clone();
        detached(async move {
            let pairs =
                q::handling_times(&mut *db.conn().await?, &project_id.to_string(), ts(since))
                    .await?;
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
            if ops.is_empty() {
                return Ok(());
            }
            let now = Utc::now();
            let rows = ops
                .into_iter()
                .map(|op| RowOp::from_op(op, now))
                .collect::<StoreResult<Vec<RowOp>>>()?;
            let mut writer = db.writer().await?;
            writer
                .transaction(async move |c| {
                    for row in &rows {
                        match row {
                            RowOp::Conversation(r) => q::upsert_conversation(c, r).await?,
                            RowOp::Message(r) => q::insert_message(c, r).await?,
                            RowOp::Agent(r) => q::upsert_agent(c, r).await?,
                            RowOp::Settings(r) => q::upsert_settings(c, r).await?,
                            RowOp::Session(r) => r.apply(c).await?,
                        }
                    }
                    Ok(())
                })
                .await
        })
        .await
    }
}
