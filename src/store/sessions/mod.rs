//! Billable sessions in the store (seeds 000 and 001): `tickets`,
//! `sessions`, `session_messages`, `session_sms` and `payments`. Laid out
//! as every area of the store: `records` (rows and conversions),
//! `queries` (reads), `writes` (mutations and the group commit's session
//! ops), `port` (the engine's `SessionStore`), and here the operations the
//! HTTP side runs directly (ticket creation, the queue, the one-winner
//! claim, opening a session, my-sessions list, solver stats).

mod port;
mod queries;
mod records;
mod writes;

pub use records::{SessionListFilter, SolverStats};
pub(super) use writes::{stored_write, SessionWrite};

use crate::store::conn::with_conn;
use crate::store::convert::{parse_id, ts, utc_opt};
use crate::store::db::{detached, Db};
use crate::store::error::{corrupt, one_row, ResultExt};
use crate::store::schema::projects;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use queries::*;
use records::*;
use switchboard_actors::domain::ticket::TicketStatus;
use switchboard_actors::ids::{PaymentId, ProjectId, SessionId, TicketId, UserId};
use switchboard_actors::ports::{StoreError, StoreResult};
use switchboard_actors::session_ports::{PaymentRecord, SessionRecord, SmsRecord, TicketRecord};
use writes::*;

impl Db {
    /// The project's solver share (percent), `NotFound` for no such project.
    pub async fn solver_share_percent(&self, project: ProjectId) -> StoreResult<u32> {
        self.pooled(async move |c| {
            let v: i32 = with_conn!(c, |c| projects::table
                .find(project.to_string())
                .select(projects::solver_share_percent)
                .first(c)
                .await
                .store())?;
            u32::try_from(v).map_err(|_| corrupt("projects.solver_share_percent", v))
        })
        .await
    }

    /// Sets the share for sessions created from now on.
    pub async fn set_solver_share_percent(
        &self,
        project: ProjectId,
        percent: u32,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let db = self.clone();
        let value = i32::try_from(percent)
            .map_err(|_| StoreError::Backend("solver_share_percent out of range".into()))?;
        detached(async move {
            let n = with_conn!(&mut *db.conn().await?, |c| diesel::update(
                projects::table.find(project.to_string())
            )
            .set((
                projects::solver_share_percent.eq(value),
                projects::updated_at.eq(ts(at)),
            ))
            .execute(c)
            .await
            .store())?;
            one_row(n)
        })
        .await
    }

    pub async fn insert_ticket(&self, t: &TicketRecord) -> StoreResult<()> {
        let row = DbTicket::from_record(t);
        self.pooled(async move |c| insert_ticket(c, &row).await)
            .await
    }

    pub async fn ticket(&self, id: TicketId) -> StoreResult<Option<TicketRecord>> {
        self.pooled(async move |c| {
            ticket(c, &id.to_string())
                .await?
                .map(TicketRecord::try_from)
                .transpose()
        })
        .await
    }

    /// Oldest first, after the cursor `(created_at, id)` of the last one seen.
    pub async fn ticket_queue(
        &self,
        project: ProjectId,
        status: TicketStatus,
        after: Option<(DateTime<Utc>, TicketId)>,
        limit: i64,
    ) -> StoreResult<Vec<TicketRecord>> {
        self.pooled(async move |c| {
            tickets_by_status(
                c,
                &project.to_string(),
                status.as_str(),
                after.map(|(at, id)| (ts(at), id.to_string())),
                limit,
            )
            .await?
            .into_iter()
            .map(TicketRecord::try_from)
            .collect()
        })
        .await
    }

    /// True for the one caller whose claim moved the ticket from open.
    pub async fn claim_ticket(
        &self,
        id: TicketId,
        solver: UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.pooled(async move |c| {
            let n = claim_ticket(c, &id.to_string(), &solver.to_string(), ts(at)).await?;
            Ok(n == 1)
        })
        .await
    }

    /// Customer info of a ticket with no live session; false when the
    /// ticket is in progress (its session's actor owns it then).
    pub async fn update_idle_ticket_customer(&self, t: &TicketRecord) -> StoreResult<bool> {
        let row = DbTicket::from_record(t);
        self.pooled(async move |c| Ok(update_idle_ticket_customer(c, &row).await? == 1))
            .await
    }

    /// In one transaction: the ticket claimed by the session's solver moves
    /// to in_progress and the session is inserted. `Conflict` when the
    /// ticket is no longer claimed by that solver.
    pub async fn open_session(&self, s: &SessionRecord) -> StoreResult<()> {
        let (db, row) = (self.clone(), DbSession::from_record(s)?);
        detached(async move {
            db.conn()
                .await?
                .transaction(async move |c| {
                    let n = start_ticket_session(c, &row.ticket_id, &row.solver_id, row.created_at)
                        .await?;
                    if n != 1 {
                        return Err(StoreError::Conflict(
                            "the ticket is not claimed by this solver".into(),
                        ));
                    }
                    insert_session(c, &row).await
                })
                .await
        })
        .await
    }

    /// In one transaction: an ad hoc ticket (already in progress) and its
    /// session.
    pub async fn open_adhoc_session(&self, t: &TicketRecord, s: &SessionRecord) -> StoreResult<()> {
        let (db, ticket_row, row) = (
            self.clone(),
            DbTicket::from_record(t),
            DbSession::from_record(s)?,
        );
        detached(async move {
            db.conn()
                .await?
                .transaction(async move |c| {
                    insert_ticket(c, &ticket_row).await?;
                    insert_session(c, &row).await
                })
                .await
        })
        .await
    }

    /// The session a join token opens: `(session, project, stored hash,
    /// ended_at)`.
    pub async fn session_by_token_hash(
        &self,
        hash: &str,
    ) -> StoreResult<Option<(SessionId, ProjectId, String, Option<DateTime<Utc>>)>> {
        let hash = hash.to_string();
        self.pooled(
            async move |c| match session_by_token_hash(c, &hash).await? {
                Some((s, p, h, ended)) => Ok(Some((
                    parse_id("sessions.id", &s)?,
                    parse_id("sessions.project_id", &p)?,
                    h,
                    utc_opt(ended),
                ))),
                None => Ok(None),
            },
        )
        .await
    }

    pub async fn list_sessions(
        &self,
        f: &SessionListFilter,
    ) -> StoreResult<Vec<(SessionRecord, TicketRecord)>> {
        let f = f.clone();
        self.pooled(async move |c| {
            let rows = sessions_of_solver(
                c,
                &f.solver_id.to_string(),
                f.status.map(|s| s.as_str()),
                f.cursor.map(|(at, id)| (ts(at), id.to_string())),
                f.limit,
            )
            .await?;
            rows.into_iter()
                .map(|(s, t)| Ok((s.try_into()?, t.try_into()?)))
                .collect()
        })
        .await
    }

    pub async fn solver_stats(&self, solver: UserId) -> StoreResult<SolverStats> {
        self.pooled(async move |c| {
            let rows = completed_figures(c, &solver.to_string()).await?;
            let total_earnings = rows
                .iter()
                .filter_map(|(e, _)| *e)
                .map(|e| u64::try_from(e).unwrap_or(0))
                .sum();
            let ratings: Vec<i32> = rows.iter().filter_map(|(_, r)| *r).collect();
            let average_rating = (!ratings.is_empty())
                .then(|| f64::from(ratings.iter().sum::<i32>()) / ratings.len() as f64);
            Ok(SolverStats {
                total_sessions: rows.len() as u64,
                total_earnings,
                average_rating,
            })
        })
        .await
    }

    /// The (newest) session opened from a ticket.
    pub async fn session_of_ticket(&self, ticket: TicketId) -> StoreResult<Option<SessionId>> {
        self.pooled(async move |c| {
            session_of_ticket(c, &ticket.to_string())
                .await?
                .map(|s| parse_id("sessions.id", &s))
                .transpose()
        })
        .await
    }

    pub async fn session_sms(&self, session: SessionId) -> StoreResult<Vec<SmsRecord>> {
        self.pooled(async move |c| {
            sms_of_session(c, &session.to_string())
                .await?
                .into_iter()
                .map(SmsRecord::try_from)
                .collect()
        })
        .await
    }

    pub async fn payment(&self, id: PaymentId) -> StoreResult<Option<PaymentRecord>> {
        self.pooled(async move |c| {
            payment(c, &id.to_string())
                .await?
                .map(PaymentRecord::try_from)
                .transpose()
        })
        .await
    }

    pub async fn payment_of_session(
        &self,
        session: SessionId,
    ) -> StoreResult<Option<PaymentRecord>> {
        self.pooled(async move |c| {
            payment_of_session(c, &session.to_string())
                .await?
                .map(PaymentRecord::try_from)
                .transpose()
        })
        .await
    }
}
