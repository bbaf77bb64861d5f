//! The project's agents (seed 003 5.3): status and heartbeat, per-agent
//! settings, members joining, and the list the dashboard shows.
use super::*;

#[derive(Message)]
#[rtype(result = "EngineResult<AgentView>")]
pub struct SetAgentStatus {
    pub user_id: UserId,
    pub status: AgentStatus,
}

impl Handler<SetAgentStatus> for ProjectActor {
    type Result = EngineResult<AgentView>;
    fn handle(&mut self, msg: SetAgentStatus, ctx: &mut Context<Self>) -> Self::Result {
        self.set_status(msg.user_id, msg.status, ctx)
    }
}

/// Seed 003 5.3.5: keeps the agent eligible for another 5 minutes.
#[derive(Message)]
#[rtype(result = "EngineResult<()>")]
pub struct Heartbeat {
    pub user_id: UserId,
}

impl Handler<Heartbeat> for ProjectActor {
    type Result = EngineResult<()>;
    fn handle(&mut self, msg: Heartbeat, ctx: &mut Context<Self>) -> Self::Result {
        let now = self.now();
        let a = self.agent_mut(msg.user_id)?;
        a.last_seen_at = now;
        let online = a.status == AgentStatus::Online;
        self.persist_agent(msg.user_id);
        self.update_away();
        if online {
            self.process_queue(ctx, None);
        }
        Ok(())
    }
}

/// An admin changes an agent's limit or auto-offline settings.
#[derive(Message, Default)]
#[rtype(result = "EngineResult<AgentView>")]
pub struct UpdateAgent {
    pub user_id: UserId,
    pub max_concurrent_chats: Option<u32>,
    pub auto_offline_enabled: Option<bool>,
    pub auto_offline_minutes: Option<u32>,
}

pub(super) fn field_error(field: &str, problem: String) -> EngineError {
    EngineError::Validation(BTreeMap::from([(field.to_string(), problem)]))
}

impl Handler<UpdateAgent> for ProjectActor {
    type Result = EngineResult<AgentView>;
    fn handle(&mut self, msg: UpdateAgent, ctx: &mut Context<Self>) -> Self::Result {
        let a = self
            .agents
            .get_mut(&msg.user_id)
            .ok_or_else(|| EngineError::NotFound("no such agent in this project".into()))?;
        if let Some(max) = msg.max_concurrent_chats {
            if !(1..=50).contains(&max) {
                return Err(field_error(
                    "max_concurrent_chats",
                    "must be between 1 and 50".into(),
                ));
            }
            // The ledger never holds more chats than the limit (invariant 2).
            if max < a.current_chat_count {
                return Err(field_error(
                    "max_concurrent_chats",
                    format!(
                        "the agent holds {} chats now; resolve some first",
                        a.current_chat_count
                    ),
                ));
            }
        }
        if let Some(m) = msg.auto_offline_minutes {
            if !(5..=1440).contains(&m) {
                return Err(field_error(
                    "auto_offline_minutes",
                    "must be between 5 and 1440".into(),
                ));
            }
        }
        if let Some(max) = msg.max_concurrent_chats {
            a.max_concurrent_chats = max;
        }
        if let Some(e) = msg.auto_offline_enabled {
            a.auto_offline_enabled = e;
        }
        if let Some(m) = msg.auto_offline_minutes {
            a.auto_offline_minutes = m;
        }
        let v = view(a);
        self.persist_agent(msg.user_id);
        self.process_queue(ctx, None);
        Ok(v)
    }
}

/// A new agent joined the project (invitation accepted).
#[derive(Message)]
#[rtype(result = "()")]
pub struct AgentJoined {
    pub record: AgentRecord,
}

impl Handler<AgentJoined> for ProjectActor {
    type Result = ();
    fn handle(&mut self, msg: AgentJoined, _: &mut Context<Self>) {
        let mut rec = msg.record;
        rec.current_chat_count = self.active.values().filter(|a| **a == rec.user_id).count() as u32;
        self.agents.insert(rec.user_id, rec);
        self.refresh_availability();
    }
}

/// A member stops being one of the project's agents: removed from the
/// project (`leaves_project`), or made an admin. They leave the ledger at
/// once, so nothing more is assigned to them; the store forgets their
/// ledger row (and membership) after any write of it queued before. The
/// answer, once that is durable, is the conversations they were
/// answering, for the caller to send back to the queue.
#[derive(Message)]
#[rtype(result = "EngineResult<Vec<ConversationId>>")]
pub struct AgentLeft {
    pub user_id: UserId,
    pub leaves_project: bool,
}

impl Handler<AgentLeft> for ProjectActor {
    type Result = AtomicResponse<Self, EngineResult<Vec<ConversationId>>>;
    fn handle(&mut self, msg: AgentLeft, _: &mut Context<Self>) -> Self::Result {
        let user = msg.user_id;
        if let Some(gone) = self.agents.remove(&user) {
            let presence = json!({
                "user_id": user, "name": gone.name, "status": AgentStatus::Offline,
                "current_chat_count": gone.current_chat_count,
                "max_concurrent_chats": gone.max_concurrent_chats,
            });
            self.publish(ProjectChannel::Presence, "leave", presence);
            self.refresh_availability();
        }
        let held: Vec<ConversationId> = self
            .active
            .iter()
            .filter(|(_, agent)| **agent == user)
            .map(|(conv, _)| *conv)
            .collect();
        let write = self.engine.writer().write(vec![WriteOp::RemoveAgent {
            project_id: self.id,
            user_id: user,
            leaves_project: msg.leaves_project,
        }]);
        AtomicResponse::new(Box::pin(write.into_actor(self).map(move |res, _, _| {
            res.map_err(EngineError::from)?;
            Ok(held)
        })))
    }
}

/// A member changed their name or avatar: the ledger (and what the team
/// and customers are shown from it) follows.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AgentProfile {
    pub user_id: UserId,
    pub name: String,
    pub avatar_url: Option<String>,
}

impl Handler<AgentProfile> for ProjectActor {
    type Result = ();
    fn handle(&mut self, msg: AgentProfile, _: &mut Context<Self>) {
        if let Some(a) = self.agents.get_mut(&msg.user_id) {
            a.name = msg.name;
            a.avatar_url = msg.avatar_url;
            self.persist_agent(msg.user_id);
        }
    }
}

#[derive(Message)]
#[rtype(result = "Vec<AgentView>")]
pub struct ListAgents;

impl Handler<ListAgents> for ProjectActor {
    type Result = MessageResult<ListAgents>;
    fn handle(&mut self, _: ListAgents, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.agents.values().map(view).collect())
    }
}
