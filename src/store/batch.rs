//! The writer's group commit: a batch of [`WriteOp`]s from many actors
//! applied in one transaction with as few trips to the database as the
//! backend allows. This is the hot path of every durable message.
//!
//! Before the transaction opens, the ops become rows and the snapshots are
//! coalesced: a conversation (agent ledger row, settings object) written
//! several times in one batch is written once, with its last value, since
//! every `Put*` op carries the whole snapshot. Snapshots go first (messages
//! reference their conversation), then the messages in order.
//!
//! Fork: SQLite runs the whole transaction in one blocking call with
//! diesel's cached prepared statements, instead of one blocking hop per
//! statement; PostgreSQL pipelines the statements of each phase on the
//! connection and inserts messages several rows per statement.

use super::conn::DbConn;
use super::conversations::records::{DbAgent, DbConversation, DbMessage, DbSettings};
use super::convert::{ts, ts_opt};
use super::error::ResultExt;
use super::schema::{
    agent_availability, conversations, handoff_settings, messages, project_members,
};
use super::sessions::{stored_write, SessionWrite};
use super::upsert::conflict_clause;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::{ExpressionMethods, QueryDsl};
use std::collections::HashMap;
use switchboard_actors::ports::{StoreError, StoreResult, WriteOp};

/// Rows per multi-row message insert on PostgreSQL: 10 columns each, well
/// under its 65,535 bind parameters per statement.
const PG_MESSAGE_ROWS_PER_INSERT: usize = 1000;

// The statements, each written once and executed by both the blocking
// (SQLite) and the async (PostgreSQL) path. Conversation and agent rows
// are written with `Upsert` so their statements are prepared once;
// settings change too rarely to matter.
conflict_clause!(
    ConversationConflict,
    conversations,
    (id),
    [
        // customer_id is not here: after creation it belongs to the merge
        // of customers (Db::link_email), which may move a live
        // conversation to another customer while its actor still holds
        // the old id; a snapshot must not move it back.
        project_id,
        visitor_id,
        customer_email,
        customer_name,
        status,
        assigned_agent_id,
        handoff_reason,
        handoff_triggered_at,
        ai_confidence_at_handoff,
        trigger_keyword,
        ai_messages_before_handoff,
        queue_entered_at,
        claimed_at,
        first_response_at,
        resolved_at,
        resolved_by,
        closed_at,
        satisfaction_rating,
        satisfaction_feedback,
        customer_presence,
        customer_last_seen_at,
        auto_close_warning_sent_at,
        source,
        metadata,
        tags,
        created_at,
        updated_at,
        last_message_at,
        customer_email_verified,
    ]
);
macro_rules! upsert_conversation {
    ($row:expr) => {
        $crate::store::upsert::Upsert::<_, $crate::store::batch::ConversationConflict>::new(
            diesel::insert_into(conversations::table).values($row),
        )
    };
}
// `created_at` is kept: the row's first write.
conflict_clause!(
    AgentConflict,
    agent_availability,
    (user_id, project_id),
    [
        status,
        max_concurrent_chats,
        current_chat_count,
        last_seen_at,
        last_assigned_at,
        status_changed_at,
        auto_offline_enabled,
        auto_offline_minutes,
        updated_at,
    ]
);
macro_rules! upsert_agent {
    ($row:expr) => {
        $crate::store::upsert::Upsert::<_, $crate::store::batch::AgentConflict>::new(
            diesel::insert_into(agent_availability::table).values($row),
        )
    };
}
macro_rules! upsert_settings {
    ($row:expr) => {
        diesel::insert_into(handoff_settings::table)
            .values($row)
            .on_conflict(handoff_settings::project_id)
            .do_update()
            .set($row)
    };
}
macro_rules! remove_agent {
    ($project:expr, $user:expr) => {
        diesel::delete(
            agent_availability::table
                .filter(agent_availability::project_id.eq($project))
                .filter(agent_availability::user_id.eq($user)),
        )
    };
}
macro_rules! remove_member {
    ($project:expr, $user:expr) => {
        diesel::delete(
            project_members::table
                .filter(project_members::project_id.eq($project))
                .filter(project_members::user_id.eq($user)),
        )
    };
}
macro_rules! insert_messages {
    ($rows:expr) => {
        diesel::insert_into(messages::table).values($rows)
    };
}
pub(super) use {upsert_agent, upsert_settings};

/// A conversation's lazily written activity times and presence.
struct Touch {
    id: String,
    last_message_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    customer_presence: &'static str,
    customer_last_seen_at: Option<NaiveDateTime>,
}

/// Sets the times unless the row already holds newer ones (a whole-row
/// write in the same or a later batch wins).
macro_rules! touch_conversation {
    ($t:expr) => {
        diesel::update(
            conversations::table
                .filter(conversations::id.eq(&$t.id))
                .filter(conversations::updated_at.le($t.updated_at))
                .filter(conversations::last_message_at.le($t.last_message_at)),
        )
        .set((
            conversations::last_message_at.eq($t.last_message_at),
            conversations::updated_at.eq($t.updated_at),
            conversations::customer_presence.eq($t.customer_presence),
            conversations::customer_last_seen_at.eq($t.customer_last_seen_at),
        ))
    };
}

/// One group commit in stored form.
#[derive(Default)]
pub struct RowBatch {
    conversations: Vec<DbConversation>,
    touches: Vec<Touch>,
    agents: Vec<DbAgent>,
    /// Agents who leave the ledger, as (project id, user id, and the
    /// membership too): deleted after the ledger rows are written.
    removed: Vec<(String, String, bool)>,
    settings: Vec<DbSettings>,
    messages: Vec<DbMessage>,
    /// Billable sessions' rows, written after the rest in op order.
    sessions: Vec<Box<dyn SessionWrite>>,
}

/// Keeps one row per key: a later write replaces the earlier one in place.
fn put<T>(rows: &mut Vec<T>, index: &mut HashMap<String, usize>, key: String, row: T) {
    match index.get(&key) {
        Some(&i) => rows[i] = row,
        None => {
            index.insert(key, rows.len());
            rows.push(row);
        }
    }
}

impl RowBatch {
    /// Converts every op; a value that cannot be stored fails the batch
    /// before anything touches the database.
    pub fn from_ops(ops: Vec<WriteOp>, now: DateTime<Utc>) -> StoreResult<RowBatch> {
        let mut b = RowBatch::default();
        let (mut conv_ix, mut agent_ix, mut settings_ix, mut touch_ix) = (
            HashMap::new(),
            HashMap::new(),
            HashMap::new(),
            HashMap::new(),
        );
        for op in ops {
            if let Some(row) = stored_write(&op) {
                b.sessions.push(row?);
                continue;
            }
            match op {
                WriteOp::PutConversation(c) => {
                    let row = DbConversation::from_record(&c)?;
                    put(&mut b.conversations, &mut conv_ix, row.id.clone(), row);
                }
                WriteOp::InsertMessage(m) => b.messages.push(DbMessage::from_record(&m)?),
                WriteOp::TouchConversation {
                    id,
                    last_message_at,
                    updated_at,
                    customer_presence,
                    customer_last_seen_at,
                } => {
                    let mut row = Touch {
                        id: id.to_string(),
                        last_message_at: ts(last_message_at),
                        updated_at: ts(updated_at),
                        customer_presence: customer_presence.as_str(),
                        customer_last_seen_at: ts_opt(customer_last_seen_at),
                    };
                    if let Some(&i) = touch_ix.get(&row.id) {
                        let earlier: &Touch = &b.touches[i];
                        row.last_message_at = row.last_message_at.max(earlier.last_message_at);
                        // The later touch's presence is the newer one.
                        if row.updated_at < earlier.updated_at {
                            row.customer_presence = earlier.customer_presence;
                            row.customer_last_seen_at = earlier.customer_last_seen_at;
                        }
                        row.updated_at = row.updated_at.max(earlier.updated_at);
                    }
                    put(&mut b.touches, &mut touch_ix, row.id.clone(), row);
                }
                WriteOp::PutAgent(a) => {
                    let row = DbAgent::from_record(&a, now)?;
                    let key = format!("{}/{}", row.user_id, row.project_id);
                    put(&mut b.agents, &mut agent_ix, key, row);
                }
                WriteOp::RemoveAgent {
                    project_id,
                    user_id,
                    leaves_project,
                } => b
                    .removed
                    .push((project_id.to_string(), user_id.to_string(), leaves_project)),
                WriteOp::PutSettings {
                    project_id,
                    settings,
                    at,
                } => {
                    let row = DbSettings::new(project_id, &settings, at)?;
                    put(
                        &mut b.settings,
                        &mut settings_ix,
                        row.project_id.clone(),
                        row,
                    );
                }
                // The billable-session ops, taken above.
                _ => return Err(StoreError::Backend("session op not converted".into())),
            }
        }
        Ok(b)
    }

    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty()
            && self.touches.is_empty()
            && self.agents.is_empty()
            && self.removed.is_empty()
            && self.settings.is_empty()
            && self.messages.is_empty()
            && self.sessions.is_empty()
    }

    /// Applies the batch in one transaction on `conn` (the writer's).
    pub async fn commit(mut self, conn: &mut DbConn) -> StoreResult<()> {
        let sessions = std::mem::take(&mut self.sessions);
        if sessions.is_empty() {
            return match conn {
                DbConn::Sqlite(c) => c
                    .spawn_blocking(move |c| c.immediate_transaction(|c| self.apply_blocking(c)))
                    .await
                    .store(),
                DbConn::Pg(_) => {
                    conn.transaction(async move |c| self.apply_pg(c).await)
                        .await
                }
            };
        }
        // Billable sessions' statements are written for the async
        // connection only: the same transaction, one hop per statement.
        conn.transaction(async move |c| {
            match c {
                DbConn::Sqlite(w) => w
                    .spawn_blocking(move |c| self.apply_blocking(c))
                    .await
                    .store()?,
                DbConn::Pg(_) => self.apply_pg(c).await?,
            }
            for row in &sessions {
                row.apply(c).await?;
            }
            Ok(())
        })
        .await
    }

    fn apply_blocking(&self, c: &mut diesel::SqliteConnection) -> diesel::QueryResult<()> {
        use diesel::RunQueryDsl;
        for row in &self.conversations {
            upsert_conversation!(row).execute(c)?;
        }
        for t in &self.touches {
            touch_conversation!(t).execute(c)?;
        }
        for row in &self.agents {
            upsert_agent!(row).execute(c)?;
        }
        for row in &self.settings {
            upsert_settings!(row).execute(c)?;
        }
        for (project, user, leaves) in &self.removed {
            remove_agent!(project, user).execute(c)?;
            if *leaves {
                remove_member!(project, user).execute(c)?;
            }
        }
        // One row per statement: the statement is prepared once and cached,
        // which SQLite runs faster than re-preparing a multi-row insert.
        for row in &self.messages {
            insert_messages!(row).execute(c)?;
        }
        Ok(())
    }

    /// Pipelined phases, awaited in turn: whole conversation rows, then the
    /// other snapshots, then every message, so a message never reaches the
    /// server before its conversation's row.
    async fn apply_pg(&self, conn: &mut DbConn) -> StoreResult<()> {
        use diesel_async::RunQueryDsl;
        use futures::future::try_join_all;
        let DbConn::Pg(c) = conn else {
            unreachable!("apply_pg on a PostgreSQL connection only")
        };
        let c: &diesel_async::AsyncPgConnection = c;
        let mut snapshots = Vec::new();
        for row in &self.conversations {
            snapshots.push(upsert_conversation!(row).execute(&mut &*c));
        }
        try_join_all(snapshots).await.store()?;
        // After the whole rows they may be older than.
        let mut snapshots = Vec::new();
        for t in &self.touches {
            snapshots.push(touch_conversation!(t).execute(&mut &*c));
        }
        for row in &self.agents {
            snapshots.push(upsert_agent!(row).execute(&mut &*c));
        }
        for row in &self.settings {
            snapshots.push(upsert_settings!(row).execute(&mut &*c));
        }
        try_join_all(snapshots).await.store()?;
        for (project, user, leaves) in &self.removed {
            remove_agent!(project, user)
                .execute(&mut &*c)
                .await
                .store()?;
            if *leaves {
                remove_member!(project, user)
                    .execute(&mut &*c)
                    .await
                    .store()?;
            }
        }
        let inserts = self
            .messages
            .chunks(PG_MESSAGE_ROWS_PER_INSERT)
            .map(|rows| insert_messages!(rows).execute(&mut &*c));
        try_join_all(inserts).await.store()?;
        Ok(())
    }
}
