//! What the process costs, read from /proc (Linux; elsewhere the figures are
//! absent): CPU seconds used and resident memory.

/// User + system CPU seconds of this process so far.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some((utime + stime) / 100.0)
}

/// Resident set size in MiB.
pub fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU use over a span, in percent of one core (200 = both cores busy).
pub struct CpuMeter {
    cpu: Option<f64>,
    at: std::time::Instant,
}

impl CpuMeter {
    pub fn start() -> Self {
        CpuMeter {
            cpu: cpu_seconds(),
            at: std::time::Instant::now(),
        }
    }

    pub fn percent(&self) -> Option<f64> {
        let wall = self.at.elapsed().as_secs_f64();
        let used = cpu_seconds()? - self.cpu?;
        (wall > 0.0).then(|| (used / wall * 1000.0).round() / 10.0)
    }
}
