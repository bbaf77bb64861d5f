//! Password hashing (argon2id) on a few dedicated threads with a bounded
//! queue in front of them.
//!
//! One argon2id hash with the default parameters holds about 19 MiB while it
//! runs. Hashed on the blocking pool, 200 concurrent failed logins held 200
//! of them at once, and the allocator kept the memory afterwards. Here at
//! most `threads` hashes run at a time, on threads that live as long as the
//! server, so the memory they use is reused, and at most
//! `threads * QUEUE_PER_HASHER` wait: anything beyond is refused at once
//! with 429 (the per-address and per-account login limits make that rare
//! for real users).

use crate::error::{ApiError, ApiResult};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

/// `SWITCHBOARD_PASSWORD_HASHERS` when unset: one per core of a small machine.
pub const DEFAULT_HASHERS: usize = 2;
/// Hash requests that may wait per hashing thread.
pub const QUEUE_PER_HASHER: usize = 8;

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads. Dropping the last clone of the sender ends them.
pub struct Passwords {
    jobs: SyncSender<Job>,
}

impl Passwords {
    pub fn start(threads: usize) -> Passwords {
        let threads = threads.max(1);
        let (jobs, rx) = sync_channel::<Job>(threads * QUEUE_PER_HASHER);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hasher-{i}"))
                .spawn(move || work(&rx));
            if let Err(e) = spawned {
                // Fewer threads only means slower logins; with none at all
                // every hash is refused as busy, which the log explains.
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Passwords { jobs }
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(busy()),
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::internal("password hashers stopped"))
            }
        }
        rx.await
            .map_err(|_| ApiError::internal("a password hash was dropped"))
    }

    /// A salted argon2id hash of `password`.
    pub async fn hash(&self, password: String) -> ApiResult<String> {
        self.run(move || {
            let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await?
        .map_err(ApiError::internal)
    }

    /// Whether `password` matches `hash` (a malformed hash matches nothing).
    pub async fn verify(&self, password: String, hash: String) -> ApiResult<bool> {
        self.run(move || {
            PasswordHash::new(&hash)
                .map(|h| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &h)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
    }
}

fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        // Holding the lock only while taking a job lets the others hash.
        let job = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

fn busy() -> ApiError {
    let mut e = ApiError::new(
        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        "Too many password checks at once: the server is busy; retry in 1 s",
    );
    e.retry_after = Some(1);
    e
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn hashes_verify_and_a_full_queue_is_refused() {
        let p = Passwords::start(1);
        let h = p.hash("correct horse".into()).await.unwrap();
        assert!(p.verify("correct horse".into(), h.clone()).await.unwrap());
        assert!(!p.verify("wrong".into(), h.clone()).await.unwrap());
        assert!(!p.verify("x".into(), "not a hash".into()).await.unwrap());

        // Block the only thread, fill the queue, and the next is refused.
        let (release, wait) = std::sync::mpsc::channel::<()>();
        p.jobs
            .try_send(Box::new(move || {
                let _ = wait.recv();
            }))
            .unwrap();
        let mut queued = 0;
        while p.jobs.try_send(Box::new(|| {})).is_ok() {
            queued += 1;
        }
        assert!(queued <= QUEUE_PER_HASHER, "{queued} waiting");
        let e = p.verify("x".into(), h.clone()).await.unwrap_err();
        assert_eq!(e.code, "RATE_LIMITED");
        assert_eq!(e.retry_after, Some(1));
        // Once the thread is free again, it works through the queue.
        release.send(()).unwrap();
        let (done, finished) = std::sync::mpsc::channel::<()>();
        p.jobs
            .send(Box::new(move || {
                let _ = done.send(());
            }))
            .unwrap();
        finished.recv().unwrap();
    }
}
