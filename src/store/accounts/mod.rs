//! Accounts and projects in the store: users and their tokens, projects,
//! memberships (with invitations' acceptance) and the knowledge base. Laid
//! out as every area of the store: `records`, `queries` (reads), `writes`,
//! and here the operations on [`Db`] the HTTP side runs.

pub(crate) mod queries;
pub(crate) mod records;
pub(crate) mod writes;

use crate::store::conversations::records::{DbAgent, DbSettings};
use crate::store::convert::{convert_all, ts};
use crate::store::db::{detached, Db};
use chrono::{DateTime, Utc};
use records::*;
use switchboard_actors::domain::settings::HandoffSettings;
use switchboard_actors::ids::{KnowledgeId, ProjectId, UserId};
use switchboard_actors::ports::{AgentRecord, StoreError, StoreResult};
use uuid::Uuid;

impl Db {
    // ------------------------------------------------------------ users and tokens

    pub async fn count_users(&self) -> StoreResult<i64> {
        self.pooled(async move |c| queries::count_users(c).await)
            .await
    }

    /// `Conflict` when the email is taken.
    pub async fn insert_user(&self, u: &UserRow) -> StoreResult<()> {
        let (db, u) = (self.clone(), u.clone());
        detached(
            async move { writes::insert_user(&mut *db.conn().await?, &DbUser::from(&u)).await },
        )
        .await
    }

    /// Case-insensitive: emails are stored lowercase.
    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
        let email = email.to_string();
        self.pooled(async move |c| {
            let email = email.to_lowercase();
            queries::user_by_email(c, &email)
                .await?
                .map(UserRow::try_from)
                .transpose()
        })
        .await
    }

    pub async fn user_by_id(&self, id: UserId) -> StoreResult<Option<UserRow>> {
        self.pooled(async move |c| {
            queries::user_by_id(c, &id.to_string())
                .await?
                .map(UserRow::try_from)
                .transpose()
        })
        .await
    }

    pub async fn insert_token(&self, t: &TokenRow) -> StoreResult<()> {
        let (db, t) = (self.clone(), t.clone());
        detached(
            async move { writes::insert_token(&mut *db.conn().await?, &DbToken::from(&t)).await },
        )
        .await
    }

    /// The token with this hash, expired or not (the caller checks
    /// `expires_at`).
    pub async fn token(&self, hash: &str) -> StoreResult<Option<TokenRow>> {
        let hash = hash.to_string();
        self.pooled(async move |c| {
            queries::token(c, &hash)
                .await?
                .map(TokenRow::try_from)
                .transpose()
        })
        .await
    }

    /// Deleting a token that does not exist is not an error.
    pub async fn delete_token(&self, hash: &str) -> StoreResult<()> {
        let hash = hash.to_string();
        self.pooled(async move |c| writes::delete_token(c, &hash).await)
            .await
    }

    /// Changes the user's name and avatar; false for no such user.
    pub async fn set_profile(
        &self,
        user: UserId,
        name: &str,
        avatar_url: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (name, avatar) = (name.to_string(), avatar_url.map(str::to_string));
        self.pooled(async move |c| {
            let n =
                writes::set_profile(c, &user.to_string(), &name, avatar.as_deref(), ts(at)).await?;
            Ok(n > 0)
        })
        .await
    }

    /// The user's new password hash; every staff token of theirs but the
    /// one whose hash is `keep` stops working. False for no such user.
    pub async fn set_password(
        &self,
        user: UserId,
        hash: &str,
        keep: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (hash, keep) = (hash.to_string(), keep.to_string());
        self.pooled(async move |c| {
            Ok(writes::set_password(c, &user.to_string(), &hash, &keep, ts(at)).await? > 0)
        })
        .await
    }

    // ------------------------------------------------------------ projects

    /// In one transaction: the project, its settings row, and its owner as
    /// an active admin member (limit from the settings' default).
    pub async fn create_project(
        &self,
        p: &ProjectRow,
        settings: &HandoffSettings,
        owner_email: &str,
        owner_name: &str,
    ) -> StoreResult<()> {
        let (db, p, settings, owner_email, owner_name) = (
            self.clone(),
            p.clone(),
            settings.clone(),
            owner_email.to_string(),
            owner_name.to_string(),
        );
        detached(async move {
            let project = DbProject::from_row(&p)?;
            let settings_row = DbSettings::new(p.id, &settings, p.created_at)?;
            let owner = DbMember::from_row(&MemberRow {
                id: Uuid::new_v4(),
                project_id: p.id,
                user_id: Some(p.owner_id),
                email: owner_email,
                name: Some(owner_name),
                role: MemberRole::Admin,
                status: MemberStatus::Active,
                invited_by: p.owner_id,
                invited_at: p.created_at,
                accepted_at: Some(p.created_at),
                invite_token_hash: None,
                max_concurrent_chats: settings.default_max_concurrent_chats,
                created_at: p.created_at,
                updated_at: p.created_at,
            })?;
            db.conn()
                .await?
                .transaction(async move |c| {
                    writes::insert_project(c, &project).await?;
                    crate::store::conversations::writes::upsert_settings(c, &settings_row).await?;
                    writes::insert_member(c, &owner).await
                })
                .await
        })
        .await
    }

    pub async fn project(&self, id: ProjectId) -> StoreResult<Option<ProjectRow>> {
        self.pooled(async move |c| {
            queries::project(c, &id.to_string())
                .await?
                .map(ProjectRow::try_from)
                .transpose()
        })
        .await
    }

    pub async fn project_by_public_key(&self, key: &str) -> StoreResult<Option<ProjectRow>> {
        let key = key.to_string();
        self.pooled(async move |c| {
            queries::project_by_public_key(c, &key)
                .await?
                .map(ProjectRow::try_from)
                .transpose()
        })
        .await
    }

    pub async fn project_by_secret_hash(&self, hash: &str) -> StoreResult<Option<ProjectRow>> {
        let hash = hash.to_string();
        self.pooled(async move |c| {
            queries::project_by_secret_hash(c, &hash)
                .await?
                .map(ProjectRow::try_from)
                .transpose()
        })
        .await
    }

    /// The projects where `user` is an active member, with the member's
    /// role name (`MemberRole::as_str`), oldest project first.
    pub async fn projects_of_user(&self, user: UserId) -> StoreResult<Vec<(ProjectRow, String)>> {
        self.pooled(async move |c| {
            queries::projects_of_user(c, &user.to_string())
                .await?
                .into_iter()
                .map(|(p, role)| Ok((ProjectRow::try_from(p)?, role)))
                .collect()
        })
        .await
    }

    // ------------------------------------------------------------ members

    /// The active membership of `user` in `project`.
    pub async fn membership(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> StoreResult<Option<MemberRow>> {
        self.pooled(async move |c| {
            queries::membership(c, &project.to_string(), &user.to_string())
                .await?
                .map(MemberRow::try_from)
                .transpose()
        })
        .await
    }

    /// `Conflict` when the project already has a member with this email
    /// (or the invite hash is taken).
    pub async fn insert_member(&self, m: &MemberRow) -> StoreResult<()> {
        let m = m.clone();
        self.pooled(async move |c| writes::insert_member(c, &DbMember::from_row(&m)?).await)
            .await
    }

    /// The pending invitation with this token hash.
    pub async fn member_by_invite_hash(&self, hash: &str) -> StoreResult<Option<MemberRow>> {
        let hash = hash.to_string();
        self.pooled(async move |c| {
            queries::member_by_invite_hash(c, &hash)
                .await?
                .map(MemberRow::try_from)
                .transpose()
        })
        .await
    }

    /// In one transaction: inserts `user` when `create_user`, turns the
    /// pending invitation `member_id` into an active membership of that user
    /// (accepted now, invite hash cleared), and writes the agent's ledger
    /// row when given. `NotFound` when the invitation is not pending;
    /// `Conflict` when a new user's email is taken.
    pub async fn accept_invite(
        &self,
        member_id: Uuid,
        user: &UserRow,
        create_user: bool,
        agent: Option<&AgentRecord>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (db, user, agent) = (self.clone(), user.clone(), agent.cloned());
        detached(async move {
            let new_user = create_user.then(|| DbUser::from(&user));
            let user_id = user.id.to_string();
            let member_id = member_id.to_string();
            let ledger = agent
                .as_ref()
                .map(|a| DbAgent::from_record(a, at))
                .transpose()?;
            let at = ts(at);
            db.conn()
                .await?
                .transaction(async move |c| {
                    if let Some(u) = &new_user {
                        writes::insert_user(c, u).await?;
                    }
                    if writes::activate_member(c, &member_id, &user_id, at).await? == 0 {
                        return Err(StoreError::NotFound);
                    }
                    if let Some(a) = &ledger {
                        crate::store::conversations::writes::upsert_agent(c, a).await?;
                    }
                    Ok(())
                })
                .await
        })
        .await
    }

    /// Every membership row of the project, whatever its status, oldest
    /// first.
    pub async fn members(&self, project: ProjectId) -> StoreResult<Vec<MemberRow>> {
        self.pooled(async move |c| convert_all(queries::members(c, &project.to_string()).await?))
            .await
    }

    /// Sets the member's `max_concurrent_chats`. `NotFound` when `user` is
    /// not a member of `project`.
    pub async fn set_agent_max(
        &self,
        project: ProjectId,
        user: UserId,
        max: u32,
    ) -> StoreResult<()> {
        self.pooled(async move |c| {
            let max = i32::try_from(max).map_err(|_| {
                StoreError::Backend(format!("max_concurrent_chats out of range: {max}"))
            })?;
            let changed = writes::set_member_max(
                c,
                &project.to_string(),
                &user.to_string(),
                max,
                ts(Utc::now()),
            )
            .await?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    // ------------------------------------------------------------ knowledge

    /// The project's knowledge base, oldest entry first.
    pub async fn knowledge(&self, project: ProjectId) -> StoreResult<Vec<KnowledgeRow>> {
        self.pooled(async move |c| convert_all(queries::knowledge(c, &project.to_string()).await?))
            .await
    }

    pub async fn insert_knowledge(&self, k: &KnowledgeRow) -> StoreResult<()> {
        let k = k.clone();
        self.pooled(async move |c| writes::insert_knowledge(c, &DbKnowledge::from(&k)).await)
            .await
    }

    /// True when the entry exists in that project and now says this.
    pub async fn update_knowledge(&self, k: &KnowledgeRow) -> StoreResult<bool> {
        let k = k.clone();
        self.pooled(async move |c| {
            let n = writes::update_knowledge(
                c,
                &k.project_id.to_string(),
                &k.id.to_string(),
                &k.question,
                &k.answer,
            )
            .await?;
            Ok(n > 0)
        })
        .await
    }

    /// Replaces the project's public key; false when there is no such project.
    pub async fn set_public_key(
        &self,
        id: ProjectId,
        key: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let key = key.to_string();
        self.pooled(async move |c| {
            Ok(writes::set_public_key(c, &id.to_string(), &key, ts(at)).await? > 0)
        })
        .await
    }

    /// Replaces the hash of the project's secret key; false when there is
    /// no such project.
    pub async fn set_secret_key_hash(
        &self,
        id: ProjectId,
        hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let hash = hash.to_string();
        self.pooled(async move |c| {
            Ok(writes::set_secret_key_hash(c, &id.to_string(), &hash, ts(at)).await? > 0)
        })
        .await
    }

    /// A pending invitation's new token (the old one dies) and new seven
    /// days from `at`; false when it is not a pending invitation of the
    /// project.
    pub async fn renew_invitation(
        &self,
        project: ProjectId,
        member: Uuid,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let hash = token_hash.to_string();
        self.pooled(async move |c| {
            let n = writes::renew_invitation(
                c,
                &project.to_string(),
                &member.to_string(),
                &hash,
                ts(at),
            )
            .await?;
            Ok(n > 0)
        })
        .await
    }

    /// Gives an active member another role; false when there is no such
    /// active member in the project.
    pub async fn set_member_role(
        &self,
        project: ProjectId,
        member: Uuid,
        role: MemberRole,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.pooled(async move |c| {
            let n = writes::set_member_role(
                c,
                &project.to_string(),
                &member.to_string(),
                role.as_str(),
                ts(at),
            )
            .await?;
            Ok(n > 0)
        })
        .await
    }

    /// The project's widget appearance as stored (JSON text; `{}` is every
    /// default), None for no such project.
    pub async fn widget_appearance(&self, id: ProjectId) -> StoreResult<Option<String>> {
        self.pooled(async move |c| queries::widget_appearance(c, &id.to_string()).await)
            .await
    }

    /// Replaces the project's widget appearance (JSON text) and allowed
    /// origins together; false when there is no such project.
    pub async fn set_widget(
        &self,
        id: ProjectId,
        appearance: String,
        origins: &[String],
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let origins = crate::store::convert::json_text("projects.allowed_origins", origins)?;
        self.pooled(async move |c| {
            let n = writes::set_widget(c, &id.to_string(), &appearance, &origins, ts(at)).await?;
            Ok(n > 0)
        })
        .await
    }

    /// True when the project exists and now has this name.
    pub async fn rename_project(
        &self,
        id: ProjectId,
        name: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let name = name.to_string();
        self.pooled(async move |c| {
            Ok(writes::rename_project(c, &id.to_string(), &name, ts(at)).await? > 0)
        })
        .await
    }

    /// True when the entry existed in that project and is gone.
    pub async fn delete_knowledge(&self, project: ProjectId, id: KnowledgeId) -> StoreResult<bool> {
        self.pooled(async move |c| {
            let n = writes::delete_knowledge(c, &project.to_string(), &id.to_string()).await?;
            Ok(n > 0)
        })
        .await
    }
}
