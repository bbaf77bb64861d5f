//! The dashboard's summaries: an agent's figures for today (seed 003 5.7.6,
//! "Resolved: 12  Avg Response: 45s  CSAT: 4.8") and the owner's view of
//! the widget's availability with the "no agents" warning (seed 003
//! 5.10.5). Both read; neither changes anything.

use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::json;
use switchboard_actors::domain::agents::AgentStatus;
use switchboard_actors::engine::project::{GetAvailability, GetSettings, ListAgents};
use switchboard_actors::ids::ProjectId;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/agent/stats", web::get().to(stats)).route(
        "/api/projects/{id}/availability",
        web::get().to(availability),
    );
}

/// The owner's warning when handoff is on and no one could take a chat.
pub const NO_AGENTS_MESSAGE: &str = "Human handoff is enabled, but no agents have been invited \
     yet. The \"Talk to Human\" button won't appear to customers until at least one agent is \
     online.";

/// The local day containing `now` in `tz`: its date and its bounds
/// `[start, end)` in UTC. A day starts at its first local instant, so a
/// midnight skipped by a clock change starts the day at the instant after
/// the gap, and a repeated one at the earlier of the two.
pub fn local_day(now: DateTime<Utc>, tz: Tz) -> (NaiveDate, DateTime<Utc>, DateTime<Utc>) {
    let date = now.with_timezone(&tz).date_naive();
    let start_of = |d: NaiveDate| -> DateTime<Utc> {
        // Midnight, or (in a gap) the first whole minute after it that
        // exists: no zone skips more than a few hours.
        (0..24 * 60)
            .find_map(|m| {
                let local = d.and_hms_opt(m / 60, m % 60, 0)?;
                tz.from_local_datetime(&local).earliest()
            })
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| d.and_time(chrono::NaiveTime::MIN).and_utc())
    };
    let next = date.checked_add_days(Days::new(1)).unwrap_or(date);
    (date, start_of(date), start_of(next))
}

#[derive(Deserialize)]
struct StatsQuery {
    project_id: ProjectId,
}

/// The calling agent's today in the project's time zone.
async fn stats(
    state: web::Data<AppState>,
    auth: StaffAuth,
    q: web::Query<StatsQuery>,
) -> ApiResult<HttpResponse> {
    auth.member_of(q.project_id)?;
    let project = state.engine.project(q.project_id).await?;
    let settings = project.addr.send(GetSettings).await?;
    // Settings are validated on write; an unreadable zone (never expected)
    // counts days in UTC rather than failing the dashboard.
    let tz: Tz = settings.timezone.parse().unwrap_or(Tz::UTC);
    let (date, start, end) = local_day(state.now(), tz);
    let s = state
        .db
        .agent_day_stats(q.project_id, auth.1.user_id, start, end)
        .await?;
    // Seconds to one decimal and CSAT to two: what a dashboard shows.
    let round = |v: f64, places: i32| {
        let f = 10f64.powi(places);
        (v * f).round() / f
    };
    Ok(HttpResponse::Ok().json(json!({
        "date": date.to_string(),
        "timezone": tz.name(),
        "resolved": s.resolved,
        "avg_first_response_seconds": s.avg_first_response_seconds.map(|v| round(v, 1)),
        "csat": s.csat.map(|v| round(v, 2)),
        "ratings": s.ratings,
    })))
}

/// What the widget would be told now, with the team's size and the
/// owner's warning.
async fn availability(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
) -> ApiResult<HttpResponse> {
    auth.member_of(*id)?;
    let project = state.engine.project(*id).await?;
    let a = project.addr.send(GetAvailability).await?;
    let settings = project.addr.send(GetSettings).await?;
    let agents = project.addr.send(ListAgents).await?;
    let online = agents
        .iter()
        .filter(|a| a.status == AgentStatus::Online)
        .count();
    let warning = (settings.enabled && agents.is_empty())
        .then(|| json!({ "code": "no_agents", "message": NO_AGENTS_MESSAGE }));
    Ok(HttpResponse::Ok().json(json!({
        "available": a.available,
        "reason": a.reason,
        "show_button": a.show_button,
        "show_offline_form": a.show_offline_form,
        "agents_total": agents.len(),
        "agents_online": online,
        "owner_warning": warning,
    })))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn days_are_local() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 23:30 UTC is already the next day in Berlin (UTC+1 in winter).
        let (date, start, end) = local_day(utc("2026-11-16T23:30:00Z"), berlin);
        assert_eq!(date.to_string(), "2026-11-17");
        assert_eq!(start, utc("2026-11-16T23:00:00Z"));
        assert_eq!(end, utc("2026-11-17T23:00:00Z"));
        let (date, start, end) = local_day(utc("2026-11-16T10:00:00Z"), Tz::UTC);
        assert_eq!(date.to_string(), "2026-11-16");
        assert_eq!(start, utc("2026-11-16T00:00:00Z"));
        assert_eq!(end, utc("2026-11-17T00:00:00Z"));
    }

    #[test]
    fn days_across_clock_changes() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // The day clocks go forward has 23 hours.
        let (_, start, end) = local_day(utc("2026-03-29T12:00:00Z"), berlin);
        assert_eq!(end - start, chrono::Duration::hours(23));
        // Santiago skips midnight (00:00 -> 01:00) in September 2026.
        let santiago: Tz = "America/Santiago".parse().unwrap();
        let (date, start, _) = local_day(utc("2026-09-06T15:00:00Z"), santiago);
        assert_eq!(date.to_string(), "2026-09-06");
        assert_eq!(
            start.with_timezone(&santiago).to_string(),
            "2026-09-06 01:00:00 -03"
        );
    }
}
