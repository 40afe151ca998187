//! The login transaction: what a redirect to the provider must find again at the callback.
//! Keyed by the digest of `state`, single use, ten minutes.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::secret::SecretString;

pub const LIFETIME: Duration = Duration::minutes(10);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginTransaction {
    pub nonce: String,
    pub pkce_verifier: Option<SecretString>,
    /// Checked against the ID token's `iss` (mix-up defence): the provider this redirect went to.
    pub issuer: String,
    /// The email the person typed, for the log and the error page.
    pub email: String,
    /// A same-origin path to finish at.
    pub return_to: Option<String>,
    #[serde(with = "time::serde::timestamp")]
    pub expires_at: OffsetDateTime,
}

impl LoginTransaction {
    /// Its kind of single-use ticket in the grant store.
    pub const KIND: &'static str = "login";
}
