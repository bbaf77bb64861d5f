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
use crate::http::agents::parse_status;
use crate::http::conversations::{claim_conversation, send_message};
use crate::limits::{caller_key, LimitKind};
use crate::state::AppState;
use actix::prelude::*;
use actix_http::ws::Item;
use actix_web::web::BytesMut;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;
use guard::{FrameGuard, GuardCell, Violation};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::rc::Rc;
use std::str::FromStr;
use std::time::{Duration, Instant};
use switchboard_actors::domain::session::SessionAction;
use switchboard_actors::engine::agent::{AgentActor, SubscribeAgent, UnsubscribeAgent};
use switchboard_actors::engine::conversation::{
    ConversationActor, Resolve, SubscribeConversation, Transfer, Typing, UnsubscribeConversation,
};
use switchboard_actors::engine::events::{
    event_frame, replay_page, Audience, Deliver, Evicted, Subscribed, Subscriber,
};
use switchboard_actors::engine::project::{
    Heartbeat, ProjectActor, ProjectChannel, SetAgentStatus, SubscribeProject, UnsubscribeProject,
};
use switchboard_actors::engine::session::{
    AnswerScreenShare, ControlSession, RelaySignal, SessionActor, SessionTyping, SubscribeSession,
    UnsubscribeSession,
};
use switchboard_actors::engine::{Caller, ConversationRef, EngineError};
use switchboard_actors::ids::{ConversationId, ProjectId, SessionId, UserId};

mod guard;
pub mod revoke;

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
}

/// What a token proves, for a socket.
struct Credential {
    who: Identity,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    revocable: Option<(String, Option<UserId>)>,
}

/// Any token of docs/protocol.md section 2, or the project's public key.
async fn identify(state: &AppState, token: &str) -> ApiResult<Credential> {
    if token.starts_with(a::PUBLIC_KEY_PREFIX) {
        let p = state
            .db
            .project_by_public_key(token)
            .await?
            .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))?;
        return Ok(Credential {
            who: Identity::WidgetKey(p.id),
            expires_at: None,
            revocable: None,
        });
    }
    let auth = a::authenticate_token(state, token).await?;
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
    // A URL token is checked before the upgrade, so a wrong one is a plain
    // 401; without one the socket opens and waits for its `auth` frame.
    let credential = match q.token.as_deref() {
        Some(token) => Some(identify(&state, token).await?),
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

/// The reply to a subscribe on a channel with a durable log: `{channel,
/// last_seq}`, and with `after_seq` how far the replay went and whether
/// more remains (docs/protocol.md section 4; README "WebSocket").
fn subscribed(channel: &str, done: &Subscribed) -> Value {
    let mut v = json!({ "channel": channel, "last_seq": done.last_seq });
    if let Some(to) = done.replayed_to {
        v["replayed_to"] = json!(to);
        v["more"] = json!(done.more);
    }
    v
}

/// What the connection is subscribed to after a subscribe: nothing live
/// while pages remain (the owner did not add it).
fn live_owner(done: &Subscribed, live: impl FnOnce() -> Owner) -> Owner {
    if done.more {
        Owner::Nothing
    } else {
        live()
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

// A missing field or a wrong type is a malformed frame (BAD_REQUEST), as a
// body that does not deserialize is over REST.
fn field<'a>(v: &'a Value, name: &str) -> ApiResult<&'a Value> {
    v.get(name)
        .ok_or_else(|| ApiError::bad_request(format!("missing field \"{name}\"")))
}

fn str_field<'a>(v: &'a Value, name: &str) -> ApiResult<&'a str> {
    field(v, name)?
        .as_str()
        .ok_or_else(|| ApiError::bad_request(format!("\"{name}\" must be a string")))
}

fn id_field<T: FromStr>(v: &Value, name: &str) -> ApiResult<T> {
    str_field(v, name)?
        .parse()
        .map_err(|_| ApiError::bad_request(format!("\"{name}\" must be a UUID")))
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
    fn authenticate(&mut self, r: Value, v: &Value, ctx: &mut ws::WebsocketContext<Self>) {
        if !matches!(self.who, Identity::Unauthenticated) {
            return ctx.text(reply_err(
                &r,
                &ApiError::bad_request("this socket is already authenticated"),
            ));
        }
        let token = match str_field(v, "token") {
            Ok(t) => t.to_string(),
            Err(e) => return ctx.text(reply_err(&r, &e)),
        };
        let state = self.state.clone();
        // `wait`: no other frame of this socket is handled before it knows
        // who is speaking.
        ctx.wait(
            actix::fut::wrap_future::<_, Self>(async move { identify(&state, &token).await }).map(
                move |res, act, ctx| match res {
                    Ok(c) => {
                        act.who = c.who;
                        act.expires_at = c.expires_at;
                        act.revocable = c.revocable;
                        act.register(ctx);
                        ctx.text(reply_ok(&r, json!({ "authenticated": true })));
                    }
                    Err(e) => ctx.text(reply_err(&r, &e)),
                },
            ),
        );
    }

    fn staff(&self) -> ApiResult<StaffAuth> {
        match self.caller()? {
            Caller::Staff(s) => Ok(StaffAuth(Caller::Staff(s.clone()), s)),
            _ => Err(ApiError::forbidden("this needs a staff login")),
        }
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
        let Some(op) = v.get("op").and_then(Value::as_str).map(str::to_string) else {
            ctx.text(reply_err(
                &r,
                &ApiError::bad_request("a frame needs a string \"op\""),
            ));
            return;
        };
        if op == "auth" {
            return self.authenticate(r, &v, ctx);
        }
        if !self.check_expiry(ctx) {
            return;
        }
        if matches!(self.who, Identity::Unauthenticated) {
            return ctx.text(reply_err(&r, &not_authenticated()));
        }
        let fut = match self.dispatch(&op, v, ctx) {
            Ok(f) => f,
            Err(e) => {
                ctx.text(reply_err(&r, &e));
                return;
            }
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

    #[allow(clippy::type_complexity)]
    fn dispatch(
        &mut self,
        op: &str,
        v: Value,
        ctx: &mut ws::WebsocketContext<Self>,
    ) -> ApiResult<actix::fut::LocalBoxActorFuture<Self, ApiResult<(Value, Option<(String, Owner)>)>>>
    {
        let state = self.state.clone();
        let plain = |f: std::pin::Pin<Box<dyn std::future::Future<Output = ApiResult<Value>>>>| {
            actix::fut::wrap_future::<_, Self>(async move { f.await.map(|d| (d, None)) })
                .boxed_local()
        };
        match op {
            "ping" => Ok(plain(Box::pin(async { Ok(json!({ "pong": true })) }))),
            "subscribe" => {
                let channel = str_field(&v, "channel")?.to_string();
                let after_seq = match v.get("after_seq") {
                    None | Some(Value::Null) => None,
                    Some(x) => Some(x.as_i64().filter(|n| *n >= 0).ok_or_else(|| {
                        ApiError::bad_request("\"after_seq\" must be a whole number >= 0")
                    })?),
                };
                self.subscribe(channel, after_seq, ctx)
            }
            "unsubscribe" => {
                let channel = str_field(&v, "channel")?;
                if let Some(owner) = self.subs.remove(channel) {
                    unsubscribe(owner, self.id);
                }
                let channel = channel.to_string();
                Ok(plain(Box::pin(
                    async move { Ok(json!({ "channel": channel })) },
                )))
            }
            "send_message" if v.get("session_id").is_some() => {
                let caller = self.caller()?;
                let id: SessionId = id_field(&v, "session_id")?;
                let content = str_field(&v, "content")?.to_string();
                let client_msg_id = match v.get("client_msg_id") {
                    None | Some(Value::Null) => None,
                    Some(_) => Some(str_field(&v, "client_msg_id")?.to_string()),
                };
                Ok(plain(Box::pin(async move {
                    let m = crate::http::sessions::send_session_message(
                        &state,
                        caller,
                        id,
                        content,
                        client_msg_id,
                    )
                    .await?;
                    Ok(json!(&*m))
                })))
            }
            "typing" if v.get("session_id").is_some() => {
                let caller = self.caller()?;
                state.rate_limit(LimitKind::Typing, &caller_key(&caller))?;
                let id: SessionId = id_field(&v, "session_id")?;
                let is_typing = field(&v, "is_typing")?
                    .as_bool()
                    .ok_or_else(|| ApiError::bad_request("\"is_typing\" must be true or false"))?;
                Ok(plain(Box::pin(async move {
                    crate::http::sessions::actor(&state, id)
                        .await?
                        .send(SessionTyping { caller, is_typing })
                        .await??;
                    Ok(json!({}))
                })))
            }
            "session_control" | "screen_share_answer" | "signal" => {
                let caller = self.caller()?;
                if op == "signal" {
                    state.rate_limit(LimitKind::Signal, &caller_key(&caller))?;
                }
                let id: SessionId = id_field(&v, "session_id")?;
                self.session_op(op, id, caller, &v)
            }
            "send_message" => {
                let caller = self.caller()?;
                let id: ConversationId = id_field(&v, "conversation_id")?;
                let content = str_field(&v, "content")?.to_string();
                let client_msg_id = match v.get("client_msg_id") {
                    None | Some(Value::Null) => None,
                    Some(x) => Some(
                        x.as_str()
                            .ok_or_else(|| {
                                ApiError::bad_request("\"client_msg_id\" must be a string")
                            })?
                            .to_string(),
                    ),
                };
                let metadata = v.get("metadata").cloned();
                Ok(plain(Box::pin(async move {
                    let m =
                        send_message(&state, caller, id, content, client_msg_id, metadata).await?;
                    Ok(json!(&*m))
                })))
            }
            "typing" => {
                let caller = self.caller()?;
                state.rate_limit(LimitKind::Typing, &caller_key(&caller))?;
                let id: ConversationId = id_field(&v, "conversation_id")?;
                let is_typing = field(&v, "is_typing")?
                    .as_bool()
                    .ok_or_else(|| ApiError::bad_request("\"is_typing\" must be true or false"))?;
                Ok(plain(Box::pin(async move {
                    match state.engine.live_conversation(id).await? {
                        Some(a) => a.send(Typing { caller, is_typing }).await??,
                        None => return Err(ApiError::not_found("conversation not found")),
                    }
                    Ok(json!({}))
                })))
            }
            "presence" => {
                let caller = self.caller()?;
                state.rate_limit(LimitKind::Typing, &caller_key(&caller))?;
                let id: ConversationId = id_field(&v, "conversation_id")?;
                let status =
                    crate::http::conversation_customer::parse_presence(str_field(&v, "status")?)?;
                Ok(plain(Box::pin(async move {
                    crate::http::conversation_customer::report_presence(&state, caller, id, status)
                        .await?;
                    Ok(json!({}))
                })))
            }
            "heartbeat" | "set_status" => {
                let auth = self.staff()?;
                let project: ProjectId = id_field(&v, "project_id")?;
                auth.agent_of(project)?;
                let status = if op == "set_status" {
                    Some(parse_status(str_field(&v, "status")?)?)
                } else {
                    None
                };
                let user_id = auth.1.user_id;
                if status.is_none() {
                    // One bucket with the REST heartbeat: per agent.
                    state.rate_limit(LimitKind::Heartbeat, &user_id.to_string())?;
                }
                Ok(plain(Box::pin(async move {
                    let p = state.engine.project(project).await?;
                    match status {
                        Some(status) => Ok(json!(
                            p.addr.send(SetAgentStatus { user_id, status }).await??
                        )),
                        None => {
                            p.addr.send(Heartbeat { user_id }).await??;
                            Ok(json!({}))
                        }
                    }
                })))
            }
            "claim" => {
                let auth = self.staff()?;
                let id: ConversationId = id_field(&v, "conversation_id")?;
                Ok(plain(Box::pin(async move {
                    let c = claim_conversation(&state, &auth, id).await?;
                    Ok(json!({ "success": true, "conversation": c }))
                })))
            }
            "resolve" | "transfer" => {
                let auth = self.staff()?;
                let id: ConversationId = id_field(&v, "conversation_id")?;
                let to: Option<UserId> = match v.get("to_agent_id") {
                    None | Some(Value::Null) => None,
                    Some(_) => Some(id_field(&v, "to_agent_id")?),
                };
                let resolve = op == "resolve";
                Ok(plain(Box::pin(async move {
                    let a = state
                        .engine
                        .live_conversation(id)
                        .await?
                        .ok_or_else(|| ApiError::not_found("conversation not found"))?;
                    let view = if resolve {
                        a.send(Resolve { caller: auth.0 }).await??
                    } else {
                        a.send(Transfer { caller: auth.0, to }).await??
                    };
                    Ok(json!(view))
                })))
            }
            other => Err(ApiError::bad_request(format!("unknown op {other:?}"))),
        }
    }

    #[allow(clippy::type_complexity)]
    fn subscribe(
        &mut self,
        channel: String,
        after_seq: Option<i64>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) -> ApiResult<actix::fut::LocalBoxActorFuture<Self, ApiResult<(Value, Option<(String, Owner)>)>>>
    {
        let forbidden = || ApiError::forbidden(format!("you may not subscribe to {channel}"));
        let state = self.state.clone();
        let parts: Vec<&str> = channel.split(':').collect();
        match parts.as_slice() {
            ["conversation", cid] => {
                let caller = self.caller()?;
                let cid: ConversationId = cid.parse().map_err(|_| forbidden())?;
                let sub = self.subscriber(ctx, Audience::Customer);
                let name = channel.clone();
                let fut = async move {
                    match state.engine.conversation(cid).await {
                        Ok(ConversationRef::Live(addr)) => {
                            let done = match addr
                                .send(SubscribeConversation {
                                    caller,
                                    subscriber: sub,
                                    after_seq,
                                })
                                .await?
                            {
                                Ok(done) => done,
                                Err(EngineError::NotFound(_)) => {
                                    return Err(ApiError::forbidden(format!(
                                        "you may not subscribe to {name}"
                                    )))
                                }
                                Err(e) => return Err(e.into()),
                            };
                            let owner = live_owner(&done, || Owner::Conversation(addr));
                            Ok((subscribed(&name, &done), Some((name, owner))))
                        }
                        Ok(ConversationRef::Closed(rec)) => {
                            if !caller.can_view(rec.project_id, &rec.visitor_id) {
                                return Err(ApiError::forbidden(format!(
                                    "you may not subscribe to {name}"
                                )));
                            }
                            let staff = matches!(caller, Caller::Staff(_));
                            let store = state.engine.store();
                            let last = store.last_seq(cid).await?;
                            let mut done = Subscribed {
                                last_seq: last,
                                replayed_to: None,
                                more: false,
                            };
                            // The same pages as a live conversation's, with
                            // nothing live to join afterwards.
                            if let Some(after) = after_seq {
                                let (upto, more) = replay_page(after, last);
                                let msgs = if upto > after {
                                    store.load_messages(cid, after, upto - after).await?
                                } else {
                                    Vec::new()
                                };
                                let frames = msgs
                                    .iter()
                                    .filter(|m| m.seq <= upto && (staff || !m.internal))
                                    .map(|m| {
                                        event_frame(&name, "message", Some(m.seq), m, m.created_at)
                                    });
                                if !sub.replay(frames) {
                                    sub.evict(&name);
                                }
                                done = Subscribed {
                                    last_seq: last,
                                    replayed_to: Some(upto),
                                    more,
                                };
                            }
                            Ok((subscribed(&name, &done), Some((name, Owner::Nothing))))
                        }
                        Err(EngineError::NotFound(_)) => Err(ApiError::forbidden(format!(
                            "you may not subscribe to {name}"
                        ))),
                        Err(e) => Err(e.into()),
                    }
                };
                Ok(actix::fut::wrap_future(fut).boxed_local())
            }
            ["project", pid, kind] => {
                let pid: ProjectId = pid.parse().map_err(|_| forbidden())?;
                let kind = match *kind {
                    "agents" => ProjectChannel::Agents,
                    "widget" => ProjectChannel::Widget,
                    _ => return Err(forbidden()),
                };
                let allowed = match (&self.who, kind) {
                    (Identity::WidgetKey(p), ProjectChannel::Widget) => *p == pid,
                    (
                        Identity::Caller(Caller::Customer { project_id, .. }),
                        ProjectChannel::Widget,
                    ) => *project_id == pid,
                    (Identity::Caller(c), _) => c.is_staff_of(pid),
                    _ => false,
                };
                if !allowed {
                    return Err(forbidden());
                }
                Ok(self.subscribe_project(channel, pid, kind, ctx))
            }
            ["presence", pid] => {
                let pid: ProjectId = pid.parse().map_err(|_| forbidden())?;
                if !self.caller().map(|c| c.is_staff_of(pid)).unwrap_or(false) {
                    return Err(forbidden());
                }
                Ok(self.subscribe_project(channel, pid, ProjectChannel::Presence, ctx))
            }
            ["session", sid] => {
                let caller = self.caller().map_err(|_| forbidden())?;
                let sid: SessionId = sid.parse().map_err(|_| forbidden())?;
                let sub = self.subscriber(ctx, Audience::Customer);
                let name = channel.clone();
                Ok(actix::fut::wrap_future(async move {
                    let addr = crate::http::sessions::actor(&state, sid)
                        .await
                        .map_err(|_| {
                            ApiError::forbidden(format!("you may not subscribe to {name}"))
                        })?;
                    let done = match addr
                        .send(SubscribeSession {
                            caller,
                            subscriber: sub,
                            after_seq,
                        })
                        .await?
                    {
                        Ok(done) => done,
                        Err(EngineError::NotFound(_) | EngineError::Forbidden(_)) => {
                            return Err(ApiError::forbidden(format!(
                                "you may not subscribe to {name}"
                            )))
                        }
                        Err(e) => return Err(e.into()),
                    };
                    let owner = live_owner(&done, || Owner::Session(addr));
                    Ok((subscribed(&name, &done), Some((name, owner))))
                })
                .boxed_local())
            }
            ["agent", uid] => {
                let uid: UserId = uid.parse().map_err(|_| forbidden())?;
                if self.caller().ok().and_then(|c| c.user_id()) != Some(uid) {
                    return Err(forbidden());
                }
                let addr = state.engine.agent(uid);
                addr.do_send(SubscribeAgent {
                    subscriber: self.subscriber(ctx, Audience::Staff),
                });
                Ok(actix::fut::ready(Ok((
                    json!({ "channel": channel, "last_seq": null }),
                    Some((channel, Owner::Agent(addr))),
                )))
                .boxed_local())
            }
            _ => Err(forbidden()),
        }
    }

    /// `session_control`, `screen_share_answer` and `signal` (docs/protocol.md
    /// section 4), answered as their REST twins.
    #[allow(clippy::type_complexity)]
    fn session_op(
        &mut self,
        op: &str,
        id: SessionId,
        caller: Caller,
        v: &Value,
    ) -> ApiResult<actix::fut::LocalBoxActorFuture<Self, ApiResult<(Value, Option<(String, Owner)>)>>>
    {
        let state = self.state.clone();
        let fut: std::pin::Pin<Box<dyn std::future::Future<Output = ApiResult<Value>>>> = match op {
            "session_control" => {
                let action = SessionAction::parse(str_field(v, "action")?).ok_or_else(|| {
                    ApiError::field("action", "must be start, pause, resume, complete or cancel")
                })?;
                let tier = match v.get("tier") {
                    None | Some(Value::Null) => None,
                    Some(_) => Some(str_field(v, "tier")?.to_string()),
                };
                let reason = match v.get("reason") {
                    None | Some(Value::Null) => None,
                    Some(_) => Some(str_field(v, "reason")?.to_string()),
                };
                Box::pin(async move {
                    if action == SessionAction::Complete {
                        return crate::http::sessions::complete_session(
                            &state,
                            caller,
                            id,
                            tier.as_deref(),
                        )
                        .await;
                    }
                    Ok(crate::http::sessions::actor(&state, id)
                        .await?
                        .send(ControlSession {
                            caller,
                            action,
                            tier: None,
                            reason,
                        })
                        .await??)
                })
            }
            "screen_share_answer" => {
                let accepted = field(v, "accepted")?
                    .as_bool()
                    .ok_or_else(|| ApiError::bad_request("\"accepted\" must be true or false"))?;
                let peer_id = match v.get("peer_id") {
                    None | Some(Value::Null) => None,
                    Some(_) => Some(str_field(v, "peer_id")?.to_string()),
                };
                Box::pin(async move {
                    Ok(crate::http::sessions::actor(&state, id)
                        .await?
                        .send(AnswerScreenShare {
                            caller,
                            accepted,
                            peer_id,
                        })
                        .await??)
                })
            }
            _ => {
                let to = str_field(v, "to")?.to_string();
                let payload = field(v, "payload")?.clone();
                Box::pin(async move {
                    crate::http::sessions::actor(&state, id)
                        .await?
                        .send(RelaySignal {
                            caller,
                            to,
                            payload,
                        })
                        .await??;
                    Ok(json!({}))
                })
            }
        };
        Ok(
            actix::fut::wrap_future::<_, Self>(async move { fut.await.map(|d| (d, None)) })
                .boxed_local(),
        )
    }

    #[allow(clippy::type_complexity)]
    fn subscribe_project(
        &mut self,
        channel: String,
        pid: ProjectId,
        kind: ProjectChannel,
        ctx: &mut ws::WebsocketContext<Self>,
    ) -> actix::fut::LocalBoxActorFuture<Self, ApiResult<(Value, Option<(String, Owner)>)>> {
        let audience = match kind {
            ProjectChannel::Widget => Audience::Public,
            _ => Audience::Staff,
        };
        let sub = self.subscriber(ctx, audience);
        let state = self.state.clone();
        actix::fut::wrap_future(async move {
            let p = state.engine.project(pid).await?;
            p.addr
                .send(SubscribeProject {
                    channel: kind,
                    subscriber: sub,
                })
                .await?;
            Ok((
                json!({ "channel": channel, "last_seq": null }),
                Some((channel, Owner::Project(p.addr, kind))),
            ))
        })
        .boxed_local()
    }
}
