//! Only system administrators reach the admin. The API takes the session cookie (with the
//! CSRF header on writes); pages take the cookie and check the form's CSRF field.

use gatehouse::app::AppState;
use gatehouse::web::error::ApiError;
use gatehouse::web::session::{SignedIn, signed_in};
use gatehouse::web::{Method, Request};
use time::OffsetDateTime;

/// A signed-in system administrator.
pub struct Admin(pub SignedIn);

/// For the JSON API: 401 without a session, 403 for anyone but a system administrator,
/// 403 for a cookie-authenticated write without the CSRF header.
pub async fn api_admin(state: &AppState, req: &Request, now: OffsetDateTime) -> Result<Admin, ApiError> {
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
    Ok(Admin(user))
}
