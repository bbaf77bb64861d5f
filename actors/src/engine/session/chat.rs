//! The session chat (seq'd, durable before acknowledged, replayed after
//! `after_seq`, idempotent by `client_msg_id`: the actor owns a durable log,
//! ../log.rs), typing, and subscribing to `session:<id>`.
use super::*;
use crate::engine::answer_now;

impl SessionActor {
    pub(super) fn new_message(
        &mut self,
        sender_type: SessionSender,
        sender_id: Option<UserId>,
        content: String,
        client_msg_id: Option<String>,
    ) -> Arc<SessionMessageRecord> {
        let seq = self.log.allocate();
        Arc::new(SessionMessageRecord {
            id: SessionMessageId::new(),
            session_id: self.rec.id,
            seq,
            sender_type,
            sender_id,
            content,
            client_msg_id,
            created_at: self.now(),
        })
    }

    /// Register messages as pending and start one commit holding them and
    /// `extra` ops. The caller hands the write's result to `on_written`.
    pub(super) fn append(
        &mut self,
        msgs: Vec<(
            Arc<SessionMessageRecord>,
            Option<log::Waiter<SessionMessageRecord>>,
        )>,
        extra: Vec<WriteOp>,
    ) -> (
        Vec<i64>,
        impl std::future::Future<Output = StoreResult<()>> + 'static,
    ) {
        let mut ops = Vec::with_capacity(msgs.len() + extra.len());
        let mut seqs = Vec::with_capacity(msgs.len());
        for (msg, waiter) in msgs {
            seqs.push(msg.seq);
            ops.push(WriteOp::InsertSessionMessage(Box::new((*msg).clone())));
            self.log.stage(msg, (), waiter);
        }
        ops.extend(extra);
        (seqs, self.engine.writer().write(ops))
    }

    pub(super) fn accept_message(
        &mut self,
        msg: PostSessionMessage,
        ctx: &mut Context<Self>,
    ) -> EngineResult<ResponseFuture<EngineResult<Arc<SessionMessageRecord>>>> {
        let (sender, sender_id) = match self.who(&msg.caller)? {
            Who::Solver => (SessionSender::Solver, msg.caller.user_id()),
            Who::Guest => (SessionSender::Customer, None),
            Who::Admin => {
                return Err(EngineError::Forbidden(
                    "only the session's solver and customer write in its chat".into(),
                ))
            }
        };
        if let Some(c) = &msg.client_msg_id {
            if c.is_empty() || c.len() > MAX_CLIENT_MSG_ID {
                return Err(field_error(
                    "client_msg_id",
                    &format!("must be 1 to {MAX_CLIENT_MSG_ID} characters"),
                ));
            }
            if let Some(seq) = self.log.known(c) {
                return Ok(Box::pin(log::existing(self, seq)));
            }
        }
        let content = msg.content.trim().to_string();
        if content.is_empty() {
            return Err(field_error("content", "must not be empty"));
        }
        if content.chars().count() > MAX_CONTENT_CHARS {
            return Err(field_error(
                "content",
                &format!("must be at most {MAX_CONTENT_CHARS} characters"),
            ));
        }
        if self.rec.status.is_terminal() {
            return Err(EngineError::InvalidTransition(format!(
                "the session is {}; its chat is closed",
                self.rec.status.label()
            )));
        }
        let record = self.new_message(sender, sender_id, content, msg.client_msg_id);
        let (tx, rx) = oneshot::channel();
        let (seqs, write) = self.append(vec![(record, Some(tx))], Vec::new());
        Ok(log::acknowledge_when_durable(self, ctx, seqs, write, rx))
    }
}

impl log::Entry for SessionMessageRecord {
    fn seq(&self) -> i64 {
        self.seq
    }
    fn client_msg_id(&self) -> Option<&str> {
        self.client_msg_id.as_deref()
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

impl LogOwner for SessionActor {
    type Entry = SessionMessageRecord;
    type After = ();

    fn log(&mut self) -> &mut DurableLog<SessionMessageRecord, ()> {
        &mut self.log
    }

    fn fanout(&mut self) -> (&str, &mut Subscribers) {
        (&self.channel, &mut self.subs)
    }

    fn channel(&self) -> &str {
        &self.channel
    }

    fn load(
        &self,
        after: i64,
        limit: i64,
    ) -> futures::future::BoxFuture<'static, StoreResult<Vec<SessionMessageRecord>>> {
        let store = self.store.clone();
        let id = self.rec.id;
        Box::pin(async move { store.load_session_messages(id, after, limit).await })
    }

    fn on_written(&mut self, seqs: &[i64], res: &StoreResult<()>, ctx: &mut Context<Self>) {
        self.log.written(seqs, res);
        log::flush(self, ctx);
    }

    fn on_durable(&mut self, _: &Arc<SessionMessageRecord>, _: (), _: &mut Context<Self>) {}

    fn after_flush(&mut self, ctx: &mut Context<Self>) {
        if self.log.failed() && self.log.is_settled() {
            ctx.stop();
        }
    }
}

/// Post to the session chat (the solver or the joined customer). Answers
/// once durable; a repeated `client_msg_id` answers the first message.
#[derive(Message)]
#[rtype(result = "EngineResult<Arc<SessionMessageRecord>>")]
pub struct PostSessionMessage {
    pub caller: Caller,
    pub content: String,
    pub client_msg_id: Option<String>,
}

impl Handler<PostSessionMessage> for SessionActor {
    type Result = ResponseFuture<EngineResult<Arc<SessionMessageRecord>>>;

    fn handle(&mut self, msg: PostSessionMessage, ctx: &mut Context<Self>) -> Self::Result {
        match self.accept_message(msg, ctx) {
            Ok(rx) => rx,
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }
}

/// Chat history, ascending by seq, after `after_seq` (at most `limit`).
#[derive(Message)]
#[rtype(result = "EngineResult<Vec<Arc<SessionMessageRecord>>>")]
pub struct SessionMessages {
    pub caller: Caller,
    pub after_seq: i64,
    pub limit: i64,
}

impl Handler<SessionMessages> for SessionActor {
    type Result = ResponseFuture<EngineResult<Vec<Arc<SessionMessageRecord>>>>;

    fn handle(&mut self, msg: SessionMessages, _: &mut Context<Self>) -> Self::Result {
        if let Err(e) = self.who(&msg.caller) {
            return Box::pin(async move { Err(e) });
        }
        let (store, id, upto) = (self.store.clone(), self.rec.id, self.log.durable_seq());
        let after = msg.after_seq;
        let limit = msg.limit.min(upto - after).max(0);
        Box::pin(async move {
            Ok(store
                .load_session_messages(id, after, limit)
                .await?
                .into_iter()
                .map(Arc::new)
                .collect())
        })
    }
}

/// Typing indicator of the solver or the customer (ephemeral).
#[derive(Message)]
#[rtype(result = "EngineResult<()>")]
pub struct SessionTyping {
    pub caller: Caller,
    pub is_typing: bool,
}

impl Handler<SessionTyping> for SessionActor {
    type Result = EngineResult<()>;

    fn handle(&mut self, msg: SessionTyping, _: &mut Context<Self>) -> Self::Result {
        let user_type = match self.who(&msg.caller)? {
            Who::Solver => "solver",
            Who::Guest => "customer",
            Who::Admin => return Err(EngineError::Forbidden("only participants type".into())),
        };
        self.publish(
            "typing",
            json!({ "session_id": self.rec.id, "user_type": user_type, "is_typing": msg.is_typing }),
        );
        Ok(())
    }
}

/// Subscribe a connection to `session:<id>`. With `after_seq`, the durable
/// chat messages after it are replayed first, one page at most
/// ([`replay_page`]), through the connection's bounded mailbox; when more
/// remain the connection is not made live and asks again from
/// `replayed_to`.
#[derive(Message)]
#[rtype(result = "EngineResult<Subscribed>")]
pub struct SubscribeSession {
    pub caller: Caller,
    pub subscriber: Subscriber,
    pub after_seq: Option<i64>,
}

impl Handler<SubscribeSession> for SessionActor {
    type Result = AtomicResponse<Self, EngineResult<Subscribed>>;

    fn handle(&mut self, msg: SubscribeSession, _: &mut Context<Self>) -> Self::Result {
        let who = match self.who(&msg.caller) {
            Ok(w) => w,
            Err(e) => return answer_now(Err(e)),
        };
        let mut sub = msg.subscriber;
        sub.audience = if who == Who::Guest {
            Audience::Customer
        } else {
            Audience::Staff
        };
        log::subscribe(self, sub, msg.after_seq)
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct UnsubscribeSession {
    pub subscriber_id: u64,
}

impl Handler<UnsubscribeSession> for SessionActor {
    type Result = ();

    fn handle(&mut self, msg: UnsubscribeSession, _: &mut Context<Self>) {
        self.subs.remove(msg.subscriber_id);
    }
}
