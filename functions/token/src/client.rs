//! Client authentication: `client_secret_basic`, `client_secret_post`, or none (public clients),
//! secrets compared in constant time.

use gatehouse::app::AppState;
use gatehouse::grants::GrantClient;
use gatehouse::oidc::ADMIN_CLIENT_ID;
use gatehouse::oidc::error::ErrorCode;
use gatehouse::registration::{ClientId, Registration};
use gatehouse::web::Request;
use gatehouse::web::request::{Params, basic_credentials};

use crate::response::TokenError;

pub enum Client {
    /// A registered app. `authenticated` says whether it proved its secret.
    App { registration: Box<Registration>, authenticated: bool },
    /// The built-in public client for admin API tokens.
    Admin,
}

impl Client {
    /// The registration, only when the client proved its secret.
    pub fn confidential(&self) -> Result<&Registration, TokenError> {
        match self {
            Self::App { registration, authenticated: true } => Ok(registration),
            Self::App { .. } => Err(TokenError::new(
                ErrorCode::InvalidClient,
                "this grant needs client authentication (client_secret_basic or client_secret_post)",
            )),
            Self::Admin => Err(TokenError::new(
                ErrorCode::UnauthorizedClient,
                "the gatehouse-admin client may only use the password grant",
            )),
        }
    }

    pub fn id(&self) -> GrantClient {
        match self {
            Self::App { registration, .. } => GrantClient::App(registration.client_id),
            Self::Admin => GrantClient::Admin,
        }
    }
}

pub async fn authenticate(state: &AppState, req: &Request, params: &Params) -> Result<Client, TokenError> {
    let basic = basic_credentials(req);
    let (client_id, secret, via_basic) = match (basic, params.get("client_secret")) {
        (Some(_), Some(_)) => {
            return Err(TokenError::new(ErrorCode::InvalidRequest, "use one client authentication method, not two"));
        }
        (Some((id, secret)), None) => {
            if params.get("client_id").is_some_and(|posted| posted != id) {
                return Err(TokenError::new(
                    ErrorCode::InvalidRequest,
                    "client_id differs from the authenticated client",
                ));
            }
            (id, Some(secret), true)
        }
        (None, secret) => match params.get("client_id") {
            Some(id) => (id.to_owned(), secret.map(str::to_owned), false),
            None => return Err(TokenError::new(ErrorCode::InvalidClient, "client authentication is required")),
        },
    };
    let fail = || {
        if via_basic {
            TokenError::BasicAuthFailed
        } else {
            TokenError::new(ErrorCode::InvalidClient, "client authentication failed")
        }
    };
    if client_id == ADMIN_CLIENT_ID {
        return if secret.is_some() { Err(fail()) } else { Ok(Client::Admin) };
    }
    let Some(id) = ClientId::parse(&client_id) else { return Err(fail()) };
    let Some(registration) = state.stores.registrations.get(id).await? else { return Err(fail()) };
    let authenticated = match secret {
        None => false,
        Some(presented) => {
            let stored = state.stores.client_secrets(&registration).await?.ok_or_else(fail)?;
            if !stored.client_secret.matches(&presented) {
                tracing::info!(client_id = %id, "wrong client secret");
                return Err(fail());
            }
            true
        }
    };
    Ok(Client::App { registration: Box::new(registration), authenticated })
}
