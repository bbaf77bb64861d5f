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
    fn pending(&self) -> Pending<'_> {
        (&self.email, &self.code_hash, self.attempts, self.expires_at)
    }

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

/// Makes the write a verdict asks for on the pending code
/// `$table.find($key)`: both tables of codes keep `attempts` the same way.
macro_rules! write_verdict {
    ($c:expr, $table:ident, $key:expr, $verdict:expr) => {
        match $verdict {
            CodeCheck::Expired | CodeCheck::Accepted => {
                with_conn!($c, |c| diesel::delete($table::table.find($key))
                    .execute(c)
                    .await
                    .store()
                    .map(drop))
            }
            CodeCheck::Wrong => with_conn!($c, |c| diesel::update($table::table.find($key))
                .set($table::attempts.eq($table::attempts + 1))
                .execute(c)
                .await
                .store()
                .map(drop)),
            CodeCheck::NoCode | CodeCheck::Exhausted => Ok(()),
        }
    };
}
pub(super) use write_verdict;

/// A code presented against the pending one (a visitor's or an account's):
/// both kinds are judged by these rules, so a change to them reaches both.
pub(super) struct Attempt {
    pub email: String,
    presented_hash: String,
    now: DateTime<Utc>,
    max_attempts: i32,
    /// A constant-time comparison, the caller's.
    matches: fn(&str, &str) -> bool,
}

/// A pending code's stored `(email, code_hash, attempts, expires_at)`.
pub(super) type Pending<'a> = (&'a str, &'a str, i32, NaiveDateTime);

impl Attempt {
    pub(super) fn new(
        email: &str,
        presented_hash: &str,
        now: DateTime<Utc>,
        max_attempts: i32,
        matches: fn(&str, &str) -> bool,
    ) -> Self {
        Attempt {
            email: email.to_string(),
            presented_hash: presented_hash.to_string(),
            now,
            max_attempts,
            matches,
        }
    }

    /// The verdict on `pending`. The caller makes the write it asks for
    /// (`write_verdict!`).
    pub(super) fn verdict(&self, pending: Option<Pending<'_>>) -> CodeCheck {
        match pending.filter(|(email, ..)| *email == self.email) {
            None => CodeCheck::NoCode,
            Some((_, _, _, expires_at)) if expires_at <= ts(self.now) => CodeCheck::Expired,
            Some((_, _, attempts, _)) if attempts >= self.max_attempts => CodeCheck::Exhausted,
            Some((_, hash, ..)) if (self.matches)(hash, &self.presented_hash) => {
                CodeCheck::Accepted
            }
            Some(_) => CodeCheck::Wrong,
        }
    }
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
        let (db, visitor) = (self.clone(), visitor.to_string());
        let attempt = Attempt::new(email, presented_hash, now, max_attempts, matches);
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
                    let check = attempt.verdict(row.as_ref().map(IdentityCode::pending));
                    write_verdict!(c, identity_codes, pk, check)?;
                    Ok(check)
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
