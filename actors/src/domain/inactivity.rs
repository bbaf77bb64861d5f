//! Customer presence and the timeouts that keep no conversation stuck or
//! silently abandoned (seed 003 5.12 and 9.1, 9.2): which one is due for a
//! conversation now, and when the next one falls due. Pure: the actor
//! gathers the facts and applies what this answers.

use crate::domain::conversation::ConversationStatus;
use crate::domain::settings::HandoffSettings;
use crate::string_enum;
use chrono::{DateTime, Duration, Utc};

string_enum! {
    /// What the widget says of its customer (seed 003 5.12.2, 5.12.3).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub enum CustomerPresence: serde {
        Online = "online",
        Idle = "idle",
        Typing = "typing",
        #[default]
        Offline = "offline",
        /// The widget's page is hidden (another tab).
        Background = "background",
    }
}

impl CustomerPresence {
    /// Online or typing: the customer is there and doing something. Only
    /// these count as activity; idle heartbeats keep the widget "seen" but
    /// must not keep an abandoned chat alive.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Online | Self::Typing)
    }
}

/// Seed 5.12.2: no heartbeat for this long and the customer has left.
pub const PRESENCE_OFFLINE_AFTER: Duration = Duration::seconds(30);
/// Seed 5.12.10: typing ends after 3 s without a keystroke.
pub const TYPING_EXPIRES_AFTER: Duration = Duration::seconds(3);
/// Seed 9.2: a waiting conversation whose customer left closes after this
/// long without the customer.
pub const WAITING_ABANDONED_AFTER: Duration = Duration::minutes(30);
/// Open conversations (with the AI, or waiting with the customer still
/// around) close after a day without activity.
pub const OPEN_IDLE_CLOSE_AFTER: Duration = Duration::hours(24);
/// A resolved conversation closes this long after its resolution.
pub const RESOLVED_CLOSE_AFTER: Duration = Duration::hours(24);
/// Seed 9.1: after this long without its agent, a conversation goes back to
/// the queue.
pub const AGENT_GONE_REQUEUE_AFTER: Duration = Duration::minutes(10);

string_enum! {
    /// Why a conversation closed by itself; stored as `metadata.close_reason`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum CloseReason: serialize {
        /// Agent chat: warned, then no answer (seed 5.12.5).
        CustomerInactive = "customer_inactive",
        /// Waiting, and the customer left (seed 9.2).
        Abandoned = "abandoned",
        /// With the AI or waiting, a day without activity.
        NoActivity = "no_activity",
        /// Resolved a day ago and never reopened.
        ResolvedTimeout = "resolved_timeout",
    }
}

impl CloseReason {
    /// The system message the customer reads.
    pub fn message(&self) -> &'static str {
        match self {
            Self::CustomerInactive => {
                "This chat has been closed due to inactivity. Start a new chat anytime if you need more help!"
            }
            Self::Abandoned => {
                "This chat was closed because we could not reach you. Start a new chat anytime if you need more help!"
            }
            Self::NoActivity => {
                "This chat was closed after a day without activity. Start a new chat anytime if you need more help!"
            }
            Self::ResolvedTimeout => "This chat was closed a day after it was resolved.",
        }
    }
}

/// A timeout that fell due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// The presence the customer has now without saying so (typing ended,
    /// heartbeats stopped).
    Presence(CustomerPresence),
    /// "Are you still there?" (seed 5.12.5).
    Warn,
    Close(CloseReason),
    /// The agent has been gone too long: back to the queue (seed 9.1).
    Requeue,
}

/// The timeouts of a project's settings (seed 5.12.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub inactivity: Duration,
    pub after_warning: Duration,
    pub send_warning: bool,
}

impl Timeouts {
    pub fn of(s: &HandoffSettings) -> Self {
        Timeouts {
            inactivity: Duration::minutes(i64::from(s.inactivity_timeout_minutes)),
            after_warning: Duration::minutes(i64::from(s.auto_close_after_warning_minutes)),
            send_warning: s.send_inactivity_warning,
        }
    }
}

/// What the conversation knows, for the timeouts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Facts {
    pub status: ConversationStatus,
    pub presence: CustomerPresence,
    /// The last presence signal of any kind (None: never, or restored).
    pub presence_at: Option<DateTime<Utc>>,
    /// The last time the customer was active (message, online, typing), or
    /// when the conversation entered its status if later.
    pub customer_active_at: DateTime<Utc>,
    /// The last activity of anyone (the conversation's last message).
    pub last_activity_at: DateTime<Utc>,
    pub warning_sent_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Since when the assigned agent is gone (offline or heartbeats stopped).
    pub agent_gone_at: Option<DateTime<Utc>>,
    /// Left through the offline form: the team follows up by email, so the
    /// conversation waits for the next opening however long that is.
    pub offline_form: bool,
}

/// Every pending timeout with the instant it falls due.
fn deadlines(f: &Facts, t: &Timeouts) -> Vec<(DateTime<Utc>, Due)> {
    use ConversationStatus as S;
    let mut out = Vec::with_capacity(3);
    if let Some(at) = f.presence_at {
        match f.presence {
            CustomerPresence::Offline => {}
            CustomerPresence::Typing => out.push((
                at + TYPING_EXPIRES_AFTER,
                Due::Presence(CustomerPresence::Online),
            )),
            _ => out.push((
                at + PRESENCE_OFFLINE_AFTER,
                Due::Presence(CustomerPresence::Offline),
            )),
        }
    }
    match f.status {
        S::AiActive => out.push((
            f.last_activity_at.max(f.customer_active_at) + OPEN_IDLE_CLOSE_AFTER,
            Due::Close(CloseReason::NoActivity),
        )),
        S::Waiting if !f.offline_form => {
            if f.presence == CustomerPresence::Offline {
                out.push((
                    f.customer_active_at + WAITING_ABANDONED_AFTER,
                    Due::Close(CloseReason::Abandoned),
                ));
            }
            out.push((
                f.last_activity_at.max(f.customer_active_at) + OPEN_IDLE_CLOSE_AFTER,
                Due::Close(CloseReason::NoActivity),
            ));
        }
        S::Waiting => {}
        S::AgentActive => {
            if !f.presence.is_active() {
                match (f.warning_sent_at, t.send_warning) {
                    (Some(w), _) => out.push((
                        w + t.after_warning,
                        Due::Close(CloseReason::CustomerInactive),
                    )),
                    (None, true) => out.push((f.customer_active_at + t.inactivity, Due::Warn)),
                    (None, false) => out.push((
                        f.customer_active_at + t.inactivity + t.after_warning,
                        Due::Close(CloseReason::CustomerInactive),
                    )),
                }
            }
            if let Some(gone) = f.agent_gone_at {
                out.push((gone + AGENT_GONE_REQUEUE_AFTER, Due::Requeue));
            }
        }
        S::Resolved => {
            if let Some(r) = f.resolved_at {
                out.push((
                    r + RESOLVED_CLOSE_AFTER,
                    Due::Close(CloseReason::ResolvedTimeout),
                ));
            }
        }
        S::Closed => {}
    }
    out
}

/// The earliest timeout due at `now`, if any. Applying it changes the
/// facts; ask again until nothing is due.
pub fn due(f: &Facts, t: &Timeouts, now: DateTime<Utc>) -> Option<Due> {
    deadlines(f, t)
        .into_iter()
        .filter(|(at, _)| *at <= now)
        .min_by_key(|(at, _)| *at)
        .map(|(_, d)| d)
}

/// When the next timeout falls due (None: nothing pending).
pub fn next_deadline(f: &Facts, t: &Timeouts) -> Option<DateTime<Utc>> {
    deadlines(f, t).into_iter().map(|(at, _)| at).min()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use ConversationStatus as S;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 16, 10, 0, 0).unwrap()
    }

    fn facts(status: S) -> Facts {
        Facts {
            status,
            presence: CustomerPresence::Offline,
            presence_at: None,
            customer_active_at: t0(),
            last_activity_at: t0(),
            warning_sent_at: None,
            resolved_at: None,
            agent_gone_at: None,
            offline_form: false,
        }
    }

    fn defaults() -> Timeouts {
        Timeouts::of(&HandoffSettings::default())
    }

    fn m(n: i64) -> Duration {
        Duration::minutes(n)
    }

    #[test]
    fn presence_names_round_trip() {
        for p in CustomerPresence::ALL {
            assert_eq!(CustomerPresence::parse(p.as_str()), Some(p));
        }
        assert_eq!(CustomerPresence::parse("away"), None);
    }

    #[test]
    fn agent_chat_warns_after_the_inactivity_timeout_then_closes() {
        let t = defaults();
        let mut f = facts(S::AgentActive);
        f.presence = CustomerPresence::Idle;
        assert_eq!(due(&f, &t, t0() + m(5) - Duration::seconds(1)), None);
        assert_eq!(due(&f, &t, t0() + m(5)), Some(Due::Warn));
        f.warning_sent_at = Some(t0() + m(5));
        assert_eq!(next_deadline(&f, &t), Some(t0() + m(10)));
        assert_eq!(due(&f, &t, t0() + m(9)), None);
        assert_eq!(
            due(&f, &t, t0() + m(10)),
            Some(Due::Close(CloseReason::CustomerInactive))
        );
    }

    #[test]
    fn an_active_customer_is_never_warned() {
        let mut f = facts(S::AgentActive);
        f.presence = CustomerPresence::Online;
        f.presence_at = Some(t0() + m(60));
        assert_eq!(due(&f, &defaults(), t0() + m(60)), None);
    }

    #[test]
    fn without_warnings_the_close_waits_for_both_periods() {
        let t = Timeouts {
            send_warning: false,
            ..defaults()
        };
        let f = facts(S::AgentActive);
        assert_eq!(due(&f, &t, t0() + m(9)), None);
        assert_eq!(
            due(&f, &t, t0() + m(10)),
            Some(Due::Close(CloseReason::CustomerInactive))
        );
    }

    #[test]
    fn heartbeats_that_stop_make_the_customer_offline() {
        let mut f = facts(S::AiActive);
        f.presence = CustomerPresence::Online;
        f.presence_at = Some(t0());
        assert_eq!(due(&f, &defaults(), t0() + Duration::seconds(29)), None);
        assert_eq!(
            due(&f, &defaults(), t0() + Duration::seconds(30)),
            Some(Due::Presence(CustomerPresence::Offline))
        );
        f.presence = CustomerPresence::Typing;
        assert_eq!(
            due(&f, &defaults(), t0() + Duration::seconds(3)),
            Some(Due::Presence(CustomerPresence::Online))
        );
    }

    #[test]
    fn waiting_closes_after_30_minutes_only_once_the_customer_left() {
        let mut f = facts(S::Waiting);
        assert_eq!(
            due(&f, &defaults(), t0() + m(30)),
            Some(Due::Close(CloseReason::Abandoned))
        );
        f.presence = CustomerPresence::Idle;
        f.presence_at = Some(t0() + m(29));
        assert_eq!(due(&f, &defaults(), t0() + m(29)), None);
        // Still there (idle heartbeats) but silent for a day.
        f.presence_at = Some(t0() + m(24 * 60));
        assert_eq!(
            due(&f, &defaults(), t0() + m(24 * 60)),
            Some(Due::Close(CloseReason::NoActivity))
        );
    }

    #[test]
    fn the_offline_form_waits_for_the_next_opening() {
        let mut f = facts(S::Waiting);
        f.offline_form = true;
        assert_eq!(next_deadline(&f, &defaults()), None);
    }

    #[test]
    fn ai_chats_close_after_a_day_and_resolved_ones_a_day_after_resolution() {
        let f = facts(S::AiActive);
        assert_eq!(due(&f, &defaults(), t0() + m(24 * 60 - 1)), None);
        assert_eq!(
            due(&f, &defaults(), t0() + m(24 * 60)),
            Some(Due::Close(CloseReason::NoActivity))
        );
        let mut r = facts(S::Resolved);
        r.resolved_at = Some(t0() + m(30));
        assert_eq!(due(&r, &defaults(), t0() + m(24 * 60)), None);
        assert_eq!(
            due(&r, &defaults(), t0() + m(24 * 60 + 30)),
            Some(Due::Close(CloseReason::ResolvedTimeout))
        );
    }

    #[test]
    fn a_gone_agent_sends_the_chat_back_after_ten_minutes() {
        let mut f = facts(S::AgentActive);
        f.presence = CustomerPresence::Online;
        f.presence_at = Some(t0() + m(20));
        f.agent_gone_at = Some(t0());
        assert_eq!(due(&f, &defaults(), t0() + m(9)), None);
        assert_eq!(due(&f, &defaults(), t0() + m(10)), Some(Due::Requeue));
    }

    #[test]
    fn the_earliest_due_timeout_comes_first() {
        let mut f = facts(S::AgentActive);
        f.presence = CustomerPresence::Online;
        f.presence_at = Some(t0());
        f.customer_active_at = t0();
        // Offline at +30 s comes before any warning.
        assert_eq!(
            due(&f, &defaults(), t0() + m(6)),
            Some(Due::Presence(CustomerPresence::Offline))
        );
    }
}
