//! The OpenAPI document, derived by utoipa from the handlers' annotations, the view types and
//! the request-body schemas in [`super::schemas`] (tests check they list every draft field).
//! The function serves a copy made by the tests ([`DOCUMENT`]), so it links the text rather
//! than the code that builds it, a fifth of a megabyte of the package.

#[cfg(test)]
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
#[cfg(test)]
use utoipa::{Modify, OpenApi};

#[cfg(test)]
use super::schemas::ErrorBody;

/// The document served at `GET /admin/api/openapi.json`: `functions/admin/openapi.json`, which
/// the test `the_served_document_is_the_derived_one` keeps equal to the derived one
/// (`UPDATE_OPENAPI=1 cargo test -p gatehouse-admin served_document` rewrites it).
pub const DOCUMENT: &str = include_str!("../../openapi.json");

#[cfg(test)]
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse admin API",
        version = "0.1.0",
        description = "App registrations, contacts, saved queries, ID token signing, the OpenID Connect (Entra ID / Okta) settings and their log, and the outbox. For system administrators. Authenticate with the session cookie from /signin (cookie-authenticated writes send X-CSRF-Token, from GET /admin/api/session), or with a bearer token: POST /token with grant_type=password, client_id=gatehouse-admin, scope=admin and a system administrator's username and password. Errors are {\"error\": message, \"code\": code, \"field\": field?}."
    ),
    paths(
        super::session, super::outbox,
        super::registrations::list, super::registrations::create, super::registrations::read,
        super::registrations::update, super::registrations::delete,
        super::registrations::regenerate_secret, super::registrations::regenerate_signing_key,
        super::contacts::list, super::contacts::create, super::contacts::read, super::contacts::update,
        super::contacts::delete, super::contacts::set_password, super::contacts::link_identity,
        super::contacts::unlink_identity,
        super::contacts::reset_mfa,
        super::sessions::list, super::sessions::sign_out_everywhere,
        super::queries::list, super::queries::create, super::queries::validate, super::queries::read,
        super::queries::update, super::queries::delete,
        super::signing::read, super::signing::set_algorithm, super::signing::rotate,
        super::oidc::read, super::oidc::save, super::oidc::logs,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security, &ErrorAnswers),
    security(("session" = []), ("bearer" = []))
)]
struct ApiDoc;

/// The document as derived from the code.
#[cfg(test)]
fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[cfg(test)]
struct Security;

/// The error answers any operation may give, each with the one error body: documented once
/// here rather than on every handler, so no status the API sends is undocumented.
#[cfg(test)]
struct ErrorAnswers;

#[cfg(test)]
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

#[cfg(test)]
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

#[cfg(test)]
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

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use utoipa::ToSchema;

    use serde::Serialize;

    use super::super::schemas::*;
    use super::super::views::*;
    use super::*;

    fn schemas() -> Value {
        serde_json::to_value(document()).unwrap()["components"]["schemas"].clone()
    }

    /// Every key the sample sends is a property of its schema in the document.
    fn assert_listed<T: Serialize + ToSchema>(sample: &T) {
        let name = T::name();
        let schemas = schemas();
        let properties = schemas[name.as_ref()]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name} has no schema in the document"))
            .clone();
        let sent = serde_json::to_value(sample).unwrap();
        for key in sent.as_object().unwrap().keys() {
            assert!(properties.contains_key(key), "{name}.{key} is sent but not in the OpenAPI document");
        }
    }

    #[test]
    fn the_served_document_is_the_derived_one() {
        // Compact: the copy is linked into the function.
        let derived = serde_json::to_string(&document()).unwrap() + "\n";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(path, &derived).unwrap();
            return;
        }
        assert!(
            DOCUMENT == derived,
            "{path} is not what the code derives: run UPDATE_OPENAPI=1 cargo test -p gatehouse-admin served_document"
        );
    }

    #[test]
    fn every_reference_resolves() {
        let document = serde_json::to_string(&document()).unwrap();
        let schemas = schemas();
        for reference in document.split("\"#/components/schemas/").skip(1) {
            let name = &reference[..reference.find('"').unwrap()];
            assert!(schemas.get(name).is_some(), "{name} is referred to but not in components");
        }
    }

    #[test]
    fn every_view_field_is_documented() {
        assert_listed(&SessionView::default());
        assert_listed(&RegistrationView::default());
        assert_listed(&IgnoredFieldView::default());
        assert_listed(&RegistrationList::default());
        assert_listed(&ContactView::default());
        assert_listed(&ContactList::default());
        assert_listed(&QueryView::default());
        assert_listed(&ColumnView::default());
        assert_listed(&QueryList::default());
        assert_listed(&ParameterView::default());
        assert_listed(&PreviewView { username: "a".into(), row: Some(Default::default()), rows: Some(Vec::new()) });
        assert_listed(&ValidationView { preview: Some(PreviewView::default()), ..ValidationView::default() });
        assert_listed(&SigningView::default());
        assert_listed(&SigningKeyView::default());
        assert_listed(&SettingsView::default());
        assert_listed(&LogPageView::default());
        assert_listed(&LogEntryView::default());
        assert_listed(&OutboxView::default());
        assert_listed(&MailView::default());
        assert_listed(&super::super::sessions::MemberSessionList { sessions: vec![Default::default()] });
        assert_listed(&super::super::sessions::MemberSessionView {
            apps: vec![Default::default()],
            ..Default::default()
        });
        assert_listed(&super::super::sessions::SessionAppView::default());
        assert_listed(&super::super::sessions::SignedOutView::default());
        assert_listed(&ErrorBody { error: String::new(), code: String::new(), field: Some(String::new()) });
    }

    #[test]
    fn inputs_list_every_draft_field() {
        let draft = gatehouse::registration::RegistrationDraft::default();
        let schemas = schemas();
        for key in serde_json::to_value(&draft).unwrap().as_object().unwrap().keys() {
            assert!(schemas["RegistrationInput"]["properties"].get(key).is_some(), "RegistrationInput lacks {key}");
        }
    }

    #[test]
    fn nulls_sent_are_nullable_and_paths_are_listed() {
        let doc = serde_json::to_value(document()).unwrap();
        let key = &doc["components"]["schemas"]["Registration"]["properties"]["jwt_signing_key"];
        assert!(key.to_string().contains("null"), "jwt_signing_key must be nullable: {key}");
        for path in [
            "/admin/api/session",
            "/admin/api/queries/{path}",
            "/admin/api/logs",
            "/admin/api/outbox",
            "/admin/api/contacts/{id}/sessions",
            "/admin/api/contacts/{id}/sign-out-everywhere",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} missing");
        }
    }
}
