//! Fan-out of events to WebSocket connections. An event is serialized once
//! and the same frame is handed to every subscriber; a subscriber whose
//! mailbox is full is a slow consumer and is evicted (its connection closes
//! and the client resyncs with `after_seq`), so no buffer grows without bound.
//!
//! Replays go through the same bounded mailbox, one frame per message, and
//! a subscribe replays at most one page ([`REPLAY_PAGE`] seqs): a client
//! that missed more is not live yet and asks for the next page (see
//! [`replay_page`]), so no subscribe can queue a whole history.

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

impl Audience {
    /// Who a conversation's caller listens as: its customer as the
    /// customer, every other caller (staff, bots, the system) as staff.
    /// Live delivery and replay, live or closed, use this one rule.
    pub fn of(caller: &super::caller::Caller) -> Self {
        match caller {
            super::caller::Caller::Customer { .. } => Audience::Customer,
            _ => Audience::Staff,
        }
    }

    /// Whether this audience sees an entry (internal notes: staff only).
    pub fn sees(self, staff_only: bool) -> bool {
        self == Audience::Staff || !staff_only
    }
}

#[derive(Clone)]
pub struct Subscriber {
    /// Unique per connection, so a resubscribe replaces rather than doubles.
    pub id: u64,
    pub deliver: Recipient<Deliver>,
    pub evicted: Recipient<Evicted>,
    pub audience: Audience,
}

/// Most seqs one `subscribe` replays (docs/protocol.md section 4: "replays
/// durable events with seq > after_seq in bounded pages, then live").
pub const REPLAY_PAGE: i64 = 200;

/// The answer to a subscribe on a channel with a durable log
/// (`conversation:<id>`, `session:<id>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscribed {
    /// The channel's last durable seq when the subscriber was answered.
    pub last_seq: i64,
    /// When `after_seq` was given: every seq up to this one has been
    /// replayed (or withheld from this audience, like a customer's view of
    /// internal notes).
    pub replayed_to: Option<i64>,
    /// More remains: the subscriber is not live, and asks again with
    /// `after_seq: replayed_to`. False once it is live.
    pub more: bool,
}

/// The page a subscribe after `after` replays when the last durable seq is
/// `last`: seqs `after + 1 ..= upto`, and whether more remain after it. A
/// subscriber with more to come must not join the live channel yet: live
/// events would overtake the rest of its replay.
pub fn replay_page(after: i64, last: i64) -> (i64, bool) {
    if last - after > REPLAY_PAGE {
        (after + REPLAY_PAGE, true)
    } else {
        (last, false)
    }
}

impl Subscriber {
    /// Hand replayed frames over through the bounded mailbox, one message
    /// each, as live events go: they count against the connection's
    /// outbound bound. False when it is full: the caller evicts.
    pub fn replay(&self, frames: impl IntoIterator<Item = Arc<str>>) -> bool {
        frames
            .into_iter()
            .all(|f| self.deliver.try_send(Deliver { frames: vec![f] }).is_ok())
    }

    /// Drop the connection from `channel`: it could not keep up.
    pub fn evict(&self, channel: &str) {
        self.evicted.do_send(Evicted {
            channel: channel.to_string(),
        });
    }
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

    /// Drop subscribers whose connection has stopped (it unsubscribes as
    /// it stops, but a crash of its thread would not); true if any went.
    pub fn retain_connected(&mut self) -> bool {
        let before = self.subs.len();
        self.subs.retain(|_, s| s.deliver.connected());
        self.subs.len() != before
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
                sub.evict(channel);
            }
        }
    }

    pub fn publish_all(&mut self, channel: &str, frame: &Arc<str>) {
        self.publish(channel, frame, |_| true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_is_one_page_at_most() {
        assert_eq!(replay_page(0, 0), (0, false));
        assert_eq!(replay_page(0, REPLAY_PAGE), (REPLAY_PAGE, false));
        assert_eq!(replay_page(0, REPLAY_PAGE + 1), (REPLAY_PAGE, true));
        assert_eq!(replay_page(2_200, 2_400), (2_400, false));
        assert_eq!(replay_page(1_000, 2_400), (1_200, true));
        // A client ahead of the log (it cannot be) is simply live.
        assert_eq!(replay_page(50, 10), (10, false));
    }
}
