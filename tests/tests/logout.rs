//! RP-Initiated Logout 1.0 at `/signout` over HTTP, on both backends: a valid `id_token_hint`
//! for the session signs out and returns to the registered URL with `state`; everything else
//! either asks first or is refused without a redirect, and changes nothing.

use gatehouse_tests::*;
use serde_json::{Value, json};

const BYE: &str = "https://app.example.org/signed-out";

/// A registration with a post-logout redirect URL.
async fn app_with_logout(admin: &Client, name: &str) -> App {
    let app = register_app(admin, name, &[], "array").await;
    let changes = json!({ "post_logout_redirect_urls": [BYE, "http://127.0.0.1:9/bye"] });
    let (status, updated) = edit_registration(admin, &app, changes).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["post_logout_redirect_urls"], json!([BYE, "http://127.0.0.1:9/bye"]));
    app
}

/// Signs `username` in to `app` through the code flow; returns the browser and the ID token.
async fn signed_in(server: &TestServer, app: &App, username: &str) -> (Client, String) {
    let mut member = Client::new(server);
    let tokens = member.code_flow(app, username).await;
    (member, tokens["id_token"].as_str().unwrap().to_owned())
}

async fn session_alive(member: &Client) -> bool {
    member.get_raw("/account").await.status() == 200
}

fn logout_url(pairs: &[(&str, &str)]) -> String {
    format!("/signout?{}", url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish())
}

both_backends!(a_hint_for_the_session_signs_out_and_returns_with_state, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = app_with_logout(&admin, "Logout App").await;
    add_member(&admin, "lo1", "A").await;
    let (member, id_token) = signed_in(&server, &app, "lo1").await;
    assert!(session_alive(&member).await);
    let discovery: Value = member.get_raw("/.well-known/openid-configuration").await.json().await.unwrap();
    assert_eq!(discovery["end_session_endpoint"], format!("{}/signout", server.url));

    let url = logout_url(&[("id_token_hint", &id_token), ("post_logout_redirect_uri", BYE), ("state", "s 1")]);
    let answer = member.get_raw(&url).await;
    assert_eq!(answer.status(), 303);
    assert_eq!(location(&answer), format!("{BYE}?state=s+1"));
    assert!(!session_alive(&member).await, "the session is gone");
    let again = member.get_raw(&url).await;
    assert_eq!(location(&again), format!("{BYE}?state=s+1"), "signed out already: straight back");
});

both_backends!(a_logout_by_post_with_the_hint_works_too, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = app_with_logout(&admin, "Posting App").await;
    add_member(&admin, "lo2", "A").await;
    let (member, id_token) = signed_in(&server, &app, "lo2").await;
    let form = [("id_token_hint", id_token.as_str()), ("post_logout_redirect_uri", BYE), ("client_id", &app.client_id)];
    let answer = member.http.post(member.url("/signout")).form(&form).send().await.unwrap();
    assert_eq!((answer.status().as_u16(), location(&answer)), (303, BYE.to_owned()));
    assert!(!session_alive(&member).await);
});

both_backends!(without_a_hint_the_member_is_asked_first, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = app_with_logout(&admin, "Asking App").await;
    add_member(&admin, "lo3", "A").await;
    let (member, _) = signed_in(&server, &app, "lo3").await;
    let url = logout_url(&[("client_id", &app.client_id), ("post_logout_redirect_uri", BYE), ("state", "x")]);
    let page = member.get_raw(&url).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Sign out of Example Association?"), "{page}");
    assert!(session_alive(&member).await, "a link alone signs no one out");
    let form = hidden_inputs(&page);
    let answer = member.http.post(member.url("/signout")).form(&form).send().await.unwrap();
    assert_eq!((answer.status().as_u16(), location(&answer)), (303, format!("{BYE}?state=x")));
    assert!(!session_alive(&member).await);
});

both_backends!(bad_logout_requests_are_refused_without_a_redirect, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = app_with_logout(&admin, "Target App").await;
    let other = app_with_logout(&admin, "Other App").await;
    add_member(&admin, "lo4", "A").await;
    let (member, id_token) = signed_in(&server, &app, "lo4").await;
    let (_, other_token) = signed_in(&server, &other, "lo4").await;
    let mut parts: Vec<&str> = id_token.split('.').collect();
    let forged_sig = format!("{}.{}.{}", parts[0], parts[1], "AAAA");
    let payload = base64_url(&json!({"iss": server.url, "aud": other.client_id, "sub": "x"}).to_string());
    parts[1] = &payload;
    let wrong_audience = parts.join(".");
    for (label, pairs) in [
        (
            "unregistered URL",
            vec![("id_token_hint", id_token.as_str()), ("post_logout_redirect_uri", "https://evil.example/")],
        ),
        ("URL only without a client", vec![("post_logout_redirect_uri", BYE)]),
        (
            "hint for another client",
            vec![("id_token_hint", other_token.as_str()), ("client_id", app.client_id.as_str())],
        ),
        ("forged signature", vec![("id_token_hint", forged_sig.as_str()), ("post_logout_redirect_uri", BYE)]),
        ("wrong audience", vec![("id_token_hint", wrong_audience.as_str()), ("post_logout_redirect_uri", BYE)]),
        ("not a JWT", vec![("id_token_hint", "garbage"), ("post_logout_redirect_uri", BYE)]),
        (
            "unknown client",
            vec![("client_id", "00000000-0000-4000-8000-000000000000"), ("post_logout_redirect_uri", BYE)],
        ),
    ] {
        let answer = member.get_raw(&logout_url(&pairs)).await;
        assert_eq!(answer.status(), 400, "{label}");
        assert!(answer.headers().get("location").is_none(), "{label}: no redirect");
        assert!(session_alive(&member).await, "{label}: the session lives on");
    }
    // The confirmation form cannot be bent to another address either.
    let page = member.get_raw("/signout").await.text().await.unwrap();
    let mut form = hidden_inputs(&page);
    form.push(("client_id".into(), app.client_id.clone()));
    form.push(("post_logout_redirect_uri".into(), "https://evil.example/".into()));
    let answer = member.http.post(member.url("/signout")).form(&form).send().await.unwrap();
    assert_eq!(answer.status(), 400);
    assert!(session_alive(&member).await);
});

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

async fn expired_hint_is_accepted(kind: Kind) {
    let clock = std::sync::Arc::new(gatehouse::clock::ManualClock::new(
        time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap(),
    ));
    let server = start_fresh(kind, clock.clone(), |_| {}).await;
    let admin = Client::admin(&server).await;
    let app = app_with_logout(&admin, "Late App").await;
    add_member(&admin, "lo5", "A").await;
    let (member, id_token) = signed_in(&server, &app, "lo5").await;
    clock.advance(time::Duration::hours(2));
    assert!(session_alive(&member).await, "the session outlives the ID token");
    let answer = member.get_raw(&logout_url(&[("id_token_hint", &id_token), ("post_logout_redirect_uri", BYE)])).await;
    assert_eq!((answer.status().as_u16(), location(&answer)), (303, BYE.to_owned()), "an expired hint still counts");
    assert!(!session_alive(&member).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_hint_is_accepted_embedded() {
    expired_hint_is_accepted(Kind::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_hint_is_accepted_aws() {
    expired_hint_is_accepted(Kind::Aws).await;
}

both_backends!(post_logout_urls_follow_the_redirect_url_rules, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = app_with_logout(&admin, "Rules App").await;
    let path = format!("/admin/api/registrations/{}", app.client_id);
    let (_, current) = admin.get(&path).await;
    for bad in ["http://app.example.org/bye", "https://app.example.org/bye#x", "/relative", "javascript:alert(1)"] {
        let changes = json!({ "post_logout_redirect_urls": [BYE, bad] });
        let (status, error) = edit_registration(&admin, &app, changes).await;
        assert_eq!((status, error["field"].as_str()), (422, Some("post_logout_redirect_urls[1]")), "{bad}: {error}");
    }
    let (_, after) = admin.get(&path).await;
    assert_eq!(after["post_logout_redirect_urls"], current["post_logout_redirect_urls"], "nothing changed");
});

both_backends!(a_plain_sign_out_can_be_cancelled_and_ends_on_the_signed_out_page, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    add_member(&admin, "lo9", "A").await;
    let mut member = Client::new(&server);
    assert_eq!(member.sign_in("lo9", MEMBER_PASSWORD).await.status(), 303);
    let page = member.get_raw("/signout").await.text().await.unwrap();
    assert!(page.contains(r#"href="/account""#) && page.contains("Stay signed in"), "a way back: {page}");
    let done = member.get_raw("/signout/done").await;
    assert_eq!((done.status().as_u16(), location(&done)), (303, "/signout".to_owned()), "not signed out yet: asked");

    let answer = member.http.post(member.url("/signout")).form(&hidden_inputs(&page)).send().await.unwrap();
    assert_eq!((answer.status().as_u16(), location(&answer)), (303, "/signout/done".to_owned()));
    assert!(!session_alive(&member).await);
    let done = member.get_raw("/signout/done").await;
    assert_eq!(done.status(), 200);
    let text = done.text().await.unwrap();
    assert!(text.contains("You are signed out of") && text.contains(r#"href="/signin""#), "{text}");
    assert!(!text.contains("Also sign out of"), "no provider to offer: {text}");
});
