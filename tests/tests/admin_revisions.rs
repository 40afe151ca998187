//! Revisions over the admin API and pages, on both storage backends: a change made from an
//! older copy of a contact, registration or query is refused (409) and saves nothing.

use gatehouse_tests::{Client, TestServer, both_backends, ensure_queries, form_value, register_app};
use serde_json::json;

both_backends!(a_contact_change_from_an_older_revision_is_refused, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let bob = json!({"username": "bsmith", "email": "bsmith@example.org", "first_name": "Bob", "last_name": "Smith"});
    let (status, created) = admin.post("/admin/api/contacts", &bob).await;
    assert_eq!((status, created["revision"].as_u64()), (201, Some(0)), "{created}");
    let path = format!("/admin/api/contacts/{}", created["id"].as_str().unwrap());
    // The page is opened at revision 0, then the API changes the email.
    let page_path = path.replace("/api", "");
    let page = admin.get_raw(&page_path).await.text().await.unwrap();
    assert_eq!(form_value(&page, "revision").as_deref(), Some("0"));

    let mut change = bob.clone();
    change["email"] = json!("robert@example.org");
    change["revision"] = json!(0);
    let (status, updated) = admin.put(&path, &change).await;
    assert_eq!((status, updated["revision"].as_u64()), (200, Some(1)), "{updated}");
    let (status, error) = admin.put(&path, &json!({"username": "bsmith", "first_name": "Rob", "revision": 0})).await;
    assert_eq!(status, 409, "{error}");
    let message = error["error"].as_str().unwrap_or_default();
    assert!(message.contains("now at revision 1") && message.contains("email, first_name"), "{error}");
    let (_, stored) = admin.get(&path).await;
    assert_eq!((stored["first_name"].as_str(), stored["revision"].as_u64()), (Some("Bob"), Some(1)), "nothing saved");
    let (status, _) =
        admin.put(&path, &json!({"username": "bsmith", "email": "robert@example.org", "revision": 7})).await;
    assert_eq!(status, 409, "a revision from the future is not the stored one either");

    // The page's form, from revision 0, typed over: refused, what was typed kept, over revision 1.
    let form = [
        ("csrf_token", form_value(&page, "csrf_token").unwrap()),
        ("revision", "0".to_owned()),
        ("username", "bsmith".to_owned()),
        ("email", "bsmith@example.org".to_owned()),
        ("first_name", "Bobby".to_owned()),
        ("last_name", "Smith".to_owned()),
        ("status", "A".to_owned()),
    ];
    let answer = admin.http.post(admin.url(&page_path)).form(&form).send().await.unwrap();
    assert_eq!(answer.status(), 409);
    let refused = answer.text().await.unwrap();
    assert!(refused.contains("Someone else changed this contact since you opened it"), "{refused}");
    assert!(refused.contains("It now differs from what you typed in: Email, First name."), "{refused}");
    assert!(refused.contains(r#"value="Bobby""#), "what was typed is kept");
    assert_eq!(form_value(&refused, "revision").as_deref(), Some("1"));
    let (_, stored) = admin.get(&path).await;
    assert_eq!(stored["email"], "robert@example.org", "nothing of the older form was saved");

    let mut again = form.to_vec();
    again[1].1 = "1".to_owned();
    let answer = admin.http.post(admin.url(&page_path)).form(&again).send().await.unwrap();
    assert_eq!(answer.status(), 303, "saved once the administrator has seen the newer revision");
    let (_, stored) = admin.get(&path).await;
    assert_eq!((stored["first_name"].as_str(), stored["revision"].as_u64()), (Some("Bobby"), Some(2)));
    let (status, updated) = admin.put(&path, &json!({"username": "bsmith", "first_name": "Bob"})).await;
    assert_eq!((status, updated["revision"].as_u64()), (200, Some(3)), "without a revision it applies to the latest");
});

both_backends!(a_registration_change_from_an_older_revision_is_refused, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Revised App", &[], "csv").await;
    let path = format!("/admin/api/registrations/{}", app.client_id);
    let page_path = path.replace("/api", "");
    let (_, opened) = admin.get(&path).await;
    assert_eq!(opened["revision"].as_u64(), Some(0), "{opened}");
    let page = admin.get_raw(&page_path).await.text().await.unwrap();
    assert_eq!(form_value(&page, "revision").as_deref(), Some("0"));

    let body = |name: &str, redirect: &str, revision: Option<u64>| {
        let mut body = json!({
            "name": name, "redirect_urls": [redirect], "profile_query": "$/SSO/ProfileData",
            "role_query": "$/SSO/RoleData", "role_format": "csv",
        });
        if let Some(revision) = revision {
            body["revision"] = json!(revision);
        }
        body
    };
    let redirect = app.redirect_uri.as_str();
    let (status, renamed) = admin.put(&path, &body("Renamed App", redirect, Some(0))).await;
    assert_eq!((status, renamed["revision"].as_u64()), (200, Some(1)), "{renamed}");
    // A credential regenerated is a change too: the record is written over.
    let (status, regenerated) = admin.post(&format!("{path}/regenerate-secret"), &json!({})).await;
    assert_eq!((status, regenerated["revision"].as_u64()), (200, Some(2)), "{regenerated}");
    let (status, error) = admin.put(&path, &body("Revised App", "https://elsewhere.example/cb", Some(0))).await;
    assert_eq!(status, 409, "{error}");
    let message = error["error"].as_str().unwrap_or_default();
    assert!(message.contains("now at revision 2") && message.contains("name, redirect_urls"), "{error}");
    let (_, stored) = admin.get(&path).await;
    assert_eq!((stored["name"].as_str(), stored["revision"].as_u64()), (Some("Renamed App"), Some(2)), "nothing saved");
    assert_eq!(stored["redirect_urls"][0], redirect);

    // The page's form, from revision 0, typed over: refused, what was typed kept, over revision 2.
    let form = [
        ("csrf_token", form_value(&page, "csrf_token").unwrap()),
        ("revision", "0".to_owned()),
        ("name", "Typed Name".to_owned()),
        ("redirect_urls", redirect.to_owned()),
        ("profile_query", "$/SSO/ProfileData".to_owned()),
        ("role_query", "$/SSO/RoleData".to_owned()),
        ("role_format", "csv".to_owned()),
        ("no_access_mapping", "S".to_owned()),
    ];
    let answer = admin.http.post(admin.url(&page_path)).form(&form).send().await.unwrap();
    assert_eq!(answer.status(), 409);
    let refused = answer.text().await.unwrap();
    assert!(refused.contains("Someone else changed this registration since you opened it"), "{refused}");
    assert!(refused.contains("It now differs from what you typed in: App / Integration Name"), "{refused}");
    assert!(refused.contains(r#"value="Typed Name""#), "what was typed is kept");
    assert_eq!(form_value(&refused, "revision").as_deref(), Some("2"));
    let mut again = form.to_vec();
    again[1].1 = "2".to_owned();
    let answer = admin.http.post(admin.url(&page_path)).form(&again).send().await.unwrap();
    assert_eq!(answer.status(), 303, "saved once the administrator has seen the newer revision");
    let (_, stored) = admin.get(&path).await;
    assert_eq!((stored["name"].as_str(), stored["revision"].as_u64()), (Some("Typed Name"), Some(3)));
    let (status, updated) = admin.put(&path, &body("Latest", redirect, None)).await;
    assert_eq!((status, updated["revision"].as_u64()), (200, Some(4)), "without a revision it applies to the latest");
});

both_backends!(a_query_change_from_an_older_revision_is_refused, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    ensure_queries(&admin).await;
    let path = "/admin/api/queries/$/SSO/RoleData";
    let (_, opened) = admin.get(path).await;
    assert_eq!(opened["revision"].as_u64(), Some(0), "{opened}");
    let page_path = "/admin/queries/edit?path=$/SSO/RoleData";
    let page = admin.get_raw(page_path).await.text().await.unwrap();
    assert_eq!(form_value(&page, "revision").as_deref(), Some("0"), "{page}");
    let body = |alias: &str, revision: Option<u64>| {
        let mut body =
            json!({"path": "$/SSO/RoleData", "kind": "role", "columns": [{"source": "roles", "alias": alias}]});
        if let Some(revision) = revision {
            body["revision"] = json!(revision);
        }
        body
    };
    let (status, changed) = admin.put(path, &body("Roles", Some(0))).await;
    assert_eq!((status, changed["revision"].as_u64()), (200, Some(1)), "{changed}");
    let (status, error) = admin.put(path, &body("Role", Some(0))).await;
    assert_eq!(status, 409, "{error}");
    let message = error["error"].as_str().unwrap_or_default();
    assert!(
        message.contains("now at revision 1") && message.contains("(where it differs from this change: columns)"),
        "{error}"
    );
    let (_, stored) = admin.get(path).await;
    assert_eq!(stored["columns"][0]["alias"], "Roles", "nothing saved");

    let form = [
        ("csrf_token", form_value(&page, "csrf_token").unwrap()),
        ("revision", "0".to_owned()),
        ("kind", "role".to_owned()),
        ("columns", "roles AS Typed".to_owned()),
    ];
    let answer = admin.http.post(admin.url(page_path)).form(&form).send().await.unwrap();
    let refused = answer.text().await.unwrap();
    assert!(refused.contains("Someone else changed this query since you opened it"), "{refused}");
    assert!(refused.contains("It now differs from what you typed in: Columns."), "{refused}");
    assert!(refused.contains("roles AS Typed"), "what was typed is kept");
    assert_eq!(form_value(&refused, "revision").as_deref(), Some("1"));
    let mut again = form.to_vec();
    again[1].1 = "1".to_owned();
    let answer = admin.http.post(admin.url(page_path)).form(&again).send().await.unwrap();
    assert_eq!(answer.status(), 303, "saved once the administrator has seen the newer revision");
    let (_, stored) = admin.get(path).await;
    assert_eq!((stored["columns"][0]["alias"].as_str(), stored["revision"].as_u64()), (Some("Typed"), Some(2)));
    let (status, updated) = admin.put(path, &body("Role", None)).await;
    assert_eq!((status, updated["revision"].as_u64()), (200, Some(3)), "without a revision it applies to the latest");
});
