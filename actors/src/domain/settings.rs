//! Per-project handoff settings (seed 003 §5.1.2, defaults of §5.1.3,
//! validation of §5.1.5) plus the session timeout settings of §5.12.6.
//! Owns the JSON shape, its defaults (a partial document is filled in from
//! them), validation into per-field messages, and keyword normalization.

use crate::string_enum;
use chrono::{NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// Bounds of `default_max_concurrent_chats` (§5.1.5).
pub const MAX_CONCURRENT_CHATS_RANGE: std::ops::RangeInclusive<u32> = 1..=50;
/// Bounds of every `*_minutes` timeout setting: one minute to one day.
pub const TIMEOUT_MINUTES_RANGE: std::ops::RangeInclusive<u32> = 1..=1440;

string_enum! {
    /// How a handoff may be started (§5.1.2).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub enum TriggerMode: serde {
        /// Only the AI's automatic triggers (confidence, keywords).
        Auto = "auto",
        /// Only the customer's "Talk to Human" button.
        Manual = "manual",
        /// Both (the default).
        #[default]
        Both = "both",
    }
}

/// The automatic triggers (§5.1.2 `auto_triggers`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoTriggers {
    pub low_confidence_enabled: bool,
    /// Hand off when the AI's confidence is below this (0.0..=1.0).
    pub low_confidence_threshold: f64,
    pub keywords_enabled: bool,
    pub keywords: Vec<String>,
}

impl Default for AutoTriggers {
    fn default() -> Self {
        Self {
            low_confidence_enabled: true,
            low_confidence_threshold: 0.6,
            keywords_enabled: true,
            keywords: [
                "human",
                "agent",
                "person",
                "speak to someone",
                "talk to someone",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
        }
    }
}

/// One day's opening hours, "HH:MM" 24-hour local times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DayHours {
    pub start: String,
    pub end: String,
    pub enabled: bool,
}

impl DayHours {
    fn weekday_default() -> Self {
        Self {
            start: "09:00".into(),
            end: "17:00".into(),
            enabled: true,
        }
    }

    fn weekend_default() -> Self {
        Self {
            enabled: false,
            ..Self::weekday_default()
        }
    }

    /// `start` parsed, `None` when it is not valid "HH:MM".
    pub fn start_time(&self) -> Option<NaiveTime> {
        parse_hhmm(&self.start)
    }

    /// `end` parsed, `None` when it is not valid "HH:MM".
    pub fn end_time(&self) -> Option<NaiveTime> {
        parse_hhmm(&self.end)
    }

    /// `(start, end)` when the day is enabled, both times parse and
    /// `start < end`; `None` means the day never opens.
    pub fn open_window(&self) -> Option<(NaiveTime, NaiveTime)> {
        if !self.enabled {
            return None;
        }
        match (self.start_time(), self.end_time()) {
            (Some(start), Some(end)) if start < end => Some((start, end)),
            _ => None,
        }
    }
}

/// A standalone `DayHours` defaults to the weekday default (09:00-17:00,
/// enabled). Inside [`WeekHours`] a partially given day is completed from
/// that day's own default instead (so Saturday stays disabled).
impl Default for DayHours {
    fn default() -> Self {
        Self::weekday_default()
    }
}

/// The weekly schedule (§5.1.2 `business_hours`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "PartialWeek")]
pub struct WeekHours {
    pub monday: DayHours,
    pub tuesday: DayHours,
    pub wednesday: DayHours,
    pub thursday: DayHours,
    pub friday: DayHours,
    pub saturday: DayHours,
    pub sunday: DayHours,
}

impl Default for WeekHours {
    fn default() -> Self {
        Self {
            monday: DayHours::weekday_default(),
            tuesday: DayHours::weekday_default(),
            wednesday: DayHours::weekday_default(),
            thursday: DayHours::weekday_default(),
            friday: DayHours::weekday_default(),
            saturday: DayHours::weekend_default(),
            sunday: DayHours::weekend_default(),
        }
    }
}

impl WeekHours {
    /// Every weekday with its serde field name, Monday first.
    pub const DAYS: [(Weekday, &'static str); 7] = [
        (Weekday::Mon, "monday"),
        (Weekday::Tue, "tuesday"),
        (Weekday::Wed, "wednesday"),
        (Weekday::Thu, "thursday"),
        (Weekday::Fri, "friday"),
        (Weekday::Sat, "saturday"),
        (Weekday::Sun, "sunday"),
    ];

    pub fn day(&self, wd: Weekday) -> &DayHours {
        match wd {
            Weekday::Mon => &self.monday,
            Weekday::Tue => &self.tuesday,
            Weekday::Wed => &self.wednesday,
            Weekday::Thu => &self.thursday,
            Weekday::Fri => &self.friday,
            Weekday::Sat => &self.saturday,
            Weekday::Sun => &self.sunday,
        }
    }

    pub fn day_mut(&mut self, wd: Weekday) -> &mut DayHours {
        match wd {
            Weekday::Mon => &mut self.monday,
            Weekday::Tue => &mut self.tuesday,
            Weekday::Wed => &mut self.wednesday,
            Weekday::Thu => &mut self.thursday,
            Weekday::Fri => &mut self.friday,
            Weekday::Sat => &mut self.saturday,
            Weekday::Sun => &mut self.sunday,
        }
    }
}

/// Wire form of a day inside `business_hours`: every field optional.
#[derive(Deserialize, Default)]
#[serde(default)]
struct PartialDay {
    start: Option<String>,
    end: Option<String>,
    enabled: Option<bool>,
}

/// Wire form of `business_hours`: missing days and fields come from
/// [`WeekHours::default`], day by day.
#[derive(Deserialize, Default)]
#[serde(default)]
struct PartialWeek {
    monday: Option<PartialDay>,
    tuesday: Option<PartialDay>,
    wednesday: Option<PartialDay>,
    thursday: Option<PartialDay>,
    friday: Option<PartialDay>,
    saturday: Option<PartialDay>,
    sunday: Option<PartialDay>,
}

impl From<PartialWeek> for WeekHours {
    fn from(p: PartialWeek) -> Self {
        let mut week = WeekHours::default();
        let given = [
            (Weekday::Mon, p.monday),
            (Weekday::Tue, p.tuesday),
            (Weekday::Wed, p.wednesday),
            (Weekday::Thu, p.thursday),
            (Weekday::Fri, p.friday),
            (Weekday::Sat, p.saturday),
            (Weekday::Sun, p.sunday),
        ];
        for (wd, day) in given {
            let Some(day) = day else { continue };
            let target = week.day_mut(wd);
            if let Some(start) = day.start {
                target.start = start;
            }
            if let Some(end) = day.end {
                target.end = end;
            }
            if let Some(enabled) = day.enabled {
                target.enabled = enabled;
            }
        }
        week
    }
}

/// A project's handoff settings. Missing fields of a JSON document are taken
/// from [`HandoffSettings::default`] (§5.1.3); unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HandoffSettings {
    /// Master toggle; when false the project is AI-only.
    pub enabled: bool,
    pub trigger_mode: TriggerMode,
    pub show_human_button: bool,
    pub auto_triggers: AutoTriggers,
    pub business_hours_enabled: bool,
    /// IANA time zone of `business_hours`.
    pub timezone: String,
    pub business_hours: WeekHours,
    /// Chat limit given to new agents.
    pub default_max_concurrent_chats: u32,
    /// §5.12.6: idle time before the "are you still there?" warning.
    pub inactivity_timeout_minutes: u32,
    /// §5.12.6: time after the warning before auto-close.
    pub auto_close_after_warning_minutes: u32,
    /// §5.12.6: how long a session survives a closed browser.
    pub session_keep_alive_minutes: u32,
    /// §5.12.6: whether to send the inactivity warning at all.
    pub send_inactivity_warning: bool,
}

impl Default for HandoffSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            trigger_mode: TriggerMode::Both,
            show_human_button: false,
            auto_triggers: AutoTriggers::default(),
            business_hours_enabled: false,
            timezone: "UTC".into(),
            business_hours: WeekHours::default(),
            default_max_concurrent_chats: 5,
            inactivity_timeout_minutes: 5,
            auto_close_after_warning_minutes: 5,
            session_keep_alive_minutes: 15,
            send_inactivity_warning: true,
        }
    }
}

impl HandoffSettings {
    /// Checks the rules of §5.1.5 (plus the timeout bounds). On failure the
    /// map holds one human sentence per offending field, keyed by its path
    /// (`"auto_triggers.low_confidence_threshold"`,
    /// `"business_hours.monday.start"`, `"timezone"`, ...).
    ///
    /// Keywords are checked as given: call [`normalized`](Self::normalized)
    /// first to store them trimmed and lowercased.
    pub fn validate(&self) -> Result<(), BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        let mut fail = |key: &str, msg: String| {
            errors.insert(key.to_string(), msg);
        };

        let threshold = self.auto_triggers.low_confidence_threshold;
        if !(threshold.is_finite() && (0.0..=1.0).contains(&threshold)) {
            fail(
                "auto_triggers.low_confidence_threshold",
                "The confidence threshold must be a number between 0 and 1.".into(),
            );
        }

        let keywords = &self.auto_triggers.keywords;
        if keywords.is_empty() {
            fail(
                "auto_triggers.keywords",
                "At least one keyword is required.".into(),
            );
        } else if let Some(i) = keywords.iter().position(|k| k.trim().is_empty()) {
            fail(
                "auto_triggers.keywords",
                format!("Keyword {} is empty; remove it or type a word.", i + 1),
            );
        }

        if self.timezone.parse::<chrono_tz::Tz>().is_err() {
            fail(
                "timezone",
                format!(
                    "\"{}\" is not a known IANA time zone (for example \"Europe/Paris\").",
                    self.timezone
                ),
            );
        }

        for (wd, name) in WeekHours::DAYS {
            let day = self.business_hours.day(wd);
            let start = day.start_time();
            let end = day.end_time();
            if start.is_none() {
                fail(
                    &format!("business_hours.{name}.start"),
                    format!(
                        "The {name} start time must be a 24-hour time written HH:MM, like 09:00."
                    ),
                );
            }
            if end.is_none() {
                fail(
                    &format!("business_hours.{name}.end"),
                    format!(
                        "The {name} end time must be a 24-hour time written HH:MM, like 17:00."
                    ),
                );
            }
            if let (Some(start), Some(end)) = (start, end) {
                if start >= end {
                    fail(
                        &format!("business_hours.{name}.end"),
                        format!("The {name} end time must be later than its start time."),
                    );
                }
            }
        }

        if !MAX_CONCURRENT_CHATS_RANGE.contains(&self.default_max_concurrent_chats) {
            fail(
                "default_max_concurrent_chats",
                "The default chat limit must be between 1 and 50.".into(),
            );
        }

        for (key, value) in [
            (
                "inactivity_timeout_minutes",
                self.inactivity_timeout_minutes,
            ),
            (
                "auto_close_after_warning_minutes",
                self.auto_close_after_warning_minutes,
            ),
            (
                "session_keep_alive_minutes",
                self.session_keep_alive_minutes,
            ),
        ] {
            if !TIMEOUT_MINUTES_RANGE.contains(&value) {
                fail(
                    key,
                    "This timeout must be between 1 and 1440 minutes (24 hours).".into(),
                );
            }
        }

        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Keywords trimmed and lowercased, duplicates (after that) removed
    /// keeping the first occurrence's position. Blank keywords are kept (as
    /// one `""`) so that [`validate`](Self::validate) still reports them.
    pub fn normalized(mut self) -> Self {
        let mut seen = HashSet::new();
        self.auto_triggers.keywords = std::mem::take(&mut self.auto_triggers.keywords)
            .into_iter()
            .map(|k| k.trim().to_lowercase())
            .filter(|k| seen.insert(k.clone()))
            .collect();
        self
    }

    /// The project's time zone; UTC when `timezone` is not a valid name.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::Tz::UTC)
    }

    /// Whether the AI's automatic triggers may start a handoff.
    pub fn triggers_auto(&self) -> bool {
        matches!(self.trigger_mode, TriggerMode::Auto | TriggerMode::Both)
    }

    /// Whether the trigger mode allows the customer's button.
    pub fn allows_button(&self) -> bool {
        matches!(self.trigger_mode, TriggerMode::Manual | TriggerMode::Both)
    }
}

/// Parses a strict 24-hour "HH:MM": exactly two digits, a colon, two digits,
/// 00:00 through 23:59.
pub fn parse_hhmm(s: &str) -> Option<NaiveTime> {
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' {
        return None;
    }
    let digit = |c: u8| c.is_ascii_digit().then(|| u32::from(c - b'0'));
    let hour = digit(b[0])? * 10 + digit(b[1])?;
    let minute = digit(b[3])? * 10 + digit(b[4])?;
    if hour > 23 || minute > 59 {
        return None;
    }
    NaiveTime::from_hms_opt(hour, minute, 0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors_of(s: &HandoffSettings) -> BTreeMap<String, String> {
        s.validate().err().unwrap_or_default()
    }

    fn keys_of(s: &HandoffSettings) -> Vec<String> {
        errors_of(s).into_keys().collect()
    }

    #[test]
    fn defaults_serialize_to_the_seed_shape() {
        let value = serde_json::to_value(HandoffSettings::default()).unwrap();
        assert_eq!(
            value,
            json!({
                "enabled": false,
                "trigger_mode": "both",
                "show_human_button": false,
                "auto_triggers": {
                    "low_confidence_enabled": true,
                    "low_confidence_threshold": 0.6,
                    "keywords_enabled": true,
                    "keywords": ["human", "agent", "person", "speak to someone", "talk to someone"]
                },
                "business_hours_enabled": false,
                "timezone": "UTC",
                "business_hours": {
                    "monday":    { "start": "09:00", "end": "17:00", "enabled": true },
                    "tuesday":   { "start": "09:00", "end": "17:00", "enabled": true },
                    "wednesday": { "start": "09:00", "end": "17:00", "enabled": true },
                    "thursday":  { "start": "09:00", "end": "17:00", "enabled": true },
                    "friday":    { "start": "09:00", "end": "17:00", "enabled": true },
                    "saturday":  { "start": "09:00", "end": "17:00", "enabled": false },
                    "sunday":    { "start": "09:00", "end": "17:00", "enabled": false }
                },
                "default_max_concurrent_chats": 5,
                "inactivity_timeout_minutes": 5,
                "auto_close_after_warning_minutes": 5,
                "session_keep_alive_minutes": 15,
                "send_inactivity_warning": true
            })
        );
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(HandoffSettings::default().validate(), Ok(()));
    }

    #[test]
    fn empty_json_is_the_default() {
        let s: HandoffSettings = serde_json::from_value(json!({})).unwrap();
        assert_eq!(s, HandoffSettings::default());
    }

    #[test]
    fn roundtrip_through_json() {
        let mut s = HandoffSettings {
            enabled: true,
            trigger_mode: TriggerMode::Manual,
            timezone: "Asia/Tokyo".into(),
            ..HandoffSettings::default()
        };
        s.business_hours.sunday.enabled = true;
        s.business_hours.sunday.start = "10:30".into();
        s.auto_triggers.keywords = vec!["refund".into()];
        let back: HandoffSettings =
            serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn partial_json_fills_from_defaults_at_every_level() {
        let s: HandoffSettings = serde_json::from_value(json!({
            "enabled": true,
            "trigger_mode": "auto",
            "auto_triggers": { "low_confidence_threshold": 0.3 },
            "business_hours": {
                "monday": { "start": "08:00" },
                "saturday": { "end": "12:00" }
            },
            "inactivity_timeout_minutes": 10,
            "some_future_field": { "ignored": true }
        }))
        .unwrap();
        let d = HandoffSettings::default();
        assert!(s.enabled);
        assert_eq!(s.trigger_mode, TriggerMode::Auto);
        assert_eq!(s.show_human_button, d.show_human_button);
        assert_eq!(s.auto_triggers.low_confidence_threshold, 0.3);
        assert!(s.auto_triggers.low_confidence_enabled);
        assert!(s.auto_triggers.keywords_enabled);
        assert_eq!(s.auto_triggers.keywords, d.auto_triggers.keywords);
        assert_eq!(
            s.business_hours.monday,
            DayHours {
                start: "08:00".into(),
                end: "17:00".into(),
                enabled: true
            }
        );
        // A partial Saturday keeps Saturday's own default: disabled.
        assert_eq!(
            s.business_hours.saturday,
            DayHours {
                start: "09:00".into(),
                end: "12:00".into(),
                enabled: false
            }
        );
        assert_eq!(s.business_hours.tuesday, d.business_hours.tuesday);
        assert_eq!(s.business_hours.sunday, d.business_hours.sunday);
        assert_eq!(s.timezone, "UTC");
        assert_eq!(s.default_max_concurrent_chats, 5);
        assert_eq!(s.inactivity_timeout_minutes, 10);
        assert_eq!(s.auto_close_after_warning_minutes, 5);
        assert_eq!(s.session_keep_alive_minutes, 15);
        assert!(s.send_inactivity_warning);
    }

    #[test]
    fn standalone_partial_structs_fill_from_their_defaults() {
        let t: AutoTriggers = serde_json::from_value(json!({"keywords": ["x"]})).unwrap();
        assert_eq!(t.keywords, vec!["x".to_string()]);
        assert_eq!(t.low_confidence_threshold, 0.6);
        let d: DayHours = serde_json::from_value(json!({"enabled": false})).unwrap();
        assert_eq!(
            (d.start.as_str(), d.end.as_str(), d.enabled),
            ("09:00", "17:00", false)
        );
        let w: WeekHours = serde_json::from_value(json!({})).unwrap();
        assert_eq!(w, WeekHours::default());
    }

    #[test]
    fn bad_types_are_rejected() {
        assert!(
            serde_json::from_value::<HandoffSettings>(json!({"trigger_mode": "sometimes"}))
                .is_err()
        );
        assert!(serde_json::from_value::<HandoffSettings>(json!({"enabled": "yes"})).is_err());
        assert!(serde_json::from_value::<HandoffSettings>(
            json!({"default_max_concurrent_chats": -1})
        )
        .is_err());
    }

    #[test]
    fn week_day_lookup() {
        let mut w = WeekHours::default();
        w.thursday.start = "07:15".into();
        assert_eq!(w.day(Weekday::Thu).start, "07:15");
        assert!(w.day(Weekday::Fri).enabled);
        assert!(!w.day(Weekday::Sat).enabled);
        assert!(!w.day(Weekday::Sun).enabled);
        for (wd, name) in WeekHours::DAYS {
            let value = serde_json::to_value(&w).unwrap();
            assert_eq!(value[name], serde_json::to_value(w.day(wd)).unwrap());
        }
    }

    #[test]
    fn threshold_bounds() {
        for ok in [0.0, 0.5, 1.0] {
            let mut s = HandoffSettings::default();
            s.auto_triggers.low_confidence_threshold = ok;
            assert_eq!(s.validate(), Ok(()), "{ok}");
        }
        for bad in [-0.01, 1.01, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut s = HandoffSettings::default();
            s.auto_triggers.low_confidence_threshold = bad;
            assert_eq!(
                keys_of(&s),
                vec!["auto_triggers.low_confidence_threshold"],
                "{bad}"
            );
        }
    }

    #[test]
    fn keywords_must_be_non_empty_and_not_blank() {
        let mut s = HandoffSettings::default();
        s.auto_triggers.keywords.clear();
        assert_eq!(keys_of(&s), vec!["auto_triggers.keywords"]);

        s.auto_triggers.keywords = vec!["human".into(), "   ".into()];
        let errors = errors_of(&s);
        assert_eq!(errors.len(), 1);
        assert!(errors["auto_triggers.keywords"].contains("Keyword 2"));

        s.auto_triggers.keywords = vec!["".into()];
        assert_eq!(keys_of(&s), vec!["auto_triggers.keywords"]);

        s.auto_triggers.keywords = vec!["  Human ".into()];
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn timezone_must_be_iana() {
        for ok in ["UTC", "America/New_York", "Asia/Tokyo", "Europe/Paris"] {
            let s = HandoffSettings {
                timezone: ok.into(),
                ..HandoffSettings::default()
            };
            assert_eq!(s.validate(), Ok(()), "{ok}");
        }
        for bad in ["", "Mars/Olympus", "GMT+25", "america/new_york", " UTC"] {
            let s = HandoffSettings {
                timezone: bad.into(),
                ..HandoffSettings::default()
            };
            assert_eq!(keys_of(&s), vec!["timezone"], "{bad:?}");
        }
    }

    #[test]
    fn hhmm_parsing_is_strict() {
        assert_eq!(parse_hhmm("00:00"), NaiveTime::from_hms_opt(0, 0, 0));
        assert_eq!(parse_hhmm("09:05"), NaiveTime::from_hms_opt(9, 5, 0));
        assert_eq!(parse_hhmm("23:59"), NaiveTime::from_hms_opt(23, 59, 0));
        for bad in [
            "",
            "9:00",
            "09:0",
            "24:00",
            "23:60",
            "09-00",
            "0900",
            "09:00:00",
            " 09:00",
            "09:00 ",
            "+9:00",
            "٠٩:٠٠",
            "ab:cd",
            "99:99",
        ] {
            assert_eq!(parse_hhmm(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_day_is_checked_even_when_disabled() {
        let mut s = HandoffSettings::default();
        s.business_hours.sunday.start = "9:00".into(); // disabled day, still checked
        s.business_hours.monday.end = "24:00".into();
        assert_eq!(
            keys_of(&s),
            vec!["business_hours.monday.end", "business_hours.sunday.start"]
        );
    }

    #[test]
    fn start_must_be_before_end() {
        let mut s = HandoffSettings::default();
        s.business_hours.wednesday.start = "17:00".into();
        assert_eq!(keys_of(&s), vec!["business_hours.wednesday.end"]);
        s.business_hours.wednesday.start = "18:00".into();
        assert_eq!(keys_of(&s), vec!["business_hours.wednesday.end"]);
        s.business_hours.wednesday.start = "16:59".into();
        assert_eq!(s.validate(), Ok(()));
        s.business_hours.saturday.start = "00:00".into();
        s.business_hours.saturday.end = "23:59".into();
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn both_bad_times_report_both_fields() {
        let mut s = HandoffSettings::default();
        s.business_hours.friday.start = "x".into();
        s.business_hours.friday.end = "y".into();
        let errors = errors_of(&s);
        assert_eq!(errors.len(), 2);
        assert!(errors["business_hours.friday.start"].contains("friday"));
        assert!(errors["business_hours.friday.end"].contains("HH:MM"));
    }

    #[test]
    fn max_concurrent_chats_bounds() {
        for (value, ok) in [(0, false), (1, true), (50, true), (51, false)] {
            let s = HandoffSettings {
                default_max_concurrent_chats: value,
                ..HandoffSettings::default()
            };
            assert_eq!(s.validate().is_ok(), ok, "{value}");
            if !ok {
                assert_eq!(keys_of(&s), vec!["default_max_concurrent_chats"]);
            }
        }
    }

    #[test]
    fn timeout_bounds() {
        type Setter = fn(&mut HandoffSettings, u32);
        let fields: [(&str, Setter); 3] = [
            ("inactivity_timeout_minutes", |s, v| {
                s.inactivity_timeout_minutes = v
            }),
            ("auto_close_after_warning_minutes", |s, v| {
                s.auto_close_after_warning_minutes = v
            }),
            ("session_keep_alive_minutes", |s, v| {
                s.session_keep_alive_minutes = v
            }),
        ];
        for (key, set) in fields {
            for (value, ok) in [(0, false), (1, true), (1440, true), (1441, false)] {
                let mut s = HandoffSettings::default();
                set(&mut s, value);
                if ok {
                    assert_eq!(s.validate(), Ok(()), "{key}={value}");
                } else {
                    assert_eq!(keys_of(&s), vec![key], "{key}={value}");
                }
            }
        }
    }

    #[test]
    fn many_errors_are_reported_together() {
        let mut s = HandoffSettings::default();
        s.auto_triggers.low_confidence_threshold = 2.0;
        s.auto_triggers.keywords.clear();
        s.timezone = "Nowhere".into();
        s.business_hours.tuesday.start = "25:00".into();
        s.default_max_concurrent_chats = 0;
        s.session_keep_alive_minutes = 0;
        let errors = errors_of(&s);
        assert_eq!(errors.len(), 6);
        assert!(errors.values().all(|m| m.ends_with('.')));
    }

    #[test]
    fn normalized_trims_lowercases_and_dedupes_in_order() {
        let mut s = HandoffSettings::default();
        s.auto_triggers.keywords = vec![
            "  Human ".into(),
            "AGENT".into(),
            "human".into(),
            "Speak To Someone".into(),
            "ÄRGER".into(),
            "agent ".into(),
        ];
        let n = s.clone().normalized();
        assert_eq!(
            n.auto_triggers.keywords,
            vec!["human", "agent", "speak to someone", "ärger"]
        );
        // Nothing else changes.
        let mut expected = s;
        expected.auto_triggers.keywords = n.auto_triggers.keywords.clone();
        assert_eq!(n, expected);
    }

    #[test]
    fn normalized_keeps_a_blank_so_validation_still_sees_it() {
        let mut s = HandoffSettings::default();
        s.auto_triggers.keywords = vec![" ".into(), "x".into(), "".into()];
        let n = s.normalized();
        assert_eq!(n.auto_triggers.keywords, vec!["", "x"]);
        assert_eq!(keys_of(&n), vec!["auto_triggers.keywords"]);
    }

    #[test]
    fn tz_falls_back_to_utc() {
        let mut s = HandoffSettings {
            timezone: "America/New_York".into(),
            ..HandoffSettings::default()
        };
        assert_eq!(s.tz(), chrono_tz::America::New_York);
        s.timezone = "nope".into();
        assert_eq!(s.tz(), chrono_tz::UTC);
    }

    #[test]
    fn trigger_mode_gates() {
        let mut s = HandoffSettings::default();
        for (mode, auto, button) in [
            (TriggerMode::Auto, true, false),
            (TriggerMode::Manual, false, true),
            (TriggerMode::Both, true, true),
        ] {
            s.trigger_mode = mode;
            assert_eq!(s.triggers_auto(), auto, "{mode}");
            assert_eq!(s.allows_button(), button, "{mode}");
            assert_eq!(serde_json::to_value(mode).unwrap(), json!(mode.as_str()));
        }
    }

    #[test]
    fn open_window_requires_enabled_valid_and_ordered() {
        let mut d = DayHours::default();
        assert_eq!(
            d.open_window(),
            Some((
                NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                NaiveTime::from_hms_opt(17, 0, 0).unwrap()
            ))
        );
        d.enabled = false;
        assert_eq!(d.open_window(), None);
        d.enabled = true;
        d.end = "09:00".into();
        assert_eq!(d.open_window(), None);
        d.end = "bad".into();
        assert_eq!(d.open_window(), None);
    }
}
