//! Login, logout, who-am-I and accepting an invitation.

use crate::auth::{self as a, Auth, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::http::client_addr::ClientAddr;
use crate::http::validate;
use crate::limits::LimitKind;
use crate::state::AppState;
use crate::store::{MemberRole, TokenKind, TokenRow, UserRow};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use switchboard_actors::engine::Caller;
use switchboard_actors::ids::UserId;
use switchboard_actors::ports::AgentRecord;
use switchboard_actors::wire_time;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/auth/login", web::post().to(login))
        .route("/api/auth/logout", web::post().to(logout))
        .route("/api/auth/me", web::get().to(me))
        .route("/api/invitations/lookup", web::post().to(lookup))
        .route("/api/invitations/accept", web::post().to(accept));
}

/// A staff account as the API shows it to its owner: with whether its
/// email is proven and whether it may create projects.
pub fn user_json(u: &UserRow) -> Value {
    json!({
        "id": u.id, "email": u.email, "name": u.name, "avatar_url": u.avatar_url,
        "email_verified": u.email_verified, "can_create_projects": u.can_create_projects,
    })
}

/// What every refused invitation token answers, whether unknown, used,
/// expired or revoked: the answer tells nothing about which.
fn invitation_not_found() -> ApiError {
    ApiError::not_found("invitation not found, expired, revoked or already used")
}

/// Mint a staff token for `user`.
pub async fn issue_staff_token(state: &AppState, user: UserId) -> ApiResult<String> {
    let token = a::new_token(a::STAFF_PREFIX);
    let now = state.now();
    state
        .db
        .insert_token(&TokenRow {
            token_hash: a::hash_token(&token),
            kind: TokenKind::Staff,
            user_id: Some(user),
            project_id: None,
            visitor_id: None,
            customer_id: None,
            expires_at: now + state.token_ttl,
            created_at: now,
        })
        .await?;
    Ok(token)
}

#[derive(Deserialize)]
struct Login {
    email: String,
    password: String,
}

/// Every attempt takes a token from the client address's bucket and from
/// the account's before any password is checked, so neither one address
/// nor many can guess at one account faster than the limits allow, and a
/// refused attempt costs no hashing.
async fn login(
    state: web::Data<AppState>,
    client: ClientAddr,
    body: web::Json<Login>,
) -> ApiResult<HttpResponse> {
    state.rate_limit(LimitKind::AuthAddress, &client.key())?;
    let email = body.email.trim().to_lowercase();
    state.rate_limit(LimitKind::LoginAccount, &email)?;
    let failed = || ApiError::unauthorized("wrong email or password");
    let user = state.db.user_by_email(&email).await?;
    // Verify against a hash even for an unknown email, so timing says nothing.
    let (hash, user) = match user {
        Some(u) => (u.password_hash.clone(), Some(u)),
        None => (DUMMY_HASH.to_string(), None),
    };
    let ok = state.passwords.verify(body.password.clone(), hash).await?;
    let user = match (ok, user) {
        (true, Some(u)) => u,
        _ => return Err(failed()),
    };
    let token = issue_staff_token(&state, user.id).await?;
    Ok(HttpResponse::Ok().json(json!({ "token": token, "user": user_json(&user) })))
}

/// An argon2id hash of a random password nobody knows.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0w0Q0b7l0f3H8cK3Jq8m3b3dXJ0b2Q2n5m1k0e3mZy4";

async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    _auth: Auth,
) -> ApiResult<HttpResponse> {
    if let Some(t) = a::bearer(&req) {
        let hash = a::hash_token(&t);
        state.db.delete_token(&hash).await?;
        // After the delete: a socket that reconnects now is refused.
        state.sockets.revoke_token(&hash);
    }
    Ok(HttpResponse::NoContent().finish())
}

async fn me(state: web::Data<AppState>, auth: StaffAuth) -> ApiResult<HttpResponse> {
    let user = state
        .db
        .user_by_id(auth.1.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))?;
    let projects: Vec<Value> = state
        .db
        .projects_of_user(user.id)
        .await?
        .into_iter()
        .map(|(p, role)| json!({ "id": p.id, "name": p.name, "public_key": p.public_key, "role": role.as_str() }))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "user": user_json(&user),
        "projects": projects,
        "can_create_projects": user.can_create_projects,
        "email_verified": user.email_verified,
    })))
}

#[derive(Deserialize)]
struct Accept {
    token: String,
    /// The new account's password; not asked of an existing account.
    password: Option<String>,
    name: Option<String>,
}

/// Accepting an invitation creates the account, or, when its email already
/// has one, joins that account to the project, which needs that account's
/// own login (a staff token in `Authorization`). The endpoint never checks
/// a password of an existing account, so it is no way to guess one.
///
/// An invitation is good for `INVITATION_DAYS` days on the Clock; an
/// expired or revoked one is refused like an unknown token. An account made
/// by accepting an invitation has an unproven email (the inviter typed it,
/// the token's holder chose the password), so it joins no other project
/// until it proves the address (`POST /api/auth/email-verification`):
/// otherwise whoever first accepted an invitation for an address nobody
/// had used would be that address everywhere.
/// The pending invitation `token` stands for, still within its time; every
/// try costs the client address a token from its bucket, so invitation
/// tokens cannot be guessed faster than passwords.
async fn pending_invitation(
    state: &AppState,
    client: &ClientAddr,
    token: &str,
) -> ApiResult<crate::store::MemberRow> {
    state.rate_limit(LimitKind::AuthAddress, &client.key())?;
    let member = state
        .db
        .member_by_invite_hash(&a::hash_token(token.trim()))
        .await?
        .ok_or_else(invitation_not_found)?;
    if crate::http::team::invitation_expired(member.invited_at, state.now()) {
        return Err(invitation_not_found());
    }
    Ok(member)
}

#[derive(Deserialize)]
struct Lookup {
    token: String,
}

/// What the invitation page shows before its holder accepts: the project,
/// the invited email and name, the role, and whether that email already
/// has an account (then the page asks to log in instead of for a new
/// password). The token travels in the body, never in a URL the server
/// logs; a dead token answers as `accept` does.
async fn lookup(
    state: web::Data<AppState>,
    client: ClientAddr,
    body: web::Json<Lookup>,
) -> ApiResult<HttpResponse> {
    let member = pending_invitation(&state, &client, &body.token).await?;
    let project = state
        .db
        .project(member.project_id)
        .await?
        .ok_or_else(invitation_not_found)?;
    let account_exists = state.db.user_by_email(&member.email).await?.is_some();
    Ok(HttpResponse::Ok().json(json!({
        "project_name": project.name,
        "email": member.email,
        "name": member.name,
        "role": member.role.as_str(),
        "account_exists": account_exists,
        "expires_at": wire_time::format(&crate::http::team::invitation_expires_at(member.invited_at)),
    })))
}

async fn accept(
    state: web::Data<AppState>,
    req: HttpRequest,
    client: ClientAddr,
    body: web::Json<Accept>,
) -> ApiResult<HttpResponse> {
    let member = pending_invitation(&state, &client, &body.token).await?;
    let now = state.now();
    let existing = state.db.user_by_email(&member.email).await?;
    let (user, create) = match existing {
        Some(u) => {
            let token = a::bearer(&req).ok_or_else(|| {
                ApiError::unauthorized(
                    "this email already has an account: log in to it, then accept the invitation",
                )
            })?;
            match a::authenticate(&state, &token).await? {
                Caller::Staff(s) if s.user_id == u.id => {}
                _ => {
                    return Err(ApiError::forbidden(
                        "this invitation is for another account",
                    ))
                }
            }
            if !u.email_verified {
                return Err(ApiError::forbidden(
                    "prove this account's email before joining another project: \
                     POST /api/auth/email-verification sends a code to it, then \
                     POST /api/auth/email-verification/confirm {\"code\"} proves it; \
                     then accept the invitation again",
                ));
            }
            (u, false)
        }
        None => {
            let password = body
                .password
                .as_deref()
                .ok_or_else(|| ApiError::field("password", "is required for a new account"))?;
            validate::password("password", password)?;
            let name = match body.name.as_deref().or(member.name.as_deref()) {
                Some(n) => validate::text("name", n, 1, 100)?,
                None => member.email.clone(),
            };
            let hash = state.passwords.hash(password.to_string()).await?;
            (
                UserRow {
                    id: UserId::new(),
                    email: member.email.clone(),
                    name,
                    password_hash: hash,
                    avatar_url: None,
                    created_at: now,
                    updated_at: now,
                    can_create_projects: false,
                    email_verified: false,
                },
                true,
            )
        }
    };
    let agent = (member.role == MemberRole::Agent).then(|| {
        AgentRecord::new_offline(
            member.project_id,
            user.id,
            user.name.clone(),
            user.avatar_url.clone(),
            member.max_concurrent_chats,
            now,
        )
    });
    match state
        .db
        .accept_invite(member.id, &user, create, agent.as_ref(), now)
        .await
    {
        Ok(()) => {}
        // Revoked (or accepted) while this request ran.
        Err(switchboard_actors::ports::StoreError::NotFound) => return Err(invitation_not_found()),
        Err(e) => return Err(e.into()),
    }
    if let Some(record) = agent {
        let project = state.engine.project(member.project_id).await?;
        project
            .addr
            .send(switchboard_actors::engine::project::AgentJoined { record })
            .await?;
    }
    let token = issue_staff_token(&state, user.id).await?;
    Ok(HttpResponse::Ok().json(json!({ "token": token, "user": user_json(&user) })))
}
