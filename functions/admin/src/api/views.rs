//! What the admin API sends: one struct per JSON shape, so the OpenAPI document is derived
//! from the same types that are serialized.

use gatehouse::clock::rfc3339;
use gatehouse::contact::Contact;
use gatehouse::event_log::LogEntry;
use gatehouse::oidc::signing::SigningConfig;
use gatehouse::outbox::{Delivery, Mail, OutboxPage};
use gatehouse::query::{QueryDefinition, SavedQuery, kind_name};
use gatehouse::registration::IdTokenHmacKey;
use gatehouse::upstream::settings::UpstreamSettings;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

use crate::auth::SysAdmin;
use crate::service::queries::Preview;
use crate::service::registrations::RegistrationDetails;
use gatehouse::contact_search::{ContactCursor, ContactPage};
use gatehouse::event_log::LogPage;

/// A unit enum's wire name (as serde writes it), so views hold plain strings.
fn wire<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Who is signed in, and the CSRF token cookie-authenticated writes must send (null for bearer tokens).
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = Session)]
pub struct SessionView {
    pub contact_id: String,
    pub username: String,
    pub csrf_token: Option<String>,
    pub expires_at: Option<String>,
}

impl From<&SysAdmin> for SessionView {
    fn from(a: &SysAdmin) -> Self {
        Self {
            contact_id: a.contact.id.to_string(),
            username: a.contact.profile.username.clone(),
            csrf_token: a.session.as_ref().map(|s| s.csrf_token.expose().to_owned()),
            expires_at: a.session.as_ref().map(|s| rfc3339(s.expires_at)),
        }
    }
}

#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = IgnoredField)]
pub struct IgnoredFieldView {
    pub name: String,
    pub reason: String,
}

/// A registration. The JWT signing key is null while it is unused: an asymmetric algorithm
/// signs, or HS512 is keyed by the client secret.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = Registration)]
pub struct RegistrationView {
    pub client_id: String,
    pub name: String,
    pub redirect_urls: Vec<String>,
    /// Where RP-Initiated Logout may return the browser (exact match).
    pub post_logout_redirect_urls: Vec<String>,
    /// Where Back-Channel Logout notices are POSTed; null for none.
    pub backchannel_logout_url: Option<String>,
    pub profile_query: String,
    pub id_token_fields: Vec<String>,
    pub ignored_id_token_fields: Vec<IgnoredFieldView>,
    pub role_query: String,
    /// `array` or `csv`.
    pub role_format: String,
    pub no_access_mapping: String,
    /// `authorization_code`, `implicit`, `password_confidential`, `password_public`.
    pub grant_types: Vec<String>,
    /// The HS512 ID token key: `jwt_signing_key` (the registration's own key) or `client_secret`
    /// (OIDC Core §10.1, what standard client libraries expect).
    pub id_token_hmac_key: String,
    pub client_secret: Option<String>,
    pub jwt_signing_key: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Advances with every change (a regenerated credential too): send it back with a `PUT`
    /// so that a change made meanwhile is not overwritten.
    pub revision: u64,
}

impl RegistrationView {
    pub fn new(d: &RegistrationDetails, hide_signing_key: bool) -> Self {
        let r = &d.registration;
        let s = &r.settings;
        Self {
            client_id: r.client_id.to_string(),
            name: s.name.clone(),
            redirect_urls: s.redirect_urls.iter().map(|u| u.as_str().to_owned()).collect(),
            post_logout_redirect_urls: s.post_logout_redirect_urls.iter().map(|u| u.as_str().to_owned()).collect(),
            backchannel_logout_url: s.backchannel_logout_url.as_ref().map(|u| u.as_str().to_owned()),
            profile_query: s.profile_query.to_string(),
            id_token_fields: s.id_token_fields.clone(),
            ignored_id_token_fields: d
                .ignored_id_token_fields
                .iter()
                .map(|f| IgnoredFieldView { name: f.name.clone(), reason: f.reason.clone() })
                .collect(),
            role_query: s.role_query.to_string(),
            role_format: wire(&s.role_format),
            no_access_mapping: s.no_access_mapping.to_text(),
            grant_types: s.grant_types.iter().map(wire).collect(),
            id_token_hmac_key: wire(&s.id_token_hmac_key),
            client_secret: d.secrets.as_ref().map(|c| c.client_secret.expose().to_owned()),
            jwt_signing_key: if hide_signing_key || s.id_token_hmac_key == IdTokenHmacKey::ClientSecret {
                None
            } else {
                d.secrets.as_ref().map(|c| c.jwt_signing_key.expose().to_owned())
            },
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            revision: r.revision,
        }
    }
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct RegistrationList {
    /// By name, then Client ID.
    pub registrations: Vec<RegistrationView>,
    /// Ask for the next page with `after=next_cursor`; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A contact on reads. The password hash never leaves the server.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = Contact)]
pub struct ContactView {
    pub id: String,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_staff: bool,
    pub is_sysadmin: bool,
    pub status: String,
    pub member_type: String,
    pub roles: Vec<String>,
    pub attributes: BTreeMap<String, String>,
    pub external_id: Option<String>,
    pub has_password: bool,
    /// Whether the contact has set up a second factor (an administrator can reset it).
    pub mfa_enrolled: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Advances with every change: send it back with a `PUT` so that a change made meanwhile
    /// is not overwritten.
    pub revision: u64,
}

impl From<&Contact> for ContactView {
    fn from(c: &Contact) -> Self {
        let p = &c.profile;
        Self {
            id: c.id.to_string(),
            username: p.username.clone(),
            email: p.email.clone(),
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            is_staff: p.is_staff,
            is_sysadmin: p.is_sysadmin,
            status: p.status.clone(),
            member_type: p.member_type.clone(),
            roles: p.roles.clone(),
            attributes: p.attributes.clone(),
            external_id: p.external_id.clone(),
            has_password: c.password_hash.is_some(),
            mfa_enrolled: c.mfa.is_some(),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
            revision: c.revision,
        }
    }
}

/// A page of contacts; ask for the next with `after=next_cursor`. A page reads a bounded
/// number of contacts (four times `limit`, 100 to 1,000), so it can hold fewer than `limit`,
/// even none, and still have a `next_cursor`.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ContactList {
    pub contacts: Vec<ContactView>,
    /// Absent once the search has read all it can find.
    pub next_cursor: Option<String>,
}

impl From<&ContactPage> for ContactList {
    fn from(page: &ContactPage) -> Self {
        Self {
            contacts: page.contacts.iter().map(ContactView::from).collect(),
            next_cursor: page.next.as_ref().map(ContactCursor::encode),
        }
    }
}

#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = Column)]
pub struct ColumnView {
    pub source: String,
    pub alias: String,
}

/// A saved query.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = Query)]
pub struct QueryView {
    pub path: String,
    /// `profile` or `role`.
    pub kind: String,
    pub parameter: String,
    pub columns: Vec<ColumnView>,
    pub created_at: String,
    pub updated_at: String,
    /// Advances with every change: send it back with a `PUT` so that a change made meanwhile
    /// is not overwritten.
    pub revision: u64,
}

impl From<&SavedQuery> for QueryView {
    fn from(q: &SavedQuery) -> Self {
        let draft = q.draft();
        Self {
            path: draft.path,
            kind: wire(&draft.kind),
            parameter: draft.parameter,
            columns: draft.columns.into_iter().map(|c| ColumnView { source: c.source, alias: c.alias }).collect(),
            created_at: rfc3339(q.created_at),
            updated_at: rfc3339(q.updated_at),
            revision: q.revision,
        }
    }
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct QueryList {
    /// By path.
    pub queries: Vec<QueryView>,
    /// Ask for the next page with `after=next_cursor`; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = Parameter)]
pub struct ParameterView {
    pub name: String,
    pub required: bool,
}

/// A query run for one username: `row` for a profile query, `rows` for a role query.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = PreviewResult)]
pub struct PreviewView {
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<String>>,
}

/// A checked query definition, with a preview when a username was given.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = Validation)]
pub struct ValidationView {
    pub path: String,
    pub kind: String,
    pub parameter: String,
    pub parameters: Vec<ParameterView>,
    pub columns: Vec<ColumnView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<PreviewView>,
}

impl ValidationView {
    pub fn new(definition: &QueryDefinition, preview: Option<(String, Preview)>) -> Self {
        let parameter = gatehouse::query::PARAMETER.to_owned();
        Self {
            path: definition.path.to_string(),
            kind: kind_name(definition.kind).to_owned(),
            parameters: vec![ParameterView { name: parameter.clone(), required: true }],
            parameter,
            columns: definition
                .columns
                .iter()
                .map(|c| ColumnView { source: c.source.name(), alias: c.alias.clone() })
                .collect(),
            preview: preview.map(|(username, p)| match p {
                Preview::Profile(row) => PreviewView { username, row: Some(row), rows: None },
                Preview::Roles(rows) => PreviewView { username, row: None, rows: Some(rows) },
            }),
        }
    }
}

#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = SigningKey)]
pub struct SigningKeyView {
    pub kid: String,
    pub alg: String,
    pub created_at: String,
    pub retired_at: Option<String>,
    pub active: bool,
}

/// The signing algorithm (`HS512`, `ES256`, `EdDSA`, `RS256`, `RS512`) and Gatehouse's keys.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = Signing)]
pub struct SigningView {
    pub algorithm: String,
    pub keys: Vec<SigningKeyView>,
}

impl From<&SigningConfig> for SigningView {
    fn from(config: &SigningConfig) -> Self {
        let stamp = |s: i64| rfc3339(gatehouse::clock::from_unix(s));
        Self {
            algorithm: wire(&config.algorithm),
            keys: config
                .keys
                .iter()
                .map(|k| SigningKeyView {
                    kid: k.kid.clone(),
                    alg: wire(&k.alg),
                    created_at: stamp(k.created_at),
                    retired_at: k.retired_at.map(stamp),
                    active: k.retired_at.is_none() && k.alg == config.algorithm,
                })
                .collect(),
        }
    }
}

/// The OpenID Connect settings. The client secret is never sent back: only whether it is set and its end.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = OidcSettings)]
pub struct SettingsView {
    pub mode: String,
    pub provider: Option<String>,
    pub name: String,
    pub client_id: String,
    pub client_secret_set: bool,
    pub client_secret_hint: Option<String>,
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
    /// `off`, `optional`, `required_for_staff` or `required_for_everyone`.
    pub mfa: String,
    pub link_verified_email: bool,
    pub verified_domains: Vec<String>,
}

impl From<&UpstreamSettings> for SettingsView {
    fn from(s: &UpstreamSettings) -> Self {
        let hint = crate::service::oidc::secret_hint(s);
        Self {
            mode: wire(&s.mode),
            provider: s.provider.as_ref().map(wire),
            name: s.name.clone(),
            client_id: s.client_id.clone(),
            client_secret_set: s.client_secret.is_some(),
            client_secret_hint: hint,
            well_known_url: s.well_known_url.clone(),
            tenant: s.tenant.clone(),
            authority_url: s.authority_url.clone(),
            external_claim_id: s.external_claim_id.clone(),
            redirect_login_url: s.redirect_login_url.clone(),
            login_hint: s.login_hint,
            require_for: wire(&s.require_for),
            claim_type: s.claim_type.clone(),
            claim_value: s.claim_value.clone(),
            forgot_email_body: s.forgot_email_body.clone(),
            mfa: wire(&s.mfa),
            link_verified_email: s.link_verified_email,
            verified_domains: s.verified_domains.clone(),
        }
    }
}

#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = LogEntry)]
pub struct LogEntryView {
    pub id: String,
    /// `debug`, `info`, `warning` or `error`.
    pub level: String,
    pub message: String,
    /// Free-form context; null when there is none.
    pub details: Value,
    pub occurred_at: String,
}

/// One page of the log, newest first; ask for the next with `before=next_before`. A search
/// reads a bounded number of entries (four times `limit`, 100 to 1,000), so a page can hold
/// fewer matches than `limit`, even none, and still have a `next_before`.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = LogPage)]
pub struct LogPageView {
    pub entries: Vec<LogEntryView>,
    /// Absent once the search has reached the start of the period (or of the retention).
    pub next_before: Option<String>,
}

impl From<&LogPage> for LogPageView {
    fn from(page: &LogPage) -> Self {
        Self { entries: page.entries.iter().map(LogEntryView::from).collect(), next_before: page.next_before.clone() }
    }
}

impl From<&LogEntry> for LogEntryView {
    fn from(e: &LogEntry) -> Self {
        Self {
            id: e.id.clone(),
            level: wire(&e.level),
            message: e.message.clone(),
            details: e.details.clone(),
            occurred_at: rfc3339(e.occurred_at),
        }
    }
}

/// One entry of the delivery log: never the body, which may hold a sign-in link.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = Mail)]
pub struct MailView {
    pub id: String,
    pub to: String,
    pub subject: String,
    /// `ses`, `smtp`, `console`, `none` (not configured) or `outbox` (kept by an earlier version).
    pub transport: String,
    /// `sent`, `failed`, or `recorded` (kept by an earlier version, never sent).
    pub status: String,
    /// SES's MessageId, or the SMTP Message-ID.
    pub provider_message_id: Option<String>,
    /// Why every attempt failed.
    pub error: Option<String>,
    pub attempts: u32,
    pub sent_at: String,
}

impl From<&Mail> for MailView {
    fn from(m: &Mail) -> Self {
        let (status, provider_message_id, error) = match &m.delivery {
            Delivery::Sent { provider_message_id } => ("sent", provider_message_id.clone(), None),
            Delivery::Failed { error } => ("failed", None, Some(error.clone())),
            Delivery::Recorded => ("recorded", None, None),
        };
        Self {
            id: m.id.clone(),
            to: m.to.clone(),
            subject: m.subject.clone(),
            transport: wire(&m.transport),
            status: status.to_owned(),
            provider_message_id,
            error,
            attempts: m.attempts,
            sent_at: rfc3339(m.sent_at),
        }
    }
}

#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = Outbox)]
pub struct OutboxView {
    pub mails: Vec<MailView>,
    /// Ask for the next (older) page with `before=next_before`; absent on the last page.
    pub next_before: Option<String>,
}

impl From<&OutboxPage> for OutboxView {
    fn from(page: &OutboxPage) -> Self {
        Self { mails: page.mails.iter().map(MailView::from).collect(), next_before: page.next_before.clone() }
    }
}
