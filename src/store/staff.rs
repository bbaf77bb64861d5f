//! Staff accounts beyond their login (issue 14 item 15): the instance's
//! permission to create projects, the proof of an account's email (a
//! one-time code, kept hashed), the built-in outbox of email that belongs
//! to no project, and the invitations' lifecycle (an expired one is
//! replaced by a new invitation of the same email; a pending one can be
//! revoked).
//!
//! Codes are kept only as hashes made by the caller; the comparison runs
//! in constant time, in the caller's function.

use super::accounts::queries::STATUS_PENDING;
use super::accounts::records::{DbMember, DbUser, MemberRow, UserRow};
use super::accounts::writes::insert_member;
use super::conn::{all_rows, first_row, older_than, statement_fn, with_conn};
use super::convert::ts;
use super::db::{detached, Db};
use super::error::{corrupt, one_row, ResultExt};
use super::identity::{write_verdict, Attempt, CodeCheck, Pending};
use super::schema::{instance_emails, project_members, staff_email_codes, users};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;
use switchboard_actors::ids::{EmailId, ProjectId, UserId};
use switchboard_actors::ports::{StoreError, StoreResult};
use uuid::Uuid;

/// A pending code proving an account's email: whoever is logged in as
/// `user_id` and shows the code whose hash is `code_hash` before
/// `expires_at` proves `email`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = staff_email_codes)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct StaffEmailCode {
    pub user_id: String,
    pub email: String,
    pub code_hash: String,
    /// Wrong codes tried against this one.
    pub attempts: i32,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

impl StaffEmailCode {
    fn pending(&self) -> Pending<'_> {
        (&self.email, &self.code_hash, self.attempts, self.expires_at)
    }

    pub fn new(
        user: UserId,
        email: &str,
        code_hash: String,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        StaffEmailCode {
            user_id: user.to_string(),
            email: email.to_string(),
            code_hash,
            attempts: 0,
            expires_at: ts(expires_at),
            created_at: ts(now),
        }
    }
}

/// One email of no project that the built-in provider "sent" (logged and
/// kept). Serializes as the API's `GET /api/instance/emails` item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceEmailRecord {
    pub id: EmailId,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// What it is for, e.g. `staff_email_code`.
    pub kind: String,
    #[serde(with = "switchboard_actors::wire_time")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = instance_emails)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct DbInstanceEmail {
    id: String,
    to_email: String,
    subject: String,
    body: String,
    kind: String,
    created_at: NaiveDateTime,
}

impl TryFrom<DbInstanceEmail> for InstanceEmailRecord {
    type Error = StoreError;
    fn try_from(r: DbInstanceEmail) -> StoreResult<Self> {
        Ok(Self {
            id: r
                .id
                .parse()
                .map_err(|e| corrupt("instance_emails.id", format!("{:?}: {e}", r.id)))?,
            to: r.to_email,
            subject: r.subject,
            body: r.body,
            kind: r.kind,
            created_at: r.created_at.and_utc(),
        })
    }
}

/// What revoking an invitation found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// It was pending; it is gone, and its token with it.
    Revoked,
    /// No such member in that project.
    NotFound,
    /// The member accepted already (removing members is not this).
    NotPending,
}

fn to_users(rows: Vec<DbUser>) -> StoreResult<Vec<UserRow>> {
    rows.into_iter().map(UserRow::try_from).collect()
}

statement_fn!(fn upsert_staff_email_code(StaffEmailCode) upserts into staff_email_codes on user_id);

impl Db {
    /// Grants (`allowed`) or takes back the permission to create projects.
    /// `NotFound` when there is no such account.
    pub async fn set_can_create_projects(
        &self,
        user: UserId,
        allowed: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.pooled(async move |c| {
            let n = with_conn!(c, |c| diesel::update(users::table.find(user.to_string()))
                .set((
                    users::can_create_projects.eq(allowed),
                    users::updated_at.eq(ts(at)),
                ))
                .execute(c)
                .await
                .store())?;
            one_row(n)
        })
        .await
    }

    /// Every account that may create projects, by email.
    pub async fn project_creators(&self) -> StoreResult<Vec<UserRow>> {
        self.pooled(async move |c| {
            let rows = all_rows!(
                c,
                users::table
                    .filter(users::can_create_projects.eq(true))
                    .order(users::email.asc())
                    .select(DbUser::as_select())
            )?;
            to_users(rows)
        })
        .await
    }

    /// Keeps `code` as the account's one pending code, replacing any other.
    pub async fn put_staff_email_code(&self, code: &StaffEmailCode) -> StoreResult<()> {
        let code = code.clone();
        self.pooled(async move |c| upsert_staff_email_code(c, &code).await)
            .await
    }

    /// Checks a code the account presents for `email` (its hash, compared
    /// with `matches`, a constant-time comparison): when right and in
    /// time, the code is used up and the account's email is proven, in the
    /// same transaction; a wrong one counts an attempt; an expired one is
    /// gone. Racing attempts never get more than `max_attempts` tries.
    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_staff_email_code(
        &self,
        user: UserId,
        email: &str,
        presented_hash: &str,
        now: DateTime<Utc>,
        max_attempts: i32,
        matches: fn(&str, &str) -> bool,
    ) -> StoreResult<CodeCheck> {
        let db = self.clone();
        let attempt = Attempt::new(email, presented_hash, now, max_attempts, matches);
        detached(async move {
            let user = user.to_string();
            let key = format!("staff_email_codes:{user}");
            db.conn()
                .await?
                .transaction(async move |c| {
                    c.serialize_on(&key).await?;
                    let row: Option<StaffEmailCode> = first_row!(
                        c,
                        staff_email_codes::table
                            .find(&user)
                            .select(StaffEmailCode::as_select())
                    )?;
                    let check = attempt.verdict(row.as_ref().map(StaffEmailCode::pending));
                    write_verdict!(c, staff_email_codes, &user, check)?;
                    if check == CodeCheck::Accepted {
                        // The proof and the used-up code in one transaction.
                        with_conn!(c, |c| diesel::update(
                            users::table
                                .find(&user)
                                .filter(users::email.eq(&attempt.email))
                        )
                        .set((
                            users::email_verified.eq(true),
                            users::updated_at.eq(ts(now)),
                        ))
                        .execute(c)
                        .await
                        .store())?;
                    }
                    Ok(check)
                })
                .await
        })
        .await
    }

    /// Keeps an email of no project in the built-in provider's outbox.
    pub async fn insert_instance_email(&self, email: &InstanceEmailRecord) -> StoreResult<()> {
        let db = self.clone();
        let row = DbInstanceEmail {
            id: email.id.to_string(),
            to_email: email.to.clone(),
            subject: email.subject.clone(),
            body: email.body.clone(),
            kind: email.kind.clone(),
            created_at: ts(email.created_at),
        };
        detached(async move {
            with_conn!(&mut *db.conn().await?, |c| diesel::insert_into(
                instance_emails::table
            )
            .values(&row)
            .execute(c)
            .await
            .store()
            .map(drop))
        })
        .await
    }

    /// The instance outbox, newest first (ties by id descending), strictly
    /// after `cursor`, at most `limit`.
    pub async fn list_instance_emails(
        &self,
        cursor: Option<(DateTime<Utc>, EmailId)>,
        limit: i64,
    ) -> StoreResult<Vec<InstanceEmailRecord>> {
        self.pooled(async move |c| {
            let cursor = cursor.map(|(at, id)| (ts(at), id.to_string()));
            let rows: Vec<DbInstanceEmail> = with_conn!(c, |c| {
                let mut q = instance_emails::table.into_boxed();
                if let Some((at, id)) = &cursor {
                    q = q.filter(older_than!(
                        instance_emails::created_at,
                        instance_emails::id,
                        at,
                        id
                    ));
                }
                q.order((
                    instance_emails::created_at.desc(),
                    instance_emails::id.desc(),
                ))
                .limit(limit)
                .select(DbInstanceEmail::as_select())
                .load(c)
                .await
                .store()
            })?;
            rows.into_iter()
                .map(InstanceEmailRecord::try_from)
                .collect()
        })
        .await
    }

    /// Inserts the invitation `m`, first dropping the project's pending
    /// invitation of the same email if it was made at or before
    /// `expired_at_or_before` (it can no longer be accepted), in one
    /// transaction. `Conflict` when the email is a member or has a live
    /// invitation.
    pub async fn insert_invitation(
        &self,
        m: &MemberRow,
        expired_at_or_before: DateTime<Utc>,
    ) -> StoreResult<()> {
        let db = self.clone();
        let row = DbMember::from_row(m)?;
        detached(async move {
            let cutoff = ts(expired_at_or_before);
            db.conn()
                .await?
                .transaction(async move |c| {
                    let (project, email) = (row.project_id.clone(), row.email.clone());
                    with_conn!(c, |c| diesel::delete(
                        project_members::table
                            .filter(project_members::project_id.eq(&project))
                            .filter(project_members::email.eq(&email))
                            .filter(project_members::status.eq(STATUS_PENDING))
                            .filter(project_members::invited_at.le(cutoff))
                    )
                    .execute(c)
                    .await
                    .store())?;
                    insert_member(c, &row).await
                })
                .await
        })
        .await
    }

    /// Revokes the project's pending invitation `member`: the row and its
    /// token are gone, so accepting it is refused like an unknown token.
    pub async fn revoke_invitation(
        &self,
        project: ProjectId,
        member: Uuid,
    ) -> StoreResult<Revoked> {
        let db = self.clone();
        detached(async move {
            let (project, member) = (project.to_string(), member.to_string());
            let mut conn = db.conn().await?;
            let n = with_conn!(&mut *conn, |c| diesel::delete(
                project_members::table
                    .find(&member)
                    .filter(project_members::project_id.eq(&project))
                    .filter(project_members::status.eq(STATUS_PENDING))
            )
            .execute(c)
            .await
            .store())?;
            if n > 0 {
                return Ok(Revoked::Revoked);
            }
            let exists: i64 = with_conn!(&mut *conn, |c| project_members::table
                .find(&member)
                .filter(project_members::project_id.eq(&project))
                .count()
                .get_result(c)
                .await
                .store())?;
            Ok(if exists > 0 {
                Revoked::NotPending
            } else {
                Revoked::NotFound
            })
        })
        .await
    }
}
