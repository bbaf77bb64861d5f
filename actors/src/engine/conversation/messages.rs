//! The message log's side of the conversation: posting a message or an
//! internal note (one validation of content for every way in), typing,
//! subscribing to `conversation:<id>`, and the actor as owner of its
//! durable log (../log.rs).
use super::*;
use crate::engine::answer_now;

impl ConversationActor {
    pub(super) fn accept_message(
        &mut self,
        msg: PostMessage,
        ctx: &mut Context<Self>,
    ) -> EngineResult<ResponseFuture<EngineResult<Arc<MessageRecord>>>> {
        self.require_view(&msg.caller)?;
        let content = validate_content(&msg.content)?;
        if let Some(c) = &msg.client_msg_id {
            if c.is_empty() || c.len() > 100 {
                return Err(field_error("client_msg_id", "must be 1 to 100 characters"));
            }
        }
        let status = self.rec.status;
        let (sender_type, sender_id, after) = match &msg.caller {
            Caller::Customer { .. } => {
                if status == St::Closed {
                    return Err(EngineError::InvalidTransition(
                        "the conversation is closed".into(),
                    ));
                }
                (SenderType::Customer, None, After::CustomerTurn)
            }
            Caller::Staff(s) => {
                if self.rec.assigned_agent_id != Some(s.user_id) {
                    return Err(EngineError::Forbidden(
                        "only the assigned agent can write to the customer; use a note".into(),
                    ));
                }
                if status != St::AgentActive {
                    return Err(EngineError::InvalidTransition(format!(
                        "the conversation is {}",
                        status.as_str()
                    )));
                }
                (SenderType::Agent, Some(s.user_id), After::Nothing)
            }
            Caller::Bot { .. } => {
                if !matches!(status, St::AiActive | St::Waiting) {
                    return Err(EngineError::InvalidTransition(format!(
                        "the AI cannot write while the conversation is {}",
                        status.as_str()
                    )));
                }
                let confidence = msg.metadata.get("confidence").and_then(Value::as_f64);
                if let Some(c) = confidence {
                    if !(0.0..=1.0).contains(&c) {
                        return Err(field_error(
                            "metadata.confidence",
                            "must be between 0 and 1",
                        ));
                    }
                }
                (SenderType::Ai, None, After::AiAnswer { confidence })
            }
            Caller::System => (SenderType::System, None, After::Nothing),
            Caller::SessionGuest { .. } => {
                return Err(EngineError::NotFound("conversation not found".into()))
            }
        };
        if let Some(c) = &msg.client_msg_id {
            if let Some(seq) = self.log.known(c) {
                return Ok(Box::pin(log::existing(self, seq)));
            }
        }
        // The first response is written with its message; other messages
        // only move the activity times, which are written lazily.
        let first_response =
            sender_type == SenderType::Agent && self.rec.first_response_at.is_none();
        if first_response {
            self.rec.first_response_at = Some(self.now());
        }
        // A customer who writes is there: an inactivity warning is answered.
        let mut snapshot = first_response;
        if sender_type == SenderType::Customer {
            self.rec.customer_last_seen_at = Some(self.now());
            snapshot |= self.clear_warning();
        }
        let metadata = if msg.metadata.is_object() {
            msg.metadata
        } else {
            json!({})
        };
        let record = self.new_message(
            sender_type,
            sender_id,
            content,
            metadata,
            msg.client_msg_id,
            false,
        );
        let (tx, rx) = oneshot::channel();
        let (seqs, write) = self.append(vec![(record, after, Some(tx))], snapshot);
        Ok(log::acknowledge_when_durable(self, ctx, seqs, write, rx))
    }
}

impl log::Entry for MessageRecord {
    fn seq(&self) -> i64 {
        self.seq
    }
    fn client_msg_id(&self) -> Option<&str> {
        self.client_msg_id.as_deref()
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    fn staff_only(&self) -> bool {
        self.internal
    }
}

impl LogOwner for ConversationActor {
    type Entry = MessageRecord;
    type After = After;

    fn log(&mut self) -> &mut DurableLog<MessageRecord, After> {
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
    ) -> futures::future::BoxFuture<'static, StoreResult<Vec<MessageRecord>>> {
        let store = self.engine.store().clone();
        let id = self.rec.id;
        Box::pin(async move { store.load_messages(id, after, limit).await })
    }

    fn on_written(&mut self, seqs: &[i64], res: &StoreResult<()>, ctx: &mut Context<Self>) {
        self.log.written(seqs, res);
        if res.is_err() {
            // Even a snapshot alone: the row may now differ from memory.
            self.log.mark_failed();
        }
        log::flush(self, ctx);
        self.schedule_snapshot(ctx);
        self.arm(ctx);
    }

    fn on_durable(&mut self, msg: &Arc<MessageRecord>, after: After, ctx: &mut Context<Self>) {
        if msg.sender_type == SenderType::Ai {
            self.ai_messages += 1;
        }
        if !self.log.failed() {
            self.after_durable(msg, after, ctx);
        }
    }

    fn after_flush(&mut self, ctx: &mut Context<Self>) {
        self.maybe_stop(ctx);
    }
}

/// Post a message (customer, assigned agent, bot or system). Answers once
/// the message is durable; a repeated `client_msg_id` answers the first.
#[derive(Message)]
#[rtype(result = "EngineResult<Arc<MessageRecord>>")]
pub struct PostMessage {
    pub caller: Caller,
    pub content: String,
    pub client_msg_id: Option<String>,
    pub metadata: Value,
}

impl Handler<PostMessage> for ConversationActor {
    type Result = ResponseFuture<EngineResult<Arc<MessageRecord>>>;

    fn handle(&mut self, msg: PostMessage, ctx: &mut Context<Self>) -> Self::Result {
        match self.accept_message(msg, ctx) {
            Ok(rx) => rx,
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }
}

pub(super) fn field_error(field: &str, problem: &str) -> EngineError {
    EngineError::Validation(BTreeMap::from([(field.to_string(), problem.to_string())]))
}

/// The one check of a message's text, for every way a conversation takes
/// one (REST and WebSocket sends, notes, the offline form): no control or
/// bidi override characters anywhere in what was sent
/// ([`crate::domain::text`]; checked before trimming, which would quietly
/// drop a trailing one that counts as white space, like U+0085), then
/// not empty and not too long once trimmed. Answers the trimmed text, or
/// the problem under `content`.
pub(super) fn validate_content(raw: &str) -> EngineResult<String> {
    if let Some(problem) = crate::domain::text::problem(raw) {
        return Err(field_error("content", problem));
    }
    let content = raw.trim().to_string();
    if content.is_empty() {
        return Err(field_error("content", "must not be empty"));
    }
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(field_error(
            "content",
            &format!("must be at most {MAX_CONTENT_CHARS} characters"),
        ));
    }
    Ok(content)
}

/// An internal note: staff only, never shown to the customer.
#[derive(Message)]
#[rtype(result = "EngineResult<Arc<MessageRecord>>")]
pub struct PostNote {
    pub caller: Caller,
    pub content: String,
}

impl Handler<PostNote> for ConversationActor {
    type Result = ResponseFuture<EngineResult<Arc<MessageRecord>>>;

    fn handle(&mut self, msg: PostNote, ctx: &mut Context<Self>) -> Self::Result {
        let user = match &msg.caller {
            Caller::Staff(s) if msg.caller.is_staff_of(self.rec.project_id) => s.user_id,
            _ => {
                return Box::pin(async {
                    Err(EngineError::NotFound("conversation not found".into()))
                })
            }
        };
        let content = match validate_content(&msg.content) {
            Ok(c) => c,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let record = self.new_message(
            SenderType::Agent,
            Some(user),
            content,
            json!({}),
            None,
            true,
        );
        let (tx, rx) = oneshot::channel();
        let (seqs, write) = self.append(vec![(record, After::Nothing, Some(tx))], false);
        ctx.spawn(
            write
                .into_actor(self)
                .map(move |res, act, ctx| act.on_written(&seqs, &res, ctx)),
        );
        Box::pin(async move { rx.await.unwrap_or(Err(EngineError::Unavailable)) })
    }
}

#[derive(Message)]
#[rtype(result = "EngineResult<()>")]
pub struct Typing {
    pub caller: Caller,
    pub is_typing: bool,
}

impl Handler<Typing> for ConversationActor {
    type Result = EngineResult<()>;

    fn handle(&mut self, msg: Typing, _: &mut Context<Self>) -> Self::Result {
        self.require_view(&msg.caller)?;
        let (user_type, user_id) = match &msg.caller {
            Caller::Customer { .. } => ("customer", None),
            Caller::Staff(s) => ("agent", Some(s.user_id)),
            _ => return Err(EngineError::BadRequest("only people type".into())),
        };
        self.publish(
            "typing",
            json!({ "user_type": user_type, "user_id": user_id, "is_typing": msg.is_typing }),
        );
        Ok(())
    }
}

/// Subscribe a connection. With `after_seq`, the durable messages after it
/// are replayed first, one page at most ([`replay_page`]), through the
/// connection's bounded mailbox; when more remain the connection is not
/// made live (live events would overtake the rest) and asks again from
/// `replayed_to`. A customer's replay leaves out internal notes.
#[derive(Message)]
#[rtype(result = "EngineResult<Subscribed>")]
pub struct SubscribeConversation {
    pub caller: Caller,
    pub subscriber: Subscriber,
    pub after_seq: Option<i64>,
}

impl Handler<SubscribeConversation> for ConversationActor {
    type Result = AtomicResponse<Self, EngineResult<Subscribed>>;

    fn handle(&mut self, msg: SubscribeConversation, _: &mut Context<Self>) -> Self::Result {
        if let Err(e) = self.require_view(&msg.caller) {
            return answer_now(Err(e));
        }
        let mut sub = msg.subscriber;
        sub.audience = Audience::of(&msg.caller);
        log::subscribe(self, sub, msg.after_seq)
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct UnsubscribeConversation {
    pub subscriber_id: u64,
}

impl Handler<UnsubscribeConversation> for ConversationActor {
    type Result = ();

    fn handle(&mut self, msg: UnsubscribeConversation, ctx: &mut Context<Self>) {
        if self.subs.remove(msg.subscriber_id) && self.subs.is_empty() {
            // Watched until now: the idle period starts here.
            self.used_at = self.used_at.max(self.now());
            self.arm(ctx);
        }
    }
}
