//! What the customer does besides chatting: the offline form (seed 003
//! 5.8.4, 9.5) and the satisfaction rating.

use super::{field_error, validate_content, After, ConversationActor, St};
use crate::domain::conversation::ConversationEvent as Ev;
use crate::engine::agent::NotifyAgent;
use crate::engine::answer_now;
use crate::engine::caller::Caller;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::log::LogOwner;
use crate::engine::project::Enqueue;
use crate::engine::views::ConversationView;
use crate::ports::SenderType;
use actix::prelude::*;
use serde_json::json;

/// Longest feedback text of a rating, in characters.
pub const MAX_FEEDBACK_CHARS: usize = 2000;

fn not_found() -> EngineError {
    EngineError::NotFound("conversation not found".into())
}

/// Outside hours: the customer leaves an email and a message, and the
/// conversation waits in the queue for the next opening. Once per
/// conversation. The email is contact information on this conversation
/// (unverified), never linked to a customer.
#[derive(Message)]
#[rtype(result = "EngineResult<ConversationView>")]
pub struct OfflineForm {
    pub caller: Caller,
    pub email: String,
    pub name: Option<String>,
    pub message: String,
}

impl Handler<OfflineForm> for ConversationActor {
    type Result = AtomicResponse<Self, EngineResult<ConversationView>>;

    fn handle(&mut self, msg: OfflineForm, _: &mut Context<Self>) -> Self::Result {
        match self.offline_form(msg) {
            Ok(fut) => AtomicResponse::new(fut),
            Err(e) => answer_now(Err(e)),
        }
    }
}

impl ConversationActor {
    fn offline_form(
        &mut self,
        msg: OfflineForm,
    ) -> EngineResult<ResponseActFuture<Self, EngineResult<ConversationView>>> {
        if !matches!(msg.caller, Caller::Customer { .. }) || self.require_view(&msg.caller).is_err()
        {
            return Err(not_found());
        }
        let content = validate_content(&msg.message).map_err(|e| match e {
            EngineError::Validation(mut fields) => {
                let problem = fields.remove("content").unwrap_or_default();
                field_error("message", &problem)
            }
            other => other,
        })?;
        // Once per conversation: each form sends an email to the address
        // it names, so a second would let anyone mail anyone repeatedly.
        if self.rec.metadata.get("offline_form").is_some() {
            return Err(EngineError::InvalidTransition(
                "the offline form was already sent for this conversation".into(),
            ));
        }
        let old = self.rec.status;
        let enqueue = match old {
            St::AiActive => {
                self.check(Ev::Handoff)?;
                true
            }
            St::Waiting => false,
            _ => {
                return Err(EngineError::InvalidTransition(format!(
                    "the offline form is for conversations not yet with an agent; this one is {}",
                    old.as_str()
                )))
            }
        };
        let now = self.now();
        self.set_contact(Some(msg.email.clone()), msg.name);
        self.rec.customer_last_seen_at = Some(now);
        if !self.rec.metadata.is_object() {
            self.rec.metadata = json!({});
        }
        self.rec.metadata["offline_form"] =
            json!({ "email": msg.email, "submitted_at": crate::wire_time::format(&now) });
        if enqueue {
            self.rec.status = St::Waiting;
            self.rec.handoff_reason = Some("customer_request".into());
            self.rec.handoff_triggered_at = Some(now);
            self.rec.ai_messages_before_handoff = self.ai_messages;
            self.rec.queue_entered_at = Some(now);
        }
        let question = self.new_message(
            SenderType::Customer,
            None,
            content,
            json!({ "offline_form": true }),
            None,
            false,
        );
        let thanks = self.system_message(
            format!(
                "Thanks! Our team is offline right now; we will answer here and at {} when we are back.",
                msg.email
            ),
            json!({ "event": "offline_form", "email": msg.email }),
        );
        let (seqs, write) = self.append(
            vec![
                (question, After::Nothing, None),
                (thanks, After::Nothing, None),
            ],
            true,
        );
        let id = self.rec.id;
        let preview = self.preview();
        Ok(Box::pin(write.into_actor(self).map(
            move |res, act, ctx| {
                act.on_written(&seqs, &res, ctx);
                res.map_err(EngineError::from)?;
                if old != act.rec.status {
                    act.publish(
                        "status_changed",
                        json!({ "old_status": old, "new_status": act.rec.status }),
                    );
                }
                if enqueue {
                    act.project.addr.do_send(Enqueue {
                        conversation_id: id,
                        entered_at: now,
                        preview,
                    });
                }
                Ok(act.view())
            },
        )))
    }
}

/// The customer's satisfaction rating: 1 to 5 with optional feedback, once,
/// after the conversation is resolved (closed ones are rated in the store,
/// since they have no actor).
#[derive(Message)]
#[rtype(result = "EngineResult<ConversationView>")]
pub struct RateConversation {
    pub caller: Caller,
    pub rating: i64,
    pub feedback: Option<String>,
}

/// Checks a rating's values; answers the feedback to store.
pub fn validate_rating(rating: i64, feedback: Option<String>) -> EngineResult<Option<String>> {
    if !(1..=5).contains(&rating) {
        return Err(field_error("rating", "must be a whole number from 1 to 5"));
    }
    let feedback = feedback
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty());
    if feedback
        .as_ref()
        .is_some_and(|f| f.chars().count() > MAX_FEEDBACK_CHARS)
    {
        return Err(field_error(
            "feedback",
            &format!("must be at most {MAX_FEEDBACK_CHARS} characters"),
        ));
    }
    Ok(feedback)
}

impl Handler<RateConversation> for ConversationActor {
    type Result = AtomicResponse<Self, EngineResult<ConversationView>>;

    fn handle(&mut self, msg: RateConversation, _: &mut Context<Self>) -> Self::Result {
        let check = (|| {
            if !matches!(msg.caller, Caller::Customer { .. })
                || self.require_view(&msg.caller).is_err()
            {
                return Err(not_found());
            }
            let feedback = validate_rating(msg.rating, msg.feedback)?;
            if self.rec.status != St::Resolved {
                return Err(EngineError::InvalidTransition(format!(
                    "a conversation can be rated once it is resolved or closed; this one is {}",
                    self.rec.status.as_str()
                )));
            }
            if self.rec.satisfaction_rating.is_some() {
                return Err(EngineError::InvalidTransition(
                    "the conversation was already rated".into(),
                ));
            }
            Ok(feedback)
        })();
        let feedback = match check {
            Ok(f) => f,
            Err(e) => return answer_now(Err(e)),
        };
        let rating = msg.rating as i32;
        self.rec.satisfaction_rating = Some(rating);
        self.rec.satisfaction_feedback = feedback;
        let agent = self.rec.resolved_by.or(self.rec.assigned_agent_id);
        AtomicResponse::new(Box::pin(self.save_row().map(move |res, act, _| {
            let view = res?;
            if let Some(agent) = agent {
                act.engine.agent(agent).do_send(NotifyAgent {
                    event: "conversation_rated",
                    data: json!({ "conversation_id": act.rec.id, "rating": rating }),
                });
            }
            Ok(view)
        })))
    }
}
