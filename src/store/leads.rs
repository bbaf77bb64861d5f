//! Leads and outbound emails in the store: the rows of `leads` (what the
//! offline form captures, seed 003 5.8.4) and `outbound_emails` (the
//! built-in email provider's outbox), their records, their queries (written
//! once over [`DbConn`] with `with_conn!`) and the operations the HTTP side
//! runs: insert one, and list a project's newest first with a keyset cursor.
//!
//! Kept in its own file, like `sessions.rs`, so the live-chat store can
//! change independently.

use super::conn::{older_than, statement_fn, with_conn, DbConn};
use super::convert::{parse_id, ts};
use super::db::Db;
use super::error::ResultExt;
use super::schema::{leads, outbound_emails};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;
use switchboard_actors::ids::{ConversationId, EmailId, LeadId, ProjectId};
use switchboard_actors::ports::{StoreError, StoreResult};

// ---------------------------------------------------------------- records

/// A lead: someone who left an email (and a question) when no one could
/// chat. Serializes as the API's `GET /api/projects/:id/leads` item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadRecord {
    pub id: LeadId,
    pub project_id: ProjectId,
    pub conversation_id: Option<ConversationId>,
    pub email: String,
    pub name: Option<String>,
    /// The question or message left with the form.
    pub message: String,
    #[serde(with = "switchboard_actors::wire_time")]
    pub created_at: DateTime<Utc>,
}

/// One email the built-in provider "sent" (logged and kept here).
/// Serializes as the API's `GET /api/projects/:id/emails` item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmailRecord {
    pub id: EmailId,
    pub project_id: ProjectId,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// What it is for, e.g. `offline_confirmation`.
    pub kind: String,
    #[serde(with = "switchboard_actors::wire_time")]
    pub created_at: DateTime<Utc>,
}

// ---------------------------------------------------------------- rows

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = leads)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbLead {
    pub id: String,
    pub project_id: String,
    pub conversation_id: Option<String>,
    pub email: String,
    pub name: Option<String>,
    pub message: String,
    pub created_at: NaiveDateTime,
}

impl From<&LeadRecord> for DbLead {
    fn from(l: &LeadRecord) -> Self {
        Self {
            id: l.id.to_string(),
            project_id: l.project_id.to_string(),
            conversation_id: l.conversation_id.map(|c| c.to_string()),
            email: l.email.clone(),
            name: l.name.clone(),
            message: l.message.clone(),
            created_at: ts(l.created_at),
        }
    }
}

impl TryFrom<DbLead> for LeadRecord {
    type Error = StoreError;
    fn try_from(r: DbLead) -> StoreResult<Self> {
        Ok(Self {
            id: parse_id("leads.id", &r.id)?,
            project_id: parse_id("leads.project_id", &r.project_id)?,
            conversation_id: r
                .conversation_id
                .as_deref()
                .map(|c| parse_id("leads.conversation_id", c))
                .transpose()?,
            email: r.email,
            name: r.name,
            message: r.message,
            created_at: r.created_at.and_utc(),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbound_emails)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DbEmail {
    pub id: String,
    pub project_id: String,
    pub to_email: String,
    pub subject: String,
    pub body: String,
    pub kind: String,
    pub created_at: NaiveDateTime,
}

impl From<&EmailRecord> for DbEmail {
    fn from(e: &EmailRecord) -> Self {
        Self {
            id: e.id.to_string(),
            project_id: e.project_id.to_string(),
            to_email: e.to.clone(),
            subject: e.subject.clone(),
            body: e.body.clone(),
            kind: e.kind.clone(),
            created_at: ts(e.created_at),
        }
    }
}

impl TryFrom<DbEmail> for EmailRecord {
    type Error = StoreError;
    fn try_from(r: DbEmail) -> StoreResult<Self> {
        Ok(Self {
            id: parse_id("outbound_emails.id", &r.id)?,
            project_id: parse_id("outbound_emails.project_id", &r.project_id)?,
            to: r.to_email,
            subject: r.subject,
            body: r.body,
            kind: r.kind,
            created_at: r.created_at.and_utc(),
        })
    }
}

// ---------------------------------------------------------------- queries and writes

statement_fn!(pub fn insert_lead(DbLead) inserts into leads);

/// Newest first, ties by id descending; strictly after `cursor`.
pub async fn leads_of_project(
    conn: &mut DbConn,
    project: &str,
    cursor: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<DbLead>> {
    with_conn!(conn, |c| {
        let mut q = leads::table
            .filter(leads::project_id.eq(project))
            .into_boxed();
        if let Some((at, id)) = &cursor {
            q = q.filter(older_than!(leads::created_at, leads::id, at, id));
        }
        q.order((leads::created_at.desc(), leads::id.desc()))
            .limit(limit)
            .select(DbLead::as_select())
            .load(c)
            .await
            .store()
    })
}

statement_fn!(pub fn insert_email(DbEmail) inserts into outbound_emails);

/// Newest first, ties by id descending; strictly after `cursor`.
pub async fn emails_of_project(
    conn: &mut DbConn,
    project: &str,
    cursor: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> StoreResult<Vec<DbEmail>> {
    with_conn!(conn, |c| {
        let mut q = outbound_emails::table
            .filter(outbound_emails::project_id.eq(project))
            .into_boxed();
        if let Some((at, id)) = &cursor {
            q = q.filter(older_than!(
                outbound_emails::created_at,
                outbound_emails::id,
                at,
                id
            ));
        }
        q.order((
            outbound_emails::created_at.desc(),
            outbound_emails::id.desc(),
        ))
        .limit(limit)
        .select(DbEmail::as_select())
        .load(c)
        .await
        .store()
    })
}

// ---------------------------------------------------------------- Db

impl Db {
    /// Records a lead. `Conflict` if its id exists; a project that does not
    /// exist is a broken reference (an error).
    pub async fn insert_lead(&self, lead: &LeadRecord) -> StoreResult<()> {
        let row = DbLead::from(lead);
        self.pooled(async move |c| insert_lead(c, &row).await).await
    }

    /// A project's leads, newest first, at most `limit`, strictly after
    /// `cursor` (the last item's `(created_at, id)` of the previous page).
    pub async fn list_leads(
        &self,
        project: ProjectId,
        cursor: Option<(DateTime<Utc>, LeadId)>,
        limit: i64,
    ) -> StoreResult<Vec<LeadRecord>> {
        self.pooled(async move |c| {
            leads_of_project(
                c,
                &project.to_string(),
                cursor.map(|(at, id)| (ts(at), id.to_string())),
                limit,
            )
            .await?
            .into_iter()
            .map(LeadRecord::try_from)
            .collect()
        })
        .await
    }

    /// Keeps an email in the built-in provider's outbox.
    pub async fn insert_email(&self, email: &EmailRecord) -> StoreResult<()> {
        let row = DbEmail::from(email);
        self.pooled(async move |c| insert_email(c, &row).await)
            .await
    }

    /// A project's outbox, newest first; paged like `list_leads`.
    pub async fn list_emails(
        &self,
        project: ProjectId,
        cursor: Option<(DateTime<Utc>, EmailId)>,
        limit: i64,
    ) -> StoreResult<Vec<EmailRecord>> {
        self.pooled(async move |c| {
            emails_of_project(
                c,
                &project.to_string(),
                cursor.map(|(at, id)| (ts(at), id.to_string())),
                limit,
            )
            .await?
            .into_iter()
            .map(EmailRecord::try_from)
            .collect()
        })
        .await
    }
}
