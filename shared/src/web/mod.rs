//! The HTTP edge shared by every function: request parsing, responses, the one place
//! errors become HTTP, sessions and CSRF, and the page layout.

pub mod error;
pub mod extract;
pub mod layout;
pub mod request;
pub mod response;
pub mod session;

use std::sync::Arc;

pub use axum::http::{Method, StatusCode};

/// A request with its body read into memory (bounded by [`extract::MAX_BODY`]).
pub type Request = axum::http::Request<bytes::Bytes>;
pub type Response = axum::response::Response;

/// The state every function's router carries.
pub type SharedState = Arc<crate::app::AppState>;

/// A function's router as it is served: a trailing slash is ignored (`/signin/` is `/signin`).
pub fn app(router: axum::Router) -> tower_http::normalize_path::NormalizePath<axum::Router> {
    tower_http::normalize_path::NormalizePath::trim_trailing_slash(router)
}
