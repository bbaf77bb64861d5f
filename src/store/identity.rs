//! Proof of identity in the store (issue 14): each visitor's secret (a
//! visitor id alone is not a credential), the one-time codes that prove an
//! email, and each project's identity secret, the key host sites sign
//! their users' emails with (`user_hash`).
//!
//! Secrets and codes are kept only as hashes made by the caller; the
//! comparisons run in constant time, in the caller's function.

use super::conn::{first_row, statement_fn, with_conn, DbConn};
use super::convert::ts;
use super::customers::{customer_of_visitor, serialize_key};
use super::db::{detached, Db};
use super::error::ResultExt;
use super::schema::{identity_codes, projects, visitors};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use switchboard_actors::ids::ProjectId;
use switchboard_actors::ports::StoreResult;

/// A pending one-time code: `email` is proven by whoever shows the code
/// whose hash is `code_hash` before `expires_at`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = identity_codes)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct IdentityCode {
    pub project_id: String,
    pub visitor_id: String,
    pub email: String,
    pub code_hash: String,
    /// Wrong codes tried against this one.
    pub attempts: i32,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

impl IdentityCode {
    pub fn new(
        project: ProjectId,
        visitor: &str,
        email: &str,
        code_hash: String,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        IdentityCode {
            project_id: project.to_string(),
            visitor_id: visitor.to_string(),
            email: email.to_string(),
            code_hash,
            attempts: 0,
            expires_at: ts(expires_at),
            created_at: ts(now),
        }
    }
}

/// What checking a presented code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// The right code, in time: it is used up.
    Accepted,
    /// No code was asked for this email by this visitor (or it was used).
    NoCode,
    /// Too late; the code is gone.
    Expired,
    /// The code has had its wrong attempts; a new one must be asked for.
    Exhausted,
    /// A wrong code; it counted as an attempt.
    Wrong,
}

#[derive(Insertable)]
#[diesel(table_name = visitors)]
struct NewVisitor<'a> {
    project_id: &'a str,
    visitor_id: &'a str,
    secret_hash: &'a str,
    created_at: NaiveDateTime,
}

async fn visitor_secret(
    conn: &mut DbConn,
    project: &str,
    visitor: &str,
) -> StoreResult<Option<String>> {
    first_row!(
        conn,
        visitors::table
            .find((project, visitor))
            .select(visitors::secret_hash)
    )
}

statement_fn!(fn upsert_identity_code(IdentityCode) upserts into identity_codes on (project_id, visitor_id));

impl Db {
    /// Registers a new visitor with the hash of its secret. False, and
    /// nothing written, when the visitor exists already: it has a secret,
    /// or it is a customer's (own or merged) visitor id from before
    /// visitors had secrets, which nobody can prove now.
    pub async fn register_visitor(
        &self,
        project: ProjectId,
        visitor: &str,
        secret_hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (db, visitor, hash) = (self.clone(), visitor.to_string(), secret_hash.to_string());
        detached(async move {
            let project = project.to_string();
            db.conn()
                .await?
                .transaction(async move |c| {
                    // With every customer write of the project, so a visitor
                    // cannot appear between the look and the insert.
                    c.serialize_on(&serialize_key(&project)).await?;
                    if visitor_secret(c, &project, &visitor).await?.is_some()
                        || customer_of_visitor(c, &project, &visitor).await?.is_some()
                    {
                        return Ok(false);
                    }
                    let row = NewVisitor {
                        project_id: &project,
                        visitor_id: &visitor,
                        secret_hash: &hash,
                        created_at: ts(at),
                    };
                    with_conn!(c, |c| diesel::insert_into(visitors::table)
                        .values(&row)
                        .execute(c)
                        .await
                        .store())?;
                    Ok(true)
                })
                .await
        })
        .await
    }

    /// The hash of the visitor's secret; `None` for a visitor without one
    /// (unknown, or from before secrets).
    pub async fn visitor_secret_hash(
        &self,
        project: ProjectId,
        visitor: &str,
    ) -> StoreResult<Option<String>> {
        let visitor = visitor.to_string();
        self.pooled(async move |c| visitor_secret(c, &project.to_string(), &visitor).await)
            .await
    }

    /// Keeps `code` as the visitor's one pending code, replacing any other.
    pub async fn put_identity_code(&self, code: &IdentityCode) -> StoreResult<()> {
        let code = code.clone();
        self.pooled(async move |c| upsert_identity_code(c, &code).await)
            .await
    }

    /// Checks a code the visitor presents for `email` (its hash, compared
    /// with `matches`, a constant-time comparison): used up when right,
    /// one attempt counted when wrong, gone when expired. One transaction,
    /// so racing attempts never get more than `max_attempts` tries.
    #[allow(clippy::too_many_arguments)]
    pub async fn check_identity_code(
        &self,
        project: ProjectId,
        visitor: &str,
        email: &str,
        presented_hash: &str,
        now: DateTime<Utc>,
        max_attempts: i32,
        matches: fn(&str, &str) -> bool,
    ) -> StoreResult<CodeCheck> {
        let db = self.clone();
        let (visitor, email, presented) = (
            visitor.to_string(),
            email.to_string(),
            presented_hash.to_string(),
        );
        detached(async move {
            let project = project.to_string();
            let key = format!("identity_codes:{project}:{visitor}");
            db.conn()
                .await?
                .transaction(async move |c| {
                    c.serialize_on(&key).await?;
                    let pk = (project.as_str(), visitor.as_str());
                    let row: Option<IdentityCode> = first_row!(
                        c,
                        identity_codes::table
                            .find(pk)
                            .select(IdentityCode::as_select())
                    )?;
                    let Some(row) = row.filter(|r| r.email == email) else {
                        return Ok(CodeCheck::NoCode);
                    };
                    let delete = || diesel::delete(identity_codes::table.find(pk));
                    if row.expires_at <= ts(now) {
                        with_conn!(c, |c| delete().execute(c).await.store())?;
                        return Ok(CodeCheck::Expired);
                    }
                    if row.attempts >= max_attempts {
                        return Ok(CodeCheck::Exhausted);
                    }
                    if matches(&row.code_hash, &presented) {
                        with_conn!(c, |c| delete().execute(c).await.store())?;
                        return Ok(CodeCheck::Accepted);
                    }
                    with_conn!(c, |c| diesel::update(identity_codes::table.find(pk))
                        .set(identity_codes::attempts.eq(identity_codes::attempts + 1))
                        .execute(c)
                        .await
                        .store())?;
                    Ok(CodeCheck::Wrong)
                })
                .await
        })
        .await
    }

    /// The project's identity secret, set to `fresh` first if it has none
    /// (projects get theirs when an admin first asks). `None` when there is
    /// no such project.
    pub async fn ensure_identity_secret(
        &self,
        project: ProjectId,
        fresh: &str,
    ) -> StoreResult<Option<String>> {
        let (db, fresh) = (self.clone(), fresh.to_string());
        detached(async move {
            let project = project.to_string();
            let mut conn = db.conn().await?;
            with_conn!(&mut *conn, |c| diesel::update(
                projects::table
                    .find(&project)
                    .filter(projects::identity_secret.is_null())
            )
            .set(projects::identity_secret.eq(&fresh))
            .execute(c)
            .await
            .store())?;
            stored_secret(&mut conn, &project).await
        })
        .await
    }

    /// The project's identity secret as it is (`None` until an admin first
    /// read or rotated it): what a `user_hash` is checked against.
    pub async fn identity_secret(&self, project: ProjectId) -> StoreResult<Option<String>> {
        self.pooled(async move |c| stored_secret(c, &project.to_string()).await)
            .await
    }

    /// Replaces the project's identity secret: every `user_hash` made with
    /// the old one stops working at once.
    pub async fn rotate_identity_secret(&self, project: ProjectId, fresh: &str) -> StoreResult<()> {
        let fresh = fresh.to_string();
        self.pooled(async move |c| {
            with_conn!(c, |c| diesel::update(
                projects::table.find(project.to_string())
            )
            .set(projects::identity_secret.eq(&fresh))
            .execute(c)
            .await
            .store()
            .map(drop))
        })
        .await
    }
}

async fn stored_secret(conn: &mut DbConn, project: &str) -> StoreResult<Option<String>> {
    let secret: Option<Option<String>> = first_row!(
        conn,
        projects::table
            .find(project)
            .select(projects::identity_secret)
    )?;
    Ok(secret.flatten())
}
