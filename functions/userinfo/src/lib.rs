//! The UserInfo endpoint (OIDC Core §5.3): the registration's profile columns and roles for
//! the member behind a bearer access token. GET, or POST with the token in the header or body.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::routing::get;
use gatehouse::app::AppState;
use gatehouse::grants::GrantClient;
use gatehouse::oidc::scope::Scope;
use gatehouse::oidc::sealed_token::TokenUse;
use gatehouse::secret::OpaqueToken;
use gatehouse::services::issue::Profile;
use gatehouse::services::sealed_tokens;
use gatehouse::web::extract::Req;
use gatehouse::web::request::{bearer_token, form, is_form};
use gatehouse::web::response::{json_response, ok_json};
use gatehouse::web::{Method, Request, Response, SharedState, StatusCode};
use serde_json::json;

/// An RFC 6750 refusal.
struct Refusal {
    status: StatusCode,
    error: Option<&'static str>,
    description: &'static str,
}

fn refuse(status: StatusCode, error: Option<&'static str>, description: &'static str) -> Refusal {
    Refusal { status, error, description }
}

fn invalid_token(description: &'static str) -> Refusal {
    refuse(StatusCode::UNAUTHORIZED, Some("invalid_token"), description)
}

impl Refusal {
    fn into_response(self) -> Response {
        let challenge = match self.error {
            Some(error) => {
                format!(r#"Bearer realm="gatehouse", error="{error}", error_description="{}""#, self.description)
            }
            None => r#"Bearer realm="gatehouse""#.to_owned(),
        };
        let mut response = json_response(
            self.status,
            &json!({ "error": self.error.unwrap_or("invalid_request"), "error_description": self.description }),
        );
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert("www-authenticate", value);
        }
        response
    }
}

pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/userinfo", get(handle).post(handle))
        .method_not_allowed_fallback(gatehouse::web::error::method_not_allowed)
        .with_state(state)
}

async fn handle(State(state): State<SharedState>, Req(req): Req) -> Response {
    match userinfo(&state, &req).await {
        Ok(response) => response,
        Err(refusal) => refusal.into_response(),
    }
}

async fn userinfo(state: &AppState, req: &Request) -> Result<Response, Refusal> {
    let header_token = bearer_token(req).map(str::to_owned);
    let body_token = if *req.method() == Method::POST && is_form(req) {
        form(req).get("access_token").map(str::to_owned)
    } else {
        None
    };
    let token = match (header_token, body_token, req.method()) {
        (Some(_), Some(_), _) => {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
                "send the token once, not in both header and body",
            ));
        }
        (Some(t), None, &Method::GET | &Method::POST) | (None, Some(t), &Method::POST) => t,
        (None, None, &Method::GET | &Method::POST) => {
            return Err(refuse(StatusCode::UNAUTHORIZED, None, "a bearer access token is required"));
        }
        _ => return Err(refuse(StatusCode::METHOD_NOT_ALLOWED, Some("invalid_request"), "use GET or POST")),
    };
    let now = state.now();
    let internal = |e: gatehouse::store::StoreError| {
        tracing::error!(error = %e, "userinfo failed");
        match e {
            gatehouse::store::StoreError::Unavailable(_) => refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                Some("temporarily_unavailable"),
                "the service is temporarily unavailable",
            ),
            _ => refuse(StatusCode::INTERNAL_SERVER_ERROR, Some("server_error"), "something went wrong on our side"),
        }
    };
    let grant = sealed_tokens::open(state, TokenUse::Access, &token, now)
        .await
        .map_err(internal)?
        .ok_or_else(|| invalid_token("the access token is invalid or expired"))?;
    // Admin API tokens carry no registration, so they have no userinfo.
    let client_id = match grant.client_id {
        GrantClient::App(id) => Some(id),
        GrantClient::Admin => None,
    };
    let registration = async {
        match client_id {
            Some(id) => state.stores.registrations.get(id).await,
            None => Ok(None),
        }
    };
    // What the token names, read together (on DynamoDB, one round trip instead of three), then
    // checked in order.
    let digest = OpaqueToken::from_presented(token.as_str()).digest();
    let (token_revoked, family_revoked, registration, contact) = tokio::try_join!(
        state.stores.grants.is_access_token_revoked(&digest, now),
        state.stores.grants.is_family_revoked(&grant.family, now),
        registration,
        state.stores.contacts.get(grant.contact_id),
    )
    .map_err(internal)?;
    if token_revoked || family_revoked {
        return Err(invalid_token("the access token was revoked"));
    }
    if !grant.scope.contains(Scope::Openid) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            "the token was not issued with the openid scope",
        ));
    }
    let Some(client_id) = client_id else { return Err(invalid_token("the access token is invalid")) };
    let registration = registration.ok_or_else(|| invalid_token("the application's registration was deleted"))?;
    let contact = contact.ok_or_else(|| invalid_token("the member no longer exists"))?;
    if contact.credential_stamp() != grant.credential {
        return Err(invalid_token("the member's password changed since this token was issued"));
    }
    let profile = Profile::load(state, &registration, &contact).await.map_err(|e| {
        tracing::error!(error = %e, client_id = %client_id, "userinfo cannot load the profile");
        refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some("server_error"),
            "the application's profile is not configured correctly",
        )
    })?;
    Ok(ok_json(&profile.userinfo(&registration, &contact)))
}
