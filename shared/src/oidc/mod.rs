//! The OpenID Provider's protocol pieces: requests parsed at the edge into typed values,
//! PKCE, scopes, signing keys, and the tokens Gatehouse issues.

pub mod error;
pub mod issue;
pub mod pkce;
pub mod request;
pub mod scope;
pub mod signer;
pub mod signing;
pub mod tokens;

/// The built-in first-party public client that may get admin API tokens by password.
pub const ADMIN_CLIENT_ID: &str = "gatehouse-admin";
