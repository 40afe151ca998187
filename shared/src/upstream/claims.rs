//! What the callback reads from a verified ID token: the staff claim, and the user's names.

use serde_json::Value;

use super::settings::{Provider, UpstreamSettings};

/// The JWT claim a configured claim type stands for. Microsoft documents claim types as URIs;
/// in v2 ID tokens they arrive under short JWT names.
pub fn jwt_claim_name(claim_type: &str) -> &str {
    match claim_type {
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/role" => "roles",
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups" => "groups",
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/wids" => "wids",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress" => "email",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname" => "given_name",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname" => "family_name",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name" => "name",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn" => "upn",
        other => other,
    }
}

fn contains(value: &Value, wanted: &str) -> bool {
    match value {
        Value::String(s) => s == wanted,
        Value::Array(items) => items.iter().any(|v| v.as_str() == Some(wanted)),
        _ => false,
    }
}

/// Whether the ID token carries the configured staff claim value.
///
/// For Okta the seed has the administrator fill the claim type with a placeholder and create a
/// groups-valued claim of their own name, so the value is also looked for in `groups` and in
/// any other claim holding a list of strings.
pub fn has_staff_claim(claims: &serde_json::Map<String, Value>, settings: &UpstreamSettings) -> bool {
    let wanted = settings.claim_value.as_str();
    if claims.get(jwt_claim_name(&settings.claim_type)).is_some_and(|v| contains(v, wanted)) {
        return true;
    }
    settings.provider == Some(Provider::Okta)
        && claims
            .values()
            .any(|v| matches!(v, Value::Array(items) if items.iter().all(Value::is_string)) && contains(v, wanted))
}

/// The person as the provider describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamPerson {
    pub issuer: String,
    pub subject: String,
    /// The External Claim ID's value when one is configured, else `issuer|subject`.
    pub link_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

fn text<'a>(claims: &'a serde_json::Map<String, Value>, name: &str) -> &'a str {
    claims.get(name).and_then(Value::as_str).unwrap_or_default().trim()
}

impl UpstreamPerson {
    /// `None` when the token lacks what linking needs (the configured External Claim ID).
    pub fn from_claims(claims: &serde_json::Map<String, Value>, settings: &UpstreamSettings) -> Option<Self> {
        let issuer = text(claims, "iss").to_owned();
        let subject = text(claims, "sub").to_owned();
        let link_id = if settings.external_claim_id.is_empty() {
            format!("{issuer}|{subject}")
        } else {
            let value = text(claims, jwt_claim_name(&settings.external_claim_id));
            if value.is_empty() {
                return None;
            }
            value.to_owned()
        };
        // Entra puts the sign-in address in `email` when configured, else in `preferred_username`/`upn`.
        let email = ["email", "preferred_username", "upn"]
            .iter()
            .map(|name| text(claims, name))
            .find(|v| crate::contact::is_plausible_email(v))
            .unwrap_or_default()
            .to_owned();
        Some(Self {
            issuer,
            subject,
            link_id,
            first_name: text(claims, "given_name").to_owned(),
            last_name: text(claims, "family_name").to_owned(),
            email,
        })
    }
}

/// Whether the ID token proves that the person owns `email`: `email_verified: true` (Okta,
/// and OpenID's standard claim), Entra's `xms_edov: true` optional claim, or an Entra `upn` /
/// `preferred_username` equal to it in a domain the administrator listed as verified.
pub fn email_is_verified(claims: &serde_json::Map<String, Value>, settings: &UpstreamSettings, email: &str) -> bool {
    if email.is_empty() {
        return false;
    }
    let same = |name: &str| text(claims, name).eq_ignore_ascii_case(email);
    let flag = |name: &str| claims.get(name).and_then(Value::as_bool) == Some(true);
    if same("email") && (flag("email_verified") || flag("xms_edov")) {
        return true;
    }
    let domain = email.rsplit_once('@').map(|(_, d)| d.to_lowercase()).unwrap_or_default();
    settings.provider == Some(Provider::Entra)
        && settings.verified_domains.contains(&domain)
        && (same("upn") || same("preferred_username"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::settings::Provider;
    use serde_json::json;

    fn settings(provider: Provider, claim_type: &str, value: &str) -> UpstreamSettings {
        UpstreamSettings {
            provider: Some(provider),
            claim_type: claim_type.into(),
            claim_value: value.into(),
            ..Default::default()
        }
    }

    fn map(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn microsoft_role_uri_reads_the_roles_claim() {
        let s = settings(
            Provider::Entra,
            "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
            "iMIS_OIDC_Access",
        );
        assert!(has_staff_claim(&map(json!({"roles": ["x", "iMIS_OIDC_Access"]})), &s));
        assert!(!has_staff_claim(&map(json!({"roles": ["x"]})), &s));
        assert!(
            !has_staff_claim(&map(json!({"groups": ["iMIS_OIDC_Access"]})), &s),
            "Entra reads only the mapped claim"
        );
    }

    #[test]
    fn okta_finds_the_value_in_a_groups_valued_claim() {
        let s = settings(Provider::Okta, "http://schemas.microsoft.com/ws/2008/06/identity/claims/role", "SysAdmin");
        assert!(has_staff_claim(&map(json!({"imis_groups": ["Everyone", "SysAdmin"]})), &s));
        assert!(!has_staff_claim(&map(json!({"imis_groups": ["Everyone"], "name": "SysAdmin"})), &s));
    }

    #[test]
    fn an_email_is_verified_only_by_what_the_token_proves() {
        let okta = settings(Provider::Okta, "roles", "x");
        let email = "ann@org.example";
        assert!(email_is_verified(&map(json!({"email": email, "email_verified": true})), &okta, email));
        assert!(!email_is_verified(&map(json!({"email": email, "email_verified": false})), &okta, email));
        assert!(!email_is_verified(&map(json!({"email": email, "email_verified": "true"})), &okta, email));
        assert!(!email_is_verified(&map(json!({"email": "other@org.example", "email_verified": true})), &okta, email));
        let mut entra = settings(Provider::Entra, "roles", "x");
        assert!(email_is_verified(&map(json!({"email": email, "xms_edov": true})), &entra, email));
        let upn = map(json!({"email": email, "upn": email}));
        assert!(!email_is_verified(&upn, &entra, email), "no domain listed as verified");
        entra.verified_domains = vec!["org.example".into()];
        assert!(email_is_verified(&upn, &entra, email));
        assert!(!email_is_verified(&upn, &entra, "ann@elsewhere.example"));
        assert!(!email_is_verified(&map(json!({"upn": email})), &okta, email), "upn domains are Entra's");
    }

    #[test]
    fn person_is_linked_by_issuer_and_subject_or_the_external_claim() {
        let claims = map(json!({"iss": "https://idp", "sub": "abc", "given_name": "Ann", "family_name": "Lee",
            "preferred_username": "ann@example.org", "employee_id": "E7"}));
        let mut s = settings(Provider::Entra, "roles", "x");
        let p = UpstreamPerson::from_claims(&claims, &s).unwrap();
        assert_eq!((p.link_id.as_str(), p.email.as_str()), ("https://idp|abc", "ann@example.org"));
        s.external_claim_id = "employee_id".into();
        assert_eq!(UpstreamPerson::from_claims(&claims, &s).unwrap().link_id, "E7");
        s.external_claim_id = "missing".into();
        assert!(UpstreamPerson::from_claims(&claims, &s).is_none());
    }
}
