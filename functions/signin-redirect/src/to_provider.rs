//! Sending a person to the upstream provider: state, nonce, PKCE, login hint, and a login
//! transaction to check what comes back.

use gatehouse::app::AppState;
use gatehouse::event_log::Level;
use gatehouse::secret::{OpaqueToken, SecretString, random_alphanumeric};
use gatehouse::services::log::record;
use gatehouse::ticket::Ticket;
use gatehouse::upstream::client;
use gatehouse::upstream::settings::UpstreamSettings;
use gatehouse::upstream::transaction::{LIFETIME, LoginTransaction, binding_cookie};
use gatehouse::web::error::PageError;
use gatehouse::web::response::{see_other, with_cookie};
use gatehouse::web::{Response, StatusCode};
use serde_json::json;
use time::OffsetDateTime;

pub async fn start(
    state: &AppState,
    settings: &UpstreamSettings,
    email: &str,
    return_to: Option<&str>,
    now: OffsetDateTime,
) -> Result<Response, PageError> {
    let found = match client::discover(settings, false).await {
        Ok(found) => found,
        Err(e) => {
            record(
                &state.stores,
                state.now(),
                Level::Error,
                "Cannot reach the OpenID provider",
                json!({ "error": e.to_string(), "email": email }),
            )
            .await;
            return Err(PageError::new(
                StatusCode::BAD_GATEWAY,
                "Sign-in is unavailable",
                format!("{} cannot be reached right now. Please try again in a few minutes.", provider_name(settings)),
            ));
        }
    };
    let state_token = OpaqueToken::generate()?;
    let browser = OpaqueToken::generate()?;
    let nonce = random_alphanumeric(32)?;
    let hint = if settings.login_hint && !email.is_empty() { Some(email) } else { None };
    let outbound = client::authorization_url(&found, settings, state_token.expose(), &nonce, hint).map_err(|e| {
        tracing::error!(error = %e, "cannot build the provider's authorization URL");
        PageError::internal()
    })?;
    let login = LoginTransaction {
        nonce,
        pkce_verifier: outbound.pkce_verifier.map(SecretString::new),
        issuer: client::issuer(&found).as_str().to_owned(),
        email: email.to_owned(),
        return_to: return_to.map(str::to_owned),
        browser: browser.digest(),
        expires_at: now + LIFETIME,
    };
    let expires_at = login.expires_at;
    state.stores.grants.put_ticket(&state_token.digest(), &Ticket::Login(login), expires_at).await?;
    record(
        &state.stores,
        state.now(),
        Level::Info,
        "Redirecting to the OpenID provider",
        json!({
            "email": email,
            "authorization_endpoint": found.metadata.authorization_endpoint().as_str(),
            "flow": if settings.uses_code_flow() { "code + PKCE" } else { "id_token (form_post)" },
            "login_hint": hint.is_some(),
        }),
    )
    .await;
    Ok(with_cookie(see_other(&outbound.url), &binding_cookie(&state.config, &state_token.digest(), browser.expose())))
}

pub fn provider_name(settings: &UpstreamSettings) -> String {
    if settings.name.is_empty() { "Your organisation's sign-in service".to_owned() } else { settings.name.clone() }
}
