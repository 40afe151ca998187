//! Back-Channel Logout 1.0 over HTTP, on both backends: when a member signs out, each app that
//! got tokens in that session receives a logout token signed like its ID tokens, and the
//! session's refresh tokens stop working; an app that is down does not hold up the sign-out,
//! and each failed attempt is in the OIDC log.

use std::time::{Duration, Instant};

use gatehouse_tests::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde_json::{Value, json};

async fn signed_in(server: &TestServer, app: &App, username: &str) -> (Client, Value) {
    let mut member = Client::new(server);
    let tokens = member.code_flow(app, username).await;
    (member, tokens)
}

async fn sign_out(member: &Client) -> u16 {
    let page = member.get_raw("/signout").await.text().await.unwrap();
    member.http.post(member.url("/signout")).form(&hidden_inputs(&page)).send().await.unwrap().status().as_u16()
}

fn claims(app: &App, token: &str, issuer: &str) -> Value {
    let mut validation = Validation::new(Algorithm::HS512);
    validation.set_audience(&[&app.client_id]);
    validation.set_issuer(&[issuer]);
    decode::<Value>(token, &DecodingKey::from_secret(app.signing_key.as_bytes()), &validation).unwrap().claims
}

both_backends!(signing_out_notifies_the_app_and_ends_its_tokens, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let (url, mut bodies) = post_receiver().await;
    let app = notified_app(&admin, "Notified App", &url).await;
    let sub = add_member(&admin, "bc1", "A").await;
    let (member, tokens) = signed_in(&server, &app, "bc1").await;
    let id_token = claims(&app, tokens["id_token"].as_str().unwrap(), &server.url);
    assert!(id_token["sid"].is_string(), "ID tokens carry sid");

    assert_eq!(sign_out(&member).await, 303);
    // A healthy app is told before the sign-out answers (on Lambda, later may mean much later).
    let body = bodies.try_recv().expect("the notice was delivered before the sign-out answered");
    let token = body.strip_prefix("logout_token=").expect("a form with logout_token");
    let logout = claims(&app, token, &server.url);
    assert_eq!(logout["sub"], sub.as_str());
    assert_eq!(logout["sid"], id_token["sid"], "the session the app knows");
    assert_eq!(logout["events"], json!({"http://schemas.openid.net/event/backchannel-logout": {}}));
    assert!(logout["jti"].is_string() && logout["iat"].is_i64() && logout["exp"].is_i64());
    assert!(logout.get("nonce").is_none(), "a logout token has no nonce");

    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, refused) = member.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_grant")), "the session's refresh token ends");
    assert_eq!(member.userinfo(tokens["access_token"].as_str().unwrap()).await.0, 401);
    // The delivery task logs after the app has answered: wait for it a little.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, logs) = admin.get("/admin/api/logs?contains=back-channel%20logout%20delivered").await;
        if !logs["entries"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the delivery is logged: {logs}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
});

both_backends!(an_app_that_is_down_does_not_hold_up_the_sign_out, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/backchannel", closed.local_addr().unwrap());
    drop(closed);
    let app = notified_app(&admin, "Dead App", &url).await;
    add_member(&admin, "bc2", "A").await;
    let (member, tokens) = signed_in(&server, &app, "bc2").await;
    let started = Instant::now();
    assert_eq!(sign_out(&member).await, 303);
    assert!(started.elapsed() < Duration::from_secs(2), "sign-out waited for the app: {:?}", started.elapsed());
    assert_eq!(member.get_raw("/account").await.status(), 303, "signed out");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, _) = member.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(status, 400);

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, logs) = admin.get("/admin/api/logs?contains=back-channel%20logout").await;
        let entries = logs["entries"].as_array().unwrap();
        let messages: Vec<&str> = entries.iter().filter_map(|e| e["message"].as_str()).collect();
        if messages.contains(&"back-channel logout failed; giving up") {
            let failed = messages.iter().filter(|m| m.contains("attempt failed")).count();
            assert_eq!(failed, 2, "every attempt is logged: {messages:?}");
            break;
        }
        assert!(Instant::now() < deadline, "no failure logged: {messages:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
});

both_backends!(backchannel_urls_are_checked, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let app = register_app(&admin, "Checked App", &[], "array").await;
    let path = format!("/admin/api/registrations/{}", app.client_id);
    for bad in ["http://app.example.org/bc", "ftp://app.example.org/bc", "not a url"] {
        let (status, error) = edit_registration(&admin, &app, json!({ "backchannel_logout_url": bad })).await;
        assert_eq!((status, error["field"].as_str()), (422, Some("backchannel_logout_url")), "{bad}: {error}");
    }
    let (_, after) = admin.get(&path).await;
    assert_eq!(after["backchannel_logout_url"], Value::Null, "nothing changed");
});

// A refresh within the session's lifetime writes no session note of its own (the family's
// first tokens wrote it, unchanged since): signing out still ends the rotated tokens and tells
// the app.
both_backends!(signing_out_after_refreshes_ends_the_newest_tokens, |server: TestServer| async move {
    let admin = Client::admin(&server).await;
    let (url, mut bodies) = post_receiver().await;
    let app = notified_app(&admin, "Refreshed App", &url).await;
    add_member(&admin, "bc3", "A").await;
    let (member, tokens) = signed_in(&server, &app, "bc3").await;
    let mut refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let mut access = String::new();
    for _ in 0..2 {
        let (status, rotated) =
            member.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
        assert_eq!(status, 200, "{rotated}");
        refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
        access = rotated["access_token"].as_str().unwrap().to_owned();
    }
    assert_eq!(sign_out(&member).await, 303);
    assert!(bodies.try_recv().is_ok(), "the app was told");
    let (status, refused) = member.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_grant")), "the newest refresh token ends");
    assert_eq!(member.userinfo(&access).await.0, 401, "and the newest access token");
});
