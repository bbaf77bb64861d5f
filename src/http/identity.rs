//! Proving who a widget visitor is (issue 14). A visitor's own identity is
//! the id and secret the server issued it (see `widget.rs`). An email is
//! an identity only with proof:
//!
//! - `user_hash`: the hex HMAC-SHA256 of the email under the project's
//!   identity secret, made by the host site's server for its logged-in
//!   user (the identity verification of Intercom and Chatwoot). Admins
//!   read the secret in `GET /api/projects/:id` and rotate it with
//!   `POST /api/projects/:id/identity-secret`;
//! - a one-time code: `POST /api/widget/identify/code {email}` mails six
//!   digits, valid [`CODE_TTL_MINUTES`] minutes and [`CODE_MAX_ATTEMPTS`]
//!   wrong tries; the visitor shows it back in `POST /api/widget/identify
//!   {email, code}`.
//!
//! A proven email links the visitor to its customer, merging histories
//! (seed 003 5.11.4, [`customers::link_visitor_email`]). An unproven one is
//! contact information on the visitor's open conversations only, marked
//! unverified, and its answer is made from what the caller sent alone, so
//! it is the same whether or not the email belongs to another customer.

use crate::auth::{self as a, Auth, StaffAuth};
use crate::email::{EmailMessage, KIND_IDENTITY_CODE};
use crate::error::{ApiError, ApiResult};
use crate::http::one_time_code::{self, CODE_MAX_ATTEMPTS, CODE_TTL_MINUTES};
use crate::http::{customers, validate};
use crate::limits::LimitKind;
use crate::state::AppState;
use crate::store::{CodeCheck, IdentityCode};
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use switchboard_actors::engine::conversation::SetContact;
use switchboard_actors::engine::Caller;
use switchboard_actors::ids::ProjectId;

/// Prefix of a project's identity secret.
pub const IDENTITY_SECRET_PREFIX: &str = "sbid_";
/// Longest name given with identify, in characters.
const MAX_NAME_CHARS: usize = 100;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/widget/identify", web::post().to(identify))
        .route("/api/widget/identify/code", web::post().to(send_code))
        .route(
            "/api/projects/{id}/identity-secret",
            web::post().to(rotate_secret),
        );
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new()
        .chain_update(block.map(|b| b ^ 0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(block.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// A name someone may have typed: trimmed, 1 to 100 characters, no control
/// or bidi override characters (a name is shown to agents as written).
pub fn contact_name(field: &str, name: Option<&str>) -> ApiResult<Option<String>> {
    let Some(name) = name else {
        return Ok(None);
    };
    let name = validate::text(field, name, 1, MAX_NAME_CHARS)?;
    match switchboard_actors::domain::text::problem(&name) {
        Some(problem) => Err(ApiError::field(field, problem)),
        None => Ok(Some(name)),
    }
}

/// The project's identity secret for its admin, made on first asking.
pub async fn secret_for_admin(state: &AppState, project: ProjectId) -> ApiResult<String> {
    let fresh = a::new_token(IDENTITY_SECRET_PREFIX);
    state
        .db
        .ensure_identity_secret(project, &fresh)
        .await?
        .ok_or_else(|| ApiError::not_found("project not found"))
}

async fn rotate_secret(
    state: web::Data<AppState>,
    auth: StaffAuth,
    id: web::Path<ProjectId>,
) -> ApiResult<HttpResponse> {
    auth.admin_of(*id)?;
    let fresh = a::new_token(IDENTITY_SECRET_PREFIX);
    state.db.rotate_identity_secret(*id, &fresh).await?;
    Ok(HttpResponse::Ok().json(json!({ "identity_secret": fresh })))
}

/// The widget's visitor, or 403 for anyone else.
fn visitor(auth: &Auth) -> ApiResult<(ProjectId, String)> {
    match &auth.0 {
        Caller::Customer {
            project_id,
            visitor_id,
        } => Ok((*project_id, visitor_id.clone())),
        _ => Err(ApiError::forbidden("only the widget's customer identifies")),
    }
}

/// Checks `presented` against the HMAC of the email under the project's
/// identity secret: of the email as sent, or of its normalized form (both
/// are proofs made with the secret). A project without a secret accepts
/// none. Constant-time comparison.
async fn check_user_hash(
    state: &AppState,
    project: ProjectId,
    email_as_sent: &str,
    normalized: &str,
    presented: &str,
) -> ApiResult<()> {
    let refused = || ApiError::unauthorized("user_hash does not prove this email");
    let secret = state
        .db
        .identity_secret(project)
        .await?
        .ok_or_else(refused)?;
    let presented = presented.trim().to_ascii_lowercase();
    let proves = |email: &str| {
        a::hashes_match(
            &hex::encode(hmac_sha256(secret.as_bytes(), email.as_bytes())),
            &presented,
        )
    };
    // Both are computed whatever the first answers, so the time taken
    // does not tell which form matched.
    let (raw, norm) = (proves(email_as_sent), proves(normalized));
    if raw | norm {
        Ok(())
    } else {
        Err(refused())
    }
}

/// The stored form of a code: bound to its project, visitor and email, so
/// a hash is useless for any other.
fn code_hash(project: ProjectId, visitor: &str, email: &str, code: &str) -> String {
    a::hash_token(&format!("{project}\n{visitor}\n{email}\n{code}"))
}

async fn check_code(
    state: &AppState,
    project: ProjectId,
    visitor: &str,
    email: &str,
    code: &str,
) -> ApiResult<()> {
    let code = one_time_code::presented(code)?;
    let check = state
        .db
        .check_identity_code(
            project,
            visitor,
            email,
            &code_hash(project, visitor, email, code),
            state.now(),
            CODE_MAX_ATTEMPTS,
            a::hashes_match,
        )
        .await?;
    match check {
        CodeCheck::Accepted => Ok(()),
        CodeCheck::Wrong => Err(ApiError::unauthorized("wrong code")),
        CodeCheck::NoCode => Err(ApiError::unauthorized(
            "no code was sent to this email for this visitor; ask for one",
        )),
        CodeCheck::Expired => Err(ApiError::unauthorized(
            "the code has expired; ask for a new one",
        )),
        CodeCheck::Exhausted => Err(ApiError::unauthorized(
            "too many wrong codes; ask for a new one",
        )),
    }
}

#[derive(Deserialize)]
struct CodeBody {
    email: String,
}

/// Mails a one-time code for `email` to `email`. Rate-limited per visitor
/// and per email (`LimitKind::IdentityCode`), so neither a visitor nor
/// many visitors together can flood an inbox or try codes without end.
async fn send_code(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<CodeBody>,
) -> ApiResult<HttpResponse> {
    let (project, visitor) = visitor(&auth)?;
    let email = validate::email("email", &body.email)?;
    state.rate_limit(LimitKind::IdentityCode, &format!("{project}:{visitor}"))?;
    state.rate_limit(LimitKind::IdentityCode, &format!("{project}:email:{email}"))?;
    let now = state.now();
    let (code, expires_at) = one_time_code::fresh(now);
    state
        .db
        .put_identity_code(&IdentityCode::new(
            project,
            &visitor,
            &email,
            code_hash(project, &visitor, &email, &code),
            expires_at,
            now,
        ))
        .await?;
    let mail = EmailMessage {
        project_id: Some(project),
        to: email.clone(),
        subject: "Your verification code".into(),
        body: format!(
            "Your verification code is {code}.\n\nIt is valid for {CODE_TTL_MINUTES} minutes. \
             If you did not ask for it, ignore this email: nothing happens without the code.\n"
        ),
        kind: KIND_IDENTITY_CODE.into(),
    };
    one_time_code::mail(&state, &mail, expires_at, |e| {
        tracing::warn!(project = %project, error = %e, "identity code not sent");
    })
    .await
}

#[derive(Deserialize)]
struct IdentifyBody {
    email: String,
    name: Option<String>,
    /// Proof from the host site's server (see the module doc).
    user_hash: Option<String>,
    /// Proof by a code mailed to the email.
    code: Option<String>,
}

async fn identify(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<IdentifyBody>,
) -> ApiResult<HttpResponse> {
    let (project, visitor) = visitor(&auth)?;
    let body = body.into_inner();
    let email = validate::email("email", &body.email)?;
    let name = contact_name("name", body.name.as_deref())?;
    if let Some(hash) = &body.user_hash {
        check_user_hash(&state, project, &body.email, &email, hash).await?;
    }
    if let Some(code) = &body.code {
        check_code(&state, project, &visitor, &email, code).await?;
    }
    if body.user_hash.is_none() && body.code.is_none() {
        set_contact(&state, &auth.0, project, &visitor, &email, name.as_deref()).await?;
        return Ok(HttpResponse::Ok().json(json!({
            "verified": false,
            "email": email,
            "name": name,
        })));
    }
    let customer =
        customers::link_visitor_email(&state, project, &visitor, &email, name.as_deref()).await?;
    Ok(HttpResponse::Ok().json(json!({
        "verified": true,
        "email": email,
        "name": customer.name,
        "customer": customers::public_json(&customer, &visitor),
    })))
}

/// An unproven email (and name) on the visitor's open conversations, as
/// contact information. Every one is told even if one fails; the first
/// error is answered (a retry changes nothing more).
async fn set_contact(
    state: &AppState,
    caller: &Caller,
    project: ProjectId,
    visitor: &str,
    email: &str,
    name: Option<&str>,
) -> ApiResult<()> {
    let mut first_error = None;
    for id in state
        .db
        .open_conversations_of_visitor(project, visitor)
        .await?
    {
        let told = async {
            if let Some(addr) = state.engine.live_conversation(id).await? {
                addr.send(SetContact {
                    caller: caller.clone(),
                    email: email.to_string(),
                    name: name.map(str::to_string),
                })
                .await??;
            }
            Ok::<_, ApiError>(())
        };
        if let Err(e) = told.await {
            tracing::warn!(conversation = %id, error = %e, "could not note a contact email");
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::hmac_sha256;

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // Test case 2, and test case 6 (a key longer than the block).
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
