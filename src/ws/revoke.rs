//! Live sockets by the credential they opened with, so that a credential
//! that stops being valid closes them: a logout (its token), and anything
//! that changes what a staff user may do (all of that user's sockets, e.g.
//! removal from a project). A socket also closes itself when its token
//! expires (see `WsConn::check_expiry`).
//!
//! A revoked socket is closed with [`REVOKED_CLOSE_CODE`]; the client logs
//! in again (or asks for a new token) and reconnects.

use actix::prelude::*;
use std::collections::HashMap;
use std::sync::Mutex;
use switchboard_actors::ids::UserId;

/// Close code of a socket whose credential was revoked or expired (the
/// private range 4000-4999 of RFC 6455 7.4.2).
pub const REVOKED_CLOSE_CODE: u16 = 4001;

/// Tells a socket its credential is gone.
#[derive(Message, Clone, Copy)]
#[rtype(result = "()")]
pub struct Revoke;

struct Entry {
    token_hash: String,
    user: Option<UserId>,
    socket: Recipient<Revoke>,
}

/// Every authenticated socket of the server, by connection id.
#[derive(Default)]
pub struct Sockets {
    inner: Mutex<HashMap<u64, Entry>>,
}

impl Sockets {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add(
        &self,
        id: u64,
        token_hash: String,
        user: Option<UserId>,
        socket: Recipient<Revoke>,
    ) {
        self.lock().insert(
            id,
            Entry {
                token_hash,
                user,
                socket,
            },
        );
    }

    pub fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn revoke_where(&self, matches: impl Fn(&Entry) -> bool) -> usize {
        let map = self.lock();
        let mut n = 0;
        for e in map.values().filter(|e| matches(e)) {
            e.socket.do_send(Revoke);
            n += 1;
        }
        n
    }

    /// Close the sockets opened with the token whose hash is `token_hash`.
    pub fn revoke_token(&self, token_hash: &str) -> usize {
        self.revoke_where(|e| e.token_hash == token_hash)
    }

    /// Close every socket of a staff user (their rights changed).
    pub fn revoke_user(&self, user: UserId) -> usize {
        self.revoke_where(|e| e.user == Some(user))
    }

    /// Close every socket of a staff user but those opened with the token
    /// whose hash is `keep` (the session that asked).
    pub fn revoke_user_except(&self, user: UserId, keep: &str) -> usize {
        self.revoke_where(|e| e.user == Some(user) && e.token_hash != keep)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
