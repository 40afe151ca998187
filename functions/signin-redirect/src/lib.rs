//! The sign-in screens: local username/password sign-in (email-first when an upstream
//! provider is on) with its second step where MFA applies, forgotten usernames and passwords,
//! sign-out, and the member's account page (where consents to apps are withdrawn and a second
//! factor is set up or turned off).

mod account;
mod account_mfa;
mod forgot;
mod letters;
mod logout;
mod mfa_pages;
mod second_step;
mod signin;
mod signout;
mod to_provider;

use axum::Router;
use axum::routing::{get, post};
use gatehouse::web::SharedState;
use gatehouse::web::response::see_other;

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/", get(async || see_other("/signin")))
        .route("/signin", get(signin::show).post(signin::submit))
        .route("/signout", get(signout::show).post(signout::submit))
        .route("/signout/done", get(signout::done))
        .route("/signin/forgot-username", get(forgot::show_username).post(forgot::submit_username))
        .route("/signin/forgot-password", get(forgot::show_password).post(forgot::submit_password))
        .route("/signin/reset", get(forgot::show_reset).post(forgot::reset))
        .route("/account", get(account::show))
        .route("/account/consents/withdraw", post(account::withdraw))
        .route("/account/mfa", get(account_mfa::show).post(account_mfa::confirm))
        .route("/account/mfa/disable", post(account_mfa::disable))
        .method_not_allowed_fallback(gatehouse::web::error::method_not_allowed)
        .with_state(state)
}
