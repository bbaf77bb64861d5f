//! The widget's own endpoints, authenticated by the project's public key:
//! availability (seed 003 5.10.2) and starting a conversation.

use crate::auth::{self as a, ProjectKey};
use crate::error::{ApiError, ApiResult};
use crate::http::{metadata, validate};
use crate::state::AppState;
use crate::store::{CustomerContext, CustomerRow, TokenKind, TokenRow};
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_actors::engine::conversation::GetConversation;
use switchboard_actors::engine::project::GetAvailability;
use switchboard_actors::engine::Caller;
use switchboard_actors::ports::ConversationRecord;

pub const SOURCES: &[&str] = &["widget", "playground", "mcp", "api", "voice"];
/// Largest `metadata` object a message may carry, serialized.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/widget/availability", web::get().to(availability))
        .route("/api/widget/conversations", web::post().to(create));
}

async fn availability(state: web::Data<AppState>, key: ProjectKey) -> ApiResult<HttpResponse> {
    let project = state.engine.project(key.0.id).await?;
    let a = project.addr.send(GetAvailability).await?;
    Ok(HttpResponse::Ok().json(json!({
        "available": a.available,
        "reason": a.reason,
        "show_button": a.show_button,
        "show_offline_form": a.show_offline_form,
    })))
}

#[derive(Deserialize)]
struct NewConversation {
    visitor_id: String,
    source: Option<String>,
    metadata: Option<Value>,
}

fn context_of(metadata: &Value) -> CustomerContext {
    let s = |k: &str| {
        metadata
            .get(k)
            .and_then(Value::as_str)
            .map(|v| v.chars().take(500).collect::<String>())
    };
    CustomerContext {
        browser: s("browser"),
        device: s("device"),
        os: s("os"),
        page_url: s("page_url"),
        referrer: s("referrer"),
        timezone: s("timezone"),
        language: s("language"),
    }
}

/// The customer `customer` was merged into, when it no longer exists.
async fn merged_away(
    state: &AppState,
    customer: &CustomerRow,
    visitor_id: &str,
) -> ApiResult<Option<CustomerRow>> {
    if state
        .db
        .customer(customer.project_id, customer.id)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    Ok(state
        .db
        .customer_of_visitor(customer.project_id, visitor_id)
        .await?)
}

async fn create(
    state: web::Data<AppState>,
    key: ProjectKey,
    body: web::Json<NewConversation>,
) -> ApiResult<HttpResponse> {
    let project = key.0;
    let body = body.into_inner();
    let visitor_id = validate::text("visitor_id", &body.visitor_id, 1, 200)?;
    let source = body.source.unwrap_or_else(|| "widget".into());
    if !SOURCES.contains(&source.as_str()) {
        return Err(ApiError::field(
            "source",
            "must be one of widget, playground, mcp, api, voice",
        ));
    }
    let metadata = body.metadata.unwrap_or_else(|| json!({}));
    metadata::check_customer(&metadata, metadata::CONVERSATION_KEYS)?;
    let now = state.now();
    let customer = state
        .db
        .touch_customer(project.id, &visitor_id, now, &context_of(&metadata))
        .await?;
    let mut rec = ConversationRecord::new_with_ai(
        project.id,
        visitor_id.clone(),
        Some(customer.id),
        source,
        metadata,
        now,
    );
    rec.customer_email = customer.email.clone();
    rec.customer_email_verified = customer.email_verified;
    rec.customer_name = customer.name.clone();
    let caller = Caller::Customer {
        project_id: project.id,
        visitor_id: visitor_id.clone(),
    };
    let (addr, customer) = match state.engine.create_conversation(rec.clone()).await {
        Ok(addr) => (addr, customer),
        Err(e) => {
            // An identify that merged this visitor's customer away between
            // the touch above and this insert leaves the row naming a
            // deleted customer. The visit it counted moved with the merge;
            // the conversation only needs the survivor.
            let Some(survivor) = merged_away(&state, &customer, &visitor_id).await? else {
                return Err(e.into());
            };
            rec.customer_id = Some(survivor.id);
            rec.customer_email = survivor.email.clone();
            rec.customer_email_verified = survivor.email_verified;
            rec.customer_name = survivor.name.clone();
            (state.engine.create_conversation(rec).await?, survivor)
        }
    };
    let view = addr.send(GetConversation { caller }).await??;
    let token = a::new_token(a::CUSTOMER_PREFIX);
    state
        .db
        .insert_token(&TokenRow {
            token_hash: a::hash_token(&token),
            kind: TokenKind::Customer,
            user_id: None,
            project_id: Some(project.id),
            visitor_id: Some(visitor_id),
            customer_id: Some(customer.id),
            expires_at: now + chrono::Duration::days(a::CUSTOMER_TOKEN_DAYS),
            created_at: now,
        })
        .await?;
    Ok(HttpResponse::Created().json(json!({ "conversation": view, "customer_token": token })))
}
