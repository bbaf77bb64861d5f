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
use switchboard_actors::ids::ConversationId;
use switchboard_actors::ports::{ConversationRecord, MessageRecord, StoreResult};

impl Db {
    /// Each conversation's newest message but internal notes and system
    /// lines (the inbox's preview), on one connection: a lookup by the (conversation, seq)
    /// key each.
    pub async fn last_public_messages(
        &self,
        ids: Vec<ConversationId>,
    ) -> StoreResult<Vec<(ConversationId, MessageRecord)>> {
        self.pooled(async move |c| {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(m) = queries::last_public_message(c, &id.to_string()).await? {
                    out.push((id, MessageRecord::try_from(m)?));
                }
            }
            Ok(out)
        })
        .await
    }

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
            let project_ids: Vec<String> = f.project_ids.iter().map(|p| p.to_string()).collect();
            let matching = match f.text.as_deref().map(str::trim) {
                Some(text) if !text.is_empty() => {
                    let words = queries::search_words(text);
                    // Every word somewhere in the conversation: one index
                    // lookup per word, intersected.
                    let mut ids: Option<std::collections::BTreeSet<String>> = None;
                    for w in &words {
                        let mut with_word = std::collections::BTreeSet::new();
                        for p in &project_ids {
                            with_word.extend(queries::conversations_with_word(c, p, w).await?);
                        }
                        ids = Some(match ids {
                            None => with_word,
                            Some(before) => before.intersection(&with_word).cloned().collect(),
                        });
                    }
                    let ids: Vec<String> = ids.unwrap_or_default().into_iter().collect();
                    Some((ids, queries::contains_pattern(&text.to_lowercase())))
                }
                _ => None,
            };
            let tag_like = f
                .tag
                .as_deref()
                .map(|t| queries::contains_pattern(&serde_json::json!(t).to_string()));
            let query = records::ListQuery {
                project_ids,
                status: f.status.map(|s| s.as_str().to_string()),
                assigned_to: f.assigned_to.map(|u| u.to_string()),
                customer_id: f.customer_id.map(|c| c.to_string()),
                matching,
                tag_like,
                cursor: f.cursor.map(|(at, id)| (ts(at), id.to_string())),
                limit: f.limit,
            };
            convert_all(queries::list_conversations(c, &query).await?)
        })
        .await
    }
}
