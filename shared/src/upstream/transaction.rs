//! The login transaction: what a redirect to the provider must find again at the callback.
//! Keyed by the digest of `state`, single use, ten minutes.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::secret::SecretString;

pub const LIFETIME: Duration = Duration::minutes(10);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginTransaction {
    pub nonce: String,
    pub pkce_verifier: Option<SecretString>,
    /// Checked against the ID token's `iss` (mix-up defence): the provider this redirect went to.
    pub issuer: String,
    /// The email the person typed, for the log and the error page.
    pub email: String,
    /// A same-origin path to finish at.
    pub return_to: Option<String>,
    /// Digest of the value of the browser's login cookie: the callback must come back in the
    /// browser that started the sign-in (login CSRF, RFC 6749 §10.12).
    pub browser: crate::secret::TokenDigest,
    #[serde(with = "time::serde::timestamp")]
    pub expires_at: OffsetDateTime,
}

impl LoginTransaction {
    /// Its kind of single-use ticket in the grant store.
    pub const KIND: &'static str = "login";
}

/// The cookie that ties a callback to the browser that was sent to the provider. Over https it
/// is `SameSite=None` so the provider's cross-site `form_post` carries it.
pub fn binding_cookie_name(config: &crate::config::Config) -> &'static str {
    if config.is_https() { "__Host-gatehouse_login" } else { "gatehouse_login" }
}

pub fn binding_cookie(config: &crate::config::Config, value: &str) -> String {
    let same_site = if config.is_https() { "SameSite=None; Secure" } else { "SameSite=Lax" };
    format!(
        "{}={value}; Path=/; HttpOnly; {same_site}; Max-Age={}",
        binding_cookie_name(config),
        LIFETIME.whole_seconds()
    )
}

pub fn clear_binding_cookie(config: &crate::config::Config) -> String {
    let same_site = if config.is_https() { "SameSite=None; Secure" } else { "SameSite=Lax" };
    format!("{}=; Path=/; HttpOnly; {same_site}; Max-Age=0", binding_cookie_name(config))
}
