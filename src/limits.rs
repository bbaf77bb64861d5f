//! Rate limits: token buckets keyed by `(kind, key)`.
//!
//! | kind | key | default per minute | variable |
//! |---|---|---|---|
//! | widget message send (and the offline form) | the visitor | 10 | `SWITCHBOARD_RATE_LIMIT_WIDGET_MESSAGES` |
//! | dashboard API (any REST call as staff) | the user | 100 | `SWITCHBOARD_RATE_LIMIT_DASHBOARD` |
//! | agent heartbeat (REST and WebSocket) | the user | 2 (burst 3) | `SWITCHBOARD_RATE_LIMIT_HEARTBEATS` |
//! | login attempts | the account's email | 5 | `SWITCHBOARD_RATE_LIMIT_LOGIN` |
//! | login and invitation attempts | the client address | 20 | `SWITCHBOARD_RATE_LIMIT_LOGIN_ADDRESS` |
//! | new widget conversations | the client address | 20 | `SWITCHBOARD_RATE_LIMIT_CONVERSATIONS` |
//! | new tickets with the project key | the client address | 20 | `SWITCHBOARD_RATE_LIMIT_TICKETS` |
//! | a joined customer's session chat | the session | 30 | `SWITCHBOARD_RATE_LIMIT_SESSION_MESSAGES` |
//! | WebRTC `signal` relay | the sender in the session | 240 | `SWITCHBOARD_RATE_LIMIT_SIGNALS` |
//! | `typing` and `presence` | the sender in the conversation or session | 60 | `SWITCHBOARD_RATE_LIMIT_TYPING` |
//! | one-time identity codes sent | the visitor, and the email | 3 per 10 minutes | `SWITCHBOARD_RATE_LIMIT_IDENTITY_CODES` |
//!
//! The first three are seed 003 8.3; the rest bound what a holder of only a
//! public key, a join token or a guessed password can make the server do.
//! `SWITCHBOARD_RATE_LIMITS=off` turns every one off at once (load tests).
//!
//! A bucket holds at most `burst` tokens and refills at `per_minute / 60`
//! tokens per second; a request takes one token or is refused with the
//! seconds until one is back. Time comes from the engine's Clock, so tests
//! drive refills with the ManualClock instead of sleeping.
//!
//! Memory stays bounded: a bucket that has refilled to its burst is the same
//! as no bucket, so such buckets are dropped in an amortised sweep whenever
//! the map has doubled since the last one. What remains is only the keys
//! active within the last refill period (at most a minute or so).
//!
//! The limits are per server process (memory only): several servers behind
//! one balancer each allow the full rate.

use crate::error::ApiError;
use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// Seed 003 8.3: widget message sends per visitor and minute.
pub const DEFAULT_WIDGET_MESSAGES_PER_MINUTE: u32 = 10;
/// Seed 003 8.3: dashboard API calls per staff user and minute.
pub const DEFAULT_DASHBOARD_PER_MINUTE: u32 = 100;
/// Seed 003 8.3: heartbeats per agent and minute.
pub const DEFAULT_HEARTBEATS_PER_MINUTE: u32 = 2;
/// Extra heartbeats allowed in a burst ("with a little slack"): a client
/// beating every 30 s whose timer fires a little early, or that beats once
/// on reconnect, is not refused.
pub const HEARTBEAT_SLACK: u32 = 1;
/// One-time identity codes sent per visitor (and per email address) in
/// [`IDENTITY_CODE_PERIOD_MINUTES`] minutes.
pub const DEFAULT_IDENTITY_CODES: u32 = 3;
/// The period of the identity code limit: a code is good for ten minutes,
/// so three per ten minutes is plenty for a person and little for a spammer.
pub const IDENTITY_CODE_PERIOD_MINUTES: u32 = 10;
/// The map is not swept below this size (sweeping a small map gains nothing).
const MIN_SWEEP_LEN: usize = 1024;

/// Every kind of limit, in the order of the table above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    WidgetMessage,
    Dashboard,
    Heartbeat,
    LoginAccount,
    AuthAddress,
    ConversationCreate,
    TicketCreate,
    SessionMessage,
    Signal,
    Typing,
    IdentityCode,
}

impl LimitKind {
    pub const ALL: [LimitKind; 11] = [
        LimitKind::WidgetMessage,
        LimitKind::Dashboard,
        LimitKind::Heartbeat,
        LimitKind::LoginAccount,
        LimitKind::AuthAddress,
        LimitKind::ConversationCreate,
        LimitKind::TicketCreate,
        LimitKind::SessionMessage,
        LimitKind::Signal,
        LimitKind::Typing,
        LimitKind::IdentityCode,
    ];

    /// The environment variable that sets this limit.
    pub fn variable(self) -> &'static str {
        match self {
            LimitKind::WidgetMessage => "SWITCHBOARD_RATE_LIMIT_WIDGET_MESSAGES",
            LimitKind::Dashboard => "SWITCHBOARD_RATE_LIMIT_DASHBOARD",
            LimitKind::Heartbeat => "SWITCHBOARD_RATE_LIMIT_HEARTBEATS",
            LimitKind::LoginAccount => "SWITCHBOARD_RATE_LIMIT_LOGIN",
            LimitKind::AuthAddress => "SWITCHBOARD_RATE_LIMIT_LOGIN_ADDRESS",
            LimitKind::ConversationCreate => "SWITCHBOARD_RATE_LIMIT_CONVERSATIONS",
            LimitKind::TicketCreate => "SWITCHBOARD_RATE_LIMIT_TICKETS",
            LimitKind::SessionMessage => "SWITCHBOARD_RATE_LIMIT_SESSION_MESSAGES",
            LimitKind::Signal => "SWITCHBOARD_RATE_LIMIT_SIGNALS",
            LimitKind::Typing => "SWITCHBOARD_RATE_LIMIT_TYPING",
            LimitKind::IdentityCode => "SWITCHBOARD_RATE_LIMIT_IDENTITY_CODES",
        }
    }

    fn what(self) -> &'static str {
        match self {
            LimitKind::WidgetMessage => "messages",
            LimitKind::Dashboard => "dashboard requests",
            LimitKind::Heartbeat => "heartbeats",
            LimitKind::LoginAccount => "login attempts for this account",
            LimitKind::AuthAddress => "login attempts from this address",
            LimitKind::ConversationCreate => "new conversations from this address",
            LimitKind::TicketCreate => "new tickets from this address",
            LimitKind::SessionMessage => "session messages",
            LimitKind::Signal => "signalling messages",
            LimitKind::Typing => "typing and presence signals",
            LimitKind::IdentityCode => "identity codes",
        }
    }

    /// The minutes its count is per.
    pub fn period_minutes(self) -> u32 {
        match self {
            LimitKind::IdentityCode => IDENTITY_CODE_PERIOD_MINUTES,
            _ => 1,
        }
    }

    /// Requests allowed in a burst beyond the per-minute rate.
    fn slack(self) -> u32 {
        match self {
            LimitKind::Heartbeat => HEARTBEAT_SLACK,
            _ => 0,
        }
    }
}

/// The limits in requests per period (a minute for all but identity
/// codes); 0 turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub widget_messages: u32,
    pub dashboard: u32,
    pub heartbeats: u32,
    pub login_account: u32,
    pub auth_address: u32,
    pub conversations: u32,
    pub tickets: u32,
    pub session_messages: u32,
    pub signals: u32,
    pub typing: u32,
    pub identity_codes: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            widget_messages: DEFAULT_WIDGET_MESSAGES_PER_MINUTE,
            dashboard: DEFAULT_DASHBOARD_PER_MINUTE,
            heartbeats: DEFAULT_HEARTBEATS_PER_MINUTE,
            login_account: 5,
            auth_address: 20,
            conversations: 20,
            tickets: 20,
            session_messages: 30,
            signals: 240,
            typing: 60,
            identity_codes: DEFAULT_IDENTITY_CODES,
        }
    }
}

impl RateLimits {
    /// Every limit off.
    pub const OFF: RateLimits = RateLimits {
        widget_messages: 0,
        dashboard: 0,
        heartbeats: 0,
        login_account: 0,
        auth_address: 0,
        conversations: 0,
        tickets: 0,
        session_messages: 0,
        signals: 0,
        typing: 0,
        identity_codes: 0,
    };

    fn slot(&mut self, kind: LimitKind) -> &mut u32 {
        match kind {
            LimitKind::WidgetMessage => &mut self.widget_messages,
            LimitKind::Dashboard => &mut self.dashboard,
            LimitKind::Heartbeat => &mut self.heartbeats,
            LimitKind::LoginAccount => &mut self.login_account,
            LimitKind::AuthAddress => &mut self.auth_address,
            LimitKind::ConversationCreate => &mut self.conversations,
            LimitKind::TicketCreate => &mut self.tickets,
            LimitKind::SessionMessage => &mut self.session_messages,
            LimitKind::Signal => &mut self.signals,
            LimitKind::Typing => &mut self.typing,
            LimitKind::IdentityCode => &mut self.identity_codes,
        }
    }

    /// Requests per minute of `kind` (0: off).
    pub fn get(&self, kind: LimitKind) -> u32 {
        let mut copy = *self;
        *copy.slot(kind)
    }

    /// The same limits with `kind` set to `per_minute`.
    pub fn with(mut self, kind: LimitKind, per_minute: u32) -> Self {
        *self.slot(kind) = per_minute;
        self
    }
}

/// The key of a caller's own buckets (typing, signals, session chat): who
/// is speaking, whatever the transport.
pub fn caller_key(c: &switchboard_actors::engine::Caller) -> String {
    use switchboard_actors::engine::Caller;
    match c {
        Caller::Staff(s) => format!("user:{}", s.user_id),
        Caller::Customer {
            project_id,
            visitor_id,
        } => format!("visitor:{project_id}:{visitor_id}"),
        Caller::Bot { project_id } => format!("bot:{project_id}"),
        Caller::SessionGuest { session_id, .. } => format!("guest:{session_id}"),
        Caller::System => "system".into(),
    }
}

/// One token in bucket units: a bucket counts sixty-thousandths of a token,
/// so a refill of `per_minute` units per millisecond is exact integer
/// arithmetic (no float rounding at the edge of a refill).
const UNITS_PER_TOKEN: i64 = 60_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// In `UNITS_PER_TOKEN`ths of a token.
    units: i64,
    at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy)]
struct Rule {
    /// Tokens per period (a minute for all but identity codes).
    per_minute: u32,
    burst: u32,
    period_minutes: u32,
}

impl Rule {
    /// One token of this rule: refilling `per_minute` units a millisecond,
    /// a longer period takes that many times longer per token.
    fn token(self) -> i64 {
        UNITS_PER_TOKEN * i64::from(self.period_minutes)
    }

    fn full(self) -> i64 {
        i64::from(self.burst) * self.token()
    }

    /// The bucket's units at `now` (never above the burst).
    fn units_at(self, b: &Bucket, now: DateTime<Utc>) -> i64 {
        // A clock that went backwards refills nothing (and takes nothing).
        let ms = (now - b.at).num_milliseconds().max(0);
        b.units
            .saturating_add(ms.saturating_mul(i64::from(self.per_minute)))
            .min(self.full())
    }

    /// Whole seconds (rounded up, at least 1) until `units` reach a token.
    fn wait_secs(self, units: i64) -> u64 {
        let missing = self.token() - units;
        let per_ms = i64::from(self.per_minute);
        let ms = (missing + per_ms - 1) / per_ms;
        ((ms + 999) / 1000).max(1) as u64
    }
}

/// A refusal: how many whole seconds until one more request is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub kind: LimitKind,
    pub per_minute: u32,
    pub retry_after_secs: u64,
}

impl From<Limited> for ApiError {
    fn from(l: Limited) -> Self {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            format!(
                "Too many {}: at most {} per {}; retry in {} s",
                l.kind.what(),
                l.per_minute,
                match l.kind.period_minutes() {
                    1 => "minute".to_string(),
                    n => format!("{n} minutes"),
                },
                l.retry_after_secs
            ),
        );
        e.retry_after = Some(l.retry_after_secs);
        e
    }
}

/// The buckets of one server. Shared by cloning the `Arc` in `AppState`.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    inner: Mutex<Buckets>,
}

#[derive(Debug, Default)]
struct Buckets {
    map: HashMap<(LimitKind, String), Bucket>,
    sweep_at_len: usize,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        RateLimiter {
            limits,
            inner: Mutex::new(Buckets {
                map: HashMap::new(),
                sweep_at_len: MIN_SWEEP_LEN,
            }),
        }
    }

    fn rule(&self, kind: LimitKind) -> Option<Rule> {
        let per_minute = self.limits.get(kind);
        (per_minute > 0).then_some(Rule {
            per_minute,
            burst: per_minute + kind.slack(),
            period_minutes: kind.period_minutes(),
        })
    }

    /// Take one token from `(kind, key)` at `now`, or say how long to wait.
    /// A refused request takes nothing.
    pub fn check(&self, kind: LimitKind, key: &str, now: DateTime<Utc>) -> Result<(), Limited> {
        let Some(rule) = self.rule(kind) else {
            return Ok(());
        };
        // A poisoned lock only means another thread panicked mid-update of
        // plain numbers; the map is still usable.
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let id = (kind, key.to_string());
        let units = match inner.map.get(&id) {
            Some(b) => rule.units_at(b, now),
            None => rule.full(),
        };
        if units < rule.token() {
            return Err(Limited {
                kind,
                per_minute: rule.per_minute,
                retry_after_secs: rule.wait_secs(units),
            });
        }
        let fresh = !inner.map.contains_key(&id);
        inner.map.insert(
            id,
            Bucket {
                units: units - rule.token(),
                at: now,
            },
        );
        if fresh && inner.map.len() >= inner.sweep_at_len {
            self.sweep(&mut inner, now);
        }
        Ok(())
    }

    /// Drop the buckets that are full again (they mean the same as none).
    fn sweep(&self, inner: &mut Buckets, now: DateTime<Utc>) {
        inner.map.retain(|(kind, _), b| match self.rule(*kind) {
            Some(rule) => rule.units_at(b, now) < rule.full(),
            None => false,
        });
        inner.sweep_at_len = (inner.map.len() * 2).max(MIN_SWEEP_LEN);
    }

    /// How many buckets are held (for tests of the memory bound).
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.map.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 16, 10, 0, 0).unwrap()
    }

    #[test]
    fn burst_then_refusal_with_rounded_up_wait() {
        let l = RateLimiter::new(RateLimits::default());
        for _ in 0..10 {
            l.check(LimitKind::WidgetMessage, "v", t0()).unwrap();
        }
        let e = l.check(LimitKind::WidgetMessage, "v", t0()).unwrap_err();
        assert_eq!(e.retry_after_secs, 6);
        // 2.5 s later a quarter token is back: 3.5 s to go, rounded up.
        let e = l
            .check(
                LimitKind::WidgetMessage,
                "v",
                t0() + Duration::milliseconds(2500),
            )
            .unwrap_err();
        assert_eq!(e.retry_after_secs, 4);
        l.check(LimitKind::WidgetMessage, "v", t0() + Duration::seconds(6))
            .unwrap();
        l.check(LimitKind::WidgetMessage, "v", t0() + Duration::seconds(6))
            .unwrap_err();
    }

    #[test]
    fn heartbeats_have_one_extra_in_a_burst() {
        let l = RateLimiter::new(RateLimits::default());
        for _ in 0..3 {
            l.check(LimitKind::Heartbeat, "a", t0()).unwrap();
        }
        let e = l.check(LimitKind::Heartbeat, "a", t0()).unwrap_err();
        assert_eq!(e.retry_after_secs, 30);
        // Steady state: one every 30 s is always allowed.
        for i in 1..10 {
            l.check(LimitKind::Heartbeat, "a", t0() + Duration::seconds(30 * i))
                .unwrap();
        }
    }

    #[test]
    fn kinds_and_keys_are_separate_and_zero_is_off() {
        let l = RateLimiter::new(RateLimits {
            dashboard: 0,
            ..RateLimits::default()
        });
        for _ in 0..3 {
            l.check(LimitKind::Heartbeat, "a", t0()).unwrap();
        }
        l.check(LimitKind::Heartbeat, "a", t0()).unwrap_err();
        l.check(LimitKind::Heartbeat, "b", t0()).unwrap();
        l.check(LimitKind::WidgetMessage, "a", t0()).unwrap();
        for _ in 0..1000 {
            l.check(LimitKind::Dashboard, "a", t0()).unwrap();
        }
    }

    #[test]
    fn full_buckets_are_swept() {
        let l = RateLimiter::new(RateLimits::default());
        for i in 0..MIN_SWEEP_LEN - 1 {
            l.check(LimitKind::Dashboard, &i.to_string(), t0()).unwrap();
        }
        assert_eq!(l.len(), MIN_SWEEP_LEN - 1);
        // A minute later all are full again; the next new key sweeps them.
        let later = t0() + Duration::seconds(60);
        l.check(LimitKind::Dashboard, "new", later).unwrap();
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn identity_codes_are_per_ten_minutes() {
        let l = RateLimiter::new(RateLimits::default());
        for _ in 0..3 {
            l.check(LimitKind::IdentityCode, "v", t0()).unwrap();
        }
        let e = l.check(LimitKind::IdentityCode, "v", t0()).unwrap_err();
        assert_eq!(e.retry_after_secs, 200);
        let later = t0() + Duration::seconds(199);
        l.check(LimitKind::IdentityCode, "v", later).unwrap_err();
        l.check(LimitKind::IdentityCode, "v", t0() + Duration::seconds(200))
            .unwrap();
    }

    #[test]
    fn refusal_message_names_the_limit() {
        let e: ApiError = Limited {
            kind: LimitKind::WidgetMessage,
            per_minute: 10,
            retry_after_secs: 6,
        }
        .into();
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.code, "RATE_LIMITED");
        assert_eq!(e.retry_after, Some(6));
        assert!(e.message.contains("10 per minute"), "{}", e.message);
    }
}
