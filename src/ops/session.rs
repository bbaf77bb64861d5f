//! Billable-session operations both transports offer (seeds 000 and 001):
//! the session chat, typing, the timer's controls, completion, the
//! customer's screen-share answer and the WebRTC signalling relay.

use crate::error::{ApiError, ApiResult};
use crate::http::validate;
use crate::limits::{caller_key, LimitKind};
use crate::state::AppState;
use actix::Addr;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use switchboard_actors::domain::pricing::Tier;
use switchboard_actors::domain::session::SessionAction;
use switchboard_actors::engine::session::{
    AnswerScreenShare, ControlSession, PostSessionMessage, RelaySignal, SessionActor, SessionTyping,
};
use switchboard_actors::engine::{Caller, EngineError};
use switchboard_actors::ids::SessionId;
use switchboard_actors::session_ports::SessionMessageRecord;

/// The session's actor (loaded on demand).
pub async fn actor(state: &AppState, id: SessionId) -> ApiResult<Addr<SessionActor>> {
    match state.sessions.get(id).await {
        Ok(a) => Ok(a),
        Err(EngineError::NotFound(_)) => Err(ApiError::not_found("session not found")),
        Err(e) => Err(e.into()),
    }
}

/// A session chat message as REST's body and the WebSocket's frame carry it.
#[derive(Deserialize)]
pub struct NewSessionMessage {
    pub content: String,
    pub client_msg_id: Option<String>,
}

/// Post to the session chat as `caller`.
pub async fn send_message(
    state: &AppState,
    caller: Caller,
    id: SessionId,
    m: NewSessionMessage,
) -> ApiResult<Arc<SessionMessageRecord>> {
    // The characters conversations refuse (control and bidi override
    // characters, see domain::text); the actor checks length and emptiness.
    if let Some(problem) = switchboard_actors::domain::text::problem(&m.content) {
        return Err(ApiError::field("content", problem));
    }
    state.rate_limit(LimitKind::SessionMessage, &caller_key(&caller))?;
    let post = PostSessionMessage {
        caller,
        content: m.content,
        client_msg_id: m.client_msg_id,
    };
    Ok(actor(state, id).await?.send(post).await??)
}

pub async fn typing(
    state: &AppState,
    caller: Caller,
    id: SessionId,
    is_typing: bool,
) -> ApiResult<()> {
    state.rate_limit(LimitKind::Typing, &caller_key(&caller))?;
    let typing = SessionTyping { caller, is_typing };
    Ok(actor(state, id).await?.send(typing).await??)
}

/// Start, pause, resume or cancel (with an optional reason); a complete
/// goes to [`complete`].
pub async fn control(
    state: &AppState,
    caller: Caller,
    id: SessionId,
    action: SessionAction,
    reason: Option<String>,
) -> ApiResult<Value> {
    let reason = reason
        .map(|r| validate::text("reason", &r, 1, 500))
        .transpose()?;
    let control = ControlSession {
        caller,
        action,
        tier: None,
        reason,
    };
    Ok(json!(actor(state, id).await?.send(control).await??))
}

/// Complete on the chosen tier (the session's current tier when `None`):
/// `{session, pricing, payment}`.
pub async fn complete(
    state: &AppState,
    caller: Caller,
    id: SessionId,
    tier: Option<&str>,
) -> ApiResult<Value> {
    let tier = tier
        .map(|t| {
            Tier::parse(t)
                .ok_or_else(|| ApiError::field("tier", "must be quick, standard or extended"))
        })
        .transpose()?;
    let control = ControlSession {
        caller,
        action: SessionAction::Complete,
        tier,
        reason: None,
    };
    let mut v = json!(actor(state, id).await?.send(control).await??);
    let pricing = v["pricing"].clone();
    let payment = v
        .as_object_mut()
        .and_then(|o| o.remove("payment"))
        .unwrap_or(Value::Null);
    Ok(json!({ "session": v, "pricing": pricing, "payment": payment }))
}

/// The customer's answer to a screen-share request.
pub async fn answer_screen_share(
    state: &AppState,
    caller: Caller,
    id: SessionId,
    accepted: bool,
    peer_id: Option<String>,
) -> ApiResult<Value> {
    let answer = AnswerScreenShare {
        caller,
        accepted,
        peer_id,
    };
    Ok(json!(actor(state, id).await?.send(answer).await??))
}

/// A WebRTC signalling message to the other side (`solver` or `customer`).
pub async fn signal(
    state: &AppState,
    caller: Caller,
    id: SessionId,
    to: String,
    payload: Value,
) -> ApiResult<()> {
    state.rate_limit(LimitKind::Signal, &caller_key(&caller))?;
    let relay = RelaySignal {
        caller,
        to,
        payload,
    };
    Ok(actor(state, id).await?.send(relay).await??)
}
