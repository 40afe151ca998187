//! The OpenID Provider's authorization endpoint: `/authorize` (GET and POST), the consent
//! decision, and the No Access page.

mod consent;
mod redirect;
mod start;

use axum::Router;
use axum::routing::{get, post};
use gatehouse::web::SharedState;

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/authorize", get(start::authorize).post(start::authorize))
        .route("/authorize/consent", post(consent::decide))
        .method_not_allowed_fallback(gatehouse::web::error::method_not_allowed)
        .with_state(state)
}
