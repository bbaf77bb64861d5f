//! The durable message log a conversation and a billable session each own
//! (docs/architecture.md "The message path"). One type holds its
//! guarantees for both:
//!
//! - seqs are allocated on arrival, one after another, with no gap;
//! - a message is broadcast and acknowledged only once its write is
//!   durable, and strictly in seq order: a durable message waits for every
//!   undecided one before it;
//! - a replay after a seq yields exactly the durable messages after it, one
//!   page at most ([`replay_page`]), from memory when the recent ones cover
//!   it, else from the store;
//! - a `client_msg_id` seen before answers the first message (pending or
//!   durable) instead of writing another; a failed write forgets its ids so
//!   the client may retry;
//! - a failed write burns its seqs: the log is marked failed and the owning
//!   actor stops once nothing is pending, so the next use reloads a
//!   gap-free log from the store.
//!
//! The owning actor implements [`LogOwner`] (its subscribers, its channel,
//! how to read its messages back, what happens after a message is durable)
//! and calls [`flush`] after each write, [`subscribe`] for a subscribe and
//! [`existing`] for a retried send.

use super::error::{EngineError, EngineResult};
use super::events::{event_frame, replay_page, Audience, Subscribed, Subscriber, Subscribers};
use crate::engine::answer_now;
use crate::ports::StoreResult;
use actix::fut::LocalBoxActorFuture;
use actix::prelude::*;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::oneshot;

/// Durable messages kept in memory for replay; older ones are read back.
pub const LOG_CAPACITY: usize = 256;

/// A message of a durable log.
pub trait Entry: Serialize + Send + Sync + 'static {
    fn seq(&self) -> i64;
    fn client_msg_id(&self) -> Option<&str>;
    fn created_at(&self) -> DateTime<Utc>;
    /// Seen by staff only (a conversation's internal note): left out of
    /// what customers receive, live or replayed.
    fn staff_only(&self) -> bool {
        false
    }
}

/// Answered with the message once it is durable, or with the error.
pub type Waiter<M> = oneshot::Sender<EngineResult<Arc<M>>>;

struct Pending<M, A> {
    msg: Arc<M>,
    after: A,
    result: Option<EngineResult<()>>,
    waiters: Vec<Waiter<M>>,
}

/// The head of the log, decided.
pub enum Decided<M, A> {
    /// Durable: the log has taken it; the owner broadcasts it, then
    /// answers `waiters` ([`answer`]).
    Durable {
        msg: Arc<M>,
        after: A,
        waiters: Vec<Waiter<M>>,
    },
    /// Its write failed; its waiters have the error.
    Failed,
}

/// What a replay after a seq covers.
pub struct Replay<M> {
    /// The page ends at this seq.
    pub upto: i64,
    /// More remains after the page.
    pub more: bool,
    /// The page's messages when the recent ones in memory cover it; `None`
    /// when they must be read from the store.
    pub in_memory: Option<Vec<Arc<M>>>,
}

/// A log's state: `A` is what the owner wants done once a message is
/// durable (a conversation's AI turn; nothing for a session).
pub struct DurableLog<M, A> {
    next_seq: i64,
    durable_seq: i64,
    recent: VecDeque<Arc<M>>,
    /// Every client_msg_id seen, with its seq.
    client_ids: HashMap<String, i64>,
    pending: BTreeMap<i64, Pending<M, A>>,
    failed: bool,
}

impl<M: Entry, A> DurableLog<M, A> {
    /// A log restored from storage: `recent` are its last durable messages
    /// in seq order (the newest [`LOG_CAPACITY`] are kept), `client_ids`
    /// every client id it has taken.
    pub fn restore(recent: Vec<M>, client_ids: HashMap<String, i64>) -> Self {
        let durable_seq = recent.last().map(|m| m.seq()).unwrap_or(0);
        let skip = recent.len().saturating_sub(LOG_CAPACITY);
        DurableLog {
            next_seq: durable_seq + 1,
            durable_seq,
            recent: recent.into_iter().skip(skip).map(Arc::new).collect(),
            client_ids,
            pending: BTreeMap::new(),
            failed: false,
        }
    }

    /// The last seq broadcast and acknowledged.
    pub fn durable_seq(&self) -> i64 {
        self.durable_seq
    }

    /// The recent durable messages, oldest first.
    pub fn recent(&self) -> impl DoubleEndedIterator<Item = &Arc<M>> {
        self.recent.iter()
    }

    /// Takes the next seq for a new message.
    pub fn allocate(&mut self) -> i64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// No write of a message is undecided.
    pub fn is_settled(&self) -> bool {
        self.pending.is_empty()
    }

    /// A write failed: seqs may be burnt, the owner must reload.
    pub fn failed(&self) -> bool {
        self.failed
    }

    pub fn mark_failed(&mut self) {
        self.failed = true;
    }

    /// The seq of the message that took `client_msg_id`, if one did.
    pub fn known(&self, client_msg_id: &str) -> Option<i64> {
        self.client_ids.get(client_msg_id).copied()
    }

    /// Registers a message (its seq from [`allocate`](Self::allocate))
    /// whose write the owner starts now.
    pub fn stage(&mut self, msg: Arc<M>, after: A, waiter: Option<Waiter<M>>) {
        if let Some(c) = msg.client_msg_id() {
            self.client_ids.insert(c.to_string(), msg.seq());
        }
        self.pending.insert(
            msg.seq(),
            Pending {
                msg,
                after,
                result: None,
                waiters: waiter.into_iter().collect(),
            },
        );
    }

    /// The outcome of the write that held `seqs`. A failed write that held
    /// messages marks the log failed.
    pub fn written(&mut self, seqs: &[i64], res: &StoreResult<()>) {
        for s in seqs {
            if let Some(p) = self.pending.get_mut(s) {
                p.result = Some(res.clone().map_err(EngineError::from));
            }
        }
        if res.is_err() && !seqs.is_empty() {
            self.failed = true;
        }
    }

    /// Takes the lowest undecided-free message off the pending list: none
    /// while the lowest pending one is still being written.
    pub fn pop_decided(&mut self) -> Option<Decided<M, A>> {
        let entry = self.pending.first_entry()?;
        let result = entry.get().result.clone()?;
        let p = entry.remove();
        match result {
            Ok(()) => {
                self.durable_seq = p.msg.seq();
                self.recent.push_back(p.msg.clone());
                while self.recent.len() > LOG_CAPACITY {
                    self.recent.pop_front();
                }
                Some(Decided::Durable {
                    msg: p.msg,
                    after: p.after,
                    waiters: p.waiters,
                })
            }
            Err(e) => {
                if let Some(c) = p.msg.client_msg_id() {
                    self.client_ids.remove(c);
                }
                for w in p.waiters {
                    let _ = w.send(Err(e.clone()));
                }
                Some(Decided::Failed)
            }
        }
    }

    /// The page a replay after `after` covers.
    pub fn replay(&self, after: i64) -> Replay<M> {
        let (upto, more) = replay_page(after, self.durable_seq);
        let front = self.recent.front().map(|m| m.seq());
        let covered = front.map_or(upto <= after, |f| f <= after + 1) || front == Some(1);
        let in_memory = covered.then(|| {
            self.recent
                .iter()
                .filter(|m| m.seq() > after && m.seq() <= upto)
                .cloned()
                .collect()
        });
        Replay {
            upto,
            more,
            in_memory,
        }
    }

    /// Answers every waiter with `Unavailable` (the owner is stopping).
    pub fn abandon(&mut self) {
        for (_, p) in std::mem::take(&mut self.pending) {
            for w in p.waiters {
                let _ = w.send(Err(EngineError::Unavailable));
            }
        }
    }

    /// Where a retried `client_msg_id` stands: waiting on its write, among
    /// the recent messages, or (`None`) to be read from the store.
    fn existing_here(&mut self, seq: i64) -> Option<BoxFuture<'static, EngineResult<Arc<M>>>> {
        if let Some(p) = self.pending.get_mut(&seq) {
            let (tx, rx) = oneshot::channel();
            p.waiters.push(tx);
            return Some(Box::pin(async move {
                rx.await.unwrap_or(Err(EngineError::Unavailable))
            }));
        }
        let m = self.recent.iter().find(|m| m.seq() == seq)?.clone();
        Some(Box::pin(async move { Ok(m) }))
    }
}

/// Answers the waiters of a durable message.
pub fn answer<M>(waiters: Vec<Waiter<M>>, msg: &Arc<M>) {
    for w in waiters {
        let _ = w.send(Ok(msg.clone()));
    }
}

/// The `message` event frame of an entry on `channel`.
pub fn message_frame<M: Entry>(channel: &str, m: &M) -> Arc<str> {
    event_frame(channel, "message", Some(m.seq()), m, m.created_at())
}

/// An actor that owns a durable log and publishes it on its channel.
pub(crate) trait LogOwner: Actor<Context = Context<Self>> {
    type Entry: Entry;
    type After;

    fn log(&mut self) -> &mut DurableLog<Self::Entry, Self::After>;
    /// The channel's name with its subscribers (borrowed together, so a
    /// publish needs no copy of the name).
    fn fanout(&mut self) -> (&str, &mut Subscribers);
    fn channel(&self) -> &str;
    /// Durable messages after `after`, at most `limit`, from the store.
    fn load(&self, after: i64, limit: i64) -> BoxFuture<'static, StoreResult<Vec<Self::Entry>>>;
    /// A write started by the owner finished: the owner hands the result
    /// to [`DurableLog::written`] and calls [`flush`].
    fn on_written(&mut self, seqs: &[i64], res: &StoreResult<()>, ctx: &mut Context<Self>);
    /// A message became durable and was broadcast.
    fn on_durable(&mut self, msg: &Arc<Self::Entry>, after: Self::After, ctx: &mut Context<Self>);
    /// [`flush`] is done: the owner may stop (a failed log once settled).
    fn after_flush(&mut self, ctx: &mut Context<Self>);
}

/// Broadcasts and acknowledges, in seq order, every durable message with
/// no undecided message before it; then [`LogOwner::after_flush`].
pub(crate) fn flush<O: LogOwner>(owner: &mut O, ctx: &mut Context<O>) {
    while let Some(decided) = owner.log().pop_decided() {
        let Decided::Durable {
            msg,
            after,
            waiters,
        } = decided
        else {
            continue;
        };
        let frame = message_frame(owner.channel(), &*msg);
        let (channel, subscribers) = owner.fanout();
        if msg.staff_only() {
            subscribers.publish(channel, &frame, |a| a == Audience::Staff);
        } else {
            subscribers.publish_all(channel, &frame);
        }
        answer(waiters, &msg);
        owner.on_durable(&msg, after, ctx);
    }
    owner.after_flush(ctx);
}

/// Drives the write of staged messages (`seqs`) and answers with the
/// message `rx` waits for, once it is durable.
pub(crate) fn acknowledge_when_durable<O: LogOwner>(
    owner: &mut O,
    ctx: &mut Context<O>,
    seqs: Vec<i64>,
    write: impl std::future::Future<Output = StoreResult<()>> + 'static,
    rx: oneshot::Receiver<EngineResult<Arc<O::Entry>>>,
) -> ResponseFuture<EngineResult<Arc<O::Entry>>> {
    ctx.spawn(
        write
            .into_actor(owner)
            .map(move |res, owner, ctx| owner.on_written(&seqs, &res, ctx)),
    );
    Box::pin(async move { rx.await.unwrap_or(Err(EngineError::Unavailable)) })
}

/// The answer to a retried send: the first message, pending or durable.
pub(crate) fn existing<O: LogOwner>(
    owner: &mut O,
    seq: i64,
) -> BoxFuture<'static, EngineResult<Arc<O::Entry>>> {
    if let Some(here) = owner.log().existing_here(seq) {
        return here;
    }
    let load = owner.load(seq - 1, 1);
    Box::pin(async move {
        load.await?
            .into_iter()
            .next()
            .map(Arc::new)
            .ok_or_else(|| EngineError::NotFound("message not found".into()))
    })
}

/// Subscribes `sub` to the owner's channel. With `after_seq`, the durable
/// messages after it are replayed first, one page at most, through the
/// subscriber's bounded mailbox (a customer's replay leaves out staff-only
/// messages); when more remain it is not made live (live events would
/// overtake the rest) and asks again from `replayed_to`.
pub(crate) fn subscribe<O: LogOwner>(
    owner: &mut O,
    sub: Subscriber,
    after_seq: Option<i64>,
) -> AtomicResponse<O, EngineResult<Subscribed>> {
    let Some(after) = after_seq else {
        owner.fanout().1.insert(sub);
        let last_seq = owner.log().durable_seq();
        return answer_now(Ok(Subscribed {
            last_seq,
            replayed_to: None,
            more: false,
        }));
    };
    let Replay {
        upto,
        more,
        in_memory,
    } = owner.log().replay(after);
    let load: LocalBoxActorFuture<O, EngineResult<Vec<Arc<O::Entry>>>> = match in_memory {
        Some(msgs) => fut::ready(Ok(msgs)).boxed_local(),
        None => owner
            .load(after, upto - after)
            .into_actor(owner)
            .map(|res, _, _| {
                res.map(|v| v.into_iter().map(Arc::new).collect())
                    .map_err(EngineError::from)
            })
            .boxed_local(),
    };
    AtomicResponse::new(
        load.map(move |res, owner: &mut O, _| {
            let msgs = res?;
            // Already live (a resubscribe): off while it catches up.
            owner.fanout().1.remove(sub.id);
            let channel = owner.channel().to_string();
            let frames = msgs
                .iter()
                .filter(|m| m.seq() <= upto && sub.audience.sees(m.staff_only()))
                .map(|m| message_frame(&channel, &**m));
            if !sub.replay(frames) {
                sub.evict(&channel);
            } else if !more {
                owner.fanout().1.insert(sub);
            }
            Ok(Subscribed {
                last_seq: owner.log().durable_seq(),
                replayed_to: Some(upto),
                more,
            })
        })
        .boxed_local(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ports::StoreError;

    #[derive(Debug, Serialize)]
    struct Msg {
        seq: i64,
        client: Option<String>,
        staff: bool,
    }

    impl Entry for Msg {
        fn seq(&self) -> i64 {
            self.seq
        }
        fn client_msg_id(&self) -> Option<&str> {
            self.client.as_deref()
        }
        fn created_at(&self) -> DateTime<Utc> {
            DateTime::<Utc>::UNIX_EPOCH
        }
        fn staff_only(&self) -> bool {
            self.staff
        }
    }

    type Log = DurableLog<Msg, &'static str>;

    fn msg(seq: i64, client: Option<&str>) -> Msg {
        Msg {
            seq,
            client: client.map(str::to_string),
            staff: false,
        }
    }

    /// Allocates and stages a message; returns its seq and its waiter.
    fn send(
        log: &mut Log,
        client: Option<&str>,
    ) -> (i64, oneshot::Receiver<EngineResult<Arc<Msg>>>) {
        let seq = log.allocate();
        let (tx, rx) = oneshot::channel();
        log.stage(Arc::new(msg(seq, client)), "after", Some(tx));
        (seq, rx)
    }

    /// Seqs of what `pop_decided` hands out now, durable ones answered.
    fn drain(log: &mut Log) -> Vec<Option<i64>> {
        let mut out = Vec::new();
        while let Some(d) = log.pop_decided() {
            match d {
                Decided::Durable { msg, waiters, .. } => {
                    out.push(Some(msg.seq));
                    answer(waiters, &msg);
                }
                Decided::Failed => out.push(None),
            }
        }
        out
    }

    fn failure() -> StoreResult<()> {
        Err(StoreError::Backend("disk full".into()))
    }

    #[test]
    fn seqs_follow_the_restored_log_without_gaps() {
        let mut log = Log::restore((1..=3).map(|s| msg(s, None)).collect(), HashMap::new());
        assert_eq!(log.durable_seq(), 3);
        assert_eq!(
            (0..4).map(|_| log.allocate()).collect::<Vec<_>>(),
            vec![4, 5, 6, 7]
        );
        let mut empty = Log::restore(Vec::new(), HashMap::new());
        assert_eq!(empty.allocate(), 1);
    }

    #[test]
    fn only_the_newest_messages_stay_in_memory() {
        let n = LOG_CAPACITY as i64 + 10;
        let log = Log::restore((1..=n).map(|s| msg(s, None)).collect(), HashMap::new());
        let seqs: Vec<i64> = log.recent().map(|m| m.seq).collect();
        assert_eq!(seqs.len(), LOG_CAPACITY);
        assert_eq!(seqs.first(), Some(&11));
        assert_eq!(seqs.last(), Some(&n));
    }

    #[tokio::test]
    async fn nothing_is_acknowledged_before_its_write_nor_before_an_earlier_message() {
        let mut log = Log::restore(Vec::new(), HashMap::new());
        let (s1, mut rx1) = send(&mut log, None);
        let (s2, mut rx2) = send(&mut log, None);
        let (s3, rx3) = send(&mut log, None);
        assert_eq!(drain(&mut log), vec![]);
        // The later writes finish first: still nothing goes out.
        log.written(&[s3], &Ok(()));
        log.written(&[s2], &Ok(()));
        assert_eq!(drain(&mut log), vec![]);
        assert_eq!(log.durable_seq(), 0);
        assert!(rx1.try_recv().is_err());
        assert!(rx2.try_recv().is_err());
        // The first one lands: all three go, in seq order.
        log.written(&[s1], &Ok(()));
        assert_eq!(drain(&mut log), vec![Some(1), Some(2), Some(3)]);
        assert_eq!(log.durable_seq(), 3);
        assert!(log.is_settled());
        assert_eq!(rx3.await.unwrap().unwrap().seq, 3);
    }

    #[tokio::test]
    async fn a_client_id_answers_its_first_message_pending_or_durable() {
        let mut log = Log::restore(vec![msg(1, Some("a"))], HashMap::from([("a".into(), 1)]));
        assert_eq!(log.known("a"), Some(1));
        let (s2, _rx) = send(&mut log, Some("b"));
        assert_eq!(log.known("b"), Some(s2));
        assert_eq!(log.known("c"), None);
        // Retried while pending: answered when the write lands.
        let retry = log.existing_here(s2).unwrap();
        log.written(&[s2], &Ok(()));
        drain(&mut log);
        assert_eq!(retry.await.unwrap().seq, s2);
        // Retried once durable: answered from memory.
        assert_eq!(log.existing_here(1).unwrap().await.unwrap().seq, 1);
        // Older than memory: the owner reads it back.
        let mut long = Log::restore(
            (1..=LOG_CAPACITY as i64 + 1)
                .map(|s| msg(s, None))
                .collect(),
            HashMap::new(),
        );
        assert!(long.existing_here(1).is_none());
    }

    #[tokio::test]
    async fn a_failed_write_answers_the_error_forgets_its_ids_and_marks_the_log() {
        let mut log = Log::restore(Vec::new(), HashMap::new());
        let (s1, rx1) = send(&mut log, Some("x"));
        let (s2, rx2) = send(&mut log, None);
        log.written(&[s1], &failure());
        log.written(&[s2], &Ok(()));
        assert!(log.failed());
        assert_eq!(drain(&mut log), vec![None, Some(2)]);
        assert!(rx1.await.unwrap().is_err());
        assert!(rx2.await.unwrap().is_ok());
        // The client may retry its message: the id is free again.
        assert_eq!(log.known("x"), None);
        // A failed write that held no message (a snapshot) marks nothing.
        let mut other = Log::restore(Vec::new(), HashMap::new());
        other.written(&[], &failure());
        assert!(!other.failed());
    }

    #[tokio::test]
    async fn an_abandoned_log_answers_its_waiters_unavailable() {
        let mut log = Log::restore(Vec::new(), HashMap::new());
        let (_, rx) = send(&mut log, None);
        log.abandon();
        assert!(log.is_settled());
        assert!(matches!(rx.await.unwrap(), Err(EngineError::Unavailable)));
    }

    #[test]
    fn a_replay_yields_exactly_the_messages_after_the_seq() {
        let log = Log::restore((1..=5).map(|s| msg(s, None)).collect(), HashMap::new());
        let r = log.replay(2);
        assert_eq!((r.upto, r.more), (5, false));
        let seqs: Vec<i64> = r.in_memory.unwrap().iter().map(|m| m.seq).collect();
        assert_eq!(seqs, vec![3, 4, 5]);
        let none = log.replay(5);
        assert!(none.in_memory.unwrap().is_empty());
    }

    #[test]
    fn a_long_replay_is_paged_and_read_back_when_memory_does_not_cover_it() {
        let n = LOG_CAPACITY as i64 + 300;
        let log = Log::restore((1..=n).map(|s| msg(s, None)).collect(), HashMap::new());
        // From the start: older than memory, one page.
        let r = log.replay(0);
        assert_eq!((r.upto, r.more), (super::super::events::REPLAY_PAGE, true));
        assert!(r.in_memory.is_none());
        // The last few: from memory.
        let r = log.replay(n - 3);
        assert_eq!((r.upto, r.more), (n, false));
        assert_eq!(r.in_memory.unwrap().len(), 3);
    }
}
