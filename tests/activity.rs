//! The activity explorer over REST (seed 002): an integration records a
//! user's sessions, tool calls and support requests with the project's
//! secret key; staff read them with counts computed fresh, page through
//! them, search, and export them as CSV or JSON. Bad input changes nothing,
//! and another project's ids are not found.

mod common;

use common::*;
use serde_json::{json, Value};

async fn new_session(app: &TestApp, p: &Project, user: &str, title: Option<&str>) -> Value {
    let mut body = json!({ "user_id": user, "server_name": "Docs MCP", "server_slug": "docs-mcp" });
    if let Some(t) = title {
        body["title"] = json!(t);
    }
    let (st, v) = app
        .post("/api/activity/sessions", &p.secret_key, body)
        .await;
    assert_eq!(st, 201, "{v}");
    v
}

async fn tool_call(app: &TestApp, p: &Project, session: &str, name: &str, input: Value) -> Value {
    let (st, v) = app
        .post(
            &format!("/api/activity/sessions/{session}/tool-calls"),
            &p.secret_key,
            json!({ "tool_name": name, "input": input, "output": { "ok": true } }),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    v
}

async fn support_request(app: &TestApp, p: &Project, session: Option<&str>, title: &str) -> Value {
    let (st, v) = app
        .post(
            "/api/support-requests",
            &p.secret_key,
            json!({ "activity_session_id": session, "title": title,
                    "concise_summary": "Cannot find the export", "context": "tool said: 404\nthen nothing" }),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    v
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .map(|a| a.iter().map(|i| s(&i["id"])).collect())
        .unwrap_or_default()
}

async fn sessions_of(
    app: &TestApp,
    p: &Project,
    user: &str,
    query: &str,
    token: &str,
) -> (u16, Value) {
    app.get(
        &format!("/api/projects/{}/users/{user}/sessions{query}", p.id),
        token,
    )
    .await
}

/// The raw body and headers of a GET (exports are not JSON objects).
async fn download(app: &TestApp, path: &str, token: &str) -> (u16, String, String) {
    let mut res = awc::Client::default()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("the server answers");
    let disposition = res
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = res.body().limit(64 * 1024 * 1024).await.expect("a body");
    (
        res.status().as_u16(),
        disposition,
        String::from_utf8(body.to_vec()).expect("UTF-8"),
    )
}

#[actix_rt::test]
async fn a_users_sessions_with_fresh_counts_items_and_details() {
    let app = TestApp::start().await;
    let p = app.create_project("Acme").await;
    let sol = app.add_agent(&p, "Sol", 2).await;

    let a = new_session(&app, &p, "ada@example.com", Some("Setting up search")).await;
    app.advance(chrono::Duration::minutes(1)).await;
    let b = new_session(&app, &p, "ada@example.com", None).await;
    app.advance(chrono::Duration::minutes(1)).await;
    let c = new_session(&app, &p, "ada@example.com", Some("Billing")).await;
    new_session(&app, &p, "bob@example.com", Some("Bob's")).await;
    let (a_id, b_id, c_id) = (s(&a["id"]), s(&b["id"]), s(&c["id"]));
    assert_eq!(
        (
            a["tool_call_count"].clone(),
            a["support_ticket_count"].clone()
        ),
        (json!(0), json!(0))
    );

    let mut calls = Vec::new();
    for (n, name) in ["search_docs", "read_page", "search_docs"]
        .iter()
        .enumerate()
    {
        app.advance(chrono::Duration::seconds(5)).await;
        calls.push(
            tool_call(
                &app,
                &p,
                &a_id,
                name,
                json!({ "query": { "text": "export", "n": n } }),
            )
            .await,
        );
    }
    let ticket = support_request(&app, &p, Some(&a_id), "Export is missing").await;
    assert_eq!(
        ticket["user_id"], "ada@example.com",
        "a session's request is its user's"
    );
    assert_eq!(ticket["status"], "open");
    support_request(&app, &p, Some(&c_id), "Refund").await;
    let loose = support_request(&app, &p, None, "From outside a session").await;
    assert_eq!(loose["activity_session_id"], Value::Null);

    // Newest first, counts computed now, sessions without items at 0.
    let (st, list) = sessions_of(&app, &p, "ada@example.com", "", &sol.token).await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(
        ids(&list["items"]),
        vec![c_id.clone(), b_id.clone(), a_id.clone()]
    );
    let counts: Vec<(Value, Value)> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["tool_call_count"].clone(),
                i["support_ticket_count"].clone(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            (json!(0), json!(1)),
            (json!(0), json!(0)),
            (json!(3), json!(1))
        ]
    );
    assert_eq!(list["items"][1]["title"], Value::Null);
    assert_eq!(list["items"][1]["server_name"], "Docs MCP");
    assert!(list["items"][0]["connected_at"].is_string());
    assert_eq!(list["next_cursor"], Value::Null);

    // One session; its items newest first; details with the JSON as sent.
    let (st, one) = app
        .get(&format!("/api/activity/sessions/{a_id}"), &sol.token)
        .await;
    assert_eq!(
        (st, one["tool_call_count"].clone()),
        (200, json!(3)),
        "{one}"
    );
    let (st, tc) = app
        .get(
            &format!("/api/activity/sessions/{a_id}/tool-calls"),
            &sol.token,
        )
        .await;
    assert_eq!(st, 200, "{tc}");
    let want: Vec<String> = calls.iter().rev().map(|c| s(&c["id"])).collect();
    assert_eq!(ids(&tc["items"]), want);
    assert_eq!(tc["items"][0]["tool_name"], "search_docs");
    assert!(
        tc["items"][0]["input_bytes"].as_i64().unwrap_or(0) > 10,
        "{tc}"
    );
    assert!(
        tc["items"][0].get("input").is_none(),
        "lists carry no payloads"
    );
    let (st, detail) = app
        .get(&format!("/api/tool-calls/{}", want[0]), &sol.token)
        .await;
    assert_eq!(st, 200, "{detail}");
    assert_eq!(
        detail["input"],
        json!({ "query": { "text": "export", "n": 2 } })
    );
    assert_eq!(detail["output"], json!({ "ok": true }));
    let (st, reqs) = app
        .get(
            &format!("/api/activity/sessions/{a_id}/support-requests"),
            &sol.token,
        )
        .await;
    assert_eq!(
        (st, ids(&reqs["items"])),
        (200, vec![s(&ticket["id"])]),
        "{reqs}"
    );
    let (st, r) = app
        .get(
            &format!("/api/support-requests/{}", s(&ticket["id"])),
            &sol.token,
        )
        .await;
    assert_eq!(
        (st, r["context"].clone()),
        (200, json!("tool said: 404\nthen nothing")),
        "{r}"
    );

    // Staff resolve a request, and can reopen it.
    let (st, r) = app
        .patch(
            &format!("/api/support-requests/{}", s(&ticket["id"])),
            &sol.token,
            json!({ "status": "resolved" }),
        )
        .await;
    assert_eq!((st, r["status"].clone()), (200, json!("resolved")), "{r}");
    assert!(r["resolved_at"].is_string(), "{r}");
    let (_, r) = app
        .patch(
            &format!("/api/support-requests/{}", s(&ticket["id"])),
            &sol.token,
            json!({ "status": "open" }),
        )
        .await;
    assert_eq!(
        (r["status"].clone(), r["resolved_at"].clone()),
        (json!("open"), Value::Null)
    );

    // The integration reads too.
    let (st, list) = sessions_of(&app, &p, "ada@example.com", "", &p.secret_key).await;
    assert_eq!((st, list["items"].as_array().map(Vec::len)), (200, Some(3)));
}

#[actix_rt::test]
async fn pages_do_not_skip_or_repeat_even_at_the_same_instant() {
    let app = TestApp::start().await;
    let p = app.create_project("Acme").await;
    // The clock stands still: every session connects at the same instant,
    // so only the id orders them.
    let mut made = Vec::new();
    for n in 0..25 {
        made.push(s(
            &new_session(&app, &p, "ada", Some(&format!("s{n}"))).await["id"]
        ));
    }
    let mut seen = Vec::new();
    let mut query = "?limit=10".to_string();
    loop {
        let (st, page) = sessions_of(&app, &p, "ada", &query, app.admin_token()).await;
        assert_eq!(st, 200, "{page}");
        let got = ids(&page["items"]);
        assert!(got.len() <= 10);
        seen.extend(got);
        match page["next_cursor"].as_str() {
            Some(c) => query = format!("?limit=10&cursor={c}"),
            None => break,
        }
    }
    let mut want = made.clone();
    want.sort();
    want.reverse();
    assert_eq!(seen, want);

    // A session's tool calls page the same way.
    let sid = made[0].clone();
    let mut calls = Vec::new();
    for n in 0..7 {
        calls.push(s(&tool_call(&app, &p, &sid, "t", json!(n)).await["id"]));
    }
    let (_, first) = app
        .get(
            &format!("/api/activity/sessions/{sid}/tool-calls?limit=4"),
            app.admin_token(),
        )
        .await;
    let cursor = s(&first["next_cursor"]);
    let (_, rest) = app
        .get(
            &format!("/api/activity/sessions/{sid}/tool-calls?limit=4&cursor={cursor}"),
            app.admin_token(),
        )
        .await;
    let mut got = ids(&first["items"]);
    got.extend(ids(&rest["items"]));
    calls.reverse();
    assert_eq!(got, calls);
    assert_eq!(rest["next_cursor"], Value::Null);
}

#[actix_rt::test]
async fn search_finds_titles_servers_tool_names_and_ticket_titles() {
    let app = TestApp::start().await;
    let p = app.create_project("Acme").await;
    let titled = s(&new_session(&app, &p, "ada", Some("Quarterly REPORT")).await["id"]);
    let tooled = s(&new_session(&app, &p, "ada", None).await["id"]);
    tool_call(&app, &p, &tooled, "Fetch_Invoice", json!({})).await;
    let ticketed = s(&new_session(&app, &p, "ada", None).await["id"]);
    support_request(&app, &p, Some(&ticketed), "Password reset loops").await;
    let other = s(&new_session(&app, &p, "bob", Some("report for bob")).await["id"]);

    let find = |q: &'static str| {
        let app = &app;
        let p = &p;
        async move {
            let (st, v) = sessions_of(app, p, "ada", &format!("?q={q}"), app.admin_token()).await;
            assert_eq!(st, 200, "{v}");
            ids(&v["items"])
        }
    };
    assert_eq!(
        find("report").await,
        vec![titled.clone()],
        "case-insensitive title"
    );
    assert_eq!(find("fetch_inv").await, vec![tooled.clone()], "tool name");
    assert_eq!(
        find("PASSWORD").await,
        vec![ticketed.clone()],
        "ticket title"
    );
    assert_eq!(find("docs").await.len(), 3, "server name");
    // LIKE's wildcards are searched for as themselves.
    assert!(find("%25").await.is_empty(), "a % matches only a %");
    assert!(find("nothing-like-this").await.is_empty());
    assert!(!find("report").await.contains(&other), "only this user's");
}

#[actix_rt::test]
async fn exports_as_csv_and_json_with_every_item() {
    let app = TestApp::start().await;
    let p = app.create_project("Acme").await;
    let a =
        s(&new_session(&app, &p, "ada@example.com", Some("Big, \"quoted\" session")).await["id"]);
    app.advance(chrono::Duration::minutes(1)).await;
    let empty = s(&new_session(&app, &p, "ada@example.com", None).await["id"]);
    // More calls than one export page (100).
    for n in 0..230 {
        tool_call(
            &app,
            &p,
            &a,
            "search",
            json!({ "n": n, "text": "line one\nline two, with comma" }),
        )
        .await;
    }
    support_request(&app, &p, Some(&a), "=HYPERLINK(\"x\")").await;
    new_session(&app, &p, "bob", Some("not exported")).await;

    let base = format!(
        "/api/projects/{}/users/ada@example.com/sessions/export",
        p.id
    );
    let (st, disposition, csv) =
        download(&app, &format!("{base}?format=csv"), app.admin_token()).await;
    assert_eq!(st, 200, "{csv}");
    assert!(
        disposition.contains("attachment") && disposition.contains(".csv"),
        "{disposition}"
    );
    let mut lines = csv.split("\r\n");
    assert!(lines
        .next()
        .unwrap_or_default()
        .starts_with("session_id,session_title,server_name"));
    // Records (a quoted field may hold a newline, so count item ids).
    assert_eq!(csv.matches(",tool_call,").count(), 230, "every call once");
    assert_eq!(csv.matches(",support_request,").count(), 1);
    assert!(
        csv.contains(&format!("{empty},,Docs MCP,docs-mcp,")),
        "the empty session has its row"
    );
    assert!(
        csv.contains("\"Big, \"\"quoted\"\" session\""),
        "quoted per RFC 4180"
    );
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"x\"\")\""),
        "no formula reaches a spreadsheet"
    );
    assert!(!csv.contains("not exported"));

    let (st, disposition, body) =
        download(&app, &format!("{base}?format=json"), app.admin_token()).await;
    assert_eq!(st, 200, "{body}");
    assert!(disposition.contains(".json"), "{disposition}");
    let v: Value = serde_json::from_str(&body).expect("the export is JSON");
    assert_eq!(v["user_id"], "ada@example.com");
    let sessions = v["sessions"].as_array().expect("sessions");
    assert_eq!(ids(&v["sessions"]), vec![empty.clone(), a.clone()]);
    assert_eq!(sessions[0]["tool_calls"], json!([]));
    assert_eq!(sessions[0]["support_requests"], json!([]));
    assert_eq!(sessions[1]["tool_call_count"], 230);
    let calls = sessions[1]["tool_calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 230);
    let mut ns: Vec<i64> = calls
        .iter()
        .filter_map(|c| c["input"]["n"].as_i64())
        .collect();
    ns.sort();
    assert_eq!(ns, (0..230).collect::<Vec<_>>(), "each call once");
    assert_eq!(
        sessions[1]["support_requests"][0]["title"],
        "=HYPERLINK(\"x\")"
    );

    let (st, _, body) = download(&app, &format!("{base}?format=xml"), app.admin_token()).await;
    assert_eq!(st, 422, "{body}");
}

#[actix_rt::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let app = TestApp::start().await;
    let p = app.create_project("Acme").await;
    let sol = app.add_agent(&p, "Sol", 2).await;
    let sid = s(&new_session(&app, &p, "ada", None).await["id"]);
    let calls_path = format!("/api/activity/sessions/{sid}/tool-calls");

    // Only the secret key records.
    let staff = app
        .post(
            "/api/activity/sessions",
            &sol.token,
            json!({ "user_id": "x", "server_name": "a", "server_slug": "a" }),
        )
        .await;
    assert_error(&staff, 403, "FORBIDDEN");
    let (_, customer) = app.new_conversation(&p, "visitor-1").await;
    let cust = app
        .post(
            &calls_path,
            &customer,
            json!({ "tool_name": "t", "input": {}, "output": {} }),
        )
        .await;
    assert_error(&cust, 403, "FORBIDDEN");
    let (st, _) = sessions_of(&app, &p, "ada", "", &customer).await;
    assert_eq!(st, 404, "a customer reads no activity");

    // Missing and empty fields, with each named.
    let bad = app
        .post(
            "/api/activity/sessions",
            &p.secret_key,
            json!({ "user_id": " ", "server_name": "", "server_slug": "s" }),
        )
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED");
    assert!(
        bad.1["fields"]["user_id"].is_string() && bad.1["fields"]["server_name"].is_string(),
        "{}",
        bad.1
    );
    let wrong = app
        .post(
            "/api/activity/sessions",
            &p.secret_key,
            json!({ "user_id": 5, "server_name": "a", "server_slug": "a" }),
        )
        .await;
    assert_error(&wrong, 400, "BAD_REQUEST");
    let malformed = app
        .call_raw(
            awc::http::Method::POST,
            &calls_path,
            Auth::Bearer(&p.secret_key),
            "{\"tool_name\": ",
        )
        .await;
    assert_error(&malformed, 400, "BAD_REQUEST");

    // Payloads past 64 KiB: 413, nothing stored.
    let big = "x".repeat(70 * 1024);
    let too_big = app
        .post(
            &calls_path,
            &p.secret_key,
            json!({ "tool_name": "t", "input": { "blob": big }, "output": {} }),
        )
        .await;
    assert_error(&too_big, 413, "PAYLOAD_TOO_LARGE");
    assert!(s(&too_big.1["message"]).contains("input"), "{}", too_big.1);
    let too_big_out = app
        .post(
            &calls_path,
            &p.secret_key,
            json!({ "tool_name": "t", "input": {}, "output": big }),
        )
        .await;
    assert_error(&too_big_out, 413, "PAYLOAD_TOO_LARGE");
    let huge_body = app
        .post(
            &calls_path,
            &p.secret_key,
            json!({ "tool_name": "t", "input": "y".repeat(300 * 1024) }),
        )
        .await;
    assert_error(&huge_body, 413, "PAYLOAD_TOO_LARGE");
    let big_context = app
        .post(
            "/api/support-requests",
            &p.secret_key,
            json!({ "title": "t", "context": big }),
        )
        .await;
    assert_error(&big_context, 413, "PAYLOAD_TOO_LARGE");
    let (_, one) = app
        .get(&format!("/api/activity/sessions/{sid}"), &sol.token)
        .await;
    assert_eq!(
        (
            one["tool_call_count"].clone(),
            one["support_ticket_count"].clone()
        ),
        (json!(0), json!(0))
    );

    // Unknown ids, bad cursors, limits and statuses.
    let nowhere = app
        .post(
            &format!("/api/activity/sessions/{}/tool-calls", uuid::Uuid::now_v7()),
            &p.secret_key,
            json!({ "tool_name": "t" }),
        )
        .await;
    assert_error(&nowhere, 404, "NOT_FOUND");
    let not_an_id = app.get("/api/tool-calls/not-an-id", &sol.token).await;
    assert_error(&not_an_id, 404, "NOT_FOUND");
    let cursor = sessions_of(&app, &p, "ada", "?cursor=bogus", &sol.token).await;
    assert_error(&cursor, 422, "VALIDATION_FAILED");
    let limit = sessions_of(&app, &p, "ada", "?limit=0", &sol.token).await;
    assert_error(&limit, 422, "VALIDATION_FAILED");
    let req = support_request(&app, &p, Some(&sid), "Help").await;
    let status = app
        .patch(
            &format!("/api/support-requests/{}", s(&req["id"])),
            &sol.token,
            json!({ "status": "done" }),
        )
        .await;
    assert_error(&status, 422, "VALIDATION_FAILED");
}

#[actix_rt::test]
async fn another_projects_activity_is_not_found() {
    let app = TestApp::start().await;
    let mine = app.create_project("Mine").await;
    let theirs = app.create_project("Theirs").await;
    let their_agent = app.add_agent(&theirs, "Tom", 2).await;
    let sid = s(&new_session(&app, &mine, "ada", Some("secret plans")).await["id"]);
    let call = tool_call(&app, &mine, &sid, "t", json!({})).await;
    let req = support_request(&app, &mine, Some(&sid), "Help").await;

    for token in [their_agent.token.as_str(), theirs.secret_key.as_str()] {
        for path in [
            format!("/api/projects/{}/users/ada/sessions", mine.id),
            format!(
                "/api/projects/{}/users/ada/sessions/export?format=json",
                mine.id
            ),
            format!("/api/activity/sessions/{sid}"),
            format!("/api/activity/sessions/{sid}/tool-calls"),
            format!("/api/activity/sessions/{sid}/support-requests"),
            format!("/api/tool-calls/{}", s(&call["id"])),
            format!("/api/support-requests/{}", s(&req["id"])),
        ] {
            let res = app.get(&path, token).await;
            assert_error(&res, 404, "NOT_FOUND");
        }
        // Their key cannot write into my session either.
        let write = app
            .post(
                &format!("/api/activity/sessions/{sid}/tool-calls"),
                token,
                json!({ "tool_name": "x" }),
            )
            .await;
        assert!(matches!(write.0, 403 | 404), "{write:?}");
        let resolve = app
            .patch(
                &format!("/api/support-requests/{}", s(&req["id"])),
                token,
                json!({ "status": "resolved" }),
            )
            .await;
        assert_error(&resolve, 404, "NOT_FOUND");
        // And their own view of "ada" is empty.
        let (st, v) = app
            .get(
                &format!("/api/projects/{}/users/ada/sessions", theirs.id),
                token,
            )
            .await;
        assert_eq!((st, v["items"].clone()), (200, json!([])), "{v}");
    }
    let (_, one) = app
        .get(&format!("/api/activity/sessions/{sid}"), &mine.secret_key)
        .await;
    assert_eq!(
        (
            one["tool_call_count"].clone(),
            one["support_ticket_count"].clone()
        ),
        (json!(1), json!(1))
    );
    let (_, r) = app
        .get(
            &format!("/api/support-requests/{}", s(&req["id"])),
            &mine.secret_key,
        )
        .await;
    assert_eq!(r["status"], "open");
}
