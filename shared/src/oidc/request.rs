//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1), parsed into typed values.
//!
//! Parsing has two stages because errors are answered two ways: until the client and its
//! redirect URI are known good, only an error page is safe; after that, errors go back
//! to the client's redirect URI.

use crate::oidc::error::{ErrorCode, OAuthError};
use crate::oidc::pkce;
use crate::params::Params;
use crate::registration::{ClientId, GrantType, RedirectUrl, Registration};
use crate::scope::{Scope, Scopes};

/// Why no redirect to the client is safe: shown to the person as a page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsafeRequest {
    #[error("The application did not say who it is (client_id is missing).")]
    MissingClient,
    #[error("This application is not registered with us, or its registration was deleted.")]
    UnknownClient,
    #[error("The application's redirect URL is missing: it has several registered and must say which.")]
    MissingRedirect,
    #[error("The application asked to send you to an address that is not registered for it.")]
    UnregisteredRedirect,
    #[error("The request repeats the parameter `{0}`.")]
    Repeated(&'static str),
}

/// The client ID as given; the handler looks it up.
pub fn client_id(params: &Params) -> Result<Option<ClientId>, UnsafeRequest> {
    if params.is_repeated("client_id") {
        return Err(UnsafeRequest::Repeated("client_id"));
    }
    let raw = params.get("client_id").ok_or(UnsafeRequest::MissingClient)?;
    Ok(ClientId::parse(raw))
}

/// The redirect URI, which must equal a registered one exactly (no normalisation at all).
/// It may be left out only when exactly one is registered.
pub fn redirect_uri(params: &Params, registration: &Registration) -> Result<RedirectUrl, UnsafeRequest> {
    if params.is_repeated("redirect_uri") {
        return Err(UnsafeRequest::Repeated("redirect_uri"));
    }
    let registered = &registration.settings.redirect_urls;
    match params.get("redirect_uri") {
        Some(given) => {
            registered.iter().find(|r| r.as_str() == given).cloned().ok_or(UnsafeRequest::UnregisteredRedirect)
        }
        None if registered.len() == 1 => Ok(registered[0].clone()),
        None => Err(UnsafeRequest::MissingRedirect),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    Code,
    /// Implicit: an ID token only.
    IdToken,
    /// Implicit: an ID token and an access token.
    IdTokenToken,
}

impl ResponseType {
    /// Implicit responses travel in the fragment; code responses in the query.
    pub fn uses_fragment(self) -> bool {
        !matches!(self, Self::Code)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: ClientId,
    pub redirect_uri: RedirectUrl,
    /// Whether the request named it (it may be left out when only one is registered).
    pub redirect_uri_sent: bool,
    pub response_type: ResponseType,
    pub scope: Scopes,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub code_challenge: Option<String>,
    /// Set by Gatehouse itself when it sent the user to sign in again: a sign-in older than
    /// this (unix seconds) does not count.
    pub login_after: Option<i64>,
}

const SINGLE: &[&str] = &[
    "response_type",
    "scope",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "login_hint",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
    "login_after",
];

fn invalid(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRequest, description)
}

impl AuthorizationRequest {
    /// The rest of the request, once client and redirect URI are known good.
    pub fn parse(params: &Params, registration: &Registration, redirect_uri: RedirectUrl) -> Result<Self, OAuthError> {
        if let Some(name) = SINGLE.iter().find(|n| params.is_repeated(n)) {
            return Err(invalid(format!("the parameter {name} is repeated")));
        }
        let response_type = match params.get("response_type").map(sorted_words).as_deref() {
            Some("code") => ResponseType::Code,
            Some("id_token") => ResponseType::IdToken,
            Some("id_token token") => ResponseType::IdTokenToken,
            None => return Err(invalid("response_type is required")),
            Some(other) => {
                return Err(OAuthError::new(
                    ErrorCode::UnsupportedResponseType,
                    format!("response_type {other} is not supported"),
                ));
            }
        };
        if response_type != ResponseType::Code && !registration.settings.allows(GrantType::Implicit) {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "response_type id_token is not enabled for the application",
            ));
        }
        let scope = Scopes::parse(params.text("scope"));
        if !scope.contains(Scope::Openid) {
            return Err(OAuthError::new(ErrorCode::InvalidScope, "the openid scope is required"));
        }
        if scope.contains(Scope::Admin) {
            return Err(OAuthError::new(ErrorCode::InvalidScope, "the admin scope is not available to client apps"));
        }
        let nonce = params.get("nonce").filter(|n| !n.is_empty()).map(str::to_owned);
        if response_type != ResponseType::Code && nonce.is_none() {
            return Err(invalid("nonce is required for implicit responses"));
        }
        let mut prompt = Prompt::default();
        for word in params.text("prompt").split_whitespace() {
            match word {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "select_account" => {}
                other => return Err(invalid(format!("prompt {other} is not supported"))),
            }
        }
        if prompt.none && (prompt.login || prompt.consent) {
            return Err(invalid("prompt=none cannot be combined with other prompts"));
        }
        let max_age = match params.get("max_age") {
            None | Some("") => None,
            Some(v) => Some(
                v.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| invalid("max_age must be a number of seconds"))?,
            ),
        };
        let code_challenge = match (params.get("code_challenge"), params.get("code_challenge_method")) {
            (None, None) => None,
            (None, Some(_)) => return Err(invalid("code_challenge_method without code_challenge")),
            (Some(c), Some("S256")) if pkce::is_valid_challenge(c) => Some(c.to_owned()),
            (Some(_), Some("S256")) => {
                return Err(invalid("code_challenge must be 43 base64url characters"));
            }
            (Some(_), None | Some("plain")) => {
                return Err(invalid("only code_challenge_method=S256 is supported"));
            }
            (Some(_), Some(other)) => {
                return Err(invalid(format!("code_challenge_method {other} is not supported")));
            }
        };
        match params.get("response_mode") {
            None => {}
            Some("query") if response_type == ResponseType::Code => {}
            Some("fragment") if response_type != ResponseType::Code => {}
            Some(other) => {
                return Err(invalid(format!("response_mode {other} is not supported for this response_type")));
            }
        }
        let state = params.get("state").filter(|s| !s.is_empty()).map(str::to_owned);
        let login_hint = params.get("login_hint").filter(|s| !s.is_empty()).map(str::to_owned);
        let login_after = params.get("login_after").and_then(|v| v.parse::<i64>().ok());
        Ok(Self {
            client_id: registration.client_id,
            redirect_uri,
            redirect_uri_sent: params.has("redirect_uri"),
            response_type,
            scope,
            state,
            nonce,
            prompt,
            max_age,
            login_hint,
            code_challenge,
            login_after,
        })
    }
}

fn sorted_words(value: &str) -> String {
    let mut words: Vec<&str> = value.split_whitespace().collect();
    words.sort_unstable();
    words.join(" ")
}
