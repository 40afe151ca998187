//! A new password ends everything signed in with the old one: the contact's browser
//! sessions, admin API bearer tokens and refresh tokens — whoever changed it.

use gatehouse_tests::{ADMIN_PASSWORD, Client, MEMBER_PASSWORD, TestServer, add_member, both_backends};
use serde_json::json;

async fn account_status(client: &Client) -> u16 {
    client.get_raw("/account").await.status().as_u16()
}

/// An admin API token from the `gatehouse-admin` client: (access token, refresh token).
async fn admin_tokens(server: &TestServer, password: &str) -> (String, String) {
    let response = reqwest::Client::new()
        .post(format!("{}/token", server.url))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "gatehouse-admin"),
            ("username", "admin"),
            ("password", password),
            ("scope", "admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    (body["access_token"].as_str().unwrap().to_owned(), body["refresh_token"].as_str().unwrap().to_owned())
}

async fn api_status(server: &TestServer, bearer: &str) -> u16 {
    let response = reqwest::Client::new()
        .get(format!("{}/admin/api/registrations", server.url))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

async fn refresh_status(server: &TestServer, refresh_token: &str) -> u16 {
    let response = reqwest::Client::new()
        .post(format!("{}/token", server.url))
        .form(&[("grant_type", "refresh_token"), ("client_id", "gatehouse-admin"), ("refresh_token", refresh_token)])
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

both_backends!(a_new_password_ends_the_members_sessions, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let id = add_member(&admin, "pat", "A").await;
    let mut laptop = Client::new(&server);
    let mut phone = Client::new(&server);
    assert_eq!(laptop.sign_in("pat", MEMBER_PASSWORD).await.status(), 303);
    assert_eq!(phone.sign_in("pat", MEMBER_PASSWORD).await.status(), 303);
    assert_eq!((account_status(&laptop).await, account_status(&phone).await), (200, 200));

    let (status, body) =
        admin.post(&format!("/admin/api/contacts/{id}/password"), &json!({"password": "a-new-password-456"})).await;
    assert!(status == 200 || status == 204, "{status} {body}");

    assert_eq!(account_status(&laptop).await, 303, "the laptop's session ended");
    assert_eq!(account_status(&phone).await, 303, "and the phone's");
    assert_eq!(admin.get("/admin/api/session").await.0, 200, "the administrator who changed it is unaffected");
    let mut again = Client::new(&server);
    assert_eq!(again.sign_in("pat", "a-new-password-456").await.status(), 303);
    assert_eq!(account_status(&again).await, 200, "a sign-in with the new password works");
});

both_backends!(a_new_admin_password_ends_its_api_tokens, |server: TestServer| async move {
    let (access, refresh) = admin_tokens(&server, ADMIN_PASSWORD).await;
    assert_eq!(api_status(&server, &access).await, 200);
    let browser = Client::admin(&server).await;
    let admin_id = browser.get("/admin/api/session").await.1["contact_id"].as_str().unwrap().to_owned();

    let response = reqwest::Client::new()
        .post(format!("{}/admin/api/contacts/{admin_id}/password", server.url))
        .bearer_auth(&access)
        .json(&json!({"password": "another-admin-password-789"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());

    assert_eq!(api_status(&server, &access).await, 401, "the bearer token ended");
    assert_eq!(refresh_status(&server, &refresh).await, 400, "and its refresh token");
    assert_eq!(browser.get("/admin/api/session").await.0, 401, "and the browser session");
    let (fresh, _) = admin_tokens(&server, "another-admin-password-789").await;
    assert_eq!(api_status(&server, &fresh).await, 200);
});
