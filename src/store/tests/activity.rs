//! Store tests of the activity explorer (`store/activity.rs`), on both
//! backends through the parent's `on_both_backends!`: counts computed
//! fresh (sessions without items count 0), and, on a large seeded data set
//! (100,000 tool calls), every read of the explorer walks an index: no
//! statement scans a whole table.

use super::*;
use crate::store::activity::{
    full_tool_calls_sql, session_sql, support_requests_sql, tool_calls_sql, user_sessions_sql,
    ActivitySession, Statement, SupportRequest, ToolCall,
};
use switchboard_actors::ids::{ActivitySessionId, SupportRequestId, ToolCallId};

fn session(project: ProjectId, user: &str, at: DateTime<Utc>, n: usize) -> ActivitySession {
    ActivitySession {
        id: ActivitySessionId::new(),
        project_id: project,
        user_id: user.into(),
        server_name: format!("Server {}", n % 7),
        server_slug: format!("server-{}", n % 7),
        title: (n % 2 == 0).then(|| format!("Session {n}")),
        connected_at: at,
    }
}

fn call(s: &ActivitySession, at: DateTime<Utc>, n: usize) -> ToolCall {
    ToolCall {
        id: ToolCallId::new(),
        project_id: s.project_id,
        activity_session_id: s.id,
        tool_name: format!("tool_{}", n % 50),
        input: serde_json::json!({ "n": n, "query": { "text": "hello" } }),
        output: serde_json::json!(["ok", n]),
        created_at: at,
    }
}

fn request(s: &ActivitySession, at: DateTime<Utc>, title: &str) -> SupportRequest {
    SupportRequest {
        id: SupportRequestId::new(),
        project_id: s.project_id,
        activity_session_id: Some(s.id),
        user_id: Some(s.user_id.clone()),
        title: title.into(),
        concise_summary: None,
        context: Some("line 1\nline 2".into()),
        status: "open".into(),
        resolved_at: None,
        created_at: at,
    }
}

async fn counts_are_fresh_and_include_empty_sessions(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    let a = session(p.id, "ada", t(0), 0);
    let b = session(p.id, "ada", t(10), 1);
    for s in [&a, &b] {
        db.insert_activity_session(s).await.unwrap();
    }
    let calls: Vec<ToolCall> = (0..3).map(|n| call(&a, t(1 + n as i64), n)).collect();
    db.insert_tool_calls(&calls).await.unwrap();
    db.insert_support_request(&request(&a, t(5), "Refund"))
        .await
        .unwrap();
    let listed = db.user_sessions(p.id, "ada", None, None, 10).await.unwrap();
    let counts: Vec<(ActivitySessionId, i64, i64)> = listed
        .iter()
        .map(|s| (s.session.id, s.tool_call_count, s.support_ticket_count))
        .collect();
    assert_eq!(counts, vec![(b.id, 0, 0), (a.id, 3, 1)]);
    assert_eq!(listed[1].session, a, "the session round-trips");
    // A new call shows at once: nothing is cached or stored as a counter.
    db.insert_tool_call(&call(&a, t(6), 9)).await.unwrap();
    let one = db.activity_session(a.id).await.unwrap().unwrap();
    assert_eq!((one.tool_call_count, one.support_ticket_count), (4, 1));
    // Whole calls come back as recorded, newest first.
    let full = db.session_tool_calls_full(a.id, None, 10).await.unwrap();
    assert_eq!(full.len(), 4);
    assert_eq!(full[1], calls[2]);
    assert_eq!(db.tool_call(calls[0].id).await.unwrap().unwrap(), calls[0]);
}

/// Every line of `st`'s plan, with a check that no table is read whole.
async fn plan_uses_indexes(db: &Db, what: &str, st: &Statement, indexes: &[&str]) {
    let plan = db.explain(st).await.unwrap();
    let text = plan.join("\n");
    for line in &plan {
        let l = line.trim_start();
        // SQLite says `SCAN <table>` for a full table scan (a `SCAN` over
        // an index says `USING ... INDEX`); PostgreSQL says `Seq Scan`.
        let full_scan = (l.starts_with("SCAN ") && !l.contains("INDEX")) || l.contains("Seq Scan");
        assert!(!full_scan, "{what} reads a whole table:\n{text}");
    }
    for index in indexes {
        assert!(text.contains(index), "{what} does not use {index}:\n{text}");
    }
}

async fn the_explorers_reads_walk_indexes_on_a_large_data_set(db: Db) {
    let (_owner, p) = owner_and_project(&db).await;
    // 10,000 sessions of 500 users, 10 tool calls each: 100,000 calls; and
    // a support request in every session.
    let sessions: Vec<ActivitySession> = (0..10_000)
        .map(|n| session(p.id, &format!("user-{}", n % 500), t(n as i64 * 60), n))
        .collect();
    db.insert_activity_sessions(&sessions).await.unwrap();
    for chunk in sessions.chunks(1000) {
        let calls: Vec<ToolCall> = chunk
            .iter()
            .flat_map(|s| {
                (0..10_usize)
                    .map(move |n| call(s, s.connected_at + chrono::Duration::seconds(n as i64), n))
            })
            .collect();
        db.insert_tool_calls(&calls).await.unwrap();
    }
    let requests: Vec<SupportRequest> = sessions
        .iter()
        .map(|s| {
            request(
                s,
                s.connected_at + chrono::Duration::seconds(30),
                "Cannot log in",
            )
        })
        .collect();
    db.insert_support_requests(&requests).await.unwrap();
    db.analyze().await.unwrap();
    let seven = &sessions[7];
    let page = db
        .user_sessions(p.id, "user-7", None, None, 20)
        .await
        .unwrap();
    assert_eq!(page.len(), 20);
    assert!(page
        .iter()
        .all(|s| (s.tool_call_count, s.support_ticket_count) == (10, 1)));

    let cursor = Some((page[9].session.connected_at, page[9].session.id.to_string()));
    for (what, st) in [
        (
            "a user's sessions",
            user_sessions_sql(p.id, "user-7", None, None, 21),
        ),
        (
            "the next page",
            user_sessions_sql(p.id, "user-7", None, cursor.as_ref(), 21),
        ),
        (
            "a search",
            user_sessions_sql(p.id, "user-7", Some("tool_4"), None, 21),
        ),
    ] {
        plan_uses_indexes(
            &db,
            what,
            &st,
            &[
                "idx_activity_sessions_user",
                "idx_tool_calls_session",
                "idx_support_requests_session",
            ],
        )
        .await;
    }
    plan_uses_indexes(
        &db,
        "one session",
        &session_sql(seven.id),
        &["idx_tool_calls_session", "idx_support_requests_session"],
    )
    .await;
    for (what, st) in [
        ("a session's tool calls", tool_calls_sql(seven.id, None, 21)),
        (
            "the export's tool calls",
            full_tool_calls_sql(seven.id, None, 101),
        ),
    ] {
        plan_uses_indexes(&db, what, &st, &["idx_tool_calls_session"]).await;
    }
    plan_uses_indexes(
        &db,
        "a session's support requests",
        &support_requests_sql(seven.id, None, 21),
        &["idx_support_requests_session"],
    )
    .await;
}

on_both_backends! {
    "multi_thread": [
        counts_are_fresh_and_include_empty_sessions,
        the_explorers_reads_walk_indexes_on_a_large_data_set,
    ],
}
