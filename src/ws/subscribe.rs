//! `subscribe`: who may hear which channel (docs/protocol.md section 4),
//! and joining its owner; a durable channel replays from `after_seq`
//! first.

use super::dispatch::ReplyFuture;
use super::{Identity, Owner, WsConn};
use crate::error::{ApiError, ApiResult};
use crate::ops::session;
use actix::prelude::*;
use actix_web_actors::ws;
use serde_json::{json, Value};
use switchboard_actors::engine::agent::SubscribeAgent;
use switchboard_actors::engine::conversation::SubscribeConversation;
use switchboard_actors::engine::events::Audience;
use switchboard_actors::engine::events::Subscribed;
use switchboard_actors::engine::project::{ProjectChannel, SubscribeProject};
use switchboard_actors::engine::session::SubscribeSession;
use switchboard_actors::engine::{Caller, EngineError};
use switchboard_actors::ids::{ConversationId, ProjectId, SessionId, UserId};

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

impl WsConn {
    pub(super) fn subscribe(
        &mut self,
        channel: String,
        after_seq: Option<i64>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) -> ApiResult<ReplyFuture> {
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
                    let subscribe = SubscribeConversation {
                        caller,
                        subscriber: sub,
                        after_seq,
                    };
                    let (done, addr) = match state.engine.ask_conversation_at(cid, subscribe).await
                    {
                        Ok(answer) => answer,
                        Err(EngineError::NotFound(_)) => {
                            return Err(ApiError::forbidden(format!(
                                "you may not subscribe to {name}"
                            )))
                        }
                        Err(e) => return Err(e.into()),
                    };
                    // A closed conversation replays and never goes live.
                    let owner = match addr {
                        Some(addr) => live_owner(&done, || Owner::Conversation(addr)),
                        None => Owner::Nothing,
                    };
                    Ok((subscribed(&name, &done), Some((name, owner))))
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
                    let addr = session::actor(&state, sid).await.map_err(|_| {
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

    fn subscribe_project(
        &mut self,
        channel: String,
        pid: ProjectId,
        kind: ProjectChannel,
        ctx: &mut ws::WebsocketContext<Self>,
    ) -> ReplyFuture {
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
