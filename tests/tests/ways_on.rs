//! No dead ends: browsers get pages (not JSON) for unknown addresses, the icon they ask for,
//! a member who opens the admin and an admin on a missing admin page get ways on, the consent
//! page says what is shared and offers "Not you?", the No Access page leads somewhere.

use gatehouse_tests::{
    Client, Kind, MEMBER_PASSWORD, TestServer, add_member, authorize_url, both_backends, form_value, register_app,
    start,
};

async fn get(server: &TestServer, path: &str, accept: &str) -> reqwest::Response {
    reqwest::Client::new().get(format!("{}{path}", server.url)).header("accept", accept).send().await.unwrap()
}

fn hrefs(page: &str) -> Vec<String> {
    page.split("href=\"").skip(1).filter_map(|rest| rest.split('"').next()).map(|h| h.replace("&amp;", "&")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsers_get_pages_and_apis_get_json() {
    let server = start(Kind::Embedded).await;
    let page = get(&server, "/no/such/page", "text/html,application/xhtml+xml,*/*;q=0.8").await;
    assert_eq!(page.status(), 404);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let text = page.text().await.unwrap();
    assert!(text.contains("Page not found") && hrefs(&text).contains(&"/".to_owned()), "{text}");
    let json = get(&server, "/no/such/page", "application/json").await;
    assert_eq!(json.status(), 404);
    assert_eq!(json.json::<serde_json::Value>().await.unwrap()["code"], "not_found");
    let refused = reqwest::Client::new()
        .delete(format!("{}/signin", server.url))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 405);
    assert!(refused.text().await.unwrap().contains("<h1>Not allowed</h1>"));

    let icon = get(&server, "/favicon.ico", "image/avif,image/webp,*/*").await;
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert!(icon.text().await.unwrap().starts_with("<svg"));
}

both_backends!(members_and_admins_are_never_stuck, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Member Portal", &[], "array").await;
    add_member(&admin, "bsmith", "A").await;
    add_member(&admin, "suspended", "S").await;

    // A member who opens the admin: their account or sign out, not a sign-in loop.
    let mut member = Client::new(&server);
    assert_eq!(member.sign_in("bsmith", MEMBER_PASSWORD).await.status(), 303);
    let refused = member.get_raw("/admin/registrations").await;
    assert_eq!(refused.status(), 403);
    let page = refused.text().await.unwrap();
    let links = hrefs(&page);
    assert!(links.contains(&"/account".to_owned()) && links.contains(&"/signout".to_owned()), "{links:?}");
    assert!(!links.contains(&"/signin".to_owned()), "signed in already: {links:?}");
    assert!(page.contains("signed in as bsmith"), "{page}");

    // An administrator on a missing admin page: back to the admin.
    let missing = admin.get_raw("/admin/no-such-page").await;
    assert_eq!(missing.status(), 404);
    assert!(hrefs(&missing.text().await.unwrap()).contains(&"/admin".to_owned()));

    // Consent: what is shared, in words, with the member's roles; and "Not you?".
    let consent = member.get_raw(&authorize_url(&app, &[])).await;
    assert_eq!(consent.status(), 200);
    let page = consent.text().await.unwrap();
    for shared in ["Given name", "Family name", "Email", "Member type", "Access restriction code", "Address locality"] {
        assert!(page.contains(shared), "the consent page names {shared}: {page}");
    }
    assert!(page.contains("Your roles: Staff, Volunteer"), "{page}");
    let not_you = hrefs(&page).into_iter().find(|h| h.starts_with("/signin?force=1&return_to=")).expect("Not you?");
    let again = member.get_raw(&not_you).await;
    assert_eq!(again.status(), 200, "a fresh sign-in page even though signed in");
    assert!(again.text().await.unwrap().contains("name=\"return_to\" value=\"/authorize?"));

    // The account page: what each app may see, in words, and a withdrawal that says it happened.
    let mut allowed = Client::new(&server);
    assert_eq!(allowed.authorize(&authorize_url(&app, &[]), "bsmith").await.status(), 303);
    let account = allowed.get_raw("/account").await.text().await.unwrap();
    assert!(account.contains("Your identity, your profile") && !account.contains("openid"), "{account}");
    assert!(account.contains("Withdraw access"), "{account}");
    let csrf = gatehouse_tests::form_value(&account, "csrf_token").unwrap();
    let withdrawn = allowed
        .http
        .post(allowed.url("/account/consents/withdraw"))
        .form(&[("csrf_token", csrf.as_str()), ("client_id", app.client_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(withdrawn.status(), 303);
    let after = allowed.get_raw(&gatehouse_tests::location(&withdrawn)).await.text().await.unwrap();
    assert!(after.contains("Member Portal no longer has access to your account"), "{after}");
    assert!(after.contains("You have not allowed any app"), "{after}");

    // No Access: back to the app (which learns access_denied), the account, or sign out.
    let mut suspended = Client::new(&server);
    assert_eq!(suspended.sign_in("suspended", MEMBER_PASSWORD).await.status(), 303);
    let denied = suspended.get_raw(&authorize_url(&app, &[("state", "s1")])).await;
    assert_eq!(denied.status(), 403);
    let links = hrefs(&denied.text().await.unwrap());
    let back = links.iter().find(|h| h.starts_with(&app.redirect_uri)).expect("a way back to the app");
    assert!(back.contains("error=access_denied") && back.contains("state=s1"), "{back}");
    assert!(links.contains(&"/account".to_owned()) && links.contains(&"/signout".to_owned()), "{links:?}");
});

both_backends!(the_contact_form_shows_every_problem_at_once, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let page = admin.get_raw("/admin/contacts/new").await.text().await.unwrap();
    let mut form = vec![("csrf_token".to_owned(), form_value(&page, "csrf_token").unwrap())];
    for (name, value) in
        [("username", "has space"), ("email", "not-an-email"), ("status", "A?"), ("first_name", "Kept")]
    {
        form.push((name.into(), value.into()));
    }
    let answer = admin.http.post(admin.url("/admin/contacts/new")).form(&form).send().await.unwrap();
    assert_eq!(answer.status(), 422);
    let text = answer.text().await.unwrap();
    for message in ["must not contain spaces", "is not an email address", "must be letters, digits or _"] {
        assert!(text.contains(message), "{message} is shown with the others: {text}");
    }
    assert!(text.contains(r#"value="Kept""#), "input kept");
    let (_, listed) = admin.get("/admin/api/contacts?search=has%20space").await;
    assert_eq!(listed["contacts"].as_array().map(Vec::len), Some(0), "nothing was created: {listed}");
});
