//! One way in for every request to a conversation, live or closed.
//!
//! A live conversation's actor answers its requests. A closed one has no
//! actor (terminal: its state is only in the store), so something else
//! must answer for it; that is [`Engine::ask_conversation`], here, and
//! nowhere else: it checks that the caller may see the conversation at
//! all (another tenant, another visitor: NOT_FOUND, as the actor says)
//! and then answers as the request's [`ConversationOp::closed`] says. A
//! change answers INVALID_TRANSITION (the default); a read, a retried send
//! and a replay are answered from the store.

use super::caller::Caller;
use super::conversation::{
    validate_rating, Close, ConversationActor, CustomerHandoff, CustomerPresenceUpdate,
    EditConversation, GetConversation, OfflineForm, PostMessage, PostNote, RateConversation,
    Resolve, SubscribeConversation, Transfer, Typing,
};
use super::error::{EngineError, EngineResult};
use super::events::{replay_page, Audience, Subscribed};
use super::log::message_frame;
use super::supervisor::{ConversationRef, Engine};
use super::views::{ConversationView, HandoffOutcome};
use crate::ids::ConversationId;
use crate::ports::{ConversationRecord, MessageRecord, Store};
use actix::dev::ToEnvelope;
use actix::prelude::*;
use futures::future::BoxFuture;
use std::sync::Arc;

/// A closed conversation as it is stored, with its last seq.
async fn stored_view(
    store: &dyn Store,
    rec: &ConversationRecord,
) -> EngineResult<ConversationView> {
    let last = store.last_seq(rec.id).await?;
    Ok(ConversationView::from_record(rec, Some(last)))
}

/// What a change to a closed conversation answers.
pub fn closed_error() -> EngineError {
    EngineError::InvalidTransition("the conversation is closed".into())
}

/// A request to a conversation: what its actor is sent while it is live,
/// and what it answers once the conversation is closed.
pub trait ConversationOp: Sized + Send + 'static {
    type Output: Send + 'static;
    /// The message the live actor takes.
    type Msg: Message<Result = EngineResult<Self::Output>> + Send + 'static;

    /// Who asks (a caller who may not see the conversation is told it is
    /// not found, live or closed).
    fn caller(&self) -> &Caller;

    fn into_live(self) -> Self::Msg;

    /// The answer for a closed conversation, to a caller who may see it.
    fn closed(
        self,
        _store: Arc<dyn Store>,
        _rec: ConversationRecord,
    ) -> BoxFuture<'static, EngineResult<Self::Output>> {
        Box::pin(async { Err(closed_error()) })
    }
}

/// What an op that is itself the live actor's message says of itself.
macro_rules! itself {
    () => {
        fn caller(&self) -> &Caller {
            &self.caller
        }
        fn into_live(self) -> Self::Msg {
            self
        }
    };
}

/// Requests that change a conversation: refused once it is closed.
macro_rules! changes {
    ($($msg:ty => $out:ty),* $(,)?) => {$(
        impl ConversationOp for $msg {
            type Output = $out;
            type Msg = $msg;
            itself!();
        }
    )*};
}

changes!(
    Resolve => ConversationView,
    Transfer => ConversationView,
    Close => ConversationView,
    EditConversation => ConversationView,
    OfflineForm => ConversationView,
    CustomerHandoff => HandoffOutcome,
    PostNote => Arc<MessageRecord>,
    Typing => (),
    CustomerPresenceUpdate => (),
);

/// A send: a retry of one that landed before the close is still answered
/// with the message it made.
impl ConversationOp for PostMessage {
    type Output = Arc<MessageRecord>;
    type Msg = PostMessage;
    itself!();
    fn closed(
        self,
        store: Arc<dyn Store>,
        rec: ConversationRecord,
    ) -> BoxFuture<'static, EngineResult<Self::Output>> {
        let id = rec.id;
        Box::pin(async move {
            if let Some(c) = &self.client_msg_id {
                if let Some(m) = store.find_message_by_client_id(id, c).await? {
                    return Ok(Arc::new(m));
                }
            }
            Err(closed_error())
        })
    }
}

/// A read: the stored record, with its last seq.
impl ConversationOp for GetConversation {
    type Output = ConversationView;
    type Msg = GetConversation;
    itself!();
    fn closed(
        self,
        store: Arc<dyn Store>,
        rec: ConversationRecord,
    ) -> BoxFuture<'static, EngineResult<Self::Output>> {
        Box::pin(async move { stored_view(&*store, &rec).await })
    }
}

/// A rating: the customer may still rate once the conversation is closed
/// (seed 003 5.9); the store lets exactly one rating in.
impl ConversationOp for RateConversation {
    type Output = ConversationView;
    type Msg = RateConversation;
    itself!();
    fn closed(
        self,
        store: Arc<dyn Store>,
        rec: ConversationRecord,
    ) -> BoxFuture<'static, EngineResult<Self::Output>> {
        let id = rec.id;
        Box::pin(async move {
            let feedback = validate_rating(self.rating, self.feedback)?;
            if !store
                .rate_closed_conversation(id, self.rating as i32, feedback)
                .await?
            {
                return Err(EngineError::InvalidTransition(
                    "the conversation was already rated".into(),
                ));
            }
            let rec = store
                .load_conversation(id)
                .await?
                .ok_or_else(|| EngineError::NotFound("conversation not found".into()))?;
            stored_view(&*store, &rec).await
        })
    }
}

/// A subscribe: the same replay pages as a live conversation's, from the
/// store, and nothing live to join afterwards.
impl ConversationOp for SubscribeConversation {
    type Output = Subscribed;
    type Msg = SubscribeConversation;
    itself!();
    fn closed(
        self,
        store: Arc<dyn Store>,
        rec: ConversationRecord,
    ) -> BoxFuture<'static, EngineResult<Self::Output>> {
        let id = rec.id;
        Box::pin(async move {
            let last = store.last_seq(id).await?;
            let Some(after) = self.after_seq else {
                return Ok(Subscribed {
                    last_seq: last,
                    replayed_to: None,
                    more: false,
                });
            };
            let (upto, more) = replay_page(after, last);
            let msgs = if upto > after {
                store.load_messages(id, after, upto - after).await?
            } else {
                Vec::new()
            };
            // Internal notes: as a live conversation's replay decides.
            let audience = Audience::of(&self.caller);
            let channel = format!("conversation:{id}");
            let frames = msgs
                .iter()
                .filter(|m| m.seq <= upto && audience.sees(m.internal))
                .map(|m| message_frame(&channel, m));
            let sub = self.subscriber;
            if !sub.replay(frames) {
                sub.evict(&channel);
            }
            Ok(Subscribed {
                last_seq: last,
                replayed_to: Some(upto),
                more,
            })
        })
    }
}

impl Engine {
    /// Ask conversation `id`: its actor while it is live, else the answer
    /// `op` gives for a closed conversation (see the module's comment).
    pub async fn ask_conversation<Op>(&self, id: ConversationId, op: Op) -> EngineResult<Op::Output>
    where
        Op: ConversationOp,
        ConversationActor: Handler<Op::Msg>,
        <ConversationActor as Actor>::Context: ToEnvelope<ConversationActor, Op::Msg>,
    {
        Ok(self.ask_conversation_at(id, op).await?.0)
    }

    /// As [`Engine::ask_conversation`], with the actor that answered (None:
    /// the conversation is closed), for a subscriber that stays with it.
    pub async fn ask_conversation_at<Op>(
        &self,
        id: ConversationId,
        op: Op,
    ) -> EngineResult<(Op::Output, Option<Addr<ConversationActor>>)>
    where
        Op: ConversationOp,
        ConversationActor: Handler<Op::Msg>,
        <ConversationActor as Actor>::Context: ToEnvelope<ConversationActor, Op::Msg>,
    {
        match self.conversation(id).await? {
            ConversationRef::Live(addr) => {
                let out = addr.send(op.into_live()).await??;
                Ok((out, Some(addr)))
            }
            ConversationRef::Closed(rec) => {
                if !op.caller().can_view(rec.project_id, &rec.visitor_id) {
                    return Err(EngineError::NotFound("conversation not found".into()));
                }
                let store = self.store().clone();
                Ok((op.closed(store, *rec).await?, None))
            }
        }
    }
}
