//! The communication tools of a billable session (seed 000 "Communication
//! Tools", seed 001 "Communication Tools"): when they unlock, the SMS rules
//! and quick templates, the call state machine with its recorded duration,
//! and the screen-share request the customer answers.
//!
//! Call, SMS and screen share unlock once the solver has started the timer
//! and lock again when the session ends; calls and SMS also need the
//! customer's phone number.

use super::session::{SessionStatus, SessionTimer};
use crate::string_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest SMS body, in characters (Unicode scalar values) after trimming.
pub const SMS_MAX_CHARS: usize = 1000;

/// Most SMS one session may send (seed 001 "Rate limit of 10 SMS per
/// session").
pub const SMS_MAX_PER_SESSION: u32 = 10;

/// Longest WebRTC peer id accepted in a screen-share request or answer.
pub const PEER_ID_MAX_CHARS: usize = 128;

/// What the communication rules need to know about a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionComms {
    pub status: SessionStatus,
    /// The timer has run at least once ([`SessionTimer::has_started`]).
    pub timer_started: bool,
    /// The ticket's customer info carries a phone number.
    pub has_customer_phone: bool,
}

impl SessionComms {
    /// Reads the facts from a session's status and timer.
    pub fn new(status: SessionStatus, timer: &SessionTimer, has_customer_phone: bool) -> Self {
        Self {
            status,
            timer_started: timer.has_started(),
            has_customer_phone,
        }
    }
}

/// A refused communication step. Nothing was changed and nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommunicationError {
    /// The tools unlock once the timer has been started (seed 001).
    #[error("start the session timer before using call, SMS or screen share")]
    TimerNotStarted,
    /// The session is completed or cancelled.
    #[error("the session is {}; its communication tools are closed", .status.label())]
    SessionOver { status: SessionStatus },
    /// Calls and SMS need the customer's phone number (seed 000).
    #[error("the customer has no phone number; add one to the customer info first")]
    NoCustomerPhone,
    /// The session has sent its [`SMS_MAX_PER_SESSION`] messages.
    #[error("this session has already sent its {limit} SMS")]
    SmsLimitReached { limit: u32 },
    /// The SMS body is empty or only whitespace.
    #[error("the message is empty")]
    EmptyMessage,
    /// The SMS body is longer than [`SMS_MAX_CHARS`] after trimming.
    #[error("the message is {chars} characters long; the limit is {max}")]
    MessageTooLong { chars: usize, max: usize },
    /// A peer id that is empty, too long or contains whitespace or control
    /// characters.
    #[error("the peer id must be 1 to {PEER_ID_MAX_CHARS} characters without spaces")]
    InvalidPeerId,
    /// The call state machine refused `event` in `from`.
    #[error("cannot {} when the call is {}", .event.verb(), .from.label())]
    InvalidCallTransition { from: CallState, event: CallEvent },
    /// The screen-share state machine refused `event` in `from`.
    #[error("cannot {} when the screen share is {}", .event, .from.label())]
    InvalidScreenShareTransition {
        from: ScreenShareState,
        /// What was attempted, e.g. "answer the screen-share request".
        event: &'static str,
    },
}

impl CommunicationError {
    /// The request field a validation error is about (for the `fields` of a
    /// `VALIDATION_FAILED` answer); `None` for refusals of state.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::EmptyMessage | Self::MessageTooLong { .. } => Some("message"),
            Self::InvalidPeerId => Some("peer_id"),
            Self::NoCustomerPhone => Some("customer_phone"),
            _ => None,
        }
    }
}

/// The tools are open: the session is not over and its timer has started
/// at least once. A session that was paused stays open; one cancelled or
/// completed is closed even if its timer ran.
pub fn check_comms_open(comms: &SessionComms) -> Result<(), CommunicationError> {
    if comms.status.is_terminal() {
        return Err(CommunicationError::SessionOver {
            status: comms.status,
        });
    }
    if !comms.timer_started || comms.status == SessionStatus::NotStarted {
        return Err(CommunicationError::TimerNotStarted);
    }
    Ok(())
}

/// A call may be placed: the tools are open and the customer has a phone.
pub fn check_call_allowed(comms: &SessionComms) -> Result<(), CommunicationError> {
    check_comms_open(comms)?;
    if !comms.has_customer_phone {
        return Err(CommunicationError::NoCustomerPhone);
    }
    Ok(())
}

/// A screen share may be requested: the tools are open (no phone needed).
pub fn check_screen_share_allowed(comms: &SessionComms) -> Result<(), CommunicationError> {
    check_comms_open(comms)
}

/// How many more SMS a session that has sent `sent` may send.
pub fn sms_remaining(sent: u32) -> u32 {
    SMS_MAX_PER_SESSION.saturating_sub(sent)
}

/// Checks an SMS before it is handed to the SMS provider and returns the
/// body to send: `message` with surrounding whitespace trimmed.
///
/// In this order: the tools are open ([`check_comms_open`]), the customer
/// has a phone, the session has sent fewer than [`SMS_MAX_PER_SESSION`]
/// (`sent` counts the SMS the provider accepted), and the trimmed body is
/// 1 to [`SMS_MAX_CHARS`] characters, counted as Unicode scalar values (an
/// emoji is one character, as a person counts it).
pub fn validate_sms<'a>(
    message: &'a str,
    comms: &SessionComms,
    sent: u32,
) -> Result<&'a str, CommunicationError> {
    check_comms_open(comms)?;
    if !comms.has_customer_phone {
        return Err(CommunicationError::NoCustomerPhone);
    }
    if sent >= SMS_MAX_PER_SESSION {
        return Err(CommunicationError::SmsLimitReached {
            limit: SMS_MAX_PER_SESSION,
        });
    }
    let body = message.trim();
    let chars = body.chars().count();
    if chars == 0 {
        return Err(CommunicationError::EmptyMessage);
    }
    if chars > SMS_MAX_CHARS {
        return Err(CommunicationError::MessageTooLong {
            chars,
            max: SMS_MAX_CHARS,
        });
    }
    Ok(body)
}

/// A quick SMS template (`GET /api/sms/templates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SmsTemplate {
    /// Stable snake_case id.
    pub id: &'static str,
    /// Short name for the picker.
    pub label: &'static str,
    /// The text put in the message box; the solver may edit it.
    pub body: &'static str,
}

/// The built-in quick templates. Seed 001 promises "quick message templates
/// for common responses" without listing any, so these are Switchboard's
/// own: plain text, no placeholders, each a valid SMS.
pub const SMS_TEMPLATES: &[SmsTemplate] = &[
    SmsTemplate {
        id: "greeting",
        label: "Greeting",
        body: "Hi, this is your support expert. I'm looking at your request now and will be with you in a moment.",
    },
    SmsTemplate {
        id: "check_chat",
        label: "Check the chat",
        body: "I've sent you a message in the session chat. Please open your session page to read it and reply.",
    },
    SmsTemplate {
        id: "calling_now",
        label: "Calling you",
        body: "I'm calling you now from our support line. Please pick up so we can go through this together.",
    },
    SmsTemplate {
        id: "restart_device",
        label: "Restart the device",
        body: "Please restart your device, then let me know in the chat once it's back on.",
    },
    SmsTemplate {
        id: "take_your_time",
        label: "Take your time",
        body: "No rush. I'll pause the session timer while you're away; message me in the chat when you're ready to continue.",
    },
    SmsTemplate {
        id: "wrapping_up",
        label: "Wrapping up",
        body: "Your issue should be sorted now. Thanks for your patience! You'll receive a payment link for this session shortly.",
    },
];

/// The template with this id.
pub fn sms_template(id: &str) -> Option<&'static SmsTemplate> {
    SMS_TEMPLATES.iter().find(|template| template.id == id)
}

string_enum! {
    /// The state of the session's voice call (seed 000 "Call States"; the
    /// `state` of the `call_state` event). Serialized in snake_case.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
    pub enum CallState: serde {
        /// No call in progress.
        #[default]
        Idle = "idle",
        /// Connecting to the call provider.
        Connecting = "connecting",
        /// The call is being placed.
        Initiating = "initiating",
        /// The customer's phone is ringing.
        Ringing = "ringing",
        /// The call is connected.
        Active = "active",
        /// The call has ended.
        Ended = "ended",
        /// The call failed.
        Error = "error",
    }
}

impl CallState {
    /// A call is under way (from dialling until it ends or fails); a new
    /// call cannot be placed meanwhile.
    pub fn is_in_progress(&self) -> bool {
        matches!(
            self,
            Self::Connecting | Self::Initiating | Self::Ringing | Self::Active
        )
    }

    /// A readable phrase for messages ("when the call is ...").
    pub fn label(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Connecting => "connecting",
            Self::Initiating => "being placed",
            Self::Ringing => "ringing",
            Self::Active => "connected",
            Self::Ended => "ended",
            Self::Error => "failed",
        }
    }
}

string_enum! {
    /// What happens to a call: the solver's actions and the call provider's
    /// reports.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum CallEvent {
        /// The solver presses Call (`POST /api/sessions/:id/call`).
        Dial = "dial",
        /// The provider connection is up; the call is being placed.
        Connected = "connected",
        /// The customer's phone rings.
        Ringing = "ringing",
        /// The customer answers.
        Answered = "answered",
        /// Either side hangs up (`POST /api/sessions/:id/call/hangup`, the
        /// provider reporting the customer hung up, or the session ending).
        Hangup = "hangup",
        /// The provider reports a failure.
        Fail = "fail",
    }
}

impl CallEvent {
    /// A readable verb phrase for messages ("cannot ... when the call is").
    pub fn verb(&self) -> &'static str {
        match self {
            Self::Dial => "place a call",
            Self::Connected => "connect the call",
            Self::Ringing => "ring the customer",
            Self::Answered => "answer the call",
            Self::Hangup => "hang up",
            Self::Fail => "fail the call",
        }
    }
}

/// The state a call in `from` moves to on `event`, or the refusal.
///
/// | event       | from                                         | to           |
/// |-------------|----------------------------------------------|--------------|
/// | `Dial`      | `idle`, `ended`, `error`                     | `connecting` |
/// | `Connected` | `connecting`                                 | `initiating` |
/// | `Ringing`   | `initiating`                                 | `ringing`    |
/// | `Answered`  | `initiating`, `ringing`                      | `active`     |
/// | `Hangup`    | `connecting`, `initiating`, `ringing`, `active` | `ended`   |
/// | `Fail`      | `connecting`, `initiating`, `ringing`, `active` | `error`   |
///
/// `Answered` is accepted straight from `initiating` because a provider may
/// not report the ringing. After `ended` or `error` the next `Dial` starts
/// a new call.
pub fn call_transition(from: CallState, event: CallEvent) -> Result<CallState, CommunicationError> {
    use CallEvent as E;
    use CallState as S;

    let to = match (event, from) {
        (E::Dial, S::Idle | S::Ended | S::Error) => Some(S::Connecting),
        (E::Connected, S::Connecting) => Some(S::Initiating),
        (E::Ringing, S::Initiating) => Some(S::Ringing),
        (E::Answered, S::Initiating | S::Ringing) => Some(S::Active),
        (E::Hangup, s) if s.is_in_progress() => Some(S::Ended),
        (E::Fail, s) if s.is_in_progress() => Some(S::Error),
        _ => None,
    };
    to.ok_or(CommunicationError::InvalidCallTransition { from, event })
}

/// The session's current (or last) call, with its duration recorded when it
/// ends: whole seconds from the answer to the hang-up or failure, 0 for a
/// call never answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub state: CallState,
    /// When the solver pressed Call.
    #[serde(default, with = "crate::wire_time::option")]
    pub dialed_at: Option<DateTime<Utc>>,
    /// When the customer answered.
    #[serde(default, with = "crate::wire_time::option")]
    pub answered_at: Option<DateTime<Utc>>,
    /// When the call ended or failed.
    #[serde(default, with = "crate::wire_time::option")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Talk time of the finished call, in whole seconds.
    pub duration_seconds: u64,
}

impl Call {
    /// No call yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `event` at `now`. `Dial` starts a fresh call (the previous
    /// one's record is replaced, so record it first); `Answered` stamps
    /// `answered_at`; `Hangup` and `Fail` stamp `ended_at` and record the
    /// duration (a connected call that fails still records its talk time).
    pub fn apply(&self, event: CallEvent, now: DateTime<Utc>) -> Result<Self, CommunicationError> {
        let state = call_transition(self.state, event)?;
        Ok(match event {
            CallEvent::Dial => Self {
                state,
                dialed_at: Some(now),
                ..Self::new()
            },
            CallEvent::Answered => Self {
                state,
                answered_at: Some(now),
                ..*self
            },
            CallEvent::Hangup | CallEvent::Fail => Self {
                state,
                ended_at: Some(now),
                duration_seconds: self.talk_seconds(now),
                ..*self
            },
            CallEvent::Connected | CallEvent::Ringing => Self { state, ..*self },
        })
    }

    /// Places a call for a session: [`check_call_allowed`], then `Dial`.
    pub fn dial(
        &self,
        comms: &SessionComms,
        now: DateTime<Utc>,
    ) -> Result<Self, CommunicationError> {
        check_call_allowed(comms)?;
        self.apply(CallEvent::Dial, now)
    }

    /// The call's talk time at `now` (the duration display of seed 000):
    /// running while `active`, the recorded duration once finished, else 0.
    /// Never negative if the clock went backwards.
    pub fn talk_seconds(&self, now: DateTime<Utc>) -> u64 {
        match (self.state, self.answered_at) {
            (CallState::Active, Some(answered)) => {
                u64::try_from((now - answered).num_seconds()).unwrap_or(0)
            }
            (CallState::Ended | CallState::Error, _) => self.duration_seconds,
            _ => 0,
        }
    }
}

string_enum! {
    /// Where the session's screen-share request stands.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
    pub enum ScreenShareState: serde {
        /// Nothing requested.
        #[default]
        Idle = "idle",
        /// The solver asked; waiting for the customer's answer.
        Requested = "requested",
        /// The customer accepted and is sharing.
        Accepted = "accepted",
        /// The customer declined.
        Declined = "declined",
        /// Sharing stopped, or the solver withdrew the request.
        Ended = "ended",
    }
}

impl ScreenShareState {
    /// A readable phrase for messages ("when the screen share is ...").
    pub fn label(&self) -> &'static str {
        match self {
            Self::Idle => "not requested",
            Self::Requested => "waiting for the customer",
            Self::Accepted => "in progress",
            Self::Declined => "declined",
            Self::Ended => "ended",
        }
    }
}

/// What happens to a screen share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScreenShareEvent {
    /// The solver asks the customer to share (`POST
    /// /api/sessions/:id/screen-share {solver_peer_id}`).
    Request { solver_peer_id: String },
    /// The customer answers (`screen_share_answer {accepted, peer_id?}`).
    Answer {
        accepted: bool,
        customer_peer_id: Option<String>,
    },
    /// Either side stops sharing, or the solver withdraws the request.
    End,
}

impl ScreenShareEvent {
    /// A readable verb phrase for messages.
    pub fn verb(&self) -> &'static str {
        match self {
            Self::Request { .. } => "request a screen share",
            Self::Answer { .. } => "answer the screen-share request",
            Self::End => "end the screen share",
        }
    }
}

/// The screen share of a session.
///
/// | event    | from                                   | to                       |
/// |----------|----------------------------------------|--------------------------|
/// | `Request`| `idle`, `requested`, `declined`, `ended` | `requested`            |
/// | `Answer` | `requested`                            | `accepted` or `declined` |
/// | `End`    | `requested`, `accepted`                | `ended`                  |
///
/// Requesting again while a request is pending replaces it (seed 000 makes
/// a new peer id for every click), but not while the customer is sharing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreenShare {
    pub state: ScreenShareState,
    pub solver_peer_id: Option<String>,
    pub customer_peer_id: Option<String>,
    #[serde(default, with = "crate::wire_time::option")]
    pub requested_at: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::wire_time::option")]
    pub answered_at: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::wire_time::option")]
    pub ended_at: Option<DateTime<Utc>>,
}

/// A usable WebRTC peer id: 1 to [`PEER_ID_MAX_CHARS`] characters, none of
/// them whitespace or control characters.
pub fn validate_peer_id(peer_id: &str) -> Result<(), CommunicationError> {
    let chars = peer_id.chars().count();
    let clean = !peer_id.chars().any(|c| c.is_whitespace() || c.is_control());
    if (1..=PEER_ID_MAX_CHARS).contains(&chars) && clean {
        Ok(())
    } else {
        Err(CommunicationError::InvalidPeerId)
    }
}

impl ScreenShare {
    /// Nothing requested yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `event` at `now`, or refuses it (an invalid peer id, or a
    /// move outside the table) leaving everything as it was.
    pub fn apply(
        &self,
        event: ScreenShareEvent,
        now: DateTime<Utc>,
    ) -> Result<Self, CommunicationError> {
        use ScreenShareState as S;

        let refused = CommunicationError::InvalidScreenShareTransition {
            from: self.state,
            event: event.verb(),
        };
        match event {
            ScreenShareEvent::Request { solver_peer_id } => {
                if self.state == S::Accepted {
                    return Err(refused);
                }
                validate_peer_id(&solver_peer_id)?;
                Ok(Self {
                    state: S::Requested,
                    solver_peer_id: Some(solver_peer_id),
                    requested_at: Some(now),
                    ..Self::new()
                })
            }
            ScreenShareEvent::Answer {
                accepted,
                customer_peer_id,
            } => {
                if self.state != S::Requested {
                    return Err(refused);
                }
                if let Some(peer_id) = &customer_peer_id {
                    validate_peer_id(peer_id)?;
                }
                Ok(Self {
                    state: if accepted { S::Accepted } else { S::Declined },
                    customer_peer_id: if accepted { customer_peer_id } else { None },
                    answered_at: Some(now),
                    ..self.clone()
                })
            }
            ScreenShareEvent::End => {
                if !matches!(self.state, S::Requested | S::Accepted) {
                    return Err(refused);
                }
                Ok(Self {
                    state: S::Ended,
                    ended_at: Some(now),
                    ..self.clone()
                })
            }
        }
    }

    /// The solver requests a screen share for a session:
    /// [`check_screen_share_allowed`], then `Request`.
    pub fn request(
        &self,
        comms: &SessionComms,
        solver_peer_id: String,
        now: DateTime<Utc>,
    ) -> Result<Self, CommunicationError> {
        check_screen_share_allowed(comms)?;
        self.apply(ScreenShareEvent::Request { solver_peer_id }, now)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::session::{apply as session_apply, SessionAction};
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap()
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        t0() + Duration::seconds(seconds)
    }

    fn open() -> SessionComms {
        SessionComms {
            status: SessionStatus::Active,
            timer_started: true,
            has_customer_phone: true,
        }
    }

    fn with_status(status: SessionStatus, timer_started: bool) -> SessionComms {
        SessionComms {
            status,
            timer_started,
            ..open()
        }
    }

    // ---- gating ------------------------------------------------------

    #[test]
    fn tools_unlock_once_the_timer_started_and_lock_at_the_end() {
        use SessionStatus as S;
        assert_eq!(
            check_comms_open(&with_status(S::NotStarted, false)),
            Err(CommunicationError::TimerNotStarted)
        );
        assert_eq!(check_comms_open(&with_status(S::Active, true)), Ok(()));
        assert_eq!(check_comms_open(&with_status(S::Paused, true)), Ok(()));
        for status in [S::Completed, S::Cancelled] {
            for started in [false, true] {
                assert_eq!(
                    check_comms_open(&with_status(status, started)),
                    Err(CommunicationError::SessionOver { status })
                );
            }
        }
        // Inconsistent facts are read as "not started".
        assert_eq!(
            check_comms_open(&with_status(S::Active, false)),
            Err(CommunicationError::TimerNotStarted)
        );
        assert_eq!(
            check_comms_open(&with_status(S::NotStarted, true)),
            Err(CommunicationError::TimerNotStarted)
        );
    }

    #[test]
    fn comms_read_from_a_real_session() {
        let fresh = SessionTimer::new();
        let comms = SessionComms::new(SessionStatus::NotStarted, &fresh, true);
        assert!(!comms.timer_started);
        assert!(check_comms_open(&comms).is_err());

        let (status, timer) = session_apply(
            SessionStatus::NotStarted,
            &fresh,
            SessionAction::Start,
            at(0),
        )
        .unwrap();
        let (status, timer) = session_apply(status, &timer, SessionAction::Pause, at(10)).unwrap();
        let comms = SessionComms::new(status, &timer, true);
        assert_eq!(comms.status, SessionStatus::Paused);
        assert!(comms.timer_started);
        assert_eq!(check_comms_open(&comms), Ok(()));
    }

    #[test]
    fn calls_need_a_phone_and_screen_share_does_not() {
        let no_phone = SessionComms {
            has_customer_phone: false,
            ..open()
        };
        assert_eq!(check_call_allowed(&open()), Ok(()));
        assert_eq!(
            check_call_allowed(&no_phone),
            Err(CommunicationError::NoCustomerPhone)
        );
        assert_eq!(check_screen_share_allowed(&no_phone), Ok(()));
        assert_eq!(
            check_screen_share_allowed(&with_status(SessionStatus::NotStarted, false)),
            Err(CommunicationError::TimerNotStarted)
        );
        // The state of the session is reported before the missing phone.
        let over = SessionComms {
            status: SessionStatus::Completed,
            has_customer_phone: false,
            ..open()
        };
        assert_eq!(
            check_call_allowed(&over),
            Err(CommunicationError::SessionOver {
                status: SessionStatus::Completed
            })
        );
    }

    // ---- SMS ---------------------------------------------------------

    #[test]
    fn sms_length_bounds_after_trim() {
        let c = open();
        assert_eq!(validate_sms("hi", &c, 0), Ok("hi"));
        assert_eq!(validate_sms("  hello there \n", &c, 0), Ok("hello there"));
        assert_eq!(validate_sms("x", &c, 0), Ok("x"));
        assert_eq!(
            validate_sms("", &c, 0),
            Err(CommunicationError::EmptyMessage)
        );
        assert_eq!(
            validate_sms(" \t\n ", &c, 0),
            Err(CommunicationError::EmptyMessage)
        );
        let max = "a".repeat(1000);
        assert_eq!(validate_sms(&max, &c, 0), Ok(max.as_str()));
        let over = "a".repeat(1001);
        assert_eq!(
            validate_sms(&over, &c, 0),
            Err(CommunicationError::MessageTooLong {
                chars: 1001,
                max: 1000
            })
        );
        // Whitespace around a 1000-character body does not count.
        let padded = format!("   {max}\n\n");
        assert_eq!(validate_sms(&padded, &c, 0), Ok(max.as_str()));
        // Inner whitespace does count.
        let inner = format!("{} {}", "a".repeat(500), "b".repeat(500));
        assert!(matches!(
            validate_sms(&inner, &c, 0),
            Err(CommunicationError::MessageTooLong { chars: 1001, .. })
        ));
    }

    #[test]
    fn sms_counts_characters_not_bytes() {
        let c = open();
        // 1000 two-byte and 1000 four-byte characters are within the limit.
        let accents = "é".repeat(1000);
        assert_eq!(accents.len(), 2000);
        assert!(validate_sms(&accents, &c, 0).is_ok());
        let emoji = "🙂".repeat(1000);
        assert!(validate_sms(&emoji, &c, 0).is_ok());
        assert_eq!(
            validate_sms(&"🙂".repeat(1001), &c, 0),
            Err(CommunicationError::MessageTooLong {
                chars: 1001,
                max: 1000
            })
        );
    }

    #[test]
    fn at_most_ten_sms_per_session() {
        let c = open();
        for sent in 0..10 {
            assert_eq!(validate_sms("ok", &c, sent), Ok("ok"), "sent {sent}");
            assert_eq!(sms_remaining(sent), 10 - sent);
        }
        for sent in [10, 11, 1000, u32::MAX] {
            assert_eq!(
                validate_sms("ok", &c, sent),
                Err(CommunicationError::SmsLimitReached { limit: 10 })
            );
            assert_eq!(sms_remaining(sent), 0);
        }
        // Sending ten in a row, counting each accepted one.
        let mut sent = 0;
        while validate_sms("again", &c, sent).is_ok() {
            sent += 1;
        }
        assert_eq!(sent, SMS_MAX_PER_SESSION);
    }

    #[test]
    fn sms_only_once_the_timer_started_and_not_after_the_end() {
        use SessionStatus as S;
        assert_eq!(
            validate_sms("hello", &with_status(S::NotStarted, false), 0),
            Err(CommunicationError::TimerNotStarted)
        );
        assert_eq!(
            validate_sms("hello", &with_status(S::Paused, true), 0),
            Ok("hello")
        );
        assert_eq!(
            validate_sms("hello", &with_status(S::Completed, true), 0),
            Err(CommunicationError::SessionOver {
                status: S::Completed
            })
        );
        let no_phone = SessionComms {
            has_customer_phone: false,
            ..open()
        };
        assert_eq!(
            validate_sms("hello", &no_phone, 0),
            Err(CommunicationError::NoCustomerPhone)
        );
    }

    #[test]
    fn sms_checks_run_in_the_documented_order() {
        let c = SessionComms {
            has_customer_phone: false,
            ..with_status(SessionStatus::NotStarted, false)
        };
        // Everything wrong at once: the state wins, then phone, then limit,
        // then the body.
        assert_eq!(
            validate_sms("", &c, 99),
            Err(CommunicationError::TimerNotStarted)
        );
        let c = SessionComms {
            has_customer_phone: false,
            ..open()
        };
        assert_eq!(
            validate_sms("", &c, 99),
            Err(CommunicationError::NoCustomerPhone)
        );
        assert_eq!(
            validate_sms("", &open(), 99),
            Err(CommunicationError::SmsLimitReached { limit: 10 })
        );
        assert_eq!(
            validate_sms("", &open(), 0),
            Err(CommunicationError::EmptyMessage)
        );
    }

    #[test]
    fn error_messages_and_fields() {
        assert_eq!(
            CommunicationError::TimerNotStarted.to_string(),
            "start the session timer before using call, SMS or screen share"
        );
        assert_eq!(
            CommunicationError::SessionOver {
                status: SessionStatus::Cancelled
            }
            .to_string(),
            "the session is cancelled; its communication tools are closed"
        );
        assert_eq!(
            CommunicationError::SmsLimitReached { limit: 10 }.to_string(),
            "this session has already sent its 10 SMS"
        );
        assert_eq!(
            CommunicationError::MessageTooLong {
                chars: 1001,
                max: 1000
            }
            .to_string(),
            "the message is 1001 characters long; the limit is 1000"
        );
        assert_eq!(
            CommunicationError::InvalidPeerId.to_string(),
            "the peer id must be 1 to 128 characters without spaces"
        );
        assert_eq!(CommunicationError::EmptyMessage.field(), Some("message"));
        assert_eq!(
            CommunicationError::MessageTooLong { chars: 2, max: 1 }.field(),
            Some("message")
        );
        assert_eq!(CommunicationError::InvalidPeerId.field(), Some("peer_id"));
        assert_eq!(
            CommunicationError::NoCustomerPhone.field(),
            Some("customer_phone")
        );
        assert_eq!(CommunicationError::TimerNotStarted.field(), None);
        assert_eq!(
            CommunicationError::SmsLimitReached { limit: 10 }.field(),
            None
        );
    }

    #[test]
    fn templates_are_valid_sms_with_unique_ids() {
        assert!(!SMS_TEMPLATES.is_empty());
        let mut ids: Vec<_> = SMS_TEMPLATES.iter().map(|t| t.id).collect();
        for template in SMS_TEMPLATES {
            assert_eq!(
                validate_sms(template.body, &open(), 0),
                Ok(template.body),
                "{}",
                template.id
            );
            assert!(
                template
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_'),
                "{}",
                template.id
            );
            assert!(!template.label.is_empty());
            assert_eq!(sms_template(template.id), Some(template));
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), SMS_TEMPLATES.len());
        assert_eq!(sms_template("nope"), None);
        let value = serde_json::to_value(SMS_TEMPLATES[0]).unwrap();
        assert_eq!(value["id"], "greeting");
        assert!(value["label"].is_string() && value["body"].is_string());
    }

    // ---- calls -------------------------------------------------------

    fn expected_call(from: CallState, event: CallEvent) -> Option<CallState> {
        use CallEvent as E;
        use CallState as S;
        let live = [S::Connecting, S::Initiating, S::Ringing, S::Active];
        match event {
            E::Dial => [S::Idle, S::Ended, S::Error]
                .contains(&from)
                .then_some(S::Connecting),
            E::Connected => (from == S::Connecting).then_some(S::Initiating),
            E::Ringing => (from == S::Initiating).then_some(S::Ringing),
            E::Answered => [S::Initiating, S::Ringing]
                .contains(&from)
                .then_some(S::Active),
            E::Hangup => live.contains(&from).then_some(S::Ended),
            E::Fail => live.contains(&from).then_some(S::Error),
        }
    }

    #[test]
    fn call_table_every_state_times_every_event() {
        let allowed = crate::domain::check_whole_table(
            &CallState::ALL,
            &CallEvent::ALL,
            call_transition,
            |from, event| {
                expected_call(from, event)
                    .ok_or(CommunicationError::InvalidCallTransition { from, event })
            },
        );
        // dial x3, connected, ringing, answered x2, hangup x4, fail x4.
        assert_eq!(allowed, 3 + 1 + 1 + 2 + 4 + 4);
    }

    #[test]
    fn call_state_names_and_serde() {
        let names = [
            "idle",
            "connecting",
            "initiating",
            "ringing",
            "active",
            "ended",
            "error",
        ];
        for (state, name) in CallState::ALL.into_iter().zip(names) {
            assert_eq!(state.to_string(), name);
            assert_eq!(CallState::parse(name), Some(state));
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::json!(name)
            );
            assert_eq!(
                serde_json::from_value::<CallState>(serde_json::json!(name)).unwrap(),
                state
            );
        }
        assert_eq!(CallState::parse("hungup"), None);
        let in_progress: Vec<_> = CallState::ALL
            .into_iter()
            .filter(CallState::is_in_progress)
            .collect();
        assert_eq!(
            in_progress,
            vec![
                CallState::Connecting,
                CallState::Initiating,
                CallState::Ringing,
                CallState::Active
            ]
        );
        assert_eq!(
            call_transition(CallState::Active, CallEvent::Dial)
                .unwrap_err()
                .to_string(),
            "cannot place a call when the call is connected"
        );
        assert_eq!(
            call_transition(CallState::Idle, CallEvent::Hangup)
                .unwrap_err()
                .to_string(),
            "cannot hang up when the call is idle"
        );
    }

    #[test]
    fn answered_call_records_its_duration() {
        let call = Call::new()
            .dial(&open(), at(0))
            .unwrap()
            .apply(CallEvent::Connected, at(1))
            .unwrap()
            .apply(CallEvent::Ringing, at(3))
            .unwrap()
            .apply(CallEvent::Answered, at(10))
            .unwrap();
        assert_eq!(call.state, CallState::Active);
        assert_eq!(call.dialed_at, Some(at(0)));
        assert_eq!(call.answered_at, Some(at(10)));
        assert_eq!(call.talk_seconds(at(10)), 0);
        assert_eq!(call.talk_seconds(at(70)), 60);
        assert_eq!(call.talk_seconds(at(5)), 0, "clock went backwards");

        let ended = call.apply(CallEvent::Hangup, at(135)).unwrap();
        assert_eq!(ended.state, CallState::Ended);
        assert_eq!(ended.ended_at, Some(at(135)));
        assert_eq!(ended.duration_seconds, 125);
        assert_eq!(ended.talk_seconds(at(9_999)), 125);
    }

    #[test]
    fn unanswered_or_failed_calls() {
        let dialed = Call::new().apply(CallEvent::Dial, at(0)).unwrap();
        assert_eq!(dialed.state, CallState::Connecting);
        let hung = dialed.apply(CallEvent::Hangup, at(20)).unwrap();
        assert_eq!((hung.state, hung.duration_seconds), (CallState::Ended, 0));
        assert_eq!(hung.answered_at, None);

        let failed = dialed.apply(CallEvent::Fail, at(2)).unwrap();
        assert_eq!(
            (failed.state, failed.duration_seconds),
            (CallState::Error, 0)
        );
        assert_eq!(failed.ended_at, Some(at(2)));

        // A connected call that drops keeps its talk time.
        let dropped = dialed
            .apply(CallEvent::Connected, at(1))
            .unwrap()
            .apply(CallEvent::Answered, at(4))
            .unwrap()
            .apply(CallEvent::Fail, at(64))
            .unwrap();
        assert_eq!(
            (dropped.state, dropped.duration_seconds),
            (CallState::Error, 60)
        );
    }

    #[test]
    fn redial_starts_a_fresh_call_and_no_second_call_meanwhile() {
        let first = Call::new()
            .apply(CallEvent::Dial, at(0))
            .unwrap()
            .apply(CallEvent::Connected, at(1))
            .unwrap()
            .apply(CallEvent::Answered, at(2))
            .unwrap();
        assert_eq!(
            first.apply(CallEvent::Dial, at(3)),
            Err(CommunicationError::InvalidCallTransition {
                from: CallState::Active,
                event: CallEvent::Dial
            })
        );
        let ended = first.apply(CallEvent::Hangup, at(50)).unwrap();
        let again = ended.apply(CallEvent::Dial, at(100)).unwrap();
        assert_eq!(
            again,
            Call {
                state: CallState::Connecting,
                dialed_at: Some(at(100)),
                answered_at: None,
                ended_at: None,
                duration_seconds: 0,
            }
        );
        let after_error = Call {
            state: CallState::Error,
            ..Call::new()
        };
        assert!(after_error.apply(CallEvent::Dial, at(1)).is_ok());
    }

    #[test]
    fn dial_is_gated_by_the_session() {
        let no_phone = SessionComms {
            has_customer_phone: false,
            ..open()
        };
        assert_eq!(
            Call::new().dial(&no_phone, at(0)),
            Err(CommunicationError::NoCustomerPhone)
        );
        assert_eq!(
            Call::new().dial(&with_status(SessionStatus::NotStarted, false), at(0)),
            Err(CommunicationError::TimerNotStarted)
        );
        assert!(Call::new()
            .dial(&with_status(SessionStatus::Paused, true), at(0))
            .is_ok());
    }

    #[test]
    fn call_round_trips_through_serde() {
        let call = Call::new()
            .apply(CallEvent::Dial, at(0))
            .unwrap()
            .apply(CallEvent::Connected, at(1))
            .unwrap()
            .apply(CallEvent::Answered, at(5))
            .unwrap();
        let value = serde_json::to_value(call).unwrap();
        assert_eq!(value["state"], "active");
        assert_eq!(value["answered_at"], "2026-11-21T10:00:05.000Z");
        assert!(value["ended_at"].is_null());
        let back: Call = serde_json::from_value(value).unwrap();
        assert_eq!(back, call);
    }

    // ---- screen share ------------------------------------------------

    fn request(peer: &str) -> ScreenShareEvent {
        ScreenShareEvent::Request {
            solver_peer_id: peer.to_string(),
        }
    }

    fn answer(accepted: bool, peer: Option<&str>) -> ScreenShareEvent {
        ScreenShareEvent::Answer {
            accepted,
            customer_peer_id: peer.map(str::to_string),
        }
    }

    fn in_state(state: ScreenShareState) -> ScreenShare {
        ScreenShare {
            state,
            ..ScreenShare::new()
        }
    }

    #[test]
    fn screen_share_table_every_state_times_every_event() {
        use ScreenShareState as S;
        for from in S::ALL {
            let share = in_state(from);
            let requested = share.apply(request("solver_1"), at(0)).map(|s| s.state);
            assert_eq!(
                requested.ok(),
                (from != S::Accepted).then_some(S::Requested),
                "{from} x request"
            );
            let accepted = share
                .apply(answer(true, Some("cust_1")), at(0))
                .map(|s| s.state);
            assert_eq!(
                accepted.ok(),
                (from == S::Requested).then_some(S::Accepted),
                "{from} x accept"
            );
            let declined = share.apply(answer(false, None), at(0)).map(|s| s.state);
            assert_eq!(
                declined.ok(),
                (from == S::Requested).then_some(S::Declined),
                "{from} x decline"
            );
            let ended = share.apply(ScreenShareEvent::End, at(0)).map(|s| s.state);
            assert_eq!(
                ended.ok(),
                matches!(from, S::Requested | S::Accepted).then_some(S::Ended),
                "{from} x end"
            );
        }
    }

    #[test]
    fn request_accept_end_records_peers_and_times() {
        let share = ScreenShare::new()
            .request(&open(), "solver_abc_1700000000000".into(), at(0))
            .unwrap();
        assert_eq!(share.state, ScreenShareState::Requested);
        assert_eq!(
            share.solver_peer_id.as_deref(),
            Some("solver_abc_1700000000000")
        );
        assert_eq!(share.requested_at, Some(at(0)));

        let sharing = share
            .apply(answer(true, Some("customer_xyz")), at(8))
            .unwrap();
        assert_eq!(sharing.state, ScreenShareState::Accepted);
        assert_eq!(sharing.customer_peer_id.as_deref(), Some("customer_xyz"));
        assert_eq!(sharing.solver_peer_id, share.solver_peer_id);
        assert_eq!(sharing.answered_at, Some(at(8)));

        let ended = sharing.apply(ScreenShareEvent::End, at(300)).unwrap();
        assert_eq!(ended.state, ScreenShareState::Ended);
        assert_eq!(ended.ended_at, Some(at(300)));
        assert_eq!(ended.customer_peer_id.as_deref(), Some("customer_xyz"));

        // A new request after the end starts afresh.
        let again = ended.apply(request("solver_2"), at(400)).unwrap();
        assert_eq!(
            again,
            ScreenShare {
                state: ScreenShareState::Requested,
                solver_peer_id: Some("solver_2".into()),
                requested_at: Some(at(400)),
                ..ScreenShare::new()
            }
        );
    }

    #[test]
    fn decline_and_re_request() {
        let declined = ScreenShare::new()
            .apply(request("s1"), at(0))
            .unwrap()
            .apply(answer(false, Some("ignored")), at(3))
            .unwrap();
        assert_eq!(declined.state, ScreenShareState::Declined);
        assert_eq!(declined.customer_peer_id, None);
        assert_eq!(declined.answered_at, Some(at(3)));
        let retried = declined.apply(request("s2"), at(10)).unwrap();
        assert_eq!(retried.state, ScreenShareState::Requested);
        assert_eq!(retried.answered_at, None);
        // Clicking again while pending replaces the peer id.
        let replaced = retried.apply(request("s3"), at(11)).unwrap();
        assert_eq!(replaced.solver_peer_id.as_deref(), Some("s3"));
        assert_eq!(replaced.requested_at, Some(at(11)));
    }

    #[test]
    fn refused_screen_share_moves_say_why() {
        let sharing = in_state(ScreenShareState::Accepted);
        assert_eq!(
            sharing.apply(request("s"), at(0)).unwrap_err().to_string(),
            "cannot request a screen share when the screen share is in progress"
        );
        assert_eq!(
            ScreenShare::new()
                .apply(answer(true, None), at(0))
                .unwrap_err()
                .to_string(),
            "cannot answer the screen-share request when the screen share is not requested"
        );
        assert_eq!(
            in_state(ScreenShareState::Declined)
                .apply(ScreenShareEvent::End, at(0))
                .unwrap_err(),
            CommunicationError::InvalidScreenShareTransition {
                from: ScreenShareState::Declined,
                event: "end the screen share"
            }
        );
    }

    #[test]
    fn peer_ids_are_validated() {
        assert_eq!(validate_peer_id("solver_1"), Ok(()));
        assert_eq!(validate_peer_id(&"p".repeat(128)), Ok(()));
        for bad in ["", " ", "a b", "tab\there", "nl\n", "\u{7}"] {
            assert_eq!(
                validate_peer_id(bad),
                Err(CommunicationError::InvalidPeerId),
                "{bad:?}"
            );
        }
        assert_eq!(
            validate_peer_id(&"p".repeat(129)),
            Err(CommunicationError::InvalidPeerId)
        );
        assert_eq!(
            ScreenShare::new().apply(request(""), at(0)),
            Err(CommunicationError::InvalidPeerId)
        );
        let pending = ScreenShare::new().apply(request("s1"), at(0)).unwrap();
        assert_eq!(
            pending.apply(answer(true, Some("has space")), at(1)),
            Err(CommunicationError::InvalidPeerId)
        );
        // The answer without a peer id is fine (`peer_id?` on the wire).
        assert!(pending.apply(answer(true, None), at(1)).is_ok());
    }

    #[test]
    fn screen_share_request_is_gated_by_the_session() {
        use SessionStatus as S;
        assert_eq!(
            ScreenShare::new().request(&with_status(S::NotStarted, false), "s".into(), at(0)),
            Err(CommunicationError::TimerNotStarted)
        );
        assert_eq!(
            ScreenShare::new().request(&with_status(S::Cancelled, true), "s".into(), at(0)),
            Err(CommunicationError::SessionOver {
                status: S::Cancelled
            })
        );
        assert!(ScreenShare::new()
            .request(&with_status(S::Paused, true), "s".into(), at(0))
            .is_ok());
    }

    #[test]
    fn screen_share_state_names_and_serde() {
        let names = ["idle", "requested", "accepted", "declined", "ended"];
        for (state, name) in ScreenShareState::ALL.into_iter().zip(names) {
            assert_eq!(state.to_string(), name);
            assert_eq!(ScreenShareState::parse(name), Some(state));
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::json!(name)
            );
        }
        let share = ScreenShare::new().apply(request("s1"), at(0)).unwrap();
        let value = serde_json::to_value(&share).unwrap();
        assert_eq!(value["state"], "requested");
        assert_eq!(value["solver_peer_id"], "s1");
        assert_eq!(value["requested_at"], "2026-11-21T10:00:00.000Z");
        let back: ScreenShare = serde_json::from_value(value).unwrap();
        assert_eq!(back, share);
    }
}
