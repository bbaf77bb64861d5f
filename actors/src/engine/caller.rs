//! Who is asking. The server authenticates a token into a `Caller`; actors
//! authorize with it, so every permission check lives beside the state it
//! protects (invariant 8: a token sees and does only what its role allows).

use crate::ids::{ProjectId, SessionId, UserId};
use crate::string_enum;
use std::collections::HashMap;
use std::sync::Arc;

string_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Role: serde {
        Agent = "agent",
        Admin = "admin",
    }
}

#[derive(Debug, Clone)]
pub struct Staff {
    pub user_id: UserId,
    pub name: String,
    pub avatar_url: Option<String>,
    /// Active memberships, loaded when the token is checked.
    pub memberships: HashMap<ProjectId, Role>,
}

#[derive(Debug, Clone)]
pub enum Caller {
    /// A widget visitor: may act on that visitor's conversations only.
    Customer {
        project_id: ProjectId,
        visitor_id: String,
    },
    Staff(Arc<Staff>),
    /// A server-side integration holding the project's secret key.
    Bot {
        project_id: ProjectId,
    },
    /// The engine itself (timers, AI turns).
    System,
    /// A customer who joined a billable session with its access token: may
    /// act on that session only.
    SessionGuest {
        project_id: ProjectId,
        session_id: SessionId,
    },
}

impl Caller {
    pub fn role_in(&self, project: ProjectId) -> Option<Role> {
        match self {
            Caller::Staff(s) => s.memberships.get(&project).copied(),
            _ => None,
        }
    }

    pub fn is_staff_of(&self, project: ProjectId) -> bool {
        self.role_in(project).is_some()
    }

    pub fn is_admin_of(&self, project: ProjectId) -> bool {
        self.role_in(project) == Some(Role::Admin)
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Caller::Staff(s) => Some(s.user_id),
            _ => None,
        }
    }

    /// May see the conversation at all (customers: their own only).
    pub fn can_view(&self, project: ProjectId, visitor_id: &str) -> bool {
        match self {
            Caller::Customer {
                project_id,
                visitor_id: v,
            } => *project_id == project && v == visitor_id,
            Caller::Staff(_) => self.is_staff_of(project),
            Caller::Bot { project_id } => *project_id == project,
            Caller::System => true,
            Caller::SessionGuest { .. } => false,
        }
    }
}
