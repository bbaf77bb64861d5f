//! WebSocket connections (docs/protocol.md section 4). Each socket is an actor
//! that owns its subscriptions and a bounded mailbox: channel owners hand it
//! frames with `try_send`, and a connection that cannot keep up is evicted
//! and closed, so memory never grows for a slow client.
//!
//! Below the JSON, [`guard::FrameGuard`] checks every incoming frame before
//! actix's codec buffers it (RFC 6455 framing, UTF-8, the 64 KiB message
//! limit from the header) and tells this actor why it stopped a stream; the
//! actor reassembles fragmented messages and answers pings and closes.
//!
//! All use of the deprecated `actix-web-actors` crate is in this file, so a
//! move to `actix-ws` touches nothing else.
#![allow(deprecated)]

use crate::auth::{self as a, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix::prelude::*;
use actix_http::ws::Item;
use actix_web::web::BytesMut;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;
use frames::Frame;
use guard::{FrameGuard, GuardCell, Violation};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};
use switchboard_actors::engine::agent::{AgentActor, UnsubscribeAgent};
use switchboard_actors::engine::conversation::{ConversationActor, UnsubscribeConversation};
use switchboard_actors::engine::events::{Audience, Deliver, Evicted, Subscriber};
use switchboard_actors::engine::project::{ProjectActor, ProjectChannel, UnsubscribeProject};
use switchboard_actors::engine::session::{SessionActor, UnsubscribeSession};
use switchboard_actors::engine::Caller;
use switchboard_actors::ids::{ProjectId, UserId};

mod dispatch;
mod frames;
mod guard;
pub mod revoke;
mod subscribe;

/// Largest message a client may send, whole or fragmented (docs/protocol.md
/// section 4).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Frames waiting for a slow client before it is evicted.
pub const OUTBOUND_CAPACITY: usize = 1024;
pub const PING_INTERVAL: Duration = Duration::from_secs(30);
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a socket opened without `?token=` may take to send its
/// `auth` frame before it is closed.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
enum Identity {
    /// Opened without `?token=`: the first frame must be
    /// `{"op": "auth", "token": ...}`, which keeps the token out of URLs
    /// (and so out of proxies' and browsers' logs).
    Unauthenticated,
    Caller(Caller),
    /// Only the project's public key: may watch `project:<id>:widget`.
    WidgetKey(ProjectId),
}

enum Owner {
    Conversation(Addr<ConversationActor>),
    Project(Addr<ProjectActor>, ProjectChannel),
    Agent(Addr<AgentActor>),
    /// A billable session's `session:<id>`.
    Session(Addr<SessionActor>),
    /// Nothing live to unsubscribe from: a closed conversation, or a
    /// replay with pages still to come.
    Nothing,
}

pub struct WsConn {
    state: AppState,
    who: Identity,
    id: u64,
    subs: HashMap<String, Owner>,
    last_seen: Instant,
    /// Shared with the frame guard: why it ended the stream, and how many
    /// frames this actor has taken (its room to release more).
    guard: Rc<GuardCell>,
    /// A fragmented message being put together (RFC 6455 5.4); the guard
    /// keeps its total within [`MAX_FRAME_BYTES`].
    fragments: Option<Fragments>,
    /// When the token the socket authenticated with expires (Clock time).
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The token's hash and staff user, by which the socket registers in
    /// `AppState::sockets` (so a logout or a change of rights closes it).
    revocable: Option<(String, Option<UserId>)>,
    /// The upgrade request's Origin header (widget credentials are judged
    /// against the project's allowed origins).
    origin: Option<String>,
}

/// What a token proves, for a socket.
struct Credential {
    who: Identity,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    revocable: Option<(String, Option<UserId>)>,
}

/// Any token of docs/protocol.md section 2, or the project's public key.
/// A widget credential (the key, a customer token) is refused from a site
/// that is not on the project's allowed origins (`origin`: the upgrade
/// request's Origin header).
async fn identify(state: &AppState, token: &str, origin: Option<&str>) -> ApiResult<Credential> {
    if token.starts_with(a::PUBLIC_KEY_PREFIX) {
        let p = state
            .db
            .project_by_public_key(token)
            .await?
            .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))?;
        if let Some(origin) = origin {
            if !crate::appearance::origin_allowed(&p.allowed_origins, origin) {
                return Err(crate::origins::refused(origin));
            }
        }
        return Ok(Credential {
            who: Identity::WidgetKey(p.id),
            expires_at: None,
            revocable: None,
        });
    }
    let auth = a::authenticate_token(state, token).await?;
    if let Caller::Customer { project_id, .. } = &auth.caller {
        state.origins.check(&state.db, *project_id, origin).await?;
    }
    let user = auth.caller.user_id();
    Ok(Credential {
        who: Identity::Caller(auth.caller),
        expires_at: auth.expires_at,
        revocable: Some((auth.token_hash, user)),
    })
}

/// The fragments of one message so far. A binary message's bytes are not
/// kept: it is refused whole once its last fragment comes.
struct Fragments {
    text: bool,
    bytes: BytesMut,
}

#[derive(Deserialize)]
pub struct WsQuery {
    token: Option<String>,
}

pub async fn connect(
    req: HttpRequest,
    stream: web::Payload,
    state: web::Data<AppState>,
    q: web::Query<WsQuery>,
) -> Result<HttpResponse, ApiError> {
    let origin = crate::origins::of_request(&req);
    // A URL token is checked before the upgrade, so a wrong one is a plain
    // 401; without one the socket opens and waits for its `auth` frame.
    let credential = match q.token.as_deref() {
        Some(token) => Some(identify(&state, token, origin.as_deref()).await?),
        None => None,
    };
    let cell = Rc::new(GuardCell::default());
    let mut conn = WsConn {
        id: state.engine.next_subscriber_id(),
        state: state.get_ref().clone(),
        who: Identity::Unauthenticated,
        subs: HashMap::new(),
        last_seen: Instant::now(),
        guard: cell.clone(),
        fragments: None,
        expires_at: None,
        revocable: None,
        origin,
    };
    if let Some(c) = credential {
        conn.who = c.who;
        conn.expires_at = c.expires_at;
        conn.revocable = c.revocable;
    }
    let stream = FrameGuard::new(stream, cell, MAX_FRAME_BYTES);
    ws::WsResponseBuilder::new(conn, &req, stream)
        .codec(actix_http::ws::Codec::new().max_size(MAX_FRAME_BYTES))
        .frame_size(MAX_FRAME_BYTES)
        .start()
        .map_err(|e| ApiError::bad_request(format!("not a WebSocket upgrade: {e}")))
}

impl Actor for WsConn {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(OUTBOUND_CAPACITY);
        self.register(ctx);
        ctx.run_interval(PING_INTERVAL, |act, ctx| {
            if act.last_seen.elapsed() > CLIENT_TIMEOUT {
                ctx.stop();
            } else if act.check_expiry(ctx) {
                ctx.ping(b"");
            }
        });
        if matches!(self.who, Identity::Unauthenticated) {
            ctx.run_later(AUTH_TIMEOUT, |act, ctx| {
                if matches!(act.who, Identity::Unauthenticated) {
                    ctx.close(Some(ws::CloseReason {
                        code: ws::CloseCode::Policy,
                        description: Some(
                            "no auth frame: send {\"op\":\"auth\",\"token\":...} first".into(),
                        ),
                    }));
                    ctx.stop();
                }
            });
        }
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.state.sockets.remove(self.id);
        for (_, owner) in self.subs.drain() {
            unsubscribe(owner, self.id);
        }
    }
}

fn unsubscribe(owner: Owner, id: u64) {
    match owner {
        Owner::Conversation(a) => a.do_send(UnsubscribeConversation { subscriber_id: id }),
        Owner::Project(a, channel) => a.do_send(UnsubscribeProject {
            channel,
            subscriber_id: id,
        }),
        Owner::Agent(a) => a.do_send(UnsubscribeAgent { subscriber_id: id }),
        Owner::Session(a) => a.do_send(UnsubscribeSession { subscriber_id: id }),
        Owner::Nothing => {}
    }
}

impl Handler<Deliver> for WsConn {
    type Result = ();
    fn handle(&mut self, msg: Deliver, ctx: &mut Self::Context) {
        for f in msg.frames {
            ctx.text(&*f);
        }
    }
}

impl Handler<revoke::Revoke> for WsConn {
    type Result = ();
    fn handle(&mut self, _: revoke::Revoke, ctx: &mut Self::Context) {
        close_revoked(ctx, "credential revoked: log in again and reconnect");
    }
}

fn close_revoked(ctx: &mut ws::WebsocketContext<WsConn>, why: &str) {
    ctx.close(Some(ws::CloseReason {
        code: ws::CloseCode::Other(revoke::REVOKED_CLOSE_CODE),
        description: Some(why.into()),
    }));
    ctx.stop();
}

impl Handler<Evicted> for WsConn {
    type Result = ();
    fn handle(&mut self, msg: Evicted, ctx: &mut Self::Context) {
        self.subs.remove(&msg.channel);
        ctx.close(Some(ws::CloseReason {
            code: ws::CloseCode::Again,
            description: Some("too slow: reconnect and resubscribe with after_seq".into()),
        }));
        ctx.stop();
    }
}

fn reply_ok(r: &Value, data: Value) -> String {
    json!({ "type": "reply", "ref": r, "ok": true, "data": data }).to_string()
}

fn reply_err(r: &Value, e: &ApiError) -> String {
    let mut v =
        json!({ "type": "reply", "ref": r, "ok": false, "error": e.code, "message": e.message });
    if let Some(f) = &e.fields {
        v["fields"] = json!(f);
    }
    // RATE_LIMITED: what REST says in its Retry-After header.
    if let Some(s) = e.retry_after {
        v["retry_after"] = json!(s);
    }
    v.to_string()
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for WsConn {
    fn handle(&mut self, item: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        self.last_seen = Instant::now();
        let msg = match item {
            Ok(msg) => {
                self.guard.frame_handled();
                msg
            }
            Err(e) => return self.on_stream_error(e, ctx),
        };
        match msg {
            ws::Message::Text(t) => self.on_text(&t, ctx),
            ws::Message::Binary(_) => ctx.text(binary_refused()),
            ws::Message::Continuation(item) => self.on_fragment(item, ctx),
            ws::Message::Ping(p) => ctx.pong(&p),
            ws::Message::Pong(_) | ws::Message::Nop => {}
            ws::Message::Close(reason) => {
                // RFC 6455 5.5.1: answer with a close that echoes the code
                // (the guard has checked it is one a client may send).
                ctx.close(reason.map(|r| ws::CloseReason::from(r.code)));
                ctx.stop();
            }
        }
    }
}

fn not_authenticated() -> ApiError {
    ApiError::unauthorized("authenticate first: send {\"op\": \"auth\", \"token\": \"...\"}")
}

fn binary_refused() -> String {
    reply_err(
        &Value::Null,
        &ApiError::bad_request("binary frames are not supported; send JSON text"),
    )
}

impl WsConn {
    /// One fragment of a message; the last one hands on the whole message,
    /// answered exactly as if it had come in one frame.
    fn on_fragment(&mut self, item: Item, ctx: &mut ws::WebsocketContext<Self>) {
        match item {
            Item::FirstText(b) => {
                self.fragments = Some(Fragments {
                    text: true,
                    bytes: BytesMut::from(&b[..]),
                })
            }
            Item::FirstBinary(_) => {
                self.fragments = Some(Fragments {
                    text: false,
                    bytes: BytesMut::new(),
                })
            }
            Item::Continue(b) => {
                if let Some(f) = self.fragments.as_mut().filter(|f| f.text) {
                    f.bytes.extend_from_slice(&b);
                }
            }
            Item::Last(b) => {
                // The codec refuses a last fragment without a first one.
                let Some(mut f) = self.fragments.take() else {
                    return;
                };
                if !f.text {
                    return ctx.text(binary_refused());
                }
                f.bytes.extend_from_slice(&b);
                match std::str::from_utf8(&f.bytes) {
                    Ok(text) => self.on_text(text, ctx),
                    Err(_) => fail(Violation::InvalidUtf8, ctx),
                }
            }
        }
    }

    /// The incoming stream failed: say why (the guard knows when it was
    /// the guard) and end the connection.
    fn on_stream_error(&mut self, e: ws::ProtocolError, ctx: &mut ws::WebsocketContext<Self>) {
        let violation = match (self.guard.verdict(), e) {
            (Some(v), _) => Some(v),
            (None, ws::ProtocolError::Overflow) => Some(Violation::TooLarge),
            // The transport failed (a reset, a read error): nobody to tell.
            (None, ws::ProtocolError::Io(e)) => {
                tracing::debug!(error = %e, "websocket stream failed");
                None
            }
            (None, e) => {
                tracing::debug!(error = %e, "websocket frame refused by the codec");
                Some(Violation::Protocol("malformed frame"))
            }
        };
        match violation {
            Some(v) => fail(v, ctx),
            None => ctx.stop(),
        }
    }
}

/// End the connection for a violation: an oversized message gets the error
/// reply docs/protocol.md section 4 asks for first, then every violation its
/// close code (1009, 1002 or 1007).
fn fail(v: Violation, ctx: &mut ws::WebsocketContext<WsConn>) {
    if v == Violation::TooLarge {
        ctx.text(reply_err(
            &Value::Null,
            &ApiError::too_large(format!("messages are limited to {MAX_FRAME_BYTES} bytes")),
        ));
    }
    ctx.close(Some(ws::CloseReason {
        code: v.close_code(),
        description: Some(v.reason().into()),
    }));
    ctx.stop();
}

impl WsConn {
    fn caller(&self) -> ApiResult<Caller> {
        match &self.who {
            Identity::Caller(c) => Ok(c.clone()),
            Identity::WidgetKey(_) => Err(ApiError::forbidden(
                "a project key may only subscribe to the widget channel",
            )),
            Identity::Unauthenticated => Err(not_authenticated()),
        }
    }

    /// Join the registry of revocable sockets, once the credential is known.
    fn register(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        if let Some((hash, user)) = self.revocable.take() {
            self.state
                .sockets
                .add(self.id, hash, user, ctx.address().recipient());
        }
    }

    /// Whether the token is still valid; an expired one closes the socket.
    fn check_expiry(&mut self, ctx: &mut ws::WebsocketContext<Self>) -> bool {
        match self.expires_at {
            Some(at) if at <= self.state.now() => {
                close_revoked(ctx, "token expired: log in again and reconnect");
                false
            }
            _ => true,
        }
    }

    /// The `auth` frame of a socket opened without `?token=`.
    fn authenticate(&mut self, r: Value, token: String, ctx: &mut ws::WebsocketContext<Self>) {
        if !matches!(self.who, Identity::Unauthenticated) {
            return ctx.text(reply_err(
                &r,
                &ApiError::bad_request("this socket is already authenticated"),
            ));
        }
        let state = self.state.clone();
        let origin = self.origin.clone();
        // `wait`: no other frame of this socket is handled before it knows
        // who is speaking.
        ctx.wait(
            actix::fut::wrap_future::<_, Self>(async move {
                identify(&state, &token, origin.as_deref()).await
            })
            .map(move |res, act, ctx| match res {
                Ok(c) => {
                    act.who = c.who;
                    act.expires_at = c.expires_at;
                    act.revocable = c.revocable;
                    act.register(ctx);
                    ctx.text(reply_ok(&r, json!({ "authenticated": true })));
                }
                Err(e) => ctx.text(reply_err(&r, &e)),
            }),
        );
    }

    fn staff(&self) -> ApiResult<StaffAuth> {
        StaffAuth::of(self.caller()?)
    }

    fn subscriber(&self, ctx: &mut ws::WebsocketContext<Self>, audience: Audience) -> Subscriber {
        let addr = ctx.address();
        Subscriber {
            id: self.id,
            deliver: addr.clone().recipient(),
            evicted: addr.recipient(),
            audience,
        }
    }

    fn on_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                ctx.text(reply_err(
                    &Value::Null,
                    &ApiError::bad_request(format!("invalid JSON: {e}")),
                ));
                return;
            }
        };
        let r = v.get("ref").cloned().unwrap_or(Value::Null);
        let op = match frames::op(&v) {
            Ok(op) => op,
            Err(e) => return ctx.text(reply_err(&r, &e)),
        };
        // Before the frame is read: an unauthenticated socket hears only
        // UNAUTHORIZED, whatever else it sent.
        if op != "auth" {
            if !self.check_expiry(ctx) {
                return;
            }
            if matches!(self.who, Identity::Unauthenticated) {
                return ctx.text(reply_err(&r, &not_authenticated()));
            }
        }
        let fut = match frames::parse(v) {
            Ok(Frame::Auth { token }) => return self.authenticate(r, token, ctx),
            Ok(frame) => self.dispatch(frame, ctx),
            Err(e) => Err(e),
        };
        let fut = match fut {
            Ok(f) => f,
            Err(e) => return ctx.text(reply_err(&r, &e)),
        };
        ctx.spawn(fut.map(move |res, act, ctx| {
            match res {
                Ok((data, sub)) => {
                    // A resubscribe replaces the entry; the owner keyed us by
                    // connection id, so it replaced us in place too.
                    if let Some((channel, owner)) = sub {
                        act.subs.insert(channel, owner);
                    }
                    ctx.text(reply_ok(&r, data))
                }
                Err(e) => ctx.text(reply_err(&r, &e)),
            }
        }));
    }
}
