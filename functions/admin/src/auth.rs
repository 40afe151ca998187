//! Only system administrators reach the admin. The API takes the session cookie (with the
//! CSRF header on writes) or a bearer token from the `gatehouse-admin` client; pages take
//! the cookie and check the form's CSRF field.

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use gatehouse::app::AppState;
use gatehouse::contact::Contact;
use gatehouse::grants::GrantClient;
use gatehouse::oidc::scope::Scope;
use gatehouse::services::sealed_tokens;
use gatehouse::session::Session;
use gatehouse::web::error::ApiError;
use gatehouse::web::request::bearer_token;
use gatehouse::web::session::signed_in;
use gatehouse::web::{Method, Request, SharedState, StatusCode};
use time::OffsetDateTime;

/// A system administrator, signed in with a browser session or holding an admin token.
/// As an extractor it answers for the JSON API: 401 without credentials, 403 for anyone else.
pub struct SysAdmin {
    pub contact: Contact,
    /// Absent for bearer tokens, which need no CSRF protection.
    pub session: Option<Session>,
}

fn invalid_token() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", "the bearer token is invalid, expired or revoked")
}

/// For the JSON API: 401 without credentials, 403 for anyone but a system administrator,
/// 403 for a cookie-authenticated write without the CSRF header.
async fn api_admin(state: &AppState, req: &Request, now: OffsetDateTime) -> Result<SysAdmin, ApiError> {
    if let Some(token) = bearer_token(req) {
        let grant = sealed_tokens::verify_access(state, token, now).await?;
        let grant = grant
            .filter(|g| g.client_id == GrantClient::Admin && g.scope.contains(Scope::Admin))
            .ok_or_else(invalid_token)?;
        if state.stores.grants.is_family_revoked(&grant.family, now).await? {
            return Err(invalid_token());
        }
        let contact = state
            .stores
            .contacts
            .get(grant.contact_id)
            .await?
            .filter(|c| c.credential_stamp() == grant.credential)
            .ok_or_else(invalid_token)?;
        if !contact.profile.is_sysadmin {
            return Err(ApiError::forbidden("only system administrators may use the admin API"));
        }
        return Ok(SysAdmin { contact, session: None });
    }
    let user = signed_in(state, req, now).await?.ok_or_else(ApiError::unauthorized)?;
    if !user.contact.profile.is_sysadmin {
        return Err(ApiError::forbidden("only system administrators may use the admin API"));
    }
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !user.csrf_header_ok(req) {
        return Err(ApiError::forbidden(
            "missing or wrong X-CSRF-Token header: read the token from GET /admin/api/session",
        ));
    }
    Ok(SysAdmin { contact: user.contact, session: Some(user.session) })
}

impl FromRequestParts<SharedState> for SysAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, ApiError> {
        // The shared helpers read a whole request; headers and method are all they need here.
        let req = Request::from_parts(parts.clone(), Bytes::new());
        api_admin(state, &req, state.now()).await
    }
}
