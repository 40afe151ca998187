//! The HTTP edge shared by every function: request parsing, responses, the one place
//! errors become HTTP, sessions and CSRF, and the page layout.

pub mod error;
pub mod layout;
pub mod request;
pub mod response;
pub mod session;

pub use lambda_http::http::{Method, StatusCode};
pub use lambda_http::{Body, Request};

pub type Response = lambda_http::Response<Body>;
