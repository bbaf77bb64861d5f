//! What each frame does, once parsed and its sender known: the shared
//! operations of src/ops, as REST does them, answered as reply frames.

use super::frames::{target, Frame, Target};
use super::{unsubscribe, Owner, WsConn};
use crate::error::{ApiError, ApiResult};
use crate::ops::{agent, conversation, session};
use actix::prelude::*;
use actix_web_actors::ws;
use serde_json::{json, Value};
use std::future::Future;
use switchboard_actors::domain::session::SessionAction;

/// A reply's data, and a subscription to keep (its channel and owner).
pub(super) type Reply = ApiResult<(Value, Option<(String, Owner)>)>;
pub(super) type ReplyFuture = actix::fut::LocalBoxActorFuture<WsConn, Reply>;

/// A reply that subscribes to nothing.
fn answer(f: impl Future<Output = ApiResult<Value>> + 'static) -> ReplyFuture {
    actix::fut::wrap_future(async move { f.await.map(|d| (d, None)) }).boxed_local()
}

impl WsConn {
    pub(super) fn dispatch(
        &mut self,
        frame: Frame,
        ctx: &mut ws::WebsocketContext<Self>,
    ) -> ApiResult<ReplyFuture> {
        let state = self.state.clone();
        Ok(match frame {
            Frame::Auth { .. } => {
                return Err(ApiError::bad_request(
                    "this socket is already authenticated",
                ))
            }
            Frame::Ping => answer(async { Ok(json!({ "pong": true })) }),
            Frame::Subscribe { channel, after_seq } => self.subscribe(channel, after_seq, ctx)?,
            Frame::Unsubscribe { channel } => {
                if let Some(owner) = self.subs.remove(&channel) {
                    unsubscribe(owner, self.id);
                }
                answer(async move { Ok(json!({ "channel": channel })) })
            }
            Frame::SendMessage {
                session_id,
                conversation_id,
                content,
                client_msg_id,
                metadata,
            } => {
                let caller = self.caller()?;
                match target(session_id, conversation_id)? {
                    Target::Session(id) => {
                        let m = session::NewSessionMessage {
                            content,
                            client_msg_id,
                        };
                        answer(async move {
                            Ok(json!(&*session::send_message(&state, caller, id, m).await?))
                        })
                    }
                    Target::Conversation(id) => {
                        let m = conversation::NewMessage {
                            content,
                            client_msg_id,
                            metadata,
                        };
                        answer(async move {
                            Ok(json!(
                                &*conversation::send_message(&state, caller, id, m).await?
                            ))
                        })
                    }
                }
            }
            Frame::Typing {
                session_id,
                conversation_id,
                is_typing,
            } => {
                let caller = self.caller()?;
                let target = target(session_id, conversation_id)?;
                answer(async move {
                    match target {
                        Target::Session(id) => {
                            session::typing(&state, caller, id, is_typing).await?
                        }
                        Target::Conversation(id) => {
                            conversation::typing(&state, caller, id, is_typing).await?
                        }
                    }
                    Ok(json!({}))
                })
            }
            Frame::Presence {
                conversation_id,
                status,
            } => {
                let caller = self.caller()?;
                answer(async move {
                    conversation::presence(&state, caller, conversation_id, &status).await?;
                    Ok(json!({}))
                })
            }
            Frame::Heartbeat { project_id } => {
                let auth = self.staff()?;
                answer(async move {
                    agent::heartbeat(&state, &auth, project_id).await?;
                    Ok(json!({}))
                })
            }
            Frame::SetStatus { project_id, status } => {
                let auth = self.staff()?;
                answer(async move {
                    Ok(json!(
                        agent::set_status(&state, &auth, project_id, &status).await?
                    ))
                })
            }
            Frame::Claim { conversation_id } => {
                let auth = self.staff()?;
                answer(async move {
                    let c = conversation::claim(&state, &auth, conversation_id).await?;
                    Ok(json!({ "success": true, "conversation": c }))
                })
            }
            Frame::Resolve { conversation_id } => {
                let auth = self.staff()?;
                answer(async move {
                    Ok(json!(
                        conversation::resolve(&state, &auth, conversation_id).await?
                    ))
                })
            }
            Frame::Transfer {
                conversation_id,
                to_agent_id,
            } => {
                let auth = self.staff()?;
                answer(async move {
                    let view =
                        conversation::transfer(&state, &auth, conversation_id, to_agent_id).await?;
                    Ok(json!(view))
                })
            }
            Frame::UpdateConversation {
                conversation_id,
                tags,
                customer_name,
                customer_email,
                status,
            } => {
                let auth = self.staff()?;
                let edit = conversation::ConversationEdit {
                    tags,
                    customer_name,
                    customer_email,
                    status,
                };
                answer(async move {
                    Ok(json!(
                        conversation::edit(&state, &auth, conversation_id, edit).await?
                    ))
                })
            }
            Frame::SessionControl {
                session_id: id,
                action,
                tier,
                reason,
            } => {
                let caller = self.caller()?;
                let action = SessionAction::parse(&action).ok_or_else(|| {
                    ApiError::field("action", "must be start, pause, resume, complete or cancel")
                })?;
                answer(async move {
                    match action {
                        SessionAction::Complete => {
                            session::complete(&state, caller, id, tier.as_deref()).await
                        }
                        _ => session::control(&state, caller, id, action, reason).await,
                    }
                })
            }
            Frame::ScreenShareAnswer {
                session_id: id,
                accepted,
                peer_id,
            } => {
                let caller = self.caller()?;
                answer(async move {
                    session::answer_screen_share(&state, caller, id, accepted, peer_id).await
                })
            }
            Frame::Signal {
                session_id: id,
                to,
                payload,
            } => {
                let caller = self.caller()?;
                answer(async move {
                    session::signal(&state, caller, id, to, payload).await?;
                    Ok(json!({}))
                })
            }
        })
    }
}
