//! Finding a presented token for revocation (RFC 7009) and introspection (RFC 7662): access
//! and refresh tokens open (they carry their grant sealed, each kind its own way); anything
//! else may be a refresh token issued before they were sealed, looked up by its digest. The
//! kinds cannot be confused, so `token_type_hint` is checked for validity but not needed
//! (RFC 7009 §2.1 lets the server ignore it).

use gatehouse::app::AppState;
use gatehouse::grants::TokenGrant;
use gatehouse::oidc::error::ErrorCode;
use gatehouse::oidc::sealed_token::TokenUse;
use gatehouse::secret::OpaqueToken;
use gatehouse::services::sealed_tokens;
use time::OffsetDateTime;

use crate::client::Client;
use crate::response::TokenError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    /// `token_type_hint`: absent, `access_token` or `refresh_token`; anything else is refused
    /// with `code` (RFC 7009 and RFC 7662 name different codes for it). Its value is not needed
    /// (see the module comment).
    pub fn check_hint(hint: Option<&str>, code: ErrorCode) -> Result<(), TokenError> {
        match hint {
            None | Some("access_token" | "refresh_token") => Ok(()),
            Some(other) => Err(TokenError::new(
                code,
                format!("token_type_hint `{other}` is not supported: use access_token or refresh_token"),
            )),
        }
    }

    /// RFC 7662's `token_type`.
    pub fn token_type(self) -> &'static str {
        match self {
            Self::Access => "Bearer",
            Self::Refresh => "refresh_token",
        }
    }
}

/// A live (unexpired, unspent, not itself revoked) token's grant and kind. Family revocation
/// is not checked here.
pub struct Found {
    pub kind: TokenKind,
    pub token: OpaqueToken,
    pub grant: TokenGrant,
}

pub async fn find(state: &AppState, token: &str, now: OffsetDateTime) -> Result<Option<Found>, TokenError> {
    if let Some(grant) = sealed_tokens::verify_access(state, token, now).await? {
        return Ok(Some(Found { kind: TokenKind::Access, token: OpaqueToken::from_presented(token), grant }));
    }
    let sealed = TokenUse::Refresh.is_form_of(token);
    let token = OpaqueToken::from_presented(token);
    let grant = if sealed {
        match sealed_tokens::open(state, TokenUse::Refresh, token.expose(), now).await? {
            Some(grant)
                if !state.stores.grants.is_refresh_token_spent(&token.digest(), grant.expires_at, now).await? =>
            {
                Some(grant)
            }
            _ => None,
        }
    } else {
        state.stores.grants.get_refresh_token(&token.digest(), now).await?
    };
    Ok(grant.map(|grant| Found { kind: TokenKind::Refresh, token, grant }))
}

/// Whether `client` may act on a token issued with `grant`: the client it was issued to, having
/// proved its secret, or, for tokens issued to a public client, naming itself.
pub fn owns(client: &Client, grant: &TokenGrant) -> bool {
    if grant.client_id != client.id() {
        return false;
    }
    match client {
        Client::App { authenticated, .. } => *authenticated || grant.public_client,
        Client::Admin => grant.public_client,
    }
}

/// The `token` parameter, required.
pub fn required_token(token: Option<&str>) -> Result<&str, TokenError> {
    token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| TokenError::new(ErrorCode::InvalidRequest, "the token parameter is required"))
}
