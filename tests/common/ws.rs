//! The WebSocket client of the tests (docs/protocol.md section 4).

use super::{TestApp, ASYNC_BOUND, QUIET};
use awc::error::WsProtocolError;
use awc::ws::{CloseReason, Frame, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::time::Duration as StdDuration;

impl TestApp {
    // ----- WebSocket ---------------------------------------------------------

    pub async fn ws(&self, token: &str) -> Ws {
        match self.try_ws(token).await {
            Ok(ws) => ws,
            Err(e) => panic!("websocket connect failed: {e}"),
        }
    }

    /// Connect without a token in the URL (the first frame must be `auth`).
    pub async fn ws_unauthenticated(&self) -> Ws {
        self.ws_at(format!("ws://{}/ws", self.addr))
            .await
            .unwrap_or_else(|e| panic!("websocket connect failed: {e}"))
    }

    /// Connect; on refusal the error names the HTTP status.
    pub async fn try_ws(&self, token: &str) -> Result<Ws, String> {
        self.ws_at(format!("ws://{}/ws?token={}", self.addr, url_encode(token)))
            .await
    }

    async fn ws_at(&self, url: String) -> Result<Ws, String> {
        match self.client.ws(url).max_frame_size(1 << 22).connect().await {
            Ok((_resp, conn)) => Ok(Ws {
                conn: Box::new(conn),
                events: VecDeque::new(),
                next_ref: 0,
            }),
            Err(awc::error::WsClientError::InvalidResponseStatus(st)) => {
                Err(format!("status {}", st.as_u16()))
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

/// What came in on a WebSocket.
#[derive(Debug)]
pub enum Incoming {
    Json(Value),
    Close(Option<CloseReason>),
    /// The stream ended (or errored) without a close frame.
    Ended,
}

/// The client half of a WebSocket as awc frames it (its concrete type is
/// not nameable without another dependency).
pub trait WsConn:
    Stream<Item = Result<Frame, WsProtocolError>> + Sink<Message, Error = WsProtocolError> + Unpin
{
}

impl<T> WsConn for T where
    T: Stream<Item = Result<Frame, WsProtocolError>>
        + Sink<Message, Error = WsProtocolError>
        + Unpin
{
}

/// A WebSocket client speaking docs/protocol.md section 4. Events that arrive
/// while waiting for a reply are kept, in order, for `next_event`.
pub struct Ws {
    conn: Box<dyn WsConn>,
    events: VecDeque<Value>,
    next_ref: u64,
}

impl Ws {
    pub async fn send_text(&mut self, text: String) {
        self.conn
            .send(Message::Text(text.into()))
            .await
            .expect("ws send");
    }

    /// Send a text frame; an error (the server went away) is returned.
    pub async fn try_send_text(&mut self, text: String) -> Result<(), WsProtocolError> {
        self.conn.send(Message::Text(text.into())).await
    }

    /// The next frame of any kind, answering pings; `None` on timeout.
    pub async fn recv(&mut self, within: StdDuration) -> Option<Incoming> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let next = actix_rt::time::timeout(left, self.conn.next()).await;
            match next {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) => return Some(Incoming::Ended),
                Ok(Some(Ok(frame))) => match frame {
                    Frame::Text(bytes) => {
                        let v: Value = serde_json::from_slice(&bytes)
                            .unwrap_or_else(|e| panic!("server sent non-JSON text {bytes:?}: {e}"));
                        return Some(Incoming::Json(v));
                    }
                    Frame::Ping(b) => {
                        let _ = self.conn.send(Message::Pong(b)).await;
                    }
                    Frame::Pong(_) => {}
                    Frame::Close(reason) => return Some(Incoming::Close(reason)),
                    Frame::Binary(b) => panic!("server sent a binary frame: {b:?}"),
                    Frame::Continuation(_) => panic!("server sent a continuation frame"),
                },
            }
        }
    }

    /// Send an op (a `ref` is added when missing) and return its reply
    /// frame; events that arrive first are kept for `next_event`.
    pub async fn send_op(&mut self, mut op: Value) -> Value {
        if op.get("ref").is_none() {
            self.next_ref += 1;
            op["ref"] = json!(format!("r{}", self.next_ref));
        }
        let r = op["ref"].clone();
        self.send_text(op.to_string()).await;
        self.reply_to(&r).await
    }

    /// Wait for the reply whose `ref` is `r` (any reply when `r` is null).
    pub async fn reply_to(&mut self, r: &Value) -> Value {
        loop {
            match self.recv(ASYNC_BOUND).await {
                Some(Incoming::Json(v)) if v["type"] == json!("reply") => {
                    if r.is_null() || v["ref"] == *r {
                        return v;
                    }
                    panic!(
                        "reply to another ref {} while waiting for {r}: {v}",
                        v["ref"]
                    );
                }
                Some(Incoming::Json(v)) => self.events.push_back(v),
                other => panic!("no reply to {r}: {other:?}"),
            }
        }
    }

    /// The next `n` replies, whatever their refs, in arrival order.
    pub async fn replies(&mut self, n: usize) -> Vec<Value> {
        let mut out = Vec::new();
        while out.len() < n {
            match self.recv(ASYNC_BOUND).await {
                Some(Incoming::Json(v)) if v["type"] == json!("reply") => out.push(v),
                Some(Incoming::Json(v)) => self.events.push_back(v),
                other => panic!("expected {n} replies, got {out:#?} then {other:?}"),
            }
        }
        out
    }

    /// The reply must be ok; returns its `data`.
    pub async fn op_ok(&mut self, op: Value) -> Value {
        let reply = self.send_op(op.clone()).await;
        assert_eq!(reply["ok"], json!(true), "op {op} failed: {reply}");
        reply["data"].clone()
    }

    /// Subscribe; returns the reply's `data` (`{channel, last_seq}`).
    pub async fn subscribe(&mut self, channel: &str, after_seq: Option<i64>) -> Value {
        let mut op = json!({ "op": "subscribe", "channel": channel });
        if let Some(a) = after_seq {
            op["after_seq"] = json!(a);
        }
        self.op_ok(op).await
    }

    /// The next event frame, or `None` when nothing comes within `within`.
    pub async fn next_event(&mut self, within: StdDuration) -> Option<Value> {
        if let Some(e) = self.events.pop_front() {
            return Some(e);
        }
        match self.recv(within).await {
            None => None,
            Some(Incoming::Json(v)) if v["type"] == json!("event") => Some(v),
            Some(Incoming::Json(v)) => panic!("unexpected frame while waiting for an event: {v}"),
            Some(other) => panic!("socket ended while waiting for an event: {other:?}"),
        }
    }

    /// Skip events until one named `name` arrives (bounded); returns it.
    pub async fn expect_event(&mut self, name: &str) -> Value {
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + ASYNC_BOUND;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.next_event(left).await {
                Some(e) if e["event"] == json!(name) => return e,
                Some(e) => seen.push(e),
                None => panic!("no {name} event; saw {seen:#?}"),
            }
        }
    }

    /// The next `n` events named `name` on `channel`, skipping others.
    pub async fn collect_events(&mut self, channel: &str, name: &str, n: usize) -> Vec<Value> {
        let mut out = Vec::new();
        let deadline = std::time::Instant::now() + ASYNC_BOUND;
        while out.len() < n {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.next_event(left).await {
                Some(e) if e["event"] == json!(name) && e["channel"] == json!(channel) => {
                    out.push(e)
                }
                Some(_) => {}
                None => panic!("expected {n} {name} events on {channel}, got {out:#?}"),
            }
        }
        out
    }

    /// Every event that arrives until the socket is quiet for `QUIET`.
    pub async fn drain(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(e) = self.next_event(QUIET).await {
            out.push(e);
        }
        out
    }

    /// Drain (as [`Ws::drain`]) and tell whether no event was named `name`.
    pub async fn drained_none(&mut self, name: &str) -> bool {
        self.drain().await.iter().all(|e| e["event"] != json!(name))
    }

    pub async fn close(mut self) {
        let _ = self.conn.send(Message::Close(None)).await;
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
