//! Gatehouse as a relying party to an upstream OpenID provider (Entra ID, Okta, or any
//! standard issuer): its settings, the sign-in redirect and the callback's checks.

pub mod claims;
pub mod client;
pub mod policy;
pub mod settings;
pub mod transaction;
