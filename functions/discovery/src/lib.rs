//! OpenID Provider metadata (`/.well-known/openid-configuration`), public keys (`/jwks`), and
//! the site's icon (`/favicon.ico`) and its one script (`/assets/gatehouse.js`): the static answers.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::routing::get;
use gatehouse::app::AppState;
use gatehouse::oidc::scope::SUPPORTED;
use gatehouse::oidc::signing::SigningAlgorithm;
use gatehouse::services::signing::{signer, signing_config};
use gatehouse::web::error::ApiError;
use gatehouse::web::response::ok_json;
use gatehouse::web::{Response, SharedState};
use serde_json::{Value, json};

/// The metadata; `algorithm` is the one ID tokens are signed with now, the only one listed, so
/// libraries that pick the algorithm from discovery expect what they will get.
pub fn metadata(state: &AppState, algorithm: SigningAlgorithm) -> Value {
    let c = &state.config;
    json!({
        "issuer": c.issuer_str(),
        "authorization_endpoint": c.url("/authorize"),
        "token_endpoint": c.url("/token"),
        "userinfo_endpoint": c.url("/userinfo"),
        "jwks_uri": c.url("/jwks"),
        "end_session_endpoint": c.url("/signout"),
        "revocation_endpoint": c.url("/token/revoke"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint": c.url("/token/introspect"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "response_types_supported": ["code", "id_token", "id_token token"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "password"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [algorithm.name()],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "scopes_supported": SUPPORTED.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "amr", "nonce", "at_hash", "c_hash", "sid",
            "given_name", "family_name", "email", "preferred_username", "roles"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    })
}

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(configuration))
        .route("/jwks", get(jwks))
        .route("/favicon.ico", get(favicon))
        .route(gatehouse::web::layout::SCRIPT_PATH, get(script))
        .method_not_allowed_fallback(gatehouse::web::error::method_not_allowed)
        .with_state(state)
}

async fn configuration(State(state): State<SharedState>) -> Response {
    // The process's signer cache: no secret-store read per request, and a change of algorithm
    // shows here within the cache's minute (at once when this process made it).
    match signer(&state.stores, &state.signer, state.now()).await {
        Ok(signer) => cacheable(ok_json(&metadata(&state, signer.algorithm()))),
        Err(e) => {
            tracing::error!(error = %e, "the signing setting cannot be read");
            ApiError::internal().into_response()
        }
    }
}

async fn jwks(State(state): State<SharedState>) -> Response {
    match signing_config(&state.stores).await {
        Ok(config) => cacheable(ok_json(&config.jwks(state.now()))),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Public documents: clients may cache them briefly (keys rotate with a grace period).
fn cacheable(mut response: Response) -> Response {
    response.headers_mut().insert("cache-control", HeaderValue::from_static("public, max-age=300"));
    response
}

/// The icon browsers ask for on every first visit: a gate, as SVG (browsers accept it at this
/// address), cached for a day.
async fn favicon() -> Response {
    const ICON: &str = concat!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">"##,
        r##"<rect width="32" height="32" rx="6" fill="#1f5fbf"/>"##,
        r##"<path d="M8 26V12a8 8 0 0 1 16 0v14h-4V12a4 4 0 0 0-8 0v14z" fill="#fff"/></svg>"##
    );
    static_file(ICON, "image/svg+xml")
}

/// The pages' script: a same-origin file, so the Content-Security-Policy needs no inline code.
async fn script() -> Response {
    static_file(gatehouse::web::layout::SCRIPT, "text/javascript; charset=utf-8")
}

/// A fixed file, cached for a day.
fn static_file(body: &'static str, content_type: &'static str) -> Response {
    let mut response = axum::response::IntoResponse::into_response(body);
    let headers = response.headers_mut();
    headers.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(axum::http::header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}
