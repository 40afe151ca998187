//! The login transaction: what a redirect to the provider must find again at the callback.
//! Keyed by the digest of `state`, single use, ten minutes: a [`crate::ticket::Ticket`].

use time::Duration;

pub const LIFETIME: Duration = Duration::minutes(10);

use crate::secret::TokenDigest;
pub use crate::ticket::LoginTransaction;

/// The cookie that ties a callback to the browser that was sent to the provider, one per
/// pending sign-in (named after its `state`), so two tabs signing in at once both finish.
/// Over https it is `SameSite=None` so the provider's cross-site `form_post` carries it.
pub fn binding_cookie_name(config: &crate::config::Config, state: &TokenDigest) -> String {
    let prefix = if config.is_https() { "__Host-gatehouse_login" } else { "gatehouse_login" };
    // The digest is base64url, whose alphabet is allowed in cookie names.
    let tag: String = state.as_str().chars().take(16).collect();
    format!("{prefix}_{tag}")
}

fn same_site(config: &crate::config::Config) -> &'static str {
    if config.is_https() { "SameSite=None; Secure" } else { "SameSite=Lax" }
}

pub fn binding_cookie(config: &crate::config::Config, state: &TokenDigest, value: &str) -> String {
    format!(
        "{}={value}; Path=/; HttpOnly; {}; Max-Age={}",
        binding_cookie_name(config, state),
        same_site(config),
        LIFETIME.whole_seconds()
    )
}

pub fn clear_binding_cookie(config: &crate::config::Config, state: &TokenDigest) -> String {
    format!("{}=; Path=/; HttpOnly; {}; Max-Age=0", binding_cookie_name(config, state), same_site(config))
}
