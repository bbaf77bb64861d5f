//! Invariant checks shared by the scenarios. Each returns `(ok, detail)` for
//! `Report::check`; the detail names the first offender when one breaks.

use super::world::{Conv, World};
use futures::StreamExt;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use switchboard_actors::domain::conversation::ConversationStatus;
use switchboard_actors::engine::conversation::GetConversation;
use switchboard_actors::engine::project::{GetProjectStats, ListAgents};
use switchboard_actors::engine::views::ConversationView;
use switchboard_actors::engine::Caller;
use switchboard_actors::ids::{ConversationId, UserId};
use switchboard_actors::ports::{MessageRecord, SenderType, Store};

/// Every stored message of each conversation, read back through the Store
/// port (call after `engine.flush()`).
pub async fn load_logs(
    store: &Arc<dyn Store>,
    ids: &[ConversationId],
) -> Result<Vec<Vec<MessageRecord>>, String> {
    let loaded: Vec<Result<Vec<MessageRecord>, String>> = futures::stream::iter(ids.to_vec())
        .map(|id| {
            let store = store.clone();
            async move {
                store
                    .load_messages(id, 0, i64::MAX)
                    .await
                    .map_err(|e| format!("read back conversation {id}: {e}"))
            }
        })
        .buffered(8)
        .collect()
        .await;
    loaded.into_iter().collect()
}

/// Each conversation's state as its actor holds it.
pub async fn views(convs: &[Conv]) -> Vec<Result<ConversationView, String>> {
    futures::stream::iter(convs.iter().map(|c| c.addr.clone()))
        .map(|addr| async move {
            addr.send(GetConversation {
                caller: Caller::System,
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
        })
        .buffered(64)
        .collect()
        .await
}

/// Per conversation, stored seqs are 1..n with no gap or repeat.
pub fn seqs_gap_free(logs: &[Vec<MessageRecord>]) -> (bool, String) {
    let mut broken = 0usize;
    let mut first = None;
    let mut total = 0usize;
    for (i, log) in logs.iter().enumerate() {
        total += log.len();
        if let Some((pos, m)) = log
            .iter()
            .enumerate()
            .find(|(pos, m)| m.seq != *pos as i64 + 1)
        {
            broken += 1;
            first.get_or_insert_with(|| {
                format!(
                    "conversation #{i}: position {} holds seq {}",
                    pos + 1,
                    m.seq
                )
            });
        }
    }
    match first {
        None => (
            true,
            format!(
                "{} conversations, {total} stored messages, seqs 1..n each",
                logs.len()
            ),
        ),
        Some(f) => (
            false,
            format!("{broken} conversations with a gap or repeat; first: {f}"),
        ),
    }
}

/// The agents named by a conversation's `agent_joined` system messages.
pub fn joined_agents(log: &[MessageRecord]) -> Vec<String> {
    log.iter()
        .filter(|m| m.sender_type == SenderType::System)
        .filter(|m| m.metadata.get("event").and_then(Value::as_str) == Some("agent_joined"))
        .map(|m| {
            m.metadata
                .get("agent_id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

/// No conversation was assigned to two agents: each stored log holds
/// exactly one `agent_joined` (these scenarios serve each conversation
/// once), and a conversation still `agent_active` is held by that agent.
pub fn one_agent_each(
    logs: &[Vec<MessageRecord>],
    views: &[Result<ConversationView, String>],
) -> (bool, String) {
    let mut bad = Vec::new();
    for (i, (log, view)) in logs.iter().zip(views).enumerate() {
        let joined = joined_agents(log);
        let distinct: BTreeSet<&String> = joined.iter().collect();
        let problem = if joined.len() != 1 {
            Some(format!(
                "{} agent_joined messages ({} agents)",
                joined.len(),
                distinct.len()
            ))
        } else {
            match view {
                Err(e) => Some(format!("unreadable: {e}")),
                Ok(v) if v.status == ConversationStatus::AgentActive => {
                    let holder = v.assigned_agent_id.map(|a| a.to_string());
                    (holder.as_deref() != Some(joined[0].as_str()))
                        .then(|| format!("joined by {} but held by {holder:?}", joined[0]))
                }
                Ok(_) => None,
            }
        };
        if let Some(p) = problem {
            bad.push(format!("conversation #{i}: {p}"));
        }
    }
    if bad.is_empty() {
        (
            true,
            format!(
                "{} conversations, each joined by exactly one agent",
                logs.len()
            ),
        )
    } else {
        (false, format!("{} broken; first: {}", bad.len(), bad[0]))
    }
}

/// Each agent's `current_chat_count` (ListAgents) equals the number of
/// `agent_active` conversations it holds, and is at most its max.
pub async fn agent_counts(
    world: &World,
    views: &[Result<ConversationView, String>],
) -> (bool, String) {
    let agents = match world.project_addr.send(ListAgents).await {
        Ok(a) => a,
        Err(e) => return (false, format!("ListAgents failed: {e}")),
    };
    let mut held: HashMap<UserId, u32> = HashMap::new();
    let mut unreadable = 0usize;
    for v in views {
        match v {
            Ok(v) if v.status == ConversationStatus::AgentActive => {
                if let Some(a) = v.assigned_agent_id {
                    *held.entry(a).or_default() += 1;
                }
            }
            Ok(_) => {}
            Err(_) => unreadable += 1,
        }
    }
    let mut bad = Vec::new();
    let mut total = 0u32;
    for a in &agents {
        let n = held.remove(&a.user_id).unwrap_or(0);
        total += a.current_chat_count;
        if a.current_chat_count != n || a.current_chat_count > a.max_concurrent_chats {
            bad.push(format!(
                "{}: count {} but {n} agent_active, max {}",
                a.name, a.current_chat_count, a.max_concurrent_chats
            ));
        }
    }
    for (user, n) in held {
        bad.push(format!(
            "{n} agent_active conversations held by {user}, not in the ledger"
        ));
    }
    if unreadable > 0 {
        bad.push(format!("{unreadable} conversations unreadable"));
    }
    if bad.is_empty() {
        (
            true,
            format!(
                "{} agents, {total} chats held, each count equals its agent_active conversations and is within its max",
                agents.len()
            ),
        )
    } else {
        (false, format!("{} broken; first: {}", bad.len(), bad[0]))
    }
}

/// The project's queue is empty.
pub async fn queue_empty(world: &World) -> (bool, String) {
    match world.project_addr.send(GetProjectStats).await {
        Ok(s) => (
            s.waiting == 0,
            format!("{} waiting, {} active", s.waiting, s.active),
        ),
        Err(e) => (false, format!("GetProjectStats failed: {e}")),
    }
}
