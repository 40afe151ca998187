//! Token endpoint answers: `no-store` always; RFC 6749 §5.2 errors.

use axum::http::HeaderValue;
use gatehouse::oidc::error::{ErrorCode, OAuthError};
use gatehouse::services::issue::IssueError;
use gatehouse::store::StoreError;
use gatehouse::web::response::json_response;
use gatehouse::web::{Response, StatusCode};
use serde_json::{Value, json};

/// Why a token request failed: a protocol error, or something on our side.
#[derive(Debug)]
pub enum TokenError {
    OAuth(OAuthError),
    /// invalid_client via HTTP Basic: answer 401 with `WWW-Authenticate: Basic`.
    BasicAuthFailed,
    /// Storage could not be reached in time: 503, the client may retry.
    Unavailable(String),
    Internal(String),
}

impl TokenError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self::OAuth(OAuthError::new(code, description))
    }
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Self::Unavailable(e.to_string()),
            _ => Self::Internal(e.to_string()),
        }
    }
}

impl From<IssueError> for TokenError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Store(store) => store.into(),
            IssueError::AlreadySpent => invalid_grant("the grant was already used"),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<gatehouse::secret::RandomError> for TokenError {
    fn from(e: gatehouse::secret::RandomError) -> Self {
        Self::Internal(e.to_string())
    }
}

pub fn invalid_grant(description: &str) -> TokenError {
    TokenError::new(ErrorCode::InvalidGrant, description)
}

/// The answer to the built-in `gatehouse-admin` client: access and refresh token, no ID token.
pub fn admin_tokens(minted: &gatehouse::services::issue::Minted, scope: &gatehouse::oidc::scope::Scopes) -> Value {
    json!({
        "access_token": minted.access_token.expose(),
        "token_type": "Bearer",
        "expires_in": gatehouse::oidc::tokens::ACCESS_TOKEN_LIFETIME.whole_seconds(),
        "refresh_token": minted.refresh_token.as_ref().map(|token| token.expose()),
        "scope": scope.to_string(),
    })
}

fn with_no_store(mut response: Response) -> Response {
    response.headers_mut().insert("pragma", HeaderValue::from_static("no-cache"));
    response
}

pub fn tokens(body: &Value) -> Response {
    with_no_store(json_response(StatusCode::OK, body))
}

pub fn error_response(error: OAuthError, basic: bool) -> Response {
    let status = match error.code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = with_no_store(json_response(
        status,
        &json!({ "error": error.code.as_str(), "error_description": error.description }),
    ));
    // RFC 6749 §5.2: the challenge names the scheme the client used; Bearer is for resource servers.
    if status == StatusCode::UNAUTHORIZED && basic {
        response.headers_mut().insert("www-authenticate", HeaderValue::from_static(r#"Basic realm="gatehouse""#));
    }
    response
}

pub fn token_error(e: TokenError) -> Response {
    match e {
        TokenError::OAuth(error) => {
            tracing::info!(error = error.code.as_str(), description = %error.description, "token request refused");
            error_response(error, false)
        }
        TokenError::BasicAuthFailed => {
            error_response(OAuthError::new(ErrorCode::InvalidClient, "client authentication failed"), true)
        }
        TokenError::Unavailable(detail) => {
            tracing::error!(error = %detail, "token request failed: storage unavailable");
            let error = OAuthError::new(ErrorCode::TemporarilyUnavailable, "the service is temporarily unavailable");
            let mut response = error_response(error, false);
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response
        }
        TokenError::Internal(detail) => {
            tracing::error!(error = %detail, "token request failed");
            error_response(
                OAuthError::new(ErrorCode::ServerError, "something went wrong on our side; it has been logged"),
                false,
            )
        }
    }
}
