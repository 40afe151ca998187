//! Gatehouse as a relying party to an upstream OpenID provider (Entra ID, Okta, or any
//! standard issuer): its settings, the sign-in redirect, the callback's checks, and the log.

pub mod claims;
pub mod client;
pub mod log;
pub mod policy;
pub mod settings;
pub mod transaction;
