//! Availability-aware handoff (seed 003 §5.10.2-§5.10.3): whether someone
//! can actually answer a handoff right now, and what the widget should show
//! (the "Talk to Human" button, the offline form, or nothing).

use super::business_hours::is_open;
use super::settings::HandoffSettings;
use crate::string_enum;
use chrono::{DateTime, Utc};
use serde::Serialize;

string_enum! {
    /// Why handoff is unavailable.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum UnavailableReason: serde {
        /// Handoff is switched off for the project.
        Disabled = "disabled",
        /// The project has no agents at all (warn the owner, §5.10.5).
        NoAgents = "no_agents",
        /// Agents exist but none is online.
        AllOffline = "all_offline",
        /// Business hours are on and the schedule is closed.
        OutsideHours = "outside_hours",
    }
}

/// The result of [`check_availability`], in the wire shape of §5.10.2
/// (`reason` is null when handoff is available), the same in the widget's
/// GET and in `availability_changed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Availability {
    pub available: bool,
    pub reason: Option<UnavailableReason>,
    pub show_button: bool,
    pub show_offline_form: bool,
}

impl Availability {
    fn unavailable(reason: UnavailableReason, show_offline_form: bool) -> Self {
        Self {
            available: false,
            reason: Some(reason),
            show_button: false,
            show_offline_form,
        }
    }
}

/// The algorithm of §5.10.2, checks in this order:
///
/// 1. handoff disabled -> `disabled`, nothing shown;
/// 2. no agents in the project -> `no_agents`, nothing shown;
/// 3. business hours on and closed at `now` -> `outside_hours`, offline form;
/// 4. no agent online -> `all_offline`, offline form only if business hours
///    are on;
/// 5. otherwise available; the button shows when `show_human_button` is set
///    and the trigger mode allows it (`manual` or `both`).
pub fn check_availability(
    settings: &HandoffSettings,
    agents_exist: usize,
    agents_online: usize,
    now: DateTime<Utc>,
) -> Availability {
    use UnavailableReason as R;
    if !settings.enabled {
        return Availability::unavailable(R::Disabled, false);
    }
    if agents_exist == 0 {
        return Availability::unavailable(R::NoAgents, false);
    }
    if settings.business_hours_enabled && !is_open(settings, now) {
        return Availability::unavailable(R::OutsideHours, true);
    }
    if agents_online == 0 {
        return Availability::unavailable(R::AllOffline, settings.business_hours_enabled);
    }
    Availability {
        available: true,
        reason: None,
        show_button: settings.show_human_button && settings.allows_button(),
        show_offline_form: false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::domain::settings::TriggerMode;
    use chrono::Duration;
    use serde_json::json;

    /// Monday 10:00 UTC: inside the default 09:00-17:00 schedule.
    fn within_hours() -> DateTime<Utc> {
        ManualClock::at_default().now()
    }

    /// Monday 20:00 UTC: outside it.
    fn outside_hours() -> DateTime<Utc> {
        let clock = ManualClock::at_default();
        clock.advance(Duration::hours(10));
        clock.now()
    }

    fn settings(enabled: bool, hours: bool) -> HandoffSettings {
        HandoffSettings {
            enabled,
            business_hours_enabled: hours,
            show_human_button: true,
            ..HandoffSettings::default()
        }
    }

    fn unavailable(reason: UnavailableReason, form: bool) -> Availability {
        Availability {
            available: false,
            reason: Some(reason),
            show_button: false,
            show_offline_form: form,
        }
    }

    fn button() -> Availability {
        Availability {
            available: true,
            reason: None,
            show_button: true,
            show_offline_form: false,
        }
    }

    #[test]
    fn row_1_handoff_disabled() {
        for (hours, exist, online, now) in [
            (false, 0, 0, within_hours()),
            (true, 3, 3, within_hours()),
            (true, 3, 3, outside_hours()),
        ] {
            assert_eq!(
                check_availability(&settings(false, hours), exist, online, now),
                unavailable(UnavailableReason::Disabled, false)
            );
        }
    }

    #[test]
    fn row_2_no_agents() {
        for (hours, now) in [(false, within_hours()), (true, outside_hours())] {
            assert_eq!(
                check_availability(&settings(true, hours), 0, 0, now),
                unavailable(UnavailableReason::NoAgents, false)
            );
        }
    }

    #[test]
    fn row_3_hours_disabled_nobody_online() {
        assert_eq!(
            check_availability(&settings(true, false), 2, 0, outside_hours()),
            unavailable(UnavailableReason::AllOffline, false)
        );
    }

    #[test]
    fn row_4_hours_disabled_someone_online() {
        for now in [within_hours(), outside_hours()] {
            assert_eq!(
                check_availability(&settings(true, false), 2, 1, now),
                button()
            );
        }
    }

    #[test]
    fn row_5_outside_hours_shows_offline_form() {
        for online in [0, 1] {
            assert_eq!(
                check_availability(&settings(true, true), 2, online, outside_hours()),
                unavailable(UnavailableReason::OutsideHours, true)
            );
        }
    }

    #[test]
    fn row_6_within_hours_nobody_online() {
        assert_eq!(
            check_availability(&settings(true, true), 2, 0, within_hours()),
            unavailable(UnavailableReason::AllOffline, true)
        );
    }

    #[test]
    fn row_7_within_hours_someone_online() {
        assert_eq!(
            check_availability(&settings(true, true), 2, 2, within_hours()),
            button()
        );
    }

    #[test]
    fn button_needs_the_setting_and_a_mode_that_allows_it() {
        let mut s = settings(true, false);
        for (mode, show, expected) in [
            (TriggerMode::Both, true, true),
            (TriggerMode::Manual, true, true),
            (TriggerMode::Auto, true, false),
            (TriggerMode::Both, false, false),
            (TriggerMode::Manual, false, false),
        ] {
            s.trigger_mode = mode;
            s.show_human_button = show;
            let a = check_availability(&s, 1, 1, within_hours());
            assert!(a.available);
            assert_eq!(a.reason, None);
            assert_eq!(a.show_button, expected, "{mode} show={show}");
            assert!(!a.show_offline_form);
        }
    }

    #[test]
    fn wire_shape() {
        let a = check_availability(&settings(true, true), 2, 2, outside_hours());
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({
                "available": false,
                "reason": "outside_hours",
                "show_button": false,
                "show_offline_form": true
            })
        );
        let a = check_availability(&settings(true, false), 1, 1, within_hours());
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({ "available": true, "reason": null, "show_button": true, "show_offline_form": false })
        );
        for (reason, name) in [
            (UnavailableReason::Disabled, "disabled"),
            (UnavailableReason::NoAgents, "no_agents"),
            (UnavailableReason::AllOffline, "all_offline"),
            (UnavailableReason::OutsideHours, "outside_hours"),
        ] {
            assert_eq!(serde_json::to_value(reason).unwrap(), json!(name));
        }
    }
}
