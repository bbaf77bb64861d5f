//! The guard on a WebSocket's incoming bytes.
//!
//! actix-web-actors reads every byte a client sends into one buffer, and
//! actix-http's codec looks at a frame's length only once the whole frame
//! is in it: a header announcing a gigabyte grows memory with every byte
//! that follows it. [`FrameGuard`] sits between the upgraded request
//! payload and that codec. It parses each frame header as the bytes pass
//! and checks what RFC 6455 and docs/protocol.md section 4 ask of a client's
//! frames: masked, no reserved bits, known opcodes, control frames whole
//! and at most 125 bytes, fragments in sequence, a message within the size
//! limit (judged from the header, before its payload is read), text that
//! is UTF-8 (validated as it streams, across fragments, so a bad byte fails
//! at once), and a close frame's code and reason. It releases only bytes it
//! has checked, and only as many as the connection actor has room for, so
//! the codec's buffer holds about two messages at most however fast a
//! client sends.
//!
//! On a violation the guard withholds the rest, records why in the
//! [`GuardCell`] it shares with the connection actor, lets the actor handle
//! every frame released before the bad one, and then ends the stream with
//! an error; the actor reads the cell and closes with the code RFC 6455
//! names (1002, 1007 or 1009).

use actix_http::ws::CloseCode;
use actix_web::error::PayloadError;
use actix_web::web::{Bytes, BytesMut};
use futures::Stream;
use std::cell::Cell;
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// The longest header of a client frame: two bytes, a 64-bit length and
/// the mask key.
const MAX_HEADER: usize = 14;
/// The longest control frame payload (RFC 6455 5.5).
const MAX_CONTROL_PAYLOAD: usize = 125;
/// Frames released to the codec and not yet handled by the actor, at most;
/// with the byte bound below it keeps a flood of tiny frames from piling
/// up in the codec's buffer.
const MAX_FRAMES_IN_FLIGHT: usize = 64;

/// Why the guard ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// A message longer than the limit (close 1009).
    TooLarge,
    /// Broken framing (close 1002), and what was broken.
    Protocol(&'static str),
    /// Text that is not UTF-8 (close 1007).
    InvalidUtf8,
}

impl Violation {
    pub fn close_code(self) -> CloseCode {
        match self {
            Violation::TooLarge => CloseCode::Size,
            Violation::Protocol(_) => CloseCode::Protocol,
            Violation::InvalidUtf8 => CloseCode::Invalid,
        }
    }

    /// The close frame's reason (short: a close payload is at most 125 bytes).
    pub fn reason(self) -> &'static str {
        match self {
            Violation::TooLarge => "message too large",
            Violation::Protocol(why) => why,
            Violation::InvalidUtf8 => "text is not UTF-8",
        }
    }
}

/// A close code a client may send (RFC 6455 7.4; 1012 to 1014 are
/// registered since, and 1013 is what this server sends a slow client).
pub fn valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// What the guard and the connection actor share. Both live on the
/// connection's thread, so plain cells do.
#[derive(Default)]
pub struct GuardCell {
    /// Why the guard ended the stream, once it has.
    verdict: Cell<Option<Violation>>,
    /// Frames the actor has handled: what has left the codec's buffer.
    handled: Cell<u64>,
    /// The guard, when it waits for the actor to make room.
    waker: Cell<Option<Waker>>,
}

impl GuardCell {
    pub fn verdict(&self) -> Option<Violation> {
        self.verdict.get()
    }

    /// The actor handled one frame (any kind, in the order they came).
    pub fn frame_handled(&self) {
        self.handled.set(self.handled.get() + 1);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

/// The stream adapter: checked bytes of `inner`, in order, and nothing
/// after a violation.
pub struct FrameGuard<S> {
    inner: S,
    cell: Rc<GuardCell>,
    scanner: Scanner,
    /// Received and not yet released: an incomplete header or control
    /// frame, or what waits for the actor to make room. At most one chunk
    /// of the payload plus a header.
    buf: BytesMut,
    /// Bytes released so far (a position in the stream).
    released: u64,
    /// Where released frames end, oldest first, until the actor has
    /// handled them.
    frame_ends: VecDeque<u64>,
    /// How many of the actor's handled frames have been taken off
    /// `frame_ends`.
    retired: u64,
    /// Every frame before this position has been handled.
    handled_to: u64,
    /// Released and unhandled bytes, at most (more than one whole frame,
    /// so a complete frame is always there for the actor to take).
    room: u64,
    inner_done: bool,
    ended: bool,
}

impl<S> FrameGuard<S> {
    pub fn new(inner: S, cell: Rc<GuardCell>, max_message: usize) -> Self {
        FrameGuard {
            inner,
            cell,
            scanner: Scanner::new(max_message),
            buf: BytesMut::new(),
            released: 0,
            frame_ends: VecDeque::new(),
            retired: 0,
            handled_to: 0,
            room: 2 * (max_message + MAX_HEADER) as u64,
            inner_done: false,
            ended: false,
        }
    }

    /// Forget the frames the actor has handled since the last look.
    fn retire(&mut self) {
        let handled = self.cell.handled.get();
        while self.retired < handled {
            let Some(end) = self.frame_ends.pop_front() else {
                break;
            };
            self.handled_to = end;
            self.retired += 1;
        }
    }

    fn has_room(&self, pending: usize) -> bool {
        self.frame_ends.len() < MAX_FRAMES_IN_FLIGHT
            && self.released + pending as u64 - self.handled_to < self.room
    }

    /// Check bytes from the front of `buf` while the actor has room;
    /// returns how many are checked (and released now). A violation is
    /// recorded in the cell.
    fn check(&mut self) -> usize {
        let mut used = 0;
        while used < self.buf.len() && self.cell.verdict.get().is_none() && self.has_room(used) {
            let in_flight = self.released + used as u64 - self.handled_to;
            let payload_room = usize::try_from(self.room - in_flight).unwrap_or(usize::MAX);
            match self.scanner.step(&self.buf[used..], payload_room) {
                Ok(Some(step)) => {
                    used += step.used;
                    if step.frame_end {
                        self.frame_ends.push_back(self.released + used as u64);
                    }
                }
                Ok(None) => break,
                Err(v) => {
                    tracing::debug!(reason = v.reason(), "websocket frame refused");
                    self.cell.verdict.set(Some(v));
                }
            }
        }
        used
    }

    fn wait(&self, cx: &Context<'_>) {
        self.cell.waker.set(Some(cx.waker().clone()));
    }
}

impl<S> Stream for FrameGuard<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            this.retire();
            let checked = this.check();
            if checked > 0 {
                this.released += checked as u64;
                return Poll::Ready(Some(Ok(this.buf.split_to(checked).freeze())));
            }
            if let Some(v) = this.cell.verdict.get() {
                // The frames before the bad one are answered first, in order.
                if !this.frame_ends.is_empty() {
                    this.wait(cx);
                    return Poll::Pending;
                }
                this.ended = true;
                this.buf = BytesMut::new();
                let e = std::io::Error::new(std::io::ErrorKind::InvalidData, v.reason());
                return Poll::Ready(Some(Err(PayloadError::Io(e))));
            }
            if !this.has_room(0) {
                this.wait(cx);
                return Poll::Pending;
            }
            if this.inner_done {
                // A frame cut off by the end of the stream is never released.
                this.ended = true;
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => this.buf.extend_from_slice(&chunk),
                Poll::Ready(Some(Err(e))) => {
                    this.ended = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => this.inner_done = true,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

// ----- the frame scanner -----------------------------------------------------------

/// Where the scanner is in the byte stream.
#[derive(Debug, Clone, Copy)]
enum At {
    /// A frame header starts here.
    Header,
    /// Inside a data frame's payload: `left` bytes to go, `phase` the mask
    /// key's offset for the next byte.
    Payload {
        left: u64,
        mask: [u8; 4],
        phase: usize,
        fin: bool,
    },
}

/// The data message being received (its first frame has come).
#[derive(Debug, Clone, Copy)]
struct Message {
    text: bool,
    /// Payload bytes announced so far, over all its frames.
    len: usize,
}

/// What one step checked: `used` bytes, ending a frame or not.
#[derive(Debug, PartialEq, Eq)]
struct Step {
    used: usize,
    frame_end: bool,
}

/// The frame parser behind the guard: a state machine over the bytes,
/// holding none of them.
struct Scanner {
    max_message: usize,
    at: At,
    message: Option<Message>,
    utf8: Utf8,
}

impl Scanner {
    fn new(max_message: usize) -> Self {
        Scanner {
            max_message,
            at: At::Header,
            message: None,
            utf8: Utf8::default(),
        }
    }

    /// Check what starts `input`: a whole header (a whole frame for control
    /// frames), or up to `payload_room` bytes of a data payload. `None`
    /// when more bytes are needed first.
    fn step(&mut self, input: &[u8], payload_room: usize) -> Result<Option<Step>, Violation> {
        let At::Payload {
            left,
            mask,
            phase,
            fin,
        } = self.at
        else {
            return self.header(input);
        };
        let n = input
            .len()
            .min(payload_room)
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        if n == 0 {
            return Ok(None);
        }
        if self.message.is_some_and(|m| m.text) {
            self.check_text(&input[..n], mask, phase)?;
        }
        let left = left - n as u64;
        if left > 0 {
            self.at = At::Payload {
                left,
                mask,
                phase: (phase + n) % 4,
                fin,
            };
            return Ok(Some(Step {
                used: n,
                frame_end: false,
            }));
        }
        self.at = At::Header;
        if fin {
            self.end_message()?;
        }
        Ok(Some(Step {
            used: n,
            frame_end: true,
        }))
    }

    /// A frame header (RFC 6455 5.2). Each check runs as soon as the bytes
    /// it needs are there; nothing changes until the header is whole.
    fn header(&mut self, input: &[u8]) -> Result<Option<Step>, Violation> {
        let [b0, b1, ..] = *input else {
            return Ok(None);
        };
        let fin = b0 & 0x80 != 0;
        if b0 & 0x70 != 0 {
            return Err(Violation::Protocol("reserved bits set"));
        }
        let opcode = b0 & 0x0F;
        let control = match opcode {
            0..=2 => false,
            8..=10 => true,
            _ => return Err(Violation::Protocol("unknown opcode")),
        };
        if b1 & 0x80 == 0 {
            return Err(Violation::Protocol("client frames must be masked"));
        }
        let len7 = b1 & 0x7F;
        if control && !fin {
            return Err(Violation::Protocol("fragmented control frame"));
        }
        if control && usize::from(len7) > MAX_CONTROL_PAYLOAD {
            return Err(Violation::Protocol("control frame over 125 bytes"));
        }
        match (opcode, self.message) {
            (0, None) => return Err(Violation::Protocol("continuation outside a message")),
            (1 | 2, Some(_)) => {
                return Err(Violation::Protocol("new message inside a fragmented one"))
            }
            _ => {}
        }
        let (len, at) = match len7 {
            126 => {
                let Some(&[a, b]) = input.get(2..4) else {
                    return Ok(None);
                };
                (u64::from(u16::from_be_bytes([a, b])), 4)
            }
            127 => {
                let Some(bytes) = input.get(2..10) else {
                    return Ok(None);
                };
                let mut be = [0u8; 8];
                be.copy_from_slice(bytes);
                let len = u64::from_be_bytes(be);
                if len >> 63 != 0 {
                    return Err(Violation::Protocol("payload length with its top bit set"));
                }
                (len, 10)
            }
            n => (u64::from(n), 2),
        };
        // The whole message's size, known before any of this payload.
        let so_far = self.message.map_or(0, |m| m.len);
        if !control && (so_far as u64).saturating_add(len) > self.max_message as u64 {
            return Err(Violation::TooLarge);
        }
        let Some(&[k0, k1, k2, k3]) = input.get(at..at + 4) else {
            return Ok(None);
        };
        let mask = [k0, k1, k2, k3];
        let header_len = at + 4;
        // Bounded above: 125 for control frames, the message limit for data.
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if control {
            let Some(payload) = input.get(header_len..header_len + len) else {
                return Ok(None);
            };
            if opcode == 0x8 {
                check_close(payload, mask)?;
            }
            return Ok(Some(Step {
                used: header_len + len,
                frame_end: true,
            }));
        }
        match self.message.as_mut() {
            Some(m) => m.len = so_far + len,
            None => {
                self.message = Some(Message {
                    text: opcode == 0x1,
                    len,
                })
            }
        }
        if len == 0 {
            if fin {
                self.end_message()?;
            }
            return Ok(Some(Step {
                used: header_len,
                frame_end: true,
            }));
        }
        self.at = At::Payload {
            left: len as u64,
            mask,
            phase: 0,
            fin,
        };
        Ok(Some(Step {
            used: header_len,
            frame_end: false,
        }))
    }

    /// Unmask a stretch of a text payload and feed it to the validator.
    fn check_text(&mut self, masked: &[u8], mask: [u8; 4], phase: usize) -> Result<(), Violation> {
        // A multiple of 4, so every block starts at the same mask phase.
        let mut block = [0u8; 1024];
        for chunk in masked.chunks(block.len()) {
            for (i, (out, b)) in block.iter_mut().zip(chunk).enumerate() {
                *out = b ^ mask[(phase + i) % 4];
            }
            if !self.utf8.feed(&block[..chunk.len()]) {
                return Err(Violation::InvalidUtf8);
            }
        }
        Ok(())
    }

    /// The last frame of a message ended: its text must not end inside a
    /// character.
    fn end_message(&mut self) -> Result<(), Violation> {
        let text = self.message.take().is_some_and(|m| m.text);
        let utf8 = std::mem::take(&mut self.utf8);
        if text && !utf8.complete() {
            return Err(Violation::InvalidUtf8);
        }
        Ok(())
    }
}

/// A close frame's payload: empty, or a valid code and a UTF-8 reason
/// (RFC 6455 5.5.1).
fn check_close(masked: &[u8], mask: [u8; 4]) -> Result<(), Violation> {
    let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
    let Some(payload) = payload.get_mut(..masked.len()) else {
        return Err(Violation::Protocol("control frame over 125 bytes"));
    };
    for (i, (out, b)) in payload.iter_mut().zip(masked).enumerate() {
        *out = b ^ mask[i % 4];
    }
    match *payload {
        [] => Ok(()),
        [_] => Err(Violation::Protocol("close payload of one byte")),
        [hi, lo, ref reason @ ..] => {
            if !valid_close_code(u16::from_be_bytes([hi, lo])) {
                return Err(Violation::Protocol("invalid close code"));
            }
            if std::str::from_utf8(reason).is_err() {
                return Err(Violation::Protocol("close reason is not UTF-8"));
            }
            Ok(())
        }
    }
}

/// UTF-8 validation over a stream of pieces: a character may be split
/// between two pieces (or two frames), a bad byte fails the piece it is in.
#[derive(Debug, Default, Clone, Copy)]
struct Utf8 {
    /// Continuation bytes the current character still needs.
    need: u8,
    /// The range the next continuation byte must be in (narrower than
    /// 0x80..=0xBF right after some lead bytes: no overlong forms, no
    /// surrogates, nothing above U+10FFFF).
    lo: u8,
    hi: u8,
}

impl Utf8 {
    fn feed(&mut self, mut bytes: &[u8]) -> bool {
        // Finish a character begun in an earlier piece.
        while self.need > 0 {
            let Some((&b, rest)) = bytes.split_first() else {
                return true;
            };
            if !(self.lo..=self.hi).contains(&b) {
                return false;
            }
            self.need -= 1;
            (self.lo, self.hi) = (0x80, 0xBF);
            bytes = rest;
        }
        match std::str::from_utf8(bytes) {
            Ok(_) => true,
            // Cut off at the end, not wrong: keep the tail's state.
            Err(e) if e.error_len().is_none() => self.start(&bytes[e.valid_up_to()..]),
            Err(_) => false,
        }
    }

    /// The lead byte (and any continuation bytes) of a character that the
    /// piece ends inside.
    fn start(&mut self, tail: &[u8]) -> bool {
        let Some((&lead, rest)) = tail.split_first() else {
            return true;
        };
        (self.need, self.lo, self.hi) = match lead {
            0xC2..=0xDF => (1, 0x80, 0xBF),
            0xE0 => (2, 0xA0, 0xBF),
            0xE1..=0xEC | 0xEE..=0xEF => (2, 0x80, 0xBF),
            0xED => (2, 0x80, 0x9F),
            0xF0 => (3, 0x90, 0xBF),
            0xF1..=0xF3 => (3, 0x80, 0xBF),
            0xF4 => (3, 0x80, 0x8F),
            _ => return false,
        };
        self.feed(rest)
    }

    fn complete(&self) -> bool {
        self.need == 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use futures::stream;
    use futures::task::noop_waker_ref;

    const LIMIT: usize = 64 * 1024;
    const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
    const FIN: u8 = 0x80;

    /// A masked client frame with the length in the form `len_form` asks
    /// (7, 16 or 64 bits), whatever the length.
    fn frame_with(first: u8, payload: &[u8], len_form: u8) -> Vec<u8> {
        let mut out = vec![first];
        match len_form {
            7 => out.push(0x80 | payload.len() as u8),
            16 => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
            }
            _ => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&MASK);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
        out
    }

    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let form = match payload.len() {
            0..=125 => 7,
            126..=65535 => 16,
            _ => 64,
        };
        frame_with(first, payload, form)
    }

    type Chunks = stream::Iter<std::vec::IntoIter<Result<Bytes, PayloadError>>>;

    fn guard(chunks: Vec<Vec<u8>>) -> (FrameGuard<Chunks>, Rc<GuardCell>) {
        let items: Vec<_> = chunks.into_iter().map(|c| Ok(Bytes::from(c))).collect();
        let cell = Rc::new(GuardCell::default());
        (
            FrameGuard::new(stream::iter(items), cell.clone(), LIMIT),
            cell,
        )
    }

    /// What the guard lets through, with an actor that handles frames at
    /// once: the bytes, and how the stream ended.
    #[derive(PartialEq)]
    struct Out {
        bytes: Vec<u8>,
        verdict: Option<Violation>,
        errored: bool,
    }

    impl std::fmt::Debug for Out {
        // The bytes can be 64 KiB: their length and first ones say enough.
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let head = &self.bytes[..self.bytes.len().min(16)];
            write!(
                f,
                "Out {{ {} bytes {head:?}.., verdict: {:?}, errored: {} }}",
                self.bytes.len(),
                self.verdict,
                self.errored
            )
        }
    }

    fn run(chunks: Vec<Vec<u8>>) -> Out {
        let (mut g, cell) = guard(chunks);
        // Every released frame counts as handled as soon as it is out.
        cell.handled.set(u64::MAX);
        let mut cx = Context::from_waker(noop_waker_ref());
        let mut out = Out {
            bytes: Vec::new(),
            verdict: None,
            errored: false,
        };
        loop {
            match Pin::new(&mut g).poll_next(&mut cx) {
                Poll::Ready(Some(Ok(b))) => out.bytes.extend_from_slice(&b),
                Poll::Ready(Some(Err(_))) => out.errored = true,
                Poll::Ready(None) => break,
                Poll::Pending => panic!("the guard waits with nothing left to wait for"),
            }
        }
        out.verdict = cell.verdict();
        out
    }

    fn passes(bytes: Vec<u8>) -> Out {
        Out {
            bytes,
            verdict: None,
            errored: false,
        }
    }

    fn refused(bytes: Vec<u8>, v: Violation) -> Out {
        Out {
            bytes,
            verdict: Some(v),
            errored: true,
        }
    }

    /// `bytes` cut before every offset in `cuts`.
    fn split(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut from = 0;
        for &c in cuts {
            out.push(bytes[from..c].to_vec());
            from = c;
        }
        out.push(bytes[from..].to_vec());
        out
    }

    fn one_byte_chunks(bytes: &[u8]) -> Vec<Vec<u8>> {
        bytes.iter().map(|b| vec![*b]).collect()
    }

    #[test]
    fn valid_frames_pass_unchanged_however_they_are_chunked() {
        let mut all = frame(FIN | 0x1, br#"{"op":"ping"}"#);
        all.extend(frame(FIN | 0x9, b"ping payload"));
        all.extend(frame(FIN | 0x2, &[0u8; 300]));
        all.extend(frame(FIN | 0x8, &[0x03, 0xE8, b'o', b'k']));
        assert_eq!(run(vec![all.clone()]), passes(all.clone()));
        assert_eq!(run(one_byte_chunks(&all)), passes(all.clone()));
        for cut in 1..all.len() {
            assert_eq!(run(split(&all, &[cut])), passes(all.clone()), "cut {cut}");
        }
    }

    #[test]
    fn all_three_length_forms_are_read() {
        let text = "x".repeat(300);
        for form in [16, 64] {
            let f = frame_with(FIN | 0x1, text.as_bytes(), form);
            assert_eq!(run(one_byte_chunks(&f)), passes(f.clone()), "{form}-bit");
        }
        let f = frame_with(FIN | 0x1, b"short", 64);
        assert_eq!(run(vec![f.clone()]), passes(f));
        // Exactly the limit, in a 64-bit length.
        let f = frame_with(FIN | 0x2, &vec![0u8; LIMIT], 64);
        assert_eq!(run(vec![f.clone()]), passes(f));
    }

    #[test]
    fn an_oversized_length_is_refused_from_the_header_alone() {
        let mut ok = frame(FIN | 0x9, b"before");
        let n = ok.len();
        // A 16-bit length cannot exceed the limit; a 64-bit one can.
        let mut huge = vec![FIN | 0x1, 0x80 | 127];
        huge.extend_from_slice(&(1u64 << 30).to_be_bytes());
        ok.extend(&huge);
        // Only the header (not even the mask key) has come.
        assert_eq!(
            run(vec![ok.clone()]),
            refused(ok[..n].to_vec(), Violation::TooLarge)
        );
        let mut over = vec![FIN | 0x2, 0x80 | 127];
        over.extend_from_slice(&(LIMIT as u64 + 1).to_be_bytes());
        assert_eq!(
            run(one_byte_chunks(&over)),
            refused(vec![], Violation::TooLarge)
        );
        let mut top = vec![FIN | 0x2, 0x80 | 127];
        top.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(
            run(vec![top]),
            refused(
                vec![],
                Violation::Protocol("payload length with its top bit set")
            )
        );
    }

    #[test]
    fn the_limit_is_the_whole_fragmented_message() {
        let half = vec![b'a'; LIMIT / 2];
        let mut msg = frame(0x1, &half);
        msg.extend(frame(FIN | 0x9, b"a ping between"));
        msg.extend(frame(FIN, &half));
        assert_eq!(run(vec![msg.clone()]), passes(msg.clone()));
        let mut over = frame(0x1, &half);
        over.extend(frame(0x0, &half));
        let n = over.len();
        over.extend(frame(FIN, b"!"));
        assert_eq!(
            run(vec![over.clone()]),
            refused(over[..n].to_vec(), Violation::TooLarge)
        );
    }

    #[test]
    fn framing_errors_are_protocol_violations() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (frame(FIN | 0x40 | 0x1, b"x"), "reserved bits set"),
            (frame(FIN | 0x3, b""), "unknown opcode"),
            (frame(FIN | 0xB, b""), "unknown opcode"),
            (vec![FIN | 0x1, 0x01, b'x'], "client frames must be masked"),
            (
                frame(FIN | 0x9, &[0u8; 126]),
                "control frame over 125 bytes",
            ),
            (frame(0x9, b""), "fragmented control frame"),
            (frame(FIN, b"x"), "continuation outside a message"),
            (
                [frame(0x1, b"a"), frame(FIN | 0x1, b"b")].concat(),
                "new message inside a fragmented one",
            ),
            (
                [frame(0x2, b"a"), frame(FIN | 0x2, b"b")].concat(),
                "new message inside a fragmented one",
            ),
            (frame(FIN | 0x8, &[0x03]), "close payload of one byte"),
            (frame(FIN | 0x8, &[0x03, 0xED]), "invalid close code"),
            (
                frame(FIN | 0x8, &[0x03, 0xE8, 0xFF]),
                "close reason is not UTF-8",
            ),
        ];
        for (bytes, why) in cases {
            let got = run(one_byte_chunks(&bytes));
            assert_eq!(got.verdict, Some(Violation::Protocol(why)), "{bytes:?}");
            assert!(got.errored);
            // Nothing of the bad frame is released.
            let first_ok = if why.starts_with("new message") { 7 } else { 0 };
            assert_eq!(got.bytes.len(), first_ok, "{why}");
        }
    }

    #[test]
    fn close_codes() {
        for code in [1000, 1001, 1003, 1007, 1011, 1012, 1013, 1014, 3000, 4999] {
            assert!(valid_close_code(code), "{code}");
        }
        for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, u16::MAX] {
            assert!(!valid_close_code(code), "{code}");
        }
    }

    #[test]
    fn mask_offsets_carry_across_chunks_in_text() {
        // Multi-byte characters at every alignment to the mask key.
        let text = "aκόσμε€𝄞 ok".repeat(40);
        let f = frame(FIN | 0x1, text.as_bytes());
        for cut in 1..f.len() {
            assert_eq!(run(split(&f, &[cut])), passes(f.clone()), "cut {cut}");
        }
        assert_eq!(run(one_byte_chunks(&f)), passes(f.clone()));
        // The same with one bad byte near the end: refused at every cut,
        // and never past the byte before it.
        let mut bad = text.into_bytes();
        let at = bad.len() - 3;
        bad[at] = 0xFF;
        let f = frame(FIN | 0x1, &bad);
        let header = f.len() - bad.len();
        for cut in (1..f.len()).step_by(7) {
            let got = run(split(&f, &[cut]));
            assert_eq!(got.verdict, Some(Violation::InvalidUtf8), "cut {cut}");
            assert!(got.bytes.len() <= header + at, "cut {cut}");
        }
    }

    #[test]
    fn utf8_is_checked_across_fragments() {
        let euro = "€".as_bytes();
        let mut ok = frame(0x1, &[b'a', euro[0]]);
        ok.extend(frame(FIN | 0xA, b"a pong between"));
        ok.extend(frame(0x0, &euro[1..2]));
        ok.extend(frame(0x0, b""));
        ok.extend(frame(FIN, &euro[2..]));
        assert_eq!(run(vec![ok.clone()]), passes(ok));

        // The bad byte is in the second fragment; the message never ends.
        let mut bad = frame(0x1, &[b'a', euro[0]]);
        let n = bad.len();
        bad.extend(frame(0x0, &[0x41]));
        let got = run(vec![bad]);
        assert_eq!(got.verdict, Some(Violation::InvalidUtf8));
        assert!(got.bytes.len() <= n + 6, "{}", got.bytes.len());

        // A message that ends inside a character.
        let mut cut = frame(0x1, b"a");
        cut.extend(frame(FIN, &euro[..2]));
        assert_eq!(run(vec![cut]).verdict, Some(Violation::InvalidUtf8));

        // Binary messages are not text.
        let bin = frame(FIN | 0x2, &[0xFF, 0xFE]);
        assert_eq!(run(vec![bin.clone()]), passes(bin));
    }

    #[test]
    fn the_utf8_validator_agrees_with_std_on_every_split() {
        let samples: Vec<Vec<u8>> = vec![
            "plain".into(),
            "κόσμε".into(),
            "€𝄞\u{10FFFF}\u{FFFD}".into(),
            vec![0xED, 0xA0, 0x80],
            vec![0xC0, 0xAF],
            vec![0xF4, 0x90, 0x80, 0x80],
            vec![0xE0, 0x80, 0x80],
            vec![0xF0, 0x8F, 0xBF, 0xBF],
            vec![b'a', 0xE2, 0x82],
            vec![0x80],
            vec![0xFE],
        ];
        for s in samples {
            let want = std::str::from_utf8(&s).is_ok();
            for cut in 0..=s.len() {
                for cut2 in cut..=s.len() {
                    let mut v = Utf8::default();
                    let got = v.feed(&s[..cut])
                        && v.feed(&s[cut..cut2])
                        && v.feed(&s[cut2..])
                        && v.complete();
                    assert_eq!(got, want, "{s:?} cut at {cut} and {cut2}");
                }
            }
        }
    }

    #[test]
    fn frames_before_a_bad_one_are_handled_before_the_error() {
        let good = [frame(FIN | 0x9, b"1"), frame(FIN | 0x1, b"2")].concat();
        let bytes = [good.clone(), frame(FIN | 0x3, b"")].concat();
        let (mut g, cell) = guard(vec![bytes]);
        let mut cx = Context::from_waker(noop_waker_ref());
        match Pin::new(&mut g).poll_next(&mut cx) {
            Poll::Ready(Some(Ok(b))) => assert_eq!(&b[..], &good[..]),
            other => panic!("{other:?}"),
        }
        // Two frames are out and unhandled: the error waits for them.
        assert!(Pin::new(&mut g).poll_next(&mut cx).is_pending());
        cell.frame_handled();
        assert!(Pin::new(&mut g).poll_next(&mut cx).is_pending());
        cell.frame_handled();
        assert!(matches!(
            Pin::new(&mut g).poll_next(&mut cx),
            Poll::Ready(Some(Err(_)))
        ));
        assert!(matches!(
            Pin::new(&mut g).poll_next(&mut cx),
            Poll::Ready(None)
        ));
        assert_eq!(cell.verdict(), Some(Violation::Protocol("unknown opcode")));
    }

    #[test]
    fn no_more_is_released_than_the_actor_has_room_for() {
        // A flood of tiny frames in one chunk.
        let ping = frame(FIN | 0x9, b"");
        let flood = ping.repeat(1000);
        let (mut g, cell) = guard(vec![flood]);
        let mut cx = Context::from_waker(noop_waker_ref());
        let mut out = 0;
        while let Poll::Ready(Some(Ok(b))) = Pin::new(&mut g).poll_next(&mut cx) {
            out += b.len();
        }
        assert_eq!(out, MAX_FRAMES_IN_FLIGHT * ping.len());
        // Each frame handled makes room for one more.
        cell.frame_handled();
        match Pin::new(&mut g).poll_next(&mut cx) {
            Poll::Ready(Some(Ok(b))) => assert_eq!(b.len(), ping.len()),
            other => panic!("{other:?}"),
        }
        assert!(Pin::new(&mut g).poll_next(&mut cx).is_pending());

        // Large frames: bounded by bytes, and one whole frame always fits.
        let big = frame(FIN | 0x2, &vec![0u8; LIMIT]);
        let (mut g, cell) = guard(vec![big.repeat(5)]);
        let mut out = 0;
        while let Poll::Ready(Some(Ok(b))) = Pin::new(&mut g).poll_next(&mut cx) {
            out += b.len();
        }
        assert!(out >= big.len() && out as u64 <= g.room, "{out}");
        let before = out;
        cell.frame_handled();
        while let Poll::Ready(Some(Ok(b))) = Pin::new(&mut g).poll_next(&mut cx) {
            out += b.len();
        }
        assert!(out > before);
        assert!(out as u64 - big.len() as u64 <= g.room);
    }
}
