//! The OpenID Provider's authorization endpoint: `/authorize` (GET and POST), the consent
//! decision, and the No Access page.

mod consent;
mod redirect;
mod start;

use gatehouse::app::AppState;
use gatehouse::web::error::PageError;
use gatehouse::web::request::path;
use gatehouse::web::{Method, Request, Response, StatusCode};

pub async fn handle(state: &AppState, req: Request) -> Response {
    let now = state.now();
    let result = match (req.method(), path(&req)) {
        (&Method::GET | &Method::HEAD | &Method::POST, "/authorize") => start::authorize(state, &req, now).await,
        (&Method::POST, "/authorize/consent") => consent::decide(state, &req, now).await,
        (_, "/authorize" | "/authorize/consent") => Err(PageError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Not allowed",
            "This page does not accept that kind of request.",
        )),
        _ => Err(PageError::not_found()),
    };
    result.unwrap_or_else(PageError::into_response)
}
