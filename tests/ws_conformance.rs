//! The WebSocket below the JSON: RFC 6455 framing as the Autobahn suite
//! checks it (the parts that need no echo server), and the 64 KiB limit of
//! docs/protocol.md section 4, against the real server over real TCP.
//!
//! The client here is a raw one over `tokio::net::TcpStream`: the handshake
//! is written by hand and every frame is crafted byte by byte, so a test
//! controls every bit (reserved bits, opcodes, the mask, lengths the frame
//! does not carry). The two memory tests read the process's resident set
//! (the server runs in this process) and hold a lock that keeps the other
//! tests of this file from running beside them, so their growth is theirs.

mod common;
mod raw_ws;

use common::*;
use raw_ws::*;
use serde_json::{json, Value};
use std::cell::Cell;
use std::rc::Rc;
use tokio::io::AsyncWriteExt;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// docs/protocol.md section 4: a message is at most 64 KiB.
const LIMIT: usize = 64 * 1024;
/// What the memory tests allow the process to grow by.
const GROWTH_BOUND: u64 = 16 << 20;

/// Memory tests take it for writing, every other test for reading (each
/// test runs on its own thread and runtime; tokio's lock serves them all).
static MEMORY: RwLock<()> = RwLock::const_new(());

async fn shared() -> RwLockReadGuard<'static, ()> {
    MEMORY.read().await
}

async fn exclusive() -> RwLockWriteGuard<'static, ()> {
    MEMORY.write().await
}

async fn server_and_key() -> (TestApp, String) {
    let app = TestApp::start().await;
    let project = app.create_project("Acme").await;
    (app, project.public_key)
}

fn assert_too_large(texts: &[Value], end: &Got) {
    assert_eq!(
        texts.len(),
        1,
        "one error reply before the close: {texts:?}"
    );
    assert_eq!(texts[0]["type"], json!("reply"), "{}", texts[0]);
    assert_eq!(texts[0]["ok"], json!(false), "{}", texts[0]);
    assert_eq!(
        texts[0]["error"],
        json!("PAYLOAD_TOO_LARGE"),
        "{}",
        texts[0]
    );
    assert_eq!(*end, Got::Close(Some(1009)));
}

// ----- item 2: the frame limit, from the header ----------------------------------------

/// A header that announces 1 GiB, then 64 MB of its payload streamed: the
/// server answers PAYLOAD_TOO_LARGE and close 1009 from the header (the
/// frame never completes), reads none of the payload into memory, and the
/// process does not grow with what is sent.
#[actix_rt::test]
async fn a_frame_announcing_one_gib_is_refused_from_its_header_and_memory_stays_flat() {
    let _alone = exclusive().await;
    const SENT: u64 = 64 << 20;
    let (app, key) = server_and_key().await;
    let mut ws = RawWs::connect(app.addr, &key).await;
    assert_eq!(
        ws.op(r#"{"op":"ping","ref":"warm"}"#).await["ok"],
        json!(true)
    );
    let before = rss();

    let RawWs { mut reader, mut wr } = ws;
    let peak = Rc::new(Cell::new(before));
    let written = Rc::new(Cell::new(0u64));
    let writer = {
        let (peak, written) = (peak.clone(), written.clone());
        actix_rt::spawn(async move {
            if wr.write_all(&header(FIN | TEXT, 1 << 30)).await.is_err() {
                return;
            }
            let chunk = vec![0u8; 64 * 1024];
            while written.get() < SENT {
                if wr.write_all(&chunk).await.is_err() {
                    return;
                }
                written.set(written.get() + chunk.len() as u64);
                peak.set(peak.get().max(rss()));
            }
        })
    };
    let (texts, end) = reader.until_close().await;
    peak.set(peak.get().max(rss()));
    // Then the server drops the connection. (Until the client goes or its
    // disconnect timeout passes, actix-http discards what still arrives,
    // so the close frame is not lost to a reset; nothing is kept.)
    assert_eq!(reader.next(ASYNC_BOUND).await, Got::Ended);
    peak.set(peak.get().max(rss()));
    writer.abort();
    let _ = writer.await;

    // A frame that never completes was answered: from its header.
    assert_too_large(&texts, &end);
    let growth = peak.get().saturating_sub(before);
    assert!(
        growth < GROWTH_BOUND,
        "the process grew by {growth} bytes while {} bytes were sent",
        written.get()
    );
}

/// Small frames as fast as the socket takes them (with the pongs read):
/// the server reads them no faster than it handles them, so memory stays
/// flat however many arrive.
#[actix_rt::test]
async fn a_flood_of_small_frames_is_read_no_faster_than_it_is_handled() {
    let _alone = exclusive().await;
    const SENT: u64 = 32 << 20;
    let (app, key) = server_and_key().await;
    let mut ws = RawWs::connect(app.addr, &key).await;
    assert_eq!(
        ws.op(r#"{"op":"ping","ref":"warm"}"#).await["ok"],
        json!(true)
    );
    let before = rss();

    let ping = frame(FIN | PING, &[7u8; 125]);
    let per_write = 256;
    let batch: Vec<u8> = ping.repeat(per_write);
    let frames = SENT / ping.len() as u64 / per_write as u64 * per_write as u64;
    let RawWs { mut reader, mut wr } = ws;
    let peak = Rc::new(Cell::new(before));
    let writer = {
        let peak = peak.clone();
        actix_rt::spawn(async move {
            let mut sent = 0;
            while sent < frames {
                wr.write_all(&batch).await.expect("send pings");
                sent += per_write as u64;
                peak.set(peak.get().max(rss()));
            }
            wr
        })
    };
    let mut pongs = 0u64;
    while pongs < frames {
        match reader.next(ASYNC_BOUND).await {
            Got::Pong(p) => {
                assert_eq!(p, [7u8; 125]);
                pongs += 1;
            }
            other => panic!("after {pongs} pongs: {other:?}"),
        }
        if pongs % 4096 == 0 {
            peak.set(peak.get().max(rss()));
        }
    }
    let mut wr = writer.await.expect("writer");
    // The socket still answers.
    wr.write_all(&frame(FIN | TEXT, br#"{"op":"ping","ref":"after"}"#))
        .await
        .expect("send");
    let mut ws = RawWs { reader, wr };
    match ws.next(ASYNC_BOUND).await {
        Got::Text(v) => assert_eq!(v["ref"], json!("after"), "{v}"),
        other => panic!("no reply after the flood: {other:?}"),
    }
    let growth = peak.get().saturating_sub(before);
    assert!(
        growth < GROWTH_BOUND,
        "the process grew by {growth} bytes during {frames} pings"
    );
}

// ----- item 13: RFC 6455 ---------------------------------------------------------------

#[actix_rt::test]
async fn a_ping_is_answered_with_a_pong_carrying_its_payload() {
    let _g = shared().await;
    let (app, key) = server_and_key().await;
    let mut ws = RawWs::connect(app.addr, &key).await;
    for payload in [&b""[..], b"hello", &[0xAB; 125]] {
        ws.send(&frame(FIN | PING, payload)).await;
        assert_eq!(ws.next(ASYNC_BOUND).await, Got::Pong(payload.to_vec()));
    }
    // An unsolicited pong is ignored.
    ws.send(&frame(FIN | PONG, b"unasked")).await;
    assert_eq!(ws.op(r#"{"op":"ping","ref":"p"}"#).await["ref"], json!("p"));
}

/// Framing errors end the connection with close 1002, each on its own socket.
#[actix_rt::test]
async fn broken_framing_is_closed_with_1002() {
    let _g = shared().await;
    let (app, key) = server_and_key().await;
    let ping_op = br#"{"op":"ping","ref":"x"}"#;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("RSV1 set", frame(FIN | 0x40 | TEXT, ping_op)),
        ("RSV2 set", frame(FIN | 0x20 | TEXT, ping_op)),
        ("RSV3 set on a ping", frame(FIN | 0x10 | PING, b"")),
        ("opcode 3", frame(FIN | 0x3, b"")),
        ("opcode 11", frame(FIN | 0xB, b"")),
        ("unmasked text", unmasked(FIN | TEXT, ping_op)),
        ("ping of 126 bytes", frame(FIN | PING, &[1u8; 126])),
        ("fragmented ping", frame(PING, b"a")),
        ("continuation first", frame(FIN | CONT, ping_op)),
        ("text inside a fragmented text", {
            let mut b = frame(TEXT, b"{\"op\":");
            b.extend(frame(FIN | TEXT, ping_op));
            b
        }),
    ];
    for (what, bytes) in cases {
        let mut ws = RawWs::connect(app.addr, &key).await;
        ws.send(&bytes).await;
        let (texts, end) = ws.until_close().await;
        assert_eq!(end, Got::Close(Some(1002)), "{what}: {texts:?}");
        assert!(
            texts.is_empty(),
            "{what}: the broken frame was answered: {texts:?}"
        );
    }
}

/// RFC 6455 5.4: a fragmented message is the same message; control frames
/// may come between its fragments.
#[actix_rt::test]
async fn a_fragmented_message_is_answered_as_the_whole_one() {
    let _g = shared().await;
    let (app, key) = server_and_key().await;
    let mut ws = RawWs::connect(app.addr, &key).await;
    let whole = ws.op(r#"{"op":"ping","ref":"x"}"#).await;
    assert_eq!(whole["ok"], json!(true), "{whole}");

    ws.send(&frame(TEXT, br#"{"op":"pi"#)).await;
    ws.send(&frame(FIN | PING, b"between")).await;
    ws.send(&frame(CONT, br#"ng","ref"#)).await;
    ws.send(&frame(FIN | CONT, br#"":"x"}"#)).await;
    assert_eq!(ws.next(ASYNC_BOUND).await, Got::Pong(b"between".to_vec()));
    assert_eq!(ws.next(ASYNC_BOUND).await, Got::Text(whole.clone()));

    // Empty fragments and a multi-byte character split across fragments.
    ws.send(&frame(TEXT, b"")).await;
    ws.send(&frame(
        CONT,
        "{\"op\":\"ping\",\"ref\":\"\u{3ba}".as_bytes(),
    ))
    .await;
    let tail = "\u{3cc}\u{3c3}\u{3bc}\u{3b5}\"}".as_bytes();
    ws.send(&frame(CONT, &tail[..1])).await;
    ws.send(&frame(FIN | CONT, &tail[1..])).await;
    match ws.next(ASYNC_BOUND).await {
        Got::Text(v) => {
            assert_eq!(v["ok"], json!(true), "{v}");
            assert_eq!(v["ref"], json!("\u{3ba}\u{3cc}\u{3c3}\u{3bc}\u{3b5}"));
        }
        other => panic!("no reply to the fragmented op: {other:?}"),
    }

    // A fragmented binary message is refused as a whole one is, once.
    let bin = ws
        .op_binary_answer(&[frame(FIN | BINARY, b"\x01\x02")])
        .await;
    let frag = ws
        .op_binary_answer(&[frame(BINARY, b"\x01"), frame(FIN | CONT, b"\x02")])
        .await;
    assert_eq!(bin["error"], json!("BAD_REQUEST"), "{bin}");
    assert_eq!(frag, bin);
    assert_eq!(ws.next(QUIET).await, Got::Silent);
}

impl RawWs {
    /// Send frames of a binary message; the one reply they get.
    async fn op_binary_answer(&mut self, frames: &[Vec<u8>]) -> Value {
        for f in frames {
            self.send(f).await;
        }
        match self.next(ASYNC_BOUND).await {
            Got::Text(v) => v,
            other => panic!("no answer to a binary message: {other:?}"),
        }
    }
}

/// The 64 KiB limit is the reassembled message's: fragments that add up
/// to more are refused with the error reply and close 1009, from the header
/// of the fragment that goes over.
#[actix_rt::test]
async fn a_fragmented_message_over_64_kib_is_closed_with_1009() {
    let _g = shared().await;
    let (app, key) = server_and_key().await;

    // Exactly the limit is accepted...
    let mut ws = RawWs::connect(app.addr, &key).await;
    let op = br#"{"op":"ping","ref":"full"}"#;
    let mut msg = op.to_vec();
    msg.resize(LIMIT, b' ');
    let half = LIMIT / 2;
    ws.send(&frame(TEXT, &msg[..half])).await;
    ws.send(&frame(FIN | CONT, &msg[half..])).await;
    match ws.next(ASYNC_BOUND).await {
        Got::Text(v) => assert_eq!(v["ref"], json!("full"), "{v}"),
        other => panic!("a message of exactly 64 KiB was not answered: {other:?}"),
    }

    // ...one byte more is not.
    let mut ws = RawWs::connect(app.addr, &key).await;
    msg.push(b' ');
    ws.send(&frame(TEXT, &msg[..half])).await;
    ws.send(&frame(CONT, &msg[half..LIMIT])).await;
    // The header of the fragment that goes over is enough.
    ws.send(&header(FIN | CONT, 1)).await;
    let (texts, end) = ws.until_close().await;
    assert_too_large(&texts, &end);

    // A single frame over the limit, refused from its header alone.
    let mut ws = RawWs::connect(app.addr, &key).await;
    ws.send(&header(FIN | TEXT, LIMIT as u64 + 1)).await;
    let (texts, end) = ws.until_close().await;
    assert_too_large(&texts, &end);
}

/// RFC 6455 8.1: text that is not UTF-8 fails the connection with 1007,
/// found as the bytes arrive (the message need not be finished).
#[actix_rt::test]
async fn invalid_utf8_text_is_closed_with_1007() {
    let _g = shared().await;
    let (app, key) = server_and_key().await;
    // "κόσμε" then a code point above U+10FFFF (Autobahn 6.4.x).
    let kosme = "\u{3ba}\u{3cc}\u{3c3}\u{3bc}\u{3b5}".as_bytes();
    let bad = [0xF4, 0x90, 0x80, 0x80];
    let cases: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "a whole frame",
            vec![frame(FIN | TEXT, &[0xCE, 0xBA, 0xFF])],
        ),
        ("a lone continuation byte", vec![frame(FIN | TEXT, &[0x80])]),
        (
            "an overlong encoding",
            vec![frame(FIN | TEXT, &[0xC0, 0xAF])],
        ),
        ("a surrogate", vec![frame(FIN | TEXT, &[0xED, 0xA0, 0x80])]),
        (
            "a sequence cut short at the end of the message",
            vec![frame(FIN | TEXT, &[b'a', 0xE2, 0x82])],
        ),
        (
            "the bad byte in a later fragment, the message unfinished",
            vec![
                frame(TEXT, &kosme[..3]),
                frame(CONT, &[&kosme[3..], &bad[..]].concat()),
            ],
        ),
        (
            "a sequence split across fragments and broken in the second",
            vec![frame(TEXT, &[b'a', 0xE2]), frame(CONT, &[0x82, 0x41])],
        ),
    ];
    for (what, frames) in cases {
        let mut ws = RawWs::connect(app.addr, &key).await;
        for f in &frames {
            ws.send(f).await;
        }
        let (texts, end) = ws.until_close().await;
        assert_eq!(end, Got::Close(Some(1007)), "{what}: {texts:?}");
        assert!(texts.is_empty(), "{what}: answered {texts:?}");
    }
}

/// RFC 6455 5.5.1 and 7.4: a valid close code is echoed; an invalid code,
/// a one-byte payload or a reason that is not UTF-8 is a protocol error.
#[actix_rt::test]
async fn close_codes_are_echoed_or_refused() {
    let _g = shared().await;
    let (app, key) = server_and_key().await;
    for code in [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
    ] {
        let mut ws = RawWs::connect(app.addr, &key).await;
        ws.send(&frame(FIN | CLOSE, &close_payload(code, b"bye")))
            .await;
        assert_eq!(ws.until_close().await, (vec![], Got::Close(Some(code))));
    }
    // An empty close is answered with an empty one.
    let mut ws = RawWs::connect(app.addr, &key).await;
    ws.send(&frame(FIN | CLOSE, b"")).await;
    assert_eq!(ws.until_close().await, (vec![], Got::Close(None)));

    for code in [
        0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        let mut ws = RawWs::connect(app.addr, &key).await;
        ws.send(&frame(FIN | CLOSE, &close_payload(code, b"")))
            .await;
        assert_eq!(
            ws.until_close().await,
            (vec![], Got::Close(Some(1002))),
            "close code {code}"
        );
    }
    let mut ws = RawWs::connect(app.addr, &key).await;
    ws.send(&frame(FIN | CLOSE, &[0x03])).await;
    assert_eq!(
        ws.until_close().await,
        (vec![], Got::Close(Some(1002))),
        "a one-byte close payload"
    );
    let mut ws = RawWs::connect(app.addr, &key).await;
    ws.send(&frame(
        FIN | CLOSE,
        &close_payload(1000, &[0xCE, 0xBA, 0xFF]),
    ))
    .await;
    let (texts, end) = ws.until_close().await;
    assert!(texts.is_empty(), "{texts:?}");
    assert!(
        end == Got::Close(Some(1002)) || end == Got::Close(Some(1007)),
        "a close reason that is not UTF-8: {end:?}"
    );
}
