//! Customer identity over HTTP (seed 003 5.11): the staff's customer
//! context panel (5.11.6, 5.11.7) with its conversation history, flags and
//! notes, and [`link_visitor_email`], the one way a *proven* email reaches
//! a visitor (`identity.rs` checks the proof), so the store and the live
//! conversations always agree on who the customer is. Emails given without
//! proof (identify without proof, the handoff, the offline form) never come
//! here: they stay contact information on their conversation.

use crate::auth::StaffAuth;
use crate::error::{ApiError, ApiResult};
use crate::http::{cursor, validate};
use crate::state::AppState;
use crate::store::{CustomerConversation, CustomerPatch, CustomerRow};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use switchboard_actors::engine::conversation::LinkCustomer;
use switchboard_actors::ids::{ConversationId, CustomerId, ProjectId};
use switchboard_actors::wire_time;

/// How many conversations the panel lists before "View all".
pub const PANEL_HISTORY: i64 = 20;
/// How many the conversation detail's `customer` shows.
pub const RECENT_CONVERSATIONS: i64 = 5;
/// Longest preview of a conversation's first customer message.
const PREVIEW_CHARS: usize = 140;
const MAX_FLAG_REASON_CHARS: usize = 500;
const MAX_NOTES_CHARS: usize = 10_000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/projects/{id}/customers/{customer_id}",
        web::get().to(get),
    )
    .route(
        "/api/projects/{id}/customers/{customer_id}",
        web::patch().to(patch),
    )
    .route(
        "/api/projects/{id}/customers/{customer_id}/conversations",
        web::get().to(conversations),
    );
}

/// Links a proven `email` (validated here, field `email`) and `name` (field
/// `name`) to the project's visitor, merging customers when the email
/// already belongs to another (seed 003 5.11.4), then tells every live
/// conversation of the resulting customer its id, email and name, so their
/// views and stored columns match the store. Returns the customer.
///
/// The link is durable before any actor hears of it; should telling one
/// fail, the others are still told and the first error is answered (a
/// retry links again, which changes nothing, and tells them again).
pub async fn link_visitor_email(
    state: &AppState,
    project: ProjectId,
    visitor_id: &str,
    email: &str,
    name: Option<&str>,
) -> ApiResult<CustomerRow> {
    let email = validate::email("email", email)?;
    let name = crate::http::identity::contact_name("name", name)?;
    let linked = state
        .db
        .link_email(project, visitor_id, &email, name.as_deref(), state.now())
        .await?;
    let customer = linked.customer;
    let mut first_error = None;
    for id in linked.conversations {
        if let Err(e) = tell_conversation(state, id, &customer).await {
            tracing::warn!(conversation = %id, error = %e, "could not link a live conversation to its customer");
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(customer),
    }
}

async fn tell_conversation(
    state: &AppState,
    id: ConversationId,
    customer: &CustomerRow,
) -> ApiResult<()> {
    if let Some(addr) = state.engine.live_conversation(id).await? {
        addr.send(LinkCustomer {
            customer_id: customer.id,
            email: customer.email.clone(),
            email_verified: customer.email_verified,
            name: customer.name.clone(),
        })
        .await??;
    }
    Ok(())
}

/// What a visitor that proved its email may see of its customer record:
/// no flags or notes, and its own visitor id (not the id of the visitor
/// the record started with, which belongs to another device).
pub fn public_json(c: &CustomerRow, visitor_id: &str) -> Value {
    json!({
        "id": c.id,
        "visitor_id": visitor_id,
        "email": c.email,
        "name": c.name,
        "identified": c.email.is_some(),
    })
}

/// The staff's view of a customer: identity, stats, the latest visit's
/// context, flag and notes (seed 003 5.11.6; an anonymous one, 5.11.7, is
/// the same with `identified: false` and no email).
pub fn staff_json(c: &CustomerRow) -> Value {
    let time = |t: &Option<chrono::DateTime<chrono::Utc>>| t.as_ref().map(wire_time::format);
    json!({
        "id": c.id,
        "project_id": c.project_id,
        "visitor_id": c.visitor_id,
        "email": c.email,
        // Proven by the host site's user_hash or a code; emails linked
        // before proof was required are not.
        "customer_email_verified": c.email.is_some() && c.email_verified,
        "name": c.name,
        "identified": c.email.is_some(),
        "merged_visitor_ids": c.merged_visitor_ids,
        "first_seen_at": wire_time::format(&c.first_seen_at),
        "last_seen_at": wire_time::format(&c.last_seen_at),
        "total_conversations": c.total_conversations,
        "last_page_url": c.last_page_url,
        "last_browser": c.last_browser,
        "last_device": c.last_device,
        "last_os": c.last_os,
        "last_location": c.last_location,
        "last_timezone": c.last_timezone,
        "last_language": c.last_language,
        "last_referrer": c.last_referrer,
        "is_flagged": c.is_flagged,
        "flag_reason": c.flag_reason,
        "flagged_at": time(&c.flagged_at),
        "flagged_by": c.flagged_by,
        "internal_notes": c.internal_notes,
        "created_at": wire_time::format(&c.created_at),
        "updated_at": wire_time::format(&c.updated_at),
    })
}

fn history_json(h: &CustomerConversation) -> Value {
    let time = |t: &Option<chrono::DateTime<chrono::Utc>>| t.as_ref().map(wire_time::format);
    json!({
        "id": h.id,
        "status": h.status.as_str(),
        "created_at": wire_time::format(&h.created_at),
        "last_message_at": wire_time::format(&h.last_message_at),
        "resolved_at": time(&h.resolved_at),
        "closed_at": time(&h.closed_at),
        "satisfaction_rating": h.satisfaction_rating,
        "customer_email": h.customer_email,
        "customer_email_verified": h.customer_email_verified,
        "preview": h.preview.as_deref().map(preview),
    })
}

fn preview(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text.to_string(),
    }
}

/// One page of the customer's history as a list of docs/protocol.md section 1.
async fn history_page(
    state: &AppState,
    customer: CustomerId,
    cursor: Option<&str>,
    limit: i64,
) -> ApiResult<Value> {
    let cursor = cursor.map(cursor::decode).transpose()?;
    let mut rows = state
        .db
        .customer_conversations(customer, cursor, limit + 1)
        .await?;
    let next = cursor::page(&mut rows, limit, |h| (h.created_at, h.id));
    let items: Vec<Value> = rows.iter().map(history_json).collect();
    Ok(json!({ "items": items, "next_cursor": next }))
}

/// The conversation detail's `customer`: the staff view with the newest
/// few conversations.
pub async fn detail_json(state: &AppState, c: &CustomerRow) -> ApiResult<Value> {
    let recent = state
        .db
        .customer_conversations(c.id, None, RECENT_CONVERSATIONS)
        .await?;
    let mut body = staff_json(c);
    body["recent_conversations"] = recent.iter().map(history_json).collect();
    Ok(body)
}

/// The project's customer, for a member of the project; another project's
/// (or a merged-away) id is "not found".
async fn customer_of(
    state: &AppState,
    auth: &StaffAuth,
    project: ProjectId,
    id: CustomerId,
) -> ApiResult<CustomerRow> {
    auth.member_of(project)?;
    state
        .db
        .customer(project, id)
        .await?
        .ok_or_else(|| ApiError::not_found("customer not found"))
}

async fn get(
    state: web::Data<AppState>,
    auth: StaffAuth,
    path: web::Path<(ProjectId, CustomerId)>,
) -> ApiResult<HttpResponse> {
    let (project, id) = path.into_inner();
    let customer = customer_of(&state, &auth, project, id).await?;
    let mut body = staff_json(&customer);
    body["conversations"] = history_page(&state, customer.id, None, PANEL_HISTORY).await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
struct HistoryQuery {
    cursor: Option<String>,
    limit: Option<i64>,
}

async fn conversations(
    state: web::Data<AppState>,
    auth: StaffAuth,
    path: web::Path<(ProjectId, CustomerId)>,
    q: web::Query<HistoryQuery>,
) -> ApiResult<HttpResponse> {
    let (project, id) = path.into_inner();
    let limit = validate::limit(q.limit)?;
    let customer = customer_of(&state, &auth, project, id).await?;
    let page = history_page(&state, customer.id, q.cursor.as_deref(), limit).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Tells a field given as `null` (clear it) from one left out (keep it).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    is_flagged: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    flag_reason: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    internal_notes: Option<Option<String>>,
}

/// A text that may be cleared: blank is the same as `null`.
fn optional_text(field: &str, v: Option<String>, max: usize) -> ApiResult<Option<String>> {
    match v {
        Some(s) if !s.trim().is_empty() => validate::text(field, &s, 1, max).map(Some),
        _ => Ok(None),
    }
}

async fn patch(
    state: web::Data<AppState>,
    auth: StaffAuth,
    path: web::Path<(ProjectId, CustomerId)>,
    body: web::Json<PatchBody>,
) -> ApiResult<HttpResponse> {
    let (project, id) = path.into_inner();
    let body = body.into_inner();
    let patch = CustomerPatch {
        is_flagged: body.is_flagged,
        flag_reason: body
            .flag_reason
            .map(|r| optional_text("flag_reason", r, MAX_FLAG_REASON_CHARS))
            .transpose()?,
        internal_notes: body
            .internal_notes
            .map(|n| optional_text("internal_notes", n, MAX_NOTES_CHARS))
            .transpose()?,
    };
    customer_of(&state, &auth, project, id).await?;
    let customer = state
        .db
        .patch_customer(project, id, &patch, auth.1.user_id, state.now())
        .await
        .map_err(|e| match e {
            switchboard_actors::ports::StoreError::NotFound => {
                ApiError::not_found("customer not found")
            }
            other => other.into(),
        })?;
    Ok(HttpResponse::Ok().json(staff_json(&customer)))
}

#[cfg(test)]
mod tests {
    use super::preview;

    #[test]
    fn previews_are_cut_on_a_character_boundary() {
        assert_eq!(preview("  short  "), "short");
        let long = "é".repeat(200);
        let cut = preview(&long);
        assert_eq!(cut.chars().count(), 141);
        assert!(cut.ends_with('…'));
    }
}
