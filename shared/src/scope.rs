//! Scopes: what a client asks for and a member consents to.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Openid,
    Profile,
    Email,
    Roles,
    OfflineAccess,
    /// Only for the built-in `gatehouse-admin` client.
    Admin,
}

impl Scope {
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "openid" => Self::Openid,
            "profile" => Self::Profile,
            "email" => Self::Email,
            "roles" => Self::Roles,
            "offline_access" => Self::OfflineAccess,
            "admin" => Self::Admin,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openid => "openid",
            Self::Profile => "profile",
            Self::Email => "email",
            Self::Roles => "roles",
            Self::OfflineAccess => "offline_access",
            Self::Admin => "admin",
        }
    }

    /// A few words for lists (the member's account page).
    pub fn label(self) -> &'static str {
        match self {
            Self::Openid => "your identity",
            Self::Profile => "your profile",
            Self::Email => "your email address",
            Self::Roles => "your roles",
            Self::OfflineAccess => "access while you are away",
            Self::Admin => "administration",
        }
    }

    /// What the consent page says this scope shares.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Openid => "Your identity (a stable identifier for your account)",
            Self::Profile => "Your profile: name, membership details and other profile fields",
            Self::Email => "Your email address",
            Self::Roles => "Your roles",
            Self::OfflineAccess => "Access while you are not signed in (stay connected)",
            Self::Admin => "Administration of Gatehouse",
        }
    }
}

/// The scopes offered to client apps, in discovery.
pub const SUPPORTED: &[Scope] = &[Scope::Openid, Scope::Profile, Scope::Email, Scope::Roles, Scope::OfflineAccess];

/// A set of known scopes. Unknown scope values are dropped, as RFC 6749 §3.3 allows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    pub fn parse(value: &str) -> Self {
        Self(value.split_whitespace().filter_map(Scope::parse).collect())
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_subset(&self, other: &Scopes) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    pub fn without(&self, scope: Scope) -> Self {
        Self(self.0.iter().copied().filter(|s| *s != scope).collect())
    }

    pub fn union(&self, other: &Scopes) -> Self {
        Self(self.0.union(&other.0).copied().collect())
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_scopes_are_dropped_and_order_is_canonical() {
        let s = Scopes::parse("profile  openid weird email");
        assert_eq!(s.to_string(), "openid profile email");
        assert!(Scopes::parse("openid").is_subset(&s));
        assert!(!s.is_subset(&Scopes::parse("openid")));
    }
}
