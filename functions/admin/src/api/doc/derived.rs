//! The derivation of the admin API's OpenAPI document (tests only: the function serves the
//! copy they keep, [`super::DOCUMENT`]).

use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::schemas::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse admin API",
        version = "0.1.0",
        description = "App registrations, contacts, saved queries, ID token signing, the OpenID Connect (Entra ID / Okta) settings and their log, and the outbox. For system administrators. Authenticate with the session cookie from /signin (cookie-authenticated writes send X-CSRF-Token, from GET /admin/api/session), or with a bearer token: POST /token with grant_type=password, client_id=gatehouse-admin, scope=admin and a system administrator's username and password. Errors are {\"error\": message, \"code\": code, \"field\": field?}."
    ),
    paths(
        crate::api::session, crate::api::outbox,
        crate::api::registrations::list, crate::api::registrations::create, crate::api::registrations::read,
        crate::api::registrations::update, crate::api::registrations::delete,
        crate::api::registrations::regenerate_secret, crate::api::registrations::regenerate_signing_key,
        crate::api::contacts::list, crate::api::contacts::create, crate::api::contacts::read, crate::api::contacts::update,
        crate::api::contacts::delete, crate::api::contacts::set_password, crate::api::contacts::link_identity,
        crate::api::contacts::unlink_identity,
        crate::api::contacts::reset_mfa,
        crate::api::sessions::list, crate::api::sessions::sign_out_everywhere,
        crate::api::queries::list, crate::api::queries::create, crate::api::queries::validate, crate::api::queries::read,
        crate::api::queries::update, crate::api::queries::delete,
        crate::api::signing::read, crate::api::signing::set_algorithm, crate::api::signing::rotate,
        crate::api::oidc::read, crate::api::oidc::save, crate::api::oidc::logs,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security, &ErrorAnswers),
    security(("session" = []), ("bearer" = []))
)]
struct ApiDoc;

/// The document as derived from the code.
pub(super) fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

struct Security;

/// The error answers any operation may give, each with the one error body: documented once
/// here rather than on every handler, so no status the API sends is undocumented.
struct ErrorAnswers;

const ERROR_ANSWERS: &[(&str, &str)] = &[
    ("400", "The request is malformed (not JSON, wrong shape, unknown field)"),
    ("401", "No valid session or bearer token"),
    ("403", "Not a system administrator, or a cookie-authenticated write without X-CSRF-Token"),
    ("404", "No such item"),
    ("405", "This method is not allowed here (the Allow header lists those that are)"),
    ("408", "The request body did not arrive in full"),
    ("409", "Conflicts with what is stored (a name or path already taken, a change not possible now)"),
    ("413", "The request body is too large"),
    ("422", "A field breaks a rule; `field` names it and nothing was stored"),
    ("500", "Something went wrong on our side; it has been logged"),
    ("503", "Storage is temporarily unavailable; try again in a moment"),
];

impl Modify for ErrorAnswers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        for item in doc.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                for (status, description) in ERROR_ANSWERS {
                    let response = ResponseBuilder::new()
                        .description(*description)
                        .content(
                            "application/json",
                            ContentBuilder::new().schema(Some(Ref::from_schema_name("Error"))).build(),
                        )
                        .build();
                    operation.responses.responses.entry((*status).to_owned()).or_insert(RefOr::T(response));
                }
            }
        }
    }
}

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "gatehouse_session",
                "__Host-gatehouse_session over https",
            ))),
        );
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("An access token from POST /token (application/x-www-form-urlencoded) with grant_type=password, client_id=gatehouse-admin (a public client: no secret), scope=admin, username and password of a system administrator. No CSRF token is needed with it.".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
    }
}
