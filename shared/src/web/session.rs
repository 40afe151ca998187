//! Browser sessions at the edge: the cookie, the signed-in user, and CSRF checks.

use time::OffsetDateTime;

use super::Request;
use super::request::{cookie, header};
use crate::app::AppState;
use crate::config::Config;
use crate::contact::Contact;
use crate::secret::{OpaqueToken, RandomError, SecretString, TokenDigest};
use crate::session::{SESSION_LIFETIME, Session, SignInMethod};
use crate::store::StoreResult;

/// The header that carries the CSRF token on cookie-authenticated JSON writes.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field that carries it on HTML forms.
pub const CSRF_FIELD: &str = "csrf_token";

/// Over https the `__Host-` prefix pins the cookie to this host, path `/`, and `Secure`.
pub fn session_cookie_name(config: &Config) -> &'static str {
    if config.is_https() { "__Host-gatehouse_session" } else { "gatehouse_session" }
}

fn login_csrf_cookie_name(config: &Config) -> &'static str {
    if config.is_https() { "__Host-gatehouse_csrf" } else { "gatehouse_csrf" }
}

fn cookie_attributes(config: &Config, max_age: i64) -> String {
    let secure = if config.is_https() { "; Secure" } else { "" };
    format!("Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

pub fn session_cookie(config: &Config, token: &OpaqueToken) -> String {
    format!(
        "{}={}; {}",
        session_cookie_name(config),
        token.expose(),
        cookie_attributes(config, SESSION_LIFETIME.whole_seconds())
    )
}

pub fn clear_session_cookie(config: &Config) -> String {
    format!("{}=; {}", session_cookie_name(config), cookie_attributes(config, 0))
}

/// A signed-in user: the live session and the contact it belongs to.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: Session,
    pub contact: Contact,
}

impl SignedIn {
    /// Checks a presented CSRF token against this session's, in constant time.
    pub fn csrf_ok(&self, presented: Option<&str>) -> bool {
        presented.is_some_and(|p| self.session.csrf_token.matches(p))
    }

    /// The CSRF token a cookie-authenticated JSON write carries in its header.
    pub fn csrf_header_ok(&self, req: &Request) -> bool {
        self.csrf_ok(header(req, CSRF_HEADER))
    }
}

/// The session behind the request's cookie, if it is live and its contact still exists.
pub async fn signed_in(state: &AppState, req: &Request, now: OffsetDateTime) -> StoreResult<Option<SignedIn>> {
    let Some(value) = cookie(req, session_cookie_name(&state.config)) else {
        return Ok(None);
    };
    let digest = OpaqueToken::from_presented(value).digest();
    let Some(session) = state.stores.sessions.get(&digest, now).await? else {
        return Ok(None);
    };
    let contact = match state.stores.contacts.get(session.contact_id).await? {
        // A deleted contact, or a password changed since this sign-in, ends the session.
        Some(contact) if contact.credential_stamp() == session.credential => contact,
        _ => {
            state.stores.sessions.delete(&digest).await?;
            return Ok(None);
        }
    };
    Ok(Some(SignedIn { session, contact }))
}

/// Login CSRF: before there is a session, a random cookie is echoed in the form (double submit).
pub struct LoginCsrf {
    pub token: String,
    /// Set when the cookie must be (re)issued with this response.
    pub set_cookie: Option<String>,
}

pub fn login_csrf(state: &AppState, req: &Request) -> Result<LoginCsrf, RandomError> {
    let name = login_csrf_cookie_name(&state.config);
    match cookie(req, name) {
        Some(existing) if existing.len() >= 32 => Ok(LoginCsrf { token: existing.to_owned(), set_cookie: None }),
        _ => {
            let token = SecretString::generate(43)?.expose().to_owned();
            let set_cookie = format!("{name}={token}; {}", cookie_attributes(&state.config, 60 * 60 * 2));
            Ok(LoginCsrf { token, set_cookie: Some(set_cookie) })
        }
    }
}

/// The digest of the browser's login CSRF cookie: ties a sign-in step to the browser that began it.
pub fn login_browser(state: &AppState, req: &Request) -> Option<TokenDigest> {
    cookie(req, login_csrf_cookie_name(&state.config))
        .filter(|value| value.len() >= 32)
        .map(|value| OpaqueToken::from_presented(value).digest())
}

/// A fresh session for `contact` (a new id at every sign-in defeats session fixation), stored,
/// with the cookie that carries it.
pub async fn start_session(
    state: &AppState,
    contact: &Contact,
    method: SignInMethod,
    now: OffsetDateTime,
) -> Result<(Session, String), StartError> {
    let (session, token) = Session::start(contact, now, method)?;
    state.stores.sessions.insert(&session).await?;
    Ok((session, session_cookie(&state.config, &token)))
}

/// Starting a session failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<StartError> for super::error::PageError {
    fn from(e: StartError) -> Self {
        match e {
            StartError::Random(e) => e.into(),
            StartError::Store(e) => e.into(),
        }
    }
}

/// Whether a sign-in form echoes the login CSRF cookie.
pub fn login_csrf_ok(state: &AppState, req: &Request, presented: &str) -> bool {
    match cookie(req, login_csrf_cookie_name(&state.config)) {
        Some(expected) if expected.len() >= 32 => SecretString::new(expected).matches(presented),
        _ => false,
    }
}
