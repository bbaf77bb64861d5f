//! Identity: random tokens stored only as SHA-256 hashes, argon2id password
//! hashes, and the extractors that turn a request's credentials into a
//! `Caller` (docs/protocol.md section 2).

use crate::error::{ApiError, ApiResult};
use crate::limits::LimitKind;
use crate::state::AppState;
use crate::store::{ProjectRow, TokenRow};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use subtle::ConstantTimeEq;
use switchboard_actors::engine::{Caller, Role, Staff};
use switchboard_actors::ids::{ProjectId, UserId};

pub const STAFF_PREFIX: &str = "sbt_";
pub const CUSTOMER_PREFIX: &str = "sbc_";
pub const INVITE_PREFIX: &str = "sbi_";
pub const PUBLIC_KEY_PREFIX: &str = "pk_";
pub const SECRET_KEY_PREFIX: &str = "sk_";
/// A billable session's join token (the customer's `access_token`).
pub const SESSION_PREFIX: &str = "sbs_";
/// A join token stays valid this long after its session ended (to rate it
/// and find the payment link).
pub const SESSION_TOKEN_DAYS_AFTER_END: i64 = 7;
/// How long a widget visitor's token lives.
pub const CUSTOMER_TOKEN_DAYS: i64 = 30;

/// A fresh random token: 256 bits, URL-safe.
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time comparison of a presented token's hash with a stored one.
pub fn hashes_match(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The token of `Authorization: Bearer <token>`; the scheme's name is
/// case-insensitive (RFC 9110 11.1), so `bearer` and `BEARER` are the same.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let h = req.headers().get(actix_web::http::header::AUTHORIZATION)?;
    let (scheme, token) = h.to_str().ok()?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// Resolve any token of the table in docs/protocol.md section 2 into a caller.
pub async fn authenticate(state: &AppState, token: &str) -> ApiResult<Caller> {
    Ok(authenticate_token(state, token).await?.caller)
}

/// A caller with what a long-lived connection needs to know of its token.
pub struct Authenticated {
    pub caller: Caller,
    /// The token's hash, the key by which a logout finds live sockets.
    pub token_hash: String,
    /// When a staff or customer token expires (other credentials last as
    /// long as their project or session).
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// [`authenticate`], keeping the token's hash and expiry.
pub async fn authenticate_token(state: &AppState, token: &str) -> ApiResult<Authenticated> {
    let hash = hash_token(token);
    let plain = |caller: Caller, hash: String| Authenticated {
        caller,
        token_hash: hash,
        expires_at: None,
    };
    if token.starts_with(SECRET_KEY_PREFIX) {
        let project = state
            .db
            .project_by_secret_hash(&hash)
            .await?
            .filter(|p| hashes_match(&p.secret_key_hash, &hash))
            .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))?;
        return Ok(plain(
            Caller::Bot {
                project_id: project.id,
            },
            hash,
        ));
    }
    if token.starts_with(SESSION_PREFIX) {
        let now = state.now();
        let (session_id, project_id, _, _) = state
            .db
            .session_by_token_hash(&hash)
            .await?
            .filter(|(_, _, stored, _)| hashes_match(stored, &hash))
            .filter(|(_, _, _, ended)| {
                ended.is_none_or(|e| now - e < chrono::Duration::days(SESSION_TOKEN_DAYS_AFTER_END))
            })
            .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))?;
        return Ok(plain(
            Caller::SessionGuest {
                project_id,
                session_id,
            },
            hash,
        ));
    }
    let row: TokenRow = state
        .db
        .token(&hash)
        .await?
        .filter(|t| hashes_match(&t.token_hash, &hash))
        .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))?;
    if row.expires_at <= state.now() {
        return Err(ApiError::unauthorized("invalid or expired token"));
    }
    let caller = match (
        row.kind.as_str(),
        row.user_id,
        row.project_id,
        row.visitor_id,
    ) {
        ("staff", Some(user_id), _, _) => {
            Caller::Staff(Arc::new(load_staff(state, user_id).await?))
        }
        ("customer", _, Some(project_id), Some(visitor_id)) => Caller::Customer {
            project_id,
            visitor_id,
        },
        _ => return Err(ApiError::unauthorized("invalid or expired token")),
    };
    Ok(Authenticated {
        caller,
        token_hash: hash,
        expires_at: Some(row.expires_at),
    })
}

pub async fn load_staff(state: &AppState, user_id: UserId) -> ApiResult<Staff> {
    let user = state
        .db
        .user_by_id(user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))?;
    let memberships: HashMap<ProjectId, Role> = state
        .db
        .projects_of_user(user_id)
        .await?
        .into_iter()
        .filter_map(|(p, role)| Role::parse(role.as_str()).map(|r| (p.id, r)))
        .collect();
    Ok(Staff {
        user_id,
        name: user.name,
        avatar_url: user.avatar_url,
        memberships,
    })
}

/// Any authenticated caller.
pub struct Auth(pub Caller);

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        let origin = crate::origins::of_request(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("no app state"))?;
            let token = token.ok_or_else(|| {
                ApiError::unauthorized("missing Authorization: Bearer <token> header")
            })?;
            let caller = authenticate(&state, &token).await?;
            // A customer token is the widget's: used only from the sites the
            // project allows.
            if let Caller::Customer { project_id, .. } = &caller {
                state
                    .origins
                    .check(&state.db, *project_id, origin.as_deref())
                    .await?;
            }
            // The dashboard limit (seed 003 8.3: 100/minute per user) is
            // taken here, where every REST call as staff resolves its
            // caller (StaffAuth goes through this extractor too), so no
            // handler can forget it and a refused call reaches no handler
            // and changes nothing. WebSocket ops do not pass here: a socket
            // authenticates once, and its chatty ops have limits of their own.
            if let Caller::Staff(s) = &caller {
                state.rate_limit(LimitKind::Dashboard, &s.user_id.to_string())?;
            }
            Ok(Auth(caller))
        })
    }
}

/// A staff caller (admin or agent).
pub struct StaffAuth(pub Caller, pub Arc<Staff>);

impl FromRequest for StaffAuth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let auth = Auth::from_request(req, payload);
        Box::pin(async move { StaffAuth::of(auth.await?.0) })
    }
}

impl StaffAuth {
    /// The caller as staff; anyone else is refused (REST and WebSocket alike).
    pub fn of(caller: Caller) -> ApiResult<StaffAuth> {
        match caller {
            Caller::Staff(s) => Ok(StaffAuth(Caller::Staff(s.clone()), s)),
            _ => Err(ApiError::forbidden("this needs a staff login")),
        }
    }

    /// Any role in the project; another project's id is "not found".
    pub fn member_of(&self, project: ProjectId) -> ApiResult<Role> {
        self.1
            .memberships
            .get(&project)
            .copied()
            .ok_or_else(|| ApiError::not_found("project not found"))
    }

    pub fn admin_of(&self, project: ProjectId) -> ApiResult<()> {
        match self.member_of(project)? {
            Role::Admin => Ok(()),
            Role::Agent => Err(ApiError::forbidden("only a project admin can do this")),
        }
    }

    pub fn agent_of(&self, project: ProjectId) -> ApiResult<()> {
        match self.member_of(project)? {
            Role::Agent => Ok(()),
            Role::Admin => Err(ApiError::forbidden(
                "only members with role agent take chats",
            )),
        }
    }
}

/// The widget's project, from `X-Project-Key` (or `?key=` for pages).
pub struct ProjectKey(pub ProjectRow);

impl FromRequest for ProjectKey {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let key = req
            .headers()
            .get("x-project-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| {
                web::Query::<HashMap<String, String>>::from_query(req.query_string())
                    .ok()
                    .and_then(|q| q.get("key").cloned())
            });
        let origin = crate::origins::of_request(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("no app state"))?;
            let key = key.ok_or_else(|| ApiError::unauthorized("missing X-Project-Key header"))?;
            let project = state
                .db
                .project_by_public_key(&key)
                .await?
                .ok_or_else(|| ApiError::unauthorized("unknown project key"))?;
            if let Some(origin) = origin {
                if !crate::appearance::origin_allowed(&project.allowed_origins, &origin) {
                    return Err(crate::origins::refused(&origin));
                }
            }
            Ok(ProjectKey(project))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_prefixed() {
        let a = new_token(STAFF_PREFIX);
        let b = new_token(STAFF_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with("sbt_"));
        assert!(a.len() >= 4 + 43);
    }

    #[test]
    fn hashes_are_stable_and_compare() {
        let h = hash_token("abc");
        assert_eq!(h.len(), 64);
        assert!(hashes_match(&h, &hash_token("abc")));
        assert!(!hashes_match(&h, &hash_token("abd")));
    }
}
