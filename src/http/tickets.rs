//! Tickets of billable sessions (seeds 000 and 001): creation (staff, or a
//! customer with the project key), the queue (open tickets, oldest first,
//! with urgency and waiting time), the claim with exactly one winner (a
//! conditional update in the store: `open -> claimed` only while open), and
//! customer-info editing (seed 000 `updateCustomerInfo`). While a ticket's
//! session is live its customer info goes through the session's actor.

use crate::auth::{Auth, ProjectKey, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::http::client_addr::ClientAddr;
use crate::http::cursor;
use crate::http::validate;
use crate::limits::LimitKind;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use switchboard_actors::domain::ticket::{waiting_seconds, TicketStatus, Urgency};
use switchboard_actors::engine::session::UpdateCustomerInfo;
use switchboard_actors::engine::Caller;
use switchboard_actors::ids::{ProjectId, TicketId};
use switchboard_actors::session_ports::TicketRecord;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/tickets", web::post().to(create))
        .route("/api/tickets", web::get().to(queue))
        .route("/api/tickets/{id}", web::get().to(get))
        .route("/api/tickets/{id}/claim", web::post().to(claim))
        .route(
            "/api/tickets/{id}/customer-info",
            web::patch().to(customer_info),
        );
}

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 5000;

fn not_found() -> ApiError {
    ApiError::not_found("ticket not found")
}

/// A ticket on the wire, with how long it has waited.
pub fn ticket_json(t: &TicketRecord, now: chrono::DateTime<chrono::Utc>) -> Value {
    let mut v = json!(t);
    v["waiting_seconds"] = json!(waiting_seconds(t.created_at, now));
    v
}

/// A phone number as people type it: 5 to 32 characters of digits, spaces
/// and `+ - ( ) .`, with at least 5 digits.
pub fn phone(field: &str, s: &str) -> ApiResult<String> {
    let t = s.trim();
    let ok_chars = t
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let digits = t.chars().filter(char::is_ascii_digit).count();
    if !(5..=32).contains(&t.chars().count()) || !ok_chars || digits < 5 {
        return Err(ApiError::field(field, "must be a phone number"));
    }
    Ok(t.to_string())
}

/// Collects field problems so one answer names them all.
#[derive(Default)]
pub struct Problems(pub BTreeMap<String, String>);

impl Problems {
    pub fn check<T>(&mut self, r: ApiResult<T>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                if let Some(f) = e.fields {
                    self.0.extend(f);
                }
                None
            }
        }
    }

    pub fn done(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}

/// The customer fields of a new ticket or an ad hoc session, validated.
#[derive(Deserialize, Default, Clone)]
pub struct CustomerFields {
    pub customer_name: Option<String>,
    pub customer_phone: Option<String>,
    pub customer_email: Option<String>,
    pub description: Option<String>,
    pub urgency: Option<String>,
}

pub struct ValidCustomer {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub description: String,
    pub urgency: Urgency,
}

impl CustomerFields {
    /// `description_required`: tickets need one; ad hoc sessions may omit it.
    pub fn validate(&self, description_required: bool) -> ApiResult<ValidCustomer> {
        let mut p = Problems::default();
        let name = p.check(validate::text(
            "customer_name",
            self.customer_name.as_deref().unwrap_or(""),
            1,
            MAX_NAME_CHARS,
        ));
        let phone = match self.customer_phone.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(s) => p.check(phone("customer_phone", s)).map(Some),
        };
        let email = match self.customer_email.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(s) => p.check(validate::email("customer_email", s)).map(Some),
        };
        let min = usize::from(description_required);
        let description = p.check(validate::text(
            "description",
            self.description.as_deref().unwrap_or(""),
            min,
            MAX_DESCRIPTION_CHARS,
        ));
        let urgency =
            match self.urgency.as_deref() {
                None => Some(Urgency::Normal),
                Some(u) => p.check(Urgency::parse(u).ok_or_else(|| {
                    ApiError::field("urgency", "must be low, normal, high or urgent")
                })),
            };
        p.done()?;
        match (name, phone, email, description, urgency) {
            (Some(name), Some(phone), Some(email), Some(description), Some(urgency)) => {
                Ok(ValidCustomer {
                    name,
                    phone,
                    email,
                    description,
                    urgency,
                })
            }
            _ => Err(ApiError::bad_request("invalid ticket")),
        }
    }
}

#[derive(Deserialize)]
struct NewTicket {
    project_id: ProjectId,
    #[serde(flatten)]
    customer: CustomerFields,
}

/// Staff of the project (bearer token) or a customer with its key.
async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<NewTicket>,
) -> ApiResult<HttpResponse> {
    let project = body.project_id;
    if req
        .headers()
        .contains_key(actix_web::http::header::AUTHORIZATION)
    {
        match Auth::from_request(&req, &mut Payload::None).await?.0 {
            c @ Caller::Staff(_) if c.is_staff_of(project) => {}
            Caller::Staff(_) => return Err(ApiError::not_found("project not found")),
            _ => {
                return Err(ApiError::forbidden(
                    "tickets are created by staff or with the project key",
                ))
            }
        }
    } else {
        let ProjectKey(p) = ProjectKey::from_request(&req, &mut Payload::None).await?;
        if p.id != project {
            return Err(ApiError::forbidden(
                "the project key belongs to another project",
            ));
        }
        // Staff calls count in the dashboard limit; the public key's in
        // its client address's.
        let client = ClientAddr::from_request(&req, &mut Payload::None).await?;
        state.rate_limit(LimitKind::TicketCreate, &client.key())?;
    }
    let c = body.customer.validate(true)?;
    let now = state.now();
    let t = TicketRecord {
        id: TicketId::new(),
        project_id: project,
        customer_name: c.name,
        customer_phone: c.phone,
        customer_email: c.email,
        description: c.description,
        urgency: c.urgency,
        status: TicketStatus::Open,
        solver_id: None,
        claimed_at: None,
        created_at: now,
        updated_at: now,
    };
    state.db.insert_ticket(&t).await?;
    Ok(HttpResponse::Created().json(ticket_json(&t, now)))
}

#[derive(Deserialize)]
struct QueueQuery {
    project_id: ProjectId,
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The queue: the project's tickets in `status` (default `open`), oldest
/// first, with `waiting_seconds`.
async fn queue(
    state: web::Data<AppState>,
    auth: StaffAuth,
    q: web::Query<QueueQuery>,
) -> ApiResult<HttpResponse> {
    auth.member_of(q.project_id)?;
    let limit = validate::limit(q.limit)?;
    let status = match q.status.as_deref() {
        None => TicketStatus::Open,
        Some(s) => TicketStatus::parse(s).ok_or_else(|| {
            ApiError::field(
                "status",
                "must be open, claimed, in_progress, completed or cancelled",
            )
        })?,
    };
    let after = q.cursor.as_deref().map(cursor::decode).transpose()?;
    let now = state.now();
    let mut rows = state
        .db
        .ticket_queue(q.project_id, status, after, limit + 1)
        .await?;
    let next = cursor::page(&mut rows, limit, |t| (t.created_at, t.id));
    let items: Vec<Value> = rows.iter().map(|t| ticket_json(t, now)).collect();
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": next })))
}

/// The ticket, if `auth` is staff of its project.
async fn visible_ticket(
    state: &AppState,
    auth: &StaffAuth,
    id: TicketId,
) -> ApiResult<TicketRecord> {
    let t = state.db.ticket(id).await?.ok_or_else(not_found)?;
    if !auth.0.is_staff_of(t.project_id) {
        return Err(not_found());
    }
    Ok(t)
}

async fn get(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<TicketId>,
) -> ApiResult<HttpResponse> {
    let t = visible_ticket(&state, &auth, *id).await?;
    Ok(HttpResponse::Ok().json(ticket_json(&t, state.now())))
}

/// Exactly one of racing claims wins (200); the others get 409
/// `ALREADY_CLAIMED`.
async fn claim(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<TicketId>,
) -> ApiResult<HttpResponse> {
    let t = visible_ticket(&state, &auth, *id).await?;
    let now = state.now();
    if state.db.claim_ticket(t.id, auth.1.user_id, now).await? {
        let t = state.db.ticket(t.id).await?.ok_or_else(not_found)?;
        return Ok(
            HttpResponse::Ok().json(json!({ "success": true, "ticket": ticket_json(&t, now) }))
        );
    }
    let status = state.db.ticket(t.id).await?.map_or(t.status, |t| t.status);
    Ok(HttpResponse::Conflict().json(json!({
        "success": false,
        "error": "ALREADY_CLAIMED",
        "message": format!("the ticket is already claimed (it is {})", status.label()),
    })))
}

#[derive(Deserialize)]
struct CustomerInfo {
    customer_name: Option<String>,
    customer_phone: Option<String>,
    customer_email: Option<String>,
}

/// Seed 000 `updateCustomerInfo`: only fields given change. A claimed
/// ticket is edited by its solver (or a project admin).
async fn customer_info(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<TicketId>,
    body: web::Json<CustomerInfo>,
) -> ApiResult<HttpResponse> {
    let t = visible_ticket(&state, &auth, *id).await?;
    if let Some(solver) = t.solver_id {
        if solver != auth.1.user_id && !auth.0.is_admin_of(t.project_id) {
            return Err(ApiError::forbidden(
                "only the solver who claimed the ticket may edit it",
            ));
        }
    }
    let mut p = Problems::default();
    let name = body
        .customer_name
        .as_deref()
        .and_then(|n| p.check(validate::text("customer_name", n, 1, MAX_NAME_CHARS)));
    let phone_v = body
        .customer_phone
        .as_deref()
        .and_then(|n| p.check(phone("customer_phone", n)));
    let email = body
        .customer_email
        .as_deref()
        .and_then(|n| p.check(validate::email("customer_email", n)));
    p.done()?;
    let now = state.now();
    // A ticket with a session is edited through the session's actor, which
    // keeps the ticket (for its communication tools) while it lives.
    if let Some(sid) = state.db.session_of_ticket(t.id).await? {
        let addr = state.sessions.get(sid).await?;
        let t = addr
            .send(UpdateCustomerInfo {
                caller: auth.0.clone(),
                customer_name: name,
                customer_phone: phone_v,
                customer_email: email,
            })
            .await??;
        return Ok(HttpResponse::Ok().json(ticket_json(&t, now)));
    }
    let mut next = t.clone();
    if let Some(n) = name {
        next.customer_name = n;
    }
    if let Some(ph) = phone_v {
        next.customer_phone = Some(ph);
    }
    if let Some(e) = email {
        next.customer_email = Some(e);
    }
    next.updated_at = now;
    if !state.db.update_idle_ticket_customer(&next).await? {
        return Err(ApiError::new(
            actix_web::http::StatusCode::CONFLICT,
            "CONFLICT",
            "the ticket changed meanwhile; retry",
        ));
    }
    Ok(HttpResponse::Ok().json(ticket_json(&next, now)))
}
