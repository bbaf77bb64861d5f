//! Security regression suite, WebSocket credentials (issue 14 items 5 and
//! 6): the token may come in the first frame instead of the URL, a socket
//! does nothing before it is authenticated, and a logout or an expired
//! token closes live sockets with close code 4001.

mod common;

use awc::ws::CloseCode;
use chrono::Duration;
use common::*;
use serde_json::json;

const REVOKED: u16 = 4001;

fn assert_closed_with(incoming: Option<Incoming>, code: u16) {
    match incoming {
        Some(Incoming::Close(Some(reason))) => {
            assert_eq!(reason.code, CloseCode::from(code), "{reason:?}")
        }
        other => panic!("expected a close frame with {code}, got {other:?}"),
    }
}

#[actix_rt::test]
async fn a_token_in_the_first_frame_authenticates_the_socket() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let (conv, token) = app.new_conversation(&project, "v-first-frame").await;
    let id = s(&conv["id"]);
    let mut ws = app.ws_unauthenticated().await;

    // Nothing before the auth frame.
    let reply = ws
        .send_op(json!({ "op": "subscribe", "channel": format!("conversation:{id}") }))
        .await;
    assert_eq!(reply["ok"], json!(false), "{reply}");
    assert_eq!(reply["error"], json!("UNAUTHORIZED"), "{reply}");
    // A wrong token is refused and the socket stays unauthenticated.
    let reply = ws
        .send_op(json!({ "op": "auth", "token": "sbc_wrong" }))
        .await;
    assert_eq!(reply["error"], json!("UNAUTHORIZED"), "{reply}");
    let reply = ws.send_op(json!({ "op": "ping" })).await;
    assert_eq!(reply["error"], json!("UNAUTHORIZED"), "{reply}");

    let data = ws.op_ok(json!({ "op": "auth", "token": token })).await;
    assert_eq!(data["authenticated"], json!(true), "{data}");
    ws.subscribe(&format!("conversation:{id}"), None).await;
    app.say(
        &id,
        &token,
        "hello over a socket opened without a URL token",
    )
    .await;
    let e = ws.expect_event("message").await;
    assert_eq!(e["channel"], json!(format!("conversation:{id}")), "{e}");
    // Once is enough.
    let reply = ws.send_op(json!({ "op": "auth", "token": token })).await;
    assert_eq!(reply["error"], json!("BAD_REQUEST"), "{reply}");
}

#[actix_rt::test]
async fn a_logout_closes_the_sockets_of_that_token_only() {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    let gone = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let kept = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut by_url = app.ws(&gone).await;
    let mut by_frame = app.ws_unauthenticated().await;
    by_frame.op_ok(json!({ "op": "auth", "token": gone })).await;
    let mut other = app.ws(&kept).await;
    for ws in [&mut by_url, &mut by_frame, &mut other] {
        ws.subscribe(&format!("project:{}:agents", project.id), None)
            .await;
    }

    let (status, body) = app.post("/api/auth/logout", &gone, json!({})).await;
    assert_eq!(status, 204, "{body}");
    assert_closed_with(by_url.recv(ASYNC_BOUND).await, REVOKED);
    assert_closed_with(by_frame.recv(ASYNC_BOUND).await, REVOKED);
    // The other login of the same user keeps its socket.
    let data = other.op_ok(json!({ "op": "ping" })).await;
    assert_eq!(data["pong"], json!(true));
    // And the revoked token cannot open a new one.
    assert_eq!(app.try_ws(&gone).await.err().as_deref(), Some("status 401"));
}

#[actix_rt::test]
async fn an_expired_token_closes_its_socket() {
    let app = TestApp::start().await;
    let token = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut ws = app.ws(&token).await;
    let data = ws.op_ok(json!({ "op": "ping" })).await;
    assert_eq!(data["pong"], json!(true));
    // Staff tokens live 12 hours (the Clock's).
    app.advance(Duration::hours(12) + Duration::seconds(1))
        .await;
    ws.send_text(json!({ "op": "ping", "ref": "late" }).to_string())
        .await;
    assert_closed_with(ws.recv(ASYNC_BOUND).await, REVOKED);
}
