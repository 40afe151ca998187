//! The token endpoint (RFC 6749 §3.2): authorization_code (+PKCE), refresh_token and
//! password grants; beside it revocation (RFC 7009) and introspection (RFC 7662). Errors are
//! RFC 6749 JSON; every answer carries `Cache-Control: no-store`.

mod client;
mod code;
mod introspect;
mod lookup;
mod password;
mod refresh;
mod response;
mod revoke;

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use gatehouse::app::AppState;
use gatehouse::contact::{Contact, ContactId};
use gatehouse::oidc::error::{ErrorCode, OAuthError};
use gatehouse::web::Request;
use gatehouse::web::Response;
use gatehouse::web::SharedState;
use gatehouse::web::extract::Req;
use gatehouse::web::request::{Params, form, is_form, source_ip};
use serde::Deserialize;

use crate::response::{TokenError, error_response, invalid_grant, token_error};

/// A token request, parsed at the edge into the grant it asks for.
#[derive(Debug, Deserialize)]
#[serde(tag = "grant_type", rename_all = "snake_case")]
enum TokenRequest {
    AuthorizationCode { code: String, redirect_uri: Option<String>, code_verifier: Option<String> },
    RefreshToken { refresh_token: String, scope: Option<String> },
    Password { username: String, password: String, scope: Option<String> },
}

const SINGLE: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "username",
    "password",
    "client_id",
    "client_secret",
    "token",
    "token_type_hint",
];

/// The member a code or refresh token was issued to: a deleted member ends the grant.
async fn grant_member(state: &AppState, id: ContactId) -> Result<Contact, TokenError> {
    state.stores.contacts.get(id).await?.ok_or_else(|| invalid_grant("the member no longer exists"))
}

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/token", post(handle))
        .route("/token/revoke", post(handle_revoke))
        .route("/token/introspect", post(handle_introspect))
        .method_not_allowed_fallback(gatehouse::web::error::method_not_allowed)
        .with_state(state)
}

/// What every request here starts with: a form body, no repeated parameter, and the client.
async fn prelude(state: &AppState, req: &Request) -> Result<(Params, client::Client), Response> {
    if !is_form(req) {
        return Err(error_response(
            OAuthError::new(
                ErrorCode::InvalidRequest,
                "send a POST with Content-Type: application/x-www-form-urlencoded",
            ),
            false,
        ));
    }
    let params = form(req);
    if let Some(name) = SINGLE.iter().find(|n| params.is_repeated(n)) {
        return Err(error_response(
            OAuthError::new(ErrorCode::InvalidRequest, format!("the parameter {name} is repeated")),
            false,
        ));
    }
    let client = client::authenticate(state, req, &params).await.map_err(token_error)?;
    Ok((params, client))
}

async fn handle_revoke(State(state): State<SharedState>, Req(req): Req) -> Response {
    let (params, client) = match prelude(&state, &req).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    match revoke::revoke(&state, &client, &params, state.now()).await {
        Ok(body) => response::tokens(&body),
        Err(e) => token_error(e),
    }
}

async fn handle_introspect(State(state): State<SharedState>, Req(req): Req) -> Response {
    let (params, client) = match prelude(&state, &req).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    match introspect::introspect(&state, &client, &params, state.now()).await {
        Ok(body) => response::tokens(&body),
        Err(e) => token_error(e),
    }
}

async fn handle(State(state): State<SharedState>, Req(req): Req) -> Response {
    let state = &*state;
    let (params, client) = match prelude(state, &req).await {
        Ok(ok) => ok,
        Err(response) => return response,
    };
    let now = state.now();
    let body = String::from_utf8_lossy(gatehouse::web::request::body_bytes(&req)).into_owned();
    let request: TokenRequest = match serde_urlencoded::from_str(&body) {
        Ok(request) => request,
        Err(e) => {
            let code = match params.get("grant_type") {
                Some("authorization_code" | "refresh_token" | "password") | None => ErrorCode::InvalidRequest,
                Some(_) => ErrorCode::UnsupportedGrantType,
            };
            let description = match code {
                ErrorCode::UnsupportedGrantType => "this grant_type is not supported".to_owned(),
                _ => format!("the request is incomplete: {e}"),
            };
            return error_response(OAuthError::new(code, description), false);
        }
    };
    let result = match request {
        TokenRequest::AuthorizationCode { code, redirect_uri, code_verifier } => {
            code::exchange(state, &client, &code, redirect_uri.as_deref(), code_verifier.as_deref(), now).await
        }
        TokenRequest::RefreshToken { refresh_token, scope } => {
            refresh::exchange(state, &client, &refresh_token, scope.as_deref(), now).await
        }
        TokenRequest::Password { username, password, scope } => {
            password::exchange(state, &client, &username, &password, scope.as_deref(), source_ip(&req), now).await
        }
    };
    match result {
        Ok(body) => response::tokens(&body),
        Err(e) => token_error(e),
    }
}
