//! The server under test: either one already running (`--url`), or the
//! `switchboard` binary next to this one started as a subprocess on
//! 127.0.0.1:0 over a fresh database, stopped at the end. Also what the
//! driver reads about a process from /proc (RSS, CPU time, open-files
//! limits).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use switchboard::config::redact_password as redact;

pub struct Server {
    /// `http://host:port`, no trailing slash.
    pub base: String,
    /// `ws://host:port`.
    pub ws_base: String,
    /// The server's process id when known (a subprocess, or `--server-pid`).
    pub pid: Option<u32>,
    pub admin_email: String,
    pub admin_password: String,
    /// What the report names as the store.
    pub store: String,
    child: Option<Child>,
    tmp: Option<PathBuf>,
}

impl Server {
    /// Use `--url` when given, otherwise start a subprocess.
    pub async fn from_args(args: &crate::args::Args) -> Result<Server, String> {
        if let Some(url) = args.get("url") {
            let base = url.trim_end_matches('/').to_string();
            let ws_base = match base.strip_prefix("http://") {
                Some(rest) => format!("ws://{rest}"),
                None => return Err(format!("--url must be http://host:port, got {url:?}")),
            };
            let (Some(email), Some(password)) =
                (args.get("admin-email"), args.get("admin-password"))
            else {
                return Err("--url needs --admin-email and --admin-password".into());
            };
            let pid = match args.get("server-pid") {
                None => None,
                Some(p) => Some(
                    p.parse()
                        .map_err(|_| format!("--server-pid: {p:?} is not a process id"))?,
                ),
            };
            return Ok(Server {
                store: format!("server at {base}"),
                base,
                ws_base,
                pid,
                admin_email: email.into(),
                admin_password: password.into(),
                child: None,
                tmp: None,
            });
        }
        Self::spawn(args).await
    }

    async fn spawn(args: &crate::args::Args) -> Result<Server, String> {
        let bin = match args.get("server-bin") {
            Some(b) => PathBuf::from(b),
            None => std::env::current_exe()
                .map_err(|e| format!("cannot find this executable: {e}"))?
                .with_file_name("switchboard"),
        };
        if !bin.exists() {
            return Err(format!(
                "no server binary at {} (build it: cargo build --release --bins, or give --server-bin)",
                bin.display()
            ));
        }
        let run = uuid::Uuid::new_v4().simple().to_string();
        let (database_url, store, tmp) = match args.get("database-url") {
            Some(u) => (u.to_string(), redact(u), None),
            None => {
                let dir = std::env::temp_dir().join(format!("switchboard-load-{}", &run[..12]));
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                let url = format!("sqlite://{}", dir.join("load.db").display());
                (url, "sqlite (fresh temp file)".to_string(), Some(dir))
            }
        };
        // Fixed unless given, so that a second run on the same database
        // (where the first admin already exists) still logs in.
        let admin_email = args
            .get("admin-email")
            .unwrap_or("load-admin@switchboard.local")
            .to_string();
        let admin_password = args
            .get("admin-password")
            .unwrap_or("switchboard-load-admin")
            .to_string();
        // The open-files limit is per process: raise the server's soft
        // limit to its hard limit before exec.
        let hard = nofile_limits(None).map(|(_, h)| h).unwrap_or(1024);
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(r#"ulimit -n "$1" 2>/dev/null; exec "$0" serve"#)
            .arg(&bin)
            .arg(hard.to_string())
            .env("SWITCHBOARD_BIND", "127.0.0.1:0")
            .env("DATABASE_URL", &database_url)
            .env("SWITCHBOARD_ADMIN_EMAIL", &admin_email)
            .env("SWITCHBOARD_ADMIN_PASSWORD", &admin_password)
            .env("RUST_LOG", args.get("server-log").unwrap_or("warn"))
            // The harness opens every conversation and signs in every agent
            // from one address and sends thousands of messages a second; it
            // measures the engine, not the limiter: every limit off.
            .env("SWITCHBOARD_RATE_LIMITS", "off")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(w) = args.get("server-workers") {
            cmd.env("SWITCHBOARD_WORKERS", w);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let pid = child.id();
        let stdout = child.stdout.take().ok_or("no stdout of the server")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(addr) = line.strip_prefix("Switchboard listening on http://") {
                        let _ = tx.send(addr.trim().to_string());
                        sent = true;
                        continue;
                    }
                }
                eprintln!("[switchboard] {line}");
            }
        });
        let mut server = Server {
            base: String::new(),
            ws_base: String::new(),
            pid: Some(pid),
            admin_email,
            admin_password,
            store,
            child: Some(child),
            tmp,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        let addr = loop {
            if let Ok(addr) = rx.try_recv() {
                break addr;
            }
            if let Some(c) = server.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    return Err(format!(
                        "the server exited before listening ({status}); DATABASE_URL={}",
                        redact(&database_url)
                    ));
                }
            }
            if Instant::now() > deadline {
                return Err("the server did not print its address within 120 s".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        server.base = format!("http://{addr}");
        server.ws_base = format!("ws://{addr}");
        Ok(server)
    }

    /// SIGTERM (graceful: pending writes are flushed), then SIGKILL after
    /// 15 s. Only the subprocess this driver started.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        if let Some(dir) = self.tmp.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(dir) = self.tmp.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn proc_path(pid: Option<u32>, file: &str) -> String {
    match pid {
        Some(p) => format!("/proc/{p}/{file}"),
        None => format!("/proc/self/{file}"),
    }
}

/// Resident set size in bytes (VmRSS).
pub fn rss_bytes(pid: Option<u32>) -> Option<u64> {
    let text = std::fs::read_to_string(proc_path(pid, "status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// utime + stime in clock ticks.
pub fn cpu_ticks(pid: Option<u32>) -> Option<u64> {
    let text = std::fs::read_to_string(proc_path(pid, "stat")).ok()?;
    // Fields after the command name (which may hold spaces), from field 3.
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 when unknown).
pub fn clock_ticks_per_s() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// CPU time between two tick readings over `wall`, as a percentage of
/// one core.
pub fn cpu_percent(
    before: Option<u64>,
    after: Option<u64>,
    wall: Duration,
    tck: f64,
) -> Option<f64> {
    let (b, a) = (before?, after?);
    let secs = wall.as_secs_f64();
    if secs <= 0.0 {
        return None;
    }
    Some(((a.saturating_sub(b)) as f64 / tck) / secs * 100.0)
}

/// (soft, hard) open-files limits of a process.
pub fn nofile_limits(pid: Option<u32>) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(proc_path(pid, "limits")).ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let nums: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| {
            if w == "unlimited" {
                Some(u64::MAX)
            } else {
                w.parse().ok()
            }
        })
        .collect();
    Some((*nums.first()?, *nums.get(1)?))
}

/// Make sure this process may open `need` files: raise the soft limit to
/// the hard one with `prlimit` (no unsafe code, no extra crate) when it is
/// too low. Errors when even the hard limit is too low.
pub fn ensure_own_nofile(need: u64) -> Result<(), String> {
    let Some((soft, hard)) = nofile_limits(None) else {
        return Ok(());
    };
    if soft >= need {
        return Ok(());
    }
    if hard < need {
        return Err(format!(
            "this run needs about {need} open files but the hard limit (RLIMIT_NOFILE) is {hard}; \
             raise it (as root: ulimit -Hn / prlimit, needs CAP_SYS_RESOURCE) or ask for fewer connections"
        ));
    }
    let me = std::process::id();
    let status = Command::new("prlimit")
        .arg("--pid")
        .arg(me.to_string())
        .arg(format!("--nofile={hard}:{hard}"))
        .status();
    match (status, nofile_limits(None)) {
        (Ok(s), Some((soft, _))) if s.success() && soft >= need => Ok(()),
        _ => Err(format!(
            "this run needs about {need} open files; the soft limit is {soft} and raising it with prlimit failed: \
             run `ulimit -n {hard}` first"
        )),
    }
}

/// CPU ticks per thread of a process: `(tid, name, utime + stime)`.
pub fn thread_ticks(pid: u32) -> Vec<(u32, String, u64)> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in dir.flatten() {
        let Some(tid) = entry
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_string();
        let f: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let ticks = f.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
            + f.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        out.push((tid, name, ticks));
    }
    out
}

/// CPU between two [`thread_ticks`] readings per thread name (threads of
/// one name summed), busiest first, at most `top`: `[{"threads": "name
/// (xN)", "percent": % of one core}]`.
pub fn busiest_threads(
    before: &[(u32, String, u64)],
    after: &[(u32, String, u64)],
    wall: Duration,
    tck: f64,
    top: usize,
) -> Vec<serde_json::Value> {
    let secs = wall.as_secs_f64().max(1e-9);
    let mut by_name: Vec<(String, usize, u64)> = Vec::new();
    for (tid, name, t) in after {
        let t0 = before
            .iter()
            .find(|(b, _, _)| b == tid)
            .map(|(_, _, t0)| *t0)
            .unwrap_or(0);
        let d = t.saturating_sub(t0);
        match by_name.iter_mut().find(|(n, _, _)| n == name) {
            Some(row) => {
                row.1 += 1;
                row.2 += d;
            }
            None => by_name.push((name.clone(), 1, d)),
        }
    }
    by_name.sort_by_key(|row| std::cmp::Reverse(row.2));
    by_name
        .into_iter()
        .filter(|(_, _, d)| *d > 0)
        .take(top)
        .map(|(name, n, d)| {
            let p = (d as f64 / tck) / secs * 100.0;
            serde_json::json!({
                "threads": format!("{name} (x{n})"),
                "percent": (p * 10.0).round() / 10.0,
            })
        })
        .collect()
}
