//! Staff accounts and projects: users, bearer tokens, projects, memberships
//! and knowledge entries, as the server's records and as database rows, with
//! the conversions between them.

use crate::store::convert::{
    from_json, id_opt, json_text, opt_string, parse_id as id, to_i32, to_u32, ts, ts_opt, utc,
    utc_opt,
};
use crate::store::error::corrupt;
use crate::store::schema::{auth_tokens, knowledge_entries, project_members, projects, users};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use switchboard_actors::ids::{CustomerId, KnowledgeId, ProjectId, UserId};
use switchboard_actors::ports::{StoreError, StoreResult};
use switchboard_actors::string_enum;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbUser {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub avatar_url: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub can_create_projects: bool,
    pub email_verified: bool,
}

impl From<&UserRow> for DbUser {
    fn from(u: &UserRow) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.to_lowercase(),
            name: u.name.clone(),
            password_hash: u.password_hash.clone(),
            avatar_url: u.avatar_url.clone(),
            created_at: ts(u.created_at),
            updated_at: ts(u.updated_at),
            can_create_projects: u.can_create_projects,
            email_verified: u.email_verified,
        }
    }
}

impl TryFrom<DbUser> for UserRow {
    type Error = StoreError;
    fn try_from(r: DbUser) -> StoreResult<Self> {
        Ok(Self {
            id: id("users.id", &r.id)?,
            email: r.email,
            name: r.name,
            password_hash: r.password_hash,
            avatar_url: r.avatar_url,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            can_create_projects: r.can_create_projects,
            email_verified: r.email_verified,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = auth_tokens)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbToken {
    pub token_hash: String,
    pub kind: String,
    pub user_id: Option<String>,
    pub project_id: Option<String>,
    pub visitor_id: Option<String>,
    pub customer_id: Option<String>,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

impl From<&TokenRow> for DbToken {
    fn from(t: &TokenRow) -> Self {
        Self {
            token_hash: t.token_hash.clone(),
            kind: t.kind.as_str().to_string(),
            user_id: opt_string(t.user_id),
            project_id: opt_string(t.project_id),
            visitor_id: t.visitor_id.clone(),
            customer_id: opt_string(t.customer_id),
            expires_at: ts(t.expires_at),
            created_at: ts(t.created_at),
        }
    }
}

impl TryFrom<DbToken> for TokenRow {
    type Error = StoreError;
    fn try_from(r: DbToken) -> StoreResult<Self> {
        Ok(Self {
            kind: TokenKind::parse(&r.kind).ok_or_else(|| corrupt("auth_tokens.kind", &r.kind))?,
            user_id: id_opt("auth_tokens.user_id", r.user_id.as_deref())?,
            project_id: id_opt("auth_tokens.project_id", r.project_id.as_deref())?,
            customer_id: id_opt("auth_tokens.customer_id", r.customer_id.as_deref())?,
            token_hash: r.token_hash,
            visitor_id: r.visitor_id,
            expires_at: utc(r.expires_at),
            created_at: utc(r.created_at),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = projects)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbProject {
    pub id: String,
    pub name: String,
    pub public_key: String,
    pub secret_key_hash: String,
    pub allowed_origins: String,
    pub owner_id: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl DbProject {
    pub fn from_row(p: &ProjectRow) -> StoreResult<Self> {
        Ok(Self {
            id: p.id.to_string(),
            name: p.name.clone(),
            public_key: p.public_key.clone(),
            secret_key_hash: p.secret_key_hash.clone(),
            allowed_origins: json_text("projects.allowed_origins", &p.allowed_origins)?,
            owner_id: p.owner_id.to_string(),
            created_at: ts(p.created_at),
            updated_at: ts(p.updated_at),
        })
    }
}

impl TryFrom<DbProject> for ProjectRow {
    type Error = StoreError;
    fn try_from(r: DbProject) -> StoreResult<Self> {
        Ok(Self {
            id: id("projects.id", &r.id)?,
            allowed_origins: from_json("projects.allowed_origins", &r.allowed_origins)?,
            owner_id: id("projects.owner_id", &r.owner_id)?,
            name: r.name,
            public_key: r.public_key,
            secret_key_hash: r.secret_key_hash,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = project_members)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbMember {
    pub id: String,
    pub project_id: String,
    pub user_id: Option<String>,
    pub email: String,
    pub name: Option<String>,
    pub role: String,
    pub status: String,
    pub invited_by: String,
    pub invited_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub invite_token_hash: Option<String>,
    pub max_concurrent_chats: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl DbMember {
    pub fn from_row(m: &MemberRow) -> StoreResult<Self> {
        Ok(Self {
            id: m.id.to_string(),
            project_id: m.project_id.to_string(),
            user_id: opt_string(m.user_id),
            email: m.email.to_lowercase(),
            name: m.name.clone(),
            role: m.role.as_str().to_string(),
            status: m.status.as_str().to_string(),
            invited_by: m.invited_by.to_string(),
            invited_at: ts(m.invited_at),
            accepted_at: ts_opt(m.accepted_at),
            invite_token_hash: m.invite_token_hash.clone(),
            max_concurrent_chats: to_i32("max_concurrent_chats", m.max_concurrent_chats)?,
            created_at: ts(m.created_at),
            updated_at: ts(m.updated_at),
        })
    }
}

impl TryFrom<DbMember> for MemberRow {
    type Error = StoreError;
    fn try_from(r: DbMember) -> StoreResult<Self> {
        Ok(Self {
            id: id::<Uuid>("project_members.id", &r.id)?,
            project_id: id("project_members.project_id", &r.project_id)?,
            user_id: id_opt("project_members.user_id", r.user_id.as_deref())?,
            role: MemberRole::parse(&r.role)
                .ok_or_else(|| corrupt("project_members.role", &r.role))?,
            status: MemberStatus::parse(&r.status)
                .ok_or_else(|| corrupt("project_members.status", &r.status))?,
            invited_by: id("project_members.invited_by", &r.invited_by)?,
            max_concurrent_chats: to_u32(
                "project_members.max_concurrent_chats",
                r.max_concurrent_chats,
            )?,
            email: r.email,
            name: r.name,
            invited_at: utc(r.invited_at),
            accepted_at: utc_opt(r.accepted_at),
            invite_token_hash: r.invite_token_hash,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = knowledge_entries)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbKnowledge {
    pub id: String,
    pub project_id: String,
    pub question: String,
    pub answer: String,
    pub created_at: NaiveDateTime,
}

impl From<&KnowledgeRow> for DbKnowledge {
    fn from(k: &KnowledgeRow) -> Self {
        Self {
            id: k.id.to_string(),
            project_id: k.project_id.to_string(),
            question: k.question.clone(),
            answer: k.answer.clone(),
            created_at: ts(k.created_at),
        }
    }
}

impl TryFrom<DbKnowledge> for KnowledgeRow {
    type Error = StoreError;
    fn try_from(r: DbKnowledge) -> StoreResult<Self> {
        Ok(Self {
            id: id("knowledge_entries.id", &r.id)?,
            project_id: id("knowledge_entries.project_id", &r.project_id)?,
            question: r.question,
            answer: r.answer,
            created_at: utc(r.created_at),
        })
    }
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

string_enum! {
    /// Who a bearer token belongs to.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum TokenKind: serde {
        /// A staff user's dashboard session.
        Staff = "staff",
        /// A widget visitor's session in one project.
        Customer = "customer",
    }
}

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

string_enum! {
    /// A member's role in a project (seed 003 6.2.6).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum MemberRole: serde {
        Agent = "agent",
        Admin = "admin",
    }
}

string_enum! {
    /// Where a membership stands (seed 003 6.2.6).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum MemberStatus: serde {
        /// Invited, not yet accepted.
        Pending = "pending",
        Active = "active",
        Removed = "removed",
    }
}

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
