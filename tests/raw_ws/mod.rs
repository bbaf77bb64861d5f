//! A raw WebSocket client for the black-box tests that must control every
//! bit on the wire: the handshake is written by hand over
//! `tokio::net::TcpStream` and every client frame is crafted byte by byte
//! (reserved bits, opcodes, the mask, lengths the frame does not carry).
//! It also reads this process's memory, for tests that bound what the
//! in-process server holds.
#![allow(dead_code)]

use crate::common::ASYNC_BOUND;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration as StdDuration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

pub const FIN: u8 = 0x80;
pub const CONT: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;
/// The mask key of every client frame here; not all zero, so a server that
/// forgot to unmask would read garbage.
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// The resident set of this process (server included), in bytes.
pub fn rss() -> u64 {
    status_kib("VmRSS:") * 1024
}

/// The anonymous part of the resident set (the heap), in bytes: without
/// mapped files, such as SQLite's memory-mapped database file, whose pages
/// count as resident once read.
pub fn rss_anon() -> u64 {
    status_kib("RssAnon:") * 1024
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

// ----- frames, crafted ------------------------------------------------------------

/// A client frame: `first` is the whole first byte (FIN, RSV, opcode), the
/// payload is masked with [`MASK`].
pub fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = header(first, payload.len() as u64);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    out
}

/// A masked frame header announcing `len` bytes, in the shortest length form.
pub fn header(first: u8, len: u64) -> Vec<u8> {
    let mut out = vec![first];
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= u64::from(u16::MAX) {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(&MASK);
    out
}

/// A client frame without a mask (which RFC 6455 5.1 forbids).
pub fn unmasked(first: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut out = vec![first, payload.len() as u8];
    out.extend_from_slice(payload);
    out
}

pub fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    p
}

// ----- the raw client -------------------------------------------------------------

/// What the server sent.
#[derive(Debug, PartialEq)]
pub enum Got {
    Text(Value),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// A close frame: its code (None for an empty payload).
    Close(Option<u16>),
    Other(u8, Vec<u8>),
    /// The connection ended without a close frame.
    Ended,
    /// Nothing within the bound.
    Silent,
}

pub struct Reader {
    rd: OwnedReadHalf,
    buf: Vec<u8>,
}

impl Reader {
    /// The next frame from the server (server frames are never masked).
    pub async fn next(&mut self, within: StdDuration) -> Got {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some((first, payload, used)) = parse_server_frame(&self.buf) {
                self.buf.drain(..used);
                assert_eq!(first & 0x70, 0, "the server set reserved bits");
                return match first & 0x0F {
                    TEXT => {
                        Got::Text(serde_json::from_slice(&payload).unwrap_or_else(|e| {
                            panic!("server text is not JSON ({e}): {payload:?}")
                        }))
                    }
                    PING => Got::Ping(payload),
                    PONG => Got::Pong(payload),
                    CLOSE if payload.is_empty() => Got::Close(None),
                    CLOSE => Got::Close(Some(u16::from_be_bytes([payload[0], payload[1]]))),
                    op => Got::Other(op, payload),
                };
            }
            let mut chunk = [0u8; 16 * 1024];
            match tokio::time::timeout_at(deadline, self.rd.read(&mut chunk)).await {
                Err(_) => return Got::Silent,
                Ok(Ok(0)) | Ok(Err(_)) => return Got::Ended,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Wait until at least `n` bytes have come (kept for `next`).
    pub async fn read_at_least(&mut self, n: usize) {
        while self.buf.len() < n {
            let mut chunk = [0u8; 4096];
            match tokio::time::timeout(ASYNC_BOUND, self.rd.read(&mut chunk)).await {
                Ok(Ok(k)) if k > 0 => self.buf.extend_from_slice(&chunk[..k]),
                other => panic!("{n} bytes did not come: {other:?}"),
            }
        }
    }

    /// Frames up to and including the close frame (or the end): the JSON
    /// texts seen first, and the close code. Pings and pongs are skipped.
    pub async fn until_close(&mut self) -> (Vec<Value>, Got) {
        let mut texts = Vec::new();
        loop {
            match self.next(ASYNC_BOUND).await {
                Got::Text(v) => texts.push(v),
                Got::Ping(_) | Got::Pong(_) => {}
                end => return (texts, end),
            }
        }
    }
}

/// `(first byte, payload, bytes used)` of a whole frame at the front.
pub fn parse_server_frame(buf: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    if buf.len() < 2 {
        return None;
    }
    assert_eq!(buf[1] & 0x80, 0, "the server masked a frame");
    let (len, at) = match buf[1] & 0x7F {
        126 if buf.len() >= 4 => (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
        127 if buf.len() >= 10 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            (u64::from_be_bytes(b), 10)
        }
        126 | 127 => return None,
        n => (u64::from(n), 2),
    };
    let end = at + usize::try_from(len).ok()?;
    if buf.len() < end {
        return None;
    }
    Some((buf[0], buf[at..end].to_vec(), end))
}

pub struct RawWs {
    pub reader: Reader,
    pub wr: OwnedWriteHalf,
}

impl RawWs {
    /// Open `/ws?token=` with a handshake written by hand.
    pub async fn connect(addr: SocketAddr, token: &str) -> RawWs {
        let sock = TcpStream::connect(addr).await.expect("tcp connect");
        let (mut rd, mut wr) = sock.into_split();
        let req = format!(
            "GET /ws?token={token} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        wr.write_all(req.as_bytes()).await.expect("send handshake");
        let mut buf = Vec::new();
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(ASYNC_BOUND, rd.read(&mut chunk))
                .await
                .expect("handshake answer in time")
                .expect("read handshake answer");
            assert!(n > 0, "the server closed during the handshake: {buf:?}");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        assert!(head.starts_with("HTTP/1.1 101"), "no upgrade: {head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
            "wrong accept key: {head}"
        );
        RawWs {
            reader: Reader {
                rd,
                buf: buf[head_end..].to_vec(),
            },
            wr,
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.wr.write_all(bytes).await.expect("send frame bytes");
    }

    pub async fn next(&mut self, within: StdDuration) -> Got {
        self.reader.next(within).await
    }

    pub async fn until_close(&mut self) -> (Vec<Value>, Got) {
        self.reader.until_close().await
    }

    /// Send a whole text message and return the reply it gets.
    pub async fn op(&mut self, text: &str) -> Value {
        self.send(&frame(FIN | TEXT, text.as_bytes())).await;
        match self.next(ASYNC_BOUND).await {
            Got::Text(v) => v,
            other => panic!("no reply to {text}: {other:?}"),
        }
    }
}
