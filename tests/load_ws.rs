//! The `ws` driver of the load harness, briefly, so it cannot rot: the
//! built `switchboard-load` starts the `switchboard` built next to it,
//! drives it with real WebSocket clients, and must exit 0 with every
//! invariant holding. No speed is asserted.

use serde_json::Value;
use std::process::Command;

fn run_harness(args: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard-load"))
        .args(args)
        .arg("--json")
        .arg(&json)
        .output()
        .expect("switchboard-load runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "switchboard-load {args:?} exited {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status.code()
    );
    let text = std::fs::read_to_string(&json).expect("the JSON report is written");
    let report: Value = serde_json::from_str(&text).expect("the report is JSON");
    let invariants = report["invariants"].as_array().expect("invariants");
    assert!(!invariants.is_empty(), "no invariant checked: {report:#}");
    for c in invariants {
        assert_eq!(
            c["ok"],
            Value::Bool(true),
            "invariant broken: {c}\n{report:#}"
        );
    }
    report
}

fn figure(report: &Value, name: &str) -> f64 {
    report["figures"][name]
        .as_f64()
        .unwrap_or_else(|| panic!("figure {name} missing: {report:#}"))
}

#[test]
fn ws_chat_short_run_keeps_every_invariant() {
    let r = run_harness(&[
        "ws",
        "chat",
        // More than one client address may open per minute (20): the
        // harness must run its server with the limits off.
        "--conversations",
        "30",
        "--rate",
        "200",
        "--seconds",
        "1",
    ]);
    assert_eq!(r["driver"], "ws");
    assert_eq!(r["scenario"], "chat");
    let sent = figure(&r, "messages_sent");
    assert!(sent > 0.0, "nothing sent: {r:#}");
    assert_eq!(figure(&r, "acked"), sent, "not every message acked: {r:#}");
    assert_eq!(
        figure(&r, "delivered"),
        sent,
        "not every message delivered: {r:#}"
    );
    assert_eq!(figure(&r, "errors"), 0.0);
    for lat in ["ack_latency", "delivery_latency"] {
        let l = &r["figures"][lat];
        assert_eq!(l["count"].as_f64(), Some(sent), "{lat}: {l}");
        let (p50, p99, max) = (
            l["p50_ms"].as_f64().expect("p50"),
            l["p99_ms"].as_f64().expect("p99"),
            l["max_ms"].as_f64().expect("max"),
        );
        assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{lat}: {l}");
    }
}

#[test]
fn ws_connections_short_run_keeps_every_invariant() {
    let r = run_harness(&[
        "ws",
        "connections",
        "--connections",
        "200",
        "--seconds",
        "1",
    ]);
    assert_eq!(r["scenario"], "connections");
    assert_eq!(figure(&r, "opened"), 200.0, "{r:#}");
    assert!(
        figure(&r, "memory_per_connection_bytes") > 0.0,
        "no memory per connection: {r:#}"
    );
    assert!(
        figure(&r, "server_cpu_percent_at_rest") >= 0.0,
        "no CPU figure: {r:#}"
    );
    assert!(figure(&r, "pings_sent") >= 200.0, "{r:#}");
}
