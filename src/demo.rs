//! `switchboard serve --demo`: a project with two agents and a knowledge
//! base, so a fresh install can be tried at once. Idempotent: a second run
//! finds the demo admin and leaves everything as it is.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{KnowledgeRow, MemberRole, MemberRow, MemberStatus, UserRow};
use switchboard_actors::engine::project::{AgentJoined, UpdateSettings};
use switchboard_actors::ids::{KnowledgeId, UserId};
use switchboard_actors::ports::AgentRecord;

pub const DEMO_ADMIN: &str = "demo-admin@switchboard.local";
pub const DEMO_AGENTS: [(&str, &str); 2] = [
    ("alice@switchboard.local", "Alice"),
    ("bob@switchboard.local", "Bob"),
];
pub const DEMO_PASSWORD: &str = "switchboard-demo";

const FAQ: &[(&str, &str)] = &[
    ("How do I reset my password?", "Open Settings > Security and choose \"Reset password\"; we email you a link that works for one hour."),
    ("What are your opening hours?", "Our team answers Monday to Friday, 09:00 to 17:00 UTC. The assistant is here around the clock."),
    ("How much does shipping cost?", "Shipping is free above 50 EUR; below that it costs 4.90 EUR within the EU."),
    ("How can I cancel my order?", "You can cancel within 24 hours from Orders > Cancel. After that, use a return instead."),
    ("How do returns work?", "Returns are free within 30 days: print the label from Orders > Return and drop the parcel at any post office."),
];

/// The demo account `email`, made by the operator's `--demo`: its email
/// counts as proven; `creator` holds the instance's permission to create
/// projects (the demo admin).
async fn user(state: &AppState, email: &str, name: &str, creator: bool) -> ApiResult<UserRow> {
    if let Some(u) = state.db.user_by_email(email).await? {
        return Ok(u);
    }
    let now = state.now();
    let u = UserRow {
        id: UserId::new(),
        email: email.into(),
        name: name.into(),
        password_hash: state.passwords.hash(DEMO_PASSWORD.into()).await?,
        avatar_url: None,
        created_at: now,
        updated_at: now,
        can_create_projects: creator,
        email_verified: true,
    };
    state.db.insert_user(&u).await?;
    Ok(u)
}

pub async fn seed(state: &AppState) -> ApiResult<()> {
    if state.db.user_by_email(DEMO_ADMIN).await?.is_some() {
        println!("Demo data already present. Log in as {DEMO_ADMIN} / {DEMO_PASSWORD}.");
        return Ok(());
    }
    let admin = user(state, DEMO_ADMIN, "Demo Admin", true).await?;
    let (project, secret) =
        crate::http::projects::create_project(state, &admin, "Demo Shop").await?;
    let handle = state.engine.project(project.id).await?;
    let mut settings = (*crate::http::settings::project_settings(state, project.id).await?).clone();
    settings.enabled = true;
    settings.show_human_button = true;
    handle
        .addr
        .send(UpdateSettings { settings })
        .await
        .map_err(ApiError::from)??;
    let now = state.now();
    for (email, name) in DEMO_AGENTS {
        let u = user(state, email, name, false).await?;
        let member = MemberRow {
            id: uuid::Uuid::new_v4(),
            project_id: project.id,
            user_id: None,
            email: email.into(),
            name: Some(name.into()),
            role: MemberRole::Agent,
            status: MemberStatus::Pending,
            invited_by: admin.id,
            invited_at: now,
            accepted_at: None,
            invite_token_hash: Some(crate::auth::hash_token(&crate::auth::new_token("demo_"))),
            max_concurrent_chats: 3,
            created_at: now,
            updated_at: now,
        };
        state.db.insert_member(&member).await?;
        let record = AgentRecord::new_offline(project.id, u.id, u.name.clone(), None, 3, now);
        state
            .db
            .accept_invite(member.id, &u, false, Some(&record), now)
            .await?;
        handle
            .addr
            .send(AgentJoined { record })
            .await
            .map_err(ApiError::from)?;
    }
    for (q, a) in FAQ {
        state
            .db
            .insert_knowledge(&KnowledgeRow {
                id: KnowledgeId::new(),
                project_id: project.id,
                question: (*q).into(),
                answer: (*a).into(),
                created_at: now,
            })
            .await?;
    }
    println!("Demo project \"Demo Shop\" created.");
    println!("  admin:  {DEMO_ADMIN} / {DEMO_PASSWORD}");
    for (email, _) in DEMO_AGENTS {
        println!("  agent:  {email} / {DEMO_PASSWORD}");
    }
    println!("  public key (widget): {}", project.public_key);
    println!("  secret key (bots, shown once): {secret}");
    Ok(())
}
