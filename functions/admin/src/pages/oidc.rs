//! `/admin/oidc`: the seed's OpenID Connect settings page (mode, authentication service,
//! user authentication, the forgot username/password email, and MFA), with its Logs tab
//! (`/admin/oidc/logs`, in `logs.rs`).

use axum::Router;
use axum::routing::get;
use gatehouse::mfa::MfaPolicy;
use gatehouse::secret::SecretString;
use gatehouse::upstream::settings::{
    Exclusion, MFA_TURNS_OIDC_OFF, Mode, OIDC_TURNS_MFA_OFF, Provider, RequireFor, SettingsDraft, UpstreamSettings,
    exclusion,
};
use gatehouse::validation::Invalid;
use gatehouse::web::error::PageError;
use gatehouse::web::request::Params;
use gatehouse::web::response::see_other;
use gatehouse::web::{Response, SharedState, StatusCode};
use maud::{Markup, html};

use super::{Confirm, Ctx, FormError, RawForm, Section, admin_page, confirm_page_with};
use crate::service::oidc::{self as service, Connected};

mod form;

/// The OIDC authentication options: value, the seed's label and description.
pub(super) const MODES: &[(Mode, &str, &str, &str)] = &[
    (
        Mode::Disabled,
        "disabled",
        "Disabled",
        "Select to disable OIDC. When selected, users can only log in with their Gatehouse credentials.",
    ),
    (
        Mode::Test,
        "test",
        "Test mode",
        "Select when testing the connection with Gatehouse and the external directory. When selected, staff users can sign in with their Gatehouse or external directory credentials.",
    ),
    (
        Mode::Enabled,
        "enabled",
        "Enabled",
        "Select to enable the external directory. When selected, the external directory is the only sign in option for staff users. System administrators can still sign in with their Gatehouse credentials.",
    ),
];

pub(super) const PROVIDERS: &[(Provider, &str, &str)] =
    &[(Provider::Entra, "entra", "Entra ID"), (Provider::Okta, "okta", "Okta")];

pub(super) const REQUIRE_FOR: &[(RequireFor, &str, &str)] = &[
    (RequireFor::Staff, "staff", "Staff Only"),
    (RequireFor::StaffAndPublic, "staff_and_public", "Staff & Public Users"),
];

pub(super) const MFA_LEVELS: &[(MfaPolicy, &str, &str)] = &[
    (MfaPolicy::Off, "off", "Off"),
    (MfaPolicy::Optional, "optional", "Optional"),
    (MfaPolicy::RequiredForStaff, "required_for_staff", "Required for staff users"),
    (MfaPolicy::RequiredForEveryone, "required_for_everyone", "Required for everyone"),
];

/// The seed's confirmation before Enabled.
const ENABLE_WARNING: &str = "Signing in with a standard username and password will no longer work for the specified user types, except for system administrators.";

/// The form's fields as typed. The client secret is never shown back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct OidcForm {
    pub mode: String,
    pub provider: String,
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    pub remove_secret: bool,
    pub well_known_url: String,
    pub tenant: String,
    pub authority_url: String,
    pub external_claim_id: String,
    pub redirect_login_url: String,
    pub login_hint: bool,
    pub require_for: String,
    pub claim_type: String,
    pub claim_value: String,
    pub forgot_email_body: String,
    pub mfa: String,
    pub link_verified_email: bool,
    /// One domain per line.
    pub verified_domains: String,
}

fn value_of<T: PartialEq + Copy>(table: &[(T, &'static str, &'static str)], which: T) -> &'static str {
    table.iter().find(|(t, _, _)| *t == which).map_or("", |(_, value, _)| value)
}

fn parse<T: Copy>(field: &str, table: &[(T, &str, &str)], value: &str) -> Result<T, Invalid> {
    table
        .iter()
        .find(|(_, v, _)| *v == value)
        .map(|(t, _, _)| *t)
        .ok_or_else(|| Invalid::new(field, format!("`{value}` is not one of the choices")))
}

impl OidcForm {
    fn from_params(p: &Params) -> Self {
        let text = |name: &str| p.text(name).to_owned();
        Self {
            mode: text("mode"),
            provider: text("provider"),
            name: text("name"),
            client_id: text("client_id"),
            client_secret: text("client_secret"),
            remove_secret: p.has("remove_secret"),
            well_known_url: text("well_known_url"),
            tenant: text("tenant"),
            authority_url: text("authority_url"),
            external_claim_id: text("external_claim_id"),
            redirect_login_url: text("redirect_login_url"),
            login_hint: p.has("login_hint"),
            require_for: text("require_for"),
            claim_type: text("claim_type"),
            claim_value: text("claim_value"),
            forgot_email_body: text("forgot_email_body"),
            mfa: text("mfa"),
            link_verified_email: p.has("link_verified_email"),
            verified_domains: text("verified_domains"),
        }
    }

    fn from_settings(s: &UpstreamSettings) -> Self {
        Self {
            mode: MODES.iter().find(|m| m.0 == s.mode).map_or("disabled", |m| m.1).to_owned(),
            provider: s.provider.map_or("", |p| value_of(PROVIDERS, p)).to_owned(),
            name: s.name.clone(),
            client_id: s.client_id.clone(),
            client_secret: String::new(),
            remove_secret: false,
            well_known_url: s.well_known_url.clone(),
            tenant: s.tenant.clone(),
            authority_url: s.authority_url.clone(),
            external_claim_id: s.external_claim_id.clone(),
            redirect_login_url: s.redirect_login_url.clone(),
            login_hint: s.login_hint,
            require_for: value_of(REQUIRE_FOR, s.require_for).to_owned(),
            claim_type: s.claim_type.clone(),
            claim_value: s.claim_value.clone(),
            forgot_email_body: s.forgot_email_body.clone(),
            mfa: value_of(MFA_LEVELS, s.mfa).to_owned(),
            link_verified_email: s.link_verified_email,
            verified_domains: s.verified_domains.join("\n"),
        }
    }

    fn draft(&self) -> Result<SettingsDraft, Invalid> {
        let mode = MODES
            .iter()
            .find(|m| m.1 == self.mode)
            .map(|m| m.0)
            .ok_or_else(|| Invalid::new("mode", "choose Disabled, Test mode or Enabled"))?;
        let provider = match self.provider.as_str() {
            "" => None,
            other => Some(parse("provider", PROVIDERS, other)?),
        };
        let require_for = match self.require_for.as_str() {
            "" => RequireFor::Staff,
            other => parse("require_for", REQUIRE_FOR, other)?,
        };
        let mfa = match self.mfa.as_str() {
            "" => MfaPolicy::Off,
            other => parse("mfa", MFA_LEVELS, other)?,
        };
        let client_secret = if self.remove_secret {
            Some(SecretString::new(""))
        } else {
            Some(self.client_secret.trim()).filter(|s| !s.is_empty()).map(SecretString::new)
        };
        Ok(SettingsDraft {
            mode,
            provider,
            name: self.name.clone(),
            client_id: self.client_id.clone(),
            client_secret,
            well_known_url: self.well_known_url.clone(),
            tenant: self.tenant.clone(),
            authority_url: self.authority_url.clone(),
            external_claim_id: self.external_claim_id.clone(),
            redirect_login_url: self.redirect_login_url.clone(),
            login_hint: self.login_hint,
            require_for,
            claim_type: self.claim_type.clone(),
            claim_value: self.claim_value.clone(),
            forgot_email_body: self.forgot_email_body.clone(),
            mfa,
            link_verified_email: self.link_verified_email,
            verified_domains: super::lines(&self.verified_domains).map(str::to_owned).collect(),
            confirm: false,
            confirm_switch: false,
        })
    }

    /// What the form posts, for the confirm page to post again.
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        let mut pairs = vec![
            ("mode", self.mode.as_str()),
            ("provider", &self.provider),
            ("name", &self.name),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("well_known_url", &self.well_known_url),
            ("tenant", &self.tenant),
            ("authority_url", &self.authority_url),
            ("external_claim_id", &self.external_claim_id),
            ("redirect_login_url", &self.redirect_login_url),
            ("require_for", &self.require_for),
            ("claim_type", &self.claim_type),
            ("claim_value", &self.claim_value),
            ("forgot_email_body", &self.forgot_email_body),
            ("verified_domains", &self.verified_domains),
            ("mfa", &self.mfa),
        ];
        for (name, on) in [
            ("remove_secret", self.remove_secret),
            ("login_hint", self.login_hint),
            ("link_verified_email", self.link_verified_email),
        ] {
            if on {
                pairs.push((name, "on"));
            }
        }
        pairs
    }
}

/// A form field's label, for error messages.
pub(super) fn label(field: &str) -> String {
    match field {
        "mode" => "OIDC authentication",
        "provider" => "Type",
        "name" => "Name",
        "client_id" => "Client ID",
        "client_secret" => "Client Secret",
        "well_known_url" => "Well-Known URL",
        "tenant" => "Tenant",
        "authority_url" => "Authority URL",
        "external_claim_id" => "External Claim ID",
        "redirect_login_url" => "Redirect login URL",
        "login_hint" => "Set login hint",
        "require_for" => "Require OIDC for",
        "claim_type" => "Claim type",
        "claim_value" => "Claim value",
        "forgot_email_body" => "Email body",
        "mfa" => "Multi-factor authentication",
        "confirm_switch" => "Confirmation",
        "link_verified_email" => "Link existing contacts by verified email",
        "verified_domains" => "Verified domains",
        "confirm" => "Confirmation",
        other => other,
    }
    .to_owned()
}

/// The page's two tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tab {
    Settings,
    Logs,
}

pub(super) fn tabs(current: Tab) -> Markup {
    html! {
        nav.actions aria-label="OpenID Connect tabs" {
            @for (tab, href, name) in [(Tab::Settings, "/admin/oidc", "Settings"), (Tab::Logs, "/admin/oidc/logs", "Logs")] {
                @if tab == current {
                    a href=(href) aria-current="page" { strong { (name) } }
                } @else {
                    a href=(href) { (name) }
                }
            }
        }
    }
}

pub fn routes() -> Router<SharedState> {
    Router::new().route("/admin/oidc", get(read).post(submit))
}

async fn read(ctx: Ctx) -> Result<Response, PageError> {
    let stored = service::load(&ctx.state).await?;
    Ok(show(&ctx, StatusCode::OK, &OidcForm::from_settings(&stored), &stored, None, None))
}

fn show(
    ctx: &Ctx,
    status: StatusCode,
    form: &OidcForm,
    stored: &UpstreamSettings,
    error: Option<&FormError>,
    connection: Option<&Result<Connected, String>>,
) -> Response {
    let hint = service::secret_hint(stored);
    let body = form::render(ctx, form, hint.as_deref(), error, connection);
    admin_page(ctx, status, Section::Oidc, "OpenID Connect", body)
}

/// The flash code saying what saving did about OIDC and MFA excluding each other.
fn done_code(switch: Exclusion) -> &'static str {
    match switch {
        Exclusion::MfaTurnsOidcOff => "mfa-on-oidc-off",
        Exclusion::OidcTurnsMfaOff => "oidc-saved-mfa-off",
        Exclusion::None | Exclusion::Both => "oidc-saved",
    }
}

async fn submit(ctx: Ctx, RawForm(params): RawForm) -> Result<Response, PageError> {
    let ctx = &ctx;
    let form = OidcForm::from_params(&params);
    let previous = service::load(&ctx.state).await?;
    let refuse = |error: FormError| show(ctx, error.status, &form, &previous, Some(&error), None);
    let mut draft = match form.draft() {
        Ok(draft) => draft,
        Err(invalid) => return Ok(refuse(FormError::invalid(invalid))),
    };
    let issuer = ctx.state.config.issuer_str();
    if params.has("test") {
        // Every problem of the form at once, as if switched on; then the connection.
        let rules = SettingsDraft {
            mode: Mode::Test,
            mfa: MfaPolicy::Off,
            confirm: true,
            confirm_switch: true,
            ..draft.clone()
        };
        if let Err(problems) = rules.validate_all(&previous, issuer) {
            return Ok(refuse(FormError::all(problems)));
        }
        return Ok(match service::test_connection(&ctx.state, &draft).await {
            Err(e) => refuse(FormError::from_admin(e)?),
            Ok(outcome) => {
                let status = if outcome.is_ok() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
                show(ctx, status, &form, &previous, None, Some(&outcome))
            }
        });
    }
    let switch = exclusion(&previous, draft.mode, draft.mfa);
    draft.confirm = params.get("confirm") == Some("true") || previous.mode == Mode::Enabled;
    draft.confirm_switch = params.get("confirm_switch") == Some("true");
    // Every problem of the form at once (the confirmations are asked for afterwards).
    let rules = SettingsDraft { confirm: true, confirm_switch: true, ..draft.clone() };
    if let Err(problems) = rules.validate_all(&previous, issuer) {
        return Ok(refuse(FormError::all(problems)));
    }
    let asks_enable = draft.mode == Mode::Enabled && !draft.confirm && switch != Exclusion::MfaTurnsOidcOff;
    let asks_switch =
        matches!(switch, Exclusion::MfaTurnsOidcOff | Exclusion::OidcTurnsMfaOff) && !draft.confirm_switch;
    if asks_enable || asks_switch {
        // Enabling: the connection first, so the confirmation is not asked for in vain.
        let connected = match asks_enable {
            false => None,
            true => match service::test_connection(&ctx.state, &draft).await {
                Err(e) => return Ok(refuse(FormError::from_admin(e)?)),
                Ok(Err(message)) => {
                    let field = if draft.provider == Some(Provider::Okta) { "well_known_url" } else { "authority_url" };
                    return Ok(refuse(FormError::invalid(Invalid::new(field, message))));
                }
                Ok(Ok(connected)) => Some(connected),
            },
        };
        return Ok(confirm_save(ctx, &form, draft.require_for, connected.as_ref(), switch));
    }
    match service::save(&ctx.state, &draft).await {
        Ok(_) => Ok(see_other(&format!("/admin/oidc?done={}", done_code(switch)))),
        Err(e) => Ok(refuse(FormError::from_admin(e)?)),
    }
}

/// The seed: "If the OIDC authentication is set to Enabled, a confirmation displays after
/// clicking Save" (once the connection works: `connected`); and turning one of OIDC and MFA on
/// turns the other off, once confirmed.
fn confirm_save(
    ctx: &Ctx,
    form: &OidcForm,
    require_for: RequireFor,
    connected: Option<&Connected>,
    switch: Exclusion,
) -> Response {
    let who = match require_for {
        RequireFor::Staff => "staff users",
        RequireFor::StaffAndPublic => "staff and public users",
    };
    let (title, switch_warning) = match switch {
        Exclusion::MfaTurnsOidcOff => ("Enable multi-factor authentication", Some(MFA_TURNS_OIDC_OFF)),
        Exclusion::OidcTurnsMfaOff => ("Enable OpenID Connect", Some(OIDC_TURNS_MFA_OFF)),
        Exclusion::None | Exclusion::Both => ("Enable OpenID Connect", None),
    };
    let message = html! {
        @if let Some(warning) = switch_warning {
            div.warning role="alert" { strong { "Warning! " } (warning) }
        }
        @if let Some(connected) = connected {
            div.flash role="status" { "The connection works: " span.mono { (connected.issuer) } " answered with its discovery document and keys." }
            p { "Enable OpenID Connect for " strong { (who) } "? From then on they sign in through the external directory only." }
            div.warning role="alert" { strong { "Warning! " } (ENABLE_WARNING) }
            p.hint { "To avoid disruption for staff users, it is recommended to test and configure OIDC during non-business hours." }
        }
    };
    let hidden = html! {
        @for (name, value) in form.pairs() {
            input type="hidden" name=(name) value=(value);
        }
        @if connected.is_some() { input type="hidden" name="confirm" value="true"; }
        @if switch_warning.is_some() { input type="hidden" name="confirm_switch" value="true"; }
    };
    let confirm = Confirm {
        section: Section::Oidc,
        title,
        message,
        action: "/admin/oidc",
        button: "Confirm",
        cancel: "/admin/oidc",
        error: None,
    };
    confirm_page_with(ctx, StatusCode::OK, confirm, hidden)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_round_trips_the_stored_settings() {
        let stored = UpstreamSettings {
            mode: Mode::Test,
            provider: Some(Provider::Okta),
            require_for: RequireFor::StaffAndPublic,
            login_hint: true,
            client_secret: Some(SecretString::new("kept")),
            ..Default::default()
        };
        let form = OidcForm::from_settings(&stored);
        assert_eq!(
            (form.mode.as_str(), form.provider.as_str(), form.require_for.as_str()),
            ("test", "okta", "staff_and_public")
        );
        assert!(form.client_secret.is_empty(), "the secret is never shown back");
        let draft = form.draft().unwrap();
        assert_eq!(
            (draft.mode, draft.provider, draft.require_for),
            (Mode::Test, Some(Provider::Okta), RequireFor::StaffAndPublic)
        );
        assert!(draft.client_secret.is_none(), "blank keeps the stored secret");
        let removed = OidcForm { remove_secret: true, ..form.clone() }.draft().unwrap();
        assert_eq!(removed.client_secret.map(|s| s.expose().to_owned()), Some(String::new()));
        assert_eq!(OidcForm { mode: "on".into(), ..form }.draft().unwrap_err().field, "mode");
    }

    #[test]
    fn the_mfa_levels_round_trip() {
        for (policy, value, _) in MFA_LEVELS {
            let stored = UpstreamSettings { mfa: *policy, ..Default::default() };
            let form = OidcForm::from_settings(&stored);
            assert_eq!(form.mfa, *value);
            assert_eq!(form.draft().unwrap().mfa, *policy);
        }
        let off = OidcForm::from_settings(&UpstreamSettings::default());
        assert_eq!(OidcForm { mfa: "on".into(), ..off }.draft().unwrap_err().field, "mfa");
        assert_eq!(done_code(Exclusion::MfaTurnsOidcOff), "mfa-on-oidc-off");
        assert_eq!(done_code(Exclusion::OidcTurnsMfaOff), "oidc-saved-mfa-off");
    }

    #[test]
    fn the_confirm_page_posts_the_same_values() {
        let form = OidcForm { mode: "enabled".into(), login_hint: true, ..Default::default() };
        let pairs = form.pairs();
        assert!(pairs.contains(&("mode", "enabled")) && pairs.contains(&("login_hint", "on")));
        assert!(pairs.contains(&("mfa", "")));
        let again = OidcForm::from_params(&Params::parse(
            &pairs.iter().map(|(n, v)| format!("{n}={}", super::super::encode(v))).collect::<Vec<_>>().join("&"),
        ));
        assert_eq!(again, form);
    }
}
