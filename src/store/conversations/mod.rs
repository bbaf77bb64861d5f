//! Live chat in the store: conversations, their messages, the agents'
//! capacity ledger and the projects' handoff settings. Laid out as every
//! area of the store: `records`, `queries` (reads), `writes`, `port` (the
//! engine's `Store`), and here the operations on [`Db`] the HTTP side runs
//! directly on closed conversations and the conversation list.

mod port;
pub(crate) mod queries;
pub(crate) mod records;
pub(crate) mod writes;

use crate::store::convert::{convert_all, ts};
use crate::store::db::Db;
use records::*;
use switchboard_actors::ports::{ConversationRecord, StoreResult};

impl Db {
    /// The dashboard list: newest `last_message_at` first (ties by id
    /// descending), strictly after `f.cursor`, at most `f.limit` rows.
    pub async fn list_conversations(
        &self,
        f: &ConversationFilter,
    ) -> StoreResult<Vec<ConversationRecord>> {
        let f = f.clone();
        self.pooled(async move |c| {
            if f.project_ids.is_empty() || f.limit <= 0 {
                return Ok(Vec::new());
            }
            let query = records::ListQuery {
                project_ids: f.project_ids.iter().map(|p| p.to_string()).collect(),
                status: f.status.map(|s| s.as_str().to_string()),
                assigned_to: f.assigned_to.map(|u| u.to_string()),
                customer_id: f.customer_id.map(|c| c.to_string()),
                cursor: f.cursor.map(|(at, id)| (ts(at), id.to_string())),
                limit: f.limit,
            };
            convert_all(queries::list_conversations(c, &query).await?)
        })
        .await
    }
}
