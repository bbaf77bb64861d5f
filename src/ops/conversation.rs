//! Conversation operations: read, send, typing, presence, claim, resolve,
//! transfer, close, notes, edits (tags, contact details, status) and the
//! rating.

use crate::auth::StaffAuth;
use crate::error::{ApiError, ApiResult};
use crate::http::identity::contact_name;
use crate::http::metadata;
use crate::http::validate;
use crate::http::widget::MAX_METADATA_BYTES;
use crate::limits::{caller_key, LimitKind};
use crate::state::AppState;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use switchboard_actors::domain::conversation::ConversationStatus;
use switchboard_actors::domain::inactivity::CustomerPresence;
use switchboard_actors::engine::conversation::{
    Close, CustomerPresenceUpdate, EditConversation, EditStatus, GetConversation, PostMessage,
    PostNote, RateConversation, Resolve, Transfer, Typing,
};
use switchboard_actors::engine::project::{Claim, QueueInfo};
use switchboard_actors::engine::views::{ConversationView, CustomerConversationView};
use switchboard_actors::engine::Caller;
use switchboard_actors::ids::{ConversationId, UserId};
use switchboard_actors::ports::MessageRecord;

/// The JSON of a conversation view for `caller`: its customer gets the
/// whitelisted customer view (no tags, metadata, handoff or AI context),
/// staff and bots the whole view. Every answer that carries a view to a
/// caller who may be the customer goes through here.
pub fn view_body(caller: &Caller, view: &ConversationView) -> Value {
    match caller {
        Caller::Customer { .. } => json!(CustomerConversationView::from(view)),
        _ => json!(view),
    }
}

/// The conversation's current view as `caller` may see it, with a fresh
/// queue position while it waits.
pub async fn view_of(
    state: &AppState,
    caller: &Caller,
    id: ConversationId,
) -> ApiResult<ConversationView> {
    let get = GetConversation {
        caller: caller.clone(),
    };
    let mut v = state.engine.ask_conversation(id, get).await?;
    if v.status == ConversationStatus::Waiting {
        let project = state.engine.project(v.project_id).await?;
        let info = QueueInfo {
            conversation_id: id,
        };
        if let Some((p, e)) = project.addr.send(info).await? {
            v.queue_position = Some(p);
            v.estimated_wait_minutes = Some(e);
        }
    }
    Ok(v)
}

/// A chat message as REST's body and the WebSocket's frame carry it.
#[derive(Deserialize)]
pub struct NewMessage {
    pub content: String,
    pub client_msg_id: Option<String>,
    pub metadata: Option<Value>,
}

/// A chat message's metadata, checked for `caller`: a customer's is kept
/// to known keys (it is shown with the message and must not pass for an
/// agent's or the AI's); staff and bots may attach any object (a bot's
/// `confidence` drives handoffs). The content is the actor's to check.
fn check_metadata(caller: &Caller, metadata: Option<&Value>) -> ApiResult<()> {
    match (metadata, caller) {
        (Some(m), Caller::Customer { .. }) => metadata::check_customer(m, metadata::MESSAGE_KEYS),
        (Some(m), _) if !m.is_object() => Err(ApiError::field("metadata", "must be an object")),
        (Some(m), _) if m.to_string().len() > MAX_METADATA_BYTES => {
            Err(ApiError::too_large("metadata is larger than 16 KiB"))
        }
        _ => Ok(()),
    }
}

/// Post as `caller`. A retry (same `client_msg_id`) answers the first
/// message, even once the conversation is closed.
pub async fn send_message(
    state: &AppState,
    caller: Caller,
    id: ConversationId,
    m: NewMessage,
) -> ApiResult<Arc<MessageRecord>> {
    // Seed 003 8.3: a visitor sends at most so many messages a minute,
    // over REST and WebSocket alike; refused before anything is stored.
    if let Caller::Customer {
        project_id,
        visitor_id,
    } = &caller
    {
        state.rate_limit(
            LimitKind::WidgetMessage,
            &format!("{project_id}:{visitor_id}"),
        )?;
    }
    check_metadata(&caller, m.metadata.as_ref())?;
    let post = PostMessage {
        caller,
        content: m.content,
        client_msg_id: m.client_msg_id,
        metadata: m.metadata.unwrap_or_else(|| json!({})),
    };
    Ok(state.engine.ask_conversation(id, post).await?)
}

/// Typing on or off (ephemeral).
pub async fn typing(
    state: &AppState,
    caller: Caller,
    id: ConversationId,
    is_typing: bool,
) -> ApiResult<()> {
    state.rate_limit(LimitKind::Typing, &caller_key(&caller))?;
    let typing = Typing { caller, is_typing };
    Ok(state.engine.ask_conversation(id, typing).await?)
}

/// The widget's presence signal (seed 003 5.12).
pub async fn presence(
    state: &AppState,
    caller: Caller,
    id: ConversationId,
    status: &str,
) -> ApiResult<()> {
    let status = CustomerPresence::parse(status).ok_or_else(|| {
        ApiError::field(
            "status",
            "must be online, idle, typing, offline or background",
        )
    })?;
    state.rate_limit(LimitKind::Typing, &caller_key(&caller))?;
    let update = CustomerPresenceUpdate { caller, status };
    Ok(state.engine.ask_conversation(id, update).await?)
}

/// Claim as an agent of the conversation's project: the claimed view.
pub async fn claim(
    state: &AppState,
    auth: &StaffAuth,
    id: ConversationId,
) -> ApiResult<ConversationView> {
    let view = view_of(state, &auth.0, id).await?;
    auth.agent_of(view.project_id)?;
    let project = state.engine.project(view.project_id).await?;
    project
        .addr
        .send(Claim {
            conversation_id: id,
            agent_id: auth.1.user_id,
        })
        .await??;
    view_of(state, &auth.0, id).await
}

pub async fn resolve(
    state: &AppState,
    auth: &StaffAuth,
    id: ConversationId,
) -> ApiResult<ConversationView> {
    let caller = auth.0.clone();
    Ok(state
        .engine
        .ask_conversation(id, Resolve { caller })
        .await?)
}

/// Back to the queue (`to` None) or to another agent.
pub async fn transfer(
    state: &AppState,
    auth: &StaffAuth,
    id: ConversationId,
    to: Option<UserId>,
) -> ApiResult<ConversationView> {
    let caller = auth.0.clone();
    Ok(state
        .engine
        .ask_conversation(id, Transfer { caller, to })
        .await?)
}

pub async fn close(
    state: &AppState,
    caller: Caller,
    id: ConversationId,
) -> ApiResult<ConversationView> {
    Ok(state.engine.ask_conversation(id, Close { caller }).await?)
}

/// An internal note (never shown to the customer).
pub async fn note(
    state: &AppState,
    auth: &StaffAuth,
    id: ConversationId,
    content: String,
) -> ApiResult<Arc<MessageRecord>> {
    let caller = auth.0.clone();
    Ok(state
        .engine
        .ask_conversation(id, PostNote { caller, content })
        .await?)
}

/// A staff edit of a conversation (`PATCH /api/conversations/:id`, the
/// WebSocket's `update_conversation`): any of tags, the customer's name
/// and email as contact details, and `status` "resolved" or "closed".
#[derive(Deserialize, Default)]
pub struct ConversationEdit {
    pub tags: Option<Vec<String>>,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub status: Option<String>,
}

/// Every field is checked before anything changes; what changes is one
/// write of the conversation (src/ops is the one place both transports
/// come through).
pub async fn edit(
    state: &AppState,
    auth: &StaffAuth,
    id: ConversationId,
    e: ConversationEdit,
) -> ApiResult<ConversationView> {
    let status = match e.status.as_deref() {
        None => None,
        Some("resolved") => Some(EditStatus::Resolved),
        Some("closed") => Some(EditStatus::Closed),
        Some(_) => {
            return Err(ApiError::field(
                "status",
                "must be \"resolved\" or \"closed\" (a handoff, a claim or a transfer has its own operation)",
            ))
        }
    };
    let customer_email = e
        .customer_email
        .as_deref()
        .map(|m| validate::email("customer_email", m))
        .transpose()?;
    let customer_name = contact_name("customer_name", e.customer_name.as_deref())?;
    if e.tags.is_none() && customer_email.is_none() && customer_name.is_none() && status.is_none() {
        return Err(ApiError::bad_request(
            "nothing to change: give tags, customer_name, customer_email or status",
        ));
    }
    let msg = EditConversation {
        caller: auth.0.clone(),
        tags: e.tags,
        customer_name,
        customer_email,
        status,
    };
    Ok(state.engine.ask_conversation(id, msg).await?)
}

/// The customer's satisfaction rating: by the actor while the
/// conversation is live (resolved), by the engine once it is closed.
pub async fn rate(
    state: &AppState,
    caller: Caller,
    id: ConversationId,
    rating: i64,
    feedback: Option<String>,
) -> ApiResult<ConversationView> {
    if !matches!(caller, Caller::Customer { .. }) {
        return Err(ApiError::forbidden(
            "only the customer rates a conversation",
        ));
    }
    let msg = RateConversation {
        caller,
        rating,
        feedback,
    };
    Ok(state.engine.ask_conversation(id, msg).await?)
}
