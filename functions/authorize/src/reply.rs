//! Answers that go back to the client: a code, implicit tokens, or an error, always with
//! `state` and `iss` (RFC 9207).

use gatehouse::oidc::error::{ErrorCode, OAuthError};
use gatehouse::oidc::request::{AuthorizationRequest, ResponseType};
use gatehouse::services::issue::IssueError;
use gatehouse::web::Response;
use gatehouse::web::response::see_other;

/// Where and how to answer the client, fixed once the redirect URI is known to be registered.
pub struct ClientReply {
    redirect_uri: String,
    response_type: ResponseType,
    state: Option<String>,
    issuer: String,
}

impl ClientReply {
    pub fn new(redirect_uri: &str, response_type: ResponseType, state: Option<&str>, issuer: &str) -> Self {
        Self {
            redirect_uri: redirect_uri.to_owned(),
            response_type,
            state: state.map(str::to_owned),
            issuer: issuer.to_owned(),
        }
    }

    pub fn for_request(request: &AuthorizationRequest, issuer: &str) -> Self {
        Self::new(request.redirect_uri.as_str(), request.response_type, request.state.as_deref(), issuer)
    }

    /// `redirect_uri` with `params` in its query (code) or fragment (implicit).
    pub fn with(&self, params: &[(&str, &str)]) -> Response {
        see_other(&self.location(params))
    }

    /// Where [`Self::with`] sends the browser.
    pub fn location(&self, params: &[(&str, &str)]) -> String {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in params {
            pairs.append_pair(name, value);
        }
        if let Some(s) = &self.state {
            pairs.append_pair("state", s);
        }
        pairs.append_pair("iss", &self.issuer);
        let encoded = pairs.finish();
        let redirect_uri = &self.redirect_uri;
        if self.response_type.uses_fragment() {
            format!("{redirect_uri}#{encoded}")
        } else if redirect_uri.contains('?') {
            format!("{redirect_uri}&{encoded}")
        } else {
            format!("{redirect_uri}?{encoded}")
        }
    }

    /// The app's own answer for a member it may not serve (`access_denied`): the way back.
    pub fn denied_location(&self) -> String {
        self.location(&[("error", ErrorCode::AccessDenied.as_str()), ("error_description", "the member has no access")])
    }

    pub fn error(&self, error: &OAuthError) -> Response {
        tracing::info!(error = error.code.as_str(), description = %error.description, "authorization refused");
        self.with(&[("error", error.code.as_str()), ("error_description", &error.description)])
    }
}

/// An authorization that cannot be completed on our side; the detail goes to the log only.
pub(crate) fn server_error(e: IssueError) -> OAuthError {
    tracing::error!(error = %e, "cannot complete the authorization");
    OAuthError::new(
        ErrorCode::ServerError,
        "the application's sign-in is not configured correctly; an administrator has been told",
    )
}
