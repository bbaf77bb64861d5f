//! Conversations: reading, messages, handoff, claim, transfer, resolve,
//! close, notes and tags. Every change goes to the conversation's actor (or
//! for a claim, its project's actor); reads of history come from the store.

use crate::auth::{Auth, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::http::cursor;
use crate::http::customers;
use crate::http::identity::contact_name;
use crate::http::metadata;
use crate::http::validate;
use crate::state::AppState;
use crate::store::ConversationFilter;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use switchboard_actors::domain::conversation::ConversationStatus;
use switchboard_actors::engine::conversation::{
    Close, CustomerHandoff, GetConversation, PostMessage, PostNote, Resolve, SetTags, Transfer,
};
use switchboard_actors::engine::project::{Claim, QueueInfo};
use switchboard_actors::engine::views::{ConversationView, CustomerConversationView};
use switchboard_actors::engine::{Caller, ConversationRef, EngineError};
use switchboard_actors::ids::{ConversationId, ProjectId, UserId};
use switchboard_actors::ports::MessageRecord;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/conversations", web::get().to(list))
        .route("/api/conversations/{id}", web::get().to(get))
        .route("/api/conversations/{id}/messages", web::get().to(messages))
        .route(
            "/api/conversations/{id}/messages",
            web::post().to(post_message),
        )
        .route("/api/conversations/{id}/handoff", web::post().to(handoff))
        .route("/api/conversations/{id}/claim", web::post().to(claim))
        .route("/api/conversations/{id}/transfer", web::post().to(transfer))
        .route("/api/conversations/{id}/resolve", web::post().to(resolve))
        .route("/api/conversations/{id}/close", web::post().to(close))
        .route("/api/conversations/{id}/notes", web::post().to(note))
        .route("/api/conversations/{id}/tags", web::put().to(tags));
}

fn not_found() -> ApiError {
    ApiError::not_found("conversation not found")
}

/// The JSON of a conversation view for `caller`: its customer gets the
/// whitelisted customer view (no tags, metadata, handoff or AI context),
/// staff and bots the whole view. Every answer that carries a view to a
/// caller who may be the customer goes through here.
pub fn view_body(caller: &Caller, view: &ConversationView) -> Value {
    match caller {
        Caller::Customer { .. } => json!(CustomerConversationView::from(view)),
        _ => json!(view),
    }
}

/// The conversation's current view as `caller` may see it, with a fresh
/// queue position while it waits.
pub async fn view_of(
    state: &AppState,
    caller: &Caller,
    id: ConversationId,
) -> ApiResult<ConversationView> {
    match state.engine.conversation(id).await {
        Ok(ConversationRef::Live(addr)) => {
            let mut v = addr
                .send(GetConversation {
                    caller: caller.clone(),
                })
                .await??;
            if v.status == ConversationStatus::Waiting {
                let project = state.engine.project(v.project_id).await?;
                if let Some((p, e)) = project
                    .addr
                    .send(QueueInfo {
                        conversation_id: id,
                    })
                    .await?
                {
                    v.queue_position = Some(p);
                    v.estimated_wait_minutes = Some(e);
                }
            }
            Ok(v)
        }
        Ok(ConversationRef::Closed(rec)) => {
            if !caller.can_view(rec.project_id, &rec.visitor_id) {
                return Err(not_found());
            }
            let last = state.engine.store().last_seq(id).await?;
            Ok(ConversationView::from_record(&rec, Some(last)))
        }
        Err(EngineError::NotFound(_)) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

async fn live(
    state: &AppState,
    id: ConversationId,
) -> ApiResult<
    Result<
        actix::Addr<switchboard_actors::engine::conversation::ConversationActor>,
        Box<switchboard_actors::ports::ConversationRecord>,
    >,
> {
    match state.engine.conversation(id).await {
        Ok(ConversationRef::Live(a)) => Ok(Ok(a)),
        Ok(ConversationRef::Closed(r)) => Ok(Err(r)),
        Err(EngineError::NotFound(_)) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

/// The live actor, or INVALID_TRANSITION once closed (after checking the
/// caller may see it at all).
async fn live_or_closed_error(
    state: &AppState,
    caller: &Caller,
    id: ConversationId,
) -> ApiResult<actix::Addr<switchboard_actors::engine::conversation::ConversationActor>> {
    match live(state, id).await? {
        Ok(a) => Ok(a),
        Err(rec) => {
            if !caller.can_view(rec.project_id, &rec.visitor_id) {
                return Err(not_found());
            }
            Err(ApiError::new(
                actix_web::http::StatusCode::BAD_REQUEST,
                "INVALID_TRANSITION",
                "the conversation is closed",
            ))
        }
    }
}

#[derive(Deserialize)]
struct ListQuery {
    project_id: Option<ProjectId>,
    status: Option<String>,
    assigned_to: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list(
    state: web::Data<AppState>,
    auth: StaffAuth,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    let limit = validate::limit(q.limit)?;
    let project_ids: Vec<ProjectId> = match q.project_id {
        Some(p) => {
            auth.member_of(p)?;
            vec![p]
        }
        None => auth.1.memberships.keys().copied().collect(),
    };
    let status = q
        .status
        .as_deref()
        .map(|s| {
            ConversationStatus::parse(s).ok_or_else(|| {
                ApiError::field(
                    "status",
                    "must be ai_active, waiting, agent_active, resolved or closed",
                )
            })
        })
        .transpose()?;
    let assigned_to = match q.assigned_to.as_deref() {
        None => None,
        Some("me") => Some(auth.1.user_id),
        Some(s) => Some(
            s.parse::<UserId>()
                .map_err(|_| ApiError::field("assigned_to", "must be \"me\" or a user id"))?,
        ),
    };
    let cursor = q.cursor.as_deref().map(cursor::decode).transpose()?;
    let mut rows = state
        .db
        .list_conversations(&ConversationFilter {
            project_ids,
            status,
            assigned_to,
            customer_id: None,
            cursor,
            limit: limit + 1,
        })
        .await?;
    // at millisecond precision, as this list's cursor has always been
    let next = cursor::page(&mut rows, limit, |r| {
        (
            chrono::SubsecRound::trunc_subsecs(r.last_message_at, 3),
            r.id,
        )
    });
    let items: Vec<ConversationView> = rows
        .iter()
        .map(|r| ConversationView::from_record(r, None))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": next })))
}

async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    let view = view_of(&state, &auth.0, *id).await?;
    let mut body = view_body(&auth.0, &view);
    if let Caller::Staff(_) = &auth.0 {
        let by_id = match view.customer_id {
            Some(id) => state.db.customer(view.project_id, id).await?,
            None => None,
        };
        // An actor not yet told of a merge still names the merged-away
        // customer; the visitor leads to the one that took it in.
        let customer = match by_id {
            Some(c) => Some(c),
            None => {
                state
                    .db
                    .customer_of_visitor(view.project_id, &view.visitor_id)
                    .await?
            }
        };
        if let Some(c) = customer {
            body["customer"] = customers::detail_json(&state, &c).await?;
        }
    }
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
struct MessagesQuery {
    after_seq: Option<i64>,
    cursor: Option<String>,
    limit: Option<i64>,
}

async fn messages(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<ConversationId>,
    q: web::Query<MessagesQuery>,
) -> ApiResult<HttpResponse> {
    let view = view_of(&state, &auth.0, *id).await?;
    let limit = validate::limit(q.limit)?;
    let after = match (&q.cursor, q.after_seq) {
        (Some(c), _) => c
            .parse::<i64>()
            .map_err(|_| ApiError::field("cursor", "is not a cursor this API gave out"))?,
        (None, Some(a)) => a,
        (None, None) => 0,
    };
    if after < 0 {
        return Err(ApiError::field("after_seq", "must be 0 or more"));
    }
    let staff = matches!(auth.0, Caller::Staff(_));
    let rows = state
        .engine
        .store()
        .load_messages(view.id, after, limit)
        .await?;
    let full = rows.len() as i64 == limit;
    let next = if full {
        rows.last().map(|m| m.seq.to_string())
    } else {
        None
    };
    let items: Vec<&MessageRecord> = rows.iter().filter(|m| staff || !m.internal).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": next })))
}

#[derive(Deserialize)]
struct NewMessage {
    content: String,
    client_msg_id: Option<String>,
    metadata: Option<Value>,
}

/// Post as `caller`; shared by REST and WebSocket.
pub async fn send_message(
    state: &AppState,
    caller: Caller,
    id: ConversationId,
    content: String,
    client_msg_id: Option<String>,
    metadata: Option<Value>,
) -> ApiResult<Arc<MessageRecord>> {
    // Seed 003 8.3: a visitor sends at most so many messages a minute,
    // over REST and WebSocket alike; refused before anything is stored.
    if let Caller::Customer {
        project_id,
        visitor_id,
    } = &caller
    {
        state.rate_limit(
            crate::limits::LimitKind::WidgetMessage,
            &format!("{project_id}:{visitor_id}"),
        )?;
    }
    // A customer's metadata is kept to known keys (it is shown with the
    // message and must not pass for an agent's or the AI's); staff and
    // bots may attach any object (a bot's `confidence` drives handoffs).
    match (&metadata, &caller) {
        (Some(m), Caller::Customer { .. }) => metadata::check_customer(m, metadata::MESSAGE_KEYS)?,
        (Some(m), _) => {
            if !m.is_object() {
                return Err(ApiError::field("metadata", "must be an object"));
            }
            if m.to_string().len() > crate::http::widget::MAX_METADATA_BYTES {
                return Err(ApiError::too_large("metadata is larger than 16 KiB"));
            }
        }
        (None, _) => {}
    }
    match live(state, id).await? {
        Ok(addr) => Ok(addr
            .send(PostMessage {
                caller,
                content,
                client_msg_id,
                metadata: metadata.unwrap_or_else(|| json!({})),
            })
            .await??),
        Err(rec) => {
            if !caller.can_view(rec.project_id, &rec.visitor_id) {
                return Err(not_found());
            }
            // A retry of a send that landed before the close is still answered.
            if let Some(c) = &client_msg_id {
                if let Some(m) = state
                    .engine
                    .store()
                    .find_message_by_client_id(id, c)
                    .await?
                {
                    return Ok(Arc::new(m));
                }
            }
            Err(ApiError::new(
                actix_web::http::StatusCode::BAD_REQUEST,
                "INVALID_TRANSITION",
                "the conversation is closed",
            ))
        }
    }
}

async fn post_message(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<ConversationId>,
    body: web::Json<NewMessage>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let m = send_message(&state, auth.0, *id, b.content, b.client_msg_id, b.metadata).await?;
    Ok(HttpResponse::Created().json(&*m))
}

#[derive(Deserialize)]
struct HandoffBody {
    reason: String,
    customer_email: Option<String>,
    customer_name: Option<String>,
}

async fn handoff(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<ConversationId>,
    body: web::Json<HandoffBody>,
) -> ApiResult<HttpResponse> {
    if !matches!(auth.0, Caller::Customer { .. }) {
        return Err(ApiError::forbidden("only the customer asks for a handoff"));
    }
    let reason = match body.reason.as_str() {
        "button_click" => "button_click",
        "customer_request" => "customer_request",
        _ => {
            return Err(ApiError::field(
                "reason",
                "must be \"button_click\" or \"customer_request\"",
            ))
        }
    };
    let email = body
        .customer_email
        .as_deref()
        .map(|e| validate::email("customer_email", e))
        .transpose()?;
    let name = body
        .customer_name
        .as_deref()
        .map(|n| contact_name("customer_name", n))
        .transpose()?;
    let addr = live_or_closed_error(&state, &auth.0, *id).await?;
    // The email and name are contact information on this conversation
    // (marked unverified), never linked to a customer: nothing proves the
    // caller owns the address.
    let outcome = addr
        .send(CustomerHandoff {
            caller: auth.0,
            reason,
            customer_email: email,
            customer_name: name,
        })
        .await??;
    Ok(HttpResponse::Ok().json(outcome))
}

/// Claim as an agent; shared by REST and WebSocket.
pub async fn claim_conversation(
    state: &AppState,
    auth: &StaffAuth,
    id: ConversationId,
) -> ApiResult<ConversationView> {
    let view = view_of(state, &auth.0, id).await?;
    auth.agent_of(view.project_id)?;
    let project = state.engine.project(view.project_id).await?;
    project
        .addr
        .send(Claim {
            conversation_id: id,
            agent_id: auth.1.user_id,
        })
        .await??;
    view_of(state, &auth.0, id).await
}

async fn claim(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    match claim_conversation(&state, &auth, *id).await {
        Ok(v) => Ok(HttpResponse::Ok().json(json!({ "success": true, "conversation": v }))),
        Err(e) if e.status == actix_web::http::StatusCode::CONFLICT => Ok(HttpResponse::Conflict()
            .json(json!({
                "success": false, "error": e.code, "message": e.message,
            }))),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
struct TransferBody {
    to_agent_id: Option<UserId>,
}

async fn transfer(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ConversationId>,
    body: Option<web::Json<TransferBody>>,
) -> ApiResult<HttpResponse> {
    let to = body.and_then(|b| b.into_inner().to_agent_id);
    let addr = live_or_closed_error(&state, &auth.0, *id).await?;
    let v = addr.send(Transfer { caller: auth.0, to }).await??;
    Ok(HttpResponse::Ok().json(v))
}

async fn resolve(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    let addr = live_or_closed_error(&state, &auth.0, *id).await?;
    let v = addr.send(Resolve { caller: auth.0 }).await??;
    Ok(HttpResponse::Ok().json(v))
}

async fn close(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    let addr = live_or_closed_error(&state, &auth.0, *id).await?;
    let v = addr
        .send(Close {
            caller: auth.0.clone(),
        })
        .await??;
    Ok(HttpResponse::Ok().json(view_body(&auth.0, &v)))
}

#[derive(Deserialize)]
struct NoteBody {
    content: String,
}

async fn note(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ConversationId>,
    body: web::Json<NoteBody>,
) -> ApiResult<HttpResponse> {
    let addr = live_or_closed_error(&state, &auth.0, *id).await?;
    let m = addr
        .send(PostNote {
            caller: auth.0,
            content: body.into_inner().content,
        })
        .await??;
    Ok(HttpResponse::Created().json(&*m))
}

#[derive(Deserialize)]
struct TagsBody {
    tags: Vec<String>,
}

async fn tags(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ConversationId>,
    body: web::Json<TagsBody>,
) -> ApiResult<HttpResponse> {
    let addr = live_or_closed_error(&state, &auth.0, *id).await?;
    let v = addr
        .send(SetTags {
            caller: auth.0,
            tags: body.into_inner().tags,
        })
        .await??;
    Ok(HttpResponse::Ok().json(v))
}
