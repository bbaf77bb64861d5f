//! The conversation status machine of seed 003 §5.2: the five statuses, the
//! events that move a conversation between them, and the single
//! [`transition`] function that is the only authority on which moves are
//! legal.

use crate::string_enum;

string_enum! {
    /// Where a conversation stands (seed 003 §5.2.2). Serialized in snake_case,
    /// exactly as stored and sent on the wire.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum ConversationStatus: serde {
        /// The customer is chatting with the AI.
        AiActive = "ai_active",
        /// Handed off, waiting in the queue for an agent.
        Waiting = "waiting",
        /// In a live chat with its assigned agent.
        AgentActive = "agent_active",
        /// Marked resolved by the agent; a customer reply reopens it.
        Resolved = "resolved",
        /// Ended. Terminal: nothing moves a conversation out of here.
        Closed = "closed",
    }
}

impl ConversationStatus {
    /// Only `closed` is terminal; `resolved` can still be reopened.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Closed)
    }

    /// A readable phrase for messages ("a conversation that is ...").
    pub fn label(&self) -> &'static str {
        match self {
            Self::AiActive => "with the AI",
            Self::Waiting => "waiting for an agent",
            Self::AgentActive => "with an agent",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }
}

string_enum! {
    /// Something that happens to a conversation and may move it (seed 003 §5.2.4).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ConversationEvent {
        /// The AI, a keyword or the customer's button asks for a human.
        Handoff = "handoff",
        /// An agent takes the conversation (manually or by auto-assignment).
        Claim = "claim",
        /// The agent marks the conversation resolved.
        Resolve = "resolve",
        /// The agent releases the conversation back to the queue.
        TransferToQueue = "transfer_to_queue",
        /// The agent hands the conversation directly to another agent.
        TransferToAgent = "transfer_to_agent",
        /// The customer sends a message; reopens a resolved conversation.
        CustomerReply = "customer_reply",
        /// The customer or a staff member closes the conversation.
        Close = "close",
        /// The inactivity job closes an idle conversation.
        InactivityTimeout = "inactivity_timeout",
    }
}

impl ConversationEvent {
    /// A readable verb phrase for messages ("cannot ... a conversation").
    pub fn verb(&self) -> &'static str {
        match self {
            Self::Handoff => "hand off",
            Self::Claim => "claim",
            Self::Resolve => "resolve",
            Self::TransferToQueue => "transfer to the queue",
            Self::TransferToAgent => "transfer to another agent",
            Self::CustomerReply => "reopen on a customer reply",
            Self::Close => "close",
            Self::InactivityTimeout => "time out",
        }
    }
}

/// A refused move. The message reads e.g. "cannot claim a conversation that
/// is closed".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a conversation that is {}", .event.verb(), .from.label())]
pub struct TransitionError {
    pub from: ConversationStatus,
    pub event: ConversationEvent,
}

/// The status a conversation in `from` moves to on `event`, or the refusal.
///
/// | event               | from                                      | to             |
/// |---------------------|-------------------------------------------|----------------|
/// | `Handoff`           | `ai_active`                               | `waiting`      |
/// | `Claim`             | `waiting`                                 | `agent_active` |
/// | `Resolve`           | `agent_active`                            | `resolved`     |
/// | `TransferToQueue`   | `agent_active`                            | `waiting`      |
/// | `TransferToAgent`   | `agent_active`                            | `agent_active` |
/// | `CustomerReply`     | `resolved`                                | `agent_active` |
/// | `Close`             | any non-terminal                          | `closed`       |
/// | `InactivityTimeout` | any non-terminal                          | `closed`       |
///
/// Everything else is refused; in particular nothing leaves `closed`.
/// `CustomerReply` outside `resolved` is refused too: the caller decides
/// whether that is an error or simply "no status change".
pub fn transition(
    from: ConversationStatus,
    event: ConversationEvent,
) -> Result<ConversationStatus, TransitionError> {
    use ConversationEvent as E;
    use ConversationStatus as S;

    let to = match (event, from) {
        (E::Handoff, S::AiActive) => Some(S::Waiting),
        (E::Claim, S::Waiting) => Some(S::AgentActive),
        (E::Resolve, S::AgentActive) => Some(S::Resolved),
        (E::TransferToQueue, S::AgentActive) => Some(S::Waiting),
        (E::TransferToAgent, S::AgentActive) => Some(S::AgentActive),
        (E::CustomerReply, S::Resolved) => Some(S::AgentActive),
        // Seed 003 §5.2.2 lists no `agent_active -> closed` edge, but we
        // deliberately allow closing from every non-terminal status,
        // `agent_active` included: a customer who closes the widget or a
        // staff member who closes the chat must not be refused, and leaving
        // the conversation open would hold an agent slot forever. The caller
        // releases the agent's slot as for any move out of `agent_active`.
        (E::Close, s) if !s.is_terminal() => Some(S::Closed),
        (E::InactivityTimeout, S::AiActive | S::Waiting | S::AgentActive | S::Resolved) => {
            Some(S::Closed)
        }
        _ => None,
    };
    to.ok_or(TransitionError { from, event })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ConversationEvent as E;
    use ConversationStatus as S;

    /// The whole table, written independently of `transition`'s match.
    fn expected(from: S, event: E) -> Option<S> {
        match event {
            E::Handoff => (from == S::AiActive).then_some(S::Waiting),
            E::Claim => (from == S::Waiting).then_some(S::AgentActive),
            E::Resolve => (from == S::AgentActive).then_some(S::Resolved),
            E::TransferToQueue => (from == S::AgentActive).then_some(S::Waiting),
            E::TransferToAgent => (from == S::AgentActive).then_some(S::AgentActive),
            E::CustomerReply => (from == S::Resolved).then_some(S::AgentActive),
            E::Close | E::InactivityTimeout => (from != S::Closed).then_some(S::Closed),
        }
    }

    #[test]
    fn whole_table_every_status_times_every_event() {
        let allowed =
            crate::domain::check_whole_table(&S::ALL, &E::ALL, transition, |from, event| {
                expected(from, event).ok_or(TransitionError { from, event })
            });
        // 6 single edges + Close and InactivityTimeout from 4 statuses each.
        assert_eq!(allowed, 6 + 4 + 4);
    }

    #[test]
    fn explicit_rows() {
        assert_eq!(transition(S::AiActive, E::Handoff), Ok(S::Waiting));
        assert_eq!(transition(S::Waiting, E::Claim), Ok(S::AgentActive));
        assert_eq!(transition(S::AgentActive, E::Resolve), Ok(S::Resolved));
        assert_eq!(
            transition(S::AgentActive, E::TransferToQueue),
            Ok(S::Waiting)
        );
        assert_eq!(
            transition(S::AgentActive, E::TransferToAgent),
            Ok(S::AgentActive)
        );
        assert_eq!(
            transition(S::Resolved, E::CustomerReply),
            Ok(S::AgentActive)
        );
        assert_eq!(transition(S::AgentActive, E::Close), Ok(S::Closed));
        assert_eq!(transition(S::Resolved, E::Close), Ok(S::Closed));
        assert_eq!(
            transition(S::AgentActive, E::InactivityTimeout),
            Ok(S::Closed)
        );
        assert!(transition(S::Waiting, E::Handoff).is_err());
        assert!(transition(S::AiActive, E::Claim).is_err());
        assert!(transition(S::Resolved, E::Claim).is_err());
        assert!(transition(S::AiActive, E::CustomerReply).is_err());
        assert!(transition(S::AgentActive, E::CustomerReply).is_err());
        assert!(transition(S::Waiting, E::Resolve).is_err());
    }

    #[test]
    fn closed_refuses_everything() {
        for event in E::ALL {
            assert_eq!(
                transition(S::Closed, event),
                Err(TransitionError {
                    from: S::Closed,
                    event
                })
            );
        }
    }

    #[test]
    fn only_closed_is_terminal() {
        let terminal: Vec<_> = S::ALL.into_iter().filter(S::is_terminal).collect();
        assert_eq!(terminal, vec![S::Closed]);
    }

    #[test]
    fn as_str_parse_roundtrip_and_serde_agree() {
        let names = ["ai_active", "waiting", "agent_active", "resolved", "closed"];
        for (status, name) in S::ALL.into_iter().zip(names) {
            assert_eq!(status.as_str(), name);
            assert_eq!(status.to_string(), name);
            assert_eq!(S::parse(name), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(name)
            );
            assert_eq!(
                serde_json::from_value::<S>(serde_json::json!(name)).unwrap(),
                status
            );
        }
        assert_eq!(S::parse("AI_ACTIVE"), None);
        assert_eq!(S::parse(""), None);
        assert_eq!(S::parse("open"), None);
    }

    #[test]
    fn event_names_are_snake_case_and_distinct() {
        let names: Vec<_> = E::ALL.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            names,
            vec![
                "handoff",
                "claim",
                "resolve",
                "transfer_to_queue",
                "transfer_to_agent",
                "customer_reply",
                "close",
                "inactivity_timeout"
            ]
        );
    }

    #[test]
    fn error_message_is_readable() {
        let err = transition(S::Closed, E::Claim).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot claim a conversation that is closed"
        );
        let err = transition(S::AiActive, E::TransferToQueue).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot transfer to the queue a conversation that is with the AI"
        );
        let err = transition(S::Waiting, E::CustomerReply).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot reopen on a customer reply a conversation that is waiting for an agent"
        );
        let err = transition(S::Closed, E::InactivityTimeout).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot time out a conversation that is closed"
        );
    }
}
