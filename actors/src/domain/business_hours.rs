//! Business hours (seed 003 §5.8): whether a project's weekly schedule is
//! open at an instant, when it next opens, and how an instant reads in the
//! project's time zone. All wall-clock reasoning, including daylight-saving
//! gaps and folds, lives here.

use super::settings::HandoffSettings;
use chrono::{DateTime, Datelike, Days, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// How far ahead [`next_opening`] looks, in local calendar days after today.
const SEARCH_DAYS: u64 = 8;

/// Whether handoff is within business hours at `now`.
///
/// Always true when `business_hours_enabled` is off. Otherwise the local
/// weekday and time in the project's zone ([`HandoffSettings::tz`]) decide:
/// the day must be enabled, its hours valid, and `start <= time < end`.
///
/// The end is exclusive (seed 003 §5.8.2 compares whole minutes with `<=`,
/// which would keep a 17:00 end open until 17:00:59): at exactly 17:00:00 a
/// 09:00-17:00 day is closed. A day whose hours do not parse or whose start
/// is not before its end never opens.
pub fn is_open(settings: &HandoffSettings, now: DateTime<Utc>) -> bool {
    if !settings.business_hours_enabled {
        return true;
    }
    let local = now.with_timezone(&settings.tz());
    match settings.business_hours.day(local.weekday()).open_window() {
        Some((start, end)) => {
            let time = local.time();
            start <= time && time < end
        }
        None => false,
    }
}

/// The next instant at or after `now` when [`is_open`] is true.
///
/// * Hours disabled, or open right now: `Some(now)`.
/// * Otherwise the next opening within the next eight local days: normally
///   a day's start time. A start time that does not exist locally (DST gap)
///   opens at the first valid instant after it; one that occurs twice (DST
///   fold) opens at the earlier occurrence (or at the later one, when the
///   earlier has already gone by). A window that covers a repeated hour also
///   reopens at the fold itself.
/// * `None` when no day ever opens (no enabled day with valid hours).
pub fn next_opening(settings: &HandoffSettings, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if is_open(settings, now) {
        return Some(now);
    }
    let tz = settings.tz();
    let today = now.with_timezone(&tz).date_naive();

    let mut candidates = Vec::new();
    for ahead in 0..=SEARCH_DAYS {
        let Some(date) = today.checked_add_days(Days::new(ahead)) else {
            break;
        };
        if let Some((start, _)) = settings.business_hours.day(date.weekday()).open_window() {
            candidates.extend(resolve_local(tz, date.and_time(start)));
        }
    }
    // The schedule can also open when the clock jumps back into a window.
    let horizon = now + Duration::days(SEARCH_DAYS as i64 + 1);
    candidates.extend(offset_changes(tz, now, horizon));

    candidates
        .into_iter()
        .filter(|&at| at > now && is_open(settings, at))
        .min()
}

/// `at` in the project's zone as weekday and 24-hour time, e.g. "Monday 09:00".
pub fn describe_local(settings: &HandoffSettings, at: DateTime<Utc>) -> String {
    at.with_timezone(&settings.tz())
        .format("%A %H:%M")
        .to_string()
}

/// The instants a local wall-clock time denotes: one normally, both (earlier
/// first) in a fold, and in a gap the first valid instant after it (the
/// moment the clock jumps forward).
fn resolve_local(tz: Tz, local: NaiveDateTime) -> Vec<DateTime<Utc>> {
    use chrono::LocalResult;
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => vec![t.with_timezone(&Utc)],
        LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
            vec![a.min(b), a.max(b)]
        }
        LocalResult::None => {
            // Offsets are within a day of UTC, so the jump that skipped
            // `local` lies within a day either side of `local` read as UTC.
            let as_utc = local.and_utc();
            offset_change_between(tz, as_utc - Duration::days(1), as_utc + Duration::days(1))
                .into_iter()
                .collect()
        }
    }
}

/// UTC offset of `tz` at `at`, in seconds.
fn offset_secs(tz: Tz, at: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&at.naive_utc())
        .fix()
        .local_minus_utc()
}

/// Every instant in `(from, to]` where `tz`'s offset changes, found by
/// hourly probing then bisection (zones never change offset twice within an
/// hour).
fn offset_changes(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut lo = from;
    while lo < to {
        let hi = (lo + Duration::hours(1)).min(to);
        out.extend(offset_change_between(tz, lo, hi));
        lo = hi;
    }
    out
}

/// The first whole second in `(lo, hi]` whose offset differs from `lo`'s,
/// assuming at most one change in between; `None` when the offsets at the
/// two ends agree.
fn offset_change_between(tz: Tz, lo: DateTime<Utc>, hi: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let before = offset_secs(tz, lo);
    let at = |secs: i64| DateTime::<Utc>::from_timestamp(secs, 0);
    // Offset changes happen on whole seconds, so flooring `lo` keeps its side.
    let mut lo_s = lo.timestamp();
    let mut hi_s = hi.timestamp() + i64::from(hi.timestamp_subsec_nanos() > 0);
    if offset_secs(tz, at(hi_s)?) == before {
        return None;
    }
    while hi_s - lo_s > 1 {
        let mid = lo_s + (hi_s - lo_s) / 2;
        if offset_secs(tz, at(mid)?) == before {
            lo_s = mid;
        } else {
            hi_s = mid;
        }
    }
    at(hi_s)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use chrono::Weekday;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().unwrap()
    }

    fn hours_on(tz: &str) -> HandoffSettings {
        HandoffSettings {
            business_hours_enabled: true,
            timezone: tz.into(),
            ..HandoffSettings::default()
        }
    }

    fn only_day(tz: &str, wd: Weekday, start: &str, end: &str) -> HandoffSettings {
        let mut s = hours_on(tz);
        for (day, _) in crate::domain::settings::WeekHours::DAYS {
            s.business_hours.day_mut(day).enabled = false;
        }
        let d = s.business_hours.day_mut(wd);
        d.enabled = true;
        d.start = start.into();
        d.end = end.into();
        s
    }

    #[test]
    fn disabled_hours_are_always_open() {
        let s = HandoffSettings::default();
        assert!(!s.business_hours_enabled);
        let saturday_night = utc(2026, 11, 21, 23, 0, 0);
        assert!(is_open(&s, saturday_night));
        assert_eq!(next_opening(&s, saturday_night), Some(saturday_night));
    }

    #[test]
    fn utc_boundaries_start_inclusive_end_exclusive() {
        let s = hours_on("UTC");
        let clock = ManualClock::at_default(); // Monday 10:00 UTC
        assert!(is_open(&s, clock.now()));
        let ms = Duration::milliseconds(1);
        let start = utc(2026, 11, 16, 9, 0, 0);
        let end = utc(2026, 11, 16, 17, 0, 0);
        assert!(!is_open(&s, start - ms));
        assert!(is_open(&s, start));
        assert!(is_open(&s, start + ms));
        assert!(is_open(&s, end - ms));
        assert!(!is_open(&s, end));
        assert!(!is_open(&s, end + ms));
    }

    #[test]
    fn next_opening_around_a_utc_day() {
        let s = hours_on("UTC");
        let start = utc(2026, 11, 16, 9, 0, 0);
        let end = utc(2026, 11, 16, 17, 0, 0);
        // Before the start: today's start.
        assert_eq!(next_opening(&s, utc(2026, 11, 16, 0, 0, 0)), Some(start));
        assert_eq!(
            next_opening(&s, start - Duration::milliseconds(1)),
            Some(start)
        );
        // Open: now.
        assert_eq!(next_opening(&s, start), Some(start));
        let mid = utc(2026, 11, 16, 12, 34, 56);
        assert_eq!(next_opening(&s, mid), Some(mid));
        // At/after the end: tomorrow (Tuesday) 09:00.
        assert_eq!(next_opening(&s, end), Some(utc(2026, 11, 17, 9, 0, 0)));
        assert_eq!(
            next_opening(&s, utc(2026, 11, 16, 23, 59, 59)),
            Some(utc(2026, 11, 17, 9, 0, 0))
        );
    }

    #[test]
    fn closed_weekend_opens_monday() {
        let s = hours_on("UTC");
        let clock = ManualClock::new(utc(2026, 11, 20, 17, 0, 0)); // Friday close
        assert!(!is_open(&s, clock.now()));
        let monday = utc(2026, 11, 23, 9, 0, 0);
        assert_eq!(next_opening(&s, clock.now()), Some(monday));
        clock.advance(Duration::days(1)); // Saturday
        assert!(!is_open(&s, clock.now()));
        assert_eq!(next_opening(&s, clock.now()), Some(monday));
        clock.advance(Duration::days(1)); // Sunday
        assert_eq!(next_opening(&s, clock.now()), Some(monday));
    }

    #[test]
    fn no_enabled_day_never_opens() {
        let mut s = hours_on("UTC");
        for (wd, _) in crate::domain::settings::WeekHours::DAYS {
            s.business_hours.day_mut(wd).enabled = false;
        }
        let now = ManualClock::at_default().now();
        assert!(!is_open(&s, now));
        assert_eq!(next_opening(&s, now), None);
    }

    #[test]
    fn invalid_day_hours_never_open_and_are_skipped() {
        let mut s = hours_on("UTC");
        s.business_hours.monday.start = "9am".into();
        s.business_hours.tuesday.start = "18:00".into(); // after its end
        let monday_ten = ManualClock::at_default().now();
        assert!(!is_open(&s, monday_ten));
        assert!(!is_open(&s, utc(2026, 11, 17, 12, 0, 0)));
        assert_eq!(
            next_opening(&s, monday_ten),
            Some(utc(2026, 11, 18, 9, 0, 0))
        );
    }

    #[test]
    fn single_weekly_day_is_found_a_week_ahead() {
        let s = only_day("UTC", Weekday::Mon, "09:00", "17:00");
        // Monday just after closing: the next opening is 7 days later.
        assert_eq!(
            next_opening(&s, utc(2026, 11, 16, 17, 0, 0)),
            Some(utc(2026, 11, 23, 9, 0, 0))
        );
    }

    #[test]
    fn invalid_timezone_reads_as_utc() {
        let mut s = hours_on("Not/AZone");
        assert!(is_open(&s, utc(2026, 11, 16, 9, 0, 0)));
        s.timezone = "UTC".into();
        assert!(is_open(&s, utc(2026, 11, 16, 9, 0, 0)));
    }

    #[test]
    fn new_york_across_the_march_change() {
        // DST starts Sunday 2026-03-08 02:00 EST -> 03:00 EDT.
        let s = hours_on("America/New_York");
        // Friday 2026-03-06, 09:00 EST = 14:00 UTC.
        assert!(!is_open(&s, utc(2026, 3, 6, 13, 59, 59)));
        assert!(is_open(&s, utc(2026, 3, 6, 14, 0, 0)));
        assert!(is_open(&s, utc(2026, 3, 6, 21, 59, 59)));
        assert!(!is_open(&s, utc(2026, 3, 6, 22, 0, 0)));
        // After Friday's close (EST), Monday 09:00 EDT = 13:00 UTC.
        let monday = utc(2026, 3, 9, 13, 0, 0);
        assert_eq!(next_opening(&s, utc(2026, 3, 6, 22, 0, 0)), Some(monday));
        assert!(!is_open(&s, monday - Duration::seconds(1)));
        assert!(is_open(&s, monday));
        assert!(!is_open(&s, utc(2026, 3, 9, 21, 0, 0)));
        assert_eq!(describe_local(&s, monday), "Monday 09:00");
    }

    #[test]
    fn new_york_across_the_november_change() {
        // DST ends Sunday 2026-11-01 02:00 EDT -> 01:00 EST.
        let s = hours_on("America/New_York");
        // Friday 2026-10-30, 09:00 EDT = 13:00 UTC.
        assert!(is_open(&s, utc(2026, 10, 30, 13, 0, 0)));
        assert!(!is_open(&s, utc(2026, 10, 30, 21, 0, 0)));
        let monday = utc(2026, 11, 2, 14, 0, 0); // 09:00 EST
        assert_eq!(next_opening(&s, utc(2026, 10, 30, 21, 0, 0)), Some(monday));
        assert!(!is_open(&s, utc(2026, 11, 2, 13, 0, 0)));
        assert!(is_open(&s, monday));
        assert!(is_open(&s, utc(2026, 11, 2, 21, 59, 59)));
        assert!(!is_open(&s, utc(2026, 11, 2, 22, 0, 0)));
    }

    #[test]
    fn tokyo_local_monday_starts_on_sunday_utc() {
        // Asia/Tokyo is UTC+9: local Monday 00:00 is Sunday 15:00 UTC.
        let s = only_day("Asia/Tokyo", Weekday::Mon, "00:00", "08:00");
        let sunday_utc = utc(2026, 11, 15, 15, 0, 0);
        assert_eq!(sunday_utc.weekday(), Weekday::Sun);
        assert!(!is_open(&s, sunday_utc - Duration::seconds(1)));
        assert!(is_open(&s, sunday_utc));
        assert!(is_open(&s, utc(2026, 11, 15, 22, 59, 59)));
        assert!(!is_open(&s, utc(2026, 11, 15, 23, 0, 0)));
        assert_eq!(
            next_opening(&s, utc(2026, 11, 14, 12, 0, 0)),
            Some(sunday_utc)
        );
        assert_eq!(describe_local(&s, sunday_utc), "Monday 00:00");
        // After the window, the next is a week later.
        assert_eq!(
            next_opening(&s, utc(2026, 11, 15, 23, 0, 0)),
            Some(utc(2026, 11, 22, 15, 0, 0))
        );
    }

    #[test]
    fn tokyo_weekdays_follow_local_time_not_utc() {
        let s = hours_on("Asia/Tokyo");
        // Friday 23:30 UTC is Saturday 08:30 in Tokyo: closed.
        assert!(!is_open(&s, utc(2026, 11, 20, 23, 30, 0)));
        // Friday 10:00 UTC is Friday 19:00 in Tokyo: closed.
        assert!(!is_open(&s, utc(2026, 11, 20, 10, 0, 0)));
        // Sunday 23:59 UTC is Monday 08:59 in Tokyo; Monday 00:00 UTC opens.
        assert!(!is_open(&s, utc(2026, 11, 22, 23, 59, 0)));
        assert!(is_open(&s, utc(2026, 11, 23, 0, 0, 0)));
        assert_eq!(
            next_opening(&s, utc(2026, 11, 20, 10, 0, 0)),
            Some(utc(2026, 11, 23, 0, 0, 0))
        );
    }

    #[test]
    fn start_inside_a_dst_gap_opens_when_the_clock_jumps() {
        // 02:30 does not exist in New York on 2026-03-08; 03:00 EDT = 07:00 UTC.
        let s = only_day("America/New_York", Weekday::Sun, "02:30", "05:00");
        let jump = utc(2026, 3, 8, 7, 0, 0);
        let before = utc(2026, 3, 8, 5, 0, 0); // 00:00 EST
        assert!(!is_open(&s, jump - Duration::seconds(1))); // 01:59:59 EST
        assert!(is_open(&s, jump));
        assert_eq!(next_opening(&s, before), Some(jump));
        assert_eq!(describe_local(&s, jump), "Sunday 03:00");
        // The following Sunday, 02:30 EDT exists: 06:30 UTC.
        assert_eq!(
            next_opening(&s, utc(2026, 3, 8, 9, 0, 0)),
            Some(utc(2026, 3, 15, 6, 30, 0))
        );
    }

    #[test]
    fn window_entirely_inside_a_gap_never_opens_that_day() {
        let s = only_day("America/New_York", Weekday::Sun, "02:10", "02:40");
        assert_eq!(
            next_opening(&s, utc(2026, 3, 8, 5, 0, 0)),
            Some(utc(2026, 3, 15, 6, 10, 0)) // next Sunday, 02:10 EDT
        );
    }

    #[test]
    fn start_inside_a_fold_opens_at_the_earlier_instant() {
        // 01:30 happens twice in New York on 2026-11-01: 05:30 and 06:30 UTC.
        let s = only_day("America/New_York", Weekday::Sun, "01:30", "05:00");
        assert_eq!(
            next_opening(&s, utc(2026, 11, 1, 4, 0, 0)),
            Some(utc(2026, 11, 1, 5, 30, 0))
        );
    }

    #[test]
    fn short_window_in_a_fold_reopens_at_the_second_occurrence() {
        let s = only_day("America/New_York", Weekday::Sun, "01:15", "01:45");
        assert!(is_open(&s, utc(2026, 11, 1, 5, 15, 0))); // 01:15 EDT
        let between = utc(2026, 11, 1, 5, 50, 0); // 01:50 EDT
        assert!(!is_open(&s, between));
        assert_eq!(
            next_opening(&s, between),
            Some(utc(2026, 11, 1, 6, 15, 0)) // 01:15 EST
        );
    }

    #[test]
    fn window_spanning_a_fold_reopens_when_the_clock_falls_back() {
        // Open 00:30-01:30; after 01:30 EDT it closes, then at 02:00 EDT the
        // clock reads 01:00 EST again, inside the window.
        let s = only_day("America/New_York", Weekday::Sun, "00:30", "01:30");
        let after_close = utc(2026, 11, 1, 5, 45, 0); // 01:45 EDT
        assert!(!is_open(&s, after_close));
        let fall_back = utc(2026, 11, 1, 6, 0, 0);
        assert!(is_open(&s, fall_back));
        assert_eq!(next_opening(&s, after_close), Some(fall_back));
    }

    #[test]
    fn describe_local_uses_the_project_zone() {
        let now = ManualClock::at_default().now(); // Monday 10:00 UTC
        assert_eq!(describe_local(&hours_on("UTC"), now), "Monday 10:00");
        assert_eq!(
            describe_local(&hours_on("America/New_York"), now),
            "Monday 05:00"
        );
        assert_eq!(describe_local(&hours_on("Asia/Tokyo"), now), "Monday 19:00");
        assert_eq!(
            describe_local(&hours_on("Pacific/Kiritimati"), now), // UTC+14
            "Tuesday 00:00"
        );
    }

    #[test]
    fn offset_change_is_found_to_the_second() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let changes = offset_changes(tz, utc(2026, 3, 1, 0, 0, 0), utc(2026, 3, 20, 0, 0, 0));
        assert_eq!(changes, vec![utc(2026, 3, 8, 7, 0, 0)]);
        let changes = offset_changes(tz, utc(2026, 10, 25, 0, 0, 0), utc(2026, 11, 10, 0, 0, 0));
        assert_eq!(changes, vec![utc(2026, 11, 1, 6, 0, 0)]);
        assert!(offset_changes(
            chrono_tz::UTC,
            utc(2026, 1, 1, 0, 0, 0),
            utc(2027, 1, 1, 0, 0, 0)
        )
        .is_empty());
    }
}
