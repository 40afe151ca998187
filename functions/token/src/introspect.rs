//! Token introspection (RFC 7662), for confidential clients: only the client a token was
//! issued to learns anything about it; every other answer is `{"active": false}`.

use gatehouse::app::AppState;
use gatehouse::oidc::error::ErrorCode;
use gatehouse::oidc::tokens::{ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME};
use gatehouse::web::request::Params;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::client::Client;
use crate::lookup::{self, TokenKind};
use crate::response::TokenError;

pub async fn introspect(
    state: &AppState,
    client: &Client,
    params: &Params,
    now: OffsetDateTime,
) -> Result<Value, TokenError> {
    let registration = client.confidential()?;
    let token = lookup::required_token(params.get("token"))?;
    TokenKind::check_hint(params.get("token_type_hint"), ErrorCode::InvalidRequest)?;
    let inactive = json!({ "active": false });
    let Some(found) = lookup::find(state, token, now).await? else { return Ok(inactive) };
    let grant = &found.grant;
    if !lookup::owns(client, grant) {
        tracing::info!(client_id = %registration.client_id, "introspection of another client's token");
        return Ok(inactive);
    }
    if state.stores.grants.is_family_revoked(&grant.family, now).await? {
        return Ok(inactive);
    }
    let Some(contact) = state.stores.contacts.get(grant.contact_id).await? else { return Ok(inactive) };
    if contact.credential_stamp() != grant.credential {
        return Ok(inactive);
    }
    let lifetime = match found.kind {
        TokenKind::Access => ACCESS_TOKEN_LIFETIME,
        TokenKind::Refresh => REFRESH_TOKEN_LIFETIME,
    };
    Ok(json!({
        "active": true,
        "scope": grant.scope.to_string(),
        "client_id": registration.client_id,
        "sub": contact.id,
        "username": contact.profile.username,
        "token_type": found.kind.token_type(),
        "exp": grant.expires_at.unix_timestamp(),
        "iat": (grant.expires_at - lifetime).unix_timestamp(),
        "iss": state.config.issuer_str(),
        "aud": registration.client_id,
    }))
}
