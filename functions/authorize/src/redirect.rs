//! Answers that go back to the client: a code, implicit tokens, or an error, always with
//! `state` and `iss` (RFC 9207).

use gatehouse::app::AppState;
use gatehouse::oidc::error::OAuthError;
use gatehouse::oidc::request::ResponseType;
use gatehouse::web::Response;
use gatehouse::web::response::see_other;

/// Builds `redirect_uri` with `params` in its query (code) or fragment (implicit).
pub fn to_client(
    state: &AppState,
    redirect_uri: &str,
    response_type: ResponseType,
    client_state: Option<&str>,
    params: &[(&str, &str)],
) -> Response {
    let mut pairs = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        pairs.append_pair(name, value);
    }
    if let Some(s) = client_state {
        pairs.append_pair("state", s);
    }
    pairs.append_pair("iss", state.config.issuer_str());
    let encoded = pairs.finish();
    let location = if response_type.uses_fragment() {
        format!("{redirect_uri}#{encoded}")
    } else if redirect_uri.contains('?') {
        format!("{redirect_uri}&{encoded}")
    } else {
        format!("{redirect_uri}?{encoded}")
    };
    see_other(&location)
}

pub fn error(
    state: &AppState,
    redirect_uri: &str,
    response_type: ResponseType,
    client_state: Option<&str>,
    error: &OAuthError,
) -> Response {
    tracing::info!(error = error.code.as_str(), description = %error.description, "authorization refused");
    to_client(
        state,
        redirect_uri,
        response_type,
        client_state,
        &[("error", error.code.as_str()), ("error_description", &error.description)],
    )
}
