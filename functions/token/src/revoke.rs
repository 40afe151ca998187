//! Token revocation (RFC 7009): a refresh token ends its whole family (every access and
//! refresh token of that authorization); an access token ends itself. Unknown, expired and
//! spent tokens answer 200 like revoked ones; another client's token is refused unchanged.

use gatehouse::app::AppState;
use gatehouse::oidc::error::ErrorCode;
use gatehouse::oidc::tokens::REFRESH_TOKEN_LIFETIME;
use gatehouse::web::request::Params;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::client::Client;
use crate::lookup::{self, TokenKind};
use crate::response::TokenError;

pub async fn revoke(
    state: &AppState,
    client: &Client,
    params: &Params,
    now: OffsetDateTime,
) -> Result<Value, TokenError> {
    let token = lookup::required_token(params.get("token"))?;
    TokenKind::check_hint(params.get("token_type_hint"), ErrorCode::UnsupportedTokenType)?;
    let Some(found) = lookup::find(state, token, now).await? else {
        tracing::info!(client_id = %client.id(), "revocation of an unknown or inactive token");
        return Ok(json!({}));
    };
    if !lookup::owns(client, &found.grant) {
        tracing::warn!(client_id = %client.id(), "revocation refused: the token belongs to another client");
        return Err(TokenError::new(ErrorCode::UnauthorizedClient, "the token was issued to another client"));
    }
    match found.kind {
        TokenKind::Refresh => {
            state.stores.grants.revoke_family(&found.grant.family, now + REFRESH_TOKEN_LIFETIME).await?;
        }
        TokenKind::Access => {
            state.stores.grants.revoke_access_token(&found.token.digest(), found.grant.expires_at).await?;
        }
    }
    tracing::info!(client_id = %client.id(), kind = ?found.kind, contact = %found.grant.contact_id, "token revoked");
    Ok(json!({}))
}
