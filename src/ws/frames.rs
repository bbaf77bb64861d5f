//! The frames a client sends (docs/protocol.md section 4), parsed into one
//! typed enum before anything acts on them. A frame that does not parse
//! (an unknown op, a missing field, a wrong type) is a malformed frame,
//! `BAD_REQUEST`, as a REST body that does not deserialize is.

use crate::error::ApiError;
use serde::Deserialize;
use serde_json::Value;
use switchboard_actors::ids::{ConversationId, ProjectId, SessionId, UserId};

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Frame {
    Auth {
        token: String,
    },
    Ping,
    Subscribe {
        channel: String,
        after_seq: Option<i64>,
    },
    Unsubscribe {
        channel: String,
    },
    /// To a conversation, or with `session_id` to a billable session.
    SendMessage {
        session_id: Option<SessionId>,
        conversation_id: Option<ConversationId>,
        content: String,
        client_msg_id: Option<String>,
        /// Conversations only.
        metadata: Option<Value>,
    },
    Typing {
        session_id: Option<SessionId>,
        conversation_id: Option<ConversationId>,
        is_typing: bool,
    },
    Presence {
        conversation_id: ConversationId,
        status: String,
    },
    Heartbeat {
        project_id: ProjectId,
    },
    SetStatus {
        project_id: ProjectId,
        status: String,
    },
    Claim {
        conversation_id: ConversationId,
    },
    Resolve {
        conversation_id: ConversationId,
    },
    Transfer {
        conversation_id: ConversationId,
        to_agent_id: Option<UserId>,
    },
    /// `PATCH /api/conversations/:id` as a frame.
    UpdateConversation {
        conversation_id: ConversationId,
        tags: Option<Vec<String>>,
        customer_name: Option<String>,
        customer_email: Option<String>,
        status: Option<String>,
    },
    SessionControl {
        session_id: SessionId,
        action: String,
        tier: Option<String>,
        reason: Option<String>,
    },
    ScreenShareAnswer {
        session_id: SessionId,
        accepted: bool,
        peer_id: Option<String>,
    },
    Signal {
        session_id: SessionId,
        to: String,
        payload: Value,
    },
}

/// What a frame is about: a conversation or a billable session.
pub enum Target {
    Conversation(ConversationId),
    Session(SessionId),
}

/// A send's or a typing's target: `session_id` when given, else
/// `conversation_id`, which is then required.
pub fn target(
    session_id: Option<SessionId>,
    conversation_id: Option<ConversationId>,
) -> Result<Target, ApiError> {
    match (session_id, conversation_id) {
        (Some(s), _) => Ok(Target::Session(s)),
        (None, Some(c)) => Ok(Target::Conversation(c)),
        (None, None) => Err(ApiError::bad_request("missing field \"conversation_id\"")),
    }
}

/// The op of a frame, which must be a string.
pub fn op(v: &Value) -> Result<&str, ApiError> {
    v.get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("a frame needs a string \"op\""))
}

/// Parse a frame (its `op` is known to be a string); serde's complaint
/// is told in the words of the contract.
pub fn parse(v: Value) -> Result<Frame, ApiError> {
    let op = op(&v)?.to_string();
    let frame: Frame = serde_json::from_value(v).map_err(|e| {
        let text = e.to_string();
        if text.starts_with("unknown variant") {
            ApiError::bad_request(format!("unknown op {op:?}"))
        } else if let Some(field) = text
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            ApiError::bad_request(format!("missing field \"{field}\""))
        } else {
            ApiError::bad_request(format!("malformed {op:?} frame: {text}"))
        }
    })?;
    if let Frame::Subscribe {
        after_seq: Some(n), ..
    } = &frame
    {
        if *n < 0 {
            return Err(ApiError::bad_request(
                "\"after_seq\" must be a whole number >= 0",
            ));
        }
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(v: Value) -> String {
        match parse(v) {
            Ok(_) => "ok".into(),
            Err(e) => format!("{}: {}", e.code, e.message),
        }
    }

    #[test]
    fn frames_parse_with_the_contracts_errors() {
        assert_eq!(message(json!({ "op": "ping", "ref": 1 })), "ok");
        assert_eq!(
            message(json!({ "op": "dance" })),
            "BAD_REQUEST: unknown op \"dance\""
        );
        assert_eq!(
            message(json!({ "op": "subscribe" })),
            "BAD_REQUEST: missing field \"channel\""
        );
        assert!(message(json!({ "op": "subscribe", "channel": 12 })).starts_with("BAD_REQUEST"));
        assert_eq!(
            message(json!({ "op": "subscribe", "channel": "x", "after_seq": -1 })),
            "BAD_REQUEST: \"after_seq\" must be a whole number >= 0"
        );
        assert!(
            message(json!({ "op": "typing", "conversation_id": "x", "is_typing": true }))
                .starts_with("BAD_REQUEST")
        );
        assert_eq!(
            message(json!({ "op": "signal", "session_id": uuid::Uuid::new_v4(), "to": "solver" })),
            "BAD_REQUEST: missing field \"payload\""
        );
    }
}
