//! Tickets of billable sessions (seeds 000 and 001): the ticket status and
//! how it follows the ticket's session (open, claimed on claim, in progress
//! once a session is opened from it, then completed or cancelled with that
//! session), the urgency a customer gives, and the order of the open-ticket
//! queue solvers claim from.

use super::session::{SessionAction, SessionStatus};
use crate::string_enum;
use chrono::{DateTime, Utc};
use serde::Serialize;

string_enum! {
    /// Where a ticket stands. Serialized in snake_case, exactly as stored and
    /// sent on the wire.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum TicketStatus: serde {
        /// In the queue, waiting for a solver.
        Open = "open",
        /// Taken by one solver; no session yet.
        Claimed = "claimed",
        /// Its session exists and is not finished.
        InProgress = "in_progress",
        /// Its session completed. Terminal.
        Completed = "completed",
        /// Its session was cancelled. Terminal.
        Cancelled = "cancelled",
    }
}

impl TicketStatus {
    /// `completed` and `cancelled` are terminal.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }

    /// Only `open` tickets are in the queue and can be claimed.
    pub fn is_queued(&self) -> bool {
        matches!(self, Self::Open)
    }

    /// A readable phrase for messages ("a ticket that is ...").
    pub fn label(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Claimed => "claimed",
            Self::InProgress => "in progress",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The status of a ticket whose session is in `session`: every live
    /// session status (`not_started`, `active`, `paused`) means
    /// `in_progress`, and the ticket ends as its session ends. Seed 000's
    /// `sessions.start` creates the session in `not_started` and moves the
    /// ticket to `in_progress` in the same step.
    pub fn with_session(session: SessionStatus) -> Self {
        match session {
            SessionStatus::NotStarted | SessionStatus::Active | SessionStatus::Paused => {
                Self::InProgress
            }
            SessionStatus::Completed => Self::Completed,
            SessionStatus::Cancelled => Self::Cancelled,
        }
    }
}

string_enum! {
    /// How urgent the customer says the problem is. Shown (colour-coded) in the
    /// queue; it does not change the queue order (see [`build_queue`]).
    /// Ordered from `low` to `urgent`.
    #[derive(
        Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord,
    )]
    pub enum Urgency: serde {
        Low = "low",
        #[default]
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
}

string_enum! {
    /// Something that happens to a ticket and moves it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum TicketEvent {
        /// A solver claims it from the queue.
        Claim = "claim",
        /// The claiming solver opens its session (seed 000 `sessions.start`:
        /// the session is created in `not_started`).
        SessionOpened = "session_opened",
        /// Its session completed.
        SessionCompleted = "session_completed",
        /// Its session was cancelled.
        SessionCancelled = "session_cancelled",
    }
}

impl TicketEvent {
    /// A readable verb phrase for messages ("cannot ... a ticket").
    pub fn verb(&self) -> &'static str {
        match self {
            Self::Claim => "claim",
            Self::SessionOpened => "open a session for",
            Self::SessionCompleted => "complete",
            Self::SessionCancelled => "cancel",
        }
    }

    /// The ticket event a session action carries, if any: completing or
    /// cancelling the session ends the ticket; starting, pausing and
    /// resuming the timer leave it `in_progress`.
    pub fn for_session_action(action: SessionAction) -> Option<Self> {
        match action {
            SessionAction::Complete => Some(Self::SessionCompleted),
            SessionAction::Cancel => Some(Self::SessionCancelled),
            SessionAction::Start | SessionAction::Pause | SessionAction::Resume => None,
        }
    }
}

/// A refused ticket move. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    /// A claim of a ticket that is no longer open: the loser of a claim race
    /// (wire code `ALREADY_CLAIMED`, 409).
    #[error("the ticket is already claimed (it is {})", .status.label())]
    AlreadyClaimed { status: TicketStatus },
    /// Any other refused move (wire code `INVALID_TRANSITION`).
    #[error("cannot {} a ticket that is {}", .event.verb(), .from.label())]
    InvalidTransition {
        from: TicketStatus,
        event: TicketEvent,
    },
}

/// The status a ticket in `from` moves to on `event`, or the refusal.
///
/// | event              | from          | to            |
/// |--------------------|---------------|---------------|
/// | `Claim`            | `open`        | `claimed`     |
/// | `SessionOpened`    | `claimed`     | `in_progress` |
/// | `SessionCompleted` | `in_progress` | `completed`   |
/// | `SessionCancelled` | `in_progress` | `cancelled`   |
///
/// A claim of anything but an open ticket is [`TicketError::AlreadyClaimed`]
/// (so exactly one of two racing claims wins); everything else outside the
/// table is [`TicketError::InvalidTransition`]. An ad hoc session creates
/// its ticket `open` and applies `Claim` then `SessionOpened` at once.
pub fn transition(from: TicketStatus, event: TicketEvent) -> Result<TicketStatus, TicketError> {
    use TicketEvent as E;
    use TicketStatus as S;

    match (event, from) {
        (E::Claim, S::Open) => Ok(S::Claimed),
        (E::Claim, status) => Err(TicketError::AlreadyClaimed { status }),
        (E::SessionOpened, S::Claimed) => Ok(S::InProgress),
        (E::SessionCompleted, S::InProgress) => Ok(S::Completed),
        (E::SessionCancelled, S::InProgress) => Ok(S::Cancelled),
        _ => Err(TicketError::InvalidTransition { from, event }),
    }
}

/// A ticket as the queue needs it. `Id` is whatever the caller identifies
/// tickets by (any totally ordered id, e.g. a UUID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCandidate<Id> {
    pub id: Id,
    pub status: TicketStatus,
    pub urgency: Urgency,
    pub created_at: DateTime<Utc>,
}

/// One line of the queue shown to solvers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueEntry<Id> {
    pub id: Id,
    pub urgency: Urgency,
    #[serde(with = "crate::wire_time")]
    pub created_at: DateTime<Utc>,
    /// Whole seconds since the ticket was created, at the `now` given.
    pub waiting_seconds: u64,
}

/// Whole seconds a ticket created at `created_at` has waited at `now`,
/// rounded down; 0 if the clock reads earlier than `created_at`.
pub fn waiting_seconds(created_at: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((now - created_at).num_seconds()).unwrap_or(0)
}

/// The queue at `now`: only `open` tickets, oldest `created_at` first, with
/// equal times ordered by id so the order is total and stable (in SQL:
/// `WHERE status = 'open' ORDER BY created_at, id`).
///
/// Urgency is carried for display but does not reorder the queue: seed 001
/// lists it among what a queued ticket shows (customer name, urgency level
/// colour-coded, waiting time, description) and neither seed nor the wire
/// contract ranks by it; the contract says "oldest first".
pub fn build_queue<Id: Ord>(
    tickets: impl IntoIterator<Item = QueueCandidate<Id>>,
    now: DateTime<Utc>,
) -> Vec<QueueEntry<Id>> {
    let mut open: Vec<_> = tickets
        .into_iter()
        .filter(|ticket| ticket.status.is_queued())
        .collect();
    open.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    open.into_iter()
        .map(|ticket| QueueEntry {
            waiting_seconds: waiting_seconds(ticket.created_at, now),
            id: ticket.id,
            urgency: ticket.urgency,
            created_at: ticket.created_at,
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use TicketEvent as E;
    use TicketStatus as S;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap()
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        t0() + Duration::seconds(seconds)
    }

    /// The whole table, written independently of `transition`'s match.
    fn expected(from: S, event: E) -> Result<S, TicketError> {
        let ok = match event {
            E::Claim => (from == S::Open).then_some(S::Claimed),
            E::SessionOpened => (from == S::Claimed).then_some(S::InProgress),
            E::SessionCompleted => (from == S::InProgress).then_some(S::Completed),
            E::SessionCancelled => (from == S::InProgress).then_some(S::Cancelled),
        };
        match (ok, event) {
            (Some(to), _) => Ok(to),
            (None, E::Claim) => Err(TicketError::AlreadyClaimed { status: from }),
            (None, _) => Err(TicketError::InvalidTransition { from, event }),
        }
    }

    #[test]
    fn whole_table_every_status_times_every_event() {
        let allowed = crate::domain::check_whole_table(&S::ALL, &E::ALL, transition, expected);
        assert_eq!(allowed, 4);
    }

    #[test]
    fn lifecycle_completed_and_cancelled() {
        let claimed = transition(S::Open, E::Claim).unwrap();
        assert_eq!(claimed, S::Claimed);
        let working = transition(claimed, E::SessionOpened).unwrap();
        assert_eq!(working, S::InProgress);
        assert_eq!(transition(working, E::SessionCompleted), Ok(S::Completed));
        assert_eq!(transition(working, E::SessionCancelled), Ok(S::Cancelled));
    }

    #[test]
    fn exactly_one_of_two_racing_claims_wins() {
        // Both claims are applied in turn to the ticket's current status.
        let mut status = S::Open;
        let mut winners = 0;
        let mut losers = Vec::new();
        for _solver in 0..2 {
            match transition(status, E::Claim) {
                Ok(next) => {
                    status = next;
                    winners += 1;
                }
                Err(err) => losers.push(err),
            }
        }
        assert_eq!(winners, 1);
        assert_eq!(
            losers,
            vec![TicketError::AlreadyClaimed { status: S::Claimed }]
        );
        assert_eq!(
            losers[0].to_string(),
            "the ticket is already claimed (it is claimed)"
        );
    }

    #[test]
    fn claim_of_any_non_open_ticket_is_already_claimed() {
        for from in [S::Claimed, S::InProgress, S::Completed, S::Cancelled] {
            assert_eq!(
                transition(from, E::Claim),
                Err(TicketError::AlreadyClaimed { status: from })
            );
        }
        assert_eq!(
            transition(S::InProgress, E::Claim).unwrap_err().to_string(),
            "the ticket is already claimed (it is in progress)"
        );
    }

    #[test]
    fn refused_moves_have_readable_messages() {
        assert_eq!(
            transition(S::Open, E::SessionOpened)
                .unwrap_err()
                .to_string(),
            "cannot open a session for a ticket that is open"
        );
        assert_eq!(
            transition(S::Completed, E::SessionCancelled)
                .unwrap_err()
                .to_string(),
            "cannot cancel a ticket that is completed"
        );
        assert_eq!(
            transition(S::Claimed, E::SessionCompleted)
                .unwrap_err()
                .to_string(),
            "cannot complete a ticket that is claimed"
        );
        // A second session is never opened on the same ticket.
        assert!(transition(S::InProgress, E::SessionOpened).is_err());
    }

    #[test]
    fn terminal_tickets_refuse_everything() {
        for from in S::ALL {
            let stuck = E::ALL.iter().all(|e| transition(from, *e).is_err());
            assert_eq!(stuck, from.is_terminal(), "{from}");
        }
    }

    #[test]
    fn ticket_follows_its_session() {
        use SessionStatus as Ss;
        assert_eq!(S::with_session(Ss::NotStarted), S::InProgress);
        assert_eq!(S::with_session(Ss::Active), S::InProgress);
        assert_eq!(S::with_session(Ss::Paused), S::InProgress);
        assert_eq!(S::with_session(Ss::Completed), S::Completed);
        assert_eq!(S::with_session(Ss::Cancelled), S::Cancelled);
    }

    #[test]
    fn every_session_path_keeps_the_ticket_in_step() {
        use super::super::session::{self, SessionAction as A};
        // Walk every sequence of up to four session actions from a freshly
        // opened session; after each accepted action the ticket, driven only
        // by `for_session_action` events, equals `with_session`.
        fn walk(session: SessionStatus, ticket: S, depth: usize) -> usize {
            assert_eq!(ticket, S::with_session(session), "{session}");
            if depth == 0 {
                return 1;
            }
            let mut paths = 1;
            for action in A::ALL {
                let Ok(next_session) = session::transition(session, action) else {
                    continue;
                };
                let next_ticket = match E::for_session_action(action) {
                    Some(event) => transition(ticket, event).unwrap(),
                    None => ticket,
                };
                paths += walk(next_session, next_ticket, depth - 1);
            }
            paths
        }
        let ticket = transition(S::Open, E::Claim).unwrap();
        let ticket = transition(ticket, E::SessionOpened).unwrap();
        assert!(walk(SessionStatus::NotStarted, ticket, 4) > 10);
    }

    #[test]
    fn session_actions_map_to_ticket_events() {
        use super::super::session::SessionAction as A;
        assert_eq!(
            E::for_session_action(A::Complete),
            Some(E::SessionCompleted)
        );
        assert_eq!(E::for_session_action(A::Cancel), Some(E::SessionCancelled));
        assert_eq!(E::for_session_action(A::Start), None);
        assert_eq!(E::for_session_action(A::Pause), None);
        assert_eq!(E::for_session_action(A::Resume), None);
    }

    #[test]
    fn names_parse_and_serde_agree() {
        let names = ["open", "claimed", "in_progress", "completed", "cancelled"];
        for (status, name) in S::ALL.into_iter().zip(names) {
            assert_eq!(status.as_str(), name);
            assert_eq!(status.to_string(), name);
            assert_eq!(S::parse(name), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(name)
            );
            assert_eq!(
                serde_json::from_value::<S>(serde_json::json!(name)).unwrap(),
                status
            );
        }
        assert_eq!(S::parse("InProgress"), None);
        assert_eq!(S::parse("in progress"), None);

        let names = ["low", "normal", "high", "urgent"];
        for (urgency, name) in Urgency::ALL.into_iter().zip(names) {
            assert_eq!(urgency.to_string(), name);
            assert_eq!(Urgency::parse(name), Some(urgency));
            assert_eq!(
                serde_json::to_value(urgency).unwrap(),
                serde_json::json!(name)
            );
            assert_eq!(
                serde_json::from_value::<Urgency>(serde_json::json!(name)).unwrap(),
                urgency
            );
        }
        assert_eq!(Urgency::parse("critical"), None);
        assert!(serde_json::from_value::<Urgency>(serde_json::json!("URGENT")).is_err());
        assert_eq!(Urgency::default(), Urgency::Normal);
        assert!(Urgency::Low < Urgency::Normal && Urgency::High < Urgency::Urgent);

        let events: Vec<_> = E::ALL.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            events,
            vec![
                "claim",
                "session_opened",
                "session_completed",
                "session_cancelled"
            ]
        );
    }

    #[test]
    fn only_open_tickets_are_queued() {
        let queued: Vec<_> = S::ALL.into_iter().filter(S::is_queued).collect();
        assert_eq!(queued, vec![S::Open]);
    }

    fn candidate(id: u32, status: S, urgency: Urgency, created: i64) -> QueueCandidate<u32> {
        QueueCandidate {
            id,
            status,
            urgency,
            created_at: at(created),
        }
    }

    #[test]
    fn queue_is_open_tickets_oldest_first_regardless_of_urgency() {
        let tickets = vec![
            candidate(1, S::Open, Urgency::Urgent, 300),
            candidate(2, S::Open, Urgency::Low, 100),
            candidate(3, S::Claimed, Urgency::Urgent, 0),
            candidate(4, S::Open, Urgency::Normal, 200),
            candidate(5, S::Completed, Urgency::High, 50),
            candidate(6, S::Open, Urgency::High, 100),
            candidate(7, S::InProgress, Urgency::Low, 10),
            candidate(8, S::Cancelled, Urgency::Low, 10),
        ];
        let queue = build_queue(tickets, at(400));
        let ids: Vec<_> = queue.iter().map(|e| e.id).collect();
        // 2 and 6 entered at the same time: ordered by id.
        assert_eq!(ids, vec![2, 6, 4, 1]);
        let waits: Vec<_> = queue.iter().map(|e| e.waiting_seconds).collect();
        assert_eq!(waits, vec![300, 300, 200, 100]);
        assert_eq!(queue[3].urgency, Urgency::Urgent);
        assert_eq!(queue[0].created_at, at(100));
    }

    #[test]
    fn queue_order_does_not_depend_on_input_order() {
        let base = vec![
            candidate(9, S::Open, Urgency::Low, 5),
            candidate(3, S::Open, Urgency::Urgent, 5),
            candidate(7, S::Open, Urgency::Normal, 1),
            candidate(1, S::Open, Urgency::High, 9),
        ];
        let expected = vec![7, 3, 9, 1];
        let mut rotated = base.clone();
        for _ in 0..base.len() {
            rotated.rotate_left(1);
            let ids: Vec<_> = build_queue(rotated.clone(), at(10))
                .iter()
                .map(|e| e.id)
                .collect();
            assert_eq!(ids, expected);
            let reversed: Vec<_> = rotated.iter().rev().cloned().collect();
            let ids: Vec<_> = build_queue(reversed, at(10)).iter().map(|e| e.id).collect();
            assert_eq!(ids, expected);
        }
        assert!(build_queue(Vec::<QueueCandidate<u32>>::new(), at(0)).is_empty());
    }

    #[test]
    fn waiting_time_floors_and_never_goes_negative() {
        assert_eq!(waiting_seconds(at(0), at(0)), 0);
        assert_eq!(waiting_seconds(at(0), at(59)), 59);
        assert_eq!(
            waiting_seconds(at(0), at(0) + Duration::milliseconds(1_999)),
            1
        );
        assert_eq!(waiting_seconds(at(100), at(0)), 0);
        let queue = build_queue(vec![candidate(1, S::Open, Urgency::Low, 100)], at(0));
        assert_eq!(queue[0].waiting_seconds, 0);
    }

    #[test]
    fn queue_entry_serializes_with_wire_names() {
        let queue = build_queue(vec![candidate(1, S::Open, Urgency::High, 0)], at(65));
        let value = serde_json::to_value(&queue[0]).unwrap();
        assert_eq!(value["id"], 1);
        assert_eq!(value["urgency"], "high");
        assert_eq!(value["waiting_seconds"], 65);
        assert_eq!(value["created_at"], "2026-11-21T10:00:00.000Z");
    }
}
