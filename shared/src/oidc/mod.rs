//! The OpenID Provider's protocol pieces: requests parsed at the edge into typed values,
//! PKCE, scopes, signing keys, and the tokens Gatehouse issues.

pub mod error;
pub mod jwt_crypto;
pub mod pkce;
pub mod request;
pub mod rsa_key;
pub mod sealed_token;
pub mod signer;
pub mod signing;
pub mod tokens;

/// Scopes are a domain type (grants and consents keep them); re-exported for the protocol code.
pub use crate::scope;

pub use crate::grants::ADMIN_CLIENT_ID;
