//! Latency samples and their percentiles, in microseconds.

#[derive(Debug, Default, Clone)]
pub struct Samples {
    micros: Vec<u64>,
}

#[derive(Debug, Clone, Copy, serde::Serialize, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Samples {
    pub fn push(&mut self, d: std::time::Duration) {
        self.micros
            .push(d.as_micros().min(u128::from(u64::MAX)) as u64);
    }

    pub fn len(&self) -> usize {
        self.micros.len()
    }

    /// Nearest-rank percentiles.
    pub fn summary(&mut self) -> Summary {
        self.micros.sort_unstable();
        let n = self.micros.len();
        let at = |p: f64| -> f64 {
            if n == 0 {
                return 0.0;
            }
            let rank = ((p / 100.0) * n as f64).ceil().max(1.0) as usize;
            self.micros[rank.min(n) - 1] as f64 / 1000.0
        };
        Summary {
            count: n,
            p50_ms: at(50.0),
            p95_ms: at(95.0),
            p99_ms: at(99.0),
            max_ms: self.micros.last().map_or(0.0, |m| *m as f64 / 1000.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn nearest_rank_percentiles() {
        let mut s = Samples::default();
        for ms in 1..=100 {
            s.push(Duration::from_millis(ms));
        }
        let sum = s.summary();
        assert_eq!(sum.count, 100);
        assert_eq!(sum.p50_ms, 50.0);
        assert_eq!(sum.p95_ms, 95.0);
        assert_eq!(sum.p99_ms, 99.0);
        assert_eq!(sum.max_ms, 100.0);
        assert_eq!(Samples::default().summary().p99_ms, 0.0);
    }
}
