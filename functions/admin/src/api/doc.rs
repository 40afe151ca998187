//! The OpenAPI document, derived by utoipa from the handlers' annotations, the view types and
//! the request-body schemas in [`super::schemas`] (tests check they list every draft field).
//! The function serves a copy made by the tests ([`DOCUMENT`]), so it links the text rather
//! than the code that builds it, a fifth of a megabyte of the package.

/// The document served at `GET /admin/api/openapi.json`: `functions/admin/openapi.json`, which
/// the test `the_served_document_is_the_derived_one` keeps equal to the derived one
/// (`UPDATE_OPENAPI=1 cargo test -p gatehouse-admin served_document` rewrites it).
pub const DOCUMENT: &str = include_str!("../../openapi.json");

#[cfg(test)]
mod derived;

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use utoipa::ToSchema;

    use serde::Serialize;

    use super::super::schemas::*;
    use super::super::views::*;
    use super::derived::document;
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
