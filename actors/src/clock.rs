//! The Clock port: every timeout in the engine reads time from here, so tests
//! can drive hours of time in milliseconds.

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// Wall-clock time, truncated to milliseconds (the wire format's precision),
/// so that what is stored and what is sent compare equal.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        truncate_ms(Utc::now())
    }
}

/// A clock that only moves when told to. Shared by cloning.
#[derive(Debug, Clone)]
pub struct ManualClock {
    millis: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            millis: Arc::new(AtomicI64::new(start.timestamp_millis())),
        }
    }

    /// A fixed, arbitrary start: Monday 2026-11-16 10:00 UTC.
    pub fn at_default() -> Self {
        Self::new(
            Utc.with_ymd_and_hms(2026, 11, 16, 10, 0, 0)
                .single()
                .unwrap_or_default(),
        )
    }

    pub fn advance(&self, by: Duration) {
        self.millis
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }

    pub fn set(&self, to: DateTime<Utc>) {
        self.millis.store(to.timestamp_millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.millis.load(Ordering::SeqCst))
            .single()
            .unwrap_or_default()
    }
}

pub fn truncate_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(t.timestamp_millis())
        .single()
        .unwrap_or(t)
}

pub type SharedClock = Arc<dyn Clock>;
