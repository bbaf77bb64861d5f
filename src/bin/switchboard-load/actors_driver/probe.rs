//! Probe subscribers: small actors standing where a WebSocket connection
//! would, recording what they receive and when.
//!
//! - [`ConvProbe`] subscribes to one conversation (customer or staff
//!   audience) and keeps, per `message` event, its seq, the harness's key
//!   (from `client_msg_id` `L<k>`) and the receive instant.
//! - [`AgentProbe`] subscribes to one agent's channel and forwards each
//!   `conversation_assigned` to the driver.

use actix::prelude::*;
use serde::Deserialize;
use std::time::Instant;
use switchboard_actors::engine::events::{Deliver, Evicted};
use switchboard_actors::ids::ConversationId;
use tokio::sync::mpsc::UnboundedSender;

/// A probe's mailbox: large, so the probe is never the slow consumer the
/// engine evicts (an eviction is reported and fails the run).
pub const PROBE_MAILBOX: usize = 1 << 20;

/// The harness's key of a message it sent: `client_msg_id` is `L<key>`.
pub fn client_msg_id(key: u64) -> String {
    format!("L{key}")
}

pub fn key_of(client_msg_id: &str) -> Option<u64> {
    client_msg_id.strip_prefix('L')?.parse().ok()
}

#[derive(Deserialize)]
struct FrameHead<'a> {
    #[serde(borrow)]
    event: &'a str,
    #[serde(default)]
    seq: Option<i64>,
    #[serde(default, borrow)]
    data: Option<DataHead<'a>>,
}

#[derive(Deserialize)]
struct DataHead<'a> {
    #[serde(default, borrow)]
    client_msg_id: Option<&'a str>,
    #[serde(default, borrow)]
    conversation_id: Option<&'a str>,
}

#[derive(Debug, Clone, Copy)]
pub struct Receipt {
    pub seq: i64,
    pub key: Option<u64>,
    pub at: Instant,
}

#[derive(Default)]
pub struct ConvProbe {
    receipts: Vec<Receipt>,
    evicted: u32,
    bad_frames: u32,
}

impl Actor for ConvProbe {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(PROBE_MAILBOX);
    }
}

impl Handler<Deliver> for ConvProbe {
    type Result = ();

    fn handle(&mut self, msg: Deliver, _: &mut Context<Self>) {
        let at = Instant::now();
        for frame in &msg.frames {
            match serde_json::from_str::<FrameHead<'_>>(frame) {
                Ok(f) if f.event == "message" => match f.seq {
                    Some(seq) => self.receipts.push(Receipt {
                        seq,
                        key: f.data.and_then(|d| d.client_msg_id).and_then(key_of),
                        at,
                    }),
                    None => self.bad_frames += 1,
                },
                Ok(_) => {}
                Err(_) => self.bad_frames += 1,
            }
        }
    }
}

impl Handler<Evicted> for ConvProbe {
    type Result = ();

    fn handle(&mut self, _: Evicted, _: &mut Context<Self>) {
        self.evicted += 1;
    }
}

/// How many message events the probe holds so far.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct CountReceipts;

impl Handler<CountReceipts> for ConvProbe {
    type Result = usize;

    fn handle(&mut self, _: CountReceipts, _: &mut Context<Self>) -> usize {
        self.receipts.len()
    }
}

pub struct ProbeLog {
    pub receipts: Vec<Receipt>,
    pub evicted: u32,
    pub bad_frames: u32,
}

/// Hand over everything recorded.
#[derive(Message)]
#[rtype(result = "ProbeLog")]
pub struct TakeLog;

impl Handler<TakeLog> for ConvProbe {
    type Result = MessageResult<TakeLog>;

    fn handle(&mut self, _: TakeLog, _: &mut Context<Self>) -> Self::Result {
        MessageResult(ProbeLog {
            receipts: std::mem::take(&mut self.receipts),
            evicted: self.evicted,
            bad_frames: self.bad_frames,
        })
    }
}

/// What an agent probe tells the driver.
#[derive(Debug)]
pub enum AgentNote {
    Assigned {
        seat: usize,
        conversation: ConversationId,
        at: Instant,
    },
    Evicted,
    BadFrame,
}

pub struct AgentProbe {
    pub seat: usize,
    pub tx: UnboundedSender<AgentNote>,
}

impl Actor for AgentProbe {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(PROBE_MAILBOX);
    }
}

impl Handler<Deliver> for AgentProbe {
    type Result = ();

    fn handle(&mut self, msg: Deliver, _: &mut Context<Self>) {
        let at = Instant::now();
        for frame in &msg.frames {
            let note = match serde_json::from_str::<FrameHead<'_>>(frame) {
                Ok(f) if f.event == "conversation_assigned" => match f
                    .data
                    .and_then(|d| d.conversation_id)
                    .and_then(|c| c.parse().ok())
                {
                    Some(conversation) => AgentNote::Assigned {
                        seat: self.seat,
                        conversation,
                        at,
                    },
                    None => AgentNote::BadFrame,
                },
                Ok(_) => continue,
                Err(_) => AgentNote::BadFrame,
            };
            let _ = self.tx.send(note);
        }
    }
}

impl Handler<Evicted> for AgentProbe {
    type Result = ();

    fn handle(&mut self, _: Evicted, _: &mut Context<Self>) {
        let _ = self.tx.send(AgentNote::Evicted);
    }
}
