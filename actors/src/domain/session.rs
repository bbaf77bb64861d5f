//! The billable session of seeds 000 and 001: its status machine (seed 000
//! `VALID_TRANSITIONS`, plus cancellation from any non-terminal status), the
//! billable timer as a value (`duration` plus the running span since
//! `timer_started_at`), and the tier limit warnings (80 % "approaching",
//! past 100 % "exceeded" of the tier's included time) with the arithmetic an
//! actor needs to schedule them on the Clock and re-arm them after a restart.
//!
//! Nothing here reads a clock: every function that needs "now" takes it.

use super::pricing::Tier;
use crate::string_enum;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

string_enum! {
    /// Where a billable session stands. Serialized in snake_case, exactly as
    /// stored and sent on the wire.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum SessionStatus: serde {
        /// Created from a claimed ticket; the billable timer has not run yet.
        NotStarted = "not_started",
        /// The timer is running.
        Active = "active",
        /// The timer is stopped; the session can resume.
        Paused = "paused",
        /// Finished and priced. Terminal: the session is locked.
        Completed = "completed",
        /// Abandoned without payment. Terminal.
        Cancelled = "cancelled",
    }
}

impl SessionStatus {
    /// `completed` and `cancelled` are terminal: nothing moves a session
    /// out of them, and its notes and timer are locked.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }

    /// A readable phrase for messages ("a session that is ...").
    pub fn label(&self) -> &'static str {
        match self {
            Self::NotStarted => "not started",
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }
}

string_enum! {
    /// What the solver (or the system) does to a session: the `action` of the
    /// `session_control` WebSocket op.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum SessionAction: serde {
        /// First run of the timer: `not_started -> active`.
        Start = "start",
        /// Stop the timer: `active -> paused`.
        Pause = "pause",
        /// Run the timer again: `paused -> active`.
        Resume = "resume",
        /// Finish: `active | paused -> completed`.
        Complete = "complete",
        /// Abandon: any non-terminal status `-> cancelled`.
        Cancel = "cancel",
    }
}

impl SessionAction {
    /// The action that asks a session in `from` to become `target`: how the
    /// REST body `{status: "active"|"paused"|"completed"}` of seed 000's
    /// `updateStatus` maps to an action. `active` means `start` from
    /// `not_started` and `resume` from anywhere else (so `active -> active`
    /// is refused as "cannot resume a session that is active"). `None` for
    /// `not_started`, which no action reaches.
    pub fn toward(from: SessionStatus, target: SessionStatus) -> Option<Self> {
        match target {
            SessionStatus::NotStarted => None,
            SessionStatus::Active if from == SessionStatus::NotStarted => Some(Self::Start),
            SessionStatus::Active => Some(Self::Resume),
            SessionStatus::Paused => Some(Self::Pause),
            SessionStatus::Completed => Some(Self::Complete),
            SessionStatus::Cancelled => Some(Self::Cancel),
        }
    }
}

/// A refused session operation. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The status machine refused `action` in status `from` (wire code
    /// `INVALID_TRANSITION`). The message says why, e.g. "cannot complete a
    /// session that is not started; start the timer first".
    InvalidTransition {
        from: SessionStatus,
        action: SessionAction,
    },
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidTransition { from, action } => write!(
                f,
                "cannot {action} a session that is {}; {}",
                from.label(),
                refusal_reason(*from, *action)
            ),
        }
    }
}

/// Why `action` is refused in `from` (only called for refused pairs).
fn refusal_reason(from: SessionStatus, action: SessionAction) -> &'static str {
    use SessionAction as A;
    use SessionStatus as S;
    match (from, action) {
        (S::Completed, _) => "the session is over and locked",
        (S::Cancelled, _) => "the session was cancelled",
        (S::NotStarted, A::Pause) => "the timer has not started",
        (S::NotStarted, A::Resume) => "use start for the first run of the timer",
        (S::NotStarted, A::Complete) => "start the timer first",
        (S::Active, A::Start | A::Resume) => "the timer is already running",
        (S::Paused, A::Start) => "it has already started; use resume",
        (S::Paused, A::Pause) => "the timer is already paused",
        _ => "that move is not allowed",
    }
}

/// The status a session in `from` moves to on `action`, or the refusal.
///
/// | action     | from                          | to          |
/// |------------|-------------------------------|-------------|
/// | `Start`    | `not_started`                 | `active`    |
/// | `Pause`    | `active`                      | `paused`    |
/// | `Resume`   | `paused`                      | `active`    |
/// | `Complete` | `active`, `paused`            | `completed` |
/// | `Cancel`   | `not_started`, `active`, `paused` | `cancelled` |
///
/// These are seed 000's `VALID_TRANSITIONS` (`not_started: [active]`,
/// `active: [paused, completed]`, `paused: [active, completed]`,
/// `completed: []`) with the target `active` split into `Start` and `Resume`,
/// plus the cancellation of seed 001 from any non-terminal status. Nothing
/// leaves `completed` or `cancelled`.
pub fn transition(
    from: SessionStatus,
    action: SessionAction,
) -> Result<SessionStatus, SessionError> {
    use SessionAction as A;
    use SessionStatus as S;

    let to = match (action, from) {
        (A::Start, S::NotStarted) => Some(S::Active),
        (A::Pause, S::Active) => Some(S::Paused),
        (A::Resume, S::Paused) => Some(S::Active),
        (A::Complete, S::Active | S::Paused) => Some(S::Completed),
        (A::Cancel, s) if !s.is_terminal() => Some(S::Cancelled),
        _ => None,
    };
    to.ok_or(SessionError::InvalidTransition { from, action })
}

/// The actions a session in `from` accepts, in [`SessionAction::ALL`] order.
pub fn allowed_actions(from: SessionStatus) -> impl Iterator<Item = SessionAction> {
    SessionAction::ALL
        .into_iter()
        .filter(move |action| transition(from, *action).is_ok())
}

/// The billable timer of one session (seed 000 `sessions` table): whole
/// seconds accumulated in `duration_seconds`, plus, while the timer runs,
/// the span since `timer_started_at`. This is exactly what is persisted, so
/// after a restart the same value continues a running timer exactly.
///
/// Invariant kept by [`apply`]: `timer_started_at` is `Some` exactly while
/// the session is `active`. Times serialize in the wire format (RFC 3339
/// with milliseconds), the Clock's precision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SessionTimer {
    /// Accumulated whole seconds of the finished runs (and of the folded
    /// part of the current run, see [`sync`](Self::sync)).
    pub duration_seconds: u64,
    /// When the current run (or its unfolded remainder) started; `None`
    /// while the timer is stopped.
    #[serde(default, with = "crate::wire_time::option")]
    pub timer_started_at: Option<DateTime<Utc>>,
    /// The first start of the timer; never changes afterwards.
    #[serde(default, with = "crate::wire_time::option")]
    pub started_at: Option<DateTime<Utc>>,
    /// When the session completed or was cancelled.
    #[serde(default, with = "crate::wire_time::option")]
    pub ended_at: Option<DateTime<Utc>>,
}

impl SessionTimer {
    /// A timer that has never run.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the timer is running now.
    pub fn is_running(&self) -> bool {
        self.timer_started_at.is_some()
    }

    /// Whether the timer has ever run (what unlocks SMS, calls and screen
    /// share, seed 001).
    pub fn has_started(&self) -> bool {
        self.started_at.is_some()
    }

    /// Whole seconds of the current run at `now`, rounded down; 0 when
    /// stopped or when the clock reads earlier than `timer_started_at`.
    pub fn running_seconds(&self, now: DateTime<Utc>) -> u64 {
        self.timer_started_at
            .map_or(0, |since| whole_seconds_between(since, now))
    }

    /// Billable seconds at `now`: `duration_seconds` plus the whole seconds
    /// of the current run (seed 000: `duration + (now - timerStartedAt)`,
    /// floored). Never less than `duration_seconds`, even if the clock went
    /// backwards.
    pub fn elapsed_seconds(&self, now: DateTime<Utc>) -> u64 {
        self.duration_seconds
            .saturating_add(self.running_seconds(now))
    }

    /// The persisting point (seed 000 `syncTimer`): folds the whole seconds
    /// run so far into `duration_seconds` and moves `timer_started_at`
    /// forward by exactly those seconds. The sub-second remainder stays in
    /// the running span, so `elapsed_seconds` is unchanged at `now` and at
    /// every later instant: syncing any number of times never loses or adds
    /// a second. A stopped timer, or a clock reading before
    /// `timer_started_at`, is returned unchanged.
    #[must_use]
    pub fn sync(&self, now: DateTime<Utc>) -> Self {
        let mut next = *self;
        if let Some(since) = self.timer_started_at {
            let folded = self.running_seconds(now);
            if let Some(moved) = add_seconds(since, folded) {
                next.duration_seconds = self.duration_seconds.saturating_add(folded);
                next.timer_started_at = Some(moved);
            }
        }
        next
    }

    /// The timer stopped at `now`: the current run's whole seconds folded
    /// into `duration_seconds` (its sub-second remainder is dropped, as in
    /// seed 000's `Math.floor`) and `timer_started_at` cleared.
    fn stopped(&self, now: DateTime<Utc>) -> Self {
        Self {
            duration_seconds: self.elapsed_seconds(now),
            timer_started_at: None,
            ..*self
        }
    }
}

/// Whole seconds from `from` to `to`, rounded down; 0 when `to` is earlier.
fn whole_seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    // `num_seconds` truncates toward zero, which is the floor for the
    // non-negative spans kept here.
    u64::try_from((to - from).num_seconds()).unwrap_or(0)
}

/// `at + seconds`, or `None` if that is out of chrono's range.
fn add_seconds(at: DateTime<Utc>, seconds: u64) -> Option<DateTime<Utc>> {
    let seconds = i64::try_from(seconds).ok()?;
    at.checked_add_signed(Duration::try_seconds(seconds)?)
}

/// Applies `action` at `now` to a session in `status` with `timer`, and
/// returns the new status and timer; on refusal returns the error and the
/// caller keeps what it had (nothing is changed in place).
///
/// - `Start`: the timer runs from `now`; `started_at` is set to `now`.
/// - `Resume`: the timer runs from `now`; `started_at` is kept.
/// - `Pause`: the run's whole seconds are added to `duration_seconds`.
/// - `Complete`, `Cancel`: as `Pause`, and `ended_at` is set to `now`.
///
/// The result always has `timer_started_at` set exactly when the new status
/// is `active`, even if the stored input was inconsistent (a run left open
/// on a paused session is folded in rather than lost).
pub fn apply(
    status: SessionStatus,
    timer: &SessionTimer,
    action: SessionAction,
    now: DateTime<Utc>,
) -> Result<(SessionStatus, SessionTimer), SessionError> {
    let next = transition(status, action)?;
    let stopped = timer.stopped(now);
    let timer = match action {
        SessionAction::Start | SessionAction::Resume => SessionTimer {
            timer_started_at: Some(now),
            started_at: timer.started_at.or(Some(now)),
            ..stopped
        },
        SessionAction::Pause => stopped,
        SessionAction::Complete | SessionAction::Cancel => SessionTimer {
            ended_at: Some(now),
            ..stopped
        },
    };
    Ok((next, timer))
}

string_enum! {
    /// A tier limit warning (seed 000 "Tier Limit Warnings"), sent as the
    /// `tier_warning` event with `level` set to the snake_case name.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum TierWarning: serde {
        /// 80 % of the included time reached (16, 36 or 72 minutes): the timer
        /// turns orange.
        Approaching = "approaching",
        /// The included time is exceeded (from 20:01, 45:01 or 90:01, the first
        /// second that is billed as overage): the timer turns red.
        Exceeded = "exceeded",
    }
}

/// The share of the included time at which [`TierWarning::Approaching`]
/// fires.
pub const APPROACHING_PERCENT: u64 = 80;

impl TierWarning {
    /// The elapsed seconds from which this warning is due on `tier`:
    /// `ceil(80 % of included)` for `Approaching` (960, 2160, 4320) and
    /// `included + 1` for `Exceeded` (1201, 2701, 5401), matching the
    /// pricing, where exactly the included time carries no overage.
    pub fn threshold_seconds(&self, tier: Tier) -> u64 {
        let included = tier.included_seconds();
        match self {
            Self::Approaching => (included * APPROACHING_PERCENT).div_ceil(100),
            Self::Exceeded => included + 1,
        }
    }
}

/// The warning level a timer at `elapsed_seconds` shows on `tier`, if any
/// (for the colour of the timer and for `GET /api/sessions/:id`).
pub fn warning_level(tier: Tier, elapsed_seconds: u64) -> Option<TierWarning> {
    TierWarning::ALL
        .into_iter()
        .rev()
        .find(|w| elapsed_seconds >= w.threshold_seconds(tier))
}

/// The next tier warning to send and in how many billable seconds it is due
/// (0: now), given the warnings `already_sent` for this session. `None`
/// when nothing is left to send.
///
/// An actor calls this whenever the timer starts or resumes, after the
/// Clock timer it armed fires (sending the warning when the answer is due
/// now and calling again), and after a restart with the persisted
/// `already_sent`. While the timer runs, billable seconds pass at the
/// wall-clock rate, so the answer is the delay for a Clock timer; while it
/// is paused nothing should be armed.
///
/// A warning is never sent twice, and never after a more severe one: once
/// `Exceeded` is sent (or is due when the actor looks, e.g. after a restart
/// past the limit) `Approaching` is skipped rather than sent late.
pub fn next_warning(
    tier: Tier,
    elapsed_seconds: u64,
    already_sent: &[TierWarning],
) -> Option<(TierWarning, u64)> {
    let most_severe_sent = already_sent.iter().max().copied();
    let pending = TierWarning::ALL
        .into_iter()
        .filter(|w| most_severe_sent.is_none_or(|sent| *w > sent));
    let mut next = None;
    for warning in pending {
        let threshold = warning.threshold_seconds(tier);
        if elapsed_seconds >= threshold {
            // Due now; a more severe due warning found later replaces it.
            next = Some((warning, 0));
        } else {
            // The first warning not yet due: report it unless one is due.
            return next.or(Some((warning, threshold - elapsed_seconds)));
        }
    }
    next
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use SessionAction as A;
    use SessionStatus as S;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap()
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        t0() + Duration::seconds(seconds)
    }

    fn at_ms(millis: i64) -> DateTime<Utc> {
        t0() + Duration::milliseconds(millis)
    }

    /// Applies a sequence of actions, panicking on a refusal.
    fn run(steps: &[(A, DateTime<Utc>)]) -> (S, SessionTimer) {
        let mut state = (S::NotStarted, SessionTimer::new());
        for (action, now) in steps {
            state = apply(state.0, &state.1, *action, *now).unwrap();
        }
        state
    }

    /// The whole table, written independently of `transition`'s match.
    fn expected(from: S, action: A) -> Option<S> {
        match action {
            A::Start => (from == S::NotStarted).then_some(S::Active),
            A::Pause => (from == S::Active).then_some(S::Paused),
            A::Resume => (from == S::Paused).then_some(S::Active),
            A::Complete => matches!(from, S::Active | S::Paused).then_some(S::Completed),
            A::Cancel => {
                matches!(from, S::NotStarted | S::Active | S::Paused).then_some(S::Cancelled)
            }
        }
    }

    #[test]
    fn whole_table_every_status_times_every_action() {
        let allowed =
            crate::domain::check_whole_table(&S::ALL, &A::ALL, transition, |from, action| {
                expected(from, action).ok_or(SessionError::InvalidTransition { from, action })
            });
        // start, pause, resume, complete x2, cancel x3.
        assert_eq!(allowed, 8);
    }

    #[test]
    fn seed_valid_transitions_by_target_status() {
        // Seed 000 VALID_TRANSITIONS, expressed as target statuses through
        // `SessionAction::toward`.
        let seed: [(S, &[S]); 4] = [
            (S::NotStarted, &[S::Active]),
            (S::Active, &[S::Paused, S::Completed]),
            (S::Paused, &[S::Active, S::Completed]),
            (S::Completed, &[]),
        ];
        for (from, targets) in seed {
            for to in [S::NotStarted, S::Active, S::Paused, S::Completed] {
                let result = A::toward(from, to).map(|action| transition(from, action));
                let ok = matches!(result, Some(Ok(reached)) if reached == to);
                assert_eq!(ok, targets.contains(&to), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn toward_maps_target_statuses_to_actions() {
        assert_eq!(A::toward(S::NotStarted, S::Active), Some(A::Start));
        assert_eq!(A::toward(S::Paused, S::Active), Some(A::Resume));
        assert_eq!(A::toward(S::Active, S::Active), Some(A::Resume));
        assert_eq!(A::toward(S::Active, S::Paused), Some(A::Pause));
        assert_eq!(A::toward(S::Paused, S::Completed), Some(A::Complete));
        assert_eq!(A::toward(S::Active, S::Cancelled), Some(A::Cancel));
        for from in S::ALL {
            assert_eq!(A::toward(from, S::NotStarted), None);
        }
        let err = transition(S::Active, A::toward(S::Active, S::Active).unwrap()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot resume a session that is active; the timer is already running"
        );
    }

    #[test]
    fn terminal_statuses_refuse_everything() {
        for from in [S::Completed, S::Cancelled] {
            assert!(from.is_terminal());
            assert_eq!(allowed_actions(from).count(), 0);
            for action in A::ALL {
                assert!(transition(from, action).is_err(), "{from} x {action}");
            }
        }
        for from in [S::NotStarted, S::Active, S::Paused] {
            assert!(!from.is_terminal());
            assert_eq!(transition(from, A::Cancel), Ok(S::Cancelled));
        }
    }

    #[test]
    fn allowed_actions_per_status() {
        let list = |s| allowed_actions(s).collect::<Vec<_>>();
        assert_eq!(list(S::NotStarted), vec![A::Start, A::Cancel]);
        assert_eq!(list(S::Active), vec![A::Pause, A::Complete, A::Cancel]);
        assert_eq!(list(S::Paused), vec![A::Resume, A::Complete, A::Cancel]);
    }

    #[test]
    fn error_messages_say_why() {
        let cases = [
            (S::NotStarted, A::Complete, "cannot complete a session that is not started; start the timer first"),
            (S::Completed, A::Resume, "cannot resume a session that is completed; the session is over and locked"),
            (S::Cancelled, A::Cancel, "cannot cancel a session that is cancelled; the session was cancelled"),
            (S::Paused, A::Start, "cannot start a session that is paused; it has already started; use resume"),
            (S::Paused, A::Pause, "cannot pause a session that is paused; the timer is already paused"),
            (S::NotStarted, A::Pause, "cannot pause a session that is not started; the timer has not started"),
            (S::NotStarted, A::Resume, "cannot resume a session that is not started; use start for the first run of the timer"),
            (S::Active, A::Start, "cannot start a session that is active; the timer is already running"),
        ];
        for (from, action, text) in cases {
            let got = transition(from, action).unwrap_err().to_string();
            assert_eq!(got, text, "{from} x {action}");
        }
        // Every refused pair has a specific reason, not the fallback.
        for from in S::ALL {
            for action in A::ALL {
                if transition(from, action).is_err() {
                    assert_ne!(
                        refusal_reason(from, action),
                        "that move is not allowed",
                        "{from} x {action}"
                    );
                }
            }
        }
    }

    #[test]
    fn refused_apply_changes_nothing() {
        let timer = SessionTimer {
            duration_seconds: 300,
            timer_started_at: None,
            started_at: Some(at(0)),
            ended_at: Some(at(400)),
        };
        let before = timer;
        for action in A::ALL {
            let got = apply(S::Completed, &timer, action, at(1000));
            assert_eq!(
                got,
                Err(SessionError::InvalidTransition {
                    from: S::Completed,
                    action
                })
            );
        }
        assert_eq!(timer, before);
        assert!(apply(S::NotStarted, &SessionTimer::new(), A::Pause, at(5)).is_err());
        assert!(apply(S::Active, &SessionTimer::new(), A::Start, at(5)).is_err());
    }

    #[test]
    fn names_parse_and_serde_agree() {
        let names = ["not_started", "active", "paused", "completed", "cancelled"];
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
        assert_eq!(S::parse("NotStarted"), None);
        assert_eq!(S::parse("canceled"), None);
        let actions = ["start", "pause", "resume", "complete", "cancel"];
        for (action, name) in A::ALL.into_iter().zip(actions) {
            assert_eq!(action.to_string(), name);
            assert_eq!(A::parse(name), Some(action));
            assert_eq!(
                serde_json::from_value::<A>(serde_json::json!(name)).unwrap(),
                action
            );
        }
        assert_eq!(A::parse("stop"), None);
        for (w, name) in TierWarning::ALL
            .into_iter()
            .zip(["approaching", "exceeded"])
        {
            assert_eq!(w.to_string(), name);
            assert_eq!(TierWarning::parse(name), Some(w));
            assert_eq!(serde_json::to_value(w).unwrap(), serde_json::json!(name));
        }
    }

    #[test]
    fn start_sets_started_at_and_runs() {
        let (status, timer) = run(&[(A::Start, at(10))]);
        assert_eq!(status, S::Active);
        assert_eq!(timer.started_at, Some(at(10)));
        assert_eq!(timer.timer_started_at, Some(at(10)));
        assert_eq!(timer.duration_seconds, 0);
        assert_eq!(timer.ended_at, None);
        assert!(timer.is_running());
        assert!(timer.has_started());
        assert_eq!(timer.elapsed_seconds(at(10)), 0);
        assert_eq!(timer.elapsed_seconds(at(75)), 65);
        assert!(!SessionTimer::new().has_started());
        assert_eq!(SessionTimer::new().elapsed_seconds(at(99)), 0);
    }

    #[test]
    fn pause_resume_sequences_are_exact() {
        // run 100 s, pause 50 s, run 30 s, pause 1000 s, run 7 s.
        let (status, timer) = run(&[
            (A::Start, at(0)),
            (A::Pause, at(100)),
            (A::Resume, at(150)),
            (A::Pause, at(180)),
            (A::Resume, at(1180)),
        ]);
        assert_eq!(status, S::Active);
        assert_eq!(timer.duration_seconds, 130);
        assert_eq!(timer.started_at, Some(at(0)));
        assert_eq!(timer.timer_started_at, Some(at(1180)));
        assert_eq!(timer.elapsed_seconds(at(1187)), 137);

        let (status, done) = apply(status, &timer, A::Complete, at(1187)).unwrap();
        assert_eq!(status, S::Completed);
        assert_eq!(done.duration_seconds, 137);
        assert_eq!(done.timer_started_at, None);
        assert_eq!(done.ended_at, Some(at(1187)));
        assert_eq!(done.started_at, Some(at(0)));
        // A finished timer no longer moves.
        assert_eq!(done.elapsed_seconds(at(99_999)), 137);
    }

    #[test]
    fn paused_timer_does_not_move() {
        let (_, timer) = run(&[(A::Start, at(0)), (A::Pause, at(42))]);
        for later in [42, 43, 600, 86_400] {
            assert_eq!(timer.elapsed_seconds(at(later)), 42);
        }
        assert!(!timer.is_running());
    }

    #[test]
    fn complete_from_paused_and_cancel_from_each_status() {
        let (s, t) = run(&[
            (A::Start, at(0)),
            (A::Pause, at(60)),
            (A::Complete, at(500)),
        ]);
        assert_eq!(
            (s, t.duration_seconds, t.ended_at),
            (S::Completed, 60, Some(at(500)))
        );

        let (s, t) = run(&[(A::Cancel, at(9))]);
        assert_eq!(s, S::Cancelled);
        assert_eq!(t.duration_seconds, 0);
        assert_eq!(t.started_at, None);
        assert_eq!(t.ended_at, Some(at(9)));

        let (s, t) = run(&[(A::Start, at(0)), (A::Cancel, at(61))]);
        assert_eq!(
            (s, t.duration_seconds, t.timer_started_at),
            (S::Cancelled, 61, None)
        );

        let (s, t) = run(&[(A::Start, at(0)), (A::Pause, at(5)), (A::Cancel, at(61))]);
        assert_eq!((s, t.duration_seconds), (S::Cancelled, 5));
    }

    #[test]
    fn sub_second_runs_floor_per_run_like_the_seed() {
        // Each stopped run contributes its whole seconds (Math.floor).
        let (_, timer) = run(&[
            (A::Start, at_ms(0)),
            (A::Pause, at_ms(1_999)),
            (A::Resume, at_ms(5_000)),
            (A::Pause, at_ms(6_500)),
        ]);
        assert_eq!(timer.duration_seconds, 2);
        let running = SessionTimer {
            timer_started_at: Some(at_ms(0)),
            ..SessionTimer::new()
        };
        assert_eq!(running.elapsed_seconds(at_ms(999)), 0);
        assert_eq!(running.elapsed_seconds(at_ms(1_000)), 1);
        assert_eq!(running.elapsed_seconds(at_ms(59_999)), 59);
    }

    #[test]
    fn clock_going_backwards_never_goes_negative() {
        let (_, timer) = run(&[(A::Start, at(0)), (A::Pause, at(100)), (A::Resume, at(200))]);
        assert_eq!(timer.elapsed_seconds(at(150)), 100);
        assert_eq!(timer.elapsed_seconds(at(-10_000)), 100);
        assert_eq!(timer.running_seconds(at(150)), 0);
        // Syncing with a backwards clock changes nothing.
        assert_eq!(timer.sync(at(150)), timer);
        // Pausing with a backwards clock keeps what was accumulated.
        let (_, paused) = apply(S::Active, &timer, A::Pause, at(150)).unwrap();
        assert_eq!(paused.duration_seconds, 100);
        assert_eq!(paused.timer_started_at, None);
    }

    #[test]
    fn sync_folds_without_changing_elapsed() {
        let (_, timer) = run(&[(A::Start, at_ms(0))]);
        let synced = timer.sync(at_ms(61_700));
        assert_eq!(synced.duration_seconds, 61);
        // The 0.7 s remainder stays in the running span.
        assert_eq!(synced.timer_started_at, Some(at_ms(61_000)));
        assert_eq!(synced.started_at, timer.started_at);
        for ms in [61_700, 61_999, 62_000, 62_300, 120_000, 3_600_123] {
            assert_eq!(
                synced.elapsed_seconds(at_ms(ms)),
                timer.elapsed_seconds(at_ms(ms)),
                "at {ms} ms"
            );
        }
        // A stopped timer is unchanged.
        let (_, paused) = apply(S::Active, &synced, A::Pause, at_ms(70_000)).unwrap();
        assert_eq!(paused.sync(at_ms(90_000)), paused);
    }

    #[test]
    fn syncing_every_few_hundred_ms_never_drifts() {
        let (_, original) = run(&[(A::Start, at_ms(123))]);
        let mut timer = original;
        for step in 1..=2_000i64 {
            let now = at_ms(123 + step * 337);
            timer = timer.sync(now);
            assert_eq!(
                timer.elapsed_seconds(now),
                original.elapsed_seconds(now),
                "step {step}"
            );
        }
        let end = at_ms(123 + 2_000 * 337 + 5_000);
        assert_eq!(timer.elapsed_seconds(end), original.elapsed_seconds(end));
        assert_eq!(timer.elapsed_seconds(end), (2_000 * 337 + 5_000) / 1000);
    }

    #[test]
    fn restart_with_a_running_timer_continues_exactly() {
        // Start at 0, pause at 300, resume at 400, sync at 1000, then the
        // server stops; the persisted row is all that survives.
        let (status, timer) = run(&[(A::Start, at(0)), (A::Pause, at(300)), (A::Resume, at(400))]);
        let persisted = timer.sync(at(1000));
        assert_eq!(persisted.duration_seconds, 900);
        let row = serde_json::to_string(&(status, persisted)).unwrap();

        // The server is down from 1000 to 5000; the session was active, so
        // that time is billable.
        let (status, restored): (S, SessionTimer) = serde_json::from_str(&row).unwrap();
        assert_eq!(status, S::Active);
        assert_eq!(restored, persisted);
        assert_eq!(restored.elapsed_seconds(at(5000)), 4900);
        assert_eq!(
            restored.elapsed_seconds(at(5000)),
            timer.elapsed_seconds(at(5000))
        );

        // And the restored session behaves like the one that never stopped.
        let (s1, t1) = apply(status, &restored, A::Pause, at(5000)).unwrap();
        let (s2, t2) = apply(S::Active, &timer, A::Pause, at(5000)).unwrap();
        assert_eq!(s1, s2);
        assert_eq!(t1.duration_seconds, t2.duration_seconds);
        assert_eq!(t1.duration_seconds, 4900);
        let (_, t1) = apply(s1, &t1, A::Resume, at(6000)).unwrap();
        let (_, t1) = apply(S::Active, &t1, A::Complete, at(6060)).unwrap();
        assert_eq!(t1.duration_seconds, 4960);
        assert_eq!(t1.started_at, Some(at(0)));
    }

    #[test]
    fn restart_while_paused_does_not_bill_the_downtime() {
        let (status, timer) = run(&[(A::Start, at(0)), (A::Pause, at(120))]);
        let row = serde_json::to_value((status, timer)).unwrap();
        let (status, restored): (S, SessionTimer) = serde_json::from_value(row).unwrap();
        assert_eq!(restored.elapsed_seconds(at(99_999)), 120);
        let (_, resumed) = apply(status, &restored, A::Resume, at(100_000)).unwrap();
        assert_eq!(resumed.elapsed_seconds(at(100_030)), 150);
    }

    #[test]
    fn inconsistent_stored_timer_is_repaired_by_apply() {
        // A paused row that still carries a run (e.g. written by a crashed
        // older build): resuming folds that run in rather than dropping it.
        let odd = SessionTimer {
            duration_seconds: 10,
            timer_started_at: Some(at(0)),
            started_at: Some(at(0)),
            ended_at: None,
        };
        let (status, fixed) = apply(S::Paused, &odd, A::Resume, at(5)).unwrap();
        assert_eq!(status, S::Active);
        assert_eq!(fixed.duration_seconds, 15);
        assert_eq!(fixed.timer_started_at, Some(at(5)));
        let (_, done) = apply(S::Paused, &odd, A::Complete, at(5)).unwrap();
        assert_eq!(done.timer_started_at, None);
        assert_eq!(done.duration_seconds, 15);
    }

    #[test]
    fn timer_serializes_with_the_column_names() {
        let (_, timer) = run(&[(A::Start, at(0))]);
        let value = serde_json::to_value(timer).unwrap();
        assert_eq!(value["duration_seconds"], 0);
        assert!(value["timer_started_at"].is_string());
        assert!(value["started_at"].is_string());
        assert!(value["ended_at"].is_null());
        assert_eq!(value["started_at"], "2026-11-21T10:00:00.000Z");
        // Missing optional times read as `None`.
        let bare: SessionTimer =
            serde_json::from_value(serde_json::json!({"duration_seconds": 7})).unwrap();
        assert_eq!(
            bare,
            SessionTimer {
                duration_seconds: 7,
                ..SessionTimer::new()
            }
        );
    }

    #[test]
    fn warning_thresholds_match_the_seed_table() {
        // Seed 000: warning at 16, 36 and 72 minutes.
        let approaching: Vec<_> = Tier::ALL
            .iter()
            .map(|t| TierWarning::Approaching.threshold_seconds(*t))
            .collect();
        assert_eq!(approaching, vec![16 * 60, 36 * 60, 72 * 60]);
        let exceeded: Vec<_> = Tier::ALL
            .iter()
            .map(|t| TierWarning::Exceeded.threshold_seconds(*t))
            .collect();
        assert_eq!(exceeded, vec![1201, 2701, 5401]);
    }

    #[test]
    fn warning_level_by_elapsed_time() {
        let q = Tier::Quick;
        assert_eq!(warning_level(q, 0), None);
        assert_eq!(warning_level(q, 959), None);
        assert_eq!(warning_level(q, 960), Some(TierWarning::Approaching));
        assert_eq!(warning_level(q, 1200), Some(TierWarning::Approaching));
        assert_eq!(warning_level(q, 1201), Some(TierWarning::Exceeded));
        assert_eq!(warning_level(Tier::Extended, 4319), None);
        assert_eq!(
            warning_level(Tier::Extended, 4320),
            Some(TierWarning::Approaching)
        );
        assert_eq!(
            warning_level(Tier::Extended, u64::MAX),
            Some(TierWarning::Exceeded)
        );
    }

    #[test]
    fn next_warning_counts_down_to_each_level() {
        use TierWarning::*;
        let q = Tier::Quick;
        assert_eq!(next_warning(q, 0, &[]), Some((Approaching, 960)));
        assert_eq!(next_warning(q, 900, &[]), Some((Approaching, 60)));
        assert_eq!(next_warning(q, 960, &[]), Some((Approaching, 0)));
        assert_eq!(next_warning(q, 960, &[Approaching]), Some((Exceeded, 241)));
        assert_eq!(next_warning(q, 1200, &[Approaching]), Some((Exceeded, 1)));
        assert_eq!(next_warning(q, 1201, &[Approaching]), Some((Exceeded, 0)));
        assert_eq!(next_warning(q, 1201, &[Approaching, Exceeded]), None);
        assert_eq!(next_warning(q, 5, &[Approaching, Exceeded]), None);
        assert_eq!(
            next_warning(Tier::Standard, 2000, &[]),
            Some((Approaching, 160))
        );
        assert_eq!(
            next_warning(Tier::Extended, 4320, &[Approaching]),
            Some((Exceeded, 1081))
        );
    }

    #[test]
    fn next_warning_skips_approaching_once_exceeded() {
        use TierWarning::*;
        // Restart past the limit with nothing sent: only "exceeded" goes out.
        assert_eq!(next_warning(Tier::Quick, 4000, &[]), Some((Exceeded, 0)));
        assert_eq!(next_warning(Tier::Quick, 4000, &[Exceeded]), None);
        // "Exceeded" sent earlier (e.g. the tier was changed): never go back.
        assert_eq!(next_warning(Tier::Extended, 100, &[Exceeded]), None);
        // Duplicates in the list are harmless.
        assert_eq!(
            next_warning(Tier::Quick, 0, &[Approaching, Approaching]),
            Some((Exceeded, 1201))
        );
    }

    #[test]
    fn simulated_actor_sends_each_warning_once_at_the_right_second() {
        // Drive an actor loop: arm a timer for `seconds_until`, fire, send,
        // recompute; with a pause and a restart in the middle.
        for tier in Tier::ALL {
            let mut sent: Vec<(TierWarning, u64)> = Vec::new();
            let (mut status, mut timer) = run(&[(A::Start, at(0))]);
            let mut now = 0i64;
            let pause_at = 100i64;
            let mut paused_once = false;
            // Bounded, so that a regression fails here instead of hanging.
            for step in 0.. {
                assert!(step < 100, "{tier}: warnings never settle: {sent:?}");
                let elapsed = timer.elapsed_seconds(at(now));
                let already: Vec<_> = sent.iter().map(|(w, _)| *w).collect();
                let Some((warning, wait)) = next_warning(tier, elapsed, &already) else {
                    break;
                };
                if wait == 0 {
                    sent.push((warning, elapsed));
                    continue;
                }
                if !paused_once && now + (wait as i64) > pause_at {
                    // Pause at 100 s for 10 minutes, "restart" the server
                    // (serde round trip), resume.
                    (status, timer) = apply(status, &timer, A::Pause, at(pause_at)).unwrap();
                    let row = serde_json::to_string(&timer).unwrap();
                    timer = serde_json::from_str(&row).unwrap();
                    now = pause_at + 600;
                    (status, timer) = apply(status, &timer, A::Resume, at(now)).unwrap();
                    paused_once = true;
                    continue;
                }
                now += wait as i64;
            }
            assert_eq!(
                sent,
                vec![
                    (
                        TierWarning::Approaching,
                        TierWarning::Approaching.threshold_seconds(tier)
                    ),
                    (
                        TierWarning::Exceeded,
                        TierWarning::Exceeded.threshold_seconds(tier)
                    ),
                ],
                "{tier}"
            );
            assert_eq!(status, S::Active);
        }
    }
}
