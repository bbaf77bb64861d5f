//! The widget's own endpoints, authenticated by the project's public key:
//! availability (seed 003 5.10.2) and starting a conversation.
//!
//! The public key is in every page that embeds the widget, so it proves
//! nothing about who is asking. A visitor is therefore identified by an id
//! *and a secret the server issued it*: a new visitor (no `visitor_id`, or
//! a host site's own id never seen before) gets a random secret, stored
//! only as its hash; a customer token for an existing visitor needs that
//! secret. Otherwise anyone who learnt a visitor id (the README's
//! `visitor-1`, a merged id shown after identify) would get a token that
//! reads and writes that visitor's conversations.

use crate::auth::{self as a, ProjectKey};
use crate::error::{ApiError, ApiResult};
use crate::http::client_addr::ClientAddr;
use crate::http::{metadata, validate};
use crate::limits::LimitKind;
use crate::state::AppState;
use crate::store::{CustomerContext, CustomerRow, TokenKind, TokenRow};
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_actors::engine::conversation::GetConversation;
use switchboard_actors::engine::project::GetAvailability;
use switchboard_actors::engine::views::CustomerConversationView;
use switchboard_actors::engine::Caller;
use switchboard_actors::ids::ProjectId;
use switchboard_actors::ports::ConversationRecord;

pub const SOURCES: &[&str] = &["widget", "playground", "mcp", "api", "voice"];
/// Largest `metadata` object a message may carry, serialized.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
/// Prefix of a visitor's secret.
pub const VISITOR_SECRET_PREFIX: &str = "sbv_";

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
    /// Absent for a new visitor (the server picks a random id); a host
    /// site's own id is taken for a visitor that does not exist yet.
    visitor_id: Option<String>,
    /// Needed for an existing visitor: what this endpoint answered when
    /// the visitor was new.
    visitor_secret: Option<String>,
    source: Option<String>,
    metadata: Option<Value>,
}

/// Who the visitor is: `(visitor_id, Some(secret))` for a new one (the
/// secret is shown this once), `(visitor_id, None)` for a returning one
/// that showed its secret. 401 for an existing visitor without the right
/// secret (visitors from before secrets have none and cannot come back:
/// their widget starts a new visitor).
async fn visitor_of(
    state: &AppState,
    project: ProjectId,
    visitor_id: Option<String>,
    secret: Option<&str>,
) -> ApiResult<(String, Option<String>)> {
    let refused = || ApiError::unauthorized("unknown visitor or wrong visitor_secret");
    let visitor_id = match visitor_id {
        Some(v) => validate::text("visitor_id", &v, 1, 200)?,
        None => format!("v_{}", uuid::Uuid::new_v4().simple()),
    };
    if let Some(stored) = state.db.visitor_secret_hash(project, &visitor_id).await? {
        let presented = secret.map(a::hash_token).ok_or_else(refused)?;
        return if a::hashes_match(&stored, &presented) {
            Ok((visitor_id, None))
        } else {
            Err(refused())
        };
    }
    let fresh = a::new_token(VISITOR_SECRET_PREFIX);
    if state
        .db
        .register_visitor(project, &visitor_id, &a::hash_token(&fresh), state.now())
        .await?
    {
        Ok((visitor_id, Some(fresh)))
    } else {
        // It exists without a secret (from before secrets), or another
        // request registered it a moment ago: either way not this caller's.
        Err(refused())
    }
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
    client: ClientAddr,
    body: web::Json<NewConversation>,
) -> ApiResult<HttpResponse> {
    // Each conversation is a live actor: a public key alone must not be
    // able to start them without bound.
    state.rate_limit(LimitKind::ConversationCreate, &client.key())?;
    let project = key.0;
    let body = body.into_inner();
    let source = body.source.unwrap_or_else(|| "widget".into());
    if !SOURCES.contains(&source.as_str()) {
        return Err(ApiError::field(
            "source",
            "must be one of widget, playground, mcp, api, voice",
        ));
    }
    let metadata = body.metadata.unwrap_or_else(|| json!({}));
    metadata::check_customer(&metadata, metadata::CONVERSATION_KEYS)?;
    let (visitor_id, new_secret) = visitor_of(
        &state,
        project.id,
        body.visitor_id,
        body.visitor_secret.as_deref(),
    )
    .await?;
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
            visitor_id: Some(visitor_id.clone()),
            customer_id: Some(customer.id),
            expires_at: now + chrono::Duration::days(a::CUSTOMER_TOKEN_DAYS),
            created_at: now,
        })
        .await?;
    let mut body = json!({
        "conversation": CustomerConversationView::from(&view),
        "customer_token": token,
        "visitor_id": visitor_id,
    });
    if let Some(secret) = new_secret {
        body["visitor_secret"] = json!(secret);
    }
    Ok(HttpResponse::Created().json(body))
}
