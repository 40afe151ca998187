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
use gatehouse::grants::{AuthCode, Redeemed, TokenGrant};
use gatehouse::oidc::error::{ErrorCode, OAuthError};
use gatehouse::secret::{OpaqueToken, TokenDigest};
use gatehouse::store::StoreResult;
use gatehouse::web::Request;
use gatehouse::web::Response;
use gatehouse::web::SharedState;
use gatehouse::web::extract::Req;
use gatehouse::web::request::{Params, form, is_form, source_ip};
use serde::Deserialize;
use serde::de::value::MapDeserializer;
use time::OffsetDateTime;

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

/// The grant a token request asks for, its code or refresh token looked up (not spent): read
/// while the client authenticates (on DynamoDB, one round trip fewer), acted on only after.
enum Grant {
    Code { presented: Presented<AuthCode>, redirect_uri: Option<String>, code_verifier: Option<String> },
    Refresh { presented: Presented<TokenGrant>, form: refresh::Form, scope: Option<String> },
    Password { username: String, password: String, scope: Option<String> },
}

/// A code or refresh token as presented, and what the store holds for it.
struct Presented<G> {
    digest: TokenDigest,
    found: StoreResult<Redeemed<G>>,
}

impl Grant {
    async fn look_up(state: &AppState, request: TokenRequest, now: OffsetDateTime) -> Self {
        let digest = |token: &str| OpaqueToken::from_presented(token).digest();
        match request {
            TokenRequest::AuthorizationCode { code, redirect_uri, code_verifier } => {
                let digest = digest(&code);
                let found = state.stores.grants.find_code(&digest, now).await;
                Self::Code { presented: Presented { digest, found }, redirect_uri, code_verifier }
            }
            TokenRequest::RefreshToken { refresh_token, scope } => {
                let digest = digest(&refresh_token);
                let (form, found) = refresh::look_up(state, &refresh_token, &digest, now).await;
                Self::Refresh { presented: Presented { digest, found }, form, scope }
            }
            TokenRequest::Password { username, password, scope } => Self::Password { username, password, scope },
        }
    }
}

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
    let params = form_params(req).map_err(|e| error_response(e, false))?;
    let client = client::authenticate(state, req, &params).await.map_err(token_error)?;
    Ok((params, client))
}

/// A form body with no repeated parameter.
fn form_params(req: &Request) -> Result<Params, OAuthError> {
    if !is_form(req) {
        return Err(OAuthError::new(
            ErrorCode::InvalidRequest,
            "send a POST with Content-Type: application/x-www-form-urlencoded",
        ));
    }
    let params = form(req);
    if let Some(name) = SINGLE.iter().find(|n| params.is_repeated(n)) {
        return Err(OAuthError::new(ErrorCode::InvalidRequest, format!("the parameter {name} is repeated")));
    }
    Ok(params)
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
    let params = match form_params(&req) {
        Ok(params) => params,
        Err(e) => return error_response(e, false),
    };
    let now = state.now();
    let grant = async { Ok::<_, OAuthError>(Grant::look_up(state, parse(&params)?, now).await) };
    let (client, grant) = tokio::join!(client::authenticate(state, &req, &params), grant);
    // The client's failure is answered first, as when nothing was read before it.
    let client = match client {
        Ok(client) => client,
        Err(e) => return token_error(e),
    };
    let grant = match grant {
        Ok(grant) => grant,
        Err(e) => return error_response(e, false),
    };
    let result = match grant {
        Grant::Code { presented, redirect_uri, code_verifier } => {
            code::exchange(state, &client, presented, redirect_uri.as_deref(), code_verifier.as_deref(), now).await
        }
        Grant::Refresh { presented, form, scope } => {
            refresh::exchange(state, &client, presented, form, scope.as_deref(), now).await
        }
        Grant::Password { username, password, scope } => {
            password::exchange(state, &client, &username, &password, scope.as_deref(), source_ip(&req), now).await
        }
    };
    match result {
        Ok(body) => response::tokens(&body),
        Err(e) => token_error(e),
    }
}

/// The token request in the body, or the error that answers it: read from the pairs the body
/// was already decoded into (none repeated), not decoded a second time.
fn parse(params: &Params) -> Result<TokenRequest, OAuthError> {
    let pairs = MapDeserializer::<_, serde::de::value::Error>::new(params.pairs());
    TokenRequest::deserialize(pairs).map_err(|e| {
        let code = match params.get("grant_type") {
            Some("authorization_code" | "refresh_token" | "password") | None => ErrorCode::InvalidRequest,
            Some(_) => ErrorCode::UnsupportedGrantType,
        };
        let description = match code {
            ErrorCode::UnsupportedGrantType => "this grant_type is not supported".to_owned(),
            _ => format!("the request is incomplete: {e}"),
        };
        OAuthError::new(code, description)
    })
}
