//! The one place errors become HTTP: JSON for the admin API, friendly pages for people.
//! Internal details go to the log, never into a response.

use std::fmt;

use axum::response::IntoResponse;
use serde_json::json;

use super::response::{html_page, json_response};
use super::{Response, StatusCode};
use crate::seal::SealError;
use crate::secret::RandomError;
use crate::services::mfa::MfaError;
use crate::store::{StoreError, Taken};
use crate::validation::Invalid;

/// An admin API error: `{"error": message, "code": code, "field": field?}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "sign in as a system administrator first")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this method is not allowed here")
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side; it has been logged")
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the service is temporarily unavailable; please try again in a moment",
        )
    }

    pub fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message, "code": self.code });
        if let Some(field) = self.field {
            body["field"] = json!(field);
        }
        json_response(self.status, &body)
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        Self { status: StatusCode::UNPROCESSABLE_ENTITY, code: "invalid", message: e.to_string(), field: Some(e.field) }
    }
}

/// What is taken, in the words every response uses ("username `bob`" is already taken).
impl fmt::Display for Taken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Username(username) => write!(f, "username `{username}`"),
            Self::ExternalId(external_id) => write!(f, "external id `{external_id}`"),
            Self::ContactId(id) => write!(f, "contact id {id}"),
            Self::Path(path) => write!(f, "query path {path}"),
            Self::ClientId(id) => write!(f, "client id {id}"),
            Self::Token => f.write_str("token"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(taken) => Self::conflict(format!("{taken} is already taken")),
            StoreError::Stale => Self::conflict("it was changed meanwhile: read it again and retry"),
            StoreError::NotFound => Self::not_found("the item"),
            StoreError::Backend(detail) => {
                tracing::error!(error = %detail, "storage failed");
                Self::internal()
            }
            StoreError::Unavailable(detail) => {
                tracing::error!(error = %detail, "storage unavailable");
                Self::unavailable()
            }
        }
    }
}

impl From<RandomError> for ApiError {
    fn from(e: RandomError) -> Self {
        tracing::error!(error = %e, "random generation failed");
        Self::internal()
    }
}

/// An error shown to a person as a page.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub title: String,
    pub message: String,
    /// Names the log entry that holds the detail, for the person to pass on.
    pub reference: Option<String>,
    /// Where the person can go from here: (address, text). The sign-in page unless set.
    pub ways_on: Vec<(String, String)>,
}

impl PageError {
    pub fn new(status: StatusCode, title: impl Into<String>, message: impl Into<String>) -> Self {
        let ways_on = vec![("/signin".to_owned(), "Go to the sign-in page".to_owned())];
        Self { status, title: title.into(), message: message.into(), reference: None, ways_on }
    }

    /// Replaces the links under the message.
    pub fn with_ways_on(self, links: &[(&str, &str)]) -> Self {
        Self { ways_on: links.iter().map(|(href, text)| ((*href).to_owned(), (*text).to_owned())).collect(), ..self }
    }

    pub fn with_reference(self, reference: impl Into<String>) -> Self {
        Self { reference: Some(reference.into()), ..self }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Page not found", "There is nothing at this address.")
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Something is wrong with this request", message)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "Something went wrong on our side. It has been logged; please try again in a moment.",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporarily unavailable",
            "Gatehouse cannot reach its storage just now. Please try again in a moment.",
        )
    }

    pub fn into_response(self) -> Response {
        let body = maud::html! {
            h1 { (self.title) }
            p.error-message { (self.message) }
            @if let Some(reference) = &self.reference {
                p.reference {
                    "Reference: " code { (reference) }
                    ". If you ask for help, give this reference: your administrator can find the details in the OIDC log."
                }
            }
            @if !self.ways_on.is_empty() {
                p.ways-on {
                    @for (i, (href, text)) in self.ways_on.iter().enumerate() {
                        @if i > 0 { " · " }
                        a href=(href) { (text) }
                    }
                }
            }
        };
        html_page(self.status, &self.title, body)
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(taken) => {
                Self::new(StatusCode::CONFLICT, "Already taken", format!("{taken} is already taken."))
            }
            StoreError::Stale => Self::new(
                StatusCode::CONFLICT,
                "Changed meanwhile",
                "Your account was changed at the same moment by another request. Please try again.",
            ),
            StoreError::NotFound => Self::not_found(),
            StoreError::Backend(detail) => {
                tracing::error!(error = %detail, "storage failed");
                Self::internal()
            }
            StoreError::Unavailable(detail) => {
                tracing::error!(error = %detail, "storage unavailable");
                Self::unavailable()
            }
        }
    }
}

impl From<RandomError> for PageError {
    fn from(e: RandomError) -> Self {
        tracing::error!(error = %e, "random generation failed");
        Self::internal()
    }
}

impl From<MfaError> for PageError {
    fn from(e: MfaError) -> Self {
        match e {
            MfaError::WrongCode => Self::new(StatusCode::UNAUTHORIZED, "Incorrect code", "The code is incorrect."),
            MfaError::Throttled { .. } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                "Too many failed attempts. Please try again later.",
            ),
            MfaError::NotEnrolled => {
                Self::new(StatusCode::CONFLICT, "No second factor", "Two-step verification is not set up.")
            }
            MfaError::NoContact => Self::not_found(),
            // A set-up form altered, or sealed for someone else: nothing to open.
            MfaError::Seal(SealError::Open) => {
                Self::bad_request("This set-up form is not valid any more. Please start again.")
            }
            MfaError::Seal(e) => {
                tracing::error!(error = %e, "the MFA sealing key is unusable");
                Self::internal()
            }
            MfaError::Random(e) => e.into(),
            MfaError::Store(e) => e.into(),
        }
    }
}

impl From<MfaError> for ApiError {
    fn from(e: MfaError) -> Self {
        match e {
            MfaError::NoContact => Self::not_found("contact"),
            MfaError::Store(e) => e.into(),
            MfaError::Random(e) => e.into(),
            other => {
                tracing::error!(error = %other, "second factor");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        ApiError::into_response(self)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        PageError::into_response(self)
    }
}

/// Whether the client asked for a page (a browser) rather than JSON.
fn wants_html(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.split(',').any(|part| part.trim().starts_with("text/html")))
}

/// The answer for a known path asked with a method it does not accept (axum adds `Allow`).
pub async fn method_not_allowed(headers: axum::http::HeaderMap) -> Response {
    if wants_html(&headers) {
        let message = "This page does not accept that kind of request.";
        return PageError::new(StatusCode::METHOD_NOT_ALLOWED, "Not allowed", message).into_response();
    }
    ApiError::method_not_allowed().into_response()
}

/// The answer for an address no function serves: a page for browsers, JSON for the rest.
pub async fn not_found(headers: axum::http::HeaderMap) -> Response {
    if wants_html(&headers) {
        return PageError::not_found().with_ways_on(&[("/", "Go to the start page")]).into_response();
    }
    ApiError::not_found("this address").into_response()
}
