//! The login transaction: what a redirect to the provider must find again at the callback.
//! Keyed by the digest of `state`, single use, ten minutes: a [`crate::ticket::Ticket`].

use time::Duration;

pub const LIFETIME: Duration = Duration::minutes(10);

pub use crate::ticket::LoginTransaction;

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
