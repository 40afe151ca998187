//! `grant_type=password` (ROPC): only where the registration enables it, confidential (client
//! authenticated) or public (client ID only); throttled per account and per source address
//! (never per client: failures for made-up names must not lock the real users of a client).

use gatehouse::app::AppState;
use gatehouse::grants::{FamilyId, Spend, TokenGrant};
use gatehouse::local_signin::{self, SigninError};
use gatehouse::mfa::AfterPassword;
use gatehouse::oidc::error::ErrorCode;
use gatehouse::oidc::scope::{Scope, Scopes};
use gatehouse::oidc::tokens::ACCESS_TOKEN_LIFETIME;
use gatehouse::registration::GrantType;
use gatehouse::services::issue::{self, Authorization, IssueOptions, Profile};
use gatehouse::session::SignInMethod;
use serde_json::Value;
use std::net::IpAddr;

use time::OffsetDateTime;

use crate::client::Client;
use crate::response::{TokenError, admin_tokens, invalid_grant};

fn slow_down() -> TokenError {
    TokenError::new(ErrorCode::TemporarilyUnavailable, "too many failed attempts; try again later")
}

pub async fn exchange(
    state: &AppState,
    client: &Client,
    username: &str,
    password: &str,
    scope: Option<&str>,
    source: Option<IpAddr>,
    now: OffsetDateTime,
) -> Result<Value, TokenError> {
    let scope = Scopes::parse(scope.unwrap_or("openid"));
    let public_client = match client {
        Client::Admin if !scope.contains(Scope::Admin) => {
            return Err(TokenError::new(ErrorCode::InvalidScope, "the gatehouse-admin client only grants scope=admin"));
        }
        Client::Admin => true,
        Client::App { .. } if scope.contains(Scope::Admin) => {
            return Err(TokenError::new(ErrorCode::InvalidScope, "the admin scope is not available to client apps"));
        }
        Client::App { registration, authenticated } => {
            let settings = &registration.settings;
            match (
                authenticated,
                settings.allows(GrantType::PasswordConfidential),
                settings.allows(GrantType::PasswordPublic),
            ) {
                (true, true, _) => false,
                (_, _, true) => true,
                (false, true, false) => {
                    return Err(TokenError::new(
                        ErrorCode::InvalidClient,
                        "ROPC (Confidential) needs client authentication",
                    ));
                }
                _ => {
                    return Err(TokenError::new(
                        ErrorCode::UnauthorizedClient,
                        "the password grant is not enabled for this application",
                    ));
                }
            }
        }
    };

    let named = local_signin::find_contact(state, username);
    let contact = match local_signin::verify_password(state, username, named, password, source, now).await {
        Ok(contact) => contact,
        Err(SigninError::InvalidCredentials | SigninError::Ambiguous) => {
            return Err(invalid_grant("the username or password is incorrect"));
        }
        Err(SigninError::Throttled { .. }) => return Err(slow_down()),
        Err(SigninError::Store(e)) => return Err(e.into()),
    };
    // While OIDC is Enabled, staff (but system administrators) must sign in at the provider.
    let upstream = gatehouse::services::upstream::load(&state.stores).await?;
    if !gatehouse::upstream::policy::password_allowed(&upstream, &contact) {
        return Err(invalid_grant(
            "this account signs in through the organisation's OpenID provider; passwords are not accepted",
        ));
    }
    // Checked after the password, so the answer says nothing about accounts whose password is unknown.
    if contact.after_password(upstream.mfa) != AfterPassword::SignedIn {
        return Err(invalid_grant(
            "this account uses multi-factor authentication, which the password grant cannot ask for: sign in with a browser (the authorization code flow) instead",
        ));
    }
    let family = FamilyId::generate()?;

    let Client::App { registration, .. } = client else {
        if !contact.profile.is_sysadmin {
            return Err(invalid_grant("only system administrators may get admin API tokens"));
        }
        let grant = TokenGrant {
            client_id: client.id(),
            contact_id: contact.id,
            scope: scope.clone(),
            family,
            auth_time: now,
            expires_at: now + ACCESS_TOKEN_LIFETIME,
            public_client: true,
            credential: contact.credential_stamp(),
            sid: None,
            method: SignInMethod::Password,
        };
        // Sealed tokens, spending nothing: nothing to store.
        let minted = issue::mint(state, &grant, true, now).await?;
        tracing::info!(contact = %contact.id, "admin API token issued");
        return Ok(admin_tokens(&minted, &scope));
    };
    let profile = Profile::load(state, registration, &contact).await?;
    if profile.denied_by(registration).is_some() {
        return Err(invalid_grant("this account does not have access to the application"));
    }
    let auth = Authorization {
        registration,
        contact: &contact,
        scope: scope.clone(),
        nonce: None,
        auth_time: now,
        sid: None,
        method: SignInMethod::Password,
    };
    let options = IssueOptions {
        family,
        spends: Spend::Nothing,
        with_refresh: true,
        public_client,
        with_id_token: scope.contains(Scope::Openid),
        code: None,
        profile: Some(&profile),
    };
    Ok(issue::issue_tokens(state, &auth, options, now).await?.to_json())
}
