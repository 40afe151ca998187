//! Talking to the upstream provider with the `openidconnect` crate: discovery (checked against
//! the configured issuer), the authorization URL, the code exchange, and ID token verification
//! with the provider's keys (fetched again once when a token names an unknown key).

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, JsonWebKeySet, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError,
    Scope, SignatureVerificationError, TokenResponse as _,
};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use url::Url;

use super::settings::UpstreamSettings;
use crate::outbound_http;
use crate::secret::SecretString;

/// What went wrong with the provider, in words fit for the OIDC log and the person.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    #[error("the provider could not be reached at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("the provider's discovery document at {url} is not usable: {detail}")]
    BadDiscovery { url: String, detail: String },
    /// The provider answered with an OAuth error (e.g. `unauthorized_client`).
    #[error("the provider refused: {code}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused { code: String, description: Option<String> },
    #[error("the ID token is not valid: {detail}")]
    InvalidToken { problem: TokenProblem, detail: String },
}

/// Which check an ID token failed, in few words: what the person is shown (the detail goes
/// to the OIDC log only, as it names issuers, client ids and audiences).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Issuer,
    Audience,
    Expired,
    Signature,
    Nonce,
    MissingClaim,
    /// The provider's answer could not be read (bad JSON, a claim of the wrong type).
    Malformed,
    Other,
}

impl TokenProblem {
    pub fn summary(self) -> &'static str {
        match self {
            Self::Issuer => "the ID token came from another issuer",
            Self::Audience => "the ID token was issued for another application (audience)",
            Self::Expired => "the ID token has expired",
            Self::Signature => "the ID token's signature could not be verified",
            Self::Nonce => "the ID token's nonce does not match this sign-in",
            Self::MissingClaim => "the ID token lacks a claim that is needed",
            Self::Malformed => "the provider's answer could not be read",
            Self::Other => "the ID token is not valid",
        }
    }

    fn of(error: &ClaimsVerificationError) -> Self {
        match error {
            ClaimsVerificationError::Expired(_) => Self::Expired,
            ClaimsVerificationError::InvalidAudience(_) => Self::Audience,
            ClaimsVerificationError::InvalidIssuer(_) => Self::Issuer,
            ClaimsVerificationError::InvalidNonce(_) => Self::Nonce,
            ClaimsVerificationError::SignatureVerification(_) => Self::Signature,
            ClaimsVerificationError::InvalidSubject(_) => Self::MissingClaim,
            _ => Self::Other,
        }
    }
}

impl UpstreamError {
    pub fn invalid(problem: TokenProblem, detail: impl Into<String>) -> Self {
        Self::InvalidToken { problem, detail: detail.into() }
    }

    /// What the person is told: no URLs, client ids or audiences.
    pub fn summary(&self) -> String {
        match self {
            Self::Unreachable { .. } => "the sign-in service could not be reached".into(),
            Self::BadDiscovery { .. } => "the sign-in service is not set up correctly".into(),
            Self::Refused { code, .. } => format!("the sign-in service refused ({code})"),
            Self::InvalidToken { problem, .. } => problem.summary().into(),
        }
    }
}

/// How long one exchange with the provider may take, its answer included.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The provider's answer to `request` (openidconnect's HTTP client).
async fn http(request: openidconnect::HttpRequest) -> Result<openidconnect::HttpResponse, outbound_http::HttpError> {
    outbound_http::send(request, TIMEOUT).await
}

/// The provider's metadata with its keys, cached briefly per discovery URL.
#[derive(Clone)]
pub struct Discovered {
    pub metadata: CoreProviderMetadata,
    /// The discovery document as received, for the log.
    pub raw: Value,
}

const CACHE_FOR: Duration = Duration::from_secs(300);

fn cache() -> &'static Mutex<Option<(String, Instant, Discovered)>> {
    static CACHE: OnceLock<Mutex<Option<(String, Instant, Discovered)>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(None))
}

/// Fetches and checks the discovery document and keys; `fresh` skips the cache (a save in the admin).
pub async fn discover(settings: &UpstreamSettings, fresh: bool) -> Result<Discovered, UpstreamError> {
    let url = settings.discovery_url();
    if !fresh
        && let Ok(guard) = cache().lock()
        && let Some((key, at, found)) = guard.as_ref()
        && *key == url
        && at.elapsed() < CACHE_FOR
    {
        return Ok(found.clone());
    }
    let unreachable = |detail: String| UpstreamError::Unreachable { url: url.clone(), detail };
    let bad = |detail: String| UpstreamError::BadDiscovery { url: url.clone(), detail };
    let request = openidconnect::http::Request::get(&url)
        .header("accept", "application/json")
        .body(Vec::new())
        .map_err(|e| bad(e.to_string()))?;
    let response = http(request).await.map_err(|e| unreachable(e.to_string()))?;
    if !response.status().is_success() {
        return Err(bad(format!("HTTP {}", response.status())));
    }
    let raw: Value = serde_json::from_slice(response.body()).map_err(|e| bad(format!("not JSON: {e}")))?;
    let metadata: CoreProviderMetadata = serde_json::from_value(raw.clone()).map_err(|e| bad(e.to_string()))?;
    let expected = settings.authority_url.trim_end_matches('/');
    if metadata.issuer().as_str().trim_end_matches('/') != expected {
        return Err(bad(format!(
            "its issuer is {}, but the Authority URL says {expected}",
            metadata.issuer().as_str()
        )));
    }
    let jwks = JsonWebKeySet::fetch_async(metadata.jwks_uri(), &http)
        .await
        .map_err(|e| unreachable(format!("keys at {}: {e}", metadata.jwks_uri().url())))?;
    let found = Discovered { metadata: metadata.set_jwks(jwks), raw };
    if let Ok(mut guard) = cache().lock() {
        *guard = Some((url, Instant::now(), found.clone()));
    }
    Ok(found)
}

/// A client built from discovery: authorization endpoint known, token endpoint if published.
type ProviderClient =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

fn client(found: &Discovered, settings: &UpstreamSettings) -> Result<ProviderClient, UpstreamError> {
    let redirect = RedirectUrl::new(settings.redirect_login_url.clone())
        .map_err(|e| UpstreamError::BadDiscovery { url: settings.redirect_login_url.clone(), detail: e.to_string() })?;
    Ok(CoreClient::from_provider_metadata(
        found.metadata.clone(),
        ClientId::new(settings.client_id.clone()),
        settings.client_secret.as_ref().map(|s| ClientSecret::new(s.expose().to_owned())),
    )
    .set_redirect_uri(redirect))
}

/// What one sign-in sends to the provider, kept to check what comes back.
pub struct Outbound {
    pub url: String,
    pub pkce_verifier: Option<String>,
}

/// The provider's authorization URL: state, nonce, PKCE (code flow), and the login hint.
pub fn authorization_url(
    found: &Discovered,
    settings: &UpstreamSettings,
    state: &str,
    nonce: &str,
    login_hint: Option<&str>,
) -> Result<Outbound, UpstreamError> {
    let client = client(found, settings)?;
    let (state, nonce) = (state.to_owned(), nonce.to_owned());
    let flow = if settings.uses_code_flow() {
        CoreAuthenticationFlow::AuthorizationCode
    } else {
        CoreAuthenticationFlow::Implicit(false)
    };
    let mut request = client
        .authorize_url(flow, move || CsrfToken::new(state), move || Nonce::new(nonce))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()));
    let mut pkce_verifier = None;
    if settings.uses_code_flow() {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        request = request.set_pkce_challenge(challenge);
        pkce_verifier = Some(verifier.secret().clone());
    } else {
        request = request.add_extra_param("response_mode", "form_post");
    }
    if let Some(hint) = login_hint {
        request = request.add_extra_param("login_hint", hint.to_owned());
    }
    let (url, _, _) = request.url();
    Ok(Outbound { url: url.to_string(), pkce_verifier })
}

/// Exchanges the code for tokens and returns the raw ID token.
pub async fn exchange_code(
    found: &Discovered,
    settings: &UpstreamSettings,
    code: &str,
    pkce_verifier: Option<&str>,
) -> Result<String, UpstreamError> {
    let client = client(found, settings)?;
    let mut request = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| UpstreamError::BadDiscovery { url: settings.discovery_url(), detail: e.to_string() })?;
    if let Some(verifier) = pkce_verifier {
        request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()));
    }
    let response = request.request_async(&http).await.map_err(|e| match e {
        RequestTokenError::ServerResponse(err) => {
            UpstreamError::Refused { code: err.error().to_string(), description: err.error_description().cloned() }
        }
        // The answer arrived but is not a usable token response, e.g. an ID token without `exp`.
        RequestTokenError::Parse(e, _) => UpstreamError::invalid(
            TokenProblem::Malformed,
            format!("the token endpoint's answer could not be read: {} (at {})", e.inner(), e.path()),
        ),
        RequestTokenError::Request(e) => {
            UpstreamError::Unreachable { url: "the token endpoint".into(), detail: e.to_string() }
        }
        RequestTokenError::Other(detail) => UpstreamError::invalid(
            TokenProblem::Malformed,
            format!("the token endpoint answered unexpectedly: {detail}"),
        ),
    })?;
    let id_token = response
        .id_token()
        .ok_or_else(|| UpstreamError::invalid(TokenProblem::MissingClaim, "the token response had no ID token"))?;
    Ok(id_token.to_string())
}

/// Verifies the ID token — signature (RS256 only: `none` and HS-with-public-key are refused),
/// issuer, audience, expiry and nonce — and returns all its claims.
pub async fn verify_id_token(
    found: &mut Discovered,
    settings: &UpstreamSettings,
    raw: &str,
    nonce: &str,
    now: OffsetDateTime,
) -> Result<Map<String, Value>, UpstreamError> {
    let token: CoreIdToken =
        raw.parse().map_err(|e: serde_json::Error| UpstreamError::invalid(TokenProblem::Malformed, e.to_string()))?;
    let mut attempt = 0;
    loop {
        let client = client(found, settings)?;
        let at = chrono::DateTime::from_timestamp(now.unix_timestamp(), 0).unwrap_or_default();
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs(vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256])
            .set_time_fn(move || at);
        match token.claims(&verifier, &Nonce::new(nonce.to_owned())) {
            Ok(_) => break,
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey))
                if attempt == 0 =>
            {
                // The provider may have rotated its keys since we fetched them.
                attempt += 1;
                *found = discover(settings, true).await?;
            }
            Err(e) => return Err(UpstreamError::invalid(TokenProblem::of(&e), e.to_string())),
        }
    }
    // Verified above; read every claim, including the provider's own (roles, groups, upn).
    let payload = raw.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| UpstreamError::invalid(TokenProblem::Malformed, e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| UpstreamError::invalid(TokenProblem::Malformed, e.to_string()))
}

/// The provider's sign-out (RP-Initiated Logout 1.0), when it publishes an end-session
/// endpoint: with the session's ID token as the hint (when there is one) and the way back.
pub fn end_session_url(
    found: &Discovered,
    settings: &UpstreamSettings,
    id_token_hint: Option<&SecretString>,
    post_logout_redirect_uri: &str,
) -> Option<Url> {
    let mut url = found.raw.get("end_session_endpoint").and_then(Value::as_str).and_then(|u| Url::parse(u).ok())?;
    {
        let mut query = url.query_pairs_mut();
        if let Some(hint) = id_token_hint {
            query.append_pair("id_token_hint", hint.expose());
        }
        query.append_pair("client_id", &settings.client_id);
        query.append_pair("post_logout_redirect_uri", post_logout_redirect_uri);
    }
    Some(url)
}

/// A fresh issuer URL check for the log.
pub fn issuer(found: &Discovered) -> &IssuerUrl {
    found.metadata.issuer()
}
