//! Fan-out of events to WebSocket connections. An event is serialized once
//! and the same frame is handed to every subscriber; a subscriber whose
//! mailbox is full is a slow consumer and is evicted (its connection closes
//! and the client resyncs with `after_seq`), so no buffer grows without bound.

use actix::prelude::*;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Frames for one connection, in order.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Deliver {
    pub frames: Vec<Arc<str>>,
}

/// The connection was dropped from `channel` because it could not keep up.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Evicted {
    pub channel: String,
}

/// Who is listening, which decides what they may see (internal notes go to
/// staff only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Customer,
    Staff,
    Public,
}

#[derive(Clone)]
pub struct Subscriber {
    /// Unique per connection, so a resubscribe replaces rather than doubles.
    pub id: u64,
    pub deliver: Recipient<Deliver>,
    pub evicted: Recipient<Evicted>,
    pub audience: Audience,
}

#[derive(Default)]
pub struct Subscribers {
    subs: HashMap<u64, Subscriber>,
}

#[derive(Serialize)]
struct EventFrame<'a, T: Serialize + ?Sized> {
    #[serde(rename = "type")]
    kind: &'static str,
    channel: &'a str,
    event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<i64>,
    data: &'a T,
    ts: String,
}

/// The frame's text, built once and shared by every subscriber. `data` is
/// serialized straight into it (no intermediate JSON value).
pub fn event_frame<T: Serialize + ?Sized>(
    channel: &str,
    event: &str,
    seq: Option<i64>,
    data: &T,
    ts: DateTime<Utc>,
) -> Arc<str> {
    let frame = EventFrame {
        kind: "event",
        channel,
        event,
        seq,
        data,
        ts: crate::wire_time::format(&ts),
    };
    serde_json::to_string(&frame)
        .unwrap_or_else(|_| String::from("{}"))
        .into()
}

impl Subscribers {
    pub fn insert(&mut self, sub: Subscriber) {
        self.subs.insert(sub.id, sub);
    }

    pub fn remove(&mut self, id: u64) -> bool {
        self.subs.remove(&id).is_some()
    }

    pub fn len(&self) -> usize {
        self.subs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.subs.is_empty()
    }

    /// Send one frame to every subscriber the filter admits.
    pub fn publish(&mut self, channel: &str, frame: &Arc<str>, admit: impl Fn(Audience) -> bool) {
        let mut evicted = Vec::new();
        for sub in self.subs.values() {
            if !admit(sub.audience) {
                continue;
            }
            let msg = Deliver {
                frames: vec![frame.clone()],
            };
            if sub.deliver.try_send(msg).is_err() {
                evicted.push(sub.id);
            }
        }
        for id in evicted {
            if let Some(sub) = self.subs.remove(&id) {
                sub.evicted.do_send(Evicted {
                    channel: channel.to_string(),
                });
            }
        }
    }

    pub fn publish_all(&mut self, channel: &str, frame: &Arc<str>) {
        self.publish(channel, frame, |_| true)
    }
}
