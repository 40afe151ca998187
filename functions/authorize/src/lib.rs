//! The OpenID Provider's authorization endpoint: `/authorize` (GET and POST), the consent
//! decision, and the No Access page.

mod answer;
mod check;
mod consent;
mod reply;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use gatehouse::oidc::error::{ErrorCode, OAuthError};
use gatehouse::web::error::PageError;
use gatehouse::web::extract::Req;
use gatehouse::web::request::{form, query};
use gatehouse::web::{Method, Response, SharedState};

use crate::check::{Step, check};

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/authorize", get(authorize).post(authorize))
        .route("/authorize/consent", post(consent::decide))
        .method_not_allowed_fallback(gatehouse::web::error::method_not_allowed)
        .with_state(state)
}

/// `/authorize`: check the client and request, make sure the member is signed in (recently
/// enough), check No Access, then ask for consent or answer at once.
async fn authorize(State(state): State<SharedState>, Req(req): Req) -> Result<Response, PageError> {
    let now = state.now();
    let params = if *req.method() == Method::POST { form(&req) } else { query(&req) };
    let checked = match check(&state, &req, &params, now).await? {
        Step::Done(response) => return Ok(response),
        Step::Continue(checked) => checked,
    };
    let consent = state.stores.grants.get_consent(checked.user.contact.id, checked.registration.client_id).await?;
    let covered = consent.is_some_and(|c| checked.request.scope.is_subset(&c.scope));
    if covered && !checked.request.prompt.consent {
        return answer::answer(&state, &checked, now).await;
    }
    if checked.request.prompt.none {
        let error = OAuthError::new(ErrorCode::ConsentRequired, "the member has not consented to this application");
        return Ok(checked.reply.error(&error));
    }
    Ok(consent::page(&state, &checked, &params))
}
