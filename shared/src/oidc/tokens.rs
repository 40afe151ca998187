//! The tokens Gatehouse issues: ID token claims, and the lifetimes of everything.

use serde_json::{Map, Value, json};
use time::{Duration, OffsetDateTime};

use crate::contact::Contact;
use crate::registration::ClientId;
use crate::scope::{Scope, Scopes};

pub use crate::grants::CODE_LIFETIME;
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::hours(1);
pub const ID_TOKEN_LIFETIME: Duration = Duration::hours(1);
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::days(30);

/// Everything an ID token says beyond the profile fields.
pub struct IdTokenFacts<'a> {
    pub issuer: &'a str,
    pub client_id: ClientId,
    pub contact: &'a Contact,
    pub auth_time: OffsetDateTime,
    pub nonce: Option<&'a str>,
    pub at_hash: Option<String>,
    pub c_hash: Option<String>,
    pub sid: Option<&'a str>,
    pub scope: &'a Scopes,
    /// How the member signed in (RFC 8176); left out when empty.
    pub amr: Vec<String>,
    pub now: OffsetDateTime,
}

/// The ID token's claims. `extra` (the registration's additional profile fields) can add
/// claims but never replace a reserved one.
pub fn id_token_claims(facts: &IdTokenFacts<'_>, extra: Map<String, Value>) -> Value {
    let p = &facts.contact.profile;
    let mut claims = Map::new();
    for (name, value) in extra {
        if !crate::registration::RESERVED_CLAIMS.contains(&name.as_str()) {
            claims.insert(name, value);
        }
    }
    let mut set = |name: &str, value: Value| {
        claims.insert(name.to_owned(), value);
    };
    set("iss", json!(facts.issuer));
    set("sub", json!(facts.contact.id));
    set("aud", json!(facts.client_id));
    set("azp", json!(facts.client_id));
    set("iat", json!(facts.now.unix_timestamp()));
    set("exp", json!((facts.now + ID_TOKEN_LIFETIME).unix_timestamp()));
    set("auth_time", json!(facts.auth_time.unix_timestamp()));
    if let Some(nonce) = facts.nonce {
        set("nonce", json!(nonce));
    }
    if let Some(h) = &facts.at_hash {
        set("at_hash", json!(h));
    }
    if let Some(h) = &facts.c_hash {
        set("c_hash", json!(h));
    }
    if let Some(sid) = facts.sid {
        set("sid", json!(sid));
    }
    if !facts.amr.is_empty() {
        set("amr", json!(facts.amr));
    }
    // Standard claims follow their scopes (OIDC Core §5.4); the registration's own
    // additional fields are what the administrator chose to put in every ID token.
    for (name, value, scope) in [
        ("given_name", &p.first_name, Scope::Profile),
        ("family_name", &p.last_name, Scope::Profile),
        ("preferred_username", &p.username, Scope::Profile),
        ("email", &p.email, Scope::Email),
    ] {
        if facts.scope.contains(scope) && !value.is_empty() {
            claims.entry(name.to_owned()).or_insert_with(|| json!(value));
        }
    }
    Value::Object(claims)
}
