//! An agent's status and heartbeat in a project (seed 003 5.3, 7.4): the
//! project actor's capacity ledger holds both.

use crate::auth::StaffAuth;
use crate::error::{ApiError, ApiResult};
use crate::limits::LimitKind;
use crate::state::AppState;
use switchboard_actors::domain::agents::AgentStatus;
use switchboard_actors::engine::project::{AgentView, Heartbeat, SetAgentStatus};
use switchboard_actors::ids::ProjectId;

/// Set the caller's status in `project`: its ledger entry.
pub async fn set_status(
    state: &AppState,
    auth: &StaffAuth,
    project: ProjectId,
    status: &str,
) -> ApiResult<AgentView> {
    auth.agent_of(project)?;
    let status = AgentStatus::parse(status)
        .ok_or_else(|| ApiError::field("status", "must be \"online\", \"away\" or \"offline\""))?;
    let handle = state.engine.project(project).await?;
    let user_id = auth.1.user_id;
    Ok(handle
        .addr
        .send(SetAgentStatus { user_id, status })
        .await??)
}

/// The caller is still there; one rate-limit bucket per agent.
pub async fn heartbeat(state: &AppState, auth: &StaffAuth, project: ProjectId) -> ApiResult<()> {
    auth.agent_of(project)?;
    let user_id = auth.1.user_id;
    state.rate_limit(LimitKind::Heartbeat, &user_id.to_string())?;
    let handle = state.engine.project(project).await?;
    Ok(handle.addr.send(Heartbeat { user_id }).await??)
}
