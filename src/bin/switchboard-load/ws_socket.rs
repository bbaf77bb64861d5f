//! One WebSocket client speaking docs/protocol.md section 4, built for load: a
//! reader task parses every frame as it arrives (typed, borrowing, no
//! `serde_json::Value` per frame) and hands it to the scenario's handler; a
//! writer task batches queued frames into as few writes as it can. Sending
//! never waits for a reply.
//!
//! Refs are numbers. Below [`PING_REF_BASE`] they belong to the scenario
//! (the chat driver uses the message's index); pings sent with
//! [`Sock::ping`] use refs from [`PING_REF_BASE`] and are only counted;
//! control ops awaited with [`Sock::op`] use refs from [`OP_REF_BASE`].

use awc::ws::{Frame, Message};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

pub const PING_REF_BASE: u64 = 1 << 50;
pub const OP_REF_BASE: u64 = 1 << 52;

/// A frame from the server, as far as the harness reads it.
#[derive(Debug, Deserialize)]
pub struct In<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(rename = "ref", default)]
    pub r: Option<u64>,
    #[serde(default)]
    pub ok: Option<bool>,
    #[serde(default, borrow)]
    pub error: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub message: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub channel: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub event: Option<Cow<'a, str>>,
    #[serde(default)]
    pub seq: Option<i64>,
    #[serde(default, borrow)]
    pub data: Option<Data<'a>>,
}

/// The parts of a reply's or event's `data` the harness uses: a message
/// object's, a pong's and a subscribe reply's.
#[derive(Debug, Deserialize)]
pub struct Data<'a> {
    #[serde(default)]
    pub seq: Option<i64>,
    #[serde(default, borrow)]
    pub client_msg_id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub pong: Option<bool>,
    #[serde(default)]
    pub replayed_to: Option<i64>,
    #[serde(default)]
    pub more: Option<bool>,
}

/// What an awaited control op got back.
#[derive(Debug, Clone)]
pub struct OpReply {
    pub ok: bool,
    pub error: String,
    /// A subscribe's replay stopped at this seq with more to come.
    pub more_after: Option<i64>,
}

/// Called on the reader task for every frame that is not the answer to a
/// ping or a control op: `(socket index, frame, arrival time)`.
pub type Handler = Rc<dyn Fn(usize, &In<'_>, Instant)>;

#[derive(Default)]
struct Shared {
    pending: RefCell<HashMap<u64, oneshot::Sender<OpReply>>>,
    next_op: Cell<u64>,
    next_ping: Cell<u64>,
    pings_sent: Cell<u64>,
    pongs: Cell<u64>,
    /// Why the socket ended; `None` while open.
    ended: RefCell<Option<String>>,
    unparsed: Cell<u64>,
    first_unparsed: RefCell<Option<String>>,
}

pub struct Sock {
    pub idx: usize,
    tx: mpsc::UnboundedSender<Message>,
    shared: Rc<Shared>,
}

impl Sock {
    /// Open `ws_base/ws?token=...` and start its reader and writer tasks.
    pub async fn connect(
        client: &awc::Client,
        ws_base: &str,
        token: &str,
        idx: usize,
        handler: Option<Handler>,
    ) -> Result<Sock, String> {
        let url = format!("{ws_base}/ws?token={}", url_encode(token));
        let (_resp, framed) = client
            .ws(url)
            .max_frame_size(1 << 20)
            .connect()
            .await
            .map_err(|e| format!("websocket connect: {e}"))?;
        let (mut sink, mut stream) = framed.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
        let shared = Rc::new(Shared::default());

        tokio::task::spawn_local(async move {
            'outer: while let Some(m) = rx.recv().await {
                let closing = matches!(m, Message::Close(_));
                if sink.feed(m).await.is_err() {
                    break;
                }
                if !closing {
                    while let Ok(m) = rx.try_recv() {
                        let closing = matches!(m, Message::Close(_));
                        if sink.feed(m).await.is_err() {
                            break 'outer;
                        }
                        if closing {
                            break;
                        }
                    }
                }
                if sink.flush().await.is_err() || closing {
                    break;
                }
            }
            let _ = sink.close().await;
        });

        let sh = shared.clone();
        let pong_tx = tx.clone();
        tokio::task::spawn_local(async move {
            let why = loop {
                match stream.next().await {
                    None => break "the stream ended".to_string(),
                    Some(Err(e)) => break format!("protocol error: {e}"),
                    Some(Ok(Frame::Text(bytes))) => {
                        let now = Instant::now();
                        match serde_json::from_slice::<In<'_>>(&bytes) {
                            Ok(f) => on_frame(&sh, idx, &f, now, handler.as_ref()),
                            Err(e) => {
                                sh.unparsed.set(sh.unparsed.get() + 1);
                                let mut first = sh.first_unparsed.borrow_mut();
                                if first.is_none() {
                                    *first = Some(format!(
                                        "{e}: {}",
                                        String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
                                    ));
                                }
                            }
                        }
                    }
                    Some(Ok(Frame::Ping(p))) => {
                        let _ = pong_tx.send(Message::Pong(p));
                    }
                    Some(Ok(Frame::Close(reason))) => {
                        break format!("closed by the server: {reason:?}")
                    }
                    Some(Ok(_)) => {}
                }
            };
            *sh.ended.borrow_mut() = Some(why);
            // Dropping the senders fails every op still waiting.
            sh.pending.borrow_mut().clear();
        });

        Ok(Sock { idx, tx, shared })
    }

    /// Queue a text frame; false once the socket is gone.
    pub fn send_text(&self, text: String) -> bool {
        self.tx.send(Message::Text(text.into())).is_ok()
    }

    /// Send an op (a `ref` is set) and wait for its reply.
    pub async fn op(&self, mut op: serde_json::Value, within: Duration) -> Result<OpReply, String> {
        let r = OP_REF_BASE + self.shared.next_op.get();
        self.shared.next_op.set(self.shared.next_op.get() + 1);
        op["ref"] = serde_json::json!(r);
        let (tx, rx) = oneshot::channel();
        self.shared.pending.borrow_mut().insert(r, tx);
        if !self.send_text(op.to_string()) {
            self.shared.pending.borrow_mut().remove(&r);
            return Err(format!("socket {} is closed", self.idx));
        }
        match tokio::time::timeout(within, rx).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(_)) => Err(format!(
                "socket {} ended before the reply: {}",
                self.idx,
                self.ended().unwrap_or_default()
            )),
            Err(_) => {
                self.shared.pending.borrow_mut().remove(&r);
                Err(format!("no reply within {within:?}"))
            }
        }
    }

    /// An op whose reply must be ok.
    pub async fn op_ok(&self, op: serde_json::Value, within: Duration) -> Result<OpReply, String> {
        let what = op["op"].as_str().unwrap_or("op").to_string();
        let reply = self.op(op, within).await?;
        if reply.ok {
            Ok(reply)
        } else {
            Err(format!("{what} refused: {}", reply.error))
        }
    }

    /// Subscribe to `channel` (replaying from `after_seq` when given, page
    /// after page until the server says the socket is live).
    pub async fn subscribe(
        &self,
        channel: &str,
        mut after_seq: Option<i64>,
        within: Duration,
    ) -> Result<OpReply, String> {
        loop {
            let mut op = serde_json::json!({ "op": "subscribe", "channel": channel });
            if let Some(a) = after_seq {
                op["after_seq"] = serde_json::json!(a);
            }
            let reply = self.op_ok(op, within).await?;
            match reply.more_after {
                Some(to) => after_seq = Some(to),
                None => return Ok(reply),
            }
        }
    }

    /// Send a `ping` op without waiting; its `pong` is counted.
    pub fn ping(&self) -> bool {
        let r = PING_REF_BASE + self.shared.next_ping.get();
        self.shared.next_ping.set(self.shared.next_ping.get() + 1);
        let ok = self.send_text(format!(r#"{{"op":"ping","ref":{r}}}"#));
        if ok {
            self.shared.pings_sent.set(self.shared.pings_sent.get() + 1);
        }
        ok
    }

    pub fn pings_sent(&self) -> u64 {
        self.shared.pings_sent.get()
    }

    pub fn pongs(&self) -> u64 {
        self.shared.pongs.get()
    }

    /// Why the socket ended, or `None` while it is open.
    pub fn ended(&self) -> Option<String> {
        self.shared.ended.borrow().clone()
    }

    /// Frames that were not JSON the harness understands, and the first one.
    pub fn unparsed(&self) -> (u64, Option<String>) {
        (
            self.shared.unparsed.get(),
            self.shared.first_unparsed.borrow().clone(),
        )
    }

    /// Ask for a normal close.
    pub fn close(&self) {
        let _ = self
            .tx
            .send(Message::Close(Some(awc::ws::CloseCode::Normal.into())));
    }
}

fn on_frame(sh: &Shared, idx: usize, f: &In<'_>, now: Instant, handler: Option<&Handler>) {
    if f.kind == "reply" {
        if let Some(r) = f.r {
            if r >= OP_REF_BASE {
                if let Some(tx) = sh.pending.borrow_mut().remove(&r) {
                    let _ = tx.send(OpReply {
                        ok: f.ok == Some(true),
                        error: format!(
                            "{} {}",
                            f.error.as_deref().unwrap_or(""),
                            f.message.as_deref().unwrap_or("")
                        ),
                        more_after: f
                            .data
                            .as_ref()
                            .filter(|d| d.more == Some(true))
                            .and_then(|d| d.replayed_to),
                    });
                }
                return;
            }
            if r >= PING_REF_BASE {
                if f.ok == Some(true) && f.data.as_ref().and_then(|d| d.pong) == Some(true) {
                    sh.pongs.set(sh.pongs.get() + 1);
                }
                return;
            }
        }
    }
    if let Some(h) = handler {
        h(idx, f, now);
    }
}

/// Percent-encode a token for a query string (tokens are URL-safe already;
/// this is for safety).
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
