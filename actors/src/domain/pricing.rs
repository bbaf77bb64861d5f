//! The pricing of billable sessions (seed 000, "Pricing Tiers" and
//! "Solver Earnings"): the three tiers with their base price, included time
//! and overage rate, the charge for a session of a given length, its split
//! between the solver and the platform, and the tier recommended for an
//! elapsed time. Everything is integer cents and whole seconds.

use crate::string_enum;
use serde::{Deserialize, Serialize};

/// The solver's share of the total charge when the project sets none
/// (seed 000 `DEFAULT_SOLVER_REVENUE_SHARE = 65`).
pub const DEFAULT_SOLVER_SHARE_PERCENT: u32 = 65;

string_enum! {
    /// A pricing tier, chosen by the solver at completion. Serialized in
    /// snake_case, exactly as stored and sent on the wire. The default is
    /// `standard`, a session's tier until the solver picks one at completion
    /// (the seed's `sessions.tier` column defaults to it).
    #[derive(
        Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord,
    )]
    pub enum Tier: serde {
        /// "Quick Assist": 69.00 for 20 minutes, then 3.00 a minute.
        Quick = "quick",
        /// "Standard Solve": 129.00 for 45 minutes, then 2.50 a minute.
        #[default]
        Standard = "standard",
        /// "Deep Dive": 219.00 for 90 minutes, then 2.00 a minute.
        Extended = "extended",
    }
}

/// The figures of one tier (seed 000 `TIER_CONFIG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierConfig {
    /// Charged for any session on this tier, in cents.
    pub base_price: u64,
    /// Time covered by the base price, in seconds.
    pub included_seconds: u64,
    /// Charged per started minute beyond the included time, in cents.
    pub overage_rate: u64,
}

impl Tier {
    /// The name shown to people (seed 000 pricing table).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Quick => "Quick Assist",
            Self::Standard => "Standard Solve",
            Self::Extended => "Deep Dive",
        }
    }

    /// This tier's price, included time and overage rate.
    pub fn config(&self) -> TierConfig {
        match self {
            Self::Quick => TierConfig {
                base_price: 6900,
                included_seconds: 20 * 60,
                overage_rate: 300,
            },
            Self::Standard => TierConfig {
                base_price: 12900,
                included_seconds: 45 * 60,
                overage_rate: 250,
            },
            Self::Extended => TierConfig {
                base_price: 21900,
                included_seconds: 90 * 60,
                overage_rate: 200,
            },
        }
    }

    /// Base price in cents.
    pub fn base_price(&self) -> u64 {
        self.config().base_price
    }

    /// Included time in seconds; also the session's `tier_limit_seconds`.
    pub fn included_seconds(&self) -> u64 {
        self.config().included_seconds
    }

    /// Cents per started overage minute.
    pub fn overage_rate(&self) -> u64 {
        self.config().overage_rate
    }
}

/// The charge for one completed session, all in integer cents. Serialized
/// as the `pricing` object of `POST /api/sessions/:id/complete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pricing {
    /// The tier's base price.
    pub base_price: u64,
    /// Started minutes beyond the tier's included time.
    pub overage_minutes: u64,
    /// `overage_minutes` times the tier's overage rate.
    pub overage_amount: u64,
    /// `base_price + overage_amount`: what the customer pays.
    pub total_charged: u64,
    /// `floor(total_charged * share / 100)`.
    pub solver_earnings: u64,
    /// The rest: `total_charged - solver_earnings`.
    pub platform_fee: u64,
}

/// Started minutes beyond `tier`'s included time: `ceil((elapsed -
/// included) / 60)` when `elapsed > included`, else 0. So on the quick tier
/// 20:00 is 0 minutes, 20:01 is 1 and 21:00 is still 1.
pub fn overage_minutes(tier: Tier, elapsed_seconds: u64) -> u64 {
    elapsed_seconds
        .saturating_sub(tier.included_seconds())
        .div_ceil(60)
}

/// The charge for a session of `elapsed_seconds` on `tier`, with the solver
/// taking `solver_share_percent` of it ([`DEFAULT_SOLVER_SHARE_PERCENT`]
/// unless the project sets another).
///
/// - `overage_minutes` per [`overage_minutes`];
/// - `overage_amount = overage_minutes * overage_rate`;
/// - `total_charged = base_price + overage_amount`;
/// - `solver_earnings = floor(total_charged * share / 100)`: the solver never
///   gets a fraction of a cent more than the share;
/// - `platform_fee = total_charged - solver_earnings`, so the two always add
///   up to the total.
///
/// A share above 100 is treated as 100 (the platform fee is never negative).
/// Absurdly long sessions saturate at `u64::MAX` cents instead of wrapping.
pub fn price(tier: Tier, elapsed_seconds: u64, solver_share_percent: u32) -> Pricing {
    let config = tier.config();
    let share = u128::from(solver_share_percent.min(100));
    let overage_minutes = overage_minutes(tier, elapsed_seconds);
    let overage_amount = overage_minutes.saturating_mul(config.overage_rate);
    let total_charged = config.base_price.saturating_add(overage_amount);
    // In u128 the product cannot overflow, and the quotient is at most
    // `total_charged`, so it always fits back into u64.
    let solver_earnings =
        u64::try_from(u128::from(total_charged) * share / 100).unwrap_or(total_charged);
    Pricing {
        base_price: config.base_price,
        overage_minutes,
        overage_amount,
        total_charged,
        solver_earnings,
        platform_fee: total_charged - solver_earnings,
    }
}

/// The tier recommended for a session of `elapsed_seconds`, by seed 000's
/// `getRecommendedTier` exactly: the shortest tier whose included time
/// covers the session, with the bounds inclusive, and `extended` beyond
/// that.
///
/// | elapsed             | recommended |
/// |---------------------|-------------|
/// | 0 ..= 20:00         | `quick`     |
/// | 20:01 ..= 45:00     | `standard`  |
/// | 45:01 and longer    | `extended`  |
///
/// This is "the smallest tier with no overage", not always the lowest
/// total: 25 minutes on `quick` (69 + 5 x 3 = 84.00) costs less than
/// `standard` (129.00). The solver sees every tier's price and may choose
/// any of them.
pub fn recommended_tier(elapsed_seconds: u64) -> Tier {
    if elapsed_seconds <= Tier::Quick.included_seconds() {
        Tier::Quick
    } else if elapsed_seconds <= Tier::Standard.included_seconds() {
        Tier::Standard
    } else {
        Tier::Extended
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const MIN: u64 = 60;

    /// Seed 000's `calculateSessionPricing`, written out independently with
    /// the table's figures as literals, for the comparison loops.
    fn reference(tier: Tier, elapsed: u64, share: u64) -> (u64, u64, u64, u64) {
        let (base, included, rate) = match tier {
            Tier::Quick => (6900, 1200, 300),
            Tier::Standard => (12900, 2700, 250),
            Tier::Extended => (21900, 5400, 200),
        };
        let over = elapsed.saturating_sub(included);
        let minutes = over / 60 + u64::from(over % 60 != 0);
        let total = base + minutes * rate;
        let solver = total * share / 100;
        (minutes, total, solver, total - solver)
    }

    #[test]
    fn tier_table_matches_seed() {
        assert_eq!(
            Tier::Quick.config(),
            TierConfig {
                base_price: 6900,
                included_seconds: 1200,
                overage_rate: 300
            }
        );
        assert_eq!(
            Tier::Standard.config(),
            TierConfig {
                base_price: 12900,
                included_seconds: 2700,
                overage_rate: 250
            }
        );
        assert_eq!(
            Tier::Extended.config(),
            TierConfig {
                base_price: 21900,
                included_seconds: 5400,
                overage_rate: 200
            }
        );
        assert_eq!(Tier::Quick.base_price(), 6900);
        assert_eq!(Tier::Standard.included_seconds(), 45 * MIN);
        assert_eq!(Tier::Extended.overage_rate(), 200);
        assert_eq!(Tier::default(), Tier::Standard);
    }

    #[test]
    fn names_parse_serde_and_labels() {
        let names = ["quick", "standard", "extended"];
        let labels = ["Quick Assist", "Standard Solve", "Deep Dive"];
        for ((tier, name), label) in Tier::ALL.into_iter().zip(names).zip(labels) {
            assert_eq!(tier.as_str(), name);
            assert_eq!(tier.to_string(), name);
            assert_eq!(tier.label(), label);
            assert_eq!(Tier::parse(name), Some(tier));
            assert_eq!(serde_json::to_value(tier).unwrap(), serde_json::json!(name));
            assert_eq!(
                serde_json::from_value::<Tier>(serde_json::json!(name)).unwrap(),
                tier
            );
        }
        assert_eq!(Tier::parse("Quick"), None);
        assert_eq!(Tier::parse("deep_dive"), None);
        assert_eq!(Tier::parse(""), None);
        assert!(serde_json::from_value::<Tier>(serde_json::json!("premium")).is_err());
    }

    #[test]
    fn quick_boundaries_20_00_and_20_01() {
        let at = price(Tier::Quick, 20 * MIN, 65);
        assert_eq!(at.overage_minutes, 0);
        assert_eq!(at.overage_amount, 0);
        assert_eq!(at.total_charged, 6900);
        let over = price(Tier::Quick, 20 * MIN + 1, 65);
        assert_eq!(over.overage_minutes, 1);
        assert_eq!(over.overage_amount, 300);
        assert_eq!(over.total_charged, 7200);
        // A whole started minute is charged: 21:00 is still one minute,
        // 21:01 is two.
        assert_eq!(overage_minutes(Tier::Quick, 21 * MIN), 1);
        assert_eq!(overage_minutes(Tier::Quick, 21 * MIN + 1), 2);
        assert_eq!(overage_minutes(Tier::Quick, 20 * MIN - 1), 0);
    }

    #[test]
    fn standard_boundaries_45_00_and_45_01() {
        let at = price(Tier::Standard, 45 * MIN, 65);
        assert_eq!((at.overage_minutes, at.total_charged), (0, 12900));
        let over = price(Tier::Standard, 45 * MIN + 1, 65);
        assert_eq!((over.overage_minutes, over.total_charged), (1, 13150));
        assert_eq!(over.overage_amount, 250);
        assert_eq!(overage_minutes(Tier::Standard, 46 * MIN), 1);
        assert_eq!(overage_minutes(Tier::Standard, 46 * MIN + 1), 2);
    }

    #[test]
    fn extended_boundaries_90_00_and_90_01() {
        let at = price(Tier::Extended, 90 * MIN, 65);
        assert_eq!((at.overage_minutes, at.total_charged), (0, 21900));
        let over = price(Tier::Extended, 90 * MIN + 1, 65);
        assert_eq!((over.overage_minutes, over.total_charged), (1, 22100));
        assert_eq!(over.overage_amount, 200);
        assert_eq!(overage_minutes(Tier::Extended, 91 * MIN + 1), 2);
    }

    #[test]
    fn zero_seconds_is_the_base_price() {
        for tier in Tier::ALL {
            let p = price(tier, 0, 65);
            assert_eq!(p.base_price, tier.base_price());
            assert_eq!(p.overage_minutes, 0);
            assert_eq!(p.overage_amount, 0);
            assert_eq!(p.total_charged, tier.base_price());
        }
    }

    #[test]
    fn seed_example_standard_without_overage() {
        // Seed 000: total 129.00, solver 83.85, platform 45.15.
        let p = price(Tier::Standard, 30 * MIN, DEFAULT_SOLVER_SHARE_PERCENT);
        assert_eq!(
            p,
            Pricing {
                base_price: 12900,
                overage_minutes: 0,
                overage_amount: 0,
                total_charged: 12900,
                solver_earnings: 8385,
                platform_fee: 4515,
            }
        );
    }

    #[test]
    fn solver_share_rounds_down_to_the_cent() {
        // 6900 * 65 / 100 = 4485 exactly; 7200 * 65% = 4680;
        // quick with 7 overage minutes: 8000 * 65% = 5200.
        assert_eq!(price(Tier::Quick, 0, 65).solver_earnings, 4485);
        assert_eq!(price(Tier::Quick, 0, 65).platform_fee, 2415);
        // 13150 * 65 / 100 = 8547.5 -> 8547, platform 4603.
        let p = price(Tier::Standard, 45 * MIN + 1, 65);
        assert_eq!((p.solver_earnings, p.platform_fee), (8547, 4603));
        // 13150 * 33 / 100 = 4339.5 -> 4339.
        assert_eq!(
            price(Tier::Standard, 45 * MIN + 1, 33).solver_earnings,
            4339
        );
        // 22100 * 1 / 100 = 221.
        assert_eq!(price(Tier::Extended, 90 * MIN + 1, 1).solver_earnings, 221);
    }

    #[test]
    fn share_0_65_100_and_above_100() {
        for tier in Tier::ALL {
            for elapsed in [0, 17 * MIN, 95 * MIN + 30, 600 * MIN] {
                let none = price(tier, elapsed, 0);
                assert_eq!(none.solver_earnings, 0);
                assert_eq!(none.platform_fee, none.total_charged);

                let all = price(tier, elapsed, 100);
                assert_eq!(all.solver_earnings, all.total_charged);
                assert_eq!(all.platform_fee, 0);

                let default = price(tier, elapsed, 65);
                assert_eq!(default.solver_earnings, default.total_charged * 65 / 100);

                // Out-of-range shares are clamped, never a negative fee.
                assert_eq!(price(tier, elapsed, 101), all);
                assert_eq!(price(tier, elapsed, u32::MAX), all);
            }
        }
    }

    #[test]
    fn many_durations_on_every_tier_match_the_seed_formula() {
        for tier in Tier::ALL {
            for elapsed in (0..=4 * 3600).step_by(7) {
                for share in [0, 1, 33, 50, 65, 99, 100] {
                    let p = price(tier, elapsed, share);
                    let (minutes, total, solver, platform) =
                        reference(tier, elapsed, u64::from(share));
                    assert_eq!(p.base_price, tier.base_price(), "{tier} {elapsed}s");
                    assert_eq!(p.overage_minutes, minutes, "{tier} {elapsed}s");
                    assert_eq!(
                        p.overage_amount,
                        minutes * tier.overage_rate(),
                        "{tier} {elapsed}s"
                    );
                    assert_eq!(p.total_charged, total, "{tier} {elapsed}s");
                    assert_eq!(p.solver_earnings, solver, "{tier} {elapsed}s {share}%");
                    assert_eq!(p.platform_fee, platform, "{tier} {elapsed}s {share}%");
                }
            }
        }
    }

    #[test]
    fn property_total_splits_exactly_and_solver_is_the_floor() {
        // Thousands of durations, including every second of the first
        // two hours and a spread of long ones, for every tier and share.
        let durations = (0..=7200u64).chain((0..2000u64).map(|i| 7200 + i * 1237));
        let mut checked = 0u64;
        for elapsed in durations {
            for tier in Tier::ALL {
                for share in [0u32, 65, 100, 37] {
                    let p = price(tier, elapsed, share);
                    assert_eq!(p.solver_earnings + p.platform_fee, p.total_charged);
                    assert_eq!(p.base_price + p.overage_amount, p.total_charged);
                    // floor: solver*100 <= total*share < (solver+1)*100
                    let scaled = p.total_charged * u64::from(share);
                    assert!(
                        p.solver_earnings * 100 <= scaled,
                        "{tier} {elapsed} {share}"
                    );
                    assert!(
                        scaled < (p.solver_earnings + 1) * 100,
                        "{tier} {elapsed} {share}"
                    );
                    // overage minutes: the smallest whole number of minutes
                    // covering the time beyond the included time.
                    let over = elapsed.saturating_sub(tier.included_seconds());
                    assert!(p.overage_minutes * 60 >= over);
                    if p.overage_minutes > 0 {
                        assert!((p.overage_minutes - 1) * 60 < over);
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 100_000);
    }

    #[test]
    fn total_never_decreases_with_time() {
        for tier in Tier::ALL {
            let mut last = 0;
            for elapsed in 0..=3 * 3600 {
                let total = price(tier, elapsed, 65).total_charged;
                assert!(total >= last, "{tier} at {elapsed}s");
                last = total;
            }
        }
    }

    #[test]
    fn very_long_sessions() {
        // Ten hours on quick: 600 - 20 = 580 overage minutes.
        let p = price(Tier::Quick, 10 * 3600, 65);
        assert_eq!(p.overage_minutes, 580);
        assert_eq!(p.total_charged, 6900 + 580 * 300);
        // A week on extended.
        let week = 7 * 24 * 3600;
        let p = price(Tier::Extended, week, 65);
        assert_eq!(p.overage_minutes, (week - 5400) / 60);
        assert_eq!(p.total_charged, 21900 + (week - 5400) / 60 * 200);
        assert_eq!(p.solver_earnings + p.platform_fee, p.total_charged);
        // Nonsense lengths saturate instead of wrapping or panicking.
        let p = price(Tier::Quick, u64::MAX, 65);
        assert_eq!(p.overage_minutes, (u64::MAX - 1200).div_ceil(60));
        assert_eq!(p.total_charged, u64::MAX);
        assert_eq!(p.overage_amount, u64::MAX);
        assert_eq!(
            p.solver_earnings,
            u64::MAX / 100 * 65 + (u64::MAX % 100) * 65 / 100
        );
        assert_eq!(p.solver_earnings + p.platform_fee, u64::MAX);
    }

    #[test]
    fn recommended_tier_follows_the_seed_rule() {
        assert_eq!(recommended_tier(0), Tier::Quick);
        assert_eq!(recommended_tier(1), Tier::Quick);
        assert_eq!(recommended_tier(20 * MIN), Tier::Quick);
        assert_eq!(recommended_tier(20 * MIN + 1), Tier::Standard);
        assert_eq!(recommended_tier(45 * MIN), Tier::Standard);
        assert_eq!(recommended_tier(45 * MIN + 1), Tier::Extended);
        assert_eq!(recommended_tier(90 * MIN), Tier::Extended);
        assert_eq!(recommended_tier(90 * MIN + 1), Tier::Extended);
        assert_eq!(recommended_tier(u64::MAX), Tier::Extended);
    }

    #[test]
    fn recommended_tier_is_the_smallest_without_overage() {
        for elapsed in 0..=3 * 3600 {
            let tier = recommended_tier(elapsed);
            let smallest_covering = Tier::ALL
                .into_iter()
                .find(|t| price(*t, elapsed, 65).overage_minutes == 0)
                .unwrap_or(Tier::Extended);
            assert_eq!(tier, smallest_covering, "{elapsed}s");
        }
    }

    #[test]
    fn recommended_is_not_always_the_lowest_total() {
        // Documented on `recommended_tier`: the seed's rule ignores that a
        // little overage on a smaller tier can cost less.
        let elapsed = 25 * MIN;
        assert_eq!(recommended_tier(elapsed), Tier::Standard);
        assert_eq!(price(Tier::Quick, elapsed, 65).total_charged, 8400);
        assert_eq!(price(Tier::Standard, elapsed, 65).total_charged, 12900);
    }

    #[test]
    fn pricing_serializes_with_the_wire_field_names() {
        let p = price(Tier::Quick, 20 * MIN + 1, 65);
        assert_eq!(
            serde_json::to_value(p).unwrap(),
            serde_json::json!({
                "base_price": 6900,
                "overage_minutes": 1,
                "overage_amount": 300,
                "total_charged": 7200,
                "solver_earnings": 4680,
                "platform_fee": 2520,
            })
        );
    }
}
