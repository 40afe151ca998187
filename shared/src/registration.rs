//! App registrations: the client apps Gatehouse signs members in to (the seed's "OIDC Client Apps").

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::{Host, Url};
use uuid::Uuid;

use crate::query::QueryPath;
use crate::secret::{RandomError, SecretString};
use crate::validation::{Invalid, Problems, at_most, first, required_text};

/// Limits on what one registration may hold.
pub const MAX_REDIRECT_URLS: usize = 50;
pub const MAX_ID_TOKEN_FIELDS: usize = 50;
pub const MAX_NO_ACCESS_RULES: usize = 200;
pub const MAX_URL_LENGTH: usize = 2000;

/// The OAuth client ID: a generated UUID that never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(Uuid);

impl ClientId {
    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }

    pub fn parse(value: &str) -> Option<Self> {
        Uuid::parse_str(value).ok().map(Self)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// How roles appear in the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleFormat {
    /// `"roles": ["A", "B"]`
    Array,
    /// `"roles": "A,B"`
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// Always on.
    AuthorizationCode,
    Implicit,
    PasswordConfidential,
    PasswordPublic,
}

/// Which key signs the registration's HS512 ID tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdTokenHmacKey {
    /// The registration's separate JWT signing key: the seed's behaviour, and what stored
    /// registrations without the setting mean.
    #[default]
    JwtSigningKey,
    /// The client secret, as OIDC Core §10.1 says: what standard client libraries verify with.
    ClientSecret,
}

/// A redirect URL exactly as registered: matching is by exact string comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RedirectUrl(String);

impl RedirectUrl {
    pub fn parse(field: &str, value: &str) -> Result<Self, Invalid> {
        let value = value.trim();
        if value.len() > MAX_URL_LENGTH {
            return Err(Invalid::new(field, format!("must be at most {MAX_URL_LENGTH} characters")));
        }
        let url =
            Url::parse(value).map_err(|e| Invalid::new(field, format!("`{value}` is not an absolute URL: {e}")))?;
        if url.fragment().is_some() || value.contains('#') {
            return Err(Invalid::new(field, format!("`{value}` must not contain a fragment (#)")));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Invalid::new(field, format!("`{value}` must not contain a user name or password")));
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => {
                return Err(Invalid::new(
                    field,
                    format!("`{value}` must use https (plain http is allowed only for localhost, 127.0.0.1 or [::1])"),
                ));
            }
            other => {
                return Err(Invalid::new(field, format!("`{value}`: scheme `{other}` is not allowed; use https")));
            }
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// One line of the No Access Mapping: deny users whose `AccessRestrictionCode` is `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoAccessRule {
    pub code: String,
    /// Where to send them; `None` shows the built-in No Access page.
    pub redirect: Option<Url>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoAccessMapping(Vec<NoAccessRule>);

impl NoAccessMapping {
    /// Parses the admin's text, one entry per line: `CODE` or `CODE|https://...`.
    /// Errors name the line (1-based).
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        const FIELD: &str = "no_access_mapping";
        if text.lines().count() > MAX_NO_ACCESS_RULES {
            return Err(Invalid::new(FIELD, format!("at most {MAX_NO_ACCESS_RULES} lines are allowed")));
        }
        let mut rules: Vec<NoAccessRule> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let at = |message: String| Invalid::new(FIELD, format!("line {line_no}: {message}"));
            let mut parts = line.split('|');
            let code = parts.next().unwrap_or_default().trim();
            let target = parts.next().map(str::trim);
            if parts.next().is_some() {
                return Err(at("more than one | (URL-encode a | inside the URL as %7C)".into()));
            }
            if code.is_empty() {
                return Err(at("the code before | is empty".into()));
            }
            if code.chars().any(char::is_whitespace) || code.len() > 100 {
                return Err(at(format!("code `{code}` must be at most 100 characters with no spaces")));
            }
            if rules.iter().any(|r| r.code == code) {
                return Err(at(format!("code `{code}` is listed twice")));
            }
            let redirect = match target {
                None => None,
                Some("") => {
                    return Err(at("nothing after | (leave out the | to show the No Access page)".into()));
                }
                Some(t) => {
                    let url = Url::parse(t).map_err(|e| at(format!("`{t}` is not a fully qualified URL: {e}")))?;
                    if url.scheme() != "https" {
                        return Err(at(format!("`{t}` must begin with https://")));
                    }
                    if !url.username().is_empty() || url.password().is_some() {
                        return Err(at(format!("`{t}` must not contain a user name or password")));
                    }
                    Some(url)
                }
            };
            rules.push(NoAccessRule { code: code.to_owned(), redirect });
        }
        Ok(Self(rules))
    }

    pub fn rules(&self) -> &[NoAccessRule] {
        &self.0
    }

    /// The rule denying this code, if any. Codes match exactly, as the seed says.
    pub fn rule_for(&self, code: &str) -> Option<&NoAccessRule> {
        self.0.iter().find(|r| r.code == code)
    }

    /// The canonical text form, one rule per line.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|r| match &r.redirect {
                Some(url) => format!("{}|{}", r.code, url),
                None => r.code.clone(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Claims an ID token always sets itself; a profile field by one of these names is ignored.
pub const RESERVED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
    "sid",
    "s_hash",
    "cnf",
    "typ",
    "alg",
    "kid",
];

/// A registration's fields an administrator writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationSettings {
    pub name: String,
    pub redirect_urls: Vec<RedirectUrl>,
    /// Where RP-Initiated Logout may send the browser afterwards (exact match, like redirect URLs).
    pub post_logout_redirect_urls: Vec<RedirectUrl>,
    /// Where Back-Channel Logout 1.0 notices are POSTed when a member's session ends.
    pub backchannel_logout_url: Option<RedirectUrl>,
    pub profile_query: QueryPath,
    pub id_token_fields: Vec<String>,
    pub role_query: QueryPath,
    pub role_format: RoleFormat,
    pub no_access_mapping: NoAccessMapping,
    /// Sorted, without duplicates, and always containing `AuthorizationCode`.
    pub grant_types: Vec<GrantType>,
    pub id_token_hmac_key: IdTokenHmacKey,
}

impl RegistrationSettings {
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// The fields (as the API names them) whose values differ between the two settings.
    pub fn differing_fields(&self, other: &Self) -> Vec<&'static str> {
        let (a, b) = (self, other);
        [
            ("name", a.name != b.name),
            ("redirect_urls", a.redirect_urls != b.redirect_urls),
            ("post_logout_redirect_urls", a.post_logout_redirect_urls != b.post_logout_redirect_urls),
            ("backchannel_logout_url", a.backchannel_logout_url != b.backchannel_logout_url),
            ("profile_query", a.profile_query != b.profile_query),
            ("id_token_fields", a.id_token_fields != b.id_token_fields),
            ("role_query", a.role_query != b.role_query),
            ("role_format", a.role_format != b.role_format),
            ("no_access_mapping", a.no_access_mapping != b.no_access_mapping),
            ("grant_types", a.grant_types != b.grant_types),
            ("id_token_hmac_key", a.id_token_hmac_key != b.id_token_hmac_key),
        ]
        .into_iter()
        .filter_map(|(name, differs)| differs.then_some(name))
        .collect()
    }
}

/// Grants that serve apps holding no client secret: ID tokens they get cannot be keyed by it.
pub const PUBLIC_GRANTS: &[GrantType] = &[GrantType::Implicit, GrantType::PasswordPublic];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub client_id: ClientId,
    pub settings: RegistrationSettings,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// How many times the stored registration has been written over: an update is made over
    /// the revision it was read at, so a change made from an older copy (another administrator,
    /// another tab) is refused instead of undoing one made meanwhile. New ones are at 0.
    pub revision: u64,
}

impl Registration {
    /// The registration as the next update stores it.
    pub fn next_revision(&self) -> Self {
        Self { revision: self.revision + 1, ..self.clone() }
    }
}

/// The per-client credentials, kept in the secret store (one secret per registration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSecrets {
    pub client_secret: SecretString,
    pub jwt_signing_key: SecretString,
}

/// Both credentials are 64 characters from the CSPRNG, as in the seed's examples.
pub const CREDENTIAL_LENGTH: usize = 64;

impl ClientSecrets {
    /// The HMAC key of the registration's HS512 ID tokens.
    pub fn id_token_hmac_key(&self, which: IdTokenHmacKey) -> &SecretString {
        match which {
            IdTokenHmacKey::JwtSigningKey => &self.jwt_signing_key,
            IdTokenHmacKey::ClientSecret => &self.client_secret,
        }
    }

    pub fn generate() -> Result<Self, RandomError> {
        Ok(Self {
            client_secret: SecretString::generate(CREDENTIAL_LENGTH)?,
            jwt_signing_key: SecretString::generate(CREDENTIAL_LENGTH)?,
        })
    }
}

/// A registration as written through the admin, before validation.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationDraft {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub redirect_urls: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_urls: Vec<String>,
    /// Absent or empty: no back-channel logout.
    #[serde(default)]
    pub backchannel_logout_url: Option<String>,
    #[serde(default)]
    pub profile_query: String,
    #[serde(default)]
    pub id_token_fields: Vec<String>,
    #[serde(default)]
    pub role_query: String,
    #[serde(default)]
    pub role_format: Option<RoleFormat>,
    #[serde(default)]
    pub no_access_mapping: String,
    #[serde(default)]
    pub grant_types: Vec<GrantType>,
    /// Absent means the seed's separate JWT signing key, so existing API clients keep it.
    #[serde(default)]
    pub id_token_hmac_key: Option<IdTokenHmacKey>,
    /// On an update, the revision the change was made from: refused if the registration was
    /// written since. Without it the change applies to the registration as it is now.
    #[serde(default)]
    pub revision: Option<u64>,
}

impl RegistrationDraft {
    /// Checks the fields that need nothing but themselves; the handler then checks
    /// that the queries exist and are of the right kind.
    pub fn validate(&self) -> Result<RegistrationSettings, Invalid> {
        self.validate_all().map_err(first)
    }

    /// Like [`Self::validate`], with every problem found rather than the first.
    pub fn validate_all(&self) -> Result<RegistrationSettings, Vec<Invalid>> {
        let mut p = Problems::default();
        let name = p.check(required_text("name", &self.name, 200));
        let redirect_urls = p.check(urls("redirect_urls", &self.redirect_urls).and_then(|urls| {
            if urls.is_empty() {
                Err(Invalid::new("redirect_urls", "at least one redirect URL is required"))
            } else {
                Ok(urls)
            }
        }));
        let post_logout_redirect_urls = p.check(urls("post_logout_redirect_urls", &self.post_logout_redirect_urls));
        let backchannel_logout_url = p.check(match self.backchannel_logout_url.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(url) => RedirectUrl::parse("backchannel_logout_url", url).map(Some),
        });
        let profile_query = p.check(query_path("profile_query", &self.profile_query, "profile"));
        let role_query = p.check(query_path("role_query", &self.role_query, "role"));
        let role_format = p.check(self.role_format.ok_or_else(|| {
            Invalid::new("role_format", "choose `array` (separate values) or `csv` (comma-separated string)")
        }));
        let id_token_fields = p.check(self.id_token_field_names());
        let no_access_mapping = p.check(NoAccessMapping::parse(&self.no_access_mapping));
        let mut grant_types = self.grant_types.clone();
        grant_types.push(GrantType::AuthorizationCode);
        grant_types.sort();
        grant_types.dedup();
        let id_token_hmac_key = self.id_token_hmac_key.unwrap_or_default();
        if id_token_hmac_key == IdTokenHmacKey::ClientSecret && grant_types.iter().any(|g| PUBLIC_GRANTS.contains(g)) {
            p.push(Invalid::new(
                "id_token_hmac_key",
                "`client_secret` needs an app that holds the client secret, but Implicit and ROPC (Public) \
                 serve apps without one: choose `jwt_signing_key` or turn those grant types off",
            ));
        }
        match (
            name,
            redirect_urls,
            post_logout_redirect_urls,
            backchannel_logout_url,
            profile_query,
            role_query,
            role_format,
            id_token_fields,
            no_access_mapping,
        ) {
            (
                Some(name),
                Some(redirect_urls),
                Some(post_logout_redirect_urls),
                Some(backchannel_logout_url),
                Some(profile_query),
                Some(role_query),
                Some(role_format),
                Some(id_token_fields),
                Some(no_access_mapping),
            ) if p.is_empty() => Ok(RegistrationSettings {
                name,
                redirect_urls,
                post_logout_redirect_urls,
                backchannel_logout_url,
                profile_query,
                id_token_fields,
                role_query,
                role_format,
                no_access_mapping,
                grant_types,
                id_token_hmac_key,
            }),
            _ => Err(p.into_vec()),
        }
    }

    /// The comma-separated column names, trimmed, without blanks or repeats.
    fn id_token_field_names(&self) -> Result<Vec<String>, Invalid> {
        at_most("id_token_fields", &self.id_token_fields, MAX_ID_TOKEN_FIELDS)?;
        let mut id_token_fields: Vec<String> = Vec::new();
        for field in self.id_token_fields.iter().flat_map(|f| f.split(',')) {
            let field = field.trim();
            if field.is_empty() || id_token_fields.iter().any(|f| f == field) {
                continue;
            }
            if field.len() > 100 || field.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(Invalid::new("id_token_fields", format!("`{field}` is not a column name")));
            }
            id_token_fields.push(field.to_owned());
        }
        Ok(id_token_fields)
    }
}

/// A query's path; an empty one is asked for by its kind.
fn query_path(field: &str, value: &str, kind: &str) -> Result<QueryPath, Invalid> {
    if value.trim().is_empty() {
        return Err(Invalid::new(field, format!("is required: choose a saved {kind} query")));
    }
    QueryPath::parse(field, value)
}

/// One URL per element (blank ones skipped, repeats dropped); an error names its element.
fn urls(field: &str, raw: &[String]) -> Result<Vec<RedirectUrl>, Invalid> {
    at_most(field, raw, MAX_REDIRECT_URLS)?;
    let mut urls: Vec<RedirectUrl> = Vec::new();
    for (i, raw) in raw.iter().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let url = RedirectUrl::parse(&format!("{field}[{i}]"), raw)?;
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    Ok(urls)
}

/// An ID token field the registration names but which will not be added, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoredField {
    pub name: String,
    pub reason: String,
}

/// Which of the registration's ID token fields are ignored against the profile query's columns.
pub fn ignored_id_token_fields(
    settings: &RegistrationSettings,
    profile_columns: Option<&[String]>,
) -> Vec<IgnoredField> {
    settings
        .id_token_fields
        .iter()
        .filter_map(|name| {
            let reason = if RESERVED_CLAIMS.contains(&name.as_str()) {
                format!("`{name}` is a reserved claim")
            } else {
                match profile_columns {
                    None => format!("profile query {} does not exist", settings.profile_query),
                    Some(columns) if !columns.iter().any(|c| c == name) => {
                        format!("`{name}` is not a column of {}", settings.profile_query)
                    }
                    Some(_) => return None,
                }
            };
            Some(IgnoredField { name: name.clone(), reason })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> RegistrationDraft {
        RegistrationDraft {
            name: "Example App Solutions".into(),
            redirect_urls: vec!["https://thirdparty.example.org/sso/callback".into()],
            profile_query: "$/SSO/ProfileData".into(),
            role_query: "$/SSO/RoleData".into(),
            role_format: Some(RoleFormat::Array),
            ..Default::default()
        }
    }

    #[test]
    fn authorization_code_is_always_on() {
        let s = draft().validate().unwrap();
        assert_eq!(s.grant_types, vec![GrantType::AuthorizationCode]);
        let s = RegistrationDraft { grant_types: vec![GrantType::Implicit, GrantType::Implicit], ..draft() }
            .validate()
            .unwrap();
        assert_eq!(s.grant_types, vec![GrantType::AuthorizationCode, GrantType::Implicit]);
    }

    #[test]
    fn redirect_url_rules() {
        for ok in ["https://a.example/cb", "http://127.0.0.1:3000/cb", "http://localhost/cb", "http://[::1]:9/cb"] {
            assert!(RedirectUrl::parse("r", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://a.example/cb",
            "https://a.example/cb#frag",
            "/relative",
            "javascript:alert(1)",
            "https://user:pw@a.example/cb",
            "ftp://a.example/",
        ] {
            assert!(RedirectUrl::parse("r", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn no_access_mapping_parses_the_seed_example() {
        let m = NoAccessMapping::parse("S\nX|https://example.org/\nI|https://example.org/reactivate").unwrap();
        assert_eq!(m.rules().len(), 3);
        assert!(m.rule_for("S").unwrap().redirect.is_none());
        assert_eq!(m.rule_for("I").unwrap().redirect.as_ref().unwrap().as_str(), "https://example.org/reactivate");
        assert!(m.rule_for("A").is_none());
        assert_eq!(NoAccessMapping::parse(&m.to_text()).unwrap(), m);
    }

    #[test]
    fn no_access_mapping_errors_name_the_line() {
        for (text, line) in [
            ("S\nI|http://example.org/", "line 2"),
            ("S\n\nI|https://a.example/|x", "line 3"),
            ("|https://a.example/", "line 1"),
            ("S\nS", "line 2"),
            ("I|", "line 1"),
            ("I|example.org", "line 1"),
        ] {
            let err = NoAccessMapping::parse(text).unwrap_err();
            assert!(err.message.starts_with(line), "{text}: {}", err.message);
        }
    }

    #[test]
    fn ignored_fields_are_reported() {
        let s =
            RegistrationDraft { id_token_fields: vec!["first_name, sub,nope".into()], ..draft() }.validate().unwrap();
        let ignored = ignored_id_token_fields(&s, Some(&["first_name".to_owned()]));
        let names: Vec<_> = ignored.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["sub", "nope"]);
    }

    #[test]
    fn the_hmac_key_defaults_to_the_jwt_signing_key_and_public_grants_cannot_use_the_secret() {
        assert_eq!(draft().validate().unwrap().id_token_hmac_key, IdTokenHmacKey::JwtSigningKey);
        let chosen = RegistrationDraft { id_token_hmac_key: Some(IdTokenHmacKey::ClientSecret), ..draft() };
        assert_eq!(chosen.validate().unwrap().id_token_hmac_key, IdTokenHmacKey::ClientSecret);
        for grant in PUBLIC_GRANTS {
            let public = RegistrationDraft { grant_types: vec![*grant], ..chosen.clone() };
            assert_eq!(public.validate().unwrap_err().field, "id_token_hmac_key", "{grant:?}");
        }
        let s = ClientSecrets::generate().unwrap();
        assert_eq!(s.id_token_hmac_key(IdTokenHmacKey::ClientSecret), &s.client_secret);
        assert_eq!(s.id_token_hmac_key(IdTokenHmacKey::JwtSigningKey), &s.jwt_signing_key);
    }

    #[test]
    fn secrets_are_64_alphanumeric_characters() {
        let s = ClientSecrets::generate().unwrap();
        assert_eq!(s.client_secret.expose().len(), 64);
        assert_ne!(s.client_secret, s.jwt_signing_key);
    }
}
