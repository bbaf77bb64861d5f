//! Agent capacity (seed 003 §5.3.3-§5.3.5) and balanced assignment
//! (§5.5.2): one agent's ledger entry, the rules that make an agent eligible
//! for a new chat, and the deterministic choice of the best eligible agent.

use crate::ids::UserId;
use crate::string_enum;
use chrono::{DateTime, Duration, Utc};
use std::cmp::Reverse;

string_enum! {
    /// An agent's self-declared status (§5.3.2).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum AgentStatus: serde {
        /// Working; receives chats while under the limit.
        Online = "online",
        /// Temporarily paused; keeps current chats, receives no new ones.
        Away = "away",
        /// Not working.
        Offline = "offline",
    }
}

/// An agent whose last heartbeat is older than this receives no new chats
/// (§5.3.4 rule 3).
pub const HEARTBEAT_FRESHNESS: Duration = Duration::minutes(5);

/// One agent's capacity ledger entry within a project (§5.3.3).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentCapacity {
    pub user_id: UserId,
    pub status: AgentStatus,
    pub max_concurrent_chats: u32,
    /// Conversations currently `agent_active` with this agent.
    pub current_chat_count: u32,
    /// Last heartbeat.
    pub last_seen_at: DateTime<Utc>,
    /// When the agent last received a chat; `None` if never.
    pub last_assigned_at: Option<DateTime<Utc>>,
}

impl AgentCapacity {
    /// `max_concurrent_chats - current_chat_count`, never below zero (an
    /// agent can be over a limit that was lowered while they were busy).
    pub fn available_slots(&self) -> u32 {
        self.max_concurrent_chats
            .saturating_sub(self.current_chat_count)
    }

    /// Whether the last heartbeat is at most [`HEARTBEAT_FRESHNESS`] old.
    /// A heartbeat stamped in the future (clock skew) counts as fresh.
    pub fn heartbeat_fresh(&self, now: DateTime<Utc>) -> bool {
        now - self.last_seen_at <= HEARTBEAT_FRESHNESS
    }

    /// May receive a new chat: online, a free slot, and a fresh heartbeat.
    pub fn is_eligible(&self, now: DateTime<Utc>) -> bool {
        self.status == AgentStatus::Online
            && self.available_slots() > 0
            && self.heartbeat_fresh(now)
    }
}

/// Balanced assignment (§5.5.2): among eligible agents, the one with the
/// most available slots; ties go to the agent who waited longest since their
/// last assignment (never assigned first), then to the smallest user id so
/// the choice is deterministic. `None` when nobody is eligible.
pub fn pick_balanced<'a>(
    agents: impl IntoIterator<Item = &'a AgentCapacity>,
    now: DateTime<Utc>,
) -> Option<UserId> {
    agents
        .into_iter()
        .filter(|agent| agent.is_eligible(now))
        // `None < Some(_)`, so never-assigned agents sort first.
        .min_by_key(|agent| {
            (
                Reverse(agent.available_slots()),
                agent.last_assigned_at,
                agent.user_id,
            )
        })
        .map(|agent| agent.user_id)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use uuid::Uuid;

    fn uid(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }

    fn agent(n: u128, max: u32, current: u32, now: DateTime<Utc>) -> AgentCapacity {
        AgentCapacity {
            user_id: uid(n),
            status: AgentStatus::Online,
            max_concurrent_chats: max,
            current_chat_count: current,
            last_seen_at: now,
            last_assigned_at: None,
        }
    }

    #[test]
    fn status_names_roundtrip() {
        for (status, name) in AgentStatus::ALL
            .into_iter()
            .zip(["online", "away", "offline"])
        {
            assert_eq!(status.as_str(), name);
            assert_eq!(status.to_string(), name);
            assert_eq!(AgentStatus::parse(name), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(name)
            );
            assert_eq!(
                serde_json::from_value::<AgentStatus>(serde_json::json!(name)).unwrap(),
                status
            );
        }
        assert_eq!(AgentStatus::parse("Online"), None);
        assert_eq!(AgentStatus::parse("busy"), None);
    }

    #[test]
    fn heartbeat_window_is_five_minutes() {
        assert_eq!(HEARTBEAT_FRESHNESS, Duration::seconds(300));
    }

    #[test]
    fn available_slots_saturate() {
        let now = ManualClock::at_default().now();
        assert_eq!(agent(1, 5, 2, now).available_slots(), 3);
        assert_eq!(agent(1, 5, 5, now).available_slots(), 0);
        assert_eq!(agent(1, 2, 7, now).available_slots(), 0);
        assert_eq!(agent(1, 0, 0, now).available_slots(), 0);
    }

    #[test]
    fn heartbeat_goes_stale_after_exactly_five_minutes_plus_one_ms() {
        let clock = ManualClock::at_default();
        let a = agent(1, 5, 0, clock.now());
        clock.advance(Duration::minutes(5));
        assert!(a.heartbeat_fresh(clock.now()));
        assert!(a.is_eligible(clock.now()));
        assert_eq!(pick_balanced([&a], clock.now()), Some(uid(1)));
        clock.advance(Duration::milliseconds(1));
        assert!(!a.heartbeat_fresh(clock.now()));
        assert!(!a.is_eligible(clock.now()));
        assert_eq!(pick_balanced([&a], clock.now()), None);
    }

    #[test]
    fn future_heartbeat_counts_as_fresh() {
        let clock = ManualClock::at_default();
        let mut a = agent(1, 5, 0, clock.now());
        a.last_seen_at = clock.now() + Duration::minutes(1);
        assert!(a.heartbeat_fresh(clock.now()));
    }

    #[test]
    fn away_offline_and_full_agents_are_never_picked() {
        let now = ManualClock::at_default().now();
        let mut away = agent(1, 50, 0, now);
        away.status = AgentStatus::Away;
        let mut offline = agent(2, 50, 0, now);
        offline.status = AgentStatus::Offline;
        let full = agent(3, 5, 5, now);
        let over = agent(4, 3, 4, now);
        let pool = [&away, &offline, &full, &over];
        for a in pool {
            assert!(!a.is_eligible(now));
        }
        assert_eq!(pick_balanced(pool, now), None);
        let busy_but_available = agent(9, 5, 4, now);
        assert_eq!(
            pick_balanced(pool.into_iter().chain([&busy_but_available]), now),
            Some(uid(9))
        );
    }

    #[test]
    fn most_available_slots_wins() {
        let now = ManualClock::at_default().now();
        let a = agent(1, 5, 4, now); // 1 slot
        let b = agent(2, 10, 7, now); // 3 slots
        let c = agent(3, 3, 1, now); // 2 slots
        assert_eq!(pick_balanced([&a, &b, &c], now), Some(uid(2)));
        assert_eq!(pick_balanced(vec![&c, &a], now), Some(uid(3)));
    }

    #[test]
    fn slot_tie_goes_to_never_assigned_then_oldest_assignment() {
        let clock = ManualClock::at_default();
        let now = clock.now();
        let mut recent = agent(1, 5, 2, now);
        recent.last_assigned_at = Some(now - Duration::minutes(1));
        let mut older = agent(2, 5, 2, now);
        older.last_assigned_at = Some(now - Duration::minutes(10));
        let never = agent(3, 4, 1, now); // same 3 slots, never assigned
        assert_eq!(pick_balanced([&recent, &older, &never], now), Some(uid(3)));
        assert_eq!(pick_balanced([&recent, &older], now), Some(uid(2)));
        // Slots beat assignment age.
        let mut roomy = agent(4, 9, 0, now);
        roomy.last_assigned_at = Some(now);
        assert_eq!(
            pick_balanced([&recent, &older, &never, &roomy], now),
            Some(uid(4))
        );
    }

    #[test]
    fn full_tie_goes_to_smallest_user_id_regardless_of_order() {
        let now = ManualClock::at_default().now();
        let a = agent(7, 5, 0, now);
        let b = agent(3, 5, 0, now);
        let c = agent(5, 5, 0, now);
        assert_eq!(pick_balanced([&a, &b, &c], now), Some(uid(3)));
        assert_eq!(pick_balanced([&c, &a, &b], now), Some(uid(3)));
        let mut b_assigned = b.clone();
        b_assigned.last_assigned_at = Some(now);
        assert_eq!(pick_balanced([&a, &b_assigned, &c], now), Some(uid(5)));
    }

    #[test]
    fn empty_pool_picks_nobody() {
        let now = ManualClock::at_default().now();
        assert_eq!(pick_balanced(std::iter::empty(), now), None);
    }
}
