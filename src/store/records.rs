//! The store's own records: what the server (auth, HTTP routes) reads and
//! writes through [`Db`](super::Db) beyond the engine's port. Typed ids and
//! UTC times; `rows.rs` converts them to and from database rows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use switchboard_actors::domain::conversation::ConversationStatus;
use switchboard_actors::ids::{ConversationId, CustomerId, KnowledgeId, ProjectId, UserId};
use uuid::Uuid;

/// Defines a string-backed enum with `as_str` / `parse` and snake_case serde.
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// The stored (and wire) name.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $s),+
                }
            }

            /// Inverse of `as_str`; exact match.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($s => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A staff account (admin or agent).
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub id: UserId,
    /// Stored lowercase; the store lowercases on write and on lookup.
    pub email: String,
    pub name: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    pub avatar_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The instance-level permission to create projects (the bootstrap
    /// and demo admins, and whoever a holder granted it to).
    pub can_create_projects: bool,
    /// The email was proven (a one-time code sent to it), or the operator
    /// made the account (bootstrap, demo). Accounts made by accepting an
    /// invitation start without: they join no other project until proven.
    pub email_verified: bool,
}

string_enum!(
    /// Who a bearer token belongs to.
    TokenKind {
        /// A staff user's dashboard session.
        Staff => "staff",
        /// A widget visitor's session in one project.
        Customer => "customer",
    }
);

/// A bearer token, known only by its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    /// Hex sha256 of the token (computed by the caller).
    pub token_hash: String,
    pub kind: TokenKind,
    /// Set for staff tokens.
    pub user_id: Option<UserId>,
    /// Set for customer tokens.
    pub project_id: Option<ProjectId>,
    pub visitor_id: Option<String>,
    pub customer_id: Option<CustomerId>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// A project (tenant).
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectRow {
    pub id: ProjectId,
    pub name: String,
    /// Embedded in the widget snippet; identifies the project publicly.
    pub public_key: String,
    /// Hex sha256 of the server-to-server secret key.
    pub secret_key_hash: String,
    /// Origins the widget may be embedded on; empty means any.
    pub allowed_origins: Vec<String>,
    pub owner_id: UserId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

string_enum!(
    /// A member's role in a project (seed 003 6.2.6).
    MemberRole {
        Agent => "agent",
        Admin => "admin",
    }
);

string_enum!(
    /// Where a membership stands (seed 003 6.2.6).
    MemberStatus {
        /// Invited, not yet accepted.
        Pending => "pending",
        Active => "active",
        Removed => "removed",
    }
);

/// A project membership or invitation (seed 003 6.2.6).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRow {
    pub id: Uuid,
    pub project_id: ProjectId,
    /// None while the invitation is pending.
    pub user_id: Option<UserId>,
    /// Stored lowercase.
    pub email: String,
    /// The invitee's display name, when the inviter gave one.
    pub name: Option<String>,
    pub role: MemberRole,
    pub status: MemberStatus,
    pub invited_by: UserId,
    pub invited_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// Hex sha256 of the invitation token; None once accepted.
    pub invite_token_hash: Option<String>,
    pub max_concurrent_chats: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One FAQ entry of the built-in AI responder's knowledge base.
#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgeRow {
    pub id: KnowledgeId,
    pub project_id: ProjectId,
    pub question: String,
    pub answer: String,
    pub created_at: DateTime<Utc>,
}

/// A customer of a project (seed 003 5.11.5).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRow {
    pub id: CustomerId,
    pub project_id: ProjectId,
    pub visitor_id: String,
    pub email: Option<String>,
    /// The email was proven (the host site's user_hash or a one-time code),
    /// not only typed. Emails linked before proof was required are not.
    pub email_verified: bool,
    pub name: Option<String>,
    /// Other visitor ids known to be this customer.
    pub merged_visitor_ids: Vec<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub total_conversations: i64,
    pub last_browser: Option<String>,
    pub last_device: Option<String>,
    pub last_os: Option<String>,
    pub last_page_url: Option<String>,
    pub last_location: Option<String>,
    pub last_timezone: Option<String>,
    pub last_language: Option<String>,
    pub last_referrer: Option<String>,
    pub is_flagged: bool,
    pub flag_reason: Option<String>,
    pub flagged_at: Option<DateTime<Utc>>,
    pub flagged_by: Option<UserId>,
    pub internal_notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the widget reports about a visit. A `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerContext {
    pub browser: Option<String>,
    pub device: Option<String>,
    pub os: Option<String>,
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    pub timezone: Option<String>,
    pub language: Option<String>,
}

/// The dashboard's conversation list query. Results come newest
/// `last_message_at` first; pass the last row's `(last_message_at, id)` as
/// `cursor` to get the next page.
#[derive(Debug, Clone)]
pub struct ConversationFilter {
    /// Projects to list from; empty yields nothing.
    pub project_ids: Vec<ProjectId>,
    pub status: Option<ConversationStatus>,
    pub assigned_to: Option<UserId>,
    pub customer_id: Option<CustomerId>,
    /// Rows strictly after this position in the ordering.
    pub cursor: Option<(DateTime<Utc>, ConversationId)>,
    pub limit: i64,
}
