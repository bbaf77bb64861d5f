//! The load harness's `actors` driver, run briefly so it cannot rot: each
//! run must exit 0 with every invariant holding and figures that add up.
//! Nothing here asserts a speed.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Run `switchboard-load actors <args> --json <dir>/report.json`; answers
/// the parsed report after checking the exit status and the invariants.
fn run(dir: &Path, args: &[&str]) -> Value {
    let json = dir.join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard-load"))
        .arg("actors")
        .args(args)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{args:?} exited {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status.code()
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let checks = report["invariants"].as_array().unwrap();
    assert!(!checks.is_empty(), "no invariants checked:\n{stdout}");
    for c in checks {
        assert_eq!(c["ok"], Value::Bool(true), "broken: {c}\n{stdout}");
    }
    assert!(stdout.contains("invariants: all hold"), "{stdout}");
    report
}

fn figure(report: &Value, name: &str) -> u64 {
    report["figures"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("figure {name} missing or not a count: {report}"))
}

fn assert_chat_adds_up(report: &Value) {
    let sent = figure(report, "messages_sent");
    assert!(sent > 0, "{report}");
    assert_eq!(figure(report, "acked"), sent, "{report}");
    assert_eq!(figure(report, "failed"), 0, "{report}");
    // Each message reaches the other side's probe once.
    assert_eq!(figure(report, "delivered"), sent, "{report}");
    for latency in ["ack_latency", "delivery_latency"] {
        let l = &report["figures"][latency];
        assert_eq!(l["count"].as_u64(), Some(sent), "{latency}: {report}");
        assert!(l["p50_ms"].as_f64().unwrap() <= l["p99_ms"].as_f64().unwrap());
        assert!(l["p99_ms"].as_f64().unwrap() <= l["max_ms"].as_f64().unwrap());
    }
}

#[test]
fn chat_on_the_memory_store() {
    let dir = tempfile::tempdir().unwrap();
    let report = run(
        dir.path(),
        &[
            "chat",
            "--conversations",
            "20",
            "--rate",
            "500",
            "--seconds",
            "1",
            "--store",
            "memory",
        ],
    );
    assert_eq!(report["store"], "memory");
    assert_chat_adds_up(&report);
}

#[test]
fn chat_on_an_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("load.db");
    let store = format!("sqlite:{}", db.display());
    let report = run(
        dir.path(),
        &[
            "chat",
            "--conversations",
            "20",
            "--rate",
            "500",
            "--seconds",
            "1",
            "--store",
            &store,
        ],
    );
    assert_chat_adds_up(&report);
    assert!(db.exists(), "the SQLite file was not created");
}

#[test]
fn handoff_storm_drains_through_resolves() {
    let dir = tempfile::tempdir().unwrap();
    // 10 agents x 10 slots < 200 conversations: half wait in the queue and
    // are served as agents resolve the first ones.
    let report = run(
        dir.path(),
        &[
            "handoff",
            "--conversations",
            "200",
            "--agents",
            "10",
            "--capacity",
            "10",
        ],
    );
    assert_eq!(figure(&report, "assignments"), 200, "{report}");
    assert_eq!(figure(&report, "resolved"), 200, "{report}");
    assert_eq!(
        figure(&report, "answered_agent_active") + figure(&report, "answered_waiting"),
        200,
        "{report}"
    );
    assert!(figure(&report, "answered_waiting") > 0, "{report}");
    assert!(report["figures"]["time_to_drain_ms"].as_f64().unwrap() > 0.0);
}

#[test]
fn an_unknown_scenario_exits_non_zero() {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard-load"))
        .args(["actors", "nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
