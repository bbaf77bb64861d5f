//! AgentActor: one per staff user. It owns the user's `agent:<user_id>`
//! channel, where the dashboard hears of conversations assigned to it and of
//! its customers' presence. Status and heartbeats live in each project's
//! capacity ledger (the project decides assignments from them).

use super::events::{event_frame, Subscriber, Subscribers};
use super::supervisor::Engine;
use crate::ids::UserId;
use actix::prelude::*;
use serde_json::Value;

pub struct AgentActor {
    engine: Engine,
    user_id: UserId,
    channel: Subscribers,
}

impl AgentActor {
    pub fn new(engine: Engine, user_id: UserId) -> Self {
        AgentActor {
            engine,
            user_id,
            channel: Subscribers::default(),
        }
    }
}

impl Actor for AgentActor {
    type Context = Context<Self>;
}

/// Tell the agent's dashboards something (`conversation_assigned`, ...).
#[derive(Message)]
#[rtype(result = "()")]
pub struct NotifyAgent {
    pub event: &'static str,
    pub data: Value,
}

impl Handler<NotifyAgent> for AgentActor {
    type Result = ();
    fn handle(&mut self, msg: NotifyAgent, _: &mut Context<Self>) {
        let channel = format!("agent:{}", self.user_id);
        let frame = event_frame(
            &channel,
            msg.event,
            None,
            &msg.data,
            self.engine.clock().now(),
        );
        self.channel.publish_all(&channel, &frame);
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct SubscribeAgent {
    pub subscriber: Subscriber,
}

impl Handler<SubscribeAgent> for AgentActor {
    type Result = ();
    fn handle(&mut self, msg: SubscribeAgent, _: &mut Context<Self>) {
        self.channel.insert(msg.subscriber);
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct UnsubscribeAgent {
    pub subscriber_id: u64,
}

impl Handler<UnsubscribeAgent> for AgentActor {
    type Result = ();
    fn handle(&mut self, msg: UnsubscribeAgent, _: &mut Context<Self>) {
        self.channel.remove(msg.subscriber_id);
    }
}
