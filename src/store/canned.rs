//! Canned responses in the store (issue 17): a project's own (no owner)
//! and each agent's personal ones, with their shortcode unique within
//! that scope (the database's unique index decides, so two admins adding
//! the same shortcode at once get one row and one `Conflict`).

use super::conn::{statement_fn, with_conn, DbConn};
use super::convert::{parse_id, ts};
use super::db::Db;
use super::error::ResultExt;
use super::schema::canned_responses;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;
use switchboard_actors::ids::{CannedResponseId, ProjectId, UserId};
use switchboard_actors::ports::{StoreError, StoreResult};

/// One canned response; serializes as the API's item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CannedResponse {
    pub id: CannedResponseId,
    pub project_id: ProjectId,
    /// None: the project's (admins manage it); else that agent's own.
    pub owner_id: Option<UserId>,
    pub shortcode: String,
    pub content: String,
    #[serde(with = "switchboard_actors::wire_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "switchboard_actors::wire_time")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = canned_responses)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct DbCanned {
    id: String,
    project_id: String,
    owner_id: Option<String>,
    shortcode: String,
    content: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<&CannedResponse> for DbCanned {
    fn from(c: &CannedResponse) -> Self {
        Self {
            id: c.id.to_string(),
            project_id: c.project_id.to_string(),
            owner_id: c.owner_id.map(|u| u.to_string()),
            shortcode: c.shortcode.clone(),
            content: c.content.clone(),
            created_at: ts(c.created_at),
            updated_at: ts(c.updated_at),
        }
    }
}

impl TryFrom<DbCanned> for CannedResponse {
    type Error = StoreError;
    fn try_from(r: DbCanned) -> StoreResult<Self> {
        Ok(Self {
            id: parse_id("canned_responses.id", &r.id)?,
            project_id: parse_id("canned_responses.project_id", &r.project_id)?,
            owner_id: r
                .owner_id
                .as_deref()
                .map(|u| parse_id("canned_responses.owner_id", u))
                .transpose()?,
            shortcode: r.shortcode,
            content: r.content,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

statement_fn!(fn insert_row(DbCanned) inserts into canned_responses);

/// The project's responses and `user`'s own, by shortcode.
async fn visible_rows(conn: &mut DbConn, project: &str, user: &str) -> StoreResult<Vec<DbCanned>> {
    with_conn!(conn, |c| canned_responses::table
        .filter(canned_responses::project_id.eq(project))
        .filter(
            canned_responses::owner_id
                .is_null()
                .or(canned_responses::owner_id.eq(user)),
        )
        .order((
            canned_responses::shortcode.asc(),
            canned_responses::id.asc()
        ))
        .select(DbCanned::as_select())
        .load(c)
        .await
        .store())
}

async fn count_scope(conn: &mut DbConn, project: &str, owner: Option<&str>) -> StoreResult<i64> {
    with_conn!(conn, |c| {
        let q = canned_responses::table
            .filter(canned_responses::project_id.eq(project))
            .into_boxed();
        let q = match owner {
            Some(o) => q.filter(canned_responses::owner_id.eq(o)),
            None => q.filter(canned_responses::owner_id.is_null()),
        };
        q.count().get_result(c).await.store()
    })
}

async fn update_row(conn: &mut DbConn, r: &DbCanned) -> StoreResult<usize> {
    with_conn!(conn, |c| diesel::update(
        canned_responses::table
            .find(&r.id)
            .filter(canned_responses::project_id.eq(&r.project_id))
    )
    .set((
        canned_responses::shortcode.eq(&r.shortcode),
        canned_responses::content.eq(&r.content),
        canned_responses::updated_at.eq(r.updated_at),
    ))
    .execute(c)
    .await
    .store())
}

async fn delete_row(conn: &mut DbConn, project: &str, id: &str) -> StoreResult<usize> {
    with_conn!(conn, |c| diesel::delete(
        canned_responses::table
            .find(id)
            .filter(canned_responses::project_id.eq(project))
    )
    .execute(c)
    .await
    .store())
}

impl Db {
    /// What `user` may insert in `project`: the project's and their own.
    pub async fn canned_responses(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> StoreResult<Vec<CannedResponse>> {
        self.pooled(async move |c| {
            visible_rows(c, &project.to_string(), &user.to_string())
                .await?
                .into_iter()
                .map(CannedResponse::try_from)
                .collect()
        })
        .await
    }

    /// How many responses a scope holds (the project's, or one owner's).
    pub async fn count_canned_responses(
        &self,
        project: ProjectId,
        owner: Option<UserId>,
    ) -> StoreResult<i64> {
        self.pooled(async move |c| {
            let owner = owner.map(|o| o.to_string());
            count_scope(c, &project.to_string(), owner.as_deref()).await
        })
        .await
    }

    /// `Conflict` when the shortcode is taken in its scope.
    pub async fn insert_canned_response(&self, r: &CannedResponse) -> StoreResult<()> {
        let row = DbCanned::from(r);
        self.pooled(async move |c| insert_row(c, &row).await).await
    }

    /// False when there is no such response in the project; `Conflict`
    /// when the new shortcode is taken in its scope.
    pub async fn update_canned_response(&self, r: &CannedResponse) -> StoreResult<bool> {
        let row = DbCanned::from(r);
        self.pooled(async move |c| Ok(update_row(c, &row).await? > 0))
            .await
    }

    pub async fn delete_canned_response(
        &self,
        project: ProjectId,
        id: CannedResponseId,
    ) -> StoreResult<bool> {
        self.pooled(async move |c| {
            Ok(delete_row(c, &project.to_string(), &id.to_string()).await? > 0)
        })
        .await
    }
}
