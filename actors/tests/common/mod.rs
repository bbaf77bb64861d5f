//! Shared harness of the engine's tests (no HTTP): scripted AIs and a
//! `World` of the in-memory store, a manual clock and an engine over one
//! project with handoff on and its agents.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;
use switchboard_actors::clock::{Clock, ManualClock, SharedClock};
use switchboard_actors::domain::agents::AgentStatus;
use switchboard_actors::domain::conversation::ConversationStatus;
use switchboard_actors::domain::settings::HandoffSettings;
use switchboard_actors::engine::conversation::{CustomerHandoff, GetConversation, PostMessage};
use switchboard_actors::engine::project::SetAgentStatus;
use switchboard_actors::engine::views::HandoffOutcome;
use switchboard_actors::engine::{Caller, Engine, EngineConfig};
use switchboard_actors::ids::{ConversationId, ProjectId, UserId};
use switchboard_actors::memory_store::MemoryStore;
use switchboard_actors::ports::{
    AgentRecord, AiReply, AiResponder, AiTurn, ConversationRecord, MessageRecord, ProjectSnapshot,
};

/// Answers everything with `echo: <question>` at a fixed confidence.
pub struct FixedAi(pub f64);

#[async_trait]
impl AiResponder for FixedAi {
    async fn respond(&self, _: ProjectId, _: &[AiTurn], q: &str) -> Result<AiReply, String> {
        Ok(AiReply {
            content: format!("echo: {q}"),
            confidence: self.0,
            metadata: json!({}),
        })
    }
}

/// Never answers (the session tests need no AI).
pub struct NoAi;

#[async_trait]
impl AiResponder for NoAi {
    async fn respond(&self, _: ProjectId, _: &[AiTurn], _: &str) -> Result<AiReply, String> {
        Err("no AI here".into())
    }
}

pub struct World {
    pub store: Arc<MemoryStore>,
    pub clock: ManualClock,
    pub engine: Engine,
    pub project: ProjectId,
    /// The project's agents, in the order `world` was given them.
    pub agents: Vec<UserId>,
}

/// An offline agent of `project` who takes `max` chats.
pub fn agent(project: ProjectId, name: &str, max: u32, clock: &ManualClock) -> AgentRecord {
    AgentRecord::new_offline(project, UserId::new(), name.into(), None, max, clock.now())
}

/// A project with handoff on and `agents` (name, max chats), all offline,
/// and an engine over it: the world and the agents' ids.
pub async fn world(agents: &[(&str, u32)]) -> (World, Vec<UserId>) {
    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::at_default();
    let project = ProjectId::new();
    store.put_project(ProjectSnapshot {
        id: project,
        name: "p".into(),
        settings: HandoffSettings {
            enabled: true,
            ..HandoffSettings::default()
        },
    });
    let ids: Vec<UserId> = agents
        .iter()
        .map(|(n, max)| {
            let a = agent(project, n, *max, &clock);
            let id = a.user_id;
            store.put_agent(a);
            id
        })
        .collect();
    let engine = start(&store, &clock).await;
    let world = World {
        store,
        clock,
        engine,
        project,
        agents: ids.clone(),
    };
    (world, ids)
}

/// An engine over `store` on `clock`, with an AI answering at 0.9.
pub async fn start(store: &Arc<MemoryStore>, clock: &ManualClock) -> Engine {
    Engine::start(
        store.clone(),
        Arc::new(clock.clone()) as SharedClock,
        Arc::new(FixedAi(0.9)),
        EngineConfig::default(),
    )
    .await
    .unwrap()
}

impl World {
    pub fn customer(&self, visitor: &str) -> Caller {
        Caller::Customer {
            project_id: self.project,
            visitor_id: visitor.into(),
        }
    }

    /// A new `ai_active` conversation of `visitor`, from the widget.
    pub async fn conversation(&self, visitor: &str) -> ConversationId {
        let rec = ConversationRecord::new_with_ai(
            self.project,
            visitor.into(),
            None,
            "widget".into(),
            json!({}),
            self.clock.now(),
        );
        let id = rec.id;
        self.engine.create_conversation(rec).await.unwrap();
        id
    }

    pub async fn online(&self, user: UserId) {
        let p = self.engine.project(self.project).await.unwrap();
        p.addr
            .send(SetAgentStatus {
                user_id: user,
                status: AgentStatus::Online,
            })
            .await
            .unwrap()
            .unwrap();
    }

    /// The same world with a new engine over its store and clock, as after
    /// a restart (shut the old engine down first).
    pub async fn restarted(&self) -> World {
        World {
            store: self.store.clone(),
            clock: self.clock.clone(),
            engine: start(&self.store, &self.clock).await,
            project: self.project,
            agents: self.agents.clone(),
        }
    }

    /// `visitor` sends `content` with `client_msg_id`; the stored message.
    pub async fn send(
        &self,
        id: ConversationId,
        visitor: &str,
        content: &str,
        client_msg_id: &str,
    ) -> Arc<MessageRecord> {
        let c = self.engine.live_conversation(id).await.unwrap().unwrap();
        c.send(PostMessage {
            caller: self.customer(visitor),
            content: content.into(),
            client_msg_id: Some(client_msg_id.into()),
            metadata: json!({}),
        })
        .await
        .unwrap()
        .unwrap()
    }

    /// The customer asks for a human (the button).
    pub async fn handoff(&self, id: ConversationId, visitor: &str) -> HandoffOutcome {
        let c = self.engine.live_conversation(id).await.unwrap().unwrap();
        c.send(CustomerHandoff {
            caller: self.customer(visitor),
            reason: "button_click",
            customer_email: None,
            customer_name: None,
        })
        .await
        .unwrap()
        .unwrap()
    }

    /// The live conversation's status.
    pub async fn status(&self, id: ConversationId) -> ConversationStatus {
        let c = self.engine.live_conversation(id).await.unwrap().unwrap();
        c.send(GetConversation {
            caller: Caller::System,
        })
        .await
        .unwrap()
        .unwrap()
        .status
    }

    /// The conversation as the store holds it.
    pub fn stored(&self, id: ConversationId) -> ConversationRecord {
        self.store
            .conversations()
            .into_iter()
            .find(|c| c.id == id)
            .unwrap()
    }
}
