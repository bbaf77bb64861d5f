//! Staff edits of a conversation (seed 003 7.2, `PATCH
//! /api/conversations/:id`): its tags, the customer's name and email as
//! contact details, and the status changes the state machine allows from
//! the header (resolve, close). Everything asked is checked before
//! anything changes, and what changes is one write.
use super::*;
use crate::engine::answer_now;

/// A status an edit may ask for; the others are reached by their own
/// operations (handoff, claim, transfer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditStatus {
    Resolved,
    Closed,
}

#[derive(Message)]
#[rtype(result = "EngineResult<ConversationView>")]
pub struct EditConversation {
    pub caller: Caller,
    pub tags: Option<Vec<String>>,
    /// Checked by the caller (a contact name).
    pub customer_name: Option<String>,
    /// Checked by the caller (an email address).
    pub customer_email: Option<String>,
    pub status: Option<EditStatus>,
}

/// Tags as stored: trimmed, lower case, each once, in the order given.
pub fn normalize_tags(given: Vec<String>) -> EngineResult<Vec<String>> {
    let mut tags: Vec<String> = Vec::new();
    for t in given {
        let t = t.trim().to_lowercase();
        if t.is_empty() || t.chars().count() > MAX_TAG_CHARS {
            return Err(field_error(
                "tags",
                &format!("each tag must be 1 to {MAX_TAG_CHARS} characters"),
            ));
        }
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(field_error("tags", &format!("at most {MAX_TAGS} tags")));
    }
    Ok(tags)
}

impl ConversationActor {
    /// The status change an edit asks for, if `caller` may make it now.
    fn may_edit(&self, msg: &EditConversation) -> EngineResult<Option<(EditStatus, St)>> {
        if !msg.caller.is_staff_of(self.rec.project_id) {
            return Err(EngineError::NotFound("conversation not found".into()));
        }
        if let Some(email) = &msg.customer_email {
            // A proven email is the customer's identity: it changes through
            // the customer's proof (issue 9), never by an edit.
            if self.rec.customer_email_verified
                && self.rec.customer_email.as_deref() != Some(email.as_str())
            {
                return Err(field_error(
                    "customer_email",
                    "is the customer's proven email and cannot be edited",
                ));
            }
        }
        Ok(match msg.status {
            None => None,
            Some(s @ EditStatus::Resolved) => Some((s, self.may_resolve(&msg.caller)?)),
            Some(s @ EditStatus::Closed) => Some((s, self.may_close(&msg.caller)?)),
        })
    }
}

impl Handler<EditConversation> for ConversationActor {
    type Result = AtomicResponse<Self, EngineResult<ConversationView>>;

    fn handle(&mut self, msg: EditConversation, _: &mut Context<Self>) -> Self::Result {
        let status = match self.may_edit(&msg) {
            Ok(s) => s,
            Err(e) => return answer_now(Err(e)),
        };
        let tags = match msg.tags.map(normalize_tags).transpose() {
            Ok(t) => t,
            Err(e) => return answer_now(Err(e)),
        };
        if let Some(tags) = tags {
            self.rec.tags = tags;
        }
        self.set_contact(msg.customer_email, msg.customer_name);
        self.rec.updated_at = self.now();
        let written = match status {
            Some((EditStatus::Resolved, next)) => self.resolve(&msg.caller, next),
            Some((EditStatus::Closed, next)) => self.close(&msg.caller, next),
            None => self.save_row(),
        };
        AtomicResponse::new(Box::pin(written.map(|res, act, _| {
            let view = res?;
            act.tell_staff_updated(&view);
            Ok(view)
        })))
    }
}

impl ConversationActor {
    /// Other staff watching the conversation see an edit of it; the
    /// customer does not (tags and contact notes are the team's).
    pub(super) fn tell_staff_updated(&mut self, view: &ConversationView) {
        let frame = event_frame(
            &self.channel,
            "conversation_updated",
            None,
            &json!({ "conversation": view }),
            self.now(),
        );
        self.subs
            .publish(&self.channel, &frame, |a| a == Audience::Staff);
    }
}
