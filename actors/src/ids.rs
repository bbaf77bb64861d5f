//! Typed ids: a conversation id can never be passed where an agent id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Time-ordered (UUIDv7): rows inserted now land at the end of
            /// the primary-key index instead of at a random page.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

typed_id!(
    /// A project: one tenant with its own keys, team, settings and queue.
    ProjectId,
    /// A live-chat conversation (seed 003 5.2).
    ConversationId,
    /// A staff user (admin or agent).
    UserId,
    /// A customer record of a project (seed 003 5.11).
    CustomerId,
    /// One message in a conversation.
    MessageId,
    /// A knowledge-base entry of the built-in AI responder.
    KnowledgeId,
    /// A support ticket of billable sessions (seeds 000, 001).
    TicketId,
    /// A billable expert session (seed 000).
    SessionId,
    /// One message of a session's chat.
    SessionMessageId,
    /// One SMS sent from a session.
    SmsId,
    /// A payment request made when a session completes.
    PaymentId,
    /// A lead captured by the offline form (seed 003 5.8.4).
    LeadId,
    /// An email sent through the built-in email provider (its outbox row).
    EmailId,
    /// A user's session in the activity explorer (seed 002): an MCP server
    /// connection, a widget visit.
    ActivitySessionId,
    /// One AI tool call made in an activity session.
    ToolCallId,
    /// A support request raised by an integration, maybe from a session.
    SupportRequestId,
    /// A canned response: a project's or one agent's (issue 17).
    CannedResponseId,
);
