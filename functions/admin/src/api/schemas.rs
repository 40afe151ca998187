//! Request-body and error schemas for the OpenAPI document. The request bodies are the shared
//! drafts, which cannot carry schema derives here, so their schemas are these structs; the
//! handlers name them in their annotations and `doc.rs` collects the document.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

/// Every error answer.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
#[allow(dead_code)]
pub struct ErrorBody {
    pub error: String,
    pub code: String,
    /// The offending field of a 422.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The body of `POST`/`PUT /admin/api/registrations`. Unknown fields are refused; JSON bodies
/// are at most 256 KiB (413 beyond).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RegistrationInput {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// Exact https URLs (http only on loopback), at most 2000 characters each.
    #[schema(min_items = 1, max_items = 50)]
    redirect_urls: Vec<String>,
    /// Where RP-Initiated Logout may return the browser: exact URLs, same rules as redirect URLs.
    #[schema(max_items = 50)]
    post_logout_redirect_urls: Vec<String>,
    /// Where Back-Channel Logout notices are POSTed (https, or http on loopback); null or empty for none.
    backchannel_logout_url: Option<String>,
    profile_query: String,
    #[schema(max_items = 50)]
    id_token_fields: Vec<String>,
    role_query: String,
    /// `array` or `csv`.
    role_format: Option<String>,
    /// One `CODE` or `CODE|https://…` per line, at most 200 lines.
    no_access_mapping: String,
    /// `implicit`, `password_confidential`, `password_public` (`authorization_code` is always on).
    grant_types: Vec<String>,
    /// `jwt_signing_key` (default) or `client_secret` (not for public registrations).
    id_token_hmac_key: Option<String>,
    /// On `PUT`, the `revision` the change was made from: if the registration was written
    /// since, the change is refused with 409 and nothing is saved. Without it the change
    /// applies to the registration as it is now. Ignored on `POST`.
    #[schema(minimum = 0)]
    revision: Option<u64>,
}

/// The body of `POST`/`PUT /admin/api/contacts`. Unknown fields are refused.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ContactInput {
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    is_staff: Option<bool>,
    is_sysadmin: Option<bool>,
    status: Option<String>,
    member_type: Option<String>,
    #[schema(max_items = 100)]
    roles: Option<Vec<String>>,
    /// At most 100 attributes, values up to 2000 characters.
    attributes: Option<BTreeMap<String, String>>,
    external_id: Option<String>,
    /// Write-only: hashed before it is stored.
    #[schema(format = Password)]
    password: Option<String>,
    /// On `PUT`, the `revision` the change was made from: if the contact was written since,
    /// the change is refused with 409 and nothing is saved. Without it the change applies to
    /// the contact as it is now. Ignored on `POST`.
    #[schema(minimum = 0)]
    revision: Option<u64>,
}

#[derive(ToSchema)]
#[schema(as = ColumnInput)]
#[allow(dead_code)]
pub struct ColumnInput {
    source: String,
    alias: String,
}

/// The body of `POST /admin/api/queries` and `PUT /admin/api/queries/{path}`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct QueryInput {
    path: String,
    /// `profile` or `role`.
    kind: String,
    parameter: Option<String>,
    #[schema(min_items = 1, max_items = 100)]
    columns: Vec<ColumnInput>,
    /// On `PUT`, the `revision` the change was made from: if the query was written since, the
    /// change is refused with 409 and nothing is saved. Without it the change applies to the
    /// query as it is now. Ignored on `POST`.
    #[schema(minimum = 0)]
    revision: Option<u64>,
}

/// The body of `PUT /admin/api/oidc-settings`. A missing `client_secret` keeps the stored one.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct OidcSettingsInput {
    /// `disabled`, `test` or `enabled`.
    mode: Option<String>,
    provider: Option<String>,
    name: Option<String>,
    client_id: Option<String>,
    #[schema(format = Password)]
    client_secret: Option<String>,
    well_known_url: Option<String>,
    tenant: Option<String>,
    authority_url: Option<String>,
    external_claim_id: Option<String>,
    redirect_login_url: Option<String>,
    login_hint: Option<bool>,
    require_for: Option<String>,
    claim_type: Option<String>,
    claim_value: Option<String>,
    forgot_email_body: Option<String>,
    /// `off` (default), `optional`, `required_for_staff` or `required_for_everyone`. OIDC and
    /// MFA exclude each other: turning MFA on while OIDC is on turns OIDC off, and the reverse,
    /// each only with `confirm_switch`; turning both on at once is refused.
    mfa: Option<String>,
    /// Off by default: link an unlinked provider identity to the one contact with the same
    /// email when the ID token proves the email (`email_verified`, Entra's `xms_edov`, or a
    /// `upn` in `verified_domains`), never a system administrator. Only for the
    /// organisation's own single-tenant directory: unverified emails let others take over
    /// accounts (the nOAuth class).
    link_verified_email: Option<bool>,
    /// Entra ID: the domains verified in the tenant, e.g. `org.example`.
    #[schema(max_items = 50)]
    verified_domains: Option<Vec<String>>,
    /// Confirms turning OIDC on.
    confirm: Option<bool>,
    /// Confirms that turning MFA on turns OIDC off, or turning OIDC on turns MFA off.
    confirm_switch: Option<bool>,
}
