//! An agent's figures for one day (seed 003 5.7.6, "Today's Stats":
//! resolved, average first response, CSAT), each computed by an aggregate
//! query over `conversations` on either backend; the caller picks the day
//! (its bounds in UTC, from the project's time zone).

use super::conn::{with_conn, DbConn};
use super::convert::ts;
use super::db::{detached, Db};
use super::error::ResultExt;
use super::schema::conversations;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::{count, count_star, sql, sum};
use diesel::prelude::*;
use diesel::sql_types::{Double, Nullable};
use diesel_async::RunQueryDsl;
use switchboard_actors::ids::{ProjectId, UserId};
use switchboard_actors::ports::StoreResult;

/// One agent's day in one project.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AgentDayStats {
    /// Conversations the agent resolved within the day.
    pub resolved: i64,
    /// The agent's conversations whose first response fell within the day.
    pub first_responses: i64,
    /// Their mean `first_response_at - claimed_at`, in seconds.
    pub avg_first_response_seconds: Option<f64>,
    /// Ratings of the conversations the agent resolved within the day.
    pub ratings: i64,
    /// Their mean (1 to 5).
    pub csat: Option<f64>,
}

/// (resolved, ratings, sum of ratings) of the conversations `agent`
/// resolved in `[start, end)`.
pub async fn resolved_figures(
    conn: &mut DbConn,
    project: &str,
    agent: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> StoreResult<(i64, i64, Option<i64>)> {
    with_conn!(conn, |c| conversations::table
        .filter(conversations::project_id.eq(project))
        .filter(conversations::resolved_by.eq(agent))
        .filter(conversations::resolved_at.ge(start))
        .filter(conversations::resolved_at.lt(end))
        .select((
            count_star(),
            count(conversations::satisfaction_rating),
            sum(conversations::satisfaction_rating),
        ))
        .get_result::<(i64, i64, Option<i64>)>(c)
        .await
        .store())
}

/// (count, mean seconds) of the first responses in `[start, end)` of the
/// conversations assigned to `agent`. Only those answered at or after the
/// agent's claim count: a transfer moves the claim but keeps the first
/// response, which was then someone else's.
pub async fn first_response_figures(
    conn: &mut DbConn,
    project: &str,
    agent: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> StoreResult<(i64, Option<f64>)> {
    let avg = format!(
        "AVG({})",
        conn.seconds_between_sql("first_response_at", "claimed_at")
    );
    with_conn!(conn, |c| conversations::table
        .filter(conversations::project_id.eq(project))
        .filter(conversations::assigned_agent_id.eq(agent))
        .filter(conversations::first_response_at.ge(start))
        .filter(conversations::first_response_at.lt(end))
        .filter(conversations::claimed_at.is_not_null())
        .filter(
            conversations::first_response_at
                .nullable()
                .ge(conversations::claimed_at)
        )
        .select((count_star(), sql::<Nullable<Double>>(&avg)))
        .get_result::<(i64, Option<f64>)>(c)
        .await
        .store())
}

impl Db {
    /// `agent`'s figures in `project` for the day `[start, end)` (UTC).
    pub async fn agent_day_stats(
        &self,
        project: ProjectId,
        agent: UserId,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> StoreResult<AgentDayStats> {
        let db = self.clone();
        detached(async move {
            let (project, agent) = (project.to_string(), agent.to_string());
            let (start, end) = (ts(start), ts(end));
            let mut conn = db.conn().await?;
            let (resolved, ratings, rating_sum) =
                resolved_figures(&mut conn, &project, &agent, start, end).await?;
            let (first_responses, avg) =
                first_response_figures(&mut conn, &project, &agent, start, end).await?;
            Ok(AgentDayStats {
                resolved,
                first_responses,
                avg_first_response_seconds: avg.filter(|_| first_responses > 0),
                ratings,
                csat: rating_sum
                    .filter(|_| ratings > 0)
                    .map(|s| s as f64 / ratings as f64),
            })
        })
        .await
    }
}
