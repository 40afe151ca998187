//! Contacts: the user directory that sign-in, queries and tokens read.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::mfa::{AfterPassword, MfaEnrolment, MfaPolicy};
use crate::password::{CredentialStamp, PasswordHash};
use crate::secret::TokenDigest;
use crate::validation::{Invalid, Problems, at_most, first, optional_text, required_text};

/// Limits on what one contact may hold.
pub const MAX_ROLES: usize = 100;
pub const MAX_ATTRIBUTES: usize = 100;

/// A contact's stable identifier; the `sub` of its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContactId(Uuid);

impl ContactId {
    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }

    pub fn parse(value: &str) -> Option<Self> {
        Uuid::parse_str(value).ok().map(Self)
    }
}

impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub id: ContactId,
    pub profile: ContactProfile,
    pub password_hash: Option<PasswordHash>,
    /// The digest of the one password reset link that works: a newer link replaces it.
    pub password_reset: Option<TokenDigest>,
    /// The second factor, once the member has set one up.
    pub mfa: Option<MfaEnrolment>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// How many times the stored contact has been written over. An update names the revision
    /// it was made from and is refused when the contact was written since (by an administrator
    /// in another tab, a sign-in linking a provider identity, a password reset…), so no
    /// change is lost to one made from an older copy. New contacts are at revision 0.
    pub revision: u64,
}

impl Contact {
    /// The contact as the next update stores it.
    pub fn next_revision(&self) -> Self {
        Self { revision: self.revision + 1, ..self.clone() }
    }

    /// The stamp a session or token must carry to stay valid: it changes with the password.
    pub fn credential_stamp(&self) -> CredentialStamp {
        CredentialStamp::of(self.password_hash.as_ref())
    }

    /// What a correct password leads to under the organisation's MFA setting.
    pub fn after_password(&self, policy: MfaPolicy) -> AfterPassword {
        policy.after_password(self.mfa.is_some(), self.profile.is_staff)
    }
}

/// Everything about a contact an administrator may write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactProfile {
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_staff: bool,
    pub is_sysadmin: bool,
    /// Status code such as A (active), S (suspended), I (inactive), X (expired).
    pub status: String,
    pub member_type: String,
    pub roles: Vec<String>,
    pub attributes: BTreeMap<String, String>,
    pub external_id: Option<String>,
}

impl ContactProfile {
    /// The fields (as the API names them) whose values differ between the two profiles.
    pub fn differing_fields(&self, other: &Self) -> Vec<&'static str> {
        let (a, b) = (self, other);
        [
            ("username", a.username != b.username),
            ("email", a.email != b.email),
            ("first_name", a.first_name != b.first_name),
            ("last_name", a.last_name != b.last_name),
            ("is_staff", a.is_staff != b.is_staff),
            ("is_sysadmin", a.is_sysadmin != b.is_sysadmin),
            ("status", a.status != b.status),
            ("member_type", a.member_type != b.member_type),
            ("roles", a.roles != b.roles),
            ("attributes", a.attributes != b.attributes),
            ("external_id", a.external_id != b.external_id),
        ]
        .into_iter()
        .filter_map(|(name, differs)| differs.then_some(name))
        .collect()
    }
}

impl Contact {
    /// Username lookups ignore case: `Bob` and `bob` are one account.
    pub fn username_key(&self) -> String {
        normalize_key(&self.profile.username)
    }

    pub fn email_key(&self) -> Option<String> {
        (!self.profile.email.is_empty()).then(|| normalize_key(&self.profile.email))
    }
}

pub fn normalize_key(value: &str) -> String {
    value.trim().to_lowercase()
}

/// A contact as written through the admin, before validation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactDraft {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub is_staff: bool,
    #[serde(default)]
    pub is_sysadmin: bool,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub member_type: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub external_id: Option<String>,
    /// Write-only: hashed before it is stored.
    #[serde(default)]
    pub password: Option<crate::secret::SecretString>,
    /// On an update, the revision the change was made from: refused if the contact was
    /// written since. Without it the change applies to the contact as it is now.
    #[serde(default)]
    pub revision: Option<u64>,
}

impl ContactDraft {
    /// The profile, or the first problem (what the API reports).
    pub fn validate(&self) -> Result<ContactProfile, Invalid> {
        self.validate_all().map_err(first)
    }

    /// The profile, or every problem at once (what the admin form shows).
    pub fn validate_all(&self) -> Result<ContactProfile, Vec<Invalid>> {
        let mut p = Problems::default();
        let username = p.check(self.username());
        let email = p.check(self.email());
        let first_name = p.check(optional_text("first_name", &self.first_name, 100));
        let last_name = p.check(optional_text("last_name", &self.last_name, 100));
        let status = p.check(self.status());
        let member_type = p.check(optional_text("member_type", &self.member_type, 50));
        let roles = p.check(self.roles());
        let attributes = p.check(self.attributes());
        let external_id = p.check(self.external_id());
        if let Some(password) = &self.password {
            p.check(crate::password::check_strength(password).map_err(|m| Invalid::new("password", m)));
        }
        match (username, email, first_name, last_name, status, member_type, roles, attributes, external_id) {
            (
                Some(username),
                Some(email),
                Some(first_name),
                Some(last_name),
                Some(status),
                Some(member_type),
                Some(roles),
                Some(attributes),
                Some(external_id),
            ) if p.is_empty() => Ok(ContactProfile {
                username,
                email,
                first_name,
                last_name,
                is_staff: self.is_staff || self.is_sysadmin,
                is_sysadmin: self.is_sysadmin,
                status,
                member_type,
                roles,
                attributes,
                external_id,
            }),
            _ => Err(p.into_vec()),
        }
    }

    fn username(&self) -> Result<String, Invalid> {
        let username = required_text("username", &self.username, 100)?;
        if username.chars().any(char::is_whitespace) {
            return Err(Invalid::new("username", "must not contain spaces"));
        }
        Ok(username)
    }

    fn email(&self) -> Result<String, Invalid> {
        let email = optional_text("email", &self.email, 254)?;
        if !email.is_empty() && !is_plausible_email(&email) {
            return Err(Invalid::new("email", format!("`{email}` is not an email address")));
        }
        Ok(email)
    }

    fn status(&self) -> Result<String, Invalid> {
        let status = match &self.status {
            None => "A".to_owned(),
            Some(s) => required_text("status", s, 20)?,
        };
        if !status.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Invalid::new("status", "must be letters, digits or _ (for example A, S, I, X)"));
        }
        Ok(status)
    }

    fn roles(&self) -> Result<Vec<String>, Invalid> {
        at_most("roles", &self.roles, MAX_ROLES)?;
        let mut roles = Vec::with_capacity(self.roles.len());
        for role in &self.roles {
            let role = required_text("roles", role, 100)?;
            if role.contains(',') {
                return Err(Invalid::new("roles", format!("`{role}` must not contain a comma")));
            }
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        Ok(roles)
    }

    fn attributes(&self) -> Result<BTreeMap<String, String>, Invalid> {
        at_most("attributes", &self.attributes.iter().collect::<Vec<_>>(), MAX_ATTRIBUTES)?;
        let mut attributes = BTreeMap::new();
        for (key, value) in &self.attributes {
            let key = required_text("attributes", key, 100)?;
            if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return Err(Invalid::new(
                    "attributes",
                    format!("attribute name `{key}` may only use letters, digits, _ and -"),
                ));
            }
            attributes.insert(key, optional_text("attributes", value, 2000)?);
        }
        Ok(attributes)
    }

    fn external_id(&self) -> Result<Option<String>, Invalid> {
        match &self.external_id {
            Some(v) if !v.trim().is_empty() => Ok(Some(optional_text("external_id", v, 255)?)),
            _ => Ok(None),
        }
    }
}

/// Syntax only (one `@`, a dotted domain); deliverability is the mail system's job.
pub fn is_plausible_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    // 254: the longest address SMTP carries (RFC 5321's path limit, less the angle brackets).
    value.chars().count() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> ContactDraft {
        ContactDraft { username: "bsmith".into(), email: "bsmith@example.org".into(), ..Default::default() }
    }

    #[test]
    fn valid_draft_gets_defaults() {
        let p = draft().validate().unwrap();
        assert_eq!(p.status, "A");
        assert!(!p.is_staff);
    }

    #[test]
    fn sysadmins_are_staff() {
        let p = ContactDraft { is_sysadmin: true, ..draft() }.validate().unwrap();
        assert!(p.is_staff);
    }

    #[test]
    fn bad_fields_are_named() {
        let cases = [
            (ContactDraft { username: " ".into(), ..draft() }, "username"),
            (ContactDraft { username: "a b".into(), ..draft() }, "username"),
            (ContactDraft { email: "not-an-email".into(), ..draft() }, "email"),
            (ContactDraft { status: Some("A!".into()), ..draft() }, "status"),
            (ContactDraft { roles: vec!["a,b".into()], ..draft() }, "roles"),
            (ContactDraft { password: Some(crate::secret::SecretString::new("short")), ..draft() }, "password"),
        ];
        for (d, field) in cases {
            assert_eq!(d.validate().unwrap_err().field, field);
        }
    }

    #[test]
    fn email_syntax() {
        assert!(is_plausible_email("a@b.org"));
        for bad in ["a", "@b.org", "a@b", "a@b@c.org", "a b@c.org", "a@.org"] {
            assert!(!is_plausible_email(bad), "{bad}");
        }
    }
}
