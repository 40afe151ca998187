//! The sign-in screens: local username/password sign-in, sign-out, and the member's account
//! page (where consents to apps are withdrawn).
//! (Redirecting to an upstream identity provider joins here when OIDC is configured.)

mod account;
mod forgot;
mod signin;
mod signout;
mod to_provider;

use forgot::Forgot;
use gatehouse::app::AppState;
use gatehouse::web::error::PageError;
use gatehouse::web::request::path;
use gatehouse::web::response::see_other;
use gatehouse::web::{Method, Request, Response, StatusCode};

pub async fn handle(state: &AppState, req: Request) -> Response {
    let now = state.now();
    let result = match (req.method(), path(&req)) {
        (&Method::GET, "/") => Ok(see_other("/signin")),
        (&Method::GET | &Method::HEAD, "/signin") => signin::show(state, &req, now).await,
        (&Method::POST, "/signin") => signin::submit(state, &req, now).await,
        (&Method::GET | &Method::HEAD, "/signout") => signout::show(state, &req, now).await,
        (&Method::POST, "/signout") => signout::submit(state, &req, now).await,
        (&Method::GET | &Method::HEAD, "/account") => account::show(state, &req, now).await,
        (&Method::GET | &Method::HEAD, "/signin/forgot-username") => forgot::show(state, &req, Forgot::Username).await,
        (&Method::POST, "/signin/forgot-username") => forgot::submit(state, &req, Forgot::Username, now).await,
        (&Method::GET | &Method::HEAD, "/signin/forgot-password") => forgot::show(state, &req, Forgot::Password).await,
        (&Method::POST, "/signin/forgot-password") => forgot::submit(state, &req, Forgot::Password, now).await,
        (&Method::GET | &Method::HEAD, "/signin/reset") => forgot::show_reset(state, &req).await,
        (&Method::POST, "/signin/reset") => forgot::reset(state, &req, now).await,
        (&Method::POST, "/account/consents/withdraw") => account::withdraw(state, &req, now).await,
        (
            _,
            "/"
            | "/signin"
            | "/signout"
            | "/account"
            | "/account/consents/withdraw"
            | "/signin/forgot-username"
            | "/signin/forgot-password"
            | "/signin/reset",
        ) => Err(PageError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Not allowed",
            "This page does not accept that kind of request.",
        )),
        _ => Err(PageError::not_found()),
    };
    result.unwrap_or_else(PageError::into_response)
}
