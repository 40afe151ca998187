//! Extractors that turn an axum request into what handlers work with.

use axum::extract::FromRequest;

use super::error::ApiError;
use super::{Request, Response, StatusCode};

/// API Gateway's payload limit; larger bodies are refused the same way locally.
pub const MAX_BODY: usize = 6 * 1024 * 1024;

/// The whole request with its body read, for handlers that read headers, cookies and the
/// body together.
pub struct Req(pub Request);

impl<S: Send + Sync> FromRequest<S> for Req {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(bytes) => Ok(Self(Request::from_parts(parts, bytes))),
            Err(e) if is_too_large(&e) => {
                Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the request body is too large")
                    .into_response())
            }
            Err(_) => Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "incomplete_body",
                "the request body did not arrive in full",
            )
            .into_response()),
        }
    }
}

fn is_too_large(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}
