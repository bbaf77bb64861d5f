//! The group-commit writer: the one path by which actors make state durable.
//! Requests queue on a channel in the order they are made; the writer takes
//! everything waiting (up to a bound), commits it in one transaction, then
//! answers each request in order. An actor acknowledges only after its
//! answer arrives.
//!
//! A request joins the queue when [`Writer::write`] is called, not when its
//! future is first polled: an actor allocates seqs in call order, and actix
//! polls an actor's spawned futures in no fixed order (a `ctx.wait` runs
//! first, a finished item is swap-removed), so enqueueing on first poll let
//! seq 67 commit in an earlier batch than 65 and a crash between the two
//! left a gap. The queue is therefore unbounded; what waits in it is only
//! ever writes whose callers wait for their answer.

use crate::ports::{Store, StoreError, StoreResult, WriteOp};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most ops committed in one transaction.
pub const MAX_BATCH_OPS: usize = 4096;

struct WriteRequest {
    ops: Vec<WriteOp>,
    done: oneshot::Sender<StoreResult<()>>,
}

#[derive(Clone)]
pub struct Writer {
    tx: mpsc::UnboundedSender<WriteRequest>,
}

impl Writer {
    /// Start the writer loop on the current tokio runtime.
    pub fn spawn(store: Arc<dyn Store>) -> Writer {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(store, rx));
        Writer { tx }
    }

    /// Commit `ops` (in a group with whatever else is waiting); resolves once
    /// they are durable or have failed. Queued now, so two calls commit in
    /// the order they were made whatever order their futures run in.
    pub fn write(
        &self,
        ops: Vec<WriteOp>,
    ) -> impl std::future::Future<Output = StoreResult<()>> + 'static {
        let (done, rx) = oneshot::channel();
        let queued = self.tx.send(WriteRequest { ops, done });
        async move {
            queued.map_err(|_| StoreError::Backend("writer stopped".into()))?;
            rx.await
                .map_err(|_| StoreError::Backend("writer stopped".into()))?
        }
    }

    /// Resolves once everything submitted before it is committed.
    pub async fn flush(&self) -> StoreResult<()> {
        self.write(Vec::new()).await
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::UnboundedReceiver<WriteRequest>) {
    let mut batch: Vec<WriteRequest> = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut n_ops = first.ops.len();
        batch.push(first);
        while n_ops < MAX_BATCH_OPS {
            match rx.try_recv() {
                Ok(req) => {
                    n_ops += req.ops.len();
                    batch.push(req);
                }
                Err(_) => break,
            }
        }
        let (requests, started) = (batch.len(), std::time::Instant::now());
        commit_batch(&*store, &mut batch).await;
        tracing::debug!(
            requests,
            ops = n_ops,
            ms = started.elapsed().as_secs_f64() * 1e3,
            "group commit"
        );
    }
}

async fn commit_batch(store: &dyn Store, batch: &mut Vec<WriteRequest>) {
    let ops: Vec<WriteOp> = batch.iter().flat_map(|r| r.ops.iter().cloned()).collect();
    let result = if ops.is_empty() {
        Ok(())
    } else {
        store.commit(ops).await
    };
    match result {
        Ok(()) => {
            for req in batch.drain(..) {
                let _ = req.done.send(Ok(()));
            }
        }
        Err(e) if batch.len() == 1 => {
            tracing::warn!(error = %e, "write failed");
            for req in batch.drain(..) {
                let _ = req.done.send(Err(e.clone()));
            }
        }
        Err(e) => {
            // One bad request must not fail its neighbours: retry each alone.
            tracing::warn!(error = %e, requests = batch.len(), "group commit failed; retrying singly");
            for req in batch.drain(..) {
                let r = if req.ops.is_empty() {
                    Ok(())
                } else {
                    store.commit(req.ops).await
                };
                let _ = req.done.send(r);
            }
        }
    }
}
