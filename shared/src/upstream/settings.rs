//! The OpenID Connect settings page: mode, provider, staff claim, and the rest of the seed's fields.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::mfa::MfaPolicy;
use crate::secret::SecretString;
use crate::validation::{Invalid, Problems, first, optional_text, required_text};

/// The secret holding these settings (with the provider's client secret inside).
pub const SECRET_NAME: &str = "upstream";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Only local usernames and passwords.
    #[default]
    Disabled,
    /// Staff may use either way.
    Test,
    /// Staff must use the provider; system administrators may still use their password.
    Enabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Entra,
    Okta,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequireFor {
    #[default]
    Staff,
    StaffAndPublic,
}

/// The stored settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamSettings {
    pub mode: Mode,
    pub provider: Option<Provider>,
    pub name: String,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    pub well_known_url: String,
    pub tenant: String,
    /// The provider's issuer.
    pub authority_url: String,
    pub external_claim_id: String,
    /// Gatehouse's `/callback` as registered at the provider.
    pub redirect_login_url: String,
    pub login_hint: bool,
    pub require_for: RequireFor,
    pub claim_type: String,
    pub claim_value: String,
    pub forgot_email_body: String,
    /// Multi-factor authentication. OIDC and MFA exclude each other: turning one on turns the
    /// other off. (Settings saved before the setting had levels said `mfa_enabled`: see
    /// [`from_stored_json`].)
    #[serde(default)]
    pub mfa: MfaPolicy,
    /// Off by default. Links an unlinked provider identity to the one contact with the same
    /// email when the ID token proves that email, without the password step (never a system
    /// administrator). Safe only when the directory is the organisation's own: a directory
    /// that lets users set unverified emails could take over accounts (the nOAuth class).
    #[serde(default)]
    pub link_verified_email: bool,
    /// Domains the organisation has verified in Entra ID: a `upn` or `preferred_username` in
    /// one of them counts as a proven email.
    #[serde(default)]
    pub verified_domains: Vec<String>,
}

impl UpstreamSettings {
    pub fn is_on(&self) -> bool {
        self.mode != Mode::Disabled
    }

    /// Where the provider's discovery document is.
    pub fn discovery_url(&self) -> String {
        match self.provider {
            Some(Provider::Okta) if !self.well_known_url.is_empty() => self.well_known_url.clone(),
            _ => format!("{}/.well-known/openid-configuration", self.authority_url.trim_end_matches('/')),
        }
    }

    /// Whether the code flow is used (with a client secret); without one, the ID token
    /// comes back directly by form post, as the seed's Entra set-up (ID tokens enabled) allows.
    pub fn uses_code_flow(&self) -> bool {
        self.client_secret.is_some()
    }
}

/// The settings as an administrator writes them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsDraft {
    #[serde(default)]
    pub mode: Mode,
    pub provider: Option<Provider>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub client_id: String,
    /// Absent keeps the stored secret; an empty string removes it.
    pub client_secret: Option<SecretString>,
    #[serde(default)]
    pub well_known_url: String,
    #[serde(default)]
    pub tenant: String,
    #[serde(default)]
    pub authority_url: String,
    #[serde(default)]
    pub external_claim_id: String,
    #[serde(default)]
    pub redirect_login_url: String,
    #[serde(default)]
    pub login_hint: bool,
    #[serde(default)]
    pub require_for: RequireFor,
    #[serde(default)]
    pub claim_type: String,
    #[serde(default)]
    pub claim_value: String,
    #[serde(default)]
    pub forgot_email_body: String,
    #[serde(default)]
    pub mfa: MfaPolicy,
    #[serde(default)]
    pub link_verified_email: bool,
    #[serde(default)]
    pub verified_domains: Vec<String>,
    /// Saving Enabled needs this: password sign-in stops for those users.
    #[serde(default)]
    pub confirm: bool,
    /// Turning MFA on while OIDC is on (which turns OIDC off), or OIDC on while MFA is on
    /// (which turns MFA off), needs this.
    #[serde(default)]
    pub confirm_switch: bool,
}

/// The seed's rule, as the confirmation says it when MFA is turned on while OIDC is on.
pub const MFA_TURNS_OIDC_OFF: &str = "OIDC cannot be used with multi-factor authentication (MFA). If MFA is enabled, then OIDC is disabled: users sign in with their Gatehouse username and password and a second factor.";
/// The seed's rule, as the confirmation says it when OIDC is turned on while MFA is on.
pub const OIDC_TURNS_MFA_OFF: &str = "OIDC cannot be used with multi-factor authentication (MFA). If OIDC is enabled or in test mode, then MFA is automatically disabled: members are no longer asked for their second factor.";

/// What saving would do about OIDC and MFA excluding each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusion {
    /// At most one of them is on.
    None,
    /// MFA was just turned on while OIDC was on: OIDC goes off.
    MfaTurnsOidcOff,
    /// OIDC was just turned on while MFA was on: MFA goes off.
    OidcTurnsMfaOff,
    /// Both turned on at once: nothing says which one is meant.
    Both,
}

/// Which of OIDC and MFA gives way when a save would have both on: the one that was on before.
pub fn exclusion(previous: &UpstreamSettings, mode: Mode, mfa: MfaPolicy) -> Exclusion {
    if mode == Mode::Disabled || !mfa.is_on() {
        return Exclusion::None;
    }
    match (previous.is_on(), previous.mfa.is_on()) {
        (true, false) => Exclusion::MfaTurnsOidcOff,
        (false, true) => Exclusion::OidcTurnsMfaOff,
        _ => Exclusion::Both,
    }
}

/// Reads the stored settings. Those saved when MFA was a yes/no (`mfa_enabled`) keep it: yes
/// becomes [`MfaPolicy::Optional`] (members may enrol; nobody is forced to mid-way), no `Off`.
pub fn from_stored_json(json: &str) -> Result<UpstreamSettings, serde_json::Error> {
    let mut value: serde_json::Value = serde_json::from_str(json)?;
    if let Some(fields) = value.as_object_mut()
        && let Some(old) = fields.remove("mfa_enabled")
        && !fields.contains_key("mfa")
    {
        let policy = if old.as_bool() == Some(true) { MfaPolicy::Optional } else { MfaPolicy::Off };
        fields.insert("mfa".to_owned(), serde_json::to_value(policy)?);
    }
    serde_json::from_value(value)
}

fn absolute_url(field: &str, value: &str, allow_loopback_http: bool) -> Result<Url, Invalid> {
    let url = Url::parse(value).map_err(|e| Invalid::new(field, format!("`{value}` is not an absolute URL: {e}")))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_loopback_http && crate::registration::is_loopback(&url) => Ok(url),
        _ => Err(Invalid::new(field, format!("`{value}` must use https"))),
    }
}

/// Lowercased, without blanks or a leading `@`; each must look like a domain name.
fn verified_domains(domains: &[String]) -> Result<Vec<String>, Invalid> {
    let mut out: Vec<String> = Vec::new();
    for domain in domains {
        let domain = domain.trim().trim_start_matches('@').to_lowercase();
        if domain.is_empty() {
            continue;
        }
        let labels_ok = domain
            .split('.')
            .all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !labels_ok || !domain.contains('.') || domain.len() > 253 {
            return Err(Invalid::new("verified_domains", format!("`{domain}` is not a domain name, e.g. org.example")));
        }
        if !out.contains(&domain) {
            out.push(domain);
        }
    }
    if out.len() > 50 {
        return Err(Invalid::new("verified_domains", "at most 50 domains"));
    }
    Ok(out)
}

impl SettingsDraft {
    /// Checks the draft against the rules of the settings page; `previous` supplies the kept secret.
    pub fn validate(&self, previous: &UpstreamSettings, issuer: &str) -> Result<UpstreamSettings, Invalid> {
        self.validate_all(previous, issuer).map_err(first)
    }

    /// Like [`Self::validate`], with every problem found rather than the first.
    pub fn validate_all(&self, previous: &UpstreamSettings, issuer: &str) -> Result<UpstreamSettings, Vec<Invalid>> {
        let mut p = Problems::default();
        let text = |p: &mut Problems, field: &str, value: &str, max: usize| {
            p.check(optional_text(field, value, max)).unwrap_or_default()
        };
        let mut s = UpstreamSettings {
            mode: self.mode,
            provider: self.provider,
            name: text(&mut p, "name", &self.name, 200),
            client_id: text(&mut p, "client_id", &self.client_id, 200),
            client_secret: match &self.client_secret {
                None => previous.client_secret.clone(),
                Some(s) if s.expose().is_empty() => None,
                Some(s) => Some(s.clone()),
            },
            well_known_url: text(&mut p, "well_known_url", &self.well_known_url, 500),
            tenant: text(&mut p, "tenant", &self.tenant, 200),
            authority_url: text(&mut p, "authority_url", &self.authority_url, 500),
            external_claim_id: text(&mut p, "external_claim_id", &self.external_claim_id, 200),
            redirect_login_url: text(&mut p, "redirect_login_url", &self.redirect_login_url, 500),
            login_hint: self.login_hint,
            require_for: self.require_for,
            claim_type: text(&mut p, "claim_type", &self.claim_type, 300),
            claim_value: text(&mut p, "claim_value", &self.claim_value, 200),
            forgot_email_body: text(&mut p, "forgot_email_body", &self.forgot_email_body, 10_000),
            mfa: self.mfa,
            link_verified_email: self.link_verified_email,
            verified_domains: p.check(verified_domains(&self.verified_domains)).unwrap_or_default(),
        };
        if s.redirect_login_url.is_empty() {
            s.redirect_login_url = format!("{issuer}/callback");
        }
        match exclusion(previous, s.mode, s.mfa) {
            Exclusion::None => {}
            Exclusion::Both => p.push(Invalid::new(
                "mfa",
                "OIDC cannot be used with multi-factor authentication (MFA): turn on one of them, not both",
            )),
            Exclusion::MfaTurnsOidcOff if !self.confirm_switch => {
                p.push(Invalid::new("confirm_switch", MFA_TURNS_OIDC_OFF));
            }
            Exclusion::OidcTurnsMfaOff if !self.confirm_switch => {
                p.push(Invalid::new("confirm_switch", OIDC_TURNS_MFA_OFF));
            }
            Exclusion::MfaTurnsOidcOff => s.mode = Mode::Disabled,
            Exclusion::OidcTurnsMfaOff => s.mfa = MfaPolicy::Off,
        }
        if s.is_on() {
            self.check_on(&mut s, issuer, &mut p);
        }
        if p.is_empty() { Ok(s) } else { Err(p.into_vec()) }
    }

    /// The rules for settings that switch OIDC on; the Entra authority is filled in from the tenant.
    fn check_on(&self, s: &mut UpstreamSettings, issuer: &str, p: &mut Problems) {
        if s.mode == Mode::Enabled && !self.confirm {
            p.push(Invalid::new(
                "confirm",
                "confirm that signing in with a username and password will no longer work for the chosen users, except system administrators",
            ));
        }
        if s.provider.is_none() {
            p.push(Invalid::new("provider", "choose Entra ID or Okta"));
        }
        p.check(required_text("client_id", &s.client_id, 200));
        match s.provider {
            None => {}
            Some(Provider::Entra) => {
                let tenant = p.check(required_text("tenant", &s.tenant, 200).and_then(|tenant| {
                    if tenant.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.')) {
                        Ok(tenant)
                    } else {
                        Err(Invalid::new(
                            "tenant",
                            "the tenant is the Directory (tenant) ID or domain, e.g. ae2d240f-…",
                        ))
                    }
                }));
                if s.authority_url.is_empty()
                    && let Some(tenant) = tenant
                {
                    s.authority_url = format!("https://login.microsoftonline.com/{tenant}/v2.0");
                }
                if !s.authority_url.is_empty() {
                    p.check(absolute_url("authority_url", &s.authority_url, true));
                }
            }
            Some(Provider::Okta) => {
                p.check(
                    required_text("well_known_url", &s.well_known_url, 500)
                        .and_then(|url| absolute_url("well_known_url", &url, true)),
                );
                p.check(
                    required_text("authority_url", &s.authority_url, 500)
                        .and_then(|url| absolute_url("authority_url", &url, true)),
                );
                if s.client_secret.is_none() {
                    p.push(Invalid::new(
                        "client_secret",
                        "Okta needs the Client Secret from the application's General tab",
                    ));
                }
            }
        }
        if let Some(callback) = p.check(absolute_url("redirect_login_url", &s.redirect_login_url, true))
            && callback.path() != "/callback"
        {
            p.push(Invalid::new("redirect_login_url", format!("must be Gatehouse's callback, e.g. {issuer}/callback")));
        }
        p.check(required_text("claim_type", &s.claim_type, 300));
        p.check(required_text("claim_value", &s.claim_value, 200));
        if s.claim_type.starts_with("https://") {
            p.push(Invalid::new(
                "claim_type",
                "a claim type URI must begin with http, not https (copy it exactly from Microsoft's list)",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entra() -> SettingsDraft {
        SettingsDraft {
            mode: Mode::Test,
            provider: Some(Provider::Entra),
            name: "ASI OpenID Connect".into(),
            client_id: "client".into(),
            tenant: "ae2d240f-abc1".into(),
            claim_type: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role".into(),
            claim_value: "iMIS_OIDC_Access".into(),
            ..Default::default()
        }
    }

    #[test]
    fn entra_authority_is_prefilled_from_the_tenant() {
        let s = entra().validate(&UpstreamSettings::default(), "https://sso.example.org").unwrap();
        assert_eq!(s.authority_url, "https://login.microsoftonline.com/ae2d240f-abc1/v2.0");
        assert_eq!(s.redirect_login_url, "https://sso.example.org/callback");
        assert_eq!(
            s.discovery_url(),
            "https://login.microsoftonline.com/ae2d240f-abc1/v2.0/.well-known/openid-configuration"
        );
    }

    #[test]
    fn enabling_needs_confirmation_and_excludes_mfa() {
        let previous = UpstreamSettings::default();
        let draft = SettingsDraft { mode: Mode::Enabled, ..entra() };
        assert_eq!(draft.validate(&previous, "https://x.org").unwrap_err().field, "confirm");
        assert!(SettingsDraft { confirm: true, ..draft }.validate(&previous, "https://x.org").is_ok());
        let both = SettingsDraft { mfa: MfaPolicy::Optional, ..entra() };
        assert_eq!(both.validate(&previous, "https://x.org").unwrap_err().field, "mfa", "both at once");
    }

    #[test]
    fn turning_one_of_oidc_and_mfa_on_turns_the_other_off_once_confirmed() {
        let oidc_on = UpstreamSettings { mode: Mode::Test, ..Default::default() };
        let mfa_now = SettingsDraft { mfa: MfaPolicy::RequiredForStaff, ..entra() };
        assert_eq!(mfa_now.validate(&oidc_on, "https://x.org").unwrap_err().field, "confirm_switch");
        let saved = SettingsDraft { confirm_switch: true, ..mfa_now }.validate(&oidc_on, "https://x.org").unwrap();
        assert_eq!((saved.mode, saved.mfa), (Mode::Disabled, MfaPolicy::RequiredForStaff));
        assert_eq!(saved.client_id, "client", "the provider's fields are kept for later");

        let mfa_on = UpstreamSettings { mfa: MfaPolicy::Optional, ..Default::default() };
        let oidc_now = SettingsDraft { mfa: MfaPolicy::Optional, ..entra() };
        let refused = oidc_now.validate(&mfa_on, "https://x.org").unwrap_err();
        assert_eq!((refused.field.as_str(), refused.message.as_str()), ("confirm_switch", OIDC_TURNS_MFA_OFF));
        let saved = SettingsDraft { confirm_switch: true, ..oidc_now }.validate(&mfa_on, "https://x.org").unwrap();
        assert_eq!((saved.mode, saved.mfa), (Mode::Test, MfaPolicy::Off));
    }

    #[test]
    fn settings_stored_with_the_old_yes_no_keep_their_mfa() {
        let json = serde_json::to_value(UpstreamSettings::default()).unwrap();
        let mut old = json.as_object().unwrap().clone();
        old.remove("mfa");
        old.insert("mfa_enabled".into(), true.into());
        let read = from_stored_json(&serde_json::Value::Object(old.clone()).to_string()).unwrap();
        assert_eq!(read.mfa, MfaPolicy::Optional);
        old.insert("mfa_enabled".into(), false.into());
        assert_eq!(from_stored_json(&serde_json::Value::Object(old).to_string()).unwrap().mfa, MfaPolicy::Off);
        let now = UpstreamSettings { mfa: MfaPolicy::RequiredForEveryone, ..Default::default() };
        assert_eq!(from_stored_json(&serde_json::to_string(&now).unwrap()).unwrap(), now);
    }

    #[test]
    fn verified_domains_are_normalised_and_checked() {
        let draft = SettingsDraft {
            verified_domains: vec![" @Org.Example ".into(), "org.example".into(), String::new()],
            ..entra()
        };
        let s = draft.validate(&UpstreamSettings::default(), "https://x.org").unwrap();
        assert_eq!(s.verified_domains, vec!["org.example".to_owned()]);
        let bad = SettingsDraft { verified_domains: vec!["not a domain".into()], ..entra() };
        let empty = SettingsDraft { provider: Some(Provider::Entra), mode: Mode::Test, ..Default::default() };
        let fields: Vec<_> = empty
            .validate_all(&UpstreamSettings::default(), "https://x.org")
            .unwrap_err()
            .into_iter()
            .map(|i| i.field)
            .collect();
        assert_eq!(fields, ["client_id", "tenant", "claim_type", "claim_value"], "every problem at once");
        assert_eq!(bad.validate(&UpstreamSettings::default(), "https://x.org").unwrap_err().field, "verified_domains");
    }

    #[test]
    fn okta_needs_its_urls_and_secret_and_claim_types_are_http() {
        let okta = SettingsDraft {
            provider: Some(Provider::Okta),
            tenant: String::new(),
            well_known_url: "https://dev-1.okta.com/oauth2/default/.well-known/openid-configuration".into(),
            authority_url: "https://dev-1.okta.com/oauth2/default".into(),
            claim_value: "SysAdmin".into(),
            ..entra()
        };
        assert_eq!(okta.validate(&UpstreamSettings::default(), "https://x.org").unwrap_err().field, "client_secret");
        let with_secret = SettingsDraft { client_secret: Some(SecretString::new("s")), ..okta.clone() };
        assert!(with_secret.validate(&UpstreamSettings::default(), "https://x.org").is_ok());
        let https_claim = SettingsDraft { claim_type: "https://schemas.microsoft.com/x".into(), ..with_secret };
        assert_eq!(
            https_claim.validate(&UpstreamSettings::default(), "https://x.org").unwrap_err().field,
            "claim_type"
        );
    }
}
