//! A contact's provider identity through the admin API (link, unlink, conflicts, the OIDC log),
//! and the sign-in lookup that never guesses between two contacts sharing an email.

use gatehouse_tests::{Client, TestServer, both_backends};
use serde_json::{Value, json};

async fn contact(admin: &Client, username: &str, email: &str) -> String {
    let body = json!({
        "username": username, "email": email, "first_name": "Erin", "last_name": "Smith",
        "is_staff": true, "is_sysadmin": false, "password": "contact-password-123",
    });
    let (status, created) = admin.post("/admin/api/contacts", &body).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

fn link_path(id: &str) -> String {
    format!("/admin/api/contacts/{id}/external-id")
}

both_backends!(administrators_link_and_unlink_provider_identities, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let erin = contact(&admin, "esmith", "e.smith@org.example").await;
    let other = contact(&admin, "other", "other@org.example").await;
    let identity = "https://login.example/tenant/v2.0|subject-1";

    let (status, error) = admin.put(&link_path(&erin), &json!({ "external_id": "  " })).await;
    assert_eq!((status, error["field"].as_str()), (422, Some("external_id")), "{error}");
    let (status, _) = admin.put(&link_path(&erin), &json!({ "external_id": identity, "extra": 1 })).await;
    assert_eq!(status, 400, "unknown fields are refused");
    let (_, unchanged) = admin.get(&format!("/admin/api/contacts/{erin}")).await;
    assert_eq!(unchanged["external_id"], Value::Null, "a refused request changes nothing");

    let (status, linked) = admin.put(&link_path(&erin), &json!({ "external_id": identity })).await;
    assert_eq!((status, linked["external_id"].as_str()), (200, Some(identity)), "{linked}");
    let (status, _) = admin.put(&link_path(&erin), &json!({ "external_id": identity })).await;
    assert_eq!(status, 200, "linking the same identity again is a no-op");
    let (status, error) = admin.put(&link_path(&erin), &json!({ "external_id": "https://other|x" })).await;
    assert_eq!(status, 409, "already linked to another identity: unlink first: {error}");
    let (status, error) = admin.put(&link_path(&other), &json!({ "external_id": identity })).await;
    assert_eq!(status, 409, "one identity, one contact: {error}");
    let (status, _) =
        admin.put(&link_path("6c1f7b43-0000-4000-8000-000000000000"), &json!({ "external_id": "a" })).await;
    assert_eq!(status, 404);

    let (status, unlinked) = admin.delete(&link_path(&erin)).await;
    assert_eq!((status, &unlinked["external_id"]), (200, &Value::Null), "{unlinked}");
    let (status, moved) = admin.put(&link_path(&other), &json!({ "external_id": identity })).await;
    assert_eq!((status, moved["external_id"].as_str()), (200, Some(identity)), "the identity is free again");

    let (_, logs) = admin.get("/admin/api/logs?contains=esmith").await;
    let messages: Vec<&str> =
        logs["entries"].as_array().unwrap().iter().filter_map(|e| e["message"].as_str()).collect();
    assert!(messages.iter().any(|m| m.contains("unlinked")), "{messages:?}");
    let unlink =
        logs["entries"].as_array().unwrap().iter().find(|e| e["message"].as_str().unwrap().contains("unlinked"));
    let details = &unlink.unwrap()["details"];
    assert_eq!(
        (details["administrator"].as_str(), details["previous_external_id"].as_str()),
        (Some("admin"), Some(identity))
    );
});

both_backends!(a_shared_email_never_signs_in_as_either_contact, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    contact(&admin, "twin-one", "twins@org.example").await;
    contact(&admin, "twin-two", "twins@org.example").await;
    let mut browser = Client::new(&server);
    let refused = browser.sign_in("twins@org.example", "contact-password-123").await;
    assert_eq!(refused.status(), 401);
    assert!(refused.text().await.unwrap().contains("Enter your username instead"));
    let mut browser = Client::new(&server);
    assert_eq!(browser.sign_in("twin-two", "contact-password-123").await.status(), 303);
});
