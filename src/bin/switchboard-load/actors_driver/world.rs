//! The world a scenario runs in: the store (seeded with one project, handoff
//! enabled, and its agents), the engine started on it, the agents online,
//! and the callers the scenario acts as.

use actix::prelude::*;
use async_trait::async_trait;
use futures::StreamExt;
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchboard::store::{Db, MemberRole, MemberRow, MemberStatus, ProjectRow, UserRow};
use switchboard_actors::clock::{Clock, SystemClock};
use switchboard_actors::domain::agents::AgentStatus;
use switchboard_actors::domain::settings::HandoffSettings;
use switchboard_actors::engine::conversation::ConversationActor;
use switchboard_actors::engine::project::{ProjectActor, SetAgentStatus};
use switchboard_actors::engine::{Caller, Engine, EngineConfig, Role, Staff};
use switchboard_actors::ids::{ConversationId, ProjectId, UserId};
use switchboard_actors::memory_store::MemoryStore;
use switchboard_actors::ports::{
    AgentRecord, AiReply, AiResponder, AiTurn, ConversationRecord, ProjectSnapshot, Store, WriteOp,
};

/// Where the engine persists.
#[derive(Debug, Clone)]
pub enum StoreKind {
    Memory,
    Sqlite(PathBuf),
    Postgres(String),
}

impl StoreKind {
    pub fn parse(s: &str) -> Result<StoreKind, String> {
        if s == "memory" {
            return Ok(StoreKind::Memory);
        }
        if let Some(path) = s.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err("--store sqlite:<path> needs a path".into());
            }
            return Ok(StoreKind::Sqlite(PathBuf::from(path)));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(StoreKind::Postgres(s.to_string()));
        }
        Err(format!(
            "--store {s:?}: expected memory, sqlite:<path> or postgres://..."
        ))
    }

    /// For the report: PostgreSQL URLs lose their user and password.
    pub fn label(&self) -> String {
        match self {
            StoreKind::Memory => "memory".into(),
            StoreKind::Sqlite(p) => format!("sqlite:{}", p.display()),
            StoreKind::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    format!("{}{}", &url[..scheme + 3], &url[at + 1..])
                }
                _ => url.clone(),
            },
        }
    }
}

/// The AI is not what is measured: it answers at once, confidently.
pub struct InstantAi;

#[async_trait]
impl AiResponder for InstantAi {
    async fn respond(&self, _: ProjectId, _: &[AiTurn], _: &str) -> Result<AiReply, String> {
        Ok(AiReply {
            content: "Happy to help with that.".into(),
            confidence: 0.99,
            metadata: json!({}),
        })
    }
}

/// One agent of the project, as the scenario acts for them.
pub struct Seat {
    pub user_id: UserId,
    pub caller: Caller,
}

/// One conversation the scenario created.
pub struct Conv {
    pub id: ConversationId,
    pub addr: Addr<ConversationActor>,
    pub customer: Caller,
}

pub struct World {
    pub engine: Engine,
    pub store: Arc<dyn Store>,
    pub project: ProjectId,
    pub project_addr: Addr<ProjectActor>,
    pub seats: Vec<Seat>,
    pub seat_of: HashMap<UserId, usize>,
}

/// Seed the store with a project and `agents` agents of limit `max`, start
/// the engine on it and bring every agent online.
pub async fn build(
    kind: &StoreKind,
    agents: usize,
    max: u32,
    config: EngineConfig,
) -> Result<World, String> {
    let project = ProjectId::new();
    let now = SystemClock.now();
    let settings = HandoffSettings {
        enabled: true,
        ..HandoffSettings::default()
    };
    let records: Vec<AgentRecord> = (0..agents)
        .map(|i| {
            AgentRecord::new_offline(project, UserId::new(), format!("Agent {i}"), None, max, now)
        })
        .collect();
    let store: Arc<dyn Store> = match kind {
        StoreKind::Memory => {
            let m = MemoryStore::new();
            m.put_project(ProjectSnapshot {
                id: project,
                name: "Load test".into(),
                settings,
            });
            for r in &records {
                m.put_agent(r.clone());
            }
            Arc::new(m)
        }
        StoreKind::Sqlite(path) => {
            remove_sqlite(path)?;
            let db = Db::open_sqlite(path)
                .await
                .map_err(|e| format!("open {}: {e}", path.display()))?;
            seed_db(&db, project, &settings, &records).await?;
            Arc::new(db)
        }
        StoreKind::Postgres(url) => {
            let db = Db::open_postgres(url)
                .await
                .map_err(|e| format!("open {}: {e}", kind.label()))?;
            seed_db(&db, project, &settings, &records).await?;
            Arc::new(db)
        }
    };
    let engine = Engine::start(
        store.clone(),
        Arc::new(SystemClock),
        Arc::new(InstantAi),
        config,
    )
    .await
    .map_err(|e| format!("engine start: {e}"))?;
    let handle = engine
        .project(project)
        .await
        .map_err(|e| format!("project: {e}"))?;
    for r in &records {
        handle
            .addr
            .send(SetAgentStatus {
                user_id: r.user_id,
                status: AgentStatus::Online,
            })
            .await
            .map_err(|e| format!("agent online: {e}"))?
            .map_err(|e| format!("agent online: {e}"))?;
    }
    let seats: Vec<Seat> = records
        .iter()
        .map(|r| Seat {
            user_id: r.user_id,
            caller: Caller::Staff(Arc::new(Staff {
                user_id: r.user_id,
                name: r.name.clone(),
                avatar_url: None,
                memberships: HashMap::from([(project, Role::Agent)]),
            })),
        })
        .collect();
    let seat_of = seats
        .iter()
        .enumerate()
        .map(|(i, s)| (s.user_id, i))
        .collect();
    Ok(World {
        engine,
        store,
        project,
        project_addr: handle.addr,
        seats,
        seat_of,
    })
}

/// A fresh file: the database and its WAL companions go first.
fn remove_sqlite(path: &Path) -> Result<(), String> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot remove {}: {e}", Path::new(&p).display())),
        }
    }
    Ok(())
}

/// The project as the server creates it (owner, settings, members), then
/// each agent as an active member with their ledger row.
async fn seed_db(
    db: &Db,
    project: ProjectId,
    settings: &HandoffSettings,
    records: &[AgentRecord],
) -> Result<(), String> {
    let now = SystemClock.now();
    let tag = project.0.simple().to_string();
    let owner = UserRow {
        id: UserId::new(),
        email: format!("owner-{tag}@load.switchboard.test"),
        name: "Load Owner".into(),
        password_hash: "!".into(),
        avatar_url: None,
        created_at: now,
        updated_at: now,
        can_create_projects: true,
        email_verified: true,
    };
    db.insert_user(&owner)
        .await
        .map_err(|e| format!("seed owner: {e}"))?;
    let row = ProjectRow {
        id: project,
        name: "Load test".into(),
        public_key: format!("pk_load_{tag}"),
        secret_key_hash: format!("{tag}{tag}"),
        allowed_origins: Vec::new(),
        owner_id: owner.id,
        created_at: now,
        updated_at: now,
    };
    db.create_project(&row, settings, &owner.email, &owner.name)
        .await
        .map_err(|e| format!("seed project: {e}"))?;
    let results: Vec<Result<(), String>> = futures::stream::iter(records.iter().enumerate())
        .map(|(i, r)| {
            let db = db.clone();
            let owner_id = owner.id;
            let tag = tag.clone();
            async move {
                let email = format!("agent{i}-{tag}@load.switchboard.test");
                let user = UserRow {
                    id: r.user_id,
                    email: email.clone(),
                    name: r.name.clone(),
                    password_hash: "!".into(),
                    avatar_url: None,
                    created_at: now,
                    updated_at: now,
                    can_create_projects: false,
                    email_verified: true,
                };
                db.insert_user(&user)
                    .await
                    .map_err(|e| format!("seed agent user: {e}"))?;
                db.insert_member(&MemberRow {
                    id: uuid::Uuid::new_v4(),
                    project_id: project,
                    user_id: Some(r.user_id),
                    email,
                    name: Some(r.name.clone()),
                    role: MemberRole::Agent,
                    status: MemberStatus::Active,
                    invited_by: owner_id,
                    invited_at: now,
                    accepted_at: Some(now),
                    invite_token_hash: None,
                    max_concurrent_chats: r.max_concurrent_chats,
                    created_at: now,
                    updated_at: now,
                })
                .await
                .map_err(|e| format!("seed agent member: {e}"))
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<()>, String>>()?;
    let ops = records
        .iter()
        .map(|r| WriteOp::PutAgent(Box::new(r.clone())))
        .collect();
    Store::commit(db, ops)
        .await
        .map_err(|e| format!("seed agent ledger: {e}"))
}

impl World {
    pub fn customer(&self, visitor: &str) -> Caller {
        Caller::Customer {
            project_id: self.project,
            visitor_id: visitor.to_string(),
        }
    }

    /// `n` conversations with the AI, created 256 at a time (the writer
    /// commits them in groups).
    pub async fn create_conversations(&self, n: usize) -> Result<Vec<Conv>, String> {
        let now = SystemClock.now();
        let made: Vec<Result<Conv, String>> = futures::stream::iter(0..n)
            .map(|i| {
                let visitor = format!("load-visitor-{i}");
                let rec = ConversationRecord::new_with_ai(
                    self.project,
                    visitor.clone(),
                    None,
                    "widget".into(),
                    json!({}),
                    now,
                );
                let id = rec.id;
                let customer = self.customer(&visitor);
                let engine = self.engine.clone();
                async move {
                    let addr = engine
                        .create_conversation(rec)
                        .await
                        .map_err(|e| format!("create conversation: {e}"))?;
                    Ok(Conv { id, addr, customer })
                }
            })
            .buffered(256)
            .collect()
            .await;
        made.into_iter().collect()
    }
}
