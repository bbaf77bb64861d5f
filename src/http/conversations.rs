//! Conversations: reading, messages, handoff, claim, transfer, resolve,
//! close, notes and tags. Every change goes to the conversation's actor (or
//! for a claim, its project's actor); reads of history come from the store.

use crate::auth::{Auth, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::http::cursor;
use crate::http::customers;
use crate::http::identity::contact_name;
use crate::http::validate;
use crate::ops::conversation as ops;
use crate::state::AppState;
use crate::store::ConversationFilter;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use switchboard_actors::domain::conversation::ConversationStatus;
use switchboard_actors::engine::conversation::CustomerHandoff;
use switchboard_actors::engine::events::Audience;
use switchboard_actors::engine::views::ConversationView;
use switchboard_actors::engine::Caller;
use switchboard_actors::ids::{ConversationId, ProjectId, UserId};
use switchboard_actors::ports::MessageRecord;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/conversations", web::get().to(list))
        .route("/api/conversations/{id}", web::get().to(get))
        .route("/api/conversations/{id}", web::patch().to(edit))
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

pub use crate::ops::conversation::{view_body, view_of};

/// How much of the newest message an inbox item previews.
const PREVIEW_CHARS: usize = 140;

#[derive(Deserialize)]
struct ListQuery {
    project_id: Option<ProjectId>,
    status: Option<String>,
    assigned_to: Option<String>,
    /// Search: message words, customer name or email (issue 17).
    q: Option<String>,
    tag: Option<String>,
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
    if let Some(text) = &q.q {
        validate::text("q", text, 0, 200)?;
    }
    if let Some(tag) = &q.tag {
        validate::text("tag", tag, 1, 50)?;
    }
    let cursor = q.cursor.as_deref().map(cursor::decode).transpose()?;
    let mut rows = state
        .db
        .list_conversations(&ConversationFilter {
            project_ids,
            status,
            assigned_to,
            customer_id: None,
            text: q.q.clone(),
            tag: q.tag.as_deref().map(|t| t.trim().to_lowercase()),
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
    // The inbox shows each one's newest message the customer also saw.
    let mut last: std::collections::HashMap<ConversationId, MessageRecord> = state
        .db
        .last_public_messages(rows.iter().map(|r| r.id).collect())
        .await?
        .into_iter()
        .collect();
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut item = json!(ConversationView::from_record(r, None));
            item["last_message"] = match last.remove(&r.id) {
                Some(m) => json!({
                    "seq": m.seq,
                    "sender_type": m.sender_type,
                    "content": m.content.chars().take(PREVIEW_CHARS).collect::<String>(),
                    "created_at": switchboard_actors::wire_time::format(&m.created_at),
                }),
                None => serde_json::Value::Null,
            };
            item
        })
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
    let after = cursor::after_seq(match &q.cursor {
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| ApiError::field("cursor", "is not a cursor this API gave out"))?,
        ),
        None => q.after_seq,
    })?;
    // Internal notes: the audience rule of live delivery and replay.
    let audience = Audience::of(&auth.0);
    let rows = state
        .engine
        .store()
        .load_messages(view.id, after, limit)
        .await?;
    let next = cursor::next_seq(&rows, limit, |m| m.seq);
    let items: Vec<&MessageRecord> = rows.iter().filter(|m| audience.sees(m.internal)).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": next })))
}

async fn post_message(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<ConversationId>,
    body: web::Json<ops::NewMessage>,
) -> ApiResult<HttpResponse> {
    let m = ops::send_message(&state, auth.0, *id, body.into_inner()).await?;
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
    let name = contact_name("customer_name", body.customer_name.as_deref())?;
    // The email and name are contact information on this conversation
    // (marked unverified), never linked to a customer: nothing proves the
    // caller owns the address.
    let handoff = CustomerHandoff {
        caller: auth.0,
        reason,
        customer_email: email,
        customer_name: name,
    };
    let outcome = state.engine.ask_conversation(*id, handoff).await?;
    Ok(HttpResponse::Ok().json(outcome))
}

async fn claim(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    match ops::claim(&state, &auth, *id).await {
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
    let v = ops::transfer(&state, &auth, *id, to).await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn resolve(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    let v = ops::resolve(&state, &auth, *id).await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn close(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<ConversationId>,
) -> ApiResult<HttpResponse> {
    let v = ops::close(&state, auth.0.clone(), *id).await?;
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
    let m = ops::note(&state, &auth, *id, body.into_inner().content).await?;
    Ok(HttpResponse::Created().json(&*m))
}

#[derive(Deserialize)]
struct TagsBody {
    tags: Vec<String>,
}

/// The tags alone: an edit with only `tags`.
async fn tags(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ConversationId>,
    body: web::Json<TagsBody>,
) -> ApiResult<HttpResponse> {
    let edit = ops::ConversationEdit {
        tags: Some(body.into_inner().tags),
        ..Default::default()
    };
    let v = ops::edit(&state, &auth, *id, edit).await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn edit(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ConversationId>,
    body: web::Json<ops::ConversationEdit>,
) -> ApiResult<HttpResponse> {
    let v = ops::edit(&state, &auth, *id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(v))
}
