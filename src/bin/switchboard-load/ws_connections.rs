//! `ws connections`: C customer WebSockets, mostly idle. Each subscribes to
//! one of a few conversations (`--conversations`, default 10: creating C
//! conversations would measure the database, not the connections) and to
//! the project's widget channel, then sends a `ping` op every
//! `--ping-seconds` (30) as its heartbeat (spread evenly over the interval)
//! and answers the server's WebSocket pings.
//!
//! Sockets are spread over `--sources K` loopback source addresses
//! (127.0.0.1 .. 127.0.0.K), each with its own ephemeral port range, so a run
//! can pass the ~28k ports of one source address.
//!
//! Figures: the server's RSS before opening and after all are open
//! (memory_per_connection_bytes = delta / C), the server's CPU over the idle
//! window (`--seconds`, 10) as a % of one core, how fast they opened. RSS
//! and CPU need the server's pid: a subprocess, or `--server-pid` with
//! `--url`. Checks: every connection opened, is still open at the end, and
//! answered every ping.

use super::api::Api;
use super::server::{self, Server};
use super::socket::Sock;
use crate::args::Args;
use crate::report::Report;
use crate::stats::Samples;
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

const OP_TIMEOUT: Duration = Duration::from_secs(60);

pub async fn run(args: &Args, server: &Server) -> Result<Report, String> {
    let c: usize = args.num("connections", 1000)?;
    let seconds: f64 = args.num("seconds", 10.0)?;
    let sources: u8 = args.num("sources", 1)?;
    let ping_s: f64 = args.num("ping-seconds", 30.0)?;
    let convs_n: usize = args.num("conversations", c.clamp(1, 10))?;
    let conc: usize = args.num("open-concurrency", 128)?;
    if c == 0 || seconds <= 0.0 || ping_s <= 0.0 || convs_n == 0 {
        return Err(
            "--connections, --seconds, --ping-seconds, --conversations must be above 0".into(),
        );
    }
    if !(1..=254).contains(&sources) {
        return Err("--sources must be 1..=254".into());
    }
    let mut report = Report::new(
        "ws",
        "connections",
        &server.store,
        json!({
            "connections": c, "seconds": seconds, "sources": sources,
            "ping_seconds": ping_s, "conversations": convs_n, "url": server.base,
        }),
    );
    // Open files: this process holds C sockets, the server as many.
    server::ensure_own_nofile(c as u64 + 256)?;
    if let Some(pid) = server.pid {
        if let Some((soft, _)) = server::nofile_limits(Some(pid)) {
            if soft < c as u64 + 64 {
                return Err(format!(
                    "the server may open only {soft} files (RLIMIT_NOFILE), too few for {c} connections"
                ));
            }
        }
    }
    if server.pid.is_none() {
        report.figure(
            "note",
            "the server's RSS and CPU are not measured: it is not a subprocess (give --server-pid with --url)",
        );
    }

    // ----- setup -------------------------------------------------------------
    let api = Api::new(&server.base);
    let admin = super::admin_login(&api, server).await?;
    let run = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
    let project = api
        .project_with_handoff(&admin, &format!("load connections {run}"))
        .await?;
    let convs: Vec<(String, String)> = super::bounded((0..convs_n).collect(), 16, |i| {
        let (api, project, run) = (&api, &project, &run);
        async move {
            api.widget_conversation(project, &format!("load-visitor-{run}-{i}"))
                .await
        }
    })
    .await?;
    let clients: Vec<awc::Client> = (0..sources)
        .map(|j| {
            let mut connector = awc::Connector::new()
                .limit(0)
                .timeout(Duration::from_secs(30));
            if sources > 1 {
                connector = connector.local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + j)));
            }
            awc::Client::builder()
                .connector(connector)
                .timeout(Duration::from_secs(30))
                .finish()
        })
        .collect();
    let widget_channel = format!("project:{}:widget", project.id);

    // ----- open ----------------------------------------------------------------
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss0 = server::rss_bytes(server.pid);
    let own_rss0 = server::rss_bytes(None);
    let open_start = Instant::now();
    let opened: Vec<(Result<Sock, String>, Duration)> =
        super::bounded((0..c).collect(), conc, |i| {
            let client = &clients[i % sources as usize];
            let (token, conv_id) = {
                let (id, token) = &convs[i % convs_n];
                (token.as_str(), id.as_str())
            };
            let (ws_base, widget_channel) = (server.ws_base.as_str(), widget_channel.as_str());
            async move {
                let t = Instant::now();
                let r = async {
                    let s = Sock::connect(client, ws_base, token, i, None).await?;
                    s.subscribe(&format!("conversation:{conv_id}"), None, OP_TIMEOUT)
                        .await?;
                    s.subscribe(widget_channel, None, OP_TIMEOUT).await?;
                    Ok::<_, String>(s)
                }
                .await;
                Ok((r, t.elapsed()))
            }
        })
        .await?;
    let open_s = open_start.elapsed().as_secs_f64();
    let mut socks = Vec::with_capacity(c);
    let mut open_failures = Vec::new();
    let mut connect = Samples::default();
    for (r, d) in opened {
        match r {
            Ok(s) => {
                connect.push(d);
                socks.push(s);
            }
            Err(e) => open_failures.push(e),
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss1 = server::rss_bytes(server.pid);
    let own_rss1 = server::rss_bytes(None);

    // ----- idle, with heartbeats -------------------------------------------------
    let tck = server::clock_ticks_per_s();
    let ticks0 = server::cpu_ticks(server.pid);
    let idle_start = Instant::now();
    let idle = Duration::from_secs_f64(seconds);
    let mut pinged: u64 = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let live = socks.len().max(1) as f64;
    loop {
        tick.tick().await;
        let t = idle_start.elapsed();
        if t >= idle {
            break;
        }
        // Each socket pings once per interval, the sockets evenly spread.
        let due = (t.as_secs_f64() / ping_s * live) as u64;
        while pinged < due && !socks.is_empty() {
            socks[(pinged % socks.len() as u64) as usize].ping();
            pinged += 1;
        }
    }
    let idle_wall = idle_start.elapsed();
    let cpu = server::cpu_percent(ticks0, server::cpu_ticks(server.pid), idle_wall, tck);

    // A last ping on every socket, then wait for every pong (bounded).
    for s in &socks {
        s.ping();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline
        && socks
            .iter()
            .any(|s| s.ended().is_none() && s.pongs() < s.pings_sent())
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // ----- figures and checks ------------------------------------------------------
    let per_conn = match (rss0, rss1) {
        (Some(a), Some(b)) => Some((b as f64 - a as f64) / c as f64),
        _ => None,
    };
    report.figure("connections", c);
    report.figure("opened", socks.len());
    report.figure("sources", sources);
    report.figure("open_s", round3(open_s));
    report.figure("opened_per_s", round1(socks.len() as f64 / open_s));
    report.figure("open_latency", connect.summary());
    report.figure("server_rss_before_bytes", rss0);
    report.figure("server_rss_after_bytes", rss1);
    report.figure("memory_per_connection_bytes", per_conn.map(round1));
    report.figure("idle_s", round3(idle_wall.as_secs_f64()));
    report.figure(
        "server_cpu_percent_at_rest",
        cpu.map(|x| (x * 100.0).round() / 100.0),
    );
    report.figure("heartbeat_pings_in_idle", pinged);
    report.figure(
        "pings_sent",
        socks.iter().map(Sock::pings_sent).sum::<u64>(),
    );
    report.figure("harness_rss_bytes", own_rss1);
    report.figure(
        "harness_memory_per_connection_bytes",
        match (own_rss0, own_rss1) {
            (Some(a), Some(b)) => Some(round1((b as f64 - a as f64) / c as f64)),
            _ => None,
        },
    );

    report.check(
        "every connection opened",
        open_failures.is_empty(),
        format!(
            "{} of {c} opened{}",
            socks.len(),
            open_failures
                .first()
                .map(|e| format!("; {} failed, first: {e}", open_failures.len()))
                .unwrap_or_default()
        ),
    );
    let ended: Vec<String> = socks
        .iter()
        .filter_map(|s| s.ended().map(|w| format!("socket {}: {w}", s.idx)))
        .collect();
    report.check(
        "every connection still open",
        ended.is_empty() && !socks.is_empty(),
        format!(
            "{} open at the end, {} ended{}",
            socks.len() - ended.len(),
            ended.len(),
            ended
                .first()
                .map(|e| format!("; first: {e}"))
                .unwrap_or_default()
        ),
    );
    let unanswered: Vec<String> = socks
        .iter()
        .filter(|s| s.pongs() != s.pings_sent())
        .map(|s| {
            format!(
                "socket {}: {} pongs to {} pings",
                s.idx,
                s.pongs(),
                s.pings_sent()
            )
        })
        .collect();
    report.check(
        "every ping answered",
        unanswered.is_empty(),
        format!(
            "{} pings, {} pongs; {} sockets short{}",
            socks.iter().map(Sock::pings_sent).sum::<u64>(),
            socks.iter().map(Sock::pongs).sum::<u64>(),
            unanswered.len(),
            unanswered
                .first()
                .map(|e| format!("; first: {e}"))
                .unwrap_or_default()
        ),
    );
    for s in &socks {
        s.close();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(report)
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
