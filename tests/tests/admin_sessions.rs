//! A contact's sessions in the admin API, on both backends: listed with the apps signed in
//! through each, ended all at once (apps notified, tokens revoked), and ended when the contact
//! is deleted.

use std::time::Duration;

use gatehouse_tests::*;
use serde_json::{Value, json};

/// Signs in to `app` in `member`'s browser; returns the refresh token.
async fn sign_in_to(member: &mut Client, app: &App, username: &str) -> String {
    member.code_flow(app, username).await["refresh_token"].as_str().unwrap().to_owned()
}

async fn refresh_status(member: &Client, app: &App, refresh: &str) -> u16 {
    member.token(app, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await.0
}

both_backends!(sessions_are_listed_and_signed_out_everywhere, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let (url, mut notices) = post_receiver().await;
    let notified = notified_app(&admin, "Notified App", &url).await;
    let plain = register_app(&admin, "Plain App", &[], "array").await;
    let id = add_member(&admin, "sess1", "A").await;

    let mut laptop = Client::new(&server);
    let laptop_refresh = sign_in_to(&mut laptop, &notified, "sess1").await;
    sign_in_to(&mut laptop, &plain, "sess1").await;
    let mut phone = Client::new(&server);
    let phone_refresh = sign_in_to(&mut phone, &plain, "sess1").await;

    let (status, listed) = admin.get(&format!("/admin/api/contacts/{id}/sessions")).await;
    assert_eq!(status, 200, "{listed}");
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{listed}");
    let mut apps: Vec<Vec<&str>> = sessions
        .iter()
        .map(|s| {
            let mut names: Vec<&str> =
                s["apps"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
            names.sort();
            names
        })
        .collect();
    apps.sort();
    assert_eq!(apps, [vec!["Notified App", "Plain App"], vec!["Plain App"]], "the apps signed in through each");
    assert!(sessions[0]["sid"].is_string() && sessions[0]["signed_in_at"].is_string());

    let (status, ended) = admin.post(&format!("/admin/api/contacts/{id}/sign-out-everywhere"), &json!({})).await;
    assert_eq!((status, ended), (200, json!({"ended": 2})));
    for browser in [&laptop, &phone] {
        assert_eq!(browser.get_raw("/account").await.status(), 303, "every browser is signed out");
    }
    assert_eq!(refresh_status(&laptop, &notified, &laptop_refresh).await, 400, "tokens stop working");
    assert_eq!(refresh_status(&phone, &plain, &phone_refresh).await, 400);
    let notice = tokio::time::timeout(Duration::from_secs(10), notices.recv()).await.unwrap().unwrap();
    assert!(notice.starts_with("logout_token="), "the app is told");
    let (_, listed) = admin.get(&format!("/admin/api/contacts/{id}/sessions")).await;
    assert_eq!(listed["sessions"], json!([]));

    let unknown = "00000000-0000-4000-8000-000000000000";
    assert_eq!(admin.get(&format!("/admin/api/contacts/{unknown}/sessions")).await.0, 404);
    assert_eq!(admin.post(&format!("/admin/api/contacts/{unknown}/sign-out-everywhere"), &json!({})).await.0, 404);
});

both_backends!(deleting_a_contact_ends_their_sessions, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let (url, mut notices) = post_receiver().await;
    let app = notified_app(&admin, "Told App", &url).await;
    let id = add_member(&admin, "sess2", "A").await;
    let mut member = Client::new(&server);
    sign_in_to(&mut member, &app, "sess2").await;
    assert_eq!(member.get_raw("/account").await.status(), 200);
    assert_eq!(admin.delete(&format!("/admin/api/contacts/{id}")).await.0, 204);
    assert_eq!(member.get_raw("/account").await.status(), 303);
    let notice: Value = json!(tokio::time::timeout(Duration::from_secs(10), notices.recv()).await.unwrap().unwrap());
    assert!(notice.as_str().unwrap().starts_with("logout_token="), "the app is told the session ended");
});

both_backends!(the_contact_page_lists_sessions_and_signs_out_everywhere, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Paged App", &[], "array").await;
    let id = add_member(&admin, "sess3", "A").await;
    let mut member = Client::new(&server);
    let refresh = sign_in_to(&mut member, &app, "sess3").await;
    let contact_page = admin.get_raw(&format!("/admin/contacts/{id}")).await.text().await.unwrap();
    assert!(contact_page.contains(&format!("/admin/contacts/{id}/sessions")), "the contact page links its sessions");
    let page = admin.get_raw(&format!("/admin/contacts/{id}/sessions")).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Paged App") && page.contains("Sign out everywhere"), "{page}");
    let form = [("csrf_token", form_value(&page, "csrf_token").unwrap())];
    let done =
        admin.http.post(admin.url(&format!("/admin/contacts/{id}/sign-out-everywhere"))).form(&form).send().await;
    let done = done.unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(member.get_raw("/account").await.status(), 303, "signed out");
    assert_eq!(refresh_status(&member, &app, &refresh).await, 400);
    let after = admin.get_raw(&location(&done)).await.text().await.unwrap();
    assert!(after.contains("Every session of the contact was ended.") && after.contains("No active sessions."));
    let forged = admin.http.post(admin.url(&format!("/admin/contacts/{id}/sign-out-everywhere")));
    let forged = forged.form(&[("csrf_token", "wrong")]).send().await.unwrap();
    assert_eq!(forged.status(), 403, "a wrong CSRF token is refused");
});

both_backends!(a_status_an_app_denies_ends_the_sessions, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Mapped App", &[], "array").await; // No Access Mapping: S, I|…
    let id = add_member(&admin, "sess4", "A").await;
    let mut member = Client::new(&server);
    let refresh = sign_in_to(&mut member, &app, "sess4").await;
    let path = format!("/admin/api/contacts/{id}");
    let (_, current) = admin.get(&path).await;
    let mut body = json!({
        "username": current["username"], "email": current["email"], "first_name": current["first_name"],
        "last_name": current["last_name"], "status": "B", "member_type": current["member_type"],
        "roles": current["roles"], "attributes": current["attributes"],
    });
    assert_eq!(admin.put(&path, &body).await.0, 200);
    assert_eq!(member.get_raw("/account").await.status(), 200, "a status no app lists changes nothing");
    body["status"] = json!("S");
    let (status, saved) = admin.put(&path, &body).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(member.get_raw("/account").await.status(), 303, "a status the app denies ends the session");
    assert_eq!(refresh_status(&member, &app, &refresh).await, 400);
});
