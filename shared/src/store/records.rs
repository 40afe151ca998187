//! The stored form of each item, one serde shape for both backends. Each backend keeps the
//! record as a JSON document next to the few attributes it indexes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{StoreError, StoreResult};
use crate::clock::from_unix;
use crate::contact::{Contact, ContactId, ContactProfile};
use crate::mfa::MfaEnrolment;
use crate::password::{CredentialStamp, PasswordHash};
use crate::query::{Column, ContactField, QueryKind, QueryPath, SavedQuery};
use crate::registration::{
    ClientId, GrantType, IdTokenHmacKey, NoAccessMapping, RedirectUrl, Registration, RegistrationSettings, RoleFormat,
};
use crate::secret::{SecretString, TokenDigest};
use crate::session::{Session, SignInMethod};
use crate::ticket::{Ticket, TicketKind};

pub fn to_json<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(StoreError::backend)
}

pub fn from_json<T: for<'de> Deserialize<'de>>(doc: &str) -> StoreResult<T> {
    serde_json::from_str(doc).map_err(|e| StoreError::Backend(format!("unreadable stored record: {e}")))
}

/// The keys codes and tokens are kept under, the same on both backends.
pub fn code_key(code: &TokenDigest) -> String {
    format!("code#{}", code.as_str())
}

pub fn access_key(token: &TokenDigest) -> String {
    format!("access#{}", token.as_str())
}

pub fn refresh_key(token: &TokenDigest) -> String {
    format!("refresh#{}", token.as_str())
}

/// What marks a spent refresh token (a spent code's marker is the family its use issued).
pub const SPENT_REFRESH: &str = "spent";

/// The key a ticket is kept under: its kind, then the digest of the value handed out.
pub fn ticket_key(kind: TicketKind, key: &TokenDigest) -> String {
    format!("{}#{}", kind.as_str(), key.as_str())
}

/// A stored ticket of `kind`, or `None` when it is of another kind or unreadable (as good as
/// never issued). Tickets written before they carried their `kind` tag take it from their
/// key, so those in flight across a deploy stay readable.
pub fn ticket_from_json(kind: TicketKind, doc: &str) -> Option<Ticket> {
    let mut value: serde_json::Value = serde_json::from_str(doc).ok()?;
    if let Some(fields) = value.as_object_mut() {
        fields.entry("kind").or_insert_with(|| kind.as_str().into());
    }
    match serde_json::from_value::<Ticket>(value) {
        Ok(ticket) if ticket.kind() == kind => Some(ticket),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, kind = kind.as_str(), "unreadable stored ticket");
            None
        }
    }
}

#[derive(Serialize, Deserialize)]
pub struct ContactRecord {
    id: ContactId,
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    is_staff: bool,
    is_sysadmin: bool,
    status: String,
    member_type: String,
    roles: Vec<String>,
    attributes: BTreeMap<String, String>,
    external_id: Option<String>,
    password_hash: Option<PasswordHash>,
    #[serde(default)]
    password_reset: Option<TokenDigest>,
    #[serde(default)]
    mfa: Option<MfaEnrolment>,
    created_at: i64,
    updated_at: i64,
    /// Contacts saved before revisions were counted read as revision 0.
    #[serde(default)]
    revision: u64,
}

impl From<&Contact> for ContactRecord {
    fn from(c: &Contact) -> Self {
        let p = c.profile.clone();
        Self {
            id: c.id,
            username: p.username,
            email: p.email,
            first_name: p.first_name,
            last_name: p.last_name,
            is_staff: p.is_staff,
            is_sysadmin: p.is_sysadmin,
            status: p.status,
            member_type: p.member_type,
            roles: p.roles,
            attributes: p.attributes,
            external_id: p.external_id,
            password_hash: c.password_hash.clone(),
            password_reset: c.password_reset.clone(),
            mfa: c.mfa.clone(),
            created_at: c.created_at.unix_timestamp(),
            updated_at: c.updated_at.unix_timestamp(),
            revision: c.revision,
        }
    }
}

impl From<ContactRecord> for Contact {
    fn from(r: ContactRecord) -> Self {
        Self {
            id: r.id,
            profile: ContactProfile {
                username: r.username,
                email: r.email,
                first_name: r.first_name,
                last_name: r.last_name,
                is_staff: r.is_staff,
                is_sysadmin: r.is_sysadmin,
                status: r.status,
                member_type: r.member_type,
                roles: r.roles,
                attributes: r.attributes,
                external_id: r.external_id,
            },
            password_hash: r.password_hash,
            password_reset: r.password_reset,
            mfa: r.mfa,
            created_at: from_unix(r.created_at),
            updated_at: from_unix(r.updated_at),
            revision: r.revision,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub struct QueryRecord {
    path: String,
    kind: QueryKind,
    columns: Vec<(String, String)>,
    created_at: i64,
    updated_at: i64,
    /// Queries saved before revisions were counted read as revision 0.
    #[serde(default)]
    revision: u64,
}

impl From<&SavedQuery> for QueryRecord {
    fn from(q: &SavedQuery) -> Self {
        Self {
            path: q.path.to_string(),
            kind: q.kind,
            columns: q.columns.iter().map(|c| (c.source.name(), c.alias.clone())).collect(),
            created_at: q.created_at.unix_timestamp(),
            updated_at: q.updated_at.unix_timestamp(),
            revision: q.revision,
        }
    }
}

impl TryFrom<QueryRecord> for SavedQuery {
    type Error = StoreError;
    fn try_from(r: QueryRecord) -> StoreResult<Self> {
        let columns = r
            .columns
            .into_iter()
            .map(|(source, alias)| {
                Ok(Column { source: ContactField::parse(&source).map_err(StoreError::Backend)?, alias })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Self {
            path: QueryPath::parse("path", &r.path).map_err(StoreError::backend)?,
            kind: r.kind,
            columns,
            created_at: from_unix(r.created_at),
            updated_at: from_unix(r.updated_at),
            revision: r.revision,
        })
    }
}

#[derive(Serialize, Deserialize)]
pub struct RegistrationRecord {
    client_id: ClientId,
    name: String,
    redirect_urls: Vec<RedirectUrl>,
    /// Records from before RP-Initiated Logout have none.
    #[serde(default)]
    post_logout_redirect_urls: Vec<RedirectUrl>,
    #[serde(default)]
    backchannel_logout_url: Option<RedirectUrl>,
    profile_query: String,
    id_token_fields: Vec<String>,
    role_query: String,
    role_format: RoleFormat,
    no_access_mapping: String,
    grant_types: Vec<GrantType>,
    /// Records from before the setting read as the seed's separate key.
    #[serde(default)]
    id_token_hmac_key: IdTokenHmacKey,
    created_at: i64,
    updated_at: i64,
    /// Registrations saved before revisions were counted read as revision 0.
    #[serde(default)]
    revision: u64,
}

impl From<&Registration> for RegistrationRecord {
    fn from(r: &Registration) -> Self {
        let s = r.settings.clone();
        Self {
            client_id: r.client_id,
            name: s.name,
            redirect_urls: s.redirect_urls,
            post_logout_redirect_urls: s.post_logout_redirect_urls,
            backchannel_logout_url: s.backchannel_logout_url,
            profile_query: s.profile_query.to_string(),
            id_token_fields: s.id_token_fields,
            role_query: s.role_query.to_string(),
            role_format: s.role_format,
            no_access_mapping: s.no_access_mapping.to_text(),
            grant_types: s.grant_types,
            id_token_hmac_key: s.id_token_hmac_key,
            created_at: r.created_at.unix_timestamp(),
            updated_at: r.updated_at.unix_timestamp(),
            revision: r.revision,
        }
    }
}

impl TryFrom<RegistrationRecord> for Registration {
    type Error = StoreError;
    fn try_from(r: RegistrationRecord) -> StoreResult<Self> {
        Ok(Self {
            client_id: r.client_id,
            settings: RegistrationSettings {
                name: r.name,
                redirect_urls: r.redirect_urls,
                post_logout_redirect_urls: r.post_logout_redirect_urls,
                backchannel_logout_url: r.backchannel_logout_url,
                profile_query: QueryPath::parse("profile_query", &r.profile_query).map_err(StoreError::backend)?,
                id_token_fields: r.id_token_fields,
                role_query: QueryPath::parse("role_query", &r.role_query).map_err(StoreError::backend)?,
                role_format: r.role_format,
                no_access_mapping: NoAccessMapping::parse(&r.no_access_mapping).map_err(StoreError::backend)?,
                grant_types: r.grant_types,
                id_token_hmac_key: r.id_token_hmac_key,
            },
            created_at: from_unix(r.created_at),
            updated_at: from_unix(r.updated_at),
            revision: r.revision,
        })
    }
}

#[derive(Serialize, Deserialize)]
pub struct SessionRecord {
    id: TokenDigest,
    contact_id: ContactId,
    csrf_token: SecretString,
    auth_time: i64,
    expires_at: i64,
    /// Absent in sessions stored before stamps existed: they end at the next request.
    #[serde(default)]
    credential: CredentialStamp,
    #[serde(default)]
    method: SignInMethod,
}

impl From<&Session> for SessionRecord {
    fn from(s: &Session) -> Self {
        Self {
            id: s.id.clone(),
            contact_id: s.contact_id,
            csrf_token: s.csrf_token.clone(),
            auth_time: s.auth_time.unix_timestamp(),
            expires_at: s.expires_at.unix_timestamp(),
            credential: s.credential.clone(),
            method: s.method.clone(),
        }
    }
}

impl From<SessionRecord> for Session {
    fn from(r: SessionRecord) -> Self {
        Self {
            id: r.id,
            contact_id: r.contact_id,
            csrf_token: r.csrf_token,
            auth_time: from_unix(r.auth_time),
            expires_at: from_unix(r.expires_at),
            credential: r.credential,
            method: r.method,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_from_before_the_kind_tag_read_by_their_key() {
        let id = ContactId::new_random();
        let old = format!("{{\"contact_id\":\"{id}\"}}");
        assert_eq!(
            ticket_from_json(TicketKind::Reset, &old),
            Some(Ticket::Reset { contact_id: id, credential: Default::default() })
        );
        let new = to_json(&Ticket::Reset { contact_id: id, credential: Default::default() }).unwrap();
        assert_eq!(
            ticket_from_json(TicketKind::Reset, &new),
            Some(Ticket::Reset { contact_id: id, credential: Default::default() })
        );
        assert_eq!(ticket_from_json(TicketKind::Login, &new), None, "another kind finds nothing");
        assert_eq!(ticket_from_json(TicketKind::Reset, "not json"), None);
    }

    #[test]
    fn a_registration_stored_before_the_hmac_setting_keeps_the_jwt_signing_key() {
        let doc = r#"{"client_id":"7b0c7f0e-8d7a-4a8e-9a55-0f6c2b7f1a11","name":"Old","redirect_urls":["https://a.example/cb"],
            "profile_query":"$/SSO/ProfileData","id_token_fields":[],"role_query":"$/SSO/RoleData","role_format":"array",
            "no_access_mapping":"","grant_types":["authorization_code"],"created_at":0,"updated_at":0}"#;
        let registration = from_json::<RegistrationRecord>(doc).and_then(Registration::try_from).unwrap();
        assert_eq!(registration.settings.id_token_hmac_key, IdTokenHmacKey::JwtSigningKey);
        assert_eq!(registration.revision, 0, "and revision 0");
    }

    #[test]
    fn a_contact_stored_before_revisions_is_at_revision_zero() {
        let doc = r#"{"id":"7b0c7f0e-8d7a-4a8e-9a55-0f6c2b7f1a11","username":"old","email":"","first_name":"",
            "last_name":"","is_staff":false,"is_sysadmin":false,"status":"A","member_type":"","roles":[],
            "attributes":{},"external_id":null,"password_hash":null,"created_at":0,"updated_at":0}"#;
        let contact = from_json::<ContactRecord>(doc).map(Contact::from).unwrap();
        assert_eq!(contact.revision, 0);
        let next = to_json(&ContactRecord::from(&contact.next_revision())).unwrap();
        assert_eq!(from_json::<ContactRecord>(&next).map(Contact::from).unwrap().revision, 1);
    }
}
